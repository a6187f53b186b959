/* SPDX-License-Identifier: MIT */
/* fusion: LayerNorm, RMSNorm and their residual-Add (skip) forms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

/* ReduceMean over the last axis only, keeping dims.  The axes come as an
 * attribute before opset 18 and as an input from 18 on; either is read
 * (a converter may have left the other). */
static bool reduces_last_axis(struct onnxpass_node *r, int64_t opset)
{
	int64_t axes[4], keep = 1;
	const int64_t *a;
	size_t n = 0;

	(void)opset;
	onnxpass_node_attr_int(r, "keepdims", &keep);
	if (!keep)
		return false;
	if (!onnxpass_node_attr_ints(r, "axes", &a, &n)) {
		if (n != 1)
			return false;
		axes[0] = a[0];
	} else if (onnxpass_node_input_count(r) < 2 ||
		   onnxpass_value_const_ints(onnxpass_node_input_value(r, 1), axes, 4) != 1) {
		return false;
	}
	/* -1, or the last axis counted from the front when the rank is known */
	return axes[0] == -1 ||
	       (axes[0] > 0 && axes[0] == onnxpass_value_infer_rank(onnxpass_node_input_value(r, 0)) - 1);
}

/* The square of d: Pow(d, 2) or Mul(d, d). */
static bool squares(struct onnxpass_node *n, struct onnxpass_value *d)
{
	float two;

	if (onnxpass_node_is(n, NULL, "Mul"))
		return onnxpass_node_input_value(n, 0) == d && onnxpass_node_input_value(n, 1) == d;
	return onnxpass_node_is(n, NULL, "Pow") && onnxpass_node_input_value(n, 0) == d &&
	       const_float(onnxpass_node_input_value(n, 1), &two) && two == 2.0f;
}

/* The node squaring d among its readers, or NULL. */
static struct onnxpass_node *square_of(struct onnxpass_value *d)
{
	for (size_t i = 0; d && i < onnxpass_value_use_count(d); i++) {
		struct onnxpass_node *n = onnxpass_value_use(d, i, NULL);

		if (squares(n, d))
			return n;
	}
	return NULL;
}

/* Whether every reader of v is a or b (and v is no graph output). */
static bool read_only_by(struct onnxpass_value *v, struct onnxpass_node *a, struct onnxpass_node *b)
{
	if (!v || onnxpass_value_is_graph_output(v))
		return false;
	for (size_t i = 0; i < onnxpass_value_use_count(v); i++) {
		struct onnxpass_node *n = onnxpass_value_use(v, i, NULL);

		if (n != a && n != b)
			return false;
	}
	return true;
}

/*
 * How a norm divides a numerator by sqrt(v), v = variance + eps, in the
 * forms exporters write: num / Sqrt(v); num * Reciprocal(Sqrt(v)) and
 * num * (1 / Sqrt(v)) (torch's dynamo exporter writes rsqrt as
 * Reciprocal); num * Pow(v, -0.5); each Mul with its operands in either
 * order.  Returns the node applying it (the Div or Mul), the nodes in
 * between in mid[0..1] (NULL when absent) and the numerator in *num; NULL
 * when v is used otherwise.
 */
static struct onnxpass_node *rsqrt_apply(struct onnxpass_value *v, struct onnxpass_node **mid,
					 struct onnxpass_value **num)
{
	struct onnxpass_node *sq, *inv, *ap;
	int in;
	float c;

	mid[0] = mid[1] = NULL;
	sq = onnxpass_value_single_use(v, &in);
	if (!sq || in != 0)
		return NULL;
	mid[0] = sq;
	if (onnxpass_node_is(sq, NULL, "Pow")) {	/* v ^ -0.5 */
		if (!const_float(onnxpass_node_input_value(sq, 1), &c) || c != -0.5f)
			return NULL;
		inv = sq;
	} else if (onnxpass_node_is(sq, NULL, "Sqrt")) {
		inv = onnxpass_value_single_use(onnxpass_node_output_value(sq, 0), &in);
		if (!inv)
			return NULL;
		if (onnxpass_node_is(inv, NULL, "Div") && in == 1 &&
		    !(const_float(onnxpass_node_input_value(inv, 0), &c) && c == 1.0f)) {
			*num = onnxpass_node_input_value(inv, 0);	/* num / sqrt(v) */
			return inv;
		}
		if (!(onnxpass_node_is(inv, NULL, "Div") && in == 1) && !onnxpass_node_is(inv, NULL, "Reciprocal"))
			return NULL;
		mid[1] = inv;	/* 1 / sqrt(v) */
	} else {
		return NULL;
	}
	ap = onnxpass_value_single_use(onnxpass_node_output_value(inv, 0), &in);
	if (!ap || !onnxpass_node_is(ap, NULL, "Mul"))
		return NULL;
	*num = other(ap, onnxpass_node_output_value(inv, 0));
	return ap;
}

/* A norm of the default domain over the last axis. */
static struct onnxpass_node *add_norm(struct onnxpass_graph *g, const char *op, const char *name,
				      const char *const *ins, size_t n_in, const char *out, float eps)
{
	struct onnxpass_node *n = onnxpass_graph_add_node(g, op, NULL, name, ins, n_in, &out, 1);

	if (n) {
		onnxpass_node_set_attr_int(n, "axis", -1);
		onnxpass_node_set_attr_float(n, "epsilon", eps);
	}
	return n;
}

/*
 * LayerNormalization (decomposed, as torch exports it):
 *
 *        +---------------------------------------+
 *        |                                       v
 *   x -> ReduceMean(-1) -> Sub(x, .) -+-> Pow(2) -> ReduceMean(-1) -> Add(eps) -> Sqrt
 *                                     |                                            |
 *                                     +------------------> Div <-------------------+
 *                                                           |
 *                                          Mul(gamma) -> [Add(beta)] -> y
 *
 * becomes LayerNormalization(x, gamma[, beta], axis=-1, epsilon=eps).  The
 * same forms as RMSNorm's are matched: the square as Pow(d, 2) or
 * Mul(d, d), the division by the root in any form rsqrt_apply knows,
 * x - mean computed once or twice, operands of Add and Mul in either
 * order, the axes as attribute or input.
 */
int layernorm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *r1,
		     int64_t opset)
{
	struct onnxpass_value *x = onnxpass_node_input_value(r1, 0), *gamma, *beta = NULL, *d, *dd, *mean, *num = NULL;
	struct onnxpass_node *subs[2] = { NULL, NULL }, *pw, *dv, *r2, *ad, *ml, *ab, *ln, *mid[2];
	struct onnxpass_node *part[11];
	size_t nsub;
	float eps;
	int in;
	char *out, *gname, *bname = NULL, *xname, *name;
	const char *ins[3];

	mean = onnxpass_node_output_value(r1, 0);
	nsub = mean && !onnxpass_value_is_graph_output(mean) ? onnxpass_value_use_count(mean) : 0;
	for (size_t i = 0; i < nsub && nsub <= 2; i++) {
		subs[i] = onnxpass_value_use(mean, i, &in);
		if (!onnxpass_node_is(subs[i], NULL, "Sub") || in != 1 ||
		    onnxpass_node_input_value(subs[i], 0) != x)
			return 0;	/* not the start of a LayerNorm */
	}
	if (nsub < 1 || nsub > 2)
		return 0;
	if (!reduces_last_axis(r1, opset))
		return reject(f, r1, "LayerNorm", "the mean is not over the last axis only"), 0;
	/* d: the x - mean that is squared; dd: the one divided (the same
	 * value, or its twin when the exporter computed it twice) */
	d = onnxpass_node_output_value(subs[0], 0);
	dd = nsub == 2 ? onnxpass_node_output_value(subs[1], 0) : d;
	pw = square_of(d);
	if (!pw && nsub == 2) {
		struct onnxpass_value *t = d;

		d = dd;
		dd = t;
		pw = square_of(d);
	}
	if (!pw)
		return reject(f, r1, "LayerNorm", "x - mean is not squared"), 0;
	r2 = onnxpass_value_single_use(onnxpass_node_output_value(pw, 0), &in);
	if (!r2 || !onnxpass_node_is(r2, NULL, "ReduceMean") || !reduces_last_axis(r2, opset))
		return reject(f, r1, "LayerNorm", "the variance is not a ReduceMean over the last axis"), 0;
	ad = onnxpass_value_single_use(onnxpass_node_output_value(r2, 0), &in);
	if (!ad || !onnxpass_node_is(ad, NULL, "Add") ||
	    !const_float(other(ad, onnxpass_node_output_value(r2, 0)), &eps))
		return reject(f, r1, "LayerNorm", "no constant epsilon added to the variance"), 0;
	dv = rsqrt_apply(onnxpass_node_output_value(ad, 0), mid, &num);
	if (!dv || num != dd)
		return reject(f, r1, "LayerNorm", "x - mean is not divided by sqrt(var + eps)"), 0;
	if (nsub == 2 ? !read_only_by(d, pw, pw) || !read_only_by(dd, dv, dv) : !read_only_by(d, pw, dv))
		return reject(f, r1, "LayerNorm", "x - mean is read outside the pattern"), 0;
	ml = onnxpass_value_single_use(onnxpass_node_output_value(dv, 0), &in);
	if (!ml || !onnxpass_node_is(ml, NULL, "Mul") ||
	    !float_vector(gamma = other(ml, onnxpass_node_output_value(dv, 0))))
		return reject(f, r1, "LayerNorm", "the result is not scaled by a constant vector"), 0;
	ab = onnxpass_value_single_use(onnxpass_node_output_value(ml, 0), &in);
	if (ab && onnxpass_node_is(ab, NULL, "Add") &&
	    float_vector(other(ab, onnxpass_node_output_value(ml, 0))))
		beta = other(ab, onnxpass_node_output_value(ml, 0));
	else
		ab = NULL;
	part[0] = r1; part[1] = subs[0]; part[2] = pw; part[3] = r2; part[4] = ad; part[5] = mid[0];
	part[6] = mid[1]; part[7] = dv; part[8] = ml; part[9] = ab; part[10] = subs[1];
	out = own(onnxpass_node_output(ab ? ab : ml, 0));
	gname = own(onnxpass_value_name(gamma));
	bname = beta ? own(onnxpass_value_name(beta)) : NULL;
	xname = own(onnxpass_value_name(x));
	name = own(onnxpass_node_name(r1));
	for (int i = 0; i < 11; i++)
		if (part[i])
			onnxpass_graph_remove_node(g, part[i]);
	ins[0] = xname;
	ins[1] = gname;
	ins[2] = bname;
	ln = add_norm(g, "LayerNormalization", name, ins, beta ? 3 : 2, out, eps);
	f->layernorm += ln != NULL;
	free(out);
	free(gname);
	free(bname);
	free(xname);
	free(name);
	return ln ? 1 : ONNXPASS_ENOMEM;
}

/*
 * RMSNorm (T5, Llama, Mistral, Gemma exports):
 *
 *   x -> Pow(2) -> ReduceMean(-1) -> Add(eps) -> Sqrt -> Div(1, .) -+
 *   |                                                               v
 *   +------------------------------------------------------------> Mul -> [Cast] -> Mul(w) -> y
 *
 * becomes SimplifiedLayerNormalization(x, w, axis=-1, epsilon=eps) (an ORT
 * operator of the default domain).  Exporters write the same math in
 * several forms, all matched: the square as Pow(x, 2) or Mul(x, x); the
 * inverse root as Div(1, Sqrt), Reciprocal(Sqrt) (torch's dynamo
 * exporter, for rsqrt) or Pow(., -0.5), or x / Sqrt directly; every Add
 * and Mul with its operands in either order.
 */
int rmsnorm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *pw,
		   int64_t opset)
{
	struct onnxpass_value *x = onnxpass_node_input_value(pw, 0), *w, *num = NULL;
	struct onnxpass_node *r, *ad, *m1, *m2, *sn, *cast = NULL, *mid[2];
	float eps;
	int in;
	char *out, *xname, *wname, *name;
	const char *ins[2];

	if (!x || !squares(pw, x))
		return 0;
	r = onnxpass_value_single_use(onnxpass_node_output_value(pw, 0), &in);
	if (!r || !onnxpass_node_is(r, NULL, "ReduceMean"))
		return 0;
	/* a LayerNorm's variance is a Pow of x - mean: that is layernorm()'s */
	if (onnxpass_value_producer(x, NULL) && onnxpass_node_is(onnxpass_value_producer(x, NULL), NULL, "Sub"))
		return 0;
	if (!reduces_last_axis(r, opset))
		return reject(f, pw, "RMSNorm", "the mean is not over the last axis only"), 0;
	ad = onnxpass_value_single_use(onnxpass_node_output_value(r, 0), &in);
	if (!ad || !onnxpass_node_is(ad, NULL, "Add") ||
	    !const_float(other(ad, onnxpass_node_output_value(r, 0)), &eps))
		return reject(f, pw, "RMSNorm", "no constant epsilon"), 0;
	m1 = rsqrt_apply(onnxpass_node_output_value(ad, 0), mid, &num);
	if (!m1)
		return reject(f, pw, "RMSNorm", "no 1 / sqrt(mean square + eps) nor x / sqrt(...)"), 0;
	if (num != x)
		return reject(f, pw, "RMSNorm", "x is not scaled by the inverse norm"), 0;
	m2 = onnxpass_value_single_use(onnxpass_node_output_value(m1, 0), &in);
	if (m2 && onnxpass_node_is(m2, NULL, "Cast")) {	/* Llama casts back: float to float */
		int64_t to = 0;

		onnxpass_node_attr_int(m2, "to", &to);
		if (to != ONNXPASS_DT_FLOAT)
			return reject(f, pw, "RMSNorm", "the normalized value is cast to another type"), 0;
		cast = m2;
		m2 = onnxpass_value_single_use(onnxpass_node_output_value(cast, 0), &in);
	}
	if (!m2 || !onnxpass_node_is(m2, NULL, "Mul") ||
	    !float_vector(w = other(m2, onnxpass_node_output_value(cast ? cast : m1, 0))))
		return reject(f, pw, "RMSNorm", "the result is not scaled by a constant vector"), 0;
	out = own(onnxpass_node_output(m2, 0));
	xname = own(onnxpass_value_name(x));
	wname = own(onnxpass_value_name(w));
	name = own(onnxpass_node_name(pw));
	onnxpass_graph_remove_node(g, pw);
	onnxpass_graph_remove_node(g, r);
	onnxpass_graph_remove_node(g, ad);
	for (int i = 0; i < 2; i++)
		if (mid[i] && mid[i] != m1)
			onnxpass_graph_remove_node(g, mid[i]);
	onnxpass_graph_remove_node(g, m1);
	if (cast)
		onnxpass_graph_remove_node(g, cast);
	onnxpass_graph_remove_node(g, m2);
	ins[0] = xname;
	ins[1] = wname;
	sn = add_norm(g, "SimplifiedLayerNormalization", name, ins, 2, out, eps);
	f->rmsnorm += sn != NULL;
	free(out);
	free(xname);
	free(wname);
	free(name);
	return sn ? 1 : ONNXPASS_ENOMEM;
}

/*
 * Residual Add + norm (after the norm fusions above):
 *
 *   a, b -> Add -> sum -> [Cast] -> LayerNormalization(gamma, beta) -> y
 *                   `--> (other readers of sum, in pre-norm models)
 *
 * becomes com.microsoft SkipLayerNormalization(a, b, gamma, beta) -> y,
 * with the sum as its 4th output when something else reads it
 * (SkipSimplifiedLayerNormalization for SimplifiedLayerNormalization).
 */
/* The fused op takes one type T for input, skip, gamma, beta and output;
 * every declared type must agree (ORT's contrib LayerNormalization before
 * opset 17 accepts a float16 input with a float32 gamma; the skip op does
 * not). */
static bool same_type(struct onnxpass_node *n, struct onnxpass_value *a, struct onnxpass_value *b)
{
	struct onnxpass_value *vs[5] = { a, b, onnxpass_node_input_value(n, 1),
					 onnxpass_node_input_count(n) > 2 ? onnxpass_node_input_value(n, 2) : NULL,
					 onnxpass_node_output_value(n, 0) };
	int t = 0;

	for (int i = 0; i < 5; i++) {
		int d = vs[i] ? onnxpass_value_dtype(vs[i]) : 0;

		if (d && t && d != t)
			return false;
		t = d ? d : t;
	}
	return true;
}

int skip_norm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n, int64_t opset)
{
	(void)opset;
	bool simple = onnxpass_node_is(n, NULL, "SimplifiedLayerNormalization");
	struct onnxpass_value *sum = onnxpass_node_input_value(n, 0), *a, *b;
	struct onnxpass_node *add = sum ? onnxpass_value_producer(sum, NULL) : NULL, *sk, *cast = NULL;
	int64_t axis = -1;
	float eps = 1e-5f;
	char *ins[4] = { NULL, NULL, NULL, NULL }, *outs[4] = { NULL, NULL, NULL, NULL }, *name;
	size_t nin = simple ? 3 : onnxpass_node_input_count(n) + 1, nout;
	bool sum_read = false;
	int rc = ONNXPASS_ENOMEM;

	if (add && onnxpass_node_is(add, NULL, "Cast") && f->fp32) {
		/* pre-norm exports: Add -> Cast(to FLOAT) -> norm, the Cast a no-op */
		int64_t to = 0;
		struct onnxpass_value *cin = onnxpass_node_input_value(add, 0);

		onnxpass_node_attr_int(add, "to", &to);
		if (to != ONNXPASS_DT_FLOAT || !cin || onnxpass_value_use_count(cin) != 1 ||
		    onnxpass_value_is_graph_output(cin))
			return 0;
		cast = add;
		add = onnxpass_value_producer(cin, NULL);
	}
	if (!add || !onnxpass_node_is(add, NULL, "Add") || onnxpass_node_input_count(add) != 2)
		return 0;
	onnxpass_node_attr_int(n, "axis", &axis);
	if (axis != -1 || onnxpass_node_output_count(n) != 1)
		return reject(f, n, "SkipLayerNorm", "the norm is not over the last axis alone"), 0;
	a = onnxpass_node_input_value(add, 0);
	b = onnxpass_node_input_value(add, 1);
	if (is_constant(a) || is_constant(b))
		return reject(f, n, "SkipLayerNorm", "an Add input is a constant (a bias, not a residual)"), 0;
	if (!same_type(n, a, b))
		return reject(f, n, "SkipLayerNorm", "input, skip, weight and output are not of one type"), 0;
	for (size_t i = 0; i < onnxpass_value_use_count(sum); i++)
		sum_read |= onnxpass_value_use(sum, i, NULL) != n;
	sum_read |= onnxpass_value_is_graph_output(sum);
	onnxpass_node_attr_float(n, "epsilon", &eps);
	ins[0] = own(onnxpass_value_name(a));
	ins[1] = own(onnxpass_value_name(b));
	ins[2] = own(onnxpass_node_input(n, 1));
	if (!simple && onnxpass_node_input_count(n) > 2)
		ins[3] = own(onnxpass_node_input(n, 2));
	outs[0] = own(onnxpass_node_output(n, 0));
	outs[1] = own("");
	outs[2] = own("");
	outs[3] = own(onnxpass_value_name(sum));
	name = own(onnxpass_node_name(n));
	nout = sum_read ? 4 : 1;
	onnxpass_graph_remove_node(g, n);
	onnxpass_graph_remove_node(g, add);
	if (cast)
		onnxpass_graph_remove_node(g, cast);
	sk = onnxpass_graph_add_node(g, simple ? "SkipSimplifiedLayerNormalization" : "SkipLayerNormalization",
				     ONNXPASS_DOMAIN_MS, name, (const char *const *)ins, nin,
				     (const char *const *)outs, nout);
	if (sk) {
		onnxpass_node_set_attr_float(sk, "epsilon", eps);
		f->skip++;
		rc = 1;
	}
	for (int i = 0; i < 4; i++) {
		free(ins[i]);
		free(outs[i]);
	}
	free(name);
	return rc;
}

