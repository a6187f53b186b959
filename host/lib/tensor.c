/* SPDX-License-Identifier: MIT */
/* Tensors: size checks, zero-copy views, copy-on-write and conversions. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fp16.h>

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Blobs                                                               */

struct blob *blob_new_heap(size_t len)
{
	struct blob *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->base = calloc(len ? len : 1, 1);
	if (!b->base) {
		free(b);
		return NULL;
	}
	b->len = len;
	b->refs = 1;
	return b;
}

int blob_map_file(const char *path, struct blob **out, char *err, size_t errlen)
{
	struct stat st;
	struct blob *b;
	void *p = NULL;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* a FIFO must not block */
	if (fd < 0) {
		set_err(err, errlen, "%s", strerror(errno));
		return ONNXPASS_EIO;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "not a regular file");
		close(fd);
		return ONNXPASS_EIO;
	}
	if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			set_err(err, errlen, "cannot map: %s", strerror(errno));
			close(fd);
			return ONNXPASS_EIO;
		}
	}
	close(fd);
	b = calloc(1, sizeof(*b));
	if (!b) {
		if (p)
			munmap(p, (size_t)st.st_size);
		return ONNXPASS_ENOMEM;
	}
	b->refs = 1;
	b->mapped = p != NULL;
	b->base = p;
	b->len = (size_t)st.st_size;
	b->path = strdup(path);
	if (p)
		b->guard = mapguard_add(p, b->len, path);
	*out = b;
	return 0;
}

void blob_drop_pages(struct blob *b, const void *p, size_t len)
{
	static long page;
	uintptr_t start, end;

	if (!b || !b->mapped || len < 65536)
		return;
	if (!page)
		page = sysconf(_SC_PAGESIZE);
	if ((const uint8_t *)p < b->base || (const uint8_t *)p + len > b->base + b->len)
		return;
	/* only whole pages inside the range; the mapping is read-only and
	 * private, so dropped pages come back from the file unchanged */
	start = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
	end = ((uintptr_t)p + len) & ~((uintptr_t)page - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_DONTNEED);
}

struct blob *blob_ref(struct blob *b)
{
	if (b)
		b->refs++;
	return b;
}

void blob_unref(struct blob *b)
{
	if (!b || --b->refs > 0)
		return;
	mapguard_remove(b->guard);
	if (b->mapped)
		munmap(b->base, b->len);
	else
		free(b->base);
	free(b->path);
	free(b);
}

/* ------------------------------------------------------------------ */
/* Size rules                                                          */

bool tensor_bytes_for(int dtype, int64_t numel, size_t *out)
{
	int bits = onnxpass_dtype_bits(dtype);
	uint64_t total;

	if (bits == 0 || numel < 0)
		return false;
	if (__builtin_mul_overflow((uint64_t)numel, (uint64_t)bits, &total))
		return false;
	total = (total + 7) / 8;
	if (total > SIZE_MAX)
		return false;
	*out = (size_t)total;
	return true;
}

/* How many entries of its typed field a tensor of numel elements needs. */
static size_t typed_count(const Onnx__TensorProto *tp, int64_t numel, size_t *have)
{
	size_t n = (size_t)numel;

	switch (tp->data_type) {
	case ONNXPASS_DT_FLOAT:
		*have = tp->n_float_data;
		return n;
	case ONNXPASS_DT_COMPLEX64:
		*have = tp->n_float_data;
		return 2 * n;
	case ONNXPASS_DT_DOUBLE:
		*have = tp->n_double_data;
		return n;
	case ONNXPASS_DT_COMPLEX128:
		*have = tp->n_double_data;
		return 2 * n;
	case ONNXPASS_DT_INT64:
		*have = tp->n_int64_data;
		return n;
	case ONNXPASS_DT_UINT32:
	case ONNXPASS_DT_UINT64:
		*have = tp->n_uint64_data;
		return n;
	case ONNXPASS_DT_STRING:
		*have = tp->n_string_data;
		return n;
	case ONNXPASS_DT_INT4:
	case ONNXPASS_DT_UINT4:
		*have = tp->n_int32_data;
		return (n + 1) / 2;
	default:
		*have = tp->n_int32_data;
		return n;
	}
}

static bool has_typed(const Onnx__TensorProto *tp)
{
	return tp->n_float_data || tp->n_double_data || tp->n_int64_data || tp->n_uint64_data ||
	       tp->n_string_data || tp->n_int32_data;
}

static bool is_external(const Onnx__TensorProto *tp)
{
	return tp->has_data_location &&
	       tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}

int tensor_wrap(Onnx__TensorProto *tp, struct onnxpass_tensor **out, const char **why)
{
	struct onnxpass_tensor *t;
	int64_t numel = 1;

	*out = NULL;
	for (size_t i = 0; i < tp->n_dims; i++) {
		if (tp->dims[i] < 0) {
			*why = "negative dimension";
			return ONNXPASS_EFORMAT;
		}
		if (__builtin_mul_overflow(numel, tp->dims[i], &numel)) {
			*why = "dimensions overflow";
			return ONNXPASS_EFORMAT;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return ONNXPASS_ENOMEM;
	t->tp = tp;
	t->numel = numel;
	if (tp->data_type != ONNXPASS_DT_STRING && !tp->segment &&
	    !tensor_bytes_for(tp->data_type, numel, &t->nbytes) && numel > 0) {
		free(t);
		*why = tp->data_type == 0 ? "undefined element type" : "size overflows";
		return ONNXPASS_EFORMAT;
	}
	if (is_external(tp)) {
		t->external = true;
	} else if (tp->has_raw_data && tp->data_type != ONNXPASS_DT_STRING && !tp->segment) {
		if (tp->raw_data.len != t->nbytes) {
			*why = tp->raw_data.len < t->nbytes ? "raw_data is shorter than its dimensions need"
							    : "raw_data is longer than its dimensions need";
			free(t);
			return ONNXPASS_EFORMAT;
		}
		t->data = tp->raw_data.data;
	} else if (has_typed(tp) && !tp->segment) {
		size_t have, need = typed_count(tp, numel, &have);

		if (have != need) {
			*why = have < need ? "typed data has fewer values than its dimensions need"
					   : "typed data has more values than its dimensions need";
			free(t);
			return ONNXPASS_EFORMAT;
		}
	}
	*out = t;
	return 0;
}

bool tensor_lacks_data(const struct onnxpass_tensor *t)
{
	const Onnx__TensorProto *tp = t->tp;

	return t->numel > 0 && tp->data_type != ONNXPASS_DT_STRING && !tp->segment && !t->external &&
	       !tp->has_raw_data && !has_typed(tp);
}

static void detach_raw(struct onnxpass_tensor *t)
{
	if (t->raw_borrowed) {
		t->tp->raw_data.data = NULL;
		t->tp->raw_data.len = 0;
		t->tp->has_raw_data = 0;
		t->raw_borrowed = false;
	}
}

void tensor_release_wrapper(struct onnxpass_tensor *t)
{
	if (!t)
		return;
	blob_unref(t->aligned);
	detach_raw(t);
	blob_unref(t->blob);
	free(t);
}

static void clear_typed(Onnx__TensorProto *tp)
{
	free(tp->float_data);
	free(tp->double_data);
	free(tp->int64_data);
	free(tp->uint64_data);
	free(tp->int32_data);
	tp->float_data = NULL;
	tp->double_data = NULL;
	tp->int64_data = NULL;
	tp->uint64_data = NULL;
	tp->int32_data = NULL;
	tp->n_float_data = tp->n_double_data = tp->n_int64_data = 0;
	tp->n_uint64_data = tp->n_int32_data = 0;
}

static void clear_external(Onnx__TensorProto *tp)
{
	for (size_t i = 0; i < tp->n_external_data; i++)
		protobuf_c_message_free_unpacked(&tp->external_data[i]->base, NULL);
	free(tp->external_data);
	tp->external_data = NULL;
	tp->n_external_data = 0;
	tp->has_data_location = 0;
	tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
}

/* Converts typed fields to raw bytes in a new heap blob. */
static int materialize(struct onnxpass_tensor *t)
{
	Onnx__TensorProto *tp = t->tp;
	struct blob *b;
	size_t n = (size_t)t->numel, have, need;

	if (t->data)
		return 0;
	if (tp->data_type == ONNXPASS_DT_STRING || t->external)
		return ONNXPASS_EUNSUPPORTED;
	need = typed_count(tp, t->numel, &have);
	if (have != need && t->numel > 0)
		return ONNXPASS_EFORMAT;
	b = blob_new_heap(t->nbytes);
	if (!b)
		return ONNXPASS_ENOMEM;
	if (t->numel == 0)	/* no element, and typed arrays may be NULL */
		goto done;
	switch (tp->data_type) {
	case ONNXPASS_DT_FLOAT:
	case ONNXPASS_DT_COMPLEX64:
		memcpy(b->base, tp->float_data, need * 4);
		break;
	case ONNXPASS_DT_DOUBLE:
	case ONNXPASS_DT_COMPLEX128:
		memcpy(b->base, tp->double_data, need * 8);
		break;
	case ONNXPASS_DT_INT64:
		memcpy(b->base, tp->int64_data, n * 8);
		break;
	case ONNXPASS_DT_UINT64:
		memcpy(b->base, tp->uint64_data, n * 8);
		break;
	case ONNXPASS_DT_UINT32:
		for (size_t i = 0; i < n; i++) {
			uint32_t v = (uint32_t)tp->uint64_data[i];

			memcpy(b->base + 4 * i, &v, 4);
		}
		break;
	case ONNXPASS_DT_INT32:
		memcpy(b->base, tp->int32_data, n * 4);
		break;
	case ONNXPASS_DT_INT16:
	case ONNXPASS_DT_UINT16:
	case ONNXPASS_DT_FLOAT16:
	case ONNXPASS_DT_BFLOAT16:
		for (size_t i = 0; i < n; i++) {
			uint16_t v = (uint16_t)tp->int32_data[i];

			memcpy(b->base + 2 * i, &v, 2);
		}
		break;
	default:	/* one byte (or one packed 4-bit pair) per int32 */
		for (size_t i = 0; i < need; i++)
			b->base[i] = (uint8_t)tp->int32_data[i];
		break;
	}
done:
	t->blob = b;
	t->data = b->base;
	return 0;
}

int tensor_make_raw(struct onnxpass_tensor *t)
{
	Onnx__TensorProto *tp = t->tp;
	int rc;

	if (tp->data_type == ONNXPASS_DT_STRING)
		return 0;
	if ((rc = materialize(t)))
		return rc;
	if (tp->has_raw_data && tp->raw_data.data == t->data && !is_external(tp))
		return 0;
	if (!t->raw_borrowed && tp->has_raw_data && tp->raw_data.data != t->data)
		free(tp->raw_data.data);
	if (!t->blob) {	/* the bytes are tp's own raw_data already */
		clear_typed(tp);
		clear_external(tp);
		return 0;
	}
	clear_typed(tp);
	clear_external(tp);
	tp->has_raw_data = 1;
	tp->raw_data.data = (uint8_t *)t->data;
	tp->raw_data.len = t->nbytes;
	t->raw_borrowed = true;
	return 0;
}

static Onnx__StringStringEntryProto *kv(const char *k, const char *v)
{
	Onnx__StringStringEntryProto *e = malloc(sizeof(*e));

	if (!e)
		return NULL;
	onnx__string_string_entry_proto__init(e);
	e->key = strdup(k);
	e->value = strdup(v);
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		free(e);
		return NULL;
	}
	return e;
}

int tensor_make_external(struct onnxpass_tensor *t, const char *location, uint64_t offset)
{
	Onnx__TensorProto *tp = t->tp;
	char off[32], len[32];
	int rc;

	if ((rc = materialize(t)))
		return rc;
	if (!t->blob) {	/* keep the bytes alive outside tp */
		struct blob *b = blob_new_heap(t->nbytes);

		if (!b)
			return ONNXPASS_ENOMEM;
		memcpy(b->base, t->data, t->nbytes);
		t->blob = b;
		t->data = b->base;
	}
	if (t->raw_borrowed)
		detach_raw(t);
	else if (tp->has_raw_data)
		free(tp->raw_data.data);
	tp->has_raw_data = 0;
	tp->raw_data.data = NULL;
	tp->raw_data.len = 0;
	clear_typed(tp);
	clear_external(tp);
	snprintf(off, sizeof(off), "%" PRIu64, offset);
	snprintf(len, sizeof(len), "%zu", t->nbytes);
	tp->external_data = calloc(3, sizeof(*tp->external_data));
	if (!tp->external_data)
		return ONNXPASS_ENOMEM;
	tp->external_data[0] = kv("location", location);
	tp->external_data[1] = kv("offset", off);
	tp->external_data[2] = kv("length", len);
	tp->n_external_data = 3;
	for (int i = 0; i < 3; i++)
		if (!tp->external_data[i])
			return ONNXPASS_ENOMEM;
	tp->has_data_location = 1;
	tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

static Onnx__TensorProto *new_proto(const char *name, int dtype, size_t rank,
				    const int64_t *dims)
{
	Onnx__TensorProto *tp = malloc(sizeof(*tp));

	if (!tp)
		return NULL;
	onnx__tensor_proto__init(tp);
	tp->has_data_type = 1;
	tp->data_type = dtype;
	tp->name = xstrdup(name ? name : "");
	tp->dims = rank ? malloc(rank * sizeof(int64_t)) : NULL;
	if (!tp->name || (rank && !tp->dims)) {
		protobuf_c_message_free_unpacked(&tp->base, NULL);
		return NULL;
	}
	if (rank)
		memcpy(tp->dims, dims, rank * sizeof(int64_t));
	tp->n_dims = rank;
	return tp;
}

/* A tensor of that type and shape without bytes yet. */
static struct onnxpass_tensor *tensor_new_empty(const char *name, int dtype, size_t rank,
						const int64_t *dims)
{
	Onnx__TensorProto *tp;
	struct onnxpass_tensor *t;
	const char *why;

	if (onnxpass_dtype_bits(dtype) == 0 || dtype == ONNXPASS_DT_STRING)
		return NULL;
	tp = new_proto(name, dtype, rank, dims);
	if (!tp)
		return NULL;
	if (tensor_wrap(tp, &t, &why)) {
		protobuf_c_message_free_unpacked(&tp->base, NULL);
		return NULL;
	}
	return t;
}

struct onnxpass_tensor *onnxpass_tensor_new(const char *name, int dtype, size_t rank,
					    const int64_t *dims)
{
	struct onnxpass_tensor *t = tensor_new_empty(name, dtype, rank, dims);

	if (!t)
		return NULL;
	t->blob = blob_new_heap(t->nbytes);
	if (!t->blob) {
		onnxpass_tensor_free(t);
		return NULL;
	}
	t->data = t->blob->base;
	t->modified = true;
	tensor_make_raw(t);
	return t;
}

struct onnxpass_tensor *onnxpass_tensor_map_file(const char *name, int dtype, size_t rank,
						 const int64_t *dims, const char *path, uint64_t offset,
						 char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = offset - offset % (uint64_t)(page > 0 ? page : 4096);
	struct onnxpass_tensor *t = tensor_new_empty(name, dtype, rank, dims);
	struct stat st;
	struct blob *b = NULL;
	void *p = MAP_FAILED;
	size_t len;
	int fd = -1;

	if (!t) {
		set_err(err, errlen, "cannot make tensor '%s': bad type or size", name);
		return NULL;
	}
	len = (size_t)(offset - start) + t->nbytes;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 || fstat(fd, &st)) {
		set_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "cannot read '%s': not a regular file", path);
		goto fail;
	}
	if (offset > (uint64_t)st.st_size || t->nbytes > (uint64_t)st.st_size - offset) {
		set_err(err, errlen, "'%s' has %lld bytes, tensor '%s' needs %zu at offset %llu", path,
			(long long)st.st_size, name, t->nbytes, (unsigned long long)offset);
		goto fail;
	}
	if (t->nbytes && (p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)start)) == MAP_FAILED) {
		set_err(err, errlen, "cannot map '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (!(b = calloc(1, sizeof(*b))))
		goto fail;
	b->refs = 1;
	b->mapped = p != MAP_FAILED;
	b->base = b->mapped ? p : NULL;
	b->len = b->mapped ? len : 0;
	b->path = strdup(path);
	if (b->mapped)
		b->guard = mapguard_add(p, len, path);
	close(fd);
	t->blob = b;
	t->data = b->mapped ? b->base + (offset - start) : (const uint8_t *)"";
	t->modified = true;
	tensor_make_raw(t);
	return t;
fail:
	if (p != MAP_FAILED)
		munmap(p, len);
	if (fd >= 0)
		close(fd);
	onnxpass_tensor_free(t);
	return NULL;
}

int tensor_spill(struct onnxpass_tensor *t, int fd, uint64_t offset, const char *path)
{
	struct blob *b;
	const uint8_t *src = t->data;
	size_t done = 0;
	void *p;

	/* only bytes this tensor alone holds in memory */
	if (!t->data || !t->blob || t->blob->mapped || t->blob->refs > 1 || !t->nbytes ||
	    t->tp->data_type == ONNXPASS_DT_STRING)
		return 0;
	while (done < t->nbytes) {
		ssize_t w = pwrite(fd, src + done, t->nbytes - done, (off_t)(offset + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ONNXPASS_EIO;
		done += (size_t)w;
	}
	p = mmap(NULL, t->nbytes, PROT_READ, MAP_PRIVATE, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return ONNXPASS_EIO;
	if (!(b = calloc(1, sizeof(*b)))) {
		munmap(p, t->nbytes);
		return ONNXPASS_ENOMEM;
	}
	b->refs = 1;
	b->mapped = true;
	b->base = p;
	b->len = t->nbytes;
	b->path = strdup(path);
	b->guard = mapguard_add(p, t->nbytes, path);
	if (t->aligned) {
		blob_unref(t->aligned);
		t->aligned = NULL;
	}
	blob_unref(t->blob);
	t->blob = b;
	t->data = b->base;
	return tensor_make_raw(t);
}

/* Moves bytes held only by tp into a blob so they can be shared. */
static int ensure_blob(struct onnxpass_tensor *t)
{
	int rc = materialize(t);

	if (rc)
		return rc;
	if (!t->blob) {
		struct blob *b = blob_new_heap(t->nbytes);

		if (!b)
			return ONNXPASS_ENOMEM;
		memcpy(b->base, t->data, t->nbytes);
		if (t->tp->has_raw_data && !t->raw_borrowed) {
			free(t->tp->raw_data.data);
			t->tp->raw_data.data = NULL;
			t->tp->has_raw_data = 0;
		}
		t->blob = b;
		t->data = b->base;
		if (!t->external)
			tensor_make_raw(t);
	}
	return 0;
}

struct onnxpass_tensor *onnxpass_tensor_share(struct onnxpass_tensor *t, const char *name)
{
	struct onnxpass_tensor *n;
	Onnx__TensorProto *tp;
	const char *why;

	if (t->tp->data_type == ONNXPASS_DT_STRING || ensure_blob(t))
		return NULL;
	tp = new_proto(name, t->tp->data_type, t->tp->n_dims, t->tp->dims);
	if (!tp)
		return NULL;
	if (tensor_wrap(tp, &n, &why)) {
		protobuf_c_message_free_unpacked(&tp->base, NULL);
		return NULL;
	}
	n->blob = blob_ref(t->blob);
	n->data = t->data;
	n->external = t->external;
	n->storage = t->storage;
	tensor_make_raw(n);
	return n;
}

int onnxpass_tensor_share_storage(struct onnxpass_tensor *t, struct onnxpass_tensor *src)
{
	int rc;

	if (t == src || t->nbytes != src->nbytes || t->tp->data_type == ONNXPASS_DT_STRING ||
	    src->tp->data_type == ONNXPASS_DT_STRING)
		return ONNXPASS_EINVAL;
	if ((rc = ensure_blob(src)))
		return rc;
	model_changed(t->model);
	if (t->raw_borrowed)
		detach_raw(t);
	else if (t->tp->has_raw_data) {
		free(t->tp->raw_data.data);
		t->tp->raw_data.data = NULL;
		t->tp->has_raw_data = 0;
	}
	blob_unref(t->blob);
	blob_unref(t->aligned);
	t->aligned = NULL;
	t->blob = blob_ref(src->blob);
	t->data = src->data;
	t->external = src->external;
	if (!t->external || t->tp->has_raw_data)
		return tensor_make_raw(t);
	return 0;
}

struct onnxpass_tensor *onnxpass_tensor_clone(struct onnxpass_tensor *t, const char *name)
{
	struct onnxpass_tensor *n;

	if (!onnxpass_tensor_data(t))
		return NULL;
	n = onnxpass_tensor_new(name, t->tp->data_type, t->tp->n_dims, t->tp->dims);
	if (n)
		memcpy(n->blob->base, t->data, t->nbytes);
	return n;
}

void onnxpass_tensor_free(struct onnxpass_tensor *t)
{
	if (!t)
		return;
	if (t->model)
		ptrmap_del(&t->model->tensors, t->tp);
	blob_unref(t->aligned);
	detach_raw(t);
	protobuf_c_message_free_unpacked(&t->tp->base, NULL);
	blob_unref(t->blob);
	free(t);
}

const char *onnxpass_tensor_name(const struct onnxpass_tensor *t)
{
	return t->tp->name ? t->tp->name : "";
}

int onnxpass_tensor_set_name(struct onnxpass_tensor *t, const char *name)
{
	char *n;

	if (t->model)	/* its graph keys values by this name */
		return ONNXPASS_EINVAL;
	n = strdup(name);
	if (!n)
		return ONNXPASS_ENOMEM;
	free(t->tp->name);
	t->tp->name = n;
	return 0;
}

int onnxpass_tensor_dtype(const struct onnxpass_tensor *t)
{
	return t->tp->data_type;
}

size_t onnxpass_tensor_rank(const struct onnxpass_tensor *t)
{
	return t->tp->n_dims;
}

int64_t onnxpass_tensor_dim(const struct onnxpass_tensor *t, size_t i)
{
	return i < t->tp->n_dims ? t->tp->dims[i] : -1;
}

int64_t onnxpass_tensor_numel(const struct onnxpass_tensor *t)
{
	return t->numel;
}

size_t onnxpass_tensor_nbytes(const struct onnxpass_tensor *t)
{
	return t->nbytes;
}

bool onnxpass_tensor_is_external(const struct onnxpass_tensor *t)
{
	return t->external;
}

const void *onnxpass_tensor_data(struct onnxpass_tensor *t)
{
	if (materialize(t))
		return NULL;
	return t->data;
}

const void *onnxpass_tensor_data_aligned(struct onnxpass_tensor *t)
{
	int bits = onnxpass_dtype_bits(t->tp->data_type);
	uintptr_t align = bits >= 64 ? 8 : bits >= 8 ? (uintptr_t)bits / 8 : 1;

	if (materialize(t))
		return NULL;
	if (((uintptr_t)t->data & (align - 1)) == 0)
		return t->data;
	if (!t->aligned) {
		t->aligned = blob_new_heap(t->nbytes);
		if (!t->aligned)
			return NULL;
		memcpy(t->aligned->base, t->data, t->nbytes);
	}
	return t->aligned->base;
}

void *onnxpass_tensor_mutable_data(struct onnxpass_tensor *t)
{
	if (materialize(t))
		return NULL;
	model_changed(t->model);
	if (!t->blob || t->blob->mapped || t->blob->refs > 1) {
		struct blob *b = blob_new_heap(t->nbytes);

		if (!b)
			return NULL;
		memcpy(b->base, t->data, t->nbytes);
		if (t->raw_borrowed)
			detach_raw(t);
		else if (t->tp->has_raw_data && !t->blob) {
			free(t->tp->raw_data.data);
			t->tp->raw_data.data = NULL;
			t->tp->has_raw_data = 0;
		}
		blob_unref(t->blob);
		t->blob = b;
		t->data = b->base;
	}
	blob_unref(t->aligned);	/* the bytes may change */
	t->aligned = NULL;
	t->modified = true;
	t->external = false;
	if (tensor_make_raw(t))
		return NULL;
	return t->blob->base;
}

bool onnxpass_tensor_equal(struct onnxpass_tensor *a, struct onnxpass_tensor *b)
{
	const void *pa, *pb;

	if (a->tp->data_type != b->tp->data_type || a->tp->n_dims != b->tp->n_dims ||
	    a->nbytes != b->nbytes)
		return false;
	if (a->tp->n_dims && memcmp(a->tp->dims, b->tp->dims, a->tp->n_dims * sizeof(int64_t)))
		return false;
	pa = onnxpass_tensor_data(a);
	pb = onnxpass_tensor_data(b);
	if (!pa || !pb)
		return false;
	if (pa == pb)
		return true;
	/* in chunks, letting mapped pages go: two large tables compared
	 * never sit in memory whole */
	for (size_t off = 0; off < a->nbytes; off += 8u << 20) {
		size_t n = a->nbytes - off < (8u << 20) ? a->nbytes - off : (8u << 20);
		bool same = memcmp((const uint8_t *)pa + off, (const uint8_t *)pb + off, n) == 0;

		blob_drop_pages(a->blob, (const uint8_t *)pa + off, n);
		blob_drop_pages(b->blob, (const uint8_t *)pb + off, n);
		if (!same)
			return false;
	}
	return true;
}

bool onnxpass_tensor_same_storage(const struct onnxpass_tensor *a,
				  const struct onnxpass_tensor *b)
{
	return a->data && a->data == b->data && a->nbytes == b->nbytes;
}

void onnxpass_tensor_drop_pages(struct onnxpass_tensor *t)
{
	blob_unref(t->aligned);
	t->aligned = NULL;
	if (t->data)
		blob_drop_pages(t->blob, t->data, t->nbytes);
}

void onnxpass_tensor_drop_range(struct onnxpass_tensor *t, size_t offset, size_t len)
{
	if (t->data && offset < t->nbytes)
		blob_drop_pages(t->blob, t->data + offset,
				len < t->nbytes - offset ? len : t->nbytes - offset);
}

enum onnxpass_storage onnxpass_tensor_storage(const struct onnxpass_tensor *t)
{
	return t->storage;
}

void onnxpass_tensor_set_storage(struct onnxpass_tensor *t, enum onnxpass_storage s)
{
	t->storage = s;
}

/* ------------------------------------------------------------------ */
/* Conversions                                                         */

/* IEEE half precision by Debian's libfp16 (the conversions PyTorch uses):
 * round to nearest even, subnormals kept, a NaN stays a NaN of the same
 * sign (its payload is not kept). */
float onnxpass_f16_to_f32(uint16_t h)
{
	return fp16_ieee_to_fp32_value(h);
}

uint16_t onnxpass_f32_to_f16(float f)
{
	return fp16_ieee_from_fp32_value(f);
}

float onnxpass_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;

	memcpy(&f, &bits, 4);
	return f;
}

uint16_t onnxpass_f32_to_bf16(float f)
{
	uint32_t x;

	memcpy(&x, &f, 4);
	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

void onnxpass_pack_4bit(const uint8_t *vals, size_t n, uint8_t *dst)
{
	for (size_t i = 0; i < n; i += 2) {
		uint8_t lo = vals[i] & 0xf, hi = i + 1 < n ? vals[i + 1] & 0xf : 0;

		dst[i / 2] = (uint8_t)(lo | (hi << 4));
	}
}

void onnxpass_unpack_4bit(const uint8_t *src, size_t n, bool is_signed, int8_t *dst)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t v = (uint8_t)((src[i / 2] >> ((i & 1) * 4)) & 0xf);

		dst[i] = is_signed && (v & 8) ? (int8_t)(v - 16) : (int8_t)v;
	}
}

/* Element i of raw data of dtype as double; false for unsupported types. */
static bool element(const uint8_t *p, int dtype, size_t i, double *out)
{
	switch (dtype) {
	case ONNXPASS_DT_FLOAT: { float v; memcpy(&v, p + 4 * i, 4); *out = v; return true; }
	case ONNXPASS_DT_DOUBLE: { double v; memcpy(&v, p + 8 * i, 8); *out = v; return true; }
	case ONNXPASS_DT_FLOAT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); *out = onnxpass_f16_to_f32(v); return true; }
	case ONNXPASS_DT_BFLOAT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); *out = onnxpass_bf16_to_f32(v); return true; }
	case ONNXPASS_DT_INT8: *out = (int8_t)p[i]; return true;
	case ONNXPASS_DT_UINT8:
	case ONNXPASS_DT_BOOL: *out = p[i]; return true;
	case ONNXPASS_DT_INT16: { int16_t v; memcpy(&v, p + 2 * i, 2); *out = v; return true; }
	case ONNXPASS_DT_UINT16: { uint16_t v; memcpy(&v, p + 2 * i, 2); *out = v; return true; }
	case ONNXPASS_DT_INT32: { int32_t v; memcpy(&v, p + 4 * i, 4); *out = v; return true; }
	case ONNXPASS_DT_UINT32: { uint32_t v; memcpy(&v, p + 4 * i, 4); *out = v; return true; }
	case ONNXPASS_DT_INT64: { int64_t v; memcpy(&v, p + 8 * i, 8); *out = (double)v; return true; }
	case ONNXPASS_DT_UINT64: { uint64_t v; memcpy(&v, p + 8 * i, 8); *out = (double)v; return true; }
	case ONNXPASS_DT_INT4:
	case ONNXPASS_DT_UINT4: {
		uint8_t v = (uint8_t)((p[i / 2] >> ((i & 1) * 4)) & 0xf);

		*out = dtype == ONNXPASS_DT_INT4 && (v & 8) ? (double)v - 16 : v;
		return true;
	}
	default:
		return false;
	}
}

int onnxpass_tensor_to_f32(struct onnxpass_tensor *t, float *dst, size_t n)
{
	const uint8_t *p = onnxpass_tensor_data(t);
	double v;

	if (!p || n != (size_t)t->numel)
		return ONNXPASS_EINVAL;
	if (t->tp->data_type == ONNXPASS_DT_FLOAT) {
		if (n)
			memcpy(dst, p, n * 4);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!element(p, t->tp->data_type, i, &v))
			return ONNXPASS_EUNSUPPORTED;
		dst[i] = (float)v;
	}
	return 0;
}

int onnxpass_tensor_to_i64(struct onnxpass_tensor *t, int64_t *dst, size_t n)
{
	const uint8_t *p = onnxpass_tensor_data(t);
	int dt = t->tp->data_type;
	double v;

	if (!p || n != (size_t)t->numel)
		return ONNXPASS_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (dt == ONNXPASS_DT_INT64) {
			memcpy(&dst[i], p + 8 * i, 8);
			continue;
		}
		if (dt == ONNXPASS_DT_UINT64) {
			uint64_t u;

			memcpy(&u, p + 8 * i, 8);
			dst[i] = (int64_t)u;
			continue;
		}
		if (!element(p, dt, i, &v))
			return ONNXPASS_EUNSUPPORTED;
		dst[i] = (int64_t)v;
	}
	return 0;
}

int onnxpass_tensor_from_f32(struct onnxpass_tensor *t, const float *src, size_t n)
{
	uint8_t *p;
	int dt = t->tp->data_type;

	if (n != (size_t)t->numel)
		return ONNXPASS_EINVAL;
	if (dt != ONNXPASS_DT_FLOAT && dt != ONNXPASS_DT_FLOAT16 && dt != ONNXPASS_DT_BFLOAT16 &&
	    dt != ONNXPASS_DT_DOUBLE)
		return ONNXPASS_EUNSUPPORTED;
	p = onnxpass_tensor_mutable_data(t);
	if (!p)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (dt == ONNXPASS_DT_FLOAT) {
			memcpy(p + 4 * i, &src[i], 4);
		} else if (dt == ONNXPASS_DT_DOUBLE) {
			double d = src[i];

			memcpy(p + 8 * i, &d, 8);
		} else {
			uint16_t h = dt == ONNXPASS_DT_FLOAT16 ? onnxpass_f32_to_f16(src[i])
							       : onnxpass_f32_to_bf16(src[i]);

			memcpy(p + 2 * i, &h, 2);
		}
	}
	return 0;
}
