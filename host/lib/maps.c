/* SPDX-License-Identifier: MIT */
/* Open-addressing hash maps keyed by pointer or by borrowed string: one
 * linear-probing implementation with backward-shift deletion (no
 * tombstones; load factor at most one half), two key flavours. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct keyops {
	size_t (*hash)(const void *key);
	bool (*eq)(const void *a, const void *b);
};

/* Both map structs start with keys, vals, cap, count: one layout. */
struct anymap {
	const void **keys;
	void **vals;
	size_t cap, count;
};

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static bool ptr_eq(const void *a, const void *b)
{
	return a == b;
}

static size_t str_hash(const void *s)
{
	return (size_t)onnxpass_hash64(s, strlen(s), 0);
}

static bool str_eq(const void *a, const void *b)
{
	return !strcmp(a, b);
}

static const struct keyops ptr_ops = { ptr_hash, ptr_eq }, str_ops = { str_hash, str_eq };

static size_t slot(const struct anymap *m, const struct keyops *ops, const void *key)
{
	size_t mask = m->cap - 1, i = ops->hash(key) & mask;

	while (m->keys[i] && !ops->eq(m->keys[i], key))
		i = (i + 1) & mask;
	return i;
}

static void *get(const struct anymap *m, const struct keyops *ops, const void *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = slot(m, ops, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static int rehash(struct anymap *m, const struct keyops *ops, size_t ncap)
{
	struct anymap n = { calloc(ncap, sizeof(void *)), calloc(ncap, sizeof(void *)), ncap, 0 };

	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = slot(&n, ops, m->keys[i]);

			n.keys[j] = m->keys[i];
			n.vals[j] = m->vals[i];
			n.count++;
		}
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

static int put(struct anymap *m, const struct keyops *ops, const void *key, void *val)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && rehash(m, ops, m->cap ? m->cap * 2 : 16))
		return -1;
	i = slot(m, ops, key);
	if (!m->keys[i])
		m->count++;
	m->keys[i] = key;	/* a string key may be a new copy of an equal one */
	m->vals[i] = val;
	return 0;
}

static void del(struct anymap *m, const struct keyops *ops, const void *key)
{
	size_t mask, i, j;

	if (!m->cap)
		return;
	mask = m->cap - 1;
	i = slot(m, ops, key);
	if (!m->keys[i])
		return;
	m->keys[i] = NULL;
	m->count--;
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		size_t home = ops->hash(m->keys[j]) & mask;

		/* move j back into the hole at i unless its home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->keys[j] = NULL;
			i = j;
		}
	}
}

static void release(struct anymap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

#define AS_ANY(m) ((struct anymap *)(void *)(m))

void ptrmap_init(struct ptrmap *m) { memset(m, 0, sizeof(*m)); }
void ptrmap_release(struct ptrmap *m) { release(AS_ANY(m)); }
void *ptrmap_get(const struct ptrmap *m, const void *key) { return get((const struct anymap *)(const void *)m, &ptr_ops, key); }
int ptrmap_put(struct ptrmap *m, const void *key, void *val) { return put(AS_ANY(m), &ptr_ops, key, val); }
void ptrmap_del(struct ptrmap *m, const void *key) { del(AS_ANY(m), &ptr_ops, key); }

int ptrmap_reserve(struct ptrmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	while (cap < (m->count + n + 1) * 2)
		cap *= 2;
	return cap > m->cap ? rehash(AS_ANY(m), &ptr_ops, cap) : 0;
}

void strmap_init(struct strmap *m) { memset(m, 0, sizeof(*m)); }
void strmap_release(struct strmap *m) { release(AS_ANY(m)); }
void *strmap_get(const struct strmap *m, const char *key) { return get((const struct anymap *)(const void *)m, &str_ops, key); }
int strmap_put(struct strmap *m, const char *key, void *val) { return put(AS_ANY(m), &str_ops, key, val); }
void strmap_del(struct strmap *m, const char *key) { del(AS_ANY(m), &str_ops, key); }
