#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: a ~1 GB fp32 model with external data and duplicated weights.
# Prints, measured in this run: load+save time over cat-speed I/O (read the
# inputs, write the same bytes), dedup time, and peak RSS over input size.
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
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
conv_s=$(t "$ONNXPASS" -q convert -i "$dir/in/model.onnx" -o "$dir/conv.onnx" --external always)
conv_kb=$(/usr/bin/time -f %M "$ONNXPASS" -q convert -i "$dir/in/model.onnx" -o "$dir/conv2.onnx" --external always --force 2>&1 >/dev/null | tail -1)
dedup_s=$(t "$ONNXPASS" -q run dedup -i "$dir/in" -o "$dir/dedup")
dedup_kb=$(/usr/bin/time -f %M "$ONNXPASS" -q run dedup -i "$dir/in" -o "$dir/dedup2" 2>&1 >/dev/null | tail -1)
out_bytes=$(du -cb "$dir"/dedup/* | tail -1 | cut -f1)
echo "input: $in_bytes bytes (external data)"
echo "cat read+write:          ${cat_s} s"
echo "load+save (convert):     ${conv_s} s   ratio to cat: $(echo "scale=2; $conv_s / $cat_s" | bc)x (target <= 2x)"
echo "dedup run:               ${dedup_s} s   output $out_bytes bytes ($(echo "scale=2; $out_bytes / $in_bytes" | bc)x of input)"
echo "peak RSS convert:        ${conv_kb} kB  ratio to input: $(echo "scale=3; $conv_kb * 1024 / $in_bytes" | bc)x (target <= 0.25x)"
echo "peak RSS dedup:          ${dedup_kb} kB  ratio to input: $(echo "scale=3; $dedup_kb * 1024 / $in_bytes" | bc)x"
rm -rf "$dir"
