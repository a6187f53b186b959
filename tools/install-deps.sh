#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the build and test dependencies on Debian: the toolchain,
# protobuf-c, inih, the ONNX schema and test corpus, node, and ONNX Runtime
# from npm (its install script would download a GPU build: skipped).
set -eu
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	build-essential autoconf automake libtool pkg-config bc time \
	libprotobuf-c-dev protobuf-c-compiler libinih-dev libxxhash-dev libfp16-dev libonnx-dev libonnx-testdata \
	python3-onnx >/dev/null
# the fuzz harnesses (./configure --enable-fuzz CC=clang) need clang and
# its libFuzzer runtime; nothing else does
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang libclang-rt-dev >/dev/null ||
	echo "install-deps: clang not installed: make fuzz-smoke will not build" >&2
command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
cd "$(dirname "$0")/.."
ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund
