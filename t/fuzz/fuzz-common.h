/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer harnesses: the input is written to a file in
 * a private folder on a memory file system (the loaders read paths,
 * through mmap), and outputs go there too. */
#ifndef ONNXPASS_FUZZ_COMMON_H
#define ONNXPASS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[256];

/* The private folder, made once per process. */
static const char *fuzz_folder(void)
{
	if (!fuzz_dir[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/onnxpass-fuzz-XXXXXX", base);
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	return fuzz_dir;
}

/* Writes data to FOLDER/name; returns the path (static buffer). */
static const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fuzz_folder(), name);
	f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	return path;
}

#endif
