/* SPDX-License-Identifier: MIT */
/* Generates the models the demo, tests and benchmarks need: a small
 * two-file bundle with duplicated weights, a large external-data model,
 * and hostile files for the bad-input tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <onnxpass/onnxpass.h>

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
	char x[64], y[64], name[64];

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
		snprintf(name, sizeof(name), "l%d_mm1", l);
		snprintf(y, sizeof(y), "l%d_a", l);
		add_node(g, "MatMul", name, x, w1, y);
		snprintf(name, sizeof(name), "l%d_add", l);
		snprintf(x, sizeof(x), "l%d_b", l);
		add_node(g, "Add", name, y, b1, x);
		snprintf(name, sizeof(name), "l%d_relu", l);
		snprintf(y, sizeof(y), "l%d_c", l);
		add_node(g, "Relu", name, x, NULL, y);
		snprintf(name, sizeof(name), "l%d_mm2", l);
		snprintf(x, sizeof(x), "l%d_out", l);
		add_node(g, "MatMul", name, y, w2, x);
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

static void gen_hostile(const char *dir)
{
	char p[4096];
	int64_t d4[1] = { 4 }, big[3] = { 1LL << 40, 1LL << 40, 1LL << 40 }, huge[1] = { 1LL << 40 };
	float four[4] = { 1, 2, 3, 4 };
	struct pb t = { 0 };
	FILE *f;

	/* a valid one, for contrast */
	tensor_head(&t, d4, 1);
	pb_str(&t, 9, four, sizeof(four));
	snprintf(p, sizeof(p), "%s/valid.onnx", dir);
	hostile(p, &t);
	/* dims whose product overflows */
	tensor_head(&t, big, 3);
	pb_str(&t, 9, four, sizeof(four));
	snprintf(p, sizeof(p), "%s/dims-overflow.onnx", dir);
	hostile(p, &t);
	/* dims that need far more bytes than present */
	tensor_head(&t, huge, 1);
	pb_str(&t, 9, four, sizeof(four));
	snprintf(p, sizeof(p), "%s/dims-exceed.onnx", dir);
	hostile(p, &t);
	/* external data: the data file, and references leaving the folder */
	snprintf(p, sizeof(p), "%s/w.data", dir);
	f = fopen(p, "wb");
	if (!f || fwrite(four, 1, sizeof(four), f) != sizeof(four) || fclose(f))
		die("cannot write data");
	tensor_head(&t, d4, 1);
	external(&t, "w.data", "0", "16");
	snprintf(p, sizeof(p), "%s/ext-valid.onnx", dir);
	hostile(p, &t);
	tensor_head(&t, d4, 1);
	external(&t, "../w.data", "0", "16");
	snprintf(p, sizeof(p), "%s/ext-dotdot.onnx", dir);
	hostile(p, &t);
	tensor_head(&t, d4, 1);
	external(&t, "/etc/passwd", "0", "16");
	snprintf(p, sizeof(p), "%s/ext-absolute.onnx", dir);
	hostile(p, &t);
	tensor_head(&t, d4, 1);
	external(&t, "link.data", "0", "16");
	snprintf(p, sizeof(p), "%s/ext-symlink.onnx", dir);
	hostile(p, &t);
	snprintf(p, sizeof(p), "%s/link.data", dir);
	unlink(p);
	if (symlink("/etc/hostname", p) && errno != EEXIST)
		die("cannot make symlink");
	tensor_head(&t, d4, 1);
	external(&t, "w.data", "8", "16");
	snprintf(p, sizeof(p), "%s/ext-past-end.onnx", dir);
	hostile(p, &t);
	tensor_head(&t, d4, 1);
	external(&t, "missing.data", "0", "16");
	snprintf(p, sizeof(p), "%s/ext-missing.onnx", dir);
	hostile(p, &t);
}

int main(int argc, char **argv)
{
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
	fprintf(stderr, "usage: gen-model demo DIR | big DIR SIZE_MB | hostile DIR\n");
	return 2;
}
