#!/bin/sh
# SPDX-License-Identifier: MIT
# quantize mode=fp16: weights and compute in float16, float32 graph I/O.
# Bound: float16 keeps 11 significant bits (relative rounding 2^-11, about
# 5e-4) on every weight and every intermediate; through a dozen dependent
# ops with normalisations between them the observed error on these exports
# is 1e-4..4e-3 of the output's peak, so outputs must stay within 1e-2 of
# the float32 model's peak.  A wrong cast or a mask turned into NaN or
# infinity breaks that by orders of magnitude.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
gen=$TOP_BUILDDIR/t/gen-model
tmp=$(mktmp fp16)
trap 'rm -rf "$tmp"' EXIT
plan 20

# out-of-range weights: reported by name, never silently clamped
"$gen" matmul "$tmp/r" 64 32 100000
m=$tmp/r/matmul.onnx
"$ONNXPASS" run quantize mode=fp16 -i "$m" -o "$tmp/keep.onnx" >"$tmp/log" 2>&1 &&
	grep -q "weight 'B': 1 value(s) outside float16 range (largest magnitude 100000): kept in float32" "$tmp/log" &&
	"$ONNXPASS" info --json "$tmp/keep.onnx" | grep -q '"ops": {"MatMul": 1}, "initializers": 1, "parameters": 2048, "bytes_inline": 8192' &&
	ok "out_of_range=keep: B reported and kept float32 with its MatMul" || not_ok "keep: $(cat "$tmp/log")"
"$ONNXPASS" run quantize mode=fp16 out_of_range=clamp -i "$m" -o "$tmp/clamp.onnx" >"$tmp/log" 2>&1 &&
	grep -q "weight 'B': 1 value(s) outside float16 range (largest magnitude 100000): clamped to +-65504" "$tmp/log" &&
	"$ONNXPASS" info --json "$tmp/clamp.onnx" | grep -q '"ops": {"Cast": 2, "MatMul": 1}, "initializers": 1, "parameters": 2048, "bytes_inline": 4096' &&
	ok "out_of_range=clamp: B reported, converted, Casts at the float32 input and output" ||
	not_ok "clamp: $(cat "$tmp/log")"
if "$ONNXPASS" run quantize mode=fp16 out_of_range=error -i "$m" -o "$tmp/error.onnx" >"$tmp/log" 2>&1; then
	not_ok "out_of_range=error succeeded"
else
	grep -q "error: step 'quantize' (quantize): weight 'B' has values outside float16 range" "$tmp/log" &&
		[ ! -e "$tmp/error.onnx" ] && ok "out_of_range=error: fails naming B, writes nothing" ||
		not_ok "error: $(cat "$tmp/log")"
fi
"$ONNXPASS" -v run quantize mode=fp16 out_of_range=clamp -i "$m" -o "$tmp/c2.onnx" 2>&1 |
	grep -q "1 out of range, 1 values flushed to zero" && ok "underflow to zero counted" || not_ok "underflow count"
r=$(ort compare "$m" "$tmp/keep.onnx" exact) && ok "keep: output bitwise unchanged ($r)" || not_ok "keep: $r"

F=${FIXTURES:-}
if [ ! -d "$F/optimum-tiny-bert" ]; then
	for i in $(seq 6 20); do skip "fp16 on exports" "fixtures not found"; done
	finish
fi
for f in optimum-tiny-bert/model.onnx optimum-tiny-distilbert/model.onnx optimum-tiny-albert/model.onnx \
	optimum-tiny-gpt2/model.onnx optimum-tiny-llama/model.onnx optimum-tiny-mistral/model.onnx \
	optimum-tiny-t5/encoder_model.onnx optimum-tiny-t5/decoder_with_past_model.onnx \
	optimum-tiny-bart/decoder_model.onnx optimum-tiny-marian/encoder_model.onnx; do
	if "$ONNXPASS" -q run quantize mode=fp16 -i "$F/$f" -o "$tmp/h.onnx" --force &&
		r=$(ort compare "$F/$f" "$tmp/h.onnx" maxrel=1e-2); then
		ok "$f: $r"
	else
		not_ok "$f: $r"
	fi
done
# the recipe on the families it names: clean + fusion + float16, the fused
# ops in float16 too; the file at most 0.55x (weights halve)
for d in optimum-tiny-bert optimum-tiny-distilbert optimum-tiny-albert; do
	rm -rf "$tmp/o"
	before=$(wc -c <"$F/$d/model.onnx")
	if "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/embedding-fp16.ini" -i "$F/$d" -o "$tmp/o" &&
		after=$(wc -c <"$tmp/o/model.onnx") && [ "$(echo "$after < $before * 0.55" | bc)" = 1 ] &&
		r=$(ort compare "$F/$d/model.onnx" "$tmp/o/model.onnx" maxrel=1e-2); then
		ok "embedding-fp16.ini on $d: $before -> $after bytes, $r"
	else
		not_ok "embedding-fp16.ini on $d: $r"
	fi
done
# without keep_io_types the graph's float outputs are float16 themselves
"$ONNXPASS" -q run quantize mode=fp16 keep_io_types=false -i "$F/optimum-tiny-gpt2/model.onnx" -o "$tmp/io.onnx" --force &&
	"$ONNXPASS" info "$tmp/io.onnx" | grep -q 'logits  *FLOAT16' && r=$(ort compare "$tmp/io.onnx" "$tmp/io.onnx" exact) &&
	ok "keep_io_types=false: float16 logits, runs ($r)" || not_ok "keep_io_types=false: $r"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
