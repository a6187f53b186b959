#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: a ~1 GB fp32 model with external data and duplicated weights.
# Prints, measured in this run: load+save time over cat-speed I/O (read the
# inputs, write the same bytes), dedup time, and peak RSS over input size;
# the MADLAD recipes' size ratios and quantize throughput on a generated
# ~1 GB MADLAD-shaped export; ORT inference time fused / unfused (the
# generated T5 encoder, a generated BERT-base-wide encoder, a generated
# Llama-like decoder, tiny fixtures).
set -eu
: "${ONNXPASS:?}" "${GEN:?}"
MB=${BENCH_MB:-1000}
dir=${BENCH_DIR:-bench-tmp}
rm -rf "$dir" && mkdir -p "$dir"
"$GEN" big "$dir/in" "$MB"
in_bytes=$(du -cb "$dir"/in/* | tail -1 | cut -f1)
t() { s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
sync
cat_s=$(t sh -c "cat $dir/in/* > $dir/cat.out")
rm -f "$dir/cat.out"
# onnxpass makes its output durable (fsync before rename): compare with a
# cat that does the same too
catsync_s=$(t sh -c "cat $dir/in/* > $dir/cat.out && sync $dir/cat.out")
rm -f "$dir/cat.out"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
conv_s=$(t "$ONNXPASS" -q convert -i "$dir/in/model.onnx" -o "$dir/conv.onnx" --external always)
conv_kb=$(/usr/bin/time -f %M "$ONNXPASS" -q convert -i "$dir/in/model.onnx" -o "$dir/conv2.onnx" --external always --force 2>&1 >/dev/null | tail -1)
dedup_s=$(t "$ONNXPASS" -q run dedup -i "$dir/in" -o "$dir/dedup")
dedup_kb=$(/usr/bin/time -f %M "$ONNXPASS" -q run dedup -i "$dir/in" -o "$dir/dedup2" 2>&1 >/dev/null | tail -1)
out_bytes=$(du -cb "$dir"/dedup/* | tail -1 | cut -f1)
echo "input: $in_bytes bytes (external data)"
echo "cat read+write:          ${cat_s} s (page cache only), ${catsync_s} s with sync"
echo "load+save (convert):     ${conv_s} s   ratio to cat+sync: $(echo "scale=2; $conv_s / $catsync_s" | bc)x (target <= 2x); to cat without sync: $(echo "scale=2; $conv_s / $cat_s" | bc)x"
echo "dedup run:               ${dedup_s} s   output $out_bytes bytes ($(echo "scale=2; $out_bytes / $in_bytes" | bc)x of input)"
echo "content hash (XXH3):     $("$GEN" hash-speed 256 | cut -d' ' -f1-2) over 256 MB in memory"
echo "peak RSS convert:        ${conv_kb} kB  ratio to input: $(echo "scale=3; $conv_kb * 1024 / $in_bytes" | bc)x (target <= 0.25x)"
echo "peak RSS dedup:          ${dedup_kb} kB  ratio to input: $(echo "scale=3; $dedup_kb * 1024 / $in_bytes" | bc)x"

# MADLAD: a generated ~1 GB MADLAD-shaped T5 export (external data)
"$GEN" t5 "$dir/t5" big
recipes=${RECIPES:-recipes}
t5_bytes=$(du -cb "$dir"/t5/*.onnx* | tail -1 | cut -f1)
fp_s=$(t "$ONNXPASS" -q -r "$recipes/madlad-fp32.ini" -i "$dir/t5" -o "$dir/t5-fp32")
fp_bytes=$(du -cb "$dir"/t5-fp32/* | tail -1 | cut -f1)
q_kb=$(/usr/bin/time -f %M "$ONNXPASS" -q -r "$recipes/madlad.ini" -i "$dir/t5" -o "$dir/t5-int4" --report "$dir/int4.json" 2>&1 >/dev/null | tail -1)
q_bytes=$(du -cb "$dir"/t5-int4/* | tail -1 | cut -f1)
step_field() { # step_field REPORT STEP KEY
	python3 -c 'import json, sys
print(next(s[sys.argv[3]] for s in json.load(open(sys.argv[1]))["steps"] if s["step"] == sys.argv[2]))' "$@"
}
qin=$(step_field "$dir/int4.json" int4 weight_bytes_before)
qsec=$(step_field "$dir/int4.json" int4 seconds)
echo "madlad-shaped export:    $t5_bytes bytes in 3 files"
echo "fp32 restructure:        ${fp_s} s, output $fp_bytes bytes ($(echo "scale=3; $fp_bytes / $t5_bytes" | bc)x of input)"
echo "int4 recipe:             output $q_bytes bytes ($(echo "scale=3; $q_bytes / $t5_bytes" | bc)x of input)"
echo "quantize throughput:     $(echo "scale=1; $qin / 1000000 / $qsec" | bc) MB of fp32 weights per second ($qin bytes in $qsec s, $(nproc) threads)"
echo "peak RSS int4 recipe:    ${q_kb} kB  ratio to input: $(echo "scale=3; $q_kb * 1024 / $t5_bytes" | bc)x"
# depth: each recipe's time on generated exports that differ only in depth
# (tiny width, 2, 8 and 32 layers; the best of three runs).  The cost of a
# layer must not grow with depth: the marginal seconds per layer from 8 to
# 32 layers should match those from 2 to 8.
best() {	# best of three: seconds
	b=
	for k in 1 2 3; do
		x=$(t "$@")
		if [ -z "$b" ] || [ "$(echo "$x < $b" | bc)" = 1 ]; then b=$x; fi
	done
	echo "$b"
}
for fr in t5:madlad-fp32 t5:madlad llama:hymt gemma:translategemma; do
	fam=${fr%%:*} rec=${fr#*:}
	line="depth $fam $rec.ini:"
	prev_t= prev_l=
	for L in 2 8 32; do
		rm -rf "$dir/depth" && mkdir -p "$dir/depth"
		if [ "$fam" = t5 ]; then
			"$GEN" t5 "$dir/depth/in" tiny --layers $L
		else
			mkdir -p "$dir/depth/in" && "$GEN" $fam "$dir/depth/in/model.onnx" tiny --layers $L
		fi
		s=$(best sh -c "rm -rf '$dir/depth/out'; '$ONNXPASS' -q -r '$recipes/$rec.ini' -i '$dir/depth/in' -o '$dir/depth/out'")
		line="$line $L layers ${s} s"
		[ -n "$prev_t" ] && line="$line ($(echo "scale=4; ($s - $prev_t) / ($L - $prev_l)" | bc) s/layer)"
		prev_t=$s prev_l=$L
		line="$line,"
	done
	echo "${line%,}"
done
# the shape analysis alone on a graph of about 100,000 nodes (an 840-layer
# Llama-like decoder): info --profile runs it, info does not
"$GEN" llama "$dir/depth/deep.onnx" tiny --layers 840
nodes=$("$ONNXPASS" info "$dir/depth/deep.onnx" | sed -n 's/^nodes: *\([0-9]*\).*/\1/p')
load_s=$(best sh -c "'$ONNXPASS' info '$dir/depth/deep.onnx' >/dev/null")
prof_s=$(best sh -c "'$ONNXPASS' info --profile '$dir/depth/deep.onnx' >/dev/null")
echo "shape analysis:          $nodes nodes: info $load_s s, info --profile $prof_s s (analysis ~$(echo "$prof_s - $load_s" | bc) s; target about 1 s)"
rm -rf "$dir/depth"
# fusion: ONNX Runtime time of the generated encoder (d_model 1024, RMS
# norms and residuals) before and after clean + fusion, same inputs, runs
# interleaved, at ORT's "basic" level (no ORT fusions: what the fused ops
# alone buy) and at "all" (ORT fusing the original itself)
node=${NODE:-node}
ortrun=${ORT_RUN:-t/ort-run.js}
if "$node" -e "require('onnxruntime-node')" 2>/dev/null; then
	fz_s=$(t sh -c "'$ONNXPASS' -q run clean -i '$dir/t5/encoder_model.onnx' -o '$dir/enc-c.onnx' &&
		'$ONNXPASS' -q run fusion -i '$dir/enc-c.onnx' -o '$dir/enc-f.onnx'")
	for lv in basic all; do
		r=$("$node" "$ortrun" time "$dir/t5/encoder_model.onnx" "$dir/enc-f.onnx" level=$lv runs=15 \
			dim=batch_size:1 dim=encoder_sequence_length:128 2>/dev/null | tail -1)
		echo "fused encoder, ORT $lv:   $r  (a: export, b: clean+fusion; ratio = b/a)"
	done
	echo "clean+fusion pass time:  ${fz_s} s for $(du -cb "$dir"/t5/encoder_model.onnx* | tail -1 | cut -f1) bytes"
	# a generated BERT-base-wide encoder (768, 12 heads, 3072, 4 layers):
	# every fusion, then all but attention, then all but the skip norms,
	# each against the export at 128 tokens
	"$GEN" bert "$dir/bert.onnx" mid
	"$ONNXPASS" -q run clean -i "$dir/bert.onnx" -o "$dir/bert-c.onnx"
	"$ONNXPASS" -q run fusion -i "$dir/bert-c.onnx" -o "$dir/bert-all.onnx"
	"$ONNXPASS" -q run fusion patterns='layernorm gelu bias skip' -i "$dir/bert-c.onnx" -o "$dir/bert-noattn.onnx"
	"$ONNXPASS" -q run fusion patterns='layernorm gelu bias attention' -i "$dir/bert-c.onnx" -o "$dir/bert-noskip.onnx"
	for lv in basic all; do
		for b in all noattn noskip; do
			r=$("$node" "$ortrun" time "$dir/bert.onnx" "$dir/bert-$b.onnx" level=$lv runs=15 \
				dim=batch_size:1 dim=sequence_length:128 2>/dev/null | tail -1)
			echo "generated BERT-mid, ORT $lv, fusion $b: $r"
		done
	done
	# a generated Llama-like decoder with past (1024 wide, 16 heads over 4
	# KV heads, 4 layers): every fusion (GroupQueryAttention), the same
	# with MultiHeadAttention over repeated KV heads, at one new token over
	# a cache of 1024 and at a 128-token prompt
	"$GEN" llama "$dir/llama.onnx" mid
	"$ONNXPASS" -q run clean -i "$dir/llama.onnx" -o "$dir/llama-c.onnx"
	"$ONNXPASS" -q run fusion -i "$dir/llama-c.onnx" -o "$dir/llama-gqa.onnx"
	"$ONNXPASS" -q run fusion patterns='rmsnorm skip attention' -i "$dir/llama-c.onnx" -o "$dir/llama-mha.onnx"
	for lv in basic all; do
		for b in gqa mha; do
			r=$("$node" "$ortrun" time "$dir/llama.onnx" "$dir/llama-$b.onnx" level=$lv runs=15 \
				dim=batch_size:1 dim=past_sequence_length:1024 2>/dev/null | tail -1)
			echo "generated Llama-mid, ORT $lv, $b, 1 token after 1024: $r"
			r=$("$node" "$ortrun" time "$dir/llama.onnx" "$dir/llama-$b.onnx" level=$lv runs=10 \
				dim=batch_size:1 dim=sequence_length:128 dim=past_sequence_length:0 \
				set=attention_mask:1x128 2>/dev/null | tail -1)
			echo "generated Llama-mid, ORT $lv, $b, 128-token prompt: $r"
		done
	done
	if [ -d "${FIXTURES:-}/optimum-tiny-bert" ]; then
		for m in bert/model llama/model; do
			f=$FIXTURES/optimum-tiny-$m.onnx
			"$ONNXPASS" -q run clean -i "$f" -o "$dir/x-c.onnx" --force &&
				"$ONNXPASS" -q run fusion -i "$dir/x-c.onnx" -o "$dir/x-f.onnx" --force
			# (the Llama export declares its mask "past_sequence_length + 1":
			# one new token)
			r=$("$node" "$ortrun" time "$f" "$dir/x-f.onnx" level=basic runs=40 dim=batch_size:8 \
				$([ $m = llama/model ] || echo dim=sequence_length:128) dim=past_sequence_length:64 \
				2>/dev/null | tail -1)
			echo "tiny $m (fixture), ORT basic: $r"
		done
	fi
else
	echo "fusion timing skipped: onnxruntime-node not installed"
fi
rm -rf "$dir"
