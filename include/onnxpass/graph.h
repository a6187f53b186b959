/* SPDX-License-Identifier: MIT */
/* The graph IR: models, graphs (with If/Loop/Scan bodies), nodes, values. */
#ifndef ONNXPASS_GRAPH_H
#define ONNXPASS_GRAPH_H

#include <onnxpass/common.h>
#include <onnxpass/tensor.h>

#ifdef __cplusplus
extern "C" {
#endif

struct onnxpass_model;
struct onnxpass_graph;
struct onnxpass_node;
struct onnxpass_value;

/* ------------------------------------------------------------------ */
/* Models                                                              */

/*
 * Loads path read-only.  Large tensor bytes (inline or external data) are
 * mapped, not copied.  On failure returns a negative code, *out is NULL and
 * err (may be NULL) holds one line such as
 *   cannot read model 'dec.onnx': truncated at byte 1048576
 * The caller frees the model with onnxpass_model_free.
 */
ONNXPASS_API int onnxpass_model_load(const char *path, struct onnxpass_model **out,
				     char *err, size_t errlen);

/* Loads a model from memory (no external data allowed); buf is copied. */
ONNXPASS_API int onnxpass_model_load_buffer(const void *buf, size_t len, const char *name,
					    struct onnxpass_model **out,
					    char *err, size_t errlen);

/* A new empty model (IR version ir_version, default opset opset) whose
 * main graph is named graph_name.  Caller frees. */
ONNXPASS_API struct onnxpass_model *onnxpass_model_new(int64_t ir_version, int64_t opset,
						       const char *graph_name);

ONNXPASS_API void onnxpass_model_free(struct onnxpass_model *m);

enum onnxpass_external_mode {
	ONNXPASS_EXTERNAL_AUTO = 0,	/* keep external tensors external; go
					   external when the file would pass
					   the protobuf limit (2 GB) */
	ONNXPASS_EXTERNAL_NEVER = 1,	/* everything inline (fails over 2 GB) */
	ONNXPASS_EXTERNAL_ALWAYS = 2,	/* tensors >= min_bytes go external */
};

struct onnxpass_save_options {
	size_t struct_size;	/* sizeof(struct onnxpass_save_options) */
	enum onnxpass_external_mode external;
	size_t external_min_bytes;	/* 0 = 1024 */
	const char *data_file;	/* NULL = "<model file name>.data" */
};

/*
 * Writes the model to path through a temporary file renamed into place
 * when complete; external data goes beside it.  opts may be NULL.
 * Nothing is left behind on failure.  Output bytes depend only on the
 * model and the options.
 */
ONNXPASS_API int onnxpass_model_save(struct onnxpass_model *m, const char *path,
				     const struct onnxpass_save_options *opts,
				     char *err, size_t errlen);

/*
 * A new model computing outputs of src's main graph from inputs (plus
 * src's initializers, which are shared, not copied): the nodes on the
 * paths from inputs to outputs, with src's IR version and opsets.  Fails
 * with EINVAL, and says which in err, when an output depends on a graph
 * input not in inputs.  Caller frees.
 */
ONNXPASS_API struct onnxpass_model *
onnxpass_model_extract(struct onnxpass_model *src, const char *const *inputs, size_t n_inputs,
		       const char *const *outputs, size_t n_outputs, const char *graph_name,
		       char *err, size_t errlen);

/* File the model was loaded from (NULL for new models); borrowed. */
ONNXPASS_API const char *onnxpass_model_path(const struct onnxpass_model *m);
/* Every file the model reads: its own, then its external-data files
 * (resolved paths); borrowed.  A writer checks its outputs against them. */
ONNXPASS_API size_t onnxpass_model_file_count(const struct onnxpass_model *m);
ONNXPASS_API const char *onnxpass_model_file(const struct onnxpass_model *m, size_t i);
ONNXPASS_API struct onnxpass_graph *onnxpass_model_graph(struct onnxpass_model *m);
ONNXPASS_API int64_t onnxpass_model_ir_version(const struct onnxpass_model *m);
ONNXPASS_API void onnxpass_model_set_ir_version(struct onnxpass_model *m, int64_t v);

/* Opset imports.  "" and "ai.onnx" name the same default domain.
 * onnxpass_model_opset returns the version, or ONNXPASS_ENOTFOUND (< 0)
 * when not imported. */
ONNXPASS_API int64_t onnxpass_model_opset(const struct onnxpass_model *m, const char *domain);
ONNXPASS_API int onnxpass_model_set_opset(struct onnxpass_model *m, const char *domain,
					  int64_t version);
/* Raises the default-domain opset to version, converting the ops whose
 * attributes became inputs on the way (Slice, TopK, Pad, Clip, Dropout,
 * ReduceSum, Squeeze, Unsqueeze, Split, the other Reduce ops at 18) in
 * every graph; EUNSUPPORTED with one line in err for an op it cannot
 * carry over (Upsample, Scatter, an old Resize).  Nothing to do when the
 * opset is already as high.  set_opset only writes the number. */
ONNXPASS_API int onnxpass_model_raise_opset(struct onnxpass_model *m, int64_t version, char *err,
					    size_t errlen);
ONNXPASS_API size_t onnxpass_model_opset_count(const struct onnxpass_model *m);
ONNXPASS_API int64_t onnxpass_model_opset_at(const struct onnxpass_model *m, size_t i,
					     const char **domain);

/* metadata_props; get returns NULL when absent (borrowed). */
ONNXPASS_API const char *onnxpass_model_metadata(const struct onnxpass_model *m,
						 const char *key);
ONNXPASS_API int onnxpass_model_set_metadata(struct onnxpass_model *m, const char *key,
					     const char *value);
ONNXPASS_API const char *onnxpass_model_producer(const struct onnxpass_model *m);

/* Counts nodes with this op type (domain NULL = any) in every graph,
 * subgraphs included. */
ONNXPASS_API size_t onnxpass_model_count_op(struct onnxpass_model *m, const char *domain,
					    const char *op_type);
/* Total nodes and initializer bytes, subgraphs included. */
ONNXPASS_API size_t onnxpass_model_node_total(struct onnxpass_model *m);
ONNXPASS_API uint64_t onnxpass_model_tensor_bytes(struct onnxpass_model *m);
/* Number of model-local functions (kept untouched). */
ONNXPASS_API size_t onnxpass_model_function_count(const struct onnxpass_model *m);

/* ------------------------------------------------------------------ */
/* Graphs                                                              */

ONNXPASS_API struct onnxpass_model *onnxpass_graph_model(struct onnxpass_graph *g);
ONNXPASS_API const char *onnxpass_graph_name(const struct onnxpass_graph *g);

/* Live nodes in graph order.  Indices hold until nodes are added or
 * removed.  Removed nodes stay valid memory (onnxpass_node_is_removed)
 * until the model is freed, so a pass may remove while it walks a
 * snapshot (onnxpass_graph_nodes). */
ONNXPASS_API size_t onnxpass_graph_node_count(struct onnxpass_graph *g);
ONNXPASS_API struct onnxpass_node *onnxpass_graph_node(struct onnxpass_graph *g, size_t i);
/* A snapshot array of the live nodes; caller frees it with free(). */
ONNXPASS_API struct onnxpass_node **onnxpass_graph_nodes(struct onnxpass_graph *g, size_t *n);

ONNXPASS_API size_t onnxpass_graph_input_count(const struct onnxpass_graph *g);
ONNXPASS_API struct onnxpass_value *onnxpass_graph_input(struct onnxpass_graph *g, size_t i);
ONNXPASS_API size_t onnxpass_graph_output_count(const struct onnxpass_graph *g);
ONNXPASS_API struct onnxpass_value *onnxpass_graph_output(struct onnxpass_graph *g, size_t i);

ONNXPASS_API size_t onnxpass_graph_initializer_count(const struct onnxpass_graph *g);
ONNXPASS_API struct onnxpass_tensor *onnxpass_graph_initializer_at(struct onnxpass_graph *g,
								   size_t i);
/* Borrowed; NULL if this graph has no initializer of that name. */
ONNXPASS_API struct onnxpass_tensor *onnxpass_graph_initializer(struct onnxpass_graph *g,
								const char *name);

/* The value of that name in this graph (NULL if never mentioned), or,
 * for _lookup, in this graph or the nearest enclosing one. */
ONNXPASS_API struct onnxpass_value *onnxpass_graph_value(struct onnxpass_graph *g,
							 const char *name);
ONNXPASS_API struct onnxpass_value *onnxpass_graph_lookup(struct onnxpass_graph *g,
							  const char *name);

/* Appends a node; inputs may contain "" for an absent optional input.
 * domain NULL or "" is the default domain.  Returns NULL on ENOMEM or if
 * an output name is already produced in this graph. */
ONNXPASS_API struct onnxpass_node *
onnxpass_graph_add_node(struct onnxpass_graph *g, const char *op_type, const char *domain,
			const char *name, const char *const *inputs, size_t n_inputs,
			const char *const *outputs, size_t n_outputs);
/* Removes a node (its outputs lose their producer). */
ONNXPASS_API void onnxpass_graph_remove_node(struct onnxpass_graph *g, struct onnxpass_node *n);

/* Takes ownership of t; fails with EINVAL if the name is taken. */
ONNXPASS_API int onnxpass_graph_add_initializer(struct onnxpass_graph *g,
						struct onnxpass_tensor *t);
/* Takes ownership of t, replacing the initializer of the same name. */
ONNXPASS_API int onnxpass_graph_replace_initializer(struct onnxpass_graph *g,
						    struct onnxpass_tensor *t);
/* Removes and frees (a graph input of that name goes too). */
ONNXPASS_API int onnxpass_graph_remove_initializer(struct onnxpass_graph *g, const char *name);
/* Removes and hands it to the caller. */
ONNXPASS_API struct onnxpass_tensor *onnxpass_graph_take_initializer(struct onnxpass_graph *g,
								     const char *name);

/* Graph inputs and outputs.  position -1 appends.  add_input fails (NULL)
 * if the name is empty, produced by a node or an input already; types are
 * set with onnxpass_value_set_type. */
ONNXPASS_API struct onnxpass_value *onnxpass_graph_add_input(struct onnxpass_graph *g,
							     const char *name, int position);
ONNXPASS_API int onnxpass_graph_remove_input(struct onnxpass_graph *g, const char *name);
ONNXPASS_API struct onnxpass_value *onnxpass_graph_add_output(struct onnxpass_graph *g,
							      const char *name, int position);
ONNXPASS_API int onnxpass_graph_remove_output(struct onnxpass_graph *g, const char *name);

/* Every use of old_name in this graph and its subgraphs (node inputs, and
 * graph outputs if with_outputs) now reads new_name.  Returns uses changed. */
ONNXPASS_API size_t onnxpass_graph_replace_uses(struct onnxpass_graph *g, const char *old_name,
						const char *new_name, bool with_outputs);

/*
 * Dimension rerouting: makes g read sizes only off the graph inputs that
 * allowed(name, data) accepts, where the shape analysis proves it can.
 * First, Reshape shapes computed from sizes become constants when each
 * element is a number or the data's own dim at that place (0 = copy);
 * shape arithmetic nothing reads any more is removed.  Then each
 * Gather(Shape(y), i) whose y depends on a refused input reads the same
 * dim (the same symbol: the same dim_param) off an accepted input, or is
 * the number the dim is.  Reads it cannot reroute are left: the caller
 * finds them as remaining uses of the refused inputs.  ctx (may be NULL)
 * logs, with -v, why a Reshape stays.  The counts of Reshapes folded and
 * reads rerouted into *reshapes and *reads when given; 0 or < 0.
 */
struct onnxpass_ctx;
ONNXPASS_API int onnxpass_graph_reroute_dims(struct onnxpass_graph *g, struct onnxpass_ctx *ctx,
					     bool (*allowed)(const char *input, void *data), void *data,
					     size_t *reshapes, size_t *reads);

/* reached[i] (i as in onnxpass_graph_node, count entries) tells whether
 * node i reads one of the n values, directly or through other nodes of g
 * (reads inside its subgraphs included).  Linear in the graph.  EFORMAT on
 * a cycle (the nodes on and after it stay unmarked). */
ONNXPASS_API int onnxpass_graph_reached_from(struct onnxpass_graph *g,
					     struct onnxpass_value *const *from, size_t n,
					     bool *reached);

/* Stable topological order (ties keep the current order); EFORMAT on a
 * cycle or on an input that nothing produces. */
ONNXPASS_API int onnxpass_graph_toposort(struct onnxpass_graph *g);

/* Removes nodes none of whose outputs reach a graph output, then
 * initializers nothing reads (and their IR<4 graph inputs).  Subgraphs
 * count as readers of the outer names they use.  Returns what it removed. */
ONNXPASS_API size_t onnxpass_graph_remove_unused(struct onnxpass_graph *g);

/* A name unused anywhere in the model: base followed by suffix (NULL for
 * none), then "_N" if that is taken.  The model owns it (valid until the
 * model is freed; callers never free it); NULL when out of memory. */
ONNXPASS_API const char *onnxpass_graph_fresh_name(struct onnxpass_graph *g, const char *base,
						   const char *suffix);

/* A new initializer named after prefix holding n int64 / float elements
 * of data: a scalar (rank 0, n == 1) or a vector (rank 1).  Returns its
 * model-owned name, or NULL (out of memory, or a rank other than 0/1). */
ONNXPASS_API const char *onnxpass_graph_add_const_i64(struct onnxpass_graph *g, const char *prefix,
						      int rank, const int64_t *data, size_t n);
ONNXPASS_API const char *onnxpass_graph_add_const_f32(struct onnxpass_graph *g, const char *prefix,
						      int rank, const float *data, size_t n);

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* v's name; valid as long as the model (values are never freed before it).
 * "" for NULL (the value of an absent input or output). */
ONNXPASS_API const char *onnxpass_value_name(const struct onnxpass_value *v);
ONNXPASS_API struct onnxpass_graph *onnxpass_value_graph(struct onnxpass_value *v);
/* The node producing v (and which of its outputs), or NULL. */
ONNXPASS_API struct onnxpass_node *onnxpass_value_producer(struct onnxpass_value *v,
							   int *output_index);
/* Uses by nodes of v's graph.  input_index is -1 for a node that reads v
 * inside one of its subgraphs. */
ONNXPASS_API size_t onnxpass_value_use_count(const struct onnxpass_value *v);
ONNXPASS_API struct onnxpass_node *onnxpass_value_use(struct onnxpass_value *v, size_t i,
						      int *input_index);
ONNXPASS_API bool onnxpass_value_is_graph_input(const struct onnxpass_value *v);
ONNXPASS_API bool onnxpass_value_is_graph_output(const struct onnxpass_value *v);
ONNXPASS_API struct onnxpass_tensor *onnxpass_value_initializer(struct onnxpass_value *v);
/* The constant behind v: its initializer (unless v is also a graph input,
 * which a caller may feed) or the `value` of the Constant node producing
 * it.  Borrowed; NULL when v is computed or fed. */
ONNXPASS_API struct onnxpass_tensor *onnxpass_value_constant(struct onnxpass_value *v);
/* The one node reading v (and which input) when v has exactly one use and
 * is not a graph output; NULL otherwise. */
ONNXPASS_API struct onnxpass_node *onnxpass_value_single_use(struct onnxpass_value *v, int *input_index);

/* Declared type (graph inputs/outputs, value_info, initializers).
 * dtype 0 and rank -1 when unknown.  For a dim, *value is -1 when it is
 * symbolic or unknown, and *param the symbol or NULL (borrowed). */
ONNXPASS_API int onnxpass_value_dtype(struct onnxpass_value *v);
ONNXPASS_API int onnxpass_value_rank(struct onnxpass_value *v);
ONNXPASS_API int onnxpass_value_dim(struct onnxpass_value *v, int i, int64_t *value,
				    const char **param);
/* Changes the element type where v's type is declared (graph input or
 * output, value_info), keeping the shape; ENOTFOUND if nowhere declared. */
ONNXPASS_API int onnxpass_value_set_dtype(struct onnxpass_value *v, int dtype);
/* Sets the tensor type; dims[i] < 0 uses params[i] (may be NULL). */
ONNXPASS_API int onnxpass_value_set_type(struct onnxpass_value *v, int dtype, int rank,
					 const int64_t *dims, const char *const *params);

/*
 * Dimension provenance: where dim axis of v comes from, by the graph's
 * shape analysis (onnxpass_graph_shapes): the graph input and axis that
 * first declared the symbol the dim holds.  Every input declaring the same
 * dim_param holds the same symbol.  On success *input is a graph input of
 * v's graph (or an enclosing one) and *input_axis its axis.  ENOTFOUND for
 * a dim that is a number or that the analysis cannot tell.
 */
ONNXPASS_API int onnxpass_value_dim_origin(struct onnxpass_value *v, int axis,
					   struct onnxpass_value **input, int *input_axis);
/* Rank of v, declared or from the graph's shape analysis; -1 if unknown. */
ONNXPASS_API int onnxpass_value_infer_rank(struct onnxpass_value *v);
/* v's value when it is a small integer constant (an initializer or a
 * Constant node's output): up to max elements into out; returns the
 * element count, or ONNXPASS_ENOTFOUND if v is not such a constant. */
ONNXPASS_API int onnxpass_value_const_ints(struct onnxpass_value *v, int64_t *out, int max);

/* ------------------------------------------------------------------ */
/* Shape inference                                                     */

struct onnxpass_shapes;

/* Dims and values that are symbols (sizes known by name only) are at most
 * this; anything above is a number. */
#define ONNXPASS_SYMBOL_MAX (INT64_MIN / 2)

/* The highest rank the shape engine tracks: a value of higher rank has an
 * unknown shape.  Arrays of dims sized by it hold any shape it reports. */
#define ONNXPASS_MAX_RANK 16

/*
 * Infers, in one pass over g in topological order (not into its
 * subgraphs), every value's element type and shape from the inputs'
 * declared shapes, the initializers and each op's rule, and the element
 * values of small tensors (up to 64 elements: Shape -> Gather -> Concat ->
 * Reshape chains, scalars computed from sizes) so that data-dependent
 * reshapes resolve too.  A dim_param becomes a symbol shared by every dim
 * of that name, unless names[i] binds it to values[i].  Linear in the
 * graph.  NULL on ENOMEM; a cycle or contradicting dims are reported by
 * onnxpass_shapes_status.  Caller frees.
 */
ONNXPASS_API struct onnxpass_shapes *
onnxpass_shapes_infer(struct onnxpass_graph *g, const char *const *names, const int64_t *values,
		      size_t n);
ONNXPASS_API void onnxpass_shapes_free(struct onnxpass_shapes *s);
/* g's own analysis without bindings, computed once and kept until the
 * model changes; borrowed until then (NULL on ENOMEM). */
ONNXPASS_API struct onnxpass_shapes *onnxpass_graph_shapes(struct onnxpass_graph *g);
/* 0, or EFORMAT when the graph has a cycle or a node whose input dims
 * contradict each other (*why, borrowed: one line naming the node). */
ONNXPASS_API int onnxpass_shapes_status(const struct onnxpass_shapes *s, const char **why);
/* Rank of v (-1 when unknown); up to max dims into dims: a size >= 0, or a
 * symbol (<= ONNXPASS_SYMBOL_MAX).  Equal symbols are provably equal
 * sizes; different ones may still be equal. */
ONNXPASS_API int onnxpass_shapes_get(const struct onnxpass_shapes *s, struct onnxpass_value *v,
				     int64_t *dims, int max);
/* v's element type: declared, or derived op by op (0 when unknown). */
ONNXPASS_API int onnxpass_shapes_dtype(const struct onnxpass_shapes *s, struct onnxpass_value *v);
/* The dim_param a symbol stands for, NULL for one made during inference. */
ONNXPASS_API const char *onnxpass_shapes_symbol(const struct onnxpass_shapes *s, int64_t d);
/* The graph input and axis that first declared symbol d; ENOTFOUND for a
 * symbol made during inference or a number. */
ONNXPASS_API int onnxpass_shapes_origin(const struct onnxpass_shapes *s, int64_t d,
					struct onnxpass_value **input, int *axis);
/* The known elements of an integer or bool value (each a number or a
 * symbol), up to max, into out: the count, or ONNXPASS_ENOTFOUND when not
 * known. */
ONNXPASS_API int onnxpass_shapes_values(const struct onnxpass_shapes *s, struct onnxpass_value *v,
					int64_t *out, int max);
/* The same for any numeric value as doubles (ONNXPASS_ENOTFOUND also when
 * an element is a symbol). */
ONNXPASS_API int onnxpass_shapes_float_values(const struct onnxpass_shapes *s,
					      struct onnxpass_value *v, double *out, int max);

/*
 * Constant folding by the same op rules: the value of n's one output when
 * every input is an initializer (not an overridable graph input) of at
 * most max_elems elements and n is an op whose value the rules compute
 * exactly as ONNX Runtime does (Shape, Gather, Unsqueeze, Squeeze, Concat,
 * Cast, Add/Sub/Mul/Div/Neg, Reshape, Range, ConstantOfShape on int32,
 * int64, float and double).  *out is a new tensor named like the output
 * (caller owns); ENOTFOUND when n cannot be folded.
 */
ONNXPASS_API int onnxpass_node_fold(struct onnxpass_node *n, int64_t max_elems,
				    struct onnxpass_tensor **out);
/* 0, or EFORMAT with one line in err when g or one of its subgraphs has a
 * cycle or contradicting dims (see onnxpass_shapes_status). */
ONNXPASS_API int onnxpass_graph_check(struct onnxpass_graph *g, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Nodes                                                               */

ONNXPASS_API const char *onnxpass_node_op_type(const struct onnxpass_node *n);
/* "" for the default domain (also when the file says "ai.onnx"). */
ONNXPASS_API const char *onnxpass_node_domain(const struct onnxpass_node *n);
ONNXPASS_API const char *onnxpass_node_name(const struct onnxpass_node *n);
ONNXPASS_API int onnxpass_node_set_name(struct onnxpass_node *n, const char *name);
ONNXPASS_API struct onnxpass_graph *onnxpass_node_graph(struct onnxpass_node *n);
ONNXPASS_API bool onnxpass_node_is_removed(const struct onnxpass_node *n);
/* True if op type and domain match (domain NULL matches the default). */
ONNXPASS_API bool onnxpass_node_is(const struct onnxpass_node *n, const char *domain,
				   const char *op_type);

ONNXPASS_API size_t onnxpass_node_input_count(const struct onnxpass_node *n);
/* Borrowed; "" for an absent optional input. */
ONNXPASS_API const char *onnxpass_node_input(const struct onnxpass_node *n, size_t i);
/* The value an input reads (this graph or an enclosing one), or NULL. */
ONNXPASS_API struct onnxpass_value *onnxpass_node_input_value(struct onnxpass_node *n, size_t i);
ONNXPASS_API size_t onnxpass_node_output_count(const struct onnxpass_node *n);
ONNXPASS_API const char *onnxpass_node_output(const struct onnxpass_node *n, size_t i);
ONNXPASS_API struct onnxpass_value *onnxpass_node_output_value(struct onnxpass_node *n, size_t i);
/* Set input/output i; i == count appends.  Inputs keep use maps current. */
ONNXPASS_API int onnxpass_node_set_input(struct onnxpass_node *n, size_t i, const char *name);
ONNXPASS_API int onnxpass_node_set_output(struct onnxpass_node *n, size_t i, const char *name);

/* Attributes.  Getters return ENOTFOUND when absent, EINVAL when of
 * another type.  Array and string results are borrowed until the node
 * changes. */
enum onnxpass_attr_type {
	ONNXPASS_ATTR_UNDEFINED = 0, ONNXPASS_ATTR_FLOAT = 1, ONNXPASS_ATTR_INT = 2,
	ONNXPASS_ATTR_STRING = 3, ONNXPASS_ATTR_TENSOR = 4, ONNXPASS_ATTR_GRAPH = 5,
	ONNXPASS_ATTR_FLOATS = 6, ONNXPASS_ATTR_INTS = 7, ONNXPASS_ATTR_STRINGS = 8,
	ONNXPASS_ATTR_TENSORS = 9, ONNXPASS_ATTR_GRAPHS = 10,
};
ONNXPASS_API size_t onnxpass_node_attr_count(const struct onnxpass_node *n);
ONNXPASS_API const char *onnxpass_node_attr_name(const struct onnxpass_node *n, size_t i);
/* Type of the named attribute, ONNXPASS_ATTR_UNDEFINED if absent. */
ONNXPASS_API int onnxpass_node_attr_type(const struct onnxpass_node *n, const char *name);
ONNXPASS_API int onnxpass_node_attr_int(const struct onnxpass_node *n, const char *name,
					int64_t *out);
ONNXPASS_API int onnxpass_node_attr_float(const struct onnxpass_node *n, const char *name,
					  float *out);
ONNXPASS_API int onnxpass_node_attr_string(const struct onnxpass_node *n, const char *name,
					   const char **out);
ONNXPASS_API int onnxpass_node_attr_ints(const struct onnxpass_node *n, const char *name,
					 const int64_t **out, size_t *count);
ONNXPASS_API int onnxpass_node_attr_floats(const struct onnxpass_node *n, const char *name,
					   const float **out, size_t *count);
/* Borrowed tensor of a TENSOR attribute (e.g. Constant's value), or NULL. */
ONNXPASS_API struct onnxpass_tensor *onnxpass_node_attr_tensor(struct onnxpass_node *n,
							       const char *name);
ONNXPASS_API int onnxpass_node_set_attr_int(struct onnxpass_node *n, const char *name,
					    int64_t v);
ONNXPASS_API int onnxpass_node_set_attr_float(struct onnxpass_node *n, const char *name,
					      float v);
ONNXPASS_API int onnxpass_node_set_attr_string(struct onnxpass_node *n, const char *name,
					       const char *v);
ONNXPASS_API int onnxpass_node_set_attr_ints(struct onnxpass_node *n, const char *name,
					     const int64_t *v, size_t count);
ONNXPASS_API int onnxpass_node_set_attr_floats(struct onnxpass_node *n, const char *name,
					       const float *v, size_t count);
/* Takes ownership of t. */
ONNXPASS_API int onnxpass_node_set_attr_tensor(struct onnxpass_node *n, const char *name,
					       struct onnxpass_tensor *t);
ONNXPASS_API int onnxpass_node_remove_attr(struct onnxpass_node *n, const char *name);

/* True when n is a token-embedding lookup, found by structure: a Gather on
 * axis 0 of a constant 2-D float table whose rows become activations (the
 * residual stream, a norm, a graph output), handed on through reshapes,
 * casts and scaling by a constant.  A table whose rows are only multiplied
 * into other values (rotary cos/sin caches read by position) is not one. */
ONNXPASS_API bool onnxpass_node_is_embedding(struct onnxpass_node *n);

/* Subgraphs held by GRAPH/GRAPHS attributes (If branches, Loop body...). */
ONNXPASS_API size_t onnxpass_node_subgraph_count(const struct onnxpass_node *n);
ONNXPASS_API struct onnxpass_graph *onnxpass_node_subgraph(struct onnxpass_node *n, size_t i);

#ifdef __cplusplus
}
#endif
#endif
