#!/bin/sh
# SPDX-License-Identifier: MIT
# onnxpass info --memory and the manifest's memory estimate, on madlad.ini's
# output of a 32-layer MADLAD-shaped export: the weight term equals the
# tensors' bytes times the documented factors (computed apart, from the
# files, by t/memory-terms.js), the KV terms equal the cache inputs' bytes
# at the given sizes, the manifest (recipe memory_dims) says what info
# --memory says, and the external layout is estimated lighter than the
# inline one.  Whether the factors match ONNX Runtime is measured by
# make bench-full (t/ort-memory.js, t/ort-decode-memory.js), not here; the
# KV term is also checked against the past a real decode feeds the decoder.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp memory)
trap 'rm -rf "$tmp"' EXIT
plan 9
total() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[2]))["total"][sys.argv[1]])' "$1" "$2"; }

"$TOP_BUILDDIR/t/gen-model" t5 "$tmp/t5" tiny --layers 32 || exit 1
madlad=$TOP_SRCDIR/recipes/madlad.ini
"$ONNXPASS" -q -r "$madlad" -i "$tmp/t5" -o "$tmp/ext" &&
	"$ONNXPASS" -q -r "$madlad" --set layout.tables=inline --set layout.weights=inline -i "$tmp/t5" -o "$tmp/inl" ||
	not_ok "madlad.ini failed"
dims="--dim batch_size=1 --dim sequence_length=128 --dim encoder_sequence_length=128 --dim past_decoder_sequence_length=128 --dim encoder_sequence_length_out=128"
# shellcheck disable=SC2086
"$ONNXPASS" info --memory --json $dims "$tmp/ext" >"$tmp/ext.json" 2>"$tmp/err" &&
	"$ONNXPASS" info --memory --json $dims "$tmp/inl" >"$tmp/inl.json" 2>>"$tmp/err" || not_ok "info --memory: $(cat "$tmp/err")"
want=$("$NODE" "$TOP_SRCDIR/t/memory-terms.js" "$tmp"/ext/*.onnx)
got=$(total weights_resident_bytes "$tmp/ext.json")
[ -n "$want" ] && [ "$got" = "$want" ] && ok "weights: the tensors' bytes times their class's factor ($got bytes)" ||
	not_ok "weights: info --memory $got, from the files $want"
# 32 layers, 4 heads of 16: self-attention keys and values of 128 past
# tokens and cross-attention ones of 128 source tokens, float32
kv=$((32 * 4 * 4 * 128 * 16 * 4)) per=$((32 * 2 * 4 * 16 * 4))
[ "$(total kv_cache_bytes "$tmp/ext.json")" = "$kv" ] && [ "$(total kv_cache_bytes_per_token "$tmp/ext.json")" = "$per" ] &&
	ok "KV cache: $kv bytes at 128 + 128 tokens, $per bytes per token" ||
	not_ok "KV: $(total kv_cache_bytes "$tmp/ext.json") / $(total kv_cache_bytes_per_token "$tmp/ext.json"), want $kv / $per"
/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
t = d["total"]
ok = t["exact"] and t["activation_peak_bytes"] > 0 and t["total_bytes"] == (t["weights_resident_bytes"] +
    t["kv_cache_bytes"] + t["activation_peak_bytes"] + t["runtime_bytes"] + len(d["models"]) * (3 << 20))
sys.exit(0 if ok else 1)' "$tmp/ext.json" && ok "every size bound: exact, activations counted, total = weights + KV + activations + runtime + 3 MiB a session" ||
	not_ok "terms: $(cat "$tmp/ext.json")"
/usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["memory"]
i = json.load(open(sys.argv[2]))
strip = lambda ms: sorted((x["file"].split("/")[-1], x["weights_resident_bytes"], x["kv_cache_bytes"], x["activation_peak_bytes"]) for x in ms)
sys.exit(0 if strip(m["models"]) == strip(i["models"]) and m["total"] == i["total"] and m["dims"]["batch_size"] == 1 else 1)' \
	"$tmp/ext/manifest.json" "$tmp/ext.json" && ok "manifest.json: the recipe's memory_dims estimate, as info --memory gives it" ||
	not_ok "manifest memory: $(cat "$tmp/ext/manifest.json" | head -c 600)"
e=$(total weights_resident_bytes "$tmp/ext.json") i=$(total weights_resident_bytes "$tmp/inl.json")
[ "$e" -lt "$i" ] && ok "external layout estimated lighter than inline ($e < $i bytes)" || not_ok "external $e, inline $i"
"$ONNXPASS" info --memory "$tmp/ext/madlad_decoder_4bit.onnx" >"$tmp/out" 2>&1 && grep -q "lower bound" "$tmp/out" &&
	ok "sizes left unbound: said to be a lower bound" || not_ok "unbound: $(cat "$tmp/out")"
"$ONNXPASS" info --memory "$tmp/nope.onnx" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "nope.onnx" "$tmp/err" && ok "a missing model: one line" ||
	not_ok "missing: $(cat "$tmp/err")"
# fed_kv NAME OUT WANT PROMPT STEPS DIM...: a translation run of OUT as an
# app does it (t/ort-decode-memory.js), and info --memory at the sizes of
# its last step: the past that step fed is the KV term there, and WANT (a
# Python expression over e, the estimate's total); loading, its peak and
# the decoding peak in order, the peak's step known
fed_kv() {
	name=$1 out=$2 want=$3 prompt=$4 steps=$5
	shift 5
	"$NODE" --expose-gc "$TOP_SRCDIR/t/ort-decode-memory.js" "$out" --prompt "$prompt" --steps "$steps" >"$tmp/dec.json" 2>"$tmp/err" &&
		"$ONNXPASS" info --memory --json --dim batch_size=1 --dim sequence_length=1 "$@" "$out" >"$tmp/kv.json" 2>>"$tmp/err" &&
		/usr/bin/python3 -c 'import json, sys
d, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["total"]
sys.exit(0 if d["kv_bytes"] == e["kv_cache_bytes"] == eval(sys.argv[3]) > 0 and d["peak_step"] is not None
         and 0 < d["load_bytes"] <= d["load_peak_bytes"] and d["load_bytes"] < d["peak_bytes"] else 1)' \
			"$tmp/dec.json" "$tmp/kv.json" "$want" &&
		ok "$name in ONNX Runtime fed the KV term's bytes ($(cat "$tmp/dec.json"))" ||
		not_ok "$name: $(cat "$tmp/dec.json" "$tmp/err") estimate $(head -c 400 "$tmp/kv.json")"
}
# madlad.ini's output, 24 source tokens, 9 decoder steps: per layer, keys
# and values of 8 past tokens and of 24 source tokens
fed_kv "a decode" "$tmp/ext" "32 * 2 * 4 * (8 + 24) * 16 * 4" 24 9 \
	--dim encoder_sequence_length=24 --dim past_decoder_sequence_length=8 --dim encoder_sequence_length_out=24
# a decoder-only bundle (hymt.ini, 32 layers): a prompt of 8 tokens, then
# 5 steps; the last is fed a past of 8 + 5 - 1 tokens
mkdir "$tmp/llama"
if "$TOP_BUILDDIR/t/gen-model" llama "$tmp/llama/model.onnx" tiny --layers 32 &&
	"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/hymt.ini" -i "$tmp/llama" -o "$tmp/hymt" 2>"$tmp/err"; then
	fed_kv "a decoder-only decode" "$tmp/hymt" '12 * e["kv_cache_bytes_per_token"]' 8 5 \
		--dim past_sequence_length=12 --dim 'past_sequence_length + 1=13'
else
	not_ok "hymt.ini on a 32-layer Llama: $(cat "$tmp/err")"
fi
finish
