/* SPDX-License-Identifier: MIT */
/* Reads an ONNX file's protobuf without copying tensor bytes.
 *
 * protobuf-c's unpack copies every bytes field, which would double the
 * memory of a model with inline weights.  So we first walk the wire format
 * ourselves (tag, wire type, length), building a lean copy of the message
 * in which every large TensorProto.raw_data is replaced by a small
 * sentinel field holding its (offset, length) in the mapped file.  Only
 * that lean copy goes through protobuf-c; afterwards each sentinel is
 * turned back into a raw_data pointer into the mapping (io_read.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A field number no ONNX schema uses (the top of the 29-bit range). */
#define SENTINEL_FIELD 536870900u
/* raw_data shorter than this is simply copied. */
#define STRIP_MIN 64
#define MAX_DEPTH 100

struct wbuf {
	uint8_t *p;
	size_t len, cap;
};

struct filt {
	const uint8_t *base;
	char *why;
	size_t whylen;
};

/* b NULL: a walk that only checks (nothing is written) */
static int wbuf_put(struct wbuf *b, const void *src, size_t n)
{
	if (n == 0 || !b)
		return 0;
	if (grow(&b->p, &b->cap, b->len + n, 1))
		return -1;
	memcpy(b->p + b->len, src, n);
	b->len += n;
	return 0;
}

static int wbuf_varint(struct wbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return wbuf_put(b, tmp, n);
}

static bool read_varint(const uint8_t *base, size_t end, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	int shift = 0;

	while (*pos < end && shift < 64) {
		uint8_t c = base[(*pos)++];

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return true;
		}
		shift += 7;
	}
	return false;
}

/* Messages that can hold a TensorProto somewhere below them; the walk
 * copies every other submessage verbatim without looking inside. */
static bool may_hold_tensor(const ProtobufCMessageDescriptor *d)
{
	return d == &onnx__model_proto__descriptor || d == &onnx__graph_proto__descriptor ||
	       d == &onnx__node_proto__descriptor || d == &onnx__attribute_proto__descriptor ||
	       d == &onnx__tensor_proto__descriptor ||
	       d == &onnx__sparse_tensor_proto__descriptor ||
	       d == &onnx__function_proto__descriptor ||
	       d == &onnx__training_info_proto__descriptor;
}

/* Copies the message at start..end into out (NULL: only checks it),
 * leaving the bytes of big raw_data behind a sentinel.  Every nested
 * message is walked, so none is deeper than MAX_DEPTH: protobuf-c
 * unpacks recursively (a TypeProto nested 5,000 deep overflowed the
 * stack).  A tensor's raw_data given twice counts once, the last, as in
 * protobuf. */
static int filter_msg(struct filt *f, const ProtobufCMessageDescriptor *d, size_t start,
		      size_t end, struct wbuf *out, int depth)
{
	size_t pos = start, raw_at = SIZE_MAX, raw_len = 0;
	bool raw;

	if (depth > MAX_DEPTH) {
		set_err(f->why, f->whylen, "messages nested deeper than %d at byte %zu", MAX_DEPTH,
			start);
		return -1;
	}
	while (pos < end) {
		size_t field_start = pos, payload;
		uint64_t key, len;
		uint32_t num;
		const ProtobufCFieldDescriptor *fd;

		raw = false;
		if (!read_varint(f->base, end, &pos, &key))
			goto truncated;
		num = (uint32_t)(key >> 3);
		if (num == 0 || key >> 32) {
			set_err(f->why, f->whylen, "bad field tag at byte %zu", field_start);
			return -1;
		}
		switch (key & 7) {
		case 0:
			if (!read_varint(f->base, end, &pos, &len))
				goto truncated;
			break;
		case 1:
			if (end - pos < 8)
				goto truncated;
			pos += 8;
			break;
		case 5:
			if (end - pos < 4)
				goto truncated;
			pos += 4;
			break;
		case 2:
			if (!read_varint(f->base, end, &pos, &len))
				goto truncated;
			if (len > end - pos)
				goto truncated;
			payload = pos;
			pos += len;
			raw = out && d == &onnx__tensor_proto__descriptor && num == 9;
			if (raw && raw_at != SIZE_MAX) {	/* an earlier raw_data: dropped */
				memmove(out->p + raw_at, out->p + raw_at + raw_len, out->len - raw_at - raw_len);
				out->len -= raw_len;
			}
			if (raw)
				raw_at = out->len;
			if (num == SENTINEL_FIELD) {
				set_err(f->why, f->whylen, "reserved field %u at byte %zu", num,
					field_start);
				return -1;
			}
			fd = protobuf_c_message_descriptor_get_field(d, num);
			if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE && (!out || !may_hold_tensor(fd->descriptor))) {
				/* checked, then copied verbatim below */
				if (filter_msg(f, fd->descriptor, payload, pos, NULL, depth + 1))
					return -1;
			} else if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				struct wbuf sub = { 0 };
				int rc = filter_msg(f, fd->descriptor, payload, pos, &sub, depth + 1);

				/* the length changed: write key and new length */
				if (!rc)
					rc = wbuf_varint(out, key) || wbuf_varint(out, sub.len) ||
					     wbuf_put(out, sub.p, sub.len) ? -1 : 0;
				free(sub.p);
				if (rc) {
					if (!f->why[0])
						set_err(f->why, f->whylen, "out of memory");
					return -1;
				}
				continue;
			}
			if (d == &onnx__tensor_proto__descriptor && num == 9 && len >= STRIP_MIN) {
				struct wbuf s = { 0 };
				int rc = wbuf_varint(&s, payload) || wbuf_varint(&s, len) ||
					 wbuf_varint(out, ((uint64_t)SENTINEL_FIELD << 3) | 2) ||
					 wbuf_varint(out, s.len) || wbuf_put(out, s.p, s.len);

				free(s.p);
				if (rc) {
					set_err(f->why, f->whylen, "out of memory");
					return -1;
				}
				raw_len = out->len - raw_at;
				continue;
			}
			break;
		default:
			set_err(f->why, f->whylen, "unsupported wire type %u at byte %zu",
				(unsigned)(key & 7), field_start);
			return -1;
		}
		if (wbuf_put(out, f->base + field_start, pos - field_start)) {
			set_err(f->why, f->whylen, "out of memory");
			return -1;
		}
		if (raw && (key & 7) == 2 && num == 9)
			raw_len = out->len - raw_at;
	}
	return 0;
truncated:
	set_err(f->why, f->whylen, "truncated or corrupt at byte %zu", pos);
	return -1;
}

Onnx__ModelProto *wire_unpack_model(const uint8_t *base, size_t len, char *why, size_t whylen)
{
	struct filt f = { base, why, whylen };
	struct wbuf lean = { 0 };
	Onnx__ModelProto *mp;

	why[0] = '\0';
	if (filter_msg(&f, &onnx__model_proto__descriptor, 0, len, &lean, 0)) {
		free(lean.p);
		return NULL;
	}
	mp = onnx__model_proto__unpack(NULL, lean.len, lean.p ? lean.p : (uint8_t *)"");
	free(lean.p);
	if (!mp)
		set_err(why, whylen, "not an ONNX model (protobuf does not parse as ModelProto)");
	return mp;
}

bool wire_take_sentinel(Onnx__TensorProto *tp, uint64_t *off, uint64_t *len)
{
	ProtobufCMessage *m = &tp->base;

	for (unsigned i = 0; i < m->n_unknown_fields; i++) {
		ProtobufCMessageUnknownField *u = &m->unknown_fields[i];
		size_t pos = 0;

		uint64_t prefix;

		if (u->tag != SENTINEL_FIELD)
			continue;
		/* protobuf-c keeps a length-delimited unknown field with its
		 * length prefix */
		if (!read_varint(u->data, u->len, &pos, &prefix) || prefix != u->len - pos)
			pos = 0;
		if (!read_varint(u->data, u->len, &pos, off) ||
		    !read_varint(u->data, u->len, &pos, len))
			return false;
		free(u->data);
		memmove(u, u + 1, (m->n_unknown_fields - i - 1) * sizeof(*u));
		if (--m->n_unknown_fields == 0) {
			free(m->unknown_fields);
			m->unknown_fields = NULL;
		}
		return true;
	}
	return false;
}

static int visit_rec(ProtobufCMessage *msg, const ProtobufCMessageDescriptor *want,
		     proto_visit_fn fn, void *ctx)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	int rc;

	if (d == want && (rc = fn(msg, ctx)))
		return rc;
	if (!may_hold_tensor(d) && want == &onnx__tensor_proto__descriptor)
		return 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *base = (char *)msg;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)(base + fd->quantifier_offset);
			ProtobufCMessage **arr = *(ProtobufCMessage ***)(base + fd->offset);

			for (size_t k = 0; k < n; k++)
				if (arr[k] && (rc = visit_rec(arr[k], want, fn, ctx)))
					return rc;
		} else {
			ProtobufCMessage *sub = *(ProtobufCMessage **)(base + fd->offset);

			if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
			    *(uint32_t *)(base + fd->quantifier_offset) != fd->id)
				continue;
			if (sub && (rc = visit_rec(sub, want, fn, ctx)))
				return rc;
		}
	}
	return 0;
}

int proto_visit(ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
		proto_visit_fn fn, void *ctx)
{
	return msg ? visit_rec(msg, desc, fn, ctx) : 0;
}
