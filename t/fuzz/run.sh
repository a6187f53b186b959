#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh BUILDDIR CORPUS SECONDS: runs each libFuzzer harness SECONDS on a
# working copy of its seed corpus; fails on the first finding (the crash
# input is kept in BUILDDIR/fuzz-tmp) and prints executions per harness.
set -u
build=$1 seeds=$2 secs=$3
work=$build/fuzz-tmp
mkdir -p "$work"
status=0
for h in model recipe profile; do
	rm -rf "$work/$h" && mkdir -p "$work/$h"
	"$build/t/fuzz/fuzz-$h" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=1048576 \
		-print_final_stats=1 -artifact_prefix="$work/$h-" "$work/$h" "$seeds/$h" >"$work/$h.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "fuzz-$h: FINDING after ${runs:-?} executions (exit $rc); input in $work/$h-*; log $work/$h.log"
		grep -m3 -E "ERROR|SUMMARY|runtime error" "$work/$h.log"
		status=1
	else
		echo "fuzz-$h: ${runs:-?} executions in $secs s, no finding"
	fi
done
exit $status
