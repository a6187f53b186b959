#!/bin/sh
# SPDX-License-Identifier: MIT
# embedding-split on real seq2seq exports: the lookup moves into embed.onnx,
# the table exists once, and each rewired model fed with embed's output
# gives bitwise the outputs of the original.  T5's relative-attention-bias
# Gathers are not taken for embeddings; a model without one is refused.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp esplit)
trap 'rm -rf "$tmp"' EXIT
plan 18
for f in madlad-like t5 mt5 bart marian; do
	d=$FIXTURES/optimum-tiny-$f
	mkdir -p "$tmp/$f"
	cp "$d/encoder_model.onnx" "$d/decoder_with_past_model.onnx" "$tmp/$f/"
	if "$ONNXPASS" -q run embedding-split -i "$tmp/$f" -o "$tmp/$f-out" --report "$tmp/$f.json"; then
		ok "$f: split"
	else
		not_ok "$f: split failed"
		continue
	fi
	tables=$(for m in "$tmp/$f-out"/*.onnx; do "$ONNXPASS" info --json "$m"; done | grep -c '"inputs": \[{"name": "embed_matrix"' || true)
	[ "$tables" = 2 ] && ok "$f: both models take embed_matrix as their first input" || not_ok "$f: $tables models rewired"
	if r=$(ort split-check "$tmp/$f" "$tmp/$f-out" embed.onnx encoder_model.onnx decoder_with_past_model.onnx); then
		ok "$f: outputs bitwise equal ($(echo $r | tr '\n' ' '))"
	else
		not_ok "$f: $r"
	fi
done
# the table is stored once: the rewired models lost it
sz() { du -cb "$@" | tail -1 | cut -f1; }
before=$(sz "$tmp"/madlad-like/*.onnx)
after=$(sz "$tmp"/madlad-like-out/*.onnx)
table=$(sed -n 's/.*"table_bytes": \([0-9]*\).*/\1/p' "$tmp/madlad-like.json")
[ $((before - after)) -ge $((table - 8192)) ] && ok "madlad-like: bundle shrinks by one table copy ($before -> $after, table $table)" ||
	not_ok "madlad-like: $before -> $after bytes, table $table"
mkdir -p "$tmp/w" && cp "$FIXTURES/optimum-tiny-whisper/encoder_model.onnx" "$tmp/w/"
"$ONNXPASS" run embedding-split -i "$tmp/w" -o "$tmp/w-out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "encoder_model: no embedding lookup found" "$tmp/err" && [ ! -e "$tmp/w-out" ] &&
	ok "whisper encoder (audio input): refused, nothing written" || not_ok "whisper: $(cat "$tmp/err")"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
