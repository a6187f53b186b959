/* SPDX-License-Identifier: MIT */
/* quantize: weight-only quantization laid out exactly as ONNX Runtime's
 * quantizer writes it (this file walks the graphs and dispatches to
 * nbits.c, int8.c, gather.c; mode = fp16 is the library's conversion).
 *
 *   MatMul(A, B const [K,N] f32)  ->  com.microsoft MatMulNBits(A, B_Q, scales[, zp])
 *   Gather(T const [V,H] f32, ids) -> Gather(T_quantized u8, ids) -> DequantizeLinear
 *                                  or com.microsoft GatherBlockQuantized (4-bit)
 *   MatMul (mode = dynamic-int8)   -> DynamicQuantizeLinear + MatMulInteger
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantize.h"

/* ------------------------------------------------------------------ */
/* Node selection                                                      */

bool wanted(const struct cfg *c, const char *name)
{
	size_t ni = onnxpass_params_list_count(c->p, "include");
	size_t ne = onnxpass_params_list_count(c->p, "exclude");
	bool in = ni == 0;

	for (size_t i = 0; i < ni && !in; i++)
		in = onnxpass_glob_match(onnxpass_params_list_item(c->p, "include", i), name);
	for (size_t i = 0; i < ne && in; i++)
		in = !onnxpass_glob_match(onnxpass_params_list_item(c->p, "exclude", i), name);
	return in;
}

/* The float initializer input i of n reads (this graph or an enclosing
 * one), unless a caller may override it as a graph input. */
struct onnxpass_tensor *const_input(struct onnxpass_node *n, size_t i, size_t rank)
{
	struct onnxpass_value *v = onnxpass_node_input_value(n, i);
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

	if (!t || onnxpass_value_is_graph_input(v))
		return NULL;
	if (onnxpass_tensor_dtype(t) != ONNXPASS_DT_FLOAT || onnxpass_tensor_rank(t) != rank)
		return NULL;
	return t;
}

/* A weight the pass made leaves memory for the run's scratch file (read
 * back when saved): resident memory stays near one weight. */
int spill(struct state *s, struct onnxpass_tensor *t)
{
	return onnxpass_tensor_nbytes(t) >= (64 << 10) ? onnxpass_ctx_spill(s->ctx, t) : 0;
}

int add_init(struct onnxpass_graph *g, const char *name, int dtype, size_t rank,
		    const int64_t *dims, struct onnxpass_tensor **out)
{
	struct onnxpass_tensor *t = onnxpass_tensor_new(name, dtype, rank, dims);

	if (!t)
		return ONNXPASS_ENOMEM;
	if (onnxpass_graph_add_initializer(g, t)) {
		onnxpass_tensor_free(t);
		return ONNXPASS_EINVAL;
	}
	*out = t;
	return 0;
}

/* Appends m to the weights quantized so far (its copy of B's name freed
 * on failure). */
struct made *keep_made(struct state *s, struct made *m)
{
	struct made *arr = realloc(s->made, (s->n_made + 1) * sizeof(*arr));

	if (!arr) {
		free(m->src);
		return NULL;
	}
	s->made = arr;
	arr[s->n_made] = *m;
	return &arr[s->n_made++];
}

/* ------------------------------------------------------------------ */

/* Whether name is a tensor this pass quantized into g (an embedding's
 * table that no MatMulNBits ended up reading is removed with the rest). */
static bool made_here(const struct state *s, struct onnxpass_graph *g, const char *name)
{
	for (size_t i = 0; i < s->n_made; i++) {
		const struct made *m = &s->made[i];

		if (m->g == g && (!strcmp(m->q, name) || !strcmp(m->scales, name) || (m->zp && !strcmp(m->zp, name))))
			return true;
	}
	return false;
}

static int quantize_graph(struct state *s, struct onnxpass_graph *g)
{
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++) {
		struct onnxpass_node *n = nodes[i];

		if (!s->depth)
			onnxpass_ctx_progress(s->ctx, ++s->done, s->total);
		s->depth++;
		for (size_t k = 0; k < onnxpass_node_subgraph_count(n) && rc >= 0; k++) {
			rc = quantize_graph(s, onnxpass_node_subgraph(n, k));
			changes += rc > 0 ? rc : 0;
		}
		s->depth--;
		if (rc < 0 || onnxpass_node_is_removed(n) || !wanted(&s->c, onnxpass_node_name(n)))
			continue;
		if (onnxpass_node_is(n, NULL, "MatMul") && s->c.dynamic)
			rc = matmul_to_integer(s, g, n);
		else if (onnxpass_node_is(n, NULL, "MatMul") && onnxpass_params_bool(s->c.p, "matmul"))
			rc = matmul_to_nbits(s, g, n);
		else if (onnxpass_node_is(n, NULL, "Gather") && strcmp(s->c.gather, "none"))
			rc = gather_node(s, g, n);
		else
			continue;
		/* the nodes just added (a replacement, a DequantizeLinear after
		 * a Gather, the dynamic int8 chain) are appended; saving places
		 * them before their first reader */
		if (rc > 0)
			changes += rc;
	}
	free(nodes);
	if (rc < 0)
		return rc;
	/* Transposes of weights whose MatMul now reads the quantized table */
	for (size_t i = onnxpass_graph_node_count(g); i-- > 0;) {
		struct onnxpass_node *t = onnxpass_graph_node(g, i);
		struct onnxpass_value *o = onnxpass_node_output_value(t, 0);

		if (onnxpass_node_is(t, NULL, "Transpose") && o && !onnxpass_value_use_count(o) &&
		    !onnxpass_value_is_graph_output(o) &&
		    onnxpass_value_initializer(onnxpass_node_input_value(t, 0)))
			onnxpass_graph_remove_node(g, t);
	}
	/* weights nothing reads any more */
	for (size_t i = onnxpass_graph_initializer_count(g); i-- > 0;) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));

		if (v && !onnxpass_value_use_count(v) && !onnxpass_value_is_graph_output(v) &&
		    (onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT || made_here(s, g, onnxpass_value_name(v))))
			onnxpass_graph_remove_initializer(g, onnxpass_value_name(v));
	}
	return changes;
}

/* mode = fp16: the library's float16 conversion on every model. */
static int to_fp16(struct onnxpass_ctx *ctx, const struct onnxpass_params *params)
{
	size_t nb = onnxpass_params_list_count(params, "block_ops"), ne = onnxpass_params_list_count(params, "exclude");
	const char **lists = calloc(nb + ne + 1, sizeof(*lists));
	const char *range = onnxpass_params_string(params, "out_of_range");
	struct onnxpass_fp16_options o = {
		.struct_size = sizeof(o),
		.keep_io_types = onnxpass_params_bool(params, "keep_io_types"),
		.out_of_range = !strcmp(range, "clamp") ? ONNXPASS_FP16_CLAMP :
				!strcmp(range, "error") ? ONNXPASS_FP16_ERROR : ONNXPASS_FP16_KEEP,
		.block_ops = lists, .n_block_ops = nb, .exclude = lists + nb, .n_exclude = ne,
	};
	struct onnxpass_fp16_stats st = { 0 };
	int rc = 0;

	if (!lists)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < nb; i++)
		lists[i] = onnxpass_params_list_item(params, "block_ops", i);
	for (size_t i = 0; i < ne; i++)
		lists[nb + i] = onnxpass_params_list_item(params, "exclude", i);
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx) && !rc; i++)
		rc = onnxpass_model_to_fp16(onnxpass_ctx_model(ctx, i), ctx, &o, &st);
	free(lists);
	onnxpass_ctx_report_int(ctx, "fp16_nodes", st.converted);
	onnxpass_ctx_report_int(ctx, "fp32_nodes", st.kept);
	onnxpass_ctx_report_int(ctx, "casts", st.casts);
	onnxpass_ctx_report_int(ctx, "tensors_converted", st.tensors);
	onnxpass_ctx_report_int(ctx, "out_of_range_tensors", st.out_of_range);
	onnxpass_ctx_report_int(ctx, "underflow_values", st.underflow);
	if (rc < 0)
		return rc;
	onnxpass_log(ctx, ONNXPASS_LOG_INFO,
		     "%lld nodes in float16, %lld kept float32, %lld Casts, %lld tensors converted; "
		     "%lld out of range, %lld values flushed to zero",
		     (long long)st.converted, (long long)st.kept, (long long)st.casts, (long long)st.tensors,
		     (long long)st.out_of_range, (long long)st.underflow);
	return (int)(st.converted + st.tensors);
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct state s = { .ctx = ctx };
	int total = 0;

	(void)bundle;
	if (!strcmp(onnxpass_params_string(params, "mode"), "fp16"))
		return to_fp16(ctx, params);
	s.c.p = params;
	s.c.bits = (int)onnxpass_params_int(params, "bits");
	s.c.block = onnxpass_params_int(params, "block_size");
	s.c.sym = onnxpass_params_bool(params, "symmetric");
	s.c.accuracy = onnxpass_params_int(params, "accuracy_level");
	s.c.gather = onnxpass_params_string(params, "gather");
	s.c.gblock = onnxpass_params_int(params, "gather_block_size");
	s.c.dynamic = !strcmp(onnxpass_params_string(params, "mode"), "dynamic-int8");
	if (!s.c.gblock)
		s.c.gblock = s.c.block;
	if (s.c.bits != 4 && s.c.bits != 8)
		return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "bits must be 4 or 8, not %d", s.c.bits);
	if (s.c.block & (s.c.block - 1) || s.c.gblock & (s.c.gblock - 1))
		return onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL,
					 "block sizes must be powers of two (block_size %lld, gather_block_size %lld)",
					 (long long)s.c.block, (long long)s.c.gblock);
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++)
		s.total += onnxpass_graph_node_count(onnxpass_model_graph(onnxpass_ctx_model(ctx, i)));
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++) {
		struct onnxpass_model *m = onnxpass_ctx_model(ctx, i);
		int rc;

		s.contrib = s.need_opset21 = false;
		rc = quantize_graph(&s, onnxpass_model_graph(m));
		if (rc < 0) {
			total = rc;
			break;
		}
		total += rc;
		if (s.contrib && onnxpass_model_opset(m, ONNXPASS_DOMAIN_MS) < 1)
			onnxpass_model_set_opset(m, ONNXPASS_DOMAIN_MS, 1);
		if (s.need_opset21) {
			/* UINT4 tensors: IR 10 and opset 21, as ORT's quantizer sets */
			char why[512];

			if (onnxpass_model_raise_opset(m, 21, why, sizeof(why))) {
				total = onnxpass_ctx_fail(ctx, ONNXPASS_EUNSUPPORTED, "%s: 4-bit tensors need opset 21: %s",
							  onnxpass_model_path(m) ? onnxpass_model_path(m) : "model", why);
				break;
			}
			if (onnxpass_model_ir_version(m) < 10)
				onnxpass_model_set_ir_version(m, 10);
		}
	}
	free(s.dqls);
	for (size_t i = 0; i < s.n_made; i++)
		free(s.made[i].src);
	free(s.made);
	onnxpass_ctx_report_int(ctx, s.c.dynamic ? "matmul_integer" : "matmul_nbits", s.matmuls);
	onnxpass_ctx_report_int(ctx, "gathers", s.gathers);
	onnxpass_ctx_report_int(ctx, "shared_tables", s.shared_tables);
	onnxpass_ctx_report_int(ctx, "weight_bytes_before", s.bytes_before);
	onnxpass_ctx_report_int(ctx, "weight_bytes_after", s.bytes_after);
	onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%lld MatMul -> %s, %lld Gather tables; %lld -> %lld bytes of weights",
		     (long long)s.matmuls, s.c.dynamic ? "MatMulInteger (dynamic int8)" : "MatMulNBits",
		     (long long)s.gathers, (long long)s.bytes_before, (long long)s.bytes_after);
	return total;
}

static const struct onnxpass_param params[] = {
	{ "mode", ONNXPASS_PARAM_ENUM, "weights",
	  "weights: MatMulNBits/embedding blocks; dynamic-int8: DynamicQuantizeLinear + MatMulInteger; "
	  "fp16: weights and compute in float16",
	  0, 0, "weights|dynamic-int8|fp16", false },
	{ "keep_io_types", ONNXPASS_PARAM_BOOL, "true",
	  "fp16: graph inputs and outputs stay float32 (Casts at the edges)", 0, 0, NULL, false },
	{ "block_ops", ONNXPASS_PARAM_LIST, NULL,
	  "fp16: op types kept in float32, besides the built-in list (--describe shows it)", 0, 0,
	  NULL, false },
	{ "out_of_range", ONNXPASS_PARAM_ENUM, "keep",
	  "fp16: a weight beyond +-65504 is kept float32 (with its readers), clamped, or an error",
	  0, 0, "keep|clamp|error", false },
	{ "weight_type", ONNXPASS_PARAM_ENUM, "qint8", "dynamic-int8 weights: qint8 (symmetric) or quint8",
	  0, 0, "qint8|quint8", false },
	{ "per_channel", ONNXPASS_PARAM_BOOL, "false", "dynamic-int8: a scale per column of B", 0, 0,
	  NULL, false },
	{ "reduce_range", ONNXPASS_PARAM_BOOL, "false", "dynamic-int8: 7-bit weights (AVX2 saturation)",
	  0, 0, NULL, false },
	{ "matmul", ONNXPASS_PARAM_BOOL, "true",
	  "MatMul with a constant 2-D float B -> com.microsoft MatMulNBits", 0, 0, NULL, false },
	{ "bits", ONNXPASS_PARAM_INT, "4", "bits per weight: 4 or 8", 4, 8, "4|8", false },
	{ "block_size", ONNXPASS_PARAM_INT, "128", "weights per block (power of two)", 16, 256,
	  "16|32|64|128|256", false },
	{ "symmetric", ONNXPASS_PARAM_BOOL, "false", "no zero points (implicit 8 or 128)", 0, 0, NULL,
	  false },
	{ "accuracy_level", ONNXPASS_PARAM_INT, "0",
	  "MatMulNBits accuracy_level (0: unset, 4: int8 compute for A)", 0, 4, NULL, false },
	{ "gather", ONNXPASS_PARAM_ENUM, "none",
	  "embedding Gather: none, uint8 (per tensor + DequantizeLinear), block4 (GatherBlockQuantized)",
	  0, 0, "none|uint8|block4", false },
	{ "gather_block_size", ONNXPASS_PARAM_INT, "0",
	  "block along the hidden axis for block4 (0: block_size)", 0, 256, "0|16|32|64|128|256",
	  false },
	{ "share_tables", ONNXPASS_PARAM_BOOL, "true",
	  "store a block4 embedding and its tied lm_head's MatMulNBits table once when their blocks coincide (4-bit, "
	  "asymmetric, gather_block_size = block_size)", 0, 0, NULL, false },
	{ "include", ONNXPASS_PARAM_LIST, NULL, "only nodes whose name matches one of these globs", 0,
	  0, NULL, false },
	{ "exclude", ONNXPASS_PARAM_LIST, NULL, "skip nodes whose name matches one of these globs", 0,
	  0, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "quantize",
	.version = "1.0",
	.summary = "int4/int8 MatMulNBits, uint8 or 4-bit block embeddings, dynamic int8, or fp16",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"MatMul nodes whose B is a constant 2-D float initializer become\n"
		"com.microsoft MatMulNBits with round-to-nearest block quantization, bit-exact\n"
		"with ONNX Runtime's MatMulNBitsQuantizer (DEFAULT algorithm).  Embedding\n"
		"Gathers (constant [V,H] float table, axis 0) become a uint8 table with one\n"
		"scale and zero point plus DequantizeLinear (gather = uint8, like\n"
		"quantize_dynamic), or com.microsoft GatherBlockQuantized with UINT4 blocks\n"
		"along H (gather = block4; raises the model to opset 21 and IR 10), computed\n"
		"as MatMulNBits blocks of the table: where a tied lm_head reads the table\n"
		"through a Transpose with the same blocks (4-bit, asymmetric, gather_block_size\n"
		"= block_size), both nodes read one stored table (share_tables).  With\n"
		"mode = dynamic-int8, MatMuls become DynamicQuantizeLinear + MatMulInteger\n"
		"(weight_type, per_channel, reduce_range) as ORT's quantize_dynamic writes them.\n"
		"With mode = fp16, float weights and compute become float16; graph inputs and\n"
		"outputs stay float32 behind Casts (keep_io_types).  Kept in float32: ops of\n"
		"other domains than the default and com.microsoft, EyeLike, Random*,\n"
		"Bernoulli, Multinomial, TopK, CumSum, Range, NonMaxSuppression, RoiAlign,\n"
		"Resize, Upsample, the (dynamic) quantization ops, STFT/DFT and the window\n"
		"generators, nodes with subgraphs, nodes matching exclude, and any op in\n"
		"block_ops.  Every weight beyond float16's range is reported by name.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
