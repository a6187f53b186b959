/* SPDX-License-Identifier: MIT */
/* What plugins call on the host's objects: parameter getters, model
 * selection, logging, errors, report figures and progress. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "context.h"
#include "internal.h"

static ssize_t find(const struct onnxpass_plugin *d, const char *key)
{
	for (size_t i = 0; i < d->n_params; i++)
		if (!strcmp(d->params[i].name, key))
			return (ssize_t)i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Getters for plugins: a name not in the table is a plugin bug; it
 * reads as unset. */

static const char *value_of(const struct onnxpass_params *p, const char *name, ssize_t *idx)
{
	ssize_t i = find(p->desc, name);

	if (idx)
		*idx = i;
	return i < 0 ? NULL : p->values[i];
}

bool onnxpass_params_is_set(const struct onnxpass_params *p, const char *name)
{
	return value_of(p, name, NULL) != NULL;
}

bool onnxpass_params_bool(const struct onnxpass_params *p, const char *name)
{
	const char *v = value_of(p, name, NULL);
	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "true") ||
		    !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

int64_t onnxpass_params_int(const struct onnxpass_params *p, const char *name)
{
	const char *v = value_of(p, name, NULL);
	return v ? (int64_t)strtoll(v, NULL, 10) : 0;
}

double onnxpass_params_float(const struct onnxpass_params *p, const char *name)
{
	const char *v = value_of(p, name, NULL);
	return v ? strtod(v, NULL) : 0.0;
}

const char *onnxpass_params_string(const struct onnxpass_params *p, const char *name)
{
	return value_of(p, name, NULL);
}

size_t onnxpass_params_list_count(const struct onnxpass_params *p, const char *name)
{
	ssize_t i;

	return value_of(p, name, &i) ? p->n_items[i] : 0;
}

const char *onnxpass_params_list_item(const struct onnxpass_params *p, const char *name,
				      size_t k)
{
	ssize_t i;

	if (!value_of(p, name, &i) || k >= p->n_items[i])
		return NULL;
	return p->items[i][k];
}

/* ------------------------------------------------------------------ */
/* Run context                                                         */

size_t onnxpass_ctx_model_count(const struct onnxpass_ctx *ctx)
{
	return ctx->n_roles;
}

struct onnxpass_model *onnxpass_ctx_model(struct onnxpass_ctx *ctx, size_t i)
{
	return i < ctx->n_roles ? onnxpass_bundle_find(ctx->bundle, ctx->roles[i]) : NULL;
}

const char *onnxpass_ctx_role(const struct onnxpass_ctx *ctx, size_t i)
{
	return i < ctx->n_roles ? ctx->roles[i] : NULL;
}

static const char *level_name[] = { "error", "warning", "info", "debug" };

bool onnxpass_log_enabled(const struct onnxpass_ctx *ctx, int level)
{
	return level <= (ctx ? ctx->verbosity : 1);
}

void onnxpass_log(struct onnxpass_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	if (!onnxpass_log_enabled(ctx, level))
		return;
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	fprintf(stderr, "onnxpass: %s: %s%s", ctx && ctx->pass ? ctx->pass : "host",
		level < ONNXPASS_LOG_INFO ? level_name[level] : "",
		level < ONNXPASS_LOG_INFO ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int onnxpass_ctx_fail(struct onnxpass_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return err < 0 ? err : ONNXPASS_EINVAL;
}

static struct kv *kv_slot(struct onnxpass_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->n_kv; i++)
		if (!strcmp(ctx->kv[i].key, key))
			return &ctx->kv[i];
	if (grow(&ctx->kv, &ctx->cap_kv, ctx->n_kv + 1, sizeof(*ctx->kv)))
		return NULL;
	memset(&ctx->kv[ctx->n_kv], 0, sizeof(struct kv));
	ctx->kv[ctx->n_kv].key = strdup(key);
	if (!ctx->kv[ctx->n_kv].key)
		return NULL;
	return &ctx->kv[ctx->n_kv++];
}

void onnxpass_ctx_report_int(struct onnxpass_ctx *ctx, const char *key, int64_t value)
{
	struct kv *k = kv_slot(ctx, key);

	if (!k)
		return;
	free(k->str);
	k->str = NULL;
	k->num = value;
}

void onnxpass_ctx_report_str(struct onnxpass_ctx *ctx, const char *key, const char *value)
{
	struct kv *k = kv_slot(ctx, key);
	char *s;

	if (!k || !(s = strdup(value)))
		return;
	free(k->str);
	k->str = s;
}

int onnxpass_ctx_spill(struct onnxpass_ctx *ctx, struct onnxpass_tensor *t)
{
	char err[512];
	int rc = bundle_spill(ctx->bundle, t, err, sizeof(err));

	return rc ? onnxpass_ctx_fail(ctx, rc, "%s", err) : 0;
}

int onnxpass_ctx_threads(const struct onnxpass_ctx *ctx)
{
	return ctx->threads > 0 ? ctx->threads : 1;
}

/* One progress line on a terminal, for steps that take more than a
 * second: "quantize: 45% (12 of 26)", redrawn at most five times a
 * second, cleared by the runner when the step ends.  Worker threads may
 * call it. */
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;

static void progress_show(struct onnxpass_ctx *ctx, uint64_t done, uint64_t total)
{
	double t;

	if (!ctx->tty || !total)
		return;
	pthread_mutex_lock(&progress_lock);
	t = now_seconds();
	if (t - ctx->started >= ctx->progress_after && t - ctx->last_progress >= 0.2) {
		ctx->last_progress = t;
		ctx->progress_shown = true;
		fprintf(stderr, "\r%s: %3d%% (%llu of %llu)\033[K", ctx->pass,
			(int)(100.0 * (double)(done < total ? done : total) / (double)total),
			(unsigned long long)done, (unsigned long long)total);
		fflush(stderr);
	}
	pthread_mutex_unlock(&progress_lock);
}

void onnxpass_ctx_progress(struct onnxpass_ctx *ctx, uint64_t done, uint64_t total)
{
	ctx->own_progress = true;	/* parallel_for's own counting stops */
	progress_show(ctx, done, total);
}

struct pfor {
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t n, next, done;
	pthread_mutex_t lock;
	struct onnxpass_ctx *ctx;	/* items done as progress, unless the pass counts */
};

static void *pfor_worker(void *p)
{
	struct pfor *w = p;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&w->lock);
		i = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (i >= w->n)
			return NULL;
		w->fn(w->arg, i);
		if (w->ctx && !w->ctx->own_progress) {
			size_t d;

			pthread_mutex_lock(&w->lock);
			d = ++w->done;
			pthread_mutex_unlock(&w->lock);
			progress_show(w->ctx, d, w->n);
		}
	}
}

void onnxpass_parallel_for(struct onnxpass_ctx *ctx, size_t n, void (*fn)(void *arg, size_t i),
			   void *arg)
{
	struct pfor w = { fn, arg, n, 0, 0, PTHREAD_MUTEX_INITIALIZER, ctx && ctx->tty ? ctx : NULL };
	size_t nt = (size_t)onnxpass_ctx_threads(ctx), started = 0;
	pthread_t *th;

	if (nt > n)
		nt = n;
	th = nt > 1 ? calloc(nt - 1, sizeof(*th)) : NULL;
	for (size_t k = 0; th && k + 1 < nt; k++) {
		if (pthread_create(&th[k], NULL, pfor_worker, &w))
			break;
		started++;
	}
	pfor_worker(&w);	/* this thread works too; alone if none started */
	for (size_t k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	free(th);
	pthread_mutex_destroy(&w.lock);
}
