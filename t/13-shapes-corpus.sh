#!/bin/sh
# SPDX-License-Identifier: MIT
# Shape inference against the truth: for each of libonnx-testdata's 1072
# models, the symbolic input dims are bound to the shipped inputs' sizes
# and every graph output's inferred shape is compared with the shipped
# expected output's.  No inferred size may be wrong; at least 1030 models
# must come out fully known (1036 do; the rest read data-dependent sizes:
# a split given at run time, NonZero, loops, sequences).  CORPUS_FILTER
# (a folder glob) limits the run to part of the corpus.
. "$TOP_SRCDIR/t/lib.sh"
[ -d "${ONNX_TESTDATA:-}" ] || skip_all "libonnx-testdata not installed"
[ -n "${NODE:-}" ] || skip_all "node not found"
tmp=$(mktmp shapes)
trap 'rm -rf "$tmp"' EXIT
plan 2
find "$ONNX_TESTDATA" -path "*/${CORPUS_FILTER:-*}/model.onnx" | LC_ALL=C sort >"$tmp/models"
if "$NODE" "$TOP_SRCDIR/t/shape-check.js" "$ONNXPASS" "$ONNX_TESTDATA" <"$tmp/models" >"$tmp/out"; then
	ok "no inferred size differs from ORT's outputs: $(tail -1 "$tmp/out")"
else
	not_ok "wrong shapes: $(grep mismatch "$tmp/out" | head -5)"
fi
n=$(tail -1 "$tmp/out" | sed -n 's/.*"exact":\([0-9]*\).*/\1/p')
if [ -n "${CORPUS_FILTER:-}" ]; then
	skip "coverage floor" "CORPUS_FILTER=$CORPUS_FILTER selects part of the corpus ($n fully known)"
else
	[ "${n:-0}" -ge 1030 ] && ok "$n models with every output shape known" || not_ok "only ${n:-0} fully known (want >= 1030)"
fi
finish
