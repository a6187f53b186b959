#!/bin/sh
# SPDX-License-Identifier: MIT
# The recipes at the depth of the real models (32 layers; tiny width keeps
# it cheap): the generated T5 export through madlad-fp32.ini and
# madlad.ini, the generated Llama-like decoder through hymt.ini and every
# fusion, the generated Gemma-3-like decoder through translategemma.ini and
# every fusion, each checked by the reference decoders in ONNX Runtime.
# The same exports with their nodes stored in reverse order (legal ONNX,
# written by t/reverse-nodes.js) must give the same results as the sorted
# ones.
# Bounds: fp32 restructuring and fusion within 1e-4 of the export (measured
# 2e-6); hymt int8 cosine >= 0.99, top-1 >= 0.9 (measured 0.9997 / 0.96);
# madlad int4 cosine >= 0.85, top-1 >= 0.5 (measured 0.92 / 0.56);
# translategemma int4 cosine >= 0.7 (measured 0.78; an unrelated model of
# the same family gives 0.03: random weights compound 4-bit error over 32
# layers, a wrong layout loses everything).
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp depth)
trap 'rm -rf "$tmp"' EXIT
gen=$TOP_BUILDDIR/t/gen-model
L=32
plan 16
dec() { causal "$@" --batch 2 --steps 12; }
count() { "$ONNXPASS" info "$1" | sed -n "s/^ *$2  *\([0-9]*\)$/\1/p"; }
# the step lines of a run, without the times
steps() { sed -n 's/^\(\[[0-9]*\/[0-9]*\] .*weights .*\)  [0-9.]* s$/\1/p' "$1"; }

# T5 (MADLAD's pattern), 32 + 32 layers
"$gen" t5 "$tmp/t5" tiny --layers $L || exit 1
nodes=$("$ONNXPASS" info "$tmp/t5/decoder_with_past_model.onnx" | sed -n 's/^nodes: *\([0-9]*\).*/\1/p')
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" -i "$tmp/t5" -o "$tmp/t5-fp32" 2>"$tmp/t5-fp32.log" &&
	r=$(s2s "$tmp/t5" "$tmp/t5-fp32" --batch 2 --max-diff 1e-4 --check-export) &&
	ok "T5, $L layers ($nodes nodes in the with-past decoder), madlad-fp32.ini: $r" ||
	not_ok "T5 madlad-fp32: $r $(tail -1 "$tmp/t5-fp32.log")"
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad.ini" -i "$tmp/t5" -o "$tmp/t5-int4" &&
	r=$(s2s "$tmp/t5" "$tmp/t5-int4" --teacher-forced --steps 16 --min-cos 0.85 --min-top1 0.5) &&
	ok "T5, $L layers, madlad.ini: $r" || not_ok "T5 madlad.ini: $r"
n=$(count "$tmp/t5-int4/madlad_decoder_4bit.onnx" com.microsoft:MatMulNBits)
# per layer: self q k v o, cross q o (the cross k v went to the cache
# initializer), 3 feed-forward; and the lm_head
[ "$n" = $((L * 9 + 1)) ] && ok "T5 int4 decoder: $n MatMulNBits (9 per layer + lm_head)" ||
	not_ok "T5 int4 decoder: $n MatMulNBits, want $((L * 9 + 1))"
mkdir "$tmp/t5r"
for f in encoder_model decoder_model decoder_with_past_model; do
	"$NODE" "$TOP_SRCDIR/t/reverse-nodes.js" "$tmp/t5/$f.onnx" "$tmp/t5r/$f.onnx"
done
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" -i "$tmp/t5r" -o "$tmp/t5r-fp32" 2>"$tmp/t5r-fp32.log" &&
	[ "$(steps "$tmp/t5r-fp32.log")" = "$(steps "$tmp/t5-fp32.log")" ] &&
	r=$(s2s "$tmp/t5" "$tmp/t5r-fp32" --batch 2 --max-diff 1e-4) &&
	ok "T5 stored in reverse order: the same steps and changes, $r" ||
	not_ok "T5 reversed: $r $(steps "$tmp/t5r-fp32.log" | head -3)"

# Llama-like (HY-MT's pattern), 32 layers
mkdir "$tmp/llama" "$tmp/llama-r"
"$gen" llama "$tmp/llama/model.onnx" tiny --layers $L || exit 1
"$NODE" "$TOP_SRCDIR/t/reverse-nodes.js" "$tmp/llama/model.onnx" "$tmp/llama-r/model.onnx"
src=$tmp/llama/model.onnx
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$tmp/llama" -o "$tmp/hymt" 2>"$tmp/hymt.log" &&
	r=$(dec "$src" "$tmp/hymt/model_int8_final.onnx" --teacher-forced --min-cos 0.99 --min-top1 0.9) &&
	ok "Llama, $L layers, hymt.ini: $r" || not_ok "Llama hymt.ini: $r $(tail -1 "$tmp/hymt.log")"
q=$(count "$tmp/hymt/model_int8_final.onnx" com.microsoft:MatMulNBits)
[ "$q" = $((L * 7 + 1)) ] && [ "$(count "$tmp/hymt/model_int8_final.onnx" DequantizeLinear)" = 1 ] &&
	ok "hymt.ini: $q MatMulNBits (7 per layer + lm_head), only the token embedding uint8 (not the rotary tables)" ||
	not_ok "hymt.ini: $q MatMulNBits, $(count "$tmp/hymt/model_int8_final.onnx" DequantizeLinear) DequantizeLinear"
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$tmp/llama-r" -o "$tmp/hymt-r" 2>"$tmp/hymt-r.log" &&
	[ "$(steps "$tmp/hymt-r.log")" = "$(steps "$tmp/hymt.log")" ] &&
	r=$(dec "$tmp/hymt/model_int8_final.onnx" "$tmp/hymt-r/model_int8_final.onnx" --max-diff 1e-5) &&
	ok "Llama stored in reverse order, hymt.ini: the same steps, the same logits ($r)" ||
	not_ok "Llama reversed: $r"
"$ONNXPASS" -q run clean -i "$src" -o "$tmp/lc.onnx" && "$ONNXPASS" -q run fusion -i "$tmp/lc.onnx" -o "$tmp/lf.onnx" &&
	r=$(dec "$src" "$tmp/lf.onnx" --max-diff 1e-4) &&
	[ "$(count "$tmp/lf.onnx" com.microsoft:GroupQueryAttention)" = $L ] &&
	[ "$(count "$tmp/lf.onnx" com.microsoft:RotaryEmbedding)" = $((2 * L)) ] &&
	[ "$(count "$tmp/lf.onnx" com.microsoft:SkipSimplifiedLayerNormalization)" = $((2 * L)) ] &&
	ok "Llama, every fusion: $L GroupQueryAttention, $((2 * L)) RotaryEmbedding and skip norms, $r" ||
	not_ok "Llama fusion: $r"

# Gemma-3-like (TranslateGemma's pattern), 32 layers
mkdir "$tmp/gemma" "$tmp/gemma-r"
"$gen" gemma "$tmp/gemma/model.onnx" tiny --layers $L || exit 1
"$NODE" "$TOP_SRCDIR/t/reverse-nodes.js" "$tmp/gemma/model.onnx" "$tmp/gemma-r/model.onnx"
src=$tmp/gemma/model.onnx
r=$(dec "$src" "$src" --check-export) && ok "Gemma export: with-past logits equal a full-sequence run ($r)" ||
	not_ok "Gemma export: $r"
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/translategemma.ini" -i "$tmp/gemma" -o "$tmp/tg" 2>"$tmp/tg.log" &&
	r=$(dec "$src" "$tmp/tg/translate_gemma_decoder_4bit.onnx" --teacher-forced --min-cos 0.7) &&
	ok "Gemma, $L layers, translategemma.ini: $r" || not_ok "Gemma translategemma.ini: $r $(tail -1 "$tmp/tg.log")"
q=$(count "$tmp/tg/translate_gemma_decoder_4bit.onnx" com.microsoft:MatMulNBits)
[ "$q" = $((L * 7 + 1)) ] && [ "$(count "$tmp/tg/translate_gemma_decoder_4bit.onnx" com.microsoft:GatherBlockQuantized)" = 1 ] &&
	ok "translategemma.ini: $q MatMulNBits (the tied lm_head too), one GatherBlockQuantized (the token embedding only)" ||
	not_ok "translategemma.ini: $q MatMulNBits"
"$ONNXPASS" -r "$TOP_SRCDIR/recipes/translategemma.ini" -i "$tmp/gemma-r" -o "$tmp/tg-r" 2>"$tmp/tg-r.log" &&
	[ "$(steps "$tmp/tg-r.log")" = "$(steps "$tmp/tg.log")" ] &&
	r=$(dec "$tmp/tg/translate_gemma_decoder_4bit.onnx" "$tmp/tg-r/translate_gemma_decoder_4bit.onnx" --max-diff 1e-5) &&
	ok "Gemma stored in reverse order, translategemma.ini: the same steps, the same logits ($r)" ||
	not_ok "Gemma reversed: $r"
"$ONNXPASS" -q run clean -i "$src" -o "$tmp/gc.onnx" && "$ONNXPASS" -q run fusion -i "$tmp/gc.onnx" -o "$tmp/gf.onnx" &&
	r=$(dec "$src" "$tmp/gf.onnx" --max-diff 1e-4) &&
	[ "$(count "$tmp/gf.onnx" com.microsoft:GroupQueryAttention)" = $L ] &&
	[ "$(count "$tmp/gf.onnx" SimplifiedLayerNormalization)" = $((4 * L + 1)) ] &&
	ok "Gemma, every fusion: $L GroupQueryAttention, $((4 * L + 1)) RMS norms (query and key heads too), $r" ||
	not_ok "Gemma fusion: $r $(count "$tmp/gf.onnx" SimplifiedLayerNormalization)"

# the shape analysis and the recipes stay linear: a 1,000-layer T5 through
# madlad-fp32.ini within the suite's patience (no timing is asserted: an
# exponential analysis would simply never end)
"$gen" t5 "$tmp/deep" tiny --layers 1000 || exit 1
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" -i "$tmp/deep" -o "$tmp/deep-out" &&
	ok "a 1,000-layer T5 through madlad-fp32.ini" || not_ok "1,000-layer T5"
rm -rf "$tmp/deep" "$tmp/deep-out"
# every step of the fp32 run is deterministic: twice the same bytes
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/madlad-fp32.ini" -i "$tmp/t5r" -o "$tmp/t5r-fp32b" &&
	diff -r "$tmp/t5r-fp32" "$tmp/t5r-fp32b" >/dev/null &&
	ok "the same run twice writes the same bytes" || not_ok "two runs differ"
# every model this test wrote (and read, but for the inputs stored out of
# order on purpose) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' ! -path "$tmp/t5r/*" ! -path "$tmp/llama-r/*" ! -path "$tmp/gemma-r/*" | sort)
finish
