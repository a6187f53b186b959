/* SPDX-License-Identifier: MIT */
/* `onnxpass info MODEL`: IR and opsets, graph inputs/outputs with shapes,
 * node counts per op type, parameters and weight bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "host.h"

struct opcount {
	char *key;	/* "domain:Op" or "Op" */
	size_t n;
};

struct stats {
	struct opcount *ops;
	size_t n_ops, cap;
	uint64_t nodes, params, inits, bytes_inline, bytes_external, subgraphs;
};

static void count_op(struct stats *s, const char *domain, const char *op)
{
	char key[256];

	snprintf(key, sizeof(key), "%s%s%s", domain, *domain ? ":" : "", op);
	for (size_t i = 0; i < s->n_ops; i++) {
		if (!strcmp(s->ops[i].key, key)) {
			s->ops[i].n++;
			return;
		}
	}
	if (grow(&s->ops, &s->cap, s->n_ops + 1, sizeof(*s->ops)))
		return;
	s->ops[s->n_ops].key = strdup(key);
	s->ops[s->n_ops++].n = 1;
}

static void walk(struct stats *s, struct onnxpass_graph *g)
{
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);

		s->inits++;
		s->params += (uint64_t)onnxpass_tensor_numel(t);
		if (onnxpass_tensor_is_external(t))
			s->bytes_external += onnxpass_tensor_nbytes(t);
		else
			s->bytes_inline += onnxpass_tensor_nbytes(t);
	}
	for (size_t i = 0; i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);

		s->nodes++;
		count_op(s, onnxpass_node_domain(n), onnxpass_node_op_type(n));
		for (size_t k = 0; k < onnxpass_node_subgraph_count(n); k++) {
			s->subgraphs++;
			walk(s, onnxpass_node_subgraph(n, k));
		}
	}
}

static int cmp_ops(const void *a, const void *b)
{
	const struct opcount *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

void info_value(FILE *out, struct onnxpass_value *v, bool json)
{
	int rank = onnxpass_value_rank(v);

	if (json) {
		fprintf(out, "{\"name\": ");
		json_str(out, onnxpass_value_name(v));
		fprintf(out, ", \"type\": ");
		json_str(out, onnxpass_dtype_name(onnxpass_value_dtype(v)));
		fprintf(out, ", \"shape\": ");
		if (rank < 0)
			fprintf(out, "null");
	} else {
		fprintf(out, "    %-40s %-8s ", onnxpass_value_name(v),
			onnxpass_dtype_name(onnxpass_value_dtype(v)));
		if (rank < 0)
			fprintf(out, "?");
	}
	if (rank >= 0) {
		fputc('[', out);
		for (int d = 0; d < rank; d++) {
			int64_t dv;
			const char *param;

			onnxpass_value_dim(v, d, &dv, &param);
			if (d)
				fputs(", ", out);
			if (dv >= 0)
				fprintf(out, "%lld", (long long)dv);
			else if (json)
				json_str(out, param ? param : "?");
			else
				fputs(param ? param : "?", out);
		}
		fputc(']', out);
	}
	fputs(json ? "}" : "\n", out);
}

static void print_nodes(FILE *out, struct onnxpass_graph *g, int depth)
{
	for (size_t i = 0; i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);
		const char *d = onnxpass_node_domain(n);

		fprintf(out, "%*s%s%s%s '%s': ", depth * 2, "", d, *d ? ":" : "",
			onnxpass_node_op_type(n), onnxpass_node_name(n));
		for (size_t k = 0; k < onnxpass_node_input_count(n); k++)
			fprintf(out, "%s%s", k ? ", " : "", onnxpass_node_input(n, k));
		fputs(" -> ", out);
		for (size_t k = 0; k < onnxpass_node_output_count(n); k++)
			fprintf(out, "%s%s", k ? ", " : "", onnxpass_node_output(n, k));
		fputc('\n', out);
		for (size_t k = 0; k < onnxpass_node_subgraph_count(n); k++)
			print_nodes(out, onnxpass_node_subgraph(n, k), depth + 1);
	}
}

void info_io_json(FILE *out, struct onnxpass_graph *g)
{
	fprintf(out, "\"inputs\": [");
	for (size_t i = 0; i < onnxpass_graph_input_count(g); i++) {
		fprintf(out, "%s", i ? ", " : "");
		info_value(out, onnxpass_graph_input(g, i), true);
	}
	fprintf(out, "], \"outputs\": [");
	for (size_t i = 0; i < onnxpass_graph_output_count(g); i++) {
		fprintf(out, "%s", i ? ", " : "");
		info_value(out, onnxpass_graph_output(g, i), true);
	}
	fputc(']', out);
}

int info_print(const char *path, bool json, bool nodes, FILE *out, char *err, size_t errlen)
{
	struct onnxpass_model *m;
	struct onnxpass_graph *g;
	struct stats s = { 0 };
	char hb[32];
	int rc = onnxpass_model_load(path, &m, err, errlen);

	if (rc)
		return rc;
	g = onnxpass_model_graph(m);
	walk(&s, g);
	if (s.n_ops)
		qsort(s.ops, s.n_ops, sizeof(*s.ops), cmp_ops);
	if (json) {
		fprintf(out, "{\"model\": ");
		json_str(out, path);
		fprintf(out, ", \"ir_version\": %lld, \"producer\": ",
			(long long)onnxpass_model_ir_version(m));
		json_str(out, onnxpass_model_producer(m));
		fprintf(out, ", \"opsets\": {");
		for (size_t i = 0; i < onnxpass_model_opset_count(m); i++) {
			const char *d;
			int64_t v = onnxpass_model_opset_at(m, i, &d);

			fprintf(out, "%s", i ? ", " : "");
			json_str(out, *d ? d : "ai.onnx");
			fprintf(out, ": %lld", (long long)v);
		}
		fprintf(out, "}, ");
		info_io_json(out, g);
		fprintf(out, ", \"nodes\": %llu, \"ops\": {", (unsigned long long)s.nodes);
		for (size_t i = 0; i < s.n_ops; i++) {
			fprintf(out, "%s", i ? ", " : "");
			json_str(out, s.ops[i].key);
			fprintf(out, ": %zu", s.ops[i].n);
		}
		fprintf(out, "}, \"initializers\": %llu, \"parameters\": %llu, \"bytes_inline\": %llu, "
			     "\"bytes_external\": %llu, \"subgraphs\": %llu, \"functions\": %zu}\n",
			(unsigned long long)s.inits, (unsigned long long)s.params,
			(unsigned long long)s.bytes_inline, (unsigned long long)s.bytes_external,
			(unsigned long long)s.subgraphs, onnxpass_model_function_count(m));
	} else {
		fprintf(out, "model:       %s\n", path);
		fprintf(out, "ir_version:  %lld\nproducer:    %s\nopsets:     ",
			(long long)onnxpass_model_ir_version(m), onnxpass_model_producer(m));
		for (size_t i = 0; i < onnxpass_model_opset_count(m); i++) {
			const char *d;
			int64_t v = onnxpass_model_opset_at(m, i, &d);

			fprintf(out, " %s %lld", *d ? d : "ai.onnx", (long long)v);
		}
		fprintf(out, "\ninputs:\n");
		for (size_t i = 0; i < onnxpass_graph_input_count(g); i++)
			info_value(out, onnxpass_graph_input(g, i), false);
		fprintf(out, "outputs:\n");
		for (size_t i = 0; i < onnxpass_graph_output_count(g); i++)
			info_value(out, onnxpass_graph_output(g, i), false);
		fprintf(out, "nodes:       %llu (%llu subgraphs)\n", (unsigned long long)s.nodes,
			(unsigned long long)s.subgraphs);
		for (size_t i = 0; i < s.n_ops; i++)
			fprintf(out, "    %-40s %zu\n", s.ops[i].key, s.ops[i].n);
		fprintf(out, "parameters:  %llu in %llu initializers\n", (unsigned long long)s.params,
			(unsigned long long)s.inits);
		fprintf(out, "weights:     %s inline", human_bytes(s.bytes_inline, hb, sizeof(hb)));
		fprintf(out, ", %s external\n", human_bytes(s.bytes_external, hb, sizeof(hb)));
		fprintf(out, "functions:   %zu\n", onnxpass_model_function_count(m));
		if (nodes) {
			fprintf(out, "graph:\n");
			print_nodes(out, g, 1);
		}
	}
	for (size_t i = 0; i < s.n_ops; i++)
		free(s.ops[i].key);
	free(s.ops);
	onnxpass_model_free(m);
	return 0;
}
