/* SPDX-License-Identifier: MIT */
/* Public helpers of the SDK: error strings, dtype facts, hashing, globs. */
#include "config.h"

#include <fnmatch.h>
#include <string.h>
#include <xxhash.h>

#include <onnxpass/common.h>

const char *onnxpass_strerror(int err)
{
	switch (err) {
	case ONNXPASS_OK: return "success";
	case ONNXPASS_ENOMEM: return "out of memory";
	case ONNXPASS_EIO: return "input/output error";
	case ONNXPASS_EFORMAT: return "malformed model data";
	case ONNXPASS_EINVAL: return "invalid argument";
	case ONNXPASS_ENOTFOUND: return "not found";
	case ONNXPASS_EUNSUPPORTED: return "not supported";
	case ONNXPASS_EPLUGIN: return "plugin error";
	case ONNXPASS_EEXPECT: return "expectation failed";
	default: return "unknown error";
	}
}

static const struct {
	const char *name;
	int bits;
} dtypes[] = {
	[0] = { "UNDEFINED", 0 }, [1] = { "FLOAT", 32 }, [2] = { "UINT8", 8 },
	[3] = { "INT8", 8 }, [4] = { "UINT16", 16 }, [5] = { "INT16", 16 },
	[6] = { "INT32", 32 }, [7] = { "INT64", 64 }, [8] = { "STRING", 0 },
	[9] = { "BOOL", 8 }, [10] = { "FLOAT16", 16 }, [11] = { "DOUBLE", 64 },
	[12] = { "UINT32", 32 }, [13] = { "UINT64", 64 }, [14] = { "COMPLEX64", 64 },
	[15] = { "COMPLEX128", 128 }, [16] = { "BFLOAT16", 16 },
	[17] = { "FLOAT8E4M3FN", 8 }, [18] = { "FLOAT8E4M3FNUZ", 8 },
	[19] = { "FLOAT8E5M2", 8 }, [20] = { "FLOAT8E5M2FNUZ", 8 },
	[21] = { "UINT4", 4 }, [22] = { "INT4", 4 },
};

const char *onnxpass_dtype_name(int dtype)
{
	if (dtype < 0 || (size_t)dtype >= sizeof(dtypes) / sizeof(dtypes[0]))
		return "UNKNOWN";
	return dtypes[dtype].name;
}

int onnxpass_dtype_bits(int dtype)
{
	if (dtype < 0 || (size_t)dtype >= sizeof(dtypes) / sizeof(dtypes[0]))
		return 0;
	return dtypes[dtype].bits;
}

/* XXH3 (libxxhash): hashes weights at memory speed (11 GB/s on the bench
 * machine), well studied, not cryptographic: callers compare bytes. */
uint64_t onnxpass_hash64(const void *data, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(data, len, seed);
}

bool onnxpass_glob_match(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, 0) == 0;
}
