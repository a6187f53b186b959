/* SPDX-License-Identifier: MIT */
/* Generates a MADLAD-shaped T5 v1.1 export in optimum's layout with random
 * weights: encoder_model.onnx, decoder_model.onnx (first step, outputs
 * every present) and decoder_with_past_model.onnx, with optimum's I/O
 * names.  The graphs are real T5: RMS norms, relative attention bias
 * (bidirectional buckets in the encoder, causal in the decoder), gated-GELU
 * feed-forward, untied lm_head, heads * d_kv != d_model, and shapes taken
 * at run time through Shape -> Gather -> Unsqueeze -> Concat as exporters
 * write them, so the restructuring passes meet what real exports hold. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <onnxpass/onnxpass.h>
#include "gen-t5.h"

struct b {
	struct onnxpass_graph *g;
	int n;	/* name counter */
	uint64_t rng;
	const struct t5_config *c;
	char prefix[64];
	/* real-size models: weights go straight to this scratch file and join
	 * the model as mapped windows of it, so generating 20 GB needs no more
	 * memory than one weight's chunk */
	FILE *scratch;
	char scratch_path[4096];
	uint64_t scratch_at;
	/* each weight drawn from a seed of its name and the model's seed, so
	 * that the files of one export share their weights whatever each
	 * file leaves out or the order its nodes are built in */
	bool seed_by_name;
	/* trained transformers carry a few input channels of much larger
	 * weights (outlier features): every outlier_every-th channel (a row
	 * of a [in, out] weight, chosen by a hash of its index) drawn
	 * outlier_gain times wider; 0: none */
	int64_t outlier_every;
	float outlier_gain;
};

static float row_gain(const struct b *b, int64_t row, int64_t cols)
{
	uint64_t h = (uint64_t)row * 0x9e3779b97f4a7c15ULL;

	if (!b->outlier_every || !cols)
		return 1.0f;
	return (h >> 40) % (uint64_t)b->outlier_every ? 1.0f : b->outlier_gain;
}

static void die(const char *what)
{
	fprintf(stderr, "gen-model t5: %s\n", what);
	exit(1);
}

static char *nm(struct b *b, const char *op)
{
	static char buf[32][96];
	static int k;
	char *s = buf[k++ % 32];

	snprintf(s, 96, "%s/%s_%d", b->prefix, op, b->n++);
	return s;
}

/* A node with n inputs; returns the output name. */
static const char *opn(struct b *b, const char *type, size_t n, const char *const *in)
{
	char *out = strdup(nm(b, type));
	const char *o = out, *r;
	struct onnxpass_node *nd = onnxpass_graph_add_node(b->g, type, NULL, out, in, n, &o, 1);

	if (!nd)
		die("cannot add node");
	r = onnxpass_node_output(nd, 0);
	free(out);
	return r;
}

/* A node with 1..3 inputs and one output; returns the output name. */
static const char *op(struct b *b, const char *type, const char *x, const char *y, const char *z)
{
	const char *in[3] = { x, y, z };

	return opn(b, type, z ? 3 : y ? 2 : 1, in);
}

static struct onnxpass_node *last(struct b *b)
{
	return onnxpass_graph_node(b->g, onnxpass_graph_node_count(b->g) - 1);
}

static const char *ints(struct b *b, size_t n, ...)
{
	int64_t v[8], d[1] = { (int64_t)n };
	va_list ap;
	char *name = strdup(nm(b, "const"));
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, ONNXPASS_DT_INT64, 1, d);
	const char *r;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		v[i] = va_arg(ap, int64_t);
	va_end(ap);
	memcpy(onnxpass_tensor_mutable_data(t), v, n * 8);
	onnxpass_graph_add_initializer(b->g, t);
	r = onnxpass_tensor_name(t);
	free(name);
	return r;
}

/* A rank-0 initializer of dtype holding the bytes at v. */
static const char *scalar(struct b *b, int dtype, const void *v, size_t size)
{
	char *name = strdup(nm(b, "const"));
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, dtype, 0, NULL);

	memcpy(onnxpass_tensor_mutable_data(t), v, size);
	onnxpass_graph_add_initializer(b->g, t);
	free(name);
	return onnxpass_tensor_name(t);
}

static const char *scalar_i(struct b *b, int64_t v)
{
	return scalar(b, ONNXPASS_DT_INT64, &v, sizeof(v));
}

static const char *scalar_f(struct b *b, float v)
{
	return scalar(b, ONNXPASS_DT_FLOAT, &v, sizeof(v));
}

static float frand(struct b *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return (float)((double)(b->rng >> 11) / 9007199254740992.0 - 0.5);
}

/* Weights of this model go to a scratch file in dir from now on. */
static void scratch_open(struct b *b, const char *dir)
{
	snprintf(b->scratch_path, sizeof(b->scratch_path), "%s/.gen-weights.tmp", dir);
	if (!(b->scratch = fopen(b->scratch_path, "w+b")))
		die("cannot create the scratch weight file");
	b->scratch_at = 0;
}

/* After the model is saved (its bytes copied out) and freed. */
static void scratch_close(struct b *b)
{
	if (b->scratch) {
		fclose(b->scratch);
		unlink(b->scratch_path);
		b->scratch = NULL;
	}
}

/* A named weight (names as the torch exporter's state dict). */
static const char *weight(struct b *b, const char *name, int64_t r, int64_t c, float scale, float base)
{
	int64_t dims[2] = { r, c }, n = r * (c ? c : 1);
	struct onnxpass_tensor *t;
	char err[512];

	if (b->seed_by_name) {
		b->rng = b->c->seed * 0x9e3779b97f4a7c15ULL + 1;
		for (const char *p = name; *p; p++)
			b->rng = (b->rng ^ (unsigned char)*p) * 0x100000001b3ULL;
		b->rng |= 1;
	}
	if (b->scratch && n >= 1024) {
		float chunk[4096];

		for (int64_t i = 0; i < n;) {
			int64_t k = n - i < 4096 ? n - i : 4096;

			for (int64_t j = 0; j < k; j++)
				chunk[j] = base + frand(b) * scale * row_gain(b, (i + j) / (c ? c : 1), c);
			if (fwrite(chunk, sizeof(float), (size_t)k, b->scratch) != (size_t)k)
				die("cannot write the scratch weight file (disk full?)");
			i += k;
		}
		if (fflush(b->scratch))
			die("cannot write the scratch weight file (disk full?)");
		t = onnxpass_tensor_map_file(name, ONNXPASS_DT_FLOAT, c ? 2 : 1, dims, b->scratch_path, b->scratch_at,
					     err, sizeof(err));
		if (!t)
			die(err);
		b->scratch_at += (uint64_t)n * sizeof(float);
	} else {
		float *p;

		t = onnxpass_tensor_new(name, ONNXPASS_DT_FLOAT, c ? 2 : 1, dims);
		if (!t || !(p = onnxpass_tensor_mutable_data(t)))
			die("out of memory");
		for (int64_t i = 0; i < n; i++)
			p[i] = base + frand(b) * scale * row_gain(b, i / (c ? c : 1), c);
	}
	if (onnxpass_graph_add_initializer(b->g, t))
		die("duplicate weight");
	return onnxpass_tensor_name(t);
}

/* An initializer holding src [R, C] transposed, [C, R]: a tied weight as
 * torch exports it when it stores the lm_head on its own.  Written 64
 * output rows at a time (to the scratch file for real-size models). */
static const char *transposed_copy(struct b *b, const char *name, const char *src)
{
	struct onnxpass_tensor *s = onnxpass_value_initializer(onnxpass_graph_value(b->g, src)), *t = NULL;
	int64_t R = onnxpass_tensor_dim(s, 0), C = onnxpass_tensor_dim(s, 1), dims[2] = { C, R };
	const float *d = onnxpass_tensor_data(s);
	float *buf = malloc((size_t)(64 * R) * sizeof(float)), *out = NULL;
	char err[512];

	if (!d || !buf)
		die("out of memory");
	if (!b->scratch) {
		t = onnxpass_tensor_new(name, ONNXPASS_DT_FLOAT, 2, dims);
		if (!t || !(out = onnxpass_tensor_mutable_data(t)))
			die("out of memory");
	}
	for (int64_t j0 = 0; j0 < C; j0 += 64) {
		int64_t nj = C - j0 < 64 ? C - j0 : 64;

		for (int64_t i = 0; i < R; i++)
			for (int64_t j = 0; j < nj; j++)
				buf[j * R + i] = d[i * C + j0 + j];
		if (out)
			memcpy(out + j0 * R, buf, (size_t)(nj * R) * sizeof(float));
		else if (fwrite(buf, sizeof(float), (size_t)(nj * R), b->scratch) != (size_t)(nj * R))
			die("cannot write the scratch weight file (disk full?)");
	}
	free(buf);
	if (b->scratch) {
		if (fflush(b->scratch))
			die("cannot write the scratch weight file (disk full?)");
		t = onnxpass_tensor_map_file(name, ONNXPASS_DT_FLOAT, 2, dims, b->scratch_path, b->scratch_at, err,
					     sizeof(err));
		if (!t)
			die(err);
		b->scratch_at += (uint64_t)(R * C) * sizeof(float);
	}
	if (onnxpass_graph_add_initializer(b->g, t))
		die("duplicate weight");
	return onnxpass_tensor_name(t);
}

/* Draws what weight() would, without adding it: models that lack a
 * weight keep the same random stream as those that have it. */
static void skip_weight(struct b *b, int64_t r, int64_t c)
{
	for (int64_t i = 0; i < r * c; i++)
		frand(b);
}

static void attr_i(struct b *b, const char *name, int64_t v)
{
	onnxpass_node_set_attr_int(last(b), name, v);
}

static void attr_is(struct b *b, const char *name, size_t n, const int64_t *v)
{
	onnxpass_node_set_attr_ints(last(b), name, v, n);
}

/* dim i of x as a 1-element tensor: Unsqueeze(Gather(Shape(x), i)) */
static const char *dim_of(struct b *b, const char *x, int64_t i)
{
	const char *s = op(b, "Shape", x, NULL, NULL);
	const char *g = op(b, "Gather", s, scalar_i(b, i), NULL);

	return op(b, "Unsqueeze", g, ints(b, 1, (int64_t)0), NULL);
}

static const char *cat4(struct b *b, const char *a, const char *c, const char *d, const char *e)
{
	const char *in[4] = { a, c, d, e };
	const char *r = opn(b, "Concat", 4, in);

	onnxpass_node_set_attr_int(last(b), "axis", 0);
	return r;
}

static const char *rms_norm(struct b *b, const char *x, const char *w)
{
	int form = b->c->norm_form;
	const char *p = form == 1 ? op(b, "Mul", x, x, NULL) : op(b, "Pow", x, scalar_f(b, 2.0f), NULL);
	const char *m = op(b, "ReduceMean", p, NULL, NULL);
	const char *v, *s;

	attr_is(b, "axes", 1, (int64_t[]){ -1 });
	attr_i(b, "keepdims", 1);
	v = form == 1 ? op(b, "Add", scalar_f(b, 1e-6f), m, NULL) : op(b, "Add", m, scalar_f(b, 1e-6f), NULL);
	switch (form) {
	case 1:
		s = op(b, "Reciprocal", op(b, "Sqrt", v, NULL, NULL), NULL, NULL);
		return op(b, "Mul", op(b, "Mul", s, x, NULL), w, NULL);
	case 2:
		s = op(b, "Pow", v, scalar_f(b, -0.5f), NULL);
		return op(b, "Mul", w, op(b, "Mul", x, s, NULL), NULL);
	case 3:
		return op(b, "Mul", w, op(b, "Div", x, op(b, "Sqrt", v, NULL, NULL), NULL), NULL);
	default:
		s = op(b, "Sqrt", v, NULL, NULL);
		return op(b, "Mul", w, op(b, "Mul", x, op(b, "Div", scalar_f(b, 1.0f), s, NULL), NULL), NULL);
	}
}

/* [B, S, H*dk] -> [B, H, S, dk], batch read off `batch_from` */
static const char *heads(struct b *b, const char *x, const char *batch_from)
{
	const char *shape = cat4(b, dim_of(b, batch_from, 0), ints(b, 1, (int64_t)-1),
				 ints(b, 1, (int64_t)b->c->heads), ints(b, 1, (int64_t)b->c->d_kv));
	const char *r = op(b, "Reshape", x, shape, NULL);
	const char *t = op(b, "Transpose", r, NULL, NULL);

	attr_is(b, "perm", 4, (int64_t[]){ 0, 2, 1, 3 });
	return t;
}

/* [B, H, S, dk] -> [B, S, H*dk] */
static const char *unheads(struct b *b, const char *x, const char *batch_from)
{
	const char *t = op(b, "Transpose", x, NULL, NULL);
	const char *shape;

	attr_is(b, "perm", 4, (int64_t[]){ 0, 2, 1, 3 });
	shape = op(b, "Concat", dim_of(b, batch_from, 0), ints(b, 1, (int64_t)-1),
		   ints(b, 1, (int64_t)(b->c->heads * b->c->d_kv)));
	attr_i(b, "axis", 0);
	return op(b, "Reshape", t, shape, NULL);
}

/* heads(x . W) with W = "<pre>.<which>.weight" [d_model, heads*d_kv] */
static const char *project(struct b *b, const char *x, const char *pre, const char *which,
			   const char *batch_from)
{
	char w[160];

	snprintf(w, sizeof(w), "%s.%s.weight", pre, which);
	return heads(b, op(b, "MatMul", x, weight(b, w, b->c->d_model, b->c->heads * b->c->d_kv, 0.3f, 0),
			   NULL), batch_from);
}

/* Self-attention's start in layer <pre>: the normed input (returned) and
 * its query, key and value heads. */
static const char *self_qkv(struct b *b, const char *x, const char *pre, const char **q, const char **k,
			    const char **v)
{
	char w[160];
	const char *h;

	snprintf(w, sizeof(w), "%s.layer_norm.weight", pre);
	h = rms_norm(b, x, weight(b, w, b->c->d_model, 0, 0.1f, 1.0f));
	*q = project(b, h, pre, "SelfAttention.q", h);
	*k = project(b, h, pre, "SelfAttention.k", h);
	*v = project(b, h, pre, "SelfAttention.v", h);
	return h;
}

/* x + a . W with W = "<pre>.<which>.weight" [heads*d_kv, d_model] */
static const char *out_proj(struct b *b, const char *x, const char *a, const char *pre,
			    const char *which)
{
	char w[160];

	snprintf(w, sizeof(w), "%s.%s.weight", pre, which);
	return op(b, "Add", x, op(b, "MatMul", a, weight(b, w, b->c->heads * b->c->d_kv, b->c->d_model,
						      0.2f, 0), NULL), NULL);
}

/* Softmax(q . k^T [* scale] + bias) . v; T5 does not scale (scale 1) */
static const char *softmax_attn(struct b *b, const char *q, const char *k, const char *v,
				const char *bias, float scale)
{
	const char *kt = op(b, "Transpose", k, NULL, NULL);
	const char *s, *p;

	attr_is(b, "perm", 4, (int64_t[]){ 0, 1, 3, 2 });
	s = op(b, "MatMul", q, kt, NULL);
	if (scale != 1.0f)
		s = op(b, "Mul", s, scalar_f(b, scale), NULL);
	s = op(b, "Add", s, bias, NULL);
	p = op(b, "Softmax", s, NULL, NULL);
	attr_i(b, "axis", -1);
	return op(b, "MatMul", p, v, NULL);
}

/*
 * Relative-position bucket of (key - query) as T5 computes it:
 *   bidirectional: n = -rel; ret = (n < 0) * nb/2; n = |n|, nb /= 2
 *   causal:        n = max(-rel, 0)
 *   bucket = ret + (n < max_exact ? n : min(max_exact + log(n/max_exact) /
 *            log(max_dist/max_exact) * (nb - max_exact), nb - 1))
 * rel is an int64 tensor; returns the int64 bucket tensor.
 */
static const char *buckets(struct b *b, const char *rel, bool bidirectional)
{
	int64_t nb = b->c->buckets, maxd = b->c->max_distance;
	const char *n = op(b, "Neg", rel, NULL, NULL), *ret = NULL, *small, *nf, *large, *v;
	int64_t max_exact;

	if (bidirectional) {
		const char *neg = op(b, "Cast", op(b, "Less", n, scalar_i(b, 0), NULL), NULL, NULL);

		attr_i(b, "to", ONNXPASS_DT_INT64);
		nb /= 2;
		ret = op(b, "Mul", neg, scalar_i(b, nb), NULL);
		n = op(b, "Abs", n, NULL, NULL);
	} else {
		n = op(b, "Max", n, scalar_i(b, 0), NULL);
	}
	max_exact = nb / 2;
	small = op(b, "Less", n, scalar_i(b, max_exact), NULL);
	nf = op(b, "Cast", n, NULL, NULL);
	attr_i(b, "to", ONNXPASS_DT_FLOAT);
	large = op(b, "Log", op(b, "Div", nf, scalar_f(b, (float)max_exact), NULL), NULL, NULL);
	large = op(b, "Mul", op(b, "Div", large, scalar_f(b, logf((float)maxd / (float)max_exact)), NULL),
		   scalar_f(b, (float)(nb - max_exact)), NULL);
	large = op(b, "Cast", large, NULL, NULL);
	attr_i(b, "to", ONNXPASS_DT_INT64);
	large = op(b, "Add", large, scalar_i(b, max_exact), NULL);
	large = op(b, "Min", large, scalar_i(b, nb - 1), NULL);
	v = op(b, "Where", small, n, large);
	return ret ? op(b, "Add", ret, v, NULL) : v;
}

/* [1, H, q, k] bias for query positions q_pos [q] and key positions k_pos [k] */
static const char *position_bias(struct b *b, const char *table, const char *q_pos,
				 const char *k_pos, bool bidirectional)
{
	const char *rel = op(b, "Sub", op(b, "Unsqueeze", k_pos, ints(b, 1, (int64_t)0), NULL),
			     op(b, "Unsqueeze", q_pos, ints(b, 1, (int64_t)1), NULL), NULL);
	const char *g = op(b, "Gather", table, buckets(b, rel, bidirectional), NULL);	/* [q, k, H] */
	const char *t = op(b, "Transpose", g, NULL, NULL);

	attr_is(b, "perm", 3, (int64_t[]){ 2, 0, 1 });
	return op(b, "Unsqueeze", t, ints(b, 1, (int64_t)0), NULL);
}

/* additive mask [B, 1, 1, S] from an int64 [B, S] mask */
static const char *mask_bias(struct b *b, const char *mask)
{
	const char *f = op(b, "Cast", mask, NULL, NULL);
	const char *u;

	attr_i(b, "to", ONNXPASS_DT_FLOAT);
	u = op(b, "Unsqueeze", op(b, "Unsqueeze", f, ints(b, 1, (int64_t)1), NULL), ints(b, 1, (int64_t)2), NULL);
	return op(b, "Mul", op(b, "Sub", scalar_f(b, 1.0f), u, NULL), scalar_f(b, -1e9f), NULL);
}

static const char *arange(struct b *b, const char *n_1elem, const char *start)
{
	return op(b, "Range", start ? start : scalar_i(b, 0),
		  op(b, "Squeeze", n_1elem, ints(b, 1, (int64_t)0), NULL), scalar_i(b, 1));
}

static const char *gelu_tanh(struct b *b, const char *x)
{
	const char *x3 = op(b, "Mul", op(b, "Mul", x, x, NULL), x, NULL);
	const char *in = op(b, "Mul", op(b, "Add", x, op(b, "Mul", x3, scalar_f(b, 0.044715f), NULL), NULL),
			    scalar_f(b, 0.7978845608f), NULL);

	return op(b, "Mul", op(b, "Mul", x, scalar_f(b, 0.5f), NULL),
		  op(b, "Add", scalar_f(b, 1.0f), op(b, "Tanh", in, NULL, NULL), NULL), NULL);
}

static const char *ffn(struct b *b, const char *x, const char *pre)
{
	const struct t5_config *c = b->c;
	char n0[128], n1[128], n2[128], nn[128];
	const char *h, *a, *g;

	snprintf(nn, sizeof(nn), "%s.layer_norm.weight", pre);
	snprintf(n0, sizeof(n0), "%s.DenseReluDense.wi_0.weight", pre);
	snprintf(n1, sizeof(n1), "%s.DenseReluDense.wi_1.weight", pre);
	snprintf(n2, sizeof(n2), "%s.DenseReluDense.wo.weight", pre);
	h = rms_norm(b, x, weight(b, nn, c->d_model, 0, 0.1f, 1.0f));
	a = gelu_tanh(b, op(b, "MatMul", h, weight(b, n0, c->d_model, c->d_ff, 0.3f, 0), NULL));
	g = op(b, "MatMul", h, weight(b, n1, c->d_model, c->d_ff, 0.3f, 0), NULL);
	return op(b, "Add", x, op(b, "MatMul", op(b, "Mul", a, g, NULL),
				  weight(b, n2, c->d_ff, c->d_model, 0.2f, 0), NULL), NULL);
}

static void io_at(struct onnxpass_graph *g, const char *name, bool input, int pos, int dtype,
		  int rank, const int64_t *dims, const char *const *params)
{
	struct onnxpass_value *v = input ? onnxpass_graph_add_input(g, name, pos)
					 : onnxpass_graph_add_output(g, name, pos);

	if (!v)
		die("cannot add graph input/output");
	onnxpass_value_set_type(v, dtype, rank, dims, params);
}

static void io(struct onnxpass_graph *g, const char *name, bool input, int dtype, int rank,
	       const int64_t *dims, const char *const *params)
{
	io_at(g, name, input, -1, dtype, rank, dims, params);
}

/* the input_ids view and lookup, as the exporter writes them */
static const char *embed(struct b *b, const char *table, const char *ids)
{
	const char *shape = op(b, "Concat", ints(b, 1, (int64_t)-1), dim_of(b, ids, 1), NULL);

	attr_i(b, "axis", 0);
	return op(b, "Gather", table, op(b, "Reshape", ids, shape, NULL), NULL);
}

static void save_model(struct onnxpass_model *m, const char *dir, const char *file, bool external)
{
	struct onnxpass_save_options o = { sizeof(o), external ? ONNXPASS_EXTERNAL_ALWAYS : ONNXPASS_EXTERNAL_AUTO, 0, NULL };
	char path[4096], err[1024];

	if (onnxpass_graph_toposort(onnxpass_model_graph(m)))
		die("graph has a cycle");
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (onnxpass_model_save(m, path, &o, err, sizeof(err)))
		die(err);
	onnxpass_model_free(m);
}

static void encoder(const struct t5_config *c, const char *dir, bool external)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "main_graph");
	struct b b = { onnxpass_model_graph(m), 0, c->seed, c, "/encoder", NULL, "", 0, false, 0, 0 };
	const int64_t d2[2] = { -1, -1 }, d3[3] = { -1, -1, c->d_model };
	const char *p2[2] = { "batch_size", "encoder_sequence_length" };
	const char *p3[3] = { "batch_size", "encoder_sequence_length", NULL };
	const char *x, *bias, *len, *pos, *table;

	if (external)
		scratch_open(&b, dir);
	io(b.g, "input_ids", true, ONNXPASS_DT_INT64, 2, d2, p2);
	io(b.g, "attention_mask", true, ONNXPASS_DT_INT64, 2, d2, p2);
	b.rng = c->seed;	/* the same table bytes as the decoders' */
	x = embed(&b, weight(&b, "embed_tokens.weight", c->vocab, c->d_model, 2.0f, 0), "input_ids");
	b.rng = c->seed + 1;
	len = dim_of(&b, "input_ids", 1);
	pos = arange(&b, len, NULL);
	table = weight(&b, "block.0.layer.0.SelfAttention.relative_attention_bias.weight", c->buckets,
		       c->heads, 0.5f, 0);
	bias = op(&b, "Add", position_bias(&b, table, pos, pos, true), mask_bias(&b, "attention_mask"), NULL);
	for (int l = 0; l < c->layers; l++) {
		char pre[64];
		const char *h, *q, *k, *v, *a;

		snprintf(pre, sizeof(pre), "block.%d.layer.0", l);
		h = self_qkv(&b, x, pre, &q, &k, &v);
		a = unheads(&b, softmax_attn(&b, q, k, v, bias, 1.0f), h);
		x = out_proj(&b, x, a, pre, "SelfAttention.o");
		snprintf(pre, sizeof(pre), "block.%d.layer.1", l);
		x = ffn(&b, x, pre);
	}
	x = rms_norm(&b, x, weight(&b, "final_layer_norm.weight", c->d_model, 0, 0.1f, 1.0f));
	onnxpass_node_set_output(last(&b), 0, "last_hidden_state");
	io(b.g, "last_hidden_state", false, ONNXPASS_DT_FLOAT, 3, d3, p3);
	save_model(m, dir, "encoder_model.onnx", external);
	scratch_close(&b);
}

/* A seq2seq decoder's last node's output becomes logits [batch, 1 or
 * decoder_sequence_length, vocab], first of the outputs as optimum orders
 * them; the model is saved and freed. */
static void save_decoder(struct b *b, struct onnxpass_model *m, const char *dir, bool with_past, bool external)
{
	int64_t dl[3] = { -1, with_past ? 1 : -1, b->c->vocab };
	const char *pl[3] = { "batch_size", with_past ? NULL : "decoder_sequence_length", NULL };

	onnxpass_node_set_output(last(b), 0, "logits");
	io_at(b->g, "logits", false, 0, ONNXPASS_DT_FLOAT, 3, dl, pl);
	save_model(m, dir, with_past ? "decoder_with_past_model.onnx" : "decoder_model.onnx", external);
	scratch_close(b);
}

/* An encoder and the two decoders of optimum's seq2seq layout in dir, and
 * config.json from fmt. */
static void seq2seq_files(const struct t5_config *c, const char *dir, bool external,
			  void (*enc)(const struct t5_config *, const char *, bool),
			  void (*dec)(const struct t5_config *, const char *, bool, bool), const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	FILE *f;

	mkdir(dir, 0755);
	enc(c, dir, external);
	dec(c, dir, false, external);
	dec(c, dir, true, external);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		die("cannot write config.json");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f))
		die("cannot write config.json");
}

/* One decoder: with_past reads past_key_values.* and a one-token input. */
static void decoder(const struct t5_config *c, const char *dir, bool with_past, bool external)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "main_graph");
	struct b b = { onnxpass_model_graph(m), 0, c->seed, c, "/decoder", NULL, "", 0, false, 0, 0 };
	const char *pe[2] = { "batch_size", "encoder_sequence_length" };
	const char *pd[2] = { "batch_size", with_past ? NULL : "decoder_sequence_length" };
	const int64_t de[2] = { -1, -1 }, dd[2] = { -1, with_past ? 1 : -1 };
	const int64_t dh[3] = { -1, -1, c->d_model }, dkv[4] = { -1, c->heads, -1, c->d_kv };
	const char *ph[3] = { "batch_size", "encoder_sequence_length", NULL };
	const char *x, *table, *self_bias, *cross_bias, *q_pos, *k_pos, *qlen, *past_len = NULL;
	char w[128], name[128], kname[128], vname[128], ckname[128], cvname[128];

	if (external)
		scratch_open(&b, dir);
	io(b.g, "encoder_attention_mask", true, ONNXPASS_DT_INT64, 2, de, pe);
	io(b.g, "input_ids", true, ONNXPASS_DT_INT64, 2, dd, pd);
	io(b.g, "encoder_hidden_states", true, ONNXPASS_DT_FLOAT, 3, dh, ph);
	if (with_past) {
		for (int l = 0; l < c->layers; l++) {
			for (int e = 0; e < 2; e++) {
				for (int kv = 0; kv < 2; kv++) {
					const char *p4[4] = { "batch_size", NULL,
							      e ? "encoder_sequence_length_out" : "past_decoder_sequence_length", NULL };

					snprintf(name, sizeof(name), "past_key_values.%d.%s.%s", l, e ? "encoder" : "decoder",
						 kv ? "value" : "key");
					io(b.g, name, true, ONNXPASS_DT_FLOAT, 4, dkv, p4);
				}
			}
		}
	}
	b.rng = c->seed;
	x = embed(&b, weight(&b, "shared.weight", c->vocab, c->d_model, 2.0f, 0), "input_ids");
	b.rng = c->seed + 2;
	qlen = dim_of(&b, "input_ids", 1);
	if (with_past) {
		past_len = dim_of(&b, "past_key_values.0.decoder.key", 2);
		q_pos = arange(&b, op(&b, "Add", past_len, qlen, NULL),
			       op(&b, "Squeeze", past_len, ints(&b, 1, (int64_t)0), NULL));
		k_pos = arange(&b, op(&b, "Add", past_len, qlen, NULL), NULL);
	} else {
		q_pos = arange(&b, qlen, NULL);
		k_pos = q_pos;
	}
	table = weight(&b, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
		       c->buckets, c->heads, 0.5f, 0);
	self_bias = position_bias(&b, table, q_pos, k_pos, false);
	if (!with_past) {	/* causal: keys after the query are masked */
		const char *later = op(&b, "Greater", op(&b, "Unsqueeze", k_pos, ints(&b, 1, (int64_t)0), NULL),
				       op(&b, "Unsqueeze", q_pos, ints(&b, 1, (int64_t)1), NULL), NULL);
		const char *f = op(&b, "Cast", later, NULL, NULL);

		attr_i(&b, "to", ONNXPASS_DT_FLOAT);
		self_bias = op(&b, "Add", self_bias, op(&b, "Mul", f, scalar_f(&b, -1e9f), NULL), NULL);
	}
	cross_bias = mask_bias(&b, "encoder_attention_mask");
	if (with_past) {
		/* the encoder length, read off the encoder states as exporters do */
		const char *elen = dim_of(&b, "encoder_hidden_states", 1);
		const char *zeros = op(&b, "ConstantOfShape",
				       cat4(&b, ints(&b, 1, (int64_t)1), ints(&b, 1, (int64_t)c->heads),
					    ints(&b, 1, (int64_t)1), elen), NULL, NULL);

		cross_bias = op(&b, "Add", cross_bias, zeros, NULL);
	}
	for (int l = 0; l < c->layers; l++) {
		char pre[64];
		const char *h, *q, *k, *v, *a, *ck, *cv;

		snprintf(pre, sizeof(pre), "decoder.block.%d.layer.0", l);
		h = self_qkv(&b, x, pre, &q, &k, &v);
		if (with_past) {
			snprintf(name, sizeof(name), "past_key_values.%d.decoder.key", l);
			k = op(&b, "Concat", name, k, NULL);
			attr_i(&b, "axis", 2);
			snprintf(name, sizeof(name), "past_key_values.%d.decoder.value", l);
			v = op(&b, "Concat", name, v, NULL);
			attr_i(&b, "axis", 2);
		}
		snprintf(kname, sizeof(kname), "present.%d.decoder.key", l);
		op(&b, "Identity", k, NULL, NULL);
		onnxpass_node_set_output(last(&b), 0, kname);
		io(b.g, kname, false, ONNXPASS_DT_FLOAT, 4, dkv,
		   (const char *const[]){ "batch_size", NULL, "past_decoder_sequence_length + 1", NULL });
		snprintf(vname, sizeof(vname), "present.%d.decoder.value", l);
		op(&b, "Identity", v, NULL, NULL);
		onnxpass_node_set_output(last(&b), 0, vname);
		io(b.g, vname, false, ONNXPASS_DT_FLOAT, 4, dkv,
		   (const char *const[]){ "batch_size", NULL, "past_decoder_sequence_length + 1", NULL });
		a = unheads(&b, softmax_attn(&b, q, kname, vname, self_bias, 1.0f), h);
		x = out_proj(&b, x, a, pre, "SelfAttention.o");
		/* cross attention */
		snprintf(pre, sizeof(pre), "decoder.block.%d.layer.1", l);
		snprintf(w, sizeof(w), "%s.layer_norm.weight", pre);
		h = rms_norm(&b, x, weight(&b, w, c->d_model, 0, 0.1f, 1.0f));
		q = project(&b, h, pre, "EncDecAttention.q", h);
		if (with_past) {
			/* cross K/V come as past inputs; their weights are not here */
			snprintf(ckname, sizeof(ckname), "past_key_values.%d.encoder.key", l);
			snprintf(cvname, sizeof(cvname), "past_key_values.%d.encoder.value", l);
			ck = ckname;
			cv = cvname;
			skip_weight(&b, c->d_model, c->heads * c->d_kv);
			skip_weight(&b, c->d_model, c->heads * c->d_kv);
		} else {
			/* the batch of the K/V reshape comes from the decoder side (h) */
			project(&b, "encoder_hidden_states", pre, "EncDecAttention.k", h);
			snprintf(ckname, sizeof(ckname), "present.%d.encoder.key", l);
			onnxpass_node_set_output(last(&b), 0, ckname);
			ck = ckname;
			project(&b, "encoder_hidden_states", pre, "EncDecAttention.v", h);
			snprintf(cvname, sizeof(cvname), "present.%d.encoder.value", l);
			onnxpass_node_set_output(last(&b), 0, cvname);
			cv = cvname;
			snprintf(name, sizeof(name), "present.%d.encoder.key", l);
			io(b.g, name, false, ONNXPASS_DT_FLOAT, 4, dkv,
			   (const char *const[]){ "batch_size", NULL, "encoder_sequence_length_out", NULL });
			snprintf(name, sizeof(name), "present.%d.encoder.value", l);
			io(b.g, name, false, ONNXPASS_DT_FLOAT, 4, dkv,
			   (const char *const[]){ "batch_size", NULL, "encoder_sequence_length_out", NULL });
		}
		a = unheads(&b, softmax_attn(&b, q, ck, cv, cross_bias, 1.0f), h);
		x = out_proj(&b, x, a, pre, "EncDecAttention.o");
		snprintf(pre, sizeof(pre), "decoder.block.%d.layer.2", l);
		x = ffn(&b, x, pre);
	}
	x = rms_norm(&b, x, weight(&b, "decoder.final_layer_norm.weight", c->d_model, 0, 0.1f, 1.0f));
	op(&b, "MatMul", x, weight(&b, "lm_head.weight", c->d_model, c->vocab, 0.5f, 0), NULL);
	save_decoder(&b, m, dir, with_past, external);
}

void t5_generate(const struct t5_config *c, const char *dir, bool external)
{
	seq2seq_files(c, dir, external, encoder, decoder, "{\"model_type\": \"t5\", \"d_model\": %lld, \"d_kv\": %lld, \"num_heads\": %lld, "
		   "\"d_ff\": %lld, \"num_layers\": %d, \"vocab_size\": %lld, "
		   "\"relative_attention_num_buckets\": %lld, \"relative_attention_max_distance\": %lld, "
		   "\"feed_forward_proj\": \"gated-gelu\", \"tie_word_embeddings\": false, "
		   "\"decoder_start_token_id\": 0, \"eos_token_id\": 2, \"pad_token_id\": 1}\n",
		(long long)c->d_model, (long long)c->d_kv, (long long)c->heads, (long long)c->d_ff,
		c->layers, (long long)c->vocab, (long long)c->buckets, (long long)c->max_distance);
}

/* BERT-like encoder pieces: decomposed LayerNorm, erf Gelu, biased linears. */
static const char *layer_norm(struct b *b, const char *x, const char *pre)
{
	char w[128], bias[128];
	const char *mean, *d, *var;

	int form = b->c->norm_form;
	const char *v, *gw, *gb;

	mean = op(b, "ReduceMean", x, NULL, NULL);
	attr_is(b, "axes", 1, (int64_t[]){ -1 });
	d = op(b, "Sub", x, mean, NULL);
	var = op(b, "ReduceMean", form == 1 ? op(b, "Mul", d, d, NULL) : op(b, "Pow", d, scalar_f(b, 2.0f), NULL),
		 NULL, NULL);
	attr_is(b, "axes", 1, (int64_t[]){ -1 });
	v = form == 1 ? op(b, "Add", scalar_f(b, 1e-12f), var, NULL) : op(b, "Add", var, scalar_f(b, 1e-12f), NULL);
	snprintf(w, sizeof(w), "%s.weight", pre);
	snprintf(bias, sizeof(bias), "%s.bias", pre);
	gw = weight(b, w, b->c->d_model, 0, 0.1f, 1.0f);
	gb = weight(b, bias, b->c->d_model, 0, 0.1f, 0);
	switch (form) {	/* the forms of t5_config.norm_form, as for RMSNorm */
	case 1:	/* Mul(d, d), Add(eps, var), Reciprocal(Sqrt), operands swapped */
		d = op(b, "Mul", op(b, "Reciprocal", op(b, "Sqrt", v, NULL, NULL), NULL, NULL), d, NULL);
		return op(b, "Add", gb, op(b, "Mul", gw, d, NULL), NULL);
	case 2:	/* Pow(var + eps, -0.5) */
		d = op(b, "Mul", d, op(b, "Pow", v, scalar_f(b, -0.5f), NULL), NULL);
		break;
	case 3:	/* x - mean computed again for the division, Div(1, Sqrt) */
		d = op(b, "Mul", op(b, "Sub", x, mean, NULL),
		       op(b, "Div", scalar_f(b, 1.0f), op(b, "Sqrt", v, NULL, NULL), NULL), NULL);
		break;
	default:	/* torch.onnx: Div(d, Sqrt(var + eps)) */
		d = op(b, "Div", d, op(b, "Sqrt", v, NULL, NULL), NULL);
		break;
	}
	return op(b, "Add", op(b, "Mul", d, gw, NULL), gb, NULL);
}

static const char *linear(struct b *b, const char *x, const char *pre, int64_t in, int64_t out)
{
	char w[128], bias[128];

	snprintf(w, sizeof(w), "%s.weight", pre);
	snprintf(bias, sizeof(bias), "%s.bias", pre);
	return op(b, "Add", weight(b, bias, out, 0, 0.1f, 0),
		  op(b, "MatMul", x, weight(b, w, in, out, 2.0f / sqrtf((float)in), 0), NULL), NULL);
}

static const char *gelu_erf(struct b *b, const char *x)
{
	const char *e = op(b, "Erf", op(b, "Div", x, scalar_f(b, 1.4142135f), NULL), NULL, NULL);

	return op(b, "Mul", op(b, "Mul", x, op(b, "Add", e, scalar_f(b, 1.0f), NULL), NULL),
		  scalar_f(b, 0.5f), NULL);
}

void bert_generate(const struct t5_config *c, const char *path)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "main_graph");
	struct b b = { onnxpass_model_graph(m), 0, c->seed, c, "/bert", NULL, "", 0, false, 0, 0 };
	const int64_t d2[2] = { -1, -1 }, d3[3] = { -1, -1, c->d_model };
	const char *p2[2] = { "batch_size", "sequence_length" };
	const char *p3[3] = { "batch_size", "sequence_length", NULL };
	const int64_t hid = c->heads * c->d_kv;
	const char *x, *mask, *pos;
	char *dir = strdup(path), *slash = strrchr(dir, '/');

	io(b.g, "input_ids", true, ONNXPASS_DT_INT64, 2, d2, p2);
	io(b.g, "attention_mask", true, ONNXPASS_DT_INT64, 2, d2, p2);
	x = embed(&b, weight(&b, "embeddings.word_embeddings.weight", c->vocab, c->d_model, 1.0f, 0), "input_ids");
	pos = arange(&b, dim_of(&b, "input_ids", 1), NULL);
	x = op(&b, "Add", x, op(&b, "Gather", weight(&b, "embeddings.position_embeddings.weight", 512, c->d_model,
							 1.0f, 0), pos, NULL), NULL);
	x = layer_norm(&b, x, "embeddings.LayerNorm");
	mask = mask_bias(&b, "attention_mask");
	for (int l = 0; l < c->layers; l++) {
		char pre[96], name[128];
		const char *q, *k, *v, *s, *a;

		snprintf(pre, sizeof(pre), "encoder.layer.%d", l);
		snprintf(name, sizeof(name), "%s.attention.self.query", pre);
		q = heads(&b, linear(&b, x, name, c->d_model, hid), x);
		snprintf(name, sizeof(name), "%s.attention.self.key", pre);
		k = heads(&b, linear(&b, x, name, c->d_model, hid), x);
		snprintf(name, sizeof(name), "%s.attention.self.value", pre);
		v = heads(&b, linear(&b, x, name, c->d_model, hid), x);
		k = op(&b, "Transpose", k, NULL, NULL);
		attr_is(&b, "perm", 4, (int64_t[]){ 0, 1, 3, 2 });
		s = op(&b, "Div", op(&b, "MatMul", q, k, NULL), scalar_f(&b, sqrtf((float)c->d_kv)), NULL);
		s = op(&b, "Softmax", op(&b, "Add", s, mask, NULL), NULL, NULL);
		attr_i(&b, "axis", -1);
		a = unheads(&b, op(&b, "MatMul", s, v, NULL), x);
		snprintf(name, sizeof(name), "%s.attention.output.dense", pre);
		a = op(&b, "Add", linear(&b, a, name, hid, c->d_model), x, NULL);
		snprintf(name, sizeof(name), "%s.attention.output.LayerNorm", pre);
		x = layer_norm(&b, a, name);
		snprintf(name, sizeof(name), "%s.intermediate.dense", pre);
		a = gelu_erf(&b, linear(&b, x, name, c->d_model, c->d_ff));
		snprintf(name, sizeof(name), "%s.output.dense", pre);
		a = op(&b, "Add", linear(&b, a, name, c->d_ff, c->d_model), x, NULL);
		snprintf(name, sizeof(name), "%s.output.LayerNorm", pre);
		x = layer_norm(&b, a, name);
	}
	onnxpass_node_set_output(last(&b), 0, "last_hidden_state");
	io(b.g, "last_hidden_state", false, ONNXPASS_DT_FLOAT, 3, d3, p3);
	if (slash)
		*slash = '\0';
	save_model(m, slash ? dir : ".", slash ? slash + 1 : path, false);
	free(dir);
}

/* x[..., from:to] on the last axis */
static const char *slice_last(struct b *b, const char *x, int64_t from, int64_t to)
{
	const char *in[4] = { x, ints(b, 1, from), ints(b, 1, to), ints(b, 1, (int64_t)-1) };

	return opn(b, "Slice", 4, in);
}

/* [B, S, n*hd] -> [B, n, S, hd] */
static const char *split_heads(struct b *b, const char *x, int64_t n)
{
	const char *shape = cat4(b, dim_of(b, x, 0), dim_of(b, x, 1), ints(b, 1, n), ints(b, 1, b->c->d_kv));
	const char *t = op(b, "Transpose", op(b, "Reshape", x, shape, NULL), NULL, NULL);

	attr_is(b, "perm", 4, (int64_t[]){ 0, 2, 1, 3 });
	return t;
}

/* x * cos + rotate_half(x) * sin, cos and sin [B, 1, S, hd] */
static const char *rotary(struct b *b, const char *x, const char *cos, const char *sin)
{
	int64_t half = b->c->d_kv / 2;
	const char *in[2] = { op(b, "Neg", slice_last(b, x, half, INT64_MAX), NULL, NULL), slice_last(b, x, 0, half) };
	const char *rot = opn(b, "Concat", 2, in);

	attr_i(b, "axis", -1);
	return op(b, "Add", op(b, "Mul", x, cos, NULL), op(b, "Mul", rot, sin, NULL), NULL);
}

/* present [B, g, T, hd] with each head repeated heads/g times: [B, heads, T, hd] */
static const char *repeat_kv(struct b *b, const char *present)
{
	const struct t5_config *c = b->c;
	const char *u = op(b, "Unsqueeze", present, ints(b, 1, (int64_t)2), NULL);
	const char *in[5] = { dim_of(b, present, 0), ints(b, 1, c->kv_heads), ints(b, 1, c->heads / c->kv_heads),
			      dim_of(b, present, 2), ints(b, 1, c->d_kv) };
	const char *shape5 = opn(b, "Concat", 5, in);
	const char *e;

	attr_i(b, "axis", 0);
	e = op(b, "Expand", u, shape5, NULL);
	return op(b, "Reshape", e, cat4(b, dim_of(b, present, 0), ints(b, 1, c->heads), dim_of(b, present, 2),
					 ints(b, 1, c->d_kv)), NULL);
}

/* Rotary tables [max_pos, hd] for one base: position p, channel i:
 * p / base^(2 (i mod hd/2) / hd); added as NAME_cos and NAME_sin. */
static void rotary_tables(struct b *b, const char *cos_name, const char *sin_name, int64_t max_pos, double base)
{
	const struct t5_config *c = b->c;
	int64_t dt[2] = { max_pos, c->d_kv }, half = c->d_kv / 2;
	struct onnxpass_tensor *tc = onnxpass_tensor_new(cos_name, ONNXPASS_DT_FLOAT, 2, dt);
	struct onnxpass_tensor *ts = onnxpass_tensor_new(sin_name, ONNXPASS_DT_FLOAT, 2, dt);
	float *pc = onnxpass_tensor_mutable_data(tc), *ps = onnxpass_tensor_mutable_data(ts);

	for (int64_t p = 0; p < max_pos; p++)
		for (int64_t i = 0; i < c->d_kv; i++) {
			double a = (double)p * pow(base, -2.0 * (double)(i % half) / (double)c->d_kv);

			pc[p * c->d_kv + i] = (float)cos(a);
			ps[p * c->d_kv + i] = (float)sin(a);
		}
	onnxpass_graph_add_initializer(b->g, tc);
	onnxpass_graph_add_initializer(b->g, ts);
}

/* A norm's weight: Llama's w, or Gemma's (1 + w) as its exporter writes it
 * (an Add of the stored weight and 1 that clean folds), w around base. */
static const char *norm_weight(struct b *b, const char *name, int64_t n, bool gemma, float base)
{
	if (!gemma)
		return weight(b, name, n, 0, 0.1f, 1.0f);
	return op(b, "Add", weight(b, name, n, 0, 0.1f, base), scalar_f(b, 1.0f), NULL);
}

/* Gemma's norms after attention and after the MLP scale each branch by
 * (1 + w); trained models keep these gains small against the residual
 * stream.  With random weights and gains of 1 the model is chaotic: at 32
 * layers any two models that share the embedding agree to a logit cosine
 * of 0.65, so no comparison would mean anything.  Gains of about 1/4 keep
 * it as tame as a trained one. */
#define POST_NORM_BASE (-0.75f)

/*
 * A decoder-only model with a past in optimum's layout.  Llama (HY-MT):
 * RMS norms, rotary embeddings, grouped KV heads repeated with Expand,
 * SiLU-gated MLP, untied lm_head.  Gemma 3 (TranslateGemma) adds: the
 * embedding scaled by sqrt(hidden), norms with (1 + weight), RMS norms of
 * each query and key head, a norm after attention and after the MLP as
 * well as before, a tanh-GELU-gated MLP, a rotary base of 1e6 on every
 * sixth (global) layer and 1e4 on the others, and the lm_head tied to the
 * embedding (read through a Transpose).  The sliding window of Gemma's
 * local layers is left out: prompts here are shorter than any window.
 */
void llama_generate(const struct t5_config *c, const char *path, bool external, bool gemma)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "main_graph");
	struct b b = { onnxpass_model_graph(m), 0, c->seed, c, "/model", NULL, "", 0, false, 0, 0 };
	const int64_t d2[2] = { -1, -1 }, dkv[4] = { -1, c->kv_heads, -1, c->d_kv }, dl[3] = { -1, -1, c->vocab };
	const char *p2[2] = { "batch_size", "sequence_length" };
	const char *pm[2] = { "batch_size", "past_sequence_length + 1" };
	const char *pl[3] = { "batch_size", "sequence_length", NULL };
	const int64_t max_pos = c->max_distance ? c->max_distance : 2048, hid = c->heads * c->d_kv, kvh = c->kv_heads * c->d_kv;
	const float min = -3.4028234663852886e38f, zero = 0.0f;
	const char *x, *past_len, *q_len, *q_pos, *k_pos, *later, *pad, *bias, *rc[2], *rs[2], *embed;
	char *dir = strdup(path), *slash = strrchr(dir, '/');

	if (slash)
		*slash = '\0';
	if (external)
		scratch_open(&b, slash ? dir : ".");
	io(b.g, "input_ids", true, ONNXPASS_DT_INT64, 2, d2, p2);
	io(b.g, "attention_mask", true, ONNXPASS_DT_INT64, 2, d2, pm);
	io(b.g, "position_ids", true, ONNXPASS_DT_INT64, 2, d2, p2);
	for (int l = 0; l < c->layers; l++)
		for (int kv = 0; kv < 2; kv++) {
			char name[96];
			const char *p4[4] = { "batch_size", NULL, "past_sequence_length", NULL };

			snprintf(name, sizeof(name), "past_key_values.%d.%s", l, kv ? "value" : "key");
			io(b.g, name, true, ONNXPASS_DT_FLOAT, 4, dkv, p4);
		}
	rotary_tables(&b, "cos_cached", "sin_cached", max_pos, 10000.0);
	rc[0] = op(&b, "Unsqueeze", op(&b, "Gather", "cos_cached", "position_ids", NULL), ints(&b, 1, (int64_t)1), NULL);
	rs[0] = op(&b, "Unsqueeze", op(&b, "Gather", "sin_cached", "position_ids", NULL), ints(&b, 1, (int64_t)1), NULL);
	rc[1] = rc[0];
	rs[1] = rs[0];
	if (gemma) {	/* the global layers' tables */
		rotary_tables(&b, "global_cos_cached", "global_sin_cached", max_pos, 1000000.0);
		rc[1] = op(&b, "Unsqueeze", op(&b, "Gather", "global_cos_cached", "position_ids", NULL),
			   ints(&b, 1, (int64_t)1), NULL);
		rs[1] = op(&b, "Unsqueeze", op(&b, "Gather", "global_sin_cached", "position_ids", NULL),
			   ints(&b, 1, (int64_t)1), NULL);
	}
	embed = weight(&b, "model.embed_tokens.weight", c->vocab, c->d_model, gemma ? 0.1f : 1.0f, 0);
	x = op(&b, "Gather", embed, "input_ids", NULL);
	if (gemma)
		x = op(&b, "Mul", x, scalar_f(&b, sqrtf((float)c->d_model)), NULL);
	/* the mask: key j hidden from query i when j > past + i or padded */
	past_len = dim_of(&b, "past_key_values.0.key", 2);
	q_len = dim_of(&b, "input_ids", 1);
	q_pos = arange(&b, op(&b, "Add", past_len, q_len, NULL), op(&b, "Squeeze", past_len, ints(&b, 1, (int64_t)0), NULL));
	k_pos = arange(&b, dim_of(&b, "attention_mask", 1), NULL);
	later = op(&b, "Greater", op(&b, "Unsqueeze", k_pos, ints(&b, 1, (int64_t)0), NULL),
		   op(&b, "Unsqueeze", q_pos, ints(&b, 1, (int64_t)1), NULL), NULL);
	pad = op(&b, "Equal", "attention_mask", scalar_i(&b, 0), NULL);
	pad = op(&b, "Unsqueeze", pad, ints(&b, 2, (int64_t)1, (int64_t)2), NULL);
	later = op(&b, "Unsqueeze", later, ints(&b, 2, (int64_t)0, (int64_t)1), NULL);
	bias = op(&b, "Where", op(&b, "Or", later, pad, NULL), scalar(&b, ONNXPASS_DT_FLOAT, &min, sizeof(min)),
		  scalar(&b, ONNXPASS_DT_FLOAT, &zero, sizeof(zero)));
	for (int l = 0; l < c->layers; l++) {
		char pre[64], w[128], kname[64], vname[64], past[64];
		const char *h, *q, *k, *v, *s, *a, *g, *u;
		int global = gemma && l % 6 == 5;

		snprintf(pre, sizeof(pre), "model.layers.%d", l);
		snprintf(w, sizeof(w), "%s.input_layernorm.weight", pre);
		h = rms_norm(&b, x, norm_weight(&b, w, c->d_model, gemma, 0.0f));
		snprintf(w, sizeof(w), "%s.self_attn.q_proj.weight", pre);
		q = split_heads(&b, op(&b, "MatMul", h, weight(&b, w, c->d_model, hid, 2.0f / sqrtf((float)c->d_model), 0),
				      NULL), c->heads);
		snprintf(w, sizeof(w), "%s.self_attn.k_proj.weight", pre);
		k = split_heads(&b, op(&b, "MatMul", h, weight(&b, w, c->d_model, kvh, 2.0f / sqrtf((float)c->d_model), 0),
				      NULL), c->kv_heads);
		snprintf(w, sizeof(w), "%s.self_attn.v_proj.weight", pre);
		v = split_heads(&b, op(&b, "MatMul", h, weight(&b, w, c->d_model, kvh, 2.0f / sqrtf((float)c->d_model), 0),
				      NULL), c->kv_heads);
		if (gemma) {
			snprintf(w, sizeof(w), "%s.self_attn.q_norm.weight", pre);
			q = rms_norm(&b, q, norm_weight(&b, w, c->d_kv, true, 0.0f));
			snprintf(w, sizeof(w), "%s.self_attn.k_norm.weight", pre);
			k = rms_norm(&b, k, norm_weight(&b, w, c->d_kv, true, 0.0f));
		}
		q = rotary(&b, q, rc[global], rs[global]);
		k = rotary(&b, k, rc[global], rs[global]);
		snprintf(past, sizeof(past), "past_key_values.%d.key", l);
		snprintf(kname, sizeof(kname), "present.%d.key", l);
		op(&b, "Concat", past, k, NULL);
		attr_i(&b, "axis", 2);
		onnxpass_node_set_output(last(&b), 0, kname);
		snprintf(past, sizeof(past), "past_key_values.%d.value", l);
		snprintf(vname, sizeof(vname), "present.%d.value", l);
		op(&b, "Concat", past, v, NULL);
		attr_i(&b, "axis", 2);
		onnxpass_node_set_output(last(&b), 0, vname);
		io(b.g, kname, false, ONNXPASS_DT_FLOAT, 4, dkv,
		   (const char *const[]){ "batch_size", NULL, "past_sequence_length + 1", NULL });
		io(b.g, vname, false, ONNXPASS_DT_FLOAT, 4, dkv,
		   (const char *const[]){ "batch_size", NULL, "past_sequence_length + 1", NULL });
		k = op(&b, "Transpose", repeat_kv(&b, kname), NULL, NULL);
		attr_is(&b, "perm", 4, (int64_t[]){ 0, 1, 3, 2 });
		s = op(&b, "Div", op(&b, "MatMul", q, k, NULL), scalar_f(&b, sqrtf((float)c->d_kv)), NULL);
		s = op(&b, "Softmax", op(&b, "Add", s, bias, NULL), NULL, NULL);
		attr_i(&b, "axis", -1);
		a = op(&b, "Transpose", op(&b, "MatMul", s, repeat_kv(&b, vname), NULL), NULL, NULL);
		attr_is(&b, "perm", 4, (int64_t[]){ 0, 2, 1, 3 });
		{
			const char *in[3] = { dim_of(&b, h, 0), dim_of(&b, h, 1), ints(&b, 1, hid) };
			const char *shape = opn(&b, "Concat", 3, in);

			attr_i(&b, "axis", 0);
			a = op(&b, "Reshape", a, shape, NULL);
		}
		snprintf(w, sizeof(w), "%s.self_attn.o_proj.weight", pre);
		a = op(&b, "MatMul", a, weight(&b, w, hid, c->d_model, 2.0f / sqrtf((float)hid), 0), NULL);
		if (gemma) {
			snprintf(w, sizeof(w), "%s.post_attention_layernorm.weight", pre);
			a = rms_norm(&b, a, norm_weight(&b, w, c->d_model, true, POST_NORM_BASE));
			snprintf(w, sizeof(w), "%s.pre_feedforward_layernorm.weight", pre);
		} else {
			snprintf(w, sizeof(w), "%s.post_attention_layernorm.weight", pre);
		}
		x = op(&b, "Add", x, a, NULL);
		h = rms_norm(&b, x, norm_weight(&b, w, c->d_model, gemma, 0.0f));
		snprintf(w, sizeof(w), "%s.mlp.gate_proj.weight", pre);
		g = op(&b, "MatMul", h, weight(&b, w, c->d_model, c->d_ff, 2.0f / sqrtf((float)c->d_model), 0), NULL);
		g = gemma ? gelu_tanh(&b, g) : op(&b, "Mul", g, op(&b, "Sigmoid", g, NULL, NULL), NULL);
		snprintf(w, sizeof(w), "%s.mlp.up_proj.weight", pre);
		u = op(&b, "MatMul", h, weight(&b, w, c->d_model, c->d_ff, 2.0f / sqrtf((float)c->d_model), 0), NULL);
		snprintf(w, sizeof(w), "%s.mlp.down_proj.weight", pre);
		a = op(&b, "MatMul", op(&b, "Mul", g, u, NULL),
		       weight(&b, w, c->d_ff, c->d_model, 2.0f / sqrtf((float)c->d_ff), 0), NULL);
		if (gemma) {
			snprintf(w, sizeof(w), "%s.post_feedforward_layernorm.weight", pre);
			a = rms_norm(&b, a, norm_weight(&b, w, c->d_model, true, POST_NORM_BASE));
		}
		x = op(&b, "Add", x, a, NULL);
	}
	x = rms_norm(&b, x, norm_weight(&b, "model.norm.weight", c->d_model, gemma, 0.0f));
	if (c->lm_head_copy) {	/* tied, stored as its own transposed copy */
		op(&b, "MatMul", x, transposed_copy(&b, "lm_head.weight", embed), NULL);
	} else if (gemma) {	/* tied: the embedding, transposed */
		const char *t = op(&b, "Transpose", embed, NULL, NULL);

		attr_is(&b, "perm", 2, (int64_t[]){ 1, 0 });
		op(&b, "MatMul", x, t, NULL);
	} else {
		op(&b, "MatMul", x, weight(&b, "lm_head.weight", c->d_model, c->vocab, 2.0f / sqrtf((float)c->d_model), 0),
		   NULL);
	}
	onnxpass_node_set_output(last(&b), 0, "logits");
	io_at(b.g, "logits", false, 0, ONNXPASS_DT_FLOAT, 3, dl, pl);
	save_model(m, slash ? dir : ".", slash ? slash + 1 : path, external);
	scratch_close(&b);
	free(dir);
}

/*
 * M2M100 / NLLB-200 in optimum's three-file layout.  Pre-LayerNorm layers
 * (a norm before self-attention, cross-attention and the feed-forward, and
 * one after the last layer of each stack), biased projections, attention
 * scaled by 1/sqrt(head_dim) after the product (the eager form of recent
 * transformers), ReLU feed-forward, the embedding scaled by sqrt(d_model),
 * sinusoidal positions computed from the ids (pad tokens get the pad row;
 * the others count from pad + 1 on, after the past), and the lm_head tied
 * to the shared embedding, read through a Transpose.  Every file holds the
 * shared table (optimum writes it three times).
 */
#define M2M_PAD 1

/* The sinusoidal table [max_distance + 2, d_model]: half sines, half
 * cosines, the pad row zero. */
static const char *sinusoid_table(struct b *b, const char *name)
{
	const struct t5_config *c = b->c;
	int64_t rows = c->max_distance + 2, half = c->d_model / 2, d[2] = { rows, c->d_model };
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, ONNXPASS_DT_FLOAT, 2, d);
	float *p = t ? onnxpass_tensor_mutable_data(t) : NULL;
	double step = log(10000.0) / (double)(half > 1 ? half - 1 : 1);

	if (!p)
		die("out of memory");
	memset(p, 0, (size_t)(rows * c->d_model) * sizeof(float));
	for (int64_t r = 0; r < rows; r++)
		for (int64_t i = 0; r != M2M_PAD && i < half; i++) {
			double a = (double)r * exp(-(double)i * step);

			p[r * c->d_model + i] = (float)sin(a);
			p[r * c->d_model + half + i] = (float)cos(a);
		}
	if (onnxpass_graph_add_initializer(b->g, t))
		die("duplicate weight");
	return name;
}

/* scale * table[ids] + positions[(cumsum(ids != pad) + past) * (ids != pad) + pad] */
static const char *m2m_embed(struct b *b, const char *pre, const char *past_len)
{
	const struct t5_config *c = b->c;
	char name[96];
	const char *x, *m, *p, *g, *shape;
	int64_t every = b->outlier_every;

	b->outlier_every = 0;	/* the projections' outliers only */
	x = embed(b, weight(b, "model.shared.weight", c->vocab, c->d_model, 2.0f / sqrtf((float)c->d_model), 0),
		  "input_ids");
	b->outlier_every = every;
	x = op(b, "Mul", x, scalar_f(b, sqrtf((float)c->d_model)), NULL);
	m = op(b, "Not", op(b, "Equal", "input_ids", scalar_i(b, M2M_PAD), NULL), NULL, NULL);
	m = op(b, "Cast", m, NULL, NULL);
	attr_i(b, "to", ONNXPASS_DT_INT32);
	p = op(b, "CumSum", m, scalar_i(b, 1), NULL);
	if (past_len) {
		const char *pl = op(b, "Cast", past_len, NULL, NULL);

		attr_i(b, "to", ONNXPASS_DT_INT32);
		p = op(b, "Add", p, pl, NULL);
	}
	p = op(b, "Cast", op(b, "Mul", p, m, NULL), NULL, NULL);
	attr_i(b, "to", ONNXPASS_DT_INT64);
	p = op(b, "Add", p, scalar_i(b, M2M_PAD), NULL);
	snprintf(name, sizeof(name), "model.%s.embed_positions.weights", pre);
	g = op(b, "Gather", sinusoid_table(b, name), op(b, "Reshape", p, ints(b, 1, (int64_t)-1), NULL), NULL);
	shape = op(b, "Concat", dim_of(b, "input_ids", 0), dim_of(b, "input_ids", 1), ints(b, 1, (int64_t)-1));
	attr_i(b, "axis", 0);
	return op(b, "Add", x, op(b, "Reshape", g, shape, NULL), NULL);
}

/* heads(linear(x)) for projection <pre>.<which>, batch read off batch_from */
static const char *m2m_heads(struct b *b, const char *x, const char *pre, const char *which, const char *batch_from)
{
	char name[128];

	snprintf(name, sizeof(name), "%s.%s", pre, which);
	return heads(b, linear(b, x, name, b->c->d_model, b->c->heads * b->c->d_kv), batch_from);
}

/* x + out_proj(attention), the heads merged back */
static const char *m2m_attn_out(struct b *b, const char *x, const char *q, const char *k, const char *v,
				const char *bias, const char *pre, const char *batch_from)
{
	char name[128];
	const char *a = unheads(b, softmax_attn(b, q, k, v, bias, 1.0f / sqrtf((float)b->c->d_kv)), batch_from);

	snprintf(name, sizeof(name), "%s.out_proj", pre);
	return op(b, "Add", x, linear(b, a, name, b->c->heads * b->c->d_kv, b->c->d_model), NULL);
}

/* x + fc2(relu(fc1(final_layer_norm(x)))) */
static const char *m2m_ffn(struct b *b, const char *x, const char *pre)
{
	char name[128];
	const char *h;

	snprintf(name, sizeof(name), "%s.final_layer_norm", pre);
	h = layer_norm(b, x, name);
	snprintf(name, sizeof(name), "%s.fc1", pre);
	h = op(b, "Relu", linear(b, h, name, b->c->d_model, b->c->d_ff), NULL, NULL);
	snprintf(name, sizeof(name), "%s.fc2", pre);
	return op(b, "Add", x, linear(b, h, name, b->c->d_ff, b->c->d_model), NULL);
}

static struct onnxpass_model *m2m_model(struct b *b, const struct t5_config *c, const char *dir, bool external,
					const char *prefix)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "main_graph");

	memset(b, 0, sizeof(*b));
	b->g = onnxpass_model_graph(m);
	b->c = c;
	b->seed_by_name = true;
	b->outlier_every = 32;
	b->outlier_gain = 8.0f;
	snprintf(b->prefix, sizeof(b->prefix), "%s", prefix);
	if (external)
		scratch_open(b, dir);
	return m;
}

static void m2m_encoder(const struct t5_config *c, const char *dir, bool external)
{
	struct b b;
	struct onnxpass_model *m = m2m_model(&b, c, dir, external, "/model/encoder");
	const int64_t d2[2] = { -1, -1 }, d3[3] = { -1, -1, c->d_model };
	const char *p2[2] = { "batch_size", "encoder_sequence_length" };
	const char *p3[3] = { "batch_size", "encoder_sequence_length", NULL };
	const char *x, *bias;

	io(b.g, "input_ids", true, ONNXPASS_DT_INT64, 2, d2, p2);
	io(b.g, "attention_mask", true, ONNXPASS_DT_INT64, 2, d2, p2);
	x = m2m_embed(&b, "encoder", NULL);
	bias = mask_bias(&b, "attention_mask");
	for (int l = 0; l < c->layers; l++) {
		char pre[64], name[96];
		const char *h, *q, *k, *v;

		snprintf(pre, sizeof(pre), "model.encoder.layers.%d", l);
		snprintf(name, sizeof(name), "%s.self_attn_layer_norm", pre);
		h = layer_norm(&b, x, name);
		snprintf(name, sizeof(name), "%s.self_attn", pre);
		q = m2m_heads(&b, h, name, "q_proj", h);
		k = m2m_heads(&b, h, name, "k_proj", h);
		v = m2m_heads(&b, h, name, "v_proj", h);
		x = m2m_attn_out(&b, x, q, k, v, bias, name, h);
		x = m2m_ffn(&b, x, pre);
	}
	layer_norm(&b, x, "model.encoder.layer_norm");
	onnxpass_node_set_output(last(&b), 0, "last_hidden_state");
	io(b.g, "last_hidden_state", false, ONNXPASS_DT_FLOAT, 3, d3, p3);
	save_model(m, dir, "encoder_model.onnx", external);
	scratch_close(&b);
}

/* A graph output present.L.KIND.WHICH with the right dims */
static void m2m_present(struct b *b, const char *name, const char *len)
{
	const int64_t dkv[4] = { -1, b->c->heads, -1, b->c->d_kv };

	io(b->g, name, false, ONNXPASS_DT_FLOAT, 4, dkv, (const char *const[]){ "batch_size", NULL, len, NULL });
}

static void m2m_decoder(const struct t5_config *c, const char *dir, bool with_past, bool external)
{
	struct b b;
	struct onnxpass_model *m = m2m_model(&b, c, dir, external, "/model/decoder");
	const char *pe[2] = { "batch_size", "encoder_sequence_length" };
	const char *pd[2] = { "batch_size", with_past ? NULL : "decoder_sequence_length" };
	const int64_t de[2] = { -1, -1 }, dd[2] = { -1, with_past ? 1 : -1 };
	const int64_t dh[3] = { -1, -1, c->d_model }, dkv[4] = { -1, c->heads, -1, c->d_kv };
	const char *ph[3] = { "batch_size", "encoder_sequence_length", NULL };
	const char *self_len = with_past ? "past_decoder_sequence_length + 1" : "decoder_sequence_length";
	const char *x, *self_bias, *cross_bias, *past_len = NULL, *t;
	char name[128];

	io(b.g, "encoder_attention_mask", true, ONNXPASS_DT_INT64, 2, de, pe);
	io(b.g, "input_ids", true, ONNXPASS_DT_INT64, 2, dd, pd);
	io(b.g, "encoder_hidden_states", true, ONNXPASS_DT_FLOAT, 3, dh, ph);
	if (with_past)
		for (int l = 0; l < c->layers; l++)
			for (int e = 0; e < 4; e++) {
				const char *p4[4] = { "batch_size", NULL,
						      e >= 2 ? "encoder_sequence_length_out" : "past_decoder_sequence_length",
						      NULL };

				snprintf(name, sizeof(name), "past_key_values.%d.%s.%s", l, e >= 2 ? "encoder" : "decoder",
					 e & 1 ? "value" : "key");
				io(b.g, name, true, ONNXPASS_DT_FLOAT, 4, dkv, p4);
			}
	if (with_past)
		past_len = dim_of(&b, "past_key_values.0.decoder.key", 2);
	x = m2m_embed(&b, "decoder", past_len);
	if (with_past) {	/* one new token sees every key */
		const float zero = 0.0f;

		self_bias = scalar(&b, ONNXPASS_DT_FLOAT, &zero, sizeof(zero));
	} else {	/* causal: keys after the query are masked */
		const char *pos = arange(&b, dim_of(&b, "input_ids", 1), NULL);
		const char *later = op(&b, "Greater", op(&b, "Unsqueeze", pos, ints(&b, 1, (int64_t)0), NULL),
				       op(&b, "Unsqueeze", pos, ints(&b, 1, (int64_t)1), NULL), NULL);
		const char *f = op(&b, "Cast", later, NULL, NULL);

		attr_i(&b, "to", ONNXPASS_DT_FLOAT);
		self_bias = op(&b, "Mul", f, scalar_f(&b, -1e9f), NULL);
	}
	cross_bias = mask_bias(&b, "encoder_attention_mask");
	for (int l = 0; l < c->layers; l++) {
		char pre[64], ln[96], at[96], kname[64], vname[64];
		const char *h, *q, *k, *v;

		snprintf(pre, sizeof(pre), "model.decoder.layers.%d", l);
		snprintf(ln, sizeof(ln), "%s.self_attn_layer_norm", pre);
		snprintf(at, sizeof(at), "%s.self_attn", pre);
		h = layer_norm(&b, x, ln);
		q = m2m_heads(&b, h, at, "q_proj", h);
		k = m2m_heads(&b, h, at, "k_proj", h);
		v = m2m_heads(&b, h, at, "v_proj", h);
		snprintf(kname, sizeof(kname), "present.%d.decoder.key", l);
		snprintf(vname, sizeof(vname), "present.%d.decoder.value", l);
		if (with_past) {
			snprintf(name, sizeof(name), "past_key_values.%d.decoder.key", l);
			op(&b, "Concat", name, k, NULL);
			attr_i(&b, "axis", 2);
			onnxpass_node_set_output(last(&b), 0, kname);
			snprintf(name, sizeof(name), "past_key_values.%d.decoder.value", l);
			op(&b, "Concat", name, v, NULL);
			attr_i(&b, "axis", 2);
			onnxpass_node_set_output(last(&b), 0, vname);
		} else {
			op(&b, "Identity", k, NULL, NULL);
			onnxpass_node_set_output(last(&b), 0, kname);
			op(&b, "Identity", v, NULL, NULL);
			onnxpass_node_set_output(last(&b), 0, vname);
		}
		m2m_present(&b, kname, self_len);
		m2m_present(&b, vname, self_len);
		x = m2m_attn_out(&b, x, q, kname, vname, self_bias, at, h);
		/* cross attention: keys and values of the encoder's states,
		 * computed by the first decoder, given to the one with past */
		snprintf(ln, sizeof(ln), "%s.encoder_attn_layer_norm", pre);
		snprintf(at, sizeof(at), "%s.encoder_attn", pre);
		h = layer_norm(&b, x, ln);
		q = m2m_heads(&b, h, at, "q_proj", h);
		snprintf(kname, sizeof(kname), "%s.%d.encoder.key", with_past ? "past_key_values" : "present", l);
		snprintf(vname, sizeof(vname), "%s.%d.encoder.value", with_past ? "past_key_values" : "present", l);
		if (!with_past) {
			m2m_heads(&b, "encoder_hidden_states", at, "k_proj", h);
			onnxpass_node_set_output(last(&b), 0, kname);
			m2m_heads(&b, "encoder_hidden_states", at, "v_proj", h);
			onnxpass_node_set_output(last(&b), 0, vname);
			m2m_present(&b, kname, "encoder_sequence_length_out");
			m2m_present(&b, vname, "encoder_sequence_length_out");
		}
		x = m2m_attn_out(&b, x, q, kname, vname, cross_bias, at, h);
		x = m2m_ffn(&b, x, pre);
	}
	x = layer_norm(&b, x, "model.decoder.layer_norm");
	t = op(&b, "Transpose", "model.shared.weight", NULL, NULL);
	attr_is(&b, "perm", 2, (int64_t[]){ 1, 0 });
	op(&b, "MatMul", x, t, NULL);
	save_decoder(&b, m, dir, with_past, external);
}

void m2m100_generate(const struct t5_config *c, const char *dir, bool external)
{
	seq2seq_files(c, dir, external, m2m_encoder, m2m_decoder, "{\"model_type\": \"m2m100\", \"architectures\": [\"M2M100ForConditionalGeneration\"], "
		   "\"d_model\": %lld, \"encoder_attention_heads\": %lld, \"decoder_attention_heads\": %lld, "
		   "\"encoder_ffn_dim\": %lld, \"decoder_ffn_dim\": %lld, \"encoder_layers\": %d, "
		   "\"decoder_layers\": %d, \"vocab_size\": %lld, \"max_position_embeddings\": %lld, "
		   "\"activation_function\": \"relu\", \"scale_embedding\": true, \"tie_word_embeddings\": true, "
		   "\"decoder_start_token_id\": 2, \"eos_token_id\": 2, \"pad_token_id\": %d}\n",
		(long long)c->d_model, (long long)c->heads, (long long)c->heads, (long long)c->d_ff,
		(long long)c->d_ff, c->layers, c->layers, (long long)c->vocab, (long long)c->max_distance, M2M_PAD);
}
