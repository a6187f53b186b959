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
plan 97

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
if mkfifo "$tmp/h/fifo.data" 2>/dev/null; then
	refuse "external data that is a FIFO, without blocking" "fifo.data" convert -i "$tmp/h/ext-fifo.onnx" -o "$tmp/out.onnx"
else
	skip "external data that is a FIFO" "mkfifo not allowed here"
fi
for c in "info" "info --json" "info --profile --json" "run fusion -o $tmp/out.onnx -i" "run clean -o $tmp/out.onnx -i"; do
	# shellcheck disable=SC2086
	refuse "graph input without a name: $c" "empty-input-name.onnx': a graph input has no name" $c "$tmp/h/empty-input-name.onnx"
done
refuse "graph output without a name" "empty-output-name.onnx': a graph output has no name" info "$tmp/h/empty-output-name.onnx"
refuse "a type nested 5,000 deep (stack overflow before)" "deep-type.onnx': messages nested deeper than 100" info "$tmp/h/deep-type.onnx"
refuse "a type nested 5,000 deep, in a run" "deep-type.onnx': messages nested deeper than 100" run clean -i "$tmp/h/deep-type.onnx" -o "$tmp/out.onnx"
refuse "a tensor with dims and no data" "dims-no-data.onnx': tensor 'W': has dimensions but no data" run clean -i "$tmp/h/dims-no-data.onnx" -o "$tmp/out.onnx"
# raw_data twice: the last counts (as protobuf and ONNX Runtime read it),
# and the output reloads; small tensors moved to external data keep
# their bytes
for c in valid:1 raw-twice-short:2 raw-twice-long:2; do
	f=${c%:*} want=${c#*:}
	rm -rf "$tmp/rt" && mkdir "$tmp/rt"
	"$ONNXPASS" -q convert --external always --external-min-bytes 1 -i "$tmp/h/$f.onnx" -o "$tmp/rt/o.onnx" 2>"$tmp/stderr" &&
		got=$(od -An -tf4 -N4 "$tmp"/rt/o.onnx.*.data | tr -d ' ') && [ "$got" = "$want" ] &&
		"$ONNXPASS" -q convert -i "$tmp/rt/o.onnx" -o "$tmp/rt/back.onnx" 2>>"$tmp/stderr" &&
		ok "$f: the tensor reads $want, written out and read back" || not_ok "$f: got '${got:-}': $(cat "$tmp/stderr")"
done
rm -rf "$tmp/sr" && mkdir "$tmp/sr"
"$ONNXPASS" -q convert -i "$tmp/h/shared-region.onnx" -o "$tmp/sr/o.onnx" 2>"$tmp/stderr" &&
	size=$(cat "$tmp"/sr/o.onnx.*.data | wc -c) && [ "$size" -le 131072 ] &&
	"$ONNXPASS" -q convert --external never -i "$tmp/sr/o.onnx" -o "$tmp/sr/a.onnx" &&
	"$ONNXPASS" -q convert --external never -i "$tmp/h/shared-region.onnx" -o "$tmp/sr/b.onnx" && cmp -s "$tmp/sr/a.onnx" "$tmp/sr/b.onnx" &&
	ok "100 tensors on one 64 kB region stay one region ($size bytes written)" || not_ok "shared region: ${size:-?} bytes; $(cat "$tmp/stderr")"
"$ONNXPASS" info --profile "$tmp/h/huge-dims.onnx" >"$tmp/stdout" 2>&1 && grep -q "1 node(s) of unknown size" "$tmp/stdout" &&
	! grep -q " 0 B" "$tmp/stdout" && ok "2^124 activations: too large to count, not 0 B" || not_ok "huge dims: $(cat "$tmp/stdout")"
# the info --profile fuzzer's finding: a Reshape reading the empty name
# (its shape a constant) crashed the shape rules
for c in "info --profile" "info --profile --json" "run clean -o $tmp/out.onnx --force -i"; do
	# shellcheck disable=SC2086
	"$ONNXPASS" $c "$tmp/h/reshape-no-data.onnx" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	[ $rc -eq 0 ] && grep -q Reshape "$tmp/stdout" "$tmp/out.onnx" 2>/dev/null &&
		ok "Reshape without its data input: $c" || not_ok "Reshape without data (exit $rc): $c: $(head -3 "$tmp/stderr")"
done
rm -f "$tmp/out.onnx"
# more node outputs than nodes: the memory estimate ends, and counts them
out=$(timeout 60 "$ONNXPASS" info --memory --json "$tmp/h/many-outputs.onnx" 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q '"activation_peak_bytes": 3600,' && ok "info --memory of one Split into 300 outputs" ||
	not_ok "many outputs (exit $rc): $(echo "$out" | head -c 300)"
refuse "missing external data file" "external data file 'missing.data'" convert -i "$tmp/h/ext-missing.onnx" -o "$tmp/out.onnx"

# outputs
cp "$tmp/h/valid.onnx" "$tmp/in.onnx"
refuse "output file equal to the input" "it is the input file" convert -i "$tmp/in.onnx" -o "$tmp/in.onnx" --force
# a renamed input still reads its old data file: nothing the run writes
# may be a file the input reads (by device and inode)
mkdir "$tmp/ren" && "$ONNXPASS" -q convert --external always -i "$tmp/demo/encoder.onnx" -o "$tmp/ren/model.onnx" &&
	mv "$tmp/ren/model.onnx" "$tmp/ren/old.onnx"
data=$(cd "$tmp/ren" && ls | grep -v old.onnx)
sum0=$(cat "$tmp/ren/old.onnx" "$tmp/ren/$data" | cksum)
"$ONNXPASS" run dedup --force -i "$tmp/ren/old.onnx" -o "$tmp/ren/model.onnx" >/dev/null 2>"$tmp/stderr"
rc=$?
[ $rc -eq 0 ] && [ "$(cat "$tmp/ren/old.onnx" "$tmp/ren/$data" | cksum)" = "$sum0" ] &&
	"$ONNXPASS" info "$tmp/ren/old.onnx" >/dev/null && "$ONNXPASS" info "$tmp/ren/model.onnx" >/dev/null &&
	ok "an output named like a renamed input's old name leaves the input's data file alone" ||
	not_ok "renamed input (exit $rc): $(cat "$tmp/stderr"); $(ls "$tmp/ren")"
rm -f "$tmp/ren/model.onnx"
sum0=$(cat "$tmp/ren"/* | cksum)
"$ONNXPASS" run dedup --data-file "$data" -i "$tmp/ren/old.onnx" -o "$tmp/ren/new.onnx" >/dev/null 2>"$tmp/stderr"
rc=$?
[ $rc -eq 1 ] && grep -q "the input reads '.*$data'" "$tmp/stderr" && [ "$(cat "$tmp/ren"/* | cksum)" = "$sum0" ] &&
	ok "--data-file naming the input's data file refused" || not_ok "--data-file (exit $rc): $(cat "$tmp/stderr")"
"$ONNXPASS" run dedup --report "$tmp/ren/$data" -i "$tmp/ren/old.onnx" -o "$tmp/out.onnx" >/dev/null 2>"$tmp/stderr"
rc=$?
[ $rc -eq 1 ] && grep -q "cannot write report .*the input reads" "$tmp/stderr" && [ "$(cat "$tmp/ren"/* | cksum)" = "$sum0" ] &&
	[ ! -e "$tmp/out.onnx" ] && ok "report over an input file refused" || not_ok "report (exit $rc): $(cat "$tmp/stderr")"
mkdir -p "$tmp/linked" && ln "$tmp/demo/encoder.onnx" "$tmp/linked/encoder.onnx"
sum0=$(cat "$tmp/demo"/* | cksum)
"$ONNXPASS" run dedup --force -i "$tmp/demo" -o "$tmp/linked" >/dev/null 2>"$tmp/stderr"
rc=$?
[ $rc -eq 1 ] && grep -q "holds '.*', which the input reads" "$tmp/stderr" && [ "$(cat "$tmp/demo"/* | cksum)" = "$sum0" ] &&
	ok "output folder holding a hard link to an input refused" || not_ok "hard link (exit $rc): $(cat "$tmp/stderr")"
refuse "output folder equal to the input folder" "it is the input folder" run dedup -i "$tmp/demo" -o "$tmp/demo" --force
mkdir -p "$tmp/full" && touch "$tmp/full/x"
"$ONNXPASS" run dedup -i "$tmp/demo" -o "$tmp/full" >/dev/null 2>"$tmp/stderr"
[ $? -eq 1 ] && grep -q "folder exists and is not empty (use --force)" "$tmp/stderr" && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] &&
	ok "non-empty output folder refused before any work" || not_ok "non-empty output folder: $(cat "$tmp/stderr")"
refuse "two models for one file, before any work" "cannot write 2 models to the file '$tmp/out.onnx': give a folder" \
	run dedup -i "$tmp/demo" -o "$tmp/out.onnx"
refuse "output '-'" "cannot write to '-'" run dedup -i "$tmp/demo" -o -
[ ! -e ./- ] && [ ! -e "$tmp/-" ] && ok "and no folder named '-'" || not_ok "a folder named '-' was made"
if [ -w /dev/full ]; then
	# the report is written last: the output is there, the exit says the report is not
	"$ONNXPASS" -q run dedup -i "$tmp/demo" -o "$tmp/out" --report /dev/full 2>"$tmp/stderr"
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] && grep -q "cannot write report '/dev/full': No space left on device" "$tmp/stderr" &&
		ok "a report to a full disk: exit 1, one line" || not_ok "report to /dev/full (exit $rc): $(cat "$tmp/stderr")"
	rm -rf "$tmp/out"
else
	skip "a report to a full disk" "no /dev/full"
fi
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
printf '\357\273\277[step a]\npass = nosuchpass\n' >"$r"
refuse "recipe starting with a byte-order mark" "r.ini:2: unknown pass 'nosuchpass'" --check -r "$r"
printf '\f[step a]\npass = nosuchpass\n' >"$r"
refuse "form feed before a section" "r.ini:2: unknown pass 'nosuchpass'" --check -r "$r"
printf '\v[step a]\npass = nosuchpass\n' >"$r"
refuse "vertical tab before a section" "r.ini:2: unknown pass 'nosuchpass'" --check -r "$r"
printf '[step a]\npass = dedup\n\fmin_bytes = 3\n' >"$r"
refuse "form feed before a key: a continuation, said so" "r.ini:3" --check -r "$r"
refuse "recipe that is a folder" "cannot read recipe '$tmp': it is a folder" --check -r "$tmp"
refuse "recipe that is a device" "cannot read recipe '/dev/zero': not a regular file" --check -r /dev/zero
if mkfifo "$tmp/fifo.ini" 2>/dev/null; then
	refuse "recipe that is a FIFO, without blocking" "cannot read recipe '$tmp/fifo.ini': not a regular file" --check -r "$tmp/fifo.ini"
else
	skip "recipe that is a FIFO" "mkfifo not allowed here"
fi
# 100,000 steps are checked in linear time (a quadratic check takes
# minutes); the bound is generous against machine noise
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "[step s%d]\npass = dedup\n", i }' >"$r"
start=$(date +%s)
"$ONNXPASS" --check -r "$r" >/dev/null 2>"$tmp/stderr"
rc=$? took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] && [ $took -lt 20 ] && ok "100,000 steps checked in ${took} s" || not_ok "100,000 steps: exit $rc in $took s: $(head -2 "$tmp/stderr")"
refuse "missing recipe" "cannot read recipe '$tmp/none.ini'" --check -r "$tmp/none.ini"
printf '[recipe]\ninputs = enc:encoder.onnx dec:nothere.onnx\n[step a]\npass = dedup\n' >"$r"
refuse "input missing from the export" "has no nothere.onnx (recipe '$r' needs it as role 'dec')" -r "$r" -i "$tmp/demo" -o "$tmp/out"
printf '[step a]\npass = dedup\nmodels = encoder ghost\n' >"$r"
refuse "step names a role the bundle lacks" "r.ini:1: step 'a': no model with role 'ghost'" -q -r "$r" -i "$tmp/demo" -o "$tmp/out"
printf '[step a]\npass = dedup\nexpect.MatMul = 99\n' >"$r"
refuse "expectation that does not hold" "r.ini:3: step 'a': expected MatMul == 99, found 8" -q -r "$r" -i "$tmp/demo" -o "$tmp/out"
# what --check finds before any work: values outside a parameter's set,
# roles no step will have, op types nothing can count, indented keys
accepts() { # accepts NAME ARGS...: exit 0, nothing on stderr
	an=$1; shift
	"$ONNXPASS" -q "$@" 2>"$tmp/stderr" && [ ! -s "$tmp/stderr" ] && ok "$an" || not_ok "$an: $(cat "$tmp/stderr")"
}
printf '[step a]\npass = quantize\nbits = 5\n' >"$r"
refuse "--check: bits outside its allowed set" "r.ini:3: step 'a': bad value for 'bits': 5 is not one of 4|8" --check -r "$r"
printf '[step a]\npass = quantize\nblock_size = 96\n' >"$r"
refuse "--check: a block size that is no power of two" "r.ini:3: step 'a': bad value for 'block_size': 96 is not one of 16|32|64|128|256" --check -r "$r"
printf '[recipe]\ninputs = decoder:d.onnx decoder_past:p.onnx\n[step a]\npass = quantize\nmodels = decoder-past\n' >"$r"
refuse "--check: a role no model has" "r.ini:5: step 'a': no model has role 'decoder-past' at this step (roles: decoder, decoder_past) (did you mean 'decoder_past'?)" --check -r "$r"
printf '[recipe]\ninputs = decoder:d.onnx\n[step a]\npass = embedding-split\nas = emb\n[step b]\npass = quantize\nmodels = emb decoder\n' >"$r"
accepts "--check: a role an earlier step adds ('as =') is known" --check -r "$r"
printf '[recipe]\ninputs = decoder:d.onnx\noutputs = decoder:x.onnx embd:e.onnx\n[step a]\npass = embedding-split\n' >"$r"
refuse "--check: an output role no step makes" "r.ini:3: output role 'embd' is not a model after the last step (did you mean 'embed'?)" --check -r "$r"
printf '[step a]\npass = quantize\nexpect.MatMulNBIts = 1\n' >"$r"
refuse "--check: a misspelt op in an expectation" "r.ini:3: expect.MatMulNBIts: no op 'MatMulNBIts' in ONNX or ONNX Runtime's contrib ops (did you mean 'MatMulNBits'?)" --check -r "$r"
printf '[step a]\npass = quantize\nexpect.com.microsoft/MatMulNBits = 1\nexpect.my.domain/MyOp = 0\n' >"$r"
accepts "--check: expect.DOMAIN/OP names an op of any domain" --check -r "$r"
printf '[step a]\npass = dedup\nexpect.my.domain/MyOp = 0\nexpect.com.microsoft/MatMulNBits = 0\nexpect.ai.onnx/MatMul = 8\n' >"$r"
accepts "expect.DOMAIN/OP counts that domain's ops" -r "$r" -i "$tmp/demo" -o "$tmp/out"
rm -rf "$tmp/out"
printf '[step a]\npass = quantize\nbits = 4\n  block_size = 64\n' >"$r"
refuse "--check: an indented key" "r.ini:4: this line is indented, so it continues 'bits' from the line above, which takes one line: unindent 'block_size = 64'" --check -r "$r"
printf '[step a]\npass = quantize\nexclude = a*\n   b* c*\nbits = 8\n' >"$r"
accepts "--check: a list parameter continues on indented lines" --check -r "$r"

# plugins
if [ -d "${TEST_PLUGINS:-}" ]; then
	# a broken plugin is named once and skipped; only what needs it fails
	"$ONNXPASS" -P "$TEST_PLUGINS" --list >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	[ $rc -eq 0 ] && grep -q "warning: skipping a plugin: cannot load plugin '$TEST_PLUGINS/bad_param.so': 'badparam' parameter 'level' has a bad default: 99 is outside 0..10" "$tmp/stderr" &&
		grep -q "wrong_abi.so': built for plugin ABI 3" "$tmp/stderr" && [ "$(grep -c 'bad_param.so' "$tmp/stderr")" -eq 1 ] &&
		grep -q '^dedup ' "$tmp/stdout" && grep -q '^good ' "$tmp/stdout" &&
		ok "broken plugins are skipped with one warning each; the others load" || not_ok "broken plugins (exit $rc): $(cat "$tmp/stderr")"
	mkdir -p "$tmp/abi" && cp "$TEST_PLUGINS/wrong_abi.so" "$tmp/abi/dedup.so"
	printf '[step a]\npass = dedup\n' >"$r"
	ONNXPASS_PLUGIN_PATH= "$ONNXPASS" -P "$tmp/abi" -q --check -r "$r" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	[ $rc -eq 1 ] && tail -1 "$tmp/stderr" | grep -q "r.ini:2: pass 'dedup' is not available: cannot load plugin '$tmp/abi/dedup.so': built for plugin ABI 3" &&
		ok "a recipe needing a skipped plugin fails naming its load error" || not_ok "needing a skipped plugin (exit $rc): $(cat "$tmp/stderr")"
else
	skip "broken plugins are skipped" "test plugins not built"
	skip "a recipe needing a skipped plugin" "test plugins not built"
fi
# what the host trusts: a constructor runs at dlopen, so plugins come only
# from files and folders nobody but root and the user can change, and
# never from relative entries of the search path
if [ -f "${TEST_PLUGINS:-}/good.so" ]; then
	mkdir -p "$tmp/ww" "$tmp/wf" "$tmp/rel" "$tmp/other" && cp "$TEST_PLUGINS/good.so" "$tmp/ww/" && chmod 777 "$tmp/ww" &&
		cp "$TEST_PLUGINS/good.so" "$tmp/wf/" && chmod 666 "$tmp/wf/good.so" && cp "$TEST_PLUGINS/bad_param.so" "$tmp/rel/"
	refuse "a plugin folder everyone can write" "refusing plugin folder '$tmp/ww': writable by everyone" -P "$tmp/ww" --list
	refuse "a plugin file everyone can write" "refusing plugin '$tmp/wf/good.so': writable by everyone" -P "$tmp/wf" --list
	cp "$TEST_PLUGINS/good.so" "$tmp/other/"
	if [ "$(id -u)" -eq 0 ] && chown 65534 "$tmp/other/good.so" 2>/dev/null; then
		refuse "a plugin file of another user" "refusing plugin '$tmp/other/good.so': owned by another user" -P "$tmp/other" --list
	else
		skip "a plugin file of another user" "needs root to give a file away"
	fi
	(cd "$tmp" && ONNXPASS_PLUGIN_PATH="rel:$ONNXPASS_PLUGIN_PATH" "$ONNXPASS" --list) >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	[ $rc -eq 0 ] && grep -q "ignoring the relative folder 'rel' in \$ONNXPASS_PLUGIN_PATH" "$tmp/stderr" && grep -q '^dedup ' "$tmp/stdout" &&
		ok "a relative entry of \$ONNXPASS_PLUGIN_PATH is ignored, with a warning" || not_ok "relative entry (exit $rc): $(cat "$tmp/stderr")"
else
	for c in "folder everyone can write" "file everyone can write" "file of another user" "relative search path entry"; do
		skip "plugin $c" "test plugins not built"
	done
fi
"$TOP_BUILDDIR/t/gen-model" unusual "$tmp/unusual" || exit 1
# models at the edges: the fusion of a rank-16 Add (valid ONNX), a MatMul
# whose only output is unnamed (ONNX's checker refuses it; ORT and
# onnxpass read it) quantized; the sanitizer run of the suite checks memory
"$ONNXPASS" -q run fusion -i "$tmp/unusual/rank16-add.onnx" -o "$tmp/r16.onnx" 2>"$tmp/stderr"
rc=$?
[ $rc -eq 0 ] && onnx_check "$tmp/r16.onnx" >"$tmp/chk" 2>&1 && ok "fusion of a rank-16 Add" ||
	not_ok "rank-16 Add (exit $rc): $(cat "$tmp/stderr" "$tmp/chk")"
"$ONNXPASS" -q run quantize -i "$tmp/unusual/unnamed-output.onnx" -o "$tmp/un.onnx" 2>"$tmp/stderr"
rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/un.onnx" ] && ok "quantize of a MatMul whose output is unnamed: no crash" ||
	not_ok "unnamed MatMul output (exit $rc): $(cat "$tmp/stderr")"
refuse "plugin folder that does not exist" "cannot read plugin folder '$tmp/noplugins'" -P "$tmp/noplugins" --list
refuse "unknown pass to run" "unknown pass 'frobnicate'" run frobnicate -i "$tmp/demo" -o "$tmp/out"
refuse "bad KEY=VALUE on the command line" "pass 'dedup': unknown parameter 'colour'" run dedup colour=red -i "$tmp/demo" -o "$tmp/out"
finish
