#!/bin/sh
# SPDX-License-Identifier: MIT
# dedup on real exports: the tiny T5 bundle (embedding byte-identical in all
# four files) and the generated demo bundle shrink by the duplicate bytes,
# and ONNX Runtime gives bitwise-identical outputs before and after.
# Copies in another form (t/gen-model copies, and a 32-layer Llama whose
# tied lm_head is stored as the embedding's transpose): merged when every
# element agrees, never when one does not.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp dedup)
trap 'rm -rf "$tmp"' EXIT
t5=${FIXTURES:-}/optimum-tiny-t5
plan 26

size_of() { du -cb "$@" | tail -1 | cut -f1; }

"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" || exit 1
check "demo recipe runs" "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/demo.ini" -i "$tmp/demo" \
	-o "$tmp/demo-out" --report "$tmp/demo.json"
merged=$(json_num merged_tensors "$tmp/demo.json")
shared=$(json_num shared_tensors "$tmp/demo.json")
[ "$merged" = 4 ] && [ "$shared" = 1 ] && ok "demo: 4 in-file duplicates merged, 1 tensor shared across files" ||
	not_ok "demo: merged=$merged shared=$shared (want 4 and 1)"
if ort compare-dir "$tmp/demo" "$tmp/demo-out" exact >"$tmp/demo.ort"; then
	ok "demo: ORT outputs bitwise identical"
else
	not_ok "demo: ORT outputs differ: $(cat "$tmp/demo.ort")"
fi

# transposed and cast copies
"$TOP_BUILDDIR/t/gen-model" copies "$tmp/cp" || exit 1
cp_sum() { cat "$tmp"/cp/transposed.onnx "$tmp"/cp/transposed-nearly.onnx "$tmp"/cp/cast.onnx "$tmp"/cp/cast-nearly.onnx | cksum; }
sum_before=$(cp_sum)
dd() { "$ONNXPASS" -v run dedup "$@" 2>&1; }
for f in transposed transposed-nearly cast cast-nearly; do
	dd -i "$tmp/cp/$f.onnx" -o "$tmp/cp/$f-out.onnx" --report "$tmp/cp/$f.json" >"$tmp/cp/$f.log" ||
		not_ok "dedup $f: $(tail -1 "$tmp/cp/$f.log")"
done
copies() { echo "$(json_num transposed_tensors "$1") $(json_num transposed_bytes "$1")" \
	"$(json_num cast_tensors "$1") $(json_num cast_bytes "$1")"; }
r=$(copies "$tmp/cp/transposed.json")
[ "$r" = "2 54400 0 0" ] && grep -q '^onnxpass: dedup: W = Transpose(E) (48000 bytes)$' "$tmp/cp/transposed.log" &&
	grep -q '^onnxpass: dedup: Qt = Transpose(Q) (6400 bytes)$' "$tmp/cp/transposed.log" &&
	ok "the lm_head stored as E^T and a square Q^T read E and Q through a Transpose" ||
	not_ok "transposed: $r; $(grep Transpose "$tmp/cp/transposed.log")"
before=$(size_of "$tmp/cp/transposed.onnx") after=$(size_of "$tmp/cp/transposed-out.onnx")
[ $((before - after)) -ge 54000 ] && ok "transposed: the file shrinks by the copies ($before -> $after bytes)" ||
	not_ok "transposed: $before -> $after bytes"
r=$(ort compare "$tmp/cp/transposed.onnx" "$tmp/cp/transposed-out.onnx" exact) &&
	ok "transposed: ORT outputs bitwise identical ($r)" || not_ok "transposed: $r"
r=$(copies "$tmp/cp/transposed-nearly.json")
[ "$r" = "1 6400 0 0" ] &&
	grep -q "'W' matches the transpose of 'E' at 64 sampled elements but not at element 11999: kept" \
		"$tmp/cp/transposed-nearly.log" &&
	ok "a table one element away from E^T is compared whole and kept (Q^T still merged)" ||
	not_ok "transposed-nearly: $r; $(grep -E 'Transpose|kept' "$tmp/cp/transposed-nearly.log")"
r=$(copies "$tmp/cp/cast.json")
[ "$r" = "0 0 2 48000" ] && grep -q '^onnxpass: dedup: E16 = Cast(E) (24000 bytes)$' "$tmp/cp/cast.log" &&
	grep -q '^onnxpass: dedup: Eb = Cast(E) (24000 bytes)$' "$tmp/cp/cast.log" &&
	ok "float16 and bfloat16 copies of E (ties, a subnormal, -0, 65519) read E through a Cast" ||
	not_ok "cast: $r; $(grep Cast "$tmp/cp/cast.log")"
r=$(ort compare "$tmp/cp/cast.onnx" "$tmp/cp/cast-out.onnx" exact) &&
	ok "cast: ORT outputs bitwise identical: its Cast rounds as dedup's check does ($r)" || not_ok "cast: $r"
r=$(copies "$tmp/cp/cast-nearly.json")
[ "$r" = "0 0 0 0" ] && grep -q "'E16' matches a cast of 'E' at 64 sampled elements but not at element 11999: kept" \
	"$tmp/cp/cast-nearly.log" &&
	ok "a float16 table one ulp off, and a truncated bfloat16 one, are not copies" ||
	not_ok "cast-nearly: $r; $(grep -E 'Cast|kept' "$tmp/cp/cast-nearly.log")"
dd transposed=false cast=false -i "$tmp/cp/transposed.onnx" -o "$tmp/cp/off.onnx" --report "$tmp/cp/off.json" >/dev/null
dd transposed=false cast=false -i "$tmp/cp/cast.onnx" -o "$tmp/cp/off2.onnx" --report "$tmp/cp/off2.json" >/dev/null
[ "$(copies "$tmp/cp/off.json") $(copies "$tmp/cp/off2.json")" = "0 0 0 0 0 0 0 0" ] &&
	ok "transposed=false cast=false leave the copies" || not_ok "off: $(copies "$tmp/cp/off.json") $(copies "$tmp/cp/off2.json")"
grep -q '"copies": "W = Transpose(E) (48000 bytes), Qt = Transpose(Q) (6400 bytes)"\|"copies": "Qt = Transpose(Q) (6400 bytes), W = Transpose(E) (48000 bytes)"' \
	"$tmp/cp/transposed.json" && [ "$(json_num load_time_bytes "$tmp/cp/transposed.json")" = 54400 ] &&
	ok "the report names each merge, its bytes, and the bytes ORT computes at session start" ||
	not_ok "report: $(grep -E 'copies|load_time' "$tmp/cp/transposed.json")"
[ "$(cp_sum)" = "$sum_before" ] &&
	ok "copies: inputs unchanged" || not_ok "copies: inputs were modified"

# a 32-layer Llama whose tied lm_head torch stored as its own [H, V] copy
mkdir "$tmp/tied"
"$TOP_BUILDDIR/t/gen-model" llama "$tmp/tied/model.onnx" tiny --layers 32 --lm-head copy || exit 1
dd -i "$tmp/tied/model.onnx" -o "$tmp/tied-d.onnx" --report "$tmp/tied.json" >"$tmp/tied.log"
[ "$(copies "$tmp/tied.json")" = "1 128000 0 0" ] &&
	grep -q '^onnxpass: dedup: lm_head.weight = Transpose(model.embed_tokens.weight) (128000 bytes)$' "$tmp/tied.log" &&
	ok "Llama, 32 layers: the lm_head copy reads the embedding transposed (the [500, 64] table once)" ||
	not_ok "tied Llama: $(copies "$tmp/tied.json"); $(grep Transpose "$tmp/tied.log")"
r=$(ort compare "$tmp/tied/model.onnx" "$tmp/tied-d.onnx" exact) &&
	ok "tied Llama: ORT outputs bitwise identical ($r)" || not_ok "tied Llama: $r"
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$tmp/tied" -o "$tmp/tied-hymt" &&
	q=$("$ONNXPASS" info "$tmp/tied-hymt/model_int8_final.onnx" | sed -n 's/^ *com.microsoft:MatMulNBits  *\([0-9]*\)$/\1/p') &&
	[ "$q" = 225 ] && ok "hymt.ini on it: 225 MatMulNBits (7 per layer + the lm_head, quantized from the embedding)" ||
	not_ok "tied hymt.ini: $q MatMulNBits"
r=$(causal "$tmp/tied/model.onnx" "$tmp/tied-hymt/model_int8_final.onnx" --batch 2 --steps 12 --teacher-forced \
	--min-cos 0.99 --min-top1 0.9) && ok "tied hymt.ini: $r" || not_ok "tied hymt.ini: $r"

if [ ! -d "$t5" ]; then
	for i in 18 19 20 21 22 23 24 25 26; do skip "optimum-tiny-t5" "fixtures not found at $t5"; done
	finish
fi
mkdir "$tmp/t5"
for f in encoder_model decoder_model decoder_with_past_model decoder_model_merged; do
	cp "$t5/$f.onnx" "$tmp/t5/"
done
sum_before=$(cat "$tmp"/t5/*.onnx | cksum)
check "t5: dedup runs on the bundle" "$ONNXPASS" -q run dedup -i "$tmp/t5" -o "$tmp/t5-out" \
	--report "$tmp/t5.json"
[ "$(cat "$tmp"/t5/*.onnx | cksum)" = "$sum_before" ] && ok "t5: inputs unchanged" ||
	not_ok "t5: inputs were modified"
[ -f "$tmp/t5-out/shared_weights.data" ] && ok "t5: one shared data file" ||
	not_ok "t5: no shared data file"
before=$(size_of "$tmp"/t5/*.onnx)
after=$(size_of "$tmp"/t5-out/*)
saved=$(( $(json_num shared_bytes "$tmp/t5.json") + $(json_num merged_bytes "$tmp/t5.json") ))
emb=$(( 32 * 1024 * 4 * 3 ))
diag "t5 bundle: $before bytes -> $after bytes; report: $saved duplicate bytes"
[ "$saved" -ge "$emb" ] && ok "t5: the embedding's 3 extra copies are among the duplicates ($saved >= $emb)" ||
	not_ok "t5: only $saved duplicate bytes found (want >= $emb)"
# the files shrink by the duplicate bytes, less alignment padding
[ $((before - after)) -ge $((saved - 4096 * 16)) ] && ok "t5: bundle shrinks by the duplicate bytes" ||
	not_ok "t5: bundle shrank by $((before - after)) bytes, duplicates were $saved"
if ort compare-dir "$tmp/t5" "$tmp/t5-out" exact >"$tmp/t5.ort"; then
	ok "t5: ORT outputs of all four models bitwise identical"
else
	not_ok "t5: ORT outputs differ: $(cat "$tmp/t5.ort")"
fi
# running dedup again finds nothing left
check "t5: dedup of the output runs" "$ONNXPASS" -q run dedup -i "$tmp/t5-out" -o "$tmp/t5-again" \
	--report "$tmp/again.json"
[ "$(json_num merged_tensors "$tmp/again.json")" = 0 ] && ok "t5: nothing left to merge" ||
	not_ok "t5: second run merged $(json_num merged_tensors "$tmp/again.json")"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
