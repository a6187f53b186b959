#!/bin/sh
# SPDX-License-Identifier: MIT
# info --profile against sizes worked out by hand:
#  - Y[3,32] = A[3,64] . B[64,32]: 2048 parameters, 3*64*32 = 6144 MACs,
#    3*32*4 = 384 bytes of activations;
#  - tiny BERT (hidden 32, FFN 64, 4 heads, 2 layers) at batch 1, 128
#    tokens: per layer q/k/v/o 4*128*32*32, FFN 2*128*32*64, scores and
#    context 2*4*128*128*8: 2,097,152, so 4,194,304 MatMul MACs;
#  - tiny Llama (hidden 32, FFN 64, 4 query / 2 KV heads of 8, vocab 1000)
#    at 16 new tokens after 8 past ones: per layer q/o 2*16*32*32, k/v
#    2*16*32*16, gate/up/down 3*16*32*64, scores and context 2*4*16*24*8
#    = 172,032; two layers and the lm_head 16*32*1000: 856,064.  Every size
#    resolves through the export's Shape/Gather/Concat/Where chains.
# Unbound symbolic dims are named, sizes shown as lower bounds.
. "$TOP_SRCDIR/t/lib.sh"
gen=$TOP_BUILDDIR/t/gen-model
tmp=$(mktmp profile)
trap 'rm -rf "$tmp"' EXIT
plan 7
"$gen" matmul "$tmp/m" 64 32
"$ONNXPASS" info --profile --json "$tmp/m/matmul.onnx" >"$tmp/o" &&
	grep -q '"total": {"nodes": 1, "params": 2048, "macs": 6144, "activation_bytes": 384, "exact": true}' "$tmp/o" &&
	ok "MatMul [3,64]x[64,32]: 2048 params, 6144 MACs, 384 B" || not_ok "matmul profile: $(cat "$tmp/o")"
if "$ONNXPASS" info --profile --dim batch "$tmp/m/matmul.onnx" >"$tmp/o" 2>&1; then
	not_ok "--dim without a value accepted"
else
	grep -q "error: --dim wants NAME=N" "$tmp/o" && ok "--dim NAME alone is refused" || not_ok "$(cat "$tmp/o")"
fi
F=${FIXTURES:-}
if [ ! -d "$F/optimum-tiny-bert" ]; then
	for i in 3 4 5 6 7; do skip "profile on exports" "fixtures not found"; done
	finish
fi
b=$F/optimum-tiny-bert/model.onnx
"$ONNXPASS" info --profile --json "$b" >"$tmp/o" &&
	grep -q '"unbound": \["batch_size", "sequence_length"\]' "$tmp/o" && grep -q '"exact": false}, "unknown_nodes"' "$tmp/o" &&
	ok "unbound dims named, totals marked inexact" || not_ok "unbound: $(head -c 300 "$tmp/o")"
"$ONNXPASS" info --profile --json --dim batch_size=1 --dim sequence_length=128 "$b" >"$tmp/o" &&
	grep -q '"MatMul": {"nodes": 16, "params": 16384, "macs": 4194304' "$tmp/o" &&
	grep -q '"unknown_nodes": 0' "$tmp/o" && ok "BERT: 4,194,304 MatMul MACs, every size known" ||
	not_ok "bert: $(head -c 400 "$tmp/o")"
params=$("$ONNXPASS" info --json "$b" | sed 's/.*"parameters": \([0-9]*\).*/\1/')
grep -q "\"total\": {\"nodes\": 234, \"params\": $params," "$tmp/o" && ok "parameters add up to info's $params" ||
	not_ok "params total vs $params"
l=$F/optimum-tiny-llama/model.onnx
"$ONNXPASS" info --profile --json --dim batch_size=1 --dim sequence_length=16 --dim past_sequence_length=8 "$l" >"$tmp/o" &&
	grep -q '"MatMul": {"nodes": 19, "params": 50432, "macs": 856064' "$tmp/o" && grep -q '"unknown_nodes": 0' "$tmp/o" &&
	ok "Llama with past: 856,064 MatMul MACs, every size known" || not_ok "llama: $(head -c 400 "$tmp/o")"
"$ONNXPASS" info --profile --dim batch_size=1 --dim sequence_length=128 "$b" >"$tmp/o" &&
	grep -q '^  MatMul  *16  *16384  *4194304 ' "$tmp/o" && grep -q '^  total  *234 ' "$tmp/o" &&
	ok "text table" || not_ok "text: $(cat "$tmp/o")"
finish
