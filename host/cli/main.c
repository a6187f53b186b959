/* SPDX-License-Identifier: MIT */
/* The onnxpass program: runs recipes and single passes on model bundles,
 * prints model info, lists and describes plugins. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

#define ERRLEN 1024

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
	bool json, nodes, profile;
	const char **dim_names;	/* info --profile --dim NAME=N */
	int64_t *dim_values;
	size_t n_dims, cap_dims, cap_dim_values;
};

static void usage(FILE *f)
{
	fputs("usage: onnxpass -r RECIPE -i IN -o OUT [options]\n"
	      "       onnxpass run PASS [KEY=VALUE...] -i IN -o OUT [options]\n"
	      "       onnxpass convert -i IN -o OUT [--external MODE]\n"
	      "       onnxpass info [--json | --nodes] MODEL\n"
	      "       onnxpass info --profile [--json] [--dim NAME=N ...] MODEL\n"
	      "       onnxpass --list | --list-recipes | --describe PASS | --check -r RECIPE\n"
	      "\n"
	      "IN is a model file or a folder holding a bundle (every .onnx in it, or the\n"
	      "files the recipe names).  OUT is a folder, or a .onnx file for one model.\n"
	      "\n"
	      "options:\n"
	      "  -r, --recipe RECIPE      recipe to run: an INI file, or the name of an\n"
	      "                           installed one (see --list-recipes)\n"
	      "  -i, --input PATH         input model or folder (never modified)\n"
	      "  -o, --output PATH        output folder or .onnx file\n"
	      "  -P, --plugin-dir DIR     also load plugins from DIR (repeatable)\n"
	      "  -f, --force              write into an existing non-empty folder\n"
	      "  -j, --threads N          worker threads for passes (default: all cores)\n"
	      "      --external MODE      auto (default), always or never: external data\n"
	      "      --external-min-bytes N  smallest tensor put in external data (1024)\n"
	      "      --opset N            raise the default-domain opset to N, converting ops\n"
	      "      --report FILE        write a JSON report of every step\n"
	      "      --check              validate the recipe and its parameters, then stop\n"
	      "      --list               list the passes found\n"
	      "      --list-recipes       list the installed recipes\n"
	      "      --describe PASS      show a pass's parameters\n"
	      "      --profile            info: parameters, MACs, activations per op type\n"
	      "      --dim NAME=N         info --profile: give symbolic dim NAME the size N\n"
	      "  -v, --verbose            more detail (twice: debug)\n"
	      "  -q, --quiet              only errors\n"
	      "  -h, --help               this help\n"
	      "  -V, --version            version\n"
	      "\n"
	      "Plugins are searched in " ONNXPASS_PLUGIN_DIR " (or $ONNXPASS_PLUGIN_SYSTEM_PATH),\n"
	      "then $ONNXPASS_PLUGIN_PATH (colon separated), then each -P DIR.\n",
	      f);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_LIST = 256, O_DESCRIBE, O_CHECK, O_REPORT, O_EXTERNAL, O_EXTMIN, O_JSON, O_DATA, O_NODES, O_PROFILE, O_DIM, O_OPSET, O_LIST_RECIPES };
	static const struct option lo[] = {
		{ "recipe", required_argument, 0, 'r' }, { "input", required_argument, 0, 'i' },
		{ "output", required_argument, 0, 'o' }, { "plugin-dir", required_argument, 0, 'P' },
		{ "force", no_argument, 0, 'f' }, { "threads", required_argument, 0, 'j' },
		{ "verbose", no_argument, 0, 'v' }, { "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' }, { "version", no_argument, 0, 'V' },
		{ "list", no_argument, 0, O_LIST }, { "list-recipes", no_argument, 0, O_LIST_RECIPES },
		{ "describe", required_argument, 0, O_DESCRIBE },
		{ "check", no_argument, 0, O_CHECK }, { "report", required_argument, 0, O_REPORT },
		{ "external", required_argument, 0, O_EXTERNAL },
		{ "external-min-bytes", required_argument, 0, O_EXTMIN },
		{ "data-file", required_argument, 0, O_DATA },
		{ "opset", required_argument, 0, O_OPSET },
		{ "json", no_argument, 0, O_JSON }, { "nodes", no_argument, 0, O_NODES },
		{ "profile", no_argument, 0, O_PROFILE }, { "dim", required_argument, 0, O_DIM }, { 0, 0, 0, 0 },
	};
	int c;

	o->verbosity = ONNXPASS_LOG_WARN;
	while ((c = getopt_long(argc, argv, "r:i:o:P:fj:vqhV", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o->recipe = optarg; break;
		case 'i': o->input = optarg; break;
		case 'o':	/* "out/" is the folder "out": its lock and temporary files go beside it */
			for (size_t n = strlen(optarg); n > 1 && optarg[n - 1] == '/'; n--)
				optarg[n - 1] = '\0';
			o->output = optarg;
			break;
		case 'P':
			if (grow(&o->plugin_dirs, &o->cap_plugin_dirs, o->n_plugin_dirs + 1, sizeof(char *)))
				return 1;
			o->plugin_dirs[o->n_plugin_dirs++] = optarg;
			break;
		case 'f': o->force = true; break;
		case 'j':
			o->threads = atoi(optarg);
			if (o->threads < 1 || o->threads > 1024) {
				fprintf(stderr, "onnxpass: error: --threads wants 1..1024, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'v': o->verbosity++; break;
		case 'q': o->quiet = true; o->verbosity = ONNXPASS_LOG_ERROR; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("onnxpass %s (plugin ABI %u)\n", PACKAGE_VERSION, ONNXPASS_ABI_VERSION); exit(0);
		case O_LIST: o->list = true; break;
		case O_LIST_RECIPES: o->list_recipes = true; break;
		case O_DESCRIBE: o->describe = optarg; break;
		case O_CHECK: o->check = true; break;
		case O_REPORT: o->report = optarg; break;
		case O_JSON: o->json = true; break;
		case O_NODES: o->nodes = true; break;
		case O_PROFILE: o->profile = true; break;
		case O_DIM: {
			char *eq = strchr(optarg, '='), *end = NULL;
			long long v = eq ? strtoll(eq + 1, &end, 10) : -1;

			if (!eq || eq == optarg || !end || *end || end == eq + 1 || v < 0) {
				fprintf(stderr, "onnxpass: error: --dim wants NAME=N with N >= 0, not '%s'\n", optarg);
				return 2;
			}
			if (grow(&o->dim_names, &o->cap_dims, o->n_dims + 1, sizeof(*o->dim_names)) ||
			    grow(&o->dim_values, &o->cap_dim_values, o->n_dims + 1, sizeof(*o->dim_values)))
				return 1;
			*eq = '\0';
			o->dim_names[o->n_dims] = optarg;
			o->dim_values[o->n_dims++] = v;
			break;
		}
		case O_DATA: o->data_file = optarg; break;
		case O_OPSET: {
			char *end = NULL;
			long long v = strtoll(optarg, &end, 10);

			if (!end || *end || v < 1 || v > 1000) {
				fprintf(stderr, "onnxpass: error: --opset wants a version number, not '%s'\n", optarg);
				return 2;
			}
			o->opset = v;
			break;
		}
		case O_EXTERNAL:
			if (!strcmp(optarg, "auto"))
				o->external = ONNXPASS_EXTERNAL_AUTO;
			else if (!strcmp(optarg, "always"))
				o->external = ONNXPASS_EXTERNAL_ALWAYS;
			else if (!strcmp(optarg, "never"))
				o->external = ONNXPASS_EXTERNAL_NEVER;
			else {
				fprintf(stderr, "onnxpass: error: --external wants auto, always or never, not '%s'\n", optarg);
				return 2;
			}
			break;
		case O_EXTMIN:
			o->external_min = atoll(optarg);
			if (o->external_min < 1) {
				fprintf(stderr, "onnxpass: error: --external-min-bytes wants a positive number\n");
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		o->cmd = argv[optind++];
		if (strcmp(o->cmd, "run") && strcmp(o->cmd, "info") && strcmp(o->cmd, "convert")) {
			fprintf(stderr, "onnxpass: error: unknown command '%s' (see onnxpass --help)\n", o->cmd);
			return 2;
		}
		/* getopt moved every non-option to the end, in order */
		o->args = calloc((size_t)(argc - optind) + 1, sizeof(char *));
		if (!o->args)
			return 1;
		while (optind < argc)
			o->args[o->n_args++] = argv[optind++];
	}
	return 0;
}

static void describe(const struct plugin *p)
{
	const struct onnxpass_plugin *d = p->desc;

	printf("%s %s - %s\n  plugin: %s\n", d->name, d->version, d->summary, p->path);
	if (d->struct_size >= offsetof(struct onnxpass_plugin, description) + sizeof(char *) &&
	    d->description)
		printf("\n%s\n", d->description);
	printf("\nparameters:\n");
	if (!d->n_params)
		printf("  (none)\n");
	for (size_t i = 0; i < d->n_params; i++) {
		const struct onnxpass_param *q = &d->params[i];
		static const char *tn[] = { "", "bool", "int", "float", "string", "enum", "list" };

		printf("  %-20s %-6s %s\n", q->name, tn[q->type], q->help);
		if (q->type == ONNXPASS_PARAM_ENUM ||
		    (q->type == ONNXPASS_PARAM_INT && q->choices && *q->choices))
			printf("  %-20s        one of: %s\n", "", q->choices);
		if ((q->type == ONNXPASS_PARAM_INT || q->type == ONNXPASS_PARAM_FLOAT) &&
		    (q->min != 0 || q->max != 0))
			printf("  %-20s        range: %g..%g\n", "", q->min, q->max);
		if (q->required)
			printf("  %-20s        required\n", "");
		else if (q->default_value)
			printf("  %-20s        default: %s\n", "", q->default_value);
	}
}

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

/* Whether path is one of the files the inputs read (by device and inode:
 * a renamed input still reads its old data file, a link is the same
 * file); *which names it. */
static bool input_reads(struct onnxpass_bundle *b, const char *path, const char **which)
{
	struct stat out, in;

	if (stat(path, &out) || !S_ISREG(out.st_mode))
		return false;
	for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
		struct onnxpass_model *m = onnxpass_bundle_model(b, i);

		for (size_t k = 0; k < onnxpass_model_file_count(m); k++)
			if (!stat(onnxpass_model_file(m, k), &in) && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
				*which = onnxpass_model_file(m, k);
				return true;
			}
	}
	return false;
}

/* Before any work: no file the run writes (the model and its data file,
 * what an output folder holds, the report) may be one the inputs read. */
static int guard_inputs(const struct opts *o, struct onnxpass_bundle *b, bool to_file, char *err)
{
	char **names = NULL, *data = NULL;
	const char *which;
	size_t n = 0;
	int rc = 0;

	if (o->report && input_reads(b, o->report, &which)) {
		set_err(err, ERRLEN, "cannot write report '%s': the input reads it ('%s')", o->report, which);
		return ONNXPASS_EINVAL;
	}
	if (to_file) {
		/* the data file: a fixed name, or one named by its content
		 * (which leaves an input's file of other content alone) */
		char *dir = path_dir(o->output);

		data = o->data_file && dir ? path_join(dir, o->data_file) : NULL;
		free(dir);
		if (o->data_file && !data)
			return ONNXPASS_ENOMEM;
		if (input_reads(b, o->output, &which) || (data && input_reads(b, data, &which))) {
			set_err(err, ERRLEN, "cannot write model '%s': the input reads '%s'", o->output, which);
			rc = ONNXPASS_EINVAL;
		}
		free(data);
		return rc;
	}
	if (is_dir(o->output) && list_dir(o->output, "", &names, &n) == 0) {
		for (size_t i = 0; i < n && !rc; i++) {
			char *p = path_join(o->output, names[i]);

			if (p && input_reads(b, p, &which)) {
				set_err(err, ERRLEN, "cannot write bundle '%s': it holds '%s', which the input reads",
					o->output, which);
				rc = ONNXPASS_EINVAL;
			}
			free(p);
		}
		free_names(names, n);
	}
	return rc;
}

/* What can be known about the output before any work: an existing one
 * without --force, a folder where a file is, several models for one
 * file.  (The same checks run again when saving.) */
static int check_output_early(const struct opts *o, const struct recipe *r, char *err)
{
	bool to_file = str_ends_with(o->output, ".onnx") && !is_dir(o->output);
	struct stat st;

	if (!strcmp(o->output, "-")) {
		set_err(err, ERRLEN, "cannot write to '-': give a folder or a .onnx file");
		return ONNXPASS_EINVAL;
	}
	if (to_file) {
		size_t n = 0;

		if (!o->force && !access(o->output, F_OK)) {
			set_err(err, ERRLEN, "cannot write model '%s': file exists (use --force)", o->output);
			return ONNXPASS_EINVAL;
		}
		/* passes add models (embedding-split), only a recipe's outputs
		 * drop them */
		if (r && r->n_outputs)
			n = r->n_outputs;
		else if (r && r->n_inputs)
			n = r->n_inputs;
		else if (is_dir(o->input)) {
			char **names = NULL;

			if (list_dir(o->input, ".onnx", &names, &n) == 0)
				free_names(names, n);
		}
		if (n > 1) {
			set_err(err, ERRLEN, "cannot write %zu models to the file '%s': give a folder", n, o->output);
			return ONNXPASS_EINVAL;
		}
		return 0;
	}
	if (!stat(o->output, &st) && !S_ISDIR(st.st_mode)) {
		set_err(err, ERRLEN, "cannot write bundle '%s': exists and is not a folder", o->output);
		return ONNXPASS_EINVAL;
	}
	if (!o->force && is_dir(o->output)) {
		DIR *d = opendir(o->output);
		struct dirent *de;
		size_t n = 0;

		while (d && (de = readdir(d)))
			n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		if (d)
			closedir(d);
		if (n) {
			set_err(err, ERRLEN, "cannot write bundle '%s': folder exists and is not empty (use --force)",
				o->output);
			return ONNXPASS_EINVAL;
		}
	}
	return 0;
}

static int load_inputs(const struct opts *o, const struct recipe *r, struct onnxpass_bundle *b,
		       char *err, size_t errlen)
{
	if (!is_dir(o->input)) {
		const char *role = r && r->n_inputs == 1 ? r->inputs[0].role : NULL;

		return onnxpass_bundle_load_file(b, role, o->input, err, errlen);
	}
	if (!r || !r->n_inputs)
		return onnxpass_bundle_load_dir(b, o->input, err, errlen);
	for (size_t i = 0; i < r->n_inputs; i++) {
		char *p = path_join(o->input, r->inputs[i].file);
		int rc;

		if (!p)
			return ONNXPASS_ENOMEM;
		if (access(p, F_OK)) {
			set_err(err, errlen, "input '%s' has no %s (recipe '%s' needs it as role '%s')",
				o->input, r->inputs[i].file, r->path, r->inputs[i].role);
			free(p);
			return ONNXPASS_ENOTFOUND;
		}
		rc = onnxpass_bundle_load_file(b, r->inputs[i].role, p, err, errlen);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_outputs(const struct recipe *r, struct onnxpass_bundle *b, char *err,
			 size_t errlen)
{
	if (!r->n_outputs)
		return 0;
	for (size_t i = 0; i < r->n_outputs; i++) {
		if (onnxpass_bundle_index(b, r->outputs[i].role) < 0) {
			set_err(err, errlen, "recipe '%s': output role '%s' does not exist after the last step",
				r->path, r->outputs[i].role);
			return ONNXPASS_ENOTFOUND;
		}
	}
	for (size_t i = onnxpass_bundle_count(b); i-- > 0;) {
		const char *role = onnxpass_bundle_role(b, i);
		bool keep = false;

		for (size_t k = 0; k < r->n_outputs; k++)
			keep |= !strcmp(r->outputs[k].role, role);
		if (!keep)
			onnxpass_bundle_remove(b, role);
	}
	/* two passes so renames cannot collide with a name still in use */
	for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
		char tmpname[128];

		snprintf(tmpname, sizeof(tmpname), ".rename-%zu", i);
		onnxpass_bundle_set_file(b, onnxpass_bundle_role(b, i), tmpname);
	}
	for (size_t k = 0; k < r->n_outputs; k++) {
		int rc = onnxpass_bundle_set_file(b, r->outputs[k].role, r->outputs[k].file);

		if (rc) {
			set_err(err, errlen, "recipe '%s': cannot name output '%s' '%s'", r->path,
				r->outputs[k].role, r->outputs[k].file);
			return rc;
		}
	}
	return 0;
}

static uint64_t dir_bytes(const char *dir, struct onnxpass_bundle *b, const char *shared,
			  FILE *table)
{
	uint64_t total = 0;
	char hb[32], *sp = path_join(dir, shared);

	if (sp && file_size(sp)) {
		total += file_size(sp);
		if (table)
			fprintf(table, "  %-24s %-40s %12s\n", "(shared)", shared,
				human_bytes(file_size(sp), hb, sizeof(hb)));
	}
	free(sp);

	for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
		char *p = path_join(dir, onnxpass_bundle_file(b, i));
		char *d = p ? malloc(strlen(p) + 6) : NULL;
		uint64_t n;

		if (!d) {
			free(p);
			continue;
		}
		snprintf(d, strlen(p) + 6, "%s.data", p);
		n = file_size(p) + file_size(d);
		total += n;
		if (table)
			fprintf(table, "  %-24s %-40s %12s\n", onnxpass_bundle_role(b, i),
				onnxpass_bundle_file(b, i), human_bytes(n, hb, sizeof(hb)));
		free(p);
		free(d);
	}
	return total;
}

static uint64_t input_bytes(struct onnxpass_bundle *b)
{
	uint64_t total = 0;

	for (size_t i = 0; i < onnxpass_bundle_count(b); i++)
		total += model_disk_bytes(onnxpass_bundle_model(b, i));
	return total;
}

/* manifest.json: what each file is and takes, and how to run it. */
static char *manifest(const struct recipe *r, struct onnxpass_bundle *b)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct jw w;

	if (!f)
		return NULL;
	jw_init(&w, f, true);
	jw_object(&w, NULL);
	jw_str(&w, "producer", "onnxpass " PACKAGE_VERSION);
	jw_str(&w, "recipe", r && r->name ? r->name : "");
	jw_str(&w, "notes", r && r->notes ? r->notes : "");
	jw_array(&w, "models");
	for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
		jw_object(&w, NULL);
		jw_str(&w, "role", onnxpass_bundle_role(b, i));
		jw_str(&w, "file", onnxpass_bundle_file(b, i));
		info_io_json(&w, onnxpass_model_graph(onnxpass_bundle_model(b, i)));
		jw_end(&w);
	}
	jw_finish(&w);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Bytes of a written model and the data files it reads (named by their
 * content, so read back from the model). */
static uint64_t written_bytes(const char *path)
{
	struct onnxpass_model *m = NULL;
	uint64_t n = 0;

	if (onnxpass_model_load(path, &m, NULL, 0))
		return file_size(path);
	for (size_t k = 0; k < onnxpass_model_file_count(m); k++)
		n += file_size(onnxpass_model_file(m, k));
	onnxpass_model_free(m);
	return n;
}

static int run_job(struct opts *o, struct registry *reg, struct recipe *r, char *err)
{
	struct onnxpass_bundle *b = onnxpass_bundle_new();
	struct run_options ro = { o->verbosity, o->threads, o->quiet, NULL };
	struct onnxpass_bundle_save_options so;
	struct output_lock lock = { -1, NULL };
	struct report rep;
	time_t started = time(NULL);
	uint64_t out_bytes;
	char h1[32], h2[32];
	bool guarded = false;	/* the report is known not to be an input's file */
	bool unsafe = false;	/* it is one */
	int rc = 0;

	if (!b)
		return ONNXPASS_ENOMEM;
	if (report_open(&rep, o->report, o->cmd ? o->cmd : "recipe", r, o->input, o->output)) {
		onnxpass_bundle_free(b);
		return ONNXPASS_ENOMEM;
	}
	if (o->report)
		ro.report = &rep;
	if (!o->input || !o->output) {
		set_err(err, ERRLEN, "need -i IN and -o OUT");
		rc = ONNXPASS_EINVAL;
		goto out;
	}
	if ((rc = check_output_early(o, r, err)))
		goto out;
	/* one writer per output; what a killed writer left goes */
	if ((rc = output_lock(o->output, &lock, err, ERRLEN)))
		goto out;
	remove_leftovers(o->output, started, o->quiet);
	/* spilled tensors go beside the output, on the disk it is written to */
	{
		char *od = path_dir(o->output);

		rc = od ? onnxpass_bundle_set_scratch_dir(b, od) : ONNXPASS_ENOMEM;
		free(od);
		if (rc)
			goto out;
	}
	/* refuse to write over the input before any work is done */
	{
		char ri[4096], rout[4096], *idir = is_dir(o->input) ? strdup(o->input)
								 : path_dir(o->input);

		if (idir && realpath(idir, ri) && realpath(o->output, rout) && !strcmp(ri, rout)) {
			set_err(err, ERRLEN, "cannot write bundle '%s': it is the input folder",
				o->output);
			rc = ONNXPASS_EINVAL;
		}
		if (!rc && realpath(o->input, ri) && realpath(o->output, rout) && !strcmp(ri, rout)) {
			set_err(err, ERRLEN, "cannot write model '%s': it is the input file", o->output);
			rc = ONNXPASS_EINVAL;
		}
		free(idir);
		if (rc)
			goto out;
	}
	rc = load_inputs(o, r, b, err, ERRLEN);
	report_inputs(&rep, b);
	if (!rc && o->report) {
		const char *which;

		unsafe = input_reads(b, o->report, &which);	/* guard_inputs says so */
	}
	if (rc || (rc = guard_inputs(o, b, str_ends_with(o->output, ".onnx") && !is_dir(o->output), err)))
		goto out;
	guarded = true;
	if (!o->quiet) {
		uint64_t total = 0;

		fprintf(stderr, "read %s:\n", o->input);
		for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
			uint64_t n = model_disk_bytes(onnxpass_bundle_model(b, i));

			total += n;
			fprintf(stderr, "  %-24s %-40s %12s\n", onnxpass_bundle_role(b, i),
				onnxpass_bundle_file(b, i), human_bytes(n, h1, sizeof(h1)));
		}
		fprintf(stderr, "  total %s\n", human_bytes(total, h1, sizeof(h1)));
	}
	if (r) {
		rc = run_recipe(r, b, &ro, err, ERRLEN);
		if (!rc)
			rc = apply_outputs(r, b, err, ERRLEN);
		if (rc)
			goto out;
	}
	for (size_t i = 0; o->opset && i < onnxpass_bundle_count(b); i++) {
		char why[ERRLEN];

		if ((rc = onnxpass_model_raise_opset(onnxpass_bundle_model(b, i), o->opset, why, sizeof(why)))) {
			set_err(err, ERRLEN, "%s: %s", onnxpass_model_path(onnxpass_bundle_model(b, i)), why);
			goto out;
		}
	}
	memset(&so, 0, sizeof(so));
	so.struct_size = sizeof(so);
	so.model.struct_size = sizeof(so.model);
	so.model.external = o->external;
	so.model.external_min_bytes = (size_t)o->external_min;
	so.model.data_file = o->data_file;
	so.shared_data_file = r ? r->shared_data : NULL;
	so.force = o->force;
	if (str_ends_with(o->output, ".onnx") && !is_dir(o->output)) {
		if (onnxpass_bundle_count(b) != 1) {
			set_err(err, ERRLEN, "cannot write %zu models to the file '%s': give a folder",
				onnxpass_bundle_count(b), o->output);
			rc = ONNXPASS_EINVAL;
			goto out;
		}
		if (!o->force && !access(o->output, F_OK)) {
			set_err(err, ERRLEN, "cannot write model '%s': file exists (use --force)", o->output);
			rc = ONNXPASS_EINVAL;
			goto out;
		}
		rc = onnxpass_model_save(onnxpass_bundle_model(b, 0), o->output, &so.model, err, ERRLEN);
		if (!rc && (!o->quiet || o->report)) {
			out_bytes = written_bytes(o->output);
			report_output(&rep, onnxpass_bundle_role(b, 0), o->output, out_bytes);
			if (!o->quiet)
				fprintf(stderr, "wrote %s: %s (input %s)\n", o->output,
					human_bytes(out_bytes, h1, sizeof(h1)),
					human_bytes(input_bytes(b), h2, sizeof(h2)));
		}
	} else {
		char *man = manifest(r, b);

		so.extra_file = "manifest.json";
		so.extra_text = man;
		rc = onnxpass_bundle_save(b, o->output, &so, err, ERRLEN);
		free(man);
		for (size_t i = 0; !rc && o->report && i < onnxpass_bundle_count(b); i++) {
			char *p = path_join(o->output, onnxpass_bundle_file(b, i));

			if (p)
				report_output(&rep, onnxpass_bundle_role(b, i), p, written_bytes(p));
			free(p);
		}
		if (!rc && !o->quiet) {
			fprintf(stderr, "wrote %s:\n", o->output);
			out_bytes = dir_bytes(o->output, b,
					      so.shared_data_file ? so.shared_data_file
								  : "shared_weights.data", stderr);
			fprintf(stderr, "  total %s\n", human_bytes(out_bytes, h1, sizeof(h1)));
		}
	}
out:
	/* the report, on failure too; before the inputs were checked against
	 * it, only where it cannot be one of their files */
	if (o->report && !unsafe && (guarded || !file_size(o->report) || str_ends_with(o->report, ".json"))) {
		char rerr[ERRLEN];
		int wrc = report_close(&rep, rc, err, rerr, sizeof(rerr));

		if (wrc && !rc) {
			memcpy(err, rerr, sizeof(rerr));
			rc = wrc;
		} else if (wrc) {
			fprintf(stderr, "onnxpass: warning: %s\n", rerr);
		}
	} else {
		report_discard(&rep);
	}
	output_unlock(&lock);
	onnxpass_bundle_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct registry reg = { 0 };
	struct recipe *r = NULL;
	char err[ERRLEN] = "", recipe_path[PATH_MAX];
	int rc;

	onnxpass_catch_bus_errors(output_lock_forget);	/* an input truncated under us: one line */
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (!o.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o.threads = n > 0 && n < 1024 ? (int)n : 1;
	}
	if (o.cmd && !strcmp(o.cmd, "info")) {
		if (o.n_args != 1) {
			fprintf(stderr, "onnxpass: error: info takes one model file\n");
			return 2;
		}
		if (o.profile)
			rc = info_profile(o.args[0], o.dim_names, o.dim_values, o.n_dims, o.json, stdout, err,
					  sizeof(err));
		else
			rc = info_print(o.args[0], o.json, o.nodes, stdout, err, sizeof(err));
		goto out;
	}
	if (o.cmd && !strcmp(o.cmd, "convert")) {
		rc = run_job(&o, &reg, NULL, err);
		goto out;
	}
	rc = registry_load_default(&reg, o.plugin_dirs, o.n_plugin_dirs, err, sizeof(err));
	if (rc)
		goto out;
	if (o.list_recipes) {
		rc = recipe_list(&reg, stdout);
		if (rc)
			set_err(err, sizeof(err), "no recipes found (installed ones are in %s)", ONNXPASS_RECIPE_DIR);
		goto out;
	}
	if (o.list) {
		const char *sys = getenv("ONNXPASS_PLUGIN_SYSTEM_PATH"), *more = getenv("ONNXPASS_PLUGIN_PATH");
		char tree[PATH_MAX];

		for (size_t i = 0; i < reg.n; i++)
			printf("%-20s %s\n", reg.p[i].desc->name, reg.p[i].desc->summary);
		if (!reg.n) {	/* say where it looked (an uninstalled build: use -P plugins/.libs) */
			set_err(err, sizeof(err), "no plugins found in %s%s%s%s",
				sys ? sys : build_tree_plugins(tree, sizeof(tree)) ? tree : ONNXPASS_PLUGIN_DIR,
				more && *more ? ", " : "", more ? more : "",
				o.n_plugin_dirs ? " or the -P folders" : " (a build tree's are in plugins/.libs: -P)");
			rc = ONNXPASS_ENOTFOUND;
		}
		goto out;
	}
	if (o.describe) {
		const struct plugin *p = registry_find(&reg, o.describe);

		if (!p) {
			registry_missing_msg(&reg, o.describe, err, sizeof(err));
			rc = ONNXPASS_ENOTFOUND;
		} else {
			describe(p);
		}
		goto out;
	}
	if (o.cmd && !strcmp(o.cmd, "run")) {
		const struct plugin *p;

		if (o.n_args < 1) {
			fprintf(stderr, "onnxpass: error: run needs a pass name\n");
			rc = 2;
			goto out_noerr;
		}
		p = registry_find(&reg, o.args[0]);
		if (!p) {
			registry_missing_msg(&reg, o.args[0], err, sizeof(err));
			rc = ONNXPASS_ENOTFOUND;
			goto out;
		}
		rc = recipe_single(p, o.args + 1, (size_t)(o.n_args - 1), &r, err, sizeof(err));
		if (!rc)
			rc = run_job(&o, &reg, r, err);
		goto out;
	}
	if (!o.recipe) {
		usage(stderr);
		rc = 2;
		goto out_noerr;
	}
	rc = recipe_find(o.recipe, recipe_path, sizeof(recipe_path), err, sizeof(err));
	if (rc)
		goto out;
	o.recipe = recipe_path;
	rc = recipe_load(o.recipe, &reg, &r, err, sizeof(err));
	if (rc)
		goto out;
	if (o.check) {
		if (!o.quiet)
			printf("%s: recipe '%s' is valid: %zu steps\n", o.recipe, r->name, r->n_steps);
		goto out;
	}
	rc = run_job(&o, &reg, r, err);
out:
	if (rc < 0 || (rc > 0 && err[0])) {
		fprintf(stderr, "onnxpass: error: %s\n", err[0] ? err : onnxpass_strerror(rc));
		rc = 1;
	}
out_noerr:
	recipe_free(r);
	registry_release(&reg);
	free(o.plugin_dirs);
	free(o.args);
	free(o.dim_names);
	free(o.dim_values);
	return rc;
}
