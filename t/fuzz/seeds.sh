#!/bin/sh
# SPDX-License-Identifier: MIT
# seeds.sh GEN-MODEL SRCDIR OUT: writes the seed corpus of the fuzz
# harnesses into OUT (in the build tree) from the test generators and the
# shipped recipes: hostile and valid small models (model, profile),
# recipes (recipe).
set -eu
gen=$1 src=$2 out=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out" && mkdir -p "$out/model" "$out/recipe" "$out/profile"
"$gen" hostile "$tmp/h" >/dev/null
"$gen" demo "$tmp/demo" >/dev/null
for f in llama gemma bert; do
	"$gen" $f "$tmp/$f.onnx" micro >/dev/null
done
"$gen" t5 "$tmp/t5" micro >/dev/null
"$gen" m2m100 "$tmp/m2m100" micro >/dev/null
for f in "$tmp"/h/*.onnx; do
	[ "$(wc -c <"$f")" -le 65536 ] || continue
	cp "$f" "$out/model/"
	cp "$f" "$out/profile/"
done
# small valid models of every generated family: a few kB each, so that
# every execution stays fast
for f in "$tmp"/llama.onnx "$tmp"/gemma.onnx "$tmp"/bert.onnx "$tmp"/t5/*.onnx "$tmp"/m2m100/*.onnx; do
	b=$(basename "$f")
	case $f in "$tmp"/*/*) b=$(basename "$(dirname "$f")")-$b ;; esac
	cp "$f" "$out/profile/micro-$b"
	cp "$f" "$out/model/micro-$b"
done
for f in "$src"/recipes/*.ini; do
	cp "$f" "$out/recipe/"
done
printf '\357\273\277[step a]\npass = dedup\n' >"$out/recipe/bom.ini"
printf '[recipe]\nname = x\ninputs = a:a.onnx b:b.onnx\noutputs = a:x.onnx\n[step s]\npass = quantize\nmodels = a\nexpect.MatMulNBits = >=1\n' >"$out/recipe/full.ini"
