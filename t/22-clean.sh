#!/bin/sh
# SPDX-License-Identifier: MIT
# clean on real exports (encoders, decoders with and without past,
# decoder-only LLMs with past, and silero-vad's nested If subgraphs): fewer
# nodes, and ONNX Runtime gives bitwise the original outputs.  Cleaning the
# result again changes nothing.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp clean)
trap 'rm -rf "$tmp"' EXIT
F=$FIXTURES
set -- bert/model.onnx distilbert/model.onnx albert/model.onnx gpt2/model.onnx llama/model.onnx \
	mistral/model.onnx t5/encoder_model.onnx t5/decoder_model.onnx t5/decoder_with_past_model.onnx \
	bart/decoder_model.onnx marian/decoder_with_past_model.onnx whisper/decoder_model.onnx
plan $(( $# + 3 ))
nodes() { "$ONNXPASS" info "$1" | sed -n 's/^nodes: *\([0-9]*\).*/\1/p'; }
for m in "$@"; do
	src=$F/optimum-tiny-$m
	out=$tmp/$(echo "$m" | tr / _)
	if "$ONNXPASS" -q run clean -i "$src" -o "$out" && r=$(ort compare "$src" "$out" exact); then
		ok "$m: $(nodes "$src") -> $(nodes "$out") nodes, $r"
	else
		not_ok "$m: $r"
	fi
done
for v in legacy:"set=input:2x512 set=h:2x2x64 set=c:2x2x64" v5:"set=input:1x512 set=state:2x1x128"; do
	name=${v%%:*} shapes=${v#*:}
	src=$F/silero-vad/silero_vad_$name.onnx
	# shellcheck disable=SC2086
	if "$ONNXPASS" -q run clean -i "$src" -o "$tmp/s-$name.onnx" && r=$(ort compare "$src" "$tmp/s-$name.onnx" exact $shapes); then
		ok "silero-vad $name (If subgraphs): $(nodes "$src") -> $(nodes "$tmp/s-$name.onnx") nodes, $r"
	else
		not_ok "silero-vad $name: $r"
	fi
done
"$ONNXPASS" -q run clean -i "$tmp/bert_model.onnx" -o "$tmp/again.onnx"
cmp -s "$tmp/bert_model.onnx" "$tmp/again.onnx" && ok "cleaning twice changes no byte" || not_ok "second clean changed the model"
finish
