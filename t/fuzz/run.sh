#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh BUILDDIR CORPUS SECONDS: runs each libFuzzer harness SECONDS on a
# working copy of its seed corpus (or, with FUZZ_RUNS=N in the environment,
# for N executions each, however long they take); fails on the first
# finding (the crash input is kept in BUILDDIR/fuzz-tmp) and prints
# executions per harness.
set -u
build=$1 seeds=$2 secs=$3
work=$build/fuzz-tmp
mkdir -p "$work"
status=0
for h in model recipe profile; do
	rm -rf "$work/$h" && mkdir -p "$work/$h"
	limit="-max_total_time=$secs"
	[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS"
	start=$(date +%s)
	"$build/t/fuzz/fuzz-$h" "$limit" -timeout=20 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$work/$h-" "$work/$h" "$seeds/$h" >"$work/$h.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "fuzz-$h: FINDING after ${runs:-?} executions (exit $rc); input in $work/$h-*; log $work/$h.log"
		grep -m3 -E "ERROR|SUMMARY|runtime error" "$work/$h.log"
		status=1
	else
		echo "fuzz-$h: ${runs:-?} executions in $(($(date +%s) - start)) s, no finding"
	fi
done
exit $status
