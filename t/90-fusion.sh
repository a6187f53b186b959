#!/bin/sh
# SPDX-License-Identifier: MIT
# fusion on real exports: one LayerNormalization per norm and one Gelu per
# feed-forward in BERT-family models, one SimplifiedLayerNormalization per
# RMSNorm in T5, Llama and Mistral; ONNX Runtime outputs within 1e-4
# (relative to the peak) of the unfused model run without ORT's own
# fusions.  ALBERT's tanh-form gelu is not an erf Gelu and stays.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp fusion)
field() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2"; }
trap 'rm -rf "$tmp"' EXIT
plan 13
for fc in bert:5:2 distilbert:5:2 albert:10:0; do
	f=${fc%%:*} rest=${fc#*:} ln=${rest%%:*} ge=${rest#*:}
	m=$FIXTURES/optimum-tiny-$f/model.onnx
	"$ONNXPASS" -q run fusion -i "$m" -o "$tmp/$f.onnx" --report "$tmp/$f.json"
	got="$(field layernorm "$tmp/$f.json") $(field gelu "$tmp/$f.json")"
	[ "$got" = "$ln $ge" ] && ok "$f: LayerNormalization and Gelu: $got" || not_ok "$f: $got (want $ln $ge)"
	if r=$(ort compare "$m" "$tmp/$f.onnx" maxrel=1e-4 noopt); then
		ok "$f: $r"
	else
		not_ok "$f: $r"
	fi
done
# RMSNorm: T5 (a Div(1, .) form) and Llama/Mistral (with a float Cast)
for fc in t5/decoder_with_past_model:7 llama/model:5 mistral/model:5; do
	f=${fc%%:*} want=${fc#*:}
	m=$FIXTURES/optimum-tiny-$f.onnx
	out=$tmp/$(echo "$f" | tr / _).onnx
	"$ONNXPASS" -q run fusion -i "$m" -o "$out" --report "$tmp/r.json"
	got=$(sed -n 's/.*"rmsnorm": \([0-9]*\).*/\1/p' "$tmp/r.json")
	[ "$got" = "$want" ] && ok "$f: $got SimplifiedLayerNormalization" || not_ok "$f: $got RMSNorms fused, want $want"
	if r=$(ort compare "$m" "$out" maxrel=1e-4 noopt); then
		ok "$f: $r"
	else
		not_ok "$f: $r"
	fi
done
"$ONNXPASS" -q run fusion patterns=gelu -i "$FIXTURES/optimum-tiny-bert/model.onnx" -o "$tmp/g.onnx" --report "$tmp/g.json"
[ "$(field layernorm "$tmp/g.json") $(field gelu "$tmp/g.json")" = "0 2" ] && ok "patterns= picks the fusions" || not_ok "patterns=gelu: $(cat "$tmp/g.json")"
finish
