/* SPDX-License-Identifier: MIT */
/* quantize, embedding tables: Gather(T const [V,H] f32, ids) ->
 * Gather(T_quantized u8, ids) -> DequantizeLinear (gather = uint8), or
 * com.microsoft GatherBlockQuantized (gather = block4, 4-bit blocks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantize.h"

/* uint8 per-tensor, asymmetric, numpy rounding (half to even), as
 * ORT's quantize_dynamic does for a Gather's data. */
static int gather_uint8(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n,
			struct onnxpass_tensor *t)
{
	const float *w = onnxpass_tensor_data_aligned(t);
	int64_t numel = onnxpass_tensor_numel(t), dims[2] = { onnxpass_tensor_dim(t, 0),
							      onnxpass_tensor_dim(t, 1) };
	const char *tname = onnxpass_tensor_name(t), *o = onnxpass_value_name(onnxpass_node_output_value(n, 0));
	const char *qn = onnxpass_graph_fresh_name(g, tname, "_quantized");
	const char *sn = onnxpass_graph_fresh_name(g, tname, "_scale");
	const char *zn = onnxpass_graph_fresh_name(g, tname, "_zero_point");
	const char *on = onnxpass_graph_fresh_name(g, o, "_quantized");
	const char *dn = onnxpass_graph_fresh_name(g, o, "_DequantizeLinear");
	struct onnxpass_tensor *tq, *ts, *tz;
	float lo = 0.0f, hi = 0.0f, scale;
	uint8_t zp;
	int rc;

	if (!w || !qn || !sn || !zn || !on || !dn)
		return ONNXPASS_ENOMEM;
	for (int64_t i = 0; i < numel; i++) {
		if (w[i] < lo)
			lo = w[i];
		if (w[i] > hi)
			hi = w[i];
		if ((i + 1) % CHUNK == 0)	/* read: let the pages go */
			onnxpass_tensor_drop_range(t, (size_t)(i + 1 - CHUNK) * 4, CHUNK * 4);
	}
	/* (not drop_pages: that would free the aligned copy w may be) */
	onnxpass_tensor_drop_range(t, 0, onnxpass_tensor_nbytes(t));
	scale = (hi - lo) / 255.0f;
	if (scale < 1.17549435e-38f) {
		scale = 1.0f;
		zp = 0;
	} else {
		float z = rintf(0.0f - lo / scale);

		zp = (uint8_t)(z < 0 ? 0 : z > 255 ? 255 : z);
	}
	if ((rc = add_init(g, qn, ONNXPASS_DT_UINT8, 2, dims, &tq)) ||
	    (rc = add_init(g, sn, ONNXPASS_DT_FLOAT, 0, NULL, &ts)) ||
	    (rc = add_init(g, zn, ONNXPASS_DT_UINT8, 0, NULL, &tz)))
		return rc;
	{
		uint8_t *q = onnxpass_tensor_mutable_data(tq);

		for (int64_t i = 0; i < numel; i++) {
			float v = rintf(w[i] / scale) + (float)zp;

			q[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
			if ((i + 1) % CHUNK == 0)
				onnxpass_tensor_drop_range(t, (size_t)(i + 1 - CHUNK) * 4, CHUNK * 4);
		}
		*(float *)onnxpass_tensor_mutable_data(ts) = scale;
		*(uint8_t *)onnxpass_tensor_mutable_data(tz) = zp;
	}
	onnxpass_tensor_drop_pages(t);
	if ((rc = spill(s, tq)))
		return rc;
	onnxpass_node_set_input(n, 0, qn);
	onnxpass_node_set_output(n, 0, on);
	{
		const char *in[3] = { on, sn, zn };
		if (!onnxpass_graph_add_node(g, "DequantizeLinear", NULL, dn, in, 3, &o, 1))
			return ONNXPASS_ENOMEM;
	}
	s->bytes_before += (int64_t)onnxpass_tensor_nbytes(t);
	s->bytes_after += (int64_t)onnxpass_tensor_nbytes(tq) + 5;
	s->gathers++;
	return 1;
}

/* Rows of a table quantized by one work item: an even number, so that
 * no two items share a byte of the packed data or zero points. */
#define B4_ROWS 256

struct block4 {
	struct onnxpass_tensor *t;
	const float *w;	/* [V, H] */
	int64_t V, H, bs;
	uint8_t *q, *zq;	/* packed UINT4 [V, H] and [V, H / bs] */
	float *sc;	/* [V, H / bs] */
};

/* Rows [item * B4_ROWS, ...) of the table into 4-bit blocks. */
static void block4_rows(void *arg, size_t item)
{
	const struct block4 *j = arg;
	int64_t H = j->H, bs = j->bs, nb = H / bs, v0 = (int64_t)item * B4_ROWS;
	int64_t v1 = v0 + B4_ROWS < j->V ? v0 + B4_ROWS : j->V;
	const float *w = j->w;
	uint8_t *q = j->q, *zq = j->zq;
	float *sc = j->sc;

	for (int64_t v = v0; v < v1; v++) {
		for (int64_t b = 0; b < nb; b++) {
			const float *blk = w + v * H + b * bs;
			float lo = 0.0f, hi = 0.0f, scale, z;
			int64_t idx = v * nb + b;

			for (int64_t i = 0; i < bs; i++) {
				lo = blk[i] < lo ? blk[i] : lo;
				hi = blk[i] > hi ? blk[i] : hi;
			}
			scale = (hi - lo) / 15.0f;
			z = scale == 0.0f ? 8.0f : rintf(-lo / scale);
			z = z < 0 ? 0 : z > 15 ? 15 : z;
			sc[idx] = scale;
			zq[idx / 2] |= (uint8_t)((uint8_t)z << ((idx & 1) * 4));
			for (int64_t i = 0; i < bs; i++) {
				float r = scale == 0.0f ? 8.0f : rintf(blk[i] / scale + z);
				int64_t e = v * H + b * bs + i;

				r = r < 0 ? 0 : r > 15 ? 15 : r;
				q[e / 2] |= (uint8_t)((uint8_t)r << ((e & 1) * 4));
			}
		}
	}
	/* these rows are done: let their pages go */
	onnxpass_tensor_drop_range(j->t, (size_t)v0 * (size_t)H * 4, (size_t)(v1 - v0) * (size_t)H * 4);
}

/* 4-bit blocks along the hidden axis, numpy rounding, as ORT's
 * quantize_ndarray for GatherBlockQuantized (UINT4 data and zero points). */
static int gather_block4(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n,
			 struct onnxpass_tensor *t)
{
	const float *w = onnxpass_tensor_data_aligned(t);
	int64_t V = onnxpass_tensor_dim(t, 0), H = onnxpass_tensor_dim(t, 1), bs = s->c.gblock;
	int64_t nb = H / bs, dims[2] = { V, H }, sdims[2] = { V, nb };
	const char *tname = onnxpass_tensor_name(t), *o = onnxpass_value_name(onnxpass_node_output_value(n, 0));
	const char *qn, *sn, *zn, *nm;
	struct onnxpass_tensor *tq, *ts, *tz;
	uint8_t *q, *zq;
	float *sc;
	int rc;

	if (H % bs) {
		onnxpass_log(s->ctx, ONNXPASS_LOG_WARN,
			     "Gather '%s': hidden size %lld is not a multiple of block %lld; left as is",
			     onnxpass_node_name(n), (long long)H, (long long)bs);
		return 0;
	}
	qn = onnxpass_graph_fresh_name(g, tname, "_Q4");
	sn = onnxpass_graph_fresh_name(g, tname, "_scales");
	zn = onnxpass_graph_fresh_name(g, tname, "_zero_points");
	nm = onnxpass_graph_fresh_name(g, onnxpass_node_name(n), "_Q4");
	if (!w || !qn || !sn || !zn || !nm)
		return ONNXPASS_ENOMEM;
	if ((rc = add_init(g, qn, ONNXPASS_DT_UINT4, 2, dims, &tq)) ||
	    (rc = add_init(g, sn, ONNXPASS_DT_FLOAT, 2, sdims, &ts)) ||
	    (rc = add_init(g, zn, ONNXPASS_DT_UINT4, 2, sdims, &tz)))
		return rc;
	q = onnxpass_tensor_mutable_data(tq);
	sc = onnxpass_tensor_mutable_data(ts);
	zq = onnxpass_tensor_mutable_data(tz);
	if (!q || !sc || !zq)
		return ONNXPASS_ENOMEM;
	{
		struct block4 j = { t, w, V, H, bs, q, zq, sc };

		onnxpass_parallel_for(s->ctx, (size_t)((V + B4_ROWS - 1) / B4_ROWS), block4_rows, &j);
	}
	onnxpass_tensor_drop_pages(t);
	if ((rc = spill(s, tq)) || (rc = spill(s, ts)) || (rc = spill(s, tz)))
		return rc;
	{
		const char *in[4] = { qn, onnxpass_value_name(onnxpass_node_input_value(n, 1)), sn, zn };
		int64_t axis = 0;
		struct onnxpass_node *gq;

		onnxpass_node_attr_int(n, "axis", &axis);
		onnxpass_graph_remove_node(g, n);
		gq = onnxpass_graph_add_node(g, "GatherBlockQuantized", ONNXPASS_DOMAIN_MS, nm, in, 4, &o, 1);
		if (!gq)
			return ONNXPASS_ENOMEM;
		onnxpass_node_set_attr_int(gq, "gather_axis", axis);
		onnxpass_node_set_attr_int(gq, "quantize_axis", 1);
		onnxpass_node_set_attr_int(gq, "block_size", bs);
	}
	s->bytes_before += (int64_t)onnxpass_tensor_nbytes(t);
	s->bytes_after += (int64_t)(onnxpass_tensor_nbytes(tq) + onnxpass_tensor_nbytes(ts) +
				    onnxpass_tensor_nbytes(tz));
	s->gathers++;
	s->contrib = true;
	s->need_opset21 = true;
	return 1;
}

int gather_node(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_tensor *t = const_input(n, 0, 2);
	int64_t axis = 0;

	if (!t) {
		onnxpass_log(s->ctx, ONNXPASS_LOG_DEBUG, "Gather '%s': data is not a constant 2-D float table",
			     onnxpass_node_name(n));
		return 0;
	}
	onnxpass_node_attr_int(n, "axis", &axis);
	if (axis != 0)
		return 0;
	if (!onnxpass_node_is_embedding(n)) {
		onnxpass_log(s->ctx, ONNXPASS_LOG_DEBUG, "Gather '%s': its rows are only factors (a rotary table): not an embedding",
			     onnxpass_node_name(n));
		return 0;
	}
	if (onnxpass_value_graph(onnxpass_node_input_value(n, 0)) != g)
		return 0;	/* a table of an enclosing graph: leave it */
	return !strcmp(s->c.gather, "uint8") ? gather_uint8(s, g, n, t) : gather_block4(s, g, n, t);
}
