/* SPDX-License-Identifier: MIT */
/* Dimension provenance and rank derivation: enough shape reasoning to
 * re-derive a shape computation from other inputs (see extract). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_DEPTH 400

int onnxpass_value_const_ints(struct onnxpass_value *v, int64_t *out, int max)
{
	struct onnxpass_tensor *t = v ? v->init : NULL;
	int64_t n;

	if (!t && v && v->producer && onnxpass_node_is(v->producer, NULL, "Constant"))
		t = onnxpass_node_attr_tensor(v->producer, "value");
	if (!t || (t->tp->data_type != ONNXPASS_DT_INT64 && t->tp->data_type != ONNXPASS_DT_INT32))
		return -1;
	n = onnxpass_tensor_numel(t);
	if (n > max)
		return -1;
	if (onnxpass_tensor_to_i64(t, out, (size_t)n))
		return -1;
	return (int)n;
}

static bool is_const(struct onnxpass_value *v)
{
	return v && (v->init || (v->producer && onnxpass_node_is(v->producer, NULL, "Constant")));
}

bool op_in(struct onnxpass_node *n, const char *const *ops)
{
	for (; *ops; ops++)
		if (onnxpass_node_is(n, NULL, *ops))
			return true;
	return false;
}

/* Ops whose output has the shape of their first input. */
const char *const same_shape[] = {
	"Cast", "Relu", "Sqrt", "Erf", "Tanh", "Neg", "Exp", "Log", "Sigmoid", "Softmax",
	"LogSoftmax", "Identity", "Dropout", "Reciprocal", "Abs", "Not", "IsNaN", "IsInf",
	"LayerNormalization", "Gelu", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Softplus",
	"Softsign", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Clip", "CumSum", NULL
};
/* Elementwise with broadcasting. */
const char *const broadcast[] = {
	"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "And", "Or", "Xor", "Less",
	"Greater", "LessOrEqual", "GreaterOrEqual", "PRelu", "Mod", "Sum", "Mean", "Where", NULL
};

static int rank_rec(struct onnxpass_value *v, int depth);

static int input_rank(struct onnxpass_node *n, size_t i, int depth)
{
	struct onnxpass_value *v = onnxpass_node_input_value(n, i);

	return v ? rank_rec(v, depth + 1) : -1;
}

static int rank_rec(struct onnxpass_value *v, int depth)
{
	struct onnxpass_node *p = v->producer;
	int r = onnxpass_value_rank(v);

	if (r >= 0 || !p || depth > MAX_DEPTH)
		return r;
	if (op_in(p, same_shape))
		return input_rank(p, 0, depth);
	if (op_in(p, broadcast)) {
		int best = -1;

		for (size_t i = 0; i < p->np->n_input; i++) {
			int ri = input_rank(p, i, depth);

			if (ri < 0)
				return -1;
			best = ri > best ? ri : best;
		}
		return best;
	}
	if (onnxpass_node_is(p, NULL, "Shape"))
		return 1;
	if (onnxpass_node_is(p, NULL, "MatMul")) {
		int a = input_rank(p, 0, depth), b = input_rank(p, 1, depth);

		return a < 0 || b < 0 ? -1 : a > b ? a : b;
	}
	if (onnxpass_node_is(p, NULL, "Gather")) {
		int d = input_rank(p, 0, depth), i = input_rank(p, 1, depth);

		return d < 0 || i < 0 ? -1 : d - 1 + i;
	}
	if (onnxpass_node_is(p, NULL, "Transpose"))
		return input_rank(p, 0, depth);
	if (onnxpass_node_is(p, NULL, "Reshape")) {
		struct onnxpass_value *s = onnxpass_node_input_value(p, 1);
		int64_t tmp[16];
		int n = onnxpass_value_const_ints(s, tmp, 16);

		if (n >= 0)
			return n;
		if (s && s->producer && onnxpass_node_is(s->producer, NULL, "Concat"))
			return (int)s->producer->np->n_input;	/* of 1-element pieces */
		return -1;
	}
	if (op_in(p, (const char *const[]){ "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
					     "ReduceProd", NULL })) {
		int64_t keep = 1;

		onnxpass_node_attr_int(p, "keepdims", &keep);
		return keep ? input_rank(p, 0, depth) : -1;
	}
	if (onnxpass_node_is(p, NULL, "Concat"))
		return input_rank(p, 0, depth);
	return -1;
}

int onnxpass_value_infer_rank(struct onnxpass_value *v)
{
	return v ? rank_rec(v, 0) : -1;
}

static int origin_rec(struct onnxpass_value *v, int axis, struct onnxpass_value **in, int *in_axis,
		      int depth);

/* dim p of a Reshape's output, from the shape expression's element p */
static int reshape_origin(struct onnxpass_node *p, int axis, struct onnxpass_value **in,
			  int *in_axis, int depth)
{
	struct onnxpass_value *x = onnxpass_node_input_value(p, 0);
	struct onnxpass_value *s = onnxpass_node_input_value(p, 1);
	struct onnxpass_node *cat = s ? s->producer : NULL;
	int64_t lit[16], allowzero = 0;
	int n = onnxpass_value_const_ints(s, lit, 16), xr = onnxpass_value_infer_rank(x);
	int64_t elem[16];
	/* element kinds: 0 literal, 1 "dim q of x" */
	int kind[16], q[16];

	onnxpass_node_attr_int(p, "allowzero", &allowzero);
	if (n < 0) {
		if (!cat || !onnxpass_node_is(cat, NULL, "Concat") || cat->np->n_input > 16)
			return ONNXPASS_ENOTFOUND;
		n = (int)cat->np->n_input;
		for (int i = 0; i < n; i++) {
			struct onnxpass_value *e = onnxpass_node_input_value(cat, (size_t)i), *y;
			struct onnxpass_node *u = e ? e->producer : NULL, *gth, *shp;
			int64_t one[2], idx[2];
			int yi;

			kind[i] = 0;
			if (onnxpass_value_const_ints(e, one, 2) == 1) {
				elem[i] = one[0];
				continue;
			}
			/* Unsqueeze(Gather(Shape(y), idx)) */
			if (!u || !onnxpass_node_is(u, NULL, "Unsqueeze"))
				return ONNXPASS_ENOTFOUND;
			gth = onnxpass_node_input_value(u, 0) ? onnxpass_node_input_value(u, 0)->producer : NULL;
			if (!gth || !onnxpass_node_is(gth, NULL, "Gather") ||
			    onnxpass_value_const_ints(onnxpass_node_input_value(gth, 1), idx, 2) != 1)
				return ONNXPASS_ENOTFOUND;
			shp = onnxpass_node_input_value(gth, 0) ? onnxpass_node_input_value(gth, 0)->producer : NULL;
			if (!shp || !onnxpass_node_is(shp, NULL, "Shape"))
				return ONNXPASS_ENOTFOUND;
			y = onnxpass_node_input_value(shp, 0);
			yi = (int)idx[0];
			if (yi < 0) {
				int yr = onnxpass_value_infer_rank(y);

				if (yr < 0)
					return ONNXPASS_ENOTFOUND;
				yi += yr;
			}
			if (i == axis)	/* the element names the dim itself */
				return origin_rec(y, yi, in, in_axis, depth + 1);
			kind[i] = 1;
			q[i] = yi;
			elem[i] = 0;
			/* it is "dim i of x" only when y is x and yi == i */
			if (y != x || yi != i)
				kind[i] = 2;	/* some other dim */
		}
	} else {
		for (int i = 0; i < n; i++) {
			kind[i] = 0;
			elem[i] = lit[i];
		}
	}
	if (axis >= n)
		return ONNXPASS_ENOTFOUND;
	if (kind[axis] == 0 && elem[axis] == 0 && !allowzero)
		return origin_rec(x, axis, in, in_axis, depth + 1);
	if (kind[axis] == 0 && elem[axis] == -1 && xr == n) {
		/* -1 is x's own dim when every other element keeps x's dim */
		for (int i = 0; i < n; i++) {
			if (i == axis)
				continue;
			if (kind[i] == 1 && q[i] == i)
				continue;
			if (kind[i] == 0 && elem[i] == 0 && !allowzero)
				continue;
			return ONNXPASS_ENOTFOUND;
		}
		return origin_rec(x, axis, in, in_axis, depth + 1);
	}
	return ONNXPASS_ENOTFOUND;
}

static int origin_rec(struct onnxpass_value *v, int axis, struct onnxpass_value **in, int *in_axis,
		      int depth)
{
	struct onnxpass_node *p;
	int vr;

	if (!v || axis < 0 || depth > MAX_DEPTH)
		return ONNXPASS_ENOTFOUND;
	if (v->n_graph_inputs && !v->init) {
		*in = v;
		*in_axis = axis;
		return 0;
	}
	p = v->producer;
	if (!p) {
		/* an outer value read inside a subgraph */
		struct onnxpass_value *o = v->graph->parent ? onnxpass_graph_lookup(v->graph->parent, v->name) : NULL;

		return o && o != v ? origin_rec(o, axis, in, in_axis, depth + 1) : ONNXPASS_ENOTFOUND;
	}
	vr = onnxpass_value_infer_rank(v);
	if (op_in(p, same_shape))
		return origin_rec(onnxpass_node_input_value(p, 0), axis, in, in_axis, depth + 1);
	if (op_in(p, broadcast)) {
		/* try the computed inputs (constants are broadcast weights) */
		for (size_t i = onnxpass_node_is(p, NULL, "Where") ? 1 : 0; i < p->np->n_input; i++) {
			struct onnxpass_value *x = onnxpass_node_input_value(p, i);
			int xr = onnxpass_value_infer_rank(x), a = axis;

			if (!x || is_const(x))
				continue;
			if (vr >= 0 && xr >= 0)
				a = axis - (vr - xr);
			if (a < 0)
				continue;
			if (origin_rec(x, a, in, in_axis, depth + 1) == 0)
				return 0;
		}
		return ONNXPASS_ENOTFOUND;
	}
	if (onnxpass_node_is(p, NULL, "MatMul")) {
		struct onnxpass_value *a = onnxpass_node_input_value(p, 0);
		int ar = onnxpass_value_infer_rank(a);

		/* rows and batch dims come from A when A has the output's rank */
		if (vr >= 0 && ar == vr && axis < vr - 1)
			return origin_rec(a, axis, in, in_axis, depth + 1);
		return ONNXPASS_ENOTFOUND;
	}
	if (onnxpass_node_is(p, NULL, "Gather")) {
		int64_t gaxis = 0;
		int ir = input_rank(p, 1, depth);

		onnxpass_node_attr_int(p, "axis", &gaxis);
		if (gaxis == 0 && ir >= 0 && axis < ir)
			return origin_rec(onnxpass_node_input_value(p, 1), axis, in, in_axis, depth + 1);
		return ONNXPASS_ENOTFOUND;
	}
	if (onnxpass_node_is(p, NULL, "Transpose")) {
		const int64_t *perm;
		size_t np;

		if (onnxpass_node_attr_ints(p, "perm", &perm, &np) || (size_t)axis >= np)
			return ONNXPASS_ENOTFOUND;
		return origin_rec(onnxpass_node_input_value(p, 0), (int)perm[axis], in, in_axis, depth + 1);
	}
	if (op_in(p, (const char *const[]){ "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
					     "ReduceProd", NULL })) {
		int64_t keep = 1, axes[16];
		const int64_t *ax;
		size_t na = 0;
		int n = -1;

		onnxpass_node_attr_int(p, "keepdims", &keep);
		if (!keep || vr < 0)
			return ONNXPASS_ENOTFOUND;
		if (!onnxpass_node_attr_ints(p, "axes", &ax, &na)) {
			n = (int)na;
			memcpy(axes, ax, (na < 16 ? na : 16) * sizeof(int64_t));
		} else if (p->np->n_input > 1) {
			n = onnxpass_value_const_ints(onnxpass_node_input_value(p, 1), axes, 16);
		}
		if (n <= 0)
			return ONNXPASS_ENOTFOUND;	/* all axes reduced */
		for (int i = 0; i < n; i++)
			if ((axes[i] < 0 ? axes[i] + vr : axes[i]) == axis)
				return ONNXPASS_ENOTFOUND;
		return origin_rec(onnxpass_node_input_value(p, 0), axis, in, in_axis, depth + 1);
	}
	if (onnxpass_node_is(p, NULL, "Concat")) {
		int64_t cax = 0;

		onnxpass_node_attr_int(p, "axis", &cax);
		if (vr >= 0 && cax < 0)
			cax += vr;
		if (cax == axis)
			return ONNXPASS_ENOTFOUND;
		return origin_rec(onnxpass_node_input_value(p, 0), axis, in, in_axis, depth + 1);
	}
	if (onnxpass_node_is(p, NULL, "Reshape"))
		return reshape_origin(p, axis, in, in_axis, depth);
	return ONNXPASS_ENOTFOUND;
}

int onnxpass_value_dim_origin(struct onnxpass_value *v, int axis, struct onnxpass_value **input,
			      int *input_axis)
{
	return origin_rec(v, axis, input, input_axis, 0);
}
