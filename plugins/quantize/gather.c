/* SPDX-License-Identifier: MIT */
/* quantize, embedding tables: Gather(T const [V,H] f32, ids) ->
 * Gather(T_quantized u8, ids) -> DequantizeLinear (gather = uint8), or
 * com.microsoft GatherBlockQuantized (gather = block4, 4-bit blocks, stored
 * once with a tied lm_head's MatMulNBits). */
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

/* The MatMul reading t through Transpose(perm 1 0): a tied lm_head that
 * this run quantizes to MatMulNBits, or NULL. */
static struct onnxpass_node *tied_lm_head(struct state *s, struct onnxpass_graph *g, struct onnxpass_tensor *t)
{
	struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));

	if (s->c.dynamic || !onnxpass_params_bool(s->c.p, "matmul"))
		return NULL;
	for (size_t i = 0; v && i < onnxpass_value_use_count(v); i++) {
		int in;
		struct onnxpass_node *tr = onnxpass_value_use(v, i, &in);
		struct onnxpass_value *o = onnxpass_node_output_value(tr, 0);
		const int64_t *perm;
		size_t np = 0;

		if (in != 0 || !onnxpass_node_is(tr, NULL, "Transpose") || !o || onnxpass_value_is_graph_output(o) ||
		    (!onnxpass_node_attr_ints(tr, "perm", &perm, &np) && (np != 2 || perm[0] != 1 || perm[1] != 0)))
			continue;
		for (size_t k = 0; k < onnxpass_value_use_count(o); k++) {
			struct onnxpass_node *mm = onnxpass_value_use(o, k, &in);

			if (in == 1 && onnxpass_node_is(mm, NULL, "MatMul") && onnxpass_node_input_count(mm) == 2 &&
			    wanted(&s->c, onnxpass_node_name(mm)))
				return mm;
		}
	}
	return NULL;
}

/* A new initializer of g named after base+suffix whose bytes are src's
 * (src's storage, not a copy). */
static struct onnxpass_tensor *alias(struct onnxpass_graph *g, const char *base, const char *suffix, int dtype,
				     const int64_t *dims, struct onnxpass_tensor *src)
{
	const char *name = onnxpass_graph_fresh_name(g, base, suffix);
	struct onnxpass_tensor *t;

	if (!name || add_init(g, name, dtype, 2, dims, &t) || onnxpass_tensor_share_storage(t, src))
		return NULL;
	return t;
}

/* 4-bit asymmetric blocks along the hidden axis for com.microsoft
 * GatherBlockQuantized (UINT4 data and zero points, quantize_axis 1),
 * computed as MatMulNBits' blocks of the table read transposed: the same
 * numbers, bytes, scales and (for an even number of blocks a row) zero
 * points.  So where a tied lm_head reads the table through a Transpose
 * and quantizes with the same blocks, both nodes read one stored table. */
static int gather_block4(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n,
			 struct onnxpass_tensor *t)
{
	int64_t V = onnxpass_tensor_dim(t, 0), H = onnxpass_tensor_dim(t, 1), bs = s->c.gblock;
	int64_t nb = H / bs, dims[2] = { V, H }, sdims[2] = { V, nb };
	const char *tname = onnxpass_tensor_name(t), *o = onnxpass_value_name(onnxpass_node_output_value(n, 0));
	struct onnxpass_node *lm = tied_lm_head(s, g, t);
	bool fits = lm && s->c.bits == 4 && s->c.block == bs && !s->c.sym, share;
	struct onnxpass_tensor *mq, *ms, *mz, *tq, *ts, *tz;
	const char *nm;
	struct made *m;
	int rc;

	if (H % bs) {
		onnxpass_log(s->ctx, ONNXPASS_LOG_WARN,
			     "Gather '%s': hidden size %lld is not a multiple of block %lld; left as is",
			     onnxpass_node_name(n), (long long)H, (long long)bs);
		return 0;
	}
	if (!(m = nbits_table(s, g, t, true, 4, bs, false)) ||
	    !(nm = onnxpass_graph_fresh_name(g, onnxpass_node_name(n), "_Q4")))
		return ONNXPASS_ENOMEM;
	/* the lm_head reads (or, quantized before this Gather, read) these blocks */
	share = (fits || m->matmul) && onnxpass_params_bool(s->c.p, "share_tables");
	mq = onnxpass_value_initializer(onnxpass_graph_value(g, m->q));
	ms = onnxpass_value_initializer(onnxpass_graph_value(g, m->scales));
	mz = onnxpass_value_initializer(onnxpass_graph_value(g, m->zp));
	if (!(tq = alias(g, tname, "_Q4", ONNXPASS_DT_UINT4, dims, mq)) ||
	    !(ts = alias(g, tname, "_scales", ONNXPASS_DT_FLOAT, sdims, ms)))
		return ONNXPASS_ENOMEM;
	if (nb % 2 == 0) {
		if (!(tz = alias(g, tname, "_zero_points", ONNXPASS_DT_UINT4, sdims, mz)))
			return ONNXPASS_ENOMEM;
	} else {	/* MatMulNBits pads each row's zero points to a byte */
		const char *zn = onnxpass_graph_fresh_name(g, tname, "_zero_points");
		const uint8_t *src = onnxpass_tensor_data(mz);
		uint8_t *dst;

		if (!zn || !src || (rc = add_init(g, zn, ONNXPASS_DT_UINT4, 2, sdims, &tz)) ||
		    !(dst = onnxpass_tensor_mutable_data(tz)))
			return ONNXPASS_ENOMEM;
		for (int64_t v = 0; v < V; v++)
			for (int64_t b = 0; b < nb; b++) {
				int64_t idx = v * nb + b;
				uint8_t z = (uint8_t)((src[v * ((nb + 1) / 2) + b / 2] >> ((b & 1) * 4)) & 0xf);

				dst[idx / 2] |= (uint8_t)(z << ((idx & 1) * 4));
			}
		s->bytes_after += (int64_t)onnxpass_tensor_nbytes(tz);
	}
	if (share) {
		onnxpass_tensor_set_storage(mq, ONNXPASS_STORE_SHARED);
		onnxpass_tensor_set_storage(tq, ONNXPASS_STORE_SHARED);
		onnxpass_tensor_set_storage(ms, ONNXPASS_STORE_SHARED);
		onnxpass_tensor_set_storage(ts, ONNXPASS_STORE_SHARED);
		if (nb % 2 == 0) {
			onnxpass_tensor_set_storage(mz, ONNXPASS_STORE_SHARED);
			onnxpass_tensor_set_storage(tz, ONNXPASS_STORE_SHARED);
		}
		onnxpass_log(s->ctx, ONNXPASS_LOG_INFO,
			     "'%s': the embedding's GatherBlockQuantized and the tied lm_head's MatMulNBits ('%s') "
			     "read one 4-bit table (%zu bytes of blocks and scales stored once)",
			     tname, lm ? onnxpass_node_name(lm) : m->q,
			     onnxpass_tensor_nbytes(mq) + onnxpass_tensor_nbytes(ms));
		s->shared_tables++;
	} else if (lm && !fits && !m->matmul) {
		onnxpass_log(s->ctx, ONNXPASS_LOG_INFO,
			     "'%s': the tied lm_head ('%s', %d-bit%s blocks of %lld) and the embedding (4-bit "
			     "asymmetric blocks of %lld) cannot share one table: quantized twice",
			     tname, onnxpass_node_name(lm), s->c.bits, s->c.sym ? " symmetric" : "",
			     (long long)s->c.block, (long long)bs);
	}
	{
		const char *in[4] = { onnxpass_tensor_name(tq), onnxpass_value_name(onnxpass_node_input_value(n, 1)),
				      onnxpass_tensor_name(ts), onnxpass_tensor_name(tz) };
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
	if (strcmp(s->c.gather, "uint8"))
		return gather_block4(s, g, n, t);
	if (tied_lm_head(s, g, t))
		onnxpass_log(s->ctx, ONNXPASS_LOG_INFO,
			     "'%s': the tied lm_head's MatMulNBits blocks and a uint8 per-tensor embedding cannot "
			     "share one table: quantized twice (gather = block4 stores it once)",
			     onnxpass_tensor_name(t));
	return gather_uint8(s, g, n, t);
}
