/* SPDX-License-Identifier: MIT */
/* fusion: decomposed subgraphs back into the fused operators ONNX Runtime
 * runs fast.  Each pattern is matched exactly (every intermediate value
 * read only inside the pattern, constants where constants belong, opset-
 * aware reduction axes); a candidate that half-matches is left untouched
 * and, with -v, the reason is logged.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

void reject(struct fuse *f, struct onnxpass_node *n, const char *what, const char *why)
{
	f->rejected++;
	onnxpass_log(f->ctx, ONNXPASS_LOG_INFO, "%s: %s at '%s' not fused: %s", f->role, what,
		     onnxpass_node_name(n), why);
}

bool const_float(struct onnxpass_value *v, float *out)
{
	struct onnxpass_tensor *t = onnxpass_value_constant(v);

	return t && onnxpass_tensor_numel(t) == 1 && !onnxpass_tensor_to_f32(t, out, 1);
}

int each_node(struct onnxpass_graph *g, const char *op, int (*fn)(void *state, struct onnxpass_node *n),
	      void *state)
{
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++)
		if (!onnxpass_node_is_removed(nodes[i]) && onnxpass_node_is(nodes[i], NULL, op)) {
			rc = fn(state, nodes[i]);
			changes += rc > 0 ? rc : 0;
		}
	free(nodes);
	return rc < 0 ? rc : changes;
}

bool float_vector(struct onnxpass_value *v)
{
	struct onnxpass_tensor *t = v ? onnxpass_value_initializer(v) : NULL;

	if (t && !onnxpass_value_is_graph_input(v))
		return onnxpass_tensor_rank(t) == 1 && onnxpass_tensor_dtype(t) == ONNXPASS_DT_FLOAT;
	/* a graph input or computed value declared [H] float */
	return v && onnxpass_value_rank(v) == 1 && onnxpass_value_dtype(v) == ONNXPASS_DT_FLOAT;
}

/* The other input of a two-input node, given one of them. */
struct onnxpass_value *other(struct onnxpass_node *n, struct onnxpass_value *v)
{
	struct onnxpass_value *a = onnxpass_node_input_value(n, 0), *b = onnxpass_node_input_value(n, 1);

	if (onnxpass_node_input_count(n) != 2)
		return NULL;
	return a == v ? b : b == v ? a : NULL;
}

char *own(const char *s)
{
	return strdup(s ? s : "");
}

bool is_constant(struct onnxpass_value *v)
{
	struct onnxpass_node *p = v ? onnxpass_value_producer(v, NULL) : NULL;

	return !v || onnxpass_value_initializer(v) || (p && onnxpass_node_is(p, NULL, "Constant"));
}

/* No FLOAT16/BFLOAT16 graph input, output or initializer: a Cast to
 * FLOAT in such a model converts nothing. */
static bool all_fp32(struct onnxpass_model *m)
{
	struct onnxpass_graph *g = onnxpass_model_graph(m);

	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
		int dt = onnxpass_tensor_dtype(onnxpass_graph_initializer_at(g, i));

		if (dt == ONNXPASS_DT_FLOAT16 || dt == ONNXPASS_DT_BFLOAT16)
			return false;
	}
	for (size_t i = 0; i < onnxpass_graph_input_count(g) + onnxpass_graph_output_count(g); i++) {
		struct onnxpass_value *v = i < onnxpass_graph_input_count(g)
						   ? onnxpass_graph_input(g, i)
						   : onnxpass_graph_output(g, i - onnxpass_graph_input_count(g));
		int dt = onnxpass_value_dtype(v);

		if (dt == ONNXPASS_DT_FLOAT16 || dt == ONNXPASS_DT_BFLOAT16)
			return false;
	}
	return true;
}

static bool want(const struct onnxpass_params *p, const char *pattern)
{
	for (size_t i = 0; i < onnxpass_params_list_count(p, "patterns"); i++)
		if (!strcmp(onnxpass_params_list_item(p, "patterns", i), pattern))
			return true;
	return false;
}

/* The first round's matcher for n: the norms and the activations. */
static int first_round(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n,
		       const struct onnxpass_params *p, int64_t opset)
{
	if (onnxpass_node_is(n, NULL, "ReduceMean") && want(p, "layernorm"))
		return layernorm(f, g, n, opset);
	if ((onnxpass_node_is(n, NULL, "Pow") || onnxpass_node_is(n, NULL, "Mul")) && want(p, "rmsnorm"))
		return rmsnorm(f, g, n, opset);
	if (onnxpass_node_is(n, NULL, "Erf") && want(p, "gelu"))
		return gelu(f, g, n);
	if (onnxpass_node_is(n, NULL, "Tanh") && want(p, "fastgelu"))
		return fast_gelu(f, g, n);
	return 0;
}

/* The second round's: residual Adds into the norms fused above, bias
 * Adds into the activations. */
static int second_round(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n,
			const struct onnxpass_params *p, int64_t opset)
{
	(void)opset;
	if ((onnxpass_node_is(n, NULL, "LayerNormalization") ||
	     onnxpass_node_is(n, NULL, "SimplifiedLayerNormalization")) && want(p, "skip"))
		return skip_norm(f, g, n);
	if ((onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "Gelu") || onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "FastGelu") ||
	     onnxpass_node_is(n, NULL, "Gelu")) && want(p, "bias"))
		return bias_gelu(f, g, n);
	return 0;
}

typedef int (*matcher)(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n,
		       const struct onnxpass_params *p, int64_t opset);

static int fuse_graph(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p);

/* Runs match on a snapshot of g's nodes (and, in the first round, fuses
 * subgraphs first); returns the changes or a negative error. */
static int round_over(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p,
		      matcher match, bool subgraphs)
{
	int64_t opset = onnxpass_model_opset(f->m, "");
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++) {
		struct onnxpass_node *n = nodes[i];

		for (size_t k = 0; subgraphs && k < onnxpass_node_subgraph_count(n) && rc >= 0; k++) {
			rc = fuse_graph(f, onnxpass_node_subgraph(n, k), p);
			changes += rc > 0 ? rc : 0;
		}
		if (rc < 0 || onnxpass_node_is_removed(n))
			continue;
		rc = match(f, g, n, p, opset);
		changes += rc > 0 ? rc : 0;
	}
	free(nodes);
	return rc < 0 ? rc : changes;
}

static int fuse_graph(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p)
{
	int changes = round_over(f, g, p, first_round, true), rc;

	if (changes < 0)
		return changes;
	if (want(p, "skip") || want(p, "bias")) {
		if ((rc = round_over(f, g, p, second_round, false)) < 0)
			return rc;
		changes += rc;
	}
	if (changes) {
		onnxpass_graph_remove_unused(g);
		if (onnxpass_graph_toposort(g))
			return onnxpass_ctx_fail(f->ctx, ONNXPASS_EFORMAT, "%s: the fused graph has a cycle", f->role);
	}
	return changes;
}

/* The com.microsoft ops fused so far. */
static int64_t ms_ops(const struct fuse *f)
{
	return f->gelu + f->fastgelu + f->bias + f->skip + f->attention + f->gqa + f->rotary;
}

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
	       const struct onnxpass_params *params)
{
	struct fuse f = { .ctx = ctx };
	int total = 0;

	(void)bundle;
	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++) {
		int64_t before = ms_ops(&f), rc;
		struct onnxpass_graph *g;

		f.m = onnxpass_ctx_model(ctx, i);
		f.role = onnxpass_ctx_role(ctx, i);
		f.fp32 = all_fp32(f.m);
		if (onnxpass_model_opset(f.m, "") < 1)
			return onnxpass_ctx_fail(ctx, ONNXPASS_EUNSUPPORTED, "%s has no default-domain opset", f.role);
		g = onnxpass_model_graph(f.m);
		rc = fuse_graph(&f, g, params);
		if (rc >= 0 && want(params, "rotary")) {
			/* the main graph only, where the inputs' dims are declared */
			int64_t n = rotary_round(&f, g);

			if (n > 0)
				onnxpass_graph_remove_unused(g);
			rc = n < 0 ? n : rc + n;
		}
		if (rc >= 0 && want(params, "attention")) {
			/* after the norms, so that a skip norm's sum is final; the main
			 * graph only, where the inputs' dims are declared */
			int64_t n = attention_round(&f, g, want(params, "gqa"));

			if (n > 0) {
				onnxpass_graph_remove_unused(g);
				if (onnxpass_graph_toposort(g))
					return onnxpass_ctx_fail(ctx, ONNXPASS_EFORMAT, "%s: the fused graph has a cycle",
								 f.role);
			}
			rc = n < 0 ? n : rc + n;
		}
		if (rc < 0)
			return (int)rc;
		if (ms_ops(&f) > before && onnxpass_model_opset(f.m, ONNXPASS_DOMAIN_MS) < 1)
			onnxpass_model_set_opset(f.m, ONNXPASS_DOMAIN_MS, 1);
		total += (int)rc;
	}
	onnxpass_ctx_report_int(ctx, "layernorm", f.layernorm);
	onnxpass_ctx_report_int(ctx, "rmsnorm", f.rmsnorm);
	onnxpass_ctx_report_int(ctx, "gelu", f.gelu);
	onnxpass_ctx_report_int(ctx, "fastgelu", f.fastgelu);
	onnxpass_ctx_report_int(ctx, "bias", f.bias);
	onnxpass_ctx_report_int(ctx, "skip", f.skip);
	onnxpass_ctx_report_int(ctx, "attention", f.attention);
	onnxpass_ctx_report_int(ctx, "gqa", f.gqa);
	onnxpass_ctx_report_int(ctx, "rotary", f.rotary);
	onnxpass_ctx_report_int(ctx, "rejected", f.rejected);
	if (f.gqa)
		onnxpass_log(ctx, ONNXPASS_LOG_INFO,
			     "GroupQueryAttention runs a step of several tokens over a non-empty cache at batch 1 "
			     "only (patterns without gqa keep MultiHeadAttention)");
	onnxpass_log(ctx, ONNXPASS_LOG_INFO,
		     "fused %lld LayerNormalization, %lld SimplifiedLayerNormalization, %lld Gelu, "
		     "%lld FastGelu, %lld bias activations, %lld skip norms, %lld MultiHeadAttention, "
		     "%lld GroupQueryAttention, %lld RotaryEmbedding; %lld candidates rejected",
		     (long long)f.layernorm, (long long)f.rmsnorm, (long long)f.gelu, (long long)f.fastgelu,
		     (long long)f.bias, (long long)f.skip, (long long)f.attention, (long long)f.gqa,
		     (long long)f.rotary, (long long)f.rejected);
	return total;
}

static const struct onnxpass_param params[] = {
	{ "patterns", ONNXPASS_PARAM_LIST, "layernorm rmsnorm gelu fastgelu bias skip rotary attention gqa",
	  "patterns to fuse: layernorm, rmsnorm, gelu, fastgelu, bias (bias Add into an activation), "
	  "skip (residual Add into a norm), rotary (-> RotaryEmbedding), attention (-> MultiHeadAttention), gqa (attention over "
	  "repeated KV heads of a cached decoder -> GroupQueryAttention; needs attention)", 0, 0, NULL, false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "fusion",
	.version = "0.1",
	.summary = "fuse decomposed LayerNorm, RMSNorm, Gelu/FastGelu, bias, residual norms and attention into ORT's fused operators",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description =
		"layernorm: ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul[/Add] over the last axis\n"
		"-> LayerNormalization (opset-aware reduction axes).  rmsnorm: Pow(2) or Mul(x, x)/\n"
		"ReduceMean/Add/Sqrt/Div(1, .) or Reciprocal, or Pow(-0.5)/Mul/Mul(w), or x / Sqrt(...) * w\n"
		"-> SimplifiedLayerNormalization.\n"
		"gelu: x * 0.5 * (1 + erf(x / sqrt 2)) -> com.microsoft Gelu; fastgelu:\n"
		"x * 0.5 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) -> com.microsoft FastGelu\n"
		"(both recognised in any arrangement of Add/Sub/Mul/Div/Pow with scalar\n"
		"constants, checked by evaluating the expression).  bias: Add(x, bias[H]) into\n"
		"Gelu -> BiasGelu, into FastGelu -> FastGelu(x, bias).  skip: a residual Add into\n"
		"either norm -> com.microsoft Skip(Simplified)LayerNormalization (the sum as\n"
		"its 4th output when read elsewhere).  attention: MatMul(Q, K) [* scale]\n"
		"[+ bias | Where(mask, min, .)] -> Softmax -> MatMul(., V), in any arrangement\n"
		"of Reshape/Transpose that splits [batch, seq, heads*head] into heads (checked by\n"
		"following each axis) -> com.microsoft MultiHeadAttention with the scale and\n"
		"the additive terms as attention_bias (BERT, DistilBERT, BART, Marian, T5's\n"
		"relative bias, Whisper, GPT-2 with its scale computed from the head size,\n"
		"Llama/Mistral with rotary queries and repeated KV heads).  gqa: where the keys and values are a cache Concat(past, new) of\n"
		"fewer heads, each repeated (Unsqueeze/Expand/Reshape), -> com.microsoft\n"
		"GroupQueryAttention over the unrepeated heads, writing the cache outputs\n"
		"itself, the mask as attention_bias (ORT runs a step of several tokens\n"
		"over a non-empty cache only at batch 1).  rotary: x * C + Concat(-x[h/2:],\n"
		"x[:h/2]) * S on [batch, heads, seq, h], C and S rows of constant cos/sin\n"
		"tables gathered by position ids -> com.microsoft RotaryEmbedding with the\n"
		"tables' halves as caches.  Candidates that only half match\n"
		"are left as they are; -v logs why each was rejected.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
