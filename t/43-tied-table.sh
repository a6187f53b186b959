#!/bin/sh
# SPDX-License-Identifier: MIT
# A tied embedding quantized once: the embedding's GatherBlockQuantized and
# the lm_head's MatMulNBits (reading the table through a Transpose) are
# given the same 4-bit blocks, and the written bundle stores them once, at
# one offset of the shared data file both nodes' initializers reference.
# On 32-layer Gemma-like (lm_head = Transpose(embedding)) and Llama-like
# (lm_head stored as its own transposed copy, merged by dedup) decoders.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp tied)
trap 'rm -rf "$tmp"' EXIT
gen=$TOP_BUILDDIR/t/gen-model
plan 12

size_of() { du -cb "$@" | tail -1 | cut -f1; }
places() { "$NODE" "$TOP_SRCDIR/t/shared-table.js" "$1"; }
q4="bits=4 block_size=32 symmetric=false accuracy_level=4 gather=block4 gather_block_size=32"

mkdir "$tmp/gemma"
"$gen" gemma "$tmp/gemma/model.onnx" tiny --layers 32 || exit 1
sum=$(cksum <"$tmp/gemma/model.onnx")
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/translategemma.ini" -i "$tmp/gemma" -o "$tmp/tg" --report "$tmp/tg.json" ||
	not_ok "translategemma.ini failed"
r=$(places "$tmp/tg/translate_gemma_decoder_4bit.onnx")
[ "$(json_num shared_tables "$tmp/tg.json")" = 1 ] && ! echo "$r" | grep -q '=-' &&
	echo "$r" | grep -q '^GatherBlockQuantized .*: data=model.embed_tokens.weight_Q4 scales=' &&
	ok "Gemma, 32 layers, translategemma.ini: the embedding's data, scales and zero points are the lm_head's bytes" ||
	not_ok "translategemma.ini: $r"
r=$(causal "$tmp/gemma/model.onnx" "$tmp/tg/translate_gemma_decoder_4bit.onnx" --batch 2 --steps 12 \
	--teacher-forced --min-cos 0.7) && ok "Gemma, shared table: $r" || not_ok "Gemma shared table: $r"

# the same quantization stored apart: ORT gives the same outputs, the
# files hold the table twice
# shellcheck disable=SC2086
"$ONNXPASS" -q run quantize $q4 -i "$tmp/gemma/model.onnx" -o "$tmp/one" &&
	"$ONNXPASS" -q run quantize $q4 share_tables=false -i "$tmp/gemma/model.onnx" -o "$tmp/two" ||
	not_ok "run quantize failed"
r=$(ort compare "$tmp/two/model.onnx" "$tmp/one/model.onnx" exact) &&
	ok "stored once or twice, ORT's outputs are bitwise the same ($r)" || not_ok "once vs twice: $r"
one=$(size_of "$tmp"/one/*) two=$(size_of "$tmp"/two/*)
# 500 x 64 at 4 bits + 500 x 2 float scales + 500 bytes of zero points,
# less the shared data file's alignment padding
[ $((two - one)) -ge $((20500 - 4096)) ] && ok "the table is written once: $two -> $one bytes" ||
	not_ok "once $one bytes, twice $two bytes (want >= 16404 fewer)"
[ "$(places "$tmp/two/model.onnx" | sed 's/.*: //')" = "data=- scales=- zero_points=-" ] &&
	ok "share_tables=false stores them apart" || not_ok "share_tables=false: $(places "$tmp/two/model.onnx")"

# blocks that cannot coincide: quantized twice, and said
# shellcheck disable=SC2086
"$ONNXPASS" -v run quantize bits=8 block_size=32 symmetric=false gather=block4 gather_block_size=32 \
	-i "$tmp/gemma/model.onnx" -o "$tmp/b8" 2>"$tmp/b8.log"
grep -q "^onnxpass: quantize: 'model.embed_tokens.weight': the tied lm_head ('.*', 8-bit blocks of 32) and the embedding (4-bit asymmetric blocks of 32) cannot share one table: quantized twice$" "$tmp/b8.log" &&
	[ "$(places "$tmp/b8/model.onnx" | sed 's/.*: //')" = "data=- scales=- zero_points=-" ] &&
	ok "8-bit lm_head blocks: quantized twice, with one line saying why" || not_ok "bits=8: $(grep share "$tmp/b8.log")"
"$ONNXPASS" -v run quantize bits=4 block_size=32 symmetric=true gather=block4 gather_block_size=32 \
	-i "$tmp/gemma/model.onnx" -o "$tmp/sym" 2>"$tmp/sym.log"
grep -q "4-bit symmetric blocks of 32) and the embedding (4-bit asymmetric blocks of 32) cannot share one table: quantized twice$" "$tmp/sym.log" &&
	ok "symmetric lm_head blocks: quantized twice, said" || not_ok "symmetric: $(grep share "$tmp/sym.log")"
"$ONNXPASS" -v run quantize bits=4 block_size=32 gather=uint8 -i "$tmp/gemma/model.onnx" -o "$tmp/u8" 2>"$tmp/u8.log"
grep -q "^onnxpass: quantize: 'model.embed_tokens.weight': the tied lm_head's MatMulNBits blocks and a uint8 per-tensor embedding cannot share one table: quantized twice (gather = block4 stores it once)$" "$tmp/u8.log" &&
	ok "uint8 embedding: quantized twice, said" || not_ok "uint8: $(grep share "$tmp/u8.log")"

# Llama whose tied lm_head is stored as its own transposed copy: dedup
# reads it through a Transpose, then quantize stores the table once
mkdir "$tmp/llama"
"$gen" llama "$tmp/llama/model.onnx" tiny --layers 32 --lm-head copy || exit 1
"$ONNXPASS" -q run dedup -i "$tmp/llama/model.onnx" -o "$tmp/ld.onnx" &&
	"$ONNXPASS" -q run quantize $q4 -i "$tmp/ld.onnx" -o "$tmp/lq" --report "$tmp/lq.json" || not_ok "llama failed"
r=$(places "$tmp/lq/ld.onnx")
[ "$(json_num shared_tables "$tmp/lq.json")" = 1 ] && ! echo "$r" | grep -q '=-' &&
	ok "Llama, 32 layers, lm_head copy: dedup then quantize store the table once" || not_ok "llama: $r"
r=$(causal "$tmp/llama/model.onnx" "$tmp/lq/ld.onnx" --batch 2 --steps 12 --teacher-forced --min-cos 0.9) &&
	ok "Llama, shared table: $r" || not_ok "Llama shared table: $r"
[ "$(cksum <"$tmp/gemma/model.onnx")" = "$sum" ] && ok "the input is unchanged" || not_ok "the input changed"
checked "every model written" $(find "$tmp" -name '*.onnx' | sort)
finish
