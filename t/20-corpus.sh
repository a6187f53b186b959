#!/bin/sh
# SPDX-License-Identifier: MIT
# Every model of Debian's libonnx-testdata is loaded and saved (or, with
# CORPUS_PASS set, run through that pass); ONNX Runtime runs the result on
# the shipped inputs and must give the shipped outputs (rtol 1e-3, atol
# 1e-7, the corpus's own tolerance) wherever it can run the original.  The
# others are listed in t/corpus-skip.txt with ORT's reason; an unlisted
# failure or a stale entry fails the test.  Doing it twice changes no byte.
. "$TOP_SRCDIR/t/lib.sh"
[ -d "${ONNX_TESTDATA:-}" ] || skip_all "libonnx-testdata not installed"
need_ort
corpus_cmd() {
	if [ -n "${CORPUS_PASS:-}" ]; then
		"$ONNXPASS" -q run "$CORPUS_PASS" -i "$1" -o "$2"
	else
		"$ONNXPASS" -q convert -i "$1" -o "$2"
	fi
}
tmp=$(mktmp "corpus${CORPUS_PASS:+-$CORPUS_PASS}")
trap 'rm -rf "$tmp"' EXIT
list=$tmp/list
: >"$list"
: >"$tmp/loadfail"
: >"$tmp/unstable"
find "$ONNX_TESTDATA" -path "*/${CORPUS_FILTER:-*}/model.onnx" | LC_ALL=C sort >"$tmp/models"
total=$(wc -l <"$tmp/models")
same=0
stable=0
while read -r m; do
	dir=${m%/model.onnx}
	id=${dir#"$ONNX_TESTDATA"/}
	out=$tmp/$(echo "$id" | tr / _).onnx
	if corpus_cmd "$m" "$out" 2>"$tmp/err"; then
		echo "$id $dir $out" >>"$list"
		cmp -s "$m" "$out" && same=$((same + 1))
		# a second round trip must not change a byte
		if corpus_cmd "$out" "$out.2.onnx" 2>/dev/null &&
			cmp -s "$out" "$out.2.onnx"; then
			stable=$((stable + 1))
		else
			echo "$id" >>"$tmp/unstable"
		fi
		rm -f "$out.2.onnx"
	else
		echo "$id $(head -c 300 "$tmp/err")" >>"$tmp/loadfail"
	fi
done <"$tmp/models"
ort corpus "$list" >"$tmp/results" 2>"$tmp/ort-err" || true

plan $((total + 3))
while read -r id why; do not_ok "$id: round trip failed: $why"; done <"$tmp/loadfail"
skipped=0
passed=0
while read -r status id why; do
	listed=$(grep -F "$id	" "$TOP_SRCDIR/t/corpus-skip.txt" | head -1)
	case $status in
	ok)
		passed=$((passed + 1))
		if [ -n "$listed" ]; then
			not_ok "$id: ORT now runs it; remove it from t/corpus-skip.txt"
		else
			ok "$id"
		fi ;;
	skip)
		skipped=$((skipped + 1))
		if [ -n "$listed" ]; then
			skip "$id" "ORT cannot run the original: $why"
		else
			not_ok "$id: ORT cannot run the original ($why) and t/corpus-skip.txt does not list it"
		fi ;;
	*)
		not_ok "$id: saved model differs: $why" ;;
	esac
done <"$tmp/results"
done_n=$(wc -l <"$tmp/results")
[ "$done_n" -eq "$(wc -l <"$list")" ] && ok "ORT judged every saved model ($done_n)" ||
	not_ok "ORT judged $done_n of $(wc -l <"$list") models: $(head -c 300 "$tmp/ort-err")"
[ "$stable" -eq "$(wc -l <"$list")" ] && ok "a second run changes no byte ($stable models)" ||
	not_ok "a second run changed $(( $(wc -l <"$list") - stable )) models: $(head -5 "$tmp/unstable" | tr '\n' ' ')"
# valid ONNX too: every output whose input the checker accepts
while read -r id dir out; do echo "$dir/model.onnx $out"; done <"$list" >"$tmp/pairs"
if ! have_checker; then
	skip "the ONNX checker accepts every output" "python3-onnx not installed"
elif ck=$(onnx_check --pairs "$tmp/pairs"); then
	ok "the ONNX checker accepts every output whose input it accepts (${ck##*checked })"
else
	not_ok "the ONNX checker refuses outputs: $(printf '%s\n' "$ck" | head -5 | tr '\n' ' ')"
fi
diag "$total models: $passed run in ORT and match after the round trip, $skipped not runnable in their original form"
[ -z "${CORPUS_PASS:-}" ] && diag "$same of $total written back byte-identical to the input"
finish
