/* SPDX-License-Identifier: MIT */
/* Host-private side of the shape engine (shapes.c): the facts it keeps per
 * value and the interface between the engine and its op rules
 * (shape_rules.c). */
#ifndef ONNXPASS_SHAPES_H
#define ONNXPASS_SHAPES_H

#include <stdarg.h>
#include "internal.h"

#define SHP_MAX_RANK ONNXPASS_MAX_RANK
#define SHP_MAX_VALS 64	/* element values the analysis keeps per value */
/* A symbol (a size nothing pins to a number) is encoded as SYM_BASE - k. */
#define SYM_BASE ONNXPASS_SYMBOL_MAX

static inline bool is_sym(int64_t x)
{
	return x <= SYM_BASE;
}

/* What the engine knows of one value. */
struct fact {
	int dtype;	/* 0 unknown */
	int rank;	/* -1 unknown */
	int64_t d[SHP_MAX_RANK];	/* a size >= 0 or a symbol */
	int64_t n;	/* elements whose values are known, -1 when not */
	int64_t *i;	/* integer and bool values (symbols allowed), or NULL */
	double *f;	/* float values, or NULL; both live in the engine's arena */
};

/* One node being inferred: its inputs' facts (NULL for an absent optional
 * input; an unknown fact when nothing is known). */
struct rctx {
	struct onnxpass_shapes *s;
	struct onnxpass_node *n;
	const char *op;
	bool ms;	/* com.microsoft domain */
	int64_t opset;	/* of the default domain */
	size_t nin;
	const struct fact **in;
};

/* Fills o (output k) from r's inputs: false when they do not tell. */
typedef bool (*shape_rule)(struct rctx *r, size_t k, struct fact *o);
/* Element type of output k (0 unknown). */
typedef int (*dtype_rule)(struct rctx *r, size_t k);

enum {
	DOM_ONNX = 1,
	DOM_MS = 2,
	RULE_FOLD = 1,	/* clean may replace it by its value (exact, like ORT) */
};

struct op_rule {
	const char *op;
	unsigned domains;
	shape_rule shape;
	int dtype;	/* > 0 a fixed type; 0 like input 0; < 0 input -dtype */
	dtype_rule dtype_fn;	/* overrides dtype when set */
	unsigned flags;
};

/* The rule of op in domain ("" default), or NULL. */
const struct op_rule *op_rule_find(const char *domain, const char *op);

/* ------------------------------------------------------------------ */
/* Engine services for the rules                                       */

/* A new symbol; nonneg when it is a size (never negative). */
int64_t sym_fresh(struct onnxpass_shapes *s, bool nonneg);
bool sym_nonneg(const struct onnxpass_shapes *s, int64_t x);
/* Room for n values of o (int or float), from the engine's arena; NULL
 * when n passes the engine's cap (values stay unknown) or on ENOMEM. */
int64_t *fact_ints(struct onnxpass_shapes *s, struct fact *o, int64_t n);
double *fact_floats(struct onnxpass_shapes *s, struct fact *o, int64_t n);
int64_t engine_max_vals(const struct onnxpass_shapes *s);
/* A tensor's type, shape and (when small enough) values into h. */
void fact_from_tensor(struct onnxpass_shapes *s, struct fact *h, struct onnxpass_tensor *t);
/* Records that r's node contradicts itself (first one wins). */
void contradict(struct rctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A dim_param as a size: bound, a number, or a symbol of that name. */
int64_t dim_param(struct onnxpass_shapes *s, const char *name);

#endif
