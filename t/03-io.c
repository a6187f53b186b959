/* SPDX-License-Identifier: MIT */
/* Loading and saving: round trip, external data in both directions, and
 * that a load maps weights instead of copying them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <onnxpass/onnxpass.h>
#include "tap.h"

static long fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : (long)st.st_size;
}

int main(void)
{
	char dir[] = "/tmp/onnxpass-io-XXXXXX", p1[256], p2[256], p3[256], p4[512], err[1024];
	int64_t dims[2] = { 256, 64 };
	struct onnxpass_model *m = onnxpass_model_new(8, 17, "g"), *l;
	struct onnxpass_graph *g = onnxpass_model_graph(m);
	struct onnxpass_tensor *t = onnxpass_tensor_new("w", ONNXPASS_DT_FLOAT, 2, dims), *lt;
	struct onnxpass_save_options ext = { sizeof(ext), ONNXPASS_EXTERNAL_ALWAYS, 0, NULL };
	const char *in = "w", *out = "y";
	float *p = onnxpass_tensor_mutable_data(t);

	plan(19);
	if (!mkdtemp(dir))
		skip_all("no temporary folder");
	for (int i = 0; i < 256 * 64; i++)
		p[i] = (float)i * 0.5f;
	onnxpass_graph_add_initializer(g, t);
	onnxpass_graph_add_node(g, "Identity", NULL, "id", &in, 1, &out, 1);
	onnxpass_graph_add_output(g, "y", -1);
	ok(!onnxpass_model_set_metadata(m, "source", "t/03-io") && !onnxpass_model_set_metadata(m, "source", "t/03"),
	   "metadata set twice (the second wins)");
	snprintf(p1, sizeof(p1), "%s/inline.onnx", dir);
	snprintf(p2, sizeof(p2), "%s/ext.onnx", dir);
	snprintf(p3, sizeof(p3), "%s/back.onnx", dir);
	is_int(0, onnxpass_model_save(m, p1, NULL, err, sizeof(err)), "save inline");
	ok(fsize(p1) > 65536, "weights are inside the file");
	is_int(0, onnxpass_model_save(m, p2, &ext, err, sizeof(err)), "save with external data");
	ok(fsize(p2) < 4096, "the .onnx is small");
	is_int(0, onnxpass_model_load(p2, &l, err, sizeof(err)), "load external");
	/* a model saved on its own names its data file by the content */
	ok(onnxpass_model_file_count(l) == 2 && strlen(strrchr(onnxpass_model_file(l, 1), '/')) == 31 &&
	   !strncmp(strrchr(onnxpass_model_file(l, 1), '/'), "/ext.onnx.", 10) &&
	   fsize(onnxpass_model_file(l, 1)) == 65536, "the data file holds the bytes, named by their hash");
	snprintf(p4, sizeof(p4), "%s", onnxpass_model_file(l, 1));
	lt = onnxpass_graph_initializer(onnxpass_model_graph(l), "w");
	ok(lt && onnxpass_tensor_is_external(lt), "tensor read from external data");
	ok(lt && ((const float *)onnxpass_tensor_data_aligned(lt))[100] == 50.0f, "with the right bytes");
	ext.external = ONNXPASS_EXTERNAL_NEVER;
	is_int(0, onnxpass_model_save(l, p3, &ext, err, sizeof(err)), "save it inline again");
	onnxpass_model_free(l);
	{
		FILE *a = fopen(p1, "rb"), *b = fopen(p3, "rb");
		int same = a && b;
		int ca, cb;

		while (same && (ca = fgetc(a)) != EOF) {
			cb = fgetc(b);
			same = ca == cb;
		}
		same = same && fgetc(b) == EOF;
		ok(same, "inline -> external -> inline gives the same bytes");
		if (a)
			fclose(a);
		if (b)
			fclose(b);
	}
	is_int(0, onnxpass_model_load(p1, &l, err, sizeof(err)), "load inline");
	lt = onnxpass_graph_initializer(onnxpass_model_graph(l), "w");
	ok(lt && !onnxpass_tensor_is_external(lt), "inline tensor");
	is_str("t/03", onnxpass_model_metadata(l, "source"), "metadata saved and read back");
	ok(!onnxpass_model_metadata(l, "absent"), "an absent key is NULL");
	{	/* the same file from memory: equal, and no external data allowed */
		FILE *f = fopen(p1, "rb");
		static char buf[1 << 17];
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		struct onnxpass_model *b = NULL;

		if (f)
			fclose(f);
		is_int(0, onnxpass_model_load_buffer(buf, n, "mem", &b, err, sizeof(err)), "load from memory");
		lt = b ? onnxpass_graph_initializer(onnxpass_model_graph(b), "w") : NULL;
		ok(lt && ((const float *)onnxpass_tensor_data_aligned(lt))[100] == 50.0f &&
		   !strcmp(onnxpass_model_metadata(b, "source"), "t/03"), "with the same weights and metadata");
		onnxpass_model_free(b);
	}
	is_int(ONNXPASS_EINVAL, onnxpass_model_save(l, p1, NULL, err, sizeof(err)), "saving over the input is refused");
	like("it is the input file", err, "and says so");
	onnxpass_model_free(l);
	onnxpass_model_free(m);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	unlink(p4);
	rmdir(dir);
	return done_testing();
}
