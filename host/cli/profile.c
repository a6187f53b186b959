/* SPDX-License-Identifier: MIT */
/* `onnxpass info --profile MODEL [--dim NAME=N ...]`: parameters,
 * multiply-accumulates and activation memory per op type and in total,
 * on the shapes onnxpass_shapes_infer derives (symbolic dims bound with
 * --dim; what stays symbolic is reported, not guessed).
 *
 * MACs: MatMul, MatMulInteger, MatMulNBits and Gemm count M*N*K, Conv
 * counts output elements times the weight's elements per output channel;
 * every other op that computes counts one per output element, and ops that
 * only move or reshape data count none.  Activations: the bytes of every
 * node output (the sum, not the peak).  Parameters: each initializer once,
 * under the op type of its first reader.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "json.h"

struct row {
	char key[128];
	uint64_t nodes, params, macs, act;
	bool macs_unknown, act_unknown;
};

struct prof {
	struct row *rows;
	size_t n, cap;
	struct onnxpass_shapes *sh;
	uint64_t unknown_nodes;
	char first_unknown[3][160];	/* where sizes first go unknown */
	char **syms;	/* symbols left in the shapes, by name */
	size_t n_syms, cap_syms;
	bool oom;
};

/* Ops that only move, select or reshape data. */
static const char *const movers[] = {
	"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Concat", "Split", "Slice",
	"Gather", "GatherElements", "GatherND", "Shape", "Size", "Identity", "Expand", "Tile",
	"Constant", "ConstantOfShape", "Range", "Cast", "Dropout", "Pad", "ScatterND",
	"ScatterElements", "NonZero", "Where", "Trilu", "DequantizeLinear", "QuantizeLinear", NULL
};

static struct row *row_of(struct prof *p, const char *domain, const char *op)
{
	char key[128];

	snprintf(key, sizeof(key), "%s%s%s", domain, *domain ? ":" : "", op);
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->rows[i].key, key))
			return &p->rows[i];
	if (grow(&p->rows, &p->cap, p->n + 1, sizeof(*p->rows))) {
		p->oom = true;
		return NULL;
	}
	memset(&p->rows[p->n], 0, sizeof(p->rows[p->n]));
	snprintf(p->rows[p->n].key, sizeof(p->rows[p->n].key), "%s", key);
	return &p->rows[p->n++];
}

static void note_symbol(struct prof *p, int64_t d)
{
	const char *name = onnxpass_shapes_symbol(p->sh, d);

	if (!name)
		return;
	for (size_t i = 0; i < p->n_syms; i++)
		if (!strcmp(p->syms[i], name))
			return;
	if (grow(&p->syms, &p->cap_syms, p->n_syms + 1, sizeof(*p->syms)) ||
	    !(p->syms[p->n_syms] = strdup(name))) {
		p->oom = true;
		return;
	}
	p->n_syms++;
}

/* a * b for counts; -1 (unknown) when either is or the product
 * overflows: a graph of 2^186 elements is not counted as 0 */
static int64_t mul(int64_t a, int64_t b)
{
	int64_t r;

	return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) ? -1 : r;
}


/* Element count of v, -1 if any dim is unknown or symbolic. */
static int64_t numel(struct prof *p, struct onnxpass_value *v, int64_t *dims, int *rank)
{
	int64_t d[ONNXPASS_MAX_RANK], n = 1;
	int r = v ? onnxpass_shapes_get(p->sh, v, d, ONNXPASS_MAX_RANK) : -1;

	if (rank)
		*rank = r;
	if (r < 0 || r > ONNXPASS_MAX_RANK)
		return -1;
	for (int i = 0; i < r; i++) {
		if (dims)
			dims[i] = d[i];
		if (d[i] < 0) {
			note_symbol(p, d[i]);
			n = -1;
		} else if (n >= 0) {
			n = mul(n, d[i]);	/* too large to count: unknown */
		}
	}
	return n;
}

/* Multiply-accumulates of n; -1 when a needed size is unknown. */
static int64_t node_macs(struct prof *p, struct onnxpass_node *n)
{
	const char *op = onnxpass_node_op_type(n);
	int64_t out = numel(p, onnxpass_node_output_value(n, 0), NULL, NULL);
	int64_t d[ONNXPASS_MAX_RANK], K;
	int r;

	if (onnxpass_node_is(n, NULL, "MatMul") || onnxpass_node_is(n, NULL, "MatMulInteger") ||
	    onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "DynamicQuantizeMatMul")) {
		if (numel(p, onnxpass_node_input_value(n, 0), d, &r) < 0 || out < 0 || r < 1)
			return -1;
		return mul(out, d[r - 1]);
	}
	if (onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "MatMulNBits"))
		return onnxpass_node_attr_int(n, "K", &K) ? -1 : mul(out, K);
	if (onnxpass_node_is(n, NULL, "Gemm")) {
		int64_t ta = 0;

		onnxpass_node_attr_int(n, "transA", &ta);
		if (numel(p, onnxpass_node_input_value(n, 0), d, &r) < 0 || out < 0 || r != 2)
			return -1;
		return mul(out, d[ta ? 0 : 1]);
	}
	if (onnxpass_node_is(n, NULL, "Conv") || onnxpass_node_is(n, NULL, "ConvInteger")) {
		int64_t w = numel(p, onnxpass_node_input_value(n, 1), d, &r);

		if (w < 0 || out < 0 || r < 1 || d[0] <= 0)
			return -1;
		return mul(out, w / d[0]);
	}
	for (size_t i = 0; movers[i]; i++)
		if (!*onnxpass_node_domain(n) && !strcmp(op, movers[i]))
			return 0;
	return out;
}

/* True for the node (and input slot) an initializer is counted under: its
 * first reader, first slot. */
static bool counts_here(struct onnxpass_node *n, size_t i, struct onnxpass_value *v)
{
	if (onnxpass_value_use_count(v) == 0 || onnxpass_value_use(v, 0, NULL) != n)
		return false;
	for (size_t k = 0; k < i; k++)
		if (onnxpass_node_input_value(n, k) == v)
			return false;
	return true;
}

static void profile_node(struct prof *p, struct onnxpass_node *n)
{
	struct row *r = row_of(p, onnxpass_node_domain(n), onnxpass_node_op_type(n));
	int64_t macs;
	bool unknown = false;

	if (!r)
		return;
	r->nodes++;
	for (size_t i = 0; i < onnxpass_node_input_count(n); i++) {
		struct onnxpass_value *v = onnxpass_node_input_value(n, i);
		struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

		if (t && counts_here(n, i, v))
			r->params = sat_add(r->params, (uint64_t)onnxpass_tensor_numel(t));
	}
	macs = node_macs(p, n);
	if (macs < 0) {
		r->macs_unknown = unknown = true;
	} else {
		r->macs = sat_add(r->macs, (uint64_t)macs);
	}
	for (size_t k = 0; k < onnxpass_node_output_count(n); k++) {
		struct onnxpass_value *v = onnxpass_node_output_value(n, k);
		int64_t e = v ? numel(p, v, NULL, NULL) : 0;
		int bits = v ? onnxpass_dtype_bits(onnxpass_shapes_dtype(p->sh, v)) : 0;

		if (!v)
			continue;
		if (e < 0 || bits <= 0 || (e = mul(e, bits)) < 0 || e > INT64_MAX - 7) {
			r->act_unknown = unknown = true;
			continue;
		}
		r->act = sat_add(r->act, (uint64_t)(e + 7) / 8);
	}
	if (unknown && p->unknown_nodes < 3)
		snprintf(p->first_unknown[p->unknown_nodes], sizeof(p->first_unknown[0]), "%s%s%s '%s'",
			 onnxpass_node_domain(n), *onnxpass_node_domain(n) ? ":" : "", onnxpass_node_op_type(n),
			 onnxpass_node_name(n));
	p->unknown_nodes += unknown;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->macs != y->macs)
		return x->macs < y->macs ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void cell(FILE *out, uint64_t v, bool unknown, bool bytes)
{
	char buf[40], hb[32];

	if (bytes)
		snprintf(buf, sizeof(buf), "%s%s", unknown ? ">=" : "", human_bytes(v, hb, sizeof(hb)));
	else
		snprintf(buf, sizeof(buf), "%s%llu", unknown ? ">=" : "", (unsigned long long)v);
	fprintf(out, " %16s", buf);
}

int info_profile(const char *path, const char *const *names, const int64_t *values, size_t n_bind,
		 bool json, FILE *out, char *err, size_t errlen)
{
	struct onnxpass_model *m;
	struct onnxpass_graph *g;
	struct prof p = { 0 };
	struct row total = { .key = "total" };
	uint64_t nested = 0;
	int rc = onnxpass_model_load(path, &m, err, errlen);

	if (rc)
		return rc;
	g = onnxpass_model_graph(m);
	p.sh = onnxpass_shapes_infer(g, names, values, n_bind);
	if (!p.sh) {
		rc = ONNXPASS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < onnxpass_graph_node_count(g); i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);

		profile_node(&p, n);
		nested += onnxpass_node_subgraph_count(n);
	}
	if (p.oom) {
		rc = ONNXPASS_ENOMEM;
		goto out;
	}
	if (p.n)
		qsort(p.rows, p.n, sizeof(*p.rows), cmp_rows);
	for (size_t i = 0; i < p.n; i++) {
		total.nodes += p.rows[i].nodes;
		total.params = sat_add(total.params, p.rows[i].params);
		total.macs = sat_add(total.macs, p.rows[i].macs);
		total.act = sat_add(total.act, p.rows[i].act);
		total.macs_unknown |= p.rows[i].macs_unknown;
		total.act_unknown |= p.rows[i].act_unknown;
	}
	if (json) {
		struct jw w;

		jw_init(&w, out, false);
		jw_object(&w, NULL);
		jw_str(&w, "model", path);
		jw_object(&w, "dims");
		for (size_t i = 0; i < n_bind; i++)
			jw_int(&w, names[i], values[i]);
		jw_end(&w);
		jw_array(&w, "unbound");
		for (size_t i = 0; i < p.n_syms; i++)
			jw_str(&w, NULL, p.syms[i]);
		jw_end(&w);
		jw_array(&w, "outputs");
		for (size_t i = 0; i < onnxpass_graph_output_count(g); i++) {
			struct onnxpass_value *v = onnxpass_graph_output(g, i);
			int64_t d[ONNXPASS_MAX_RANK];
			int r = onnxpass_shapes_get(p.sh, v, d, ONNXPASS_MAX_RANK);

			jw_object(&w, NULL);
			jw_str(&w, "name", onnxpass_value_name(v));
			if (r < 0 || r > ONNXPASS_MAX_RANK) {
				jw_null(&w, "shape");
			} else {
				jw_array(&w, "shape");
				for (int k = 0; k < r; k++) {
					const char *sym = d[k] < 0 ? onnxpass_shapes_symbol(p.sh, d[k]) : NULL;

					if (d[k] >= 0)
						jw_int(&w, NULL, d[k]);
					else
						jw_str(&w, NULL, sym ? sym : "?");
				}
				jw_end(&w);
			}
			jw_end(&w);
		}
		jw_end(&w);
		jw_object(&w, "ops");
		for (size_t i = 0; i <= p.n; i++) {
			struct row *r = i < p.n ? &p.rows[i] : &total;

			if (i == p.n)
				jw_end(&w);	/* the total follows the ops */
			jw_object(&w, r->key);
			jw_uint(&w, "nodes", r->nodes);
			jw_uint(&w, "params", r->params);
			jw_uint(&w, "macs", r->macs);
			jw_uint(&w, "activation_bytes", r->act);
			jw_bool(&w, "exact", !(r->macs_unknown || r->act_unknown));
			jw_end(&w);
		}
		jw_uint(&w, "unknown_nodes", p.unknown_nodes);
		jw_bool(&w, "nodes_in_subgraphs_not_profiled", nested != 0);
		jw_finish(&w);
	} else {
		fprintf(out, "profile of %s", path);
		for (size_t i = 0; i < n_bind; i++)
			fprintf(out, "%s %s=%lld", i ? "," : " with", names[i], (long long)values[i]);
		fprintf(out, "\n  %-42s %8s %16s %16s %16s\n", "op", "nodes", "params", "MACs", "activations");
		for (size_t i = 0; i <= p.n; i++) {
			struct row *r = i < p.n ? &p.rows[i] : &total;

			fprintf(out, "  %-42s %8llu", r->key, (unsigned long long)r->nodes);
			cell(out, r->params, false, false);
			cell(out, r->macs, r->macs_unknown, false);
			cell(out, r->act, r->act_unknown, true);
			fputc('\n', out);
		}
		if (p.unknown_nodes) {
			fprintf(out, "  %llu node(s) of unknown size (\">=\": a lower bound)",
				(unsigned long long)p.unknown_nodes);
			for (size_t i = 0; i < p.n_syms; i++)
				fprintf(out, "%s%s", i ? ", " : "; bind with --dim: ", p.syms[i]);
			fprintf(out, "\n  first of them:");
			for (int i = 0; i < 3 && (uint64_t)i < p.unknown_nodes; i++)
				fprintf(out, "%s %s", i ? "," : "", p.first_unknown[i]);
			fputc('\n', out);
		}
		if (nested)
			fprintf(out, "  subgraphs (If/Loop/Scan bodies) are not profiled\n");
	}
out:
	for (size_t i = 0; i < p.n_syms; i++)
		free(p.syms[i]);
	free(p.syms);
	free(p.rows);
	onnxpass_shapes_free(p.sh);
	onnxpass_model_free(m);
	return rc;
}
