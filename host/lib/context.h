/* SPDX-License-Identifier: MIT */
/* The context a pass runs in and its parameters: defined by the library
 * (plugin_api.c reads them for the SDK's onnxpass_ctx_* and
 * onnxpass_params_* functions), filled by the program (params.c, runner.c). */
#ifndef ONNXPASS_CONTEXT_H
#define ONNXPASS_CONTEXT_H

#include <onnxpass/onnxpass.h>

struct onnxpass_params {
	const struct onnxpass_plugin *desc;
	char **values;	/* per table entry; NULL = unset */
	int *lines;	/* recipe line that set it, 0 = default */
	char ***items;	/* LIST split */
	size_t *n_items;
};

struct kv {
	char *key;
	char *str;	/* NULL: integer value */
	int64_t num;
};

struct onnxpass_ctx {
	const char *pass;
	int verbosity;
	int threads;
	struct onnxpass_bundle *bundle;
	char **roles;
	size_t n_roles;
	char err[1024];
	struct kv *kv;
	size_t n_kv, cap_kv;
	bool tty;	/* progress lines go to stderr */
	double started, last_progress, progress_after;
	bool progress_shown, own_progress;
};

#endif
