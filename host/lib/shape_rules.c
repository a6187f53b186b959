/* SPDX-License-Identifier: MIT */
/* The op rules of the shape engine, in one table: for each op, its output
 * shapes (and the values of small outputs) from its inputs' facts, and its
 * element type.  Adding an op is one entry (at the end of this file).
 *
 * Values: integer elements may be symbols (a size known only by name);
 * arithmetic on them gives the same symbol where that is exact (x + 0,
 * x * 1) and a new one otherwise.  Float elements are computed in the
 * tensor's precision (float32 in float, as ONNX Runtime does), so a rule
 * marked RULE_FOLD gives exactly the bytes the runtime would.
 */
#include "config.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shapes.h"

#define BIG (INT64_MAX / 4)	/* Slice's "to the end" */

static const struct fact *IN(const struct rctx *r, size_t i)
{
	return i < r->nin ? r->in[i] : NULL;
}

static bool known(const struct fact *f)
{
	return f && f->rank >= 0;
}

/* An axis counted from the end made positive; -1 when out of range. */
static int norm_axis(int64_t a, int rank)
{
	if (a < -(int64_t)rank || a >= (int64_t)rank)
		return -1;
	return a < 0 ? (int)(a + rank) : (int)a;
}

static bool int_type(int dt)
{
	return dt == ONNXPASS_DT_INT64 || dt == ONNXPASS_DT_INT32 || dt == ONNXPASS_DT_BOOL;
}

static bool float_type(int dt)
{
	return dt == ONNXPASS_DT_FLOAT || dt == ONNXPASS_DT_DOUBLE;
}

/* Element count of a fully known shape, -1 if a dim is a symbol. */
static int64_t lit_numel(const struct fact *f)
{
	int64_t n = 1;

	if (!known(f))
		return -1;
	for (int i = 0; i < f->rank; i++) {
		if (is_sym(f->d[i]) || f->d[i] < 0 || (f->d[i] && n > BIG / f->d[i]))
			return -1;
		n *= f->d[i];
	}
	return n;
}

/* The number of values o's shape holds when the engine keeps them, else -1. */
static int64_t vals_room(struct rctx *r, const struct fact *o)
{
	int64_t n = lit_numel(o);

	return n >= 0 && n <= engine_max_vals(r->s) ? n : -1;
}

/* Forgets o's values (an element the rule cannot compute); true. */
static bool no_values(struct fact *o)
{
	o->n = -1;
	o->i = NULL;
	o->f = NULL;
	return true;
}

static bool has_ints(const struct fact *f)
{
	return f && f->n >= 0 && f->i;
}

static bool has_floats(const struct fact *f)
{
	return f && f->n >= 0 && f->f;
}

/* The same elements as x (the reshaping ops): the arrays are shared,
 * values never change once computed. */
static void same_values(struct fact *o, const struct fact *x)
{
	int64_t n = lit_numel(o);

	if (x && x->n >= 0 && n == x->n && (x->i || x->f) &&
	    (int_type(o->dtype) ? x->i != NULL : float_type(o->dtype) && x->f != NULL)) {
		o->n = x->n;
		o->i = x->i;
		o->f = x->f;
	}
}

/* Integer list from an attribute (older opsets) or a constant input. */
static int int_list(struct rctx *r, const char *attr, size_t input, int64_t *out, int max)
{
	const int64_t *a;
	size_t cnt;
	const struct fact *h;

	if (attr && !onnxpass_node_attr_ints(r->n, attr, &a, &cnt) && cnt <= (size_t)max) {
		if (cnt)	/* an empty list may come as NULL */
			memcpy(out, a, cnt * sizeof(*a));
		return (int)cnt;
	}
	if ((h = IN(r, input)) && has_ints(h) && h->n <= max) {
		for (int64_t i = 0; i < h->n; i++)
			if (is_sym(h->i[i]))
				return -1;
		memcpy(out, h->i, (size_t)h->n * sizeof(*out));
		return (int)h->n;
	}
	return -1;
}

static bool has_input(struct rctx *r, size_t i)
{
	return i < r->nin && r->in[i];
}

static int64_t product(struct rctx *r, const int64_t *d, int n)
{
	int64_t p = 1;

	for (int i = 0; i < n; i++)
		if (is_sym(d[i]) || __builtin_mul_overflow(p, d[i], &p))
			return sym_fresh(r->s, true);
	return p;
}

static void fmt_dims(const struct fact *f, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < f->rank && at + 24 < len; i++)
		at += (size_t)snprintf(buf + at, len - at, is_sym(f->d[i]) ? "%s?" : "%s%lld", i ? "," : "",
				       (long long)f->d[i]);
}

static int64_t bcast_dim(struct rctx *r, int64_t a, int64_t b, bool *clash)
{
	if (a == 1)
		return b;
	if (b == 1 || a == b)
		return a;
	if (!is_sym(a) && !is_sym(b)) {
		*clash = true;
		return a > b ? a : b;
	}
	if (!is_sym(a))
		return a;	/* b is a symbol: it must be a (or 1) */
	if (!is_sym(b))
		return b;
	return sym_fresh(r->s, true);
}

/* Numpy broadcasting of a and b into o's rank and dims.  Two different
 * sizes (neither 1) are a contradiction: recorded, and the larger taken so
 * that an analysis with sizes bound by the user (which a misleading
 * dim_param such as "past_sequence_length + 1" can contradict) goes on. */
static bool bcast(struct rctx *r, struct fact *o, const struct fact *a, const struct fact *b)
{
	int rk;
	bool clash = false;
	struct fact t;

	if (!known(a) || !known(b))
		return false;
	rk = a->rank > b->rank ? a->rank : b->rank;
	t.rank = rk;
	for (int i = 0; i < rk; i++) {
		int ia = i - (rk - a->rank), ib = i - (rk - b->rank);

		t.d[i] = bcast_dim(r, ia >= 0 ? a->d[ia] : 1, ib >= 0 ? b->d[ib] : 1, &clash);
	}
	if (clash) {
		char da[160], db[160];

		fmt_dims(a, da, sizeof(da));
		fmt_dims(b, db, sizeof(db));
		contradict(r, "shapes [%s] and [%s] do not broadcast", da, db);
	}
	o->rank = rk;
	memcpy(o->d, t.d, sizeof(t.d[0]) * (size_t)rk);
	return true;
}

/* Flat index into a (broadcast to o's literal shape) of o's element k. */
static int64_t bindex(const struct fact *a, const struct fact *o, int64_t k)
{
	int64_t idx = 0, stride = 1;

	for (int d = o->rank; d-- > 0;) {
		int64_t coord = o->d[d] ? k % o->d[d] : 0;
		int ad = d - (o->rank - a->rank);

		k = o->d[d] ? k / o->d[d] : 0;
		if (ad < 0)
			continue;
		idx += (a->d[ad] == 1 ? 0 : coord) * stride;
		stride *= a->d[ad];
	}
	return idx;
}

/* ------------------------------------------------------------------ */
/* Element arithmetic                                                  */

enum elem_op {
	E_ADD, E_SUB, E_MUL, E_DIV, E_MOD, E_MAX, E_MIN, E_POW,
	E_EQ, E_LT, E_GT, E_LE, E_GE, E_AND, E_OR, E_XOR, E_NONE
};

static enum elem_op elem_op(const char *op)
{
	static const char *const names[] = { "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Pow",
					     "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
					     "And", "Or", "Xor" };

	for (int i = 0; i < E_NONE; i++)
		if (!strcmp(op, names[i]))
			return (enum elem_op)i;
	return E_NONE;
}

static bool is_compare(enum elem_op e)
{
	return e >= E_EQ && e <= E_GE;
}

/* x op y on integers, either maybe a symbol; false when unknown. */
static bool int_elem(struct rctx *r, enum elem_op e, int dtype, int64_t x, int64_t y, int64_t *out)
{
	bool sx = is_sym(x), sy = is_sym(y);
	bool nx = sym_nonneg(r->s, x), ny = sym_nonneg(r->s, y);
	uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
	int64_t v;

	if (sx || sy) {
		switch (e) {
		case E_ADD:
			*out = y == 0 ? x : x == 0 ? y : sym_fresh(r->s, nx && ny);
			return true;
		case E_SUB:
			*out = y == 0 ? x : x == y ? 0 : sym_fresh(r->s, false);
			return true;
		case E_MUL:
			*out = y == 1 ? x : x == 1 ? y : x == 0 || y == 0 ? 0 : sym_fresh(r->s, nx && ny);
			return true;
		case E_DIV:
			if (y == 0)
				return false;
			*out = y == 1 ? x : sym_fresh(r->s, nx && ny);
			return true;
		case E_MAX:
			*out = (!sy && nx && y <= 0) ? x : (!sx && ny && x <= 0) ? y : x == y ? x
											  : sym_fresh(r->s, nx || ny);
			return true;
		case E_MIN:
			*out = (!sy && nx && y <= 0) ? y : (!sx && ny && x <= 0) ? x : x == y ? x
											  : sym_fresh(r->s, nx && ny);
			return true;
		case E_EQ:
			if (x == y)
				*out = 1;
			else if ((sx && !sy && nx && y < 0) || (sy && !sx && ny && x < 0))
				*out = 0;
			else
				return false;
			return true;
		case E_LT: case E_LE: case E_GT: case E_GE: {
			/* a size against a negative number */
			bool x_big;

			if (sx && !sy && nx && y < 0)
				x_big = true;
			else if (sy && !sx && ny && x < 0)
				x_big = false;
			else
				return false;
			*out = e == E_GT || e == E_GE ? x_big : !x_big;
			return true;
		}
		default:
			return false;
		}
	}
	switch (e) {
	case E_ADD: v = (int64_t)(ux + uy); break;
	case E_SUB: v = (int64_t)(ux - uy); break;
	case E_MUL: v = (int64_t)(ux * uy); break;
	case E_DIV:	/* integer Div truncates */
		if (y == 0 || (x == INT64_MIN && y == -1))
			return false;
		v = x / y;
		break;
	case E_MOD:	/* fmod = 0: the sign of the divisor */
		if (y == 0 || (x == INT64_MIN && y == -1))
			return false;
		v = x % y;
		if (v && ((v < 0) != (y < 0)))
			v += y;
		break;
	case E_MAX: v = x > y ? x : y; break;
	case E_MIN: v = x < y ? x : y; break;
	case E_POW:
		if (y < 0 || y > 62)
			return false;
		v = 1;
		for (int64_t k = 0; k < y; k++)
			v = (int64_t)((uint64_t)v * ux);
		break;
	case E_EQ: v = x == y; break;
	case E_LT: v = x < y; break;
	case E_GT: v = x > y; break;
	case E_LE: v = x <= y; break;
	case E_GE: v = x >= y; break;
	case E_AND: v = x && y; break;
	case E_OR: v = x || y; break;
	case E_XOR: v = !x != !y; break;
	default: return false;
	}
	if (dtype == ONNXPASS_DT_INT32)
		v = (int32_t)v;
	if (is_sym(v))
		return false;	/* a number we could not tell from a symbol */
	*out = v;
	return true;
}

static bool float_elem(enum elem_op e, bool single, double x, double y, double *out)
{
	if (single) {
		float a = (float)x, b = (float)y, v;

		switch (e) {
		case E_ADD: v = a + b; break;
		case E_SUB: v = a - b; break;
		case E_MUL: v = a * b; break;
		case E_DIV: v = a / b; break;
		case E_MAX: v = a > b ? a : b; break;
		case E_MIN: v = a < b ? a : b; break;
		case E_POW: v = powf(a, b); break;
		default: return false;
		}
		*out = v;
		return true;
	}
	switch (e) {
	case E_ADD: *out = x + y; return true;
	case E_SUB: *out = x - y; return true;
	case E_MUL: *out = x * y; return true;
	case E_DIV: *out = x / y; return true;
	case E_MAX: *out = x > y ? x : y; return true;
	case E_MIN: *out = x < y ? x : y; return true;
	case E_POW: *out = pow(x, y); return true;
	default: return false;
	}
}

static bool float_compare(enum elem_op e, double x, double y)
{
	return e == E_EQ ? x == y : e == E_LT ? x < y : e == E_GT ? x > y : e == E_LE ? x <= y : x >= y;
}

/* Values of a two-input elementwise op (inputs of one element type). */
static void binary_values(struct rctx *r, enum elem_op e, struct fact *o, const struct fact *a,
			  const struct fact *b)
{
	int64_t n = vals_room(r, o);

	if (n < 0 || e == E_NONE || a->n != lit_numel(a) || b->n != lit_numel(b))
		return;
	if (has_ints(a) && has_ints(b) && int_type(o->dtype)) {
		int64_t *v = fact_ints(r->s, o, n);

		for (int64_t k = 0; v && k < n; k++)
			if (!int_elem(r, e, is_compare(e) ? a->dtype : o->dtype, a->i[bindex(a, o, k)],
				      b->i[bindex(b, o, k)], &v[k])) {
				no_values(o);
				return;
			}
	} else if (has_floats(a) && has_floats(b) && is_compare(e) && o->dtype == ONNXPASS_DT_BOOL) {
		int64_t *v = fact_ints(r->s, o, n);

		for (int64_t k = 0; v && k < n; k++)
			v[k] = float_compare(e, a->f[bindex(a, o, k)], b->f[bindex(b, o, k)]);
	} else if (has_floats(a) && has_floats(b) && float_type(o->dtype)) {
		double *v = fact_floats(r->s, o, n);

		for (int64_t k = 0; v && k < n; k++)
			if (!float_elem(e, o->dtype == ONNXPASS_DT_FLOAT, a->f[bindex(a, o, k)], b->f[bindex(b, o, k)],
					&v[k])) {
				no_values(o);
				return;
			}
	}
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */

static bool r_constant(struct rctx *r, size_t k, struct fact *o)
{
	struct onnxpass_tensor *t = onnxpass_node_attr_tensor(r->n, "value");
	const int64_t *iv;
	const float *fv;
	size_t cnt;
	int64_t one;
	float f1;

	(void)k;
	if (t) {
		fact_from_tensor(r->s, o, t);
		return true;
	}
	if (!onnxpass_node_attr_int(r->n, "value_int", &one)) {
		iv = &one;
		cnt = 1;
		o->rank = 0;
	} else if (!onnxpass_node_attr_ints(r->n, "value_ints", &iv, &cnt)) {
		o->rank = 1;
		o->d[0] = (int64_t)cnt;
	} else if (!onnxpass_node_attr_float(r->n, "value_float", &f1)) {
		fv = &f1;
		cnt = 1;
		o->rank = 0;
		goto floats;
	} else if (!onnxpass_node_attr_floats(r->n, "value_floats", &fv, &cnt)) {
		o->rank = 1;
		o->d[0] = (int64_t)cnt;
		goto floats;
	} else {
		return false;
	}
	{
		int64_t *v = fact_ints(r->s, o, (int64_t)cnt);

		for (size_t j = 0; v && j < cnt; j++)
			v[j] = iv[j];
	}
	return true;
floats: {
		double *v = fact_floats(r->s, o, (int64_t)cnt);

		for (size_t j = 0; v && j < cnt; j++)
			v[j] = fv[j];
	}
	return true;
}

static bool r_shape(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t start = 0, end = BIG, *v;

	(void)k;
	if (!known(x))
		return false;
	onnxpass_node_attr_int(r->n, "start", &start);
	onnxpass_node_attr_int(r->n, "end", &end);
	start = start < 0 ? start + x->rank : start;
	end = end < 0 ? end + x->rank : end > x->rank ? x->rank : end;
	start = start < 0 ? 0 : start > x->rank ? x->rank : start;
	o->rank = 1;
	o->d[0] = end > start ? end - start : 0;
	if ((v = fact_ints(r->s, o, o->d[0])))
		memcpy(v, x->d + start, (size_t)o->d[0] * sizeof(int64_t));
	return true;
}

static bool r_size(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t *v;

	(void)k;
	if (!known(x))
		return false;
	o->rank = 0;
	if ((v = fact_ints(r->s, o, 1)))
		v[0] = product(r, x->d, x->rank);
	return true;
}

/* Output shaped like input 0 (elementwise unary ops and the like). */
static bool r_same(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);

	if (!known(x) || k > 0)
		return false;
	o->rank = x->rank;
	memcpy(o->d, x->d, sizeof(o->d[0]) * (size_t)x->rank);
	return true;
}

static bool r_identity(struct rctx *r, size_t k, struct fact *o)
{
	if (!r_same(r, k, o))
		return false;
	same_values(o, IN(r, 0));
	return true;
}

/* One element of a unary op or of Cast, from an integer: false when the
 * rule cannot tell it. */
static bool unary_int(struct rctx *r, int dtype, int64_t a, int64_t *out)
{
	if (!strcmp(r->op, "Cast")) {
		if (dtype == ONNXPASS_DT_BOOL && is_sym(a))
			return false;
		if (dtype == ONNXPASS_DT_BOOL)
			a = a != 0;
	} else if (!strcmp(r->op, "Neg")) {
		a = is_sym(a) ? sym_fresh(r->s, false) : (int64_t)(0 - (uint64_t)a);
	} else if (!strcmp(r->op, "Abs") && (!is_sym(a) || sym_nonneg(r->s, a))) {
		a = is_sym(a) ? a : a < 0 ? (int64_t)(0 - (uint64_t)a) : a;
	} else if (!strcmp(r->op, "Relu") && (!is_sym(a) || sym_nonneg(r->s, a))) {
		a = is_sym(a) ? a : a < 0 ? 0 : a;
	} else if (!strcmp(r->op, "Not") && !is_sym(a)) {
		a = !a;
	} else {
		return false;
	}
	*out = dtype == ONNXPASS_DT_INT32 && !is_sym(a) ? (int32_t)a : a;
	return true;
}

/* One element of a unary op or of Cast, from a float. */
static bool unary_float(struct rctx *r, int dtype, double a, double *out)
{
	bool single = dtype == ONNXPASS_DT_FLOAT;

	if (!strcmp(r->op, "Cast"))
		*out = single ? (double)(float)a : a;
	else if (!strcmp(r->op, "Neg"))
		*out = -a;
	else if (!strcmp(r->op, "Abs"))
		*out = fabs(a);
	else if (!strcmp(r->op, "Relu"))
		*out = a < 0 ? 0 : a;
	else if (!strcmp(r->op, "Sqrt"))
		*out = single ? sqrtf((float)a) : sqrt(a);
	else if (!strcmp(r->op, "Reciprocal"))
		*out = single ? 1.0f / (float)a : 1.0 / a;
	else if (!strcmp(r->op, "Floor"))
		*out = floor(a);
	else if (!strcmp(r->op, "Ceil"))
		*out = ceil(a);
	else
		return false;
	return true;
}

/* Cast of a float to an integer type: truncates toward zero, like ORT;
 * false out of range. */
static bool float_to_int(int dtype, double d, int64_t *out)
{
	if (d != d || d >= 9.2e18 || d <= -9.2e18)
		return false;
	*out = dtype == ONNXPASS_DT_BOOL ? d != 0 : dtype == ONNXPASS_DT_INT32 ? (int32_t)(int64_t)d : (int64_t)d;
	return true;
}

/* Unary math and Cast, whose values are worth knowing (scales computed
 * from sizes): the input's shape, values element by element. */
static bool r_unary(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	bool cast = !strcmp(r->op, "Cast");
	int64_t n;

	if (!r_same(r, k, o))
		return false;
	if ((n = vals_room(r, o)) < 0 || x->n != n)
		return true;
	if (int_type(o->dtype) && (has_ints(x) || (cast && has_floats(x)))) {
		int64_t *v = fact_ints(r->s, o, n);

		for (int64_t j = 0; v && j < n; j++)
			if (x->i ? !unary_int(r, o->dtype, x->i[j], &v[j]) : !float_to_int(o->dtype, x->f[j], &v[j]))
				return no_values(o);
	} else if (float_type(o->dtype) && (has_floats(x) || (cast && has_ints(x)))) {
		double *v = fact_floats(r->s, o, n);

		for (int64_t j = 0; v && j < n; j++) {
			if (x->i && is_sym(x->i[j]))
				return no_values(o);
			if (!unary_float(r, o->dtype, x->i ? (double)x->i[j] : x->f[j], &v[j]))
				return no_values(o);
		}
	}
	return true;
}

static bool r_dropout(struct rctx *r, size_t k, struct fact *o)
{
	return k <= 1 && r_same(r, 0, o);
}

/* The norms: output 0 (and the skip norms' sum, 3) like the input; mean
 * and inverse std-dev 1 from the normalized axis on. */
static bool r_norm(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t axis = -1;
	int a;

	if (!known(x))
		return false;
	if (k == 0 || (r->ms && k == 3))
		return r_same(r, 0, o);
	onnxpass_node_attr_int(r->n, "axis", &axis);
	if ((a = norm_axis(axis, x->rank)) < 0 || a >= x->rank)
		return false;
	o->rank = x->rank;
	for (int i = 0; i < x->rank; i++)
		o->d[i] = i < a ? x->d[i] : 1;
	return true;
}

/* Elementwise with broadcasting, any number of inputs. */
static bool r_broadcast(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);

	if (k > 0 || !known(x) || r->nin < 1)
		return false;
	if (r->opset < 7 && r->nin == 2 && !r->ms)
		return r_same(r, k, o);	/* legacy: B broadcast into A (axis attribute) */
	o->rank = x->rank;
	memcpy(o->d, x->d, sizeof(o->d[0]) * (size_t)x->rank);
	for (size_t i = 1; i < r->nin; i++)
		if (!bcast(r, o, o, IN(r, i)))
			return false;
	if (r->nin == 2)
		binary_values(r, elem_op(r->op), o, x, IN(r, 1));
	return true;
}

static bool r_where(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *c = IN(r, 0), *a = IN(r, 1), *b = IN(r, 2);
	int64_t n;

	if (k > 0 || !bcast(r, o, c, a) || !bcast(r, o, o, b))
		return false;
	if ((n = vals_room(r, o)) < 0 || !has_ints(c) || c->n != lit_numel(c) || a->n != lit_numel(a) ||
	    b->n != lit_numel(b))
		return true;
	for (int64_t j = 0; j < c->n; j++)
		if (is_sym(c->i[j]))
			return true;
	if (has_ints(a) && has_ints(b) && int_type(o->dtype)) {
		int64_t *v = fact_ints(r->s, o, n);

		for (int64_t j = 0; v && j < n; j++)
			v[j] = c->i[bindex(c, o, j)] ? a->i[bindex(a, o, j)] : b->i[bindex(b, o, j)];
	} else if (has_floats(a) && has_floats(b) && float_type(o->dtype)) {
		double *v = fact_floats(r->s, o, n);

		for (int64_t j = 0; v && j < n; j++)
			v[j] = c->i[bindex(c, o, j)] ? a->f[bindex(a, o, j)] : b->f[bindex(b, o, j)];
	}
	return true;
}

static bool r_reshape(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0), *sh = IN(r, 1);
	int64_t allowzero = 0, kin = 1, kout = 1, syms_in[SHP_MAX_RANK];
	int n_in = 0, minus = -1;
	bool big = false;	/* a product past int64: nothing can be said */

	if (k > 0 || !sh || !has_ints(sh) || sh->n > SHP_MAX_RANK || sh->rank != 1)
		return false;
	onnxpass_node_attr_int(r->n, "allowzero", &allowzero);
	o->rank = (int)sh->n;
	for (int i = 0; i < o->rank; i++) {
		int64_t v = sh->i[i];

		if (v == 0 && !allowzero) {
			if (!x || x->rank <= i)
				return false;
			v = x->d[i];
		}
		if (v == -1) {
			if (minus >= 0)
				return false;
			minus = i;
			continue;
		}
		if (!is_sym(v) && v < 0)
			return false;
		o->d[i] = v;
	}
	if (known(x)) {
		for (int i = 0; i < x->rank; i++) {
			if (is_sym(x->d[i]))
				syms_in[n_in++] = x->d[i];
			else
				big |= __builtin_mul_overflow(kin, x->d[i], &kin);
		}
	}
	if (minus < 0) {
		int64_t want = lit_numel(o), have = lit_numel(x);

		if (want >= 0 && have >= 0 && want != have)
			contradict(r, "reshapes %lld elements into %lld", (long long)have, (long long)want);
		same_values(o, x);
		return true;
	}
	/* -1: the input's size over the other dims, symbols cancelling */
	if (!known(x)) {
		o->d[minus] = sym_fresh(r->s, true);
		return true;
	}
	for (int i = 0; i < o->rank; i++) {
		int j;

		if (i == minus)
			continue;
		if (!is_sym(o->d[i])) {
			big |= __builtin_mul_overflow(kout, o->d[i], &kout);
			continue;
		}
		for (j = 0; j < n_in && syms_in[j] != o->d[i]; j++)
			;
		if (j == n_in) {
			o->d[minus] = sym_fresh(r->s, true);
			return true;
		}
		syms_in[j] = syms_in[--n_in];
	}
	if (big) {
		o->d[minus] = sym_fresh(r->s, true);
	} else if (n_in == 0 && kout && kin % kout == 0) {
		o->d[minus] = kin / kout;
	} else if (n_in == 0 && kout) {
		contradict(r, "cannot reshape %lld elements into blocks of %lld", (long long)kin, (long long)kout);
		o->d[minus] = sym_fresh(r->s, true);
	} else if (n_in == 1 && kin == kout) {
		o->d[minus] = syms_in[0];
	} else {
		o->d[minus] = sym_fresh(r->s, true);
	}
	same_values(o, x);
	return true;
}

static bool r_flatten(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t axis = 1;
	int a;

	if (k > 0 || !known(x))
		return false;
	onnxpass_node_attr_int(r->n, "axis", &axis);
	if ((a = norm_axis(axis, x->rank)) < 0 || a > x->rank)
		return false;
	o->rank = 2;
	o->d[0] = product(r, x->d, a);
	o->d[1] = product(r, x->d + a, x->rank - a);
	same_values(o, x);
	return true;
}

static bool r_matmul(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *a = IN(r, 0), *b = IN(r, 1);
	struct fact ba = { .rank = 0 }, bb = { .rank = 0 };
	int ra, rb;
	int64_t ka, kb;

	if (k > 0 || !known(a) || !known(b) || (ra = a->rank) < 1 || (rb = b->rank) < 1)
		return false;
	ka = a->d[ra - 1];
	kb = rb >= 2 ? b->d[rb - 2] : b->d[0];
	if (!is_sym(ka) && !is_sym(kb) && ka != kb) {
		contradict(r, "inner dims %lld and %lld differ", (long long)ka, (long long)kb);
	}
	if (ra > 2) {
		ba.rank = ra - 2;
		memcpy(ba.d, a->d, (size_t)(ra - 2) * sizeof(int64_t));
	}
	if (rb > 2) {
		bb.rank = rb - 2;
		memcpy(bb.d, b->d, (size_t)(rb - 2) * sizeof(int64_t));
	}
	if (!bcast(r, o, &ba, &bb))
		return false;
	if (ra >= 2)
		o->d[o->rank++] = a->d[ra - 2];
	if (rb >= 2)
		o->d[o->rank++] = b->d[rb - 1];
	return o->rank <= SHP_MAX_RANK;
}

static bool r_matmul_nbits(struct rctx *r, size_t k, struct fact *o)
{
	int64_t N;

	if (!r_same(r, k, o) || o->rank < 1 || onnxpass_node_attr_int(r->n, "N", &N))
		return false;
	o->d[o->rank - 1] = N;
	return true;
}

static bool r_gemm(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0), *y = IN(r, 1);
	int64_t ta = 0, tb = 0;

	if (k > 0 || !known(x) || !known(y) || x->rank != 2 || y->rank != 2)
		return false;
	onnxpass_node_attr_int(r->n, "transA", &ta);
	onnxpass_node_attr_int(r->n, "transB", &tb);
	o->rank = 2;
	o->d[0] = x->d[ta ? 1 : 0];
	o->d[1] = y->d[tb ? 0 : 1];
	return true;
}

static bool r_gather(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0), *idx = IN(r, 1);
	int64_t axis = 0, n, outer = 1, inner = 1;
	int a;

	if (k > 0 || !known(x) || !known(idx) || x->rank < 1)
		return false;
	onnxpass_node_attr_int(r->n, "axis", &axis);
	a = norm_axis(axis, x->rank);
	if (a < 0 || a >= x->rank || x->rank - 1 + idx->rank > SHP_MAX_RANK)
		return false;
	o->rank = 0;
	for (int i = 0; i < a; i++)
		o->d[o->rank++] = x->d[i];
	for (int i = 0; i < idx->rank; i++)
		o->d[o->rank++] = idx->d[i];
	for (int i = a + 1; i < x->rank; i++)
		o->d[o->rank++] = x->d[i];
	if ((n = vals_room(r, o)) < 0 || !has_ints(idx) || idx->n != lit_numel(idx) || x->n != lit_numel(x) ||
	    x->n < 0 || is_sym(x->d[a]))
		return true;
	for (int i = 0; i < a; i++)
		outer *= x->d[i];
	for (int i = a + 1; i < x->rank; i++)
		inner *= x->d[i];
	for (int64_t j = 0; j < idx->n; j++) {
		int64_t q = idx->i[j];

		if (is_sym(q) || (q < 0 ? q + x->d[a] : q) < 0 || (q < 0 ? q + x->d[a] : q) >= x->d[a])
			return true;	/* out of range: no values */
	}
	{
		int64_t *vi = x->i ? fact_ints(r->s, o, n) : NULL;
		double *vf = x->f ? fact_floats(r->s, o, n) : NULL;
		int64_t pos = 0;

		if (!vi && !vf)
			return true;
		for (int64_t q = 0; q < outer; q++)
			for (int64_t j = 0; j < idx->n; j++) {
				int64_t id = idx->i[j] < 0 ? idx->i[j] + x->d[a] : idx->i[j];

				for (int64_t e = 0; e < inner; e++, pos++) {
					int64_t src = (q * x->d[a] + id) * inner + e;

					if (vi)
						vi[pos] = x->i[src];
					else
						vf[pos] = x->f[src];
				}
			}
	}
	return true;
}

static bool r_gather_elements(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *y = IN(r, 1);

	if (k > 0 || !known(y))
		return false;
	o->rank = y->rank;
	memcpy(o->d, y->d, sizeof(o->d[0]) * (size_t)y->rank);
	return true;
}

static bool r_transpose(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	const int64_t *perm;
	size_t np;

	if (k > 0 || !known(x))
		return false;
	o->rank = x->rank;
	if (onnxpass_node_attr_ints(r->n, "perm", &perm, &np)) {
		for (int i = 0; i < x->rank; i++)
			o->d[i] = x->d[x->rank - 1 - i];
		return true;
	}
	if ((int)np != x->rank)
		return false;
	for (int i = 0; i < x->rank; i++) {
		if (perm[i] < 0 || perm[i] >= x->rank)
			return false;
		o->d[i] = x->d[perm[i]];
	}
	return true;
}

/* Marks the listed axes (negative from the end); false if one is out of range. */
static bool mark_axes(const int64_t *axes, int na, int rank, bool *mark)
{
	for (int i = 0; i < na; i++) {
		int a = norm_axis(axes[i], rank);

		if (a < 0 || a >= rank || mark[a])
			return false;
		mark[a] = true;
	}
	return true;
}

static bool r_unsqueeze(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	bool squeeze = r->op[0] == 'S', mark[SHP_MAX_RANK] = { false };
	int64_t axes[SHP_MAX_RANK];
	int na = r->opset < 13 ? int_list(r, "axes", 99, axes, SHP_MAX_RANK) : int_list(r, NULL, 1, axes, SHP_MAX_RANK);
	int rk;

	if (k > 0 || !known(x))
		return false;
	if (squeeze) {
		if (na < 0) {	/* no axes: every dim known to be 1 */
			if (has_input(r, 1) && r->opset >= 13)
				return false;
			na = 0;
			for (int i = 0; i < x->rank; i++) {
				if (is_sym(x->d[i]))
					return false;
				if (x->d[i] == 1)
					axes[na++] = i;
			}
		}
		if (!mark_axes(axes, na, x->rank, mark))
			return false;
		o->rank = 0;
		for (int i = 0; i < x->rank; i++)
			if (!mark[i])
				o->d[o->rank++] = x->d[i];
	} else {
		if (na < 0 || (rk = x->rank + na) > SHP_MAX_RANK || !mark_axes(axes, na, rk, mark))
			return false;
		o->rank = rk;
		for (int i = 0, j = 0; i < rk; i++)
			o->d[i] = mark[i] ? 1 : x->d[j++];
	}
	same_values(o, x);
	return true;
}

static bool r_concat(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *first = IN(r, 0);
	int64_t axis = 0, sum = 0, n, outer = 1, pos = 0;
	bool vals = true;
	int a;

	if (k > 0 || !known(first) || first->rank < 1)
		return false;
	onnxpass_node_attr_int(r->n, "axis", &axis);
	a = norm_axis(axis, first->rank);
	if (a < 0 || a >= first->rank)
		return false;
	o->rank = first->rank;
	memcpy(o->d, first->d, sizeof(o->d[0]) * (size_t)first->rank);
	for (size_t i = 0; i < r->nin; i++) {
		const struct fact *h = IN(r, i);

		if (!known(h) || h->rank != first->rank)
			return false;
		for (int d = 0; d < h->rank; d++)
			if (d != a && !is_sym(h->d[d]) && !is_sym(first->d[d]) && h->d[d] != first->d[d]) {
				contradict(r, "input %zu has %lld at axis %d where input 0 has %lld", i,
					   (long long)h->d[d], d, (long long)first->d[d]);
			}
		if (is_sym(sum) || is_sym(h->d[a]) || __builtin_add_overflow(sum, h->d[a], &sum))
			sum = sym_fresh(r->s, true);
		vals &= h->n >= 0 && h->n == lit_numel(h) && (h->i ? int_type(o->dtype) : float_type(o->dtype));
	}
	o->d[a] = sum;
	if (!vals || (n = vals_room(r, o)) < 0)
		return true;
	{
		int64_t *vi = int_type(o->dtype) ? fact_ints(r->s, o, n) : NULL;
		double *vf = vi ? NULL : fact_floats(r->s, o, n);

		if (!vi && !vf)
			return true;
		for (int d = 0; d < a; d++)
			outer *= o->d[d];
		for (int64_t q = 0; q < outer; q++)
			for (size_t i = 0; i < r->nin; i++) {
				const struct fact *h = IN(r, i);
				int64_t chunk = outer ? h->n / outer : 0;

				for (int64_t e = 0; e < chunk; e++, pos++)
					if (vi)
						vi[pos] = h->i[q * chunk + e];
					else
						vf[pos] = h->f[q * chunk + e];
			}
	}
	return true;
}

static bool r_slice(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t st[SHP_MAX_RANK], en[SHP_MAX_RANK], ax[SHP_MAX_RANK], sp[SHP_MAX_RANK];
	int ns, ne, na, nst;

	if (k > 0 || !known(x))
		return false;
	if (r->opset < 10) {
		ns = int_list(r, "starts", 99, st, SHP_MAX_RANK);
		ne = int_list(r, "ends", 99, en, SHP_MAX_RANK);
		na = int_list(r, "axes", 99, ax, SHP_MAX_RANK);
		nst = -1;
	} else {
		ns = int_list(r, NULL, 1, st, SHP_MAX_RANK);
		ne = int_list(r, NULL, 2, en, SHP_MAX_RANK);
		na = int_list(r, NULL, 3, ax, SHP_MAX_RANK);
		nst = int_list(r, NULL, 4, sp, SHP_MAX_RANK);
	}
	o->rank = x->rank;
	memcpy(o->d, x->d, sizeof(o->d[0]) * (size_t)x->rank);
	if (ns < 0 || ne != ns) {
		/* bounds computed at run time (a cache's length): the sliced
		 * axes get new sizes, the others stay */
		const struct fact *sf = IN(r, 1);
		int cnt = sf && sf->rank == 1 && !is_sym(sf->d[0]) ? (int)sf->d[0] : -1;

		if (r->opset < 10 || cnt < 0 || cnt > SHP_MAX_RANK || (na >= 0 && na != cnt) ||
		    (na < 0 && has_input(r, 3)))
			return false;
		for (int i = 0; i < cnt; i++) {
			int a = na >= 0 ? norm_axis(ax[i], x->rank) : i;

			if (a < 0 || a >= x->rank)
				return false;
			o->d[a] = sym_fresh(r->s, true);
		}
		return true;
	}
	for (int i = 0; i < ns; i++) {
		int a = na > 0 ? norm_axis(ax[i], x->rank) : i;
		int64_t step = nst > 0 ? sp[i] : 1, d, b, e;

		if (a < 0 || a >= x->rank || step == 0 || step == INT64_MIN)
			return false;
		d = x->d[a];
		if (is_sym(d)) {	/* the whole axis, or unknown */
			o->d[a] = st[i] == 0 && en[i] >= BIG && step == 1 ? d : sym_fresh(r->s, true);
			continue;
		}
		b = st[i] < 0 ? st[i] + d : st[i];
		e = en[i] < 0 ? en[i] + d : en[i];
		if (step > 0) {
			b = b < 0 ? 0 : b > d ? d : b;
			e = e < 0 ? 0 : e > d ? d : e;
			o->d[a] = e > b ? (e - b + step - 1) / step : 0;
		} else {
			b = b < 0 ? -1 : b > d - 1 ? d - 1 : b;
			e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
			o->d[a] = b > e ? (b - e - step - 1) / -step : 0;
		}
		/* values of a sliced vector */
		if (x->rank == 1 && ns == 1 && x->n == d && (x->i || x->f) && o->d[a] <= engine_max_vals(r->s)) {
			int64_t *vi = x->i ? fact_ints(r->s, o, o->d[a]) : NULL;
			double *vf = x->f ? fact_floats(r->s, o, o->d[a]) : NULL;

			for (int64_t j = 0; j < o->d[a]; j++)
				if (vi)
					vi[j] = x->i[b + j * step];
				else if (vf)
					vf[j] = x->f[b + j * step];
		}
	}
	return true;
}

static bool r_reduce(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t axes[SHP_MAX_RANK], keep = 1, noop = 0;
	bool attr_form = r->opset < (strcmp(r->op, "ReduceSum") ? 18 : 13), red[SHP_MAX_RANK] = { false };
	int na;

	if (k > 0 || !known(x))
		return false;
	onnxpass_node_attr_int(r->n, "keepdims", &keep);
	onnxpass_node_attr_int(r->n, "noop_with_empty_axes", &noop);
	na = attr_form ? int_list(r, "axes", 99, axes, SHP_MAX_RANK) : int_list(r, NULL, 1, axes, SHP_MAX_RANK);
	if (na < 0 && (attr_form || !has_input(r, 1)))
		na = 0;	/* no axes: all of them */
	else if (na < 0)
		return false;
	if (na == 0 && noop)
		return r_same(r, k, o);
	if (!mark_axes(axes, na, x->rank, red))
		return false;
	o->rank = 0;
	for (int i = 0; i < x->rank; i++) {
		if (na && !red[i])
			o->d[o->rank++] = x->d[i];
		else if (keep)
			o->d[o->rank++] = 1;
	}
	return true;
}

static bool r_argmax(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t axis = 0, keep = 1;
	int a;

	if (k > 0 || !known(x))
		return false;
	onnxpass_node_attr_int(r->n, "axis", &axis);
	onnxpass_node_attr_int(r->n, "keepdims", &keep);
	if ((a = norm_axis(axis, x->rank)) < 0 || a >= x->rank)
		return false;
	o->rank = x->rank;
	memcpy(o->d, x->d, sizeof(o->d[0]) * (size_t)x->rank);
	if (keep)
		o->d[a] = 1;
	else
		memmove(o->d + a, o->d + a + 1, (size_t)(--o->rank - a) * sizeof(int64_t));
	return true;
}

/* The dims a shape tensor holds. */
static bool from_values(struct fact *o, const struct fact *sh)
{
	if (!has_ints(sh) || sh->n > SHP_MAX_RANK)
		return false;
	o->rank = (int)sh->n;
	memcpy(o->d, sh->i, (size_t)sh->n * sizeof(int64_t));
	for (int i = 0; i < o->rank; i++)
		if (!is_sym(o->d[i]) && o->d[i] < 0)
			return false;
	return true;
}

static bool r_constant_of_shape(struct rctx *r, size_t k, struct fact *o)
{
	struct onnxpass_tensor *t = onnxpass_node_attr_tensor(r->n, "value");
	int64_t n;

	if (k > 0 || !from_values(o, IN(r, 0)))
		return false;
	if ((n = vals_room(r, o)) < 0 || (t && onnxpass_tensor_numel(t) != 1))
		return true;
	if (int_type(o->dtype)) {
		int64_t v = 0, *p;

		if (t && onnxpass_tensor_to_i64(t, &v, 1))
			return true;
		if ((p = fact_ints(r->s, o, n)))
			for (int64_t j = 0; j < n; j++)
				p[j] = v;
	} else if (float_type(o->dtype)) {
		float v = 0;
		double *p, dv = 0;

		if (t && o->dtype == ONNXPASS_DT_DOUBLE)
			memcpy(&dv, onnxpass_tensor_data(t), sizeof(dv));
		else if (t && onnxpass_tensor_to_f32(t, &v, 1))
			return true;
		else
			dv = v;
		if ((p = fact_floats(r->s, o, n)))
			for (int64_t j = 0; j < n; j++)
				p[j] = dv;
	}
	return true;
}

static bool r_expand(struct rctx *r, size_t k, struct fact *o)
{
	struct fact t = { .rank = -1, .n = -1 };

	return k == 0 && from_values(&t, IN(r, 1)) && bcast(r, o, IN(r, 0), &t);
}

static bool r_range(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *st = IN(r, 0), *l = IN(r, 1), *dl = IN(r, 2);
	bool lit = has_ints(st) && st->n == 1 && has_ints(l) && l->n == 1 && has_ints(dl) && dl->n == 1 &&
		   !is_sym(st->i[0]) && !is_sym(l->i[0]) && !is_sym(dl->i[0]) && dl->i[0];

	if (k > 0 || !st || !l || !dl)
		return false;
	o->rank = 1;
	if (lit) {	/* in 128 bits: hostile bounds cannot overflow */
		int64_t s0 = st->i[0], d = dl->i[0], *v;
		__int128 len = ((__int128)l->i[0] - s0 + d + (d > 0 ? -1 : 1)) / d;

		o->d[0] = len <= 0 ? 0 : len > BIG ? sym_fresh(r->s, true) : (int64_t)len;
		if (!is_sym(o->d[0]) && (v = fact_ints(r->s, o, o->d[0])))
			for (int64_t j = 0; j < o->d[0]; j++)
				v[j] = (int64_t)(s0 + (__int128)j * d);
	} else if (has_ints(st) && st->n == 1 && st->i[0] == 0 && has_ints(dl) && dl->n == 1 && dl->i[0] == 1 &&
		   has_ints(l) && l->n == 1) {
		/* Range(0, n, 1): n elements, n a symbol too */
		o->d[0] = !is_sym(l->i[0]) && l->i[0] < 0 ? 0 : l->i[0];
	} else {
		o->d[0] = sym_fresh(r->s, true);
	}
	return true;
}

static bool r_tile(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0), *y = IN(r, 1);

	if (k > 0 || !known(x) || !has_ints(y) || y->n != x->rank)
		return false;
	o->rank = x->rank;
	for (int i = 0; i < x->rank; i++)
		if (is_sym(x->d[i]) || is_sym(y->i[i]) || y->i[i] < 0 || __builtin_mul_overflow(x->d[i], y->i[i], &o->d[i]))
			o->d[i] = sym_fresh(r->s, true);
	return true;
}

/* Conv and pooling: [N, C_out, spatial...] (pooling keeps C). */
static bool r_conv(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0), *w = IN(r, 1);
	bool pool = strstr(r->op, "Pool") != NULL;
	int64_t ks[SHP_MAX_RANK], st[SHP_MAX_RANK], dl[SHP_MAX_RANK], pd[2 * SHP_MAX_RANK], ceil_mode = 0;
	int sp, nk;
	const char *ap = "NOTSET";

	if (k > 0 || !known(x) || (sp = x->rank - 2) < 1 || (!pool && (!known(w) || w->rank != x->rank)))
		return false;
	nk = int_list(r, "kernel_shape", 99, ks, SHP_MAX_RANK);
	if (nk < 0 && !pool) {
		for (int i = 0; i < sp; i++)
			ks[i] = w->d[i + 2];
		nk = sp;
	}
	if (nk != sp)
		return false;
	for (int i = 0; i < sp; i++) {
		st[i] = dl[i] = 1;
		pd[i] = pd[i + sp] = 0;
	}
	int_list(r, "strides", 99, st, SHP_MAX_RANK);
	int_list(r, "dilations", 99, dl, SHP_MAX_RANK);
	int_list(r, "pads", 99, pd, 2 * SHP_MAX_RANK);
	onnxpass_node_attr_string(r->n, "auto_pad", &ap);
	onnxpass_node_attr_int(r->n, "ceil_mode", &ceil_mode);
	o->rank = x->rank;
	o->d[0] = x->d[0];
	o->d[1] = pool ? x->d[1] : w->d[0];
	for (int i = 0; i < sp; i++) {
		int64_t in = x->d[i + 2], ek;

		/* (sizes past 2^40 are hostile: no arithmetic on them) */
		if (is_sym(in) || is_sym(ks[i]) || st[i] <= 0 || in > (1LL << 40) || ks[i] < 0 || ks[i] > (1LL << 40) ||
		    dl[i] < 0 || dl[i] > (1LL << 20) || st[i] > (1LL << 40) || pd[i] < 0 || pd[i] > (1LL << 40) ||
		    pd[i + sp] < 0 || pd[i + sp] > (1LL << 40)) {
			o->d[i + 2] = sym_fresh(r->s, true);
			continue;
		}
		ek = dl[i] * (ks[i] - 1) + 1;
		if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"))
			o->d[i + 2] = (in + st[i] - 1) / st[i];
		else if (!strcmp(ap, "VALID"))
			o->d[i + 2] = (in - ek) / st[i] + 1;
		else
			o->d[i + 2] = (in + pd[i] + pd[i + sp] - ek + (ceil_mode ? st[i] - 1 : 0)) / st[i] + 1;
	}
	return true;
}

static bool r_split(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);
	int64_t axis = 0, sizes[SHP_MAX_RANK * 4];
	size_t no = onnxpass_node_output_count(r->n);
	int a, ns;

	if (!known(x))
		return false;
	onnxpass_node_attr_int(r->n, "axis", &axis);
	if ((a = norm_axis(axis, x->rank)) < 0 || a >= x->rank)
		return false;
	ns = int_list(r, r->opset < 13 ? "split" : NULL, 1, sizes, SHP_MAX_RANK * 4);
	r_same(r, 0, o);
	if (ns == (int)no)
		o->d[a] = sizes[k];
	else if (ns >= 0 || has_input(r, 1) || onnxpass_node_attr_type(r->n, "split"))
		o->d[a] = sym_fresh(r->s, true);	/* sizes given, but not known here */
	else if (!is_sym(x->d[a]) && x->d[a] % (int64_t)no == 0)
		o->d[a] = x->d[a] / (int64_t)no;
	else
		o->d[a] = sym_fresh(r->s, true);
	return true;
}

static bool r_nonzero(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0);

	if (k > 0 || !known(x))
		return false;
	o->rank = 2;
	o->d[0] = x->rank;
	o->d[1] = sym_fresh(r->s, true);
	return true;
}

static bool r_gather_block_quantized(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *x = IN(r, 0), *y = IN(r, 1);
	int64_t bits = 4;

	/* indices' shape + [H]: H from the scales' blocks is not exact; the
	 * packed data's last dim times elements per byte is */
	onnxpass_node_attr_int(r->n, "bits", &bits);
	if (k > 0 || !known(x) || !known(y) || x->rank != 2 || !IN(r, 2) || y->rank + 1 > SHP_MAX_RANK ||
	    is_sym(x->d[1]) || bits < 1 || bits > 8)
		return false;
	o->rank = y->rank;
	memcpy(o->d, y->d, sizeof(o->d[0]) * (size_t)y->rank);
	o->d[o->rank++] = x->dtype == ONNXPASS_DT_UINT8 ? x->d[1] * (8 / bits) : x->d[1];
	return true;
}

/* MultiHeadAttention / GroupQueryAttention with separate query, key and
 * value: output 0 is [batch, sequence, heads x value head size]. */
static bool r_attention(struct rctx *r, size_t k, struct fact *o)
{
	const struct fact *q = IN(r, 0), *v = IN(r, 2);

	if (k > 0 || !known(q) || q->rank != 3 || !known(v) || !IN(r, 1))
		return false;
	if (!r_same(r, 0, o))
		return false;
	if (v->rank == 3)
		o->d[2] = v->d[2];
	else if (v->rank == 4)
		o->d[2] = is_sym(v->d[1]) || is_sym(v->d[3]) ? sym_fresh(r->s, true) : v->d[1] * v->d[3];
	else
		return false;
	return true;
}

static bool r_dynamic_quantize(struct rctx *r, size_t k, struct fact *o)
{
	if (k == 0)
		return r_same(r, 0, o);
	o->rank = 0;	/* scale, zero point */
	return k <= 2;
}

/* ------------------------------------------------------------------ */
/* Element types                                                       */

static int dt_cast(struct rctx *r, size_t k)
{
	int64_t to = 0;

	(void)k;
	return onnxpass_node_attr_int(r->n, "to", &to) ? 0 : (int)to;
}

static int attr_tensor_dtype(struct rctx *r, const char *name, int dflt)
{
	struct onnxpass_tensor *t = onnxpass_node_attr_tensor(r->n, name);

	return t ? onnxpass_tensor_dtype(t) : dflt;
}

static int dt_constant(struct rctx *r, size_t k)
{
	(void)k;
	if (onnxpass_node_attr_type(r->n, "value") == ONNXPASS_ATTR_TENSOR)
		return attr_tensor_dtype(r, "value", 0);
	if (onnxpass_node_attr_type(r->n, "value_float") || onnxpass_node_attr_type(r->n, "value_floats"))
		return ONNXPASS_DT_FLOAT;
	return onnxpass_node_attr_type(r->n, "value_int") || onnxpass_node_attr_type(r->n, "value_ints") ?
		       ONNXPASS_DT_INT64 : 0;
}

static int dt_constant_of_shape(struct rctx *r, size_t k)
{
	(void)k;
	return attr_tensor_dtype(r, "value", ONNXPASS_DT_FLOAT);
}

static int in_dtype(struct rctx *r, size_t i)
{
	return IN(r, i) ? IN(r, i)->dtype : 0;
}

static int dt_norm(struct rctx *r, size_t k)
{
	return k == 1 || k == 2 ? ONNXPASS_DT_FLOAT : in_dtype(r, 0);
}

static int dt_dropout(struct rctx *r, size_t k)
{
	return k == 1 ? ONNXPASS_DT_BOOL : in_dtype(r, 0);
}

static int dt_index_outputs(struct rctx *r, size_t k)
{
	return k > 0 ? ONNXPASS_DT_INT64 : in_dtype(r, 0);
}

static int dt_dynamic_quantize(struct rctx *r, size_t k)
{
	(void)r;
	return k == 1 ? ONNXPASS_DT_FLOAT : ONNXPASS_DT_UINT8;
}

static int dt_quantize(struct rctx *r, size_t k)
{
	(void)k;
	return IN(r, 2) ? in_dtype(r, 2) : ONNXPASS_DT_UINT8;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

#define BOTH (DOM_ONNX | DOM_MS)
#define ONNX DOM_ONNX
#define MS DOM_MS
#define I64 ONNXPASS_DT_INT64
#define BOOL_ ONNXPASS_DT_BOOL

static const struct op_rule rules[] = {
	/* values and sizes */
	{ "Constant", ONNX, r_constant, 0, dt_constant, 0 },
	{ "Shape", ONNX, r_shape, I64, NULL, RULE_FOLD },
	{ "Size", ONNX, r_size, I64, NULL, 0 },
	{ "Identity", ONNX, r_identity, 0, NULL, 0 },
	{ "Cast", ONNX, r_unary, 0, dt_cast, RULE_FOLD },
	{ "CastLike", ONNX, r_same, -1, NULL, 0 },
	{ "ConstantOfShape", ONNX, r_constant_of_shape, 0, dt_constant_of_shape, RULE_FOLD },
	{ "Range", ONNX, r_range, 0, NULL, RULE_FOLD },
	/* elementwise, one input */
	{ "Neg", ONNX, r_unary, 0, NULL, RULE_FOLD },
	{ "Abs", ONNX, r_unary, 0, NULL, 0 },
	{ "Relu", ONNX, r_unary, 0, NULL, 0 },
	{ "Not", ONNX, r_unary, BOOL_, NULL, 0 },
	{ "Sqrt", ONNX, r_unary, 0, NULL, 0 },
	{ "Reciprocal", ONNX, r_unary, 0, NULL, 0 },
	{ "Floor", ONNX, r_unary, 0, NULL, 0 },
	{ "Ceil", ONNX, r_unary, 0, NULL, 0 },
	{ "Erf", ONNX, r_same, 0, NULL, 0 },
	{ "Tanh", ONNX, r_same, 0, NULL, 0 },
	{ "Exp", ONNX, r_same, 0, NULL, 0 },
	{ "Log", ONNX, r_same, 0, NULL, 0 },
	{ "Sigmoid", ONNX, r_same, 0, NULL, 0 },
	{ "Softmax", ONNX, r_same, 0, NULL, 0 },
	{ "LogSoftmax", ONNX, r_same, 0, NULL, 0 },
	{ "Hardmax", ONNX, r_same, 0, NULL, 0 },
	{ "IsNaN", ONNX, r_same, BOOL_, NULL, 0 },
	{ "IsInf", ONNX, r_same, BOOL_, NULL, 0 },
	{ "LeakyRelu", ONNX, r_same, 0, NULL, 0 },
	{ "Elu", ONNX, r_same, 0, NULL, 0 },
	{ "Selu", ONNX, r_same, 0, NULL, 0 },
	{ "Celu", ONNX, r_same, 0, NULL, 0 },
	{ "HardSigmoid", ONNX, r_same, 0, NULL, 0 },
	{ "HardSwish", ONNX, r_same, 0, NULL, 0 },
	{ "Softplus", ONNX, r_same, 0, NULL, 0 },
	{ "Softsign", ONNX, r_same, 0, NULL, 0 },
	{ "Mish", ONNX, r_same, 0, NULL, 0 },
	{ "Round", ONNX, r_same, 0, NULL, 0 },
	{ "Sign", ONNX, r_same, 0, NULL, 0 },
	{ "Sin", ONNX, r_same, 0, NULL, 0 },
	{ "Cos", ONNX, r_same, 0, NULL, 0 },
	{ "Tan", ONNX, r_same, 0, NULL, 0 },
	{ "Asin", ONNX, r_same, 0, NULL, 0 },
	{ "Acos", ONNX, r_same, 0, NULL, 0 },
	{ "Atan", ONNX, r_same, 0, NULL, 0 },
	{ "Sinh", ONNX, r_same, 0, NULL, 0 },
	{ "Cosh", ONNX, r_same, 0, NULL, 0 },
	{ "Clip", ONNX, r_same, 0, NULL, 0 },
	{ "CumSum", ONNX, r_same, 0, NULL, 0 },
	{ "Trilu", ONNX, r_same, 0, NULL, 0 },
	{ "Dropout", ONNX, r_dropout, 0, dt_dropout, 0 },
	{ "Gelu", BOTH, r_same, 0, NULL, 0 },
	{ "FastGelu", MS, r_same, 0, NULL, 0 },
	{ "BiasGelu", MS, r_same, 0, NULL, 0 },
	{ "QuickGelu", MS, r_same, 0, NULL, 0 },
	{ "RotaryEmbedding", MS, r_same, 0, NULL, 0 },
	/* norms */
	{ "LayerNormalization", BOTH, r_norm, 0, dt_norm, 0 },
	{ "SimplifiedLayerNormalization", BOTH, r_norm, 0, dt_norm, 0 },
	{ "SkipLayerNormalization", MS, r_norm, 0, dt_norm, 0 },
	{ "SkipSimplifiedLayerNormalization", MS, r_norm, 0, dt_norm, 0 },
	/* elementwise with broadcasting */
	{ "Add", ONNX, r_broadcast, 0, NULL, RULE_FOLD },
	{ "Sub", ONNX, r_broadcast, 0, NULL, RULE_FOLD },
	{ "Mul", ONNX, r_broadcast, 0, NULL, RULE_FOLD },
	{ "Div", ONNX, r_broadcast, 0, NULL, RULE_FOLD },
	{ "Pow", ONNX, r_broadcast, 0, NULL, 0 },
	{ "Mod", ONNX, r_broadcast, 0, NULL, 0 },
	{ "Max", ONNX, r_broadcast, 0, NULL, 0 },
	{ "Min", ONNX, r_broadcast, 0, NULL, 0 },
	{ "Sum", ONNX, r_broadcast, 0, NULL, 0 },
	{ "Mean", ONNX, r_broadcast, 0, NULL, 0 },
	{ "PRelu", ONNX, r_same, 0, NULL, 0 },	/* the slope broadcasts to X */
	{ "Equal", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "Less", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "Greater", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "LessOrEqual", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "GreaterOrEqual", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "And", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "Or", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "Xor", ONNX, r_broadcast, BOOL_, NULL, 0 },
	{ "BitwiseAnd", ONNX, r_broadcast, 0, NULL, 0 },
	{ "BitwiseOr", ONNX, r_broadcast, 0, NULL, 0 },
	{ "BitwiseXor", ONNX, r_broadcast, 0, NULL, 0 },
	{ "Where", ONNX, r_where, -1, NULL, 0 },
	/* moving elements */
	{ "Reshape", ONNX, r_reshape, 0, NULL, RULE_FOLD },
	{ "Flatten", ONNX, r_flatten, 0, NULL, 0 },
	{ "Squeeze", ONNX, r_unsqueeze, 0, NULL, RULE_FOLD },
	{ "Unsqueeze", ONNX, r_unsqueeze, 0, NULL, RULE_FOLD },
	{ "Transpose", ONNX, r_transpose, 0, NULL, 0 },
	{ "Concat", ONNX, r_concat, 0, NULL, RULE_FOLD },
	{ "Gather", ONNX, r_gather, 0, NULL, RULE_FOLD },
	{ "GatherElements", ONNX, r_gather_elements, 0, NULL, 0 },
	{ "Slice", ONNX, r_slice, 0, NULL, 0 },
	{ "Split", ONNX, r_split, 0, NULL, 0 },
	{ "Expand", ONNX, r_expand, 0, NULL, 0 },
	{ "Tile", ONNX, r_tile, 0, NULL, 0 },
	/* reductions */
	{ "ReduceMean", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceSum", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceMax", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceMin", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceProd", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceL1", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceL2", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceLogSum", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceLogSumExp", ONNX, r_reduce, 0, NULL, 0 },
	{ "ReduceSumSquare", ONNX, r_reduce, 0, NULL, 0 },
	{ "ArgMax", ONNX, r_argmax, I64, NULL, 0 },
	{ "ArgMin", ONNX, r_argmax, I64, NULL, 0 },
	/* linear algebra, convolution */
	{ "MatMul", ONNX, r_matmul, 0, NULL, 0 },
	{ "MatMulInteger", ONNX, r_matmul, ONNXPASS_DT_INT32, NULL, 0 },
	{ "DynamicQuantizeMatMul", MS, r_matmul, ONNXPASS_DT_FLOAT, NULL, 0 },
	{ "MatMulIntegerToFloat", MS, r_matmul, ONNXPASS_DT_FLOAT, NULL, 0 },
	{ "MatMulNBits", MS, r_matmul_nbits, 0, NULL, 0 },
	{ "Gemm", ONNX, r_gemm, 0, NULL, 0 },
	{ "Conv", ONNX, r_conv, 0, NULL, 0 },
	{ "ConvInteger", ONNX, r_conv, ONNXPASS_DT_INT32, NULL, 0 },
	{ "MaxPool", ONNX, r_conv, 0, NULL, 0 },
	{ "AveragePool", ONNX, r_conv, 0, NULL, 0 },
	/* quantization */
	{ "QuantizeLinear", ONNX, r_same, 0, dt_quantize, 0 },
	{ "DequantizeLinear", ONNX, r_same, -1, NULL, 0 },
	{ "DynamicQuantizeLinear", ONNX, r_dynamic_quantize, 0, dt_dynamic_quantize, 0 },
	{ "GatherBlockQuantized", MS, r_gather_block_quantized, -2, NULL, 0 },
	/* attention */
	{ "MultiHeadAttention", MS, r_attention, 0, NULL, 0 },
	{ "GroupQueryAttention", MS, r_attention, 0, NULL, 0 },
	/* data-dependent sizes; types only */
	{ "NonZero", ONNX, r_nonzero, I64, NULL, 0 },
	{ "NonMaxSuppression", ONNX, NULL, I64, NULL, 0 },
	{ "TopK", ONNX, NULL, 0, dt_index_outputs, 0 },
	{ "Unique", ONNX, NULL, 0, dt_index_outputs, 0 },
	{ "OneHot", ONNX, NULL, -2, NULL, 0 },
};

static struct strmap table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static bool table_failed;

static void table_build(void)
{
	strmap_init(&table);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strmap_put(&table, rules[i].op, (void *)&rules[i]))
			table_failed = true;
}

const struct op_rule *op_rule_find(const char *domain, const char *op)
{
	const struct op_rule *r;
	unsigned dom = !*domain ? DOM_ONNX : !strcmp(domain, ONNXPASS_DOMAIN_MS) ? DOM_MS : 0;

	pthread_once(&table_once, table_build);
	if (!dom || table_failed || !(r = strmap_get(&table, op)))
		return NULL;
	return r->domains & dom ? r : NULL;
}
