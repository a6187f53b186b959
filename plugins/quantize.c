/* SPDX-License-Identifier: MIT */
/* quantize: weight-only quantization laid out exactly as ONNX Runtime's
 * quantizer writes it.
 *
 *   MatMul(A, B const [K,N] f32)  ->  com.microsoft MatMulNBits(A, B_Q, scales[, zp])
 *   Gather(T const [V,H] f32, ids) -> Gather(T_quantized u8, ids) -> DequantizeLinear
 *                                  or com.microsoft GatherBlockQuantized (4-bit)
 *
 * Layouts (see ORT's MLAS BlockwiseQuantizer, columnwise): B is stored
 * transposed, [N][k_blocks][block*bits/8], element k of a column in the
 * low nibble when k is even; scales [N*k_blocks]; asymmetric zero points
 * packed two blocks per byte (4-bit) or one per byte (8-bit).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

/* elements read before their mapped pages are let go */
#define CHUNK ((int64_t)1 << 21)

struct cfg {
	const struct onnxpass_params *p;
	int bits;
	int64_t block;
	bool sym;
	int64_t accuracy;
	const char *gather;	/* none, uint8, block4 */
	bool dynamic;	/* mode = dynamic-int8 */
	int64_t gblock;
};

/* ------------------------------------------------------------------ */
/* Node selection                                                      */

static bool wanted(const struct cfg *c, const char *name)
{
	size_t ni = onnxpass_params_list_count(c->p, "include");
	size_t ne = onnxpass_params_list_count(c->p, "exclude");
	bool in = ni == 0;

	for (size_t i = 0; i < ni && !in; i++)
		in = onnxpass_glob_match(onnxpass_params_list_item(c->p, "include", i), name);
	for (size_t i = 0; i < ne && in; i++)
		in = !onnxpass_glob_match(onnxpass_params_list_item(c->p, "exclude", i), name);
	return in;
}

/* The float initializer input i of n reads (this graph or an enclosing
 * one), unless a caller may override it as a graph input. */
static struct onnxpass_tensor *const_input(struct onnxpass_node *n, size_t i, size_t rank)
{
	struct onnxpass_value *v = onnxpass_node_input_value(n, i);
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

	if (!t || onnxpass_value_is_graph_input(v))
		return NULL;
	if (onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT || onnxpass_tensor_rank(t) != rank)
		return NULL;
	return t;
}

/* ------------------------------------------------------------------ */
/* MatMulNBits blockwise quantization                                  */

struct nbits {
	struct onnxpass_tensor *src;	/* B, whose rows are released once done */
	bool src_mapped;	/* w is src's own bytes (not an aligned copy) */
	const float *w;	/* [K, N] row-major, or [N, K] when tr */
	bool tr;	/* B is the transpose of the stored tensor (a tied lm_head) */
	int64_t K, N, block, k_blocks, col_bytes;
	int bits;
	bool sym;
	uint8_t *q;	/* [N][col_bytes] */
	float *scales;	/* [N * k_blocks] */
	uint8_t *zp;	/* asymmetric only */
	bool oom;
};

/* Columns quantized together: their rows of a block fit in L1/L2, and
 * each column's bytes are written contiguously. */
#define NB_TILE 64

/* B[k][n0 .. n0+t) for k in [k0, k1) into tile[(k - k0) * NB_TILE + c]. */
static void load_tile(const struct nbits *j, int64_t k0, int64_t k1, int64_t n0, int64_t t, float *tile)
{
	if (!j->tr) {
		for (int64_t k = k0; k < k1; k++)
			memcpy(tile + (k - k0) * NB_TILE, j->w + k * j->N + n0, (size_t)t * sizeof(float));
		return;
	}
	for (int64_t c = 0; c < t; c++) {	/* stored [N, K]: a column is contiguous */
		const float *col = j->w + (n0 + c) * j->K;

		for (int64_t k = k0; k < k1; k++)
			tile[(k - k0) * NB_TILE + c] = col[k];
	}
}

/* roundf(v) (halves away from zero) clamped to [0, qmax], without a
 * call to libm: clamping first gives the same number, and v - (int)v is
 * exact for v in [0, 2^23).  NaN becomes 0. */
static inline uint8_t round_clamp(float v, float qmax)
{
	int i;

	v = v >= 0.0f ? (v <= qmax ? v : qmax) : 0.0f;
	i = (int)v;
	return (uint8_t)(i + (v - (float)i >= 0.5f));
}

/* Columns [n0, n0 + t) of k-blocks 2*pair and 2*pair+1 (the two whose
 * 4-bit zero points share a byte, so one caller writes both). */
static void quantize_tile(struct nbits *j, int64_t pair, int64_t n0, int64_t t, float *tile)
{
	int64_t qmax = (1 << j->bits) - 1, mid = 1 << (j->bits - 1);
	float mn[NB_TILE], mx[NB_TILE];
	uint8_t zpv[NB_TILE * 2];

	memset(zpv, (int)mid, sizeof(zpv));
	for (int half = 0; half < 2; half++) {
		int64_t b = pair * 2 + half, k0 = b * j->block, k1;

		if (b >= j->k_blocks)
			break;
		k1 = k0 + j->block < j->K ? k0 + j->block : j->K;
		load_tile(j, k0, k1, n0, t, tile);
		for (int64_t c = 0; c < t; c++) {
			mn[c] = 3.402823466e38f;
			mx[c] = -3.402823466e38f;
		}
		for (int64_t k = 0; k < k1 - k0; k++) {
			const float *row = tile + k * NB_TILE;

			for (int64_t c = 0; c < t; c++) {
				if (row[c] < mn[c])
					mn[c] = row[c];
				if (row[c] > mx[c])
					mx[c] = row[c];
			}
		}
		for (int64_t c = 0; c < t; c++) {
			int64_t n = n0 + c;
			float scale, r, z;
			uint8_t zq = (uint8_t)mid, *dst = j->q + n * j->col_bytes;

			if (j->sym) {
				float m = fabsf(mx[c]) > fabsf(mn[c]) ? mx[c] : mn[c];

				scale = m / (float)(-mid);
			} else {
				float lo = mn[c] < 0.0f ? mn[c] : 0.0f, hi = mx[c] > 0.0f ? mx[c] : 0.0f;
				float zf;

				scale = (hi - lo) / (float)qmax;
				zf = scale != 0.0f ? 0.0f - lo / scale : lo;
				zq = zf < 0.0f ? 0 : zf > (float)qmax ? (uint8_t)qmax : (uint8_t)roundf(zf);
			}
			j->scales[n * j->k_blocks + b] = scale;
			zpv[c * 2 + half] = zq;
			r = scale != 0.0f ? 1.0f / scale : 0.0f;
			z = (float)zq;
			for (int64_t k = k0; k < k1; k++) {
				uint8_t qv = round_clamp(tile[(k - k0) * NB_TILE + c] * r + z, (float)qmax);

				if (j->bits == 8)
					dst[k] = qv;
				else if (k % 2 == 0)	/* an odd K leaves the last high nibble at the zero point */
					dst[k / 2] = (uint8_t)((qv & 0xf) | (k + 1 < j->K ? 0 : zq << 4));
				else
					dst[k / 2] = (uint8_t)((dst[k / 2] & 0xf) | (qv << 4));
			}
		}
	}
	if (!j->sym) {
		int64_t per_col = j->bits == 4 ? (j->k_blocks + 1) / 2 : j->k_blocks;

		for (int64_t c = 0; c < t; c++) {
			int64_t n = n0 + c;

			if (j->bits == 4) {
				j->zp[n * per_col + pair] = (uint8_t)((zpv[c * 2] & 0xf) | (zpv[c * 2 + 1] << 4));
			} else {
				j->zp[n * per_col + pair * 2] = zpv[c * 2];
				if (pair * 2 + 1 < j->k_blocks)
					j->zp[n * per_col + pair * 2 + 1] = zpv[c * 2 + 1];
			}
		}
	}
}

/* B stored [K, N]: one work item is a pair of k-blocks (rows of B, which
 * may leave memory once done), every column. */
static void nbits_rows(void *arg, size_t item)
{
	struct nbits *j = arg;
	float *tile = malloc((size_t)j->block * NB_TILE * sizeof(float));

	if (!tile) {
		j->oom = true;
		return;
	}
	for (int64_t n0 = 0; n0 < j->N; n0 += NB_TILE)
		quantize_tile(j, (int64_t)item, n0, j->N - n0 < NB_TILE ? j->N - n0 : NB_TILE, tile);
	if (j->src_mapped) {	/* these rows are done: let their pages go */
		int64_t k0 = (int64_t)item * 2 * j->block, k1 = k0 + 2 * j->block;

		k1 = k1 < j->K ? k1 : j->K;
		onnxpass_tensor_drop_range(j->src, (size_t)(k0 * j->N * 4), (size_t)((k1 - k0) * j->N * 4));
	}
	free(tile);
}

/* B read transposed (a tied lm_head over the [N, K] embedding): one work
 * item is a tile of columns, every k-block (the tile's rows of the table
 * are contiguous, and leave memory once done). */
static void nbits_cols(void *arg, size_t item)
{
	struct nbits *j = arg;
	int64_t n0 = (int64_t)item * NB_TILE, t = j->N - n0 < NB_TILE ? j->N - n0 : NB_TILE;
	float *tile = malloc((size_t)j->block * NB_TILE * sizeof(float));

	if (!tile) {
		j->oom = true;
		return;
	}
	for (int64_t pair = 0; pair < (j->k_blocks + 1) / 2; pair++)
		quantize_tile(j, pair, n0, t, tile);
	if (j->src_mapped)
		onnxpass_tensor_drop_range(j->src, (size_t)(n0 * j->K * 4), (size_t)(t * j->K * 4));
	free(tile);
}

struct made {
	struct onnxpass_graph *g;	/* where the quantized tensors live */
	char *src;	/* B's name (a copy: B may be removed) */
	bool tr;	/* B = transpose of src */
	const char *q, *scales, *zp;	/* model-owned names */
	int64_t K, N;
};

struct dql {	/* one DynamicQuantizeLinear per activation and graph */
	struct onnxpass_graph *g;
	const char *a, *q, *scale, *zp;	/* a value's and model-owned names */
};

struct state {
	struct onnxpass_ctx *ctx;
	struct cfg c;
	struct made *made;
	size_t n_made;
	struct dql *dqls;
	size_t n_dqls;
	int64_t matmuls, gathers, skipped, bytes_before, bytes_after;
	bool contrib, need_opset21;
	int depth;	/* of the graph being quantized: 0 = a model's main graph */
	uint64_t done, total;	/* main-graph nodes, for the progress line */
};

/* A weight the pass made leaves memory for the run's scratch file (read
 * back when saved): resident memory stays near one weight. */
static int spill(struct state *s, struct onnxpass_tensor *t)
{
	return onnxpass_tensor_nbytes(t) >= (64 << 10) ? onnxpass_ctx_spill(s->ctx, t) : 0;
}

static int add_init(struct onnxpass_graph *g, const char *name, int dtype, size_t rank,
		    const int64_t *dims, struct onnxpass_tensor **out)
{
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, dtype, rank, dims);

	if (!t)
		return ONNXPASS_ENOMEM;
	if (onnxpass_graph_add_initializer(g, t)) {
		onnxpass_tensor_free(t);
		return ONNXPASS_EINVAL;
	}
	*out = t;
	return 0;
}

/* Appends m to the weights quantized so far (its copy of B's name freed
 * on failure). */
static struct made *keep_made(struct state *s, struct made *m)
{
	struct made *arr = realloc(s->made, (s->n_made + 1) * sizeof(*arr));

	if (!arr) {
		free(m->src);
		return NULL;
	}
	s->made = arr;
	arr[s->n_made] = *m;
	return &arr[s->n_made++];
}

/* Quantizes B once per graph (several MatMuls may share it), into the
 * graph of the MatMul, so no new name crosses a subgraph boundary. */
static struct made *quantize_b(struct state *s, struct onnxpass_graph *g,
			       struct onnxpass_tensor *b, bool tr)
{
	const char *bname = onnxpass_tensor_name(b);
	struct cfg *c = &s->c;
	struct nbits j = { 0 };
	struct onnxpass_tensor *tq, *ts, *tz = NULL;
	struct made m = { 0 };
	char suffix[8];
	int64_t dims[3];

	for (size_t i = 0; i < s->n_made; i++)
		if (s->made[i].g == g && s->made[i].tr == tr && !strcmp(s->made[i].src, bname))
			return &s->made[i];
	j.w = onnxpass_tensor_data_aligned(b);
	if (!j.w)
		return NULL;
	j.src = b;
	j.src_mapped = (const void *)j.w == onnxpass_tensor_data(b);
	j.tr = tr;
	j.K = onnxpass_tensor_dim(b, tr ? 1 : 0);
	j.N = onnxpass_tensor_dim(b, tr ? 0 : 1);
	j.bits = c->bits;
	j.block = c->block;
	j.sym = c->sym;
	j.k_blocks = (j.K + j.block - 1) / j.block;
	j.col_bytes = j.k_blocks * j.block * j.bits / 8;
	snprintf(suffix, sizeof(suffix), "_Q%d", c->bits);
	m.g = g;
	m.tr = tr;
	m.src = strdup(bname);
	m.q = onnxpass_graph_fresh_name(g, bname, suffix);
	m.scales = onnxpass_graph_fresh_name(g, bname, "_scales");
	m.zp = c->sym ? NULL : onnxpass_graph_fresh_name(g, bname, "_zero_points");
	m.K = j.K;
	m.N = j.N;
	dims[0] = j.N;
	dims[1] = j.k_blocks;
	dims[2] = j.block * j.bits / 8;
	if (!m.src || !m.q || !m.scales || (!c->sym && !m.zp) ||
	    add_init(g, m.q, ONNXPASS_DT_UINT8, 3, dims, &tq))
		goto fail;
	dims[0] = j.N * j.k_blocks;
	if (add_init(g, m.scales, ONNXPASS_DT_FLOAT, 1, dims, &ts))
		goto fail;
	if (!c->sym) {
		dims[0] = j.N * (c->bits == 4 ? (j.k_blocks + 1) / 2 : j.k_blocks);
		if (add_init(g, m.zp, ONNXPASS_DT_UINT8, 1, dims, &tz))
			goto fail;
		j.zp = onnxpass_tensor_mutable_data(tz);
	}
	j.q = onnxpass_tensor_mutable_data(tq);
	j.scales = onnxpass_tensor_mutable_data(ts);
	if (!j.q || !j.scales || (!c->sym && !j.zp))
		goto fail;
	if (tr)
		onnxpass_parallel_for(s->ctx, (size_t)((j.N + NB_TILE - 1) / NB_TILE), nbits_cols, &j);
	else
		onnxpass_parallel_for(s->ctx, (size_t)(j.k_blocks + 1) / 2, nbits_rows, &j);
	onnxpass_tensor_drop_pages(b);
	if (j.oom || spill(s, tq) || spill(s, ts) || (tz && spill(s, tz)))
		goto fail;
	s->bytes_before += (int64_t)onnxpass_tensor_nbytes(b);
	s->bytes_after += (int64_t)(onnxpass_tensor_nbytes(tq) + onnxpass_tensor_nbytes(ts) +
				    (tz ? onnxpass_tensor_nbytes(tz) : 0));
	return keep_made(s, &m);
fail:
	free(m.src);
	return NULL;
}

/* The 2-D Transpose producing n's B (a tied lm_head reads the embedding
 * table so), or NULL. */
static struct onnxpass_node *transposed(struct onnxpass_node *n)
{
	struct onnxpass_value *v = onnxpass_node_input_value(n, 1);
	struct onnxpass_node *t = v ? onnxpass_value_producer(v, NULL) : NULL;
	const int64_t *perm;
	size_t np = 0;

	if (!t || !onnxpass_node_is(t, NULL, "Transpose") || onnxpass_value_is_graph_output(v))
		return NULL;
	if (!onnxpass_node_attr_ints(t, "perm", &perm, &np) && (np != 2 || perm[0] != 1 || perm[1] != 0))
		return NULL;
	return t;
}

static int matmul_to_nbits(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_tensor *b = const_input(n, 1, 2);
	struct onnxpass_node *t = NULL, *q;
	struct made *m;
	const char *in[4], *name;
	const char *out = onnxpass_value_name(onnxpass_node_output_value(n, 0));

	if (!b && (t = transposed(n))) {
		b = const_input(t, 0, 2);
		if (!b)
			t = NULL;
	}
	if (!b || onnxpass_node_input_count(n) != 2) {
		onnxpass_log(s->ctx, ONNXPASS_LOG_DEBUG,
			     "MatMul '%s': B is not a constant 2-D float initializer (or its transpose)",
			     onnxpass_node_name(n));
		return 0;
	}
	m = quantize_b(s, g, b, t != NULL);
	if (!m)
		return onnxpass_ctx_fail(s->ctx, ONNXPASS_ENOMEM, "cannot quantize '%s'",
					 onnxpass_tensor_name(b));
	in[0] = onnxpass_node_input(n, 0);
	in[1] = m->q;
	in[2] = m->scales;
	in[3] = m->zp;
	if (!(name = onnxpass_graph_fresh_name(g, onnxpass_node_name(n), s->c.bits == 4 ? "_Q4" : "_Q8")))
		return ONNXPASS_ENOMEM;
	onnxpass_graph_remove_node(g, n);
	q = onnxpass_graph_add_node(g, "MatMulNBits", ONNXPASS_DOMAIN_MS, name, in, m->zp ? 4 : 3, &out, 1);
	if (!q)
		return onnxpass_ctx_fail(s->ctx, ONNXPASS_ENOMEM, "cannot add MatMulNBits");
	onnxpass_node_set_attr_int(q, "K", m->K);
	onnxpass_node_set_attr_int(q, "N", m->N);
	onnxpass_node_set_attr_int(q, "bits", s->c.bits);
	onnxpass_node_set_attr_int(q, "block_size", s->c.block);
	if (s->c.accuracy > 0)
		onnxpass_node_set_attr_int(q, "accuracy_level", s->c.accuracy);
	s->matmuls++;
	s->contrib = true;
	return 1;
}


/* ------------------------------------------------------------------ */
/* Dynamic int8: DynamicQuantizeLinear + MatMulInteger                 */
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

static int matmul_to_integer(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n)
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

/* ------------------------------------------------------------------ */
/* Embedding tables                                                    */

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

static int gather_node(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n)
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

/* ------------------------------------------------------------------ */

static int quantize_graph(struct state *s, struct onnxpass_graph *g)
{
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++) {
		struct onnxpass_node *n = nodes[i];

		if (!s->depth)
			onnxpass_ctx_progress(s->ctx, ++s->done, s->total);
		s->depth++;
		for (size_t k = 0; k < onnxpass_node_subgraph_count(n) && rc >= 0; k++) {
			rc = quantize_graph(s, onnxpass_node_subgraph(n, k));
			changes += rc > 0 ? rc : 0;
		}
		s->depth--;
		if (rc < 0 || onnxpass_node_is_removed(n) || !wanted(&s->c, onnxpass_node_name(n)))
			continue;
		if (onnxpass_node_is(n, NULL, "MatMul") && s->c.dynamic)
			rc = matmul_to_integer(s, g, n);
		else if (onnxpass_node_is(n, NULL, "MatMul") && onnxpass_params_bool(s->c.p, "matmul"))
			rc = matmul_to_nbits(s, g, n);
		else if (onnxpass_node_is(n, NULL, "Gather") && strcmp(s->c.gather, "none"))
			rc = gather_node(s, g, n);
		else
			continue;
		/* the nodes just added (a replacement, a DequantizeLinear after
		 * a Gather, the dynamic int8 chain) are appended; saving places
		 * them before their first reader */
		if (rc > 0)
			changes += rc;
	}
	free(nodes);
	if (rc < 0)
		return rc;
	/* Transposes of weights whose MatMul now reads the quantized table */
	for (size_t i = onnxpass_graph_node_count(g); i-- > 0;) {
		struct onnxpass_node *t = onnxpass_graph_node(g, i);
		struct onnxpass_value *o = onnxpass_node_output_value(t, 0);

		if (onnxpass_node_is(t, NULL, "Transpose") && o && !onnxpass_value_use_count(o) &&
		    !onnxpass_value_is_graph_output(o) &&
		    onnxpass_value_initializer(onnxpass_node_input_value(t, 0)))
			onnxpass_graph_remove_node(g, t);
	}
	/* weights nothing reads any more */
	for (size_t i = onnxpass_graph_initializer_count(g); i-- > 0;) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));

		if (v && !onnxpass_value_use_count(v) && !onnxpass_value_is_graph_output(v) &&
		    onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT)
			onnxpass_graph_remove_initializer(g, onnxpass_value_name(v));
	}
	return changes;
}

/* mode = fp16: the library's float16 conversion on every model. */
static int to_fp16(struct onnxpass_ctx *ctx, const struct onnxpass_params *params)
{
	size_t nb = onnxpass_params_list_count(params, "block_ops"), ne = onnxpass_params_list_count(params, "exclude");
	const char **lists = calloc(nb + ne + 1, sizeof(*lists));
	const char *range = onnxpass_params_string(params, "out_of_range");
	struct onnxpass_fp16_options o = {
		.struct_size = sizeof(o),
		.keep_io_types = onnxpass_params_bool(params, "keep_io_types"),
		.out_of_range = !strcmp(range, "clamp") ? ONNXPASS_FP16_CLAMP :
				!strcmp(range, "error") ? ONNXPASS_FP16_ERROR : ONNXPASS_FP16_KEEP,
		.block_ops = lists, .n_block_ops = nb, .exclude = lists + nb, .n_exclude = ne,
	};
	struct onnxpass_fp16_stats st = { 0 };
	int rc = 0;

	if (!lists)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < nb; i++)
		lists[i] = onnxpass_params_list_item(params, "block_ops", i);
	for (size_t i = 0; i < ne; i++)
		lists[nb + i] = onnxpass_params_list_item(params, "exclude", i);
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx) && !rc; i++)
		rc = onnxpass_model_to_fp16(onnxpass_ctx_model(ctx, i), ctx, &o, &st);
	free(lists);
	onnxpass_ctx_report_int(ctx, "fp16_nodes", st.converted);
	onnxpass_ctx_report_int(ctx, "fp32_nodes", st.kept);
	onnxpass_ctx_report_int(ctx, "casts", st.casts);
	onnxpass_ctx_report_int(ctx, "tensors_converted", st.tensors);
	onnxpass_ctx_report_int(ctx, "out_of_range_tensors", st.out_of_range);
	onnxpass_ctx_report_int(ctx, "underflow_values", st.underflow);
	if (rc < 0)
		return rc;
	onnxpass_log(ctx, ONNXPASS_LOG_INFO,
		     "%lld nodes in float16, %lld kept float32, %lld Casts, %lld tensors converted; "
		     "%lld out of range, %lld values flushed to zero",
		     (long long)st.converted, (long long)st.kept, (long long)st.casts, (long long)st.tensors,
		     (long long)st.out_of_range, (long long)st.underflow);
	return (int)(st.converted + st.tensors);
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct state s = { .ctx = ctx };
	int total = 0;

	(void)bundle;
	if (!strcmp(onnxpass_params_string(params, "mode"), "fp16"))
		return to_fp16(ctx, params);
	s.c.p = params;
	s.c.bits = (int)onnxpass_params_int(params, "bits");
	s.c.block = onnxpass_params_int(params, "block_size");
	s.c.sym = onnxpass_params_bool(params, "symmetric");
	s.c.accuracy = onnxpass_params_int(params, "accuracy_level");
	s.c.gather = onnxpass_params_string(params, "gather");
	s.c.gblock = onnxpass_params_int(params, "gather_block_size");
	s.c.dynamic = !strcmp(onnxpass_params_string(params, "mode"), "dynamic-int8");
	if (!s.c.gblock)
		s.c.gblock = s.c.block;
	if (s.c.bits != 4 && s.c.bits != 8)
		return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "bits must be 4 or 8, not %d", s.c.bits);
	if (s.c.block & (s.c.block - 1) || s.c.gblock & (s.c.gblock - 1))
		return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
					 "block sizes must be powers of two (block_size %lld, gather_block_size %lld)",
					 (long long)s.c.block, (long long)s.c.gblock);
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++)
		s.total += onnxpass_graph_node_count(onnxpass_model_graph(onnxpass_ctx_model(ctx, i)));
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++) {
		struct onnxpass_model *m = onnxpass_ctx_model(ctx, i);
		int rc;

		s.contrib = s.need_opset21 = false;
		rc = quantize_graph(&s, onnxpass_model_graph(m));
		if (rc < 0) {
			total = rc;
			break;
		}
		total += rc;
		if (s.contrib && onnxpass_model_opset(m, ONNXPASS_DOMAIN_MS) < 1)
			onnxpass_model_set_opset(m, ONNXPASS_DOMAIN_MS, 1);
		if (s.need_opset21) {
			/* UINT4 tensors: IR 10 and opset 21, as ORT's quantizer sets */
			char why[512];

			if (onnxpass_model_raise_opset(m, 21, why, sizeof(why))) {
				total = onnxpass_ctx_fail(ctx, ONNXPASS_EUNSUPPORTED, "%s: 4-bit tensors need opset 21: %s",
							  onnxpass_model_path(m) ? onnxpass_model_path(m) : "model", why);
				break;
			}
			if (onnxpass_model_ir_version(m) < 10)
				onnxpass_model_set_ir_version(m, 10);
		}
	}
	free(s.dqls);
	for (size_t i = 0; i < s.n_made; i++)
		free(s.made[i].src);
	free(s.made);
	onnxpass_ctx_report_int(ctx, s.c.dynamic ? "matmul_integer" : "matmul_nbits", s.matmuls);
	onnxpass_ctx_report_int(ctx, "gathers", s.gathers);
	onnxpass_ctx_report_int(ctx, "weight_bytes_before", s.bytes_before);
	onnxpass_ctx_report_int(ctx, "weight_bytes_after", s.bytes_after);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%lld MatMul -> %s, %lld Gather tables; %lld -> %lld bytes of weights",
		     (long long)s.matmuls, s.c.dynamic ? "MatMulInteger (dynamic int8)" : "MatMulNBits",
		     (long long)s.gathers, (long long)s.bytes_before, (long long)s.bytes_after);
	return total;
}

static const struct onnxpass_param params[] = {
	{ "mode", ONNXPASS_PARAM_ENUM, "weights",
	  "weights: MatMulNBits/embedding blocks; dynamic-int8: DynamicQuantizeLinear + MatMulInteger; "
	  "fp16: weights and compute in float16",
	  0, 0, "weights|dynamic-int8|fp16", false },
	{ "keep_io_types", ONNXPASS_PARAM_BOOL, "true",
	  "fp16: graph inputs and outputs stay float32 (Casts at the edges)", 0, 0, NULL, false },
	{ "block_ops", ONNXPASS_PARAM_LIST, NULL,
	  "fp16: op types kept in float32, besides the built-in list (--describe shows it)", 0, 0,
	  NULL, false },
	{ "out_of_range", ONNXPASS_PARAM_ENUM, "keep",
	  "fp16: a weight beyond +-65504 is kept float32 (with its readers), clamped, or an error",
	  0, 0, "keep|clamp|error", false },
	{ "weight_type", ONNXPASS_PARAM_ENUM, "qint8", "dynamic-int8 weights: qint8 (symmetric) or quint8",
	  0, 0, "qint8|quint8", false },
	{ "per_channel", ONNXPASS_PARAM_BOOL, "false", "dynamic-int8: a scale per column of B", 0, 0,
	  NULL, false },
	{ "reduce_range", ONNXPASS_PARAM_BOOL, "false", "dynamic-int8: 7-bit weights (AVX2 saturation)",
	  0, 0, NULL, false },
	{ "matmul", ONNXPASS_PARAM_BOOL, "true",
	  "MatMul with a constant 2-D float B -> com.microsoft MatMulNBits", 0, 0, NULL, false },
	{ "bits", ONNXPASS_PARAM_INT, "4", "bits per weight: 4 or 8", 4, 8, "4|8", false },
	{ "block_size", ONNXPASS_PARAM_INT, "128", "weights per block (power of two)", 16, 256,
	  "16|32|64|128|256", false },
	{ "symmetric", ONNXPASS_PARAM_BOOL, "false", "no zero points (implicit 8 or 128)", 0, 0, NULL,
	  false },
	{ "accuracy_level", ONNXPASS_PARAM_INT, "0",
	  "MatMulNBits accuracy_level (0: unset, 4: int8 compute for A)", 0, 4, NULL, false },
	{ "gather", ONNXPASS_PARAM_ENUM, "none",
	  "embedding Gather: none, uint8 (per tensor + DequantizeLinear), block4 (GatherBlockQuantized)",
	  0, 0, "none|uint8|block4", false },
	{ "gather_block_size", ONNXPASS_PARAM_INT, "0",
	  "block along the hidden axis for block4 (0: block_size)", 0, 256, "0|16|32|64|128|256",
	  false },
	{ "include", ONNXPASS_PARAM_LIST, NULL, "only nodes whose name matches one of these globs", 0,
	  0, NULL, false },
	{ "exclude", ONNXPASS_PARAM_LIST, NULL, "skip nodes whose name matches one of these globs", 0,
	  0, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "quantize",
	.version = "1.0",
	.summary = "int4/int8 MatMulNBits, uint8 or 4-bit block embeddings, dynamic int8, or fp16",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"MatMul nodes whose B is a constant 2-D float initializer become\n"
		"com.microsoft MatMulNBits with round-to-nearest block quantization, bit-exact\n"
		"with ONNX Runtime's MatMulNBitsQuantizer (DEFAULT algorithm).  Embedding\n"
		"Gathers (constant [V,H] float table, axis 0) become a uint8 table with one\n"
		"scale and zero point plus DequantizeLinear (gather = uint8, like\n"
		"quantize_dynamic), or com.microsoft GatherBlockQuantized with UINT4 blocks\n"
		"along H (gather = block4; raises the model to opset 21 and IR 10).  With\n"
		"mode = dynamic-int8, MatMuls become DynamicQuantizeLinear + MatMulInteger\n"
		"(weight_type, per_channel, reduce_range) as ORT's quantize_dynamic writes them.\n"
		"With mode = fp16, float weights and compute become float16; graph inputs and\n"
		"outputs stay float32 behind Casts (keep_io_types).  Kept in float32: ops of\n"
		"other domains than the default and com.microsoft, EyeLike, Random*,\n"
		"Bernoulli, Multinomial, TopK, CumSum, Range, NonMaxSuppression, RoiAlign,\n"
		"Resize, Upsample, the (dynamic) quantization ops, STFT/DFT and the window\n"
		"generators, nodes with subgraphs, nodes matching exclude, and any op in\n"
		"block_ops.  Every weight beyond float16's range is reported by name.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
