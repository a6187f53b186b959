/* SPDX-License-Identifier: MIT */
/* The job: what `onnxpass -r RECIPE` and `onnxpass run PASS` do once the
 * command line is parsed: inputs checked and loaded, steps run, outputs
 * committed with their size table, manifest and report. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

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
		char *d = p ? str_printf("%s.data", p) : NULL;
		uint64_t n;

		if (!d) {
			free(p);
			continue;
		}
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

/* The recipe's memory_dims estimate of the models written into folder
 * (see memory.c), as "memory" of the manifest; null, with a warning, when
 * it cannot be made. */
static void manifest_memory(struct jw *w, const struct recipe *r, struct onnxpass_bundle *b, const char *folder)
{
	size_t n = onnxpass_bundle_count(b);
	struct mem_est *e = calloc(n ? n : 1, sizeof(*e));
	const char **files = calloc(n ? n : 1, sizeof(*files)), **roles = calloc(n ? n : 1, sizeof(*roles));
	char why[ERRLEN] = "out of memory";
	int rc = e && files && roles ? 0 : ONNXPASS_ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		char *p = path_join(folder, onnxpass_bundle_file(b, i));

		files[i] = onnxpass_bundle_file(b, i);
		roles[i] = onnxpass_bundle_role(b, i);
		rc = p ? memory_estimate_file(p, (const char *const *)r->mem_names, r->mem_values, r->n_mem, &e[i], why,
					      sizeof(why))
		       : ONNXPASS_ENOMEM;
		free(p);
	}
	if (rc) {
		say("warning", "manifest.json: no memory estimate: %s", why);
		jw_null(w, "memory");
	} else {
		jw_object(w, "memory");
		memory_json(w, files, roles, e, n, (const char *const *)r->mem_names, r->mem_values, r->n_mem);
		jw_end(w);
	}
	free(e);
	free(files);
	free(roles);
}

/* manifest.json: what each file is and takes, and how to run it; with the
 * recipe's memory_dims, the memory estimate of the files in folder. */
static char *manifest(const struct recipe *r, struct onnxpass_bundle *b, const char *folder)
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
	if (r && r->n_overrides) {
		jw_array(&w, "set");
		for (size_t i = 0; i < r->n_overrides; i++)
			jw_str(&w, NULL, r->overrides[i]);
		jw_end(&w);
	}
	jw_array(&w, "models");
	for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
		jw_object(&w, NULL);
		jw_str(&w, "role", onnxpass_bundle_role(b, i));
		jw_str(&w, "file", onnxpass_bundle_file(b, i));
		info_io_json(&w, onnxpass_model_graph(onnxpass_bundle_model(b, i)));
		jw_end(&w);
	}
	jw_end(&w);
	if (r && r->n_mem && folder)
		manifest_memory(&w, r, b, folder);
	jw_finish(&w);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

struct manifest_arg {
	const struct recipe *r;
	struct onnxpass_bundle *b;
};

static char *manifest_fn(const char *folder, void *arg)
{
	struct manifest_arg *a = arg;

	return manifest(a->r, a->b, folder);
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

int run_job(struct opts *o, struct registry *reg, struct recipe *r, char *err)
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
		struct manifest_arg ma = { r, b };

		so.extra_file = "manifest.json";
		so.extra_fn = manifest_fn;
		so.extra_arg = &ma;
		rc = onnxpass_bundle_save(b, o->output, &so, err, ERRLEN);
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
			say("warning", "%s", rerr);
		}
	} else {
		report_discard(&rep);
	}
	output_unlock(&lock);
	onnxpass_bundle_free(b);
	return rc;
}
