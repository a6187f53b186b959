/* SPDX-License-Identifier: MIT */
/* The JSON writer (json.h). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "json.h"

void jw_init(struct jw *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

/* Writes s as a JSON string: control characters escaped, bytes that are
 * not UTF-8 written as U+FFFD. */
static void string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
			   : (c & 0xF8) == 0xF0 ? 4 : 0;
		bool ok = len > 0;

		for (size_t k = 1; ok && k < len; k++)
			ok = (p[k] & 0xC0) == 0x80;
		if (ok && len == 2)
			ok = c >= 0xC2;	/* no overlong forms */
		if (ok && len == 3)
			ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
		if (ok && len == 4)
			ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90) && c <= 0xF4;
		if (!ok) {
			fputs("\\ufffd", f);
			p++;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			p++;
		} else if (c == '\n') {
			fputs("\\n", f);
			p++;
		} else if (c == '\t') {
			fputs("\\t", f);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else {
			fwrite(p, 1, len, f);
			p += len;
		}
	}
	fputc('"', f);
}

/* The separator and key before a value. */
static void member(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (w->has_items[w->depth - 1])
			fputs(w->pretty ? "," : ", ", w->f);
		w->has_items[w->depth - 1] = true;
		if (w->pretty)
			fprintf(w->f, "\n%*s", 2 * w->depth, "");
	}
	if (key) {
		string(w->f, key);
		fputs(": ", w->f);
	}
}

static void begin(struct jw *w, const char *key, char open, char close)
{
	member(w, key);
	fputc(open, w->f);
	if (w->depth >= JW_MAX_DEPTH) {
		w->overflow = true;
		return;
	}
	w->close[w->depth] = close;
	w->has_items[w->depth++] = false;
}

void jw_object(struct jw *w, const char *key)
{
	begin(w, key, '{', '}');
}

void jw_array(struct jw *w, const char *key)
{
	begin(w, key, '[', ']');
}

void jw_end(struct jw *w)
{
	if (w->depth <= 0)
		return;
	w->depth--;
	if (w->pretty && w->has_items[w->depth])
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	fputc(w->close[w->depth], w->f);
}

void jw_str(struct jw *w, const char *key, const char *value)
{
	member(w, key);
	if (value)
		string(w->f, value);
	else
		fputs("null", w->f);
}

void jw_int(struct jw *w, const char *key, int64_t value)
{
	member(w, key);
	fprintf(w->f, "%lld", (long long)value);
}

void jw_uint(struct jw *w, const char *key, uint64_t value)
{
	member(w, key);
	fprintf(w->f, "%llu", (unsigned long long)value);
}

void jw_num(struct jw *w, const char *key, double value, int decimals)
{
	member(w, key);
	if (isfinite(value))
		fprintf(w->f, "%.*f", decimals, value);
	else
		fputs("null", w->f);	/* JSON has no NaN or infinity */
}

void jw_bool(struct jw *w, const char *key, bool value)
{
	member(w, key);
	fputs(value ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	member(w, key);
	fputs("null", w->f);
}

void jw_finish(struct jw *w)
{
	while (w->depth > 0)
		jw_end(w);
	fputc('\n', w->f);
}
