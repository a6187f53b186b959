#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench-full: the shipped recipes on generated exports at the shapes
# of the models they exist for, one at a time (about 45 GB of disk at the
# peak, for MADLAD):
#   madlad.ini          t/gen-model t5 DIR madlad-3b             (~20 GB)
#   hymt.ini            t/gen-model llama FILE hymt-1.8b          (~7 GB)
#   translategemma.ini  t/gen-model gemma FILE translategemma-4b (~16 GB)
#   nllb.ini            t/gen-model m2m100 DIR nllb-600m          (~5 GB)
# For each it prints the wall time over the I/O floor measured in the same
# run (cat of the inputs, then writing as many bytes as the output holds,
# with sync), the peak RSS, the output size over the input size, and the
# time of each step.  Targets: wall <= 5x the floor, peak RSS <= 1 GiB,
# MADLAD int4 output <= 0.10x of the export.  For NLLB it also prints the
# sizes of the plain per-file pipeline (each export file quantized on its
# own with the same int4 parameters: the tied table 256206 x 1024 three
# times) beside the recipe's fp32 restructuring and int4 output (the table
# once: about 1 GB fp32, 130 MB of 4-bit blocks).
# Then, for every output model, ONNX Runtime's resident memory (node, one
# thread, t/ort-memory.js: after creating the session, the peak while
# creating it, and the peak of one run at the recipe's memory_dims) beside `info --memory`'s estimate
# (target: within 20%), and the same measured with the CPU arena off and
# with memory patterns off; then the whole output decoding as an app runs
# it (t/ort-decode-memory.js: a source or prompt of the memory_dims length,
# then as many steps as its past length, BENCH_DECODE_STEPS to change it):
# resident memory after load, the peak while loading, and the peak while
# decoding, beside the estimated total.
# BENCH_ONLY="madlad hymt translategemma" picks recipes; BENCH_DIR the
# scratch folder (removed at the end); BENCH_MEMORY=0 skips the ORT part.
set -eu
: "${ONNXPASS:?}" "${GEN:?}"
dir=${BENCH_DIR:-bench-full-tmp}
recipes=${RECIPES:-recipes}
only=${BENCH_ONLY:-madlad hymt translategemma nllb}
t() { s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
# cold caches where allowed, so the floor and the run read from disk alike
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
avail=$(df -Pk "$(dirname "$(mkdir -p "$dir" && cd "$dir" && pwd)")" | awk 'NR==2 {print $4}')
[ "$avail" -gt 47000000 ] || echo "warning: $((avail / 1048576)) GiB free; bench-full needs about 45 GiB" >&2

# run NAME RECIPE: the recipe over $dir/in, measured
run() {
	name=$1 recipe=$2
	rm -rf "$dir/out"
	in_bytes=$(du -cb "$dir"/in/*.onnx* | tail -1 | cut -f1)
	drop
	read_s=$(t sh -c "cat '$dir'/in/*.onnx* >/dev/null")
	drop
	stats=$(/usr/bin/time -f '%e %M' "$ONNXPASS" -q -r "$recipe" -i "$dir/in" -o "$dir/out" \
		--report "$dir/report.json" 2>&1 >/dev/null | tail -1)
	wall=${stats% *} rss_kb=${stats#* }
	out_bytes=$(du -cb "$dir"/out/* | tail -1 | cut -f1)
	write_s=$(t sh -c "cat '$dir'/out/* >'$dir/floor.out' && sync '$dir/floor.out'")
	rm -f "$dir/floor.out"
	floor=$(echo "$read_s + $write_s" | bc)
	echo "$name ($(basename "$recipe")): export $in_bytes bytes${gen_s:+ generated in ${gen_s} s}"
	echo "  wall ${wall} s, I/O floor ${floor} s (read ${read_s} s + write ${write_s} s): $(echo "scale=2; $wall / $floor" | bc)x (target <= 5x)"
	echo "  peak RSS ${rss_kb} kB = $(echo "scale=3; $rss_kb / 1048576" | bc) GiB (target <= 1 GiB)"
	echo "  output $out_bytes bytes = $(echo "scale=3; $out_bytes / $in_bytes" | bc)x of the export"
	printf '  steps:'
	python3 -c 'import json, sys
print(",".join(" %s %s s" % (s["step"], s["seconds"]) for s in json.load(open(sys.argv[1]))["steps"]), end="")' "$dir/report.json"
	echo
}

# mem: the outputs in $dir/out measured in ORT against the manifest's estimate
mem() {
	[ "${BENCH_MEMORY:-1}" = 1 ] || return 0
	python3 "$(dirname "$0")/memory.py" "$dir/out"
}

one() {	# name recipe generator-args...
	name=$1 recipe=$2
	shift 2
	rm -rf "$dir" && mkdir -p "$dir/in"
	gen_s=$(t "$GEN" "$@")
	run "$name" "$recipes/$recipe"
	mem
	rm -rf "$dir"
}

# NLLB: the recipe's fp32 restructuring and int4 output against the export
# and the per-file int4 pipeline
nllb() {
	rm -rf "$dir" && mkdir -p "$dir/in"
	gen_s=$(t "$GEN" m2m100 "$dir/in" nllb-600m)
	sed '/^\[step int4\]/,$d' "$recipes/nllb.ini" >"$dir/nllb-fp32.ini"
	run "NLLB-200 600M shapes, fp32 restructuring" "$dir/nllb-fp32.ini"
	fp32=$out_bytes
	gen_s=
	run "NLLB-200 600M shapes" "$recipes/nllb.ini"
	mem
	q4=$out_bytes
	rm -rf "$dir/out" "$dir/pf" && mkdir "$dir/pf"
	pf_s=$(t sh -c 'for f in "$1"/in/*.onnx; do
		"$2" -q run quantize bits=4 block_size=32 symmetric=false accuracy_level=4 gather=block4 \
			gather_block_size=32 -i "$f" -o "$1/pf/$(basename "$f" .onnx)" || exit 1
	done' sh "$dir" "$ONNXPASS")
	pf=$(du -cb "$dir"/pf | tail -1 | cut -f1)
	echo "NLLB-200 600M shapes, sizes: export (fp32, per file) $in_bytes bytes, recipe fp32 $fp32 bytes" \
		"(saves $(((in_bytes - fp32) / 1048576)) MiB); per-file int4 $pf bytes in ${pf_s} s, recipe int4 $q4 bytes" \
		"(saves $(((pf - q4) / 1048576)) MiB, $(echo "scale=3; $q4 / $pf" | bc)x)"
	rm -rf "$dir"
}

for r in $only; do
	case $r in
	madlad) one "MADLAD-400 3B shapes" madlad.ini t5 "$dir/in" madlad-3b ;;
	hymt) one "HY-MT 1.5 1.8B shapes" hymt.ini llama "$dir/in/model.onnx" hymt-1.8b ;;
	translategemma) one "Gemma 3 4B shapes" translategemma.ini gemma "$dir/in/model.onnx" translategemma-4b ;;
	nllb) nllb ;;
	*) echo "bench-full: unknown recipe '$r'" >&2; exit 2 ;;
	esac
done
