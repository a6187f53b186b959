/* SPDX-License-Identifier: MIT */
/* The graph IR over protobuf-c messages: build, value maps, and edits.
 *
 * Nodes and initializers stay protobuf-c messages (so everything we do not
 * interpret is written back untouched); the IR adds wrappers, a name ->
 * value map per graph with producer and uses, and the outer names each
 * subgraph reads, which count as uses by the node that owns the subgraph.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Values and uses                                                     */

struct onnxpass_value *graph_value_get(struct onnxpass_graph *g, const char *name)
{
	struct onnxpass_value *v = strmap_get(&g->values, name);

	if (v || !*name)
		return v;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->name = strdup(name);
	v->graph = g;
	v->producer_index = -1;
	if (!v->name || strmap_put(&g->values, v->name, v)) {
		free(v->name);
		free(v);
		return NULL;
	}
	return v;
}

static int use_add(struct onnxpass_value *v, struct onnxpass_node *n, int input)
{
	if (grow(&v->uses, &v->cap_uses, v->n_uses + 1, sizeof(*v->uses)))
		return -1;
	v->uses[v->n_uses].node = n;
	v->uses[v->n_uses].input = input;
	v->n_uses++;
	return 0;
}

static void use_del(struct onnxpass_value *v, struct onnxpass_node *n, int input)
{
	for (size_t i = 0; i < v->n_uses; i++) {
		if (v->uses[i].node == n && v->uses[i].input == input) {
			memmove(&v->uses[i], &v->uses[i + 1], (v->n_uses - i - 1) * sizeof(*v->uses));
			v->n_uses--;
			return;
		}
	}
}

static bool value_defined(const struct onnxpass_value *v)
{
	return v->producer || v->init || v->n_graph_inputs > 0;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */

static int model_add_graph(struct onnxpass_model *m, struct onnxpass_graph *g)
{
	if (grow(&m->graphs, &m->cap_graphs, m->n_graphs + 1, sizeof(*m->graphs)))
		return -1;
	m->graphs[m->n_graphs++] = g;
	return 0;
}

static int node_add_free(struct onnxpass_node *n, struct onnxpass_value *v)
{
	for (size_t i = 0; i < n->n_free; i++)
		if (n->free_vals[i] == v)
			return 0;
	if (use_add(v, n, -1) || grow(&n->free_vals, &n->cap_free, n->n_free + 1, sizeof(*n->free_vals)))
		return -1;
	n->free_vals[n->n_free++] = v;
	return 0;
}

/* Registers, as implicit uses by n in its graph, every name that
 * subgraph s reads but does not define. */
static int link_free_names(struct onnxpass_node *n, struct onnxpass_graph *s)
{
	for (size_t i = 0; i < s->values.cap; i++) {
		struct onnxpass_value *v = s->values.vals[i], *outer;

		if (!s->values.keys[i] || value_defined(v))
			continue;
		if (v->n_uses == 0 && v->n_graph_outputs == 0)
			continue;
		outer = graph_value_get(n->graph, v->name);
		if (!outer || node_add_free(n, outer))
			return -1;
	}
	return 0;
}

static int node_wire(struct onnxpass_graph *g, struct onnxpass_node *n)
{
	Onnx__NodeProto *np = n->np;

	for (size_t i = 0; i < np->n_input; i++) {
		struct onnxpass_value *v;

		if (!np->input[i] || !*np->input[i])
			continue;
		v = graph_value_get(g, np->input[i]);
		if (!v || use_add(v, n, (int)i))
			return -1;
	}
	for (size_t i = 0; i < np->n_output; i++) {
		struct onnxpass_value *v;

		if (!np->output[i] || !*np->output[i])
			continue;
		v = graph_value_get(g, np->output[i]);
		if (!v)
			return -1;
		if (!v->producer) {	/* a second producer is invalid ONNX: keep the first */
			v->producer = n;
			v->producer_index = (int)i;
		}
	}
	return 0;
}

/* STRING attributes are bytes without a terminator; give each a NUL
 * after its len bytes (len unchanged, so they are written back as read). */
static int terminate_string(Onnx__AttributeProto *ap)
{
	uint8_t *c;

	if (!ap->has_s)
		return 0;
	c = malloc(ap->s.len + 1);
	if (!c)
		return -1;
	if (ap->s.len)
		memcpy(c, ap->s.data, ap->s.len);
	c[ap->s.len] = '\0';
	free(ap->s.data);
	ap->s.data = c;
	return 0;
}

static int node_build_subgraphs(struct onnxpass_graph *g, struct onnxpass_node *n,
				const char **why)
{
	Onnx__NodeProto *np = n->np;

	for (size_t a = 0; a < np->n_attribute; a++) {
		Onnx__AttributeProto *ap = np->attribute[a];
		size_t count = (ap->g ? 1 : 0) + ap->n_graphs;

		if (terminate_string(ap))
			return -1;

		if (!count)
			continue;
		if (grow(&n->subs, &n->cap_subs, n->n_subs + count, sizeof(*n->subs)))
			return -1;
		for (size_t k = 0; k < count; k++) {
			Onnx__GraphProto *sgp = ap->g && k == 0 ? ap->g : ap->graphs[k - (ap->g ? 1 : 0)];
			struct onnxpass_graph *s = graph_build(g->model, sgp, g, n, why);

			if (!s)
				return -1;
			n->subs[n->n_subs++] = s;
			if (link_free_names(n, s))
				return -1;
		}
	}
	return 0;
}

static int graph_push_node(struct onnxpass_graph *g, struct onnxpass_node *n)
{
	if (grow(&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(*g->nodes)))
		return -1;
	g->nodes[g->n_nodes++] = n;
	return 0;
}

int graph_adopt_node(struct onnxpass_graph *g, struct onnxpass_node *n)
{
	const char *why = NULL;

	if (graph_push_node(g, n)) {
		free(n);
		return ONNXPASS_ENOMEM;
	}
	g->dirty = true;
	model_changed(g->model);
	if (node_wire(g, n) || node_build_subgraphs(g, n, &why))
		return ONNXPASS_ENOMEM;
	return 0;
}

struct onnxpass_graph *graph_build(struct onnxpass_model *m, Onnx__GraphProto *gp,
				   struct onnxpass_graph *parent, struct onnxpass_node *owner,
				   const char **why)
{
	struct onnxpass_graph *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->model = m;
	g->parent = parent;
	g->owner = owner;
	g->gp = gp;
	strmap_init(&g->values);
	if (model_add_graph(m, g)) {
		graph_free(g);
		return NULL;
	}
	for (size_t i = 0; i < gp->n_input; i++) {
		struct onnxpass_value *v;

		if (!gp->input[i]->name || !*gp->input[i]->name) {
			*why = "a graph input has no name";
			return NULL;
		}
		v = graph_value_get(g, gp->input[i]->name);
		if (!v)
			return NULL;
		v->n_graph_inputs++;
	}
	for (size_t i = 0; i < gp->n_initializer; i++) {
		Onnx__TensorProto *tp = gp->initializer[i];
		struct onnxpass_tensor *t = ptrmap_get(&m->tensors, tp);
		struct onnxpass_value *v;

		if (!t || !tp->name || !*tp->name) {
			*why = "an initializer has no name";
			return NULL;
		}
		v = graph_value_get(g, tp->name);
		if (!v)
			return NULL;
		if (v->init) {
			*why = "two initializers have the same name";
			return NULL;
		}
		v->init = t;
		if (grow(&g->inits, &g->cap_inits, g->n_inits + 1, sizeof(*g->inits)))
			return NULL;
		g->inits[g->n_inits++] = t;
	}
	for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
		Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
		struct onnxpass_value *v;

		/* kept as they are; their names still define values */
		if (sp->values && sp->values->name && (v = graph_value_get(g, sp->values->name)))
			v->n_graph_inputs++;
	}
	for (size_t i = 0; i < gp->n_node; i++) {
		struct onnxpass_node *n = calloc(1, sizeof(*n));

		if (!n)
			return NULL;
		n->np = gp->node[i];
		n->graph = g;
		if (graph_push_node(g, n))
			return NULL;
		if (!n->np->op_type) {
			*why = "a node has no op_type";
			return NULL;
		}
		if (node_wire(g, n) || node_build_subgraphs(g, n, why))
			return NULL;
	}
	for (size_t i = 0; i < gp->n_output; i++) {
		struct onnxpass_value *v;

		if (!gp->output[i]->name || !*gp->output[i]->name) {
			*why = "a graph output has no name";
			return NULL;
		}
		v = graph_value_get(g, gp->output[i]->name);
		if (!v)
			return NULL;
		v->n_graph_outputs++;
	}
	return g;
}

/* ------------------------------------------------------------------ */
/* Sync and free                                                       */

static void compact(struct onnxpass_graph *g)
{
	size_t k = 0;

	if (!g->n_removed)
		return;
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i]->removed)
			g->nodes[k++] = g->nodes[i];
	g->n_nodes = k;
	g->n_removed = 0;
}

int graph_sync(struct onnxpass_graph *g)
{
	Onnx__GraphProto *gp = g->gp;
	Onnx__NodeProto **nodes;
	Onnx__TensorProto **inits;

	compact(g);
	if (!g->dirty)
		return 0;
	/* both arrays first: on failure the message keeps its old ones */
	nodes = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof(*nodes));
	inits = malloc((g->n_inits ? g->n_inits : 1) * sizeof(*inits));
	if (!nodes || !inits) {
		free(nodes);
		free(inits);
		return ONNXPASS_ENOMEM;
	}
	free(gp->node);
	free(gp->initializer);
	gp->node = nodes;
	gp->initializer = inits;
	for (size_t i = 0; i < g->n_nodes; i++)
		gp->node[i] = g->nodes[i]->np;
	gp->n_node = g->n_nodes;
	for (size_t i = 0; i < g->n_inits; i++)
		gp->initializer[i] = g->inits[i]->tp;
	gp->n_initializer = g->n_inits;
	g->dirty = false;
	return 0;
}

int model_sync(struct onnxpass_model *m)
{
	struct onnxpass_graph *g;
	int rc = 0;

	model_for_each_graph(m, g, i)
		if (graph_sync(g))
			rc = ONNXPASS_ENOMEM;
	return rc;
}

static void node_free(struct onnxpass_node *n)
{
	free(n->subs);
	free(n->free_vals);
	free(n);
}

void graph_free(struct onnxpass_graph *g)
{
	if (!g)
		return;
	graph_shapes_release(g);
	strmap_release(&g->vi_index);
	for (size_t i = 0; i < g->values.cap; i++) {
		struct onnxpass_value *v = g->values.vals[i];

		if (!g->values.keys[i])
			continue;
		free(v->uses);
		free(v->name);
		free(v);
	}
	strmap_release(&g->values);
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i]->removed)
			node_free(g->nodes[i]);
	free(g->nodes);
	free(g->inits);
	free(g);
}

static int release_tensor(ProtobufCMessage *msg, void *ctx)
{
	struct onnxpass_model *m = ctx;
	struct onnxpass_tensor *t = ptrmap_get(&m->tensors, msg);

	if (t) {
		ptrmap_del(&m->tensors, msg);
		tensor_release_wrapper(t);
	}
	return 0;
}

void model_free_message(struct onnxpass_model *m, ProtobufCMessage *msg)
{
	proto_visit(msg, &onnx__tensor_proto__descriptor, release_tensor, m);
	protobuf_c_message_free_unpacked(msg, NULL);
}

void onnxpass_model_free(struct onnxpass_model *m)
{
	if (!m)
		return;
	model_sync(m);	/* out of memory here: nodes added since the last save leak */
	for (size_t i = 0; i < m->tensors.cap; i++)
		if (m->tensors.keys[i])
			tensor_release_wrapper(m->tensors.vals[i]);
	ptrmap_release(&m->tensors);
	for (size_t i = 0; i < m->n_dead; i++) {
		protobuf_c_message_free_unpacked(&m->dead[i]->np->base, NULL);
		node_free(m->dead[i]);
	}
	free(m->dead);
	if (m->mp)
		protobuf_c_message_free_unpacked(&m->mp->base, NULL);
	for (size_t i = 0; i < m->n_graphs; i++)
		graph_free(m->graphs[i]);
	free(m->graphs);
	for (size_t i = 0; i < m->ext_files.cap; i++)
		if (m->ext_files.keys[i])
			blob_unref(m->ext_files.vals[i]);
	strmap_release(&m->ext_files);
	for (size_t i = 0; i < m->fresh_next.cap; i++)
		if (m->fresh_next.keys[i])
			free(m->fresh_next.vals[i]);
	strmap_release(&m->fresh_next);
	for (size_t i = 0; i < m->n_names; i++)
		free(m->names[i]);
	free(m->names);
	blob_unref(m->file);
	free(m->path);
	free(m->dir);
	free(m);
}

int model_register_tensor(struct onnxpass_model *m, struct onnxpass_tensor *t)
{
	if (ptrmap_put(&m->tensors, t->tp, t))
		return ONNXPASS_ENOMEM;
	t->model = m;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Graph queries                                                       */

struct onnxpass_model *onnxpass_graph_model(struct onnxpass_graph *g)
{
	return g->model;
}

const char *onnxpass_graph_name(const struct onnxpass_graph *g)
{
	return g->gp->name ? g->gp->name : "";
}

size_t onnxpass_graph_node_count(struct onnxpass_graph *g)
{
	compact(g);
	return g->n_nodes;
}

struct onnxpass_node *onnxpass_graph_node(struct onnxpass_graph *g, size_t i)
{
	compact(g);
	return i < g->n_nodes ? g->nodes[i] : NULL;
}

struct onnxpass_node **onnxpass_graph_nodes(struct onnxpass_graph *g, size_t *n)
{
	struct onnxpass_node **arr;

	compact(g);
	arr = malloc((g->n_nodes ? g->n_nodes : 1) * sizeof(*arr));
	if (!arr)
		return NULL;
	if (g->n_nodes)
		memcpy(arr, g->nodes, g->n_nodes * sizeof(*arr));
	*n = g->n_nodes;
	return arr;
}

size_t onnxpass_graph_input_count(const struct onnxpass_graph *g)
{
	return g->gp->n_input;
}

struct onnxpass_value *onnxpass_graph_input(struct onnxpass_graph *g, size_t i)
{
	return i < g->gp->n_input ? graph_value_get(g, g->gp->input[i]->name ? g->gp->input[i]->name : "")
				  : NULL;
}

size_t onnxpass_graph_output_count(const struct onnxpass_graph *g)
{
	return g->gp->n_output;
}

struct onnxpass_value *onnxpass_graph_output(struct onnxpass_graph *g, size_t i)
{
	return i < g->gp->n_output
		       ? graph_value_get(g, g->gp->output[i]->name ? g->gp->output[i]->name : "")
		       : NULL;
}

size_t onnxpass_graph_initializer_count(const struct onnxpass_graph *g)
{
	return g->n_inits;
}

struct onnxpass_tensor *onnxpass_graph_initializer_at(struct onnxpass_graph *g, size_t i)
{
	return i < g->n_inits ? g->inits[i] : NULL;
}

struct onnxpass_tensor *onnxpass_graph_initializer(struct onnxpass_graph *g, const char *name)
{
	struct onnxpass_value *v = strmap_get(&g->values, name);

	return v ? v->init : NULL;
}

struct onnxpass_value *onnxpass_graph_value(struct onnxpass_graph *g, const char *name)
{
	return strmap_get(&g->values, name);
}

struct onnxpass_value *onnxpass_graph_lookup(struct onnxpass_graph *g, const char *name)
{
	struct onnxpass_value *first = strmap_get(&g->values, name);

	for (struct onnxpass_graph *s = g; s; s = s->parent) {
		struct onnxpass_value *v = strmap_get(&s->values, name);

		if (v && value_defined(v))
			return v;
	}
	return first;
}

/* ------------------------------------------------------------------ */
/* Editing nodes                                                       */

static char **strv_dup(const char *const *v, size_t n)
{
	char **r = calloc(n ? n : 1, sizeof(char *));

	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		r[i] = strdup(v[i] ? v[i] : "");
		if (!r[i]) {
			while (i--)
				free(r[i]);
			free(r);
			return NULL;
		}
	}
	return r;
}

struct onnxpass_node *onnxpass_graph_add_node(struct onnxpass_graph *g, const char *op_type,
					      const char *domain, const char *name,
					      const char *const *inputs, size_t n_inputs,
					      const char *const *outputs, size_t n_outputs)
{
	Onnx__NodeProto *np;
	struct onnxpass_node *n;

	for (size_t i = 0; i < n_outputs; i++) {
		struct onnxpass_value *v = strmap_get(&g->values, outputs[i]);

		if (v && (v->producer || v->init || v->n_graph_inputs))
			return NULL;
	}
	np = malloc(sizeof(*np));
	n = calloc(1, sizeof(*n));
	if (!np || !n) {
		free(np);
		free(n);
		return NULL;
	}
	onnx__node_proto__init(np);
	n->np = np;
	n->graph = g;
	np->op_type = strdup(op_type);
	np->domain = domain && *domain ? strdup(domain) : NULL;
	np->name = name ? strdup(name) : NULL;
	np->input = strv_dup(inputs, n_inputs);
	np->n_input = n_inputs;
	np->output = strv_dup(outputs, n_outputs);
	np->n_output = n_outputs;
	if (!np->op_type || (domain && *domain && !np->domain) || (name && !np->name) ||
	    !np->input || !np->output || graph_push_node(g, n) || node_wire(g, n)) {
		/* wiring may have partly happened: undo uses */
		if (g->n_nodes && g->nodes[g->n_nodes - 1] == n)
			g->n_nodes--;
		for (size_t i = 0; np->input && i < np->n_input; i++) {
			struct onnxpass_value *v = np->input[i] ? strmap_get(&g->values, np->input[i]) : NULL;

			if (v)
				use_del(v, n, (int)i);
		}
		protobuf_c_message_free_unpacked(&np->base, NULL);
		free(n);
		return NULL;
	}
	g->dirty = true;
	model_changed(g->model);
	return n;
}

void onnxpass_graph_remove_node(struct onnxpass_graph *g, struct onnxpass_node *n)
{
	struct onnxpass_model *m = g->model;
	Onnx__NodeProto *np = n->np;

	if (n->removed || n->graph != g)
		return;
	model_changed(m);
	for (size_t i = 0; i < np->n_input; i++) {
		struct onnxpass_value *v = *np->input[i] ? strmap_get(&g->values, np->input[i]) : NULL;

		if (v)
			use_del(v, n, (int)i);
	}
	for (size_t i = 0; i < np->n_output; i++) {
		struct onnxpass_value *v = strmap_get(&g->values, np->output[i]);

		if (v && v->producer == n) {
			v->producer = NULL;
			v->producer_index = -1;
		}
	}
	for (size_t i = 0; i < n->n_free; i++)
		use_del(n->free_vals[i], n, -1);
	n->removed = true;
	g->n_removed++;
	g->dirty = true;
	if (grow(&m->dead, &m->cap_dead, m->n_dead + 1, sizeof(*m->dead)) == 0)
		m->dead[m->n_dead++] = n;
	/* else: leaked until exit rather than freed while still pointed to */
}

const char *onnxpass_node_op_type(const struct onnxpass_node *n)
{
	return n->np->op_type;
}

const char *onnxpass_node_domain(const struct onnxpass_node *n)
{
	const char *d = n->np->domain;

	return !d || !strcmp(d, "ai.onnx") ? "" : d;
}

const char *onnxpass_node_name(const struct onnxpass_node *n)
{
	return n->np->name ? n->np->name : "";
}

int onnxpass_node_set_name(struct onnxpass_node *n, const char *name)
{
	char *s = strdup(name);

	if (!s)
		return ONNXPASS_ENOMEM;
	free(n->np->name);
	n->np->name = s;
	return 0;
}

struct onnxpass_graph *onnxpass_node_graph(struct onnxpass_node *n)
{
	return n->graph;
}

bool onnxpass_node_is_removed(const struct onnxpass_node *n)
{
	return n->removed;
}

bool onnxpass_node_is(const struct onnxpass_node *n, const char *domain, const char *op_type)
{
	return !strcmp(n->np->op_type, op_type) &&
	       !strcmp(onnxpass_node_domain(n), domain && strcmp(domain, "ai.onnx") ? domain : "");
}

size_t onnxpass_node_input_count(const struct onnxpass_node *n)
{
	return n->np->n_input;
}

const char *onnxpass_node_input(const struct onnxpass_node *n, size_t i)
{
	return i < n->np->n_input && n->np->input[i] ? n->np->input[i] : "";
}

struct onnxpass_value *onnxpass_node_input_value(struct onnxpass_node *n, size_t i)
{
	const char *name = onnxpass_node_input(n, i);

	return *name ? onnxpass_graph_lookup(n->graph, name) : NULL;
}

size_t onnxpass_node_output_count(const struct onnxpass_node *n)
{
	return n->np->n_output;
}

const char *onnxpass_node_output(const struct onnxpass_node *n, size_t i)
{
	return i < n->np->n_output && n->np->output[i] ? n->np->output[i] : "";
}

struct onnxpass_value *onnxpass_node_output_value(struct onnxpass_node *n, size_t i)
{
	const char *name = onnxpass_node_output(n, i);

	return *name ? strmap_get(&n->graph->values, name) : NULL;
}

static int set_slot(char ***arr, size_t *count, size_t i, const char *name, char **old)
{
	char *s = strdup(name);

	*old = NULL;
	if (!s)
		return ONNXPASS_ENOMEM;
	if (i == *count) {
		char **a = realloc(*arr, (*count + 1) * sizeof(char *));

		if (!a) {
			free(s);
			return ONNXPASS_ENOMEM;
		}
		*arr = a;
		a[(*count)++] = s;
		return 0;
	}
	if (i > *count) {
		free(s);
		return ONNXPASS_EINVAL;
	}
	*old = (*arr)[i];
	(*arr)[i] = s;
	return 0;
}

int onnxpass_node_set_input(struct onnxpass_node *n, size_t i, const char *name)
{
	struct onnxpass_graph *g = n->graph;
	struct onnxpass_value *v;
	char *old;
	int rc;

	if (n->removed)
		return ONNXPASS_EINVAL;
	if (*name && !graph_value_get(g, name))
		return ONNXPASS_ENOMEM;
	model_changed(g->model);
	rc = set_slot(&n->np->input, &n->np->n_input, i, name, &old);
	if (rc)
		return rc;
	if (old && *old && (v = strmap_get(&g->values, old)))
		use_del(v, n, (int)i);
	free(old);
	if (*name && use_add(graph_value_get(g, name), n, (int)i))
		return ONNXPASS_ENOMEM;
	g->dirty = true;
	return 0;
}

int onnxpass_node_set_output(struct onnxpass_node *n, size_t i, const char *name)
{
	struct onnxpass_graph *g = n->graph;
	struct onnxpass_value *v = *name ? graph_value_get(g, name) : NULL;
	char *old;
	int rc;

	if (n->removed || (*name && !v))
		return ONNXPASS_EINVAL;
	if (v && v->producer && v->producer != n)
		return ONNXPASS_EINVAL;
	model_changed(g->model);
	rc = set_slot(&n->np->output, &n->np->n_output, i, name, &old);
	if (rc)
		return rc;
	if (old && *old) {
		struct onnxpass_value *ov = strmap_get(&g->values, old);

		if (ov && ov->producer == n) {
			ov->producer = NULL;
			ov->producer_index = -1;
		}
	}
	free(old);
	if (v) {
		v->producer = n;
		v->producer_index = (int)i;
	}
	return 0;
}

size_t onnxpass_node_subgraph_count(const struct onnxpass_node *n)
{
	return n->n_subs;
}

struct onnxpass_graph *onnxpass_node_subgraph(struct onnxpass_node *n, size_t i)
{
	return i < n->n_subs ? n->subs[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

const char *onnxpass_value_name(const struct onnxpass_value *v)
{
	return v ? v->name : "";
}

struct onnxpass_graph *onnxpass_value_graph(struct onnxpass_value *v)
{
	return v->graph;
}

struct onnxpass_node *onnxpass_value_producer(struct onnxpass_value *v, int *output_index)
{
	if (output_index)
		*output_index = v->producer_index;
	return v->producer;
}

size_t onnxpass_value_use_count(const struct onnxpass_value *v)
{
	return v->n_uses;
}

struct onnxpass_node *onnxpass_value_use(struct onnxpass_value *v, size_t i, int *input_index)
{
	if (i >= v->n_uses)
		return NULL;
	if (input_index)
		*input_index = v->uses[i].input;
	return v->uses[i].node;
}

bool onnxpass_value_is_graph_input(const struct onnxpass_value *v)
{
	return v->n_graph_inputs > 0;
}

bool onnxpass_value_is_graph_output(const struct onnxpass_value *v)
{
	return v->n_graph_outputs > 0;
}

struct onnxpass_tensor *onnxpass_value_initializer(struct onnxpass_value *v)
{
	return v->init;
}

struct onnxpass_tensor *onnxpass_value_constant(struct onnxpass_value *v)
{
	if (!v || v->n_graph_inputs)
		return NULL;
	if (v->init)
		return v->init;
	if (v->producer && onnxpass_node_is(v->producer, NULL, "Constant"))
		return onnxpass_node_attr_tensor(v->producer, "value");
	return NULL;
}

struct onnxpass_node *onnxpass_value_single_use(struct onnxpass_value *v, int *input_index)
{
	if (!v || v->n_uses != 1 || v->n_graph_outputs)
		return NULL;
	return onnxpass_value_use(v, 0, input_index);
}
