#!/bin/sh
# SPDX-License-Identifier: MIT
# extract (cache-init): the cross-attention K/V of every decoder layer cut
# out of the no-past decoder of real exports.  The batch read through the
# decoder's own hidden states is re-derived, so the cut model has only the
# K/V nodes (12 for the 2-layer T5 family) and a dynamic batch, and ORT
# gives bitwise the decoder's own present.*.encoder.* outputs.  A real data
# dependency on another input is refused.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
[ -d "${FIXTURES:-}" ] || skip_all "fixtures not found"
tmp=$(mktmp extract)
trap 'rm -rf "$tmp"' EXIT
plan 22
for fm in madlad-like:12 t5:12 mt5:12 bart:16 marian:16 whisper:14; do
	f=${fm%:*} want=${fm#*:}
	mkdir -p "$tmp/$f"
	cp "$FIXTURES/optimum-tiny-$f/decoder_model.onnx" "$tmp/$f/"
	if ! "$ONNXPASS" -q run extract from=decoder_model 'outputs=present.*.encoder.*' inputs=encoder_hidden_states \
		as=cache_initializer -i "$tmp/$f" -o "$tmp/$f-out"; then
		not_ok "$f: extract failed"; not_ok "$f: (no model)"; not_ok "$f: (no model)"
		continue
	fi
	info=$("$ONNXPASS" info "$tmp/$f-out/cache_initializer.onnx")
	nodes=$(echo "$info" | sed -n 's/^nodes: *\([0-9]*\).*/\1/p')
	[ "$nodes" = "$want" ] && ok "$f: $nodes nodes" || not_ok "$f: $nodes nodes, want $want"
	echo "$info" | grep -q '^    encoder_hidden_states  *FLOAT    \[batch_size, ' && [ "$(echo "$info" | grep -c '^    present\.')" -ge 4 ] &&
		ok "$f: one input, dynamic batch" || not_ok "$f: inputs: $(echo "$info" | sed -n '/^inputs/,/^outputs/p')"
	if r=$(ort sub-check "$tmp/$f/decoder_model.onnx" "$tmp/$f-out/cache_initializer.onnx"); then
		ok "$f: $r"
	else
		not_ok "$f: $r"
	fi
done
"$ONNXPASS" run extract from=decoder_model outputs=logits inputs=encoder_hidden_states as=x \
	-i "$tmp/t5" -o "$tmp/bad" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "depend on input 'input_ids' (read by" "$tmp/err" && [ ! -e "$tmp/bad" ] &&
	ok "logits from encoder_hidden_states alone: refused, nothing written" || not_ok "refusal: $(cat "$tmp/err")"
"$ONNXPASS" run extract from=nothere outputs=x inputs=y as=z -i "$tmp/t5" -o "$tmp/bad" 2>"$tmp/err"
grep -q "no model 'nothere' to extract from" "$tmp/err" && ok "unknown source model refused" || not_ok "$(cat "$tmp/err")"
"$ONNXPASS" run extract from=decoder_model 'outputs=nomatch.*' inputs=encoder_hidden_states as=z -i "$tmp/t5" -o "$tmp/bad" 2>"$tmp/err"
grep -q "no output of decoder_model matches 'nomatch.\*'" "$tmp/err" && ok "outputs matching nothing refused" || not_ok "$(cat "$tmp/err")"
# every model this test wrote (and read) is valid ONNX
checked "every model in the test's folder" $(find "$tmp" -name '*.onnx' | sort)
finish
