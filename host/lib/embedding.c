/* SPDX-License-Identifier: MIT */
/* Telling a token-embedding lookup from other table lookups by structure:
 * an embedding's rows become activations (the residual stream, a norm),
 * while a rotary cos/sin table's rows are only factors multiplied into
 * other values.  Names are never consulted. */
#include "config.h"

#include <string.h>

#include "internal.h"

#define MAX_STEPS 64

static bool one_element_constant(struct onnxpass_value *v)
{
	struct onnxpass_tensor *t = onnxpass_value_constant(v);

	return t && onnxpass_tensor_numel(t) == 1;
}

/* Ops that hand a value on unchanged but for its shape or a scale. */
static bool hands_on(struct onnxpass_node *n, int input)
{
	static const char *const ops[] = { "Reshape", "Unsqueeze", "Squeeze", "Cast", "Identity", "Flatten",
					   "Dropout" };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (onnxpass_node_is(n, NULL, ops[i]))
			return input == 0;
	if (onnxpass_node_is(n, NULL, "Mul"))	/* Gemma's sqrt(hidden) */
		return one_element_constant(onnxpass_node_input_value(n, 1 - input));
	if (onnxpass_node_is(n, NULL, "Div"))
		return input == 0 && one_element_constant(onnxpass_node_input_value(n, 1));
	return false;
}

bool onnxpass_node_is_embedding(struct onnxpass_node *n)
{
	struct onnxpass_value *queue[MAX_STEPS], *t = onnxpass_node_input_value(n, 0);
	struct onnxpass_tensor *table = t && !t->n_graph_inputs ? t->init : NULL;
	int64_t axis = 0;
	size_t head = 0, tail = 0;
	int dt;

	if (!onnxpass_node_is(n, NULL, "Gather") || !table || onnxpass_tensor_rank(table) != 2)
		return false;
	dt = onnxpass_tensor_dtype(table);
	onnxpass_node_attr_int(n, "axis", &axis);
	if (axis != 0 || (dt != ONNXPASS_DT_FLOAT && dt != ONNXPASS_DT_FLOAT16 && dt != ONNXPASS_DT_BFLOAT16))
		return false;
	queue[tail++] = onnxpass_node_output_value(n, 0);
	while (head < tail) {
		struct onnxpass_value *v = queue[head++];

		if (!v || v->n_graph_outputs || !v->n_uses)
			return true;	/* the rows leave the graph as they are */
		for (size_t i = 0; i < v->n_uses; i++) {
			struct onnxpass_node *u = v->uses[i].node;
			int in = v->uses[i].input;

			if (in >= 0 && hands_on(u, in)) {
				if (tail == MAX_STEPS)
					return true;
				queue[tail++] = onnxpass_node_output_value(u, 0);
				continue;
			}
			/* a product with a computed value: a factor, not a row */
			if (in >= 0 && onnxpass_node_is(u, NULL, "Mul"))
				continue;
			return true;
		}
	}
	return false;
}
