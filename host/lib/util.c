/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the host: errors, allocation, paths, time. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void *xcalloc(size_t n, size_t size)
{
	if (n == 0 || size == 0)
		return calloc(1, 1);
	return calloc(n, size);
}

char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	void **p = arr;
	size_t ncap;
	void *q;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / sz)
		return -1;
	q = realloc(*p, ncap * sz);
	if (!q)
		return -1;
	*p = q;
	*cap = ncap;
	return 0;
}

bool split_dim(char *item, int64_t *value)
{
	char *eq = strchr(item, '='), *end = NULL;
	long long v;

	if (!eq || eq == item)
		return false;
	errno = 0;
	v = strtoll(eq + 1, &end, 10);
	if (!end || *end || end == eq + 1 || v < 0 || errno == ERANGE)
		return false;
	*eq = '\0';
	*value = v;
	return true;
}

uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

const char *human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

const char *path_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *path_dir(const char *path)
{
	const char *s = strrchr(path, '/');
	char *d;

	if (!s)
		return strdup(".");
	if (s == path)
		return strdup("/");
	d = malloc((size_t)(s - path) + 1);
	if (!d)
		return NULL;
	memcpy(d, path, (size_t)(s - path));
	d[s - path] = '\0';
	return d;
}

int make_parents(const char *path)
{
	char *p = strdup(path);

	if (!p)
		return ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST) {
			int e = errno;

			free(p);
			return e;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

bool str_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int list_dir(const char *dir, const char *suffix, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return errno ? errno : EIO;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !str_ends_with(de->d_name, suffix))
			continue;
		if (grow(names, &cap, *n + 1, sizeof(**names)) || !((*names)[*n] = strdup(de->d_name))) {
			closedir(d);
			free_names(*names, *n);
			*names = NULL;
			*n = 0;
			return ENOMEM;
		}
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static unsigned umask_value;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

static void read_umask(void)
{
	mode_t um = umask(0);

	umask(um);
	umask_value = (unsigned)um;
}

unsigned process_umask(void)
{
	pthread_once(&umask_once, read_umask);
	return umask_value;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno;
	if (fsync(fd) && errno != EINVAL)	/* some file systems cannot */
		e = errno;
	close(fd);
	return e;
}

/* ONNXPASS_TEST_KILL_AT=N: the test suite's crash injection.  The Nth
 * write, sync or rename of a save kills the process as kill -9 would,
 * so the tests can check that every such point leaves the old output
 * or the new one, never a mix.  Unset, it costs one load per point. */
static long kill_at = -1, cut_at = -1, kill_count;
static const char *cut_path;
static pthread_once_t kill_once = PTHREAD_ONCE_INIT;

static void read_kill_at(void)
{
	const char *s = getenv("ONNXPASS_TEST_KILL_AT"), *c = getenv("ONNXPASS_TEST_TRUNCATE");
	char *end;

	kill_at = s && *s ? strtol(s, NULL, 10) : 0;
	/* ONNXPASS_TEST_TRUNCATE=N:FILE: at the Nth point, FILE is cut to
	 * nothing, as if another program truncated an input being read */
	cut_at = c && *c ? strtol(c, &end, 10) : 0;
	cut_path = cut_at > 0 && *end == ':' ? end + 1 : NULL;
}

void fault_point(void)
{
	long n;

	pthread_once(&kill_once, read_kill_at);
	if (kill_at <= 0 && !cut_path)
		return;
	n = __atomic_add_fetch(&kill_count, 1, __ATOMIC_SEQ_CST);
	if (n == kill_at)
		raise(SIGKILL);
	if (cut_path && n == cut_at && truncate(cut_path, 0))
		raise(SIGKILL);
}
