/* SPDX-License-Identifier: MIT */
/* Loads pass plugins with dlopen and checks every descriptor field. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

static bool good_name(const char *s, bool dash)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      (dash && *s == '-')))
			return false;
	return n <= 64;
}

/* Checks the descriptor; on failure writes why (no file name). */
static bool desc_ok(const struct onnxpass_plugin *d, char *why, size_t whylen)
{
	if (d->abi_version != ONNXPASS_ABI_VERSION) {
		set_err(why, whylen, "built for plugin ABI %u, this onnxpass speaks ABI %u",
			d->abi_version, ONNXPASS_ABI_VERSION);
		return false;
	}
	if (d->struct_size < offsetof(struct onnxpass_plugin, run) + sizeof(d->run)) {
		set_err(why, whylen, "descriptor is %u bytes, smaller than ABI %u requires",
			d->struct_size, ONNXPASS_ABI_VERSION);
		return false;
	}
	if (!good_name(d->name, true)) {
		set_err(why, whylen, "bad pass name (want [a-z0-9_-], at most 64 characters)");
		return false;
	}
	if (!d->summary || !d->version || !d->run) {
		set_err(why, whylen, "descriptor of '%s' lacks %s", d->name,
			!d->summary ? "a summary" : !d->version ? "a version" : "a run function");
		return false;
	}
	if (d->n_params && !d->params) {
		set_err(why, whylen, "'%s' declares %zu parameters but no table", d->name,
			d->n_params);
		return false;
	}
	if (d->n_params > 256) {
		set_err(why, whylen, "'%s' declares %zu parameters (at most 256)", d->name,
			d->n_params);
		return false;
	}
	for (size_t i = 0; i < d->n_params; i++) {
		const struct onnxpass_param *p = &d->params[i];
		char vwhy[256];

		if (!good_name(p->name, false)) {
			set_err(why, whylen, "'%s' parameter %zu has a bad name", d->name, i);
			return false;
		}
		if (!strcmp(p->name, "pass") || !strcmp(p->name, "models")) {
			set_err(why, whylen, "'%s' parameter '%s' uses a reserved name", d->name,
				p->name);
			return false;
		}
		if (p->type < ONNXPASS_PARAM_BOOL || p->type > ONNXPASS_PARAM_LIST) {
			set_err(why, whylen, "'%s' parameter '%s' has unknown type %d", d->name, p->name,
				(int)p->type);
			return false;
		}
		if (p->type == ONNXPASS_PARAM_ENUM && (!p->choices || !*p->choices)) {
			set_err(why, whylen, "'%s' parameter '%s' is an enum without choices", d->name,
				p->name);
			return false;
		}
		if (!p->help) {
			set_err(why, whylen, "'%s' parameter '%s' has no help text", d->name, p->name);
			return false;
		}
		for (size_t k = 0; k < i; k++) {
			if (!strcmp(d->params[k].name, p->name)) {
				set_err(why, whylen, "'%s' declares parameter '%s' twice", d->name,
					p->name);
				return false;
			}
		}
		if (p->default_value && !param_value_ok(p, p->default_value, vwhy, sizeof(vwhy))) {
			set_err(why, whylen, "'%s' parameter '%s' has a bad default: %s", d->name,
				p->name, vwhy);
			return false;
		}
	}
	return true;
}

/* What the host trusts: a plugin's constructor runs at dlopen, before
 * any check, so only files and folders that nobody but root and the
 * user running onnxpass can change are loaded. */
static const char *untrusted(const char *path, bool dir)
{
	struct stat st;

	if (stat(path, &st))
		return NULL;	/* the caller reports what it cannot read */
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return dir ? "not a folder" : "not a regular file";
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return "owned by another user";
	if (st.st_mode & S_IWOTH)
		return "writable by everyone";
	return NULL;
}

int registry_load_file(struct registry *r, const char *path, char *err, size_t errlen)
{
	void *h;
	onnxpass_plugin_entry_fn entry;
	const struct onnxpass_plugin *d;
	char why[512];
	const char *bad = untrusted(path, false);

	if (bad) {
		set_err(err, errlen, "refusing plugin '%s': %s", path, bad);
		return ONNXPASS_EPLUGIN;
	}
	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();

		set_err(err, errlen, "cannot load plugin '%s': %s", path, e ? e : "dlopen failed");
		return ONNXPASS_EPLUGIN;
	}
	*(void **)&entry = dlsym(h, ONNXPASS_PLUGIN_ENTRY_SYMBOL);
	if (!entry) {
		set_err(err, errlen, "cannot load plugin '%s': missing symbol %s", path,
			ONNXPASS_PLUGIN_ENTRY_SYMBOL);
		dlclose(h);
		return ONNXPASS_EPLUGIN;
	}
	d = entry();
	if (!d) {
		set_err(err, errlen, "cannot load plugin '%s': %s() returned NULL", path,
			ONNXPASS_PLUGIN_ENTRY_SYMBOL);
		dlclose(h);
		return ONNXPASS_EPLUGIN;
	}
	if (!desc_ok(d, why, sizeof(why))) {
		set_err(err, errlen, "cannot load plugin '%s': %s", path, why);
		dlclose(h);
		return ONNXPASS_EPLUGIN;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (!strcmp(r->p[i].desc->name, d->name)) {
			set_err(err, errlen, "cannot load plugin '%s': pass '%s' is already defined by '%s'",
				path, d->name, r->p[i].path);
			dlclose(h);
			return ONNXPASS_EPLUGIN;
		}
	}
	if (grow(&r->p, &r->cap, r->n + 1, sizeof(*r->p))) {
		dlclose(h);
		return ONNXPASS_ENOMEM;
	}
	r->p[r->n].path = strdup(path);
	r->p[r->n].handle = h;
	r->p[r->n].desc = d;
	r->n++;
	return 0;
}

int registry_load_dir(struct registry *r, const char *dir, bool missing_ok, char *err,
		      size_t errlen)
{
	char **names;
	size_t n;
	const char *bad = untrusted(dir, true);
	int rc = 0, e;

	if (bad) {
		set_err(err, errlen, "refusing plugin folder '%s': %s", dir, bad);
		return ONNXPASS_EPLUGIN;
	}
	e = list_dir(dir, ".so", &names, &n);
	if (e) {
		if (missing_ok && e == ENOENT)
			return 0;
		set_err(err, errlen, "cannot read plugin folder '%s': %s", dir, strerror(e));
		return ONNXPASS_EPLUGIN;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		char *path = path_join(dir, names[i]);

		if (!path) {
			rc = ONNXPASS_ENOMEM;
		} else if ((bad = untrusted(path, false))) {
			set_err(err, errlen, "refusing plugin '%s': %s", path, bad);
			rc = ONNXPASS_EPLUGIN;
		} else if ((rc = registry_load_file(r, path, err, errlen)) == ONNXPASS_EPLUGIN) {
			/* one broken plugin does not stop the others: it is
			 * named once, and only what needs its pass fails */
			say("warning", "skipping a plugin: %s", err);
			rc = grow(&r->skipped, &r->cap_skipped, r->n_skipped + 1, sizeof(char *));
			if (!rc && !(r->skipped[r->n_skipped++] = strdup(err)))
				rc = ONNXPASS_ENOMEM;
			err[0] = '\0';
		}
		free(path);
	}
	free_names(names, n);
	return rc;
}

/* A colon-separated list from the environment: relative entries (which
 * would load code from whatever folder onnxpass runs in) are ignored. */
static int load_path_list(struct registry *r, const char *var, const char *list, char *err,
			  size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *dir;
	int rc = 0;

	if (!copy)
		return ONNXPASS_ENOMEM;
	for (dir = strtok_r(copy, ":", &save); dir && !rc; dir = strtok_r(NULL, ":", &save)) {
		if (dir[0] != '/') {
			say("warning", "ignoring the relative folder '%s' in $%s", dir,
				var);
			continue;
		}
		rc = registry_load_dir(r, dir, false, err, errlen);
	}
	free(copy);
	return rc;
}

/* The plugins of the build tree this program was built in, when it runs
 * from there uninstalled (libtool puts the real binary in .libs/, beside
 * the tree's config.status): found from the executable's own path, so no
 * build path is compiled in.  Writes the folder to dir; false otherwise. */
bool build_tree_plugins(char *dir, size_t len)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	struct stat st;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return false;
	*slash = '\0';
	if (strcmp(path_base(exe), ".libs"))
		return false;
	*strrchr(exe, '/') = '\0';	/* the build tree */
	snprintf(probe, sizeof(probe), "%s/config.status", exe);
	if (stat(probe, &st) || !S_ISREG(st.st_mode))
		return false;
	snprintf(probe, sizeof(probe), "%s/plugins/.libs", exe);
	if (stat(probe, &st) || !S_ISDIR(st.st_mode) || strlen(probe) >= len)
		return false;
	memcpy(dir, probe, strlen(probe) + 1);
	return true;
}

int registry_load_default(struct registry *r, char **extra, size_t n_extra, char *err,
			  size_t errlen)
{
	char tree[PATH_MAX];

	const char *sys = getenv("ONNXPASS_PLUGIN_SYSTEM_PATH");
	const char *path = getenv("ONNXPASS_PLUGIN_PATH");
	int rc;

	if (!sys && build_tree_plugins(tree, sizeof(tree)))
		rc = registry_load_dir(r, tree, true, err, errlen);
	else if (!sys)
		rc = registry_load_dir(r, ONNXPASS_PLUGIN_DIR, true, err, errlen);
	else
		rc = load_path_list(r, "ONNXPASS_PLUGIN_SYSTEM_PATH", sys, err, errlen);
	if (!rc && path && *path)
		rc = load_path_list(r, "ONNXPASS_PLUGIN_PATH", path, err, errlen);
	for (size_t i = 0; i < n_extra && !rc; i++)
		rc = registry_load_dir(r, extra[i], false, err, errlen);
	return rc;
}

const char *registry_why_missing(const struct registry *r, const char *pass)
{
	for (size_t i = 0; i < r->n_skipped; i++) {
		/* "cannot load plugin 'DIR/NAME.so': ..." */
		const char *q = strchr(r->skipped[i], '\''), *e = q ? strstr(q + 1, ".so'") : NULL;
		const char *b = e ? e : NULL;
		size_t k = 0, len = strlen(pass);

		if (!e)
			continue;
		while (b > q + 1 && b[-1] != '/')
			b--;
		if ((size_t)(e - b) != len)
			continue;
		for (k = 0; k < len && (b[k] == pass[k] || (b[k] == '_' && pass[k] == '-')); k++)
			;
		if (k == len)
			return r->skipped[i];
	}
	return NULL;
}

void registry_missing_msg(const struct registry *r, const char *pass, char *err, size_t errlen)
{
	const char *why = registry_why_missing(r, pass);

	if (why)
		set_err(err, errlen, "pass '%s' is not available: %s", pass, why);
	else if (r->n_skipped)
		set_err(err, errlen, "unknown pass '%s' (see onnxpass --list; %zu plugin%s could not be loaded: "
			"see the warnings above)", pass, r->n_skipped, r->n_skipped == 1 ? "" : "s");
	else
		set_err(err, errlen, "unknown pass '%s' (see onnxpass --list)", pass);
}

const struct plugin *registry_find(const struct registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->p[i].desc->name, name))
			return &r->p[i];
	return NULL;
}

void registry_release(struct registry *r)
{
	for (size_t i = 0; i < r->n; i++) {
		dlclose(r->p[i].handle);
		free(r->p[i].path);
	}
	free(r->p);
	for (size_t i = 0; i < r->n_skipped; i++)
		free(r->skipped[i]);
	free(r->skipped);
	memset(r, 0, sizeof(*r));
}
