/* SPDX-License-Identifier: MIT */
/* drop-input: removes a graph input that a model reads only through its
 * shape, re-deriving each such read from the other inputs.  The with-past
 * decoder of optimum seq2seq exports declares encoder_hidden_states and
 * reads only Shape(encoder_hidden_states)[1], which encoder_attention_mask
 * carries too (the same symbolic dim), so the decoder no longer needs the
 * encoder states once the cache initializer computes the cross K/V.
 */
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

static bool not_dropped(const char *name, void *data)
{
	const struct onnxpass_params *p = data;

	for (size_t i = 0; i < onnxpass_params_list_count(p, "inputs"); i++)
		if (!strcmp(onnxpass_params_list_item(p, "inputs", i), name))
			return false;
	return true;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	int changes = 0;

	(void)bundle;
	for (size_t m = 0; m < onnxpass_ctx_model_count(ctx); m++) {
		struct onnxpass_graph *g = onnxpass_model_graph(onnxpass_ctx_model(ctx, m));
		size_t reshapes = 0, reads = 0;
		int rc;

		for (size_t i = 0; i < onnxpass_params_list_count(params, "inputs"); i++) {
			const char *name = onnxpass_params_list_item(params, "inputs", i);
			struct onnxpass_value *v = onnxpass_graph_value(g, name);

			if ((!v || !onnxpass_value_is_graph_input(v)) &&
			    strcmp(onnxpass_params_string(params, "missing"), "ignore"))
				return onnxpass_ctx_fail(ctx, ONNXPASS_ENOTFOUND, "%s has no graph input '%s'",
							 onnxpass_ctx_role(ctx, m), name);
		}
		if ((rc = onnxpass_graph_reroute_dims(g, ctx, not_dropped, (void *)params, &reshapes, &reads)))
			return onnxpass_ctx_fail(ctx, rc, "%s: cannot reroute shape reads",
						 onnxpass_ctx_role(ctx, m));
		onnxpass_graph_remove_unused(g);
		for (size_t i = 0; i < onnxpass_params_list_count(params, "inputs"); i++) {
			const char *name = onnxpass_params_list_item(params, "inputs", i);
			struct onnxpass_value *v = onnxpass_graph_value(g, name);

			if (!v || !onnxpass_value_is_graph_input(v))
				continue;	/* missing = ignore */
			if (onnxpass_value_use_count(v)) {
				struct onnxpass_node *u = onnxpass_value_use(v, 0, NULL);

				return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
							 "%s reads input '%s' (%s '%s'), not only its shape: it cannot be dropped",
							 onnxpass_ctx_role(ctx, m), name,
							 u ? onnxpass_node_op_type(u) : "?",
							 u ? onnxpass_node_name(u) : "?");
			}
			onnxpass_graph_remove_input(g, name);
			changes++;
		}
		changes += (int)(reads + reshapes);
		onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s: %zu shape reads rerouted", onnxpass_ctx_role(ctx, m), reads);
	}
	return changes;
}

static const struct onnxpass_param params[] = {
	{ "inputs", ONNXPASS_PARAM_LIST, NULL, "graph inputs to drop", 0, 0, NULL, true },
	{ "missing", ONNXPASS_PARAM_ENUM, "error", "a model without the input: error or ignore", 0, 0,
	  "error|ignore", false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "drop-input",
	.version = "1.0",
	.summary = "drop graph inputs read only through their shape",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"For each selected model, every read of INPUTS' dims (Gather(Shape(x), i)) is\n"
		"re-derived from another graph input with the same dim (same symbolic name),\n"
		"then the inputs are removed.  A model that reads an input's data is refused.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
