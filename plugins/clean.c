/* SPDX-License-Identifier: MIT */
/* clean: the graph tidying real exports need before anything else.
 *
 *  - Constant nodes become initializers;
 *  - nodes whose inputs are all constants are evaluated (integer and float
 *    shape arithmetic: Shape of a constant, Gather, Unsqueeze, Squeeze,
 *    Concat, Cast, Add/Sub/Mul/Div/Neg, Reshape, Range, ConstantOfShape)
 *    when the result is no bigger than fold_max_bytes or than
 *    the constants it reads: folding never grows the model;
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

#define MAX_RANK 8

struct clean {
	struct onnxpass_ctx *ctx;
	int64_t max_bytes;
	int64_t constants, folded, bypassed, removed, noops;
};

/* A constant value: an initializer reachable from the node (or NULL). */
static struct onnxpass_tensor *const_of(struct onnxpass_node *n, size_t i)
{
	struct onnxpass_value *v = onnxpass_node_input_value(n, i);

	if (!v || onnxpass_value_is_graph_input(v))
		return NULL;
	return onnxpass_value_initializer(v);
}

static bool is_int(int dt)
{
	return dt == ONNXPASS_DT_INT64 || dt == ONNXPASS_DT_INT32;
}

static bool is_num(int dt)
{
	return is_int(dt) || dt == ONNXPASS_DT_FLOAT || dt == ONNXPASS_DT_DOUBLE;
}

/* ------------------------------------------------------------------ */
/* Values as int64 or double arrays                                    */

struct arr {
	int dtype;
	size_t rank;
	int64_t dims[MAX_RANK];
	int64_t n;
	int64_t *i;	/* for integer types */
	double *f;	/* for float types */
};

static void arr_free(struct arr *a)
{
	free(a->i);
	free(a->f);
	memset(a, 0, sizeof(*a));
}

static bool arr_load(struct onnxpass_tensor *t, struct arr *a)
{
	memset(a, 0, sizeof(*a));
	a->dtype = onnxpass_tensor_dtype(t);
	a->rank = onnxpass_tensor_rank(t);
	a->n = onnxpass_tensor_numel(t);
	if (!is_num(a->dtype) || a->rank > MAX_RANK || a->n > (1 << 20))
		return false;
	for (size_t d = 0; d < a->rank; d++)
		a->dims[d] = onnxpass_tensor_dim(t, d);
	if (is_int(a->dtype)) {
		a->i = malloc((size_t)(a->n ? a->n : 1) * sizeof(int64_t));
		return a->i && (a->n == 0 || !onnxpass_tensor_to_i64(t, a->i, (size_t)a->n));
	}
	a->f = malloc((size_t)(a->n ? a->n : 1) * sizeof(double));
	if (!a->f)
		return false;
	if (a->n == 0)
		return true;
	if (a->dtype == ONNXPASS_DT_DOUBLE) {
		memcpy(a->f, onnxpass_tensor_data_aligned(t), (size_t)a->n * 8);
	} else {
		float *tmp = malloc((size_t)(a->n ? a->n : 1) * sizeof(float));

		if (!tmp || onnxpass_tensor_to_f32(t, tmp, (size_t)a->n)) {
			free(tmp);
			return false;
		}
		for (int64_t k = 0; k < a->n; k++)
			a->f[k] = tmp[k];
		free(tmp);
	}
	return true;
}

static bool arr_alloc(struct arr *a, int dtype, size_t rank, const int64_t *dims)
{
	memset(a, 0, sizeof(*a));
	a->dtype = dtype;
	a->rank = rank;
	a->n = 1;
	if (rank > MAX_RANK)
		return false;
	for (size_t d = 0; d < rank; d++) {
		if (dims[d] < 0 || (dims[d] && a->n > (1 << 20) / dims[d]))
			return false;
		a->dims[d] = dims[d];
		a->n *= dims[d];
	}
	if (is_int(dtype))
		return (a->i = calloc((size_t)(a->n ? a->n : 1), sizeof(int64_t))) != NULL;
	return (a->f = calloc((size_t)(a->n ? a->n : 1), sizeof(double))) != NULL;
}

/* Element k of a as double / int64, whatever its kind. */
static double fget(const struct arr *a, int64_t k)
{
	return a->i ? (double)a->i[k] : a->f[k];
}

static int64_t iget(const struct arr *a, int64_t k)
{
	return a->i ? a->i[k] : (int64_t)a->f[k];
}

/* Same element count and kind: copy the values (reshaping ops). */
static void arr_copy(struct arr *o, const struct arr *in)
{
	if (o->i && o->n)
		memcpy(o->i, in->i, (size_t)o->n * sizeof(int64_t));
	else if (o->n)
		memcpy(o->f, in->f, (size_t)o->n * sizeof(double));
}

static struct onnxpass_tensor *arr_tensor(const struct arr *a, const char *name)
{
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, a->dtype, a->rank, a->dims);
	uint8_t *p = t ? onnxpass_tensor_mutable_data(t) : NULL;

	if (!p) {
		onnxpass_tensor_free(t);
		return NULL;
	}
	for (int64_t k = 0; k < a->n; k++) {
		switch (a->dtype) {
		case ONNXPASS_DT_INT64: { int64_t v = a->i[k]; memcpy(p + 8 * k, &v, 8); break; }
		case ONNXPASS_DT_INT32: { int32_t v = (int32_t)a->i[k]; memcpy(p + 4 * k, &v, 4); break; }
		case ONNXPASS_DT_FLOAT: { float v = (float)a->f[k]; memcpy(p + 4 * k, &v, 4); break; }
		case ONNXPASS_DT_DOUBLE: { double v = a->f[k]; memcpy(p + 8 * k, &v, 8); break; }
		default: break;
		}
	}
	return t;
}

/* Numpy-style broadcast of two shapes into out; false if incompatible. */
static bool broadcast(const struct arr *a, const struct arr *b, size_t *rank, int64_t *dims)
{
	*rank = a->rank > b->rank ? a->rank : b->rank;
	for (size_t d = 0; d < *rank; d++) {
		int64_t x = d < *rank - a->rank ? 1 : a->dims[d - (*rank - a->rank)];
		int64_t y = d < *rank - b->rank ? 1 : b->dims[d - (*rank - b->rank)];

		if (x != y && x != 1 && y != 1)
			return false;
		dims[d] = x == 1 ? y : x;
	}
	return true;
}

/* Index into a broadcast operand for flat output index k. */
static int64_t bindex(const struct arr *a, size_t rank, const int64_t *dims, int64_t k)
{
	int64_t idx = 0, stride = 1;

	for (size_t d = rank; d-- > 0;) {
		int64_t coord = k % dims[d];
		size_t ad;

		k /= dims[d];
		if (d < rank - a->rank)
			continue;
		ad = d - (rank - a->rank);
		idx += (a->dims[ad] == 1 ? 0 : coord) * stride;
		stride *= a->dims[ad];
	}
	return idx;
}

/* ------------------------------------------------------------------ */
/* Evaluation of one node; false when not handled                      */

static bool axis_norm(int64_t *ax, size_t rank)
{
	if (*ax < 0)
		*ax += (int64_t)rank;
	return *ax >= 0 && (size_t)*ax < rank;
}

static bool eval_binary(const char *op, const struct arr *a, const struct arr *b, struct arr *o)
{
	size_t rank;
	int64_t dims[MAX_RANK];

	if (a->dtype != b->dtype || !broadcast(a, b, &rank, dims))
		return false;
	if (!arr_alloc(o, a->dtype, rank, dims))
		return false;
	for (int64_t k = 0; k < o->n; k++) {
		int64_t ia = bindex(a, rank, dims, k), ib = bindex(b, rank, dims, k);

		if (a->i) {
			int64_t x = a->i[ia], y = b->i[ib];

			if (!strcmp(op, "Add")) o->i[k] = (int64_t)((uint64_t)x + (uint64_t)y);
			else if (!strcmp(op, "Sub")) o->i[k] = (int64_t)((uint64_t)x - (uint64_t)y);
			else if (!strcmp(op, "Mul")) o->i[k] = (int64_t)((uint64_t)x * (uint64_t)y);
			else {	/* Div: integer division truncates */
				if (y == 0 || (x == INT64_MIN && y == -1))
					return false;
				o->i[k] = x / y;
			}
			if (a->dtype == ONNXPASS_DT_INT32)
				o->i[k] = (int32_t)o->i[k];
		} else {
			float x = (float)a->f[ia], y = (float)b->f[ib], r;

			if (a->dtype == ONNXPASS_DT_DOUBLE) {
				double dx = a->f[ia], dy = b->f[ib];

				o->f[k] = !strcmp(op, "Add") ? dx + dy : !strcmp(op, "Sub") ? dx - dy :
					  !strcmp(op, "Mul") ? dx * dy : dx / dy;
				continue;
			}
			r = !strcmp(op, "Add") ? x + y : !strcmp(op, "Sub") ? x - y :
			    !strcmp(op, "Mul") ? x * y : x / y;
			o->f[k] = r;
		}
	}
	return true;
}

static bool eval(struct onnxpass_node *n, struct arr *in, size_t nin, struct arr *o)
{
	const char *op = onnxpass_node_op_type(n);

	if (*onnxpass_node_domain(n))
		return false;
	if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") || !strcmp(op, "Div"))
		return nin == 2 && eval_binary(op, &in[0], &in[1], o);
	if (!strcmp(op, "Neg") && nin == 1) {
		if (!arr_alloc(o, in[0].dtype, in[0].rank, in[0].dims))
			return false;
		for (int64_t k = 0; k < o->n; k++)
			if (o->i)
				o->i[k] = (int64_t)(0 - (uint64_t)in[0].i[k]);
			else
				o->f[k] = -in[0].f[k];
		return true;
	}
	if (!strcmp(op, "Cast") && nin == 1) {
		int64_t to;

		if (onnxpass_node_attr_int(n, "to", &to) || !is_num((int)to))
			return false;
		/* float -> int truncates toward zero, like ORT; out of range: no */
		if (!arr_alloc(o, (int)to, in[0].rank, in[0].dims))
			return false;
		for (int64_t k = 0; k < o->n; k++) {
			if (o->i) {
				double d = fget(&in[0], k);

				if (!in[0].i && (d != d || d >= 9.2e18 || d <= -9.2e18))
					return false;
				o->i[k] = in[0].i ? in[0].i[k] : (int64_t)d;
				if (to == ONNXPASS_DT_INT32)
					o->i[k] = (int32_t)o->i[k];
			} else {
				o->f[k] = to == ONNXPASS_DT_FLOAT ? (double)(float)fget(&in[0], k) : fget(&in[0], k);
			}
		}
		return true;
	}
	if (!strcmp(op, "Shape") && nin == 1 && onnxpass_node_attr_count(n) == 0) {
		int64_t d[1] = { (int64_t)in[0].rank };

		if (!arr_alloc(o, ONNXPASS_DT_INT64, 1, d))
			return false;
		for (size_t k = 0; k < in[0].rank; k++)
			o->i[k] = in[0].dims[k];
		return true;
	}
	if ((!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) && nin >= 1) {
		int64_t axes[MAX_RANK], dims[MAX_RANK];
		const int64_t *ap;
		size_t na = 0, rank;
		bool uns = !strcmp(op, "Unsqueeze");

		if (nin == 2) {
			if (!in[1].i || in[1].n > MAX_RANK)
				return false;
			na = (size_t)in[1].n;
			memcpy(axes, in[1].i, na * 8);
		} else if (!onnxpass_node_attr_ints(n, "axes", &ap, &na) && na <= MAX_RANK) {
			memcpy(axes, ap, na * 8);
		} else if (uns) {
			return false;
		}
		rank = uns ? in[0].rank + na : in[0].rank;
		if (rank > MAX_RANK)
			return false;
		if (uns) {
			bool at[MAX_RANK] = { false };
			size_t s = 0;

			for (size_t k = 0; k < na; k++) {
				if (!axis_norm(&axes[k], rank) || at[axes[k]])
					return false;
				at[axes[k]] = true;
			}
			for (size_t d = 0; d < rank; d++)
				dims[d] = at[d] ? 1 : in[0].dims[s++];
		} else {
			size_t r = 0;

			for (size_t d = 0; d < in[0].rank; d++) {
				bool drop = false;

				for (size_t k = 0; k < na; k++) {
					int64_t a = axes[k];

					if (!axis_norm(&a, in[0].rank))
						return false;
					drop |= (size_t)a == d;
				}
				if (!na)
					drop = in[0].dims[d] == 1;
				if (drop && in[0].dims[d] != 1)
					return false;
				if (!drop)
					dims[r++] = in[0].dims[d];
			}
			rank = r;
		}
		if (!arr_alloc(o, in[0].dtype, rank, dims))
			return false;
		arr_copy(o, &in[0]);
		return true;
	}
	if (!strcmp(op, "Concat") && nin >= 1) {
		int64_t ax, dims[MAX_RANK], outer = 1, pos = 0;

		if (onnxpass_node_attr_int(n, "axis", &ax) || !axis_norm(&ax, in[0].rank))
			return false;
		memcpy(dims, in[0].dims, sizeof(dims));
		dims[ax] = 0;
		for (size_t i = 0; i < nin; i++) {
			if (in[i].dtype != in[0].dtype || in[i].rank != in[0].rank)
				return false;
			for (size_t d = 0; d < in[0].rank; d++)
				if ((int64_t)d != ax && in[i].dims[d] != in[0].dims[d])
					return false;
			dims[ax] += in[i].dims[ax];
		}
		if (!arr_alloc(o, in[0].dtype, in[0].rank, dims))
			return false;
		for (int64_t d = 0; d < ax; d++)
			outer *= dims[d];
		for (int64_t q = 0; q < outer; q++) {
			for (size_t i = 0; i < nin; i++) {
				int64_t chunk = outer ? in[i].n / outer : 0;

				for (int64_t k = 0; k < chunk; k++, pos++)
					if (o->i)
						o->i[pos] = in[i].i[q * chunk + k];
					else
						o->f[pos] = in[i].f[q * chunk + k];
			}
		}
		return true;
	}
	if (!strcmp(op, "Gather") && nin == 2 && in[1].i) {
		int64_t ax = 0, dims[MAX_RANK], outer = 1, inner = 1, rank;

		onnxpass_node_attr_int(n, "axis", &ax);
		if (!axis_norm(&ax, in[0].rank))
			return false;
		rank = (int64_t)(in[0].rank - 1 + in[1].rank);
		if (rank > MAX_RANK)
			return false;
		for (int64_t d = 0, r = 0; d < (int64_t)in[0].rank; d++) {
			if (d == ax) {
				for (size_t e = 0; e < in[1].rank; e++)
					dims[r++] = in[1].dims[e];
			} else {
				dims[r++] = in[0].dims[d];
			}
		}
		for (int64_t d = 0; d < ax; d++)
			outer *= in[0].dims[d];
		for (int64_t d = ax + 1; d < (int64_t)in[0].rank; d++)
			inner *= in[0].dims[d];
		if (!arr_alloc(o, in[0].dtype, (size_t)rank, dims))
			return false;
		for (int64_t q = 0, pos = 0; q < outer; q++) {
			for (int64_t j = 0; j < in[1].n; j++) {
				int64_t idx = in[1].i[j];

				if (idx < 0)
					idx += in[0].dims[ax];
				if (idx < 0 || idx >= in[0].dims[ax])
					return false;
				for (int64_t k = 0; k < inner; k++, pos++) {
					int64_t src = (q * in[0].dims[ax] + idx) * inner + k;

					if (o->i)
						o->i[pos] = in[0].i[src];
					else
						o->f[pos] = in[0].f[src];
				}
			}
		}
		return true;
	}
	if (!strcmp(op, "Reshape") && nin == 2 && in[1].i && in[1].rank == 1) {
		int64_t dims[MAX_RANK], known = 1, infer = -1, allowzero = 0;

		onnxpass_node_attr_int(n, "allowzero", &allowzero);
		if (in[1].n > MAX_RANK)
			return false;
		for (int64_t d = 0; d < in[1].n; d++) {
			dims[d] = in[1].i[d];
			if (dims[d] == 0 && !allowzero) {
				if ((size_t)d >= in[0].rank)
					return false;
				dims[d] = in[0].dims[d];
			}
			if (dims[d] == -1) {
				if (infer >= 0)
					return false;
				infer = d;
			} else if (dims[d] < 0) {
				return false;
			} else {
				known *= dims[d];
			}
		}
		if (infer >= 0) {
			if (!known || in[0].n % known)
				return false;
			dims[infer] = in[0].n / known;
		} else if (known != in[0].n) {
			return false;
		}
		if (!arr_alloc(o, in[0].dtype, (size_t)in[1].n, dims))
			return false;
		arr_copy(o, &in[0]);
		return true;
	}
	if (!strcmp(op, "Range") && nin == 3 && in[0].n == 1 && in[1].n == 1 && in[2].n == 1 &&
	    in[0].i && in[1].i && in[2].i && in[2].i[0] != 0) {
		int64_t s = in[0].i[0], l = in[1].i[0], d = in[2].i[0];
		int64_t cnt = (l - s + d + (d > 0 ? -1 : 1)) / d;
		int64_t dims[1];

		dims[0] = cnt > 0 ? cnt : 0;
		if (!arr_alloc(o, in[0].dtype, 1, dims))
			return false;
		for (int64_t k = 0; k < o->n; k++)
			o->i[k] = s + k * d;
		return true;
	}
	if (!strcmp(op, "ConstantOfShape") && nin == 1 && in[0].i && in[0].rank == 1 &&
	    in[0].n <= MAX_RANK) {
		struct onnxpass_tensor *val = onnxpass_node_attr_tensor(n, "value");
		struct arr va;
		bool ok;

		memset(&va, 0, sizeof(va));
		if (val && !arr_load(val, &va))
			return false;
		ok = arr_alloc(o, val ? va.dtype : ONNXPASS_DT_FLOAT, (size_t)in[0].n, in[0].i);
		for (int64_t k = 0; ok && k < o->n; k++)
			if (o->i)
				o->i[k] = val ? iget(&va, 0) : 0;
			else
				o->f[k] = val ? fget(&va, 0) : 0;
		arr_free(&va);
		return ok;
	}
	return false;
}

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

static int fold(struct clean *c, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	size_t nin = onnxpass_node_input_count(n);
	struct arr in[8], o;
	int64_t in_bytes = 0;
	struct onnxpass_tensor *t;
	struct onnxpass_value *ov = onnxpass_node_output_value(n, 0);
	char *name;
	int rc = 0;

	if (nin == 0 || nin > 8 || onnxpass_node_output_count(n) != 1 || !ov ||
	    onnxpass_value_is_graph_output(ov) || onnxpass_node_subgraph_count(n))
		return 0;
	for (size_t i = 0; i < nin; i++) {
		struct onnxpass_tensor *ct = const_of(n, i);

		if (!ct || !arr_load(ct, &in[i])) {
			for (size_t k = 0; k < i; k++)
				arr_free(&in[k]);
			return 0;
		}
		in_bytes += (int64_t)onnxpass_tensor_nbytes(ct);
	}
	memset(&o, 0, sizeof(o));
	if (eval(n, in, nin, &o)) {
		int64_t out_bytes = o.n * ((is_int(o.dtype) ? (o.dtype == ONNXPASS_DT_INT32 ? 4 : 8)
					    : o.dtype == ONNXPASS_DT_DOUBLE ? 8 : 4));

		if (out_bytes <= c->max_bytes || out_bytes <= in_bytes) {
			name = strdup(onnxpass_node_output(n, 0));
			t = name ? arr_tensor(&o, name) : NULL;
			if (t) {
				onnxpass_graph_remove_node(g, n);
				if (onnxpass_graph_add_initializer(g, t)) {
					onnxpass_tensor_free(t);
					rc = ONNXPASS_ENOMEM;
				} else {
					c->folded++;
					rc = 1;
				}
			}
			free(name);
		}
	}
	arr_free(&o);
	for (size_t k = 0; k < nin; k++)
		arr_free(&in[k]);
	return rc;
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
	int64_t da[16], db[16];
	int ra = onnxpass_shapes_get(sh, a, da, 16), rb = onnxpass_shapes_get(sh, b, db, 16);

	if (ra < 0 || ra != rb || ra > 16)
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
