/* SPDX-License-Identifier: MIT */
/* fusion: Gelu (erf form), FastGelu (tanh form) and their bias forms.
 *
 * Exporters write these activations in many algebraically equal ways
 * (x * 0.5 * (1 + erf(x / sqrt 2)), 0.5 * x * (...), x * (1 + ...) * 0.5,
 * x^3 as Pow or as x * x * x, constants folded differently...).  Rather
 * than list every arrangement, a matcher takes the elementwise expression
 * around the Erf or Tanh node (Add, Sub, Mul, Div, Pow with scalar
 * constants; interior values read once) and checks it against the
 * activation's formula at a dozen points:
 *
 *   erf:  inner(x) = x / sqrt 2                      outer(x, e) = x/2 (1 + e)
 *   tanh: inner(x) = sqrt(2/pi) (x + 0.044715 x^3)   outer(x, t) = x/2 (1 + t)
 *
 * A candidate whose expression differs anywhere is left alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

#define MAX_NODES 12

struct expr {
	struct onnxpass_node *n[MAX_NODES];
	int count;
	struct onnxpass_value *leaf[2];	/* x, then the Erf/Tanh output */
	int nleaf;
};

static bool elementwise(struct onnxpass_node *p)
{
	static const char *const ops[] = { "Add", "Sub", "Mul", "Div", "Pow" };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (onnxpass_node_is(p, NULL, ops[i]))
			return onnxpass_node_input_count(p) == 2 && onnxpass_node_output_count(p) == 1;
	return false;
}

static int leaf_index(struct expr *e, struct onnxpass_value *v)
{
	for (int i = 0; i < e->nleaf; i++)
		if (e->leaf[i] == v)
			return i;
	return -1;
}

/* Collects the expression computing v.  A value read once, by the
 * expression, and produced by an elementwise node is interior; anything
 * else that is not a scalar constant is a leaf (at most two). */
static bool collect(struct expr *e, struct onnxpass_value *v, int depth)
{
	struct onnxpass_node *p;
	float c;

	if (!v || depth > MAX_NODES)
		return false;
	if (leaf_index(e, v) >= 0 || const_float(v, &c))
		return true;
	p = onnxpass_value_producer(v, NULL);
	/* the root (depth 0) is the expression's result: read anywhere */
	if (!p || !elementwise(p) ||
	    (depth > 0 && (onnxpass_value_use_count(v) != 1 || onnxpass_value_is_graph_output(v)))) {
		if (e->nleaf == 2)
			return false;
		e->leaf[e->nleaf++] = v;
		return true;
	}
	for (int i = 0; i < e->count; i++)
		if (e->n[i] == p)
			return true;
	if (e->count == MAX_NODES)
		return false;
	e->n[e->count++] = p;
	return collect(e, onnxpass_node_input_value(p, 0), depth + 1) &&
	       collect(e, onnxpass_node_input_value(p, 1), depth + 1);
}

/* v's value for the given leaf values. */
static double eval(struct expr *e, struct onnxpass_value *v, const double *leaves, int depth)
{
	struct onnxpass_node *p;
	double a, b;
	float c;
	int li = leaf_index(e, v);

	if (li >= 0)
		return leaves[li];
	if (const_float(v, &c))
		return c;
	p = onnxpass_value_producer(v, NULL);
	if (!p || depth > MAX_NODES)
		return NAN;
	a = eval(e, onnxpass_node_input_value(p, 0), leaves, depth + 1);
	b = eval(e, onnxpass_node_input_value(p, 1), leaves, depth + 1);
	if (onnxpass_node_is(p, NULL, "Add"))
		return a + b;
	if (onnxpass_node_is(p, NULL, "Sub"))
		return a - b;
	if (onnxpass_node_is(p, NULL, "Mul"))
		return a * b;
	if (onnxpass_node_is(p, NULL, "Div"))
		return a / b;
	return pow(a, b);
}

static bool close_to(double got, double want)
{
	return fabs(got - want) <= 1e-5 * (1.0 + fabs(want));
}

static const double xs[] = { -4.0, -1.7, -0.6, -0.05, 0.0, 0.3, 0.9, 2.2, 5.0 };
static const double ts[] = { -0.9, 0.0, 0.35, 1.0 };

/* The expression of the Erf/Tanh input: one leaf x, equal to inner(x). */
static bool inner_matches(struct expr *e, struct onnxpass_value *in, bool tanh_form)
{
	if (onnxpass_value_use_count(in) != 1 || onnxpass_value_is_graph_output(in) ||
	    !collect(e, in, 0) || e->nleaf != 1 || !e->count)
		return false;
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		double x = xs[i];
		double want = tanh_form ? 0.7978845608028654 * (x + 0.044715 * x * x * x) : x / sqrt(2.0);

		if (!close_to(eval(e, in, &x, 0), want))
			return false;
	}
	return true;
}

/* The expression ending in out, over leaves x and the activation output
 * t, equal to x/2 (1 + t). */
static bool outer_matches(struct expr *e, struct onnxpass_value *out, struct onnxpass_value *x,
			  struct onnxpass_value *t)
{
	e->count = 0;
	e->leaf[0] = x;
	e->leaf[1] = t;
	e->nleaf = 2;
	if (!collect(e, out, 0))
		return false;
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
		for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
			double l[2] = { xs[i], ts[k] };

			if (!close_to(eval(e, out, l, 0), 0.5 * xs[i] * (1.0 + ts[k])))
				return false;
		}
	/* t must really be used (and only) inside the expression */
	for (size_t u = 0; u < onnxpass_value_use_count(t); u++) {
		bool inside = false;

		for (int i = 0; i < e->count; i++)
			inside |= onnxpass_value_use(t, u, NULL) == e->n[i];
		if (!inside)
			return false;
	}
	return !onnxpass_value_is_graph_output(t);
}

/* Gelu or FastGelu around act (an Erf or Tanh node). */
static int activation(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *act,
		      bool tanh_form)
{
	const char *what = tanh_form ? "FastGelu" : "Gelu";
	struct onnxpass_value *in = onnxpass_node_input_value(act, 0);
	struct onnxpass_value *t = onnxpass_node_output_value(act, 0), *x, *best_out = NULL;
	struct expr head = { .count = 0 }, tail, best;
	struct onnxpass_node *cur, *gn;
	char *out, *xname, *name;
	const char *xn;
	int in_idx;

	if (!in || !t || onnxpass_node_output_count(act) != 1)
		return 0;
	if (onnxpass_value_use_count(in) != 1 || onnxpass_value_is_graph_output(in))
		return reject(f, act, what, "its input is read outside the pattern"), 0;
	if (!inner_matches(&head, in, tanh_form))
		return reject(f, act, what, tanh_form ? "the Tanh input is not sqrt(2/pi) (x + 0.044715 x^3)"
						      : "the Erf input is not x / sqrt(2)"), 0;
	x = head.leaf[0];
	/* walk forward along single reads until the expression is x/2 (1 + t) */
	cur = onnxpass_value_single_use(t, &in_idx);
	for (int step = 0; cur && elementwise(cur) && step < 4; step++) {
		struct onnxpass_value *o = onnxpass_node_output_value(cur, 0);

		if (outer_matches(&tail, o, x, t)) {
			best = tail;
			best_out = o;
		}
		cur = onnxpass_value_single_use(o, &in_idx);
	}
	if (!best_out)
		return reject(f, act, what, "the result is not x * 0.5 * (1 + activation)"), 0;
	out = own(onnxpass_value_name(best_out));
	xname = own(onnxpass_value_name(x));
	name = own(onnxpass_node_name(act));
	for (int i = 0; i < head.count; i++)
		onnxpass_graph_remove_node(g, head.n[i]);
	for (int i = 0; i < best.count; i++)
		onnxpass_graph_remove_node(g, best.n[i]);
	onnxpass_graph_remove_node(g, act);
	xn = xname;
	gn = onnxpass_graph_add_node(g, tanh_form ? "FastGelu" : "Gelu", ONNXPASS_DOMAIN_MS, name, &xn, 1,
				     (const char *const *)&out, 1);
	free(out);
	free(xname);
	free(name);
	if (!gn)
		return ONNXPASS_ENOMEM;
	if (tanh_form)
		f->fastgelu++;
	else
		f->gelu++;
	return 1;
}

int gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *erf, int64_t opset)
{
	(void)opset;
	return activation(f, g, erf, false);
}

int fast_gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *tanh, int64_t opset)
{
	(void)opset;
	return activation(f, g, tanh, true);
}

/* v, or what the Identity chain producing v copies. */
static struct onnxpass_value *through_identity(struct onnxpass_value *v)
{
	struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

	while (p && onnxpass_node_is(p, NULL, "Identity")) {
		v = onnxpass_node_input_value(p, 0);
		p = v ? onnxpass_value_producer(v, NULL) : NULL;
	}
	return v;
}

/* The last dim of v is h: declared, or v = MatMul(., B [K, h]). */
static bool last_dim_is(struct onnxpass_value *v, int64_t h)
{
	struct onnxpass_node *p;
	int rank;
	int64_t d;

	if (!(v = through_identity(v)))
		return false;
	p = onnxpass_value_producer(v, NULL);
	rank = onnxpass_value_rank(v);

	if (rank > 0 && !onnxpass_value_dim(v, rank - 1, &d, NULL) && d >= 0)
		return d == h;
	if (p && onnxpass_node_is(p, NULL, "MatMul")) {
		struct onnxpass_value *b = through_identity(onnxpass_node_input_value(p, 1));
		int rb = b ? onnxpass_value_rank(b) : -1;

		return rb >= 1 && !onnxpass_value_dim(b, rb - 1, &d, NULL) && d == h;
	}
	return false;
}

/*
 * Bias forms: Add(z, bias[H]) -> Gelu  becomes com.microsoft BiasGelu(z, bias),
 *             Add(z, bias[H]) -> FastGelu  becomes FastGelu(z, bias);
 * n is a com.microsoft Gelu/FastGelu or an opset-20 Gelu (approximate
 * "none" or "tanh").
 */
int bias_gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n, int64_t opset)
{
	(void)opset;
	struct onnxpass_value *x = onnxpass_node_input_value(n, 0), *z, *bias;
	struct onnxpass_node *add = x ? onnxpass_value_producer(x, NULL) : NULL, *bn;
	const char *approx = "none";
	bool fast = onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "FastGelu");
	int64_t h;
	char *ins[2], *out, *name;
	int in;

	if (!*onnxpass_node_domain(n)) {
		onnxpass_node_attr_string(n, "approximate", &approx);
		fast = !strcmp(approx, "tanh");
	}
	if (onnxpass_node_input_count(n) != 1 || !add || !onnxpass_node_is(add, NULL, "Add") ||
	    onnxpass_value_single_use(x, &in) != n)
		return 0;
	bias = onnxpass_node_input_value(add, 1);
	z = onnxpass_node_input_value(add, 0);
	if (!float_vector(bias)) {
		struct onnxpass_value *t = bias;

		bias = z;
		z = t;
	}
	if (!float_vector(bias))
		return 0;
	if (onnxpass_value_dim(bias, 0, &h, NULL) || h < 0 || !last_dim_is(z, h))
		return reject(f, n, fast ? "FastGelu bias" : "BiasGelu",
			      "cannot show the bias spans the input's last axis"), 0;
	ins[0] = own(onnxpass_value_name(z));
	ins[1] = own(onnxpass_value_name(bias));
	out = own(onnxpass_node_output(n, 0));
	name = own(onnxpass_node_name(n));
	onnxpass_graph_remove_node(g, n);
	onnxpass_graph_remove_node(g, add);
	bn = onnxpass_graph_add_node(g, fast ? "FastGelu" : "BiasGelu", ONNXPASS_DOMAIN_MS, name,
				     (const char *const *)ins, 2, (const char *const *)&out, 1);
	free(ins[0]);
	free(ins[1]);
	free(out);
	free(name);
	if (!bn)
		return ONNXPASS_ENOMEM;
	f->bias++;
	return 1;
}
