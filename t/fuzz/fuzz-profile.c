/* SPDX-License-Identifier: MIT */
/* info --profile (shapes, MACs, activation bytes) and info --json on any
 * bytes: a report or one error, never a crash or an overflow. */
#include "config.h"

#include "host.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("p.onnx", data, size);
	static FILE *sink;
	const char *names[1] = { "batch" };
	int64_t values[1] = { 3 };
	char err[1024];

	if (!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	info_profile(path, names, values, 1, true, sink, err, sizeof(err));
	info_print(path, true, true, sink, err, sizeof(err));
	return 0;
}
