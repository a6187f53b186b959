/* SPDX-License-Identifier: MIT */
/* The plugin loader refuses bad plugins with a message naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"
#include "tap.h"

static int load(struct registry *r, const char *name, char *err)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s.so", getenv("TEST_PLUGINS"), name);
	err[0] = '\0';
	return registry_load_file(r, p, err, 1024);
}

int main(void)
{
	struct registry r = { 0 };
	char err[1024];

	if (!getenv("TEST_PLUGINS"))
		skip_all("TEST_PLUGINS not set");
	plan(12);
	is_int(0, load(&r, "good", err), "a good plugin loads");
	ok(registry_find(&r, "good") != NULL, "and is found by name");
	is_int(ONNXPASS_EPLUGIN, load(&r, "good", err), "loading it twice is refused");
	like("pass 'good' is already defined by", err, "as a duplicate");
	is_int(ONNXPASS_EPLUGIN, load(&r, "wrong_abi", err), "another ABI is refused");
	like("wrong_abi.so': built for plugin ABI 3, this onnxpass speaks ABI 2", err, "naming file and ABI");
	is_int(ONNXPASS_EPLUGIN, load(&r, "no_entry", err), "no entry point is refused");
	like("no_entry.so': missing symbol onnxpass_plugin_entry", err, "naming the symbol");
	is_int(0, load(&r, "dup_a", err), "first of two same-named plugins loads");
	is_int(ONNXPASS_EPLUGIN, load(&r, "dup_b", err), "the second is refused");
	like("dup_b.so': pass 'twin' is already defined by", err, "naming both");
	is_int(ONNXPASS_EPLUGIN, load(&r, "missing", err), "a missing file is refused");
	registry_release(&r);
	return done_testing();
}
