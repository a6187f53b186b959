#!/bin/sh
# SPDX-License-Identifier: MIT
# Decoder-only recipes (hymt.ini, translategemma.ini) on the tiny Llama and
# Mistral exports (grouped KV: 4 query heads, 2 KV heads), checked by the
# reference greedy decoder with past_key_values (t/causal-decode.js):
#  - clean + fusion alone (norms fused, attention to GroupQueryAttention, rotary to RotaryEmbedding): the same tokens, logits within 1e-4, and the
#    export's with-past logits equal a full-sequence run (harness check);
#  - hymt (8-bit blocks of 128): teacher forced, cosine >= 0.99 and top-1
#    >= 0.9 (measured 0.9998 and 1.0);
#  - translategemma (4-bit blocks of 32): cosine >= 0.95 and top-1 >= 0.5
#    (measured 0.988 / 0.69 and 0.992 / 1.0).  These exports have random
#    weights and d_model 32, so their logits are nearly flat and near-ties
#    flip under any quantization; a wrong layout gives cosine near 0.
# Structure: one SimplifiedLayerNormalization per RMSNorm (the final one)
# and one SkipSimplifiedLayerNormalization per residual; every MatMul with
# a constant weight quantized (the 4 attention MatMuls stay), the embedding
# as uint8 + DequantizeLinear or GatherBlockQuantized.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
F=${FIXTURES:-}
[ -d "$F/optimum-tiny-llama" ] || skip_all "fixtures not found"
tmp=$(mktmp decoder)
trap 'rm -rf "$tmp"' EXIT
plan 15
decode() { causal "$@" --batch 2 --steps 12; }
count() { "$ONNXPASS" info "$1" | sed -n "s/^ *$2  *\([0-9]*\)$/\1/p"; }

for m in llama mistral; do
	src=$F/optimum-tiny-$m/model.onnx
	mm=$(count "$src" MatMul)
	"$ONNXPASS" -q run clean -i "$src" -o "$tmp/c.onnx" --force &&
		"$ONNXPASS" -q run fusion -i "$tmp/c.onnx" -o "$tmp/f.onnx" --force &&
		r=$(decode "$src" "$tmp/f.onnx" --max-diff 1e-4 --check-export) &&
		[ "$(count "$tmp/f.onnx" SimplifiedLayerNormalization)" = 1 ] &&
		[ "$(count "$tmp/f.onnx" com.microsoft:SkipSimplifiedLayerNormalization)" = 4 ] &&
		[ "$(count "$tmp/f.onnx" com.microsoft:GroupQueryAttention)" = 2 ] &&
		[ "$(count "$tmp/f.onnx" com.microsoft:RotaryEmbedding)" = 4 ] &&
		ok "$m clean+fusion: 1 + 4 fused norms, 2 GroupQueryAttention, 4 RotaryEmbedding, $r" || not_ok "$m clean+fusion: $r"

	rm -rf "$tmp/h"
	"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$F/optimum-tiny-$m" -o "$tmp/h" &&
		r=$(decode "$src" "$tmp/h/model_int8_final.onnx" --teacher-forced --min-cos 0.99 --min-top1 0.9) &&
		ok "$m hymt.ini: $r" || not_ok "$m hymt.ini: $r"
	q=$(count "$tmp/h/model_int8_final.onnx" com.microsoft:MatMulNBits)
	[ "$q" -ge 1 ] && [ $((q + 4)) = "$mm" ] && [ "$(count "$tmp/h/model_int8_final.onnx" DequantizeLinear)" = 1 ] &&
		"$ONNXPASS" info --nodes "$tmp/h/model_int8_final.onnx" >/dev/null &&
		ok "$m hymt.ini: $q of $mm MatMuls quantized, uint8 embedding" || not_ok "$m hymt.ini: MatMulNBits $q of $mm"
	n8=$("$ONNXPASS" info --nodes "$tmp/h/model_int8_final.onnx" | grep -c "MatMulNBits '.*_Q8'")
	[ "$n8" = "$q" ] && ok "$m hymt.ini: all $q are 8-bit (_Q8, as ORT's quantizer names them)" ||
		not_ok "$m hymt.ini: $n8 of $q named _Q8"

	rm -rf "$tmp/g"
	"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/translategemma.ini" -i "$F/optimum-tiny-$m" -o "$tmp/g" &&
		r=$(decode "$src" "$tmp/g/translate_gemma_decoder_4bit.onnx" --teacher-forced --min-cos 0.95 --min-top1 0.5) &&
		[ "$(count "$tmp/g/translate_gemma_decoder_4bit.onnx" com.microsoft:GatherBlockQuantized)" = 1 ] &&
		ok "$m translategemma.ini: GatherBlockQuantized embedding, $r" || not_ok "$m translategemma.ini: $r"
	n4=$("$ONNXPASS" info --nodes "$tmp/g/translate_gemma_decoder_4bit.onnx" | grep -c "MatMulNBits '.*_Q4'")
	[ "$n4" = "$q" ] && ok "$m translategemma.ini: $q 4-bit MatMulNBits" || not_ok "$m translategemma.ini: $n4 of $q _Q4"
done
# what the recipes promise in size: the fixtures are 32 wide, below the
# 128-weight blocks (padded: no smaller), so a generated Llama and Gemma
# 256 wide: hymt (8-bit) under 0.4x, translategemma (4-bit) under 0.32x,
# decoding as above
for fam in llama:hymt:model_int8_final:0.4:0.99:0.9 gemma:translategemma:translate_gemma_decoder_4bit:0.32:0.95:0.5; do
	IFS=: read -r g rec out bound cos top <<EOF
$fam
EOF
	mkdir -p "$tmp/s-$g" && "$TOP_BUILDDIR/t/gen-model" "$g" "$tmp/s-$g/model.onnx" small >/dev/null &&
		"$ONNXPASS" -q -r "$rec" -i "$tmp/s-$g" -o "$tmp/s-$g-out" 2>"$tmp/err"
	before=$(wc -c <"$tmp/s-$g/model.onnx") after=$(wc -c <"$tmp/s-$g-out/$out.onnx" 2>/dev/null || echo 0)
	if [ "$after" -gt 0 ] && [ "$(echo "$after < $before * $bound" | bc)" = 1 ] &&
		r=$(decode "$tmp/s-$g/model.onnx" "$tmp/s-$g-out/$out.onnx" --teacher-forced --min-cos "$cos" --min-top1 "$top"); then
		ok "$rec on a 256-wide $g: $before -> $after bytes (< ${bound}x), $r"
	else
		not_ok "$rec on a 256-wide $g: $before -> $after bytes, $(head -1 "$tmp/err") ${r:-}"
	fi
done
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
