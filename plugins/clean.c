/* SPDX-License-Identifier: MIT */
/* clean: the graph tidying real exports need before anything else.
 *
 *  - Constant nodes become initializers;
 *  - nodes whose inputs are all constants are evaluated (integer and float
 *    shape arithmetic: Shape of a constant, Gather, Unsqueeze, Squeeze,
 *    Concat, Cast, Add/Sub/Mul/Div/Neg, Reshape, Range, ConstantOfShape)
 *    when the result is no bigger than fold_max_bytes or than
 *    the constants it reads and they have no other reader: folding never
 *    grows the model;
 *  - Identity, inference-mode Dropout and Cast to the type a value already
 *    has are bypassed;
 *  - nodes and initializers nothing reads are removed.
 * Subgraphs (If/Loop/Scan bodies) are cleaned too.  Graph outputs keep
 * their names and producers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

struct clean {
	struct onnxpass_ctx *ctx;
	int64_t max_bytes;
	int64_t constants, folded, bypassed, removed, noops;
};

/* Folding evaluates at most this many elements per tensor. */
#define FOLD_MAX_ELEMS (1 << 20)

/* ------------------------------------------------------------------ */

static int to_initializer(struct clean *c, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_tensor *t = onnxpass_node_attr_tensor(n, "value"), *copy;
	const char *out = onnxpass_node_output(n, 0);
	struct onnxpass_value *ov = onnxpass_node_output_value(n, 0);
	char *name;

	if (onnxpass_node_attr_count(n) != 1 || !t || !ov || onnxpass_value_is_graph_output(ov) ||
	    onnxpass_tensor_dtype(t) == ONNXPASS_DT_STRING)
		return 0;
	name = strdup(out);
	if (!name)
		return ONNXPASS_ENOMEM;
	copy = onnxpass_tensor_share(t, name);
	onnxpass_graph_remove_node(g, n);
	if (!copy || onnxpass_graph_add_initializer(g, copy)) {
		free(name);
		onnxpass_tensor_free(copy);
		return onnxpass_ctx_fail(c->ctx, ONNXPASS_ENOMEM, "cannot turn Constant '%s' into an initializer", out);
	}
	free(name);
	c->constants++;
	return 1;
}

/* A node whose inputs are all constants becomes an initializer holding
 * its value (computed by the library's shape engine, exactly as ONNX
 * Runtime would), unless that grows the model. */
static int fold(struct clean *c, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_value *ov = onnxpass_node_output_value(n, 0);
	struct onnxpass_tensor *t;
	int64_t in_bytes = 0, out_bytes;
	bool shared = false;
	int rc;

	if (!ov || onnxpass_value_is_graph_output(ov))
		return 0;
	rc = onnxpass_node_fold(n, FOLD_MAX_ELEMS, &t);
	if (rc == ONNXPASS_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < onnxpass_node_input_count(n); i++) {
		struct onnxpass_value *iv = onnxpass_node_input_value(n, i);

		in_bytes += (int64_t)onnxpass_tensor_nbytes(onnxpass_value_initializer(iv));
		shared |= iv && onnxpass_value_use_count(iv) > 1;
	}
	out_bytes = (int64_t)onnxpass_tensor_nbytes(t);
	/* an input others read stays: folding would store its data twice
	 * (dedup's Transpose/Cast of a table) */
	if (out_bytes > c->max_bytes && (out_bytes > in_bytes || shared)) {
		onnxpass_tensor_free(t);
		return 0;
	}
	onnxpass_graph_remove_node(g, n);
	if (onnxpass_graph_add_initializer(g, t)) {
		onnxpass_tensor_free(t);
		return ONNXPASS_ENOMEM;
	}
	c->folded++;
	return 1;
}

/* Removes n, whose output equals its input 0, pointing readers at the
 * input: 1, or ENOMEM. */
static int drop_node(struct onnxpass_graph *g, struct onnxpass_node *n)
{
	char *from = strdup(onnxpass_node_output(n, 0)), *to = strdup(onnxpass_node_input(n, 0));

	if (from && to) {
		onnxpass_graph_remove_node(g, n);
		onnxpass_graph_replace_uses(g, from, to, false);
	}
	free(from);
	free(to);
	return from && to ? 1 : ONNXPASS_ENOMEM;
}

/* Identity, inference Dropout, a Cast to the type it already has. */
static int bypass(struct clean *c, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_value *in = onnxpass_node_input_value(n, 0), *out = onnxpass_node_output_value(n, 0);
	bool ok = false;
	int rc;

	if (!in || !out || onnxpass_value_is_graph_output(out))
		return 0;
	if (onnxpass_node_is(n, NULL, "Identity")) {
		ok = true;
	} else if (onnxpass_node_is(n, NULL, "Dropout")) {
		/* no mask read, no training_mode input */
		ok = onnxpass_node_input_count(n) < 3 &&
		     (onnxpass_node_output_count(n) < 2 || !onnxpass_node_output_value(n, 1) ||
		      !onnxpass_value_use_count(onnxpass_node_output_value(n, 1)));
	} else if (onnxpass_node_is(n, NULL, "Cast")) {
		int64_t to_t;

		ok = !onnxpass_node_attr_int(n, "to", &to_t) && onnxpass_value_dtype(in) == to_t &&
		     to_t != 0;
	}
	if (!ok)
		return 0;
	rc = drop_node(g, n);
	c->bypassed += rc > 0;
	return rc;
}

/* Same rank and, dim by dim, the same size or the same symbol. */
static bool same_shape(const struct onnxpass_shapes *sh, struct onnxpass_value *a, struct onnxpass_value *b)
{
	int64_t da[ONNXPASS_MAX_RANK], db[ONNXPASS_MAX_RANK];
	int ra = onnxpass_shapes_get(sh, a, da, ONNXPASS_MAX_RANK), rb = onnxpass_shapes_get(sh, b, db, ONNXPASS_MAX_RANK);

	if (ra < 0 || ra != rb || ra > ONNXPASS_MAX_RANK)
		return false;
	for (int i = 0; i < ra; i++)
		if (da[i] != db[i])
			return false;
	return true;
}

/* With inferred shapes and types: a Reshape or Expand that keeps its
 * input's shape, a Cast to the type the input has without declaring it. */
static int noop_by_shape(struct clean *c, struct onnxpass_graph *g)
{
	struct onnxpass_shapes *sh = onnxpass_shapes_infer(g, NULL, NULL, 0);
	size_t count;
	struct onnxpass_node **nodes = sh ? onnxpass_graph_nodes(g, &count) : NULL;
	int changes = 0;

	if (!nodes) {
		onnxpass_shapes_free(sh);
		return ONNXPASS_ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		struct onnxpass_node *n = nodes[i];
		struct onnxpass_value *in = onnxpass_node_input_value(n, 0), *out = onnxpass_node_output_value(n, 0);
		bool noop = false;
		int64_t t;

		if (!in || !out || onnxpass_value_is_graph_output(out))
			continue;
		if (onnxpass_node_is(n, NULL, "Reshape") || onnxpass_node_is(n, NULL, "Expand"))
			noop = same_shape(sh, in, out);
		else if (onnxpass_node_is(n, NULL, "Cast") && !onnxpass_node_attr_int(n, "to", &t))
			noop = t && onnxpass_shapes_dtype(sh, in) == t;
		if (!noop)
			continue;
		if (drop_node(g, n) < 0) {
			changes = ONNXPASS_ENOMEM;
			break;
		}
		c->noops++;
		changes++;
	}
	free(nodes);
	onnxpass_shapes_free(sh);
	return changes;
}

static int clean_graph(struct clean *c, struct onnxpass_graph *g)
{
	size_t count;
	struct onnxpass_node **nodes;
	int changes = 0, rc = 0;

	if (onnxpass_graph_toposort(g))
		onnxpass_log(c->ctx, ONNXPASS_LOG_INFO, "graph '%s' is not sortable: folding in file order",
			     onnxpass_graph_name(g));
	nodes = onnxpass_graph_nodes(g, &count);
	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++) {
		struct onnxpass_node *n = nodes[i];

		for (size_t k = 0; k < onnxpass_node_subgraph_count(n) && rc >= 0; k++) {
			rc = clean_graph(c, onnxpass_node_subgraph(n, k));
			changes += rc > 0 ? rc : 0;
		}
		if (rc < 0 || onnxpass_node_is_removed(n))
			continue;
		if (onnxpass_node_is(n, NULL, "Constant"))
			rc = to_initializer(c, g, n);
		else
			rc = bypass(c, g, n);
		if (rc == 0 && !onnxpass_node_is_removed(n))
			rc = fold(c, g, n);
		changes += rc > 0 ? rc : 0;
	}
	free(nodes);
	if (rc < 0)
		return rc;
	if ((rc = noop_by_shape(c, g)) < 0)
		return rc;
	changes += rc;
	{
		size_t r = onnxpass_graph_remove_unused(g);

		c->removed += (int64_t)r;
		changes += (int)r;
	}
	return changes;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct clean c = { ctx, onnxpass_params_int(params, "fold_max_bytes"), 0, 0, 0, 0, 0 };
	int total = 0;

	(void)bundle;
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++) {
		int rc = clean_graph(&c, onnxpass_model_graph(onnxpass_ctx_model(ctx, i)));

		if (rc < 0)
			return rc;
		total += rc;
	}
	onnxpass_ctx_report_int(ctx, "constants_to_initializers", c.constants);
	onnxpass_ctx_report_int(ctx, "folded", c.folded);
	onnxpass_ctx_report_int(ctx, "bypassed", c.bypassed);
	onnxpass_ctx_report_int(ctx, "noop_by_shape", c.noops);
	onnxpass_ctx_report_int(ctx, "removed", c.removed);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO,
		     "%lld Constant nodes to initializers, %lld folded, %lld bypassed, "
		     "%lld no-op Reshape/Expand/Cast by inferred shape, %lld removed",
		     (long long)c.constants, (long long)c.folded, (long long)c.bypassed, (long long)c.noops,
		     (long long)c.removed);
	return total;
}

static const struct onnxpass_param params[] = {
	{ "fold_max_bytes", ONNXPASS_PARAM_INT, "1024",
	  "fold a node when its result is at most this big, or no bigger than its constant inputs",
	  0, 1e12, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "clean",
	.version = "1.0",
	.summary = "constants to initializers, constant folding, Identity/Dropout/no-op Cast removal, dead code",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"Constant nodes become initializers; nodes whose inputs are all constant are\n"
		"evaluated (Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Add, Sub, Mul, Div,\n"
		"Neg, Reshape, Range, ConstantOfShape on integer and float values) when the result\n"
		"is at most fold_max_bytes or no bigger than what it reads, so the model never\n"
		"grows; Identity, inference Dropout and Cast to the same type are bypassed, and\n"
		"so are Reshape and Expand that keep their input's shape and Cast to the type\n"
		"the input has, by symbolic shape and type inference (equal dim_params are one\n"
		"size); then nodes and initializers nothing reads are removed.  Graph outputs\n"
		"are kept.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
