#!/bin/sh
# SPDX-License-Identifier: MIT
# fusion on real exports: one LayerNormalization per norm, one Gelu
# (erf) or FastGelu (tanh) per feed-forward, its bias Add folded in (BiasGelu,
# FastGelu's bias), in BERT-family and GPT-2 models; one
# SimplifiedLayerNormalization per RMSNorm in T5, Llama and Mistral; one
# Skip(Simplified)LayerNormalization per residual Add feeding a norm.  ONNX
# Runtime outputs within 1e-4 (relative to the peak) of the unfused model
# run without ORT's own fusions.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp fusion)
field() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2"; }
trap 'rm -rf "$tmp"' EXIT
plan 16
# name: LayerNormalization Gelu FastGelu bias-folded SkipLayerNormalization
for fc in "bert:5 2 0 2 5" "distilbert:5 2 0 2 5" "albert:10 0 5 5 9" "gpt2:5 0 2 0 5"; do
	f=${fc%%:*} want=${fc#*:}
	m=$FIXTURES/optimum-tiny-$f/model.onnx
	"$ONNXPASS" -q run fusion -i "$m" -o "$tmp/$f.onnx" --report "$tmp/$f.json"
	got="$(field layernorm "$tmp/$f.json") $(field gelu "$tmp/$f.json") $(field fastgelu "$tmp/$f.json")"
	got="$got $(field bias "$tmp/$f.json") $(field skip "$tmp/$f.json")"
	[ "$got" = "$want" ] && ok "$f: LayerNormalization, Gelu, FastGelu, bias, SkipLayerNormalization: $got" ||
		not_ok "$f: $got (want $want)"
	if r=$(ort compare "$m" "$tmp/$f.onnx" maxrel=1e-4 noopt); then
		ok "$f: $r"
	else
		not_ok "$f: $r"
	fi
done
# RMSNorm: T5 (a Div(1, .) form) and Llama/Mistral (with a float Cast)
for fc in t5/decoder_with_past_model:7:6 llama/model:5:4 mistral/model:5:4; do
	f=${fc%%:*} rest=${fc#*:} want=${rest%%:*} wsk=${rest#*:}
	m=$FIXTURES/optimum-tiny-$f.onnx
	out=$tmp/$(echo "$f" | tr / _).onnx
	"$ONNXPASS" -q run fusion -i "$m" -o "$out" --report "$tmp/r.json"
	got="$(field rmsnorm "$tmp/r.json") $(field skip "$tmp/r.json")"
	[ "$got" = "$want $wsk" ] && ok "$f: SimplifiedLayerNormalization, SkipSimplifiedLayerNormalization: $got" ||
		not_ok "$f: $got (want $want $wsk: every norm but the first reads a residual sum)"
	if r=$(ort compare "$m" "$out" maxrel=1e-4 noopt); then
		ok "$f: $r"
	else
		not_ok "$f: $r"
	fi
done
"$ONNXPASS" -q run fusion patterns=gelu -i "$FIXTURES/optimum-tiny-bert/model.onnx" -o "$tmp/g.onnx" --report "$tmp/g.json"
[ "$(field layernorm "$tmp/g.json") $(field gelu "$tmp/g.json")" = "0 2" ] && ok "patterns= picks the fusions" || not_ok "patterns=gelu: $(cat "$tmp/g.json")"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
