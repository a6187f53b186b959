#!/bin/sh
# SPDX-License-Identifier: MIT
# fusion on ONNX Runtime's own fusion test graphs (../shared/fixtures/
# ort-fusion-patterns): every graph goes through the pass and still runs in
# ORT with outputs within 1e-4 (relative to the peak) of the original run
# without ORT's fusions; graphs the test harness cannot feed (shape inputs
# given random values) are skipped with ORT's reason.  For the patterns the
# pass knows, the fused-op counts are asserted, including two that must
# stay unfused: a Gelu whose inner value is a graph output, and a skip norm
# whose input is float16 while its weight is float32.  A few of these
# graphs contradict themselves (a Reshape of 6000 elements into 4000): the
# pass refuses them naming the node, and ORT must fail on them too.
. "$TOP_SRCDIR/t/lib.sh"
need_ort
P=${FIXTURES:-}/ort-fusion-patterns
[ -d "$P" ] || skip_all "fixtures not found"
tmp=$(mktmp fusionpat)
trap 'rm -rf "$tmp"' EXIT
expect() {
	case $1 in
	gelu | gelu_format2_0 | gelu_format2_1 | gelu_format2_1_use_graph_input | gelu_opset20)
		echo '"com.microsoft:Gelu": 1' ;;
	fast_gelu | fast_gelu2 | fast_gelu2_use_graph_input | fast_gelu_use_graph_input | \
	fast_gelu2_with_bias | fast_gelu2_with_bias_use_graph_input | fast_gelu_with_bias | \
	fast_gelu_with_bias_use_graph_input | bias_onnx_fast_gelu_fusion)
		echo '"com.microsoft:FastGelu": 1}' ;;
	bias_gelu_fusion | bias_onnx_gelu_fusion) echo '"com.microsoft:BiasGelu": 1}' ;;
	layer_norm) echo '"LayerNormalization": 1}' ;;
	layer_norm_shared_input) echo '"LayerNormalization": 2}' ;;
	layer_norm_t5) echo '"SimplifiedLayerNormalization": 1}' ;;
	skip_layer_norm_format1 | skip_layer_norm_format2 | skip_layer_norm_format1_partial | \
	skip_layer_norm_format2_partial | skip_layer_norm_format1_graph_output | skip_layer_norm_format2_graph_output)
		echo '"Add": 1, "com.microsoft:SkipLayerNormalization": 1}' ;;
	skip_layer_norm_format3 | skip_layer_norm_format3_graph_output | skip_layer_norm_no_beta)
		echo '"com.microsoft:SkipLayerNormalization": 1}' ;;
	gelu_format2_0_with_bias_use_graph_output) echo '"Erf": 1' ;;
	skip_layer_norm_no_beta_with_cast) echo '"Add": 1, "LayerNormalization": 1}' ;;
	esac
}
files=$(cd "$P" && ls *.onnx)
plan $(($(echo "$files" | wc -l) * 2))
for f in $files; do
	b=${f%.onnx}
	if ! "$ONNXPASS" -q run fusion -i "$P/$f" -o "$tmp/$f" --force 2>"$tmp/err"; then
		if grep -q "^onnxpass: error: cannot read model '.*': node '.*' (.*): " "$tmp/err" &&
			! ort compare "$P/$f" "$P/$f" exact noopt >/dev/null 2>&1; then
			ok "$b: refused as contradictory ($(sed 's/.*: node/node/' "$tmp/err")), and ORT cannot run it either"
			skip "$b: in ORT" "refused before work"
		else
			not_ok "$b: fusion failed: $(cat "$tmp/err")"
			skip "$b: in ORT" "fusion failed"
		fi
		continue
	fi
	want=$(expect "$b")
	ops=$("$ONNXPASS" info --json "$tmp/$f")
	if [ -z "$want" ]; then
		ok "$b: fusion ran"
	else
		case $ops in
		*"$want"*) ok "$b: $want" ;;
		*) not_ok "$b: want $want, got $(echo "$ops" | sed 's/.*"ops": //;s/, "initializers.*//')" ;;
		esac
	fi
	if r=$(ort compare "$P/$f" "$tmp/$f" maxrel=1e-4 noopt 2>/dev/null); then
		ok "$b: $r"
	elif base=$(ort compare "$P/$f" "$P/$f" exact noopt 2>/dev/null); then
		not_ok "$b: $r"
	else
		skip "$b: in ORT" "the original does not run (reproducibly) on generated inputs: $(echo "$base" | head -c 120)"
	fi
done
finish
