/* SPDX-License-Identifier: MIT */
/* Loads a model: map the file, lean unpack, restore tensor views, resolve
 * and check external data, then build the graph IR. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "internal.h"

struct load {
	struct onnxpass_model *m;
	char *err;
	size_t errlen;
	const char *name;	/* for messages */
	int rc;
};

static int fail(struct load *l, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct load *l, int rc, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	set_err(l->err, l->errlen, "cannot read model '%s': %s", l->name, why);
	l->rc = rc;
	return rc;
}

static const char *ext_value(Onnx__TensorProto *tp, const char *key)
{
	for (size_t i = 0; i < tp->n_external_data; i++)
		if (tp->external_data[i]->key && !strcmp(tp->external_data[i]->key, key))
			return tp->external_data[i]->value ? tp->external_data[i]->value : "";
	return NULL;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* A relative path that stays below its folder lexically: no "..", no
 * leading "/", no empty name. */
static bool location_is_local(const char *loc)
{
	const char *p = loc;

	if (!*loc || *loc == '/' || strchr(loc, '\\'))
		return false;
	while (*p) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* Maps (once per model) the external file loc, refusing any that
 * resolves outside the model's folder, e.g. through a symlink. */
static int map_external(struct load *l, const char *loc, const char *tname, struct blob **out)
{
	struct onnxpass_model *m = l->m;
	char real_dir[PATH_MAX], real_file[PATH_MAX];
	char *joined;
	size_t dl;
	struct blob *b;
	int rc;

	if (!m->dir)
		return fail(l, ONNXPASS_EFORMAT,
			    "tensor '%s' uses external data but the model has no folder", tname);
	if (!location_is_local(loc))
		return fail(l, ONNXPASS_EFORMAT,
			    "external data '%s' of tensor '%s' leaves the model's folder", loc, tname);
	if (!realpath(m->dir, real_dir))
		return fail(l, ONNXPASS_EIO, "cannot resolve folder '%s'", m->dir);
	joined = path_join(m->dir, loc);
	if (!joined)
		return fail(l, ONNXPASS_ENOMEM, "out of memory");
	if (!realpath(joined, real_file)) {
		int e = errno;

		free(joined);
		return fail(l, ONNXPASS_EIO, "external data file '%s' of tensor '%s': %s", loc,
			    tname, strerror(e));
	}
	free(joined);
	dl = strlen(real_dir);
	if (strncmp(real_file, real_dir, dl) != 0 || (real_file[dl] != '/' && dl != 1))
		return fail(l, ONNXPASS_EFORMAT,
			    "external data '%s' of tensor '%s' resolves outside the model's folder",
			    loc, tname);
	b = strmap_get(&m->ext_files, real_file);
	if (!b) {
		char merr[256];

		rc = blob_map_file(real_file, &b, merr, sizeof(merr));
		if (rc)
			return fail(l, rc, "external data file '%s': %s", loc, merr);
		if (strmap_put(&m->ext_files, b->path, b)) {
			blob_unref(b);
			return fail(l, ONNXPASS_ENOMEM, "out of memory");
		}
	}
	*out = b;
	return 0;
}

static int resolve_external(struct load *l, struct onnxpass_tensor *t)
{
	Onnx__TensorProto *tp = t->tp;
	const char *loc = ext_value(tp, "location"), *name = onnxpass_tensor_name(t);
	uint64_t off = 0, len;
	struct blob *b;
	int rc;

	if (!loc)
		return fail(l, ONNXPASS_EFORMAT, "tensor '%s' has external data without a location", name);
	if (tp->data_type == ONNXPASS_DT_STRING)
		return fail(l, ONNXPASS_EFORMAT, "string tensor '%s' cannot use external data", name);
	if (ext_value(tp, "offset") && !parse_u64(ext_value(tp, "offset"), &off))
		return fail(l, ONNXPASS_EFORMAT, "tensor '%s' has a bad external offset '%s'", name,
			    ext_value(tp, "offset"));
	if ((rc = map_external(l, loc, name, &b)))
		return rc;
	if (ext_value(tp, "length")) {
		if (!parse_u64(ext_value(tp, "length"), &len))
			return fail(l, ONNXPASS_EFORMAT, "tensor '%s' has a bad external length '%s'",
				    name, ext_value(tp, "length"));
	} else {
		len = off <= b->len ? b->len - off : 0;
	}
	if (off > b->len || len > b->len - off) {
		return fail(l, ONNXPASS_EFORMAT,
			    "external data of tensor '%s' points past the end of '%s' (offset %llu + length %llu > %zu bytes)",
			    name, loc, (unsigned long long)off, (unsigned long long)len, b->len);
	}
	if (len != t->nbytes) {
		return fail(l, ONNXPASS_EFORMAT,
			    "external data of tensor '%s' has %llu bytes, its dimensions need %zu",
			    name, (unsigned long long)len, t->nbytes);
	}
	t->blob = blob_ref(b);
	t->data = b->base + off;
	return 0;
}

/* Every TensorProto of the file: restore stripped bytes, wrap, check. */
static int visit_tensor(ProtobufCMessage *msg, void *ctx)
{
	struct load *l = ctx;
	Onnx__TensorProto *tp = (Onnx__TensorProto *)msg;
	struct onnxpass_tensor *t;
	uint64_t off, len;
	bool stripped;
	const char *why = NULL;
	int rc;

	stripped = wire_take_sentinel(tp, &off, &len);
	if (stripped) {	/* bounds were checked by the wire walk */
		tp->has_raw_data = 1;
		tp->raw_data.data = l->m->file->base + off;
		tp->raw_data.len = len;
	}
	rc = tensor_wrap(tp, &t, &why);
	if (!rc && tensor_lacks_data(t)) {	/* every save would fail on it */
		tensor_release_wrapper(t);
		rc = ONNXPASS_EFORMAT;
		why = "has dimensions but no data";
	}
	if (rc) {
		if (stripped) {
			tp->raw_data.data = NULL;
			tp->has_raw_data = 0;
		}
		if (rc == ONNXPASS_ENOMEM)
			return fail(l, rc, "out of memory");
		return fail(l, rc, "tensor '%s': %s", tp->name ? tp->name : "", why);
	}
	if (stripped) {
		t->blob = blob_ref(l->m->file);
		t->raw_borrowed = true;
	}
	if (ptrmap_put(&l->m->tensors, tp, t)) {
		tensor_release_wrapper(t);
		return fail(l, ONNXPASS_ENOMEM, "out of memory");
	}
	t->model = l->m;
	if (t->external)
		return resolve_external(l, t);
	return 0;
}

static struct onnxpass_model *model_alloc(void)
{
	struct onnxpass_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	ptrmap_init(&m->tensors);
	strmap_init(&m->ext_files);
	return m;
}

static int load_from_blob(struct onnxpass_model *m, const char *name, char *err, size_t errlen)
{
	struct load l = { m, err, errlen, name, 0 };
	char why[256];
	const char *gwhy = NULL;

	m->mp = wire_unpack_model(m->file->base, m->file->len, why, sizeof(why));
	if (!m->mp)
		return fail(&l, ONNXPASS_EFORMAT, "%s", why);
	if (proto_visit(&m->mp->base, &onnx__tensor_proto__descriptor, visit_tensor, &l))
		return l.rc;
	if (!m->mp->graph)
		return fail(&l, ONNXPASS_EFORMAT, "no graph (is this an ONNX model?)");
	if (!m->mp->has_ir_version)
		return fail(&l, ONNXPASS_EFORMAT, "no ir_version (is this an ONNX model?)");
	m->graph = graph_build(m, m->mp->graph, NULL, NULL, &gwhy);
	if (!m->graph)
		return fail(&l, gwhy ? ONNXPASS_EFORMAT : ONNXPASS_ENOMEM, "%s", gwhy ? gwhy : "out of memory");
	return 0;
}

int onnxpass_model_load(const char *path, struct onnxpass_model **out, char *err,
			size_t errlen)
{
	struct onnxpass_model *m;
	char merr[256];
	int rc;

	*out = NULL;
	m = model_alloc();
	if (!m)
		return ONNXPASS_ENOMEM;
	m->path = strdup(path);
	m->dir = path_dir(path);
	rc = blob_map_file(path, &m->file, merr, sizeof(merr));
	if (rc) {
		set_err(err, errlen, "cannot read model '%s': %s", path, merr);
		onnxpass_model_free(m);
		return rc;
	}
	if (m->file->len == 0) {
		set_err(err, errlen, "cannot read model '%s': empty file", path);
		onnxpass_model_free(m);
		return ONNXPASS_EFORMAT;
	}
	rc = load_from_blob(m, path, err, errlen);
	if (rc) {
		onnxpass_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int onnxpass_model_load_buffer(const void *buf, size_t len, const char *name,
			       struct onnxpass_model **out, char *err, size_t errlen)
{
	struct onnxpass_model *m = model_alloc();
	int rc;

	*out = NULL;
	if (!m)
		return ONNXPASS_ENOMEM;
	m->file = blob_new_heap(len);
	if (!m->file) {
		onnxpass_model_free(m);
		return ONNXPASS_ENOMEM;
	}
	memcpy(m->file->base, buf, len);
	rc = load_from_blob(m, name ? name : "<buffer>", err, errlen);
	if (rc) {
		onnxpass_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
