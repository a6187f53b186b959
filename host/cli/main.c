/* SPDX-License-Identifier: MIT */
/* The onnxpass program's entry: parses the command line and dispatches to
 * the job (job.c), info, convert, --list, --describe and --check. */
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

static void usage(FILE *f)
{
	fputs("usage: onnxpass -r RECIPE -i IN -o OUT [options]\n"
	      "       onnxpass run PASS [KEY=VALUE...] -i IN -o OUT [options]\n"
	      "       onnxpass convert -i IN -o OUT [--external MODE]\n"
	      "       onnxpass info [--json | --nodes] MODEL\n"
	      "       onnxpass info --profile [--json] [--dim NAME=N ...] MODEL\n"
	      "       onnxpass info --memory [--json] [--dim NAME=N ...] MODEL|FOLDER...\n"
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
	      "      --set STEP.KEY=VALUE set a recipe step's parameter (repeatable; the\n"
	      "                           manifest records it)\n"
	      "      --check              validate the recipe and its parameters, then stop\n"
	      "      --list               list the passes found\n"
	      "      --list-recipes       list the installed recipes\n"
	      "      --describe PASS      show a pass's parameters\n"
	      "      --profile            info: parameters, MACs, activations per op type\n"
	      "      --memory             info: ONNX Runtime's resident memory, estimated: weights,\n"
	      "                           KV cache, activations (per model and in total)\n"
	      "      --dim NAME=N         info --profile/--memory: give symbolic dim NAME the size N\n"
	      "  -v, --verbose            more detail (twice: debug)\n"
	      "  -q, --quiet              only errors\n"
	      "  -h, --help               this help\n"
	      "  -V, --version            version\n"
	      "\n"
	      "Plugins are searched in " ONNXPASS_PLUGIN_DIR " (or $ONNXPASS_PLUGIN_SYSTEM_PATH),\n"
	      "then $ONNXPASS_PLUGIN_PATH (colon separated), then each -P DIR.\n",
	      f);
}

/* 0: go on; -1: done (--help, --version); >0: the exit status of a usage error */
static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_LIST = 256, O_DESCRIBE, O_CHECK, O_REPORT, O_EXTERNAL, O_EXTMIN, O_JSON, O_DATA, O_NODES, O_PROFILE, O_DIM, O_OPSET, O_LIST_RECIPES, O_SET, O_MEMORY };
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
		{ "opset", required_argument, 0, O_OPSET }, { "set", required_argument, 0, O_SET },
		{ "memory", no_argument, 0, O_MEMORY },
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
				say("error", "--threads wants 1..1024, not '%s'", optarg);
				return 2;
			}
			break;
		case 'v': o->verbosity++; break;
		case 'q': o->quiet = true; o->verbosity = ONNXPASS_LOG_ERROR; break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("onnxpass %s (plugin ABI %u)\n", PACKAGE_VERSION, ONNXPASS_ABI_VERSION); return -1;
		case O_LIST: o->list = true; break;
		case O_LIST_RECIPES: o->list_recipes = true; break;
		case O_DESCRIBE: o->describe = optarg; break;
		case O_CHECK: o->check = true; break;
		case O_REPORT: o->report = optarg; break;
		case O_JSON: o->json = true; break;
		case O_NODES: o->nodes = true; break;
		case O_PROFILE: o->profile = true; break;
		case O_MEMORY: o->memory = true; break;
		case O_DIM: {
			int64_t v;

			if (!split_dim(optarg, &v)) {	/* optarg unchanged when it fails */
				say("error", "--dim wants NAME=N with N >= 0, not '%s'", optarg);
				return 2;
			}
			if (grow(&o->dim_names, &o->cap_dims, o->n_dims + 1, sizeof(*o->dim_names)) ||
			    grow(&o->dim_values, &o->cap_dim_values, o->n_dims + 1, sizeof(*o->dim_values)))
				return 1;
			for (size_t k = 0; k < o->n_dims; k++)
				if (!strcmp(o->dim_names[k], optarg)) {
					say("error", "--dim gives '%s' twice", optarg);
					return 2;
				}
			o->dim_names[o->n_dims] = optarg;
			o->dim_values[o->n_dims++] = v;
			break;
		}
		case O_DATA: o->data_file = optarg; break;
		case O_SET:
			if (grow(&o->sets, &o->cap_sets, o->n_sets + 1, sizeof(*o->sets)))
				return 1;
			o->sets[o->n_sets++] = optarg;
			break;
		case O_OPSET: {
			char *end = NULL;
			long long v = strtoll(optarg, &end, 10);

			if (!end || *end || v < 1 || v > 1000) {
				say("error", "--opset wants a version number, not '%s'", optarg);
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
				say("error", "--external wants auto, always or never, not '%s'", optarg);
				return 2;
			}
			break;
		case O_EXTMIN:
			o->external_min = atoll(optarg);
			if (o->external_min < 1) {
				say("error", "--external-min-bytes wants a positive number");
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
			say("error", "unknown command '%s' (see onnxpass --help)", o->cmd);
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

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct registry reg = { 0 };
	struct recipe *r = NULL;
	char err[ERRLEN] = "", recipe_path[PATH_MAX];
	int rc;

	onnxpass_catch_bus_errors(output_lock_forget);	/* an input truncated under us: one line */
	rc = parse_args(argc, argv, &o);
	if (rc) {
		if (rc < 0)	/* --help, --version: done */
			rc = 0;
		goto out_noerr;
	}
	if (o.n_sets && (o.cmd || !o.recipe)) {
		say("error", "--set changes a step of the recipe given with -r (run takes KEY=VALUE)");
		rc = 2;
		goto out_noerr;
	}
	if (!o.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o.threads = n > 0 && n < 1024 ? (int)n : 1;
	}
	if (o.cmd && !strcmp(o.cmd, "info") && o.memory) {
		if (o.n_args < 1) {
			say("error", "info --memory takes model files or bundle folders");
			rc = 2;
			goto out_noerr;
		}
		rc = info_memory(o.args, (size_t)o.n_args, o.dim_names, o.dim_values, o.n_dims, o.json, stdout, err,
				 sizeof(err));
		goto out;
	}
	if (o.cmd && !strcmp(o.cmd, "info")) {
		if (o.n_args != 1) {
			say("error", "info takes one model file");
			rc = 2;
			goto out_noerr;
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
			say("error", "run needs a pass name");
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
	if (!rc)
		rc = recipe_override(r, o.sets, o.n_sets, err, sizeof(err));
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
		say("error", "%s", err[0] ? err : onnxpass_strerror(rc));
		rc = 1;
	}
out_noerr:
	recipe_free(r);
	registry_release(&reg);
	free(o.plugin_dirs);
	free(o.sets);
	free(o.args);
	free(o.dim_names);
	free(o.dim_values);
	return rc;
}
