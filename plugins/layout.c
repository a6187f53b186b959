/* SPDX-License-Identifier: MIT */
/* layout: where each weight of the written models lives, chosen for the
 * memory of the device that runs them.  ONNX Runtime maps page-aligned
 * external data instead of copying it: a table read by Gather (a token
 * embedding, GatherBlockQuantized blocks) then costs resident memory only
 * for the rows a run looks up, and the file pages of weights ORT repacks
 * at load (MatMulNBits at accuracy_level 4) can leave memory afterwards,
 * where inline bytes stay in the parsed protobuf for the session's life.
 * Per tensor class: tables (the data of a Gather or GatherBlockQuantized)
 * and weights (every other initializer), each external (page aligned, in
 * the model's data file) or inline; a tensor shared across models stays in
 * the bundle's shared data file.  `onnxpass --external never` still writes
 * one self-contained file per model (shared tensors copied into each).
 */
#include <stdio.h>
#include <string.h>

#include <onnxpass/onnxpass.h>

static const char *const why_table =
	"read by Gather: ONNX Runtime maps page-aligned external data, so only the rows looked up become resident";
static const char *const why_weight =
	"ONNX Runtime maps page-aligned external data: pages it repacks at load (MatMulNBits) can leave memory after";

/* Is t, initializer of g, the data (input 0) of a Gather or a
 * GatherBlockQuantized? */
static bool is_table(struct onnxpass_graph *g, struct onnxpass_tensor *t)
{
	struct onnxpass_value *v = onnxpass_graph_value(g, onnxpass_tensor_name(t));

	for (size_t i = 0; v && i < onnxpass_value_use_count(v); i++) {
		int k;
		struct onnxpass_node *n = onnxpass_value_use(v, i, &k);

		if (k == 0 && (onnxpass_node_is(n, "", "Gather") ||
			       onnxpass_node_is(n, ONNXPASS_DOMAIN_MS, "GatherBlockQuantized")))
			return true;
	}
	return false;
}

struct tally {
	int64_t n[2][2], bytes[2][2];	/* [table?][external?] */
	int64_t shared;
};

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle, const struct onnxpass_params *params)
{
	const char *choice[2] = { onnxpass_params_string(params, "weights"), onnxpass_params_string(params, "tables") };
	size_t min = (size_t)onnxpass_params_int(params, "min_bytes");
	struct tally t = { { { 0 } }, { { 0 } }, 0 };
	int changes = 0;

	(void)bundle;
	for (size_t m = 0; m < onnxpass_ctx_model_count(ctx); m++) {
		struct onnxpass_graph *g = onnxpass_model_graph(onnxpass_ctx_model(ctx, m));

		for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++) {
			struct onnxpass_tensor *x = onnxpass_graph_initializer_at(g, i);
			enum onnxpass_storage was = onnxpass_tensor_storage(x), want;
			size_t nb = onnxpass_tensor_nbytes(x);
			int table = is_table(g, x) ? 1 : 0;

			if (was == ONNXPASS_STORE_SHARED) {	/* stored once for the bundle */
				t.shared++;
				continue;
			}
			if (!strcmp(choice[table], "keep"))
				continue;
			/* small ones are left to the save options (--external always) */
			want = strcmp(choice[table], "external") ? ONNXPASS_STORE_INLINE
			     : nb >= min ? ONNXPASS_STORE_EXTERNAL : ONNXPASS_STORE_AUTO;
			if (want != ONNXPASS_STORE_AUTO) {
				t.n[table][want == ONNXPASS_STORE_EXTERNAL]++;
				t.bytes[table][want == ONNXPASS_STORE_EXTERNAL] += (int64_t)nb;
			}
			if (was != want) {
				onnxpass_tensor_set_storage(x, want);
				changes++;
			}
		}
		onnxpass_log(ctx, ONNXPASS_LOG_INFO, "%s: tables %s, weights %s", onnxpass_ctx_role(ctx, m),
			     choice[1], choice[0]);
	}
	onnxpass_ctx_report_int(ctx, "tables_external", t.n[1][1]);
	onnxpass_ctx_report_int(ctx, "tables_external_bytes", t.bytes[1][1]);
	onnxpass_ctx_report_int(ctx, "tables_inline", t.n[1][0]);
	onnxpass_ctx_report_int(ctx, "tables_inline_bytes", t.bytes[1][0]);
	onnxpass_ctx_report_int(ctx, "weights_external", t.n[0][1]);
	onnxpass_ctx_report_int(ctx, "weights_external_bytes", t.bytes[0][1]);
	onnxpass_ctx_report_int(ctx, "weights_inline", t.n[0][0]);
	onnxpass_ctx_report_int(ctx, "weights_inline_bytes", t.bytes[0][0]);
	onnxpass_ctx_report_int(ctx, "shared", t.shared);
	onnxpass_ctx_report_str(ctx, "tables_reason", !strcmp(choice[1], "external") ? why_table :
				!strcmp(choice[1], "inline") ? "inline, as the recipe asks" :
				"kept where they were");
	onnxpass_ctx_report_str(ctx, "weights_reason", !strcmp(choice[0], "external") ? why_weight :
				!strcmp(choice[0], "inline") ? "inline, as the recipe asks" :
				"kept where they were");
	return changes;
}

static const struct onnxpass_param params[] = {
	{ "tables", ONNXPASS_PARAM_ENUM, "external",
	  "tensors read by Gather or GatherBlockQuantized (token tables): external, inline or keep", 0, 0,
	  "external|inline|keep", false },
	{ "weights", ONNXPASS_PARAM_ENUM, "external", "every other initializer: external, inline or keep", 0, 0,
	  "external|inline|keep", false },
	{ "min_bytes", ONNXPASS_PARAM_INT, "4096",
	  "smaller tensors stay inline (an external one is padded to a page)", 1, (double)(1LL << 40), NULL,
	  false },
};

static const struct onnxpass_plugin plugin = {
	.abi_version = ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = "layout",
	.version = "1.0",
	.summary = "chooses inline or page-aligned external data per tensor class, for a phone's memory",
	.params = params,
	.n_params = sizeof(params) / sizeof(params[0]),
	.run = run,
	.description = "Tables read by Gather or GatherBlockQuantized and the other weights each go\n"
		       "external (page aligned, so ONNX Runtime maps them: a table costs resident memory\n"
		       "only for the rows looked up) or inline.  Tensors shared across the bundle's models\n"
		       "stay in its shared data file.  --external never still writes one file per model.",
};

ONNXPASS_PLUGIN_DEFINE(plugin)
