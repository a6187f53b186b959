/* SPDX-License-Identifier: MIT */
/* The fusion plugin's shared matchers: what every pattern file asks of a
 * candidate (one reader, a constant, the other input, known dims of a
 * graph with its inputs bound to sizes).  Pattern files call these and
 * nothing of each other; fusion.c calls the pattern files. */
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

void reject(struct fuse *f, struct onnxpass_node *n, const char *what, const char *why)
{
	f->rejected++;
	onnxpass_log(f->ctx, ONNXPASS_LOG_INFO, "%s: %s at '%s' not fused: %s", f->role, what,
		     onnxpass_node_name(n), why);
}

bool const_float(struct onnxpass_value *v, float *out)
{
	struct onnxpass_tensor *t = onnxpass_value_constant(v);

	return t && onnxpass_tensor_numel(t) == 1 && !onnxpass_tensor_to_f32(t, out, 1);
}

int each_node(struct onnxpass_graph *g, const char *op, int (*fn)(void *state, struct onnxpass_node *n),
	      void *state)
{
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++)
		if (!onnxpass_node_is_removed(nodes[i]) && onnxpass_node_is(nodes[i], NULL, op)) {
			rc = fn(state, nodes[i]);
			changes += rc > 0 ? rc : 0;
		}
	free(nodes);
	return rc < 0 ? rc : changes;
}

bool float_vector(struct onnxpass_value *v)
{
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

	if (t && !onnxpass_value_is_graph_input(v))
		return onnxpass_tensor_rank(t) == 1 && onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT;
	/* a graph input or computed value declared [H] float */
	return v && onnxpass_value_rank(v) == 1 && onnxpass_value_dtype(v) == ONNXPASS_DT_FLOAT;
}

/* The other input of a two-input node, given one of them. */
struct onnxpass_value *other(struct onnxpass_node *n, struct onnxpass_value *v)
{
	struct onnxpass_value *a = onnxpass_node_input_value(n, 0), *b = onnxpass_node_input_value(n, 1);

	if (onnxpass_node_input_count(n) != 2)
		return NULL;
	return a == v ? b : b == v ? a : NULL;
}

char *own(const char *s)
{
	return strdup(s ? s : "");
}

bool is_constant(struct onnxpass_value *v)
{
	struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

	return !v || onnxpass_value_initializer(v) || (p && onnxpass_node_is(p, NULL, "Constant"));
}

int known_dims(const struct onnxpass_shapes *sh, struct onnxpass_value *v, int64_t *d)
{
	int r = v ? onnxpass_shapes_get(sh, v, d, ONNXPASS_MAX_RANK) : -1;

	if (r < 0 || r > ONNXPASS_MAX_RANK)
		return -1;
	for (int i = 0; i < r; i++)
		if (d[i] < 0)
			return -1;
	return r;
}

struct onnxpass_shapes *bound_shapes(struct onnxpass_graph *g, int64_t *bound, size_t *nbound)
{
	/* odd primes: no sum of two (past + new) is another; small enough to
	 * fit the position tables exporters slice (GPT-2's causal buffer) */
	static const int64_t small[] = { 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97 };
	enum { N_SMALL = sizeof(small) / sizeof(small[0]) };
	const char *names[64];
	int64_t own_values[64], *values = bound ? bound : own_values;
	size_t n = 0;

	for (size_t i = 0; i < onnxpass_graph_input_count(g); i++) {
		struct onnxpass_value *v = onnxpass_graph_input(g, i);

		for (int k = 0; k < onnxpass_value_rank(v); k++) {
			const char *param = NULL;
			int64_t size;
			size_t j;

			onnxpass_value_dim(v, k, &size, &param);
			if (!param || !*param)
				continue;
			for (j = 0; j < n && strcmp(names[j], param); j++)
				;
			if (j == n && n < 64) {
				names[n] = param;
				values[n] = n < N_SMALL ? small[n] : 1009 + 26 * (int64_t)n + (n % 2 ? 4 : 0);
				n++;
			}
		}
	}
	if (nbound)
		*nbound = n;
	return onnxpass_shapes_infer(g, names, values, n);
}
