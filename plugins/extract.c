/* SPDX-License-Identifier: MIT */
/* extract: cuts out of one model the subgraph that computes chosen outputs
 * from chosen inputs into a new model of the bundle (cache-init extraction:
 * the cross-attention K/V of every decoder layer from encoder_hidden_states).
 *
 * In real exports those outputs also read other inputs, but only through
 * their shapes: a K/V Reshape takes its batch size from the decoder's own
 * hidden states,
 *
 *   input_ids ... hidden ─ Shape ─ Gather(0) ─ Unsqueeze ─┐
 *                                       -1, heads, head_dim ─ Concat ─┐
 *   encoder_hidden_states ─ MatMul(Wk) ─────────────────────────── Reshape ─ Transpose ─ present.i.encoder.key
 *
 * Such reads are re-derived from the allowed inputs by dimension
 * provenance: the batch of hidden is input_ids' "batch_size", which is
 * encoder_hidden_states' "batch_size", which is the Reshape data's own
 * dim 0, so the shape becomes the constant [0, -1, heads, head_dim].  When
 * a dim is not the data's own but an allowed input has it, the read becomes
 * Shape(that input).  Only a real data dependency is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

static bool allowed_input(const char *name, void *data)
{
	const struct onnxpass_params *p = data;

	for (size_t i = 0; i < onnxpass_params_list_count(p, "inputs"); i++)
		if (!strcmp(onnxpass_params_list_item(p, "inputs", i), name))
			return true;
	return false;
}

static bool matches(const struct onnxpass_params *p, const char *name)
{
	for (size_t i = 0; i < onnxpass_params_list_count(p, "outputs"); i++)
		if (onnxpass_glob_match(onnxpass_params_list_item(p, "outputs", i), name))
			return true;
	return false;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	const char *from = onnxpass_params_string(params, "from");
	const char *as = onnxpass_params_string(params, "as");
	struct onnxpass_model *src = onnxpass_bundle_find(bundle, from), *m = NULL;
	struct onnxpass_graph *sg;
	const char **ins = NULL, **outs = NULL;
	size_t n_in = 0, n_out = 0;
	struct onnxpass_graph *g;
	size_t reshapes = 0, reads = 0;
	char err[512] = "", file[256];
	int rc = 0, changes;

	if (!src)
		return onnxpass_ctx_fail(ctx, ONNXPASS_ENOTFOUND, "the bundle has no model '%s' to extract from", from);
	if (onnxpass_bundle_index(bundle, as) >= 0)
		return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "the bundle has a model '%s' already", as);
	sg = onnxpass_model_graph(src);
	ins = calloc(onnxpass_graph_input_count(sg) + 1, sizeof(*ins));
	outs = calloc(onnxpass_graph_output_count(sg) + 1, sizeof(*outs));
	if (!ins || !outs) {
		rc = ONNXPASS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < onnxpass_params_list_count(params, "inputs"); i++) {
		struct onnxpass_value *v = onnxpass_graph_value(sg, onnxpass_params_list_item(params, "inputs", i));

		if (!v || !onnxpass_value_is_graph_input(v)) {
			rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "%s has no graph input '%s'", from,
					       onnxpass_params_list_item(params, "inputs", i));
			goto out;
		}
	}
	for (size_t i = 0; i < onnxpass_graph_input_count(sg); i++)
		ins[n_in++] = onnxpass_value_name(onnxpass_graph_input(sg, i));
	for (size_t i = 0; i < onnxpass_graph_output_count(sg); i++)
		if (matches(params, onnxpass_value_name(onnxpass_graph_output(sg, i))))
			outs[n_out++] = onnxpass_value_name(onnxpass_graph_output(sg, i));
	if (!n_out) {
		rc = onnxpass_ctx_fail(ctx, ONNXPASS_ENOTFOUND, "no output of %s matches '%s'", from,
				       onnxpass_params_string(params, "outputs"));
		goto out;
	}
	m = onnxpass_model_extract(src, ins, n_in, outs, n_out, as, err, sizeof(err));
	if (!m) {
		rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "cannot extract from %s: %s", from, err);
		goto out;
	}
	g = onnxpass_model_graph(m);
	onnxpass_graph_toposort(g);
	rc = onnxpass_graph_reroute_dims(g, ctx, allowed_input, (void *)params, &reshapes, &reads);
	if (rc)
		goto out;
	onnxpass_graph_remove_unused(g);
	/* what still reads another input reads its data: refuse */
	for (size_t i = onnxpass_graph_input_count(g); i-- > 0;) {
		struct onnxpass_value *v = onnxpass_graph_input(g, i);
		char *name;

		if (allowed_input(onnxpass_value_name(v), (void *)params))
			continue;
		if (onnxpass_value_use_count(v)) {
			struct onnxpass_node *u = onnxpass_value_use(v, 0, NULL);

			rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
					       "the outputs of %s matching '%s' depend on input '%s' (read by %s '%s'), not only on %s",
					       from, onnxpass_params_string(params, "outputs"), onnxpass_value_name(v),
					       onnxpass_node_op_type(u), onnxpass_node_name(u),
					       onnxpass_params_string(params, "inputs"));
			goto out;
		}
		name = strdup(onnxpass_value_name(v));
		onnxpass_graph_remove_input(g, name);
		free(name);
	}
	snprintf(file, sizeof(file), "%s.onnx", as);
	if (onnxpass_params_is_set(params, "file"))
		snprintf(file, sizeof(file), "%s", onnxpass_params_string(params, "file"));
	changes = (int)onnxpass_graph_node_count(g);
	rc = onnxpass_bundle_add(bundle, as, file, m);
	if (rc) {
		rc = onnxpass_ctx_fail(ctx, rc, "cannot add model '%s' (%s) to the bundle", as, file);
		goto out;
	}
	onnxpass_ctx_report_int(ctx, "outputs", (int64_t)n_out);
	onnxpass_ctx_report_int(ctx, "nodes", changes);
	onnxpass_ctx_report_int(ctx, "reshapes_folded", (int64_t)reshapes);
	onnxpass_ctx_report_int(ctx, "shape_reads_rerouted", (int64_t)reads);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s: %zu outputs in %d nodes (%lld Reshape shapes folded, %lld shape reads rerouted)",
		     as, n_out, changes, (long long)reshapes, (long long)reads);
	m = NULL;
	rc = changes;
out:
	onnxpass_model_free(m);
	free(ins);
	free(outs);
	return rc;
}

static const struct onnxpass_param params[] = {
	{ "from", ONNXPASS_PARAM_STRING, NULL, "role of the model to cut from", 0, 0, NULL, true },
	{ "outputs", ONNXPASS_PARAM_LIST, NULL, "output names or globs to compute (e.g. present.*.encoder.*)",
	  0, 0, NULL, true },
	{ "inputs", ONNXPASS_PARAM_LIST, NULL, "the graph inputs the new model takes", 0, 0, NULL, true },
	{ "as", ONNXPASS_PARAM_STRING, NULL, "role of the new model", 0, 0, NULL, true },
	{ "file", ONNXPASS_PARAM_STRING, NULL, "its file name (default: ROLE.onnx)", 0, 0, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "extract",
	.version = "1.0",
	.summary = "cut the subgraph computing chosen outputs from chosen inputs into a new model",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"Copies from model FROM the nodes that compute OUTPUTS (globs) into a new model AS\n"
		"whose graph inputs are INPUTS; weights are shared, not copied.  Where the outputs\n"
		"read another input only through its shape (a Reshape's batch size taken from\n"
		"the decoder's hidden states), the dim is re-derived from INPUTS by dimension\n"
		"provenance (symbolic dim names): a Reshape shape becomes a constant such as\n"
		"[0, -1, heads, head_dim], or the dim is read off an allowed input.  A real data\n"
		"dependency on another input is refused.  Batch stays dynamic.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
