/* SPDX-License-Identifier: MIT */
/* Small host-private helpers: error buffers, checked allocation, strings. */
#ifndef ONNXPASS_UTIL_H
#define ONNXPASS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes one formatted line into a caller-owned buffer (may be NULL). */
void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void *xcalloc(size_t n, size_t size);	/* NULL on overflow or ENOMEM */
char *xstrdup(const char *s);	/* NULL-safe: NULL stays NULL */
/* A new string formatted like printf (the caller frees); NULL on ENOMEM. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grows *arr (element size sz) so it holds at least need elements. */
int grow(void *arr, size_t *cap, size_t need, size_t sz);

/* a + b, saturating: figures of absurd sizes are not counted as small */
uint64_t sat_add(uint64_t a, uint64_t b);
/* A "NAME=N" size (--dim, memory_dims): true, with item cut at '=' (the
 * name) and *value set, when N is a number from 0 below 2^63; item is
 * left as it was otherwise. */
bool split_dim(char *item, int64_t *value);
/* "123.4 MB" style, into buf. */
const char *human_bytes(uint64_t n, char *buf, size_t len);
/* The file name part of a path (borrowed from path). */
const char *path_base(const char *path);
/* Heap copy of the folder part of path ("." if none). */
char *path_dir(const char *path);
/* Heap "a/b". */
char *path_join(const char *a, const char *b);
/* mkdir -p of path's parent folders; 0 or an errno. */
int make_parents(const char *path);
bool str_ends_with(const char *s, const char *suffix);
/* The process's umask, read once (umask() can only be read by setting it). */
unsigned process_umask(void);
double now_seconds(void);
/* Names of the entries of dir ending in suffix (no dot-files), sorted;
 * returns 0 or an errno.  Free with free_names. */
int list_dir(const char *dir, const char *suffix, char ***names, size_t *n);
void free_names(char **names, size_t n);

/* fsync of a folder, so the renames in it are durable; 0 or an errno. */
int fsync_dir(const char *dir);
/* A write, sync or rename point of a save (crash injection for tests). */
void fault_point(void);

#endif
