/* SPDX-License-Identifier: MIT */
/* The --report document: built in memory as the job goes (header, inputs,
 * steps, outputs) and written whole when it ends, on failure too, with
 * the error and the step it came from; written to a temporary file
 * renamed into place, so the file is always one complete JSON document. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "json.h"
#include "util.h"

uint64_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) ? 0 : (uint64_t)st.st_size;
}

uint64_t model_disk_bytes(struct onnxpass_model *m)
{
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	const char *p = onnxpass_model_path(m);
	uint64_t n = p ? file_size(p) : 0;

	for (size_t i = 0; i < onnxpass_graph_initializer_count(g); i++)
		if (onnxpass_tensor_is_external(onnxpass_graph_initializer_at(g, i)))
			n += onnxpass_tensor_nbytes(onnxpass_graph_initializer_at(g, i));
	return n;
}

int report_open(struct report *rp, const char *path, const char *command, const struct recipe *r,
		const char *input, const char *output)
{
	memset(rp, 0, sizeof(*rp));
	if (!path)
		return 0;
	rp->path = path;
	rp->t0 = now_seconds();
	rp->f = open_memstream(&rp->text, &rp->len);
	if (!rp->f)
		return ONNXPASS_ENOMEM;
	jw_init(&rp->w, rp->f, true);
	jw_object(&rp->w, NULL);
	jw_str(&rp->w, "tool", "onnxpass");
	jw_str(&rp->w, "version", PACKAGE_VERSION);
	jw_str(&rp->w, "command", command);
	if (r) {
		jw_object(&rp->w, "recipe");
		jw_str(&rp->w, "name", r->name);
		jw_str(&rp->w, "path", r->path);
		if (r->n_overrides) {
			jw_array(&rp->w, "set");
			for (size_t i = 0; i < r->n_overrides; i++)
				jw_str(&rp->w, NULL, r->overrides[i]);
			jw_end(&rp->w);
		}
		jw_end(&rp->w);
	} else {
		jw_null(&rp->w, "recipe");
	}
	jw_str(&rp->w, "input", input);
	jw_str(&rp->w, "output", output);
	return 0;
}

void report_inputs(struct report *rp, struct onnxpass_bundle *b)
{
	if (!rp->f || rp->stage >= 1)
		return;
	rp->stage = 1;
	jw_array(&rp->w, "inputs");
	for (size_t i = 0; b && i < onnxpass_bundle_count(b); i++) {
		struct onnxpass_model *m = onnxpass_bundle_model(b, i);

		jw_object(&rp->w, NULL);
		jw_str(&rp->w, "role", onnxpass_bundle_role(b, i));
		jw_str(&rp->w, "path", onnxpass_model_path(m));
		jw_uint(&rp->w, "bytes", model_disk_bytes(m));
		jw_end(&rp->w);
	}
	jw_end(&rp->w);
}

struct jw *report_steps(struct report *rp)
{
	if (!rp->f)
		return NULL;
	report_inputs(rp, NULL);
	if (rp->stage < 2) {
		rp->stage = 2;
		jw_array(&rp->w, "steps");
	}
	return &rp->w;
}

static void steps_end(struct report *rp)
{
	report_steps(rp);
	if (rp->stage == 2) {
		jw_end(&rp->w);
		rp->stage = 3;
	}
}

void report_output(struct report *rp, const char *role, const char *path, uint64_t bytes)
{
	if (!rp->f)
		return;
	steps_end(rp);
	if (rp->stage == 3) {
		jw_array(&rp->w, "outputs");
		rp->stage = 4;
	}
	jw_object(&rp->w, NULL);
	jw_str(&rp->w, "role", role);
	jw_str(&rp->w, "path", path);
	jw_uint(&rp->w, "bytes", bytes);
	jw_end(&rp->w);
}

void report_failed_step(struct report *rp, const char *step)
{
	rp->failed_step = step;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* path.tmp.XXXXXX in the report's folder, renamed over path; a path that
 * is not a regular file (/dev/stdout, a FIFO) is written in place. */
static int write_whole(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	size_t n = strlen(path);
	char *tmp;
	int fd, e = 0;
	struct stat st;

	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || write_all(fd, text, len))
			e = errno ? errno : EIO;
		if (fd >= 0 && close(fd) && !e)
			e = errno;
		if (e)
			set_err(err, errlen, "cannot write report '%s': %s", path, strerror(e));
		return e ? ONNXPASS_EIO : 0;
	}
	tmp = malloc(n + 12);

	if (!tmp)
		return ONNXPASS_ENOMEM;
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp.XXXXXX", 12);
	fd = mkstemp(tmp);
	if (fd < 0) {
		set_err(err, errlen, "cannot write report '%s': %s", path, strerror(errno));
		free(tmp);
		return ONNXPASS_EIO;
	}
	errno = 0;
	if (fchmod(fd, 0666 & ~process_umask()) || write_all(fd, text, len) || fsync(fd))
		e = errno ? errno : EIO;
	if (close(fd) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (e) {
		unlink(tmp);
		set_err(err, errlen, "cannot write report '%s': %s", path, strerror(e));
	}
	free(tmp);
	return e ? ONNXPASS_EIO : 0;
}

void report_discard(struct report *rp)
{
	if (rp->f)
		fclose(rp->f);
	free(rp->text);
	rp->f = NULL;
	rp->text = NULL;
}

int report_close(struct report *rp, int rc, const char *msg, char *err, size_t errlen)
{
	int wrc;

	if (!rp->f)
		return 0;
	steps_end(rp);
	if (rp->stage == 3) {
		jw_array(&rp->w, "outputs");
		rp->stage = 4;
	}
	jw_end(&rp->w);
	jw_num(&rp->w, "seconds", now_seconds() - rp->t0, 3);
	jw_str(&rp->w, "status", rc ? "error" : "ok");
	if (rc) {
		jw_object(&rp->w, "error");
		jw_str(&rp->w, "message", msg && *msg ? msg : onnxpass_strerror(rc));
		jw_str(&rp->w, "step", rp->failed_step);
		jw_end(&rp->w);
	}
	jw_finish(&rp->w);
	if (fclose(rp->f)) {
		free(rp->text);
		rp->f = NULL;
		return ONNXPASS_ENOMEM;
	}
	rp->f = NULL;
	wrc = write_whole(rp->path, rp->text, rp->len, err, errlen);
	free(rp->text);
	rp->text = NULL;
	return wrc;
}
