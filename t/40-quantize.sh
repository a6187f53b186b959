#!/bin/sh
# SPDX-License-Identifier: MIT
# quantize: MatMulNBits blobs dequantize to within half a scale of the
# weights (a full scale for symmetric: MLAS maps the largest magnitude to
# -2^(bits-1), so the other extreme clamps at 2^(bits-1)-1), and ONNX
# Runtime's MatMulNBits gives the same output as a plain MatMul on the
# dequantized weights.  Embedding tables: uint8 + DequantizeLinear and
# GatherBlockQuantized load and run.  The tiny MADLAD-like export is
# quantized end to end and still runs.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp quantize)
trap 'rm -rf "$tmp"' EXIT
gen=$TOP_BUILDDIR/t/gen-model
plan 21
"$gen" matmul "$tmp" 80 24 || exit 1
for cfg in "4 16 false 0.5" "4 32 true 1" "4 128 false 0.5" "8 16 false 0.5" "8 64 true 1" "4 64 false 0.5"; do
	set -- $cfg
	what="bits=$1 block_size=$2 symmetric=$3"
	"$ONNXPASS" -q run quantize bits=$1 block_size=$2 symmetric=$3 -i "$tmp/matmul.onnx" -o "$tmp/q.onnx" --force
	if out=$("$gen" dequant "$tmp/q.onnx" "$tmp/matmul.onnx" "$tmp/ref.onnx" "$4"); then
		ok "$what: $out (bound $4)"
	else
		not_ok "$what: $out (bound $4)"
	fi
	if r=$(ort compare "$tmp/ref.onnx" "$tmp/q.onnx" rtol=1e-5); then
		ok "$what: ORT MatMulNBits == MatMul(A, deq(W)): $r"
	else
		not_ok "$what: $r"
	fi
done
# accuracy_level 4 quantizes A to int8 inside ORT: close, not equal
"$ONNXPASS" -q run quantize bits=4 block_size=16 accuracy_level=4 -i "$tmp/matmul.onnx" -o "$tmp/q4.onnx" --force
"$gen" dequant "$tmp/q4.onnx" "$tmp/matmul.onnx" "$tmp/ref4.onnx" >/dev/null
grep -q accuracy_level "$tmp/q4.onnx" && r=$(ort compare "$tmp/ref4.onnx" "$tmp/q4.onnx" maxrel=2e-2) &&
	ok "accuracy_level=4 runs, within 2% of the peak of A.deq(W): $r" || not_ok "accuracy_level=4: $r"
# embeddings
"$gen" demo "$tmp/demo" >/dev/null
for mode in uint8 block4; do
	if "$ONNXPASS" -q run quantize matmul=false gather=$mode gather_block_size=32 -i "$tmp/demo/encoder.onnx" -o "$tmp/e-$mode.onnx" --report "$tmp/$mode.json" &&
		grep -q '"gathers": 1' "$tmp/$mode.json"; then
		ok "gather=$mode rewrites the embedding"
	else
		not_ok "gather=$mode"
	fi
	# 8 bits per weight (uint8) or 4 (block4): compare loosely
	if r=$(ort compare "$tmp/demo/encoder.onnx" "$tmp/e-$mode.onnx" rtol=0.25); then
		ok "gather=$mode: ORT runs it, outputs close: $r"
	else
		not_ok "gather=$mode: $r"
	fi
done
"$ONNXPASS" info "$tmp/e-block4.onnx" | grep -q 'opsets:      ai.onnx 21 com.microsoft 1' && ok "block4 raises the opset to 21" ||
	not_ok "block4 opsets: $("$ONNXPASS" info "$tmp/e-block4.onnx" | grep opsets)"
# node-name globs
"$ONNXPASS" -q run quantize 'exclude=*/DenseReluDense/*' -i "$tmp/demo/encoder.onnx" -o "$tmp/x.onnx" --report "$tmp/x.json"
"$ONNXPASS" -q run quantize 'include=l0_*' -i "$tmp/demo/encoder.onnx" -o "$tmp/i.onnx" --report "$tmp/i.json"
"$ONNXPASS" -q run quantize 'exclude=l0_* l1_mm1' -i "$tmp/demo/encoder.onnx" -o "$tmp/e.onnx" --report "$tmp/e.json"
nx=$(sed -n 's/.*"matmul_nbits": \([0-9]*\).*/\1/p' "$tmp/x.json")
ni=$(sed -n 's/.*"matmul_nbits": \([0-9]*\).*/\1/p' "$tmp/i.json")
ne=$(sed -n 's/.*"matmul_nbits": \([0-9]*\).*/\1/p' "$tmp/e.json")
[ "$nx" = 4 ] && [ "$ni" = 2 ] && [ "$ne" = 1 ] && ok "include/exclude globs pick nodes by name (4, 2, 1 of 4)" ||
	not_ok "include/exclude: $nx $ni $ne (want 4 2 1)"
m=${FIXTURES:-}/optimum-tiny-madlad-like/decoder_with_past_model.onnx
if [ -f "$m" ]; then
	"$ONNXPASS" -q run quantize bits=4 block_size=16 -i "$m" -o "$tmp/madlad-q.onnx" --report "$tmp/m.json"
	n=$(sed -n 's/.*"matmul_nbits": \([0-9]*\).*/\1/p' "$tmp/m.json")
	[ "$n" = 19 ] && ok "madlad-like decoder: 19 constant MatMuls quantized, 8 activation MatMuls left" || not_ok "madlad-like: $n MatMulNBits"
else
	skip "madlad-like decoder" "fixtures not found"
fi
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
