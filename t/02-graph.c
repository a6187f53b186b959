/* SPDX-License-Identifier: MIT */
/* Graph IR: building, producer/uses, rewiring, toposort, dead code. */
#include <stdlib.h>
#include <onnxpass/onnxpass.h>
#include "tap.h"

static struct onnxpass_node *add(struct onnxpass_graph *g, const char *op, const char *a,
				 const char *b, const char *out)
{
	const char *in[2] = { a, b };

	return onnxpass_graph_add_node(g, op, NULL, out, in, b ? 2 : 1, &out, 1);
}

int main(void)
{
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "g");
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	struct onnxpass_value *v;
	struct onnxpass_node *n1, *n2, *n3, *dead;
	int64_t d[1] = { 4 };
	int idx;
	const char *fresh;

	plan(40);
	onnxpass_graph_add_input(g, "x", -1);
	onnxpass_graph_add_initializer(g, onnxpass_tensor_new("w", ONNXPASS_DT_FLOAT, 1, d));
	/* added out of order: c uses b before b exists */
	n3 = add(g, "Relu", "b", NULL, "c");
	n2 = add(g, "Add", "a", "w", "b");
	n1 = add(g, "Neg", "x", NULL, "a");
	dead = add(g, "Abs", "x", NULL, "unused");
	onnxpass_graph_add_output(g, "c", -1);
	ok(n1 && n2 && n3 && dead, "nodes added");
	ok(add(g, "Neg", "x", NULL, "a") == NULL, "a second producer of 'a' is refused");
	v = onnxpass_graph_value(g, "b");
	ok(onnxpass_value_producer(v, &idx) == n2 && idx == 0, "producer of b");
	is_int(1, onnxpass_value_use_count(v), "b has one use");
	ok(onnxpass_value_use(v, 0, &idx) == n3 && idx == 0, "used by Relu input 0");
	ok(onnxpass_value_initializer(onnxpass_graph_value(g, "w")) != NULL, "w is an initializer");
	ok(onnxpass_value_is_graph_input(onnxpass_graph_value(g, "x")), "x is a graph input");
	ok(onnxpass_value_is_graph_output(onnxpass_graph_value(g, "c")), "c is a graph output");
	is_int(0, onnxpass_graph_toposort(g), "toposort");
	is_str("Neg", onnxpass_node_op_type(onnxpass_graph_node(g, 0)), "Neg first");
	is_str("Relu", onnxpass_node_op_type(onnxpass_graph_node(g, 2)), "Relu right after Add (ties keep the order)");
	is_int(1, onnxpass_graph_replace_uses(g, "a", "x", false), "rewire a -> x");
	is_str("x", onnxpass_node_input(n2, 0), "Add now reads x");
	is_int(0, onnxpass_value_use_count(onnxpass_graph_value(g, "a")), "a unused");
	is_int(2, onnxpass_graph_remove_unused(g), "dead Neg and Abs removed, nothing else");
	ok(onnxpass_node_is_removed(n1) && onnxpass_node_is_removed(dead), "the dead nodes");
	is_int(2, onnxpass_graph_node_count(g), "two live nodes");
	is_int(1, onnxpass_graph_initializer_count(g), "w still read");
	is_int(0, onnxpass_node_set_attr_ints(n3, "perm", (int64_t[]){ 1, 2 }, 2), "set ints attr");
	{
		const int64_t *vals;
		size_t cnt;

		ok(onnxpass_node_attr_ints(n3, "perm", &vals, &cnt) == 0 && cnt == 2 && vals[1] == 2,
		   "read it back");
	}
	fresh = onnxpass_graph_fresh_name(g, "b", NULL);
	is_str("b_1", fresh, "fresh name avoids 'b'");
	is_str("b_2", onnxpass_graph_fresh_name(g, "b", NULL), "the next one goes on counting");
	is_str("b_x", onnxpass_graph_fresh_name(g, "b", "_x"), "a suffix");
	/* constants: a new initializer, and what a value's constant is */
	{
		static const int64_t ints[3] = { 2, -1, 7 };
		static const float half = 0.5f;
		const char *ci = onnxpass_graph_add_const_i64(g, "shape", 1, ints, 3);
		const char *cf = onnxpass_graph_add_const_f32(g, "scale", 0, &half, 1);
		const char *k = onnxpass_graph_add_const_i64(g, "k", 0, ints, 1);
		struct onnxpass_tensor *t = ci ? onnxpass_value_constant(onnxpass_graph_value(g, ci)) : NULL;
		int64_t back[4];
		float f = 0.0f;

		ok(ci && t && onnxpass_tensor_rank(t) == 1 && onnxpass_tensor_dim(t, 0) == 3 &&
		   onnxpass_value_const_ints(onnxpass_graph_value(g, ci), back, 4) == 3 && back[1] == -1 &&
		   back[2] == 7, "an int64 vector constant");
		t = cf ? onnxpass_value_constant(onnxpass_graph_value(g, cf)) : NULL;
		ok(t && onnxpass_tensor_rank(t) == 0 && !onnxpass_tensor_to_f32(t, &f, 1) && f == 0.5f,
		   "a float scalar constant");
		t = k ? onnxpass_graph_initializer(g, k) : NULL;
		ok(t && onnxpass_tensor_rank(t) == 0 && onnxpass_tensor_dtype(t) == ONNXPASS_DT_INT64, "an int64 scalar");
		ok(!onnxpass_graph_add_const_i64(g, "bad", 0, ints, 3) && !onnxpass_graph_add_const_i64(g, "bad", 2, ints, 3),
		   "a scalar of three elements or a rank 2 is refused");
		is_str("shape_1", onnxpass_graph_add_const_i64(g, "shape", 1, ints, 1), "constants get fresh names");
		ok(!onnxpass_value_constant(onnxpass_graph_value(g, "b")) &&
		   !onnxpass_value_constant(onnxpass_graph_value(g, "x")), "computed and fed values are not constants");
	}
	/* a Constant node's output is a constant; an initializer that is
	 * also a graph input is not (a caller may feed it) */
	{
		static const float one = 1.0f;
		struct onnxpass_tensor *t = onnxpass_tensor_new("", ONNXPASS_DT_FLOAT, 0, NULL);
		struct onnxpass_node *cn = onnxpass_graph_add_node(g, "Constant", NULL, "k_node", NULL, 0,
								   (const char *const[]){ "kc" }, 1);

		ok(t && cn && !onnxpass_tensor_from_f32(t, &one, 1) && !onnxpass_node_set_attr_tensor(cn, "value", t),
		   "a Constant node");
		ok(onnxpass_value_constant(onnxpass_graph_value(g, "kc")) != NULL, "its output is a constant");
		onnxpass_graph_add_input(g, "w", -1);
		ok(!onnxpass_value_constant(onnxpass_graph_value(g, "w")), "an initializer fed as an input is not");
	}
	/* names and attributes */
	{
		static const float fl[3] = { 0.5f, -1.0f, 2.0f };
		const float *got;
		const char *str;
		size_t cnt = 0;
		bool seen_mode = false, seen_scales = false;

		ok(!onnxpass_node_set_name(n3, "relu_renamed") && !strcmp(onnxpass_node_name(n3), "relu_renamed"),
		   "a node renamed");
		ok(!onnxpass_node_set_attr_string(n3, "mode", "fast") && !onnxpass_node_attr_string(n3, "mode", &str) &&
		   !strcmp(str, "fast"), "a string attribute");
		ok(!onnxpass_node_set_attr_floats(n3, "scales", fl, 3) &&
		   !onnxpass_node_attr_floats(n3, "scales", &got, &cnt) && cnt == 3 && got[1] == -1.0f,
		   "a float list attribute");
		for (size_t i = 0; i < onnxpass_node_attr_count(n3); i++) {
			seen_mode = seen_mode || !strcmp(onnxpass_node_attr_name(n3, i), "mode");
			seen_scales = seen_scales || !strcmp(onnxpass_node_attr_name(n3, i), "scales");
		}
		ok(seen_mode && seen_scales && onnxpass_node_attr_type(n3, "mode") == ONNXPASS_ATTR_STRING,
		   "attributes listed by name, typed");
	}
	/* single use */
	{
		struct onnxpass_value *b = onnxpass_graph_value(g, "b"), *c = onnxpass_graph_value(g, "c");

		ok(onnxpass_value_single_use(b, &idx) == n3 && idx == 0, "b's one reader");
		ok(!onnxpass_value_single_use(c, &idx), "a graph output has no single use");
		add(g, "Abs", "b", NULL, "b2");
		ok(!onnxpass_value_single_use(b, &idx), "two readers: none");
	}
	/* a cycle */
	onnxpass_node_set_input(n2, 0, "c");
	is_int(ONNXPASS_EFORMAT, onnxpass_graph_toposort(g), "a cycle is reported");
	onnxpass_model_free(m);
	return done_testing();
}
