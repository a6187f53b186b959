/* SPDX-License-Identifier: MIT */
/* Step parameters: parsing and range checks against a plugin's table,
 * and the typed getters plugins call. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host.h"

static bool parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "1", "true", "yes", "on" }, *no[] = { "0", "false", "no", "off" };

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_float(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static bool in_choices(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; *p;) {
		const char *q = strchr(p, '|');
		size_t len = q ? (size_t)(q - p) : strlen(p);

		if (len == n && !strncmp(p, v, n))
			return true;
		if (!q)
			break;
		p = q + 1;
	}
	return false;
}

static bool bounded(const struct onnxpass_param *d)
{
	return d->min != 0 || d->max != 0;
}

bool param_value_ok(const struct onnxpass_param *d, const char *v, char *why, size_t whylen)
{
	bool b;
	int64_t i;
	double f;

	switch (d->type) {
	case ONNXPASS_PARAM_BOOL:
		if (!parse_bool(v, &b)) {
			set_err(why, whylen, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", v);
			return false;
		}
		return true;
	case ONNXPASS_PARAM_INT:
		if (!parse_int(v, &i)) {
			set_err(why, whylen, "'%s' is not an integer", v);
			return false;
		}
		if (bounded(d) && ((double)i < d->min || (double)i > d->max)) {
			set_err(why, whylen, "%s is outside %.0f..%.0f", v, d->min, d->max);
			return false;
		}
		if (d->choices && *d->choices && !in_choices(d->choices, v)) {
			set_err(why, whylen, "%s is not one of %s", v, d->choices);
			return false;
		}
		return true;
	case ONNXPASS_PARAM_FLOAT:
		if (!parse_float(v, &f)) {
			set_err(why, whylen, "'%s' is not a number", v);
			return false;
		}
		if (bounded(d) && (f < d->min || f > d->max)) {
			set_err(why, whylen, "%s is outside %g..%g", v, d->min, d->max);
			return false;
		}
		return true;
	case ONNXPASS_PARAM_ENUM:
		if (!in_choices(d->choices, v)) {
			set_err(why, whylen, "'%s' is not one of %s", v, d->choices);
			return false;
		}
		return true;
	case ONNXPASS_PARAM_STRING:
	case ONNXPASS_PARAM_LIST:
		return true;
	}
	set_err(why, whylen, "unknown parameter type");
	return false;
}

struct onnxpass_params *params_new(const struct onnxpass_plugin *desc)
{
	struct onnxpass_params *p = calloc(1, sizeof(*p));
	size_t n = desc->n_params ? desc->n_params : 1;

	if (!p)
		return NULL;
	p->desc = desc;
	p->values = calloc(n, sizeof(char *));
	p->lines = calloc(n, sizeof(int));
	p->items = calloc(n, sizeof(char **));
	p->n_items = calloc(n, sizeof(size_t));
	if (!p->values || !p->lines || !p->items || !p->n_items) {
		params_free(p);
		return NULL;
	}
	return p;
}

void params_free(struct onnxpass_params *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->values && i < p->desc->n_params; i++) {
		free(p->values[i]);
		for (size_t k = 0; k < p->n_items[i]; k++)
			free(p->items[i][k]);
		free(p->items[i]);
	}
	free(p->values);
	free(p->lines);
	free(p->items);
	free(p->n_items);
	free(p);
}

static ssize_t find(const struct onnxpass_plugin *d, const char *key)
{
	for (size_t i = 0; i < d->n_params; i++)
		if (!strcmp(d->params[i].name, key))
			return (ssize_t)i;
	return -1;
}

bool param_declared(const struct onnxpass_plugin *desc, const char *key)
{
	return find(desc, key) >= 0;
}

/* Edit distance between two words, case ignored (capped for long words). */
size_t word_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[65], cur[65];

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1,
			       sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
						    tolower((unsigned char)b[j - 1]));

			cur[j] = del < ins ? (del < sub ? del : sub) : (ins < sub ? ins : sub);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *closest_word(const char *w, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = word_distance(w, cands[i]);

		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}

const char *params_suggest(const struct onnxpass_plugin *desc, const char *key)
{
	const char *best = NULL;
	size_t bd = 3;

	for (size_t i = 0; i < desc->n_params; i++) {
		size_t d = word_distance(key, desc->params[i].name);

		if (d < bd) {
			bd = d;
			best = desc->params[i].name;
		}
	}
	return best;
}

static int split_list(struct onnxpass_params *p, size_t i)
{
	const char *s = p->values[i];

	for (size_t k = 0; k < p->n_items[i]; k++)
		free(p->items[i][k]);
	free(p->items[i]);
	p->items[i] = NULL;
	p->n_items[i] = 0;
	while (*s) {
		size_t len;
		char **arr;

		s += strspn(s, " \t,");
		len = strcspn(s, " \t,");
		if (!len)
			break;
		arr = realloc(p->items[i], (p->n_items[i] + 1) * sizeof(char *));
		if (!arr)
			return ONNXPASS_ENOMEM;
		p->items[i] = arr;
		arr[p->n_items[i]] = strndup(s, len);
		if (!arr[p->n_items[i]])
			return ONNXPASS_ENOMEM;
		p->n_items[i]++;
		s += len;
	}
	return 0;
}

int params_continue(struct onnxpass_params *p, const char *key, const char *value)
{
	ssize_t i = find(p->desc, key);
	size_t a, b;
	char *v;

	if (i < 0 || p->desc->params[i].type != ONNXPASS_PARAM_LIST || !p->values[i])
		return 1;
	a = strlen(p->values[i]);
	b = strlen(value);
	v = realloc(p->values[i], a + b + 2);
	if (!v)
		return ONNXPASS_ENOMEM;
	v[a] = ' ';
	memcpy(v + a + 1, value, b + 1);
	p->values[i] = v;
	return split_list(p, (size_t)i);
}

int params_set(struct onnxpass_params *p, const char *key, const char *value, int line,
	       char *why, size_t whylen)
{
	ssize_t i = find(p->desc, key);
	char vwhy[256];
	char *v;

	if (i < 0) {
		const char *s = params_suggest(p->desc, key);

		if (s)
			set_err(why, whylen, "unknown parameter '%s' for pass '%s' (did you mean '%s'?)",
				key, p->desc->name, s);
		else
			set_err(why, whylen, "unknown parameter '%s' for pass '%s'", key, p->desc->name);
		return ONNXPASS_EINVAL;
	}
	if (p->lines[i]) {
		set_err(why, whylen, "parameter '%s' is set twice (first on line %d)", key,
			p->lines[i]);
		return ONNXPASS_EINVAL;
	}
	if (!param_value_ok(&p->desc->params[i], value, vwhy, sizeof(vwhy))) {
		set_err(why, whylen, "bad value for '%s': %s", key, vwhy);
		return ONNXPASS_EINVAL;
	}
	v = strdup(value);
	if (!v)
		return ONNXPASS_ENOMEM;
	free(p->values[i]);
	p->values[i] = v;
	p->lines[i] = line > 0 ? line : -1;
	if (p->desc->params[i].type == ONNXPASS_PARAM_LIST)
		return split_list(p, (size_t)i);
	return 0;
}

int params_replace(struct onnxpass_params *p, const char *key, const char *value, char *why, size_t whylen)
{
	ssize_t i = find(p->desc, key);

	if (i >= 0)
		p->lines[i] = 0;
	return params_set(p, key, value, -1, why, whylen);
}

int params_finish(struct onnxpass_params *p, char *why, size_t whylen)
{
	for (size_t i = 0; i < p->desc->n_params; i++) {
		const struct onnxpass_param *d = &p->desc->params[i];

		if (p->values[i])
			continue;
		if (d->required) {
			set_err(why, whylen, "pass '%s' needs parameter '%s' (%s)", p->desc->name,
				d->name, d->help);
			return ONNXPASS_EINVAL;
		}
		if (d->default_value) {
			p->values[i] = strdup(d->default_value);
			if (!p->values[i])
				return ONNXPASS_ENOMEM;
			if (d->type == ONNXPASS_PARAM_LIST && split_list(p, i))
				return ONNXPASS_ENOMEM;
		}
	}
	return 0;
}
