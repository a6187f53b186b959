/* SPDX-License-Identifier: MIT */
/* The shape engine: one pass over a graph in topological order gives every
 * value its element type, its shape (each dim a size or a symbol), the
 * values of small tensors (Shape -> Gather -> Concat -> Reshape chains,
 * scalars computed from sizes) and, through its symbols, where each dim
 * comes from (the graph input and axis that first declared it).
 *
 * Symbols come from the inputs' dim_params (one per name, so two inputs
 * that say "batch" share it, unless bound to a number) or are made fresh
 * where a size depends on data.  Two dims holding the same symbol are
 * provably equal; nothing is claimed of different ones.
 *
 * The op rules live in one table (shape_rules.c).  Every node is visited
 * once and every lookup is by hash, so the analysis is linear in the graph
 * (a 100,000-node graph takes well under a second).  A graph's own analysis
 * is cached (onnxpass_graph_shapes) until the model changes.
 */
#include "config.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shapes.h"

/* ------------------------------------------------------------------ */
/* Arena: facts and value arrays live until the analysis is freed.     */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct sym {
	char *name;	/* the dim_param, NULL for one made during inference */
	struct onnxpass_value *origin;	/* first graph input declaring it */
	int axis;
	bool nonneg;
};

struct onnxpass_shapes {
	struct ptrmap facts;	/* value -> struct fact */
	struct sym *syms;
	size_t n_syms, cap_syms;
	struct strmap sym_names;	/* dim_param -> index + 1 */
	const char *const *bind_names;
	const int64_t *bind_values;
	size_t n_bind;
	int64_t max_vals;
	struct chunk *arena;
	const struct fact **inbuf;
	size_t cap_inbuf;
	int status;	/* 0, or EFORMAT with why */
	char why[512];
	bool oom;
};

static void *arena_alloc(struct onnxpass_shapes *s, size_t bytes)
{
	struct chunk *c = s->arena;
	size_t need = (bytes + sizeof(max_align_t) - 1) / sizeof(max_align_t);

	if (!c || c->used + need > c->cap) {
		size_t cap = need > 4096 ? need : 4096;

		c = malloc(sizeof(*c) + cap * sizeof(max_align_t));
		if (!c) {
			s->oom = true;
			return NULL;
		}
		c->next = s->arena;
		c->used = 0;
		c->cap = cap;
		s->arena = c;
	}
	c->used += need;
	return &c->data[c->used - need];
}

int64_t engine_max_vals(const struct onnxpass_shapes *s)
{
	return s->max_vals;
}

/* Room for n values of 8 bytes, or NULL past the cap. */
static void *values_room(struct onnxpass_shapes *s, int64_t n)
{
	return n < 0 || n > s->max_vals ? NULL : arena_alloc(s, (size_t)(n ? n : 1) * 8);
}

/* Room for n values in o, integers or floats; NULL past the cap. */
static void *fact_values(struct onnxpass_shapes *s, struct fact *o, int64_t n, bool floats)
{
	void *p = values_room(s, n);

	if (p) {
		o->n = n;
		o->i = floats ? NULL : p;
		o->f = floats ? p : NULL;
	}
	return p;
}

int64_t *fact_ints(struct onnxpass_shapes *s, struct fact *o, int64_t n)
{
	return fact_values(s, o, n, false);
}

double *fact_floats(struct onnxpass_shapes *s, struct fact *o, int64_t n)
{
	return fact_values(s, o, n, true);
}

/* ------------------------------------------------------------------ */
/* Symbols                                                             */

static int64_t sym_add(struct onnxpass_shapes *s, const char *name, bool nonneg)
{
	struct sym *y;

	if (grow(&s->syms, &s->cap_syms, s->n_syms + 1, sizeof(*s->syms))) {
		s->oom = true;
		return SYM_BASE;
	}
	y = &s->syms[s->n_syms];
	memset(y, 0, sizeof(*y));
	y->nonneg = nonneg;
	if (name) {
		if (!(y->name = strdup(name)) ||
		    strmap_put(&s->sym_names, y->name, (void *)(uintptr_t)(s->n_syms + 1))) {
			free(y->name);
			s->oom = true;
			return SYM_BASE;
		}
	}
	return SYM_BASE - (int64_t)s->n_syms++;
}

int64_t sym_fresh(struct onnxpass_shapes *s, bool nonneg)
{
	return sym_add(s, NULL, nonneg);
}

bool sym_nonneg(const struct onnxpass_shapes *s, int64_t x)
{
	int64_t k = SYM_BASE - x;

	if (!is_sym(x))
		return x >= 0;
	return k >= 0 && (size_t)k < s->n_syms && s->syms[k].nonneg;
}

static int64_t sym_named(struct onnxpass_shapes *s, const char *name)
{
	uintptr_t k = (uintptr_t)strmap_get(&s->sym_names, name);

	return k ? SYM_BASE - (int64_t)(k - 1) : sym_add(s, name, true);
}

static bool bound(struct onnxpass_shapes *s, const char *name, size_t len, int64_t *v)
{
	for (size_t i = 0; i < s->n_bind; i++)
		if (strlen(s->bind_names[i]) == len && !strncmp(s->bind_names[i], name, len)) {
			*v = s->bind_values[i];
			return true;
		}
	return false;
}

/* A dim_param: a bound name, a number, "NAME + K" (also -, *, /) with
 * NAME bound, or else a symbol of that exact text. */
int64_t dim_param(struct onnxpass_shapes *s, const char *name)
{
	const char *op = strpbrk(name, "+-*/");
	char *end;
	long long k;
	int64_t v;

	if (bound(s, name, strlen(name), &v))
		return v;
	k = strtoll(name, &end, 10);
	if (*name && !*end && k >= 0)
		return k;
	if (op && op > name) {
		size_t len = (size_t)(op - name);

		while (len && name[len - 1] == ' ')
			len--;
		k = strtoll(op + 1, &end, 10);
		while (*end == ' ')
			end++;
		if (!*end && end != op + 1 && bound(s, name, len, &v)) {
			bool bad;

			if (*op == '+')
				bad = __builtin_add_overflow(v, k, &v);
			else if (*op == '-')
				bad = __builtin_sub_overflow(v, k, &v);
			else if (*op == '*')
				bad = __builtin_mul_overflow(v, k, &v);
			else if (!(bad = !k || (v == INT64_MIN && k == -1)))
				v /= k;
			if (!bad && v >= 0 && !is_sym(v))
				return v;
		}
	}
	return sym_named(s, name);
}

/* ------------------------------------------------------------------ */
/* Facts                                                               */

static const struct fact unknown = { .rank = -1, .n = -1 };

static struct fact *fact_of(const struct onnxpass_shapes *s, const struct onnxpass_value *v)
{
	return v ? ptrmap_get(&s->facts, v) : NULL;
}

static struct fact *fact_new(struct onnxpass_shapes *s, struct onnxpass_value *v)
{
	struct fact *f = arena_alloc(s, sizeof(*f));

	if (!f)
		return NULL;
	*f = unknown;
	if (ptrmap_put(&s->facts, v, f)) {
		s->oom = true;
		return NULL;
	}
	return f;
}

static bool has_values(int dtype)
{
	return dtype == ONNXPASS_DT_INT64 || dtype == ONNXPASS_DT_INT32 || dtype == ONNXPASS_DT_BOOL ||
	       dtype == ONNXPASS_DT_FLOAT || dtype == ONNXPASS_DT_DOUBLE;
}

/* A tensor's type and shape and, when it is small enough, its values. */
void fact_from_tensor(struct onnxpass_shapes *s, struct fact *h, struct onnxpass_tensor *t)
{
	size_t r = onnxpass_tensor_rank(t);
	int64_t n = onnxpass_tensor_numel(t);
	int dt = onnxpass_tensor_dtype(t);

	h->dtype = dt;
	if (r > SHP_MAX_RANK)
		return;
	h->rank = (int)r;
	for (size_t i = 0; i < r; i++)
		h->d[i] = onnxpass_tensor_dim(t, i);
	if (!has_values(dt) || n > s->max_vals)
		return;
	if (dt == ONNXPASS_DT_FLOAT || dt == ONNXPASS_DT_DOUBLE) {
		const uint8_t *raw = dt == ONNXPASS_DT_DOUBLE ? onnxpass_tensor_data(t) : NULL;
		float *tmp = dt == ONNXPASS_DT_FLOAT ? malloc((size_t)(n ? n : 1) * sizeof(float)) : NULL;
		double *out = fact_floats(s, h, n);

		if (out && raw) {
			memcpy(out, raw, (size_t)n * sizeof(double));
		} else if (out && tmp && !onnxpass_tensor_to_f32(t, tmp, (size_t)n)) {
			for (int64_t k = 0; k < n; k++)
				out[k] = tmp[k];
		} else {
			h->n = -1;
			h->f = NULL;
		}
		free(tmp);
		return;
	}
	{
		int64_t *out = fact_ints(s, h, n);

		if (out && n && onnxpass_tensor_to_i64(t, out, (size_t)n)) {
			h->n = -1;
			h->i = NULL;
		}
		for (int64_t k = 0; out && h->n >= 0 && k < n; k++)
			if (is_sym(out[k])) {	/* a number that looks like a symbol */
				h->n = -1;
				h->i = NULL;
			}
	}
}

/* Declared type of a value (graph input, output or value_info); a graph
 * input's dims become symbols that remember it as their origin. */
static void from_decl(struct onnxpass_shapes *s, struct fact *h, struct onnxpass_value *v, bool input)
{
	int r = onnxpass_value_rank(v);

	if (!h->dtype)
		h->dtype = onnxpass_value_dtype(v);
	if (r < 0 || r > SHP_MAX_RANK)
		return;
	h->rank = r;
	for (int i = 0; i < r; i++) {
		const char *p = NULL;
		int64_t d;

		onnxpass_value_dim(v, i, &d, &p);
		h->d[i] = d >= 0 ? d : p && *p ? dim_param(s, p) : sym_fresh(s, true);
		if (input && is_sym(h->d[i])) {
			struct sym *y = &s->syms[SYM_BASE - h->d[i]];

			if (!y->origin && !s->oom) {
				y->origin = v;
				y->axis = i;
			}
		}
	}
}

/* Dims the rules could only name with a new symbol take what the value's
 * declared type says, when it says more. */
static void refine(struct onnxpass_shapes *s, struct fact *t, struct onnxpass_value *v)
{
	struct fact decl = unknown;
	bool any = false;

	for (int i = 0; i < t->rank && !any; i++)
		any = is_sym(t->d[i]) && !s->syms[SYM_BASE - t->d[i]].name;
	if (!any || onnxpass_value_rank(v) != t->rank)
		return;
	from_decl(s, &decl, v, false);
	for (int i = 0; i < t->rank; i++)
		if (is_sym(t->d[i]) && !s->syms[SYM_BASE - t->d[i]].name &&
		    (!is_sym(decl.d[i]) || s->syms[SYM_BASE - decl.d[i]].name))
			t->d[i] = decl.d[i];
}

void contradict(struct rctx *r, const char *fmt, ...)
{
	struct onnxpass_shapes *s = r->s;
	va_list ap;
	int len;

	if (s->status)
		return;
	s->status = ONNXPASS_EFORMAT;
	len = snprintf(s->why, sizeof(s->why), "node '%s' (%s): ", onnxpass_node_name(r->n), r->op);
	va_start(ap, fmt);
	if (len > 0 && (size_t)len < sizeof(s->why))
		vsnprintf(s->why + len, sizeof(s->why) - (size_t)len, fmt, ap);
	va_end(ap);
}

/* The element type of output k: declared, else the op's rule. */
static int out_dtype(struct rctx *r, const struct op_rule *rule, size_t k)
{
	if (!rule)
		return onnxpass_node_subgraph_count(r->n) || r->nin == 0 || !r->in[0] ? 0 : r->in[0]->dtype;
	if (rule->dtype_fn)
		return rule->dtype_fn(r, k);
	if (rule->dtype > 0)
		return rule->dtype;
	if ((size_t)-rule->dtype < r->nin && r->in[-rule->dtype])
		return r->in[-rule->dtype]->dtype;
	return 0;
}

static bool prepare(struct onnxpass_shapes *s, struct rctx *r, struct onnxpass_node *n)
{
	size_t nin = onnxpass_node_input_count(n);

	if (grow(&s->inbuf, &s->cap_inbuf, nin + 1, sizeof(*s->inbuf))) {
		s->oom = true;
		return false;
	}
	r->s = s;
	r->n = n;
	r->op = onnxpass_node_op_type(n);
	r->ms = !strcmp(onnxpass_node_domain(n), ONNXPASS_DOMAIN_MS);
	r->nin = nin;
	r->in = s->inbuf;
	for (size_t i = 0; i < nin; i++) {
		const struct fact *f = NULL;

		if (*onnxpass_node_input(n, i)) {
			f = fact_of(s, onnxpass_node_input_value(n, i));
			if (!f)
				f = &unknown;
		}
		s->inbuf[i] = f;
	}
	return true;
}

static void infer_node(struct onnxpass_shapes *s, struct onnxpass_node *n, int64_t opset)
{
	struct rctx r;
	const struct op_rule *rule = op_rule_find(onnxpass_node_domain(n), onnxpass_node_op_type(n));

	if (!prepare(s, &r, n))
		return;
	r.opset = opset;
	for (size_t k = 0; k < onnxpass_node_output_count(n); k++) {
		struct onnxpass_value *v = onnxpass_node_output_value(n, k);
		struct fact *h, t = unknown;
		int declared;

		if (!v || onnxpass_value_producer(v, NULL) != n || !(h = fact_new(s, v)))
			continue;
		declared = onnxpass_value_dtype(v);
		t.dtype = declared ? declared : out_dtype(&r, rule, k);
		if (rule && rule->shape && rule->shape(&r, k, &t) && t.rank >= 0 && t.rank <= SHP_MAX_RANK) {
			if (declared)
				t.dtype = declared;
			refine(s, &t, v);
			*h = t;
		} else {
			h->dtype = t.dtype;
			if (onnxpass_value_rank(v) >= 0)
				from_decl(s, h, v, false);	/* value_info says */
		}
	}
}

/* ------------------------------------------------------------------ */
/* The analysis                                                        */

static struct onnxpass_shapes *engine_new(const char *const *names, const int64_t *values, size_t n,
					  int64_t max_vals)
{
	struct onnxpass_shapes *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	ptrmap_init(&s->facts);
	strmap_init(&s->sym_names);
	s->bind_names = names;
	s->bind_values = values;
	s->n_bind = n;
	s->max_vals = max_vals;
	return s;
}

static void engine_run(struct onnxpass_shapes *s, struct onnxpass_graph *g)
{
	int64_t opset = onnxpass_model_opset(onnxpass_graph_model(g), "");
	struct onnxpass_node **order = NULL, *stuck = NULL;
	size_t count = 0;
	int rc;

	for (size_t i = 0; i < onnxpass_graph_initializer_count(g) && !s->oom; i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));
		struct fact *h = v ? fact_new(s, v) : NULL;

		if (h && onnxpass_value_is_graph_input(v)) {
			from_decl(s, h, v, true);
			if (!h->dtype)
				h->dtype = onnxpass_tensor_dtype(t);
		} else if (h) {
			fact_from_tensor(s, h, t);
		}
	}
	for (size_t i = 0; i < onnxpass_graph_input_count(g) && !s->oom; i++) {
		struct onnxpass_value *v = onnxpass_graph_input(g, i);
		struct fact *h;

		if (!v || fact_of(s, v) || !(h = fact_new(s, v)))
			continue;
		from_decl(s, h, v, true);
	}
	rc = graph_order(g, &order, &count, &stuck);
	if (rc == ONNXPASS_EFORMAT) {
		s->status = rc;
		snprintf(s->why, sizeof(s->why), "graph '%s' has a cycle through node '%s' (%s)",
			 onnxpass_graph_name(g), onnxpass_node_name(stuck), onnxpass_node_op_type(stuck));
		/* still analyse what is outside the cycle, in file order */
	} else if (rc) {
		s->oom = true;
		return;
	}
	for (size_t i = 0; i < count && !s->oom; i++)
		infer_node(s, order[i], opset);
	free(order);
}

struct onnxpass_shapes *onnxpass_shapes_infer(struct onnxpass_graph *g, const char *const *names,
					      const int64_t *values, size_t n)
{
	struct onnxpass_shapes *s = engine_new(names, values, n, SHP_MAX_VALS);

	if (!s)
		return NULL;
	engine_run(s, g);
	if (s->oom) {
		onnxpass_shapes_free(s);
		return NULL;
	}
	return s;
}

void onnxpass_shapes_free(struct onnxpass_shapes *s)
{
	if (!s)
		return;
	ptrmap_release(&s->facts);
	strmap_release(&s->sym_names);
	for (size_t i = 0; i < s->n_syms; i++)
		free(s->syms[i].name);
	free(s->syms);
	free(s->inbuf);
	while (s->arena) {
		struct chunk *next = s->arena->next;

		free(s->arena);
		s->arena = next;
	}
	free(s);
}

void graph_shapes_release(struct onnxpass_graph *g)
{
	onnxpass_shapes_free(g->shapes);
	g->shapes = NULL;
}

struct onnxpass_shapes *onnxpass_graph_shapes(struct onnxpass_graph *g)
{
	uint64_t gen = __atomic_load_n(&g->model->gen, __ATOMIC_RELAXED);

	if (g->shapes && g->shapes_gen == gen)
		return g->shapes;
	graph_shapes_release(g);
	g->shapes = onnxpass_shapes_infer(g, NULL, NULL, 0);
	g->shapes_gen = gen;
	return g->shapes;
}

int onnxpass_shapes_status(const struct onnxpass_shapes *s, const char **why)
{
	if (why)
		*why = s && s->status ? s->why : NULL;
	return s ? s->status : ONNXPASS_ENOMEM;
}

int onnxpass_shapes_get(const struct onnxpass_shapes *s, struct onnxpass_value *v, int64_t *dims, int max)
{
	struct fact *h = s ? fact_of(s, v) : NULL;

	if (!h || h->rank < 0)
		return -1;
	for (int i = 0; i < h->rank && i < max; i++)
		dims[i] = h->d[i];
	return h->rank;
}

int onnxpass_shapes_dtype(const struct onnxpass_shapes *s, struct onnxpass_value *v)
{
	struct fact *h = s ? fact_of(s, v) : NULL;

	return h && h->dtype ? h->dtype : v ? onnxpass_value_dtype(v) : 0;
}

const char *onnxpass_shapes_symbol(const struct onnxpass_shapes *s, int64_t d)
{
	int64_t k = SYM_BASE - d;

	if (!s || !is_sym(d) || k < 0 || (size_t)k >= s->n_syms)
		return NULL;
	return s->syms[k].name;
}

int onnxpass_shapes_values(const struct onnxpass_shapes *s, struct onnxpass_value *v, int64_t *out, int max)
{
	struct fact *h = s ? fact_of(s, v) : NULL;

	if (!h || h->n < 0 || !h->i || h->n > max)
		return ONNXPASS_ENOTFOUND;
	memcpy(out, h->i, (size_t)h->n * sizeof(int64_t));
	return (int)h->n;
}

int onnxpass_shapes_float_values(const struct onnxpass_shapes *s, struct onnxpass_value *v, double *out,
				 int max)
{
	struct fact *h = s ? fact_of(s, v) : NULL;

	if (!h || h->n < 0 || h->n > max)
		return ONNXPASS_ENOTFOUND;
	if (h->f)
		memcpy(out, h->f, (size_t)h->n * sizeof(double));
	else if (h->i)
		for (int64_t k = 0; k < h->n; k++) {
			if (is_sym(h->i[k]))
				return ONNXPASS_ENOTFOUND;
			out[k] = (double)h->i[k];
		}
	else
		return ONNXPASS_ENOTFOUND;
	return (int)h->n;
}

int onnxpass_shapes_origin(const struct onnxpass_shapes *s, int64_t d, struct onnxpass_value **input,
			   int *axis)
{
	int64_t k = SYM_BASE - d;

	if (!s || !is_sym(d) || k < 0 || (size_t)k >= s->n_syms || !s->syms[k].origin)
		return ONNXPASS_ENOTFOUND;
	*input = s->syms[k].origin;
	*axis = s->syms[k].axis;
	return 0;
}

/* ------------------------------------------------------------------ */
/* What the rest of the library and the SDK ask of a graph's analysis   */

int onnxpass_value_const_ints(struct onnxpass_value *v, int64_t *out, int max)
{
	struct onnxpass_tensor *t = v ? v->init : NULL;
	int64_t n;

	if (!t && v && v->producer && onnxpass_node_is(v->producer, NULL, "Constant"))
		t = onnxpass_node_attr_tensor(v->producer, "value");
	if (!t || (t->tp->data_type != ONNXPASS_DT_INT64 && t->tp->data_type != ONNXPASS_DT_INT32))
		return ONNXPASS_ENOTFOUND;
	n = onnxpass_tensor_numel(t);
	if (n > max || onnxpass_tensor_to_i64(t, out, (size_t)n))
		return ONNXPASS_ENOTFOUND;
	return (int)n;
}

int onnxpass_value_infer_rank(struct onnxpass_value *v)
{
	int r = v ? onnxpass_value_rank(v) : -1;
	int64_t d[SHP_MAX_RANK];

	if (r >= 0 || !v)
		return r;
	return onnxpass_shapes_get(onnxpass_graph_shapes(v->graph), v, d, SHP_MAX_RANK);
}

int onnxpass_value_dim_origin(struct onnxpass_value *v, int axis, struct onnxpass_value **input,
			      int *input_axis)
{
	struct onnxpass_shapes *s;
	int64_t d[SHP_MAX_RANK];
	int r;

	/* an outer value read inside a subgraph: ask the graph defining it */
	while (v && !v->producer && !v->init && !v->n_graph_inputs && v->graph->parent) {
		struct onnxpass_value *o = onnxpass_graph_lookup(v->graph->parent, v->name);

		if (o == v)
			break;
		v = o;
	}
	if (!v || axis < 0)
		return ONNXPASS_ENOTFOUND;
	s = onnxpass_graph_shapes(v->graph);
	r = onnxpass_shapes_get(s, v, d, SHP_MAX_RANK);
	if (r < 0 || axis >= r)
		return ONNXPASS_ENOTFOUND;
	return onnxpass_shapes_origin(s, d[axis], input, input_axis);
}

int onnxpass_graph_check(struct onnxpass_graph *g, char *err, size_t errlen)
{
	struct onnxpass_shapes *s = onnxpass_graph_shapes(g);
	const char *why;
	int rc;

	if (!s)
		return ONNXPASS_ENOMEM;
	if ((rc = onnxpass_shapes_status(s, &why))) {
		set_err(err, errlen, "%s", why);
		return rc;
	}
	for (size_t i = 0; i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);

		for (size_t k = 0; k < onnxpass_node_subgraph_count(n); k++)
			if ((rc = onnxpass_graph_check(onnxpass_node_subgraph(n, k), err, errlen)))
				return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Constant folding: one node's value from constant inputs, by the same
 * rules.                                                              */

static bool fold_type(int dtype)
{
	return dtype == ONNXPASS_DT_INT64 || dtype == ONNXPASS_DT_INT32 || dtype == ONNXPASS_DT_FLOAT ||
	       dtype == ONNXPASS_DT_DOUBLE;
}

static struct onnxpass_tensor *fact_tensor(const struct fact *o, const char *name)
{
	struct onnxpass_tensor *t;
	uint8_t *p;

	for (int i = 0; i < o->rank; i++)
		if (is_sym(o->d[i]))
			return NULL;
	t = onnxpass_tensor_new(name, o->dtype, (size_t)o->rank, o->d);
	p = t ? onnxpass_tensor_mutable_data(t) : NULL;
	if (!p || onnxpass_tensor_numel(t) != o->n) {
		onnxpass_tensor_free(t);
		return NULL;
	}
	for (int64_t k = 0; k < o->n; k++) {
		switch (o->dtype) {
		case ONNXPASS_DT_INT64: { int64_t v = o->i[k]; memcpy(p + 8 * k, &v, 8); break; }
		case ONNXPASS_DT_INT32: { int32_t v = (int32_t)o->i[k]; memcpy(p + 4 * k, &v, 4); break; }
		case ONNXPASS_DT_FLOAT: { float v = (float)o->f[k]; memcpy(p + 4 * k, &v, 4); break; }
		default: memcpy(p + 8 * k, &o->f[k], 8); break;
		}
	}
	return t;
}

int onnxpass_node_fold(struct onnxpass_node *n, int64_t max_elems, struct onnxpass_tensor **out)
{
	const struct op_rule *rule = op_rule_find(onnxpass_node_domain(n), onnxpass_node_op_type(n));
	struct onnxpass_shapes *s;
	struct rctx r;
	struct fact o = unknown;
	struct onnxpass_graph *g = onnxpass_node_graph(n);
	int rc = ONNXPASS_ENOTFOUND;

	*out = NULL;
	if (!rule || !(rule->flags & RULE_FOLD) || onnxpass_node_output_count(n) != 1 ||
	    onnxpass_node_subgraph_count(n) || !onnxpass_node_input_count(n))
		return ONNXPASS_ENOTFOUND;
	if (!(s = engine_new(NULL, NULL, 0, max_elems)))
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < onnxpass_node_input_count(n); i++) {
		struct onnxpass_value *v = onnxpass_node_input_value(n, i);
		struct onnxpass_tensor *t = v && !onnxpass_value_is_graph_input(v) ? onnxpass_value_initializer(v) : NULL;
		struct fact *h;

		if (!t || onnxpass_tensor_numel(t) > max_elems || !(h = fact_new(s, v)))
			goto out;
		fact_from_tensor(s, h, t);
		if (h->n < 0)
			goto out;
	}
	if (!prepare(s, &r, n))
		goto out;
	r.opset = onnxpass_model_opset(onnxpass_graph_model(g), "");
	o.dtype = out_dtype(&r, rule, 0);
	if (rule->shape(&r, 0, &o) && o.n >= 0 && fold_type(o.dtype) && (o.i || o.f || !o.n) &&
	    (o.dtype == ONNXPASS_DT_INT64 || o.dtype == ONNXPASS_DT_INT32 ? o.i != NULL || !o.n : o.f != NULL || !o.n) &&
	    !s->status) {
		if (!o.n && !o.i && !o.f) {
			if (o.dtype == ONNXPASS_DT_INT64 || o.dtype == ONNXPASS_DT_INT32)
				fact_ints(s, &o, 0);
			else
				fact_floats(s, &o, 0);
		}
		*out = fact_tensor(&o, onnxpass_node_output(n, 0));
		rc = *out ? 0 : ONNXPASS_ENOTFOUND;
	}
out:
	if (s->oom)
		rc = ONNXPASS_ENOMEM;
	onnxpass_shapes_free(s);
	return rc;
}
