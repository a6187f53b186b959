/* SPDX-License-Identifier: MIT */
/* Recipe parsing: inputs, steps, parameters checked against the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host.h"
#include "tap.h"

static const char *write_recipe(const char *text)
{
	static char path[] = "/tmp/onnxpass-recipe-XXXXXX.ini";
	int fd;

	strcpy(path, "/tmp/onnxpass-recipe-XXXXXX.ini");
	fd = mkstemps(path, 4);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		exit(1);
	close(fd);
	return path;
}

int main(void)
{
	struct registry reg = { 0 };
	struct recipe *r = NULL;
	char err[1024], p[4096];
	const char *path;

	if (!getenv("TEST_PLUGINS"))
		skip_all("TEST_PLUGINS not set");
	snprintf(p, sizeof(p), "%s/good.so", getenv("TEST_PLUGINS"));
	if (registry_load_file(&reg, p, err, sizeof(err)))
		skip_all("test plugin does not load");
	plan(12);
	path = write_recipe("; a comment\n[recipe]\nname = t\ninputs = a:a.onnx b:b.onnx\n"
			    "outputs = a:x.onnx\n\n[step one]\npass = good\nlevel = 7\n"
			    "models = a\nexpect.MatMul = >=2\n[step two]\npass = good\n");
	is_int(0, recipe_load(path, &reg, &r, err, sizeof(err)), "a valid recipe parses");
	if (!r)
		return done_testing();
	is_str("t", r->name, "name");
	is_int(2, r->n_inputs, "two inputs");
	is_str("b.onnx", r->inputs[1].file, "input file");
	is_int(2, r->n_steps, "two steps in order");
	is_str("one", r->steps[0].name, "first step");
	is_int(7, onnxpass_params_int(r->steps[0].params, "level"), "parameter value");
	is_int(3, onnxpass_params_int(r->steps[1].params, "level"), "default applied");
	is_str("fast", onnxpass_params_string(r->steps[1].params, "mode"), "enum default");
	ok(r->steps[0].n_expects == 1 && !strcmp(r->steps[0].expects[0].cmp, ">=") &&
	   r->steps[0].expects[0].n == 2, "expectation parsed");
	recipe_free(r);
	unlink(path);
	path = write_recipe("[step x]\npass = good\nlevel = 11\n");
	is_int(ONNXPASS_EINVAL, recipe_load(path, &reg, &r, err, sizeof(err)), "out of range refused");
	like(":3: step 'x': bad value for 'level': 11 is outside 0..10", err, "with file:line");
	unlink(path);
	registry_release(&reg);
	return done_testing();
}
