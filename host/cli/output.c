/* SPDX-License-Identifier: MIT */
/* The program's hold on an output: one writer at a time (a lock file
 * beside it), and the leftovers of interrupted runs removed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

/* The lock of output X is the file .X.lock beside it, locked with
 * flock: the kernel lets it go when the process dies, however it dies.
 * The file is removed by the run that holds it; a run that locked a
 * file someone has since removed tries again. */
/* The lock file held, for a process ending in a signal handler. */
static const char *volatile held;

void output_lock_forget(void)
{
	if (held)
		unlink(held);
}

int output_lock(const char *out, struct output_lock *l, char *err, size_t errlen)
{
	char *dir = path_dir(out), *name;
	int e;

	l->fd = -1;
	l->path = NULL;
	if (!dir)
		return ONNXPASS_ENOMEM;
	name = str_printf(".%s.lock", path_base(out));
	l->path = name ? path_join(dir, name) : NULL;
	free(name);
	if (!l->path || (e = make_parents(l->path))) {
		set_err(err, errlen, "cannot write '%s': %s", out, l->path ? strerror(e) : "out of memory");
		free(dir);
		return l->path ? ONNXPASS_EIO : ONNXPASS_ENOMEM;
	}
	free(dir);
	for (int tries = 0; tries < 100; tries++) {
		struct stat a, b;

		l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (l->fd < 0) {
			set_err(err, errlen, "cannot write '%s': cannot create its lock '%s': %s", out, l->path,
				strerror(errno));
			return ONNXPASS_EIO;
		}
		if (flock(l->fd, LOCK_EX | LOCK_NB)) {
			e = errno;
			close(l->fd);
			l->fd = -1;
			set_err(err, errlen, "cannot write '%s': %s", out,
				e == EWOULDBLOCK ? "another onnxpass is writing it" : strerror(e));
			return ONNXPASS_EINVAL;
		}
		if (!fstat(l->fd, &a) && !stat(l->path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			held = l->path;
			return 0;
		}
		close(l->fd);	/* removed by the run that held it: again */
		l->fd = -1;
	}
	set_err(err, errlen, "cannot write '%s': cannot hold its lock '%s'", out, l->path);
	return ONNXPASS_EIO;
}

void output_unlock(struct output_lock *l)
{
	held = NULL;
	if (l->fd >= 0) {
		unlink(l->path);
		close(l->fd);
	}
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

/* Whether name is PREFIX.tmp.XXXXXX (six characters of mkstemp's). */
static bool tmp_of(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(name, prefix, n) && !strncmp(name + n, ".tmp.", 5) && strlen(name + n + 5) == 6 &&
	       !strchr(name + n + 5, '/');
}

/* Removes a leftover folder's files, then the folder; folders in it (a
 * user's, moved aside by a run killed while replacing the output) stay. */
static uint64_t remove_leftover_dir(const char *path, bool *kept)
{
	DIR *d = opendir(path);
	struct dirent *de;
	uint64_t bytes = 0;

	while (d && (de = readdir(d))) {
		char *p = path_join(path, de->d_name);
		struct stat st;

		if (p && strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !lstat(p, &st) &&
		    !S_ISDIR(st.st_mode) && !unlink(p))
			bytes += (uint64_t)st.st_size;
		free(p);
	}
	if (d)
		closedir(d);
	if (rmdir(path))
		*kept = true;
	return bytes;
}

/* With the output's lock held, nobody else writes its temporary files:
 * those older than this process are an interrupted run's. */
int remove_leftovers(const char *out, time_t started, bool quiet)
{
	char *dir = path_dir(out), *data = str_printf("%s.data", path_base(out));
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	uint64_t bytes = 0;
	int n = 0;
	bool kept = false;

	while (d && data && (de = readdir(d))) {
		char *p;
		struct stat st;

		if (!tmp_of(de->d_name, path_base(out)) && !tmp_of(de->d_name, data))
			continue;
		p = path_join(dir, de->d_name);
		if (p && !lstat(p, &st) && st.st_mtime < started) {
			if (S_ISDIR(st.st_mode)) {
				bytes += remove_leftover_dir(p, &kept);
				n++;
			} else if (S_ISREG(st.st_mode) && !unlink(p)) {
				bytes += (uint64_t)st.st_size;
				n++;
			}
		}
		free(p);
	}
	if (d)
		closedir(d);
	if (n && !quiet) {
		char hb[32];

		say(NULL, "removed %d leftover%s of an interrupted run writing '%s' (%s)%s", n,
			n == 1 ? "" : "s", out, human_bytes(bytes, hb, sizeof(hb)),
			kept ? "; kept the folders in them" : "");
	}
	free(data);
	free(dir);
	return n;
}
