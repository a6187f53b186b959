/* SPDX-License-Identifier: MIT */
/* Float16 conversion of a model (onnxpass_model_to_fp16; the quantize
 * pass's mode = fp16): weights and compute in float16.
 *
 * Every node that computes in float runs in float16 unless its op is on the
 * block list, its name is excluded, it holds a subgraph, a subgraph reads
 * one of its outputs, or it reads a weight outside float16's range (with
 * out_of_range = keep).  Float initializers read only by float16 nodes are
 * converted; values crossing between the two worlds get one Cast each.
 * With keep_io_types the graph's float inputs and outputs stay float32.
 *
 * Element types are not always declared; onnxpass_shapes_infer derives them
 * op by op.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define F16_MAX 65504.0f
#define F16_TINY 2.98023224e-8f	/* half the smallest subnormal: below, 0 */

/* ------------------------------------------------------------------ */
/* Small integers per node, value or tensor, in the library's pointer map
 * (reserved for the usual count of keys up front; a set may still grow it). */

static int mark(const struct ptrmap *m, const void *k)
{
	return (int)(intptr_t)ptrmap_get(m, k);
}

static int set_mark(struct ptrmap *m, const void *k, int v)
{
	return ptrmap_put(m, k, (void *)(intptr_t)v) ? ONNXPASS_ENOMEM : 0;
}

/* ------------------------------------------------------------------ */

/* Ops that stay float32 by default: no float16 form in ONNX (the ML
 * domain is never converted), randomness and casts whose output type is
 * an attribute, ops whose float16 precision is known to hurt (TopK and
 * CumSum ordering, Range lengths), and the dynamic quantization ops, which
 * take float32 only. */
static const char *const builtin_block[] = {
	"EyeLike", "RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
	"Bernoulli", "Multinomial", "TopK", "CumSum", "Range", "NonMaxSuppression", "RoiAlign",
	"DynamicQuantizeLinear", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
	"DynamicQuantizeLSTM", "QAttention", "QGemm", "QuantizeLinear", "Resize", "Upsample",
	"STFT", "DFT", "MelWeightMatrix", "HammingWindow", "HannWindow", "BlackmanWindow",
};

struct slot {
	struct onnxpass_value *v;
	bool half;	/* produced or stored in float16 */
	const char *n16, *n32;	/* names of the float16 / float32 forms, once made */
};

/* New weights this big leave memory as soon as they are made. */
#define SPILL_MIN_BYTES (64 << 10)

struct conv {
	struct onnxpass_ctx *ctx;
	const struct onnxpass_fp16_options *o;
	struct onnxpass_model *m;
	struct onnxpass_graph *g;
	struct onnxpass_shapes *shapes;	/* element types, inferred up front */
	struct ptrmap nodes;	/* node -> 1 float16, 2 float32 (float node), 0 other */
	struct ptrmap slots;	/* float value -> index + 1 */
	struct slot *sl;
	size_t n_sl, cap_sl;
	struct onnxpass_fp16_stats *st;
	int64_t over;	/* tensors out of range in this model */
	char first[256];	/* the first tensor out of range */
};

static bool blocked_op(const struct conv *c, struct onnxpass_node *n)
{
	const char *op = onnxpass_node_op_type(n), *dom = onnxpass_node_domain(n);

	if (*dom && strcmp(dom, ONNXPASS_DOMAIN_MS))
		return true;
	for (size_t i = 0; i < sizeof(builtin_block) / sizeof(builtin_block[0]); i++)
		if (!strcmp(op, builtin_block[i]))
			return true;
	for (size_t i = 0; i < c->o->n_block_ops; i++)
		if (!strcmp(op, c->o->block_ops[i]))
			return true;
	/* before opset 19 the (de)quantizers take float32 scales only */
	if (!*dom && !strcmp(op, "DequantizeLinear") && onnxpass_model_opset(c->m, "") < 19)
		return true;
	return false;
}

/* Float inputs and outputs that keep float32 in a float16 node. */
static bool fixed_input(struct onnxpass_node *n, size_t i)
{
	return (onnxpass_node_is(n, NULL, "Resize") && i >= 1) ||
	       (onnxpass_node_is(n, NULL, "Upsample") && i == 1);
}

static bool fixed_output(struct onnxpass_node *n, size_t i)
{
	const char *op = onnxpass_node_op_type(n);

	/* mean and inverse std-dev of the norms: type U (stash_type) */
	return (i == 1 || i == 2) && strstr(op, "LayerNormalization") != NULL;
}

/* ------------------------------------------------------------------ */
/* Element types                                                       */

static int vtype(struct conv *c, struct onnxpass_value *v)
{
	return onnxpass_shapes_dtype(c->shapes, v);
}

static int in_type(struct conv *c, struct onnxpass_node *n, size_t i)
{
	return i < onnxpass_node_input_count(n) ? vtype(c, onnxpass_node_input_value(n, i)) : 0;
}

/* ------------------------------------------------------------------ */
/* Slots: one per float value that some node reads or a graph output is */

static struct slot *slot_of(struct conv *c, struct onnxpass_value *v)
{
	int k = mark(&c->slots, v);

	if (k)
		return &c->sl[k - 1];
	if (c->n_sl == c->cap_sl) {
		size_t cap = c->cap_sl ? c->cap_sl * 2 : 256;
		struct slot *s = realloc(c->sl, cap * sizeof(*s));

		if (!s)
			return NULL;
		c->sl = s;
		c->cap_sl = cap;
	}
	c->sl[c->n_sl] = (struct slot){ .v = v };
	if (set_mark(&c->slots, v, (int)c->n_sl + 1))
		return NULL;
	return &c->sl[c->n_sl++];
}

/* Name of v in the wanted precision, adding a Cast the first time. */
static const char *form(struct conv *c, struct slot *s, bool half)
{
	const char **have = half ? &s->n16 : &s->n32;
	const char *src = half ? s->n32 : s->n16, *nn;
	struct onnxpass_node *cast;

	if (*have)
		return *have;
	nn = onnxpass_graph_fresh_name(c->g, onnxpass_value_name(s->v), half ? "_fp16" : "_fp32");
	if (!nn)
		return NULL;
	cast = onnxpass_graph_add_node(c->g, "Cast", "", nn, &src, 1, &nn, 1);
	if (!cast || onnxpass_node_set_attr_int(cast, "to", half ? ONNXPASS_DT_FLOAT16 : ONNXPASS_DT_FLOAT))
		return NULL;
	c->st->casts++;
	*have = nn;
	return nn;
}

/* ------------------------------------------------------------------ */
/* Weights                                                             */

struct range {
	int64_t over, under;
	float peak;
};

static void scan(const float *w, int64_t n, struct range *r)
{
	for (int64_t i = 0; i < n; i++) {
		float a = fabsf(w[i]);

		if (a > F16_MAX && isfinite(a)) {
			r->over++;
			if (a > r->peak)
				r->peak = a;
		} else if (a > 0 && a < F16_TINY) {
			r->under++;
		}
	}
}

/* The float16 copy of a float32 tensor (clamped when the policy says so;
 * otherwise nothing out of range reaches here). */
static struct onnxpass_tensor *to_half(struct onnxpass_tensor *t, const char *name)
{
	size_t rank = onnxpass_tensor_rank(t);
	int64_t dims[16], n = onnxpass_tensor_numel(t);
	const float *w = onnxpass_tensor_data_aligned(t);
	struct onnxpass_tensor *h;
	uint16_t *d;

	if (rank > 16 || (!w && n))
		return NULL;
	for (size_t i = 0; i < rank; i++)
		dims[i] = onnxpass_tensor_dim(t, i);
	h = onnxpass_tensor_new(name, ONNXPASS_DT_FLOAT16, rank, dims);
	d = h && n ? onnxpass_tensor_mutable_data(h) : NULL;
	if (!h || (n && !d)) {
		onnxpass_tensor_free(h);
		return NULL;
	}
	for (int64_t i = 0; i < n; i++) {
		float x = w[i];

		if (isfinite(x) && fabsf(x) > F16_MAX)
			x = x > 0 ? F16_MAX : -F16_MAX;
		d[i] = onnxpass_f32_to_f16(x);
	}
	onnxpass_tensor_drop_pages(t);
	onnxpass_tensor_set_storage(h, onnxpass_tensor_storage(t));
	return h;
}

/* Checks a float32 tensor; true when it may become float16. */
static bool check_range(struct conv *c, struct onnxpass_tensor *t, const char *what,
			const char *name)
{
	struct range r = { 0 };
	const float *w = onnxpass_tensor_data_aligned(t);

	if (!w)
		return onnxpass_tensor_numel(t) == 0;
	scan(w, onnxpass_tensor_numel(t), &r);
	c->st->underflow += r.under;
	if (!r.over)
		return true;
	c->st->out_of_range++;
	if (!c->over++)
		snprintf(c->first, sizeof(c->first), "%s '%s'", what, name);
	onnxpass_log(c->ctx, ONNXPASS_LOG_WARN,
		     "%s '%s': %lld value(s) outside float16 range (largest magnitude %g)%s", what,
		     name, (long long)r.over, (double)r.peak,
		     c->o->out_of_range == ONNXPASS_FP16_CLAMP ? ": clamped to +-65504" :
		     c->o->out_of_range == ONNXPASS_FP16_KEEP ? ": kept in float32" : "");
	return c->o->out_of_range == ONNXPASS_FP16_CLAMP;
}

/* ------------------------------------------------------------------ */
/* Colouring                                                           */

static bool float_node(struct conv *c, struct onnxpass_node *n)
{
	for (size_t i = 0; i < onnxpass_node_input_count(n); i++)
		if (in_type(c, n, i) == ONNXPASS_DT_FLOAT)
			return true;
	for (size_t i = 0; i < onnxpass_node_output_count(n); i++)
		if (vtype(c, onnxpass_node_output_value(n, i)) == ONNXPASS_DT_FLOAT)
			return true;
	return false;
}

static bool read_by_subgraph(struct onnxpass_value *v)
{
	int idx;

	for (size_t u = 0; v && u < onnxpass_value_use_count(v); u++)
		if (onnxpass_value_use(v, u, &idx) && idx < 0)
			return true;
	return false;
}

/* Float16-able by itself; the weights it reads are checked by the caller. */
static bool may_be_half(struct conv *c, struct onnxpass_node *n)
{

	if (blocked_op(c, n) || onnxpass_node_subgraph_count(n))
		return false;
	for (size_t i = 0; i < c->o->n_exclude; i++)
		if (onnxpass_glob_match(c->o->exclude[i], onnxpass_node_name(n)))
			return false;
	if (onnxpass_node_is(n, NULL, "Constant") &&
	    onnxpass_node_attr_type(n, "value") != ONNXPASS_ATTR_TENSOR)
		return false;
	for (size_t i = 0; i < onnxpass_node_output_count(n); i++)
		if (read_by_subgraph(onnxpass_node_output_value(n, i)))
			return false;
	return true;
}

/* The float initializer input i of n that a caller cannot override. */
static struct onnxpass_tensor *weight(struct conv *c, struct onnxpass_node *n, size_t i)
{
	struct onnxpass_value *v = onnxpass_node_input_value(n, i);
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

	if (!t || onnxpass_value_is_graph_input(v) || onnxpass_value_graph(v) != c->g ||
	    onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT)
		return NULL;
	return t;
}

/* checked: initializers (and Constant outputs) -> 1 fits, 2 out of range */
static int colour(struct conv *c, struct ptrmap *checked)
{
	size_t count = onnxpass_graph_node_count(c->g);

	for (size_t i = 0; i < count; i++) {
		struct onnxpass_node *n = onnxpass_graph_node(c->g, i);
		bool half;

		if (!float_node(c, n))
			continue;
		half = may_be_half(c, n);
		for (size_t k = 0; half && k < onnxpass_node_input_count(n); k++) {
			struct onnxpass_tensor *t = weight(c, n, k);
			int ok;

			if (fixed_input(n, k))
				continue;
			/* an out-of-range Constant's readers stay float32 too:
			 * a Cast would turn it into infinity */
			if (mark(checked, onnxpass_node_input_value(n, k)) == 2)
				half = false;
			if (!t)
				continue;
			ok = mark(checked, t);
			if (!ok) {
				ok = check_range(c, t, "weight", onnxpass_tensor_name(t)) ? 1 : 2;
				if (set_mark(checked, t, ok))
					return ONNXPASS_ENOMEM;
			}
			half = ok == 1;
		}
		if (half && onnxpass_node_is(n, NULL, "Constant") &&
		    !check_range(c, onnxpass_node_attr_tensor(n, "value"), "Constant",
				 onnxpass_node_output(n, 0))) {
			half = false;
			if (set_mark(checked, onnxpass_node_output_value(n, 0), 2))
				return ONNXPASS_ENOMEM;
		}
		if (set_mark(&c->nodes, n, half ? 1 : 2))
			return ONNXPASS_ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rewriting                                                           */

static int half_attrs(struct conv *c, struct onnxpass_node *n)
{
	int64_t to;

	if (onnxpass_node_is(n, NULL, "Cast") && !onnxpass_node_attr_int(n, "to", &to) &&
	    to == ONNXPASS_DT_FLOAT)
		return onnxpass_node_set_attr_int(n, "to", ONNXPASS_DT_FLOAT16);
	if (onnxpass_node_is(n, NULL, "ConstantOfShape") || onnxpass_node_is(n, NULL, "Constant")) {
		struct onnxpass_tensor *t = onnxpass_node_attr_tensor(n, "value"), *h;
		int64_t one = 1;

		if (t && onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT)
			return 0;
		/* ConstantOfShape's default value is a float32 zero; a new
		 * tensor's bytes are zero, which is float16 zero too */
		h = t ? to_half(t, onnxpass_tensor_name(t)) :
			onnxpass_tensor_new("", ONNXPASS_DT_FLOAT16, 1, &one);
		if (!h)
			return ONNXPASS_ENOMEM;
		c->st->tensors++;
		return onnxpass_node_set_attr_tensor(n, "value", h);
	}
	return 0;
}

/* Inputs of n in the precision n computes in. */
static int wire_inputs(struct conv *c, struct onnxpass_node *n, bool half)
{
	for (size_t i = 0; i < onnxpass_node_input_count(n); i++) {
		struct onnxpass_value *v = onnxpass_node_input_value(n, i);
		struct slot *s;
		bool want = half && !fixed_input(n, i);
		const char *name;

		if (!v || vtype(c, v) != ONNXPASS_DT_FLOAT || onnxpass_value_graph(v) != c->g)
			continue;
		s = slot_of(c, v);
		if (!s)
			return ONNXPASS_ENOMEM;
		name = form(c, s, want);
		if (!name)
			return ONNXPASS_ENOMEM;
		if (strcmp(name, onnxpass_node_input(n, i)) && onnxpass_node_set_input(n, i, name))
			return ONNXPASS_ENOMEM;
	}
	return 0;
}

/* Decides the stored precision of each float value: produced by a float16
 * node, a weight every reader of which is float16, or (without
 * keep_io_types) a graph input. */
static int place(struct conv *c, struct ptrmap *checked)
{
	size_t count = onnxpass_graph_node_count(c->g);

	for (size_t i = 0; i < onnxpass_graph_input_count(c->g); i++) {
		struct onnxpass_value *v = onnxpass_graph_input(c->g, i);
		struct slot *s;

		if (onnxpass_value_dtype(v) != ONNXPASS_DT_FLOAT || onnxpass_value_initializer(v))
			continue;
		if (!(s = slot_of(c, v)))
			return ONNXPASS_ENOMEM;
		s->half = !c->o->keep_io_types;
		if (s->half && onnxpass_value_set_dtype(v, ONNXPASS_DT_FLOAT16))
			return ONNXPASS_EINVAL;
		*(s->half ? &s->n16 : &s->n32) = onnxpass_value_name(v);
	}
	for (size_t i = 0; i < onnxpass_graph_initializer_count(c->g); i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(c->g, i);
		struct onnxpass_value *v = onnxpass_graph_value(c->g, onnxpass_tensor_name(t));
		bool all_half = v && onnxpass_value_use_count(v) > 0 && !onnxpass_value_is_graph_output(v);
		struct slot *s;
		int idx;

		if (!v || onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT || onnxpass_value_is_graph_input(v))
			continue;
		for (size_t u = 0; all_half && u < onnxpass_value_use_count(v); u++) {
			struct onnxpass_node *r = onnxpass_value_use(v, u, &idx);

			all_half = idx >= 0 && mark(&c->nodes, r) == 1 && !fixed_input(r, (size_t)idx);
		}
		all_half = all_half && mark(checked, t) == 1;
		if (!(s = slot_of(c, v)))
			return ONNXPASS_ENOMEM;
		s->half = all_half;
		*(all_half ? &s->n16 : &s->n32) = onnxpass_value_name(v);
	}
	for (size_t i = 0; i < count; i++) {
		struct onnxpass_node *n = onnxpass_graph_node(c->g, i);
		bool half = mark(&c->nodes, n) == 1;

		for (size_t k = 0; k < onnxpass_node_output_count(n); k++) {
			struct onnxpass_value *o = onnxpass_node_output_value(n, k);
			struct slot *s;

			if (!o || vtype(c, o) != ONNXPASS_DT_FLOAT)
				continue;
			if (!(s = slot_of(c, o)))
				return ONNXPASS_ENOMEM;
			s->half = half && !fixed_output(n, k);
			*(s->half ? &s->n16 : &s->n32) = onnxpass_value_name(o);
		}
	}
	return 0;
}

/* A float16 graph output that must stay float32: its producer writes a
 * new name and a Cast restores the old one. */
static int keep_output(struct conv *c, struct slot *s)
{
	int k;
	struct onnxpass_node *p = onnxpass_value_producer(s->v, &k);
	const char *name = onnxpass_value_name(s->v), *h;
	struct onnxpass_node *cast;

	if (!p)
		return 0;	/* a converted weight is never an output */
	h = onnxpass_graph_fresh_name(c->g, name, "_fp16");
	if (!h || onnxpass_node_set_output(p, (size_t)k, h))
		return ONNXPASS_ENOMEM;
	s->n16 = h;
	s->n32 = name;
	cast = onnxpass_graph_add_node(c->g, "Cast", "", h, &h, 1, &name, 1);
	if (!cast || onnxpass_node_set_attr_int(cast, "to", ONNXPASS_DT_FLOAT))
		return ONNXPASS_ENOMEM;
	c->st->casts++;
	return 0;
}

static int rewrite(struct conv *c)
{
	size_t count = onnxpass_graph_node_count(c->g);
	struct onnxpass_node **nodes = onnxpass_graph_nodes(c->g, &count);
	int rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	/* outputs first: a reader of a renamed output must see the new name */
	for (size_t i = 0; i < c->n_sl && !rc; i++) {
		struct slot *s = &c->sl[i];

		if (s->half && c->o->keep_io_types && onnxpass_value_is_graph_output(s->v))
			rc = keep_output(c, s);
		else if (s->half && onnxpass_value_is_graph_output(s->v) &&
			 onnxpass_value_set_dtype(s->v, ONNXPASS_DT_FLOAT16))
			rc = ONNXPASS_EINVAL;
	}
	for (size_t i = 0; i < count && !rc; i++) {
		int col = mark(&c->nodes, nodes[i]);

		if (!col)
			continue;
		rc = wire_inputs(c, nodes[i], col == 1);
		if (!rc && col == 1) {
			rc = half_attrs(c, nodes[i]);
			c->st->converted++;
		} else {
			c->st->kept++;
		}
	}
	free(nodes);
	return rc;
}

/* Converted weights replace their float32 originals; declared types of
 * float16 values follow. */
static int finish(struct conv *c)
{
	for (size_t i = 0; i < c->n_sl; i++) {
		struct slot *s = &c->sl[i];
		struct onnxpass_tensor *t = onnxpass_value_initializer(s->v), *h;

		if (!s->half)
			continue;
		if (t && onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT) {
			int rc;

			h = to_half(t, onnxpass_tensor_name(t));
			if (!h || onnxpass_graph_replace_initializer(c->g, h)) {
				onnxpass_tensor_free(h);
				return ONNXPASS_ENOMEM;
			}
			/* out of memory until the save reads it back */
			if (onnxpass_tensor_nbytes(h) >= SPILL_MIN_BYTES && (rc = onnxpass_ctx_spill(c->ctx, h)))
				return rc;
			c->st->tensors++;
		} else if (!onnxpass_value_is_graph_output(s->v)) {
			onnxpass_value_set_dtype(s->v, ONNXPASS_DT_FLOAT16);
		}
	}
	return onnxpass_graph_toposort(c->g);
}

int onnxpass_model_to_fp16(struct onnxpass_model *m, struct onnxpass_ctx *ctx,
			   const struct onnxpass_fp16_options *o, struct onnxpass_fp16_stats *st)
{
	struct conv c = { .ctx = ctx, .o = o, .m = m, .g = m ? onnxpass_model_graph(m) : NULL, .st = st };
	size_t cap;
	struct ptrmap checked;
	int rc;

	if (!m || !ctx || !o || !st || o->struct_size < sizeof(*o))
		return ONNXPASS_EINVAL;
	if ((rc = onnxpass_graph_toposort(c.g)))
		return rc;
	cap = onnxpass_graph_node_count(c.g) * 4 + onnxpass_graph_initializer_count(c.g) +
	      onnxpass_graph_input_count(c.g) + 16;
	ptrmap_init(&c.nodes);
	ptrmap_init(&c.slots);
	ptrmap_init(&checked);
	c.shapes = onnxpass_shapes_infer(c.g, NULL, NULL, 0);
	if (!c.shapes || ptrmap_reserve(&c.nodes, cap) || ptrmap_reserve(&c.slots, cap) ||
	    ptrmap_reserve(&checked, cap))
		rc = ONNXPASS_ENOMEM;
	if (!rc)
		rc = colour(&c, &checked);
	if (!rc && c.over && o->out_of_range == ONNXPASS_FP16_ERROR)
		rc = onnxpass_ctx_fail(ctx, ONNXPASS_EUNSUPPORTED,
				       "%s has values outside float16 range (%lld such tensor(s); "
				       "out_of_range = keep or clamp converts anyway)",
				       c.first, (long long)c.over);
	if (!rc)
		rc = place(&c, &checked);
	if (!rc)
		rc = rewrite(&c);
	if (!rc)
		rc = finish(&c);
	free(c.sl);
	onnxpass_shapes_free(c.shapes);
	ptrmap_release(&c.nodes);
	ptrmap_release(&c.slots);
	ptrmap_release(&checked);
	return rc;
}
