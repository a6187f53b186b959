#!/bin/sh
# SPDX-License-Identifier: MIT
# The plugin author guide's example, as a plugin author meets it: built
# from the page with -Wall -Wextra -Werror, described, run on a model, its
# parameter read and its figure in the report, its failure one line.
. "$TOP_SRCDIR/t/lib.sh"
tmp=$(mktmp guide)
trap 'rm -rf "$tmp"' EXIT
plan 5
mkdir -p "$tmp/pl"
awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$TOP_SRCDIR/doc/plugin-guide.md" >"$tmp/count_ops.c"
if ${CC:-cc} -Wall -Wextra -Werror -O2 -shared -fPIC -I"$TOP_SRCDIR/include" "$tmp/count_ops.c" \
	-o "$tmp/pl/count_ops.so" -L"$TOP_BUILDDIR/.libs" -lonnxpass 2>"$tmp/cc.err"; then
	ok "the guide's example compiles warning-free"
else
	not_ok "the guide's example: $(head -5 "$tmp/cc.err")"
fi
"$ONNXPASS" -P "$tmp/pl" --describe count-ops >"$tmp/d" 2>&1
grep -q "^count-ops 1.0 - count the nodes of one op type" "$tmp/d" && grep -q "at_least *int *fail with fewer" "$tmp/d" &&
	ok "--describe shows it" || not_ok "--describe: $(cat "$tmp/d")"
"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" >/dev/null
"$ONNXPASS" -P "$tmp/pl" -q run count-ops op=MatMul -i "$tmp/demo" -o "$tmp/out" --report "$tmp/r.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -q '"found": 8' "$tmp/r.json" && grep -q '"op": "MatMul"' "$tmp/r.json" &&
	ok "it runs: op=MatMul found 8 (the report, a number and a string)" ||
	not_ok "run (exit $rc): $(cat "$tmp/err" "$tmp/r.json")"
"$ONNXPASS" -P "$tmp/pl" -q run count-ops op=Gather at_least=5 -i "$tmp/demo" -o "$tmp/out2" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "2 Gather nodes, fewer than 5" "$tmp/err" && [ ! -e "$tmp/out2" ] &&
	ok "its failure is one line, nothing written" || not_ok "failure (exit $rc): $(cat "$tmp/err")"
"$ONNXPASS" -P "$tmp/pl" -q run count-ops op=Gather min_share=0.5 -i "$tmp/demo" -o "$tmp/out3" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "Gather is 0.[0-9]* of the nodes, less than 0.50" "$tmp/err" && [ ! -e "$tmp/out3" ] &&
	ok "a FLOAT parameter (min_share)" || not_ok "min_share (exit $rc): $(cat "$tmp/err")"
finish
