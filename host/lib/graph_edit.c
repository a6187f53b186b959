/* SPDX-License-Identifier: MIT */
/* Graph-level edits: initializers, inputs/outputs, value types, renaming
 * uses, topological sort, dead-code removal and fresh names. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* value_get() of graph.c, without creating */
static struct onnxpass_value *value_find(struct onnxpass_graph *g, const char *name)
{
	return strmap_get(&g->values, name);
}

/* ------------------------------------------------------------------ */
/* Initializers                                                        */

int onnxpass_graph_add_initializer(struct onnxpass_graph *g, struct onnxpass_tensor *t)
{
	const char *name = onnxpass_tensor_name(t);
	struct onnxpass_value *v;

	model_changed(g->model);
	if (!*name || t->model)
		return ONNXPASS_EINVAL;
	v = graph_value_get(g, name);
	if (!v)
		return ONNXPASS_ENOMEM;
	if (v->init || v->producer)
		return ONNXPASS_EINVAL;
	if (grow(&g->inits, &g->cap_inits, g->n_inits + 1, sizeof(*g->inits)) ||
	    model_register_tensor(g->model, t))
		return ONNXPASS_ENOMEM;
	g->inits[g->n_inits++] = t;
	v->init = t;
	g->dirty = true;
	return 0;
}

static ssize_t init_index(struct onnxpass_graph *g, const struct onnxpass_tensor *t)
{
	for (size_t i = 0; i < g->n_inits; i++)
		if (g->inits[i] == t)
			return (ssize_t)i;
	return -1;
}

int onnxpass_graph_replace_initializer(struct onnxpass_graph *g, struct onnxpass_tensor *t)
{
	struct onnxpass_value *v = value_find(g, onnxpass_tensor_name(t));
	ssize_t i;

	model_changed(g->model);
	if (!v || !v->init || t->model)
		return ONNXPASS_ENOTFOUND;
	i = init_index(g, v->init);
	if (i < 0 || model_register_tensor(g->model, t))
		return ONNXPASS_ENOMEM;
	onnxpass_tensor_free(v->init);
	g->inits[i] = t;
	v->init = t;
	g->dirty = true;
	return 0;
}

struct onnxpass_tensor *onnxpass_graph_take_initializer(struct onnxpass_graph *g,
							const char *name)
{
	struct onnxpass_value *v = value_find(g, name);
	struct onnxpass_tensor *t;
	ssize_t i;

	model_changed(g->model);
	if (!v || !v->init)
		return NULL;
	t = v->init;
	i = init_index(g, t);
	memmove(&g->inits[i], &g->inits[i + 1], (g->n_inits - (size_t)i - 1) * sizeof(*g->inits));
	g->n_inits--;
	v->init = NULL;
	ptrmap_del(&g->model->tensors, t->tp);
	t->model = NULL;
	g->dirty = true;
	return t;
}

int onnxpass_graph_remove_initializer(struct onnxpass_graph *g, const char *name)
{
	struct onnxpass_value *v = value_find(g, name);	/* name may be the tensor's own */
	struct onnxpass_tensor *t = v ? onnxpass_graph_take_initializer(g, v->name) : NULL;

	model_changed(g->model);
	if (!t)
		return ONNXPASS_ENOTFOUND;
	onnxpass_tensor_free(t);
	/* IR < 4 lists initializers as graph inputs too */
	if (v->n_graph_inputs)
		onnxpass_graph_remove_input(g, v->name);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Graph inputs and outputs                                            */

static Onnx__ValueInfoProto *vi_new(const char *name)
{
	Onnx__ValueInfoProto *vi = malloc(sizeof(*vi));

	if (!vi)
		return NULL;
	onnx__value_info_proto__init(vi);
	vi->name = strdup(name);
	if (!vi->name) {
		free(vi);
		return NULL;
	}
	return vi;
}

static int vi_insert(Onnx__ValueInfoProto ***arr, size_t *n, Onnx__ValueInfoProto *vi,
		     int position)
{
	Onnx__ValueInfoProto **a = realloc(*arr, (*n + 1) * sizeof(*a));
	size_t pos = position < 0 || (size_t)position > *n ? *n : (size_t)position;

	if (!a)
		return -1;
	memmove(&a[pos + 1], &a[pos], (*n - pos) * sizeof(*a));
	a[pos] = vi;
	*arr = a;
	(*n)++;
	return 0;
}

static bool vi_remove(Onnx__ValueInfoProto **arr, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++) {
		if (arr[i]->name && !strcmp(arr[i]->name, name)) {
			protobuf_c_message_free_unpacked(&arr[i]->base, NULL);
			memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(*arr));
			(*n)--;
			return true;
		}
	}
	return false;
}

struct onnxpass_value *onnxpass_graph_add_input(struct onnxpass_graph *g, const char *name,
						int position)
{
	struct onnxpass_value *v = graph_value_get(g, name);
	Onnx__ValueInfoProto *vi;

	model_changed(g->model);
	if (!v || v->producer || v->n_graph_inputs)	/* one input per name */
		return NULL;
	vi = vi_new(name);
	if (!vi || vi_insert(&g->gp->input, &g->gp->n_input, vi, position)) {
		if (vi)
			protobuf_c_message_free_unpacked(&vi->base, NULL);
		return NULL;
	}
	v->n_graph_inputs++;
	return v;
}

int onnxpass_graph_remove_input(struct onnxpass_graph *g, const char *name)
{
	struct onnxpass_value *v = value_find(g, name);

	model_changed(g->model);
	if (!v || !vi_remove(g->gp->input, &g->gp->n_input, name))
		return ONNXPASS_ENOTFOUND;
	v->n_graph_inputs--;
	return 0;
}

struct onnxpass_value *onnxpass_graph_add_output(struct onnxpass_graph *g, const char *name,
						 int position)
{
	struct onnxpass_value *v = graph_value_get(g, name);
	Onnx__ValueInfoProto *vi;

	model_changed(g->model);
	if (!v)
		return NULL;
	vi = vi_new(name);
	if (!vi || vi_insert(&g->gp->output, &g->gp->n_output, vi, position)) {
		if (vi)
			protobuf_c_message_free_unpacked(&vi->base, NULL);
		return NULL;
	}
	v->n_graph_outputs++;
	return v;
}

int onnxpass_graph_remove_output(struct onnxpass_graph *g, const char *name)
{
	struct onnxpass_value *v = value_find(g, name);

	model_changed(g->model);
	if (!v || !vi_remove(g->gp->output, &g->gp->n_output, name))
		return ONNXPASS_ENOTFOUND;
	v->n_graph_outputs--;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Value types                                                         */

/* The index is rebuilt when any of the three lists was reallocated or
 * changed length; renaming an entry in place clears vi_sig. */
Onnx__ValueInfoProto *graph_value_info(struct onnxpass_graph *g, const char *name)
{
	Onnx__GraphProto *gp = g->gp;
	const void *sig[6] = { gp->input, (void *)(uintptr_t)gp->n_input, gp->output,
			       (void *)(uintptr_t)gp->n_output, gp->value_info,
			       (void *)(uintptr_t)gp->n_value_info };

	if (memcmp(sig, g->vi_sig, sizeof(sig)) || !g->vi_index.cap) {
		Onnx__ValueInfoProto **lists[3] = { gp->value_info, gp->output, gp->input };
		size_t counts[3] = { gp->n_value_info, gp->n_output, gp->n_input };

		strmap_release(&g->vi_index);
		/* the later list wins: inputs, then outputs, then value_info */
		for (int l = 0; l < 3; l++)
			for (size_t i = counts[l]; i-- > 0;)
				if (lists[l][i]->name && strmap_put(&g->vi_index, lists[l][i]->name, lists[l][i])) {
					strmap_release(&g->vi_index);
					memset(g->vi_sig, 0, sizeof(g->vi_sig));
					goto slow;
				}
		memcpy(g->vi_sig, sig, sizeof(sig));
	}
	return strmap_get(&g->vi_index, name);
slow:	/* out of memory for the index: scan */
	for (size_t i = 0; i < gp->n_input; i++)
		if (gp->input[i]->name && !strcmp(gp->input[i]->name, name))
			return gp->input[i];
	for (size_t i = 0; i < gp->n_output; i++)
		if (gp->output[i]->name && !strcmp(gp->output[i]->name, name))
			return gp->output[i];
	for (size_t i = 0; i < gp->n_value_info; i++)
		if (gp->value_info[i]->name && !strcmp(gp->value_info[i]->name, name))
			return gp->value_info[i];
	return NULL;
}

static Onnx__TypeProto__Tensor *vi_tensor_type(Onnx__ValueInfoProto *vi)
{
	if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
		return NULL;
	return vi->type->tensor_type;
}

int onnxpass_value_dtype(struct onnxpass_value *v)
{
	Onnx__TypeProto__Tensor *tt = vi_tensor_type(graph_value_info(v->graph, v->name));

	if (tt && tt->has_elem_type)
		return tt->elem_type;
	return v->init ? onnxpass_tensor_dtype(v->init) : 0;
}

int onnxpass_value_rank(struct onnxpass_value *v)
{
	Onnx__TypeProto__Tensor *tt = vi_tensor_type(graph_value_info(v->graph, v->name));

	if (tt && tt->shape)
		return (int)tt->shape->n_dim;
	return v->init ? (int)onnxpass_tensor_rank(v->init) : -1;
}

int onnxpass_value_dim(struct onnxpass_value *v, int i, int64_t *value, const char **param)
{
	Onnx__TypeProto__Tensor *tt = vi_tensor_type(graph_value_info(v->graph, v->name));

	*value = -1;
	if (param)
		*param = NULL;
	if (tt && tt->shape) {
		Onnx__TensorShapeProto__Dimension *d;

		if (i < 0 || (size_t)i >= tt->shape->n_dim)
			return ONNXPASS_EINVAL;
		d = tt->shape->dim[i];
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			*value = d->dim_value;
		else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && param)
			*param = d->dim_param;
		return 0;
	}
	if (v->init && i >= 0 && (size_t)i < onnxpass_tensor_rank(v->init)) {
		*value = onnxpass_tensor_dim(v->init, (size_t)i);
		return 0;
	}
	return ONNXPASS_ENOTFOUND;
}

static Onnx__TypeProto *type_new(int dtype, int rank, const int64_t *dims,
				 const char *const *params)
{
	Onnx__TypeProto *tp = malloc(sizeof(*tp));
	Onnx__TypeProto__Tensor *tt = malloc(sizeof(*tt));
	Onnx__TensorShapeProto *sh = rank >= 0 ? malloc(sizeof(*sh)) : NULL;

	if (!tp || !tt || (rank >= 0 && !sh)) {
		free(tp);
		free(tt);
		free(sh);
		return NULL;
	}
	onnx__type_proto__init(tp);
	onnx__type_proto__tensor__init(tt);
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	tt->has_elem_type = 1;
	tt->elem_type = dtype;
	if (!sh)
		return tp;
	onnx__tensor_shape_proto__init(sh);
	tt->shape = sh;
	sh->dim = calloc(rank ? (size_t)rank : 1, sizeof(*sh->dim));
	if (!sh->dim)
		goto fail;
	for (int i = 0; i < rank; i++) {
		Onnx__TensorShapeProto__Dimension *d = malloc(sizeof(*d));

		if (!d)
			goto fail;
		onnx__tensor_shape_proto__dimension__init(d);
		sh->dim[sh->n_dim++] = d;
		if (dims && dims[i] >= 0) {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
		} else if (params && params[i]) {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = strdup(params[i]);
			if (!d->dim_param) {
				d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE__NOT_SET;
				goto fail;
			}
		}
	}
	return tp;
fail:
	protobuf_c_message_free_unpacked(&tp->base, NULL);
	return NULL;
}

static int vi_set_type(Onnx__ValueInfoProto *vi, int dtype, int rank, const int64_t *dims,
		       const char *const *params)
{
	Onnx__TypeProto *tp = type_new(dtype, rank, dims, params);

	if (!tp)
		return ONNXPASS_ENOMEM;
	if (vi->type)
		protobuf_c_message_free_unpacked(&vi->type->base, NULL);
	vi->type = tp;
	return 0;
}

int onnxpass_value_set_type(struct onnxpass_value *v, int dtype, int rank, const int64_t *dims,
			    const char *const *params)
{
	Onnx__GraphProto *gp = v->graph->gp;
	bool done = false;
	int rc;

	for (size_t i = 0; i < gp->n_input; i++)
		if (gp->input[i]->name && !strcmp(gp->input[i]->name, v->name)) {
			if ((rc = vi_set_type(gp->input[i], dtype, rank, dims, params)))
				return rc;
			done = true;
		}
	for (size_t i = 0; i < gp->n_output; i++)
		if (gp->output[i]->name && !strcmp(gp->output[i]->name, v->name)) {
			if ((rc = vi_set_type(gp->output[i], dtype, rank, dims, params)))
				return rc;
			done = true;
		}
	model_changed(v->graph->model);
	if (done)
		return 0;
	{
		/* neither input nor output: a value_info entry, if any */
		Onnx__ValueInfoProto *have = graph_value_info(v->graph, v->name);

		if (have)
			return vi_set_type(have, dtype, rank, dims, params);
	}
	{
		Onnx__ValueInfoProto *vi = vi_new(v->name);

		if (!vi || vi_insert(&gp->value_info, &gp->n_value_info, vi, -1)) {
			if (vi)
				protobuf_c_message_free_unpacked(&vi->base, NULL);
			return ONNXPASS_ENOMEM;
		}
		return vi_set_type(vi, dtype, rank, dims, params);
	}
}

int onnxpass_value_set_dtype(struct onnxpass_value *v, int dtype)
{
	Onnx__GraphProto *gp = v->graph->gp;
	Onnx__ValueInfoProto **lists[3] = { gp->input, gp->output, gp->value_info };
	size_t counts[3] = { gp->n_input, gp->n_output, gp->n_value_info };
	bool found = false;

	model_changed(v->graph->model);
	for (int l = 0; l < 3; l++)
		for (size_t i = 0; i < counts[l]; i++) {
			Onnx__TypeProto__Tensor *tt;

			if (!lists[l][i]->name || strcmp(lists[l][i]->name, v->name))
				continue;
			tt = vi_tensor_type(lists[l][i]);
			if (!tt)
				continue;
			tt->has_elem_type = 1;
			tt->elem_type = dtype;
			found = true;
		}
	return found ? 0 : ONNXPASS_ENOTFOUND;
}

/* ------------------------------------------------------------------ */
/* Renaming uses                                                       */

/* Renames free reads of old inside subgraph s (not where s or a nested
 * graph defines old itself).  Returns the number of reads changed. */
static size_t rename_free_reads(struct onnxpass_graph *s, const char *old, const char *new_name)
{
	struct onnxpass_value *v = value_find(s, old);
	size_t changed = 0;

	if (!v)
		return 0;
	if (v->producer || v->init || v->n_graph_inputs)
		return 0;	/* shadowed here */
	changed += onnxpass_graph_replace_uses(s, old, new_name, true);
	return changed;
}

size_t onnxpass_graph_replace_uses(struct onnxpass_graph *g, const char *old_name,
				   const char *new_name, bool with_outputs)
{
	struct onnxpass_value *v = value_find(g, old_name), *nv;
	size_t changed = 0;

	model_changed(g->model);
	if (!v || !strcmp(old_name, new_name))
		return 0;
	nv = graph_value_get(g, new_name);
	if (!nv)
		return 0;
	while (v->n_uses) {
		struct use u = v->uses[v->n_uses - 1];

		if (u.input >= 0) {
			if (onnxpass_node_set_input(u.node, (size_t)u.input, new_name))
				break;
			changed++;
			continue;
		}
		/* an implicit read inside u.node's subgraphs */
		for (size_t k = 0; k < u.node->n_subs; k++)
			changed += rename_free_reads(u.node->subs[k], old_name, new_name);
		v->n_uses--;
		for (size_t k = 0; k < u.node->n_free; k++)
			if (u.node->free_vals[k] == v)
				u.node->free_vals[k] = nv;
		{
			bool have = false;

			for (size_t k = 0; k < nv->n_uses; k++)
				if (nv->uses[k].node == u.node && nv->uses[k].input == -1)
					have = true;
			if (!have && grow(&nv->uses, &nv->cap_uses, nv->n_uses + 1, sizeof(*nv->uses)) == 0)
				nv->uses[nv->n_uses++] = u;
		}
	}
	if (with_outputs) {
		Onnx__GraphProto *gp = g->gp;

		for (size_t i = 0; i < gp->n_output; i++) {
			char *s;

			if (!gp->output[i]->name || strcmp(gp->output[i]->name, old_name))
				continue;
			s = strdup(new_name);
			if (!s)
				break;
			free(gp->output[i]->name);
			gp->output[i]->name = s;
			memset(g->vi_sig, 0, sizeof(g->vi_sig));
			v->n_graph_outputs--;
			nv->n_graph_outputs++;
			changed++;
		}
	}
	g->dirty = true;
	return changed;
}

/* ------------------------------------------------------------------ */
/* Topological sort                                                    */

struct heap {
	uint64_t *a;
	size_t n;
};

static void heap_push(struct heap *h, uint64_t v)
{
	size_t i = h->n++;

	h->a[i] = v;
	while (i && h->a[(i - 1) / 2] > h->a[i]) {
		size_t p = (i - 1) / 2;
		uint64_t t = h->a[p];

		h->a[p] = h->a[i];
		h->a[i] = t;
		i = p;
	}
}

static uint64_t heap_pop(struct heap *h)
{
	uint64_t top = h->a[0];
	size_t i = 0;

	h->a[0] = h->a[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		uint64_t t;

		if (l < h->n && h->a[l] < h->a[s])
			s = l;
		if (r < h->n && h->a[r] < h->a[s])
			s = r;
		if (s == i)
			break;
		t = h->a[s];
		h->a[s] = h->a[i];
		h->a[i] = t;
		i = s;
	}
	return top;
}

/* The producer in g of what node n reads at input i (or free read k). */
static struct onnxpass_node *dep_of(struct onnxpass_graph *g, struct onnxpass_value *v)
{
	return v && v->graph == g && v->producer && !v->producer->removed ? v->producer : NULL;
}

/* A node of a cycle among the nodes toposort could not place: walking
 * back from any of them through unplaced producers must come round. */
static struct onnxpass_node *cycle_node(struct onnxpass_graph *g, const size_t *indeg)
{
	size_t n = onnxpass_graph_node_count(g), start = 0;
	struct onnxpass_node *nd;
	bool *seen;

	while (start < n && !indeg[start])
		start++;
	nd = g->nodes[start < n ? start : 0];
	if (!(seen = calloc(n ? n : 1, sizeof(bool))))
		return nd;
	while (!seen[nd->order]) {
		struct onnxpass_node *next = NULL;

		seen[nd->order] = true;
		for (size_t k = 0; k < nd->np->n_input && !next; k++) {
			struct onnxpass_node *p = *nd->np->input[k] ? dep_of(g, value_find(g, nd->np->input[k])) : NULL;

			if (p && indeg[p->order])
				next = p;
		}
		for (size_t k = 0; k < nd->n_free && !next; k++) {
			struct onnxpass_node *p = dep_of(g, nd->free_vals[k]);

			if (p && indeg[p->order])
				next = p;
		}
		if (!next)
			break;
		nd = next;
	}
	free(seen);
	return nd;
}

/* Kahn's algorithm taking, of the nodes ready, the one of least
 * priority prio[i] (node i of g->nodes); node->order must be i.  Fills
 * out, returns how many nodes it placed (fewer than n on a cycle, then
 * indeg holds what is left). */
static size_t kahn(struct onnxpass_graph *g, const uint64_t *prio, size_t *indeg, uint64_t *heap_mem,
		   struct onnxpass_node **out)
{
	size_t n = g->n_nodes, done = 0;
	struct heap h = { heap_mem, 0 };

	for (size_t i = 0; i < n; i++) {
		struct onnxpass_node *nd = g->nodes[i];

		indeg[i] = 0;
		for (size_t k = 0; k < nd->np->n_input; k++)
			if (*nd->np->input[k] && dep_of(g, value_find(g, nd->np->input[k])))
				indeg[i]++;
		for (size_t k = 0; k < nd->n_free; k++)
			if (dep_of(g, nd->free_vals[k]))
				indeg[i]++;
		if (!indeg[i])
			heap_push(&h, prio[i]);
	}
	while (h.n) {
		struct onnxpass_node *nd = g->nodes[heap_pop(&h) % (n + 1)];

		out[done++] = nd;
		for (size_t k = 0; k < nd->np->n_output; k++) {
			struct onnxpass_value *v = *nd->np->output[k] ? value_find(g, nd->np->output[k]) : NULL;

			if (!v || v->producer != nd)
				continue;
			for (size_t u = 0; u < v->n_uses; u++) {
				struct onnxpass_node *c = v->uses[u].node;

				if (c->removed || c->graph != g)
					continue;
				if (--indeg[c->order] == 0)
					heap_push(&h, prio[c->order]);
			}
		}
	}
	return done;
}

/*
 * A stable topological order: a sorted graph keeps its order, and a node
 * added late (a pass appends what it makes) goes just before its first
 * reader.  Two rounds of Kahn's algorithm: the first in file order, then,
 * each node keyed by the least position among itself and everything that
 * reads it (computed backwards along the first order), a second by key.
 */
int graph_order(struct onnxpass_graph *g, struct onnxpass_node ***order, size_t *count,
		struct onnxpass_node **stuck)
{
	size_t n = onnxpass_graph_node_count(g), done;
	size_t *indeg = calloc(n ? n : 1, sizeof(size_t));
	uint64_t *prio = calloc(n ? n : 1, sizeof(uint64_t)), *key = calloc(n ? n : 1, sizeof(uint64_t));
	uint64_t *heap_mem = malloc((n ? n : 1) * sizeof(uint64_t));
	struct onnxpass_node **out = malloc((n ? n : 1) * sizeof(*out));
	int rc = 0;

	*order = NULL;
	*count = 0;
	if (!indeg || !prio || !key || !heap_mem || !out) {
		rc = ONNXPASS_ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		g->nodes[i]->order = i;
		prio[i] = i;
	}
	done = kahn(g, prio, indeg, heap_mem, out);
	if (done != n) {
		rc = ONNXPASS_EFORMAT;	/* a cycle */
		if (stuck)
			*stuck = cycle_node(g, indeg);
	} else if (n) {
		for (size_t j = n; j-- > 0;) {
			struct onnxpass_node *nd = out[j];
			uint64_t k = nd->order;

			for (size_t o = 0; o < nd->np->n_output; o++) {
				struct onnxpass_value *v = *nd->np->output[o] ? value_find(g, nd->np->output[o]) : NULL;

				for (size_t u = 0; v && v->producer == nd && u < v->n_uses; u++) {
					struct onnxpass_node *c = v->uses[u].node;

					if (!c->removed && c->graph == g && key[c->order] < k)
						k = key[c->order];
				}
			}
			key[nd->order] = k;
		}
		/* key first, then position: both below n + 1 */
		for (size_t i = 0; i < n; i++)
			prio[i] = key[i] * (uint64_t)(n + 1) + i;
		done = kahn(g, prio, indeg, heap_mem, out);
	}
	*order = out;
	*count = done;
	out = NULL;
out_free:
	free(indeg);
	free(prio);
	free(key);
	free(heap_mem);
	free(out);
	return rc;
}

int onnxpass_graph_reached_from(struct onnxpass_graph *g, struct onnxpass_value *const *from, size_t n,
				bool *reached)
{
	struct onnxpass_node **order;
	size_t count, total = onnxpass_graph_node_count(g);
	struct ptrmap src;
	int rc;

	ptrmap_init(&src);
	for (size_t i = 0; i < n; i++)
		if (from[i] && ptrmap_put(&src, from[i], from[i])) {
			ptrmap_release(&src);
			return ONNXPASS_ENOMEM;
		}
	rc = graph_order(g, &order, &count, NULL);
	if (rc == ONNXPASS_ENOMEM) {
		ptrmap_release(&src);
		return rc;
	}
	memset(reached, 0, total * sizeof(bool));
	for (size_t i = 0; i < count; i++) {
		struct onnxpass_node *nd = order[i];
		bool r = false;

		for (size_t k = 0; k < nd->np->n_input && !r; k++) {
			struct onnxpass_value *v = *nd->np->input[k] ? value_find(g, nd->np->input[k]) : NULL;
			struct onnxpass_node *p = dep_of(g, v);

			r = v && (ptrmap_get(&src, v) || (p && reached[p->order]));
		}
		for (size_t k = 0; k < nd->n_free && !r; k++) {
			struct onnxpass_node *p = dep_of(g, nd->free_vals[k]);

			r = ptrmap_get(&src, nd->free_vals[k]) || (p && reached[p->order]);
		}
		reached[nd->order] = r;
	}
	free(order);
	ptrmap_release(&src);
	return rc;
}

int onnxpass_graph_toposort(struct onnxpass_graph *g)
{
	struct onnxpass_node **out;
	size_t done;
	int rc = graph_order(g, &out, &done, NULL);

	if (!rc && done)
		memcpy(g->nodes, out, done * sizeof(*out));
	if (!rc)
		g->dirty = true;
	free(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Dead code                                                           */

static void mark_live(struct onnxpass_graph *g, struct onnxpass_value *v, bool *live,
		      struct onnxpass_node **stack, size_t *sp)
{
	struct onnxpass_node *p = dep_of(g, v);

	if (p && !live[p->order]) {
		live[p->order] = true;
		stack[(*sp)++] = p;
	}
}

size_t onnxpass_graph_remove_unused(struct onnxpass_graph *g)
{
	size_t n = onnxpass_graph_node_count(g), sp = 0, removed = 0;
	bool *live = calloc(n ? n : 1, sizeof(bool));
	struct onnxpass_node **stack = malloc((n ? n : 1) * sizeof(*stack));
	struct onnxpass_node **snap;

	if (!live || !stack) {
		free(live);
		free(stack);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		g->nodes[i]->order = i;
	for (size_t i = 0; i < g->gp->n_output; i++)
		if (g->gp->output[i]->name)
			mark_live(g, value_find(g, g->gp->output[i]->name), live, stack, &sp);
	while (sp) {
		struct onnxpass_node *nd = stack[--sp];

		for (size_t k = 0; k < nd->np->n_input; k++)
			if (*nd->np->input[k])
				mark_live(g, value_find(g, nd->np->input[k]), live, stack, &sp);
		for (size_t k = 0; k < nd->n_free; k++)
			mark_live(g, nd->free_vals[k], live, stack, &sp);
	}
	snap = malloc((n ? n : 1) * sizeof(*snap));
	if (snap) {
		if (n)
			memcpy(snap, g->nodes, n * sizeof(*snap));
		for (size_t i = 0; i < n; i++) {
			if (!live[i]) {
				onnxpass_graph_remove_node(g, snap[i]);
				removed++;
			}
		}
		free(snap);
	}
	free(live);
	free(stack);
	/* subgraphs of live nodes */
	n = onnxpass_graph_node_count(g);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < g->nodes[i]->n_subs; k++)
			removed += onnxpass_graph_remove_unused(g->nodes[i]->subs[k]);
	/* initializers nothing reads */
	for (size_t i = g->n_inits; i-- > 0;) {
		struct onnxpass_tensor *t = g->inits[i];
		struct onnxpass_value *v = value_find(g, onnxpass_tensor_name(t));

		if (v && v->n_uses == 0 && v->n_graph_outputs == 0) {
			onnxpass_graph_remove_initializer(g, v->name);
			removed++;
		}
	}
	return removed;
}

/* ------------------------------------------------------------------ */
/* Fresh names                                                         */

static bool name_taken(struct onnxpass_model *m, const char *name)
{
	struct onnxpass_graph *g;

	model_for_each_graph(m, g, i)
		if (value_find(g, name))
			return true;
	return false;
}

const char *onnxpass_graph_fresh_name(struct onnxpass_graph *g, const char *base, const char *suffix)
{
	struct onnxpass_model *m = g->model;
	char *prefix = str_printf("%s%s", base, suffix ? suffix : "");
	size_t plen = prefix ? strlen(prefix) + 1 : 0, len = plen + 24;
	char *s = prefix ? malloc(len) : NULL;
	struct fresh_count *c;
	unsigned long k;

	if (!s || grow(&m->names, &m->cap_names, m->n_names + 1, sizeof(*m->names))) {
		free(prefix);
		free(s);
		return NULL;
	}
	c = strmap_get(&m->fresh_next, prefix);
	k = c ? c->next : 0;
	/* numbering goes on where the last name of this prefix stopped, so
	 * that n names cost n lookups, not n^2 / 2 */
	if (k)
		snprintf(s, len, "%s_%lu", prefix, k);
	else
		snprintf(s, len, "%s", prefix);
	while (name_taken(m, s))
		snprintf(s, len, "%s_%lu", prefix, ++k);
	if (!c && (c = malloc(sizeof(*c) + plen))) {
		strcpy(c->prefix, prefix);
		if (strmap_put(&m->fresh_next, c->prefix, c)) {
			free(c);
			c = NULL;
		}
	}
	if (c)
		c->next = k + 1;
	free(prefix);
	m->names[m->n_names++] = s;
	return s;
}

/* A new initializer of dtype named after prefix, rank 0 (n == 1) or 1,
 * holding n elements of data; its model-owned name or NULL. */
static const char *add_const(struct onnxpass_graph *g, const char *prefix, int dtype, int rank, size_t n,
			     const void *data, size_t elem)
{
	int64_t dims[1] = { (int64_t)n };
	const char *name;
	struct onnxpass_tensor *t;

	if (!g || !prefix || (rank != 0 && rank != 1) || (rank == 0 && n != 1) || (n && !data))
		return NULL;
	name = onnxpass_graph_fresh_name(g, prefix, NULL);
	t = name ? onnxpass_tensor_new(name, dtype, (size_t)rank, dims) : NULL;
	if (!t)
		return NULL;
	if (n)
		memcpy(onnxpass_tensor_mutable_data(t), data, n * elem);
	if (onnxpass_graph_add_initializer(g, t)) {
		onnxpass_tensor_free(t);
		return NULL;
	}
	return name;
}

const char *onnxpass_graph_add_const_i64(struct onnxpass_graph *g, const char *prefix, int rank,
					 const int64_t *data, size_t n)
{
	return add_const(g, prefix, ONNXPASS_DT_INT64, rank, n, data, sizeof(*data));
}

const char *onnxpass_graph_add_const_f32(struct onnxpass_graph *g, const char *prefix, int rank,
					 const float *data, size_t n)
{
	return add_const(g, prefix, ONNXPASS_DT_FLOAT, rank, n, data, sizeof(*data));
}
