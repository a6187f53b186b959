/* SPDX-License-Identifier: MIT */
/* Re-deriving shape reads: shared by the extract and drop-input passes
 * (compiled into each; nothing here is exported). */
#ifndef ONNXPASS_SHAPE_REROUTE_H
#define ONNXPASS_SHAPE_REROUTE_H

#include <onnxpass/onnxpass.h>

struct reroute {
	struct onnxpass_ctx *ctx;
	struct onnxpass_graph *g;
	/* the graph inputs the result may read */
	bool (*allowed)(const struct reroute *r, const char *name);
	const void *data;	/* for allowed() */
	int64_t reshapes, reads;
};

/* Reshape shapes built from other values' dims become constants where
 * each dim is provably the data's own (0 = copy). */
int reroute_fold_reshapes(struct reroute *r);
/* Gather(Shape(y), i) with y depending on an input not allowed reads the
 * same dim off an allowed input. */
int reroute_shape_reads(struct reroute *r);

#endif
