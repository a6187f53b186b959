/* SPDX-License-Identifier: MIT */
/* The quantize pass's shared state and its modes' entry points: MatMulNBits
 * (nbits.c), dynamic int8 (int8.c) and embedding tables (gather.c);
 * quantize.c walks the graphs and dispatches. */
#ifndef ONNXPASS_QUANTIZE_H
#define ONNXPASS_QUANTIZE_H

#include <stdbool.h>
#include <stdint.h>

#include <onnxpass/onnxpass.h>

/* elements read before their mapped pages are let go */
#define CHUNK ((int64_t)1 << 21)

struct cfg {
	const struct onnxpass_params *p;
	int bits;
	int64_t block;
	bool sym;
	bool matmul;	/* a MatMulNBits reads it */
	int64_t accuracy;
	const char *gather;	/* none, uint8, block4 */
	bool dynamic;	/* mode = dynamic-int8 */
	int64_t gblock;
};

struct made {
	struct onnxpass_graph *g;	/* where the quantized tensors live */
	char *src;	/* B's name (a copy: B may be removed) */
	bool tr;	/* B = transpose of src */
	int bits;
	int64_t block;
	bool sym;
	bool matmul;	/* a MatMulNBits reads it */
	const char *q, *scales, *zp;	/* model-owned names */
	int64_t K, N;
};

struct dql {	/* one DynamicQuantizeLinear per activation and graph */
	struct onnxpass_graph *g;
	const char *a, *q, *scale, *zp;	/* a value's and model-owned names */
};

struct state {
	struct onnxpass_ctx *ctx;
	struct cfg c;
	struct made *made;
	size_t n_made;
	struct dql *dqls;
	size_t n_dqls;
	int64_t matmuls, gathers, skipped, bytes_before, bytes_after;
	int64_t shared_tables;	/* tables the embedding and the tied lm_head read once */
	bool contrib, need_opset21;
	int depth;	/* of the graph being quantized: 0 = a model's main graph */
	uint64_t done, total;	/* main-graph nodes, for the progress line */
};

/* Node selection: a node name passes include and exclude. */
bool wanted(const struct cfg *c, const char *name);
/* The float initializer input i of n reads (this graph or an enclosing
 * one), unless a caller may override it as a graph input. */
struct onnxpass_tensor *const_input(struct onnxpass_node *n, size_t i, size_t rank);
/* A weight the pass made leaves memory for the run's scratch file. */
int spill(struct state *s, struct onnxpass_tensor *t);
/* A new initializer of g (owned by it) into *out. */
int add_init(struct onnxpass_graph *g, const char *name, int dtype, size_t rank, const int64_t *dims,
	     struct onnxpass_tensor **out);
/* Appends m to the weights quantized so far (its copy of B's name freed
 * on failure). */
struct made *keep_made(struct state *s, struct made *m);

/* b [K, N] (or [N, K] when tr) in MatMulNBits' layout, quantized once per
 * graph and layout: B_Q [N][k_blocks][block*bits/8], scales [N*k_blocks],
 * zero points unless sym.  NULL when out of memory. */
struct made *nbits_table(struct state *s, struct onnxpass_graph *g, struct onnxpass_tensor *b, bool tr,
			 int bits, int64_t block, bool sym);

/* Each mode on one node: 1 when replaced, 0 when left, or < 0. */
int matmul_to_nbits(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n);
int matmul_to_integer(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n);
int gather_node(struct state *s, struct onnxpass_graph *g, struct onnxpass_node *n);

#endif
