#!/bin/sh
# SPDX-License-Identifier: MIT
# The fusion pass on libonnx-testdata's *_expanded models (operators written
# out as their decomposition, LayerNorm and Gelu among them): fused or left
# alone, ONNX Runtime must still give the shipped outputs.
CORPUS_PASS=fusion
CORPUS_FILTER='*_expanded*'
export CORPUS_PASS CORPUS_FILTER
. "$TOP_SRCDIR/t/20-corpus.sh"
