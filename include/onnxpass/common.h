/* SPDX-License-Identifier: MIT */
/* onnxpass public SDK: error codes, element types, small helpers. */
#ifndef ONNXPASS_COMMON_H
#define ONNXPASS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNXPASS_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define ONNXPASS_API __attribute__((visibility("default")))
#define ONNXPASS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ONNXPASS_API
#define ONNXPASS_PRINTF(a, b)
#endif

/* Every function that can fail returns 0 or one of these (negative). */
enum onnxpass_error {
	ONNXPASS_OK = 0,
	ONNXPASS_ENOMEM = -1,	/* out of memory */
	ONNXPASS_EIO = -2,	/* a file could not be read or written */
	ONNXPASS_EFORMAT = -3,	/* malformed or hostile model data */
	ONNXPASS_EINVAL = -4,	/* bad argument or parameter */
	ONNXPASS_ENOTFOUND = -5,	/* a named value, node or model is absent */
	ONNXPASS_EUNSUPPORTED = -6,	/* valid, but not handled by this code */
	ONNXPASS_EPLUGIN = -7,	/* a plugin failed to load or misbehaved */
	ONNXPASS_EEXPECT = -8,	/* a recipe expectation did not hold */
};

/* A short lowercase description of an error code. */
ONNXPASS_API const char *onnxpass_strerror(int err);

/* For programs: turns the SIGBUS of a mapped model or data file that is
 * truncated while it is read into one line on stderr naming the file,
 * the removal of the temporary files of saves in progress, and exit
 * status 1 (a process-wide SIGBUS handler; other bus errors still kill
 * the process).  cleanup (may be NULL) runs just before the exit, in the
 * signal handler: it may only call async-signal-safe functions.
 * 0 or ONNXPASS_EIO. */
ONNXPASS_API int onnxpass_catch_bus_errors(void (*cleanup)(void));

/* Tensor element types, numbered as ONNX's TensorProto.DataType. */
enum onnxpass_dtype {
	ONNXPASS_DT_UNDEFINED = 0,
	ONNXPASS_DT_FLOAT = 1,
	ONNXPASS_DT_UINT8 = 2,
	ONNXPASS_DT_INT8 = 3,
	ONNXPASS_DT_UINT16 = 4,
	ONNXPASS_DT_INT16 = 5,
	ONNXPASS_DT_INT32 = 6,
	ONNXPASS_DT_INT64 = 7,
	ONNXPASS_DT_STRING = 8,
	ONNXPASS_DT_BOOL = 9,
	ONNXPASS_DT_FLOAT16 = 10,
	ONNXPASS_DT_DOUBLE = 11,
	ONNXPASS_DT_UINT32 = 12,
	ONNXPASS_DT_UINT64 = 13,
	ONNXPASS_DT_COMPLEX64 = 14,
	ONNXPASS_DT_COMPLEX128 = 15,
	ONNXPASS_DT_BFLOAT16 = 16,
	ONNXPASS_DT_FLOAT8E4M3FN = 17,
	ONNXPASS_DT_FLOAT8E4M3FNUZ = 18,
	ONNXPASS_DT_FLOAT8E5M2 = 19,
	ONNXPASS_DT_FLOAT8E5M2FNUZ = 20,
	ONNXPASS_DT_UINT4 = 21,
	ONNXPASS_DT_INT4 = 22,
};

/* ONNX's name of a dtype ("FLOAT", "INT64"...); "UNKNOWN" for others. */
ONNXPASS_API const char *onnxpass_dtype_name(int dtype);
/* Bits per element (4 for INT4/UINT4), 0 for STRING and unknown types. */
ONNXPASS_API int onnxpass_dtype_bits(int dtype);

/* The default operator-set domain is "" (also spelled "ai.onnx"). */
#define ONNXPASS_DOMAIN_MS "com.microsoft"

/* 64-bit non-cryptographic hash of a byte range (stable across runs). */
ONNXPASS_API uint64_t onnxpass_hash64(const void *data, size_t len, uint64_t seed);

/* Shell-style glob match ('*', '?', '[...]'), used for names in recipes. */
ONNXPASS_API bool onnxpass_glob_match(const char *pattern, const char *name);

#ifdef __cplusplus
}
#endif


#endif
