/* SPDX-License-Identifier: MIT */
/* quantize, MatMulNBits: MatMul(A, B const [K,N] f32) -> com.microsoft
 * MatMulNBits(A, B_Q, scales[, zp]), blockwise round-to-nearest, bit-exact
 * with ONNX Runtime's MatMulNBitsQuantizer.
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

#include "quantize.h"

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

/* Quantizes B once per graph and layout (several MatMuls, and an
 * embedding's GatherBlockQuantized, may share it), into the graph of the
 * reader, so no new name crosses a subgraph boundary. */
struct made *nbits_table(struct state *s, struct onnxpass_graph *g, struct onnxpass_tensor *b, bool tr,
			 int bits, int64_t block, bool sym)
{
	const char *bname = onnxpass_tensor_name(b);
	struct nbits j = { 0 };
	struct onnxpass_tensor *tq, *ts, *tz = NULL;
	struct made m = { 0 };
	char suffix[8];
	int64_t dims[3];

	for (size_t i = 0; i < s->n_made; i++) {
		struct made *x = &s->made[i];

		if (x->g == g && x->tr == tr && x->bits == bits && x->block == block && x->sym == sym &&
		    !strcmp(x->src, bname))
			return x;
	}
	j.w = onnxpass_tensor_data_aligned(b);
	if (!j.w)
		return NULL;
	j.src = b;
	j.src_mapped = (const void *)j.w == onnxpass_tensor_data(b);
	j.tr = tr;
	j.K = onnxpass_tensor_dim(b, tr ? 1 : 0);
	j.N = onnxpass_tensor_dim(b, tr ? 0 : 1);
	j.bits = bits;
	j.block = block;
	j.sym = sym;
	j.k_blocks = (j.K + j.block - 1) / j.block;
	j.col_bytes = j.k_blocks * j.block * j.bits / 8;
	snprintf(suffix, sizeof(suffix), "_Q%d", bits);
	m.g = g;
	m.tr = tr;
	m.bits = bits;
	m.block = block;
	m.sym = sym;
	m.src = strdup(bname);
	m.q = onnxpass_graph_fresh_name(g, bname, suffix);
	m.scales = onnxpass_graph_fresh_name(g, bname, "_scales");
	m.zp = sym ? NULL : onnxpass_graph_fresh_name(g, bname, "_zero_points");
	m.K = j.K;
	m.N = j.N;
	dims[0] = j.N;
	dims[1] = j.k_blocks;
	dims[2] = j.block * j.bits / 8;
	if (!m.src || !m.q || !m.scales || (!sym && !m.zp) ||
	    add_init(g, m.q, ONNXPASS_DT_UINT8, 3, dims, &tq))
		goto fail;
	dims[0] = j.N * j.k_blocks;
	if (add_init(g, m.scales, ONNXPASS_DT_FLOAT, 1, dims, &ts))
		goto fail;
	if (!sym) {
		dims[0] = j.N * (bits == 4 ? (j.k_blocks + 1) / 2 : j.k_blocks);
		if (add_init(g, m.zp, ONNXPASS_DT_UINT8, 1, dims, &tz))
			goto fail;
		j.zp = onnxpass_tensor_mutable_data(tz);
	}
	j.q = onnxpass_tensor_mutable_data(tq);
	j.scales = onnxpass_tensor_mutable_data(ts);
	if (!j.q || !j.scales || (!sym && !j.zp))
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

int matmul_to_nbits(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n)
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
	m = nbits_table(s, g, b, t != NULL, s->c.bits, s->c.block, s->c.sym);
	if (!m)
		return onnxpass_ctx_fail(s->ctx, ONNXPASS_ENOMEM, "cannot quantize '%s'",
					 onnxpass_tensor_name(b));
	m->matmul = true;
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
