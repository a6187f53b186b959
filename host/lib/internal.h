/* SPDX-License-Identifier: MIT */
/* Host-private structures of libonnxpass: the IR behind the opaque handles. */
#ifndef ONNXPASS_INTERNAL_H
#define ONNXPASS_INTERNAL_H

#include <stdio.h>
#include <onnxpass/onnxpass.h>
#include "onnx.pb-c.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Byte storage shared by tensors: heap memory or a read-only mapping.  */

struct blob {
	int refs;
	bool mapped;	/* munmap instead of free */
	uint8_t *base;
	size_t len;
	char *path;	/* mapped file, for messages; NULL for heap */
	void *guard;	/* its mapguard entry */
};

/* mapguard.c: mapped ranges and their files, for the SIGBUS handler */
void *mapguard_add(const void *base, size_t len, const char *path);
void mapguard_remove(void *entry);
/* A temporary file being written, unlinked if a bus error ends the
 * process; returns a slot for mapguard_written (-1: not tracked). */
int mapguard_writing(const char *path);
void mapguard_written(int slot);

struct blob *blob_new_heap(size_t len);	/* zero-filled, refs 1 */
int blob_map_file(const char *path, struct blob **out, char *err, size_t errlen);
struct blob *blob_ref(struct blob *b);
/* Lets the kernel drop mapped pages of [p, p+len) from memory. */
void blob_drop_pages(struct blob *b, const void *p, size_t len);
void blob_unref(struct blob *b);

/* ------------------------------------------------------------------ */
/* Tensors                                                             */

struct onnxpass_tensor {
	Onnx__TensorProto *tp;	/* owned; raw_data may point into blob */
	struct blob *blob;	/* holds the bytes when data != NULL */
	struct blob *aligned;	/* aligned copy of unaligned mapped bytes, or NULL */
	const uint8_t *data;	/* raw bytes, NULL until materialized */
	size_t nbytes;
	int64_t numel;
	bool raw_borrowed;	/* tp->raw_data.data == data, owned by blob */
	bool external;	/* loaded from an external-data file */
	bool modified;	/* bytes differ from what was loaded */
	enum onnxpass_storage storage;
	struct onnxpass_model *model;	/* registered in model->tensors, or NULL */
};

/* Wraps tp (taking ownership); checks dims and the byte count of the
 * data present.  blob/data/nbytes may describe borrowed raw bytes. */
int tensor_wrap(Onnx__TensorProto *tp, struct onnxpass_tensor **out, const char **why);
/* A loaded tensor with elements but no bytes anywhere. */
bool tensor_lacks_data(const struct onnxpass_tensor *t);
/* Frees the wrapper only (tp stays with its owner), detaching borrowed
 * raw bytes from tp first. */
void tensor_release_wrapper(struct onnxpass_tensor *t);
/* Bytes numel elements of dtype take; false on overflow or unknown type. */
bool tensor_bytes_for(int dtype, int64_t numel, size_t *out);
/* Points tp->raw_data at the bytes (for saving inline). */
int tensor_make_raw(struct onnxpass_tensor *t);
/* Writes t's bytes at offset of the open file fd (path for messages) and
 * maps them from there instead of memory: resident memory is then page
 * cache the kernel may drop.  A no-op for bytes t shares or maps already. */
int tensor_spill(struct onnxpass_tensor *t, int fd, uint64_t offset, const char *path);
/* bundle.c: spills t into the bundle's scratch file. */
int bundle_spill(struct onnxpass_bundle *b, struct onnxpass_tensor *t, char *err, size_t errlen);
/* Clears tp's data fields and sets external_data entries. */
int tensor_make_external(struct onnxpass_tensor *t, const char *location, uint64_t offset);

/* ------------------------------------------------------------------ */
/* Pointer-keyed and string-keyed hash maps.                           */

struct ptrmap {
	const void **keys;
	void **vals;
	size_t cap, count;
};
void ptrmap_init(struct ptrmap *m);
void ptrmap_release(struct ptrmap *m);
void *ptrmap_get(const struct ptrmap *m, const void *key);
int ptrmap_put(struct ptrmap *m, const void *key, void *val);
/* Room for n keys: the next n puts of new keys cannot fail. */
int ptrmap_reserve(struct ptrmap *m, size_t n);
void ptrmap_del(struct ptrmap *m, const void *key);

struct strmap {
	const char **keys;	/* borrowed from the values */
	void **vals;
	size_t cap, count;
};
void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
int strmap_put(struct strmap *m, const char *key, void *val);
void strmap_del(struct strmap *m, const char *key);

/* ------------------------------------------------------------------ */
/* Graph IR                                                            */

struct use {
	struct onnxpass_node *node;
	int input;	/* -1: read inside one of node's subgraphs */
};

struct onnxpass_value {
	char *name;
	struct onnxpass_graph *graph;
	struct onnxpass_node *producer;
	int producer_index;
	struct use *uses;
	size_t n_uses, cap_uses;
	struct onnxpass_tensor *init;
	int n_graph_inputs, n_graph_outputs;
};

struct onnxpass_node {
	Onnx__NodeProto *np;
	struct onnxpass_graph *graph;
	struct onnxpass_graph **subs;
	size_t n_subs, cap_subs;
	/* outer names read inside subs, as values of this node's graph */
	struct onnxpass_value **free_vals;
	size_t n_free, cap_free;
	bool removed;
	size_t order;	/* scratch for sorting */
};

struct onnxpass_graph {
	struct onnxpass_model *model;
	struct onnxpass_graph *parent;
	struct onnxpass_node *owner;
	Onnx__GraphProto *gp;	/* owned by its parent message */
	struct onnxpass_node **nodes;	/* live and removed, in order */
	size_t n_nodes, cap_nodes, n_removed;
	struct onnxpass_tensor **inits;
	size_t n_inits, cap_inits;
	struct strmap values;
	bool dirty;	/* gp->node / gp->initializer out of date */
	/* name -> ValueInfoProto of inputs, outputs and value_info, valid
	 * while the three arrays are the ones recorded in vi_sig */
	struct strmap vi_index;
	const void *vi_sig[6];
	/* this graph's own analysis, valid while model->gen == shapes_gen */
	struct onnxpass_shapes *shapes;
	uint64_t shapes_gen;
};

struct onnxpass_model {
	Onnx__ModelProto *mp;
	struct onnxpass_graph *graph;
	char *path;	/* NULL for new models */
	char *dir;	/* folder of path (external data root) */
	struct blob *file;	/* the mapped .onnx, if any */
	struct ptrmap tensors;	/* TensorProto* -> wrapper, every one alive */
	struct strmap ext_files;	/* external file realpath -> blob */
	struct onnxpass_graph **graphs;	/* every graph wrapper, for freeing */
	size_t n_graphs, cap_graphs;
	struct onnxpass_node **dead;	/* removed nodes, freed with the model */
	size_t n_dead, cap_dead;
	uint64_t gen;	/* bumped by every change (model_changed) */
	struct strmap fresh_next;	/* prefix -> struct fresh_count */
	char **names;	/* fresh names handed out, freed with the model */
	size_t n_names, cap_names;
};

struct fresh_count {
	unsigned long next;	/* the next number to try after prefix */
	char prefix[];
};

/* Every edit of a model's graphs, nodes, attributes, types or tensors
 * calls this: analyses cached for its graphs are out of date. */
static inline void model_changed(struct onnxpass_model *m)
{
	if (m)	/* tensors may change on worker threads */
		__atomic_add_fetch(&m->gen, 1, __ATOMIC_RELAXED);
}

/* graph.c */
struct onnxpass_graph *graph_build(struct onnxpass_model *m, Onnx__GraphProto *gp,
				   struct onnxpass_graph *parent, struct onnxpass_node *owner,
				   const char **why);
/* The value of name in g, created on first mention; NULL for "" or ENOMEM. */
struct onnxpass_value *graph_value_get(struct onnxpass_graph *g, const char *name);
int graph_sync(struct onnxpass_graph *g);
/* Appends a wrapped node (np owned by it) and wires its values. */
int graph_adopt_node(struct onnxpass_graph *g, struct onnxpass_node *n);	/* refresh gp arrays */
int model_sync(struct onnxpass_model *m);
void graph_free(struct onnxpass_graph *g);
/* The live nodes of g in a stable topological order (caller frees the
 * array).  On a cycle returns EFORMAT with the nodes outside it and, in
 * *stuck (may be NULL), a node of the cycle. */
int graph_order(struct onnxpass_graph *g, struct onnxpass_node ***order, size_t *count,
		struct onnxpass_node **stuck);
/* Drops the cached analysis (shapes.c). */
void graph_shapes_release(struct onnxpass_graph *g);
/* The ValueInfoProto declaring name (input first, then output, then
 * value_info), or NULL; by hash. */
Onnx__ValueInfoProto *graph_value_info(struct onnxpass_graph *g, const char *name);
int model_register_tensor(struct onnxpass_model *m, struct onnxpass_tensor *t);
/* Visits every graph of the model (also under removed nodes). */
#define model_for_each_graph(m, gvar, idx) \
	for (size_t idx = 0; idx < (m)->n_graphs && ((gvar) = (m)->graphs[idx], 1); idx++)

/* wire.c: the raw_data-stripping unpack of a mapped model. */
Onnx__ModelProto *wire_unpack_model(const uint8_t *base, size_t len, char *why, size_t whylen);
/* Visits every message of type desc under msg (depth first). */
typedef int (*proto_visit_fn)(ProtobufCMessage *msg, void *ctx);
int proto_visit(ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
		proto_visit_fn fn, void *ctx);
/* Takes the sentinel left by wire_unpack_model: offset/len of raw_data. */
bool wire_take_sentinel(Onnx__TensorProto *tp, uint64_t *off, uint64_t *len);

/* io_write.c */
struct shared_table;	/* bundle-level shared external data */
/* alone: a model saved on its own, visible at path once committed (its
 * data file is named by its content); else one of a bundle's files in
 * the bundle's temporary folder. */
int model_save_impl(struct onnxpass_model *m, const char *path,
		    const struct onnxpass_save_options *opts,
		    struct shared_table *shared, bool alone, char *err, size_t errlen);
struct shared_table *shared_table_new(void);
void shared_table_free(struct shared_table *s);
int shared_table_write(struct shared_table *s, struct onnxpass_model **models, size_t n,
		       const char *dir, const char *file, char *err, size_t errlen);

/* Free a NodeProto/any message, first detaching borrowed tensor bytes. */
void model_free_message(struct onnxpass_model *m, ProtobufCMessage *msg);

#endif
