/* SPDX-License-Identifier: MIT */
/* Generates the models the demo, tests and benchmarks need: a small
 * two-file bundle with duplicated weights, a large external-data model,
 * and hostile files for the bad-input tests. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <onnxpass/onnxpass.h>
#include "gen-t5.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static float frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((double)(rng >> 11) / 9007199254740992.0 - 0.5);
}

static struct onnxpass_tensor *weight(const char *name, int64_t rows, int64_t cols, float scale)
{
	int64_t dims[2] = { rows, cols };
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, ONNXPASS_DT_FLOAT, 2, dims);
	float *p = onnxpass_tensor_mutable_data(t);

	for (int64_t i = 0; i < rows * cols; i++)
		p[i] = frand() * scale;
	return t;
}

static void die(const char *what)
{
	fprintf(stderr, "gen-model: %s\n", what);
	exit(1);
}

static void add_node(struct onnxpass_graph *g, const char *op, const char *name,
		     const char *a, const char *b, const char *out)
{
	const char *in[2] = { a, b };

	if (!onnxpass_graph_add_node(g, op, NULL, name, in, b ? 2 : 1, &out, 1))
		die("cannot add node");
}

/* Node l<l>_<tag> of layer l; its output, l<l>_<out_tag>, is copied to
 * out (64 bytes) after a and b are read. */
static void layer_node(struct onnxpass_graph *g, const char *op, int l, const char *tag, const char *a,
		       const char *b, char *out, const char *out_tag)
{
	char name[64], res[64];

	snprintf(name, sizeof(name), "l%d_%s", l, tag);
	snprintf(res, sizeof(res), "l%d_%s", l, out_tag);
	add_node(g, op, name, a, b, res);
	strcpy(out, res);
}

/* input_ids -> Gather(embed) -> MatMul(w1) -> Add(b1) -> Relu -> MatMul(w2)
 * Every layer's second weight is a copy of its first (an in-file duplicate),
 * and the embedding is byte-identical in every file (a cross-file one). */
static struct onnxpass_model *demo_model(const char *role, int64_t vocab, int64_t hidden,
					 int layers, uint64_t seed, uint64_t embed_seed)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, role);
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	const char *params[2] = { "batch", "seq" };
	int64_t dims[3] = { -1, -1, hidden };
	struct onnxpass_value *v;
	char x[64], y[64];

	rng = embed_seed;
	onnxpass_graph_add_initializer(g, weight("embed.weight", vocab, hidden, 1.0f));
	rng = seed;
	v = onnxpass_graph_add_input(g, "input_ids", -1);
	onnxpass_value_set_type(v, ONNXPASS_DT_INT64, 2, dims, params);
	add_node(g, "Gather", "embed", "embed.weight", "input_ids", "h0");
	strcpy(x, "h0");
	for (int l = 0; l < layers; l++) {
		char w1[32], w2[32], b1[32];
		int64_t bd[1] = { hidden };
		struct onnxpass_tensor *bias = onnxpass_tensor_new("", ONNXPASS_DT_FLOAT, 1, bd);
		struct onnxpass_tensor *w;

		snprintf(w1, sizeof(w1), "layer%d.w1", l);
		snprintf(w2, sizeof(w2), "layer%d.w2", l);
		snprintf(b1, sizeof(b1), "layer%d.b1", l);
		w = weight(w1, hidden, hidden, 0.2f);
		onnxpass_graph_add_initializer(g, onnxpass_tensor_clone(w, w2));
		onnxpass_graph_add_initializer(g, w);
		onnxpass_tensor_free(bias);
		bias = weight(b1, 1, hidden, 0.1f);
		onnxpass_graph_add_initializer(g, bias);
		layer_node(g, "MatMul", l, "mm1", x, w1, y, "a");
		layer_node(g, "Add", l, "add", y, b1, x, "b");
		layer_node(g, "Relu", l, "relu", x, NULL, y, "c");
		layer_node(g, "MatMul", l, "mm2", y, w2, x, "out");
	}
	add_node(g, "Identity", "out", x, NULL, "hidden_states");
	v = onnxpass_graph_add_output(g, "hidden_states", -1);
	{
		const char *p3[3] = { "batch", "seq", NULL };

		onnxpass_value_set_type(v, ONNXPASS_DT_FLOAT, 3, dims, p3);
	}
	return m;
}

static void save(struct onnxpass_model *m, const char *dir, const char *file,
		 enum onnxpass_external_mode ext)
{
	struct onnxpass_save_options o = { sizeof(o), ext, 0, NULL };
	char path[4096], err[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (onnxpass_model_save(m, path, &o, err, sizeof(err)))
		die(err);
	onnxpass_model_free(m);
}

/* ------------------------------------------------------------------ */
/* Hand-written protobuf for files the library would never write.      */

struct pb {
	unsigned char *p;
	size_t n;
};

static void pb_bytes(struct pb *b, const void *d, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	unsigned char c[10];
	size_t n = 0;

	do {
		c[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_bytes(b, c, n);
}

static void pb_key(struct pb *b, unsigned field, unsigned wt)
{
	pb_varint(b, (uint64_t)field << 3 | wt);
}

static void pb_int(struct pb *b, unsigned field, uint64_t v)
{
	pb_key(b, field, 0);
	pb_varint(b, v);
}

static void pb_str(struct pb *b, unsigned field, const void *s, size_t n)
{
	pb_key(b, field, 2);
	pb_varint(b, n);
	pb_bytes(b, s, n);
}

static void pb_msg(struct pb *b, unsigned field, struct pb *sub)
{
	pb_str(b, field, sub->p, sub->n);
	free(sub->p);
	sub->p = NULL;
	sub->n = 0;
}

/* Model: Identity(W) -> Y with initializer W described by the caller. */
static void hostile(const char *path, struct pb *tensor)
{
	struct pb node = { 0 }, graph = { 0 }, model = { 0 }, vi = { 0 }, opset = { 0 };
	FILE *f;

	pb_str(&node, 1, "W", 1);
	pb_str(&node, 2, "Y", 1);
	pb_str(&node, 4, "Identity", 8);
	pb_msg(&graph, 1, &node);
	pb_str(&graph, 2, "g", 1);
	pb_msg(&graph, 5, tensor);
	pb_str(&vi, 1, "Y", 1);
	pb_msg(&graph, 12, &vi);
	pb_int(&model, 1, 8);
	pb_int(&opset, 2, 13);
	pb_msg(&model, 8, &opset);
	pb_msg(&model, 7, &graph);
	f = fopen(path, "wb");
	if (!f || fwrite(model.p, 1, model.n, f) != model.n || fclose(f))
		die("cannot write hostile model");
	free(model.p);
}

/* A float graph input or output (field 11 or 12 of GraphProto) [d0, d1]. */
static void io_pb(struct pb *g, unsigned field, const char *name, int64_t d0, int64_t d1)
{
	struct pb vi = { 0 }, type = { 0 }, tt = { 0 }, shape = { 0 }, dim = { 0 };

	pb_int(&tt, 1, ONNXPASS_DT_FLOAT);
	pb_int(&dim, 1, (uint64_t)d0);
	pb_msg(&shape, 1, &dim);
	pb_int(&dim, 1, (uint64_t)d1);
	pb_msg(&shape, 1, &dim);
	pb_msg(&tt, 2, &shape);
	pb_msg(&type, 1, &tt);
	pb_str(&vi, 1, name, strlen(name));
	pb_msg(&vi, 2, &type);
	pb_msg(g, field, &vi);
}

static void node_pb(struct pb *g, const char *name, const char *op, const char *a, const char *b,
		    const char *out)
{
	struct pb n = { 0 };

	pb_str(&n, 1, a, strlen(a));
	if (b)
		pb_str(&n, 1, b, strlen(b));
	pb_str(&n, 2, out, strlen(out));
	pb_str(&n, 3, name, strlen(name));
	pb_str(&n, 4, op, strlen(op));
	pb_msg(g, 1, &n);
}

static void write_model(const char *path, struct pb *graph, int ir, int opset)
{
	struct pb model = { 0 }, op = { 0 };
	FILE *f;

	pb_str(graph, 2, "g", 1);
	pb_int(&model, 1, (uint64_t)ir);
	pb_int(&op, 2, (uint64_t)opset);
	pb_msg(&model, 8, &op);
	pb_msg(&model, 7, graph);
	f = fopen(path, "wb");
	if (!f || fwrite(model.p, 1, model.n, f) != model.n || fclose(f))
		die("cannot write model");
	free(model.p);
}

static void write_graph(const char *path, struct pb *graph)
{
	write_model(path, graph, 8, 13);
}

/* Graphs ONNX Runtime refuses too: a cycle (x + c -> a -> b -> c), and an
 * Add of [2, 3] and [2, 5]. */
static void gen_unsound(const char *dir)
{
	struct pb g = { 0 };
	char p[4096];

	io_pb(&g, 11, "x", 2, 3);
	node_pb(&g, "add", "Add", "x", "c", "a");
	node_pb(&g, "relu", "Relu", "a", NULL, "b");
	node_pb(&g, "neg", "Neg", "b", NULL, "c");
	io_pb(&g, 12, "b", 2, 3);
	snprintf(p, sizeof(p), "%s/cycle.onnx", dir);
	write_graph(p, &g);
	io_pb(&g, 11, "x", 2, 3);
	io_pb(&g, 11, "y", 2, 5);
	node_pb(&g, "sum", "Add", "x", "y", "z");
	io_pb(&g, 12, "z", 2, 5);
	snprintf(p, sizeof(p), "%s/contradict.onnx", dir);
	write_graph(p, &g);
	io_pb(&g, 11, "", 2, 3);
	node_pb(&g, "relu", "Relu", "", NULL, "y");
	io_pb(&g, 12, "y", 2, 3);
	snprintf(p, sizeof(p), "%s/empty-input-name.onnx", dir);
	write_graph(p, &g);
	io_pb(&g, 11, "x", 2, 3);
	node_pb(&g, "relu", "Relu", "x", NULL, "y");
	io_pb(&g, 12, "", 2, 3);
	snprintf(p, sizeof(p), "%s/empty-output-name.onnx", dir);
	write_graph(p, &g);
	/* activations of 2^124 elements: counted as too large, not as 0 */
	io_pb(&g, 11, "x", 1LL << 62, 1LL << 62);
	node_pb(&g, "relu", "Relu", "x", NULL, "y");
	io_pb(&g, 12, "y", 1LL << 62, 1LL << 62);
	snprintf(p, sizeof(p), "%s/huge-dims.onnx", dir);
	write_graph(p, &g);
	/* one Split with 300 outputs: more outputs than nodes (info --memory's
	 * liveness map was sized by nodes and looped for ever) */
	{
		struct pb n = { 0 };
		char name[16];

		io_pb(&g, 11, "x", 300, 3);
		pb_str(&n, 1, "x", 1);
		for (int i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "y%d", i);
			pb_str(&n, 2, name, strlen(name));
		}
		pb_str(&n, 3, "split", 5);
		pb_str(&n, 4, "Split", 5);
		pb_msg(&g, 1, &n);
		for (int i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "y%d", i);
			io_pb(&g, 12, name, 1, 3);
		}
		snprintf(p, sizeof(p), "%s/many-outputs.onnx", dir);
		write_graph(p, &g);
	}
	/* a Reshape whose data input is the empty name, its shape a constant
	 * (the info --profile fuzzer's finding: the shape rule read the
	 * values of an absent input) */
	{
		struct pb s = { 0 };

		pb_int(&s, 1, 2);
		pb_int(&s, 2, ONNXPASS_DT_INT64);
		pb_int(&s, 7, 3);
		pb_int(&s, 7, 2);
		pb_str(&s, 8, "s", 1);
		pb_msg(&g, 5, &s);
		io_pb(&g, 11, "x", 2, 3);
		node_pb(&g, "relu", "Relu", "x", NULL, "y");
		node_pb(&g, "reshape", "Reshape", "", "s", "r");
		io_pb(&g, 12, "y", 2, 3);
		io_pb(&g, 12, "r", 3, 2);
		snprintf(p, sizeof(p), "%s/reshape-no-data.onnx", dir);
		write_graph(p, &g);
	}
	/* an output whose type is a sequence of sequences ... 5,000 deep
	 * (35 kB): protobuf-c unpacks it recursively */
	{
		struct pb ty = { 0 }, seq = { 0 }, tt = { 0 };

		pb_int(&tt, 1, ONNXPASS_DT_FLOAT);
		pb_msg(&ty, 1, &tt);
		for (int i = 0; i < 5000; i++) {
			pb_msg(&seq, 1, &ty);
			pb_msg(&ty, 4, &seq);
		}
		io_pb(&g, 11, "x", 2, 3);
		node_pb(&g, "relu", "Relu", "x", NULL, "y");
		{
			struct pb vi = { 0 };

			pb_str(&vi, 1, "y", 1);
			pb_msg(&vi, 2, &ty);
			pb_msg(&g, 12, &vi);
		}
		snprintf(p, sizeof(p), "%s/deep-type.onnx", dir);
		write_graph(p, &g);
	}
}

static void tensor_head(struct pb *t, const int64_t *dims, size_t rank)
{
	for (size_t i = 0; i < rank; i++)
		pb_int(t, 1, (uint64_t)dims[i]);
	pb_int(t, 2, ONNXPASS_DT_FLOAT);
	pb_str(t, 8, "W", 1);
}

static void external(struct pb *t, const char *loc, const char *off, const char *len)
{
	struct pb kv = { 0 };

	pb_str(&kv, 1, "location", 8);
	pb_str(&kv, 2, loc, strlen(loc));
	pb_msg(t, 13, &kv);
	if (off) {
		pb_str(&kv, 1, "offset", 6);
		pb_str(&kv, 2, off, strlen(off));
		pb_msg(t, 13, &kv);
	}
	if (len) {
		pb_str(&kv, 1, "length", 6);
		pb_str(&kv, 2, len, strlen(len));
		pb_msg(t, 13, &kv);
	}
	pb_int(t, 14, 1);
}

/* ---- models of old opsets, whose attributes became inputs later ---- */

struct attr {
	const char *name;
	int kind;	/* 'i' int, 'f' float, 'l' ints */
	int64_t i;
	float f;
	const int64_t *l;
	size_t n;
};

static void node_attrs(struct pb *g, const char *op, const char **in, size_t n_in, const char **out,
		       size_t n_out, const struct attr *a, size_t n_a)
{
	struct pb n = { 0 };

	for (size_t k = 0; k < n_in; k++)
		pb_str(&n, 1, in[k], strlen(in[k]));
	for (size_t k = 0; k < n_out; k++)
		pb_str(&n, 2, out[k], strlen(out[k]));
	pb_str(&n, 3, out[0], strlen(out[0]));
	pb_str(&n, 4, op, strlen(op));
	for (size_t k = 0; k < n_a; k++) {
		struct pb at = { 0 };

		pb_str(&at, 1, a[k].name, strlen(a[k].name));
		if (a[k].kind == 'i') {
			pb_int(&at, 3, (uint64_t)a[k].i);
			pb_int(&at, 20, 2);
		} else if (a[k].kind == 'f') {
			pb_key(&at, 2, 5);
			pb_bytes(&at, &a[k].f, 4);
			pb_int(&at, 20, 1);
		} else {
			for (size_t j = 0; j < a[k].n; j++)
				pb_int(&at, 8, (uint64_t)a[k].l[j]);
			pb_int(&at, 20, 7);
		}
		pb_msg(&n, 5, &at);
	}
	pb_msg(g, 1, &n);
}


/* opset10.onnx: Clip, Pad, ReduceMean, ReduceSum, Squeeze, Unsqueeze and
 * Split with their attribute forms; opset9.onnx: Slice and TopK.  Same
 * math after `convert --opset 21`, which must move them to inputs. */
/* Models at the edges the passes meet rarely: an Add of two rank-16 values
 * (the shape engine's limit), a MatMul whose output is unnamed. */
static void gen_unusual(const char *dir)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "rank16");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	int64_t d[16], bd[2] = { 32, 8 }, ad[2] = { 2, 32 };
	const char *ins[2] = { "x", "y" }, *out = "z", *mm_in[2] = { "A", "B" }, *none = "";
	struct onnxpass_tensor *b;

	for (int i = 0; i < 16; i++)
		d[i] = 1;
	onnxpass_value_set_type(onnxpass_graph_add_input(g, "x", -1), ONNXPASS_DT_FLOAT, 16, d, NULL);
	onnxpass_value_set_type(onnxpass_graph_add_input(g, "y", -1), ONNXPASS_DT_FLOAT, 16, d, NULL);
	if (!onnxpass_graph_add_node(g, "Add", NULL, "add", ins, 2, &out, 1))
		die("cannot build the rank-16 model");
	onnxpass_value_set_type(onnxpass_graph_add_output(g, "z", -1), ONNXPASS_DT_FLOAT, 16, d, NULL);
	save(m, dir, "rank16-add.onnx", ONNXPASS_EXTERNAL_NEVER);	/* (frees m) */

	m = onnxpass_model_new(8, 17, "unnamed");
	g = onnxpass_model_graph(m);
	b = onnxpass_tensor_new("B", ONNXPASS_DT_FLOAT, 2, bd);
	memset(onnxpass_tensor_mutable_data(b), 0, 32 * 8 * sizeof(float));
	onnxpass_graph_add_initializer(g, b);
	onnxpass_value_set_type(onnxpass_graph_add_input(g, "A", -1), ONNXPASS_DT_FLOAT, 2, ad, NULL);
	if (!onnxpass_graph_add_node(g, "MatMul", NULL, "mm", mm_in, 2, &none, 1) ||
	    !onnxpass_graph_add_node(g, "Identity", NULL, "id", mm_in, 1, &out, 1))
		die("cannot build the unnamed-output model");
	onnxpass_value_set_type(onnxpass_graph_add_output(g, "z", -1), ONNXPASS_DT_FLOAT, 2, ad, NULL);
	save(m, dir, "unnamed-output.onnx", ONNXPASS_EXTERNAL_NEVER);
}

/* The transpose of src [r, c] (float32, or 16-bit when es == 2). */
static struct onnxpass_tensor *transposed(const char *name, struct onnxpass_tensor *src)
{
	int64_t r = onnxpass_tensor_dim(src, 0), c = onnxpass_tensor_dim(src, 1), dims[2] = { c, r };
	int dt = onnxpass_tensor_dtype(src);
	size_t es = dt == ONNXPASS_DT_FLOAT ? 4 : 2;
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, dt, 2, dims);
	const uint8_t *s = onnxpass_tensor_data(src);
	uint8_t *d = t ? onnxpass_tensor_mutable_data(t) : NULL;

	if (!d)
		die("out of memory");
	for (int64_t i = 0; i < r; i++)
		for (int64_t j = 0; j < c; j++)
			memcpy(d + (size_t)(j * r + i) * es, s + (size_t)(i * c + j) * es, es);
	return t;
}

/* src (float32) as float16 or bfloat16, rounded to nearest even. */
static struct onnxpass_tensor *cast_copy(const char *name, struct onnxpass_tensor *src, int dt)
{
	int64_t dims[2] = { onnxpass_tensor_dim(src, 0), onnxpass_tensor_dim(src, 1) };
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, dt, 2, dims);
	const float *s = onnxpass_tensor_data(src);
	uint16_t *d = t ? onnxpass_tensor_mutable_data(t) : NULL;

	if (!d)
		die("out of memory");
	for (int64_t i = 0; i < dims[0] * dims[1]; i++)
		d[i] = dt == ONNXPASS_DT_FLOAT16 ? onnxpass_f32_to_f16(s[i]) : onnxpass_f32_to_bf16(s[i]);
	return t;
}

static void node(struct onnxpass_graph *g, const char *op, const char *a, const char *b, const char *out)
{
	add_node(g, op, out, a, b, out);
}

static void cast_node(struct onnxpass_graph *g, const char *in, const char *out, int to)
{
	node(g, "Cast", in, NULL, out);
	onnxpass_node_set_attr_int(onnxpass_value_producer(onnxpass_graph_value(g, out), NULL), "to", to);
}

static void ids_input(struct onnxpass_graph *g)
{
	int64_t d[1] = { -1 };
	const char *p[1] = { "n" };

	onnxpass_value_set_type(onnxpass_graph_add_input(g, "ids", -1), ONNXPASS_DT_INT64, 1, d, p);
}

static void float_output(struct onnxpass_graph *g, const char *name)
{
	onnxpass_value_set_type(onnxpass_graph_add_output(g, name, -1), ONNXPASS_DT_FLOAT, 0, NULL, NULL);
}

/* Copies in another form, for dedup (V 300, H 40):
 *   transposed[-nearly].onnx: Gather(E [V, H]), then MatMul by Q [H, H],
 *     by Qt = Q^T and by W = E^T (the tied lm_head stored on its own);
 *     -nearly: W's last element one ulp off.
 *   cast[-nearly].onnx: Gather of E, of E16 = float16(E) and of
 *     Eb = bfloat16(E) (cast back to float): three outputs.  E begins with
 *     rounding ties, a subnormal, -0 and 65519 (to float16's largest);
 *     -nearly: E16's last element one ulp off, Eb truncated not rounded. */
static void gen_copies(const char *dir)
{
	static const float special[] = { 1.0f + 0x1p-11f, 1.0f + 0x3p-11f, 1.0f + 0x1p-8f, 1.0f + 0x3p-8f, 1e-6f,
					 -0.0f, 65519.0f, -2.5f };
	const int64_t V = 300, H = 40;

	for (int nearly = 0; nearly < 2; nearly++) {
		struct onnxpass_model *m = onnxpass_model_new(8, 17, "transposed");
		struct onnxpass_graph *g = onnxpass_model_graph(m);
		struct onnxpass_tensor *e = weight("E", V, H, 1.0f), *q = weight("Q", H, H, 0.3f);
		struct onnxpass_tensor *w = transposed("W", e);

		if (nearly)
			((uint32_t *)onnxpass_tensor_mutable_data(w))[V * H - 1] ^= 1;
		onnxpass_graph_add_initializer(g, e);
		onnxpass_graph_add_initializer(g, q);
		onnxpass_graph_add_initializer(g, transposed("Qt", q));
		onnxpass_graph_add_initializer(g, w);
		ids_input(g);
		node(g, "Gather", "E", "ids", "h");
		node(g, "MatMul", "h", "Q", "hq");
		node(g, "MatMul", "hq", "Qt", "hqq");
		node(g, "MatMul", "hqq", "W", "logits");
		float_output(g, "logits");
		save(m, dir, nearly ? "transposed-nearly.onnx" : "transposed.onnx", ONNXPASS_EXTERNAL_NEVER);
	}
	for (int nearly = 0; nearly < 2; nearly++) {
		struct onnxpass_model *m = onnxpass_model_new(8, 17, "cast");
		struct onnxpass_graph *g = onnxpass_model_graph(m);
		struct onnxpass_tensor *e = weight("E", V, H, 4.0f), *e16, *eb;
		float *p = onnxpass_tensor_mutable_data(e);

		memcpy(p, special, sizeof(special));
		e16 = cast_copy("E16", e, ONNXPASS_DT_FLOAT16);
		eb = cast_copy("Eb", e, ONNXPASS_DT_BFLOAT16);
		if (nearly) {
			uint16_t *b = onnxpass_tensor_mutable_data(eb);

			((uint16_t *)onnxpass_tensor_mutable_data(e16))[V * H - 1] ^= 1;
			for (int64_t i = 0; i < V * H; i++) {
				uint32_t x;

				memcpy(&x, &p[i], 4);
				b[i] = (uint16_t)(x >> 16);
			}
		}
		onnxpass_graph_add_initializer(g, e);
		onnxpass_graph_add_initializer(g, e16);
		onnxpass_graph_add_initializer(g, eb);
		ids_input(g);
		node(g, "Gather", "E", "ids", "full");
		node(g, "Gather", "E16", "ids", "h16");
		cast_node(g, "h16", "half", ONNXPASS_DT_FLOAT);
		node(g, "Gather", "Eb", "ids", "hb");
		cast_node(g, "hb", "brain", ONNXPASS_DT_FLOAT);
		float_output(g, "full");
		float_output(g, "half");
		float_output(g, "brain");
		save(m, dir, nearly ? "cast-nearly.onnx" : "cast.onnx", ONNXPASS_EXTERNAL_NEVER);
	}
}

static void gen_old_opsets(const char *dir)
{
	static const int64_t ax1[] = { 1 }, ax0[] = { 0 }, split[] = { 2, 4 }, pads[] = { 0, 1, 0, 2 };
	static const int64_t st[] = { 0, 1 }, en[] = { 2, 5 }, sax[] = { 0, 1 };
	const char *x[] = { "x" };
	struct pb g = { 0 };
	char p[4096];

	io_pb(&g, 11, "x", 2, 6);
	node_attrs(&g, "Clip", x, 1, (const char *[]){ "c" }, 1,
		   (struct attr[]){ { "min", 'f', 0, -0.25f, NULL, 0 }, { "max", 'f', 0, 0.25f, NULL, 0 } }, 2);
	node_attrs(&g, "Pad", x, 1, (const char *[]){ "p" }, 1,
		   (struct attr[]){ { "pads", 'l', 0, 0, pads, 4 }, { "value", 'f', 0, 1.5f, NULL, 0 } }, 2);
	node_attrs(&g, "ReduceMean", x, 1, (const char *[]){ "rm" }, 1,
		   (struct attr[]){ { "axes", 'l', 0, 0, ax1, 1 }, { "keepdims", 'i', 1, 0, NULL, 0 } }, 2);
	node_attrs(&g, "ReduceSum", x, 1, (const char *[]){ "rs" }, 1,
		   (struct attr[]){ { "axes", 'l', 0, 0, ax0, 1 }, { "keepdims", 'i', 0, 0, NULL, 0 } }, 2);
	node_attrs(&g, "Unsqueeze", (const char *[]){ "rs" }, 1, (const char *[]){ "us" }, 1,
		   (struct attr[]){ { "axes", 'l', 0, 0, ax0, 1 } }, 1);
	node_attrs(&g, "Squeeze", (const char *[]){ "us" }, 1, (const char *[]){ "sq" }, 1,
		   (struct attr[]){ { "axes", 'l', 0, 0, ax0, 1 } }, 1);
	node_attrs(&g, "Split", x, 1, (const char *[]){ "s1", "s2" }, 2,
		   (struct attr[]){ { "axis", 'i', 1, 0, NULL, 0 }, { "split", 'l', 0, 0, split, 2 } }, 2);
	io_pb(&g, 12, "c", 2, 6);
	io_pb(&g, 12, "p", 2, 9);
	io_pb(&g, 12, "rm", 2, 1);
	{	/* sq is [6]: a rank-1 output */
		struct pb vi = { 0 }, type = { 0 }, tt = { 0 }, shape = { 0 }, dim = { 0 };

		pb_int(&tt, 1, ONNXPASS_DT_FLOAT);
		pb_int(&dim, 1, 6);
		pb_msg(&shape, 1, &dim);
		pb_msg(&tt, 2, &shape);
		pb_msg(&type, 1, &tt);
		pb_str(&vi, 1, "sq", 2);
		pb_msg(&vi, 2, &type);
		pb_msg(&g, 12, &vi);
	}
	io_pb(&g, 12, "s1", 2, 2);
	io_pb(&g, 12, "s2", 2, 4);
	snprintf(p, sizeof(p), "%s/opset10.onnx", dir);
	write_model(p, &g, 6, 10);
	io_pb(&g, 11, "x", 2, 6);
	node_attrs(&g, "Slice", x, 1, (const char *[]){ "sl" }, 1,
		   (struct attr[]){ { "starts", 'l', 0, 0, st, 2 }, { "ends", 'l', 0, 0, en, 2 },
				    { "axes", 'l', 0, 0, sax, 2 } }, 3);
	node_attrs(&g, "TopK", x, 1, (const char *[]){ "tv", "ti" }, 2,
		   (struct attr[]){ { "k", 'i', 3, 0, NULL, 0 }, { "axis", 'i', 1, 0, NULL, 0 } }, 2);
	io_pb(&g, 12, "sl", 2, 4);
	io_pb(&g, 12, "tv", 2, 3);
	snprintf(p, sizeof(p), "%s/opset9.onnx", dir);
	write_model(p, &g, 6, 9);
}

static void gen_hostile(const char *dir)
{
	char p[4096];
	int64_t d4[1] = { 4 }, big[3] = { 1LL << 40, 1LL << 40, 1LL << 40 }, huge[1] = { 1LL << 40 };
	float four[4] = { 1, 2, 3, 4 };
	/* external data: the data file, and references leaving the folder;
	 * the tests make fifo.data a FIFO */
	static const struct {
		const char *file, *location, *offset;
	} refs[] = {
		{ "ext-valid.onnx", "w.data", "0" },
		{ "ext-dotdot.onnx", "../w.data", "0" },
		{ "ext-fifo.onnx", "fifo.data", "0" },
		{ "ext-absolute.onnx", "/etc/passwd", "0" },
		{ "ext-symlink.onnx", "link.data", "0" },
		{ "ext-past-end.onnx", "w.data", "8" },
		{ "ext-missing.onnx", "missing.data", "0" },
	};
	struct pb t = { 0 };
	FILE *f;

	/* a valid one, for contrast */
	tensor_head(&t, d4, 1);
	pb_str(&t, 9, four, sizeof(four));
	snprintf(p, sizeof(p), "%s/valid.onnx", dir);
	hostile(p, &t);
	gen_unsound(dir);
	/* dims whose product overflows */
	tensor_head(&t, big, 3);
	pb_str(&t, 9, four, sizeof(four));
	snprintf(p, sizeof(p), "%s/dims-overflow.onnx", dir);
	hostile(p, &t);
	/* dims and no data at all */
	tensor_head(&t, d4, 1);
	snprintf(p, sizeof(p), "%s/dims-no-data.onnx", dir);
	hostile(p, &t);
	/* raw_data given twice, short (copied) and long (left in the file):
	 * the last counts, as in protobuf */
	{
		int64_t d32[1] = { 32 };
		float ones[32], twos[32];

		for (int i = 0; i < 32; i++) {
			ones[i] = 1;
			twos[i] = 2;
		}
		tensor_head(&t, d4, 1);
		pb_str(&t, 9, ones, 16);
		pb_str(&t, 9, twos, 16);
		snprintf(p, sizeof(p), "%s/raw-twice-short.onnx", dir);
		hostile(p, &t);
		tensor_head(&t, d32, 1);
		pb_str(&t, 9, ones, sizeof(ones));
		pb_str(&t, 9, twos, sizeof(twos));
		snprintf(p, sizeof(p), "%s/raw-twice-long.onnx", dir);
		hostile(p, &t);
	}
	/* 100 tensors on one 64 kB region of shared.data: the output
	 * must not hold it 100 times */
	{
		static float region[16384];
		struct pb g = { 0 };
		int64_t d[2] = { 128, 128 };

		snprintf(p, sizeof(p), "%s/shared.data", dir);
		for (int i = 0; i < 16384; i++)
			region[i] = (float)i;
		f = fopen(p, "wb");
		if (!f || fwrite(region, 1, sizeof(region), f) != sizeof(region) || fclose(f))
			die("cannot write data");
		for (int i = 0; i < 100; i++) {
			struct pb w = { 0 };
			char name[16], out[16];

			snprintf(name, sizeof(name), "W%d", i);
			snprintf(out, sizeof(out), "Y%d", i);
			for (int k = 0; k < 2; k++)
				pb_int(&w, 1, (uint64_t)d[k]);
			pb_int(&w, 2, ONNXPASS_DT_FLOAT);
			pb_str(&w, 8, name, strlen(name));
			external(&w, "shared.data", "0", "65536");
			pb_msg(&g, 5, &w);
			node_pb(&g, out, "Identity", name, NULL, out);
			io_pb(&g, 12, out, 128, 128);
		}
		snprintf(p, sizeof(p), "%s/shared-region.onnx", dir);
		write_graph(p, &g);
	}
	/* dims that need far more bytes than present */
	tensor_head(&t, huge, 1);
	pb_str(&t, 9, four, sizeof(four));
	snprintf(p, sizeof(p), "%s/dims-exceed.onnx", dir);
	hostile(p, &t);
	snprintf(p, sizeof(p), "%s/w.data", dir);
	f = fopen(p, "wb");
	if (!f || fwrite(four, 1, sizeof(four), f) != sizeof(four) || fclose(f))
		die("cannot write data");
	snprintf(p, sizeof(p), "%s/link.data", dir);
	unlink(p);
	if (symlink("/etc/hostname", p) && errno != EEXIST)
		die("cannot make symlink");
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		tensor_head(&t, d4, 1);
		external(&t, refs[i].location, refs[i].offset, "16");
		snprintf(p, sizeof(p), "%s/%s", dir, refs[i].file);
		hostile(p, &t);
	}
}

/* Y = A . B with B [K, N] constant: the MatMulNBits test subject.  A
 * non-zero peak replaces B[0][0] (and B[0][1] becomes 1e-9): the float16
 * range test. */
static void gen_matmul(const char *dir, int64_t K, int64_t N, float peak)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "mm");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	int64_t ad[2] = { 3, K }, yd[2] = { 3, N };
	const char *in[2] = { "A", "B" }, *out = "Y";
	struct onnxpass_value *v;

	rng = 99;
	onnxpass_graph_add_initializer(g, weight("B", K, N, 2.0f));
	if (peak != 0) {
		float *b = onnxpass_tensor_mutable_data(onnxpass_graph_initializer(g, "B"));

		b[0] = peak;
		b[1] = 1e-9f;
	}
	v = onnxpass_graph_add_input(g, "A", -1);
	onnxpass_value_set_type(v, ONNXPASS_DT_FLOAT, 2, ad, NULL);
	onnxpass_graph_add_node(g, "MatMul", NULL, "mm", in, 2, &out, 1);
	v = onnxpass_graph_add_output(g, "Y", -1);
	onnxpass_value_set_type(v, ONNXPASS_DT_FLOAT, 2, yd, NULL);
	mkdir(dir, 0755);
	save(m, dir, "matmul.onnx", ONNXPASS_EXTERNAL_AUTO);
}

/* Reads the MatMulNBits blobs of QMODEL, dequantizes them, checks every
 * |W - deq| <= BOUND * scale (default 1/2) against ORIG's B, and writes REF: the same model
 * with a plain MatMul on the dequantized weights. */
static int dequant(const char *qpath, const char *orig, const char *ref, double bound)
{
	struct onnxpass_model *q, *o;
	char err[1024];
	struct onnxpass_graph *g;
	struct onnxpass_node *n = NULL;
	struct onnxpass_tensor *tq, *ts, *tz = NULL, *tb, *tr;
	int64_t K, N, bits, bs, kb, colb, worst_blk = 0;
	double worst = 0;
	const uint8_t *qd, *zd = NULL;
	const float *sd, *w;
	float *deq;

	if (onnxpass_model_load(qpath, &q, err, sizeof(err)) || onnxpass_model_load(orig, &o, err, sizeof(err)))
		die(err);
	g = onnxpass_model_graph(q);
	for (size_t i = 0; i < onnxpass_graph_node_count(g); i++)
		if (onnxpass_node_is(onnxpass_graph_node(g, i), ONNXPASS_DOMAIN_MS, "MatMulNBits"))
			n = onnxpass_graph_node(g, i);
	if (!n)
		die("no MatMulNBits node");
	onnxpass_node_attr_int(n, "K", &K);
	onnxpass_node_attr_int(n, "N", &N);
	onnxpass_node_attr_int(n, "bits", &bits);
	onnxpass_node_attr_int(n, "block_size", &bs);
	tq = onnxpass_graph_initializer(g, onnxpass_node_input(n, 1));
	ts = onnxpass_graph_initializer(g, onnxpass_node_input(n, 2));
	if (onnxpass_node_input_count(n) > 3)
		tz = onnxpass_graph_initializer(g, onnxpass_node_input(n, 3));
	tb = onnxpass_graph_initializer(onnxpass_model_graph(o), "B");
	kb = (K + bs - 1) / bs;
	colb = kb * bs * bits / 8;
	if (onnxpass_tensor_dim(tq, 0) != N || onnxpass_tensor_dim(tq, 1) != kb ||
	    onnxpass_tensor_dim(tq, 2) != bs * bits / 8 || onnxpass_tensor_numel(ts) != N * kb)
		die("MatMulNBits tensors have the wrong shapes");
	qd = onnxpass_tensor_data(tq);
	sd = onnxpass_tensor_data_aligned(ts);
	if (tz)
		zd = onnxpass_tensor_data(tz);
	w = onnxpass_tensor_data_aligned(tb);
	tr = onnxpass_tensor_new("B", ONNXPASS_DT_FLOAT, 2, (int64_t[]){ K, N });
	deq = onnxpass_tensor_mutable_data(tr);
	for (int64_t nn = 0; nn < N; nn++) {
		for (int64_t k = 0; k < K; k++) {
			int64_t b = k / bs;
			int qv = bits == 8 ? qd[nn * colb + k] : (qd[nn * colb + k / 2] >> ((k & 1) * 4)) & 15;
			int zp = 1 << (bits - 1);
			float sc = sd[nn * kb + b];
			double e;

			if (zd)
				zp = bits == 8 ? zd[nn * kb + b]
					       : (zd[nn * ((kb + 1) / 2) + b / 2] >> ((b & 1) * 4)) & 15;
			deq[k * N + nn] = (float)(qv - zp) * sc;
			e = fabs((double)w[k * N + nn] - deq[k * N + nn]) / (sc != 0 ? fabs(sc) : 1);
			if (e > worst) {
				worst = e;
				worst_blk = b;
			}
		}
	}
	printf("max |W - deq| / scale = %.6f (block %lld)\n", worst, (long long)worst_blk);
	onnxpass_graph_replace_initializer(onnxpass_model_graph(o), tr);
	{
		struct onnxpass_save_options so = { sizeof(so), ONNXPASS_EXTERNAL_NEVER, 0, NULL };

		if (onnxpass_model_save(o, ref, &so, err, sizeof(err)))
			die(err);
	}
	onnxpass_model_free(o);
	onnxpass_model_free(q);
	return worst <= bound + 1e-6 ? 0 : 1;
}

/* The generated transformer families at each size.  tiny keeps each
 * family's shape pattern at toy width (cheap at any depth); the real-size
 * presets are the shapes of the models the recipes exist for, written with
 * external data.  Fields: d_model, d_kv, heads, d_ff, vocab, buckets,
 * max_distance, layers, seed, kv_heads. */
struct preset {
	const char *family, *name;
	struct t5_config c;
	bool external;
};

static const struct preset presets[] = {
	/* MADLAD's pattern at toy size; big: about 1 GB in external data */
	{ "t5", "tiny", { 32, 16, 4, 64, 1024, 32, 128, 2, 11, 0, 0, false }, false },
	/* micro (every family): a few kB, the fuzzers' seeds */
	{ "t5", "micro", { 8, 4, 2, 16, 128, 8, 16, 1, 11, 0, 0, false }, false },
	{ "t5", "big", { 1024, 128, 16, 2816, 32000, 32, 128, 2, 11, 0, 0, false }, true },
	/* MADLAD-400 3B: 32 + 32 layers, about 20 GB */
	{ "t5", "madlad-3b", { 1024, 128, 16, 8192, 256000, 32, 128, 32, 11, 0, 0, false }, true },
	/* mid: BERT-base wide (768, 12 heads, 3072) with 4 layers */
	{ "bert", "tiny", { 32, 8, 4, 64, 1000, 0, 0, 2, 5, 0, 0, false }, false },
	{ "bert", "micro", { 8, 4, 2, 16, 128, 0, 0, 1, 5, 0, 0, false }, false },
	{ "bert", "mid", { 768, 64, 12, 3072, 8000, 0, 0, 4, 5, 0, 0, false }, false },
	/* mid: 1024 wide, 16 heads over 4 KV heads of 64, 2816 in the MLP */
	{ "llama", "tiny", { 64, 16, 4, 128, 500, 0, 0, 2, 7, 2, 0, false }, false },
	{ "llama", "micro", { 8, 4, 2, 16, 128, 0, 64, 1, 7, 1, 0, false }, false },
	/* small: wide enough (256) that blocks of 128 are not padded, so the
	 * quantizing recipes show their real ratio; a few MB */
	{ "llama", "small", { 256, 64, 4, 512, 2000, 0, 0, 2, 7, 2, 0, false }, false },
	{ "llama", "mid", { 1024, 64, 16, 2816, 8000, 0, 0, 4, 7, 4, 0, false }, false },
	/* HY-MT 1.5 1.8B: 2048 wide, 16 heads over 4 KV heads of 128 */
	{ "llama", "hymt-1.8b", { 2048, 128, 16, 6144, 120818, 0, 0, 32, 7, 4, 0, false }, true },
	/* Gemma 3 4B (TranslateGemma): 8 heads over 4 KV heads of 256 */
	{ "gemma", "tiny", { 64, 16, 4, 128, 500, 0, 0, 2, 13, 2, 0, false }, false },
	{ "gemma", "micro", { 8, 4, 2, 16, 128, 0, 64, 1, 13, 1, 0, false }, false },
	{ "gemma", "small", { 256, 64, 4, 512, 2000, 0, 0, 2, 13, 2, 0, false }, false },
	/* NLLB-200 distilled 600M: 12 + 12 layers, 1024 wide, 16 heads,
	 * 4096 in the feed-forward, 256206 tokens, 1024 positions */
	{ "m2m100", "tiny", { 32, 8, 4, 64, 1000, 0, 128, 2, 17, 0, 0, false }, false },
	{ "m2m100", "micro", { 8, 4, 2, 16, 128, 0, 32, 1, 17, 0, 0, false }, false },
	/* small: wide enough (256) for blocks of 128 without padding */
	{ "m2m100", "small", { 256, 64, 4, 1024, 2000, 0, 256, 2, 17, 0, 0, false }, false },
	{ "m2m100", "nllb-600m", { 1024, 64, 16, 4096, 256206, 0, 1024, 12, 17, 0, 0, false }, true },
	{ "gemma", "translategemma-4b", { 2560, 256, 8, 10240, 262208, 0, 0, 34, 13, 4, 0, false }, true },
};

static bool family(const char *name)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(presets[i].family, name))
			return true;
	return false;
}

/* FAMILY PATH [PRESET] [--layers N]: --layers changes only the depth. */
static int generate(int argc, char **argv)
{
	const char *name = "tiny";
	const struct preset *p = NULL;
	struct t5_config c;
	long layers = 0;
	int form = 0;
	bool lm_head_copy = false;

	for (int i = 3; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--layers") && i + 1 < argc) {
			layers = strtol(argv[++i], &end, 10);
			if (*end || layers < 1 || layers > 100000)
				die("--layers takes a count from 1 to 100000");
		} else if (!strcmp(argv[i], "--norm-form") && i + 1 < argc) {
			const char *f = argv[++i];

			form = !strcmp(f, "div1") ? 0 : !strcmp(f, "reciprocal") ? 1 : !strcmp(f, "pow") ? 2
			     : !strcmp(f, "div") ? 3 : -1;
			if (form < 0)
				die("--norm-form takes div1, reciprocal, pow or div");
		} else if (!strcmp(argv[i], "--lm-head") && i + 1 < argc) {
			if (strcmp(argv[++i], "copy"))
				die("--lm-head takes copy (the embedding's transpose, stored as its own initializer)");
			lm_head_copy = true;
		} else if (argv[i][0] != '-') {
			name = argv[i];
		} else {
			die("unknown option (FAMILY PATH [PRESET] [--layers N] [--norm-form F])");
		}
	}
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]) && !p; i++)
		if (!strcmp(presets[i].family, argv[1]) && !strcmp(presets[i].name, name))
			p = &presets[i];
	if (!p) {
		fprintf(stderr, "gen-model: %s has no preset '%s'\n", argv[1], name);
		return 2;
	}
	c = p->c;
	c.norm_form = form;
	c.lm_head_copy = lm_head_copy;
	if (layers)
		c.layers = (int)layers;
	if (!strcmp(p->family, "t5"))
		t5_generate(&c, argv[2], p->external);
	else if (!strcmp(p->family, "bert"))
		bert_generate(&c, argv[2]);
	else if (!strcmp(p->family, "m2m100"))
		m2m100_generate(&c, argv[2], p->external);
	else if (!strcmp(p->family, "llama"))
		llama_generate(&c, argv[2], p->external, false);
	else
		llama_generate(&c, argv[2], p->external, true);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "hash-speed")) {
		/* MB/s of onnxpass_hash64 (dedup's content hash) over N MB in memory */
		size_t n = (size_t)atol(argv[2]) << 20;
		unsigned char *buf = n ? malloc(n) : NULL;
		uint64_t h = 0;
		struct timespec t0, t1;

		if (!buf)
			die("hash-speed takes a size in MB");
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)(i * 131 + 7);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int r = 0; r < 4; r++)
			h ^= onnxpass_hash64(buf, n, (uint64_t)r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%.0f MB/s (%016llx)\n", 4.0 * (double)n / 1e6 /
		       ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9),
		       (unsigned long long)h);
		free(buf);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "matmul")) {
		gen_matmul(argv[2], atoll(argv[3]), atoll(argv[4]), argc > 5 ? (float)atof(argv[5]) : 0);
		return 0;
	}
	if (argc >= 3 && family(argv[1]))
		return generate(argc, argv);
	if (argc >= 5 && !strcmp(argv[1], "dequant"))
		return dequant(argv[2], argv[3], argv[4], argc > 5 ? atof(argv[5]) : 0.5);
	if (argc >= 3 && !strcmp(argv[1], "demo")) {
		/* a two-file bundle: the embedding is shared, each layer has a
		 * duplicated weight */
		mkdir(argv[2], 0755);
		save(demo_model("encoder", 512, 64, 2, 1, 42), argv[2], "encoder.onnx",
		     ONNXPASS_EXTERNAL_AUTO);
		save(demo_model("decoder", 512, 64, 2, 2, 42), argv[2], "decoder.onnx",
		     ONNXPASS_EXTERNAL_AUTO);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "big")) {
		/* about SIZE MB of fp32 weights in external data */
		long mb = atol(argv[3]);
		int64_t hidden = 1024;
		int layers = (int)((mb * 1000000L) / (2 * hidden * hidden * 4));

		mkdir(argv[2], 0755);
		if (layers < 1)
			layers = 1;
		save(demo_model("big", 4096, hidden, layers, 7, 43), argv[2], "model.onnx",
		     ONNXPASS_EXTERNAL_ALWAYS);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "hostile")) {
		mkdir(argv[2], 0755);
		gen_hostile(argv[2]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "copies")) {
		mkdir(argv[2], 0755);
		gen_copies(argv[2]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "unusual")) {
		mkdir(argv[2], 0755);
		gen_unusual(argv[2]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "old-opsets")) {
		mkdir(argv[2], 0755);
		gen_old_opsets(argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: gen-model demo DIR | big DIR SIZE_MB | hostile DIR | unusual DIR | copies DIR | old-opsets DIR | matmul FILE K N\n"
			"       gen-model t5 DIR [micro|tiny|big|madlad-3b] [--layers N]\n"
			"       gen-model m2m100 DIR [micro|tiny|small|nllb-600m] [--layers N]\n"
			"       gen-model bert FILE [micro|tiny|mid] [--layers N]\n"
			"       gen-model llama FILE [micro|tiny|small|mid|hymt-1.8b] [--layers N]\n"
			"                 [--norm-form div1|reciprocal|pow|div]  (t5, bert, llama, gemma)\n"
			"       gen-model gemma FILE [micro|tiny|small|translategemma-4b] [--layers N]\n"
			"                 [--lm-head copy]  (llama, gemma: tied, stored transposed on its own)\n");
	return 2;
}
