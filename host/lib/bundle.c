/* SPDX-License-Identifier: MIT */
/* Bundles: models by role, loaded from a folder and written to one
 * atomically (a temporary folder renamed into place). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct entry {
	char *role;
	char *file;
	struct onnxpass_model *model;
};

struct onnxpass_bundle {
	struct entry *e;
	size_t n, cap;
	struct onnxpass_model **gone;	/* removed, freed with the bundle */
	size_t n_gone, cap_gone;
	/* where passes spill large new tensors: a file with no name (unlinked
	 * as soon as made, so nothing is left behind whatever happens) */
	char *scratch_dir;
	int scratch_fd;	/* 0: not open yet (fd 0 is never ours) */
	uint64_t scratch_end;
	pthread_mutex_t scratch_lock;
};

struct onnxpass_bundle *onnxpass_bundle_new(void)
{
	struct onnxpass_bundle *b = calloc(1, sizeof(struct onnxpass_bundle));

	if (b)
		pthread_mutex_init(&b->scratch_lock, NULL);
	return b;
}

int onnxpass_bundle_set_scratch_dir(struct onnxpass_bundle *b, const char *dir)
{
	char *d = strdup(dir);

	if (!d)
		return ONNXPASS_ENOMEM;
	free(b->scratch_dir);
	b->scratch_dir = d;
	return 0;
}

static int scratch_open(struct onnxpass_bundle *b, char *err, size_t errlen)
{
	const char *dir = b->scratch_dir ? b->scratch_dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *tmpl = path_join(dir, ".onnxpass-scratch.XXXXXX");
	int fd;

	if (!tmpl)
		return ONNXPASS_ENOMEM;
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (fd = mkostemp(tmpl, O_CLOEXEC)) >= 0)
		unlink(tmpl);
	free(tmpl);
	if (fd < 0) {
		set_err(err, errlen, "cannot make a scratch file in '%s': %s", dir, strerror(errno));
		return ONNXPASS_EIO;
	}
	b->scratch_fd = fd;
	return 0;
}

int bundle_spill(struct onnxpass_bundle *b, struct onnxpass_tensor *t, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t at, len = onnxpass_tensor_nbytes(t);
	int rc = 0;

	if (page <= 0)
		page = 4096;
	pthread_mutex_lock(&b->scratch_lock);
	if (!b->scratch_fd)
		rc = scratch_open(b, err, errlen);
	at = b->scratch_end;
	b->scratch_end += (len + (uint64_t)page - 1) / (uint64_t)page * (uint64_t)page;
	pthread_mutex_unlock(&b->scratch_lock);
	if (!rc && (rc = tensor_spill(t, b->scratch_fd, at, "scratch file")) == ONNXPASS_EIO)
		set_err(err, errlen, "cannot write the scratch file in '%s': %s",
			b->scratch_dir ? b->scratch_dir : "$TMPDIR", strerror(errno));
	return rc;
}

void onnxpass_bundle_free(struct onnxpass_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		onnxpass_model_free(b->e[i].model);
		free(b->e[i].role);
		free(b->e[i].file);
	}
	for (size_t i = 0; i < b->n_gone; i++)
		onnxpass_model_free(b->gone[i]);
	free(b->gone);
	free(b->e);
	if (b->scratch_fd)	/* after the models: their mappings keep the space */
		close(b->scratch_fd);
	free(b->scratch_dir);
	pthread_mutex_destroy(&b->scratch_lock);
	free(b);
}

size_t onnxpass_bundle_count(const struct onnxpass_bundle *b)
{
	return b->n;
}

struct onnxpass_model *onnxpass_bundle_model(struct onnxpass_bundle *b, size_t i)
{
	return i < b->n ? b->e[i].model : NULL;
}

const char *onnxpass_bundle_role(const struct onnxpass_bundle *b, size_t i)
{
	return i < b->n ? b->e[i].role : NULL;
}

const char *onnxpass_bundle_file(const struct onnxpass_bundle *b, size_t i)
{
	return i < b->n ? b->e[i].file : NULL;
}

int onnxpass_bundle_index(const struct onnxpass_bundle *b, const char *role)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->e[i].role, role))
			return (int)i;
	return ONNXPASS_ENOTFOUND;
}

struct onnxpass_model *onnxpass_bundle_find(struct onnxpass_bundle *b, const char *role)
{
	int i = onnxpass_bundle_index(b, role);

	return i < 0 ? NULL : b->e[i].model;
}

static bool good_file_name(const char *f)
{
	return *f && !strchr(f, '/') && strcmp(f, ".") && strcmp(f, "..") && strlen(f) < 240;
}

/* Roles come from recipes or from file names: printable, no blank, ':'
 * (the ROLE:FILE separator) or '/', at most 200 bytes. */
static bool good_role(const char *r)
{
	size_t n = strlen(r);

	if (!n || n > 200)
		return false;
	for (; *r; r++)
		if ((unsigned char)*r <= ' ' || *r == ':' || *r == '/' || *r == 0x7f)
			return false;
	return true;
}

int onnxpass_bundle_add(struct onnxpass_bundle *b, const char *role, const char *file,
			struct onnxpass_model *m)
{
	struct entry e;

	if (!good_role(role) || !good_file_name(file) || onnxpass_bundle_index(b, role) >= 0)
		return ONNXPASS_EINVAL;
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->e[i].file, file))
			return ONNXPASS_EINVAL;
	if (grow(&b->e, &b->cap, b->n + 1, sizeof(*b->e)))
		return ONNXPASS_ENOMEM;
	e.role = strdup(role);
	e.file = strdup(file);
	e.model = m;
	if (!e.role || !e.file) {
		free(e.role);
		free(e.file);
		return ONNXPASS_ENOMEM;
	}
	b->e[b->n++] = e;
	return 0;
}

int onnxpass_bundle_remove(struct onnxpass_bundle *b, const char *role)
{
	int i = onnxpass_bundle_index(b, role);

	if (i < 0)
		return ONNXPASS_ENOTFOUND;
	if (grow(&b->gone, &b->cap_gone, b->n_gone + 1, sizeof(*b->gone)))
		return ONNXPASS_ENOMEM;
	b->gone[b->n_gone++] = b->e[i].model;
	free(b->e[i].role);
	free(b->e[i].file);
	memmove(&b->e[i], &b->e[i + 1], (b->n - (size_t)i - 1) * sizeof(*b->e));
	b->n--;
	return 0;
}

int onnxpass_bundle_set_file(struct onnxpass_bundle *b, const char *role, const char *file)
{
	int i = onnxpass_bundle_index(b, role);
	char *f;

	if (i < 0)
		return ONNXPASS_ENOTFOUND;
	if (!good_file_name(file))
		return ONNXPASS_EINVAL;
	for (size_t k = 0; k < b->n; k++)
		if ((int)k != i && !strcmp(b->e[k].file, file))
			return ONNXPASS_EINVAL;
	f = strdup(file);
	if (!f)
		return ONNXPASS_ENOMEM;
	free(b->e[i].file);
	b->e[i].file = f;
	return 0;
}

static char *role_of(const char *path)
{
	const char *base = path_base(path);
	size_t n = strlen(base);
	char *r;

	if (str_ends_with(base, ".onnx"))
		n -= 5;
	r = malloc(n + 1);
	if (r) {
		memcpy(r, base, n);
		r[n] = '\0';
	}
	return r;
}

int onnxpass_bundle_load_file(struct onnxpass_bundle *b, const char *role, const char *path,
			      char *err, size_t errlen)
{
	struct onnxpass_model *m;
	char *r = role ? strdup(role) : role_of(path);
	int rc;

	if (!r)
		return ONNXPASS_ENOMEM;
	rc = onnxpass_model_load(path, &m, err, errlen);
	if (!rc) {
		char why[512];

		/* a cycle or contradicting dims: refused before any work */
		if ((rc = onnxpass_graph_check(onnxpass_model_graph(m), why, sizeof(why)))) {
			set_err(err, errlen, "cannot read model '%s': %s", path, why);
			onnxpass_model_free(m);
			free(r);
			return rc;
		}
		rc = onnxpass_bundle_add(b, r, path_base(path), m);
		if (rc) {
			set_err(err, errlen, "cannot add '%s' to the bundle as '%s': %s", path, r,
				rc == ONNXPASS_EINVAL ? "role or file name taken or invalid"
						      : onnxpass_strerror(rc));
			onnxpass_model_free(m);
		}
	}
	free(r);
	return rc;
}

int onnxpass_bundle_load_dir(struct onnxpass_bundle *b, const char *dir, char *err,
			     size_t errlen)
{
	char **names;
	size_t n;
	int rc = 0, e = list_dir(dir, ".onnx", &names, &n);

	if (e) {
		set_err(err, errlen, "cannot read folder '%s': %s", dir, strerror(e));
		return e == ENOMEM ? ONNXPASS_ENOMEM : ONNXPASS_EIO;
	}
	if (n == 0) {
		set_err(err, errlen, "cannot read folder '%s': no .onnx file in it", dir);
		rc = ONNXPASS_ENOTFOUND;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		char *p = path_join(dir, names[i]);

		rc = p ? onnxpass_bundle_load_file(b, NULL, p, err, errlen) : ONNXPASS_ENOMEM;
		free(p);
	}
	free_names(names, n);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Saving                                                              */

static void remove_tree_flat(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char *p;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			p = path_join(dir, de->d_name);
			if (p)
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Whether a file of an old output folder is one this program writes
 * (models, data files, the manifest): those are replaced by the new
 * run's; any other file the user put there is kept. */
static bool ours(const char *name)
{
	return str_ends_with(name, ".onnx") || str_ends_with(name, ".data") ||
	       !strcmp(name, "manifest.json");
}

/* Replaces the non-empty folder dir by tmp (the complete new output) in
 * one rename, keeping the files of dir that are not ours: linked into
 * tmp before, folders moved over after.  A crash leaves the old folder
 * or the new one; the old one ends under tmp's name, a leftover the
 * next run removes. */
static int replace_folder(const char *dir, const char *tmp, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	const char *old = tmp;
	char *moved = NULL;
	int rc = 0;

	while (d && !rc && (de = readdir(d))) {
		char *from, *to;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || ours(de->d_name))
			continue;
		from = path_join(dir, de->d_name);
		to = path_join(tmp, de->d_name);
		if (!from || !to)
			rc = ONNXPASS_ENOMEM;
		else if (!lstat(from, &st) && !S_ISDIR(st.st_mode) && access(to, F_OK) && link(from, to)) {
			set_err(err, errlen, "cannot write bundle '%s': cannot keep '%s': %s", dir,
				de->d_name, strerror(errno));
			rc = ONNXPASS_EIO;
		}
		free(from);
		free(to);
	}
	if (d)
		closedir(d);
	if (rc)
		return rc;
	fault_point();
#ifdef HAVE_RENAMEAT2
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
		goto swapped;
	if (errno != ENOSYS && errno != EINVAL) {
		set_err(err, errlen, "cannot write bundle '%s': %s", dir, strerror(errno));
		return ONNXPASS_EIO;
	}
#endif
	/* no atomic exchange here: the old folder moves aside first */
	if (!(moved = str_printf("%s.tmp.XXXXXX", dir)))
		return ONNXPASS_ENOMEM;
	if (!mkdtemp(moved) || rmdir(moved) || rename(dir, moved)) {
		set_err(err, errlen, "cannot write bundle '%s': %s", dir, strerror(errno));
		free(moved);
		return ONNXPASS_EIO;
	}
	fault_point();
	if (rename(tmp, dir)) {
		set_err(err, errlen, "cannot write bundle '%s': %s", dir, strerror(errno));
		rename(moved, dir);
		free(moved);
		return ONNXPASS_EIO;
	}
	old = moved;
#ifdef HAVE_RENAMEAT2
swapped:
#endif
	/* the user's folders move over to the new output */
	if ((d = opendir(old))) {
		while ((de = readdir(d))) {
			char *from = path_join(old, de->d_name), *to = path_join(dir, de->d_name);
			struct stat st;

			if (from && to && strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			    !lstat(from, &st) && S_ISDIR(st.st_mode))
				rename(from, to);
			free(from);
			free(to);
		}
		closedir(d);
	}
	remove_tree_flat(old);
	free(moved);
	return 0;
}

/* -1: does not exist, 0: empty folder, 1: non-empty folder, 2: not a folder */
static int dir_state(const char *dir)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int state = 0;

	if (stat(dir, &st))
		return -1;
	if (!S_ISDIR(st.st_mode))
		return 2;
	d = opendir(dir);
	if (!d)
		return 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			state = 1;
	closedir(d);
	return state;
}

/* True if dir names the folder a model of the bundle was read from. */
static bool is_input_dir(struct onnxpass_bundle *b, const char *dir)
{
	char rd[PATH_MAX], rm[PATH_MAX];

	if (!realpath(dir, rd))
		return false;
	for (size_t i = 0; i < b->n + b->n_gone; i++) {
		struct onnxpass_model *m = i < b->n ? b->e[i].model : b->gone[i - b->n];

		if (m->dir && realpath(m->dir, rm) && !strcmp(rd, rm))
			return true;
	}
	return false;
}

static bool any_shared(struct onnxpass_bundle *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct onnxpass_graph *g;

		model_for_each_graph(b->e[i].model, g, gi)
			for (size_t k = 0; k < g->n_inits; k++)
				if (g->inits[k]->storage == ONNXPASS_STORE_SHARED)
					return true;
	}
	return false;
}

int onnxpass_bundle_save(struct onnxpass_bundle *b, const char *dir,
			 const struct onnxpass_bundle_save_options *opts, char *err, size_t errlen)
{
	struct onnxpass_bundle_save_options o = { sizeof(o), { sizeof(o.model), 0, 0, NULL },
						  NULL, false, NULL, NULL, NULL, NULL };
	struct onnxpass_model **models = NULL;
	struct shared_table *shared = NULL;
	const char *shared_file;
	char *tmp = NULL, *parent = path_dir(dir);
	int state, rc = ONNXPASS_ENOMEM;

	if (opts)
		memcpy(&o, opts, opts->struct_size < sizeof(o) ? opts->struct_size : sizeof(o));
	shared_file = o.shared_data_file ? o.shared_data_file : "shared_weights.data";
	state = dir_state(dir);
	if (state == 2) {
		set_err(err, errlen, "cannot write bundle '%s': exists and is not a folder", dir);
		return ONNXPASS_EINVAL;
	}
	if (state >= 0 && is_input_dir(b, dir)) {
		set_err(err, errlen, "cannot write bundle '%s': it is the input folder", dir);
		return ONNXPASS_EINVAL;
	}
	if (state == 1 && !o.force) {
		set_err(err, errlen,
			"cannot write bundle '%s': folder exists and is not empty (use --force)", dir);
		return ONNXPASS_EINVAL;
	}
	if (b->n == 0) {
		set_err(err, errlen, "cannot write bundle '%s': no model left to write", dir);
		return ONNXPASS_EINVAL;
	}
	tmp = str_printf("%s.tmp.XXXXXX", dir);
	models = calloc(b->n, sizeof(*models));
	if (!tmp || !models)
		goto out;
	if ((errno = make_parents(tmp)) || !mkdtemp(tmp)) {
		set_err(err, errlen, "cannot write bundle '%s': %s", dir, strerror(errno));
		rc = ONNXPASS_EIO;
		goto out;
	}
	chmod(tmp, 0777 & ~process_umask());	/* mkdtemp makes it 0700; mkdir would not */
	for (size_t i = 0; i < b->n; i++)
		models[i] = b->e[i].model;
	if (o.model.external != ONNXPASS_EXTERNAL_NEVER && any_shared(b)) {
		shared = shared_table_new();
		if (!shared)
			goto out_rm;
		rc = shared_table_write(shared, models, b->n, tmp, shared_file, err, errlen);
		if (rc)
			goto out_rm;
	}
	for (size_t i = 0; i < b->n; i++) {
		char *p = path_join(tmp, b->e[i].file);

		if (!p) {
			rc = ONNXPASS_ENOMEM;
			goto out_rm;
		}
		rc = model_save_impl(b->e[i].model, p, &o.model, shared, false, err, errlen);
		free(p);
		if (rc)
			goto out_rm;
	}
	if (o.extra_file && (o.extra_text || o.extra_fn)) {
		char *p = path_join(tmp, o.extra_file), *made = o.extra_fn ? o.extra_fn(tmp, o.extra_arg) : NULL;
		const char *text = o.extra_fn ? made : o.extra_text;
		FILE *f = p && text && !strchr(o.extra_file, '/') ? fopen(p, "w") : NULL;
		bool bad = !f || fputs(text, f) < 0 || fflush(f) || fsync(fileno(f));

		if (f && fclose(f))
			bad = true;
		free(p);
		free(made);
		if (bad) {
			set_err(err, errlen, "cannot write '%s' into bundle '%s'", o.extra_file, dir);
			rc = ONNXPASS_EIO;
			goto out_rm;
		}
	}
	/* commit: the new folder replaces the old one as a whole */
	fault_point();
	if ((errno = fsync_dir(tmp)) || (state == 0 && rmdir(dir))) {
		set_err(err, errlen, "cannot write bundle '%s': %s", dir, strerror(errno));
		rc = ONNXPASS_EIO;
		goto out_rm;
	}
	if (state <= 0) {
		fault_point();
		if (rename(tmp, dir)) {
			set_err(err, errlen, "cannot write bundle '%s': %s", dir, strerror(errno));
			rc = ONNXPASS_EIO;
			goto out_rm;
		}
	} else if ((rc = replace_folder(dir, tmp, err, errlen))) {
		goto out_rm;
	}
	if (parent)
		fsync_dir(parent);
	rc = 0;
	goto out;
out_rm:
	remove_tree_flat(tmp);
out:
	shared_table_free(shared);
	free(models);
	free(tmp);
	free(parent);
	return rc;
}
