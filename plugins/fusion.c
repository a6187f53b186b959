/* SPDX-License-Identifier: MIT */
/* fusion: decomposed subgraphs back into the fused operators ONNX Runtime
 * runs fast.  Each pattern is matched exactly (every intermediate value
 * read only inside the pattern, constants where constants belong, opset-
 * aware reduction axes); a candidate that half-matches is left untouched
 * and, with -v, the reason is logged.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

struct fuse {
	struct onnxpass_ctx *ctx;
	struct onnxpass_model *m;
	const char *role;
	int64_t layernorm, rmsnorm, gelu, skip, rejected;
	bool fp32;	/* see all_fp32() */
};

static void reject(struct fuse *f, struct onnxpass_node *n, const char *what, const char *why)
{
	f->rejected++;
	onnxpass_log(f->ctx, ONNXPASS_LOG_INFO, "%s: %s at '%s' not fused: %s", f->role, what,
		     onnxpass_node_name(n), why);
}

/* The single node reading v (and which input), or NULL. */
static struct onnxpass_node *only_use(struct onnxpass_value *v, int *input)
{
	if (!v || onnxpass_value_use_count(v) != 1 || onnxpass_value_is_graph_output(v))
		return NULL;
	return onnxpass_value_use(v, 0, input);
}

static bool const_float(struct onnxpass_value *v, float *out)
{
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;
	struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

	if (v && onnxpass_value_is_graph_input(v))
		return false;
	if (!t && p && onnxpass_node_is(p, NULL, "Constant"))
		t = onnxpass_node_attr_tensor(p, "value");
	return t && onnxpass_tensor_numel(t) == 1 && !onnxpass_tensor_to_f32(t, out, 1);
}

/* A 1-D float initializer (a norm's weight or bias). */
static bool const_vector(struct onnxpass_value *v)
{
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

	return t && !onnxpass_value_is_graph_input(v) && onnxpass_tensor_rank(t) == 1 &&
	       onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT;
}

/* The other input of a two-input node, given one of them. */
static struct onnxpass_value *other(struct onnxpass_node *n, struct onnxpass_value *v)
{
	struct onnxpass_value *a = onnxpass_node_input_value(n, 0), *b = onnxpass_node_input_value(n, 1);

	if (onnxpass_node_input_count(n) != 2)
		return NULL;
	return a == v ? b : b == v ? a : NULL;
}

/* ReduceMean over the last axis only, keeping dims: axes come as an
 * attribute before opset 18 and as an input from 18 on. */
static bool reduces_last_axis(struct onnxpass_node *r, int64_t opset)
{
	int64_t axes[4], keep = 1;
	const int64_t *a;
	size_t n = 0;
	int got;

	onnxpass_node_attr_int(r, "keepdims", &keep);
	if (!keep)
		return false;
	if (opset < 18) {
		if (onnxpass_node_attr_ints(r, "axes", &a, &n) || n != 1)
			return false;
		return a[0] == -1;
	}
	if (onnxpass_node_input_count(r) < 2)
		return false;
	got = onnxpass_value_const_ints(onnxpass_node_input_value(r, 1), axes, 4);
	return got == 1 && axes[0] == -1;
}

static char *own(const char *s)
{
	return strdup(s ? s : "");
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
 * becomes LayerNormalization(x, gamma[, beta], axis=-1, epsilon=eps).
 */
static int layernorm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *r1,
		     int64_t opset)
{
	struct onnxpass_value *x = onnxpass_node_input_value(r1, 0), *gamma, *beta = NULL, *d;
	struct onnxpass_node *sub, *pw, *dv, *r2, *ad, *sq, *ml, *ab, *ln;
	struct onnxpass_node *part[9];
	float two, eps;
	int in;
	char *out, *gname, *bname = NULL, *xname, *name;
	const char *ins[3];

	sub = only_use(onnxpass_node_output_value(r1, 0), &in);
	if (!sub || !onnxpass_node_is(sub, NULL, "Sub") || in != 1 || onnxpass_node_input_value(sub, 0) != x)
		return 0;	/* not the start of a LayerNorm */
	if (!reduces_last_axis(r1, opset))
		return reject(f, r1, "LayerNorm", "the mean is not over the last axis only"), 0;
	d = onnxpass_node_output_value(sub, 0);
	if (!d || onnxpass_value_use_count(d) != 2 || onnxpass_value_is_graph_output(d))
		return reject(f, r1, "LayerNorm", "x - mean is read outside the pattern"), 0;
	pw = onnxpass_value_use(d, 0, NULL);
	dv = onnxpass_value_use(d, 1, NULL);
	if (onnxpass_node_is(pw, NULL, "Div")) {
		struct onnxpass_node *t = pw;

		pw = dv;
		dv = t;
	}
	if (!onnxpass_node_is(pw, NULL, "Pow") || !onnxpass_node_is(dv, NULL, "Div") ||
	    onnxpass_node_input_value(dv, 0) != d)
		return reject(f, r1, "LayerNorm", "no Pow and Div on x - mean"), 0;
	if (!const_float(onnxpass_node_input_value(pw, 1), &two) || two != 2.0f)
		return reject(f, r1, "LayerNorm", "the power is not a constant 2"), 0;
	r2 = only_use(onnxpass_node_output_value(pw, 0), &in);
	if (!r2 || !onnxpass_node_is(r2, NULL, "ReduceMean") || !reduces_last_axis(r2, opset))
		return reject(f, r1, "LayerNorm", "the variance is not a ReduceMean over the last axis"), 0;
	ad = only_use(onnxpass_node_output_value(r2, 0), &in);
	if (!ad || !onnxpass_node_is(ad, NULL, "Add") ||
	    !const_float(other(ad, onnxpass_node_output_value(r2, 0)), &eps))
		return reject(f, r1, "LayerNorm", "no constant epsilon added to the variance"), 0;
	sq = only_use(onnxpass_node_output_value(ad, 0), &in);
	if (!sq || !onnxpass_node_is(sq, NULL, "Sqrt") ||
	    only_use(onnxpass_node_output_value(sq, 0), &in) != dv || in != 1)
		return reject(f, r1, "LayerNorm", "the Div does not divide by sqrt(var + eps)"), 0;
	ml = only_use(onnxpass_node_output_value(dv, 0), &in);
	if (!ml || !onnxpass_node_is(ml, NULL, "Mul") ||
	    !const_vector(gamma = other(ml, onnxpass_node_output_value(dv, 0))))
		return reject(f, r1, "LayerNorm", "the result is not scaled by a constant vector"), 0;
	ab = only_use(onnxpass_node_output_value(ml, 0), &in);
	if (ab && onnxpass_node_is(ab, NULL, "Add") &&
	    const_vector(other(ab, onnxpass_node_output_value(ml, 0))))
		beta = other(ab, onnxpass_node_output_value(ml, 0));
	else
		ab = NULL;
	part[0] = r1; part[1] = sub; part[2] = pw; part[3] = r2; part[4] = ad; part[5] = sq;
	part[6] = dv; part[7] = ml; part[8] = ab;
	out = own(onnxpass_node_output(ab ? ab : ml, 0));
	gname = own(onnxpass_value_name(gamma));
	bname = beta ? own(onnxpass_value_name(beta)) : NULL;
	xname = own(onnxpass_value_name(x));
	name = own(onnxpass_node_name(r1));
	for (int i = 0; i < 9; i++)
		if (part[i])
			onnxpass_graph_remove_node(g, part[i]);
	ins[0] = xname;
	ins[1] = gname;
	ins[2] = bname;
	ln = onnxpass_graph_add_node(g, "LayerNormalization", NULL, name, ins, beta ? 3 : 2,
				     (const char *const *)&out, 1);
	if (ln) {
		onnxpass_node_set_attr_int(ln, "axis", -1);
		onnxpass_node_set_attr_float(ln, "epsilon", eps);
		f->layernorm++;
	}
	free(out);
	free(gname);
	free(bname);
	free(xname);
	free(name);
	return ln ? 1 : ONNXPASS_ENOMEM;
}

/*
 * RMSNorm (T5, Llama, Mistral exports):
 *
 *   x -> Pow(2) -> ReduceMean(-1) -> Add(eps) -> Sqrt -> Div(1, .) -+
 *   |                                                               v
 *   +------------------------------------------------------------> Mul -> [Cast] -> Mul(w) -> y
 *
 * becomes SimplifiedLayerNormalization(x, w, axis=-1, epsilon=eps) (an ORT
 * operator of the default domain).
 */
static int rmsnorm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *pw,
		   int64_t opset)
{
	struct onnxpass_value *x = onnxpass_node_input_value(pw, 0), *w;
	struct onnxpass_node *r, *ad, *sq, *dv, *m1, *m2, *sn, *cast = NULL;
	float two, eps, one;
	int in;
	char *out, *xname, *wname, *name;
	const char *ins[2];

	if (!const_float(onnxpass_node_input_value(pw, 1), &two) || two != 2.0f)
		return 0;
	r = only_use(onnxpass_node_output_value(pw, 0), &in);
	if (!r || !onnxpass_node_is(r, NULL, "ReduceMean"))
		return 0;
	/* a LayerNorm's variance is a Pow of x - mean: that is layernorm()'s */
	if (x && onnxpass_value_producer(x, NULL) &&
	    onnxpass_node_is(onnxpass_value_producer(x, NULL), NULL, "Sub"))
		return 0;
	if (!reduces_last_axis(r, opset))
		return reject(f, pw, "RMSNorm", "the mean is not over the last axis only"), 0;
	ad = only_use(onnxpass_node_output_value(r, 0), &in);
	if (!ad || !onnxpass_node_is(ad, NULL, "Add") ||
	    !const_float(other(ad, onnxpass_node_output_value(r, 0)), &eps))
		return reject(f, pw, "RMSNorm", "no constant epsilon"), 0;
	sq = only_use(onnxpass_node_output_value(ad, 0), &in);
	if (!sq || !onnxpass_node_is(sq, NULL, "Sqrt"))
		return reject(f, pw, "RMSNorm", "no Sqrt of the mean square"), 0;
	dv = only_use(onnxpass_node_output_value(sq, 0), &in);
	if (!dv || !onnxpass_node_is(dv, NULL, "Div") || in != 1 ||
	    !const_float(onnxpass_node_input_value(dv, 0), &one) || one != 1.0f)
		return reject(f, pw, "RMSNorm", "no 1 / sqrt(mean square + eps)"), 0;
	m1 = only_use(onnxpass_node_output_value(dv, 0), &in);
	if (!m1 || !onnxpass_node_is(m1, NULL, "Mul") || other(m1, onnxpass_node_output_value(dv, 0)) != x)
		return reject(f, pw, "RMSNorm", "x is not scaled by the inverse norm"), 0;
	m2 = only_use(onnxpass_node_output_value(m1, 0), &in);
	if (m2 && onnxpass_node_is(m2, NULL, "Cast")) {	/* Llama casts back: float to float */
		int64_t to = 0;

		onnxpass_node_attr_int(m2, "to", &to);
		if (to != ONNXPASS_DT_FLOAT)
			return reject(f, pw, "RMSNorm", "the normalized value is cast to another type"), 0;
		cast = m2;
		m2 = only_use(onnxpass_node_output_value(cast, 0), &in);
	}
	if (!m2 || !onnxpass_node_is(m2, NULL, "Mul") ||
	    !const_vector(w = other(m2, onnxpass_node_output_value(cast ? cast : m1, 0))))
		return reject(f, pw, "RMSNorm", "the result is not scaled by a constant vector"), 0;
	out = own(onnxpass_node_output(m2, 0));
	xname = own(onnxpass_value_name(x));
	wname = own(onnxpass_value_name(w));
	name = own(onnxpass_node_name(pw));
	onnxpass_graph_remove_node(g, pw);
	onnxpass_graph_remove_node(g, r);
	onnxpass_graph_remove_node(g, ad);
	onnxpass_graph_remove_node(g, sq);
	onnxpass_graph_remove_node(g, dv);
	onnxpass_graph_remove_node(g, m1);
	if (cast)
		onnxpass_graph_remove_node(g, cast);
	onnxpass_graph_remove_node(g, m2);
	ins[0] = xname;
	ins[1] = wname;
	sn = onnxpass_graph_add_node(g, "SimplifiedLayerNormalization", NULL, name, ins, 2,
				     (const char *const *)&out, 1);
	if (sn) {
		onnxpass_node_set_attr_int(sn, "axis", -1);
		onnxpass_node_set_attr_float(sn, "epsilon", eps);
		f->rmsnorm++;
	}
	free(out);
	free(xname);
	free(wname);
	free(name);
	return sn ? 1 : ONNXPASS_ENOMEM;
}

/*
 * Gelu, erf form:  y = x * 0.5 * (1 + erf(x / sqrt(2)))
 *
 *   x -> Div(sqrt 2) -> Erf -> Add(1) -> Mul(x, .) -> Mul(0.5) -> y
 *   x -> Mul(1/sqrt 2) ...              (or Mul(Mul(x, 0.5), .) -> y)
 *
 * becomes com.microsoft Gelu(x).
 */
static int gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *erf)
{
	struct onnxpass_value *e_in = onnxpass_node_input_value(erf, 0), *x, *a_out;
	struct onnxpass_node *scale = e_in ? onnxpass_value_producer(e_in, NULL) : NULL;
	struct onnxpass_node *add, *m1, *m2 = NULL, *half_mul = NULL, *gn;
	float c, one, half;
	int in;
	char *out, *xname, *name;
	const char *xn;

	if (!scale || (!onnxpass_node_is(scale, NULL, "Div") && !onnxpass_node_is(scale, NULL, "Mul")))
		return 0;
	x = onnxpass_node_input_value(scale, 0);
	if (!const_float(onnxpass_node_input_value(scale, 1), &c) ||
	    (onnxpass_node_is(scale, NULL, "Div") ? fabsf(c - 1.4142135f) > 1e-4f
						  : fabsf(c - 0.70710678f) > 1e-4f))
		return reject(f, erf, "Gelu", "the Erf input is not x / sqrt(2)"), 0;
	if (only_use(e_in, &in) != erf)
		return reject(f, erf, "Gelu", "x / sqrt(2) is read outside the pattern"), 0;
	add = only_use(onnxpass_node_output_value(erf, 0), &in);
	if (!add || !onnxpass_node_is(add, NULL, "Add") ||
	    !const_float(other(add, onnxpass_node_output_value(erf, 0)), &one) || one != 1.0f)
		return reject(f, erf, "Gelu", "no 1 added to erf"), 0;
	a_out = onnxpass_node_output_value(add, 0);
	m1 = only_use(a_out, &in);
	if (!m1 || !onnxpass_node_is(m1, NULL, "Mul"))
		return reject(f, erf, "Gelu", "1 + erf is not multiplied"), 0;
	if (other(m1, a_out) == x) {	/* Mul(x, 1 + erf) -> Mul(0.5) */
		m2 = only_use(onnxpass_node_output_value(m1, 0), &in);
		if (!m2 || !onnxpass_node_is(m2, NULL, "Mul") ||
		    !const_float(other(m2, onnxpass_node_output_value(m1, 0)), &half) || half != 0.5f)
			return reject(f, erf, "Gelu", "no final multiplication by 0.5"), 0;
	} else {	/* Mul(Mul(x, 0.5), 1 + erf) */
		struct onnxpass_value *h = other(m1, a_out);

		half_mul = h ? onnxpass_value_producer(h, NULL) : NULL;
		if (!half_mul || !onnxpass_node_is(half_mul, NULL, "Mul") || other(half_mul, x) == NULL ||
		    !const_float(other(half_mul, x), &half) || half != 0.5f || only_use(h, &in) != m1)
			return reject(f, erf, "Gelu", "1 + erf is not multiplied by x and 0.5"), 0;
	}
	out = own(onnxpass_node_output(m2 ? m2 : m1, 0));
	xname = own(onnxpass_value_name(x));
	name = own(onnxpass_node_name(erf));
	onnxpass_graph_remove_node(g, scale);
	onnxpass_graph_remove_node(g, erf);
	onnxpass_graph_remove_node(g, add);
	onnxpass_graph_remove_node(g, m1);
	if (m2)
		onnxpass_graph_remove_node(g, m2);
	if (half_mul)
		onnxpass_graph_remove_node(g, half_mul);
	xn = xname;
	gn = onnxpass_graph_add_node(g, "Gelu", ONNXPASS_DOMAIN_MS, name, &xn, 1,
				     (const char *const *)&out, 1);
	free(out);
	free(xname);
	free(name);
	if (!gn)
		return ONNXPASS_ENOMEM;
	f->gelu++;
	return 1;
}

static bool is_constant(struct onnxpass_value *v)
{
	struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

	return !v || onnxpass_value_initializer(v) || (p && onnxpass_node_is(p, NULL, "Constant"));
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
/* No FLOAT16/BFLOAT16 graph input, output or initializer: a Cast to
 * FLOAT in such a model converts nothing. */
static bool all_fp32(struct onnxpass_model *m)
{
	struct onnxpass_graph *g = onnxpass_model_graph(m);

	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		int dt = onnxpass_tensor_dtype(onnxpass_graph_initializer_at(g, i));

		if (dt == ONNXPASS_DT_FLOAT16 || dt == ONNXPASS_DT_BFLOAT16)
			return false;
	}
	for (size_t i = 0; i < onnxpass_graph_input_count(g) + onnxpass_graph_output_count(g); i++) {
		struct onnxpass_value *v = i < onnxpass_graph_input_count(g)
						   ? onnxpass_graph_input(g, i)
						   : onnxpass_graph_output(g, i - onnxpass_graph_input_count(g));
		int dt = onnxpass_value_dtype(v);

		if (dt == ONNXPASS_DT_FLOAT16 || dt == ONNXPASS_DT_BFLOAT16)
			return false;
	}
	return true;
}

static int skip_norm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n)
{
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

static bool want(const struct onnxpass_params *p, const char *pattern)
{
	for (size_t i = 0; i < onnxpass_params_list_count(p, "patterns"); i++)
		if (!strcmp(onnxpass_params_list_item(p, "patterns", i), pattern))
			return true;
	return false;
}

static int fuse_graph(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p)
{
	int64_t opset = onnxpass_model_opset(f->m, "");
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++) {
		struct onnxpass_node *n = nodes[i];

		for (size_t k = 0; k < onnxpass_node_subgraph_count(n) && rc >= 0; k++) {
			rc = fuse_graph(f, onnxpass_node_subgraph(n, k), p);
			changes += rc > 0 ? rc : 0;
		}
		if (rc < 0 || onnxpass_node_is_removed(n))
			continue;
		if (onnxpass_node_is(n, NULL, "ReduceMean") && want(p, "layernorm"))
			rc = layernorm(f, g, n, opset);
		else if (onnxpass_node_is(n, NULL, "Pow") && want(p, "rmsnorm"))
			rc = rmsnorm(f, g, n, opset);
		else if (onnxpass_node_is(n, NULL, "Erf") && want(p, "gelu"))
			rc = gelu(f, g, n);
		else
			continue;
		changes += rc > 0 ? rc : 0;
	}
	free(nodes);
	if (rc < 0)
		return rc;
	/* second round: residual Adds into the norms fused above */
	if (want(p, "skip")) {
		nodes = onnxpass_graph_nodes(g, &count);
		if (!nodes)
			return ONNXPASS_ENOMEM;
		for (size_t i = 0; i < count && rc >= 0; i++) {
			struct onnxpass_node *n = nodes[i];

			if (onnxpass_node_is_removed(n) ||
			    (!onnxpass_node_is(n, NULL, "LayerNormalization") &&
			     !onnxpass_node_is(n, NULL, "SimplifiedLayerNormalization")))
				continue;
			rc = skip_norm(f, g, n);
			changes += rc > 0 ? rc : 0;
		}
		free(nodes);
		if (rc < 0)
			return rc;
	}
	if (changes) {
		onnxpass_graph_remove_unused(g);
		if (onnxpass_graph_toposort(g))
			return onnxpass_ctx_fail(f->ctx, ONNXPASS_EFORMAT, "%s: the fused graph has a cycle", f->role);
	}
	return changes;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct fuse f = { .ctx = ctx };
	int total = 0;

	(void)bundle;
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++) {
		int64_t before = f.gelu, before_skip = f.skip, rc;

		f.m = onnxpass_ctx_model(ctx, i);
		f.role = onnxpass_ctx_role(ctx, i);
		f.fp32 = all_fp32(f.m);
		if (onnxpass_model_opset(f.m, "") < 1)
			return onnxpass_ctx_fail(ctx, ONNXPASS_EUNSUPPORTED, "%s has no default-domain opset", f.role);
		rc = fuse_graph(&f, onnxpass_model_graph(f.m), params);
		if (rc < 0)
			return (int)rc;
		if ((f.gelu > before || f.skip > before_skip) && onnxpass_model_opset(f.m, ONNXPASS_DOMAIN_MS) < 1)
			onnxpass_model_set_opset(f.m, ONNXPASS_DOMAIN_MS, 1);
		total += (int)rc;
	}
	onnxpass_ctx_report_int(ctx, "layernorm", f.layernorm);
	onnxpass_ctx_report_int(ctx, "rmsnorm", f.rmsnorm);
	onnxpass_ctx_report_int(ctx, "gelu", f.gelu);
	onnxpass_ctx_report_int(ctx, "skip", f.skip);
	onnxpass_ctx_report_int(ctx, "rejected", f.rejected);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "fused %lld LayerNormalization, %lld SimplifiedLayerNormalization, %lld Gelu; %lld candidates rejected",
		     (long long)f.layernorm, (long long)f.rmsnorm, (long long)f.gelu, (long long)f.rejected);
	return total;
}

static const struct onnxpass_param params[] = {
	{ "patterns", ONNXPASS_PARAM_LIST, "layernorm rmsnorm gelu skip",
	  "patterns to fuse: layernorm, rmsnorm, gelu, skip (residual Add into a norm)", 0, 0, NULL,
	  false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "fusion",
	.version = "0.1",
	.summary = "fuse decomposed LayerNorm, RMSNorm, Gelu and residual norms into ORT's fused operators",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"layernorm: ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul[/Add] over the last axis\n"
		"-> LayerNormalization (opset-aware reduction axes).  rmsnorm: Pow/ReduceMean/Add/\n"
		"Sqrt/Div(1, .)/Mul/Mul(w) -> SimplifiedLayerNormalization.  gelu: the erf form\n"
		"x * 0.5 * (1 + erf(x / sqrt 2)) -> com.microsoft Gelu.  skip: a residual Add into\n"
		"either norm -> com.microsoft Skip(Simplified)LayerNormalization (the sum as\n"
		"its 4th output when read elsewhere).  Candidates that only half match are\n"
		"left as they are; -v logs why each was rejected.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
