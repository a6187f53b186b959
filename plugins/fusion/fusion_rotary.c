/* SPDX-License-Identifier: MIT */
/*
 * fusion: rotary position embeddings -> com.microsoft RotaryEmbedding.
 *
 * Llama-family exports rotate each head x [b, n, s, h] as
 *
 *   x * C + Concat(-x[..., h/2:], x[..., :h/2]) * S
 *   C = Unsqueeze(Gather(cos_table, position_ids), 1)   (S likewise)
 *
 * where each row of the [max_positions, h] tables repeats its first half
 * (cos(p w_i) for i < h/2, then the same again).  That is RotaryEmbedding
 * (non-interleaved) over the 4-D input with the tables' first halves as
 * cos_cache and sin_cache, position_ids [b, s].  The tables may be read
 * through Slice(table, 0, length) on the positions axis (exporters cut
 * them to the sequence length; Gather by position reads the same rows) and
 * a Cast to float.  Everything is checked: the halves of every row equal,
 * the slices taking exactly the two halves of the last axis, the position
 * ids [b, s] of x's batch and sequence.
 */
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

#define MAX_TABLES 8

struct rot {
	struct fuse *f;
	struct onnxpass_graph *g;
	struct onnxpass_shapes *sh;
	struct {
		struct onnxpass_tensor *table;
		const char *half;
	} cache[MAX_TABLES];
	int ncache;
};

static int dims(struct rot *r, struct onnxpass_value *v, int64_t *d)
{
	return known_dims(r->sh, v, d);
}

/* Slice p has no steps, or steps of 1. */
static bool unit_step(struct onnxpass_node *p)
{
	int64_t step;

	return onnxpass_node_input_count(p) < 5 || !onnxpass_node_input_value(p, 4) ||
	       (onnxpass_value_const_ints(onnxpass_node_input_value(p, 4), &step, 1) == 1 && step == 1);
}

/* v = Slice(x, ...) over x's last axis (step 1) taking half of it: 0 for
 * the first half (from 0), 1 for the second (to the end), else -1. */
static int half_of(struct rot *r, struct onnxpass_value *v, struct onnxpass_value **x, int64_t h)
{
	struct onnxpass_node *p = onnxpass_value_producer(v, NULL);
	int64_t dx[ONNXPASS_MAX_RANK], dv[ONNXPASS_MAX_RANK], start, end, axis;
	int n, rank;

	if (!p || !onnxpass_node_is(p, NULL, "Slice") || onnxpass_node_input_count(p) < 4 ||
	    onnxpass_value_use_count(v) != 1)
		return -1;
	*x = onnxpass_node_input_value(p, 0);
	rank = dims(r, *x, dx);
	if (rank != 4 || dx[3] != h || dims(r, v, dv) != 4 || dv[3] != h / 2 || dv[0] != dx[0] || dv[1] != dx[1] ||
	    dv[2] != dx[2])
		return -1;
	if (onnxpass_value_const_ints(onnxpass_node_input_value(p, 3), &axis, 1) != 1 || (axis != -1 && axis != 3))
		return -1;
	if (!unit_step(p))
		return -1;
	/* the output holds h/2 of the h positions: a start of 0 makes it the
	 * first half, an end past h the second */
	n = onnxpass_value_const_ints(onnxpass_node_input_value(p, 1), &start, 1);
	if (n == 1 && start == 0)
		return 0;
	n = onnxpass_value_const_ints(onnxpass_node_input_value(p, 2), &end, 1);
	return n == 1 && end >= h ? 1 : -1;
}

/* A constant float table [max, h] whose rows repeat their first half. */
static struct onnxpass_tensor *table(struct onnxpass_value *v, int64_t h)
{
	struct onnxpass_tensor *t = onnxpass_value_constant(v);
	const float *d;

	if (!t || onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT || onnxpass_tensor_rank(t) != 2 ||
	    onnxpass_tensor_dim(t, 1) != h || !(d = onnxpass_tensor_data(t)))
		return NULL;
	for (int64_t i = 0; i < onnxpass_tensor_dim(t, 0); i++)
		if (memcmp(d + i * h, d + i * h + h / 2, sizeof(float) * (size_t)(h / 2)))
			return NULL;
	return t;
}

/* c = Unsqueeze(Gather(T, pos), 1) [b, 1, s, h], T a table (or a Slice of
 * one from row 0, or its Cast to float): the table, *pos the positions. */
static struct onnxpass_tensor *rows_of(struct rot *r, struct onnxpass_value *c, int64_t h,
				       struct onnxpass_value **pos)
{
	struct onnxpass_node *u = onnxpass_value_producer(c, NULL), *gth, *p;
	struct onnxpass_value *t;
	int64_t dc[ONNXPASS_MAX_RANK], dg[ONNXPASS_MAX_RANK], axis, start;

	if (!u || !onnxpass_node_is(u, NULL, "Unsqueeze") ||
	    !(gth = onnxpass_value_producer(onnxpass_node_input_value(u, 0), NULL)) ||
	    !onnxpass_node_is(gth, NULL, "Gather"))
		return NULL;
	if (!onnxpass_node_attr_int(gth, "axis", &axis) && axis != 0)
		return NULL;
	if (dims(r, c, dc) != 4 || dims(r, onnxpass_node_output_value(gth, 0), dg) != 3 || dc[1] != 1 ||
	    dc[0] != dg[0] || dc[2] != dg[1] || dc[3] != dg[2] || dg[2] != h)
		return NULL;
	*pos = onnxpass_node_input_value(gth, 1);
	t = onnxpass_node_input_value(gth, 0);
	for (int i = 0; i < 2 && (p = onnxpass_value_producer(t, NULL)); i++) {
		if (onnxpass_node_is(p, NULL, "Cast") && onnxpass_shapes_dtype(r->sh, onnxpass_node_input_value(p, 0)) ==
								 ONNXPASS_DT_FLOAT)
			t = onnxpass_node_input_value(p, 0);
		else if (onnxpass_node_is(p, NULL, "Slice") && onnxpass_node_input_count(p) >= 4 &&
			 onnxpass_value_const_ints(onnxpass_node_input_value(p, 1), &start, 1) == 1 && start == 0 &&
			 onnxpass_value_const_ints(onnxpass_node_input_value(p, 3), &axis, 1) == 1 && axis == 0 &&
			 unit_step(p))
			t = onnxpass_node_input_value(p, 0);
		else
			break;
	}
	return table(t, h);
}

/* The first half of each row of t as a new initializer (one per table). */
static const char *half_table(struct rot *r, struct onnxpass_tensor *t, const char *prefix)
{
	int64_t d[2] = { onnxpass_tensor_dim(t, 0), onnxpass_tensor_dim(t, 1) / 2 };
	struct onnxpass_tensor *half;
	const float *src = onnxpass_tensor_data(t);
	float *dst;
	const char *name;

	for (int i = 0; i < r->ncache; i++)
		if (r->cache[i].table == t)
			return r->cache[i].half;
	if (r->ncache == MAX_TABLES || !(name = onnxpass_graph_fresh_name(r->g, prefix, NULL)))
		return NULL;
	half = onnxpass_tensor_new(name, ONNXPASS_DT_FLOAT, 2, d);
	if (!half || !(dst = onnxpass_tensor_mutable_data(half)) || onnxpass_graph_add_initializer(r->g, half)) {
		onnxpass_tensor_free(half);
		return NULL;
	}
	for (int64_t i = 0; i < d[0]; i++)
		memcpy(dst + i * d[1], src + i * 2 * d[1], sizeof(float) * (size_t)d[1]);
	r->cache[r->ncache].table = t;
	r->cache[r->ncache].half = name;
	return r->cache[r->ncache++].half;
}

/* Mul m's inputs as (one that is a Concat's output, the other), or false. */
static bool concat_side(struct onnxpass_node *m, struct onnxpass_value **cat, struct onnxpass_value **o)
{
	for (int i = 0; i < 2; i++) {
		struct onnxpass_node *p = onnxpass_value_producer(onnxpass_node_input_value(m, i), NULL);

		if (p && onnxpass_node_is(p, NULL, "Concat")) {
			*cat = onnxpass_node_input_value(m, i);
			*o = onnxpass_node_input_value(m, 1 - i);
			return true;
		}
	}
	return false;
}

static int rotary(void *state, struct onnxpass_node *add)
{
	struct rot *r = state;
	struct onnxpass_value *out = onnxpass_node_output_value(add, 0), *x = NULL, *x2 = NULL, *cat, *s, *c;
	struct onnxpass_value *pos, *pos2;
	struct onnxpass_node *mc = NULL, *ms = NULL, *cn, *neg, *n;
	struct onnxpass_tensor *tc, *ts;
	int64_t d[ONNXPASS_MAX_RANK], dp[ONNXPASS_MAX_RANK], axis;
	const char *ins[4], *cos, *sin;
	const char *oname;
	char *name;
	int in;

	if (onnxpass_node_input_count(add) != 2 || dims(r, out, d) != 4 || d[3] % 2)
		return 0;
	for (int i = 0; i < 2 && !ms; i++) {
		struct onnxpass_node *a = onnxpass_value_producer(onnxpass_node_input_value(add, i), NULL);
		struct onnxpass_node *b = onnxpass_value_producer(onnxpass_node_input_value(add, 1 - i), NULL);

		if (a && b && onnxpass_node_is(a, NULL, "Mul") && onnxpass_node_is(b, NULL, "Mul") &&
		    onnxpass_node_input_count(a) == 2 && onnxpass_node_input_count(b) == 2 && concat_side(b, &cat, &s))
			mc = a, ms = b;
	}
	if (!ms)
		return 0;
	cn = onnxpass_value_producer(cat, NULL);
	if (onnxpass_node_input_count(cn) != 2 || onnxpass_node_attr_int(cn, "axis", &axis) ||
	    (axis != -1 && axis != 3) || !(neg = onnxpass_value_producer(onnxpass_node_input_value(cn, 0), NULL)) ||
	    !onnxpass_node_is(neg, NULL, "Neg"))
		return 0;
	/* Concat(-x[h/2:], x[:h/2]) */
	if (half_of(r, onnxpass_node_input_value(cn, 1), &x, d[3]) != 0 ||
	    half_of(r, onnxpass_node_input_value(neg, 0), &x2, d[3]) != 1 || x != x2)
		return reject(r->f, add, "rotary", "the rotated half is not Concat(-x[h/2:], x[:h/2])"), 0;
	c = other(mc, x);
	if (!c)
		return reject(r->f, add, "rotary", "x * cos does not multiply the rotated x"), 0;
	if (!onnxpass_value_single_use(onnxpass_node_output_value(mc, 0), &in) || !onnxpass_value_single_use(onnxpass_node_output_value(ms, 0), &in) ||
	    !onnxpass_value_single_use(cat, &in) || !onnxpass_value_single_use(onnxpass_node_output_value(neg, 0), &in))
		return reject(r->f, add, "rotary", "a partial result is read elsewhere"), 0;
	tc = rows_of(r, c, d[3], &pos);
	ts = rows_of(r, s, d[3], &pos2);
	if (!tc || !ts || pos != pos2)
		return reject(r->f, add, "rotary",
			      "cos and sin are not rows of constant tables (halves repeated) gathered by the same positions"),
		       0;
	if (dims(r, pos, dp) != 2 || dp[0] != d[0] || dp[1] != d[2] || onnxpass_shapes_dtype(r->sh, pos) != ONNXPASS_DT_INT64)
		return reject(r->f, add, "rotary", "the position ids are not int64 [batch, sequence]"), 0;
	if (!(cos = half_table(r, tc, "rotary_cos_cache")) || !(sin = half_table(r, ts, "rotary_sin_cache")))
		return ONNXPASS_ENOMEM;
	ins[0] = onnxpass_value_name(x);
	ins[1] = onnxpass_value_name(pos);
	ins[2] = cos;
	ins[3] = sin;
	oname = onnxpass_value_name(out);
	if (!(name = own(onnxpass_node_name(add))))
		return ONNXPASS_ENOMEM;
	onnxpass_graph_remove_node(r->g, add);
	n = onnxpass_graph_add_node(r->g, "RotaryEmbedding", ONNXPASS_DOMAIN_MS, name, ins, 4, &oname, 1);
	if (n)
		r->f->rotary++;
	free(name);
	return n ? 1 : ONNXPASS_ENOMEM;
}

int rotary_round(struct fuse *f, struct onnxpass_graph *g)
{
	struct rot r = { .f = f, .g = g };
	int rc;

	if (!(r.sh = bound_shapes(g, NULL, NULL)))
		return ONNXPASS_ENOMEM;
	rc = each_node(g, "Add", rotary, &r);
	onnxpass_shapes_free(r.sh);
	return rc;
}
