/* SPDX-License-Identifier: MIT */
/* The fusion plugin: shared matchers (fusion_match.c) and the pattern
 * files' entry points, which fusion.c dispatches from one table. */
#ifndef ONNXPASS_FUSION_H
#define ONNXPASS_FUSION_H

#include <onnxpass/onnxpass.h>

struct fuse {
	struct onnxpass_ctx *ctx;
	struct onnxpass_model *m;
	const char *role;
	int64_t layernorm, rmsnorm, gelu, fastgelu, bias, skip, attention, gqa, rotary, rejected;
	bool fp32;	/* no float16/bfloat16 I/O or weights: see all_fp32() */
};

/* Counts and (with -v) logs a candidate left alone. */
void reject(struct fuse *f, struct onnxpass_node *n, const char *what, const char *why);
/* fn(state, n) for every node of g of op type op (default domain) on a
 * snapshot of its nodes, skipping those removed meanwhile: the changes
 * (fn's positive returns) or fn's first error. */
int each_node(struct onnxpass_graph *g, const char *op, int (*fn)(void *state, struct onnxpass_node *n),
	      void *state);
/* A one-element constant (initializer or Constant), as float. */
bool const_float(struct onnxpass_value *v, float *out);
/* A rank-1 float value: a norm's weight or bias, a bias. */
bool float_vector(struct onnxpass_value *v);
/* An initializer, a Constant's output, or an absent input. */
bool is_constant(struct onnxpass_value *v);
/* The other input of a two-input node, given one of them. */
struct onnxpass_value *other(struct onnxpass_node *n, struct onnxpass_value *v);
/* strdup, "" for NULL. */
char *own(const char *s);

int layernorm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *r1, int64_t opset);
int rmsnorm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *pw, int64_t opset);
int skip_norm(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n, int64_t opset);
int gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *erf, int64_t opset);
int fast_gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *tanh, int64_t opset);
int bias_gelu(struct fuse *f, struct onnxpass_graph *g, struct onnxpass_node *n, int64_t opset);
/* Shapes of g with every input dim_param bound to its own size (odd
 * primes 37, 41, 43, ...: unlike head counts and sizes, so that each axis
 * is told apart by its size); the sizes into bound[64] and *nbound when
 * given.  NULL on ENOMEM. */
struct onnxpass_shapes *bound_shapes(struct onnxpass_graph *g, int64_t *bound, size_t *nbound);
/* The dims of v, into d[ONNXPASS_MAX_RANK], when all are known sizes: the
 * rank, else -1. */
int known_dims(const struct onnxpass_shapes *sh, struct onnxpass_value *v, int64_t *d);
/* Every rotary embedding of g -> RotaryEmbedding: changes, or < 0. */
int rotary_round(struct fuse *f, struct onnxpass_graph *g);
/* Every attention of g (not of its subgraphs), over grouped KV heads as
 * GroupQueryAttention when gqa: changes, or < 0. */
int attention_round(struct fuse *f, struct onnxpass_graph *g, bool gqa);

#endif
