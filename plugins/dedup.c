/* SPDX-License-Identifier: MIT */
/* dedup: merges identical initializers within each graph, replaces
 * transposed and float16/bfloat16 copies by a Transpose or Cast of the
 * original, and stores tensors identical across the bundle's files once,
 * in a shared external-data file that every model references at the same
 * offset. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

/* The forms under which a 2-D float tensor may be another's copy: the
 * same bytes, its transpose, or its float32 values as float16/bfloat16. */
enum form { AS_IS, TRANSPOSED, AS_F16, AS_BF16, N_FORMS };

struct item {
	struct onnxpass_tensor *t;
	struct onnxpass_graph *g;	/* owning graph */
	size_t model;	/* index among the selected models */
	size_t order;	/* first seen wins */
	uint64_t hash;
	bool gone;
	bool sampled;	/* sig holds the forms' signatures */
	uint64_t sig[N_FORMS];	/* sig[f]: what sig[AS_IS] of a copy in form f is */
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

/* Elements a signature reads: enough that unrelated tables differ, few
 * enough to cost nothing beside the hash.  Copies are then compared whole. */
#define SIG_SAMPLES 64

static bool float_family(int dtype)
{
	return dtype == ONNXPASS_DT_FLOAT || dtype == ONNXPASS_DT_FLOAT16 || dtype == ONNXPASS_DT_BFLOAT16;
}

/* Whether t is a table whose transposed or cast copies dedup looks for. */
static bool samplable(struct onnxpass_tensor *t)
{
	return onnxpass_tensor_rank(t) == 2 && float_family(onnxpass_tensor_dtype(t)) &&
	       onnxpass_tensor_numel(t) > 0;
}

/* One element's bits, 2 or 4 bytes. */
static uint32_t bits_at(const uint8_t *d, size_t es, int64_t i)
{
	uint32_t v = 0;
	uint16_t h;

	if (es == 2) {
		memcpy(&h, d + (size_t)i * 2, 2);
		return h;
	}
	memcpy(&v, d + (size_t)i * 4, 4);
	return v;
}

static float f32_at(const uint8_t *d, int64_t i)
{
	float f;

	memcpy(&f, d + (size_t)i * 4, 4);
	return f;
}

/* The signature of d ([rows, cols] of dtype) read in form f: the dtype
 * and shape of that form and SIG_SAMPLES of its elements, at positions
 * that depend only on that shape.  So if B is A in form f, then
 * signature(B, AS_IS) == signature(A, f). */
static uint64_t signature(const uint8_t *d, int dtype, int64_t rows, int64_t cols, enum form f)
{
	size_t es = dtype == ONNXPASS_DT_FLOAT ? 4 : 2;
	int64_t R = f == TRANSPOSED ? cols : rows, C = f == TRANSPOSED ? rows : cols;
	uint64_t buf[3 + SIG_SAMPLES];

	buf[0] = (uint64_t)(f == AS_F16 ? ONNXPASS_DT_FLOAT16 : f == AS_BF16 ? ONNXPASS_DT_BFLOAT16 : dtype);
	buf[1] = (uint64_t)R;
	buf[2] = (uint64_t)C;
	for (uint64_t k = 0; k < SIG_SAMPLES; k++) {
		int64_t i = (int64_t)((k * 0x9E3779B97F4A7C15ULL >> 17) % (uint64_t)R);
		int64_t j = (int64_t)(((k + 1) * 0xC2B2AE3D27D4EB4FULL >> 23) % (uint64_t)C);
		int64_t at = f == TRANSPOSED ? j * cols + i : i * cols + j;

		if (f == AS_F16)
			buf[3 + k] = onnxpass_f32_to_f16(f32_at(d, at));
		else if (f == AS_BF16)
			buf[3 + k] = onnxpass_f32_to_bf16(f32_at(d, at));
		else
			buf[3 + k] = bits_at(d, es, at);
	}
	return onnxpass_hash64(buf, sizeof(buf), 0);
}

static void sample(struct item *it, const uint8_t *d)
{
	int dtype = onnxpass_tensor_dtype(it->t);
	int64_t rows = onnxpass_tensor_dim(it->t, 0), cols = onnxpass_tensor_dim(it->t, 1);

	for (int f = 0; f < N_FORMS; f++)
		if (f < AS_F16 || dtype == ONNXPASS_DT_FLOAT)
			it->sig[f] = signature(d, dtype, rows, cols, (enum form)f);
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
	if (it->sampled)
		sample(it, d);
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
static int collect_graph(struct list *l, struct onnxpass_graph *g, size_t model, size_t min, size_t forms_min)
{
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));
		struct item it = { .t = t, .g = g, .model = model };

		if (!v || onnxpass_value_is_graph_input(v) || onnxpass_value_is_graph_output(v))
			continue;
		if (onnxpass_tensor_dtype(t) == ONNXPASS_DT_STRING || onnxpass_tensor_nbytes(t) < min)
			continue;
		if (!onnxpass_tensor_data(t))
			continue;
		it.sampled = onnxpass_tensor_nbytes(t) >= forms_min && samplable(t);
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

/* ------------------------------------------------------------------ */
/* Transposed and cast copies                                          */

struct forms {
	bool transposed, cast;
	size_t min_bytes;	/* the smallest copy worth a node */
	int64_t opset;	/* of the default domain */
	struct tally transposed_tally, cast_tally;
	struct buf {
		char *s;
		size_t len, cap;
	} merges;	/* for the report: "copy = Transpose(original)", ... */
};

/* Rows of A compared (and their pages released) at a time: B's part of
 * them is 64 kB a row, so its pages can be released too. */
#define STRIP_BYTES ((int64_t)65536)
#define TILE ((int64_t)64)

/* The first element of b ([cols, rows]) that is not a's ([rows, cols])
 * transposed, or -1 when b is a^T.  Compared in tiles, strip by strip, so
 * that neither table sits in memory whole. */
static int64_t transpose_mismatch(struct onnxpass_tensor *a, struct onnxpass_tensor *b)
{
	const uint8_t *da = onnxpass_tensor_data(a), *db = onnxpass_tensor_data(b);
	int64_t rows = onnxpass_tensor_dim(a, 0), cols = onnxpass_tensor_dim(a, 1);
	size_t es = onnxpass_tensor_dtype(a) == ONNXPASS_DT_FLOAT ? 4 : 2;
	int64_t strip = STRIP_BYTES / (int64_t)es;

	if (!da || !db)
		return 0;
	for (int64_t i0 = 0; i0 < rows; i0 += strip) {
		int64_t i1 = i0 + strip < rows ? i0 + strip : rows;

		for (int64_t jt = 0; jt < cols; jt += TILE)
			for (int64_t it = i0; it < i1; it += TILE)
				for (int64_t j = jt; j < jt + TILE && j < cols; j++)
					for (int64_t i = it; i < it + TILE && i < i1; i++)
						if (bits_at(da, es, i * cols + j) != bits_at(db, es, j * rows + i))
							return j * rows + i;
		onnxpass_tensor_drop_range(a, (size_t)(i0 * cols) * es, (size_t)((i1 - i0) * cols) * es);
		for (int64_t j = 0; j < cols; j++)
			onnxpass_tensor_drop_range(b, (size_t)(j * rows + i0) * es, (size_t)(i1 - i0) * es);
	}
	return -1;
}

/* The first element of c (float16 or bfloat16) that is not a's float32
 * value converted (round to nearest even, as ONNX Runtime's Cast), or -1. */
static int64_t cast_mismatch(struct onnxpass_tensor *a, struct onnxpass_tensor *c)
{
	const uint8_t *da = onnxpass_tensor_data(a), *dc = onnxpass_tensor_data(c);
	int64_t n = onnxpass_tensor_numel(a), chunk = 1 << 20;
	bool bf = onnxpass_tensor_dtype(c) == ONNXPASS_DT_BFLOAT16;

	if (!da || !dc)
		return 0;
	for (int64_t i0 = 0; i0 < n; i0 += chunk) {
		int64_t i1 = i0 + chunk < n ? i0 + chunk : n;

		for (int64_t i = i0; i < i1; i++) {
			float f = f32_at(da, i);

			if ((bf ? onnxpass_f32_to_bf16(f) : onnxpass_f32_to_f16(f)) != bits_at(dc, 2, i))
				return i;
		}
		onnxpass_tensor_drop_range(a, (size_t)i0 * 4, (size_t)(i1 - i0) * 4);
		onnxpass_tensor_drop_range(c, (size_t)i0 * 2, (size_t)(i1 - i0) * 2);
	}
	return -1;
}

/* Whether a Gather reads t as its table (an embedding: kept as it is, so
 * that quantize finds it; the lm_head reads it transposed). */
static bool gathered(struct onnxpass_graph *g, struct onnxpass_tensor *t)
{
	struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));

	for (size_t i = 0; v && i < onnxpass_value_use_count(v); i++) {
		int in;
		struct onnxpass_node *n = onnxpass_value_use(v, i, &in);

		if (in == 0 && onnxpass_node_is(n, NULL, "Gather"))
			return true;
	}
	return false;
}

static int note_merge(struct buf *b, const char *what)
{
	size_t n = strlen(what) + 2;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return ONNXPASS_ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	b->len += (size_t)sprintf(b->s + b->len, "%s%s", b->len ? ", " : "", what);
	return 0;
}

/* dup's uses read keep through a Transpose or a Cast, under dup's name. */
static int replace_by_form(struct onnxpass_ctx *ctx, struct forms *fs, struct item *keep, struct item *dup,
			   enum form f)
{
	struct onnxpass_graph *g = keep->g;
	const char *orig = onnxpass_value_name(onnxpass_graph_value(g, onnxpass_tensor_name(keep->t)));
	const char *name = onnxpass_value_name(onnxpass_graph_value(g, onnxpass_tensor_name(dup->t)));
	size_t nbytes = onnxpass_tensor_nbytes(dup->t);
	int to = onnxpass_tensor_dtype(dup->t);
	const char *node_name;
	struct onnxpass_node *n;
	char what[1024];

	onnxpass_graph_remove_initializer(g, name);
	node_name = onnxpass_graph_fresh_name(g, name, f == TRANSPOSED ? "/transpose" : "/cast");
	n = node_name ? onnxpass_graph_add_node(g, f == TRANSPOSED ? "Transpose" : "Cast", NULL, node_name, &orig, 1,
						&name, 1)
		      : NULL;
	if (!n || (f == TRANSPOSED ? onnxpass_node_set_attr_ints(n, "perm", (const int64_t[]){ 1, 0 }, 2)
				   : onnxpass_node_set_attr_int(n, "to", to)))
		return ONNXPASS_ENOMEM;
	snprintf(what, sizeof(what), "%s = %s(%s) (%zu bytes)", name, f == TRANSPOSED ? "Transpose" : "Cast", orig,
		 nbytes);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s", what);
	if (note_merge(&fs->merges, what))
		return ONNXPASS_ENOMEM;
	if (f == TRANSPOSED) {
		fs->transposed_tally.count++;
		fs->transposed_tally.bytes += (int64_t)nbytes;
	} else {
		fs->cast_tally.count++;
		fs->cast_tally.bytes += (int64_t)nbytes;
	}
	dup->gone = true;
	return 1;
}

/* a in form f against b, whose signature matched: compared whole. */
static int try_form(struct onnxpass_ctx *ctx, struct forms *fs, struct item *a, struct item *b, enum form f)
{
	int da = onnxpass_tensor_dtype(a->t), db = onnxpass_tensor_dtype(b->t);
	int64_t r = onnxpass_tensor_dim(a->t, 0), c = onnxpass_tensor_dim(a->t, 1);
	int64_t br = onnxpass_tensor_dim(b->t, 0), bc = onnxpass_tensor_dim(b->t, 1), bad;
	struct item *keep = a, *dup = b;

	if (f == TRANSPOSED) {
		if (db != da || br != c || bc != r)
			return 0;
		/* the table a Gather reads stays; otherwise the first seen */
		if (gathered(a->g, b->t) != gathered(a->g, a->t) ? gathered(a->g, b->t) : b->order < a->order) {
			keep = b;
			dup = a;
		}
		bad = transpose_mismatch(keep->t, dup->t);
	} else {
		if (db != (f == AS_F16 ? ONNXPASS_DT_FLOAT16 : ONNXPASS_DT_BFLOAT16) || br != r || bc != c)
			return 0;
		bad = cast_mismatch(a->t, b->t);
	}
	onnxpass_tensor_drop_pages(a->t);
	onnxpass_tensor_drop_pages(b->t);
	if (bad >= 0) {
		onnxpass_log(ctx, ONNXPASS_LOG_INFO,
			     "'%s' matches %s of '%s' at %d sampled elements but not at element %lld: kept",
			     onnxpass_tensor_name(dup->t), f == TRANSPOSED ? "the transpose" : "a cast",
			     onnxpass_tensor_name(keep->t), SIG_SAMPLES, (long long)bad);
		return 0;
	}
	return replace_by_form(ctx, fs, keep, dup, f);
}

struct key {
	uint64_t sig;
	struct item *it;
};

static int by_sig(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->sig != y->sig)
		return x->sig < y->sig ? -1 : 1;
	return x->it->order < y->it->order ? -1 : x->it->order > y->it->order;
}

/* Copies of l's sampled tables in another form: each table's form
 * signatures are looked up among the others' as-is signatures. */
static int merge_forms(struct onnxpass_ctx *ctx, struct list *l, struct forms *fs)
{
	struct key *keys = calloc(l->n ? l->n : 1, sizeof(*keys));
	size_t nk = 0;
	int rc = 0;

	if (!keys)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].sampled && !l->v[i].gone)
			keys[nk++] = (struct key){ l->v[i].sig[AS_IS], &l->v[i] };
	qsort(keys, nk, sizeof(*keys), by_sig);
	for (size_t i = 0; rc >= 0 && i < nk; i++) {
		struct item *a = keys[i].it;

		for (int f = TRANSPOSED; rc >= 0 && f < N_FORMS; f++) {
			size_t lo = 0, hi = nk;

			if (a->gone)	/* merged into another: its tensor is freed */
				break;
			if (f == TRANSPOSED ? !fs->transposed
					    : !fs->cast || onnxpass_tensor_dtype(a->t) != ONNXPASS_DT_FLOAT ||
						      fs->opset < (f == AS_BF16 ? 13 : 6))
				continue;
			while (lo < hi) {	/* the first key >= a's form signature */
				size_t mid = lo + (hi - lo) / 2;

				if (keys[mid].sig < a->sig[f])
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t k = lo; rc >= 0 && k < nk && keys[k].sig == a->sig[f]; k++)
				/* a transposed pair is seen from both sides: tried once */
				if (!a->gone && !keys[k].it->gone && keys[k].it != a &&
				    (f != TRANSPOSED || keys[k].it->order > a->order))
					rc = try_form(ctx, fs, a, keys[k].it, (enum form)f);
		}
	}
	free(keys);
	return rc < 0 ? rc : 0;
}

/* Merges duplicates inside one graph, then copies in another form;
 * recurses into subgraphs. */
static int dedup_graph(struct onnxpass_ctx *ctx, struct onnxpass_graph *g, size_t min, struct tally *t,
		       struct forms *fs)
{
	struct list l = { 0 };
	int64_t before = fs->transposed_tally.count + fs->cast_tally.count;
	int rc = collect_graph(&l, g, 0, min, fs->transposed || fs->cast ? fs->min_bytes : SIZE_MAX);

	if (!rc)
		rc = merge_equal(ctx, &l, merge_in_graph, t);
	if (!rc)
		rc = merge_forms(ctx, &l, fs);
	free(l.v);
	if (!rc && fs->transposed_tally.count + fs->cast_tally.count > before)
		rc = onnxpass_graph_toposort(g);
	for (size_t i = 0; !rc && i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);

		for (size_t k = 0; !rc && k < onnxpass_node_subgraph_count(n); k++)
			rc = dedup_graph(ctx, onnxpass_node_subgraph(n, k), min, t, fs);
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
		rc = collect_graph(&l, onnxpass_model_graph(onnxpass_ctx_model(ctx, m)), m, min, SIZE_MAX);
	if (!rc)
		rc = merge_equal(ctx, &l, merge_across, t);
	free(l.v);
	return rc;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct tally merged = { 0 }, shared = { 0 };
	struct forms fs = { .transposed = onnxpass_params_bool(params, "transposed"),
			    .cast = onnxpass_params_bool(params, "cast"),
			    .min_bytes = (size_t)onnxpass_params_int(params, "copies_min_bytes") };
	size_t min = (size_t)onnxpass_params_int(params, "min_bytes");
	int64_t copies;
	int rc = 0;

	(void)bundle;
	for (size_t m = 0; !rc && m < onnxpass_ctx_model_count(ctx); m++) {
		struct onnxpass_model *model = onnxpass_ctx_model(ctx, m);

		fs.opset = onnxpass_model_opset(model, "");
		rc = dedup_graph(ctx, onnxpass_model_graph(model), min, &merged, &fs);
	}
	if (!rc && onnxpass_params_bool(params, "cross_files") && onnxpass_ctx_model_count(ctx) > 1)
		rc = share_across(ctx, (size_t)onnxpass_params_int(params, "shared_min_bytes"), &shared);
	if (!rc) {
		copies = fs.transposed_tally.bytes + fs.cast_tally.bytes;
		onnxpass_ctx_report_int(ctx, "merged_tensors", merged.count);
		onnxpass_ctx_report_int(ctx, "merged_bytes", merged.bytes);
		onnxpass_ctx_report_int(ctx, "transposed_tensors", fs.transposed_tally.count);
		onnxpass_ctx_report_int(ctx, "transposed_bytes", fs.transposed_tally.bytes);
		onnxpass_ctx_report_int(ctx, "cast_tensors", fs.cast_tally.count);
		onnxpass_ctx_report_int(ctx, "cast_bytes", fs.cast_tally.bytes);
		onnxpass_ctx_report_int(ctx, "shared_tensors", shared.count);
		onnxpass_ctx_report_int(ctx, "shared_bytes", shared.bytes);
		if (fs.merges.len) {
			onnxpass_ctx_report_str(ctx, "copies", fs.merges.s);
			onnxpass_ctx_report_int(ctx, "load_time_bytes", copies);
		}
		onnxpass_log(ctx, ONNXPASS_LOG_INFO,
			     "merged %lld initializers (%lld bytes); %lld transposed and %lld cast copies read the "
			     "original (%lld bytes); %lld tensors stored once across files (%lld bytes)",
			     (long long)merged.count, (long long)merged.bytes, (long long)fs.transposed_tally.count,
			     (long long)fs.cast_tally.count, (long long)copies, (long long)shared.count,
			     (long long)shared.bytes);
		if (copies)
			onnxpass_log(ctx, ONNXPASS_LOG_INFO,
				     "the copies leave the file, not the memory: ONNX Runtime computes their %lld "
				     "bytes once at session start (quantize then stores a shared table once)",
				     (long long)copies);
	}
	free(fs.merges.s);
	if (rc)
		return onnxpass_ctx_fail(ctx, rc, rc == ONNXPASS_ENOMEM ? "out of memory"
							: "the graph cannot be sorted after merging copies");
	return (int)(merged.count + shared.count + fs.transposed_tally.count + fs.cast_tally.count);
}

static const struct onnxpass_param params[] = {
	{ "cross_files", ONNXPASS_PARAM_BOOL, "true",
	  "store tensors identical across the bundle's files once, in a shared data file", 0, 0,
	  NULL, false },
	{ "min_bytes", ONNXPASS_PARAM_INT, "0",
	  "merge only initializers of at least this many bytes", 0, 1e18, NULL, false },
	{ "shared_min_bytes", ONNXPASS_PARAM_INT, "1024",
	  "share across files only tensors of at least this many bytes", 0, 1e18, NULL, false },
	{ "transposed", ONNXPASS_PARAM_BOOL, "true",
	  "a 2-D table equal to another's transpose reads the original through a Transpose", 0, 0, NULL, false },
	{ "cast", ONNXPASS_PARAM_BOOL, "true",
	  "a float16/bfloat16 table equal to a float32 one converted reads it through a Cast", 0, 0, NULL, false },
	{ "copies_min_bytes", ONNXPASS_PARAM_INT, "1024",
	  "replace transposed and cast copies of at least this many bytes (each costs a node)", 0, 1e18, NULL,
	  false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "dedup",
	.version = "1.0",
	.summary = "merge identical, transposed and cast copies of initializers, also across the files of a bundle",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"Initializers with the same type, shape and bytes (hash, then byte compare;\n"
		"no size limit) are merged inside each graph: every use is rewired to the\n"
		"first one.  Graph inputs and outputs are never merged.  A 2-D float table\n"
		"equal to another's transpose (a tied lm_head stored [H, V] beside the [V, H]\n"
		"embedding), or a float16/bfloat16 table equal to a float32 one converted\n"
		"(round to nearest even), becomes a Transpose or Cast of the original, under\n"
		"its own name; the table a Gather reads is the one kept.  Sampled elements\n"
		"pick the candidates, every element decides; nothing is merged by name.\n"
		"ONNX Runtime computes such a copy once at session start: the file shrinks,\n"
		"resident memory does not (quantize stores a shared table once).  With cross_files,\n"
		"equal tensors in different models of the bundle are written once to the\n"
		"bundle's shared data file, which each model references at the same offset.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
