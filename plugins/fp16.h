/* SPDX-License-Identifier: MIT */
/* quantize mode = fp16 (compiled into the quantize plugin). */
#ifndef ONNXPASS_FP16_H
#define ONNXPASS_FP16_H

#include <onnxpass/onnxpass.h>

/* Converts every model of the step; returns the number of nodes and
 * tensors converted, or a negative error (already reported). */
int fp16_run(struct onnxpass_ctx *ctx, const struct onnxpass_params *params);

#endif
