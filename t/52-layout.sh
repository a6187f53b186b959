#!/bin/sh
# SPDX-License-Identifier: MIT
# The layout pass, as the shipped phone recipes end with it (madlad.ini on
# a 32-layer MADLAD-shaped export): every tensor of a page or more is in
# page-aligned external data (ONNX Runtime maps it: a table read by Gather
# costs resident memory only for the rows looked up), the report says so
# and why; the inline layout (--set layout.tables=inline, weights=inline)
# and the single-file one (--external never) stay available, and ONNX
# Runtime gives the same outputs for all three, bitwise.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp layout)
trap 'rm -rf "$tmp"' EXIT
plan 10

"$TOP_BUILDDIR/t/gen-model" t5 "$tmp/t5" tiny --layers 32 || exit 1
sum=$(cat "$tmp"/t5/*.onnx | cksum)
madlad=$TOP_SRCDIR/recipes/madlad.ini
"$ONNXPASS" -q -r "$madlad" -i "$tmp/t5" -o "$tmp/ext" --report "$tmp/ext.json" &&
	"$ONNXPASS" -q -r "$madlad" --set layout.tables=inline --set layout.weights=inline -i "$tmp/t5" -o "$tmp/inl" &&
	"$ONNXPASS" -q -r "$madlad" --external never -i "$tmp/t5" -o "$tmp/one" || not_ok "madlad.ini failed"
place() { "$NODE" "$TOP_SRCDIR/t/placement.js" 4096 "$1"/*.onnx; }
place "$tmp/ext" >"$tmp/ext.txt"
grep -q " external [0-9]* table$" "$tmp/ext.txt" && ! grep -q " inline " "$tmp/ext.txt" &&
	ok "default: every tensor of a page or more is external, the token table included ($(grep -c . "$tmp/ext.txt") tensors)" ||
	not_ok "default layout: $(grep -v ' external ' "$tmp/ext.txt" | head -3)"
place "$tmp/inl" >"$tmp/inl.txt"
grep -q " inline [0-9]* table$" "$tmp/inl.txt" && ! grep -q " external " "$tmp/inl.txt" &&
	ok "tables and weights inline: nothing in a model's own data file (shared tensors stay shared)" ||
	not_ok "inline layout: $(grep ' external ' "$tmp/inl.txt" | head -3)"
place "$tmp/one" >"$tmp/one.txt" &&
	[ -z "$(find "$tmp/one" -name '*.data')" ] && grep -q ' inline ' "$tmp/one.txt" && ! grep -qv ' inline ' "$tmp/one.txt" &&
	ok "--external never: one self-contained file per model" || not_ok "single file: $(ls "$tmp/one")"
report_has() { /usr/bin/python3 -c 'import json, sys
s = [x for x in json.load(open(sys.argv[1]))["steps"] if x["step"] == "layout"][0]
sys.exit(0 if s["tables_external"] >= 1 and "only the rows looked up" in s["tables_reason"] and s["weights_external"] >= 32 else 1)' "$1"; }
report_has "$tmp/ext.json" && ok "the report counts each class and gives the reason" ||
	not_ok "report: $(cat "$tmp/ext.json")"
a=$(s2s "$tmp/t5" "$tmp/ext" --batch 2 --steps 8 --teacher-forced 2>&1)
b=$(s2s "$tmp/t5" "$tmp/inl" --batch 2 --steps 8 --teacher-forced 2>&1)
c=$(s2s "$tmp/t5" "$tmp/one" --batch 2 --steps 8 --teacher-forced 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ] && ok "ONNX Runtime: the three layouts give the same logits ($a)" ||
	not_ok "layouts differ: $a / $b / $c"
"$ONNXPASS" -q run layout tables=keep weights=keep -i "$tmp/one/madlad_encoder_4bit.onnx" -o "$tmp/keep" &&
	[ -z "$(find "$tmp/keep" -name '*.data')" ] && ok "keep: the pass leaves tensors where they are" || not_ok "keep: $(ls "$tmp/keep")"
[ "$(cat "$tmp"/t5/*.onnx | cksum)" = "$sum" ] && ok "the export is unchanged" || not_ok "the export changed"
# a bundle with a tensor stored once for several models (nllb.ini: the tied
# table shared by the lookup and the lm_head, in shared_weights.data):
# --external never still writes self-contained files
"$TOP_BUILDDIR/t/gen-model" m2m100 "$tmp/m2m" tiny || exit 1
"$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/nllb.ini" --external never -i "$tmp/m2m" -o "$tmp/one-nllb" &&
	[ -z "$(find "$tmp/one-nllb" -name '*.data')" ] &&
	r=$(s2s "$tmp/m2m" "$tmp/one-nllb" --batch 2 --steps 6 --teacher-forced --min-cos 0.9) &&
	ok "--external never with shared tensors: no data file at all, ORT runs it ($r)" ||
	not_ok "nllb --external never: $(ls "$tmp/one-nllb") ${r:-}"
# a real export (the tiny optimum MADLAD-like fixture): external tables and
# weights give ONNX Runtime's outputs of the inline layout
x=${FIXTURES:-}/optimum-tiny-madlad-like
if [ -d "$x" ]; then
	"$ONNXPASS" -q -r "$madlad" -i "$x" -o "$tmp/fx-ext" &&
		"$ONNXPASS" -q -r "$madlad" --set layout.tables=inline --set layout.weights=inline -i "$x" -o "$tmp/fx-inl" &&
		[ -n "$(place "$tmp/fx-ext" | grep ' external ')" ] &&
		a=$(s2s "$x" "$tmp/fx-ext" --batch 2 --steps 8 --teacher-forced 2>&1) &&
		b=$(s2s "$x" "$tmp/fx-inl" --batch 2 --steps 8 --teacher-forced 2>&1) && [ "$a" = "$b" ] &&
		ok "MADLAD-like export: external and inline layouts give the same logits ($a)" ||
		not_ok "fixture layouts: ${a:-} / ${b:-}"
else
	skip "MADLAD-like export: external and inline layouts" "fixtures not found at $x"
fi
checked "every model written" $(find "$tmp" -path "$tmp/[eiof]*" -name '*.onnx' | sort)
finish
