/* SPDX-License-Identifier: MIT */
/* Plugins built only for the loader tests; KIND selects the defect:
 * 1 good, 2 wrong ABI, 3 no entry point, 4/5 two plugins with one name,
 * 6 a bad default value in the parameter table. */
#include <onnxpass/onnxpass.h>

static int run(struct onnxpass_ctx *ctx, struct onnxpass_bundle *b,
	       const struct onnxpass_params *p)
{
	(void)b;
	onnxpass_ctx_report_int(ctx, "level", onnxpass_params_int(p, "level"));
	return (int)onnxpass_params_int(p, "level");
}

static const struct onnxpass_param params[] = {
	{ "level", ONNXPASS_PARAM_INT, KIND == 6 ? "99" : "3", "a number", 0, 10, NULL, false },
	{ "mode", ONNXPASS_PARAM_ENUM, "fast", "how", 0, 0, "fast|slow", false },
};

#if KIND != 3
static const struct onnxpass_plugin plugin = {
	.abi_version = KIND == 2 ? ONNXPASS_ABI_VERSION + 1 : ONNXPASS_ABI_VERSION,
	.struct_size = sizeof(struct onnxpass_plugin),
	.name = KIND == 4 || KIND == 5 ? "twin" : KIND == 6 ? "badparam" : "good",
	.version = "1",
	.summary = "test plugin",
	.params = params,
	.n_params = 2,
	.run = run,
};

ONNXPASS_PLUGIN_DEFINE(plugin)
#else
/* exports something, but not the entry point */
ONNXPASS_API int not_an_entry(void);
int not_an_entry(void)
{
	return run(0, 0, 0);
}
#endif
