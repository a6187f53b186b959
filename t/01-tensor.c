/* SPDX-License-Identifier: MIT */
/* Tensors: sizes, copy-on-write, sharing, conversions, 4-bit packing. */
#include <math.h>
#include <onnxpass/onnxpass.h>
#include "tap.h"

int main(void)
{
	int64_t dims[2] = { 3, 5 }, d4[1] = { 5 };
	struct onnxpass_tensor *t, *s, *c, *h;
	float *p, f[15];
	uint8_t packed[3], vals[5] = { 1, 15, 7, 8, 3 };
	int8_t un[5];
	int64_t i64[5];

	plan(25);
	t = onnxpass_tensor_new("w", ONNXPASS_DT_FLOAT, 2, dims);
	ok(t != NULL, "new 3x5 float tensor");
	is_int(15, onnxpass_tensor_numel(t), "numel");
	is_int(60, onnxpass_tensor_nbytes(t), "nbytes");
	p = onnxpass_tensor_mutable_data(t);
	for (int i = 0; i < 15; i++)
		p[i] = (float)i;
	ok(!onnxpass_tensor_set_name(t, "weight") && !strcmp(onnxpass_tensor_name(t), "weight") &&
	   !onnxpass_tensor_set_name(t, "w"), "renamed, and back");
	s = onnxpass_tensor_share(t, "w2");
	ok(onnxpass_tensor_same_storage(t, s), "share uses the same bytes");
	ok(onnxpass_tensor_equal(t, s), "shared tensors are equal");
	p = onnxpass_tensor_mutable_data(s);
	p[0] = 100.0f;
	ok(!onnxpass_tensor_same_storage(t, s), "writing a shared tensor copies it first");
	is_int(0, (int)((const float *)onnxpass_tensor_data_aligned(t))[0], "the original keeps its value");
	ok(!onnxpass_tensor_equal(t, s), "no longer equal");
	c = onnxpass_tensor_clone(t, "w3");
	ok(onnxpass_tensor_equal(t, c) && !onnxpass_tensor_same_storage(t, c), "clone copies");
	is_int(0, onnxpass_tensor_share_storage(s, t), "share_storage of equal-size tensors");
	ok(onnxpass_tensor_same_storage(s, t), "now one storage");
	is_int(0, onnxpass_tensor_to_f32(t, f, 15), "to_f32");
	ok(f[14] == 14.0f, "to_f32 values");
	h = onnxpass_tensor_new("h", ONNXPASS_DT_FLOAT16, 1, d4);
	{
		float src[5] = { 1.0f, -2.5f, 65504.0f, 1e-8f, 0.1f }, back[5];

		is_int(0, onnxpass_tensor_from_f32(h, src, 5), "from_f32 into float16");
		onnxpass_tensor_to_f32(h, back, 5);
		ok(back[0] == 1.0f && back[1] == -2.5f && back[2] == 65504.0f, "fp16 exact values survive");
		ok(back[3] == 0.0f, "fp16 underflow to zero");
		ok(fabsf(back[4] - 0.1f) < 1e-4f, "fp16 rounds 0.1 to nearest");
	}
	is_int(0x3c00, onnxpass_f32_to_f16(1.0f), "f32_to_f16(1)");
	is_int(0x7c00, onnxpass_f32_to_f16(1e6f), "f32_to_f16 overflows to inf");
	is_int(0x3f80, onnxpass_f32_to_bf16(1.0f), "f32_to_bf16(1)");
	onnxpass_pack_4bit(vals, 5, packed);
	is_int(0xf1, packed[0], "4-bit: element 0 low nibble, 1 high");
	onnxpass_unpack_4bit(packed, 5, true, un);
	ok(un[1] == -1 && un[3] == -8 && un[4] == 3, "signed unpack");
	is_int(0, onnxpass_tensor_to_i64(h, i64, 5) == 0 ? 0 : 1, "to_i64 of float16");
	ok(onnxpass_tensor_new("x", ONNXPASS_DT_FLOAT, 1, (int64_t[]){ INT64_MAX }) == NULL,
	   "a size that overflows gives NULL");
	onnxpass_tensor_free(t);
	onnxpass_tensor_free(s);
	onnxpass_tensor_free(c);
	onnxpass_tensor_free(h);
	return done_testing();
}
