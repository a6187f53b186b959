/* SPDX-License-Identifier: MIT */
/* Shape inference with symbolic dims.
 *
 * Every value of a graph gets a shape: each dim a known size or a symbol.
 * Symbols come from the inputs' dim_params (one per name, so two inputs
 * that say "batch" share it, unless bound to a number) or are made fresh
 * where a size depends on data.  Small integer tensors (the Shape ->
 * Gather -> Concat -> Reshape chains exporters write) also carry their
 * element values, each a number or a symbol, so Reshape, Expand,
 * ConstantOfShape and Slice come out symbolic too.  Two dims holding the
 * same symbol are provably equal; nothing is claimed of different ones.
 *
 * Dims and values are int64: a symbol is encoded as SYM_BASE - k.
 */
#include "config.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SYM_BASE (INT64_MIN / 2)
#define MAX_RANK 16
#define MAX_VALS 64	/* element values kept for tensors up to this size */
#define BIG (INT64_MAX / 4)	/* Slice's "to the end" */

static bool is_sym(int64_t x)
{
	return x <= SYM_BASE;
}

struct shp {
	int dtype;	/* 0 unknown */
	int rank;	/* -1 unknown */
	int64_t d[MAX_RANK];
	int nval;	/* -1: values unknown */
	int64_t val[MAX_VALS];
};

struct onnxpass_shapes {
	struct ptrmap map;	/* value -> struct shp */
	char **names;	/* symbol k's name (NULL: anonymous) */
	size_t n_syms, cap_syms;
	const char *const *bind_names;
	const int64_t *bind_values;
	size_t n_bind;
	bool oom;
};

static int64_t sym_new(struct onnxpass_shapes *s, const char *name)
{
	if (name)
		for (size_t i = 0; i < s->n_syms; i++)
			if (s->names[i] && !strcmp(s->names[i], name))
				return SYM_BASE - (int64_t)i;
	if (grow(&s->names, &s->cap_syms, s->n_syms + 1, sizeof(*s->names))) {
		s->oom = true;
		return SYM_BASE;
	}
	s->names[s->n_syms] = name ? strdup(name) : NULL;
	return SYM_BASE - (int64_t)s->n_syms++;
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
static int64_t dim_param(struct onnxpass_shapes *s, const char *name)
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
			v = *op == '+' ? v + k : *op == '-' ? v - k : *op == '*' ? v * k : k ? v / k : -1;
			if (v >= 0)
				return v;
		}
	}
	return sym_new(s, name);
}

static struct shp *get(struct onnxpass_shapes *s, struct onnxpass_value *v)
{
	return v ? ptrmap_get(&s->map, v) : NULL;
}

static struct shp *put(struct onnxpass_shapes *s, struct onnxpass_value *v)
{
	struct shp *h;

	if (!v)
		return NULL;
	if ((h = get(s, v)))
		return h;
	h = malloc(sizeof(*h));
	if (!h || ptrmap_put(&s->map, v, h)) {
		free(h);
		s->oom = true;
		return NULL;
	}
	h->dtype = 0;
	h->rank = -1;
	h->nval = -1;
	return h;
}

/* A tensor's shape and, when small and integer, its values. */
static void from_tensor(struct shp *h, struct onnxpass_tensor *t)
{
	size_t r = onnxpass_tensor_rank(t);
	int64_t n = onnxpass_tensor_numel(t);
	int dt = onnxpass_tensor_dtype(t);

	if (r > MAX_RANK)
		return;
	h->rank = (int)r;
	for (size_t i = 0; i < r; i++)
		h->d[i] = onnxpass_tensor_dim(t, i);
	if ((dt == ONNXPASS_DT_INT64 || dt == ONNXPASS_DT_INT32) && n <= MAX_VALS &&
	    !onnxpass_tensor_to_i64(t, h->val, (size_t)n))
		h->nval = (int)n;
}

/* Declared shape of a graph input (or any value with value_info). */
static void from_decl(struct onnxpass_shapes *s, struct shp *h, struct onnxpass_value *v)
{
	int r = onnxpass_value_rank(v);

	if (r < 0 || r > MAX_RANK)
		return;
	h->rank = r;
	for (int i = 0; i < r; i++) {
		const char *p = NULL;
		int64_t d;

		onnxpass_value_dim(v, i, &d, &p);
		h->d[i] = d >= 0 ? d : p ? dim_param(s, p) : sym_new(s, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Dim arithmetic                                                      */

static int64_t product(struct onnxpass_shapes *s, const int64_t *d, int n)
{
	int64_t p = 1;

	for (int i = 0; i < n; i++) {
		if (is_sym(d[i]))
			return sym_new(s, NULL);
		p *= d[i];
	}
	return p;
}

static int64_t bcast_dim(struct onnxpass_shapes *s, int64_t a, int64_t b)
{
	if (a == 1)
		return b;
	if (b == 1 || a == b)
		return a;
	if (!is_sym(a))
		return a;	/* b is a symbol: it must be a (or 1) */
	if (!is_sym(b))
		return b;
	return sym_new(s, NULL);
}

static bool bcast(struct onnxpass_shapes *s, struct shp *o, const struct shp *a, const struct shp *b)
{
	int r = a->rank > b->rank ? a->rank : b->rank;

	if (a->rank < 0 || b->rank < 0)
		return false;
	o->rank = r;
	for (int i = 0; i < r; i++) {
		int ia = i - (r - a->rank), ib = i - (r - b->rank);
		int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;

		o->d[i] = bcast_dim(s, da, db);
	}
	return true;
}

static int64_t arith(struct onnxpass_shapes *s, const char *op, int64_t a, int64_t b)
{
	if (is_sym(a) || is_sym(b)) {
		if ((!strcmp(op, "Mul") || !strcmp(op, "Div")) && b == 1)
			return a;
		if (!strcmp(op, "Mul") && a == 1)
			return b;
		if ((!strcmp(op, "Add") || !strcmp(op, "Sub")) && b == 0)
			return a;
		if (!strcmp(op, "Add") && a == 0)
			return b;
		return sym_new(s, NULL);
	}
	if (!strcmp(op, "Add"))
		return a + b;
	if (!strcmp(op, "Sub"))
		return a - b;
	if (!strcmp(op, "Mul"))
		return a * b;
	if (!strcmp(op, "Div") && b != 0) {	/* integer Div truncates */
		return a / b;
	}
	return sym_new(s, NULL);
}

/* Equal of two elements: 1, 0, or -1 when unknown (sizes, the symbols,
 * are never negative). */
static int equal_elem(int64_t x, int64_t y)
{
	if (x == y)
		return 1;
	if (!is_sym(x) && !is_sym(y))
		return 0;
	if ((is_sym(x) && !is_sym(y) && y < 0) || (is_sym(y) && !is_sym(x) && x < 0))
		return 0;
	return -1;
}

/* Values of a 1-D (or scalar) elementwise op (arithmetic or Equal) on
 * small tensors. */
static void arith_vals(struct onnxpass_shapes *s, const char *op, struct shp *o, const struct shp *a,
		       const struct shp *b)
{
	int n;

	if (a->nval < 0 || b->nval < 0 || o->rank > 1)
		return;
	n = a->nval > b->nval ? a->nval : b->nval;
	if ((a->nval != n && a->nval != 1) || (b->nval != n && b->nval != 1))
		return;
	for (int i = 0; i < n; i++) {
		int64_t x = a->val[a->nval == 1 ? 0 : i], y = b->val[b->nval == 1 ? 0 : i];
		int e;

		if (strcmp(op, "Equal")) {
			o->val[i] = arith(s, op, x, y);
		} else if ((e = equal_elem(x, y)) < 0) {
			return;
		} else {
			o->val[i] = e;
		}
	}
	o->nval = n;
}

/* Where on small vectors whose condition is known. */
static void where_vals(struct shp *o, const struct shp *c, const struct shp *a, const struct shp *b)
{
	const struct shp *in[3] = { c, a, b };
	int n = 0;

	for (int k = 0; k < 3; k++)
		n = in[k]->nval > n ? in[k]->nval : n;
	for (int k = 0; k < 3; k++)
		if (in[k]->nval < 0 || (in[k]->nval != n && in[k]->nval != 1) || o->rank > 1)
			return;
	for (int i = 0; i < n; i++) {
		int64_t cv = c->val[c->nval == 1 ? 0 : i];

		if (is_sym(cv))
			return;
		o->val[i] = cv ? a->val[a->nval == 1 ? 0 : i] : b->val[b->nval == 1 ? 0 : i];
	}
	o->nval = n;
}

static int norm_axis(int64_t a, int rank)
{
	return a < 0 ? (int)(a + rank) : (int)a;
}

/* Integer list from an attribute (older opsets) or a constant input. */
static int int_list(struct onnxpass_shapes *s, struct onnxpass_node *n, const char *attr,
		    size_t input, int64_t *out, int max)
{
	const int64_t *a;
	size_t cnt;
	struct shp *h;

	if (attr && !onnxpass_node_attr_ints(n, attr, &a, &cnt) && cnt <= (size_t)max) {
		memcpy(out, a, cnt * sizeof(*a));
		return (int)cnt;
	}
	if (input < onnxpass_node_input_count(n) && *onnxpass_node_input(n, input) &&
	    (h = get(s, onnxpass_node_input_value(n, input))) && h->nval >= 0 && h->nval <= max) {
		for (int i = 0; i < h->nval; i++)
			if (is_sym(h->val[i]))
				return -1;
		memcpy(out, h->val, (size_t)h->nval * sizeof(*out));
		return h->nval;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Op rules: fill o (output 0, or k for multi-output ops); false if the
 * inputs do not tell. */

static bool reshape(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o, const struct shp *x,
		    const struct shp *sh)
{
	int64_t allowzero = 0, kin = 1, kout = 1;
	int64_t syms_in[MAX_RANK];
	int n_in = 0, minus = -1;

	if (!sh || sh->nval < 0 || sh->nval > MAX_RANK || sh->rank != 1)
		return false;
	onnxpass_node_attr_int(n, "allowzero", &allowzero);
	o->rank = sh->nval;
	for (int i = 0; i < sh->nval; i++) {
		int64_t v = sh->val[i];

		if (v == 0 && !allowzero) {
			if (!x || x->rank <= i)
				return false;
			v = x->d[i];
		}
		if (v == -1) {
			minus = i;
			continue;
		}
		o->d[i] = v;
	}
	if (minus < 0)
		return true;
	/* -1: the input's size over the other dims, symbols cancelling */
	if (!x || x->rank < 0)
		return false;
	for (int i = 0; i < x->rank; i++) {
		if (is_sym(x->d[i]))
			syms_in[n_in++] = x->d[i];
		else
			kin *= x->d[i];
	}
	for (int i = 0; i < o->rank; i++) {
		int k;

		if (i == minus)
			continue;
		if (!is_sym(o->d[i])) {
			kout *= o->d[i];
			continue;
		}
		for (k = 0; k < n_in && syms_in[k] != o->d[i]; k++)
			;
		if (k == n_in) {
			o->d[minus] = sym_new(s, NULL);
			return true;
		}
		syms_in[k] = syms_in[--n_in];
	}
	if (n_in == 0 && kout && kin % kout == 0)
		o->d[minus] = kin / kout;
	else if (n_in == 1 && kin == kout)
		o->d[minus] = syms_in[0];
	else
		o->d[minus] = sym_new(s, NULL);
	return true;
}

static bool matmul(struct onnxpass_shapes *s, struct shp *o, const struct shp *a, const struct shp *b)
{
	struct shp ba = { .rank = 0 }, bb = { .rank = 0 }, bo;
	int ra = a->rank, rb = b->rank;

	if (ra < 1 || rb < 1)
		return false;
	if (ra > 2) {
		ba.rank = ra - 2;
		memcpy(ba.d, a->d, (size_t)(ra - 2) * sizeof(int64_t));
	}
	if (rb > 2) {
		bb.rank = rb - 2;
		memcpy(bb.d, b->d, (size_t)(rb - 2) * sizeof(int64_t));
	}
	bcast(s, &bo, &ba, &bb);
	*o = bo;
	o->nval = -1;
	if (ra >= 2)
		o->d[o->rank++] = a->d[ra - 2];
	if (rb >= 2)
		o->d[o->rank++] = b->d[rb - 1];
	return o->rank <= MAX_RANK;
}

static bool slice(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o, const struct shp *x,
		  int64_t opset)
{
	int64_t st[MAX_RANK], en[MAX_RANK], ax[MAX_RANK], sp[MAX_RANK];
	int ns, ne, na, nst;

	if (opset < 10) {
		ns = int_list(s, n, "starts", 99, st, MAX_RANK);
		ne = int_list(s, n, "ends", 99, en, MAX_RANK);
		na = int_list(s, n, "axes", 99, ax, MAX_RANK);
		nst = -1;
	} else {
		ns = int_list(s, n, NULL, 1, st, MAX_RANK);
		ne = int_list(s, n, NULL, 2, en, MAX_RANK);
		na = int_list(s, n, NULL, 3, ax, MAX_RANK);
		nst = int_list(s, n, NULL, 4, sp, MAX_RANK);
	}
	if (ns < 0 || ne != ns || x->rank < 0)
		return false;
	*o = *x;
	o->nval = -1;
	for (int i = 0; i < ns; i++) {
		int a = na > 0 ? norm_axis(ax[i], x->rank) : i;
		int64_t step = nst > 0 ? sp[i] : 1, d, b, e;

		if (a < 0 || a >= x->rank || step == 0)
			return false;
		d = x->d[a];
		if (is_sym(d)) {	/* the whole axis, or unknown */
			o->d[a] = st[i] == 0 && en[i] >= BIG && step == 1 ? d : sym_new(s, NULL);
			continue;
		}
		b = st[i] < 0 ? st[i] + d : st[i];
		e = en[i] < 0 ? en[i] + d : en[i];
		if (step > 0) {
			b = b < 0 ? 0 : b > d ? d : b;
			e = e < 0 ? 0 : e > d ? d : e;
			o->d[a] = e > b ? (e - b + step - 1) / step : 0;
		} else {
			b = b < 0 ? -1 : b > d - 1 ? d - 1 : b;
			e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
			o->d[a] = b > e ? (b - e - step - 1) / -step : 0;
		}
		/* values of a sliced 1-D vector */
		if (x->rank == 1 && x->nval >= 0 && step > 0 && o->d[a] <= MAX_VALS) {
			o->nval = (int)o->d[a];
			for (int k = 0; k < o->nval; k++)
				o->val[k] = x->val[b + k * step];
		}
	}
	return true;
}

/* Marks the listed axes (negative from the end); false if one is out of range. */
static bool mark_axes(const int64_t *axes, int na, int rank, bool *mark)
{
	for (int i = 0; i < na; i++) {
		int a = norm_axis(axes[i], rank);

		if (a < 0 || a >= rank)
			return false;
		mark[a] = true;
	}
	return true;
}

static bool reduce(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o, const struct shp *x,
		   int64_t opset)
{
	int64_t axes[MAX_RANK], keep = 1, noop = 0;
	const char *op = onnxpass_node_op_type(n);
	bool attr_form = opset < (strcmp(op, "ReduceSum") ? 18 : 13);
	int na;
	bool red[MAX_RANK] = { false };

	if (x->rank < 0)
		return false;
	onnxpass_node_attr_int(n, "keepdims", &keep);
	onnxpass_node_attr_int(n, "noop_with_empty_axes", &noop);
	na = attr_form ? int_list(s, n, "axes", 99, axes, MAX_RANK) : int_list(s, n, NULL, 1, axes, MAX_RANK);
	if (na < 0 && (attr_form || onnxpass_node_input_count(n) < 2 || !*onnxpass_node_input(n, 1)))
		na = 0;	/* no axes: all of them */
	else if (na < 0)
		return false;
	if (na == 0 && noop) {
		*o = *x;
		return true;
	}
	if (!mark_axes(axes, na, x->rank, red))
		return false;
	o->rank = 0;
	for (int i = 0; i < x->rank; i++) {
		if (na && !red[i])
			o->d[o->rank++] = x->d[i];
		else if (keep)
			o->d[o->rank++] = 1;
	}
	return true;
}

static bool unsqueeze(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o, const struct shp *x,
		      int64_t opset, bool squeeze)
{
	int64_t axes[MAX_RANK];
	int na = opset < 13 ? int_list(s, n, "axes", 99, axes, MAX_RANK) : int_list(s, n, NULL, 1, axes, MAX_RANK);
	bool mark[MAX_RANK] = { false };
	int r;

	if (x->rank < 0)
		return false;
	if (squeeze) {
		if (na < 0) {	/* no axes: every dim known to be 1 */
			if (onnxpass_node_input_count(n) > 1 && *onnxpass_node_input(n, 1) && opset >= 13)
				return false;
			na = 0;
			for (int i = 0; i < x->rank; i++) {
				if (is_sym(x->d[i]))
					return false;
				if (x->d[i] == 1)
					axes[na++] = i;
			}
		}
		if (!mark_axes(axes, na, x->rank, mark))
			return false;
		o->rank = 0;
		for (int i = 0; i < x->rank; i++)
			if (!mark[i])
				o->d[o->rank++] = x->d[i];
	} else {
		if (na < 0 || (r = x->rank + na) > MAX_RANK || !mark_axes(axes, na, r, mark))
			return false;
		o->rank = r;
		for (int i = 0, k = 0; i < r; i++)
			o->d[i] = mark[i] ? 1 : x->d[k++];
	}
	if (x->nval >= 0 && x->nval <= MAX_VALS) {	/* same elements */
		o->nval = x->nval;
		memcpy(o->val, x->val, (size_t)x->nval * sizeof(int64_t));
	}
	return true;
}

static bool concat(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o)
{
	int64_t axis = 0, sum = 0;
	struct shp *first = get(s, onnxpass_node_input_value(n, 0));
	bool all_vals = true;
	int a;

	onnxpass_node_attr_int(n, "axis", &axis);
	if (!first || first->rank < 1)
		return false;
	a = norm_axis(axis, first->rank);
	if (a < 0 || a >= first->rank)
		return false;
	*o = *first;
	o->nval = 0;
	for (size_t i = 0; i < onnxpass_node_input_count(n); i++) {
		struct shp *h = get(s, onnxpass_node_input_value(n, i));

		if (!h || h->rank != first->rank)
			return false;
		sum = is_sym(sum) || is_sym(h->d[a]) ? sym_new(s, NULL) : sum + h->d[a];
		if (h->nval < 0 || o->nval + h->nval > MAX_VALS || first->rank != 1)
			all_vals = false;
		else
			for (int k = 0; k < h->nval; k++)
				o->val[o->nval++] = h->val[k];
	}
	o->d[a] = sum;
	if (!all_vals)
		o->nval = -1;
	return true;
}

static bool gather(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o, const struct shp *x,
		   const struct shp *idx)
{
	int64_t axis = 0;
	int a;

	(void)s;
	onnxpass_node_attr_int(n, "axis", &axis);
	if (x->rank < 1 || !idx || idx->rank < 0)
		return false;
	a = norm_axis(axis, x->rank);
	if (a < 0 || a >= x->rank || x->rank - 1 + idx->rank > MAX_RANK)
		return false;
	o->rank = 0;
	for (int i = 0; i < a; i++)
		o->d[o->rank++] = x->d[i];
	for (int i = 0; i < idx->rank; i++)
		o->d[o->rank++] = idx->d[i];
	for (int i = a + 1; i < x->rank; i++)
		o->d[o->rank++] = x->d[i];
	if (x->rank == 1 && x->nval >= 0 && idx->nval >= 0) {	/* Gather(Shape(.), i) */
		for (int i = 0; i < idx->nval; i++) {
			int64_t k = idx->val[i];

			if (is_sym(k) || (k = k < 0 ? k + x->nval : k) < 0 || k >= x->nval)
				return true;
			o->val[i] = x->val[k];
		}
		o->nval = idx->nval;
	}
	return true;
}

static bool transpose(struct onnxpass_node *n, struct shp *o, const struct shp *x)
{
	const int64_t *perm;
	size_t np;

	if (x->rank < 0)
		return false;
	o->rank = x->rank;
	if (onnxpass_node_attr_ints(n, "perm", &perm, &np)) {
		for (int i = 0; i < x->rank; i++)
			o->d[i] = x->d[x->rank - 1 - i];
		return true;
	}
	if ((int)np != x->rank)
		return false;
	for (int i = 0; i < x->rank; i++) {
		if (perm[i] < 0 || perm[i] >= x->rank)
			return false;
		o->d[i] = x->d[perm[i]];
	}
	return true;
}

static bool from_values(struct shp *o, const struct shp *sh)
{
	if (!sh || sh->nval < 0 || sh->nval > MAX_RANK)
		return false;
	o->rank = sh->nval;
	memcpy(o->d, sh->val, (size_t)sh->nval * sizeof(int64_t));
	for (int i = 0; i < o->rank; i++)
		if (!is_sym(o->d[i]) && o->d[i] < 0)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Element types                                                       */

static int in_dtype(struct onnxpass_shapes *s, struct onnxpass_node *n, size_t i)
{
	struct onnxpass_value *v = i < onnxpass_node_input_count(n) ? onnxpass_node_input_value(n, i) : NULL;
	struct shp *h = get(s, v);

	return h && h->dtype ? h->dtype : v ? onnxpass_value_dtype(v) : 0;
}

static int attr_tensor_dtype(struct onnxpass_node *n, const char *name, int dflt)
{
	struct onnxpass_tensor *t = onnxpass_node_attr_tensor(n, name);

	return t ? onnxpass_tensor_dtype(t) : dflt;
}

/* The typing rule of output k of n: most ops type their outputs like
 * input 0; the exceptions are listed. */
static int dtype_rule(struct onnxpass_shapes *s, struct onnxpass_node *n, size_t k)
{
	const char *op = onnxpass_node_op_type(n), *dom = onnxpass_node_domain(n);
	int64_t to = 0;
	static const char *const i64[] = { "Shape", "Size", "NonZero", "ArgMax", "ArgMin",
					   "NonMaxSuppression", NULL };
	static const char *const bools[] = { "Equal", "Less", "Greater", "LessOrEqual",
					     "GreaterOrEqual", "Not", "And", "Or", "Xor",
					     "IsNaN", "IsInf", NULL };

	if (*dom && strcmp(dom, ONNXPASS_DOMAIN_MS))
		return 0;
	if (op_in(n, i64))
		return ONNXPASS_DT_INT64;
	if (op_in(n, bools))
		return ONNXPASS_DT_BOOL;
	if (!strcmp(op, "Cast"))
		return onnxpass_node_attr_int(n, "to", &to) ? 0 : (int)to;
	if (!strcmp(op, "CastLike") || !strcmp(op, "Where"))
		return in_dtype(s, n, 1);
	if (!strcmp(op, "ConstantOfShape"))
		return attr_tensor_dtype(n, "value", ONNXPASS_DT_FLOAT);
	if (!strcmp(op, "Constant")) {
		if (onnxpass_node_attr_type(n, "value") == ONNXPASS_ATTR_TENSOR)
			return attr_tensor_dtype(n, "value", 0);
		if (onnxpass_node_attr_type(n, "value_float") || onnxpass_node_attr_type(n, "value_floats"))
			return ONNXPASS_DT_FLOAT;
		return onnxpass_node_attr_type(n, "value_int") || onnxpass_node_attr_type(n, "value_ints") ?
			       ONNXPASS_DT_INT64 : 0;
	}
	if (!strcmp(op, "DynamicQuantizeLinear"))
		return k == 1 ? ONNXPASS_DT_FLOAT : ONNXPASS_DT_UINT8;
	if (!strcmp(op, "QuantizeLinear"))
		return onnxpass_node_input_count(n) > 2 && *onnxpass_node_input(n, 2) ?
			       in_dtype(s, n, 2) : ONNXPASS_DT_UINT8;
	if (!strcmp(op, "DequantizeLinear"))
		return in_dtype(s, n, 1);
	if (!strcmp(op, "GatherBlockQuantized"))
		return in_dtype(s, n, 2);
	if (!strcmp(op, "MatMulInteger") || !strcmp(op, "ConvInteger"))
		return ONNXPASS_DT_INT32;
	if (!strcmp(op, "DynamicQuantizeMatMul") || !strcmp(op, "MatMulIntegerToFloat"))
		return ONNXPASS_DT_FLOAT;
	if ((!strcmp(op, "TopK") || !strcmp(op, "Unique")) && k > 0)
		return ONNXPASS_DT_INT64;
	if (!strcmp(op, "OneHot"))
		return in_dtype(s, n, 2);
	if ((k == 1 || k == 2) && strstr(op, "LayerNormalization"))
		return ONNXPASS_DT_FLOAT;	/* mean and inverse std-dev: stash type */
	if (onnxpass_node_subgraph_count(n))
		return 0;	/* declared types, or unknown */
	return in_dtype(s, n, 0);
}

/* Conv and pooling: [N, C_out, spatial...] (pooling keeps C). */
static bool conv(struct onnxpass_shapes *s, struct onnxpass_node *n, struct shp *o, const struct shp *x,
		 const struct shp *w)
{
	bool pool = strstr(onnxpass_node_op_type(n), "Pool") != NULL;
	int64_t ks[MAX_RANK], st[MAX_RANK], dl[MAX_RANK], pd[2 * MAX_RANK], ceil_mode = 0;
	int sp = x->rank - 2, nk;
	const char *ap = "NOTSET";

	if (sp < 1 || (!pool && (!w || w->rank != x->rank)))
		return false;
	nk = int_list(s, n, "kernel_shape", 99, ks, MAX_RANK);
	if (nk < 0 && !pool) {
		for (int i = 0; i < sp; i++)
			ks[i] = w->d[i + 2];
		nk = sp;
	}
	if (nk != sp)
		return false;
	for (int i = 0; i < sp; i++) {
		st[i] = dl[i] = 1;
		pd[i] = pd[i + sp] = 0;
	}
	int_list(s, n, "strides", 99, st, MAX_RANK);
	int_list(s, n, "dilations", 99, dl, MAX_RANK);
	int_list(s, n, "pads", 99, pd, 2 * MAX_RANK);
	onnxpass_node_attr_string(n, "auto_pad", &ap);
	onnxpass_node_attr_int(n, "ceil_mode", &ceil_mode);
	o->rank = x->rank;
	o->d[0] = x->d[0];
	o->d[1] = pool ? x->d[1] : w->d[0];
	for (int i = 0; i < sp; i++) {
		int64_t in = x->d[i + 2], ek = dl[i] * (ks[i] - 1) + 1;

		if (is_sym(in) || is_sym(ks[i]) || st[i] <= 0)
			o->d[i + 2] = sym_new(s, NULL);
		else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"))
			o->d[i + 2] = (in + st[i] - 1) / st[i];
		else if (!strcmp(ap, "VALID"))
			o->d[i + 2] = (in - ek) / st[i] + 1;
		else
			o->d[i + 2] = (in + pd[i] + pd[i + sp] - ek + (ceil_mode ? st[i] - 1 : 0)) / st[i] + 1;
	}
	return true;
}

/* Output k of n. */
static bool infer(struct onnxpass_shapes *s, struct onnxpass_node *n, size_t k, struct shp *o,
		  int64_t opset)
{
	const char *op = onnxpass_node_op_type(n), *dom = onnxpass_node_domain(n);
	size_t ni = onnxpass_node_input_count(n);
	struct shp *x = ni ? get(s, onnxpass_node_input_value(n, 0)) : NULL;
	struct shp *y = ni > 1 ? get(s, onnxpass_node_input_value(n, 1)) : NULL;
	bool ms = !strcmp(dom, ONNXPASS_DOMAIN_MS);

	if (*dom && !ms)
		return false;
	if (!strcmp(op, "Constant")) {
		struct onnxpass_tensor *t = onnxpass_node_attr_tensor(n, "value");
		int64_t iv;

		if (t) {
			from_tensor(o, t);
			return true;
		}
		if (!onnxpass_node_attr_int(n, "value_int", &iv)) {
			o->rank = 0;
			o->nval = 1;
			o->val[0] = iv;
			return true;
		}
		return false;
	}
	if (!strcmp(op, "Shape")) {
		int64_t start = 0, end = BIG;

		if (!x || x->rank < 0)
			return false;
		onnxpass_node_attr_int(n, "start", &start);
		onnxpass_node_attr_int(n, "end", &end);
		start = start < 0 ? start + x->rank : start;
		end = end < 0 ? end + x->rank : end > x->rank ? x->rank : end;
		start = start < 0 ? 0 : start > x->rank ? x->rank : start;
		o->rank = 1;
		o->d[0] = end > start ? end - start : 0;
		o->nval = (int)o->d[0];
		memcpy(o->val, x->d + start, (size_t)o->nval * sizeof(int64_t));
		return true;
	}
	if (!strcmp(op, "Size")) {
		if (!x || x->rank < 0)
			return false;
		o->rank = 0;
		o->nval = 1;
		o->val[0] = product(s, x->d, x->rank);
		return true;
	}
	if (!x)
		return false;
	if (k > 0 && strstr(op, "LayerNormalization") && !(ms && k == 3)) {
		/* mean and inverse std-dev: 1 from the normalized axis on */
		int64_t axis = -1;
		int a;

		onnxpass_node_attr_int(n, "axis", &axis);
		if ((a = norm_axis(axis, x->rank)) < 0 || a >= x->rank)
			return false;
		*o = *x;
		o->nval = -1;
		for (int i = a; i < o->rank; i++)
			o->d[i] = 1;
		return true;
	}
	if (op_in(n, same_shape) || (ms && (!strcmp(op, "Gelu") || !strcmp(op, "FastGelu") ||
					    !strcmp(op, "BiasGelu") || !strcmp(op, "QuickGelu") ||
					    !strcmp(op, "RotaryEmbedding"))) ||
	    strstr(op, "LayerNormalization") || !strcmp(op, "Trilu")) {
		/* besides output 0: Dropout's mask, the skip norms' sum (3) */
		if (k > 0 && !(k == 1 && !strcmp(op, "Dropout")) && !(k == 3 && strstr(op, "LayerNormalization")))
			return false;
		*o = *x;
		if (strcmp(op, "Cast") && strcmp(op, "Identity") && strcmp(op, "Neg"))
			o->nval = -1;
		for (int i = 0; !strcmp(op, "Neg") && i < o->nval; i++)
			o->val[i] = is_sym(o->val[i]) ? sym_new(s, NULL) : -o->val[i];
		return true;
	}
	if (k > 0)
		goto multi;
	if (op_in(n, broadcast) && !ms) {
		struct shp *b = y;

		if (!strcmp(op, "Where")) {
			struct shp *c = ni > 2 ? get(s, onnxpass_node_input_value(n, 2)) : NULL, t;

			if (!y || !c || !bcast(s, &t, x, y) || !bcast(s, o, &t, c))
				return false;
			o->nval = -1;
			where_vals(o, x, y, c);
			return true;
		}
		for (size_t i = 1; i < ni && b; i++) {
			struct shp t;

			b = get(s, onnxpass_node_input_value(n, i));
			if (!b || !bcast(s, &t, i == 1 ? x : o, b))
				return false;
			*o = t;
			o->nval = -1;
		}
		if (ni == 2 && y)
			arith_vals(s, op, o, x, y);
		return ni >= 2 && b;
	}
	if (!strcmp(op, "Reshape")) {
		if (!reshape(s, n, o, x, y))
			return false;
		if (x->nval >= 0) {	/* the same elements */
			o->nval = x->nval;
			memcpy(o->val, x->val, (size_t)x->nval * sizeof(int64_t));
		}
		return true;
	}
	if (!strcmp(op, "MatMul") || !strcmp(op, "MatMulInteger") ||
	    (ms && !strcmp(op, "DynamicQuantizeMatMul")))
		return y && matmul(s, o, x, y);
	if (ms && !strcmp(op, "MatMulNBits")) {
		int64_t N;

		if (x->rank < 1 || onnxpass_node_attr_int(n, "N", &N))
			return false;
		*o = *x;
		o->nval = -1;
		o->d[o->rank - 1] = N;
		return true;
	}
	if (!strcmp(op, "Gemm")) {
		int64_t ta = 0, tb = 0;

		if (!y || x->rank != 2 || y->rank != 2)
			return false;
		onnxpass_node_attr_int(n, "transA", &ta);
		onnxpass_node_attr_int(n, "transB", &tb);
		o->rank = 2;
		o->d[0] = x->d[ta ? 1 : 0];
		o->d[1] = y->d[tb ? 0 : 1];
		return true;
	}
	if (!strcmp(op, "Gather"))
		return gather(s, n, o, x, y);
	if (!strcmp(op, "GatherElements")) {
		if (!y)
			return false;
		*o = *y;
		o->nval = -1;
		return true;
	}
	if (!strcmp(op, "Transpose"))
		return transpose(n, o, x);
	if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze"))
		return unsqueeze(s, n, o, x, opset, op[0] == 'S');
	if (!strcmp(op, "Concat"))
		return concat(s, n, o);
	if (!strcmp(op, "Slice"))
		return slice(s, n, o, x, opset);
	if (!strncmp(op, "Reduce", 6) || !strcmp(op, "ArgMax") || !strcmp(op, "ArgMin")) {
		if (op[0] == 'A') {	/* ArgMax/ArgMin: one axis attribute */
			int64_t axis = 0, keep = 1;
			int a;

			onnxpass_node_attr_int(n, "axis", &axis);
			onnxpass_node_attr_int(n, "keepdims", &keep);
			if ((a = norm_axis(axis, x->rank)) < 0 || a >= x->rank)
				return false;
			*o = *x;
			o->nval = -1;
			if (keep)
				o->d[a] = 1;
			else
				memmove(o->d + a, o->d + a + 1, (size_t)(--o->rank - a) * sizeof(int64_t));
			return true;
		}
		return reduce(s, n, o, x, opset);
	}
	if (!strcmp(op, "ConstantOfShape")) {
		struct onnxpass_tensor *t = onnxpass_node_attr_tensor(n, "value");
		int64_t cnt = 1, v = 0;

		if (!from_values(o, x))
			return false;
		for (int i = 0; i < o->rank; i++)
			cnt = is_sym(o->d[i]) || cnt > MAX_VALS ? MAX_VALS + 1 : cnt * o->d[i];
		if (cnt <= MAX_VALS && (!t || !onnxpass_tensor_to_i64(t, &v, 1)) &&
		    (!t || onnxpass_tensor_dtype(t) == ONNXPASS_DT_INT64 ||
		     onnxpass_tensor_dtype(t) == ONNXPASS_DT_INT32)) {
			o->nval = (int)cnt;
			for (int64_t i = 0; i < cnt; i++)
				o->val[i] = v;
		}
		return true;
	}
	if (!strcmp(op, "Expand")) {
		struct shp t = { .nval = -1 };

		return from_values(&t, y) && bcast(s, o, x, &t);
	}
	if (!strcmp(op, "Range")) {
		struct shp *l = ni > 2 ? get(s, onnxpass_node_input_value(n, 1)) : NULL;
		struct shp *dl = ni > 2 ? get(s, onnxpass_node_input_value(n, 2)) : NULL;

		o->rank = 1;
		if (x->nval == 1 && l && l->nval == 1 && dl && dl->nval == 1 && !is_sym(x->val[0]) &&
		    !is_sym(l->val[0]) && !is_sym(dl->val[0]) && dl->val[0]) {
			int64_t len = (l->val[0] - x->val[0] + dl->val[0] + (dl->val[0] > 0 ? -1 : 1)) / dl->val[0];

			o->d[0] = len > 0 ? len : 0;
		} else if (x->nval == 1 && x->val[0] == 0 && dl && dl->nval == 1 && dl->val[0] == 1 && l &&
			   l->nval == 1) {
			o->d[0] = l->val[0];	/* Range(0, n, 1): n elements, n a symbol too */
		} else {
			o->d[0] = sym_new(s, NULL);
		}
		return true;
	}
	if (!strcmp(op, "Flatten")) {
		int64_t axis = 1;
		int a;

		onnxpass_node_attr_int(n, "axis", &axis);
		if ((a = norm_axis(axis, x->rank)) < 0 || a > x->rank)
			return false;
		o->rank = 2;
		o->d[0] = product(s, x->d, a);
		o->d[1] = product(s, x->d + a, x->rank - a);
		return true;
	}
	if (!strcmp(op, "Tile")) {
		if (!y || y->nval != x->rank)
			return false;
		*o = *x;
		o->nval = -1;
		for (int i = 0; i < x->rank; i++)
			o->d[i] = is_sym(x->d[i]) || is_sym(y->val[i]) ? sym_new(s, NULL) : x->d[i] * y->val[i];
		return true;
	}
	if (!strcmp(op, "Conv") || !strcmp(op, "ConvInteger") || !strcmp(op, "MaxPool") ||
	    !strcmp(op, "AveragePool"))
		return conv(s, n, o, x, y);
	if (!strcmp(op, "Split"))
		goto multi;
	if (!strcmp(op, "NonZero")) {
		o->rank = 2;
		o->d[0] = x->rank;
		o->d[1] = sym_new(s, NULL);
		return x->rank >= 0;
	}
	if (ms && !strcmp(op, "GatherBlockQuantized")) {
		int64_t bits = 4;
		struct shp *sc = ni > 2 ? get(s, onnxpass_node_input_value(n, 2)) : NULL;

		/* indices' shape + [H]: H from the scales' blocks is not exact;
		 * the packed data's last dim times elements per byte is */
		onnxpass_node_attr_int(n, "bits", &bits);
		if (!y || x->rank != 2 || !sc || y->rank < 0 || y->rank + 1 > MAX_RANK || is_sym(x->d[1]))
			return false;
		*o = *y;
		o->nval = -1;
		o->d[o->rank++] = onnxpass_tensor_dtype(onnxpass_value_initializer(onnxpass_node_input_value(n, 0))) ==
						  ONNXPASS_DT_UINT8 ? x->d[1] * (8 / bits) : x->d[1];
		return true;
	}
	return false;
multi:
	if (!strcmp(op, "Split")) {
		int64_t axis = 0, sizes[MAX_RANK * 4];
		size_t no = onnxpass_node_output_count(n);
		int a, ns;

		onnxpass_node_attr_int(n, "axis", &axis);
		if ((a = norm_axis(axis, x->rank)) < 0 || a >= x->rank)
			return false;
		ns = int_list(s, n, opset < 13 ? "split" : NULL, 1, sizes, MAX_RANK * 4);
		*o = *x;
		o->nval = -1;
		if (ns == (int)no)
			o->d[a] = sizes[k];
		else if (ns >= 0 || (onnxpass_node_input_count(n) > 1 && *onnxpass_node_input(n, 1)) ||
			 onnxpass_node_attr_type(n, "split"))
			o->d[a] = sym_new(s, NULL);	/* sizes given, but not known here */
		else if (!is_sym(x->d[a]) && x->d[a] % (int64_t)no == 0)
			o->d[a] = x->d[a] / (int64_t)no;
		else
			o->d[a] = sym_new(s, NULL);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */

struct onnxpass_shapes *onnxpass_shapes_infer(struct onnxpass_graph *g, const char *const *names,
					      const int64_t *values, size_t n)
{
	struct onnxpass_shapes *s = calloc(1, sizeof(*s));
	int64_t opset;
	size_t count;
	bool progress = true;

	if (!s)
		return NULL;
	ptrmap_init(&s->map);
	s->bind_names = names;
	s->bind_values = values;
	s->n_bind = n;
	opset = onnxpass_model_opset(onnxpass_graph_model(g), "");
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));
		struct shp *h = put(s, v);

		if (h && onnxpass_value_is_graph_input(v))
			from_decl(s, h, v);
		else if (h)
			from_tensor(h, t);
		if (h)
			h->dtype = onnxpass_tensor_dtype(t);
	}
	for (size_t i = 0; i < onnxpass_graph_input_count(g); i++) {
		struct onnxpass_value *v = onnxpass_graph_input(g, i);
		struct shp *h = put(s, v);

		if (h && h->rank < 0)
			from_decl(s, h, v);
		if (h && !h->dtype)
			h->dtype = onnxpass_value_dtype(v);
	}
	count = onnxpass_graph_node_count(g);
	/* nodes in graph order; a few more rounds settle unsorted graphs */
	for (int round = 0; round < 8 && progress && !s->oom; round++) {
		progress = false;
		for (size_t i = 0; i < count; i++) {
			struct onnxpass_node *nd = onnxpass_graph_node(g, i);

			for (size_t k = 0; k < onnxpass_node_output_count(nd); k++) {
				struct onnxpass_value *v = onnxpass_node_output_value(nd, k);
				struct shp t = { .rank = -1, .nval = -1 }, *h;

				if (!v || ((h = get(s, v)) && h->rank >= 0))
					continue;
				if (!h) {	/* first visit: the element type */
					if (!(h = put(s, v)))
						break;
					h->dtype = onnxpass_value_dtype(v);
					if (!h->dtype)
						h->dtype = dtype_rule(s, nd, k);
					progress = true;
				} else if (!h->dtype && (h->dtype = dtype_rule(s, nd, k))) {
					progress = true;
				}
				if (!infer(s, nd, k, &t, opset) || t.rank < 0 || t.rank > MAX_RANK)
					continue;
				t.dtype = h->dtype;
				*h = t;
				progress = true;
			}
		}
	}
	/* values nothing could infer keep what their value_info declares */
	for (size_t i = 0; i < count; i++) {
		struct onnxpass_node *nd = onnxpass_graph_node(g, i);

		for (size_t k = 0; k < onnxpass_node_output_count(nd); k++) {
			struct onnxpass_value *v = onnxpass_node_output_value(nd, k);
			struct shp *h;

			if (v && (h = get(s, v)) && h->rank < 0 && onnxpass_value_rank(v) >= 0)
				from_decl(s, h, v);
		}
	}
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
	for (size_t i = 0; i < s->map.cap; i++)
		if (s->map.keys[i])
			free(s->map.vals[i]);
	ptrmap_release(&s->map);
	for (size_t i = 0; i < s->n_syms; i++)
		free(s->names[i]);
	free(s->names);
	free(s);
}

int onnxpass_shapes_get(const struct onnxpass_shapes *s, struct onnxpass_value *v, int64_t *dims, int max)
{
	struct shp *h = s && v ? ptrmap_get(&s->map, v) : NULL;

	if (!h || h->rank < 0)
		return -1;
	for (int i = 0; i < h->rank && i < max; i++)
		dims[i] = h->d[i];
	return h->rank;
}

const char *onnxpass_shapes_symbol(const struct onnxpass_shapes *s, int64_t d)
{
	int64_t k = SYM_BASE - d;

	if (!s || !is_sym(d) || k < 0 || (size_t)k >= s->n_syms)
		return NULL;
	return s->names[k];
}

int onnxpass_shapes_dtype(const struct onnxpass_shapes *s, struct onnxpass_value *v)
{
	struct shp *h = s && v ? ptrmap_get(&s->map, v) : NULL;

	return h && h->dtype ? h->dtype : v ? onnxpass_value_dtype(v) : 0;
}
