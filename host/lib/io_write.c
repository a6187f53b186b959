/* SPDX-License-Identifier: MIT */
/* Saves a model: decides where each tensor's bytes go, writes external
 * data sequentially, streams the protobuf, and renames into place. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* ORT (protobuf C++) refuses messages of 2 GiB and more. */
#define PROTO_LIMIT ((size_t)INT32_MAX)
#define DEFAULT_MIN_BYTES 1024
#define PAGE_ALIGN 4096
#define SMALL_ALIGN 64

/* ------------------------------------------------------------------ */
/* Buffered file writer                                                */

struct fwriter {
	ProtobufCBuffer base;
	struct blob *source;	/* mapped file whose pages may be dropped once written */
	struct ptrmap *mapped;	/* inline bytes of mapped tensors -> their blob */
	uint64_t *hash;	/* if set, hashes what is written (chained onnxpass_hash64) */
	int fd, slot;	/* slot: its mapguard_writing entry */
	uint8_t *buf;
	size_t used, cap;
	uint64_t offset;	/* bytes written so far, buffered included */
	int err;	/* errno of the first failure */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (w == 0)
			return EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void fw_flush(struct fwriter *w)
{
	if (w->used && !w->err) {
		fault_point();
		w->err = write_all(w->fd, w->buf, w->used);
	}
	w->used = 0;
}

static void fw_write(struct fwriter *w, const uint8_t *data, size_t len)
{
	w->offset += len;
	if (w->err || len == 0)	/* an empty tensor may have no bytes at all */
		return;
	if (w->hash)
		*w->hash = onnxpass_hash64(data, len, *w->hash);
	if (len >= w->cap) {	/* big tensors go straight from the mapping */
		struct blob *b = w->mapped ? ptrmap_get(w->mapped, data) : NULL;

		fw_flush(w);
		fault_point();
		if (!w->err)
			w->err = write_all(w->fd, data, len);
		blob_drop_pages(b ? b : w->source, data, len);
		return;
	}
	if (w->used + len > w->cap)
		fw_flush(w);
	memcpy(w->buf + w->used, data, len);
	w->used += len;
}

/* Writes a tensor's bytes in chunks, letting each chunk's mapped pages go
 * once written: saving keeps a few MiB resident, whatever the tensor. */
static void fw_write_tensor(struct fwriter *w, struct onnxpass_tensor *t, const uint8_t *bytes)
{
	const size_t chunk = 8u << 20;

	for (size_t off = 0; off < t->nbytes; off += chunk) {
		size_t n = t->nbytes - off < chunk ? t->nbytes - off : chunk;

		fw_write(w, bytes + off, n);
		blob_drop_pages(t->blob, bytes + off, n);
	}
	onnxpass_tensor_drop_pages(t);
}

static void fw_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	fw_write((struct fwriter *)b, data, len);
}

static void fw_pad(struct fwriter *w, size_t align)
{
	static const uint8_t zeros[PAGE_ALIGN];
	size_t pad = (size_t)((align - w->offset % align) % align);

	fw_write(w, zeros, pad);
}

static int fw_open(struct fwriter *w, char *tmpl)
{
	memset(w, 0, sizeof(*w));
	w->base.append = fw_append;
	w->cap = 1 << 20;
	w->buf = malloc(w->cap);
	if (!w->buf)
		return ENOMEM;
	w->slot = -1;
	w->fd = mkstemp(tmpl);
	if (w->fd < 0) {
		free(w->buf);
		w->buf = NULL;
		return errno;
	}
	w->slot = mapguard_writing(tmpl);
	fchmod(w->fd, 0666 & ~process_umask());	/* mkstemp makes it 0600; open would not */
	return 0;
}

/* Flushes, syncs and closes; returns the first errno seen. */
static int fw_close(struct fwriter *w)
{
	fw_flush(w);
	fault_point();
	if (!w->err && fsync(w->fd))
		w->err = errno;
	if (close(w->fd) && !w->err)
		w->err = errno;
	free(w->buf);
	w->buf = NULL;
	return w->err;
}

static char *tmp_name(const char *path)
{
	size_t n = strlen(path) + 16;
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%s.tmp.XXXXXX", path);
	return t;
}

/* ------------------------------------------------------------------ */
/* Shared data (one file for a bundle)                                 */

struct shared_table {
	struct ptrmap offsets;	/* data pointer -> offset + 1 */
	char *file;
};

struct shared_table *shared_table_new(void)
{
	struct shared_table *s = calloc(1, sizeof(*s));

	if (s)
		ptrmap_init(&s->offsets);
	return s;
}

void shared_table_free(struct shared_table *s)
{
	if (!s)
		return;
	ptrmap_release(&s->offsets);
	free(s->file);
	free(s);
}

static bool graph_live(struct onnxpass_graph *g)
{
	for (; g->owner; g = g->parent)
		if (g->owner->removed)
			return false;
	return true;
}

static bool is_shared(const struct onnxpass_tensor *t)
{
	return t->storage == ONNXPASS_STORE_SHARED && t->tp->data_type != ONNXPASS_DT_STRING &&
	       t->nbytes > 0;
}

int shared_table_write(struct shared_table *s, struct onnxpass_model **models, size_t n,
		       const char *dir, const char *file, char *err, size_t errlen)
{
	char *path = path_join(dir, file), *tmp = path ? tmp_name(path) : NULL;
	struct fwriter w;
	bool any = false;
	int e;

	if (!tmp) {
		free(path);
		return ONNXPASS_ENOMEM;
	}
	s->file = strdup(file);
	e = fw_open(&w, tmp);
	if (e) {
		set_err(err, errlen, "cannot write '%s': %s", path, strerror(e));
		goto fail;
	}
	for (size_t mi = 0; mi < n; mi++) {
		struct onnxpass_graph *g;

		if (model_sync(models[mi])) {
			set_err(err, errlen, "cannot write '%s': out of memory", path);
			goto fail;
		}
		model_for_each_graph(models[mi], g, gi) {
			if (!graph_live(g))
				continue;
			for (size_t i = 0; i < g->n_inits; i++) {
				struct onnxpass_tensor *t = g->inits[i];
				const uint8_t *data;

				if (!is_shared(t))
					continue;
				data = onnxpass_tensor_data(t);
				if (!data) {
					set_err(err, errlen, "cannot write '%s': tensor '%s' has no data",
						path, onnxpass_tensor_name(t));
					fw_close(&w);
					goto fail_unlink;
				}
				if (ptrmap_get(&s->offsets, data))
					continue;
				fw_pad(&w, t->nbytes >= PAGE_ALIGN ? PAGE_ALIGN : SMALL_ALIGN);
				if (ptrmap_put(&s->offsets, data, (void *)(uintptr_t)(w.offset + 1))) {
					fw_close(&w);
					goto fail_unlink;
				}
				fw_write_tensor(&w, t, data);
				any = true;
			}
		}
	}
	e = fw_close(&w);
	if (e) {
		set_err(err, errlen, "cannot write '%s': %s", path, strerror(e));
		goto fail_unlink;
	}
	if (!any) {
		unlink(tmp);
	} else if (rename(tmp, path)) {
		set_err(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		goto fail_unlink;
	}
	mapguard_written(w.slot);
	free(tmp);
	free(path);
	return 0;
fail_unlink:
	unlink(tmp);
	mapguard_written(w.slot);
fail:
	free(tmp);
	free(path);
	return ONNXPASS_EIO;
}

/* ------------------------------------------------------------------ */
/* Placement                                                           */

enum place { PLACE_INLINE, PLACE_EXTERNAL, PLACE_SHARED };

static enum place decide(const struct onnxpass_tensor *t, const struct onnxpass_save_options *o,
			 struct shared_table *shared, bool force_big)
{
	size_t min = o->external_min_bytes ? o->external_min_bytes : DEFAULT_MIN_BYTES;

	if (t->tp->data_type == ONNXPASS_DT_STRING || t->nbytes == 0 || o->external == ONNXPASS_EXTERNAL_NEVER)
		return PLACE_INLINE;	/* never: self-contained files, shared tensors copied into each */
	if (shared && is_shared(t))
		return PLACE_SHARED;
	if (t->storage == ONNXPASS_STORE_INLINE)
		return PLACE_INLINE;
	if (t->storage == ONNXPASS_STORE_EXTERNAL || t->storage == ONNXPASS_STORE_SHARED)
		return PLACE_EXTERNAL;
	if (o->external == ONNXPASS_EXTERNAL_ALWAYS || force_big)
		return t->nbytes >= min ? PLACE_EXTERNAL : PLACE_INLINE;
	return t->external ? PLACE_EXTERNAL : PLACE_INLINE;
}

static bool has_typed_unmodified(const struct onnxpass_tensor *t)
{
	const Onnx__TensorProto *tp = t->tp;

	return !t->modified && !t->external && !tp->has_raw_data &&
	       (tp->n_float_data || tp->n_double_data || tp->n_int64_data || tp->n_uint64_data ||
		tp->n_int32_data);
}

/* Regions of the data file already written, by the address their bytes
 * were read from: tensors that are windows of one region of the input
 * (ONNX lets any number share one) keep sharing one region. */
struct regions {
	struct ptrmap at;	/* bytes -> index + 1 */
	uint64_t *off;
	size_t *len, n, cap;
};

static int region_note(struct regions *r, const uint8_t *bytes, uint64_t off, size_t len)
{
	size_t cap = r->cap;

	if (grow(&r->off, &cap, r->n + 1, sizeof(*r->off)) || grow(&r->len, &r->cap, r->n + 1, sizeof(*r->len)))
		return ONNXPASS_ENOMEM;
	r->off[r->n] = off;
	r->len[r->n] = len;
	if (ptrmap_put(&r->at, bytes, (void *)(uintptr_t)(r->n + 1)))
		return ONNXPASS_ENOMEM;
	r->n++;
	return 0;
}

/* Puts one initializer in place (see place_all). */
static int place_one(struct onnxpass_tensor *t, const struct onnxpass_save_options *o,
		     struct shared_table *shared, bool force_big, struct fwriter *data,
		     const char *data_name, bool *wrote_data, struct regions *reg)
{
	enum place p = decide(t, o, shared, force_big);
	const uint8_t *bytes;
	uintptr_t k;
	int rc;

	if (p == PLACE_INLINE) {
		if (has_typed_unmodified(t))
			return 0;
		if ((rc = tensor_make_raw(t)) && t->tp->data_type != ONNXPASS_DT_STRING)
			return rc;
		return 0;
	}
	bytes = onnxpass_tensor_data(t);
	if (!bytes)
		return ONNXPASS_EFORMAT;
	if (p == PLACE_SHARED) {
		uintptr_t off = (uintptr_t)ptrmap_get(&shared->offsets, bytes);

		return off ? tensor_make_external(t, shared->file, off - 1) : ONNXPASS_EINVAL;
	}
	if (!data)	/* first pass: only count */
		return 1;
	k = (uintptr_t)ptrmap_get(&reg->at, bytes);
	if (k && reg->len[k - 1] == t->nbytes)	/* the same bytes, written already */
		return tensor_make_external(t, data_name, reg->off[k - 1]);
	fw_pad(data, t->nbytes >= PAGE_ALIGN ? PAGE_ALIGN : SMALL_ALIGN);
	k = data->offset;
	rc = tensor_make_external(t, data_name, k);
	/* the bytes may have moved (raw_data protobuf owned is freed once
	 * copied out) */
	if (!rc && !(bytes = onnxpass_tensor_data(t)))
		rc = ONNXPASS_EFORMAT;
	if (rc)
		return rc;
	fw_write_tensor(data, t, bytes);
	*wrote_data = true;
	return region_note(reg, bytes, k, t->nbytes);
}

/* Puts every live initializer in place: inline (raw bytes, or typed
 * fields as loaded), or external at the offsets the writer assigns. */
static int place_all(struct onnxpass_model *m, const struct onnxpass_save_options *o,
		     struct shared_table *shared, bool force_big, struct fwriter *data,
		     const char *data_name, bool *wrote_data)
{
	struct onnxpass_graph *g;
	struct regions reg = { 0 };
	int rc = 0;

	ptrmap_init(&reg.at);
	model_for_each_graph(m, g, gi) {
		if (!graph_live(g))
			continue;
		for (size_t i = 0; i < g->n_inits && !rc; i++)
			rc = place_one(g->inits[i], o, shared, force_big, data, data_name, wrote_data, &reg);
		if (rc)
			break;
	}
	ptrmap_release(&reg.at);
	free(reg.off);
	free(reg.len);
	return rc;
}

static bool needs_data_file(struct onnxpass_model *m, const struct onnxpass_save_options *o,
			    struct shared_table *shared, bool force_big)
{
	struct onnxpass_graph *g;

	model_for_each_graph(m, g, gi)
		if (graph_live(g))
			for (size_t i = 0; i < g->n_inits; i++)
				if (decide(g->inits[i], o, shared, force_big) == PLACE_EXTERNAL)
					return true;
	return false;
}

/* Bytes the inline form of the model would take. */
static uint64_t inline_estimate(struct onnxpass_model *m, const struct onnxpass_save_options *o,
				struct shared_table *shared)
{
	struct onnxpass_graph *g;
	uint64_t total = 0;

	model_for_each_graph(m, g, gi)
		if (graph_live(g))
			for (size_t i = 0; i < g->n_inits; i++)
				if (decide(g->inits[i], o, shared, false) == PLACE_INLINE)
					total += g->inits[i]->nbytes;
	return total;
}

/* Every graph is written in topological order (stable: a sorted graph
 * keeps its order), whatever order the passes left or the input had:
 * readers other than ONNX Runtime require it. */
static int sort_graphs(struct onnxpass_model *m, const char *path, char *err, size_t errlen)
{
	struct onnxpass_graph *g;

	model_for_each_graph(m, g, i) {
		struct onnxpass_node **order, *stuck = NULL;
		size_t n;
		int rc = graph_order(g, &order, &n, &stuck);

		if (rc == ONNXPASS_EFORMAT) {
			set_err(err, errlen, "cannot write model '%s': graph '%s' has a cycle through node '%s' (%s)", path,
				onnxpass_graph_name(g), onnxpass_node_name(stuck), onnxpass_node_op_type(stuck));
		} else if (!rc && n) {
			memcpy(g->nodes, order, n * sizeof(*order));
			g->dirty = true;
		}
		free(order);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Structural validation before anything is written                    */

struct scope {
	struct strmap names;	/* values defined so far in this graph */
	const struct scope *outer;
};

static bool in_scope(const struct scope *sc, const char *name)
{
	for (; sc; sc = sc->outer)
		if (strmap_get(&sc->names, name))
			return true;
	return false;
}

static int define(struct scope *sc, const char *name, const char *what, const char *path,
		  const struct onnxpass_node *n, char *err, size_t errlen)
{
	if (!*name)
		return 0;
	if (strmap_get(&sc->names, name)) {
		if (n)
			set_err(err, errlen, "cannot write model '%s': node '%s' (%s) writes '%s', which is already defined "
				"(a bug of the pass that made it)", path, onnxpass_node_name(n), onnxpass_node_op_type(n), name);
		else
			set_err(err, errlen, "cannot write model '%s': %s '%s' is defined twice", path,
				what ? what : "value", name);
		return ONNXPASS_EINVAL;
	}
	return strmap_put(&sc->names, name, (void *)1) ? ONNXPASS_ENOMEM : 0;
}

/* The rules every reader of ONNX holds a graph to (the checker's): each
 * value defined once, each read after its definition (here or in an
 * enclosing graph), every output defined, every op's domain imported.
 * A violation is a bug of a pass, reported instead of written. */
static int validate_graph(struct onnxpass_model *m, struct onnxpass_graph *g, const struct scope *outer,
			  const char *path, char *err, size_t errlen)
{
	struct scope sc = { .outer = outer };
	int rc = 0;

	strmap_init(&sc.names);
	/* an initializer may also be listed as an input (IR < 4) */
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g) && !rc; i++)
		rc = define(&sc, onnxpass_tensor_name(onnxpass_graph_initializer_at(g, i)), "initializer", path, NULL,
			    err, errlen);
	for (size_t i = 0; i < onnxpass_graph_input_count(g) && !rc; i++) {
		const char *name = onnxpass_value_name(onnxpass_graph_input(g, i));

		if (!strmap_get(&sc.names, name))
			rc = define(&sc, name, "graph input", path, NULL, err, errlen);
	}
	for (size_t i = 0; i < onnxpass_graph_node_count(g) && !rc; i++) {
		struct onnxpass_node *n = onnxpass_graph_node(g, i);
		const char *dom = onnxpass_node_domain(n);

		if (onnxpass_model_opset(m, !strcmp(dom, "ai.onnx") ? "" : dom) < 0) {
			set_err(err, errlen, "cannot write model '%s': node '%s' (%s) is of domain '%s', which the model "
				"does not import (a bug of the pass that made it)", path, onnxpass_node_name(n),
				onnxpass_node_op_type(n), dom);
			rc = ONNXPASS_EINVAL;
			break;
		}
		for (size_t k = 0; k < onnxpass_node_input_count(n); k++) {
			const char *v = onnxpass_node_input(n, k);

			if (*v && !in_scope(&sc, v)) {
				set_err(err, errlen, "cannot write model '%s': node '%s' (%s) reads '%s', which nothing "
					"defines before it (a bug of the pass that made it)", path, onnxpass_node_name(n),
					onnxpass_node_op_type(n), v);
				rc = ONNXPASS_EINVAL;
				break;
			}
		}
		for (size_t k = 0; k < onnxpass_node_subgraph_count(n) && !rc; k++)
			rc = validate_graph(m, onnxpass_node_subgraph(n, k), &sc, path, err, errlen);
		for (size_t k = 0; k < onnxpass_node_output_count(n) && !rc; k++)
			rc = define(&sc, onnxpass_node_output(n, k), NULL, path, n, err, errlen);
	}
	for (size_t i = 0; i < onnxpass_graph_output_count(g) && !rc; i++) {
		const char *name = onnxpass_value_name(onnxpass_graph_output(g, i));

		if (!in_scope(&sc, name)) {
			set_err(err, errlen, "cannot write model '%s': graph output '%s' is not defined", path, name);
			rc = ONNXPASS_EINVAL;
		}
	}
	strmap_release(&sc.names);
	return rc;
}

/* IR 3 and older require every initializer of the main graph to be a
 * graph input too: a pass that turns constants into initializers (clean)
 * lists them. */
static int ir3_inputs(struct onnxpass_model *m)
{
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	struct strmap inputs;
	int rc = 0;

	if (onnxpass_model_ir_version(m) >= 4)
		return 0;
	strmap_init(&inputs);
	for (size_t i = 0; i < onnxpass_graph_input_count(g) && !rc; i++)
		rc = strmap_put(&inputs, onnxpass_value_name(onnxpass_graph_input(g, i)), (void *)1) ? ONNXPASS_ENOMEM : 0;
	for (size_t i = 0; i < onnxpass_graph_initializer_count(g) && !rc; i++) {
		struct onnxpass_tensor *t = onnxpass_graph_initializer_at(g, i);
		struct onnxpass_value *v;
		int64_t dims[64];
		size_t r = onnxpass_tensor_rank(t);

		if (strmap_get(&inputs, onnxpass_tensor_name(t)) || r > 64)
			continue;
		for (size_t k = 0; k < r; k++)
			dims[k] = onnxpass_tensor_dim(t, k);
		v = onnxpass_graph_add_input(g, onnxpass_tensor_name(t), -1);
		rc = !v || onnxpass_value_set_type(v, onnxpass_tensor_dtype(t), (int)r, dims, NULL) ? ONNXPASS_ENOMEM : 0;
	}
	strmap_release(&inputs);
	return rc;
}

/* Points every external tensor of m stored in from at to instead. */
static int retarget(struct onnxpass_model *m, const char *from, const char *to)
{
	struct onnxpass_graph *g;

	model_for_each_graph(m, g, gi)
		for (size_t i = 0; i < g->n_inits; i++) {
			Onnx__TensorProto *tp = g->inits[i]->tp;

			for (size_t k = 0; k < tp->n_external_data; k++) {
				Onnx__StringStringEntryProto *e = tp->external_data[k];
				char *v;

				if (!e->key || strcmp(e->key, "location") || !e->value || strcmp(e->value, from))
					continue;
				if (!(v = strdup(to)))
					return ONNXPASS_ENOMEM;
				free(e->value);
				e->value = v;
			}
		}
	return 0;
}

/* Whether name is BASE.<16 hex digits>.data: a data file named by its
 * content, for the model file BASE. */
static bool content_named(const char *name, const char *base)
{
	size_t lb = strlen(base);

	if (strlen(name) != lb + 22 || strncmp(name, base, lb) || name[lb] != '.' ||
	    strcmp(name + lb + 17, ".data"))
		return false;
	for (size_t i = lb + 1; i < lb + 17; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}

static bool model_reads(const struct onnxpass_model *m, const char *path)
{
	struct stat a, b;

	if (stat(path, &a))
		return false;
	for (size_t k = 0; k < onnxpass_model_file_count(m); k++)
		if (!stat(onnxpass_model_file(m, k), &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return true;
	return false;
}

/* After a commit: the data files of earlier saves of the same output
 * (and of saves killed before their commit) go, except keep and any
 * file the model read. */
static void remove_stale_data(const struct onnxpass_model *m, const char *dir, const char *base,
			      const char *keep)
{
	char **names = NULL;
	size_t n = 0;

	if (list_dir(dir, ".data", &names, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char *p;

		if (!content_named(names[i], base) || (keep && !strcmp(names[i], keep)))
			continue;
		if ((p = path_join(dir, names[i])) && !model_reads(m, p))
			unlink(p);
		free(p);
	}
	free_names(names, n);
}

/* Commits a model written to tmp (and its data file written to data_tmp,
 * if any) under path.  A data file named by its content (unique) gets
 * its new name beside the old pair, so the rename of the model commits
 * the new pair at once.  A fixed data file name cannot be committed at
 * once: the old model goes first, so a crash leaves the old pair, no
 * model, or the new pair, never a model beside another run's data. */
static int commit(const struct onnxpass_model *m, const char *path, const char *tmp,
		  const char *data_tmp, const char *data_path, bool unique, bool visible,
		  char *err, size_t errlen)
{
	char *dir = path_dir(path);
	int e;

	if (!dir)
		return ONNXPASS_ENOMEM;
	if (data_tmp && !unique && visible && !access(path, F_OK)) {
		fault_point();
		if (unlink(path) && errno != ENOENT) {
			set_err(err, errlen, "cannot write model '%s': %s", path, strerror(errno));
			free(dir);
			return ONNXPASS_EIO;
		}
		fsync_dir(dir);
	}
	if (data_tmp) {
		struct stat have, made;

		fault_point();
		/* a file of the same content hash and size is this data already
		 * (an earlier save, perhaps the file being read): kept as is */
		if (unique && !stat(data_path, &have) && !stat(data_tmp, &made) && have.st_size == made.st_size &&
		    S_ISREG(have.st_mode)) {
			unlink(data_tmp);
		} else if (rename(data_tmp, data_path)) {
			set_err(err, errlen, "cannot write '%s': %s", data_path, strerror(errno));
			free(dir);
			return ONNXPASS_EIO;
		}
	}
	fault_point();
	if (rename(tmp, path)) {
		set_err(err, errlen, "cannot write model '%s': %s", path, strerror(errno));
		if (data_tmp && !model_reads(m, data_path))
			unlink(data_path);
		free(dir);
		return ONNXPASS_EIO;
	}
	if (visible) {
		fault_point();
		if ((e = fsync_dir(dir))) {
			set_err(err, errlen, "cannot write model '%s': %s", path, strerror(e));
			free(dir);
			return ONNXPASS_EIO;
		}
		if (unique)
			remove_stale_data(m, dir, path_base(path), data_tmp ? path_base(data_path) : NULL);
	}
	free(dir);
	return 0;
}

int model_save_impl(struct onnxpass_model *m, const char *path,
		    const struct onnxpass_save_options *opts, struct shared_table *shared,
		    bool alone, char *err, size_t errlen)
{
	struct onnxpass_save_options o = { sizeof(o), ONNXPASS_EXTERNAL_AUTO, 0, NULL };
	char *dir = NULL, *data_name = NULL, *data_path = NULL, *data_tmp = NULL, *tmp = NULL;
	struct fwriter dw, mw;
	struct ptrmap mapped;
	uint64_t hash = 0;
	bool force_big = false, with_data, wrote = false, unique = alone && !(opts && opts->data_file);

	dw.slot = mw.slot = -1;
	int rc = ONNXPASS_ENOMEM, e;

	if (opts)
		memcpy(&o, opts, opts->struct_size < sizeof(o) ? opts->struct_size : sizeof(o));
	if ((rc = sort_graphs(m, path, err, errlen)) || (rc = ir3_inputs(m)) ||
	    (rc = validate_graph(m, onnxpass_model_graph(m), NULL, path, err, errlen)))
		return rc;
	rc = ONNXPASS_ENOMEM;
	if (model_sync(m))
		return ONNXPASS_ENOMEM;
	/* everything not placed explicitly stays inline unless the file
	 * would pass the protobuf limit */
	if (o.external == ONNXPASS_EXTERNAL_AUTO &&
	    inline_estimate(m, &o, shared) + (64u << 20) > PROTO_LIMIT)
		force_big = true;
	if (o.external == ONNXPASS_EXTERNAL_NEVER && inline_estimate(m, &o, shared) > PROTO_LIMIT) {
		set_err(err, errlen,
			"cannot write model '%s': over 2 GB inline; use external data", path);
		return ONNXPASS_EINVAL;
	}
	dir = path_dir(path);
	if (o.data_file)
		data_name = strdup(o.data_file);
	else if ((data_name = malloc(strlen(path_base(path)) + 24)))	/* room for the hash */
		sprintf(data_name, "%s.data", path_base(path));
	tmp = tmp_name(path);
	if (!dir || !data_name || !tmp)
		goto out;
	if (strchr(data_name, '/') || !strcmp(data_name, "..") || !*data_name) {
		set_err(err, errlen, "cannot write model '%s': bad data file name '%s'", path,
			data_name);
		rc = ONNXPASS_EINVAL;
		goto out;
	}
	if ((e = make_parents(path))) {
		set_err(err, errlen, "cannot write model '%s': %s", path, strerror(e));
		rc = ONNXPASS_EIO;
		goto out;
	}
	with_data = needs_data_file(m, &o, shared, force_big);
	if (with_data) {
		data_path = path_join(dir, data_name);
		data_tmp = data_path ? tmp_name(data_path) : NULL;
		if (!data_tmp)
			goto out;
		if ((e = fw_open(&dw, data_tmp))) {
			set_err(err, errlen, "cannot write '%s': %s", data_path, strerror(e));
			rc = ONNXPASS_EIO;
			goto out;
		}
		if (unique)
			dw.hash = &hash;
	}
	rc = place_all(m, &o, shared, force_big, with_data ? &dw : NULL, data_name, &wrote);
	if (with_data && (e = fw_close(&dw)) && !rc) {
		if (unique)	/* its name is not known yet */
			set_err(err, errlen, "cannot write model '%s': %s", path, strerror(e));
		else
			set_err(err, errlen, "cannot write '%s': %s", data_path, strerror(e));
		rc = ONNXPASS_EIO;
	}
	if (rc) {
		if (rc > 0 || !err || !err[0])
			set_err(err, errlen, "cannot write model '%s': %s", path,
				onnxpass_strerror(rc > 0 ? ONNXPASS_EINVAL : rc));
		rc = rc > 0 ? ONNXPASS_EINVAL : rc;
		goto out_unlink;
	}
	if (with_data && unique) {	/* the data file is named by its content */
		char *old = strdup(data_name);

		sprintf(data_name, "%s.%016llx.data", path_base(path), (unsigned long long)hash);
		free(data_path);
		data_path = path_join(dir, data_name);
		rc = !old || !data_path ? ONNXPASS_ENOMEM : retarget(m, old, data_name);
		free(old);
		if (rc)
			goto out_unlink;
	}
	if ((e = fw_open(&mw, tmp))) {
		set_err(err, errlen, "cannot write model '%s': %s", path, strerror(e));
		rc = ONNXPASS_EIO;
		goto out_unlink;
	}
	mw.source = m->file;
	/* inline bytes that are windows of another mapping (a spilled weight,
	 * external data saved inline): their pages go too once written */
	ptrmap_init(&mapped);
	for (size_t i = 0; i < m->tensors.cap; i++) {
		struct onnxpass_tensor *t = m->tensors.keys[i] ? m->tensors.vals[i] : NULL;

		if (t && t->data && t->blob && t->blob->mapped && t->blob != m->file && t->nbytes >= mw.cap &&
		    ptrmap_put(&mapped, t->data, t->blob))
			break;	/* out of memory: pages stay, the bytes are right */
	}
	mw.mapped = &mapped;
	protobuf_c_message_pack_to_buffer(&m->mp->base, &mw.base);
	ptrmap_release(&mapped);
	if ((e = fw_close(&mw))) {
		set_err(err, errlen, "cannot write model '%s': %s", path, strerror(e));
		rc = ONNXPASS_EIO;
		goto out_unlink;
	}
	if (mw.offset > PROTO_LIMIT) {
		set_err(err, errlen, "cannot write model '%s': %llu bytes is over the 2 GB protobuf limit; use external data",
			path, (unsigned long long)mw.offset);
		rc = ONNXPASS_EINVAL;
		goto out_unlink;
	}
	rc = commit(m, path, tmp, with_data ? data_tmp : NULL, data_path, unique, alone, err, errlen);
	if (rc)
		goto out_unlink;
	rc = 0;
	goto out;
out_unlink:
	unlink(tmp);
	if (data_tmp)
		unlink(data_tmp);
out:
	(void)wrote;
	mapguard_written(dw.slot);
	mapguard_written(mw.slot);
	free(dir);
	free(data_name);
	free(data_path);
	free(data_tmp);
	free(tmp);
	return rc;
}

int onnxpass_model_save(struct onnxpass_model *m, const char *path,
			const struct onnxpass_save_options *opts, char *err, size_t errlen)
{
	char rin[4096], rout[4096];

	/* never replace the file being read */
	if (m->path && realpath(m->path, rin) && realpath(path, rout) && !strcmp(rin, rout)) {
		set_err(err, errlen, "cannot write model '%s': it is the input file", path);
		return ONNXPASS_EINVAL;
	}
	return model_save_impl(m, path, opts, NULL, true, err, errlen);
}
