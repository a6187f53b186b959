#!/bin/sh
# SPDX-License-Identifier: MIT
# dedup on real exports: the tiny T5 bundle (embedding byte-identical in all
# four files) and the generated demo bundle shrink by the duplicate bytes,
# and ONNX Runtime gives bitwise-identical outputs before and after.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
tmp=$(mktmp dedup)
trap 'rm -rf "$tmp"' EXIT
t5=${FIXTURES:-}/optimum-tiny-t5
plan 12

size_of() { du -cb "$@" | tail -1 | cut -f1; }
json_num() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2" | head -1; }

"$TOP_BUILDDIR/t/gen-model" demo "$tmp/demo" || exit 1
check "demo recipe runs" "$ONNXPASS" -q -r "$TOP_SRCDIR/recipes/demo.ini" -i "$tmp/demo" \
	-o "$tmp/demo-out" --report "$tmp/demo.json"
merged=$(json_num merged_tensors "$tmp/demo.json")
shared=$(json_num shared_tensors "$tmp/demo.json")
[ "$merged" = 4 ] && [ "$shared" = 1 ] && ok "demo: 4 in-file duplicates merged, 1 tensor shared across files" ||
	not_ok "demo: merged=$merged shared=$shared (want 4 and 1)"
if ort compare-dir "$tmp/demo" "$tmp/demo-out" exact >"$tmp/demo.ort"; then
	ok "demo: ORT outputs bitwise identical"
else
	not_ok "demo: ORT outputs differ: $(cat "$tmp/demo.ort")"
fi

if [ ! -d "$t5" ]; then
	for i in 4 5 6 7 8 9 10 11; do skip "optimum-tiny-t5" "fixtures not found at $t5"; done
	finish
fi
mkdir "$tmp/t5"
for f in encoder_model decoder_model decoder_with_past_model decoder_model_merged; do
	cp "$t5/$f.onnx" "$tmp/t5/"
done
sum_before=$(cat "$tmp"/t5/*.onnx | cksum)
check "t5: dedup runs on the bundle" "$ONNXPASS" -q run dedup -i "$tmp/t5" -o "$tmp/t5-out" \
	--report "$tmp/t5.json"
[ "$(cat "$tmp"/t5/*.onnx | cksum)" = "$sum_before" ] && ok "t5: inputs unchanged" ||
	not_ok "t5: inputs were modified"
[ -f "$tmp/t5-out/shared_weights.data" ] && ok "t5: one shared data file" ||
	not_ok "t5: no shared data file"
before=$(size_of "$tmp"/t5/*.onnx)
after=$(size_of "$tmp"/t5-out/*)
saved=$(( $(json_num shared_bytes "$tmp/t5.json") + $(json_num merged_bytes "$tmp/t5.json") ))
emb=$(( 32 * 1024 * 4 * 3 ))
diag "t5 bundle: $before bytes -> $after bytes; report: $saved duplicate bytes"
[ "$saved" -ge "$emb" ] && ok "t5: the embedding's 3 extra copies are among the duplicates ($saved >= $emb)" ||
	not_ok "t5: only $saved duplicate bytes found (want >= $emb)"
# the files shrink by the duplicate bytes, less alignment padding
[ $((before - after)) -ge $((saved - 4096 * 16)) ] && ok "t5: bundle shrinks by the duplicate bytes" ||
	not_ok "t5: bundle shrank by $((before - after)) bytes, duplicates were $saved"
if ort compare-dir "$tmp/t5" "$tmp/t5-out" exact >"$tmp/t5.ort"; then
	ok "t5: ORT outputs of all four models bitwise identical"
else
	not_ok "t5: ORT outputs differ: $(cat "$tmp/t5.ort")"
fi
# running dedup again finds nothing left
check "t5: dedup of the output runs" "$ONNXPASS" -q run dedup -i "$tmp/t5-out" -o "$tmp/t5-again" \
	--report "$tmp/again.json"
[ "$(json_num merged_tensors "$tmp/again.json")" = 0 ] && ok "t5: nothing left to merge" ||
	not_ok "t5: second run merged $(json_num merged_tensors "$tmp/again.json")"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
