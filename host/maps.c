/* SPDX-License-Identifier: MIT */
/* Open-addressing hash maps keyed by pointer or by borrowed string. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static size_t str_hash(const char *s)
{
	return (size_t)onnxpass_hash64(s, strlen(s), 0);
}

/* Both maps use linear probing with backward-shift deletion, so no
 * tombstones accumulate; the load factor stays at or below one half. */

void ptrmap_init(struct ptrmap *m)
{
	memset(m, 0, sizeof(*m));
}

void ptrmap_release(struct ptrmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static size_t ptr_slot(const struct ptrmap *m, const void *key)
{
	size_t mask = m->cap - 1, i = ptr_hash(key) & mask;

	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

void *ptrmap_get(const struct ptrmap *m, const void *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = ptr_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static int ptr_rehash(struct ptrmap *m, size_t ncap)
{
	struct ptrmap n = { calloc(ncap, sizeof(void *)), calloc(ncap, sizeof(void *)), ncap, 0 };

	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = ptr_slot(&n, m->keys[i]);

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

int ptrmap_put(struct ptrmap *m, const void *key, void *val)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && ptr_rehash(m, m->cap ? m->cap * 2 : 16))
		return -1;
	i = ptr_slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->count++;
	}
	m->vals[i] = val;
	return 0;
}

void ptrmap_del(struct ptrmap *m, const void *key)
{
	size_t mask, i, j;

	if (!m->cap)
		return;
	mask = m->cap - 1;
	i = ptr_slot(m, key);
	if (!m->keys[i])
		return;
	m->keys[i] = NULL;
	m->count--;
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		size_t home = ptr_hash(m->keys[j]) & mask;

		/* move j back into the hole at i if its home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->keys[j] = NULL;
			i = j;
		}
	}
}

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void strmap_release(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static size_t str_slot(const struct strmap *m, const char *key)
{
	size_t mask = m->cap - 1, i = str_hash(key) & mask;

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & mask;
	return i;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = str_slot(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static int str_rehash(struct strmap *m, size_t ncap)
{
	struct strmap n = { calloc(ncap, sizeof(char *)), calloc(ncap, sizeof(void *)), ncap, 0 };

	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i]) {
			size_t j = str_slot(&n, m->keys[i]);

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

int strmap_put(struct strmap *m, const char *key, void *val)
{
	size_t i;

	if ((m->count + 1) * 2 > m->cap && str_rehash(m, m->cap ? m->cap * 2 : 16))
		return -1;
	i = str_slot(m, key);
	if (!m->keys[i])
		m->count++;
	m->keys[i] = key;
	m->vals[i] = val;
	return 0;
}

void strmap_del(struct strmap *m, const char *key)
{
	size_t mask, i, j;

	if (!m->cap)
		return;
	mask = m->cap - 1;
	i = str_slot(m, key);
	if (!m->keys[i])
		return;
	m->keys[i] = NULL;
	m->count--;
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		size_t home = str_hash(m->keys[j]) & mask;

		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->keys[j] = NULL;
			i = j;
		}
	}
}
