#!/bin/sh
# SPDX-License-Identifier: MIT
# embedding-split with_lm_head: the tied lm_head moves beside the lookup
# into one model (ids -> embed_matrix, hidden_states -> logits, the table
# once, as RTranslator's embed_and_lm_head); the decoder outputs its
# hidden state.  Decoding through the three calls gives bitwise the
# export's logits; quantize then stores the table once for both paths.
# A decoder whose logits come from another weight is refused.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp lmsplit)
trap 'rm -rf "$tmp"' EXIT
gen=$TOP_BUILDDIR/t/gen-model
plan 9
split="run embedding-split with_lm_head=true as=embed_and_lm_head table=model.embed_tokens.weight"

# Gemma-like, 32 layers: lm_head = MatMul(x, Transpose(embedding))
mkdir "$tmp/gemma"
"$gen" gemma "$tmp/gemma/model.onnx" tiny --layers 32 || exit 1
sum=$(cksum <"$tmp/gemma/model.onnx")
params() { "$ONNXPASS" info "$1" | sed -n 's/^parameters: *\([0-9]*\) in.*/\1/p'; }
p0=$(params "$tmp/gemma/model.onnx")
# shellcheck disable=SC2086
"$ONNXPASS" -q $split -i "$tmp/gemma" -o "$tmp/g" --report "$tmp/g.json" || not_ok "split failed"
io=$("$ONNXPASS" info "$tmp/g/embed_and_lm_head.onnx")
dio=$("$ONNXPASS" info "$tmp/g/model.onnx")
[ "$(json_num lm_heads_moved "$tmp/g.json")" = 1 ] &&
	echo "$io" | grep -q '^    hidden_states  *FLOAT  *\[batch_size, sequence_length, 64\]$' &&
	echo "$io" | grep -q '^parameters:  32000 in 1 initializers$' &&
	echo "$dio" | grep -q '^    hidden_states  *FLOAT  *\[batch_size, sequence_length, 64\]$' &&
	! echo "$dio" | grep -q '^    logits ' && [ $((p0 - $(params "$tmp/g/model.onnx"))) = 32000 ] &&
	ok "Gemma, 32 layers: embed_and_lm_head holds the table once (ids -> embeddings, hidden states -> logits); the decoder outputs hidden_states" ||
	not_ok "split: $io $dio"
r=$(causal "$tmp/gemma/model.onnx" "$tmp/g/model.onnx" --split "$tmp/g/embed_and_lm_head.onnx" --batch 2 \
	--steps 8 --max-diff 0) && ok "decoding through embed_and_lm_head: bitwise the export's logits ($r)" ||
	not_ok "split decode: $r"
# quantized afterwards: the split model's two paths read one 4-bit table
"$ONNXPASS" -q run quantize bits=4 block_size=32 symmetric=false gather=block4 gather_block_size=32 \
	-i "$tmp/g" -o "$tmp/gq" --report "$tmp/gq.json" || not_ok "quantize failed"
r=$("$NODE" "$TOP_SRCDIR/t/shared-table.js" "$tmp/gq/embed_and_lm_head.onnx")
[ "$(json_num shared_tables "$tmp/gq.json")" = 1 ] && ! echo "$r" | grep -q '=-' &&
	ok "quantized: embed_and_lm_head's GatherBlockQuantized and MatMulNBits read one table" || not_ok "quantized: $r"
r=$(causal "$tmp/gemma/model.onnx" "$tmp/gq/model.onnx" --split "$tmp/gq/embed_and_lm_head.onnx" --batch 2 \
	--steps 12 --teacher-forced --min-cos 0.7) && ok "quantized split decode: $r" || not_ok "quantized split: $r"
[ "$(cksum <"$tmp/gemma/model.onnx")" = "$sum" ] && ok "the input is unchanged" || not_ok "the input changed"

# Llama with an untied lm_head: refused, saying what the logits come from
mkdir "$tmp/llama"
"$gen" llama "$tmp/llama/model.onnx" tiny --layers 32 || exit 1
# shellcheck disable=SC2086
"$ONNXPASS" -q $split -i "$tmp/llama" -o "$tmp/l" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && [ ! -e "$tmp/l" ] &&
	grep -q "with_lm_head: model: 'logits' comes from MatMul '.*' over 'lm_head.weight' \[64, 500\], not the embedding's transpose (dedup finds an exact transposed copy)$" "$tmp/err" &&
	ok "untied Llama: refused in one line, nothing written" || not_ok "untied: rc $rc, $(cat "$tmp/err")"
# the same with the lm_head stored as the embedding's transposed copy:
# dedup makes it a Transpose, then the split takes it
mkdir "$tmp/tied"
"$gen" llama "$tmp/tied/model.onnx" tiny --layers 32 --lm-head copy || exit 1
"$ONNXPASS" -q run dedup -i "$tmp/tied" -o "$tmp/td" &&
	# shellcheck disable=SC2086
	"$ONNXPASS" -q $split -i "$tmp/td" -o "$tmp/ts" || not_ok "tied: failed"
r=$(causal "$tmp/tied/model.onnx" "$tmp/ts/model.onnx" --split "$tmp/ts/embed_and_lm_head.onnx" --batch 2 \
	--steps 8 --max-diff 0) && ok "Llama, lm_head stored transposed: dedup + split decode bitwise ($r)" ||
	not_ok "tied Llama split: $r"
# a bundle where one decoder reads the table transposed and the other its
# own stored copy: refused, naming the one that does not
mkdir "$tmp/mixed"
cp "$tmp/td/model.onnx" "$tmp/mixed/a.onnx"
cp "$tmp/tied/model.onnx" "$tmp/mixed/b.onnx"
# shellcheck disable=SC2086
"$ONNXPASS" -q $split -i "$tmp/mixed" -o "$tmp/m" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ ! -e "$tmp/m" ] &&
	grep -q "with_lm_head: b: 'logits' comes from MatMul '.*' over 'lm_head.weight' \[64, 500\]" "$tmp/err" &&
	ok "a bundle with one untied decoder: refused, naming it" || not_ok "mixed: rc $rc, $(cat "$tmp/err")"
checked "every model written" $(find "$tmp" -name '*.onnx' | sort)
finish
