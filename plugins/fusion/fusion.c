/* SPDX-License-Identifier: MIT */
/* fusion: decomposed subgraphs back into the fused operators ONNX Runtime
 * runs fast.  Each pattern is matched exactly (every intermediate value
 * read only inside the pattern, constants where constants belong, opset-
 * aware reduction axes); a candidate that half-matches is left untouched
 * and, with -v, the reason is logged.
 */
#include <stdlib.h>
#include <string.h>

#include "fusion.h"

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

/* Which pattern's matcher runs on which op, in which round.  Round 1
 * fuses the norms and the activations; round 2 folds residual Adds into
 * the norms and bias Adds into the activations that round 1 made. */
static const struct pattern {
	int round;
	const char *name;	/* in the patterns parameter */
	const char *domain, *op;	/* the node a candidate is matched from */
	int (*match)(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n, int64_t opset);
} patterns[] = {
	{ 1, "layernorm", NULL, "ReduceMean", layernorm },
	{ 1, "rmsnorm", NULL, "Pow", rmsnorm },
	{ 1, "rmsnorm", NULL, "Mul", rmsnorm },
	{ 1, "gelu", NULL, "Erf", gelu },
	{ 1, "fastgelu", NULL, "Tanh", fast_gelu },
	{ 2, "skip", NULL, "LayerNormalization", skip_norm },
	{ 2, "skip", NULL, "SimplifiedLayerNormalization", skip_norm },
	{ 2, "bias", ONNXPASS_DOMAIN_MS, "Gelu", bias_gelu },
	{ 2, "bias", ONNXPASS_DOMAIN_MS, "FastGelu", bias_gelu },
	{ 2, "bias", NULL, "Gelu", bias_gelu },
};

/* The matcher of round for n's op, if its pattern is wanted. */
static int match(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n,
		 const struct onnxpass_params *p, int64_t opset, int round)
{
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (patterns[i].round == round && onnxpass_node_is(n, patterns[i].domain, patterns[i].op))
			return want(p, patterns[i].name) ? patterns[i].match(f, g, n, opset) : 0;
	return 0;
}

static int fuse_graph(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p);

/* Runs match on a snapshot of g's nodes (and, in the first round, fuses
 * subgraphs first); returns the changes or a negative error. */
static int round_over(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p,
		      int round)
{
	int64_t opset = onnxpass_model_opset(f->m, "");
	size_t count;
	struct onnxpass_node **nodes = onnxpass_graph_nodes(g, &count);
	int changes = 0, rc = 0;

	if (!nodes)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < count && rc >= 0; i++) {
		struct onnxpass_node *n = nodes[i];

		for (size_t k = 0; round == 1 && k < onnxpass_node_subgraph_count(n) && rc >= 0; k++) {
			rc = fuse_graph(f, onnxpass_node_subgraph(n, k), p);
			changes += rc > 0 ? rc : 0;
		}
		if (rc < 0 || onnxpass_node_is_removed(n))
			continue;
		rc = match(f, g, n, p, opset, round);
		changes += rc > 0 ? rc : 0;
	}
	free(nodes);
	return rc < 0 ? rc : changes;
}

static int fuse_graph(struct fuse *f, struct onnxpass_graph *g, const struct onnxpass_params *p)
{
	int changes = round_over(f, g, p, 1), rc;

	if (changes < 0)
		return changes;
	if (want(p, "skip") || want(p, "bias")) {
		if ((rc = round_over(f, g, p, 2)) < 0)
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
