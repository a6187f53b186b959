/* SPDX-License-Identifier: MIT */
/* `onnxpass info MODEL`: IR and opsets, graph inputs/outputs with shapes,
 * node counts per op type, parameters and weight bytes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "json.h"

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

static void info_value(FILE *out, struct onnxpass_value *v)
{
	int rank = onnxpass_value_rank(v);

	fprintf(out, "    %-40s %-8s ", onnxpass_value_name(v), onnxpass_dtype_name(onnxpass_value_dtype(v)));
	if (rank < 0)
		fputc('?', out);
	for (int d = 0; d < rank; d++) {
		int64_t dv;
		const char *param;

		onnxpass_value_dim(v, d, &dv, &param);
		fputs(d ? ", " : "[", out);
		if (dv >= 0)
			fprintf(out, "%lld", (long long)dv);
		else
			fputs(param ? param : "?", out);
	}
	fputs(rank > 0 ? "]\n" : rank == 0 ? "[]\n" : "\n", out);
}

/* {"name", "type", "shape": [size or symbol, ...] or null} */
static void value_json(struct jw *w, struct onnxpass_value *v)
{
	int rank = onnxpass_value_rank(v);

	jw_object(w, NULL);
	jw_str(w, "name", onnxpass_value_name(v));
	jw_str(w, "type", onnxpass_dtype_name(onnxpass_value_dtype(v)));
	if (rank < 0) {
		jw_null(w, "shape");
	} else {
		jw_array(w, "shape");
		for (int d = 0; d < rank; d++) {
			int64_t dv;
			const char *param;

			onnxpass_value_dim(v, d, &dv, &param);
			if (dv >= 0)
				jw_int(w, NULL, dv);
			else
				jw_str(w, NULL, param ? param : "?");
		}
		jw_end(w);
	}
	jw_end(w);
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

void info_io_json(struct jw *w, struct onnxpass_graph *g)
{
	jw_array(w, "inputs");
	for (size_t i = 0; i < onnxpass_graph_input_count(g); i++)
		value_json(w, onnxpass_graph_input(g, i));
	jw_end(w);
	jw_array(w, "outputs");
	for (size_t i = 0; i < onnxpass_graph_output_count(g); i++)
		value_json(w, onnxpass_graph_output(g, i));
	jw_end(w);
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
		struct jw w;

		jw_init(&w, out, false);
		jw_object(&w, NULL);
		jw_str(&w, "model", path);
		jw_int(&w, "ir_version", onnxpass_model_ir_version(m));
		jw_str(&w, "producer", onnxpass_model_producer(m));
		jw_object(&w, "opsets");
		for (size_t i = 0; i < onnxpass_model_opset_count(m); i++) {
			const char *d;
			int64_t v = onnxpass_model_opset_at(m, i, &d);

			jw_int(&w, *d ? d : "ai.onnx", v);
		}
		jw_end(&w);
		info_io_json(&w, g);
		jw_uint(&w, "nodes", s.nodes);
		jw_object(&w, "ops");
		for (size_t i = 0; i < s.n_ops; i++)
			jw_uint(&w, s.ops[i].key, s.ops[i].n);
		jw_end(&w);
		jw_uint(&w, "initializers", s.inits);
		jw_uint(&w, "parameters", s.params);
		jw_uint(&w, "bytes_inline", s.bytes_inline);
		jw_uint(&w, "bytes_external", s.bytes_external);
		jw_uint(&w, "subgraphs", s.subgraphs);
		jw_uint(&w, "functions", onnxpass_model_function_count(m));
		jw_finish(&w);
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
			info_value(out, onnxpass_graph_input(g, i));
		fprintf(out, "outputs:\n");
		for (size_t i = 0; i < onnxpass_graph_output_count(g); i++)
			info_value(out, onnxpass_graph_output(g, i));
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
