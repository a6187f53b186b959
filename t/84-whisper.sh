#!/bin/sh
# SPDX-License-Identifier: MIT
# recipes/whisper.ini on the tiny optimum Whisper export (fixture), checked
# by the reference seq2seq decoder in ONNX Runtime on fixed audio features:
# the restructuring alone (the recipe without its int4 step) gives the
# export's logits (measured bitwise); int4 teacher-forced cosine >= 0.98
# and top-1 >= 0.8 (measured 0.9935 / 1.0).  The encoder keeps its
# convolutions; the tied token table's blocks and scales are stored once.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
m=${FIXTURES:-}/optimum-tiny-whisper
[ -d "$m" ] || skip_all "fixtures not found at $m"
tmp=$(mktmp whisper)
trap 'rm -rf "$tmp"' EXIT
plan 5
sum=$(cat "$m"/*.onnx | cksum)
sed '/^\[step int4\]/,$d' "$TOP_SRCDIR/recipes/whisper.ini" >"$tmp/fp32.ini"
"$ONNXPASS" -q -r "$tmp/fp32.ini" -i "$m" -o "$tmp/fp32" &&
	r=$(s2s "$m" "$tmp/fp32" --batch 2 --steps 12 --max-diff 1e-4) &&
	ok "whisper.ini restructuring (cache initializer, one decoder, embed_and_lm_head): $r" ||
	not_ok "whisper fp32: $r"
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/whisper.ini" -i "$m" -o "$tmp/q" --report "$tmp/q.json" &&
	r=$(s2s "$m" "$tmp/q" --batch 2 --steps 12 --teacher-forced --min-cos 0.98 --min-top1 0.8) &&
	ok "whisper.ini int4: $r" || not_ok "whisper int4: $r"
r=$("$NODE" "$TOP_SRCDIR/t/shared-table.js" "$tmp/q/whisper_embed_and_lm_head_4bit.onnx")
# d_model 32 in blocks of 32 is one block a row: MatMulNBits pads each
# row's zero points to a byte, so those (500 bytes) are written apart
echo "$r" | grep -q '^GatherBlockQuantized .*: data=model.decoder.embed_tokens.weight_Q4 scales=model.decoder.embed_tokens.weight_scales zero_points=-$' &&
	ok "the tied table's blocks and scales are stored once for the lookup and the lm_head" || not_ok "table: $r"
[ "$(cat "$m"/*.onnx | cksum)" = "$sum" ] && ok "the export is unchanged" || not_ok "the export changed"
checked "every model written" $(find "$tmp" -name '*.onnx' | sort)
finish
