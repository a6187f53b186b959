/* SPDX-License-Identifier: MIT */
/* Cuts the subgraph that computes chosen outputs from chosen inputs out
 * of a model into a new one; initializers are shared, not copied. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int adopt_tensor(ProtobufCMessage *msg, void *ctx)
{
	struct onnxpass_model *m = ctx;
	struct onnxpass_tensor *t;
	const char *why;

	if (ptrmap_get(&m->tensors, msg))
		return 0;
	if (tensor_wrap((Onnx__TensorProto *)msg, &t, &why))
		return -1;
	return model_register_tensor(m, t);
}

/* A deep copy of a node (through its wire form), its tensors wrapped. */
static Onnx__NodeProto *copy_node(struct onnxpass_model *dst, const Onnx__NodeProto *np)
{
	size_t len = protobuf_c_message_get_packed_size(&np->base);
	uint8_t *buf = malloc(len ? len : 1);
	Onnx__NodeProto *c;

	if (!buf)
		return NULL;
	protobuf_c_message_pack(&np->base, buf);
	c = onnx__node_proto__unpack(NULL, len, buf);
	free(buf);
	if (c && proto_visit(&c->base, &onnx__tensor_proto__descriptor, adopt_tensor, dst)) {
		model_free_message(dst, &c->base);
		return NULL;
	}
	return c;
}

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

/* Marks the producers of v (and what they read) as needed. */
static int need(struct onnxpass_graph *g, struct onnxpass_value *v, bool *mark,
		const char *const *inputs, size_t n_in, char *err, size_t errlen,
		const char *for_output)
{
	struct onnxpass_node *p;

	if (!v || in_list(inputs, n_in, v->name) || v->init)
		return 0;
	p = v->producer;
	if (!p) {
		if (v->n_graph_inputs) {
			set_err(err, errlen, "output '%s' depends on graph input '%s', which is not one of the inputs to keep",
				for_output, v->name);
			return ONNXPASS_EINVAL;
		}
		set_err(err, errlen, "output '%s' depends on '%s', which nothing produces", for_output,
			v->name);
		return ONNXPASS_EINVAL;
	}
	if (mark[p->order])
		return 0;
	mark[p->order] = true;
	for (size_t i = 0; i < p->np->n_input; i++) {
		int rc;

		if (!*p->np->input[i])
			continue;
		rc = need(g, strmap_get(&g->values, p->np->input[i]), mark, inputs, n_in, err, errlen,
			  for_output);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < p->n_free; i++) {
		int rc = need(g, p->free_vals[i], mark, inputs, n_in, err, errlen, for_output);

		if (rc)
			return rc;
	}
	return 0;
}

static void copy_type(struct onnxpass_value *from, struct onnxpass_value *to)
{
	int rank = onnxpass_value_rank(from), dtype = onnxpass_value_dtype(from);
	int64_t *dims;
	const char **params;

	if (!dtype)
		return;
	if (rank < 0) {
		onnxpass_value_set_type(to, dtype, -1, NULL, NULL);
		return;
	}
	dims = calloc((size_t)rank + 1, sizeof(*dims));
	params = calloc((size_t)rank + 1, sizeof(*params));
	if (dims && params) {
		for (int i = 0; i < rank; i++)
			onnxpass_value_dim(from, i, &dims[i], &params[i]);
		onnxpass_value_set_type(to, dtype, rank, dims, params);
	}
	free(dims);
	free(params);
}

struct onnxpass_model *onnxpass_model_extract(struct onnxpass_model *src,
					      const char *const *inputs, size_t n_in,
					      const char *const *outputs, size_t n_out,
					      const char *graph_name, char *err, size_t errlen)
{
	struct onnxpass_graph *g = src->graph, *ng;
	struct onnxpass_model *m;
	size_t n = onnxpass_graph_node_count(g);
	bool *mark = calloc(n ? n : 1, sizeof(bool));
	int rc = 0;

	if (!mark)
		return NULL;
	for (size_t i = 0; i < n; i++)
		g->nodes[i]->order = i;
	for (size_t i = 0; i < n_in && !rc; i++) {
		if (!strmap_get(&g->values, inputs[i])) {
			set_err(err, errlen, "no value named '%s'", inputs[i]);
			rc = ONNXPASS_ENOTFOUND;
		}
	}
	for (size_t i = 0; i < n_out && !rc; i++) {
		struct onnxpass_value *v = strmap_get(&g->values, outputs[i]);

		if (!v) {
			set_err(err, errlen, "no value named '%s'", outputs[i]);
			rc = ONNXPASS_ENOTFOUND;
		} else {
			rc = need(g, v, mark, inputs, n_in, err, errlen, outputs[i]);
		}
	}
	if (rc) {
		free(mark);
		return NULL;
	}
	m = onnxpass_model_new(src->mp->ir_version, onnxpass_model_opset(src, ""),
			       graph_name ? graph_name : "extract");
	if (!m)
		goto fail;
	for (size_t i = 0; i < src->mp->n_opset_import; i++)
		onnxpass_model_set_opset(m, src->mp->opset_import[i]->domain,
					 src->mp->opset_import[i]->version);
	ng = m->graph;
	for (size_t i = 0; i < n_in; i++) {
		struct onnxpass_value *v = onnxpass_graph_add_input(ng, inputs[i], -1);

		if (!v)
			goto fail;
		copy_type(strmap_get(&g->values, inputs[i]), v);
	}
	for (size_t i = 0; i < n; i++) {
		Onnx__NodeProto *np;
		struct onnxpass_node *nd;

		if (!mark[i])
			continue;
		/* the initializers it reads, shared */
		for (size_t k = 0; k <= g->nodes[i]->np->n_input + g->nodes[i]->n_free; k++) {
			struct onnxpass_value *v;
			struct onnxpass_tensor *t;

			if (k < g->nodes[i]->np->n_input)
				v = *g->nodes[i]->np->input[k]
					    ? onnxpass_graph_lookup(g, g->nodes[i]->np->input[k]) : NULL;
			else if (k - g->nodes[i]->np->n_input < g->nodes[i]->n_free)
				v = g->nodes[i]->free_vals[k - g->nodes[i]->np->n_input];
			else
				break;
			if (!v || !v->init || in_list(inputs, n_in, v->name) ||
			    onnxpass_graph_initializer(ng, v->name))
				continue;
			t = onnxpass_tensor_share(v->init, v->name);
			if (!t || onnxpass_graph_add_initializer(ng, t)) {
				onnxpass_tensor_free(t);
				goto fail;
			}
		}
		np = copy_node(m, g->nodes[i]->np);
		nd = np ? calloc(1, sizeof(*nd)) : NULL;
		if (!nd) {
			if (np)
				model_free_message(m, &np->base);
			goto fail;
		}
		nd->np = np;
		nd->graph = ng;
		if (graph_adopt_node(ng, nd))
			goto fail;
	}
	for (size_t i = 0; i < n_out; i++) {
		struct onnxpass_value *v = onnxpass_graph_add_output(ng, outputs[i], -1);

		if (!v)
			goto fail;
		copy_type(strmap_get(&g->values, outputs[i]), v);
	}
	free(mark);
	return m;
fail:
	if (err && !err[0])
		set_err(err, errlen, "out of memory");
	free(mark);
	onnxpass_model_free(m);
	return NULL;
}
