/* SPDX-License-Identifier: MIT */
/* dedup: merges identical initializers within each graph, and stores
 * tensors identical across the bundle's files once, in a shared
 * external-data file that every model references at the same offset. */
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

struct item {
	struct onnxpass_tensor *t;
	struct onnxpass_graph *g;	/* owning graph */
	size_t model;	/* index among the selected models */
	size_t order;	/* first seen wins */
	uint64_t hash;
	bool gone;
};

struct list {
	struct item *v;
	size_t n, cap;
};

static int push(struct list *l, struct item it)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct item *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	it.order = l->n;
	l->v[l->n++] = it;
	return 0;
}

/* Hashed in chunks whose mapped pages go as soon as they are read: a
 * 2.7 GB embedding never sits in memory whole. */
#define HASH_CHUNK ((size_t)8 << 20)

static void hash_one(void *arg, size_t i)
{
	struct item *it = &((struct item *)arg)[i];
	const uint8_t *d = onnxpass_tensor_data(it->t);
	size_t len = d ? onnxpass_tensor_nbytes(it->t) : 0;
	uint64_t h = (uint64_t)onnxpass_tensor_dtype(it->t);

	if (!len)
		h = onnxpass_hash64("", 0, h);
	for (size_t off = 0; off < len; off += HASH_CHUNK) {
		size_t n = len - off < HASH_CHUNK ? len - off : HASH_CHUNK;

		h = onnxpass_hash64(d + off, n, h);
		onnxpass_tensor_drop_range(it->t, off, n);
	}

	for (size_t k = 0; k < onnxpass_tensor_rank(it->t); k++)
		h = h * 0x100000001B3ULL ^ (uint64_t)onnxpass_tensor_dim(it->t, k);
	it->hash = h;
	onnxpass_tensor_drop_pages(it->t);
}

static int by_hash(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Initializers of g a pass may merge: not graph inputs (callers may
 * override those) and not graph outputs (their names are the interface). */
static int collect_graph(struct list *l, struct onnxpass_graph *g, size_t model, size_t min)
{
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));
		struct item it = { t, g, model, 0, 0, false };

		if (!v || onnxpass_value_is_graph_input(v) || onnxpass_value_is_graph_output(v))
			continue;
		if (onnxpass_tensor_dtype(t) == ONNXPASS_DT_STRING || onnxpass_tensor_nbytes(t) < min)
			continue;
		if (!onnxpass_tensor_data(t))
			continue;
		if (push(l, it))
			return -1;
	}
	return 0;
}

/* Hashes l's items and offers each pair of equal hash to merge(keep, dup),
 * the first seen as keep; merge returns 1 when dup is gone, 0 when not,
 * negative on error. */
static int merge_equal(struct onnxpass_ctx *ctx, struct list *l,
		       int (*merge)(struct onnxpass_ctx *, struct item *, struct item *, void *), void *arg)
{
	onnxpass_parallel_for(ctx, l->n, hash_one, l->v);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_hash);
	for (size_t i = 0; i < l->n; i++) {
		struct item *keep = &l->v[i];

		for (size_t k = i + 1; !keep->gone && k < l->n && l->v[k].hash == keep->hash; k++) {
			struct item *dup = &l->v[k];
			int rc = dup->gone ? 0 : merge(ctx, keep, dup, arg);

			if (rc < 0)
				return rc;
			dup->gone = rc > 0;
		}
	}
	return 0;
}

struct tally {
	int64_t count, bytes;
};

/* Inside one graph: every use of dup reads keep. */
static int merge_in_graph(struct onnxpass_ctx *ctx, struct item *keep, struct item *dup, void *arg)
{
	struct tally *t = arg;
	const char *name = onnxpass_tensor_name(dup->t);
	size_t nbytes = onnxpass_tensor_nbytes(dup->t);
	bool eq = onnxpass_tensor_equal(keep->t, dup->t);

	onnxpass_tensor_drop_pages(dup->t);
	if (!eq)
		return 0;
	onnxpass_tensor_drop_pages(keep->t);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "'%s' -> '%s' (%zu bytes)", name, onnxpass_tensor_name(keep->t),
		     nbytes);
	onnxpass_graph_replace_uses(keep->g, name, onnxpass_tensor_name(keep->t), false);
	onnxpass_graph_remove_initializer(keep->g, name);	/* frees name */
	t->bytes += (int64_t)nbytes;
	t->count++;
	return 1;
}

/* Merges duplicates inside one graph; recurses into subgraphs. */
static int dedup_graph(struct onnxpass_ctx *ctx, struct onnxpass_graph *g, size_t min, struct tally *t)
{
	struct list l = { 0 };
	int rc = collect_graph(&l, g, 0, min);

	if (!rc)
		rc = merge_equal(ctx, &l, merge_in_graph, t);
	free(l.v);
	for (size_t i = 0; !rc && i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);

		for (size_t k = 0; !rc && k < onnxpass_node_subgraph_count(n); k++)
			rc = dedup_graph(ctx, onnxpass_node_subgraph(n, k), min, t);
	}
	return rc;
}

/* In different files: one copy, in the shared data file. */
static int merge_across(struct onnxpass_ctx *ctx, struct item *src, struct item *dup, void *arg)
{
	struct tally *t = arg;

	if (dup->model == src->model || onnxpass_tensor_nbytes(dup->t) != onnxpass_tensor_nbytes(src->t))
		return 0;
	if (!onnxpass_tensor_same_storage(dup->t, src->t)) {
		bool eq = onnxpass_tensor_equal(src->t, dup->t);

		onnxpass_tensor_drop_pages(src->t);
		onnxpass_tensor_drop_pages(dup->t);
		if (!eq || onnxpass_tensor_share_storage(dup->t, src->t))
			return 0;
	}
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s '%s' stored once with %s '%s'", onnxpass_ctx_role(ctx, dup->model),
		     onnxpass_tensor_name(dup->t), onnxpass_ctx_role(ctx, src->model), onnxpass_tensor_name(src->t));
	onnxpass_tensor_set_storage(dup->t, ONNXPASS_STORE_SHARED);
	onnxpass_tensor_set_storage(src->t, ONNXPASS_STORE_SHARED);
	t->bytes += (int64_t)onnxpass_tensor_nbytes(dup->t);
	t->count++;
	return 1;
}

/* Equal tensors in different files: one copy, in the shared data file. */
static int share_across(struct onnxpass_ctx *ctx, size_t min, struct tally *t)
{
	struct list l = { 0 };
	int rc = 0;

	for (size_t m = 0; !rc && m < onnxpass_ctx_model_count(ctx); m++)
		rc = collect_graph(&l, onnxpass_model_graph(onnxpass_ctx_model(ctx, m)), m, min);
	if (!rc)
		rc = merge_equal(ctx, &l, merge_across, t);
	free(l.v);
	return rc;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct tally merged = { 0 }, shared = { 0 };
	size_t min = (size_t)onnxpass_params_int(params, "min_bytes");

	(void)bundle;
	for (size_t m = 0; m < onnxpass_ctx_model_count(ctx); m++)
		if (dedup_graph(ctx, onnxpass_model_graph(onnxpass_ctx_model(ctx, m)), min, &merged))
			return onnxpass_ctx_fail(ctx, ONNXPASS_ENOMEM, "out of memory");
	if (onnxpass_params_bool(params, "cross_files") && onnxpass_ctx_model_count(ctx) > 1 &&
	    share_across(ctx, (size_t)onnxpass_params_int(params, "shared_min_bytes"), &shared))
		return onnxpass_ctx_fail(ctx, ONNXPASS_ENOMEM, "out of memory");
	onnxpass_ctx_report_int(ctx, "merged_tensors", merged.count);
	onnxpass_ctx_report_int(ctx, "merged_bytes", merged.bytes);
	onnxpass_ctx_report_int(ctx, "shared_tensors", shared.count);
	onnxpass_ctx_report_int(ctx, "shared_bytes", shared.bytes);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO,
		     "merged %lld initializers (%lld bytes); %lld tensors stored once across files (%lld bytes)",
		     (long long)merged.count, (long long)merged.bytes, (long long)shared.count,
		     (long long)shared.bytes);
	return (int)(merged.count + shared.count);
}

static const struct onnxpass_param params[] = {
	{ "cross_files", ONNXPASS_PARAM_BOOL, "true",
	  "store tensors identical across the bundle's files once, in a shared data file", 0, 0,
	  NULL, false },
	{ "min_bytes", ONNXPASS_PARAM_INT, "0",
	  "merge only initializers of at least this many bytes", 0, 1e18, NULL, false },
	{ "shared_min_bytes", ONNXPASS_PARAM_INT, "1024",
	  "share across files only tensors of at least this many bytes", 0, 1e18, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "dedup",
	.version = "1.0",
	.summary = "merge identical initializers, also across the files of a bundle",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"Initializers with the same type, shape and bytes (hash, then byte compare;\n"
		"no size limit) are merged inside each graph: every use is rewired to the\n"
		"first one.  Graph inputs and outputs are never merged.  With cross_files,\n"
		"equal tensors in different models of the bundle are written once to the\n"
		"bundle's shared data file, which each model references at the same offset.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
