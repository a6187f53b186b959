#!/bin/sh
# SPDX-License-Identifier: MIT
# recipes/marian.ini and recipes/whisper.ini on the tiny optimum Marian and
# Whisper exports (fixtures), checked by the reference seq2seq decoder in
# ONNX Runtime (Whisper's encoder on fixed audio features): the
# restructuring alone (the recipe without its int4 step) gives the
# export's logits within 1e-4 (measured: bitwise equal for both); int4 teacher-forced cosine
# >= 0.98 and top-1 >= 0.8 (measured Marian 0.9947 / 0.92, Whisper
# 0.9935 / 1.0; Marian at 8 bits measured 0.99996 / 1.0, a third more
# bytes on this tiny model).  The tied table's blocks and scales are
# stored once for the lookup and the lm_head; with d_model 32 in blocks of
# 32 (one block a row) MatMulNBits pads each row's zero points to a byte,
# so those (500 bytes) are written apart.  Whisper's encoder keeps its
# convolutions.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp s2s-recipes)
trap 'rm -rf "$tmp"' EXIT
plan 10
for spec in marian:model.shared.weight whisper:model.decoder.embed_tokens.weight; do
	f=${spec%%:*} table=${spec#*:}
	m=${FIXTURES:-}/optimum-tiny-$f
	if [ ! -d "$m" ]; then
		for i in 1 2 3 4 5; do skip "$f.ini" "fixtures not found at $m"; done
		continue
	fi
	sum=$(cat "$m"/*.onnx | cksum)
	recipe_fp32 "$TOP_SRCDIR/recipes/$f.ini" "$tmp/$f-fp32.ini"
	"$ONNXPASS" -q -r "$tmp/$f-fp32.ini" -i "$m" -o "$tmp/$f-fp32" &&
		r=$(s2s "$m" "$tmp/$f-fp32" --batch 2 --steps 12 --max-diff 1e-4) &&
		ok "$f.ini restructuring (cache initializer, one decoder, embed_and_lm_head): $r" ||
		not_ok "$f fp32: $r"
	"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/$f.ini" -i "$m" -o "$tmp/$f" &&
		r=$(s2s "$m" "$tmp/$f" --batch 2 --steps 12 --teacher-forced --min-cos 0.98 --min-top1 0.8) &&
		ok "$f.ini int4: $r" || not_ok "$f int4: $r"
	table_once "$f" "$tmp/$f/${f}_embed_and_lm_head_4bit.onnx" "$table"
	[ "$(cat "$m"/*.onnx | cksum)" = "$sum" ] && ok "$f: the export is unchanged" || not_ok "$f: the export changed"
	checked "$f: every model written" $(find "$tmp" -path "$tmp/$f*" -name '*.onnx' | sort)
done
finish
