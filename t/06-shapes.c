/* SPDX-License-Identifier: MIT */
/* The shape engine on hand-built graphs: ranks, symbolic dims, values of
 * shape arithmetic, dim provenance, constant folding, cycles and
 * contradicting dims, graphs stored out of order, and a 10,000-layer
 * residual chain (where an analysis that follows every path from every
 * node would never finish). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <onnxpass/onnxpass.h>
#include "tap.h"

static struct onnxpass_node *node(struct onnxpass_graph *g, const char *op, const char *a, const char *b,
				  const char *out)
{
	const char *in[2] = { a, b };

	return onnxpass_graph_add_node(g, op, NULL, out, in, b ? 2 : 1, &out, 1);
}

static void input(struct onnxpass_graph *g, const char *name, int dtype, int rank, const int64_t *dims,
		  const char *const *params)
{
	onnxpass_value_set_type(onnxpass_graph_add_input(g, name, -1), dtype, rank, dims, params);
}

static void ints(struct onnxpass_graph *g, const char *name, size_t n, const int64_t *v)
{
	int64_t d[1] = { (int64_t)n };
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, ONNXPASS_DT_INT64, 1, d);

	memcpy(onnxpass_tensor_mutable_data(t), v, n * sizeof(*v));
	onnxpass_graph_add_initializer(g, t);
}

static int dims(struct onnxpass_shapes *s, struct onnxpass_graph *g, const char *name, int64_t *d)
{
	return onnxpass_shapes_get(s, onnxpass_graph_value(g, name), d, 16);
}

/* x [batch, seq, 8], mask [batch, seq]: the shape chains exporters write. */
static void chains(void)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "g");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	const int64_t dx[3] = { -1, -1, 8 }, dm[2] = { -1, -1 };
	const char *px[3] = { "batch", "seq", NULL }, *pm[2] = { "batch", "seq" };
	struct onnxpass_shapes *s;
	struct onnxpass_value *in;
	int64_t d[16], v[16], zero = 0, heads[2] = { 2, 4 }, minus1 = -1;
	double f;
	int axis;

	input(g, "x", ONNXPASS_DT_FLOAT, 3, dx, px);
	input(g, "mask", ONNXPASS_DT_INT64, 2, dm, pm);
	ints(g, "zero", 1, &zero);
	ints(g, "heads", 2, heads);
	ints(g, "minus1", 1, &minus1);
	/* [batch, seq, 2, 4] from Concat(Shape(x)[0], -1, 2, 4) */
	node(g, "Shape", "x", NULL, "sx");
	node(g, "Gather", "sx", "zero", "b");
	{
		const char *in4[3] = { "b", "minus1", "heads" };
		const char *out = "shape";

		onnxpass_node_set_attr_int(onnxpass_graph_add_node(g, "Concat", NULL, "cat", in4, 3, &out, 1), "axis", 0);
	}
	node(g, "Reshape", "x", "shape", "r");
	/* the mask broadcast against the scores: [batch, 1, 1, seq] */
	node(g, "Cast", "mask", NULL, "mf");
	onnxpass_node_set_attr_int(onnxpass_value_producer(onnxpass_graph_value(g, "mf"), NULL), "to",
				   ONNXPASS_DT_FLOAT);
	node(g, "MatMul", "r", "r", "rr");	/* [b, s, 2, 4] x [b, s, 2, 4]: inner 4 vs 2 */
	/* sqrt(head size) from the shape: a static size, so a known value */
	{
		int64_t last = -1;

		ints(g, "last", 1, &last);
	}
	node(g, "Gather", "sx", "last", "hs");
	node(g, "Cast", "hs", NULL, "hsf");
	onnxpass_node_set_attr_int(onnxpass_value_producer(onnxpass_graph_value(g, "hsf"), NULL), "to",
				   ONNXPASS_DT_FLOAT);
	node(g, "Sqrt", "hsf", NULL, "scale");
	node(g, "Gather", "sx", "zero", "b2");
	node(g, "Cast", "b2", NULL, "bf");
	onnxpass_node_set_attr_int(onnxpass_value_producer(onnxpass_graph_value(g, "bf"), NULL), "to",
				   ONNXPASS_DT_FLOAT);
	s = onnxpass_shapes_infer(g, NULL, NULL, 0);
	ok(s != NULL, "analysis of a hand-built graph");
	is_int(1, onnxpass_shapes_values(s, onnxpass_graph_value(g, "b"), v, 16), "Shape(x)[0]: one value");
	dims(s, g, "x", d);
	ok(v[0] == d[0] && v[0] <= ONNXPASS_SYMBOL_MAX, "it is x's batch symbol");
	is_str("batch", onnxpass_shapes_symbol(s, v[0]), "named by its dim_param");
	is_int(4, dims(s, g, "r", d), "Reshape to a computed shape has rank 4");
	{
		int64_t dxs[3];

		dims(s, g, "x", dxs);
		ok(d[0] == dxs[0] && d[1] == dxs[1] && d[2] == 2 && d[3] == 4,
		   "Reshape: [batch, seq, 2, 4], -1 resolved to seq by cancelling symbols");
	}
	ok(onnxpass_shapes_origin(s, d[1], &in, &axis) == 0 && in == onnxpass_graph_value(g, "x") && axis == 1,
	   "provenance: the seq dim comes from x, axis 1");
	{
		int64_t dmask[2];

		dims(s, g, "mask", dmask);
		ok(dmask[0] == d[0], "mask's batch is the same symbol as x's (same dim_param)");
	}
	f = 0;
	is_int(1, onnxpass_shapes_float_values(s, onnxpass_graph_value(g, "scale"), &f, 1),
	       "sqrt(head size) read off Shape is a known value");
	ok(fabs(f - sqrt(8.0)) < 1e-6, "of %g (sqrt 8)", f);
	is_int(ONNXPASS_ENOTFOUND, onnxpass_shapes_float_values(s, onnxpass_graph_value(g, "bf"), &f, 1),
	       "a float made from the batch size is not a constant");
	is_int(ONNXPASS_EFORMAT, onnxpass_shapes_status(s, NULL), "MatMul of [.., 2, 4] by [.., 2, 4] contradicts");
	{
		const char *why;

		onnxpass_shapes_status(s, &why);
		like("node 'rr' (MatMul): inner dims 4 and 2 differ", why, "the message names the node");
	}
	onnxpass_shapes_free(s);
	{
		const char *names[2] = { "batch", "seq" };
		int64_t sizes[2] = { 3, 5 };

		s = onnxpass_shapes_infer(g, names, sizes, 2);
		dims(s, g, "r", d);
		ok(d[0] == 3 && d[1] == 5 && d[2] == 2 && d[3] == 4, "bound sizes: [3, 5, 2, 4]");
		ok(onnxpass_shapes_float_values(s, onnxpass_graph_value(g, "bf"), &f, 1) == 1 && f == 3.0,
		   "and the batch as a float is 3");
		onnxpass_shapes_free(s);
	}
	onnxpass_model_free(m);
}

/* A residual stream as deep as one likes: x_{i+1} = x_i + Relu(x_i) * w. */
static void residual(int layers, bool reverse)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "g");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	const int64_t dx[3] = { -1, -1, 16 }, dw[1] = { 16 };
	const char *px[3] = { "batch", "seq", NULL };
	char a[32], b[32], c[32], x[32];
	struct onnxpass_value *in = NULL;
	struct onnxpass_shapes *s;
	int64_t d[16], dxv[16];
	int axis = -1, r;

	input(g, "x0", ONNXPASS_DT_FLOAT, 3, dx, px);
	onnxpass_graph_add_initializer(g, onnxpass_tensor_new("w", ONNXPASS_DT_FLOAT, 1, dw));
	for (int l = 0; l < layers; l++) {
		int k = reverse ? layers - 1 - l : l;

		snprintf(x, sizeof(x), "x%d", k);
		snprintf(a, sizeof(a), "a%d", k);
		snprintf(b, sizeof(b), "b%d", k);
		snprintf(c, sizeof(c), "x%d", k + 1);
		node(g, "Relu", x, NULL, a);
		node(g, "Mul", a, "w", b);
		node(g, "Add", x, b, c);
	}
	snprintf(c, sizeof(c), "x%d", layers);
	onnxpass_graph_add_output(g, c, -1);
	s = onnxpass_graph_shapes(g);
	r = onnxpass_shapes_get(s, onnxpass_graph_value(g, c), d, 16);
	onnxpass_shapes_get(s, onnxpass_graph_value(g, "x0"), dxv, 16);
	ok(r == 3 && d[0] == dxv[0] && d[1] == dxv[1] && d[2] == 16,
	   "%d-layer residual chain%s: the last value is [batch, seq, 16]", layers,
	   reverse ? " stored in reverse order" : "");
	is_int(3, onnxpass_value_infer_rank(onnxpass_graph_value(g, c)), "its rank, through the SDK");
	ok(onnxpass_value_dim_origin(onnxpass_graph_value(g, c), 1, &in, &axis) == 0 &&
	   in == onnxpass_graph_value(g, "x0") && axis == 1, "and its dim 1 comes from x0, axis 1");
	onnxpass_model_free(m);
}

static void cycle_and_cache(void)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "g");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	const int64_t dx[2] = { 2, 3 }, dy[2] = { 2, 5 };
	struct onnxpass_node *n;
	char err[256] = "";
	int64_t d[16];

	input(g, "x", ONNXPASS_DT_FLOAT, 2, dx, NULL);
	input(g, "y", ONNXPASS_DT_FLOAT, 2, dy, NULL);
	n = node(g, "Relu", "x", NULL, "a");
	node(g, "Neg", "a", NULL, "out");
	onnxpass_graph_add_output(g, "out", -1);
	is_int(0, onnxpass_graph_check(g, err, sizeof(err)), "a sound graph passes the check");
	is_int(2, onnxpass_shapes_get(onnxpass_graph_shapes(g), onnxpass_graph_value(g, "out"), d, 16),
	       "cached analysis: out has rank 2");
	/* an edit makes the cached analysis stale */
	onnxpass_node_set_input(n, 0, "y");
	onnxpass_shapes_get(onnxpass_graph_shapes(g), onnxpass_graph_value(g, "out"), d, 16);
	ok(d[0] == 2 && d[1] == 5, "after an edit the cached analysis is redone: [2, 5]");
	node(g, "Add", "x", "y", "bad");
	is_int(ONNXPASS_EFORMAT, onnxpass_graph_check(g, err, sizeof(err)), "[2,3] + [2,5] is refused");
	like("node 'bad' (Add): shapes [2,3] and [2,5] do not broadcast", err, "naming the node");
	onnxpass_graph_remove_node(g, onnxpass_value_producer(onnxpass_graph_value(g, "bad"), NULL));
	/* a -> b -> c -> a */
	node(g, "Relu", "c2", NULL, "a2");
	node(g, "Relu", "a2", NULL, "b2");
	node(g, "Relu", "b2", NULL, "c2");
	is_int(ONNXPASS_EFORMAT, onnxpass_graph_check(g, err, sizeof(err)), "a cycle is refused");
	like("graph 'g' has a cycle through node '", err, "naming the graph");
	ok(strstr(err, "'a2' (Relu)") || strstr(err, "'b2' (Relu)") || strstr(err, "'c2' (Relu)"),
	   "and a node on the cycle: %s", err);
	is_int(ONNXPASS_EFORMAT, onnxpass_graph_toposort(g), "toposort refuses it too");
	onnxpass_model_free(m);
}

static void folding(void)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "g");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	int64_t a[3] = { 1, 2, 3 }, b[3] = { 10, 20, 30 }, got[6], two[1] = { 2 };
	struct onnxpass_tensor *t = NULL;
	struct onnxpass_node *cat, *add, *div;
	const char *in[2] = { "a", "b" }, *out = "ab";
	float half = 0.5f, res = 0;

	ints(g, "a", 3, a);
	ints(g, "b", 3, b);
	cat = onnxpass_graph_add_node(g, "Concat", NULL, "cat", in, 2, &out, 1);
	onnxpass_node_set_attr_int(cat, "axis", 0);
	add = node(g, "Add", "a", "b", "sum");
	is_int(0, onnxpass_node_fold(cat, 1024, &t), "Concat of constants folds");
	ok(t && onnxpass_tensor_numel(t) == 6 && !onnxpass_tensor_to_i64(t, got, 6) && got[0] == 1 && got[5] == 30,
	   "to [1, 2, 3, 10, 20, 30]");
	onnxpass_tensor_free(t);
	is_int(0, onnxpass_node_fold(add, 1024, &t), "Add of constants folds");
	ok(t && !onnxpass_tensor_to_i64(t, got, 3) && got[0] == 11 && got[2] == 33, "to [11, 22, 33]");
	onnxpass_tensor_free(t);
	is_int(ONNXPASS_ENOTFOUND, onnxpass_node_fold(add, 2, &t), "not beyond max_elems");
	{
		struct onnxpass_tensor *h = onnxpass_tensor_new("half", ONNXPASS_DT_FLOAT, 0, NULL);
		struct onnxpass_tensor *tw = onnxpass_tensor_new("three", ONNXPASS_DT_FLOAT, 0, NULL);
		float three = 3.0f;

		memcpy(onnxpass_tensor_mutable_data(h), &half, 4);
		memcpy(onnxpass_tensor_mutable_data(tw), &three, 4);
		onnxpass_graph_add_initializer(g, h);
		onnxpass_graph_add_initializer(g, tw);
	}
	div = node(g, "Div", "half", "three", "q");
	is_int(0, onnxpass_node_fold(div, 16, &t), "float Div folds");
	ok(t && !onnxpass_tensor_to_f32(t, &res, 1) && res == 0.5f / 3.0f, "in float precision, like ONNX Runtime");
	onnxpass_tensor_free(t);
	ints(g, "two", 1, two);
	onnxpass_graph_add_input(g, "in", -1);
	is_int(ONNXPASS_ENOTFOUND, onnxpass_node_fold(node(g, "Add", "in", "two", "x"), 16, &t),
	       "a graph input is not a constant");
	onnxpass_model_free(m);
}

int main(void)
{
	plan(38);
	chains();
	residual(10000, false);
	residual(2000, true);
	cycle_and_cache();
	folding();
	return done_testing();
}
