/* SPDX-License-Identifier: MIT */
/*
 * fusion: scaled dot-product attention -> com.microsoft MultiHeadAttention,
 * or GroupQueryAttention over the grouped KV heads of a cached decoder.
 *
 * Exports spell attention in many layouts (BERT splits heads into 4-D
 * tensors, BART folds batch and heads into one axis for its batched MatMul,
 * DistilBERT masks with Where, T5 adds a relative position bias, decoders
 * with past attend over a Concat of cached and new keys).  Rather than one
 * pattern per exporter, the matcher follows the axes: every input dim is
 * bound to a distinct size, shape inference gives each tensor on the way a
 * concrete shape, and each tensor's dims are tracked as lists of named axes
 * (batch b, heads n, query positions s, key positions t, head sizes h and
 * v) through Reshape and Transpose.  The fusion holds when the axes land
 * where attention needs them:
 *
 *   q0 [b, s, n*h] or [b, n, s, h] -> ... -> Q [.., s, h]  (leading: b then n)
 *   k0 [b, t, n*h] or [b, n, t, h] -> ... -> K [.., h, t]
 *   MatMul(Q, K) * scale [+ bias | Where(mask, -inf, .)] -> Softmax(last)
 *   MatMul(P, V [.., t, v]) -> ... -> out [b, s, n*v]
 *
 * (a [b, n, t, h] start may be the Reshape that merges repeated KV heads
 * of a grouped-query model; a [b, n, s, h] query, rotary embeddings
 * applied, is transposed and merged back) becomes
 * MultiHeadAttention(q0, k0, v0, attention_bias=bias,
 * num_heads=n, scale): the scalar Mul/Div on Q, K or the scores fold into
 * scale, the additive terms (each [b|1, n|1, s|1, t]) into attention_bias,
 * expanded along s when they broadcast over it, as the operator requires.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

enum { AX_B, AX_N, AX_S, AX_H, AX_T, AX_V, N_AXES };
#define MAX_STEPS 16
#define MAX_TERMS 4
#define AXIS_LETTERS "bnshtv"

struct layout {
	int rank;
	int n[ONNXPASS_MAX_RANK];		/* axes in dim i (outermost first) */
	int ax[ONNXPASS_MAX_RANK][N_AXES];
};

/* An additive term of the scores: a value, or Where(cond, fill, 0). */
struct term {
	struct onnxpass_value *v, *cond;
	float fill;
	bool fill_if_false;	/* Where(cond, scores, fill) rather than Where(cond, fill, scores) */
	int64_t dims[4];
};

struct cached_bias {
	struct onnxpass_value *key;
	float fill;
	bool fill_if_false;
	const char *name;
};

struct attn {
	struct fuse *f;
	struct onnxpass_graph *g;
	struct onnxpass_shapes *sh;	/* inputs' sizes bound to small primes */
	struct onnxpass_shapes *fixed;	/* unbound: values of static sizes only */
	int64_t opset;
	int64_t size[N_AXES];
	float scale;
	struct term term[MAX_TERMS];
	int nterm;
	struct cached_bias *cache;
	size_t ncache;
	int64_t bound[64];	/* the sizes given to the inputs' dim_params */
	size_t nbound;
	bool gqa;		/* grouped KV heads -> GroupQueryAttention */
	struct cached_lengths *lengths;
	size_t nlengths;
};

/* GroupQueryAttention's seqlens_k and total_sequence_length, shared by
 * the layers whose batch, cached and new lengths have the same sizes. */
struct cached_lengths {
	int64_t b, past, s;
	const char *seqlens, *total;
};

static int dims_of(struct attn *a, struct onnxpass_value *v, int64_t *d)
{
	return known_dims(a->sh, v, d);
}

/* The one reader of v that is not a Shape (Shape readers only need the
 * dims, which the fused graph no longer asks for once the reshapes they
 * feed are gone), or NULL. */
static struct onnxpass_node *main_use(struct onnxpass_value *v, int *input)
{
	struct onnxpass_node *u = NULL;

	if (!v || onnxpass_value_is_graph_output(v))
		return NULL;
	for (size_t i = 0; i < onnxpass_value_use_count(v); i++) {
		int in;
		struct onnxpass_node *n = onnxpass_value_use(v, i, &in);

		if (onnxpass_node_is(n, NULL, "Shape"))
			continue;
		if (u)
			return NULL;
		u = n;
		*input = in;
	}
	return u;
}

/* A layout from a spec such as "b,s,nh"; axes of size 1 are left out. */
static void layout_of(struct attn *a, struct layout *l, const char *spec)
{
	memset(l, 0, sizeof(*l));
	l->rank = 1;
	for (const char *c = spec; *c; c++) {
		if (*c == ',') {
			l->rank++;
			continue;
		}
		int x = (int)(strchr(AXIS_LETTERS, *c) - AXIS_LETTERS);

		if (a->size[x] != 1)
			l->ax[l->rank - 1][l->n[l->rank - 1]++] = x;
	}
}

static bool same_dims(const struct layout *l, int i, const struct layout *m, int j)
{
	return l->n[i] == m->n[j] && !memcmp(l->ax[i], m->ax[j], sizeof(int) * (size_t)l->n[i]);
}

static bool layout_is(struct attn *a, const struct layout *l, const char *spec)
{
	struct layout m;

	layout_of(a, &m, spec);
	if (l->rank != m.rank)
		return false;
	for (int i = 0; i < l->rank; i++)
		if (!same_dims(l, i, &m, i))
			return false;
	return true;
}

/* The axes of dims [from, to) in order. */
static int flatten(const struct layout *l, int from, int to, int *out)
{
	int k = 0;

	for (int i = from; i < to; i++)
		for (int j = 0; j < l->n[i]; j++)
			out[k++] = l->ax[i][j];
	return k;
}

/* Reshape: regroup the axes, in order, into dims of the given sizes; a
 * boundary inside an axis fails. */
static bool reshape(struct attn *a, struct layout *l, const int64_t *d, int rank)
{
	int ax[N_AXES * ONNXPASS_MAX_RANK], n = flatten(l, 0, l->rank, ax), k = 0;
	struct layout r = { .rank = rank };

	for (int i = 0; i < rank; i++) {
		int64_t p = 1;

		while (p < d[i] && k < n)
			p *= a->size[r.ax[i][r.n[i]++] = ax[k++]];
		if (p != d[i])
			return false;
	}
	if (k != n)
		return false;
	*l = r;
	return true;
}

static bool transpose(struct layout *l, struct onnxpass_node *t)
{
	const int64_t *perm;
	size_t np = 0;
	struct layout r = { .rank = l->rank };
	bool seen[ONNXPASS_MAX_RANK] = { false };

	if (onnxpass_node_attr_ints(t, "perm", &perm, &np))
		np = 0;
	if (np && (int)np != l->rank)
		return false;
	for (int i = 0; i < l->rank; i++) {
		int64_t p = np ? perm[i] : l->rank - 1 - i;

		if (p < 0 || p >= l->rank || seen[p])
			return false;
		seen[p] = true;
		r.n[i] = l->n[p];
		memcpy(r.ax[i], l->ax[p], sizeof(r.ax[i]));
	}
	*l = r;
	return true;
}

/* Applies a Reshape or Transpose to l. */
static bool apply(struct attn *a, struct layout *l, struct onnxpass_node *n)
{
	int64_t d[ONNXPASS_MAX_RANK];
	int r;

	if (onnxpass_node_is(n, NULL, "Transpose"))
		return transpose(l, n);
	r = dims_of(a, onnxpass_node_output_value(n, 0), d);
	return r > 0 && reshape(a, l, d, r);
}

/* d is the size of an input's dim_param: a dim that exporters name apart
 * (a mask's "past_sequence_length + 1", the cached cross keys'
 * "encoder_sequence_length_out") but that the original Add could only
 * broadcast if it equalled the scores' dim, or 1. */
static bool named_dim(struct attn *a, int64_t d)
{
	for (size_t i = 0; i < a->nbound; i++)
		if (a->bound[i] == d)
			return true;
	return false;
}

/* A one-element float computed from constants and static sizes (GPT-2
 * divides its scores by Pow(Cast(head size from Shape), 0.5) + zeros),
 * into *out.  The unbound analysis knows such a value only when no size
 * that varies at run time goes into it. */
static bool float_scalar(struct attn *a, struct onnxpass_value *v, float *out)
{
	double d;

	if (const_float(v, out))
		return true;
	if (onnxpass_shapes_float_values(a->fixed, v, &d, 1) != 1)
		return false;
	*out = (float)d;
	return true;
}

/* Mul or Div of x by a one-element constant (or a scalar computed from
 * constants and static dims) that keeps x's rank: the factor it applies,
 * in *c. */
static bool scalar_step(struct attn *a, struct onnxpass_node *n, struct onnxpass_value *x, float *c)
{
	int64_t d0[ONNXPASS_MAX_RANK], d1[ONNXPASS_MAX_RANK];
	bool mul = onnxpass_node_is(n, NULL, "Mul");

	if (!mul && !(onnxpass_node_is(n, NULL, "Div") && onnxpass_node_input_value(n, 0) == x))
		return false;
	if (!float_scalar(a, other(n, x), c) || *c == 0.0f || !isfinite(*c))
		return false;
	if (dims_of(a, x, d0) != dims_of(a, onnxpass_node_output_value(n, 0), d1))
		return false;
	if (!mul)
		*c = 1.0f / *c;
	return true;
}

/* Walks back from v through Reshape, Transpose and scalar Mul/Div,
 * folding the factors into a->scale; the layout steps go into steps, the
 * last one first.  Returns where the walk stopped. */
static struct onnxpass_value *walk_back(struct attn *a, struct onnxpass_value *v,
					struct onnxpass_node **steps, int *n)
{
	float c;

	for (*n = 0; *n < MAX_STEPS;) {
		struct onnxpass_node *p = onnxpass_value_producer(v, NULL);

		int64_t d[ONNXPASS_MAX_RANK];

		if (!p)
			break;
		/* a Reshape from rank 5 merges repeated KV heads (grouped-query
		 * models): the walk starts at its [b, n, t, h] output */
		if (onnxpass_node_is(p, NULL, "Reshape") && dims_of(a, onnxpass_node_input_value(p, 0), d) > 4)
			break;
		if (onnxpass_node_is(p, NULL, "Reshape") || onnxpass_node_is(p, NULL, "Transpose"))
			steps[(*n)++] = p;
		else if (scalar_step(a, p, onnxpass_node_input_value(p, 0), &c))
			a->scale *= c;
		else if (onnxpass_node_is(p, NULL, "Mul") && scalar_step(a, p, onnxpass_node_input_value(p, 1), &c)) {
			a->scale *= c;
			v = onnxpass_node_input_value(p, 1);
			continue;
		} else
			break;
		v = onnxpass_node_input_value(p, 0);
	}
	return v;
}

static bool replay(struct attn *a, struct layout *l, struct onnxpass_node **steps, int n)
{
	for (int i = n - 1; i >= 0; i--)
		if (!apply(a, l, steps[i]))
			return false;
	return true;
}

/* A term's shape fits attention_bias before expansion: [b|1, n|1, s|1, t]
 * (a separately named input dim standing for b, s or t; MultiHeadAttention
 * checks the sizes when it runs). */
static bool bias_shape(struct attn *a, struct onnxpass_value *v, int dtype, int64_t *d)
{
	static const int want[4] = { AX_B, AX_N, AX_S, AX_T };
	int64_t all[ONNXPASS_MAX_RANK];

	if (dims_of(a, v, all) != 4 || onnxpass_shapes_dtype(a->sh, v) != dtype)
		return false;
	memcpy(d, all, 4 * sizeof(*d));
	for (int i = 0; i < 4; i++) {
		if (d[i] == a->size[want[i]] || (d[i] == 1 && i < 3))
			continue;
		if (i == 1 || !named_dim(a, d[i]))
			return false;
		d[i] = a->size[want[i]];
	}
	return true;
}

/* The scores' way from Softmax back to MatMul(Q, K): layout steps, scalar
 * factors (only before every additive term) and the additive terms. */
struct score_step {
	struct onnxpass_node *n;
	int term;	/* index into a->term, or -1 for a layout step */
};

/* v is computed from a MatMul through ops the scores pass through. */
static bool reaches_matmul(struct onnxpass_value *v, int depth)
{
	struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

	if (!p || depth > 12)
		return false;
	if (onnxpass_node_is(p, NULL, "MatMul"))
		return true;
	if (!onnxpass_node_is(p, NULL, "Reshape") && !onnxpass_node_is(p, NULL, "Transpose") &&
	    !onnxpass_node_is(p, NULL, "Mul") && !onnxpass_node_is(p, NULL, "Div") &&
	    !onnxpass_node_is(p, NULL, "Add") && !onnxpass_node_is(p, NULL, "Where"))
		return false;
	for (size_t i = 0; i < onnxpass_node_input_count(p); i++)
		if (!is_constant(onnxpass_node_input_value(p, i)) &&
		    reaches_matmul(onnxpass_node_input_value(p, i), depth + 1))
			return true;
	return false;
}

/* An additive term at p (Add, or Where(mask, min, scores)): fills t and
 * returns the scores' side, or NULL. */
static struct onnxpass_value *term_at(struct onnxpass_node *p, struct term *t)
{
	memset(t, 0, sizeof(*t));
	if (onnxpass_node_is(p, NULL, "Add") && onnxpass_node_input_count(p) == 2) {
		struct onnxpass_value *x = onnxpass_node_input_value(p, 0), *y = onnxpass_node_input_value(p, 1);
		bool rx = reaches_matmul(x, 0), ry = reaches_matmul(y, 0);

		if (rx && ry)	/* both sides computed from MatMuls: the scores are read once */
			rx = onnxpass_value_use_count(x) == 1, ry = onnxpass_value_use_count(y) == 1;
		if (rx == ry)
			return NULL;
		t->v = rx ? y : x;
		return rx ? x : y;
	}
	if (onnxpass_node_is(p, NULL, "Where") && onnxpass_node_input_count(p) == 3) {
		/* masked_fill(mask, min): adding Where(mask, min, 0) gives the same
		 * scores, min + s rounding to min for any |s| < 1e30 (an Expand of
		 * the mask is peeled in check_terms) */
		t->cond = onnxpass_node_input_value(p, 0);
		if (const_float(onnxpass_node_input_value(p, 1), &t->fill) && t->fill <= -1e30f)
			return onnxpass_node_input_value(p, 2);
		t->fill_if_false = true;
		if (const_float(onnxpass_node_input_value(p, 2), &t->fill) && t->fill <= -1e30f)
			return onnxpass_node_input_value(p, 1);
	}
	return NULL;
}

static const char *scores_back(struct attn *a, struct onnxpass_value *v, struct score_step *steps,
			       int *n, struct onnxpass_node **mm)
{
	bool late_scale = false;
	float c;
	int in;

	for (*n = 0; *n < MAX_STEPS;) {
		struct onnxpass_node *p = onnxpass_value_producer(v, NULL);
		struct onnxpass_value *x0 = p ? onnxpass_node_input_value(p, 0) : NULL;
		struct onnxpass_value *x1 = p ? onnxpass_node_input_value(p, 1) : NULL, *scaled;

		if (!p)
			return "the scores are not computed by a MatMul";
		if (onnxpass_node_is(p, NULL, "MatMul")) {
			*mm = p;
			return NULL;
		}
		if (!main_use(v, &in))
			return "the scores are read outside the attention";
		if (onnxpass_node_is(p, NULL, "Reshape") || onnxpass_node_is(p, NULL, "Transpose")) {
			steps[(*n)++] = (struct score_step){ p, -1 };
			v = x0;
		} else if ((scaled = scalar_step(a, p, x0, &c) ? x0
				     : onnxpass_node_is(p, NULL, "Mul") && scalar_step(a, p, x1, &c) ? x1
													: NULL)) {
			late_scale |= a->nterm == 0;
			a->scale *= c;
			v = scaled;
		} else {
			if (a->nterm == MAX_TERMS)
				return "too many terms added to the scores";
			if (!(v = term_at(p, &a->term[a->nterm])))
				return "the scores pass through an op other than Reshape, Transpose, scalar Mul/Div, "
				       "Add or Where(mask, -inf, .)";
			if (late_scale)
				return "the scores are scaled after a term is added";
			steps[(*n)++] = (struct score_step){ p, a->nterm++ };
		}
	}
	return "the scores' path is too long";
}

/* Each term's shape, checked against the scores' layout where it is added. */
static const char *check_terms(struct attn *a, struct layout *l, struct score_step *steps, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		struct term *t;

		if (steps[i].term < 0) {
			if (!apply(a, l, steps[i].n))
				return "the scores' reshapes do not keep the heads' axes";
			continue;
		}
		t = &a->term[steps[i].term];
		if (!layout_is(a, l, "b,n,s,t"))
			return "a term is added to scores not laid out [batch, heads, query, key]";
		if (t->cond && onnxpass_value_producer(t->cond, NULL) &&
		    onnxpass_node_is(onnxpass_value_producer(t->cond, NULL), NULL, "Expand")) {
			/* Where(Expand(mask, shape of the scores), ..): the mask
			 * itself broadcasts the same way when it fits the bias */
			struct onnxpass_value *m = onnxpass_node_input_value(onnxpass_value_producer(t->cond, NULL), 0);

			if (bias_shape(a, t->cond, ONNXPASS_DT_BOOL, t->dims) && bias_shape(a, m, ONNXPASS_DT_BOOL, t->dims))
				t->cond = m;
		}
		if (!bias_shape(a, t->cond ? t->cond : t->v, t->cond ? ONNXPASS_DT_BOOL : ONNXPASS_DT_FLOAT, t->dims))
			return "a term added to the scores is not [batch|1, heads|1, query|1, key] float";
	}
	return NULL;
}

/* Adds op(ins) -> a fresh value named after base; returns its
 * (model-owned) name or NULL. */
static const char *emit(struct attn *a, const char *op, const char *base, const char *const *ins, size_t n)
{
	const char *out = onnxpass_graph_fresh_name(a->g, base, NULL);

	if (out && !onnxpass_graph_add_node(a->g, op, NULL, out, ins, n, &out, 1))
		return NULL;
	return out;
}

/* The node emit() added for out. */
static struct onnxpass_node *node_of(struct attn *a, const char *out)
{
	return onnxpass_value_producer(onnxpass_graph_value(a->g, out), NULL);
}

/* One term as a value: itself, or Where(cond, fill, 0). */
static const char *term_value(struct attn *a, struct term *t)
{
	static const float zero_value = 0.0f;
	const char *zero, *fill, *ins[3];

	if (!t->cond)
		return onnxpass_value_name(t->v);
	zero = onnxpass_graph_add_const_f32(a->g, "attention_zero", 0, &zero_value, 1);
	fill = onnxpass_graph_add_const_f32(a->g, "attention_fill", 0, &t->fill, 1);
	ins[0] = onnxpass_value_name(t->cond);
	ins[1] = t->fill_if_false ? zero : fill;
	ins[2] = t->fill_if_false ? fill : zero;
	return zero && fill ? emit(a, "Where", "attention_mask_bias", ins, 3) : NULL;
}

/* The terms summed and expanded to [b|1, n|1, s, t]; query [b, s, n*h]
 * gives s. */
static const char *build_bias(struct attn *a, const char *query)
{
	int64_t d2 = 1;
	const char *bias = NULL;
	struct onnxpass_value *key = a->nterm == 1 ? (a->term[0].cond ? a->term[0].cond : a->term[0].v) : NULL;

	for (size_t i = 0; key && i < a->ncache; i++)
		if (a->cache[i].key == key && a->cache[i].fill == a->term[0].fill &&
		    a->cache[i].fill_if_false == a->term[0].fill_if_false)
			return a->cache[i].name;
	for (int i = 0; i < a->nterm; i++) {
		const char *v = term_value(a, &a->term[i]), *sum = v;
		const char *ins[2] = { bias, v };

		d2 = a->term[i].dims[2] > d2 ? a->term[i].dims[2] : d2;
		if (v && bias)
			sum = emit(a, "Add", "attention_bias", ins, 2);
		if (!(bias = sum))
			return NULL;
	}
	if (d2 == 1 && a->size[AX_S] != 1) {	/* broadcast over the queries: Expand to [.., s, t] */
		static const int64_t one_one[2] = { 1, 1 }, one[1] = { 1 }, start[1] = { 1 }, end[1] = { 2 };
		const char *c11 = onnxpass_graph_add_const_i64(a->g, "attention_ones", 1, one_one, 2);
		const char *c1 = onnxpass_graph_add_const_i64(a->g, "attention_one", 1, one, 1);
		const char *cs = onnxpass_graph_add_const_i64(a->g, "attention_start", 1, start, 1);
		const char *ce = onnxpass_graph_add_const_i64(a->g, "attention_end", 1, end, 1);
		const char *ins[5] = { query };
		const char *shape = NULL, *s = NULL, *cat = NULL, *ex = NULL;

		if (c11 && c1 && cs && ce && (shape = emit(a, "Shape", "attention_query_shape", ins, 1))) {
			ins[0] = shape;
			ins[1] = cs;
			ins[2] = ce;
			s = emit(a, "Slice", "attention_query_length", ins, 3);
		}
		if (s) {
			ins[0] = c11;
			ins[1] = s;
			ins[2] = c1;
			cat = emit(a, "Concat", "attention_bias_shape", ins, 3);
			if (cat)
				onnxpass_node_set_attr_int(node_of(a, cat),
							   "axis", 0);
		}
		if (cat) {
			ins[0] = bias;
			ins[1] = cat;
			ex = emit(a, "Expand", "attention_bias_expanded", ins, 2);
		}
		bias = ex;
	}
	if (bias && key) {
		struct cached_bias *c = realloc(a->cache, sizeof(*c) * (a->ncache + 1));

		if (c) {
			a->cache = c;
			c[a->ncache++] = (struct cached_bias){ key, a->term[0].fill, a->term[0].fill_if_false, bias };
		}
	}
	return bias;
}

/* x [b, s, n*h] when v = Transpose(Reshape(x, [b, s, n, h]), 0 2 1 3): a
 * split that the fused op does itself, or NULL. */
static struct onnxpass_value *split_heads_of(struct attn *a, struct onnxpass_value *v)
{
	struct onnxpass_node *t = onnxpass_value_producer(v, NULL), *r;
	struct onnxpass_value *x;
	const int64_t *perm;
	size_t np = 0;
	int64_t d[ONNXPASS_MAX_RANK], dx[ONNXPASS_MAX_RANK], dv[ONNXPASS_MAX_RANK];

	if (!t || !onnxpass_node_is(t, NULL, "Transpose") || onnxpass_node_attr_ints(t, "perm", &perm, &np) ||
	    np != 4 || perm[0] != 0 || perm[1] != 2 || perm[2] != 1 || perm[3] != 3)
		return NULL;
	r = onnxpass_value_producer(onnxpass_node_input_value(t, 0), NULL);
	if (!r || !onnxpass_node_is(r, NULL, "Reshape"))
		return NULL;
	x = onnxpass_node_input_value(r, 0);
	if (dims_of(a, x, dx) != 3 || dims_of(a, onnxpass_node_input_value(t, 0), d) != 4 ||
	    dims_of(a, v, dv) != 4 || d[0] != dx[0] || d[1] != dx[1] || d[2] * d[3] != dx[2] ||
	    onnxpass_shapes_dtype(a->sh, x) != ONNXPASS_DT_FLOAT)
		return NULL;
	return x;
}

/* The query as MultiHeadAttention takes it, [b, s, n*h]: q0 itself, or
 * a [b, n, s, h] q0 (rotary embeddings applied per head) transposed and
 * merged.  Returns a name or NULL on ENOMEM. */
static const char *query_3d(struct attn *a, struct onnxpass_value *q0)
{
	static const int64_t merge[3] = { 0, 0, -1 };
	const char *ins[2] = { onnxpass_value_name(q0) };
	const char *t, *shape;
	int64_t d[ONNXPASS_MAX_RANK];
	struct onnxpass_value *src;

	if (dims_of(a, q0, d) == 3)
		return onnxpass_value_name(q0);
	if ((src = split_heads_of(a, q0)))
		return onnxpass_value_name(src);
	if (!(t = emit(a, "Transpose", "attention_query_bsnh", ins, 1)))
		return NULL;
	onnxpass_node_set_attr_ints(node_of(a, t), "perm",
				    (const int64_t[]){ 0, 2, 1, 3 }, 4);
	shape = onnxpass_graph_add_const_i64(a->g, "attention_query_merge", 1, merge, 3);
	ins[0] = t;
	ins[1] = shape;
	return shape ? emit(a, "Reshape", "attention_query", ins, 2) : NULL;
}

/* The cache around a grouped key or value. */
struct kv {
	struct onnxpass_value *past, *cur, *present;
	int64_t groups;
};

/* k0 [b, n, t, h] = Reshape(Expand(x [b, g, 1, t, h] -> [b, g, n/g, t, h])),
 * each of g heads repeated n/g times in a row as grouped-query models
 * repeat their KV heads, where x is the Unsqueeze (or Reshape) of
 * present = Concat(past [b, g, p, h], cur [b, g, s, h]) along the key
 * axis: fills kv.  GroupQueryAttention maps query head i to KV head
 * i / (n/g), the same grouping, and writes present itself. */
static bool grouped_cache(struct attn *a, struct onnxpass_value *k0, struct kv *kv)
{
	struct onnxpass_node *r = onnxpass_value_producer(k0, NULL), *e, *u, *c;
	struct onnxpass_value *x;
	int64_t d[ONNXPASS_MAX_RANK], dx[ONNXPASS_MAX_RANK], dp[ONNXPASS_MAX_RANK], dc[ONNXPASS_MAX_RANK], axis;

	if (!r || !onnxpass_node_is(r, NULL, "Reshape") ||
	    !(e = onnxpass_value_producer(onnxpass_node_input_value(r, 0), NULL)) ||
	    !onnxpass_node_is(e, NULL, "Expand") || dims_of(a, onnxpass_node_output_value(e, 0), d) != 5 ||
	    !(u = onnxpass_value_producer(onnxpass_node_input_value(e, 0), NULL)) ||
	    (!onnxpass_node_is(u, NULL, "Unsqueeze") && !onnxpass_node_is(u, NULL, "Reshape")))
		return false;
	if (dims_of(a, onnxpass_node_input_value(e, 0), dx) != 5 || dx[0] != d[0] || dx[1] != d[1] || dx[2] != 1 ||
	    dx[3] != d[3] || dx[4] != d[4])
		return false;
	if (d[0] != a->size[AX_B] || d[1] * d[2] != a->size[AX_N] || d[2] < 2 || d[3] != a->size[AX_T] ||
	    d[4] != a->size[AX_H])
		return false;
	x = onnxpass_node_input_value(u, 0);
	if (dims_of(a, x, dx) != 4 || dx[0] != d[0] || dx[1] != d[1] || dx[2] != d[3] || dx[3] != d[4])
		return false;
	/* a cached decoder: the cache Concat */
	c = onnxpass_value_producer(x, NULL);
	if (!c || !onnxpass_node_is(c, NULL, "Concat") || onnxpass_node_input_count(c) != 2 ||
	    onnxpass_node_attr_int(c, "axis", &axis) || (axis != 2 && axis != -2))
		return false;
	kv->past = onnxpass_node_input_value(c, 0);
	kv->cur = onnxpass_node_input_value(c, 1);
	kv->present = x;
	kv->groups = d[1];
	return dims_of(a, kv->past, dp) == 4 && dims_of(a, kv->cur, dc) == 4 && dp[0] == d[0] && dp[1] == d[1] &&
	       dp[3] == d[4] && dc[0] == d[0] && dc[1] == d[1] && dc[2] == a->size[AX_S] && dc[3] == d[4] &&
	       onnxpass_shapes_dtype(a->sh, kv->past) == ONNXPASS_DT_FLOAT &&
	       onnxpass_shapes_dtype(a->sh, kv->cur) == ONNXPASS_DT_FLOAT;
}

static const char *cast_int32(struct attn *a, const char *base, const char *x)
{
	const char *out = emit(a, "Cast", base, &x, 1);

	if (out)
		onnxpass_node_set_attr_int(node_of(a, out), "to",
					   ONNXPASS_DT_INT32);
	return out;
}

static const char *dim_slice(struct attn *a, const char *base, const char *shape, int64_t i)
{
	int64_t lo[1] = { i }, hi[1] = { i + 1 };
	const char *start = onnxpass_graph_add_const_i64(a->g, "attention_dim_start", 1, lo, 1);
	const char *end = onnxpass_graph_add_const_i64(a->g, "attention_dim_end", 1, hi, 1);
	const char *ins[3] = { shape, start, end };

	return start && end ? emit(a, "Slice", base, ins, 3) : NULL;
}

/* seqlens_k (int32 [b], every row total - 1: the mask in attention_bias
 * does the padding) and total_sequence_length (int32 [1], past + new),
 * from the shapes of the cached keys and the new keys [b, s, g*h]. */
static int gqa_lengths(struct attn *a, const struct kv *kv, const char *key, const char **seqlens,
		       const char **total)
{
	int64_t dp[ONNXPASS_MAX_RANK], dk[ONNXPASS_MAX_RANK], one[1] = { 1 };
	const char *ins[2];
	const char *ks = NULL, *ps = NULL, *b = NULL, *s = NULL, *p = NULL, *t = NULL, *c1 = NULL, *t1 = NULL;
	const char *t32 = NULL, *t132 = NULL, *sk = NULL;
	struct cached_lengths *c;

	dims_of(a, kv->past, dp);
	dims_of(a, kv->cur, dk);
	for (size_t i = 0; i < a->nlengths; i++)
		if (a->lengths[i].b == dk[0] && a->lengths[i].past == dp[2] && a->lengths[i].s == dk[2]) {
			*seqlens = a->lengths[i].seqlens;
			*total = a->lengths[i].total;
			return 0;
		}
	if (!(c = realloc(a->lengths, sizeof(*c) * (a->nlengths + 1))))
		return ONNXPASS_ENOMEM;
	a->lengths = c;
	ins[0] = key;
	if ((ks = emit(a, "Shape", "attention_key_shape", ins, 1))) {
		b = dim_slice(a, "attention_batch", ks, 0);
		s = dim_slice(a, "attention_new_length", ks, 1);
	}
	ins[0] = onnxpass_value_name(kv->past);
	if (b && s && (ps = emit(a, "Shape", "attention_past_shape", ins, 1)))
		p = dim_slice(a, "attention_past_length", ps, 2);
	ins[0] = p;
	ins[1] = s;
	if (p && (t = emit(a, "Add", "attention_total_length", ins, 2)) &&
	    (c1 = onnxpass_graph_add_const_i64(a->g, "attention_one", 1, one, 1))) {
		ins[0] = t;
		ins[1] = c1;
		t1 = emit(a, "Sub", "attention_last_position", ins, 2);
	}
	if (t1 && (t32 = cast_int32(a, "attention_total_sequence_length", t)) &&
	    (t132 = cast_int32(a, "attention_last_position_int32", t1))) {
		ins[0] = t132;
		ins[1] = b;
		sk = emit(a, "Expand", "attention_seqlens_k", ins, 2);
	}
	if (!sk)
		return ONNXPASS_ENOMEM;
	c[a->nlengths++] = (struct cached_lengths){ dk[0], dp[2], dk[2], sk, t32 };
	*seqlens = sk;
	*total = t32;
	return 0;
}

/* Sizes of the axes from q0, k0, v0 and the head sizes at the MatMuls. */
static const char *bind_axes(struct attn *a, struct onnxpass_value *q0, struct onnxpass_value *k0,
			     struct onnxpass_value *v0, struct onnxpass_value *q, struct onnxpass_value *v)
{
	int64_t dq[ONNXPASS_MAX_RANK], dk[ONNXPASS_MAX_RANK], dv[ONNXPASS_MAX_RANK], d[ONNXPASS_MAX_RANK];
	int rq = dims_of(a, q0, dq), rk = dims_of(a, k0, dk), rv = dims_of(a, v0, dv), r;

	if (rq != 3 && rq != 4)
		return "the query does not start from [batch, sequence, hidden] or [batch, heads, sequence, head]";
	if ((rk != 3 && rk != 4) || rv != rk)
		return "key and value do not start from [batch, sequence, hidden] or [batch, heads, sequence, "
		       "head] tensors";
	if ((r = dims_of(a, q, d)) < 2 || !d[r - 1] || (rq == 3 && dq[2] % d[r - 1]) ||
	    (rq == 4 && dq[3] != d[r - 1]))
		return "the query's head size does not divide its hidden size";
	a->size[AX_B] = dq[0];
	a->size[AX_S] = dq[rq - 2];
	a->size[AX_H] = d[r - 1];
	a->size[AX_N] = rq == 3 ? dq[2] / d[r - 1] : dq[1];
	if ((r = dims_of(a, v, d)) < 2)
		return "the value's shape is unknown";
	a->size[AX_V] = d[r - 1];
	a->size[AX_T] = rk == 3 ? dk[1] : dk[2];
	if (rk == 3 ? dk[0] != dq[0] || dk[2] != a->size[AX_N] * a->size[AX_H] || dv[0] != dq[0] || dv[1] != dk[1] ||
			      dv[2] != a->size[AX_N] * a->size[AX_V]
		    : dk[0] != dq[0] || dk[1] != a->size[AX_N] || dk[3] != a->size[AX_H] || dv[0] != dq[0] ||
			      dv[1] != a->size[AX_N] || dv[2] != dk[2] || dv[3] != a->size[AX_V] ||
			      a->size[AX_V] != a->size[AX_H])
		return "query, key and value disagree on batch, heads or head size";
	for (int i = 0; i < N_AXES; i++)
		if (a->size[i] < 1)
			return "an axis has no size";
	return NULL;
}

/* Leading dims (all but the last two) of l and m hold the same axes. */
static bool same_lead(const struct layout *l, const struct layout *m)
{
	if (l->rank != m->rank || l->rank < 2)
		return false;
	for (int i = 0; i < l->rank - 2; i++)
		if (!same_dims(l, i, m, i))
			return false;
	return true;
}

static bool lead_is_bn(struct attn *a, const struct layout *l)
{
	int ax[N_AXES * ONNXPASS_MAX_RANK], k = flatten(l, 0, l->rank - 2, ax), j = 0;

	if (a->size[AX_B] != 1)
		if (k <= j || ax[j++] != AX_B)
			return false;
	if (a->size[AX_N] != 1)
		if (k <= j || ax[j++] != AX_N)
			return false;
	return j == k;
}

static bool last_two(struct attn *a, const struct layout *l, const char *x, const char *y)
{
	struct layout m;

	layout_of(a, &m, x);
	if (l->rank < 2 || !same_dims(l, l->rank - 2, &m, 0))
		return false;
	layout_of(a, &m, y);
	return same_dims(l, l->rank - 1, &m, 0);
}

/* v = Add(x, c) in either order, c a float constant [len], v read only
 * on the attention's way (and by Shape): x, with c's values in b; else
 * NULL and b untouched. */
static struct onnxpass_value *biased(struct attn *a, struct onnxpass_value *v, int64_t len, float *b)
{
	struct onnxpass_node *p = onnxpass_value_producer(v, NULL);
	int64_t dv[ONNXPASS_MAX_RANK], dx[ONNXPASS_MAX_RANK];
	int in;

	if (!p || !onnxpass_node_is(p, NULL, "Add") || onnxpass_node_input_count(p) != 2 || !main_use(v, &in) ||
	    dims_of(a, v, dv) != 3)
		return NULL;
	for (int i = 0; i < 2; i++) {
		struct onnxpass_value *x = onnxpass_node_input_value(p, 1 - i);
		struct onnxpass_tensor *t = onnxpass_value_constant(onnxpass_node_input_value(p, i));

		if (t && onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT && onnxpass_tensor_rank(t) == 1 &&
		    onnxpass_tensor_dim(t, 0) == len && dims_of(a, x, dx) == 3 && !memcmp(dx, dv, sizeof(dv[0]) * 3) &&
		    onnxpass_shapes_dtype(a->sh, x) == ONNXPASS_DT_FLOAT && !onnxpass_tensor_to_f32(t, b, (size_t)len))
			return x;
	}
	return NULL;
}

/* MultiHeadAttention's bias input: the constant Adds on query, key and
 * value [b, s, hidden] folded into one [q | k | v] vector (zeros where one
 * has none); ins[0..2] then name the unbiased inputs.  0 with nothing to
 * fold, 1 when folded, or < 0. */
static int fold_qkv_bias(struct attn *a, struct onnxpass_value *q0, struct onnxpass_value *k0,
			 struct onnxpass_value *v0, const char **ins, const char **qkv)
{
	int64_t lq = a->size[AX_N] * a->size[AX_H], lv = a->size[AX_N] * a->size[AX_V], n = 2 * lq + lv, d[ONNXPASS_MAX_RANK];
	float *b;
	struct onnxpass_value *xq, *xk, *xv;

	*qkv = NULL;
	if (dims_of(a, q0, d) != 3 || dims_of(a, k0, d) != 3 || dims_of(a, v0, d) != 3)
		return 0;
	if (!(b = calloc((size_t)n, sizeof(*b))))
		return ONNXPASS_ENOMEM;
	xq = biased(a, q0, lq, b);
	xk = biased(a, k0, lq, b + lq);
	xv = biased(a, v0, lv, b + 2 * lq);
	if (!xq && !xk && !xv) {
		free(b);
		return 0;
	}
	*qkv = onnxpass_graph_add_const_f32(a->g, "attention_qkv_bias", 1, b, (size_t)n);
	free(b);
	if (!*qkv)
		return ONNXPASS_ENOMEM;
	if (xq)
		ins[0] = onnxpass_value_name(xq);
	if (xk)
		ins[1] = onnxpass_value_name(xk);
	if (xv)
		ins[2] = onnxpass_value_name(xv);
	return 1;
}

/* GroupQueryAttention(query, key [b, s, g*h], value, past key and value,
 * lengths, attention_bias) in place of the attention ending at last and
 * of the two cache Concats, whose outputs it writes. */
static int grouped(struct attn *a, const char *name, const char *query, const char *bias, const char *out,
		   struct onnxpass_node *last, const struct kv *kk, const struct kv *vv)
{
	const char *key = query_3d(a, kk->cur), *value = query_3d(a, vv->cur);
	const char *pk = onnxpass_value_name(kk->present), *pv = onnxpass_value_name(vv->present);
	const char *seqlens = NULL, *total = NULL, *ins[11], *outs[3] = { out, pk, pv };
	struct onnxpass_node *n = NULL;

	if (key && value && !gqa_lengths(a, kk, key, &seqlens, &total)) {
		ins[0] = query;
		ins[1] = key;
		ins[2] = value;
		ins[3] = onnxpass_value_name(kk->past);
		ins[4] = onnxpass_value_name(vv->past);
		ins[5] = seqlens;
		ins[6] = total;
		ins[7] = ins[8] = ins[9] = "";
		ins[10] = bias ? bias : "";
		onnxpass_graph_remove_node(a->g, last);
		onnxpass_graph_remove_node(a->g, onnxpass_value_producer(kk->present, NULL));
		onnxpass_graph_remove_node(a->g, onnxpass_value_producer(vv->present, NULL));
		n = onnxpass_graph_add_node(a->g, "GroupQueryAttention", ONNXPASS_DOMAIN_MS, name, ins,
					    bias ? 11 : 7, outs, 3);
	}
	if (n) {
		onnxpass_node_set_attr_int(n, "num_heads", a->size[AX_N]);
		onnxpass_node_set_attr_int(n, "kv_num_heads", kk->groups);
		onnxpass_node_set_attr_float(n, "scale", a->scale);
		a->f->gqa++;
	}
	return n ? 1 : ONNXPASS_ENOMEM;
}

static int attention(void *state, struct onnxpass_node *sm)
{
	struct attn *a = state;
	struct fuse *f = a->f;
	struct onnxpass_value *p = onnxpass_node_output_value(sm, 0), *q0, *k0, *v0, *out;
	struct onnxpass_node *mm0 = NULL, *mm1, *qs[MAX_STEPS], *ks[MAX_STEPS], *vs[MAX_STEPS], *last;
	struct score_step ss[MAX_STEPS];
	struct layout ql, kl, sl, vl, ol;
	int nq, nk, nv, ns, in, rank;
	int64_t axis, d[ONNXPASS_MAX_RANK];
	const char *why;
	const char *bias = NULL, *oname, *query, *qkv = NULL, *ins[6];
	char *name;
	struct onnxpass_node *mha;
	struct kv kk, vv;
	int rc;
	bool gqa;

	a->scale = 1.0f;
	a->nterm = 0;
	mm1 = onnxpass_value_single_use(p, &in);
	if (!mm1 || !onnxpass_node_is(mm1, NULL, "MatMul") || in != 0)
		return 0;	/* not attention's softmax */
	rank = dims_of(a, onnxpass_node_input_value(sm, 0), d);
	if (onnxpass_node_attr_int(sm, "axis", &axis))
		axis = a->opset < 13 ? 1 : -1;
	if (rank < 2 || (axis != -1 && axis != rank - 1))
		return reject(f, sm, "attention", "the softmax is not over the last axis of a known shape"), 0;
	if ((why = scores_back(a, onnxpass_node_input_value(sm, 0), ss, &ns, &mm0)))
		return reject(f, sm, "attention", why), 0;
	if (main_use(onnxpass_node_output_value(mm0, 0), &in) == NULL)
		return reject(f, sm, "attention", "the scores are read outside the attention"), 0;
	q0 = walk_back(a, onnxpass_node_input_value(mm0, 0), qs, &nq);
	k0 = walk_back(a, onnxpass_node_input_value(mm0, 1), ks, &nk);
	v0 = walk_back(a, onnxpass_node_input_value(mm1, 1), vs, &nv);
	if ((why = bind_axes(a, q0, k0, v0, onnxpass_node_input_value(mm0, 0), onnxpass_node_input_value(mm1, 1))))
		return reject(f, sm, "attention", why), 0;
	if (onnxpass_shapes_dtype(a->sh, q0) != ONNXPASS_DT_FLOAT ||
	    onnxpass_shapes_dtype(a->sh, k0) != ONNXPASS_DT_FLOAT ||
	    onnxpass_shapes_dtype(a->sh, v0) != ONNXPASS_DT_FLOAT)
		return reject(f, sm, "attention", "query, key or value is not float32"), 0;
	layout_of(a, &ql, onnxpass_shapes_get(a->sh, q0, d, ONNXPASS_MAX_RANK) == 3 ? "b,s,nh" : "b,n,s,h");
	layout_of(a, &kl, onnxpass_shapes_get(a->sh, k0, d, ONNXPASS_MAX_RANK) == 3 ? "b,t,nh" : "b,n,t,h");
	layout_of(a, &vl, onnxpass_shapes_get(a->sh, v0, d, ONNXPASS_MAX_RANK) == 3 ? "b,t,nv" : "b,n,t,v");
	if (!replay(a, &ql, qs, nq) || !last_two(a, &ql, "s", "h") || !lead_is_bn(a, &ql))
		return reject(f, sm, "attention", "the query is not split into [batch, heads, query, head]"), 0;
	if (!replay(a, &kl, ks, nk) || !last_two(a, &kl, "h", "t") || !same_lead(&kl, &ql))
		return reject(f, sm, "attention", "the key is not split into [batch, heads, head, key]"), 0;
	sl = ql;
	layout_of(a, &ol, "t");
	sl.n[sl.rank - 1] = ol.n[0];
	memcpy(sl.ax[sl.rank - 1], ol.ax[0], sizeof(ol.ax[0]));
	if ((why = check_terms(a, &sl, ss, ns)))
		return reject(f, sm, "attention", why), 0;
	if (!last_two(a, &sl, "s", "t") || !lead_is_bn(a, &sl))
		return reject(f, sm, "attention", "the softmax input is not [batch, heads, query, key]"), 0;
	if (!replay(a, &vl, vs, nv) || !last_two(a, &vl, "t", "v") || !same_lead(&vl, &sl))
		return reject(f, sm, "attention", "the value is not split into [batch, heads, key, head]"), 0;
	/* the output: forward through its reshapes until it is [b, s, n*v] */
	ol = sl;
	layout_of(a, &vl, "v");
	ol.n[ol.rank - 1] = vl.n[0];
	memcpy(ol.ax[ol.rank - 1], vl.ax[0], sizeof(vl.ax[0]));
	out = onnxpass_node_output_value(mm1, 0);
	last = mm1;
	for (int i = 0; !layout_is(a, &ol, "b,s,nv"); i++) {
		struct onnxpass_node *u = main_use(out, &in);

		if (i == MAX_STEPS || !u || (!onnxpass_node_is(u, NULL, "Reshape") && !onnxpass_node_is(u, NULL, "Transpose")) ||
		    in != 0 || !apply(a, &ol, u))
			return reject(f, sm, "attention", "the output is not merged back into [batch, sequence, hidden]"), 0;
		last = u;
		out = onnxpass_node_output_value(u, 0);
	}
	if (last == mm1)
		return reject(f, sm, "attention", "the output is not merged back into [batch, sequence, hidden]"), 0;
	if (a->nterm && a->opset < 10)
		return reject(f, sm, "attention", "opset below 10 (no Slice with inputs for the bias)"), 0;
	if (!(query = query_3d(a, q0)))
		return ONNXPASS_ENOMEM;
	gqa = a->gqa && a->opset >= 10 && a->size[AX_H] % 8 == 0 && grouped_cache(a, k0, &kk) &&
	      grouped_cache(a, v0, &vv) && kk.groups == vv.groups;
	ins[0] = query;
	ins[1] = onnxpass_value_name(k0);
	ins[2] = onnxpass_value_name(v0);
	if (!gqa && (rc = fold_qkv_bias(a, q0, k0, v0, ins, &qkv)) < 0)
		return rc;
	/* (the bias reads the query's length off the unbiased query) */
	if (a->nterm && !(bias = build_bias(a, ins[0])))
		return ONNXPASS_ENOMEM;
	oname = onnxpass_value_name(out);
	if (!(name = own(onnxpass_node_name(sm))))
		return ONNXPASS_ENOMEM;
	if (gqa) {
		rc = grouped(a, name, query, bias, oname, last, &kk, &vv);
		free(name);
		return rc;
	}
	ins[3] = qkv ? qkv : "";
	ins[4] = "";
	ins[5] = bias ? bias : "";
	onnxpass_graph_remove_node(a->g, last);
	mha = onnxpass_graph_add_node(a->g, "MultiHeadAttention", ONNXPASS_DOMAIN_MS, name, ins,
				      bias ? 6 : qkv ? 4 : 3, &oname, 1);
	if (mha) {
		onnxpass_node_set_attr_int(mha, "num_heads", a->size[AX_N]);
		onnxpass_node_set_attr_float(mha, "scale", a->scale);
		f->attention++;
	}
	free(name);
	return mha ? 1 : ONNXPASS_ENOMEM;
}

int attention_round(struct fuse *f, struct onnxpass_graph *g, bool gqa)
{
	struct attn a = { .f = f, .g = g, .opset = onnxpass_model_opset(f->m, ""), .gqa = gqa };
	int rc;

	if (!(a.fixed = onnxpass_shapes_infer(g, NULL, NULL, 0)))
		return ONNXPASS_ENOMEM;
	if (!(a.sh = bound_shapes(g, a.bound, &a.nbound))) {
		onnxpass_shapes_free(a.fixed);
		return ONNXPASS_ENOMEM;
	}
	rc = each_node(g, "Softmax", attention, &a);
	free(a.cache);
	free(a.lengths);
	onnxpass_shapes_free(a.sh);
	onnxpass_shapes_free(a.fixed);
	return rc;
}
