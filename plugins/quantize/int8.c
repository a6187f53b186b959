/* SPDX-License-Identifier: MIT */
/* quantize, mode = dynamic-int8: DynamicQuantizeLinear + MatMulInteger. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantize.h"

/*
 *   A ── DynamicQuantizeLinear ─┬ A_q ──┐
 *                               ├ A_zp ─┤
 *                               └ A_s ──┼────────────── Mul ─┐
 *   B_q, B_zp (constants) ────────── MatMulInteger ─ Cast ─ Mul ─ Y
 *   B_s ─────────────────────────────────────────────────┘ (A_s * B_s)
 *
 * as ORT's quantize_dynamic writes it (QOperator).  Weights: per tensor or
 * per column of B, QInt8 (symmetric, zero point 0) or QUInt8, optional
 * 7-bit reduce_range; numpy rounding (half to even).
 */

static void qrange(bool is_signed, bool sym, bool reduce, int *lo, int *hi)
{
	if (!is_signed) {
		*lo = 0;
		*hi = reduce ? 127 : 255;
	} else if (reduce) {
		*lo = -64;
		*hi = 64;
	} else {
		*lo = sym ? -127 : -128;
		*hi = 127;
	}
}

/* scale and zero point of [rmin, rmax] for [qmin, qmax] */
static void scale_zp(float rmin, float rmax, int qmin, int qmax, bool sym, float *scale, int *zp)
{
	rmin = rmin < 0.0f ? rmin : 0.0f;
	rmax = rmax > 0.0f ? rmax : 0.0f;
	if (sym) {
		float m = fabsf(rmin) > fabsf(rmax) ? fabsf(rmin) : fabsf(rmax);

		rmin = -m;
		rmax = m;
	}
	*scale = (rmax - rmin) / (float)(qmax - qmin);
	if (*scale < 1.17549435e-38f) {
		*scale = 1.0f;
		*zp = 0;
		return;
	}
	*zp = (int)rintf((float)qmin - rmin / *scale);
}

static struct dql *activation(struct state *s, struct onnxpass_graph *g, const char *a)
{
	struct dql *d;
	const char *outs[3], *name;

	for (size_t i = 0; i < s->n_dqls; i++)
		if (s->dqls[i].g == g && !strcmp(s->dqls[i].a, a))
			return &s->dqls[i];
	d = realloc(s->dqls, (s->n_dqls + 1) * sizeof(*d));
	if (!d)
		return NULL;
	s->dqls = d;
	d = &d[s->n_dqls];
	d->g = g;
	d->a = a;
	d->q = onnxpass_graph_fresh_name(g, a, "_quantized");
	d->scale = onnxpass_graph_fresh_name(g, a, "_scale");
	d->zp = onnxpass_graph_fresh_name(g, a, "_zero_point");
	name = onnxpass_graph_fresh_name(g, a, "_QuantizeLinear");
	if (!d->q || !d->scale || !d->zp || !name)
		return NULL;
	outs[0] = d->q;
	outs[1] = d->scale;
	outs[2] = d->zp;
	if (!onnxpass_graph_add_node(g, "DynamicQuantizeLinear", NULL, name, &a, 1, outs, 3))
		return NULL;
	s->n_dqls++;
	return d;
}

/* B as int8/uint8 with its scale and zero point, once per graph: layers
 * that share a weight (ALBERT's, or tied copies) share its quantized form. */
static struct made *int8_b(struct state *s, struct onnxpass_graph *g, struct onnxpass_tensor *b)
{
	const char *bname = onnxpass_tensor_name(b), *wt = onnxpass_params_string(s->c.p, "weight_type");
	bool is_signed = !strcmp(wt, "qint8"), sym = is_signed;
	bool per_ch = onnxpass_params_bool(s->c.p, "per_channel");
	bool reduce = onnxpass_params_bool(s->c.p, "reduce_range");
	int64_t K = onnxpass_tensor_dim(b, 0), N = onnxpass_tensor_dim(b, 1), nsc = per_ch ? N : 1;
	int64_t dims[2] = { K, N }, sdim[1] = { N };
	int dt = is_signed ? ONNXPASS_DT_INT8 : ONNXPASS_DT_UINT8;
	struct onnxpass_tensor *tq, *ts, *tz;
	struct made m = { 0 };
	const float *w = onnxpass_tensor_data_aligned(b);
	int qmin, qmax;

	for (size_t i = 0; i < s->n_made; i++)
		if (s->made[i].g == g && !s->made[i].tr && !strcmp(s->made[i].src, bname))
			return &s->made[i];
	qrange(is_signed, sym, reduce, &qmin, &qmax);
	m.g = g;
	m.src = strdup(bname);
	m.q = onnxpass_graph_fresh_name(g, bname, "_quantized");
	m.scales = onnxpass_graph_fresh_name(g, bname, "_scale");
	m.zp = onnxpass_graph_fresh_name(g, bname, "_zero_point");
	m.K = K;
	m.N = N;
	if (!w || !m.src || !m.q || !m.scales || !m.zp || add_init(g, m.q, dt, 2, dims, &tq) ||
	    add_init(g, m.scales, ONNXPASS_DT_FLOAT, per_ch ? 1 : 0, sdim, &ts) ||
	    add_init(g, m.zp, dt, per_ch ? 1 : 0, sdim, &tz))
		goto fail;
	{
		uint8_t *qd = onnxpass_tensor_mutable_data(tq), *zd = onnxpass_tensor_mutable_data(tz);
		float *sd = onnxpass_tensor_mutable_data(ts);

		if (!qd || !zd || !sd)
			goto fail;
		for (int64_t c = 0; c < nsc; c++) {
			float lo = 3.402823466e38f, hi = -3.402823466e38f, scale;
			int zp;

			for (int64_t k = 0; k < K; k++)
				for (int64_t j = per_ch ? c : 0; j < (per_ch ? c + 1 : N); j++) {
					lo = w[k * N + j] < lo ? w[k * N + j] : lo;
					hi = w[k * N + j] > hi ? w[k * N + j] : hi;
				}
			scale_zp(lo, hi, qmin, qmax, sym, &scale, &zp);
			sd[c] = scale;
			zd[c] = (uint8_t)(int8_t)zp;
			for (int64_t k = 0; k < K; k++)
				for (int64_t j = per_ch ? c : 0; j < (per_ch ? c + 1 : N); j++) {
					float v = rintf(w[k * N + j] / scale) + (float)zp;

					v = v < (float)qmin ? (float)qmin : v > (float)qmax ? (float)qmax : v;
					qd[k * N + j] = (uint8_t)(int8_t)(int)v;
				}
		}
	}
	onnxpass_tensor_drop_pages(b);
	if (spill(s, tq))
		goto fail;
	s->bytes_before += (int64_t)onnxpass_tensor_nbytes(b);
	s->bytes_after += (int64_t)onnxpass_tensor_nbytes(tq);
	return keep_made(s, &m);
fail:
	free(m.src);
	return NULL;
}

int matmul_to_integer(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_tensor *b = const_input(n, 1, 2);
	const char *o, *mi, *ca, *sc, *nm;
	struct made *m;
	struct dql *d;
	struct onnxpass_node *x;

	if (!b || onnxpass_node_input_count(n) != 2)
		return 0;
	m = int8_b(s, g, b);
	d = activation(s, g, onnxpass_value_name(onnxpass_node_input_value(n, 0)));
	o = onnxpass_value_name(onnxpass_node_output_value(n, 0));
	mi = onnxpass_graph_fresh_name(g, o, "_output_quantized");
	ca = onnxpass_graph_fresh_name(g, o, "_output_quantized_cast_output");
	sc = onnxpass_graph_fresh_name(g, o, "_scales_mul");
	nm = onnxpass_graph_fresh_name(g, onnxpass_node_name(n), "_quant");
	if (!m || !d || !mi || !ca || !sc || !nm)
		return ONNXPASS_ENOMEM;
	onnxpass_graph_remove_node(g, n);
	{
		const char *mm_in[4] = { d->q, m->q, d->zp, m->zp };
		const char *sc_in[2] = { d->scale, m->scales };
		const char *mul_in[2] = { ca, sc };

		if (!onnxpass_graph_add_node(g, "MatMulInteger", NULL, nm, mm_in, 4, &mi, 1) ||
		    !(x = onnxpass_graph_add_node(g, "Cast", NULL, ca, &mi, 1, &ca, 1)) ||
		    onnxpass_node_set_attr_int(x, "to", ONNXPASS_DT_FLOAT) ||
		    !onnxpass_graph_add_node(g, "Mul", NULL, sc, sc_in, 2, &sc, 1) ||
		    !onnxpass_graph_add_node(g, "Mul", NULL, o, mul_in, 2, &o, 1))
			return ONNXPASS_ENOMEM;
	}
	s->matmuls++;
	return 1;
}
