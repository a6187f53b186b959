/* SPDX-License-Identifier: MIT */
/* embedding-split: moves the token-embedding lookup of each selected model
 * into one model of its own, so the [V,H] table exists once.
 *
 *   input_ids ─(Reshape/Cast/...)─> Gather(table[V,H]) ─> X ─> rest
 *
 * becomes, in each selected model,   embed_matrix (graph input) ─> rest
 * and a new model                    input_ids ─> ... ─> Gather ─> embed_matrix
 *
 * The embedding is found by structure: a Gather on axis 0 whose data is a
 * 2-D float initializer and whose indices come from an integer graph input
 * through shape-only ops.  Lookups with computed indices (T5's relative
 * attention bias) are not embeddings and are left alone.  with_lm_head
 * moves a tied lm_head (MatMul over Transpose(table)) into the same new
 * model: hidden states -> logits, the table once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

struct lookup {
	struct onnxpass_node *gather;
	struct onnxpass_tensor *table;
	struct onnxpass_value *ids;	/* the graph input */
	int dynamic_dims;	/* symbolic dims of ids: the most general wins */
	/* with_lm_head: the MatMul reading the table through Transpose(1, 0),
	 * its hidden-state input and the graph output it makes (logits) */
	struct onnxpass_node *lm_head;
	const char *hidden, *logits;
};

static bool passthrough(struct onnxpass_node *n)
{
	static const char *ops[] = { "Reshape", "Cast", "Identity", "Squeeze", "Unsqueeze",
				     "Flatten" };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (onnxpass_node_is(n, NULL, ops[i]))
			return true;
	return false;
}

/* The graph input the indices come from, or NULL if they are computed. */
static struct onnxpass_value *ids_source(struct onnxpass_node *gather)
{
	struct onnxpass_value *v = onnxpass_node_input_value(gather, 1);

	for (int depth = 0; v && depth < 16; depth++) {
		struct onnxpass_node *p = onnxpass_value_producer(v, NULL);
		int dt;

		if (!p) {
			dt = onnxpass_value_dtype(v);
			return onnxpass_value_is_graph_input(v) && !onnxpass_value_initializer(v) &&
				       (dt == ONNXPASS_DT_INT64 || dt == ONNXPASS_DT_INT32)
				       ? v : NULL;
		}
		if (!passthrough(p))
			return NULL;
		v = onnxpass_node_input_value(p, 0);
	}
	return NULL;
}

static int find_lookup(struct onnxpass_ctx *ctx, size_t mi, const char *hint, struct lookup *out)
{
	struct onnxpass_graph *g = onnxpass_model_graph(onnxpass_ctx_model(ctx, mi));
	int found = 0;

	for (size_t i = 0; i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);
		struct onnxpass_value *tv, *ids;
		struct onnxpass_tensor *t;
		int64_t axis = 0;

		if (!onnxpass_node_is(n, NULL, "Gather"))
			continue;
		onnxpass_node_attr_int(n, "axis", &axis);
		tv = onnxpass_node_input_value(n, 0);
		t = tv ? onnxpass_value_initializer(tv) : NULL;
		if (axis != 0 || !t || onnxpass_tensor_rank(t) != 2 ||
		    (onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT &&
		     onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT16 &&
		     onnxpass_tensor_dtype(t) != ONNXPASS_DT_BFLOAT16))
			continue;
		if (hint && strcmp(hint, onnxpass_tensor_name(t)))
			continue;
		if (!onnxpass_node_is_embedding(n)) {
			onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s: Gather '%s' on '%s' reads factors (a rotary table): not an embedding",
				     onnxpass_ctx_role(ctx, mi), onnxpass_node_name(n), onnxpass_tensor_name(t));
			continue;
		}
		ids = ids_source(n);
		if (!ids) {
			onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s: Gather '%s' on '%s' has computed indices: not an embedding",
				     onnxpass_ctx_role(ctx, mi), onnxpass_node_name(n), onnxpass_tensor_name(t));
			continue;
		}
		if (found++) {
			return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
						 "%s: two embedding lookups ('%s' and '%s'); name the table with table = NAME",
						 onnxpass_ctx_role(ctx, mi), onnxpass_node_name(out->gather),
						 onnxpass_node_name(n));
		}
		out->gather = n;
		out->table = t;
		out->ids = ids;
		out->dynamic_dims = 0;
		for (int d = 0; d < onnxpass_value_rank(ids); d++) {
			int64_t dv;

			onnxpass_value_dim(ids, d, &dv, NULL);
			out->dynamic_dims += dv < 0;
		}
	}
	if (!found)
		return onnxpass_ctx_fail(ctx, ONNXPASS_ENOTFOUND,
					 "%s: no embedding lookup found (expected a Gather on a 2-D float initializer%s%s%s indexed by an integer graph input)",
					 onnxpass_ctx_role(ctx, mi), hint ? " named '" : "", hint ? hint : "",
					 hint ? "'" : "");
	return 0;
}

/* A node's output value reaching graph outputs: the one output it makes
 * (NULL when none or several; *count says how many). */
static struct onnxpass_value *only_output_from(struct onnxpass_graph *g, struct onnxpass_value *from, int *count)
{
	bool *reached = calloc(onnxpass_graph_node_count(g) + 1, sizeof(*reached));
	struct onnxpass_value *found = NULL;

	*count = 0;
	if (!reached || onnxpass_graph_reached_from(g, &from, 1, reached)) {
		free(reached);
		return NULL;
	}
	for (size_t i = 0; i < onnxpass_graph_output_count(g); i++) {
		struct onnxpass_value *o = onnxpass_graph_output(g, i);
		struct onnxpass_node *p = onnxpass_value_producer(o, NULL);
		bool hit = o == from;

		for (size_t k = 0; p && !hit && k < onnxpass_graph_node_count(g); k++)
			hit = reached[k] && onnxpass_graph_node(g, k) == p;
		if (hit) {
			found = o;
			(*count)++;
		}
	}
	free(reached);
	return *count == 1 ? found : NULL;
}

/* The lm_head of model mi: a MatMul reading l's table through a 2-D
 * Transpose, whose output reaches exactly one graph output.  0 when found
 * or when the model has none (l->lm_head NULL), or fails saying why. */
static int find_lm_head(struct onnxpass_ctx *ctx, size_t mi, struct lookup *l)
{
	struct onnxpass_graph *g = onnxpass_model_graph(onnxpass_ctx_model(ctx, mi));
	struct onnxpass_value *tv = onnxpass_graph_value(g, onnxpass_tensor_name(l->table));

	for (size_t i = 0; tv && i < onnxpass_value_use_count(tv); i++) {
		int in, count;
		struct onnxpass_node *t = onnxpass_value_use(tv, i, &in);
		struct onnxpass_value *o = onnxpass_node_output_value(t, 0), *out;
		const int64_t *perm;
		size_t np = 0;

		if (in != 0 || !onnxpass_node_is(t, NULL, "Transpose") || !o ||
		    (!onnxpass_node_attr_ints(t, "perm", &perm, &np) && (np != 2 || perm[0] != 1 || perm[1] != 0)))
			continue;
		for (size_t k = 0; k < onnxpass_value_use_count(o); k++) {
			struct onnxpass_node *mm = onnxpass_value_use(o, k, &in);

			if (in != 1 || !onnxpass_node_is(mm, NULL, "MatMul") || onnxpass_node_input_count(mm) != 2)
				continue;
			if (l->lm_head)
				return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
							 "%s: with_lm_head: two MatMuls ('%s' and '%s') read the embedding transposed",
							 onnxpass_ctx_role(ctx, mi), onnxpass_node_name(l->lm_head),
							 onnxpass_node_name(mm));
			out = only_output_from(g, onnxpass_node_output_value(mm, 0), &count);
			if (!out)
				return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
							 "%s: with_lm_head: the lm_head '%s' feeds %d graph outputs, not one",
							 onnxpass_ctx_role(ctx, mi), onnxpass_node_name(mm), count);
			l->lm_head = mm;
			l->hidden = onnxpass_value_name(onnxpass_node_input_value(mm, 0));	/* model-owned */
			l->logits = onnxpass_value_name(out);
		}
	}
	return 0;
}

/* What model mi's logits come from, when not the embedding's transpose:
 * a MatMul over a constant [H, V] making a graph output (true), for the
 * error. */
static bool describe_logits(struct onnxpass_ctx *ctx, size_t mi, const struct lookup *l, char *buf, size_t len)
{
	struct onnxpass_graph *g = onnxpass_model_graph(onnxpass_ctx_model(ctx, mi));

	snprintf(buf, len, "no MatMul reads the embedding transposed");
	for (size_t i = 0; i < onnxpass_graph_output_count(g); i++) {
		struct onnxpass_node *p = onnxpass_value_producer(onnxpass_graph_output(g, i), NULL);
		struct onnxpass_value *b = p && onnxpass_node_is(p, NULL, "MatMul") ? onnxpass_node_input_value(p, 1)
										 : NULL;
		struct onnxpass_tensor *t = b ? onnxpass_value_initializer(b) : NULL;

		if (t && onnxpass_tensor_rank(t) == 2 && onnxpass_tensor_dim(t, 1) == onnxpass_tensor_dim(l->table, 0)) {
			snprintf(buf, len, "'%s' comes from MatMul '%s' over '%s' [%lld, %lld], not the embedding's transpose "
				 "(dedup finds an exact transposed copy)",
				 onnxpass_value_name(onnxpass_graph_output(g, i)), onnxpass_node_name(p),
				 onnxpass_tensor_name(t), (long long)onnxpass_tensor_dim(t, 0),
				 (long long)onnxpass_tensor_dim(t, 1));
			return true;
		}
	}
	return false;
}

/* dst's type: the table's element type, src's first `keep` dims, then H
 * (unknown rank when src's is). */
static void set_rows_type(struct onnxpass_value *dst, struct onnxpass_value *src, int keep, struct lookup *l)
{
	int64_t dims[8];
	const char *params[8];

	if (keep < 0 || keep > 7) {
		onnxpass_value_set_type(dst, onnxpass_tensor_dtype(l->table), -1, NULL, NULL);
		return;
	}
	for (int d = 0; d < keep; d++)
		onnxpass_value_dim(src, d, &dims[d], &params[d]);
	dims[keep] = onnxpass_tensor_dim(l->table, 1);
	params[keep] = NULL;
	onnxpass_value_set_type(dst, onnxpass_tensor_dtype(l->table), keep + 1, dims, params);
}

/* The embedding output's type: ids dims, then H. */
static void set_embed_type(struct onnxpass_value *dst, struct lookup *l)
{
	set_rows_type(dst, l->ids, onnxpass_value_rank(l->ids), l);
}

/* The hidden state's type: the logits' dims with H last. */
static void set_hidden_type(struct onnxpass_value *dst, struct onnxpass_value *logits, struct lookup *l)
{
	int rank = onnxpass_value_rank(logits);

	set_rows_type(dst, logits, rank < 1 ? -1 : rank - 1, l);
}

/* Model mi reads its hidden state out as `hidden` (an Identity of the
 * lm_head's input) in place of the logits output; the lm_head's nodes
 * are left for remove_unused. */
static int hidden_out(struct onnxpass_ctx *ctx, size_t mi, struct lookup *l, const char *hidden)
{
	struct onnxpass_graph *g = onnxpass_model_graph(onnxpass_ctx_model(ctx, mi));
	struct onnxpass_value *lv = onnxpass_graph_value(g, l->logits), *hv;
	const char *in = l->hidden;
	const char *name = onnxpass_graph_fresh_name(g, hidden, "/identity");
	int pos = -1;

	bool same = !strcmp(in, hidden);	/* the export named it so already */

	if (!same && onnxpass_graph_value(g, hidden))
		return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "%s already has a value named '%s'",
					 onnxpass_ctx_role(ctx, mi), hidden);
	for (size_t i = 0; i < onnxpass_graph_output_count(g); i++)
		if (onnxpass_graph_output(g, i) == lv)
			pos = (int)i;
	if (!name || (!same && !onnxpass_graph_add_node(g, "Identity", NULL, name, &in, 1, &hidden, 1)) ||
	    !(hv = onnxpass_graph_add_output(g, hidden, pos)))
		return ONNXPASS_ENOMEM;
	set_hidden_type(hv, lv, l);	/* (while the logits keep their type) */
	return onnxpass_graph_remove_output(g, l->logits) ? ONNXPASS_ENOMEM : 0;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	const char *as = onnxpass_params_string(params, "as");
	const char *out_name = onnxpass_params_string(params, "output");
	const char *hint = onnxpass_params_string(params, "table");
	const char *hidden = onnxpass_params_string(params, "hidden");
	bool with = onnxpass_params_bool(params, "with_lm_head");
	size_t n = onnxpass_ctx_model_count(ctx), best = 0, heads = 0;
	int general;
	struct lookup *l = calloc(n ? n : 1, sizeof(*l));
	struct onnxpass_model *em = NULL;
	char err[512] = "", file[256];
	int64_t table_bytes;
	int rc = 0, changes = 0;

	if (!l)
		return ONNXPASS_ENOMEM;
	if (onnxpass_bundle_index(bundle, as) >= 0) {
		rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "the bundle has a model '%s' already", as);
		goto out;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = find_lookup(ctx, i, hint, &l[i]);
	if (rc)
		goto out;
	/* every model must look up the same table */
	for (size_t i = 1; i < n; i++) {
		bool same = onnxpass_tensor_equal(l[0].table, l[i].table);

		/* the compare touched both tables' pages: let them go */
		onnxpass_tensor_drop_pages(l[0].table);
		onnxpass_tensor_drop_pages(l[i].table);
		if (!same) {
			rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
					       "%s's table '%s' differs from %s's '%s': they cannot share one embedding model",
					       onnxpass_ctx_role(ctx, i), onnxpass_tensor_name(l[i].table),
					       onnxpass_ctx_role(ctx, 0), onnxpass_tensor_name(l[0].table));
			goto out;
		}
		if (l[i].dynamic_dims > l[best].dynamic_dims)
			best = i;
	}
	/* with the lm_head: cut from a model that has one, the one with the
	 * most general ids (a with-past decoder's [batch, 1] lookup may have
	 * that 1 folded into its reshapes) */
	general = l[best].dynamic_dims;
	for (size_t i = 0; with && i < n; i++) {
		if ((rc = find_lm_head(ctx, i, &l[i])))
			goto out;
		if (l[i].lm_head && (!heads++ || l[i].dynamic_dims > l[best].dynamic_dims))
			best = i;
	}
	if (with && heads && l[best].dynamic_dims < general)
		onnxpass_log(ctx, ONNXPASS_LOG_WARN,
			     "with_lm_head: cut from %s, whose input ids have fixed dims: the new model keeps them "
			     "(select a decoder without past too for general ones)",
			     onnxpass_ctx_role(ctx, best));
	/* every model's logits from the table's transpose, or none at all */
	for (size_t i = 0; with && i < n; i++) {
		if (l[i].lm_head || !describe_logits(ctx, i, &l[i], err, sizeof(err)))
			continue;
		rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "with_lm_head: %s: %s", onnxpass_ctx_role(ctx, i), err);
		goto out;
	}
	if (with && !heads) {
		rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "with_lm_head: no model reads the embedding transposed");
		goto out;
	}
	/* the embedding model, cut from the model with the most general ids */
	{
		const char *in = onnxpass_value_name(l[best].ids);
		const char *o = onnxpass_node_output(l[best].gather, 0);
		const char *ins[2] = { in, l[best].hidden }, *outs[2] = { o, l[best].logits };
		struct onnxpass_model *src = onnxpass_ctx_model(ctx, best);
		struct onnxpass_graph *eg;
		struct onnxpass_node *gn = NULL;

		em = onnxpass_model_extract(src, ins, with ? 2 : 1, outs, with ? 2 : 1, as, err, sizeof(err));
		if (!em) {
			rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "cannot cut the embedding out of %s: %s",
					       onnxpass_ctx_role(ctx, best), err);
			goto out;
		}
		eg = onnxpass_model_graph(em);
		/* the lookup itself (not another Gather, whatever the node order) */
		gn = onnxpass_value_producer(onnxpass_graph_value(eg, o), NULL);
		/* the output gets its public name */
		onnxpass_graph_remove_output(eg, o);
		if (!gn || onnxpass_node_set_output(gn, 0, out_name) ||
		    !onnxpass_graph_add_output(eg, out_name, -1)) {
			rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "cannot name the embedding output '%s'",
					       out_name);
			goto out;
		}
		set_embed_type(onnxpass_graph_value(eg, out_name), &l[best]);
		/* the lm_head's input gets its public name */
		if (with && strcmp(l[best].hidden, hidden)) {
			struct onnxpass_value *hv = onnxpass_graph_value(eg, hidden) ? NULL
						    : onnxpass_graph_add_input(eg, hidden, -1);

			if (!hv) {
				rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "cannot name the lm_head's input '%s'",
						       hidden);
				goto out;
			}
			set_hidden_type(hv, onnxpass_graph_value(onnxpass_model_graph(src), l[best].logits), &l[best]);
			onnxpass_graph_replace_uses(eg, l[best].hidden, hidden, false);
			onnxpass_graph_remove_input(eg, l[best].hidden);
		}
		/* the ids keep general dims (the with-past decoder says [batch, 1]) */
		{
			struct onnxpass_value *iv = onnxpass_graph_value(eg, in);
			int rank = onnxpass_value_rank(iv);

			if (rank == 2 && l[best].dynamic_dims >= general) {
				const int64_t dims[2] = { -1, -1 };
				const char *p[2] = { "batch_size", "sequence_length" };
				const int64_t od[3] = { -1, -1, onnxpass_tensor_dim(l[best].table, 1) };
				const char *op[3] = { "batch_size", "sequence_length", NULL };

				onnxpass_value_set_type(iv, onnxpass_value_dtype(iv), 2, dims, p);
				onnxpass_value_set_type(onnxpass_graph_value(eg, out_name),
							onnxpass_tensor_dtype(l[best].table), 3, od, op);
				if (with) {	/* hidden states and logits too */
					const int64_t ld[3] = { -1, -1, onnxpass_tensor_dim(l[best].table, 0) };

					onnxpass_value_set_type(onnxpass_graph_value(eg, hidden),
								onnxpass_tensor_dtype(l[best].table), 3, od, op);
					if (onnxpass_value_rank(onnxpass_graph_value(eg, l[best].logits)) == 3)
						onnxpass_value_set_type(onnxpass_graph_value(eg, l[best].logits),
									onnxpass_value_dtype(onnxpass_graph_value(
										eg, l[best].logits)),
									3, ld, op);
				}
			}
		}
	}
	/* (the rewiring below frees the tables of the models) */
	table_bytes = (int64_t)onnxpass_tensor_nbytes(l[0].table);
	/* each model reads embed_matrix instead of its lookup */
	for (size_t i = 0; i < n; i++) {
		struct onnxpass_model *m = onnxpass_ctx_model(ctx, i);
		struct onnxpass_graph *g = onnxpass_model_graph(m);
		char *x = strdup(onnxpass_node_output(l[i].gather, 0));
		struct onnxpass_value *v;

		if (!x || onnxpass_graph_value(g, out_name)) {
			free(x);
			rc = onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "%s already has a value named '%s'",
					       onnxpass_ctx_role(ctx, i), out_name);
			goto out;
		}
		v = onnxpass_graph_add_input(g, out_name, 0);
		if (!v) {
			free(x);
			rc = ONNXPASS_ENOMEM;
			goto out;
		}
		set_embed_type(v, &l[i]);
		onnxpass_graph_remove_node(g, l[i].gather);
		onnxpass_graph_replace_uses(g, x, out_name, true);
		free(x);
		if (l[i].lm_head && (rc = hidden_out(ctx, i, &l[i], hidden)))
			goto out;
		changes += 1 + (int)onnxpass_graph_remove_unused(g);
	}
	snprintf(file, sizeof(file), "%s.onnx", as);
	if (onnxpass_params_is_set(params, "file"))
		snprintf(file, sizeof(file), "%s", onnxpass_params_string(params, "file"));
	rc = onnxpass_bundle_add(bundle, as, file, em);
	if (rc) {
		rc = onnxpass_ctx_fail(ctx, rc, "cannot add model '%s' (%s) to the bundle", as, file);
		goto out;
	}
	em = NULL;
	onnxpass_ctx_report_int(ctx, "models_rewired", (int64_t)n);
	onnxpass_ctx_report_int(ctx, "table_bytes", table_bytes);
	onnxpass_ctx_report_int(ctx, "lm_heads_moved", (int64_t)heads);
	rc = changes + 1;
out:
	onnxpass_model_free(em);
	free(l);
	return rc;
}

static const struct onnxpass_param params[] = {
	{ "as", ONNXPASS_PARAM_STRING, "embed", "role of the new embedding model", 0, 0, NULL, false },
	{ "file", ONNXPASS_PARAM_STRING, NULL, "its file name (default: ROLE.onnx)", 0, 0, NULL,
	  false },
	{ "output", ONNXPASS_PARAM_STRING, "embed_matrix",
	  "name of the embedding output, and of the new input of each model", 0, 0, NULL, false },
	{ "table", ONNXPASS_PARAM_STRING, NULL,
	  "name of the table initializer, if a model has several lookups", 0, 0, NULL, false },
	{ "with_lm_head", ONNXPASS_PARAM_BOOL, "false",
	  "also move the lm_head that reads the table transposed (a tied one): the new model maps ids to "
	  "embeddings and hidden states to logits with the table once; the models output the hidden state",
	  0, 0, NULL, false },
	{ "hidden", ONNXPASS_PARAM_STRING, "hidden_states",
	  "with_lm_head: the models' new output, and the new model's second input", 0, 0, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "embedding-split",
	.version = "1.0",
	.summary = "move the shared token embedding into a model of its own",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"Finds in each selected model the token-embedding lookup (a Gather on axis 0 of a\n"
		"2-D float initializer whose indices come from an integer graph input, possibly\n"
		"through Reshape/Cast/Squeeze/Unsqueeze), checks that all models use the same\n"
		"table, cuts the lookup into a new model (ids -> OUTPUT) and makes each model\n"
		"take OUTPUT as its first graph input instead, dropping the table and the nodes\n"
		"left dead.  Graph inputs such as input_ids stay, even when no longer read.\n"
		"with_lm_head = true also moves the lm_head: the MatMul reading the table through\n"
		"Transpose(perm 1 0) (a tied one; dedup turns a stored transposed copy into that)\n"
		"and the nodes from it to the graph output it makes (logits).  The new model\n"
		"then has two independent paths sharing the table, ids -> OUTPUT and HIDDEN ->\n"
		"logits (feed the unused one empty, e.g. [B, 0]); each model with an lm_head\n"
		"outputs HIDDEN instead of logits.  A model whose logits come from another\n"
		"weight makes the step fail, saying what was found.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
