/* SPDX-License-Identifier: MIT */
/* The plugin ABI: the one entry point a pass exports, its parameter table,
 * and the run context (logging, errors, report, threads). */
#ifndef ONNXPASS_PLUGIN_H
#define ONNXPASS_PLUGIN_H

#include <stdarg.h>
#include <onnxpass/common.h>
#include <onnxpass/bundle.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI version of struct onnxpass_plugin and struct onnxpass_param, and of
 * the contracts of the SDK functions a plugin calls.  Fields and functions
 * are only ever appended (struct_size tells the host which fields a plugin
 * has); any other change bumps this number, and libonnxpass's soname with
 * it, and the host refuses plugins built for another one.
 *   2: onnxpass_graph_fresh_name returns a model-owned name (no caller
 *      frees it) and takes a suffix; "not found" is ONNXPASS_ENOTFOUND,
 *      never -1 (which is ONNXPASS_ENOMEM); onnxpass_graph_move_before,
 *      onnxpass_graph_parent and onnxpass_node_truncate_inputs are gone
 *      (nothing used them: saving orders nodes, set_input "" empties one).
 */
#define ONNXPASS_ABI_VERSION 2u

enum onnxpass_param_type {
	ONNXPASS_PARAM_BOOL = 1,	/* true/false, yes/no, on/off, 1/0 */
	ONNXPASS_PARAM_INT = 2,	/* decimal integer within [min, max], and one of
				 * choices ("4|8") when choices is set */
	ONNXPASS_PARAM_FLOAT = 3,	/* number within [min, max] */
	ONNXPASS_PARAM_STRING = 4,	/* any text */
	ONNXPASS_PARAM_ENUM = 5,	/* one of choices ("a|b|c") */
	ONNXPASS_PARAM_LIST = 6,	/* space/comma separated words */
};

struct onnxpass_param {
	const char *name;	/* [a-z0-9_]+ */
	enum onnxpass_param_type type;
	const char *default_value;	/* NULL: unset unless the recipe sets it */
	const char *help;	/* one line */
	double min, max;	/* INT/FLOAT range; min == max == 0: unbounded */
	const char *choices;	/* ENUM: "a|b|c"; INT: the allowed values, or NULL */
	bool required;	/* the recipe must set it */
};

struct onnxpass_ctx;
struct onnxpass_params;

struct onnxpass_plugin {
	uint32_t abi_version;	/* ONNXPASS_ABI_VERSION */
	uint32_t struct_size;	/* sizeof(struct onnxpass_plugin) */
	const char *name;	/* pass name, [a-z0-9-]+ */
	const char *version;	/* the plugin's own version */
	const char *summary;	/* one line for --list */
	const struct onnxpass_param *params;
	size_t n_params;
	/*
	 * Runs the pass over the models the step selected (see
	 * onnxpass_ctx_model_count).  Returns the number of changes made
	 * (0 = nothing to do) or a negative error after onnxpass_ctx_fail.
	 */
	int (*run)(struct onnxpass_ctx *ctx, struct onnxpass_bundle *bundle,
		   const struct onnxpass_params *params);
	const char *description;	/* longer help for --describe, may be NULL */
};

#define ONNXPASS_PLUGIN_ENTRY_SYMBOL "onnxpass_plugin_entry"
typedef const struct onnxpass_plugin *(*onnxpass_plugin_entry_fn)(void);

/* A plugin defines exactly this function. */
#define ONNXPASS_PLUGIN_DEFINE(desc)                                          \
	ONNXPASS_API const struct onnxpass_plugin *onnxpass_plugin_entry(void); \
	const struct onnxpass_plugin *onnxpass_plugin_entry(void) { return &(desc); }

/* Parameter values, validated against the table before run() is called. */
ONNXPASS_API bool onnxpass_params_is_set(const struct onnxpass_params *p, const char *name);
ONNXPASS_API bool onnxpass_params_bool(const struct onnxpass_params *p, const char *name);
ONNXPASS_API int64_t onnxpass_params_int(const struct onnxpass_params *p, const char *name);
ONNXPASS_API double onnxpass_params_float(const struct onnxpass_params *p, const char *name);
/* String/ENUM/LIST text, NULL if unset; borrowed for the run. */
ONNXPASS_API const char *onnxpass_params_string(const struct onnxpass_params *p,
						const char *name);
/* LIST items: count, and item i (borrowed for the run). */
ONNXPASS_API size_t onnxpass_params_list_count(const struct onnxpass_params *p,
					       const char *name);
ONNXPASS_API const char *onnxpass_params_list_item(const struct onnxpass_params *p,
						   const char *name, size_t i);

/* The models this step applies to (the recipe's `models =`, default all). */
ONNXPASS_API size_t onnxpass_ctx_model_count(const struct onnxpass_ctx *ctx);
ONNXPASS_API struct onnxpass_model *onnxpass_ctx_model(struct onnxpass_ctx *ctx, size_t i);
ONNXPASS_API const char *onnxpass_ctx_role(const struct onnxpass_ctx *ctx, size_t i);

enum onnxpass_log_level {
	ONNXPASS_LOG_ERROR = 0,
	ONNXPASS_LOG_WARN = 1,
	ONNXPASS_LOG_INFO = 2,
	ONNXPASS_LOG_DEBUG = 3,
};
/* Logs one line to stderr with the pass name as prefix. */
ONNXPASS_API void onnxpass_log(struct onnxpass_ctx *ctx, int level, const char *fmt, ...)
	ONNXPASS_PRINTF(3, 4);
ONNXPASS_API bool onnxpass_log_enabled(const struct onnxpass_ctx *ctx, int level);
/* Records the step's one-line error and returns err, for `return
 * onnxpass_ctx_fail(ctx, ONNXPASS_EINVAL, "...")`. */
ONNXPASS_API int onnxpass_ctx_fail(struct onnxpass_ctx *ctx, int err, const char *fmt, ...)
	ONNXPASS_PRINTF(3, 4);
/* Adds a figure to the step's entry in the JSON report. */
ONNXPASS_API void onnxpass_ctx_report_int(struct onnxpass_ctx *ctx, const char *key,
					  int64_t value);
ONNXPASS_API void onnxpass_ctx_report_str(struct onnxpass_ctx *ctx, const char *key,
					  const char *value);
/* Worker threads the pass may use (>= 1). */
ONNXPASS_API int onnxpass_ctx_threads(const struct onnxpass_ctx *ctx);
/* Calls fn(arg, i) for i in [0, n) on up to onnxpass_ctx_threads()
 * threads; returns when all are done.  fn must be thread-safe for
 * distinct i; it cannot fail (record failures in arg). */
ONNXPASS_API void onnxpass_parallel_for(struct onnxpass_ctx *ctx, size_t n,
					void (*fn)(void *arg, size_t i), void *arg);
/* Moves the bytes of t (a tensor the pass made, e.g. a quantized weight)
 * out of memory into the run's scratch file and maps them from there:
 * resident memory stays near one tensor however many the pass makes.  A
 * no-op for bytes that are mapped or shared already.  Thread-safe; fails
 * (after onnxpass_ctx_fail) when the scratch file cannot be written. */
ONNXPASS_API int onnxpass_ctx_spill(struct onnxpass_ctx *ctx, struct onnxpass_tensor *t);
/* Progress of the step (done of total, in the pass's own unit: tensors,
 * bytes, nodes), drawn as one line on a terminal once the step has taken
 * a second; silent when stderr is not a TTY or with -q.  Calling it
 * replaces the count of items onnxpass_parallel_for shows otherwise.
 * Thread-safe. */
ONNXPASS_API void onnxpass_ctx_progress(struct onnxpass_ctx *ctx, uint64_t done, uint64_t total);

/* ------------------------------------------------------------------ */
/* Float16 conversion (what the quantize pass runs for mode = fp16)    */

enum onnxpass_fp16_range {
	ONNXPASS_FP16_KEEP = 0,	/* a weight beyond +-65504 stays float32, with its readers */
	ONNXPASS_FP16_CLAMP = 1,	/* ... is clamped to +-65504 */
	ONNXPASS_FP16_ERROR = 2,	/* ... fails the conversion, naming the first */
};

struct onnxpass_fp16_options {
	size_t struct_size;	/* sizeof(struct onnxpass_fp16_options) */
	bool keep_io_types;	/* graph inputs and outputs stay float32 behind Casts */
	enum onnxpass_fp16_range out_of_range;
	const char *const *block_ops;	/* op types kept float32 besides the built-in list */
	size_t n_block_ops;
	const char *const *exclude;	/* globs: nodes so named stay float32 */
	size_t n_exclude;
};

/* Added to by each conversion, so that one struct sums a bundle. */
struct onnxpass_fp16_stats {
	int64_t converted, kept;	/* float nodes computing in float16 / float32 */
	int64_t casts, tensors;	/* Casts added, weights converted */
	int64_t out_of_range;	/* weights beyond float16's range */
	int64_t underflow;	/* nonzero values flushed to zero */
};

/*
 * Converts m's main graph to float16: every node computing in float runs
 * in float16 unless its op is blocked (the built-in list: ops with no
 * float16 form, random generators, casts to an attribute's type, TopK,
 * CumSum, Range, the dynamic quantizers; or block_ops), its name matches
 * exclude, it holds a subgraph or a subgraph reads its output, or it reads
 * a weight out of range under ONNXPASS_FP16_KEEP.  Float weights read only
 * by float16 nodes become float16 (spilled through ctx); values crossing
 * between the precisions get one Cast each.  0, or < 0 after
 * onnxpass_ctx_fail.
 */
ONNXPASS_API int onnxpass_model_to_fp16(struct onnxpass_model *m, struct onnxpass_ctx *ctx,
					const struct onnxpass_fp16_options *o,
					struct onnxpass_fp16_stats *st);

#ifdef __cplusplus
}
#endif
#endif
