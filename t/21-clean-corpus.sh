#!/bin/sh
# SPDX-License-Identifier: MIT
# The clean pass on every model of libonnx-testdata, checked by ONNX Runtime
# against the shipped outputs like the round trip (t/20-corpus.sh).
CORPUS_PASS=clean
export CORPUS_PASS
. "$TOP_SRCDIR/t/20-corpus.sh"
