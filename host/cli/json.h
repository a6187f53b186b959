/* SPDX-License-Identifier: MIT */
/* The one JSON writer of the program (report, manifest.json, info --json,
 * info --profile --json): members and elements are written through it, so
 * commas, nesting and string escapes are right by construction, and any
 * bytes (a file name that is not UTF-8) come out as valid JSON. */
#ifndef ONNXPASS_JSON_H
#define ONNXPASS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct jw {
	FILE *f;
	bool pretty;	/* one member per line, indented */
	int depth;
	bool has_items[JW_MAX_DEPTH];
	char close[JW_MAX_DEPTH];	/* '}' or ']' */
	bool overflow;	/* nesting deeper than JW_MAX_DEPTH: a bug */
};

void jw_init(struct jw *w, FILE *f, bool pretty);
/* key: the member name inside an object, NULL inside an array */
void jw_object(struct jw *w, const char *key);
void jw_array(struct jw *w, const char *key);
void jw_end(struct jw *w);	/* closes the innermost object or array */
void jw_str(struct jw *w, const char *key, const char *value);	/* NULL: null */
void jw_int(struct jw *w, const char *key, int64_t value);
void jw_uint(struct jw *w, const char *key, uint64_t value);
void jw_num(struct jw *w, const char *key, double value, int decimals);
void jw_bool(struct jw *w, const char *key, bool value);
void jw_null(struct jw *w, const char *key);
/* Closes what is open and ends the document with a newline. */
void jw_finish(struct jw *w);

#endif
