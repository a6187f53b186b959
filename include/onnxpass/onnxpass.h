/* SPDX-License-Identifier: MIT */
/* onnxpass public SDK: the one header a plugin includes. */
#ifndef ONNXPASS_ONNXPASS_H
#define ONNXPASS_ONNXPASS_H

#include <onnxpass/common.h>
#include <onnxpass/tensor.h>
#include <onnxpass/graph.h>
#include <onnxpass/bundle.h>
#include <onnxpass/plugin.h>

#endif
