#!/bin/sh
# SPDX-License-Identifier: MIT
# The program's commands: --list, --describe, --check, info, run, convert.
. "$TOP_SRCDIR/t/lib.sh"
tmp=$(mktmp cli)
trap 'rm -rf "$tmp"' EXIT
"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" || exit 1
plan 28
"$ONNXPASS" --list >"$tmp/o" 2>&1 && grep -q '^dedup ' "$tmp/o" && ok "--list shows dedup" || not_ok "--list: $(cat "$tmp/o")"
"$ONNXPASS" --describe dedup >"$tmp/o" 2>&1 && grep -q 'cross_files' "$tmp/o" && ok "--describe lists parameters" || not_ok "--describe"
"$ONNXPASS" --check -r "$TOP_SRCDIR/recipes/demo.ini" >"$tmp/o" 2>&1 && grep -q "is valid: 1 steps" "$tmp/o" && ok "--check accepts the demo recipe" || not_ok "--check: $(cat "$tmp/o")"
"$ONNXPASS" info "$tmp/demo/encoder.onnx" >"$tmp/o" 2>&1 && grep -q 'MatMul  *4' "$tmp/o" && grep -q 'parameters:  49280 in 7' "$tmp/o" &&
	ok "info counts ops and parameters" || not_ok "info: $(cat "$tmp/o")"
"$ONNXPASS" info --json "$tmp/demo/encoder.onnx" >"$tmp/o" 2>&1 && grep -q '"ops": {"MatMul": 4' "$tmp/o" && ok "info --json" || not_ok "info --json: $(cat "$tmp/o")"
"$ONNXPASS" convert -i "$tmp/demo/encoder.onnx" -o "$tmp/e.onnx" --external always --external-min-bytes 1000 2>/dev/null &&
	ls "$tmp"/e.onnx.*.data >/dev/null && ok "convert to external data" || not_ok "convert to external data"
"$ONNXPASS" convert -i "$tmp/e.onnx" -o "$tmp/i.onnx" --external never 2>/dev/null && cmp -s "$tmp/demo/encoder.onnx" "$tmp/i.onnx" &&
	ok "and back inline, byte-identical" || not_ok "back inline"
"$ONNXPASS" run dedup cross_files=false -i "$tmp/demo" -o "$tmp/o1" --report "$tmp/r.json" 2>"$tmp/err" && grep -q '"shared_tensors": 0' "$tmp/r.json" &&
	grep -q '^\[1/1\] dedup' "$tmp/err" && ok "run PASS KEY=VALUE, step line and JSON report" || not_ok "run: $(cat "$tmp/err")"
# outputs are created like any tool creates files: 0666 and 0777 less the umask
( umask 027 && "$ONNXPASS" -q run dedup -i "$tmp/demo" -o "$tmp/um" --report "$tmp/um.json" &&
	"$ONNXPASS" -q convert --external always -i "$tmp/demo/encoder.onnx" -o "$tmp/um.onnx" ) 2>"$tmp/err"
modes=$(cd "$tmp" && stat -c '%n %a' um um/* um.json um.onnx* | sort | tr '\n' ' ')
echo "$modes" | grep -Eq '^um 750 um.json 640 um.onnx 640 um.onnx.*data 640 um/decoder.onnx 640 um/encoder.onnx 640 um/manifest.json 640 um/shared_weights.data 640 $' &&
	ok "outputs follow the umask" || not_ok "modes under umask 027: $modes $(cat "$tmp/err")"
ONNXPASS_PLUGIN_PATH= "$ONNXPASS" --list >"$tmp/o" 2>"$tmp/err"
[ $? -eq 1 ] && [ ! -s "$tmp/o" ] && grep -q "no plugins found in .*plugins/.libs: -P" "$tmp/err" &&
	ok "--list without plugins says where it looked" || not_ok "--list without plugins: $(cat "$tmp/err")"
# uninstalled, the program finds the plugins of the tree it was built in
(unset ONNXPASS_PLUGIN_SYSTEM_PATH; ONNXPASS_PLUGIN_PATH= "$ONNXPASS" --list) >"$tmp/o" 2>"$tmp/err"
[ $? -eq 0 ] && grep -q '^quantize ' "$tmp/o" && ok "a build tree's program finds the tree's plugins" ||
	not_ok "build tree plugins: $(cat "$tmp/err")"
# recipes by name: the installed ones (here: the source tree's), then the
# current folder
"$ONNXPASS" --list-recipes >"$tmp/o" 2>"$tmp/err"
[ $? -eq 0 ] && grep -q '^madlad  *MADLAD/T5 export' "$tmp/o" && [ "$(grep -c '^[a-z]' "$tmp/o")" -eq "$(ls "$TOP_SRCDIR"/recipes/*.ini | wc -l)" ] &&
	ok "--list-recipes lists every shipped recipe with its summary" || not_ok "--list-recipes: $(cat "$tmp/o" "$tmp/err")"
(cd "$tmp" && "$ONNXPASS" --check -r madlad) >"$tmp/o" 2>"$tmp/err"
[ $? -eq 0 ] && grep -q "recipes/madlad.ini: recipe 'madlad' is valid" "$tmp/o" && ok "-r NAME finds the installed recipe" ||
	not_ok "-r madlad: $(cat "$tmp/err")"
printf '[step a]\npass = dedup\n' >"$tmp/mine.ini"
(cd "$tmp" && "$ONNXPASS" --check -r mine) >"$tmp/o" 2>"$tmp/err"
[ $? -eq 0 ] && grep -q "^./mine.ini: recipe 'mine' is valid" "$tmp/o" && ok "-r NAME finds NAME.ini in the current folder" ||
	not_ok "-r mine: $(cat "$tmp/o" "$tmp/err")"
(cd "$tmp" && "$ONNXPASS" --check -r madlab) >"$tmp/o" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "cannot find recipe 'madlab' (looked in .*recipes, .; onnxpass --list-recipes lists them)" "$tmp/err" &&
	ok "an unknown recipe name says where it looked" || not_ok "-r madlab: $(cat "$tmp/err")"
"$ONNXPASS" --version | grep -q "plugin ABI 2" && ok "--version" || not_ok "--version"
# the report: one complete JSON document, on failure too
report_is() { # report_is FILE PYTHON-CONDITION (on the parsed document d)
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$@" 2>/dev/null
}
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/demo.ini" -i "$tmp/demo" -o "$tmp/rep" --report "$tmp/rep.json" 2>"$tmp/err"
report_is "$tmp/rep.json" 'd["status"] == "ok" and d["version"] and d["recipe"]["name"] == "demo" and
 [i["role"] for i in d["inputs"]] == ["encoder", "decoder"] and all(i["bytes"] > 0 for i in d["inputs"]) and
 d["steps"][0]["pass"] == "dedup" and d["steps"][0]["bytes_after"] < d["steps"][0]["bytes_before"] and
 sorted(o["path"] for o in d["outputs"]) == sorted([sys.argv[3] + "/decoder.onnx", sys.argv[3] + "/encoder.onnx"]) and
 all(o["bytes"] > 0 for o in d["outputs"]) and "error" not in d' "$tmp/rep" &&
	ok "report: version, recipe, inputs and outputs with paths and bytes, steps" || not_ok "report: $(cat "$tmp/rep.json" "$tmp/err")"
printf '[step a]\npass = dedup\nexpect.MatMul = 99\n' >"$tmp/e.ini"
"$ONNXPASS" -q -r "$tmp/e.ini" -i "$tmp/demo" -o "$tmp/rep2" --report "$tmp/rep2.json" 2>/dev/null
report_is "$tmp/rep2.json" 'd["status"] == "error" and d["error"]["step"] == "a" and "expected MatMul == 99, found 8" in d["error"]["message"] and
 "changes" not in d["steps"][0] and d["outputs"] == []' && [ ! -e "$tmp/rep2" ] &&
	ok "report of a failed step: complete, with the error and its step" || not_ok "failed step report: $(cat "$tmp/rep2.json")"
"$ONNXPASS" -q run dedup -i "$TOP_SRCDIR/README.md" -o "$tmp/rep3.onnx" --report "$tmp/rep3.json" 2>/dev/null
report_is "$tmp/rep3.json" 'd["status"] == "error" and d["inputs"] == [] and d["steps"] == [] and "cannot read model" in d["error"]["message"]' &&
	ok "report of a model that does not load: complete, with the error" || not_ok "load failure report: $(cat "$tmp/rep3.json")"
mkdir -p "$tmp/we" && cp "$tmp/demo/encoder.onnx" "$tmp/we/r\"q\\\\$(printf '\377').onnx"
"$ONNXPASS" -q run dedup -i "$tmp/we" -o "$tmp/rep4" --report "$tmp/rep4.json" 2>"$tmp/err"
report_is "$tmp/rep4.json" 'd["status"] == "ok" and "\ufffd" in d["inputs"][0]["path"] and chr(34) in d["inputs"][0]["path"]' &&
	ok "report: quotes, backslashes and bytes that are not UTF-8 in names stay valid JSON" || not_ok "odd names: $(cat "$tmp/rep4.json" "$tmp/err")"
# --set STEP.KEY=VALUE: a recipe step's parameter from the command line,
# checked as the recipe's lines are, recorded in the manifest and report
printf '[recipe]\ninputs = encoder:encoder.onnx\n[step q4]\npass = quantize\nbits = 4\nblock_size = 32\n' >"$tmp/q4.ini"
"$ONNXPASS" -q -r "$tmp/q4.ini" -i "$tmp/demo" -o "$tmp/s32" && "$ONNXPASS" -q -r "$tmp/q4.ini" --set q4.block_size=64 \
	-i "$tmp/demo" -o "$tmp/s64" --report "$tmp/s64.json" 2>"$tmp/err" &&
	[ "$(du -cb "$tmp"/s64/*.onnx* | tail -1 | cut -f1)" -lt "$(du -cb "$tmp"/s32/*.onnx* | tail -1 | cut -f1)" ] &&
	report_is "$tmp/s64/manifest.json" 'd["set"] == ["q4.block_size=64"]' &&
	report_is "$tmp/s64.json" 'd["recipe"]["set"] == ["q4.block_size=64"]' &&
	ok "--set q4.block_size=64: fewer scale bytes than the recipe's 32, recorded in manifest and report" ||
	not_ok "--set: $(cat "$tmp/err") $(ls -l "$tmp/s32" "$tmp/s64")"
"$ONNXPASS" run quantize bits=4 --set q4.block_size=64 -i "$tmp/demo/encoder.onnx" -o "$tmp/sx.onnx" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "recipe given with -r" "$tmp/err" && [ ! -e "$tmp/sx.onnx" ] && ok "--set without a recipe refused, not ignored" ||
	not_ok "--set with run: $(cat "$tmp/err")"
for c in "q5.block_size=64:has no step 'q5' (did you mean 'q4'?)" \
	"q4.blocksize=64:unknown parameter 'blocksize' for pass 'quantize' (did you mean 'block_size'?)" \
	"q4.models=encoder:only a step's parameters can be set, not 'models'" \
	"q4block_size=64:--set wants STEP.KEY=VALUE"; do
	set=${c%%:*} want=${c#*:}
	"$ONNXPASS" -r "$tmp/q4.ini" --set "$set" -i "$tmp/demo" -o "$tmp/sx" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 1 ] && grep -qF -- "$want" "$tmp/err" && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -e "$tmp/sx" ] &&
		ok "--set $set refused before any work" || not_ok "--set $set (exit $rc): $(cat "$tmp/err")"
done
# progress: one line redrawn on a terminal (script gives the program one),
# never in a pipe or with -q; the suite makes it appear at once
if command -v script >/dev/null; then
	ONNXPASS_TEST_PROGRESS_AFTER=0 script -qc "'$ONNXPASS' run quantize bits=8 -i '$tmp/demo/encoder.onnx' -o '$tmp/pq.onnx'" /dev/null >"$tmp/tty" 2>&1
	ONNXPASS_TEST_PROGRESS_AFTER=0 script -qc "'$ONNXPASS' -q run quantize bits=8 -i '$tmp/demo/encoder.onnx' -o '$tmp/pq2.onnx'" /dev/null >"$tmp/ttyq" 2>&1
	grep -q "$(printf '\r')quantize: *[0-9]*% ([0-9]* of [0-9]*)" "$tmp/tty" && grep -q "$(printf '\r\033')\[K\[1/1\] quantize" "$tmp/tty" &&
		! grep -q "% (" "$tmp/ttyq" && ok "progress on a terminal, cleared before the step line; none with -q" ||
		not_ok "progress on a terminal: $(od -c "$tmp/tty" | head -12) -q: $(cat "$tmp/ttyq")"
else
	skip "progress on a terminal" "no script(1)"
fi
ONNXPASS_TEST_PROGRESS_AFTER=0 "$ONNXPASS" run quantize bits=8 -i "$tmp/demo/encoder.onnx" -o "$tmp/pq3.onnx" 2>"$tmp/pipe"
! grep -q "$(printf '\r')" "$tmp/pipe" && grep -q '^\[1/1\] quantize' "$tmp/pipe" && ok "no progress line in a pipe" || not_ok "pipe: $(od -c "$tmp/pipe" | head)"
finish
