#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad input gets one line naming the file and the cause, a non-zero exit,
# no output written and no crash: truncated and corrupt files, hostile
# tensor sizes, external data escaping the folder, bad recipes, a full disk.
. "$TOP_SRCDIR/t/lib.sh"
tmp=$(mktmp bad)
trap 'rm -rf "$tmp"' EXIT
"$TOP_BUILDDIR/t/gen-model" hostile "$tmp/h" || exit 1
"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" || exit 1
plan 45

# refuse CASE WANT -- ARGS: exits 1, says WANT in one line naming no
# more than one line, writes nothing at $tmp/out*
refuse() {
	name=$1 want=$2
	shift 2
	rm -rf "$tmp/out" "$tmp/out.onnx"
	"$ONNXPASS" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- "$want" "$tmp/stderr" && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] &&
		[ ! -e "$tmp/out" ] && [ ! -e "$tmp/out.onnx" ] && ! ls "$tmp"/out* >/dev/null 2>&1; then
		ok "$name"
	else
		not_ok "$name (exit $rc): $(head -3 "$tmp/stderr")"
	fi
}

check "valid hand-written model loads" "$ONNXPASS" info "$tmp/h/valid.onnx"
# graphs ONNX Runtime refuses too, found before any work
refuse "a graph with a cycle" "cannot read model '$tmp/h/cycle.onnx': graph 'g' has a cycle through node '" \
	run clean -i "$tmp/h/cycle.onnx" -o "$tmp/out.onnx"
refuse "a cycle, in convert" "cycle.onnx': graph 'g' has a cycle through node" convert -i "$tmp/h/cycle.onnx" -o "$tmp/out.onnx"
refuse "contradicting dims" "cannot read model '$tmp/h/contradict.onnx': node 'sum' (Add): shapes \[2,3\] and \[2,5\] do not broadcast" \
	run dedup -i "$tmp/h/contradict.onnx" -o "$tmp/out.onnx"
mkdir "$tmp/unsound" && cp "$tmp/h/cycle.onnx" "$tmp/unsound/model.onnx"
refuse "a cycle, in a recipe" "model.onnx': graph 'g' has a cycle" -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$tmp/unsound" -o "$tmp/out"
check "valid external data loads" "$ONNXPASS" info "$tmp/h/ext-valid.onnx"

refuse "missing file" "cannot read model '$tmp/nope.onnx': No such file" convert -i "$tmp/nope.onnx" -o "$tmp/out.onnx"
: >"$tmp/empty.onnx"
refuse "empty file" "empty.onnx': empty file" convert -i "$tmp/empty.onnx" -o "$tmp/out.onnx"
m=$tmp/demo/encoder.onnx
for n in 10 100 1000 20000 100000; do
	head -c $n "$m" >"$tmp/trunc.onnx"
	refuse "truncated at $n bytes" "trunc.onnx': truncated or corrupt at byte" convert -i "$tmp/trunc.onnx" -o "$tmp/out.onnx"
done
head -c 4096 /dev/urandom >"$tmp/random.onnx" 2>/dev/null || dd if=/dev/urandom of="$tmp/random.onnx" bs=4096 count=1 2>/dev/null
refuse "random bytes" "random.onnx'" convert -i "$tmp/random.onnx" -o "$tmp/out.onnx"
printf 'hello world, not a model\n' >"$tmp/text.onnx"
refuse "a text file" "text.onnx'" convert -i "$tmp/text.onnx" -o "$tmp/out.onnx"
refuse "dims whose product overflows" "dimensions overflow" convert -i "$tmp/h/dims-overflow.onnx" -o "$tmp/out.onnx"
refuse "dims larger than the bytes present" "raw_data is shorter than its dimensions need" convert -i "$tmp/h/dims-exceed.onnx" -o "$tmp/out.onnx"
refuse "external data with .." "external data '../w.data' of tensor 'W' leaves the model's folder" convert -i "$tmp/h/ext-dotdot.onnx" -o "$tmp/out.onnx"
refuse "external data with an absolute path" "leaves the model's folder" convert -i "$tmp/h/ext-absolute.onnx" -o "$tmp/out.onnx"
refuse "external data through a symlink out" "resolves outside the model's folder" convert -i "$tmp/h/ext-symlink.onnx" -o "$tmp/out.onnx"
refuse "external data past the end" "points past the end of 'w.data'" convert -i "$tmp/h/ext-past-end.onnx" -o "$tmp/out.onnx"
refuse "missing external data file" "external data file 'missing.data'" convert -i "$tmp/h/ext-missing.onnx" -o "$tmp/out.onnx"

# outputs
cp "$tmp/h/valid.onnx" "$tmp/in.onnx"
refuse "output file equal to the input" "it is the input file" convert -i "$tmp/in.onnx" -o "$tmp/in.onnx" --force
refuse "output folder equal to the input folder" "it is the input folder" run dedup -i "$tmp/demo" -o "$tmp/demo" --force
mkdir -p "$tmp/full" && touch "$tmp/full/x"
"$ONNXPASS" run dedup -i "$tmp/demo" -o "$tmp/full" >/dev/null 2>"$tmp/stderr"
[ $? -eq 1 ] && grep -q "folder exists and is not empty (use --force)" "$tmp/stderr" && ok "non-empty output folder refused" ||
	not_ok "non-empty output folder: $(cat "$tmp/stderr")"
# a full disk: a file size limit makes writes fail part way
( ulimit -f 64 2>/dev/null; trap '' XFSZ; exec "$ONNXPASS" convert -i "$tmp/demo/encoder.onnx" -o "$tmp/out.onnx" ) >/dev/null 2>"$tmp/stderr"
rc=$?
if [ $rc -eq 1 ] && grep -q "cannot write model '$tmp/out.onnx': File too large" "$tmp/stderr" && ! ls "$tmp"/out* >/dev/null 2>&1; then
	ok "write failure part way: clear error, nothing left behind"
else
	not_ok "write failure (exit $rc): $(cat "$tmp/stderr"); left: $(ls "$tmp" | grep out)"
fi

# recipes
r=$tmp/r.ini
printf '[recipe]\nname = x\n[step a]\npass = dedup\nmin_byte = 3\n' >"$r"
refuse "unknown parameter, with a suggestion" "r.ini:5: step 'a': unknown parameter 'min_byte' for pass 'dedup' (did you mean 'min_bytes'?)" --check -r "$r"
printf '[step a]\npass = dedup\nmin_bytes = -3\n' >"$r"
refuse "value out of range" "r.ini:3: step 'a': bad value for 'min_bytes': -3 is outside" --check -r "$r"
printf '[step a]\npass = dedup\ncross_files = maybe\n' >"$r"
refuse "bad boolean" "r.ini:3: step 'a': bad value for 'cross_files': 'maybe' is not a boolean" --check -r "$r"
printf '[step a]\npass = nosuchpass\n' >"$r"
refuse "unknown pass" "r.ini:2: unknown pass 'nosuchpass'" --check -r "$r"
printf '[step a]\npass = dedup\n[step a]\npass = dedup\n' >"$r"
refuse "duplicate step" "r.ini:3: section \[step a\] appears twice" --check -r "$r"
printf '[recipe]\nname = x\n' >"$r"
refuse "no steps" "no \[step NAME\] section" --check -r "$r"
printf '[step a]\nmin_bytes = 3\n' >"$r"
refuse "parameter before pass" "r.ini:2: step 'a': 'pass =' must come before 'min_bytes'" --check -r "$r"
printf '[step a]\npass = dedup\nthis line is not ini\n' >"$r"
refuse "garbage line" "r.ini:3: not a KEY = VALUE line" --check -r "$r"
printf '[step a]\npass = dedup\nmodels = %0300d\n' 0 >"$r"
refuse "over-long line" "r.ini:3: line longer than" --check -r "$r"
printf '[bogus]\nk = v\n' >"$r"
refuse "unknown section" "r.ini:2: unknown section \[bogus\]" --check -r "$r"
printf '[step a]\npass = dedup\nexpect.MatMul = lots\n' >"$r"
refuse "bad expectation" "r.ini:3: bad expectation 'lots'" --check -r "$r"
refuse "missing recipe" "cannot read recipe '$tmp/none.ini'" --check -r "$tmp/none.ini"
printf '[recipe]\ninputs = enc:encoder.onnx dec:nothere.onnx\n[step a]\npass = dedup\n' >"$r"
refuse "input missing from the export" "has no nothere.onnx (recipe '$r' needs it as role 'dec')" -r "$r" -i "$tmp/demo" -o "$tmp/out"
printf '[step a]\npass = dedup\nmodels = encoder ghost\n' >"$r"
refuse "step names a role the bundle lacks" "r.ini:1: step 'a': no model with role 'ghost'" -q -r "$r" -i "$tmp/demo" -o "$tmp/out"
printf '[step a]\npass = dedup\nexpect.MatMul = 99\n' >"$r"
refuse "expectation that does not hold" "r.ini:3: step 'a': expected MatMul == 99, found 8" -q -r "$r" -i "$tmp/demo" -o "$tmp/out"

# plugins
if [ -d "${TEST_PLUGINS:-}" ]; then
	refuse "plugin with a bad default" "bad_param.so': 'badparam' parameter 'level' has a bad default: 99 is outside 0..10" -P "$TEST_PLUGINS" --list
else
	skip "plugin with a bad default" "test plugins not built"
fi
refuse "plugin folder that does not exist" "cannot read plugin folder '$tmp/noplugins'" -P "$tmp/noplugins" --list
refuse "unknown pass to run" "unknown pass 'frobnicate'" run frobnicate -i "$tmp/demo" -o "$tmp/out"
refuse "bad KEY=VALUE on the command line" "pass 'dedup': unknown parameter 'colour'" run dedup colour=red -i "$tmp/demo" -o "$tmp/out"
finish
