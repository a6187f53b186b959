#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench-full: the shipped recipes on generated exports at the shapes
# of the models they exist for, one at a time (about 45 GB of disk at the
# peak, for MADLAD):
#   madlad.ini          t/gen-model t5 DIR madlad-3b             (~20 GB)
#   hymt.ini            t/gen-model llama FILE hymt-1.8b          (~7 GB)
#   translategemma.ini  t/gen-model gemma FILE translategemma-4b (~16 GB)
# For each it prints the wall time over the I/O floor measured in the same
# run (cat of the inputs, then writing as many bytes as the output holds,
# with sync), the peak RSS, the output size over the input size, and the
# time of each step.  Targets: wall <= 5x the floor, peak RSS <= 1 GiB,
# MADLAD int4 output <= 0.10x of the export.
# BENCH_ONLY="madlad hymt translategemma" picks recipes; BENCH_DIR the
# scratch folder (removed at the end).
set -eu
: "${ONNXPASS:?}" "${GEN:?}"
dir=${BENCH_DIR:-bench-full-tmp}
recipes=${RECIPES:-recipes}
only=${BENCH_ONLY:-madlad hymt translategemma}
t() { s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
# cold caches where allowed, so the floor and the run read from disk alike
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
avail=$(df -Pk "$(dirname "$(mkdir -p "$dir" && cd "$dir" && pwd)")" | awk 'NR==2 {print $4}')
[ "$avail" -gt 47000000 ] || echo "warning: $((avail / 1048576)) GiB free; bench-full needs about 45 GiB" >&2

one() {	# name recipe generator-args...
	name=$1 recipe=$2
	shift 2
	rm -rf "$dir" && mkdir -p "$dir/in"
	gen_s=$(t "$GEN" "$@")
	in_bytes=$(du -cb "$dir"/in/*.onnx* | tail -1 | cut -f1)
	drop
	read_s=$(t sh -c "cat '$dir'/in/*.onnx* >/dev/null")
	drop
	stats=$(/usr/bin/time -f '%e %M' "$ONNXPASS" -q -r "$recipes/$recipe" -i "$dir/in" -o "$dir/out" \
		--report "$dir/report.json" 2>&1 >/dev/null | tail -1)
	wall=${stats% *} rss_kb=${stats#* }
	out_bytes=$(du -cb "$dir"/out/* | tail -1 | cut -f1)
	write_s=$(t sh -c "cat '$dir'/out/* >'$dir/floor.out' && sync '$dir/floor.out'")
	rm -f "$dir/floor.out"
	floor=$(echo "$read_s + $write_s" | bc)
	echo "$name ($recipe): export $in_bytes bytes generated in ${gen_s} s"
	echo "  wall ${wall} s, I/O floor ${floor} s (read ${read_s} s + write ${write_s} s): $(echo "scale=2; $wall / $floor" | bc)x (target <= 5x)"
	echo "  peak RSS ${rss_kb} kB = $(echo "scale=3; $rss_kb / 1048576" | bc) GiB (target <= 1 GiB)"
	echo "  output $out_bytes bytes = $(echo "scale=3; $out_bytes / $in_bytes" | bc)x of the export"
	printf '  steps:'
	python3 -c 'import json, sys
print(",".join(" %s %s s" % (s["step"], s["seconds"]) for s in json.load(open(sys.argv[1]))["steps"]), end="")' "$dir/report.json"
	echo
	rm -rf "$dir"
}

for r in $only; do
	case $r in
	madlad) one "MADLAD-400 3B shapes" madlad.ini t5 "$dir/in" madlad-3b ;;
	hymt) one "HY-MT 1.5 1.8B shapes" hymt.ini llama "$dir/in/model.onnx" hymt-1.8b ;;
	translategemma) one "Gemma 3 4B shapes" translategemma.ini gemma "$dir/in/model.onnx" translategemma-4b ;;
	*) echo "bench-full: unknown recipe '$r'" >&2; exit 2 ;;
	esac
done
