/* SPDX-License-Identifier: MIT */
/* Model-level API (opsets, metadata, counts) and node attributes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct onnxpass_model *onnxpass_model_new(int64_t ir_version, int64_t opset,
					  const char *graph_name)
{
	struct onnxpass_model *m = calloc(1, sizeof(*m));
	Onnx__GraphProto *gp;
	const char *why = NULL;

	if (!m)
		return NULL;
	ptrmap_init(&m->tensors);
	strmap_init(&m->ext_files);
	m->mp = malloc(sizeof(*m->mp));
	gp = malloc(sizeof(*gp));
	if (!m->mp || !gp) {
		free(m->mp);
		free(gp);
		free(m);
		return NULL;
	}
	onnx__model_proto__init(m->mp);
	onnx__graph_proto__init(gp);
	m->mp->graph = gp;
	m->mp->has_ir_version = 1;
	m->mp->ir_version = ir_version;
	m->mp->producer_name = strdup("onnxpass");
	m->mp->producer_version = strdup(ONNXPASS_VERSION_STRING);
	gp->name = strdup(graph_name ? graph_name : "main");
	m->graph = graph_build(m, gp, NULL, NULL, &why);
	if (!m->graph || !gp->name || onnxpass_model_set_opset(m, "", opset)) {
		onnxpass_model_free(m);
		return NULL;
	}
	return m;
}

const char *onnxpass_model_path(const struct onnxpass_model *m)
{
	return m->path;
}

size_t onnxpass_model_file_count(const struct onnxpass_model *m)
{
	return (m->path ? 1 : 0) + m->ext_files.count;
}

const char *onnxpass_model_file(const struct onnxpass_model *m, size_t i)
{
	if (m->path && i-- == 0)
		return m->path;
	for (size_t k = 0; k < m->ext_files.cap; k++)
		if (m->ext_files.keys[k] && i-- == 0)
			return m->ext_files.keys[k];
	return NULL;
}

struct onnxpass_graph *onnxpass_model_graph(struct onnxpass_model *m)
{
	return m->graph;
}

int64_t onnxpass_model_ir_version(const struct onnxpass_model *m)
{
	return m->mp->ir_version;
}

void onnxpass_model_set_ir_version(struct onnxpass_model *m, int64_t v)
{
	m->mp->has_ir_version = 1;
	m->mp->ir_version = v;
}

static bool same_domain(const char *a, const char *b)
{
	if (!a || !strcmp(a, "ai.onnx"))
		a = "";
	if (!b || !strcmp(b, "ai.onnx"))
		b = "";
	return !strcmp(a, b);
}

int64_t onnxpass_model_opset(const struct onnxpass_model *m, const char *domain)
{
	for (size_t i = 0; i < m->mp->n_opset_import; i++)
		if (same_domain(m->mp->opset_import[i]->domain, domain))
			return m->mp->opset_import[i]->version;
	return ONNXPASS_ENOTFOUND;
}

int onnxpass_model_set_opset(struct onnxpass_model *m, const char *domain, int64_t version)
{
	Onnx__ModelProto *mp = m->mp;
	Onnx__OperatorSetIdProto *op, **arr;

	model_changed(m);
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		if (same_domain(mp->opset_import[i]->domain, domain)) {
			mp->opset_import[i]->has_version = 1;
			mp->opset_import[i]->version = version;
			return 0;
		}
	}
	op = malloc(sizeof(*op));
	arr = realloc(mp->opset_import, (mp->n_opset_import + 1) * sizeof(*arr));
	if (!op || !arr) {
		free(op);
		if (arr)
			mp->opset_import = arr;
		return ONNXPASS_ENOMEM;
	}
	mp->opset_import = arr;
	onnx__operator_set_id_proto__init(op);
	op->domain = strdup(domain ? domain : "");
	op->has_version = 1;
	op->version = version;
	if (!op->domain) {
		free(op);
		return ONNXPASS_ENOMEM;
	}
	arr[mp->n_opset_import++] = op;
	return 0;
}

size_t onnxpass_model_opset_count(const struct onnxpass_model *m)
{
	return m->mp->n_opset_import;
}

int64_t onnxpass_model_opset_at(const struct onnxpass_model *m, size_t i, const char **domain)
{
	if (i >= m->mp->n_opset_import)
		return -1;
	if (domain)
		*domain = m->mp->opset_import[i]->domain ? m->mp->opset_import[i]->domain : "";
	return m->mp->opset_import[i]->version;
}

const char *onnxpass_model_metadata(const struct onnxpass_model *m, const char *key)
{
	for (size_t i = 0; i < m->mp->n_metadata_props; i++)
		if (m->mp->metadata_props[i]->key && !strcmp(m->mp->metadata_props[i]->key, key))
			return m->mp->metadata_props[i]->value ? m->mp->metadata_props[i]->value : "";
	return NULL;
}

int onnxpass_model_set_metadata(struct onnxpass_model *m, const char *key, const char *value)
{
	Onnx__ModelProto *mp = m->mp;
	Onnx__StringStringEntryProto *e, **arr;
	char *v = strdup(value);

	if (!v)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < mp->n_metadata_props; i++) {
		if (mp->metadata_props[i]->key && !strcmp(mp->metadata_props[i]->key, key)) {
			free(mp->metadata_props[i]->value);
			mp->metadata_props[i]->value = v;
			return 0;
		}
	}
	e = malloc(sizeof(*e));
	arr = realloc(mp->metadata_props, (mp->n_metadata_props + 1) * sizeof(*arr));
	if (arr)
		mp->metadata_props = arr;
	if (!e || !arr) {
		free(e);
		free(v);
		return ONNXPASS_ENOMEM;
	}
	onnx__string_string_entry_proto__init(e);
	e->key = strdup(key);
	e->value = v;
	arr[mp->n_metadata_props++] = e;
	return e->key ? 0 : ONNXPASS_ENOMEM;
}

const char *onnxpass_model_producer(const struct onnxpass_model *m)
{
	return m->mp->producer_name ? m->mp->producer_name : "";
}

size_t onnxpass_model_count_op(struct onnxpass_model *m, const char *domain,
			       const char *op_type)
{
	struct onnxpass_graph *g;
	size_t count = 0;

	model_for_each_graph(m, g, gi) {
		if (g->owner && g->owner->removed)
			continue;
		for (size_t i = 0; i < g->n_nodes; i++) {
			struct onnxpass_node *n = g->nodes[i];

			if (n->removed || strcmp(n->np->op_type, op_type))
				continue;
			if (!domain || same_domain(n->np->domain, domain))
				count++;
		}
	}
	return count;
}

/* Graphs reachable from the main graph through live nodes. */
static bool graph_alive(struct onnxpass_graph *g)
{
	for (; g->owner; g = g->parent)
		if (g->owner->removed)
			return false;
	return true;
}

size_t onnxpass_model_node_total(struct onnxpass_model *m)
{
	struct onnxpass_graph *g;
	size_t count = 0;

	model_for_each_graph(m, g, gi)
		if (graph_alive(g))
			count += g->n_nodes - g->n_removed;
	return count;
}

uint64_t onnxpass_model_tensor_bytes(struct onnxpass_model *m)
{
	struct onnxpass_graph *g;
	uint64_t total = 0;

	model_for_each_graph(m, g, gi)
		if (graph_alive(g))
			for (size_t i = 0; i < g->n_inits; i++)
				total += g->inits[i]->nbytes;
	return total;
}

size_t onnxpass_model_function_count(const struct onnxpass_model *m)
{
	return m->mp->n_functions;
}

/* ------------------------------------------------------------------ */
/* Attributes                                                          */

static Onnx__AttributeProto *attr_find(const struct onnxpass_node *n, const char *name)
{
	for (size_t i = 0; i < n->np->n_attribute; i++)
		if (n->np->attribute[i]->name && !strcmp(n->np->attribute[i]->name, name))
			return n->np->attribute[i];
	return NULL;
}

size_t onnxpass_node_attr_count(const struct onnxpass_node *n)
{
	return n->np->n_attribute;
}

const char *onnxpass_node_attr_name(const struct onnxpass_node *n, size_t i)
{
	return i < n->np->n_attribute && n->np->attribute[i]->name ? n->np->attribute[i]->name : "";
}

/* The attribute's type; old files may omit `type`, so infer it. */
static int attr_kind(const Onnx__AttributeProto *a)
{
	if (a->has_type && a->type)
		return a->type;
	if (a->has_f) return ONNXPASS_ATTR_FLOAT;
	if (a->has_i) return ONNXPASS_ATTR_INT;
	if (a->has_s) return ONNXPASS_ATTR_STRING;
	if (a->t) return ONNXPASS_ATTR_TENSOR;
	if (a->g) return ONNXPASS_ATTR_GRAPH;
	if (a->n_floats) return ONNXPASS_ATTR_FLOATS;
	if (a->n_ints) return ONNXPASS_ATTR_INTS;
	if (a->n_strings) return ONNXPASS_ATTR_STRINGS;
	if (a->n_tensors) return ONNXPASS_ATTR_TENSORS;
	if (a->n_graphs) return ONNXPASS_ATTR_GRAPHS;
	return ONNXPASS_ATTR_UNDEFINED;
}

int onnxpass_node_attr_type(const struct onnxpass_node *n, const char *name)
{
	Onnx__AttributeProto *a = attr_find(n, name);

	return a ? attr_kind(a) : ONNXPASS_ATTR_UNDEFINED;
}

static Onnx__AttributeProto *attr_of(const struct onnxpass_node *n, const char *name, int kind,
				     int *rc)
{
	Onnx__AttributeProto *a = attr_find(n, name);

	*rc = !a ? ONNXPASS_ENOTFOUND : attr_kind(a) != kind ? ONNXPASS_EINVAL : 0;
	return *rc ? NULL : a;
}

int onnxpass_node_attr_int(const struct onnxpass_node *n, const char *name, int64_t *out)
{
	int rc;
	Onnx__AttributeProto *a = attr_of(n, name, ONNXPASS_ATTR_INT, &rc);

	if (a)
		*out = a->i;
	return rc;
}

int onnxpass_node_attr_float(const struct onnxpass_node *n, const char *name, float *out)
{
	int rc;
	Onnx__AttributeProto *a = attr_of(n, name, ONNXPASS_ATTR_FLOAT, &rc);

	if (a)
		*out = a->f;
	return rc;
}

int onnxpass_node_attr_string(const struct onnxpass_node *n, const char *name,
			      const char **out)
{
	int rc;
	Onnx__AttributeProto *a = attr_of(n, name, ONNXPASS_ATTR_STRING, &rc);

	if (!a)
		return rc;
	/* graph_build() and set_attr_string keep a NUL after the bytes */
	*out = a->s.data ? (const char *)a->s.data : "";
	return 0;
}

int onnxpass_node_attr_ints(const struct onnxpass_node *n, const char *name,
			    const int64_t **out, size_t *count)
{
	Onnx__AttributeProto *a = attr_find(n, name);

	if (!a)
		return ONNXPASS_ENOTFOUND;
	if (attr_kind(a) != ONNXPASS_ATTR_INTS)
		return ONNXPASS_EINVAL;
	*out = a->ints;
	*count = a->n_ints;
	return 0;
}

int onnxpass_node_attr_floats(const struct onnxpass_node *n, const char *name,
			      const float **out, size_t *count)
{
	Onnx__AttributeProto *a = attr_find(n, name);

	if (!a)
		return ONNXPASS_ENOTFOUND;
	if (attr_kind(a) != ONNXPASS_ATTR_FLOATS)
		return ONNXPASS_EINVAL;
	*out = a->floats;
	*count = a->n_floats;
	return 0;
}

struct onnxpass_tensor *onnxpass_node_attr_tensor(struct onnxpass_node *n, const char *name)
{
	Onnx__AttributeProto *a = attr_find(n, name);
	struct onnxpass_model *m = n->graph->model;
	struct onnxpass_tensor *t;
	const char *why;

	if (!a || !a->t)
		return NULL;
	t = ptrmap_get(&m->tensors, a->t);
	if (t)
		return t;
	if (tensor_wrap(a->t, &t, &why))
		return NULL;
	if (model_register_tensor(m, t)) {
		tensor_release_wrapper(t);
		return NULL;
	}
	return t;
}

/* Replaces (or appends) the attribute name with a fresh one of kind. */
static Onnx__AttributeProto *attr_fresh(struct onnxpass_node *n, const char *name, int kind)
{
	Onnx__NodeProto *np = n->np;
	Onnx__AttributeProto *a = malloc(sizeof(*a));

	if (!a)
		return NULL;
	model_changed(n->graph->model);
	onnx__attribute_proto__init(a);
	a->name = strdup(name);
	a->has_type = 1;
	a->type = kind;
	if (!a->name) {
		free(a);
		return NULL;
	}
	for (size_t i = 0; i < np->n_attribute; i++) {
		if (np->attribute[i]->name && !strcmp(np->attribute[i]->name, name)) {
			if (np->attribute[i]->g || np->attribute[i]->n_graphs) {
				/* subgraph attributes are not replaceable here */
				protobuf_c_message_free_unpacked(&a->base, NULL);
				return NULL;
			}
			model_free_message(n->graph->model, &np->attribute[i]->base);
			np->attribute[i] = a;
			return a;
		}
	}
	{
		Onnx__AttributeProto **arr = realloc(np->attribute,
						     (np->n_attribute + 1) * sizeof(*arr));

		if (!arr) {
			protobuf_c_message_free_unpacked(&a->base, NULL);
			return NULL;
		}
		np->attribute = arr;
		arr[np->n_attribute++] = a;
	}
	return a;
}

int onnxpass_node_set_attr_int(struct onnxpass_node *n, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = attr_fresh(n, name, ONNXPASS_ATTR_INT);

	if (!a)
		return ONNXPASS_ENOMEM;
	a->has_i = 1;
	a->i = v;
	return 0;
}

int onnxpass_node_set_attr_float(struct onnxpass_node *n, const char *name, float v)
{
	Onnx__AttributeProto *a = attr_fresh(n, name, ONNXPASS_ATTR_FLOAT);

	if (!a)
		return ONNXPASS_ENOMEM;
	a->has_f = 1;
	a->f = v;
	return 0;
}

int onnxpass_node_set_attr_string(struct onnxpass_node *n, const char *name, const char *v)
{
	Onnx__AttributeProto *a = attr_fresh(n, name, ONNXPASS_ATTR_STRING);
	size_t len = strlen(v);

	if (!a)
		return ONNXPASS_ENOMEM;
	a->s.data = malloc(len + 1);
	if (!a->s.data)
		return ONNXPASS_ENOMEM;
	memcpy(a->s.data, v, len + 1);
	a->s.len = len;
	a->has_s = 1;
	return 0;
}

int onnxpass_node_set_attr_ints(struct onnxpass_node *n, const char *name, const int64_t *v,
				size_t count)
{
	Onnx__AttributeProto *a = attr_fresh(n, name, ONNXPASS_ATTR_INTS);

	if (!a)
		return ONNXPASS_ENOMEM;
	a->ints = malloc((count ? count : 1) * sizeof(int64_t));
	if (!a->ints)
		return ONNXPASS_ENOMEM;
	if (count)
		memcpy(a->ints, v, count * sizeof(int64_t));
	a->n_ints = count;
	return 0;
}

int onnxpass_node_set_attr_floats(struct onnxpass_node *n, const char *name, const float *v,
				  size_t count)
{
	Onnx__AttributeProto *a = attr_fresh(n, name, ONNXPASS_ATTR_FLOATS);

	if (!a)
		return ONNXPASS_ENOMEM;
	a->floats = malloc((count ? count : 1) * sizeof(float));
	if (!a->floats)
		return ONNXPASS_ENOMEM;
	if (count)
		memcpy(a->floats, v, count * sizeof(float));
	a->n_floats = count;
	return 0;
}

int onnxpass_node_set_attr_tensor(struct onnxpass_node *n, const char *name,
				  struct onnxpass_tensor *t)
{
	Onnx__AttributeProto *a;

	if (t->model)
		return ONNXPASS_EINVAL;
	a = attr_fresh(n, name, ONNXPASS_ATTR_TENSOR);
	if (!a)
		return ONNXPASS_ENOMEM;
	if (model_register_tensor(n->graph->model, t))
		return ONNXPASS_ENOMEM;
	a->t = t->tp;
	return 0;
}

int onnxpass_node_remove_attr(struct onnxpass_node *n, const char *name)
{
	Onnx__NodeProto *np = n->np;

	for (size_t i = 0; i < np->n_attribute; i++) {
		Onnx__AttributeProto *a = np->attribute[i];

		if (!a->name || strcmp(a->name, name))
			continue;
		if (a->g || a->n_graphs)
			return ONNXPASS_EUNSUPPORTED;
		model_changed(n->graph->model);
		model_free_message(n->graph->model, &a->base);
		memmove(&np->attribute[i], &np->attribute[i + 1],
			(np->n_attribute - i - 1) * sizeof(*np->attribute));
		np->n_attribute--;
		return 0;
	}
	return ONNXPASS_ENOTFOUND;
}
