/* SPDX-License-Identifier: MIT */
/* `onnxpass info --memory MODEL|FOLDER... [--dim NAME=N ...]`: what ONNX
 * Runtime (CPU) will hold in resident memory for a bundle, estimated from
 * the files and the sizes given, so an app can preview a model's RAM before
 * downloading it.  Per model:
 *  - weights_resident_bytes: each initializer's bytes times what ORT makes
 *    of them, by class and place (measured with onnxruntime-node 1.30, one
 *    thread; t/ort-memory.js measures it again):
 *      table (read only as the data of Gathers) in external data: 0
 *        (mapped; only the rows looked up are read), inline: 1x;
 *      GatherBlockQuantized blocks, scales and zero points: 1x (its first
 *        run reads the whole table, mapped or not);
 *      MatMulNBits weights (ORT repacks them at load), a tied table read
 *        by both included: external 1.2x, inline 1.9x (the protobuf's bytes
 *        stay beside the packed copy);
 *      other weights: external 1x (read or packed at load), inline 1.1x;
 *  - kv_cache_bytes: the cache inputs (rank-4 float graph inputs: past
 *    keys and values, self- and cross-attention) at the given sizes, and
 *    kv_cache_bytes_per_token: what one more token of the growing ones
 *    (the first input of a Concat, or a GroupQueryAttention or
 *    MultiHeadAttention past) adds;
 *  - activation_peak_bytes: the largest sum of intermediate values alive at
 *    once, in the node order, on the shapes the dims give;
 *  - total_bytes: weights + the KV cache fed in + activations (the
 *    present coming out is one of them) + what a session's first run adds
 *    on its own (SESSION_BYTES: kernels' scratch and thread-local
 *    buffers).  Subgraphs (If, Loop) are not walked: a model with them is
 *    not exact.
 * ORT's own runtime (library, allocators, thread pool) adds about
 * RUNTIME_BYTES once per process.  The factors and constants are what
 * onnxruntime-node 1.30 does on x86-64 (make bench-full compares).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "json.h"

#define RUNTIME_BYTES (26ull << 20)
#define SESSION_BYTES (3ull << 20)

/* ORT's resident bytes per stored byte, by class: [class][external?], in
 * hundredths */
enum { C_TABLE, C_NBITS, C_OTHER, C_BLOCKS };
static const unsigned coeff[4][2] = { { 100, 0 }, { 190, 120 }, { 110, 100 }, { 100, 100 } };

/* A small open-addressing map of value -> its bytes and remaining reads
 * (-1: a graph output, alive to the end). */
struct live {
	const void **key;
	int64_t *left;
	uint64_t *bytes;
	size_t cap;
};

/* The slot of k, or an empty one; the table holds at most half its
 * capacity (every node output of the graph), so one is always found. */
static size_t slot(const struct live *l, const void *k)
{
	size_t h = ((uintptr_t)k >> 4) * 0x9e3779b97f4a7c15ULL;

	for (h &= l->cap - 1; l->key[h] && l->key[h] != k; h = (h + 1) & (l->cap - 1))
		;
	return h;
}



/* A MatMulNBits's weights are repacked at load even where a Gather reads
 * the same bytes (a tied table stored once): that class wins. */
static int class_of(struct onnxpass_value *v)
{
	int cls = C_OTHER;
	bool other = false;	/* read by something else than a Gather too */

	for (size_t i = 0; i < onnxpass_value_use_count(v); i++) {
		int k;
		struct onnxpass_node *n = onnxpass_value_use(v, i, &k);

		if (n && onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "MatMulNBits") && k >= 1)
			return C_NBITS;
		if (n && onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "GatherBlockQuantized"))
			cls = C_BLOCKS;
		else if (n && onnxpass_node_is(n, "", "Gather") && k == 0 && cls != C_BLOCKS)
			cls = C_TABLE;
		else
			other = true;
	}
	/* a float table also read through a Transpose (a tied lm_head) is
	 * read whole at load */
	return cls == C_TABLE && other ? C_OTHER : cls;
}

/* Bytes of v on the bound shapes; -1 when unknown.  axis >= 0: with
 * that axis counted as 1 (one token of a cache). */
static int64_t value_bytes(const struct onnxpass_shapes *sh, struct onnxpass_value *v, int axis)
{
	int64_t d[ONNXPASS_MAX_RANK], n = 1, r;
	int rank = onnxpass_shapes_get(sh, v, d, ONNXPASS_MAX_RANK);
	int bits = onnxpass_dtype_bits(onnxpass_shapes_dtype(sh, v));

	if (rank < 0 || rank > ONNXPASS_MAX_RANK || bits <= 0)
		return -1;
	for (int i = 0; i < rank; i++) {
		int64_t x = i == axis ? 1 : d[i];

		if (x < 0 || __builtin_mul_overflow(n, x, &r))
			return -1;
		n = r;
	}
	return __builtin_mul_overflow(n, (int64_t)bits, &r) ? -1 : (r + 7) / 8;
}

/* The axis along which graph input v grows by one token a step, or -1. */
static int growing_axis(struct onnxpass_value *v)
{
	for (size_t i = 0; i < onnxpass_value_use_count(v); i++) {
		int k;
		struct onnxpass_node *n = onnxpass_value_use(v, i, &k);
		int64_t axis = 0;

		if (!n)
			continue;
		if (onnxpass_node_is(n, "", "Concat") && k == 0 && !onnxpass_node_attr_int(n, "axis", &axis))
			return axis < 0 ? (int)axis + 4 : (int)axis;
		if ((onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "GroupQueryAttention") && (k == 3 || k == 4)) ||
		    (onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "MultiHeadAttention") && (k == 6 || k == 7)))
			return 2;
	}
	return -1;
}

static void add_to(uint64_t *x, int64_t b, bool *exact)
{
	if (b < 0)
		*exact = false;
	else
		*x = sat_add(*x, (uint64_t)b);
}

static int estimate(struct onnxpass_model *m, const char *const *names, const int64_t *values, size_t n,
		    struct mem_est *e)
{
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	struct onnxpass_shapes *sh;
	struct live l = { 0 };
	size_t nn = onnxpass_graph_node_count(g);
	uint64_t alive = 0;

	memset(e, 0, sizeof(*e));
	e->exact = true;
	e->sessions = 1;
	e->file = model_disk_bytes(m);
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));
		bool ext = onnxpass_tensor_is_external(t);
		uint64_t b = onnxpass_tensor_nbytes(t);

		if (!v || !onnxpass_value_use_count(v))
			continue;
		e->weights = sat_add(e->weights, b / 100 * coeff[class_of(v)][ext] + b % 100 * coeff[class_of(v)][ext] / 100);
		if (ext)
			e->mapped += b;
	}
	if (onnxpass_graph_toposort(g))
		return ONNXPASS_EINVAL;
	sh = onnxpass_shapes_infer(g, names, values, n);
	if (!sh)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < onnxpass_graph_input_count(g); i++) {
		struct onnxpass_value *v = onnxpass_graph_input(g, i);
		int64_t d[ONNXPASS_MAX_RANK];
		int axis, dt = onnxpass_shapes_dtype(sh, v);

		if (onnxpass_value_initializer(v) || onnxpass_shapes_get(sh, v, d, ONNXPASS_MAX_RANK) != 4 ||
		    (dt != ONNXPASS_DT_FLOAT && dt != ONNXPASS_DT_FLOAT16 && dt != ONNXPASS_DT_BFLOAT16))
			continue;
		add_to(&e->kv, value_bytes(sh, v, -1), &e->exact);
		if ((axis = growing_axis(v)) >= 0)
			add_to(&e->kv_token, value_bytes(sh, v, axis), &e->exact);
	}
	/* liveness in node order: a value lives from its producer to its last
	 * reader (graph outputs to the end); the map holds every node output */
	{
		size_t outs = 0;

		for (size_t i = 0; i < nn; i++) {
			outs += onnxpass_node_output_count(onnxpass_graph_node(g, i));
			if (onnxpass_node_subgraph_count(onnxpass_graph_node(g, i)))
				e->exact = false;	/* subgraphs are not walked */
		}
		for (l.cap = 64; l.cap < 2 * outs + 64; l.cap *= 2)
			;
	}
	l.key = calloc(l.cap, sizeof(*l.key));
	l.left = calloc(l.cap, sizeof(*l.left));
	l.bytes = calloc(l.cap, sizeof(*l.bytes));
	if (!l.key || !l.left || !l.bytes) {
		free(l.key);
		free(l.left);
		free(l.bytes);
		onnxpass_shapes_free(sh);
		return ONNXPASS_ENOMEM;
	}
	for (size_t i = 0; i < nn; i++) {
		struct onnxpass_node *nd = onnxpass_graph_node(g, i);

		for (size_t k = 0; k < onnxpass_node_output_count(nd); k++) {
			struct onnxpass_value *v = onnxpass_node_output_value(nd, k);
			int64_t b = v ? value_bytes(sh, v, -1) : 0;
			size_t s;

			if (!v)
				continue;
			if (b < 0) {
				e->exact = false;
				continue;
			}
			alive = sat_add(alive, (uint64_t)b);
			s = slot(&l, v);
			l.key[s] = v;
			l.bytes[s] = (uint64_t)b;
			l.left[s] = onnxpass_value_is_graph_output(v) ? -1 : (int64_t)onnxpass_value_use_count(v);
		}
		if (alive > e->act)
			e->act = alive;
		/* outputs nobody reads go after the peak; inputs after their last read */
		for (size_t k = 0; k < onnxpass_node_output_count(nd); k++) {
			struct onnxpass_value *v = onnxpass_node_output_value(nd, k);
			size_t s = v ? slot(&l, v) : 0;

			if (v && l.key[s] == v && l.left[s] == 0)
				alive -= l.bytes[s];
		}
		for (size_t k = 0; k < onnxpass_node_input_count(nd); k++) {
			struct onnxpass_value *v = onnxpass_node_input_value(nd, k);
			size_t s = v ? slot(&l, v) : 0;

			if (v && l.key[s] == v && l.left[s] > 0 && --l.left[s] == 0)
				alive -= l.bytes[s];
		}
	}
	free(l.bytes);
	free(l.key);
	free(l.left);
	onnxpass_shapes_free(sh);
	return 0;
}

/* The .onnx files of each argument (a file, or a folder's *.onnx). */
static int collect(char *const *args, size_t n_args, char ***files, size_t *n, char *err, size_t errlen)
{
	size_t cap = 0;

	*files = NULL;
	*n = 0;
	for (size_t i = 0; i < n_args; i++) {
		struct stat st;
		char **names = NULL;
		size_t k = 0;

		if (stat(args[i], &st) || !S_ISDIR(st.st_mode)) {
			if (grow(files, &cap, *n + 1, sizeof(char *)) || !((*files)[*n] = strdup(args[i])))
				return ONNXPASS_ENOMEM;
			(*n)++;
			continue;
		}
		if (list_dir(args[i], ".onnx", &names, &k)) {
			set_err(err, errlen, "cannot read folder '%s'", args[i]);
			return ONNXPASS_EIO;
		}
		for (size_t j = 0; j < k; j++) {
			if (grow(files, &cap, *n + 1, sizeof(char *)) || !((*files)[*n] = path_join(args[i], names[j]))) {
				free_names(names, k);
				return ONNXPASS_ENOMEM;
			}
			(*n)++;
		}
		free_names(names, k);
		if (!k) {
			set_err(err, errlen, "folder '%s' holds no .onnx file", args[i]);
			return ONNXPASS_ENOTFOUND;
		}
	}
	return 0;
}

int memory_estimate_file(const char *path, const char *const *names, const int64_t *values, size_t n_bind,
			 struct mem_est *e, char *err, size_t errlen)
{
	struct onnxpass_model *m;
	int rc = onnxpass_model_load(path, &m, err, errlen);

	if (rc)
		return rc;
	rc = estimate(m, names, values, n_bind, e);
	onnxpass_model_free(m);
	if (rc)
		set_err(err, errlen, "cannot estimate the memory of '%s': %s", path, onnxpass_strerror(rc));
	return rc;
}

/* see the head of the file; n sessions' worth of SESSION_BYTES in x */
static uint64_t total_of(const struct mem_est *x, bool with_runtime)
{
	uint64_t t = sat_add(sat_add(x->weights, x->kv), x->act);

	return sat_add(t, x->sessions * SESSION_BYTES + (with_runtime ? RUNTIME_BYTES : 0));
}

/* tot += x, term by term */
static void mem_add(struct mem_est *tot, const struct mem_est *x)
{
	tot->file = sat_add(tot->file, x->file);
	tot->weights = sat_add(tot->weights, x->weights);
	tot->mapped = sat_add(tot->mapped, x->mapped);
	tot->kv = sat_add(tot->kv, x->kv);
	tot->kv_token = sat_add(tot->kv_token, x->kv_token);
	tot->act = sat_add(tot->act, x->act);
	tot->sessions = sat_add(tot->sessions, x->sessions);
	tot->exact &= x->exact;
}

static void mem_fields(struct jw *w, const struct mem_est *x, bool total)
{
	jw_uint(w, "file_bytes", x->file);
	jw_uint(w, "weights_resident_bytes", x->weights);
	jw_uint(w, "weights_mapped_bytes", x->mapped);
	jw_uint(w, "kv_cache_bytes", x->kv);
	jw_uint(w, "kv_cache_bytes_per_token", x->kv_token);
	jw_uint(w, "activation_peak_bytes", x->act);
	if (total)
		jw_uint(w, "runtime_bytes", RUNTIME_BYTES);
	jw_uint(w, "total_bytes", total_of(x, total));
	jw_bool(w, "exact", x->exact);
}

void memory_json(struct jw *w, const char *const *files, const char *const *roles, const struct mem_est *e, size_t n,
		 const char *const *names, const int64_t *values, size_t n_bind)
{
	struct mem_est tot = { .exact = true };

	jw_object(w, "dims");
	for (size_t i = 0; i < n_bind; i++)
		jw_int(w, names[i], values[i]);
	jw_end(w);
	jw_array(w, "models");
	for (size_t i = 0; i < n; i++) {
		jw_object(w, NULL);
		if (roles)
			jw_str(w, "role", roles[i]);
		jw_str(w, "file", files[i]);
		mem_fields(w, &e[i], false);
		jw_end(w);
		mem_add(&tot, &e[i]);
	}
	jw_end(w);
	jw_object(w, "total");
	mem_fields(w, &tot, true);
	jw_end(w);
}

int info_memory(char *const *args, size_t n_args, const char *const *names, const int64_t *values, size_t n_bind,
		bool json, FILE *out, char *err, size_t errlen)
{
	char **files = NULL, hb[6][32];
	size_t n = 0;
	struct mem_est *e = NULL, tot = { .exact = true };
	int rc = collect(args, n_args, &files, &n, err, errlen);

	if (!rc && !(e = calloc(n ? n : 1, sizeof(*e))))
		rc = ONNXPASS_ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = memory_estimate_file(files[i], names, values, n_bind, &e[i], err, errlen);
		mem_add(&tot, &e[i]);
	}
	if (rc)
		goto out;
	if (json) {
		struct jw w;

		jw_init(&w, out, false);
		jw_object(&w, NULL);
		memory_json(&w, (const char *const *)files, NULL, e, n, names, values, n_bind);
		jw_finish(&w);
		goto out;
	}
	fprintf(out, "memory estimate (ONNX Runtime, CPU)");
	for (size_t i = 0; i < n_bind; i++)
		fprintf(out, "%s %s=%lld", i ? "," : " with", names[i], (long long)values[i]);
	fprintf(out, "\n  %-36s %11s %11s %11s %11s %11s %11s\n", "model", "file", "weights", "KV cache", "KV/token",
		"activations", "total");
	for (size_t i = 0; i <= n; i++) {
		const struct mem_est *x = i < n ? &e[i] : &tot;
		uint64_t total = total_of(x, i == n);

		fprintf(out, "  %-36.36s %11s %11s %11s %11s %11s %11s\n",
			i < n ? path_base(files[i]) : "total, with ORT's runtime once", human_bytes(x->file, hb[0], 32),
			human_bytes(x->weights, hb[1], 32), human_bytes(x->kv, hb[2], 32),
			human_bytes(x->kv_token, hb[3], 32), human_bytes(x->act, hb[4], 32), human_bytes(total, hb[5], 32));
	}
	if (!tot.exact)
		fprintf(out, "  sizes left unbound count as 0 (a lower bound): give them with --dim "
			     "(info --profile names them)\n");
out:
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(e);
	return rc;
}
