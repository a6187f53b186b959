/* SPDX-License-Identifier: MIT */
/* Dimension rerouting (onnxpass_graph_reroute_dims): re-deriving shape
 * reads from allowed inputs by the library's shape analysis.  Dims holding
 * the same symbol (the same dim_param) are the same size, so a read of one
 * may read the other instead.  Each step analyses the graph once, plans
 * its edits, then makes them: linear in the graph. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct reroute {
	struct onnxpass_ctx *ctx;	/* for -v logging; may be NULL */
	struct onnxpass_graph *g;
	bool (*allowed)(const char *input, void *data);
	void *data;
	size_t reshapes, reads;
};

/* y and axis of Gather(Shape(y), idx) with a constant one-element idx. */
static struct onnxpass_value *shape_read(const struct onnxpass_shapes *s, struct onnxpass_node *g, int *axis)
{
	struct onnxpass_value *in = onnxpass_node_input_value(g, 0), *y;
	struct onnxpass_node *sh = in ? onnxpass_value_producer(in, NULL) : NULL;
	int64_t idx[2], d[ONNXPASS_MAX_RANK];
	int r;

	if (!onnxpass_node_is(g, NULL, "Gather") || !sh || !onnxpass_node_is(sh, NULL, "Shape") ||
	    onnxpass_node_attr_count(sh) > 0 || onnxpass_value_const_ints(onnxpass_node_input_value(g, 1), idx, 2) != 1)
		return NULL;
	y = onnxpass_node_input_value(sh, 0);
	if ((r = onnxpass_shapes_get(s, y, d, ONNXPASS_MAX_RANK)) < 0 || r > ONNXPASS_MAX_RANK)
		return NULL;
	if (idx[0] < 0)
		idx[0] += r;
	if (idx[0] < 0 || idx[0] >= r)
		return NULL;
	*axis = (int)idx[0];
	return y;
}

/* Reshape(data, shape) whose shape is computed from sizes: when each
 * element is a number or data's own dim at that place (0 = copy), the
 * shape becomes a constant.  One analysis, then the edits. */
static int fold_reshapes(struct reroute *j)
{
	const struct onnxpass_shapes *s = onnxpass_graph_shapes(j->g);
	size_t count;
	struct onnxpass_node **nodes = s ? onnxpass_graph_nodes(j->g, &count) : NULL;
	int64_t (*plan)[ONNXPASS_MAX_RANK + 1];
	int rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	if (!(plan = calloc(count ? count : 1, sizeof(*plan)))) {
		free(nodes);
		return ONNXPASS_ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		struct onnxpass_node *r = nodes[i];
		struct onnxpass_value *data = onnxpass_node_input_value(r, 0), *sv = onnxpass_node_input_value(r, 1);
		int64_t vals[ONNXPASS_MAX_RANK], dd[ONNXPASS_MAX_RANK], allowzero = 0, tmp[ONNXPASS_MAX_RANK];
		int n, rd;

		if (!onnxpass_node_is(r, NULL, "Reshape") || !sv || onnxpass_value_const_ints(sv, tmp, ONNXPASS_MAX_RANK) >= 0)
			continue;
		onnxpass_node_attr_int(r, "allowzero", &allowzero);
		n = onnxpass_shapes_values(s, sv, vals, ONNXPASS_MAX_RANK);
		rd = onnxpass_shapes_get(s, data, dd, ONNXPASS_MAX_RANK);
		if (allowzero || n < 0)
			continue;
		for (int k = 0; k < n && n > 0; k++) {
			if (vals[k] > ONNXPASS_SYMBOL_MAX)
				continue;	/* a number */
			if (k < rd && dd[k] == vals[k]) {
				vals[k] = 0;	/* data's own dim: copy it */
				continue;
			}
			onnxpass_log(j->ctx, ONNXPASS_LOG_DEBUG, "Reshape '%s': shape element %d is not the data's own dim",
				     onnxpass_node_name(r), k);
			n = -1;
		}
		if (n < 0)
			continue;
		plan[i][0] = n + 1;
		memcpy(&plan[i][1], vals, (size_t)n * sizeof(int64_t));
	}
	for (size_t i = 0; i < count && !rc; i++) {
		const char *name;

		if (!plan[i][0])
			continue;
		name = onnxpass_graph_add_const_i64(j->g, "reshape_shape", 1, &plan[i][1], (size_t)plan[i][0] - 1);
		rc = name ? onnxpass_node_set_input(nodes[i], 1, name) : ONNXPASS_ENOMEM;
		j->reshapes += !rc;
	}
	free(plan);
	free(nodes);
	return rc;
}

/* An allowed input with a dim holding d, and its axis. */
static struct onnxpass_value *allowed_with(struct reroute *j, const struct onnxpass_shapes *s, int64_t d,
					   int *axis)
{
	for (size_t i = 0; i < onnxpass_graph_input_count(j->g); i++) {
		struct onnxpass_value *v = onnxpass_graph_input(j->g, i);
		int64_t dims[ONNXPASS_MAX_RANK];
		int r;

		if (!j->allowed(onnxpass_value_name(v), j->data) || (r = onnxpass_shapes_get(s, v, dims, ONNXPASS_MAX_RANK)) < 0)
			continue;
		for (int k = 0; k < r && k < ONNXPASS_MAX_RANK; k++)
			if (dims[k] == d) {
				*axis = k;
				return v;
			}
	}
	return NULL;
}

struct read_plan {
	struct onnxpass_node *gather;
	struct onnxpass_value *src;	/* read Shape(src)[axis]... */
	int axis;
	int64_t number;	/* ...or this number, when src is NULL */
	bool scalar;	/* the index (so the result) is a scalar */
};

static int apply_read(struct reroute *j, const struct read_plan *p)
{
	struct onnxpass_graph *g = j->g;
	int64_t at = p->src ? p->axis : 0;
	const char *in, *data, *idx;
	int rc;

	if (p->src) {
		in = onnxpass_value_name(p->src);
		data = onnxpass_graph_fresh_name(g, "shape_of_allowed", NULL);
		if (!data || !onnxpass_graph_add_node(g, "Shape", NULL, data, &in, 1, &data, 1))
			return ONNXPASS_ENOMEM;
	} else if (!(data = onnxpass_graph_add_const_i64(g, "shape_value", 1, &p->number, 1))) {
		return ONNXPASS_ENOMEM;
	}
	/* keep the index's rank: a scalar stays a scalar */
	if (!(idx = onnxpass_graph_add_const_i64(g, "shape_index", p->scalar ? 0 : 1, &at, 1)))
		return ONNXPASS_ENOMEM;
	if ((rc = onnxpass_node_set_input(p->gather, 0, data)) || (rc = onnxpass_node_set_input(p->gather, 1, idx)))
		return rc;
	j->reads++;
	return 0;
}

/* Gather(Shape(y), i) with y depending on an input not allowed: read the
 * same dim off an allowed input instead (or take it as the number it is). */
static int shape_reads(struct reroute *j)
{
	const struct onnxpass_shapes *s = onnxpass_graph_shapes(j->g);
	size_t count, n_bad = 0, n_plan = 0;
	struct onnxpass_node **nodes = s ? onnxpass_graph_nodes(j->g, &count) : NULL;
	struct onnxpass_value **bad = NULL;
	struct read_plan *plan = NULL;
	bool *tainted = NULL;
	int rc = ONNXPASS_ENOMEM;

	if (!nodes || !(tainted = calloc(count ? count : 1, sizeof(bool))) ||
	    !(plan = calloc(count ? count : 1, sizeof(*plan))) ||
	    !(bad = calloc(onnxpass_graph_input_count(j->g) + 1, sizeof(*bad))))
		goto out;
	for (size_t i = 0; i < onnxpass_graph_input_count(j->g); i++)
		if (!j->allowed(onnxpass_value_name(onnxpass_graph_input(j->g, i)), j->data))
			bad[n_bad++] = onnxpass_graph_input(j->g, i);
	if ((rc = onnxpass_graph_reached_from(j->g, bad, n_bad, tainted)) < 0 && rc != ONNXPASS_EFORMAT)
		goto out;
	for (size_t i = 0; i < count; i++) {
		struct read_plan *p = &plan[n_plan];
		struct onnxpass_value *y;
		int64_t d[ONNXPASS_MAX_RANK], old[2];
		int ya;

		if (!tainted[i] || !(y = shape_read(s, nodes[i], &ya)))
			continue;
		onnxpass_shapes_get(s, y, d, ONNXPASS_MAX_RANK);
		p->gather = nodes[i];
		p->scalar = onnxpass_value_const_ints(onnxpass_node_input_value(nodes[i], 1), old, 2) == 1 &&
			    onnxpass_value_infer_rank(onnxpass_node_input_value(nodes[i], 1)) != 1;
		if (d[ya] > ONNXPASS_SYMBOL_MAX)
			p->number = d[ya];
		else if (!(p->src = allowed_with(j, s, d[ya], &p->axis)))
			continue;
		n_plan++;
	}
	rc = 0;
	for (size_t i = 0; i < n_plan && !rc; i++)
		rc = apply_read(j, &plan[i]);
out:
	free(bad);
	free(plan);
	free(tainted);
	free(nodes);
	return rc;
}

int onnxpass_graph_reroute_dims(struct onnxpass_graph *g, struct onnxpass_ctx *ctx,
				bool (*allowed)(const char *input, void *data), void *data, size_t *reshapes,
				size_t *reads)
{
	struct reroute j = { ctx, g, allowed, data, 0, 0 };
	int rc;

	if (!g || !allowed)
		return ONNXPASS_EINVAL;
	rc = fold_reshapes(&j);
	onnxpass_graph_remove_unused(g);	/* shape arithmetic nothing reads now */
	if (!rc)
		rc = shape_reads(&j);
	if (reshapes)
		*reshapes = j.reshapes;
	if (reads)
		*reads = j.reads;
	return rc;
}
