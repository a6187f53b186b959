#!/bin/sh
# SPDX-License-Identifier: MIT
# quantize mode=dynamic-int8 (DynamicQuantizeLinear + MatMulInteger, as
# ORT's quantize_dynamic writes it) on the tiny BERT export, in every
# weight configuration.  ORT runs each; outputs stay within 5% of the fp32
# output's peak (8-bit weights and per-tensor 8-bit activations give about
# 1%; reduce_range halves the weight resolution).  One DynamicQuantizeLinear
# serves all MatMuls reading the same activation (q, k and v).
. "$TOP_SRCDIR/t/lib.sh"
need_ort
m=${FIXTURES:-}/optimum-tiny-bert/model.onnx
[ -f "$m" ] || skip_all "fixtures not found"
tmp=$(mktmp dynint8)
trap 'rm -rf "$tmp"' EXIT
plan 11
for wt in qint8 quint8; do
	for pc in false true; do
		for rr in false true; do
			what="weight_type=$wt per_channel=$pc reduce_range=$rr"
			if "$ONNXPASS" -q run quantize mode=dynamic-int8 weight_type=$wt per_channel=$pc reduce_range=$rr \
				-i "$m" -o "$tmp/q.onnx" --force && r=$(ort compare "$m" "$tmp/q.onnx" maxrel=0.05); then
				ok "$what: $r"
			else
				not_ok "$what: $r"
			fi
		done
	done
done
"$ONNXPASS" -q run quantize mode=dynamic-int8 -i "$m" -o "$tmp/c.onnx" --force
info=$("$ONNXPASS" info "$tmp/c.onnx")
mmi=$(echo "$info" | sed -n 's/^ *MatMulInteger *\([0-9]*\)/\1/p')
dql=$(echo "$info" | sed -n 's/^ *DynamicQuantizeLinear *\([0-9]*\)/\1/p')
[ "$mmi" = 12 ] && [ "$dql" = 8 ] && ok "12 MatMulInteger, 8 DynamicQuantizeLinear (q, k, v share one)" ||
	not_ok "MatMulInteger $mmi, DynamicQuantizeLinear $dql (want 12, 8)"
before=$(du -b "$m" | cut -f1)
after=$(du -b "$tmp/c.onnx" | cut -f1)
[ "$after" -lt "$before" ] && ok "smaller: $before -> $after bytes" || not_ok "$before -> $after bytes"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
