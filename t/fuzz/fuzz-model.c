/* SPDX-License-Identifier: MIT */
/* Model load, save and reload: any bytes either load, or are refused
 * with an error; what loads saves, and what is saved loads again. */
#include <onnxpass/onnxpass.h>

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = fuzz_file("in.onnx", data, size);
	char out[512], err[1024];
	struct onnxpass_model *m = NULL, *back = NULL;

	snprintf(out, sizeof(out), "%s/out.onnx", fuzz_folder());
	if (onnxpass_model_load(in, &m, err, sizeof(err)) == 0) {
		if (onnxpass_model_save(m, out, NULL, err, sizeof(err)) == 0) {
			/* a saved model must load again */
			if (onnxpass_model_load(out, &back, err, sizeof(err)) != 0) {
				fprintf(stderr, "saved model does not reload: %s\n", err);
				abort();
			}
			onnxpass_model_free(back);
		}
		onnxpass_model_free(m);
	}
	return 0;
}
