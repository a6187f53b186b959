/* SPDX-License-Identifier: MIT */
/* Bundles: the set of model files a recipe works on, each with a role. */
#ifndef ONNXPASS_BUNDLE_H
#define ONNXPASS_BUNDLE_H

#include <onnxpass/common.h>
#include <onnxpass/graph.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A bundle holds models by role ("encoder", "decoder_past"...), each with
 * the file name it is written to.  Models removed from a bundle stay in
 * memory until the bundle is freed, so pointers a pass holds stay valid.
 */
struct onnxpass_bundle;

ONNXPASS_API struct onnxpass_bundle *onnxpass_bundle_new(void);
ONNXPASS_API void onnxpass_bundle_free(struct onnxpass_bundle *b);

ONNXPASS_API size_t onnxpass_bundle_count(const struct onnxpass_bundle *b);
ONNXPASS_API struct onnxpass_model *onnxpass_bundle_model(struct onnxpass_bundle *b, size_t i);
ONNXPASS_API const char *onnxpass_bundle_role(const struct onnxpass_bundle *b, size_t i);
/* The file name (no folder) the model is saved under. */
ONNXPASS_API const char *onnxpass_bundle_file(const struct onnxpass_bundle *b, size_t i);
/* Index of role, or ONNXPASS_ENOTFOUND. */
ONNXPASS_API int onnxpass_bundle_index(const struct onnxpass_bundle *b, const char *role);
ONNXPASS_API struct onnxpass_model *onnxpass_bundle_find(struct onnxpass_bundle *b,
							 const char *role);

/* Takes ownership of m.  EINVAL if the role exists or a name is bad. */
ONNXPASS_API int onnxpass_bundle_add(struct onnxpass_bundle *b, const char *role,
				     const char *file, struct onnxpass_model *m);
ONNXPASS_API int onnxpass_bundle_remove(struct onnxpass_bundle *b, const char *role);
ONNXPASS_API int onnxpass_bundle_set_file(struct onnxpass_bundle *b, const char *role,
					  const char *file);

/* The folder for the run's scratch file, where passes spill large new
 * tensors out of memory (onnxpass_ctx_spill); default $TMPDIR or /tmp.
 * The file has no name: nothing is left behind, whatever ends the run. */
ONNXPASS_API int onnxpass_bundle_set_scratch_dir(struct onnxpass_bundle *b, const char *dir);

/* Loads one file under role (default: file name without ".onnx"); a model
 * whose graph has a cycle or contradicting dims is refused (err names the
 * node; see onnxpass_graph_check). */
ONNXPASS_API int onnxpass_bundle_load_file(struct onnxpass_bundle *b, const char *role,
					   const char *path, char *err, size_t errlen);
/* Loads every *.onnx in dir, sorted by name; role = name without ".onnx". */
ONNXPASS_API int onnxpass_bundle_load_dir(struct onnxpass_bundle *b, const char *dir,
					  char *err, size_t errlen);

struct onnxpass_bundle_save_options {
	size_t struct_size;	/* sizeof(struct onnxpass_bundle_save_options) */
	struct onnxpass_save_options model;	/* for every model */
	const char *shared_data_file;	/* NULL = "shared_weights.data" */
	bool force;	/* write into an existing non-empty folder */
	const char *extra_file;	/* also write this file into the folder (e.g. manifest.json) */
	const char *extra_text;	/* with this content */
	/* or, when set, extra_file's content made once the models are written:
	 * called with the folder being written (not yet in place), returns a
	 * malloc'd text the library frees, or NULL to fail the save */
	char *(*extra_fn)(const char *folder, void *arg);
	void *extra_arg;
};

/*
 * Writes every model into folder dir: into a temporary folder beside it,
 * renamed into place when all is written.  Tensors marked
 * ONNXPASS_STORE_SHARED go once into one shared data file that all models
 * reference.  Refuses a dir that is the folder a model was loaded from.
 */
ONNXPASS_API int onnxpass_bundle_save(struct onnxpass_bundle *b, const char *dir,
				      const struct onnxpass_bundle_save_options *opts,
				      char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
