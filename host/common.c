/* SPDX-License-Identifier: MIT */
/* Public helpers of the SDK: error strings, dtype facts, hashing, globs. */
#include "config.h"

#include <fnmatch.h>
#include <string.h>

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

/*
 * A 64-bit multiply-xorshift hash over 8-byte words, four independent
 * lanes so the multiplies pipeline; fast enough to hash gigabytes of
 * weights at memory speed.  Not cryptographic: callers compare bytes.
 */
#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mix(uint64_t acc, uint64_t v)
{
	acc += v * P2;
	acc = rotl(acc, 31);
	return acc * P1;
}

uint64_t onnxpass_hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t a = seed + P1 + P2, b = seed + P2, c = seed, d = seed - P1;
	uint64_t h;
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		a = mix(a, rd64(p + i));
		b = mix(b, rd64(p + i + 8));
		c = mix(c, rd64(p + i + 16));
		d = mix(d, rd64(p + i + 24));
	}
	h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18);
	h ^= (uint64_t)len * P3;
	for (; i + 8 <= len; i += 8)
		h = rotl(h ^ mix(0, rd64(p + i)), 27) * P1 + P3;
	for (; i < len; i++)
		h = rotl(h ^ (p[i] * P3), 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

bool onnxpass_glob_match(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, 0) == 0;
}
