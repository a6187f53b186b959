#!/bin/sh
# SPDX-License-Identifier: MIT
# recipes/bert-int8.ini on BERT, ALBERT and DistilBERT exports and
# recipes/seq2seq-int8.ini on T5, BART and Marian exports: ORT runs every
# output file within 5% of the fp32 output's peak (dynamic int8; see
# t/41-dynamic-int8.sh), the bundles get smaller, and no MatMul with a
# constant weight is left (ALBERT's are read through Identity).
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp int8rec)
trap 'rm -rf "$tmp"' EXIT
plan 17
# weight_matmuls FILE: MatMuls of FILE that read an initializer
weight_matmuls() {
	/usr/bin/python3 -c 'import onnx, sys
g = onnx.load(sys.argv[1], load_external_data=False).graph
inits = {i.name for i in g.initializer}
print(sum(1 for n in g.node if n.op_type == "MatMul" and any(x in inits for x in n.input)))' "$1"
}
for f in bert albert distilbert; do
	m=$FIXTURES/optimum-tiny-$f/model.onnx
	if "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/bert-int8.ini" -i "$m" -o "$tmp/$f.onnx" &&
		r=$(ort compare "$m" "$tmp/$f.onnx" maxrel=0.05); then
		ok "bert-int8 on $f: $r"
	else
		not_ok "bert-int8 on $f: $r"
	fi
	before=$(wc -c <"$m") after=$(wc -c <"$tmp/$f.onnx" 2>/dev/null || echo 0)
	left=$(weight_matmuls "$tmp/$f.onnx" 2>/dev/null || echo "?")
	[ "$after" -gt 0 ] && [ "$after" -lt "$before" ] && [ "$left" = 0 ] &&
		ok "bert-int8 on $f: $before -> $after bytes, no MatMul on a float weight left" ||
		not_ok "bert-int8 on $f: $before -> $after bytes, $left MatMuls on float weights left"
done
for f in t5 bart marian mt5 whisper; do
	x=$FIXTURES/optimum-tiny-$f
	# Whisper's conv front end and position tables stay float (dynamic int8
	# quantizes MatMuls): at most 0.75x there, 0.6x elsewhere
	dims= bound=6; [ $f = whisper ] && dims="dim=feature_size:80 dim=encoder_sequence_length:3000" bound=7.5
	if ! "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/seq2seq-int8.ini" -i "$x" -o "$tmp/$f"; then
		not_ok "seq2seq-int8 on $f failed"; not_ok "$f: no output"
		continue
	fi
	before=$(du -cb "$x/encoder_model.onnx" "$x/decoder_model.onnx" "$x/decoder_with_past_model.onnx" | tail -1 | cut -f1)
	after=$(du -cb "$tmp/$f"/* | tail -1 | cut -f1)
	[ "$(echo "$after < $before * $bound / 10" | bc)" = 1 ] && ok "seq2seq-int8 on $f: $before -> $after bytes" ||
		not_ok "seq2seq-int8 on $f: $before -> $after bytes"
	# shellcheck disable=SC2086
	if r=$(ort compare-dir "$x" "$tmp/$f" maxrel=0.05 $dims); then
		ok "seq2seq-int8 on $f: $(echo $r | tr '\n' ' ')"
	else
		not_ok "seq2seq-int8 on $f: $r"
	fi
done
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
