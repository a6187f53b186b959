#!/bin/sh
# SPDX-License-Identifier: MIT
# The fuzz harnesses' seeds (generated here by t/fuzz/seeds.sh, as make
# fuzz-smoke does) through the program itself (no clang needed): every
# model and recipe gives a result or one line of error, never a crash.
. "$TOP_SRCDIR/t/lib.sh"
tmp=$(mktmp seeds)
trap 'rm -rf "$tmp"' EXIT
seeds=$tmp/seeds
sh "$TOP_SRCDIR/t/fuzz/seeds.sh" "$TOP_BUILDDIR/t/gen-model" "$TOP_SRCDIR" "$seeds" || exit 1
plan 5
# one: exit 0, or exit 1 with exactly one line on stderr
one() {
	"$@" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] || { [ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; }
}
bad=""
for f in "$seeds"/model/*.onnx; do
	rm -rf "$tmp/o"
	one "$ONNXPASS" -q convert -i "$f" -o "$tmp/o/m.onnx" || bad="$bad $(basename "$f"):$rc"
done
[ -z "$bad" ] && ok "model seeds: convert gives a model or one line" || not_ok "model seeds:$bad"
bad=""
for f in "$seeds"/profile/*.onnx; do
	for c in "info --json" "info --profile --json" "info --nodes"; do
		# shellcheck disable=SC2086
		one "$ONNXPASS" $c "$f" || bad="$bad $(basename "$f")[$c]:$rc"
	done
done
[ -z "$bad" ] && ok "profile seeds: info gives a report or one line" || not_ok "profile seeds:$bad"
bad=""
for f in "$seeds"/recipe/*.ini; do
	one "$ONNXPASS" --check -r "$f" || bad="$bad $(basename "$f"):$rc"
done
[ -z "$bad" ] && ok "recipe seeds: --check accepts or gives one line" || not_ok "recipe seeds:$bad"
# the valid seeds are the generated families at micro width: real models
checked "micro seeds" "$seeds"/profile/micro-*.onnx
if [ -n "${NODE:-}" ] && "$NODE" -e "require('onnxruntime-node')" 2>/dev/null; then
	bad=""
	for f in "$seeds"/profile/micro-*.onnx; do
		ort compare "$f" "$f" exact >/dev/null 2>&1 || bad="$bad $(basename "$f")"
	done
	[ -z "$bad" ] && ok "micro seeds run in ONNX Runtime" || not_ok "micro seeds ORT refuses:$bad"
else
	skip "micro seeds run in ONNX Runtime" "onnxruntime-node not installed"
fi
finish
