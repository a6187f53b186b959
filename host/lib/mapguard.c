/* SPDX-License-Identifier: MIT */
/* Which file a mapped address belongs to, for the SIGBUS a mapped file
 * gives when it is truncated under the reader: the handler names the
 * file in one line instead of the process dying of a bus error. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Entries are never freed, only reused, so the handler can walk the
 * list without a lock: base is published last and cleared first. */
struct map_entry {
	const uint8_t *_Atomic base;
	size_t len;
	char *path;
	struct map_entry *next;
};

static struct map_entry *_Atomic head;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void *mapguard_add(const void *base, size_t len, const char *path)
{
	struct map_entry *e;
	char *p = strdup(path ? path : "?");

	if (!p)
		return NULL;
	pthread_mutex_lock(&lock);
	for (e = head; e && e->base; e = e->next)
		;
	if (!e && (e = calloc(1, sizeof(*e)))) {
		e->next = head;
		head = e;
	}
	if (e) {
		free(e->path);
		e->path = p;
		e->len = len;
		e->base = base;
	} else {
		free(p);
	}
	pthread_mutex_unlock(&lock);
	return e;
}

void mapguard_remove(void *entry)
{
	struct map_entry *e = entry;

	if (e)
		e->base = NULL;
}

/* Files being written (a save's temporary files): removed by the
 * handler, so a bus error leaves nothing half-written behind. */
#define N_WRITING 64
static char *_Atomic writing[N_WRITING];

int mapguard_writing(const char *path)
{
	char *p = strdup(path);

	for (int i = 0; p && i < N_WRITING; i++) {
		char *none = NULL;

		if (atomic_compare_exchange_strong(&writing[i], &none, p))
			return i;
	}
	free(p);
	return -1;
}

void mapguard_written(int slot)
{
	if (slot >= 0 && slot < N_WRITING)
		free(atomic_exchange(&writing[slot], NULL));
}

static void (*before_exit)(void);

static void put(const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void on_bus_error(int sig, siginfo_t *si, void *uc)
{
	const uint8_t *a = si->si_addr;

	(void)uc;
	for (struct map_entry *e = head; e; e = e->next) {
		const uint8_t *b = e->base;

		if (b && a >= b && a < b + e->len) {
			for (int i = 0; i < N_WRITING; i++)
				if (writing[i])
					unlink(writing[i]);
			put("onnxpass: error: cannot read '");
			put(e->path);
			put("': the file was truncated or changed while being read\n");
			if (before_exit)
				before_exit();
			_exit(1);
		}
	}
	signal(sig, SIG_DFL);	/* not one of ours: die of it as before */
	raise(sig);
}

int onnxpass_catch_bus_errors(void (*cleanup)(void))
{
	struct sigaction sa;

	before_exit = cleanup;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_bus_error;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) ? ONNXPASS_EIO : 0;
}
