#!/bin/sh
# SPDX-License-Identifier: MIT
# The program's commands: --list, --describe, --check, info, run, convert.
. "$TOP_SRCDIR/t/lib.sh"
tmp=$(mktmp cli)
trap 'rm -rf "$tmp"' EXIT
"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" || exit 1
plan 9
"$ONNXPASS" --list >"$tmp/o" 2>&1 && grep -q '^dedup ' "$tmp/o" && ok "--list shows dedup" || not_ok "--list: $(cat "$tmp/o")"
"$ONNXPASS" --describe dedup >"$tmp/o" 2>&1 && grep -q 'cross_files' "$tmp/o" && ok "--describe lists parameters" || not_ok "--describe"
"$ONNXPASS" --check -r "$TOP_SRCDIR/recipes/demo.ini" >"$tmp/o" 2>&1 && grep -q "is valid: 1 steps" "$tmp/o" && ok "--check accepts the demo recipe" || not_ok "--check: $(cat "$tmp/o")"
"$ONNXPASS" info "$tmp/demo/encoder.onnx" >"$tmp/o" 2>&1 && grep -q 'MatMul  *4' "$tmp/o" && grep -q 'parameters:  49280 in 7' "$tmp/o" &&
	ok "info counts ops and parameters" || not_ok "info: $(cat "$tmp/o")"
"$ONNXPASS" info --json "$tmp/demo/encoder.onnx" >"$tmp/o" 2>&1 && grep -q '"ops": {"MatMul": 4' "$tmp/o" && ok "info --json" || not_ok "info --json: $(cat "$tmp/o")"
"$ONNXPASS" convert -i "$tmp/demo/encoder.onnx" -o "$tmp/e.onnx" --external always --external-min-bytes 1000 2>/dev/null &&
	[ -f "$tmp/e.onnx.data" ] && ok "convert to external data" || not_ok "convert to external data"
"$ONNXPASS" convert -i "$tmp/e.onnx" -o "$tmp/i.onnx" --external never 2>/dev/null && cmp -s "$tmp/demo/encoder.onnx" "$tmp/i.onnx" &&
	ok "and back inline, byte-identical" || not_ok "back inline"
"$ONNXPASS" run dedup cross_files=false -i "$tmp/demo" -o "$tmp/o1" --report "$tmp/r.json" 2>"$tmp/err" && grep -q '"shared_tensors": 0' "$tmp/r.json" &&
	grep -q '^\[1/1\] dedup' "$tmp/err" && ok "run PASS KEY=VALUE, step line and JSON report" || not_ok "run: $(cat "$tmp/err")"
"$ONNXPASS" --version | grep -q "plugin ABI 1" && ok "--version" || not_ok "--version"
finish
