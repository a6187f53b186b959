/* SPDX-License-Identifier: MIT */
/* Tensors: typed, read-only views of initializer data with copy-on-write. */
#ifndef ONNXPASS_TENSOR_H
#define ONNXPASS_TENSOR_H

#include <onnxpass/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A tensor's bytes live either in memory it owns or in a read-only window
 * of a mapped file (the model itself or its external data).  Reading never
 * copies; the first write (onnxpass_tensor_mutable_data) copies the window
 * into owned memory.  Several tensors may share one buffer (see
 * onnxpass_tensor_share); it is freed with the last of them.
 */
struct onnxpass_tensor;

/* Where the tensor's bytes go when its model is saved. */
enum onnxpass_storage {
	ONNXPASS_STORE_AUTO = 0,	/* by the save options' size threshold */
	ONNXPASS_STORE_INLINE = 1,	/* in the .onnx file */
	ONNXPASS_STORE_EXTERNAL = 2,	/* in the model's external-data file */
	ONNXPASS_STORE_SHARED = 3,	/* in the bundle's shared data file */
};

/*
 * A new zero-filled tensor.  dims may be NULL when rank is 0 (a scalar).
 * Returns NULL when the size overflows or memory is short.  The caller owns
 * it until it is handed to a graph (onnxpass_graph_add_initializer...);
 * otherwise free with onnxpass_tensor_free.
 */
ONNXPASS_API struct onnxpass_tensor *
onnxpass_tensor_new(const char *name, int dtype, size_t rank, const int64_t *dims);

/*
 * A tensor whose bytes are a read-only window of the file at path, from
 * offset (raw little-endian, as ONNX raw_data): weights written by another
 * tool, or streamed to disk by a generator, join a model without being
 * read into memory.  The window is mapped, so the file must stay unchanged
 * while the tensor lives.  NULL with one line in err when the file is
 * short or unreadable.  Caller owns it like one from onnxpass_tensor_new.
 */
ONNXPASS_API struct onnxpass_tensor *
onnxpass_tensor_map_file(const char *name, int dtype, size_t rank, const int64_t *dims,
			 const char *path, uint64_t offset, char *err, size_t errlen);

/* A new tensor named name with t's type and shape that shares t's bytes
 * without copying them; caller owns it like one from onnxpass_tensor_new. */
ONNXPASS_API struct onnxpass_tensor *
onnxpass_tensor_share(struct onnxpass_tensor *t, const char *name);

/* A deep copy (bytes copied into owned memory), caller owns it. */
ONNXPASS_API struct onnxpass_tensor *
onnxpass_tensor_clone(struct onnxpass_tensor *t, const char *name);

ONNXPASS_API void onnxpass_tensor_free(struct onnxpass_tensor *t);

/* Name, borrowed until the tensor is renamed or freed. */
ONNXPASS_API const char *onnxpass_tensor_name(const struct onnxpass_tensor *t);
ONNXPASS_API int onnxpass_tensor_set_name(struct onnxpass_tensor *t, const char *name);
ONNXPASS_API int onnxpass_tensor_dtype(const struct onnxpass_tensor *t);
ONNXPASS_API size_t onnxpass_tensor_rank(const struct onnxpass_tensor *t);
ONNXPASS_API int64_t onnxpass_tensor_dim(const struct onnxpass_tensor *t, size_t i);
/* Element count, and bytes of the packed raw form (4-bit types: 2 per byte). */
ONNXPASS_API int64_t onnxpass_tensor_numel(const struct onnxpass_tensor *t);
ONNXPASS_API size_t onnxpass_tensor_nbytes(const struct onnxpass_tensor *t);
/* True when the loaded tensor's bytes came from an external-data file. */
ONNXPASS_API bool onnxpass_tensor_is_external(const struct onnxpass_tensor *t);

/*
 * The raw little-endian bytes (as ONNX raw_data).  Borrowed until the
 * tensor changes or is freed.  NULL for STRING tensors or when typed data
 * could not be converted (out of memory).  The bytes may sit at any
 * address (inline data inside a mapped file): read them with memcpy, hash
 * or compare them, or use onnxpass_tensor_data_aligned for typed access.
 */
ONNXPASS_API const void *onnxpass_tensor_data(struct onnxpass_tensor *t);

/* The same bytes, aligned for the element type (e.g. a valid const float
 * pointer).  Unaligned mapped bytes are copied once into memory the tensor
 * keeps until onnxpass_tensor_drop_pages, a change, or free. */
ONNXPASS_API const void *onnxpass_tensor_data_aligned(struct onnxpass_tensor *t);

/* Writable bytes; copies shared or mapped data first.  NULL on ENOMEM. */
ONNXPASS_API void *onnxpass_tensor_mutable_data(struct onnxpass_tensor *t);

/* Same dtype, shape and bytes. */
ONNXPASS_API bool onnxpass_tensor_equal(struct onnxpass_tensor *a,
					struct onnxpass_tensor *b);

/* True if a and b use the very same bytes (one shares the other's). */
ONNXPASS_API bool onnxpass_tensor_same_storage(const struct onnxpass_tensor *a,
					       const struct onnxpass_tensor *b);

/* Makes t use src's bytes (same byte count required), dropping its own;
 * for tensors that are equal, so the bytes are stored once. */
ONNXPASS_API int onnxpass_tensor_share_storage(struct onnxpass_tensor *t,
					       struct onnxpass_tensor *src);

/* A hint after reading a large tensor: pages of a mapped file holding its
 * bytes may leave memory (they are read again from the file if needed).
 * Keeps a pass's resident memory near one tensor, not the model.  Also
 * frees the copy onnxpass_tensor_data_aligned may have made: pointers
 * from it are invalid afterwards (drop_range frees nothing). */
ONNXPASS_API void onnxpass_tensor_drop_pages(struct onnxpass_tensor *t);
/* The same hint for bytes [offset, offset+len) only; thread-safe. */
ONNXPASS_API void onnxpass_tensor_drop_range(struct onnxpass_tensor *t, size_t offset, size_t len);

ONNXPASS_API enum onnxpass_storage
onnxpass_tensor_storage(const struct onnxpass_tensor *t);
ONNXPASS_API void onnxpass_tensor_set_storage(struct onnxpass_tensor *t,
					      enum onnxpass_storage s);

/*
 * Element conversions.  _to_f32 / _to_i64 read every element of any numeric
 * dtype into dst (n elements, n == numel); they fail with EINVAL for STRING
 * or when n does not match.  _from_f32 writes a float array into a tensor of
 * dtype FLOAT, FLOAT16, BFLOAT16 or DOUBLE (copy-on-write).
 */
ONNXPASS_API int onnxpass_tensor_to_f32(struct onnxpass_tensor *t, float *dst, size_t n);
ONNXPASS_API int onnxpass_tensor_to_i64(struct onnxpass_tensor *t, int64_t *dst, size_t n);
ONNXPASS_API int onnxpass_tensor_from_f32(struct onnxpass_tensor *t, const float *src, size_t n);

/* Scalar conversions (round to nearest even; NaN and Inf kept). */
ONNXPASS_API float onnxpass_f16_to_f32(uint16_t h);
ONNXPASS_API uint16_t onnxpass_f32_to_f16(float f);
ONNXPASS_API float onnxpass_bf16_to_f32(uint16_t h);
ONNXPASS_API uint16_t onnxpass_f32_to_bf16(float f);

/* 4-bit packing as ONNX stores INT4/UINT4: element 2i in the low nibble,
 * 2i+1 in the high nibble.  Values are taken modulo 16. */
ONNXPASS_API void onnxpass_pack_4bit(const uint8_t *vals, size_t n, uint8_t *dst);
/* Unpack n elements; signed sign-extends (INT4), else zero-extends. */
ONNXPASS_API void onnxpass_unpack_4bit(const uint8_t *src, size_t n, bool is_signed,
				       int8_t *dst);

#ifdef __cplusplus
}
#endif
#endif
