/* SPDX-License-Identifier: MIT */
/* Runs a recipe's steps on a bundle: model selection, the per-step line,
 * expectations, and the JSON report. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

static void ctx_reset_report(struct onnxpass_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_kv; i++) {
		free(ctx->kv[i].key);
		free(ctx->kv[i].str);
	}
	free(ctx->kv);
	ctx->kv = NULL;
	ctx->n_kv = ctx->cap_kv = 0;
}

struct figures {
	uint64_t nodes;
	uint64_t bytes;	/* weight bytes, shared storage counted once */
};

/* Weight bytes of the bundle, counting storage that several models share
 * (ONNXPASS_STORE_SHARED) once. */
static struct figures measure(struct onnxpass_bundle *b)
{
	struct figures f = { 0, 0 };
	const void **seen = NULL;
	size_t n_seen = 0, cap = 0;

	for (size_t i = 0; i < onnxpass_bundle_count(b); i++) {
		struct onnxpass_model *m = onnxpass_bundle_model(b, i);
		struct onnxpass_graph *g = onnxpass_model_graph(m);

		f.nodes += onnxpass_model_node_total(m);
		f.bytes += onnxpass_model_tensor_bytes(m);
		for (size_t k = 0; k < onnxpass_graph_initializer_count(g); k++) {
			struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, k);
			const void *d;
			bool dup = false;

			if (onnxpass_tensor_storage(t) != ONNXPASS_STORE_SHARED ||
			    !(d = onnxpass_tensor_data(t)))
				continue;
			for (size_t s = 0; s < n_seen && !dup; s++)
				dup = seen[s] == d;
			if (dup)
				f.bytes -= onnxpass_tensor_nbytes(t);
			else if (grow(&seen, &cap, n_seen + 1, sizeof(*seen)) == 0)
				seen[n_seen++] = d;
		}
	}
	free(seen);
	return f;
}

static bool expect_holds(const struct expect *e, long have)
{
	if (!strcmp(e->cmp, ">="))
		return have >= e->n;
	if (!strcmp(e->cmp, "<="))
		return have <= e->n;
	if (!strcmp(e->cmp, ">"))
		return have > e->n;
	if (!strcmp(e->cmp, "<"))
		return have < e->n;
	return have == e->n;
}

static long count_op(struct onnxpass_ctx *ctx, const char *spec)
{
	const char *colon = strrchr(spec, ':');
	char *domain = colon ? strndup(spec, (size_t)(colon - spec)) : NULL;
	const char *op = colon ? colon + 1 : spec;
	long n = 0;

	for (size_t i = 0; i < onnxpass_ctx_model_count(ctx); i++) {
		struct onnxpass_model *m = onnxpass_ctx_model(ctx, i);

		if (m)
			n += (long)onnxpass_model_count_op(m, domain, op);
	}
	free(domain);
	return n;
}

/* The step's entry in the report: what it ran on, what it changed, the
 * pass's own figures; on failure the error instead of a change count. */
static void report_step(struct jw *w, const struct step *s, struct onnxpass_ctx *ctx, int rc,
			const char *error, struct figures before, struct figures after, double secs)
{
	if (!w)
		return;
	jw_object(w, NULL);
	jw_str(w, "step", s->name);
	jw_str(w, "pass", s->pass);
	jw_array(w, "models");
	for (size_t i = 0; i < ctx->n_roles; i++)
		jw_str(w, NULL, ctx->roles[i]);
	jw_end(w);
	if (error)
		jw_str(w, "error", error);
	else
		jw_int(w, "changes", rc);
	jw_uint(w, "nodes_before", before.nodes);
	jw_uint(w, "nodes_after", after.nodes);
	jw_uint(w, "bytes_before", before.bytes);
	jw_uint(w, "bytes_after", after.bytes);
	jw_num(w, "seconds", secs, 3);
	for (size_t i = 0; i < ctx->n_kv; i++) {
		if (ctx->kv[i].str)
			jw_str(w, ctx->kv[i].key, ctx->kv[i].str);
		else
			jw_int(w, ctx->kv[i].key, ctx->kv[i].num);
	}
	jw_end(w);
}

static int select_models(const struct recipe *r, const struct step *s,
			 struct onnxpass_bundle *b, struct onnxpass_ctx *ctx, char *err,
			 size_t errlen)
{
	size_t n = s->n_models ? s->n_models : onnxpass_bundle_count(b);

	ctx->roles = calloc(n ? n : 1, sizeof(char *));
	if (!ctx->roles)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *role = s->n_models ? s->models[i] : onnxpass_bundle_role(b, i);

		if (onnxpass_bundle_index(b, role) < 0) {
			char have[512] = "";

			for (size_t k = 0; k < onnxpass_bundle_count(b); k++) {
				strncat(have, k ? ", " : "", sizeof(have) - strlen(have) - 1);
				strncat(have, onnxpass_bundle_role(b, k), sizeof(have) - strlen(have) - 1);
			}
			set_err(err, errlen, "%s:%d: step '%s': no model with role '%s' (the bundle has: %s)",
				r->path, s->line, s->name, role, have);
			return ONNXPASS_ENOTFOUND;
		}
		ctx->roles[ctx->n_roles++] = (char *)role;
	}
	return 0;
}

int run_recipe(const struct recipe *r, struct onnxpass_bundle *b, const struct run_options *o,
	       char *err, size_t errlen)
{
	struct jw *w = o->report ? report_steps(o->report) : NULL;
	int rc = 0;

	for (size_t i = 0; i < r->n_steps && rc >= 0; i++) {
		const struct step *s = &r->steps[i];
		struct onnxpass_ctx ctx;
		struct figures before, after;
		char hb[32], ha[32];
		double t0, secs;
		int changes;

		memset(&ctx, 0, sizeof(ctx));
		ctx.pass = s->pass;
		ctx.verbosity = o->verbosity;
		ctx.threads = o->threads;
		ctx.bundle = b;
		ctx.tty = isatty(2) && !o->quiet;
		ctx.started = now_seconds();
		/* a second, or what the test suite sets to see the line at once */
		ctx.progress_after = getenv("ONNXPASS_TEST_PROGRESS_AFTER") ?
				     atof(getenv("ONNXPASS_TEST_PROGRESS_AFTER")) : 1.0;
		rc = select_models(r, s, b, &ctx, err, errlen);
		if (rc) {
			free(ctx.roles);
			if (o->report)
				report_failed_step(o->report, s->name);
			break;
		}
		before = measure(b);
		t0 = now_seconds();
		changes = s->plugin->desc->run(&ctx, b, s->params);
		secs = now_seconds() - t0;
		if (ctx.progress_shown)	/* the step's progress line goes */
			fputs("\r\033[K", stderr);
		after = measure(b);
		if (changes < 0) {
			if (ctx.err[0])
				set_err(err, errlen, "step '%s' (%s): %s", s->name, s->pass, ctx.err);
			else
				set_err(err, errlen, "step '%s' (%s) failed: %s", s->name, s->pass,
					onnxpass_strerror(changes));
			rc = changes;
		}
		if (rc >= 0 && !o->quiet) {
			fprintf(stderr, "[%zu/%zu] %-12s %zu model%s  %d change%s  nodes %llu -> %llu  weights %s -> %s  %.2f s\n",
				i + 1, r->n_steps, s->name, ctx.n_roles, ctx.n_roles == 1 ? "" : "s",
				changes, changes == 1 ? "" : "s", (unsigned long long)before.nodes,
				(unsigned long long)after.nodes, human_bytes(before.bytes, hb, sizeof(hb)),
				human_bytes(after.bytes, ha, sizeof(ha)), secs);
		}
		for (size_t k = 0; rc >= 0 && k < s->n_expects; k++) {
			const struct expect *e = &s->expects[k];
			long have = count_op(&ctx, e->op);

			if (!expect_holds(e, have)) {
				set_err(err, errlen, "%s:%d: step '%s': expected %s %s %ld, found %ld",
					r->path, e->line, s->name, e->op, e->cmp, e->n, have);
				rc = ONNXPASS_EEXPECT;
			}
		}
		report_step(w, s, &ctx, changes, rc < 0 ? err : NULL, before, after, secs);
		if (rc < 0 && o->report)
			report_failed_step(o->report, s->name);
		ctx_reset_report(&ctx);
		free(ctx.roles);
	}
	return rc < 0 ? rc : 0;
}
