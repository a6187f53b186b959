# SPDX-License-Identifier: MIT
# Shared helpers for the shell tests: TAP output, skips, temporary folders.
set -u
tap_n=0
tap_fail=0
plan() { echo "1..$1"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_fail=$((tap_fail + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
diag() { echo "# $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	d=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi
}
finish() { [ "$tap_fail" -eq 0 ]; exit $?; }

need_ort() {
	[ -n "${NODE:-}" ] || skip_all "node not found (install nodejs)"
	"$NODE" -e "require('onnxruntime-node')" 2>/dev/null ||
		skip_all "onnxruntime-node not installed (npm ci with ONNXRUNTIME_NODE_INSTALL=skip)"
}
ort() { "$NODE" "$TOP_SRCDIR/t/ort-run.js" "$@"; }
# last_line COMMAND...: the command's last line of output, and its exit
# status (a pipe into tail would answer with tail's)
last_line() {
	ll_out=$("$@")
	ll_rc=$?
	printf '%s\n' "$ll_out" | tail -1
	return $ll_rc
}
# the reference decoders: their summary line; they fail when a bound fails
s2s() { last_line "$NODE" "$TOP_SRCDIR/t/seq2seq-decode.js" "$@"; }
causal() { last_line "$NODE" "$TOP_SRCDIR/t/causal-decode.js" "$@"; }
# table_once WHAT MODEL TABLE: one test line, passing when the 4-bit
# GatherBlockQuantized of TABLE in MODEL reads the very blocks and scales
# (same file, offset and length) its lm_head's MatMulNBits reads
table_once() {
	to_r=$("$NODE" "$TOP_SRCDIR/t/shared-table.js" "$2")
	echo "$to_r" | grep -q "^GatherBlockQuantized .*: data=${3}_Q4 scales=${3}_scales zero_points=-$" &&
		ok "$1: the tied table's blocks and scales are stored once for the lookup and the lm_head" ||
		not_ok "$1: table: $to_r"
}
# bundle_bytes DIR: bytes of a written bundle (models and data files, not
# the manifest)
bundle_bytes() { find "$1" -type f ! -name manifest.json -exec du -cb {} + | awk '$2 == "total" { t += $1 } END { print t + 0 }'; }
# recipe_fp32 RECIPE OUT: RECIPE without its last step [step int4] and
# after (the restructuring alone) written to OUT
recipe_fp32() { sed '/^\[step int4\]/,$d' "$1" >"$2"; }

# The ONNX checker of Debian's python3-onnx (t/onnx-check.py): every
# written model must be valid ONNX, not only loadable by ONNX Runtime.
PYONNX=${PYONNX:-/usr/bin/python3}
have_checker() { "$PYONNX" -c 'import onnx.checker' 2>/dev/null; }
onnx_check() { "$PYONNX" "$TOP_SRCDIR/t/onnx-check.py" "$@"; }
# checked DESCRIPTION FILE...: one test line, skipped without the checker
checked() {
	ck_d=$1; shift
	if ! have_checker; then
		skip "$ck_d: the ONNX checker accepts them" "python3-onnx not installed"
	elif ck_out=$(onnx_check "$@"); then
		ok "$ck_d: the ONNX checker accepts them (${ck_out##*checked })"
	else
		not_ok "$ck_d: the ONNX checker refuses: $(printf '%s\n' "$ck_out" | head -5 | tr '\n' ' ')"
	fi
}

# json_num KEY FILE: the first integer value of "KEY" in a JSON report.
json_num() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2" | head -1; }

# A fresh folder under the build tree, removed by the caller's trap.
mktmp() {
	d="$TOP_BUILDDIR/t/tmp/$1.$$"
	rm -rf "$d" && mkdir -p "$d" && echo "$d"
}
