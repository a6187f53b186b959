/* SPDX-License-Identifier: MIT */
/* Re-deriving shape reads from allowed inputs by dimension provenance:
 * dims with the same symbolic name (or the same literal) are the same. */
#include <stdlib.h>
#include <string.h>

#include "shape_reroute.h"

/* Same size at run time: the same input and axis, the same literal, or
 * the same symbolic name (ONNX's convention for dim_param). */
static bool same_dim(struct onnxpass_value *a, int ax, struct onnxpass_value *b, int bx)
{
	int64_t av, bv;
	const char *ap, *bp;

	if (a == b && ax == bx)
		return true;
	if (onnxpass_value_dim(a, ax, &av, &ap) || onnxpass_value_dim(b, bx, &bv, &bp))
		return false;
	if (av >= 0 || bv >= 0)
		return av == bv;
	return ap && bp && !strcmp(ap, bp);
}

/* An allowed input with a dim equal to (in, ax); returns its axis. */
static struct onnxpass_value *allowed_with(struct reroute *j, struct onnxpass_value *in, int ax,
					   int *out_axis)
{
	if (j->allowed(j, onnxpass_value_name(in))) {
		*out_axis = ax;
		return in;
	}
	for (size_t i = 0; i < onnxpass_graph_input_count(j->g); i++) {
		struct onnxpass_value *v = onnxpass_graph_input(j->g, i);

		if (!j->allowed(j, onnxpass_value_name(v)))
			continue;
		for (int d = 0; d < onnxpass_value_rank(v); d++) {
			if (same_dim(in, ax, v, d)) {
				*out_axis = d;
				return v;
			}
		}
	}
	return NULL;
}

/* y and index of Unsqueeze(Gather(Shape(y), idx)) or Gather(Shape(y), idx) */
static struct onnxpass_value *shape_read(struct onnxpass_value *e, int *axis, bool through_unsqueeze)
{
	struct onnxpass_node *u = e ? onnxpass_value_producer(e, NULL) : NULL, *g, *s;
	struct onnxpass_value *y;
	int64_t idx[2];

	if (through_unsqueeze) {
		if (!u || !onnxpass_node_is(u, NULL, "Unsqueeze"))
			return NULL;
		e = onnxpass_node_input_value(u, 0);
	}
	g = e ? onnxpass_value_producer(e, NULL) : NULL;
	if (!g || !onnxpass_node_is(g, NULL, "Gather") ||
	    onnxpass_value_const_ints(onnxpass_node_input_value(g, 1), idx, 2) != 1)
		return NULL;
	s = onnxpass_node_input_value(g, 0) ? onnxpass_value_producer(onnxpass_node_input_value(g, 0), NULL)
					    : NULL;
	if (!s || !onnxpass_node_is(s, NULL, "Shape") || onnxpass_node_attr_count(s) > 0)
		return NULL;
	y = onnxpass_node_input_value(s, 0);
	if (idx[0] < 0) {
		int r = onnxpass_value_infer_rank(y);

		if (r < 0)
			return NULL;
		idx[0] += r;
	}
	*axis = (int)idx[0];
	return y;
}

static int add_i64(struct onnxpass_graph *g, const char *base, const int64_t *v, size_t n,
		   bool scalar, char **name)
{
	int64_t dims[1] = { (int64_t)n };
	struct onnxpass_tensor *t;

	*name = onnxpass_graph_fresh_name(g, base);
	t = *name ? onnxpass_tensor_new(*name, ONNXPASS_DT_INT64, scalar ? 0 : 1, dims) : NULL;
	if (!t)
		return ONNXPASS_ENOMEM;
	memcpy(onnxpass_tensor_mutable_data(t), v, n * sizeof(int64_t));
	if (onnxpass_graph_add_initializer(g, t)) {
		onnxpass_tensor_free(t);
		return ONNXPASS_EINVAL;
	}
	return 0;
}

/* Reshape(data, Concat(...)) whose pieces read other inputs' shapes: each
 * piece that is data's own dim becomes 0 (copy), literals stay; when every
 * piece is then literal the shape is a constant. */
static int fold_reshape(struct reroute *j, struct onnxpass_node *r)
{
	struct onnxpass_value *data = onnxpass_node_input_value(r, 0);
	struct onnxpass_value *s = onnxpass_node_input_value(r, 1);
	struct onnxpass_node *cat = s ? onnxpass_value_producer(s, NULL) : NULL;
	int64_t vals[16], allowzero = 0, tmp[16];
	size_t n;
	char *name;
	int rc;

	if (!cat || !onnxpass_node_is(cat, NULL, "Concat") || onnxpass_value_const_ints(s, tmp, 16) >= 0)
		return 0;
	onnxpass_node_attr_int(r, "allowzero", &allowzero);
	n = onnxpass_node_input_count(cat);
	if (n > 16 || allowzero)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct onnxpass_value *e = onnxpass_node_input_value(cat, i), *y, *yi, *di;
		int64_t one[2];
		int ya, yia, dia;

		if (onnxpass_value_const_ints(e, one, 2) == 1) {
			vals[i] = one[0];
			continue;
		}
		y = shape_read(e, &ya, true);
		if (!y || onnxpass_value_dim_origin(y, ya, &yi, &yia) ||
		    onnxpass_value_dim_origin(data, (int)i, &di, &dia) || !same_dim(yi, yia, di, dia)) {
			onnxpass_log(j->ctx, ONNXPASS_LOG_DEBUG, "Reshape '%s': shape element %zu is not the data's own dim",
				     onnxpass_node_name(r), i);
			return 0;
		}
		vals[i] = 0;
	}
	if ((rc = add_i64(j->g, "reshape_shape", vals, n, false, &name)))
		return rc;
	rc = onnxpass_node_set_input(r, 1, name);
	free(name);
	if (!rc)
		j->reshapes++;
	return rc;
}

/* Forward taint: values that depend on an input not allowed. */
static bool *taint(struct reroute *j, struct onnxpass_node **nodes, size_t n)
{
	bool *t = calloc(n ? n : 1, sizeof(bool)), changed = true;

	if (!t)
		return NULL;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (t[i])
				continue;
			for (size_t k = 0; k < onnxpass_node_input_count(nodes[i]) && !t[i]; k++) {
				struct onnxpass_value *v = onnxpass_node_input_value(nodes[i], k);
				struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

				if (v && !p && onnxpass_value_is_graph_input(v) &&
				    !j->allowed(j, onnxpass_value_name(v)))
					t[i] = true;
				for (size_t q = 0; p && q < n && !t[i]; q++)
					if (nodes[q] == p && t[q])
						t[i] = true;
			}
			changed |= t[i];
		}
	}
	return t;
}

/* Gather(Shape(y), i) with y depending on another input: read the same
 * dim off an allowed input instead. */
int reroute_shape_reads(struct reroute *j)
{
	size_t n;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(j->g, &n);
	bool *t;
	int rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	t = taint(j, nodes, n);
	for (size_t i = 0; t && i < n && !rc; i++) {
		struct onnxpass_node *g = nodes[i];
		struct onnxpass_value *y, *yi, *src;
		int ya, yia, sa;
		char *shape_out, *idx;
		const char *in;
		int64_t axis;

		if (!onnxpass_node_is(g, NULL, "Gather") || !t[i])
			continue;
		y = shape_read(onnxpass_node_output_value(g, 0), &ya, false);
		if (!y || onnxpass_value_dim_origin(y, ya, &yi, &yia))
			continue;
		src = allowed_with(j, yi, yia, &sa);
		if (!src)
			continue;
		in = onnxpass_value_name(src);
		shape_out = onnxpass_graph_fresh_name(j->g, "shape_of_allowed");
		if (!shape_out || !onnxpass_graph_add_node(j->g, "Shape", NULL, shape_out, &in, 1,
							  (const char *const *)&shape_out, 1)) {
			free(shape_out);
			rc = ONNXPASS_ENOMEM;
			break;
		}
		onnxpass_graph_move_before(j->g, onnxpass_graph_node(j->g, onnxpass_graph_node_count(j->g) - 1), g);
		axis = sa;
		{
			int64_t old[2];
			bool scalar = onnxpass_value_infer_rank(onnxpass_node_input_value(g, 1)) == 0 ||
				      onnxpass_value_const_ints(onnxpass_node_input_value(g, 1), old, 2) == 1;

			/* keep the index's rank: a scalar stays a scalar */
			if ((rc = add_i64(j->g, "shape_index", &axis, 1,
					  scalar && onnxpass_value_infer_rank(onnxpass_node_input_value(g, 1)) != 1,
					  &idx))) {
				free(shape_out);
				break;
			}
		}
		rc = onnxpass_node_set_input(g, 0, shape_out);
		if (!rc)
			rc = onnxpass_node_set_input(g, 1, idx);
		free(shape_out);
		free(idx);
		j->reads++;
	}
	free(t);
	free(nodes);
	return rc;
}

int reroute_fold_reshapes(struct reroute *j)
{
	int rc = 0;

	for (size_t i = 0; i < onnxpass_graph_node_count(j->g) && !rc; i++)
		if (onnxpass_node_is(onnxpass_graph_node(j->g, i), NULL, "Reshape"))
			rc = fold_reshape(j, onnxpass_graph_node(j->g, i));
	return rc;
}
