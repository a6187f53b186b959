#!/bin/sh
# SPDX-License-Identifier: MIT
# recipes/marian.ini on the tiny optimum Marian export (fixture), checked
# by the reference seq2seq decoder in ONNX Runtime: the restructuring
# alone (the recipe without its int4 step) gives the export's logits
# (measured bitwise); int4 teacher-forced cosine >= 0.98 and top-1 >= 0.8
# (measured 0.9947 / 0.92; the same recipe at 8 bits measured 0.99996 /
# 1.0, at 33% more bytes on this tiny model).  The tied table is stored
# once: embed_and_lm_head's GatherBlockQuantized reads the lm_head's bytes
# (its zero points apart: one block a row).
. "$TOP_SRCDIR/t/lib.sh"
need_ort
m=${FIXTURES:-}/optimum-tiny-marian
[ -d "$m" ] || skip_all "fixtures not found at $m"
tmp=$(mktmp marian)
trap 'rm -rf "$tmp"' EXIT
plan 5
sum=$(cat "$m"/*.onnx | cksum)
sed '/^\[step int4\]/,$d' "$TOP_SRCDIR/recipes/marian.ini" >"$tmp/fp32.ini"
"$ONNXPASS" -q -r "$tmp/fp32.ini" -i "$m" -o "$tmp/fp32" &&
	r=$(s2s "$m" "$tmp/fp32" --batch 2 --steps 12 --max-diff 1e-4) &&
	ok "marian.ini restructuring (embed_and_lm_head, cache initializer, one decoder): $r" ||
	not_ok "marian fp32: $r"
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/marian.ini" -i "$m" -o "$tmp/q" --report "$tmp/q.json" &&
	r=$(s2s "$m" "$tmp/q" --batch 2 --steps 12 --teacher-forced --min-cos 0.98 --min-top1 0.8) &&
	ok "marian.ini int4: $r" || not_ok "marian int4: $r"
r=$("$NODE" "$TOP_SRCDIR/t/shared-table.js" "$tmp/q/marian_embed_and_lm_head_4bit.onnx")
# d_model 32 in blocks of 32 is one block a row: MatMulNBits pads each
# row's zero points to a byte, so those (500 bytes) are written apart
echo "$r" | grep -q '^GatherBlockQuantized .*: data=model.shared.weight_Q4 scales=model.shared.weight_scales zero_points=-$' &&
	ok "the tied table's blocks and scales are stored once for the lookup and the lm_head" || not_ok "table: $r"
[ "$(cat "$m"/*.onnx | cksum)" = "$sum" ] && ok "the export is unchanged" || not_ok "the export changed"
checked "every model written" $(find "$tmp" -name '*.onnx' | sort)
finish
