#!/bin/sh
# SPDX-License-Identifier: MIT
# recipes/madlad-fp32.ini and madlad.ini on real T5-family exports, checked
# by greedy decoding in ONNX Runtime (t/seq2seq-decode.js): the 3-file
# export against the 4-file output, step by step.
#  - fp32 restructure: max |logits difference| <= 1e-4 and the same tokens,
#    at batch 1 and 2 (the batch stays dynamic).
#  - int4 + uint8 embedding, teacher forced over 16 steps: cosine of the
#    logits >= 0.85 at every step and top-1 agreement >= 0.5.  These tiny
#    exports have random weights: their logits are nearly flat, so near
#    ties flip under any quantization; the cosine is the robust measure.
# Sizes: the fp32 output stores what the two decoders share once (under
# 0.7x of the export); int4 under 0.4x (these exports are 32 wide, so
# blocks of 128 are padded: on real shapes it is 0.08x, see make bench).
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp madlad)
trap 'rm -rf "$tmp"' EXIT
dec() { s2s "$@"; }
plan 29
for f in madlad-like t5 mt5; do
	x=$FIXTURES/optimum-tiny-$f
	if "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" -i "$x" -o "$tmp/$f-fp32"; then
		ok "$f: madlad-fp32 recipe"
	else
		not_ok "$f: madlad-fp32 recipe failed"
	fi
	in_bytes=$(du -cb "$x/encoder_model.onnx" "$x/decoder_model.onnx" "$x/decoder_with_past_model.onnx" | tail -1 | cut -f1)
	out_bytes=$(bundle_bytes "$tmp/$f-fp32")
	[ "$(echo "$out_bytes < $in_bytes * 0.7" | bc)" = 1 ] && ok "$f: fp32 output $in_bytes -> $out_bytes bytes" ||
		not_ok "$f: fp32 output $in_bytes -> $out_bytes bytes (want < 0.7x)"
	files=$(cd "$tmp/$f-fp32" && ls | tr '\n' ' ')
	[ "$files" = "madlad_cache_initializer.onnx madlad_decoder.onnx madlad_embed.onnx madlad_encoder.onnx manifest.json " ] &&
		ok "$f: four models and a manifest, no no-past decoder" || not_ok "$f: files: $files"
	for b in 1 2; do
		if r=$(dec "$x" "$tmp/$f-fp32" --batch $b --max-diff 1e-4); then
			ok "$f: fp32, batch $b: $r"
		else
			not_ok "$f: fp32, batch $b: $r"
		fi
	done
	if ! "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad.ini" -i "$x" -o "$tmp/$f-int4"; then
		not_ok "$f: madlad recipe failed"
		continue
	fi
	out_bytes=$(bundle_bytes "$tmp/$f-int4")
	[ "$(echo "$out_bytes < $in_bytes * 0.4" | bc)" = 1 ] && ok "$f: int4 output $in_bytes -> $out_bytes bytes" ||
		not_ok "$f: int4 output $in_bytes -> $out_bytes bytes (want < 0.4x)"
	n=$("$ONNXPASS" info "$tmp/$f-int4/madlad_decoder_4bit.onnx" | sed -n 's/^ *com.microsoft:MatMulNBits *\([0-9]*\)/\1/p')
	if [ -n "$n" ] && [ "$n" -gt 0 ] &&
		"$ONNXPASS" info --json "$tmp/$f-int4/madlad_decoder_4bit.onnx" | grep -q '"inputs": \[{"name": "embed_matrix"'; then
		ok "$f: int4 decoder has $n MatMulNBits and takes embed_matrix"
	else
		not_ok "$f: int4 decoder: '$n' MatMulNBits"
	fi
	if r=$(dec "$x" "$tmp/$f-int4" --teacher-forced --steps 16 --min-cos 0.85 --min-top1 0.5); then
		ok "$f: int4: $r"
	else
		not_ok "$f: int4: $r"
	fi
done
# the project's own generated MADLAD-shaped export (the demo model)
"$TOP_BUILDDIR/t/gen-model" t5 "$tmp/gen" || exit 1
if "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" -i "$tmp/gen" -o "$tmp/gen-fp32" &&
	r=$(dec "$tmp/gen" "$tmp/gen-fp32" --batch 2 --max-diff 1e-4 --check-export); then
	ok "generated T5 export: with-past decoding == no-past decoding, and fp32 recipe: $r"
else
	not_ok "generated T5 export: $r"
fi
if "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad.ini" -i "$tmp/gen" -o "$tmp/gen-int4" &&
	r=$(dec "$tmp/gen" "$tmp/gen-int4" --teacher-forced --steps 16 --min-cos 0.85 --min-top1 0.5); then
	ok "generated T5 export: int4: $r"
else
	not_ok "generated T5 export: int4: $r"
fi
mkdir "$tmp/partial" && cp "$FIXTURES/optimum-tiny-t5/encoder_model.onnx" "$FIXTURES/optimum-tiny-t5/decoder_model.onnx" "$tmp/partial/"
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/madlad.ini" -i "$tmp/partial" -o "$tmp/bad" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "has no decoder_with_past_model.onnx (recipe '.*madlad.ini' needs it as role 'decoder_past')" "$tmp/err" &&
	[ ! -e "$tmp/bad" ] && ok "an export missing a file: one line, nothing written" || not_ok "missing file: $(cat "$tmp/err")"
"$ONNXPASS" -q --check -r "$TOP_SRCDIR/recipes/madlad.ini" && "$ONNXPASS" -q --check -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" &&
	ok "both recipes pass --check" || not_ok "--check"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
