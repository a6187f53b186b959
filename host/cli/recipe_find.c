/* SPDX-License-Identifier: MIT */
/* Finding recipes by name: `-r madlad` is the installed
 * $(pkgdatadir)/recipes/madlad.ini (or, run uninstalled, the build tree's
 * recipes/), then ./madlad.ini; --list-recipes prints the installed ones. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "util.h"

/* The folders searched, in order; n is at most 2. */
static size_t recipe_dirs(char dirs[2][PATH_MAX])
{
	char tree[PATH_MAX];
	size_t n = 0;

	if (build_tree_plugins(tree, sizeof(tree))) {
		/* TREE/plugins/.libs -> the source tree's recipes/: TREE's own,
		 * or, built in another folder, abs_top_srcdir of TREE/Makefile */
		char line[PATH_MAX + 32], *src = tree;
		struct stat st;
		FILE *mf;

		*strrchr(tree, '/') = '\0';
		*strrchr(tree, '/') = '\0';
		snprintf(line, sizeof(line), "%.*s/Makefile", PATH_MAX - 16, tree);
		if ((mf = fopen(line, "r"))) {
			while (fgets(line, sizeof(line), mf))
				if (!strncmp(line, "abs_top_srcdir = /", 18)) {
					line[strcspn(line, "\n")] = '\0';
					src = line + 17;
					break;
				}
			fclose(mf);
		}
		snprintf(dirs[n], PATH_MAX, "%.*s/recipes", PATH_MAX - 16, src);
		if (!stat(dirs[n], &st) && S_ISDIR(st.st_mode))
			n++;
	}
	if (!n)
		snprintf(dirs[n++], PATH_MAX, "%s", ONNXPASS_RECIPE_DIR);
	snprintf(dirs[n++], PATH_MAX, ".");
	return n;
}

static bool regular(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode);
}

int recipe_find(const char *arg, char *path, size_t len, char *err, size_t errlen)
{
	char dirs[2][PATH_MAX], looked[2 * PATH_MAX + 8] = "";
	size_t n;

	if (strchr(arg, '/') || regular(arg)) {	/* a path: as given */
		snprintf(path, len, "%s", arg);
		return 0;
	}
	n = recipe_dirs(dirs);
	for (size_t i = 0; i < n; i++) {
		for (int ext = 0; ext < 2; ext++) {
			int w = snprintf(path, len, "%s/%s%s", dirs[i], arg, ext ? ".ini" : "");

			if (w > 0 && (size_t)w < len && regular(path))
				return 0;
		}
		snprintf(looked + strlen(looked), sizeof(looked) - strlen(looked), "%s%s", i ? ", " : "",
			 dirs[i]);
	}
	set_err(err, errlen, "cannot find recipe '%s' (looked in %s; onnxpass --list-recipes lists them)", arg,
		looked);
	return ONNXPASS_ENOTFOUND;
}

int recipe_list(const struct registry *reg, FILE *out)
{
	char dirs[2][PATH_MAX];
	size_t n = recipe_dirs(dirs) - 1, shown = 0;	/* not the current folder */
	char **seen = NULL;
	size_t n_seen = 0, cap_seen = 0;

	for (size_t i = 0; i < n; i++) {
		char **names;
		size_t k;

		if (list_dir(dirs[i], ".ini", &names, &k))
			continue;
		for (size_t j = 0; j < k; j++) {
			char *p = path_join(dirs[i], names[j]), err[1024];
			struct recipe *r = NULL;
			bool dup = false;

			for (size_t s = 0; s < n_seen && !dup; s++)
				dup = !strcmp(seen[s], names[j]);
			if (!p || dup) {
				free(p);
				continue;
			}
			if (!grow(&seen, &cap_seen, n_seen + 1, sizeof(char *)) &&
			    (seen[n_seen] = strdup(names[j])))
				n_seen++;
			/* the name -r takes: the file's, less .ini */
			names[j][strlen(names[j]) - 4] = '\0';
			if (recipe_load(p, reg, &r, err, sizeof(err)) == 0)
				fprintf(out, "%-20s %s\n%-20s   %s\n", names[j], r->summary ? r->summary : "", "", p);
			else
				fprintf(out, "%-20s (cannot be used: %s)\n", names[j], err);
			recipe_free(r);
			free(p);
			shown++;
		}
		free_names(names, k);
	}
	for (size_t s = 0; s < n_seen; s++)
		free(seen[s]);
	free(seen);
	return shown ? 0 : ONNXPASS_ENOTFOUND;
}
