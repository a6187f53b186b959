/* SPDX-License-Identifier: MIT */
/* Raising the default-domain opset: the ops whose attributes became
 * inputs on the way are converted, the ops that changed otherwise are
 * refused by name.  A model whose import says 21 while a ReduceMean
 * still carries an `axes` attribute is refused by ONNX Runtime. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* attrs[i] becomes input first + i, at opset `at`.  typed: the new
 * inputs are scalars of the data input's element type (Clip's bounds,
 * Pad's value, Dropout's ratio), else int64 lists. */
struct conv {
	const char *op;
	int at;
	const char *attrs[3];
	int first;
	bool typed;
};

static const struct conv convs[] = {
	{ "Slice", 10, { "starts", "ends", "axes" }, 1, false },
	{ "TopK", 10, { "k" }, 1, false },
	{ "Pad", 11, { "pads", "value" }, 1, false },	/* value: typed, below */
	{ "Clip", 11, { "min", "max" }, 1, true },
	{ "Dropout", 12, { "ratio" }, 1, true },
	{ "ReduceSum", 13, { "axes" }, 1, false },
	{ "Squeeze", 13, { "axes" }, 1, false },
	{ "Unsqueeze", 13, { "axes" }, 1, false },
	{ "Split", 13, { "split" }, 1, false },
	{ "ReduceMean", 18, { "axes" }, 1, false },
	{ "ReduceMax", 18, { "axes" }, 1, false },
	{ "ReduceMin", 18, { "axes" }, 1, false },
	{ "ReduceProd", 18, { "axes" }, 1, false },
	{ "ReduceL1", 18, { "axes" }, 1, false },
	{ "ReduceL2", 18, { "axes" }, 1, false },
	{ "ReduceLogSum", 18, { "axes" }, 1, false },
	{ "ReduceLogSumExp", 18, { "axes" }, 1, false },
	{ "ReduceSumSquare", 18, { "axes" }, 1, false },
};

/* Ops removed or changed in ways no attribute move covers: refused when
 * the raise passes `at`. */
static const struct {
	const char *op;
	int at;
	const char *why;
} refused[] = {
	{ "Upsample", 10, "was removed in opset 10 (Resize replaces it)" },
	{ "Scatter", 11, "was removed in opset 11 (ScatterElements replaces it)" },
	{ "Resize", 11, "changed its inputs in opset 11" },
};

/* Softmax, LogSoftmax and Hardmax before 13 flatten the input to 2-D at
 * axis; from 13 they work along axis alone.  The same only when axis is
 * the last one. */
static bool softmax_changes(struct onnxpass_graph *g, struct onnxpass_node *n)
{
	int64_t axis = 1, d[8];
	int rank;

	onnxpass_node_attr_int(n, "axis", &axis);
	rank = onnxpass_shapes_get(onnxpass_graph_shapes(g), onnxpass_node_input_value(n, 0), d, 8);
	return !(axis == -1 || (rank > 0 && (axis == rank - 1 || axis == -1)));
}

static bool is_default(const char *dom)
{
	return !*dom || !strcmp(dom, "ai.onnx");
}

/* A new initializer holding the attribute's value; its name in *name. */
static int attr_input(struct onnxpass_graph *g, struct onnxpass_node *n, const char *attr, bool typed,
		      int dtype, const char **name)
{
	const int64_t *ints;
	size_t cnt;
	int64_t one;
	float f;

	*name = NULL;
	if (typed) {
		if (onnxpass_node_attr_float(n, attr, &f))
			return ONNXPASS_EINVAL;
		if (dtype == ONNXPASS_DT_FLOAT) {
			*name = onnxpass_graph_add_const_f32(g, attr, 0, &f, 1);
		} else if (dtype == ONNXPASS_DT_DOUBLE) {
			double d = f;
			struct onnxpass_tensor *t;

			*name = onnxpass_graph_fresh_name(g, attr, NULL);
			if (!(t = *name ? onnxpass_tensor_new(*name, dtype, 0, NULL) : NULL))
				return ONNXPASS_ENOMEM;
			memcpy(onnxpass_tensor_mutable_data(t), &d, sizeof(d));
			if (onnxpass_graph_add_initializer(g, t)) {
				onnxpass_tensor_free(t);
				return ONNXPASS_ENOMEM;
			}
		} else {
			return ONNXPASS_EUNSUPPORTED;
		}
	} else if (!onnxpass_node_attr_ints(n, attr, &ints, &cnt)) {
		*name = onnxpass_graph_add_const_i64(g, attr, 1, ints, cnt);
	} else if (!onnxpass_node_attr_int(n, attr, &one)) {	/* TopK's k */
		*name = onnxpass_graph_add_const_i64(g, attr, 1, &one, 1);
	} else {
		return ONNXPASS_EINVAL;
	}
	return *name ? 0 : ONNXPASS_ENOMEM;
}

static int convert_node(struct onnxpass_graph *g, struct onnxpass_node *n, const struct conv *c,
			char *err, size_t errlen)
{
	/* the analysis is asked for again after each edit (it is redone
	 * only when the graph changed): few nodes need an element type */
	struct onnxpass_shapes *sh = c->typed || !strcmp(c->op, "Pad") ? onnxpass_graph_shapes(g) : NULL;
	int dtype = 0;
	size_t want = (size_t)c->first;
	bool any = false;

	for (int i = 0; i < 3 && c->attrs[i]; i++)
		if (onnxpass_node_attr_type(n, c->attrs[i]) > 0)
			any = true;
	if (!any)
		return 0;
	if (onnxpass_node_input_count(n) > want) {
		set_err(err, errlen, "node '%s' (%s) has both the attribute and the input form", onnxpass_node_name(n),
			onnxpass_node_op_type(n));
		return ONNXPASS_EINVAL;
	}
	if (sh && onnxpass_node_input_count(n))
		dtype = onnxpass_shapes_dtype(sh, onnxpass_node_input_value(n, 0));
	for (int i = 0; i < 3 && c->attrs[i]; i++) {
		bool typed = c->typed || (!strcmp(c->op, "Pad") && !strcmp(c->attrs[i], "value"));
		const char *name = NULL;
		int rc;

		if (onnxpass_node_attr_type(n, c->attrs[i]) <= 0) {
			/* an absent attribute: an empty input keeps the later
			 * ones in place; trailing ones are left out */
			bool later = false;

			for (int k = i + 1; k < 3 && c->attrs[k]; k++)
				later = later || onnxpass_node_attr_type(n, c->attrs[k]) > 0;
			if (later && (rc = onnxpass_node_set_input(n, want++, "")))
				return rc;
			continue;
		}
		rc = attr_input(g, n, c->attrs[i], typed, dtype, &name);
		if (rc == ONNXPASS_EUNSUPPORTED)
			set_err(err, errlen, "node '%s' (%s): its %s of element type %s cannot become an input",
				onnxpass_node_name(n), onnxpass_node_op_type(n), c->attrs[i],
				dtype ? onnxpass_dtype_name(dtype) : "unknown");
		if (!rc)
			rc = onnxpass_node_set_input(n, want++, name);
		if (!rc)
			rc = onnxpass_node_remove_attr(n, c->attrs[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int convert_graph(struct onnxpass_graph *g, int64_t from, int64_t to, char *err, size_t errlen)
{
	size_t n_nodes = onnxpass_graph_node_count(g);
	int rc = 0;

	for (size_t i = 0; i < n_nodes && !rc; i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);

		for (size_t k = 0; k < onnxpass_node_subgraph_count(n) && !rc; k++)
			rc = convert_graph(onnxpass_node_subgraph(n, k), from, to, err, errlen);
		if (rc || !is_default(onnxpass_node_domain(n)))
			continue;
		for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
			if (from < refused[k].at && to >= refused[k].at && !strcmp(onnxpass_node_op_type(n), refused[k].op)) {
				set_err(err, errlen, "node '%s' (%s) %s", onnxpass_node_name(n), refused[k].op,
					refused[k].why);
				return ONNXPASS_EUNSUPPORTED;
			}
		if (from < 13 && to >= 13 &&
		    (!strcmp(onnxpass_node_op_type(n), "Softmax") || !strcmp(onnxpass_node_op_type(n), "LogSoftmax") ||
		     !strcmp(onnxpass_node_op_type(n), "Hardmax")) &&
		    softmax_changes(g, n)) {
			set_err(err, errlen, "node '%s' (%s) works on a flattened input before opset 13, along one axis after",
				onnxpass_node_name(n), onnxpass_node_op_type(n));
			return ONNXPASS_EUNSUPPORTED;
		}
		for (size_t k = 0; k < sizeof(convs) / sizeof(convs[0]) && !rc; k++) {
			if (from >= convs[k].at || to < convs[k].at || strcmp(onnxpass_node_op_type(n), convs[k].op))
				continue;
			rc = convert_node(g, n, &convs[k], err, errlen);
		}
	}
	return rc;
}

int onnxpass_model_raise_opset(struct onnxpass_model *m, int64_t version, char *err, size_t errlen)
{
	int64_t from = onnxpass_model_opset(m, "");
	char why[512] = "";
	int rc;

	if (from < 0)
		from = 1;
	if (version <= from)
		return 0;
	rc = convert_graph(onnxpass_model_graph(m), from, version, why, sizeof(why));
	if (rc) {
		set_err(err, errlen, "cannot raise the opset from %lld to %lld: %s", (long long)from,
			(long long)version, why[0] ? why : onnxpass_strerror(rc));
		return rc;
	}
	/* each opset needs an IR version at least this high */
	{
		static const int64_t ir_for[][2] = { { 23, 11 }, { 21, 10 }, { 19, 9 }, { 15, 8 }, { 12, 7 },
						     { 11, 6 }, { 10, 5 }, { 9, 4 }, { 7, 3 } };

		for (size_t i = 0; i < sizeof(ir_for) / sizeof(ir_for[0]); i++)
			if (version >= ir_for[i][0]) {
				if (onnxpass_model_ir_version(m) < ir_for[i][1])
					onnxpass_model_set_ir_version(m, ir_for[i][1]);
				break;
			}
	}
	return onnxpass_model_set_opset(m, "", version);
}
