#!/bin/sh
# SPDX-License-Identifier: MIT
# Fusion on the models the benchmark generates (no fixtures needed): a
# BERT-like encoder (decomposed LayerNorm, erf Gelu, 4-D heads, additive
# mask) and a Llama-like decoder with past (RMS norms, rotary embeddings,
# 4 query heads over 2 KV heads, causal and padding mask).  After clean +
# fusion the encoder has one MultiHeadAttention (its query, key and value
# biases as the bias input) and the decoder one
# GroupQueryAttention per layer and one RotaryEmbedding per query and key; ONNX Runtime's outputs stay within 1e-4 of
# the export's with padded masks, over one new token, a padded prompt and a
# greedy decode of 8 steps (which also checks the generated decoder itself:
# its with-past logits equal a run over the whole sequence).
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp genfusion)
trap 'rm -rf "$tmp"' EXIT
gen=$TOP_BUILDDIR/t/gen-model
ops() { "$ONNXPASS" info "$1" | sed -n "s/^    $2  *\([0-9]*\)$/\1/p"; }
plan 20
"$gen" bert "$tmp/bert.onnx" && "$gen" llama "$tmp/llama.onnx" || exit 1
for m in bert llama; do
	"$ONNXPASS" -q run clean -i "$tmp/$m.onnx" -o "$tmp/$m-c.onnx" &&
		"$ONNXPASS" -q run fusion -i "$tmp/$m-c.onnx" -o "$tmp/$m-f.onnx" || exit 1
done
got="$(ops "$tmp/bert-f.onnx" com.microsoft:MultiHeadAttention) $(ops "$tmp/bert-f.onnx" com.microsoft:SkipLayerNormalization) $(ops "$tmp/bert-f.onnx" Softmax)"
# (5 skip norms: the embeddings' LayerNorm reads the token + position sum)
[ "$got" = "2 5 " ] && ok "bert: 2 MultiHeadAttention, 5 SkipLayerNormalization, no Softmax" ||
	not_ok "bert: MultiHeadAttention, SkipLayerNormalization, Softmax: $got"
# the query, key and value projections' bias Adds folded into the bias input
[ "$("$ONNXPASS" info --nodes "$tmp/bert-f.onnx" | grep -c "MultiHeadAttention.*: [^ ]*MatMul[^ ]*, [^ ]*MatMul[^ ]*, [^ ]*MatMul[^ ]*, attention_qkv_bias")" = 2 ] &&
	ok "bert: q/k/v biases in MultiHeadAttention's bias" ||
	not_ok "bert: q/k/v biases: $("$ONNXPASS" info --nodes "$tmp/bert-f.onnx" | grep MultiHeadAttention)"
r=$(ort compare "$tmp/bert.onnx" "$tmp/bert-f.onnx" maxrel=1e-4 noopt padmask) && ok "bert: padded masks: $r" ||
	not_ok "bert: padded masks: $r"
got="$(ops "$tmp/llama-f.onnx" com.microsoft:GroupQueryAttention) $(ops "$tmp/llama-f.onnx" com.microsoft:RotaryEmbedding) $(ops "$tmp/llama-f.onnx" com.microsoft:SkipSimplifiedLayerNormalization) $(ops "$tmp/llama-f.onnx" Expand) $(ops "$tmp/llama-f.onnx" Softmax) $(ops "$tmp/llama-f.onnx" Neg)"
# (the KV repeats gone: one Expand left, the one that makes seqlens_k)
[ "$got" = "2 4 4 1  " ] && ok "llama: 2 GroupQueryAttention, 4 RotaryEmbedding, 4 SkipSimplifiedLayerNormalization, 1 Expand, no Softmax or Neg" ||
	not_ok "llama: GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization, Expand, Softmax, Neg: $got"
r=$(ort compare "$tmp/llama.onnx" "$tmp/llama-f.onnx" maxrel=1e-4 noopt padmask) &&
	ok "llama: one token after 3, padded masks: $r" || not_ok "llama: one token after 3, padded masks: $r"
r=$(ort compare "$tmp/llama.onnx" "$tmp/llama-f.onnx" maxrel=1e-4 noopt padmask dim=sequence_length:6 \
	dim=past_sequence_length:0 set=attention_mask:2x6) &&
	ok "llama: padded prompt of 6: $r" || not_ok "llama: padded prompt of 6: $r"
r=$(ort compare "$tmp/llama.onnx" "$tmp/llama-f.onnx" maxrel=1e-4 noopt dim=batch_size:1 dim=sequence_length:4 \
	set=attention_mask:1x7) &&
	ok "llama: 4 tokens after 3 at batch 1: $r" || not_ok "llama: 4 tokens after 3 at batch 1: $r"
r=$(causal "$tmp/llama.onnx" "$tmp/llama-f.onnx" --batch 2 --steps 8 --max-diff 1e-4 --check-export) && ok "llama: greedy decode: $r" || not_ok "llama: greedy decode: $r"
# without gqa: MultiHeadAttention over the repeated heads, same outputs
"$ONNXPASS" -q run fusion patterns='rmsnorm skip attention' -i "$tmp/llama-c.onnx" -o "$tmp/llama-m.onnx" || exit 1
[ "$(ops "$tmp/llama-m.onnx" com.microsoft:MultiHeadAttention)" = 2 ] && ok "llama, no gqa: 2 MultiHeadAttention" ||
	not_ok "llama, no gqa: $(ops "$tmp/llama-m.onnx" com.microsoft:MultiHeadAttention) MultiHeadAttention"
r=$(ort compare "$tmp/llama.onnx" "$tmp/llama-m.onnx" maxrel=1e-4 noopt padmask) &&
	ok "llama, no gqa: padded masks: $r" || not_ok "llama, no gqa: padded masks: $r"
# the same RMSNorm as exporters write it (Div(1, Sqrt), the dynamo
# exporter's Reciprocal(Sqrt) with Mul(x, x) and swapped operands,
# Pow(-0.5), x / Sqrt), 32 layers deep: hymt.ini fuses every norm (65: two
# per layer and the final one) and the outputs stay the export's
for form in div1 reciprocal pow div; do
	"$gen" llama "$tmp/nf-$form.onnx" tiny --layers 32 --norm-form "$form" &&
		"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$tmp/nf-$form.onnx" -o "$tmp/nf-$form" 2>"$tmp/err" &&
		"$ONNXPASS" -q run fusion -i "$tmp/nf-$form.onnx" -o "$tmp/nf-$form-f.onnx" 2>>"$tmp/err"
	r=; n=$(( $(ops "$tmp/nf-$form-f.onnx" SimplifiedLayerNormalization) + $(ops "$tmp/nf-$form-f.onnx" com.microsoft:SkipSimplifiedLayerNormalization) ))
	if [ "$n" -eq 65 ] && ls "$tmp/nf-$form"/*.onnx >/dev/null 2>&1 && r=$(ort compare "$tmp/nf-$form.onnx" "$tmp/nf-$form-f.onnx" maxrel=1e-4 noopt); then
		ok "RMSNorm written as $form: 65 norms fused, hymt.ini runs: $r"
	else
		not_ok "RMSNorm written as $form: $n norms fused; $(head -2 "$tmp/err") ${r:-}"
	fi
done
# BERT's LayerNorm in the same forms (torch.onnx's Div(x - mean, Sqrt);
# Mul(d, d), Add(eps, var), Reciprocal(Sqrt), swapped operands; Pow(-0.5);
# x - mean twice with Div(1, Sqrt)), 32 layers: every norm fused (65:
# two per layer and the embeddings'), bert-int8 runs
for form in div1 reciprocal pow div; do
	"$gen" bert "$tmp/ln-$form.onnx" tiny --layers 32 --norm-form "$form" &&
		"$ONNXPASS" -q run fusion -i "$tmp/ln-$form.onnx" -o "$tmp/ln-$form-f.onnx" 2>"$tmp/err" &&
		"$ONNXPASS" -q -r bert-int8 -i "$tmp/ln-$form.onnx" -o "$tmp/ln-$form-q.onnx" 2>>"$tmp/err"
	r=; n=$(( $(ops "$tmp/ln-$form-f.onnx" LayerNormalization) + $(ops "$tmp/ln-$form-f.onnx" com.microsoft:SkipLayerNormalization) ))
	if [ "$n" -eq 65 ] && [ -z "$(ops "$tmp/ln-$form-f.onnx" ReduceMean)" ] && [ -f "$tmp/ln-$form-q.onnx" ] &&
		r=$(ort compare "$tmp/ln-$form.onnx" "$tmp/ln-$form-f.onnx" maxrel=1e-4 noopt padmask); then
		ok "LayerNorm written as $form: 65 norms fused: $r"
	else
		not_ok "LayerNorm written as $form: $n norms fused; $(head -2 "$tmp/err") ${r:-}"
	fi
done
# ReduceMean's axes as an input (opset 18 and later)
"$ONNXPASS" -q convert --opset 18 -i "$tmp/ln-reciprocal.onnx" -o "$tmp/ln18.onnx" &&
	"$ONNXPASS" -q run fusion -i "$tmp/ln18.onnx" -o "$tmp/ln18-f.onnx" 2>"$tmp/err"
r=; if [ "$(ops "$tmp/ln18-f.onnx" com.microsoft:SkipLayerNormalization)" = 65 ] &&
	r=$(ort compare "$tmp/ln18.onnx" "$tmp/ln18-f.onnx" maxrel=1e-4 noopt padmask); then
	ok "LayerNorm at opset 18 (axes as an input): 65 fused: $r"
else
	not_ok "LayerNorm at opset 18: $(ops "$tmp/ln18-f.onnx" com.microsoft:SkipLayerNormalization) fused; $(cat "$tmp/err") ${r:-}"
fi
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
