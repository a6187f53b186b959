/* SPDX-License-Identifier: MIT */
/* The MADLAD-shaped T5 export generator (t/gen-t5.c). */
#ifndef ONNXPASS_GEN_T5_H
#define ONNXPASS_GEN_T5_H

#include <stdbool.h>
#include <stdint.h>

struct t5_config {
	/* max_distance: T5's relative bucket range; the decoders' rotary
	 * table length (0: 2048) */
	int64_t d_model, d_kv, heads, d_ff, vocab, buckets, max_distance;
	int layers;
	uint64_t seed;
	int64_t kv_heads;	/* llama: grouped KV heads */
	/* how a norm's 1/sqrt is written, as exporters differ.  RMSNorm:
	 * 0 Pow(2) and Div(1, Sqrt) (optimum's torch.onnx); 1 Mul(x, x),
	 * Add(eps, .) and Reciprocal(Sqrt) with the Muls' operands swapped
	 * (the dynamo exporter's rsqrt); 2 Pow(., -0.5); 3 Div(x, Sqrt).
	 * BERT's LayerNorm: 0 Div(x - mean, Sqrt) (torch.onnx); 1 as RMSNorm's
	 * 1; 2 Pow(., -0.5); 3 x - mean twice and Div(1, Sqrt). */
	int norm_form;
	/* llama, gemma: the lm_head tied to the embedding but stored as its
	 * own [d_model, vocab] initializer, the embedding's exact transpose */
	bool lm_head_copy;
};

/* Writes encoder_model.onnx, decoder_model.onnx, decoder_with_past_model.onnx
 * and config.json into dir; external puts weights in external data. */
void t5_generate(const struct t5_config *c, const char *dir, bool external);
/* A BERT-like encoder (decomposed LayerNorm, erf Gelu, biased linears,
 * 4-D heads, additive mask) written to path. */
void bert_generate(const struct t5_config *c, const char *path);
/* A Llama-like decoder with past in optimum's layout (RMS norms, rotary
 * embeddings, grouped KV heads repeated with Expand, causal and padding
 * mask, SiLU-gated MLP) written to path. */
/* An M2M100 / NLLB-200 export in optimum's layout (pre-LayerNorm,
 * sinusoidal positions from the ids, scaled embedding, ReLU, lm_head tied
 * to the shared table through a Transpose); max_distance: the positions
 * (table rows max_distance + 2). */
void m2m100_generate(const struct t5_config *c, const char *dir, bool external);
void llama_generate(const struct t5_config *c, const char *path, bool external, bool gemma);

#endif
