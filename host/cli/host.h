/* SPDX-License-Identifier: MIT */
/* Host-private interfaces of the program side: plugin registry, step
 * parameters, recipes, the run context and the step runner. */
#ifndef ONNXPASS_HOST_H
#define ONNXPASS_HOST_H

#include <stdio.h>
#include <onnxpass/onnxpass.h>
#include "util.h"
#include "context.h"
#include "json.h"

/* ------------------------------------------------------------------ */
/* Plugin registry (plugin_loader.c)                                   */

struct plugin {
	char *path;
	void *handle;
	const struct onnxpass_plugin *desc;
};

struct registry {
	struct plugin *p;
	size_t n, cap;
	/* plugins that failed to load, skipped with a warning: "FILE: why" */
	char **skipped;
	size_t n_skipped, cap_skipped;
};

/* Loads every *.so of dir; a missing dir is fine when missing_ok. */
int registry_load_dir(struct registry *r, const char *dir, bool missing_ok, char *err,
		      size_t errlen);
int registry_load_file(struct registry *r, const char *path, char *err, size_t errlen);
/* The standard search: system dir (or $ONNXPASS_PLUGIN_SYSTEM_PATH),
 * $ONNXPASS_PLUGIN_PATH, then extra dirs (-P). */
/* The build tree's plugin folder when this program runs uninstalled from
 * its build tree (plugin_loader.c). */
bool build_tree_plugins(char *dir, size_t len);
int registry_load_default(struct registry *r, char **extra, size_t n_extra, char *err,
			  size_t errlen);
/* Why pass is missing: the load error of a skipped plugin file named for
 * it ("embedding_split.so" for embedding-split), or NULL. */
const char *registry_why_missing(const struct registry *r, const char *pass);
/* "unknown pass 'X' (see onnxpass --list)", or the skipped plugin's error. */
void registry_missing_msg(const struct registry *r, const char *pass, char *err, size_t errlen);
const struct plugin *registry_find(const struct registry *r, const char *name);
/* Closes the plugins; only after every model they touched is freed. */
void registry_release(struct registry *r);

/* ------------------------------------------------------------------ */
/* Step parameters (params.c)                                          */

struct onnxpass_params *params_new(const struct onnxpass_plugin *desc);
void params_free(struct onnxpass_params *p);
/* Sets key; on a bad key or value writes the reason to why. */
int params_set(struct onnxpass_params *p, const char *key, const char *value, int line,
	       char *why, size_t whylen);
/* Sets key again, wherever it was set before (--set STEP.KEY=VALUE). */
int params_replace(struct onnxpass_params *p, const char *key, const char *value, char *why, size_t whylen);
/* An indented line continuing a LIST parameter set above: its words are
 * added.  1 when key is not a LIST set before (the line cannot continue). */
int params_continue(struct onnxpass_params *p, const char *key, const char *value);
/* Applies defaults, checks required ones. */
int params_finish(struct onnxpass_params *p, char *why, size_t whylen);
/* Checks a value against one table entry. */
bool param_value_ok(const struct onnxpass_param *d, const char *value, char *why, size_t whylen);
/* The closest parameter name (for "did you mean"), or NULL. */
const char *params_suggest(const struct onnxpass_plugin *desc, const char *key);
bool param_declared(const struct onnxpass_plugin *desc, const char *key);
/* Edit distance of two words, case ignored; the candidate within 2 edits
 * of w closest to it, or NULL. */
size_t word_distance(const char *a, const char *b);
const char *closest_word(const char *w, const char *const *cands, size_t n);
/* opnames.c: op types of ONNX and of ONNX Runtime's contrib ops */
bool op_type_known(const char *op);
const char *op_type_suggest(const char *op);

/* ------------------------------------------------------------------ */
/* Recipes (recipe.c)                                                  */

struct expect {
	char *op;	/* op type, optionally "domain:Op" */
	char cmp[3];	/* "==", ">=", "<=", ">", "<" */
	long n;
	int line;
};

struct step {
	char *name;
	int line;
	char *pass;
	const struct plugin *plugin;
	char **models;	/* roles; none = every model */
	size_t n_models;
	int models_line;
	struct onnxpass_params *params;
	struct expect *expects;
	size_t n_expects;
};

struct role_file {
	char *role;
	char *file;
};

struct recipe {
	char *path;
	char *name;
	char *summary;
	struct role_file *inputs;
	size_t n_inputs;
	struct role_file *outputs;	/* none = write every model */
	size_t n_outputs;
	char *shared_data;
	char *notes;	/* how to run the output, for its manifest */
	struct step *steps;
	size_t n_steps;
	char **mem_names;	/* memory_dims: the sizes manifest.json's estimate is for */
	int64_t *mem_values;
	size_t n_mem;
	char **overrides;	/* --set STEP.KEY=VALUE, as given */
	size_t n_overrides, cap_overrides;
};

/* recipe_find.c: the recipe file for -r ARG: ARG itself when it is a path
 * or a file here, else NAME[.ini] in the installed recipe folder (the
 * build tree's recipes/ when run uninstalled), then the current folder. */
int recipe_find(const char *arg, char *path, size_t len, char *err, size_t errlen);
/* Prints every recipe found there with its summary; ENOTFOUND if none. */
int recipe_list(const struct registry *reg, FILE *out);

/* Parses and validates path against the registry; err gets FILE:LINE. */
int recipe_load(const char *path, const struct registry *reg, struct recipe **out, char *err,
		size_t errlen);
/* A one-step recipe for `onnxpass run PASS key=value...`. */
int recipe_single(const struct plugin *pl, char **kv, size_t n_kv, struct recipe **out,
		  char *err, size_t errlen);
/* Applies --set STEP.KEY=VALUE to a loaded recipe: a step's parameter,
 * checked as the recipe's own lines are; remembered for the manifest. */
int recipe_override(struct recipe *r, char *const *sets, size_t n, char *err, size_t errlen);
void recipe_free(struct recipe *r);

/* ------------------------------------------------------------------ */
/* The command line (main.c) and the job it asks for (job.c)           */

#define ERRLEN 1024

/* The program's one line to the user on stderr: "onnxpass: LEVEL: ..."
 * (level "error" or "warning"), or "onnxpass: ..." for a note (NULL).
 * Passes log through onnxpass_log instead. */
void say(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The command line, as main.c parses it. */
struct opts {
	const char *recipe, *input, *output, *report, *describe, *data_file;
	char **plugin_dirs;
	size_t n_plugin_dirs, cap_plugin_dirs;
	bool list, list_recipes, check, force;
	int verbosity, threads;
	bool quiet;
	enum onnxpass_external_mode external;
	long long external_min;
	const char *cmd;	/* run, info, convert or NULL */
	int64_t opset;	/* --opset: raise the default domain to this */
	char **args;
	int n_args;
	bool json, nodes, profile, memory;
	char **sets;	/* --set STEP.KEY=VALUE */
	size_t n_sets, cap_sets;
	const char **dim_names;	/* info --profile --dim NAME=N */
	int64_t *dim_values;
	size_t n_dims, cap_dims, cap_dim_values;
};

/* Runs recipe r (or, with r NULL, the one pass of `run`) on the inputs of
 * o and commits its outputs; 0, or an exit code with the one-line error
 * in err (ERRLEN bytes). */
int run_job(struct opts *o, struct registry *reg, struct recipe *r, char *err);

/* report.c: the --report document (see there) */
struct report {
	const char *path;	/* NULL: no report */
	char *text;
	size_t len;
	FILE *f;
	struct jw w;
	double t0;
	int stage;	/* sections written: 1 inputs, 2 steps open, 3 closed, 4 outputs */
	const char *failed_step;
};
int report_open(struct report *rp, const char *path, const char *command, const struct recipe *r,
		const char *input, const char *output);
void report_inputs(struct report *rp, struct onnxpass_bundle *b);
/* The writer positioned in the "steps" array (NULL without a report). */
struct jw *report_steps(struct report *rp);
void report_failed_step(struct report *rp, const char *step);
void report_output(struct report *rp, const char *role, const char *path, uint64_t bytes);
/* Drops the document unwritten. */
void report_discard(struct report *rp);
/* Ends the document (status, and the error when rc != 0) and writes it. */
int report_close(struct report *rp, int rc, const char *msg, char *err, size_t errlen);
uint64_t file_size(const char *p);
/* The .onnx file plus the external data its main graph reads. */
uint64_t model_disk_bytes(struct onnxpass_model *m);

struct run_options {
	int verbosity;	/* 0 error .. 3 debug; 1 = default */
	int threads;
	bool quiet;	/* no step lines */
	struct report *report;	/* or NULL */
};

/* Runs every step on the bundle, printing one line per step. */
int run_recipe(const struct recipe *r, struct onnxpass_bundle *b, const struct run_options *o,
	       char *err, size_t errlen);

/* info.c */
int info_print(const char *path, bool json, bool nodes, FILE *out, char *err, size_t errlen);
/* info --profile: see profile.c. */
int info_profile(const char *path, const char *const *names, const int64_t *values, size_t n_bind,
		 bool json, FILE *out, char *err, size_t errlen);

/* info --memory: see memory.c.  One model's estimate at the sizes given
 * (names[i] = values[i]); exact is false where a size stayed unknown. */
struct mem_est {
	uint64_t file, weights, mapped, kv, kv_token, act;
	uint64_t sessions;	/* models counted (one ORT session each) */
	bool exact;
};
int memory_estimate_file(const char *path, const char *const *names, const int64_t *values, size_t n_bind,
			 struct mem_est *e, char *err, size_t errlen);
/* "dims", "models" (roles may be NULL) and "total" into the open object. */
struct jw;
void memory_json(struct jw *w, const char *const *files, const char *const *roles, const struct mem_est *e, size_t n,
		 const char *const *names, const int64_t *values, size_t n_bind);
int info_memory(char *const *args, size_t n_args, const char *const *names, const int64_t *values, size_t n_bind,
		bool json, FILE *out, char *err, size_t errlen);

/* "inputs": [...], "outputs": [...] of a graph: each value's name, type
 * and shape. */
struct jw;
void info_io_json(struct jw *w, struct onnxpass_graph *g);

/* output.c: one writer per output, and the leftovers of killed runs */
#include <time.h>
struct output_lock {
	int fd;
	char *path;
};
int output_lock(const char *out, struct output_lock *l, char *err, size_t errlen);
void output_unlock(struct output_lock *l);
/* Removes the held lock file (async-signal-safe: for a fatal signal). */
void output_lock_forget(void);
/* Removes the output's temporary files older than started; says so on
 * stderr unless quiet.  Returns how many went. */
int remove_leftovers(const char *out, time_t started, bool quiet);

/* JSON string output (runner.c) */

#endif
