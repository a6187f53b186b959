/* SPDX-License-Identifier: MIT */
/* Recipe parsing and checking against the built plugins: any bytes give
 * a recipe or one error, never a crash. */
#include "config.h"

#include "host.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct registry reg;
static int loaded;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("r.ini", data, size);
	struct recipe *r = NULL;
	char err[1024];

	if (!loaded) {	/* the plugins of the build tree, or none */
		const char *dir = getenv("ONNXPASS_FUZZ_PLUGINS");

		loaded = 1;
		if (dir && registry_load_dir(&reg, dir, true, err, sizeof(err)))
			fprintf(stderr, "fuzz-recipe: %s\n", err);
	}
	if (recipe_load(path, &reg, &r, err, sizeof(err)) == 0)
		recipe_free(r);
	return 0;
}
