/* SPDX-License-Identifier: MIT */
/* Recipe files (INI, parsed with inih): bundle inputs and outputs, ordered
 * steps, parameters checked against each plugin's table before any model
 * is touched.  Every error names FILE:LINE. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

/* inih's default INI_MAX_LINE; the reader refuses longer lines so that
 * inih never silently splits one. */
#define MAX_LINE 200
#define MAX_NAME 64

struct parse {
	struct recipe *r;
	const struct registry *reg;
	FILE *f;
	int line;
	bool continuation;	/* current line is an indented continuation */
	char *err;
	size_t errlen;
	int rc, err_line;
	/* sections seen, for duplicate detection (sorted once at the end) */
	char **sections;
	int *section_lines;
	size_t n_sections, cap_sections, cap_lines, cap_steps;
	bool in_recipe_section;
	int outputs_line;
	bool recipe_keys_seen[8];
	size_t cap_mem, cap_mem_values;
};

static int perr(struct parse *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parse *p, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (p->rc && (!line || !p->err_line || line >= p->err_line))
		return 0;	/* keep the error of the earliest line */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	set_err(p->err, p->errlen, "%s:%d: %s", p->r->path, line, msg);
	p->rc = ONNXPASS_EINVAL;
	p->err_line = line;
	return 0;
}

static bool good_word(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* What inih skips as white space (isspace): the reader must agree with
 * it on what is indented and what starts a section. */
#define INI_SPACE " \t\v\f\r"

/* Reads one line for inih, tracking line numbers and refusing lines
 * inih would cut, and remembering section headers to find duplicates. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t len;
	const char *s;

	if (!fgets(str, num, p->f))
		return NULL;
	p->line++;
	if (p->line == 1 && !strncmp(str, "\xEF\xBB\xBF", 3))	/* a UTF-8 byte-order mark */
		memmove(str, str + 3, strlen(str + 3) + 1);
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->f)) {
		int c;

		perr(p, p->line, "line longer than %d characters", num - 2);
		while ((c = fgetc(p->f)) != EOF && c != '\n')
			;
		str[0] = '\0';
		return str;
	}
	p->continuation = len > 0 && strchr(INI_SPACE, str[0]) && str[0] &&
			  str[strspn(str, INI_SPACE "\n")] != '\0' && str[strspn(str, INI_SPACE)] != ';' &&
			  str[strspn(str, INI_SPACE)] != '#';
	s = str + strspn(str, INI_SPACE);
	if (*s == '[') {
		const char *e = strchr(s, ']');
		char *name;

		if (!e)
			return str;	/* inih reports it */
		name = strndup(s + 1, (size_t)(e - s - 1));
		if (!name)
			return NULL;
		if (grow(&p->sections, &p->cap_sections, p->n_sections + 1, sizeof(char *)) ||
		    grow(&p->section_lines, &p->cap_lines, p->n_sections + 1, sizeof(int))) {
			free(name);
			return NULL;
		}
		p->sections[p->n_sections] = name;
		p->section_lines[p->n_sections++] = p->line;
	}
	return str;
}

/* An indented line continues the value of the key above it (inih's
 * multi-line values); only some keys take several lines. */
static int indented(struct parse *p, const char *name, const char *value)
{
	return perr(p, p->line, "this line is indented, so it continues '%s' from the line above, "
		    "which takes one line: unindent '%s'", name, value);
}

/* Splits "role:file role:file" into pairs. */
static int parse_pairs(struct parse *p, const char *value, struct role_file **arr, size_t *n)
{
	const char *s = value;

	while (*s) {
		size_t len;
		char *item, *colon;
		struct role_file *a;

		s += strspn(s, " \t,");
		len = strcspn(s, " \t,");
		if (!len)
			break;
		item = strndup(s, len);
		if (!item)
			return ONNXPASS_ENOMEM;
		s += len;
		colon = strchr(item, ':');
		if (!colon || colon == item || !colon[1]) {
			perr(p, p->line, "'%s' is not ROLE:FILE", item);
			free(item);
			return ONNXPASS_EINVAL;
		}
		*colon = '\0';
		if (!good_word(item, MAX_NAME) || !good_word(colon + 1, 200)) {
			perr(p, p->line, "bad role or file name in '%s:%s'", item, colon + 1);
			free(item);
			return ONNXPASS_EINVAL;
		}
		for (size_t i = 0; i < *n; i++) {
			if (!strcmp((*arr)[i].role, item)) {
				perr(p, p->line, "role '%s' is listed twice", item);
				free(item);
				return ONNXPASS_EINVAL;
			}
		}
		a = realloc(*arr, (*n + 1) * sizeof(*a));
		if (!a) {
			free(item);
			return ONNXPASS_ENOMEM;
		}
		*arr = a;
		a[*n].role = strdup(item);
		a[*n].file = strdup(colon + 1);
		(*n)++;
		free(item);
	}
	return 0;
}

static int recipe_key(struct parse *p, const char *name, const char *value)
{
	static const char *keys[] = { "name", "summary", "inputs", "outputs", "shared_data",
				      "description", "notes", "memory_dims" };
	struct recipe *r = p->r;
	size_t k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strcmp(name, keys[k]))
			break;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return perr(p, p->line, "unknown key '%s' in [recipe] (known: name, summary, description, notes, inputs, outputs, shared_data, memory_dims)",
			    name);
	if (p->recipe_keys_seen[k] && !p->continuation)
		return perr(p, p->line, "key '%s' is set twice in [recipe]", name);
	if (p->continuation && (k == 0 || k == 4))
		return indented(p, name, value);
	p->recipe_keys_seen[k] = true;
	switch (k) {
	case 0:
		if (!good_word(value, MAX_NAME))
			return perr(p, p->line, "bad recipe name '%s'", value);
		free(r->name);
		r->name = strdup(value);
		break;
	case 1:
		if (p->continuation && r->summary) {	/* one line of text, joined */
			size_t a = strlen(r->summary);
			char *s = realloc(r->summary, a + strlen(value) + 2);

			if (!s)
				return 0;
			s[a] = ' ';
			strcpy(s + a + 1, value);
			r->summary = s;
			break;
		}
		free(r->summary);
		r->summary = strdup(value);
		break;
	case 2:
		parse_pairs(p, value, &r->inputs, &r->n_inputs);
		break;
	case 3:
		if (!p->outputs_line)
			p->outputs_line = p->line;
		parse_pairs(p, value, &r->outputs, &r->n_outputs);
		break;
	case 4:
		if (!good_word(value, 200))
			return perr(p, p->line, "bad file name '%s'", value);
		free(r->shared_data);
		r->shared_data = strdup(value);
		break;
	case 6: {	/* notes: continuation lines are joined with newlines */
		size_t a = r->notes ? strlen(r->notes) : 0, b = strlen(value);
		char *s = realloc(r->notes, a + b + 2);

		if (!s)
			return 0;
		if (a)
			s[a++] = '\n';
		memcpy(s + a, value, b + 1);
		r->notes = s;
		break;
	}
	case 7:	/* memory_dims: NAME=N ..., continuation lines add more; with a
		 * comma anywhere, items are comma separated (a name may then hold
		 * spaces: "past_sequence_length + 1=129") */
		for (const char *s = value, *sep = strchr(value, ',') ? "," : " \t"; *s;) {
			size_t len;
			char *item;
			int64_t v;

			s += strspn(s, sep);
			s += strspn(s, " \t");
			if (!(len = strcspn(s, sep)))
				continue;	/* "a=1, , b=2": an empty item */
			while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
				len--;
			item = strndup(s, len);
			s += strcspn(s, sep);
			if (!item)
				return perr(p, p->line, "out of memory");
			if (!split_dim(item, &v)) {
				perr(p, p->line, "memory_dims wants NAME=N items with 0 <= N < 2^63, not '%s'", item);
				free(item);
				return 0;
			}
			for (size_t k2 = 0; k2 < r->n_mem; k2++)
				if (!strcmp(r->mem_names[k2], item)) {
					perr(p, p->line, "memory_dims gives '%s' twice", item);
					free(item);
					return 0;
				}
			if (grow(&r->mem_names, &p->cap_mem, r->n_mem + 1, sizeof(*r->mem_names)) ||
			    grow(&r->mem_values, &p->cap_mem_values, r->n_mem + 1, sizeof(*r->mem_values))) {
				free(item);
				return perr(p, p->line, "out of memory");
			}
			r->mem_names[r->n_mem] = item;
			r->mem_values[r->n_mem++] = v;
		}
		break;
	default:
		break;
	}
	return 1;
}

/* The step of the section whose keys inih is handing over: the last one
 * made, or a new one (a section header appears once: duplicates are
 * refused when the file has been read). */
static struct step *step_for(struct parse *p, const char *section)
{
	const char *name = section + 4;
	struct step *s;

	name += strspn(name, INI_SPACE);
	if (p->r->n_steps && !strcmp(p->r->steps[p->r->n_steps - 1].name, name))
		return &p->r->steps[p->r->n_steps - 1];
	if (!good_word(name, MAX_NAME)) {
		perr(p, p->line, "bad step name '%s' (letters, digits, _ - . up to %d)", name,
		     MAX_NAME);
		return NULL;
	}
	if (grow(&p->r->steps, &p->cap_steps, p->r->n_steps + 1, sizeof(*s)))
		return NULL;
	s = &p->r->steps[p->r->n_steps++];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->line = p->n_sections ? p->section_lines[p->n_sections - 1] : p->line;
	return s;
}

static const struct parse *sort_parse;	/* (qsort has no context argument) */

static int by_section(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_parse->sections[i], sort_parse->sections[j]);

	return c ? c : sort_parse->section_lines[i] - sort_parse->section_lines[j];
}

/* A section header that appears twice: the earliest second one. */
static int check_sections(struct parse *p)
{
	size_t *idx = malloc((p->n_sections ? p->n_sections : 1) * sizeof(size_t)), dup = 0;
	bool found = false;

	if (!idx)
		return ONNXPASS_ENOMEM;
	for (size_t i = 0; i < p->n_sections; i++)
		idx[i] = i;
	sort_parse = p;
	qsort(idx, p->n_sections, sizeof(*idx), by_section);
	for (size_t k = 1; k < p->n_sections; k++)
		if (!strcmp(p->sections[idx[k]], p->sections[idx[k - 1]]) &&
		    (!found || p->section_lines[idx[k]] < p->section_lines[dup])) {
			/* idx[k - 1] is an earlier one of the same name */
			dup = idx[k];
			found = true;
		}
	if (found) {
		int first = p->section_lines[dup];

		for (size_t i = 0; i < p->n_sections; i++)
			if (!strcmp(p->sections[i], p->sections[dup]) && p->section_lines[i] < first)
				first = p->section_lines[i];
		perr(p, p->section_lines[dup], "section [%s] appears twice (first on line %d)", p->sections[dup],
		     first);
	}
	free(idx);
	return 0;
}

static int parse_expect(struct parse *p, struct step *s, const char *op, const char *value)
{
	struct expect e = { 0 };
	const char *v = value;
	char *end;
	struct expect *arr;

	if (!*op)
		return perr(p, p->line, "expect.<OpType> needs an op type");
	{	/* an op of ONNX or of ONNX Runtime's contrib ops, unless the
		 * expectation names another domain: expect.DOMAIN/OP (inih
		 * takes ':' for '=') */
		const char *colon = strrchr(op, '/'), *type = colon ? colon + 1 : op;
		size_t dl = colon ? (size_t)(colon - op) : 0;
		bool std = !colon || !dl || (dl == 7 && !strncmp(op, "ai.onnx", 7)) ||
			   (dl == 10 && !strncmp(op, "ai.onnx.ml", 10)) ||
			   (dl == 13 && !strncmp(op, "com.microsoft", 13));

		if (std && !op_type_known(type)) {
			const char *best = op_type_suggest(type);

			return perr(p, p->line, "expect.%s: no op '%s' in ONNX or ONNX Runtime's contrib ops%s%s%s "
				    "(an op of another domain is written expect.DOMAIN/OP)", op, type,
				    best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
		}
	}
	if (!strncmp(v, ">=", 2) || !strncmp(v, "<=", 2) || !strncmp(v, "==", 2)) {
		memcpy(e.cmp, v, 2);
		v += 2;
	} else if (*v == '>' || *v == '<') {
		e.cmp[0] = *v++;
	} else {
		memcpy(e.cmp, "==", 2);
	}
	v += strspn(v, " \t");
	errno = 0;
	e.n = strtol(v, &end, 10);
	if (errno || end == v || *end || e.n < 0)
		return perr(p, p->line, "bad expectation '%s' (want N, >=N, <=N, >N or <N)", value);
	e.op = strdup(op);
	if (e.op && strchr(e.op, '/'))
		*strrchr(e.op, '/') = ':';	/* the runner's "domain:Op" */
	e.line = p->line;
	arr = realloc(s->expects, (s->n_expects + 1) * sizeof(*arr));
	if (!arr || !e.op) {
		free(e.op);
		return 0;
	}
	s->expects = arr;
	arr[s->n_expects++] = e;
	return 1;
}

/* Appends roles separated by spaces or commas to s->models. */
static int add_roles(struct step *s, const char *v)
{
	while (*v) {
		size_t len;
		char **arr;

		v += strspn(v, " \t,");
		len = strcspn(v, " \t,");
		if (!len)
			break;
		arr = realloc(s->models, (s->n_models + 1) * sizeof(char *));
		if (!arr)
			return ONNXPASS_ENOMEM;
		s->models = arr;
		arr[s->n_models] = strndup(v, len);
		if (!arr[s->n_models] || !good_word(arr[s->n_models], MAX_NAME)) {
			free(arr[s->n_models]);
			return ONNXPASS_EINVAL;
		}
		s->n_models++;
		v += len;
	}
	return 0;
}

static int step_key(struct parse *p, const char *section, const char *name, const char *value)
{
	struct step *s = step_for(p, section);
	char why[512];

	if (!s)
		return 0;
	if (p->continuation && strcmp(name, "models")) {
		int rc = s->params ? params_continue(s->params, name, value) : 1;

		if (rc < 0)
			return perr(p, p->line, "out of memory");
		return rc ? indented(p, name, value) : 1;
	}
	if (!strcmp(name, "pass")) {
		if (s->pass)
			return perr(p, p->line, "step '%s' names its pass twice", s->name);
		s->pass = strdup(value);
		s->plugin = registry_find(p->reg, value);
		if (!s->plugin) {
			char msg[640];

			registry_missing_msg(p->reg, value, msg, sizeof(msg));
			return perr(p, p->line, "%s", msg);
		}
		s->params = params_new(s->plugin->desc);
		return 1;
	}
	if (!strcmp(name, "models")) {
		if (s->n_models && !p->continuation)
			return perr(p, p->line, "step '%s' sets models twice", s->name);
		if (add_roles(s, value))
			return perr(p, p->line, "bad role name in models");
		if (!s->models_line)
			s->models_line = p->line;
		return 1;
	}
	if (!strncmp(name, "expect.", 7))
		return parse_expect(p, s, name + 7, value);
	if (!s->plugin)
		return perr(p, p->line, "step '%s': 'pass =' must come before '%s'", s->name, name);
	if (params_set(s->params, name, value, p->line, why, sizeof(why)))
		return perr(p, p->line, "step '%s': %s", s->name, why);
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;

	if (p->rc)
		return 1;
	if (strlen(name) > MAX_NAME)
		return perr(p, p->line, "key '%.20s...' is longer than %d characters", name, MAX_NAME);
	if (!strcmp(section, "recipe"))
		return recipe_key(p, name, value);
	if (!strncmp(section, "step", 4) && (section[4] == ' ' || section[4] == '\t'))
		return step_key(p, section, name, value);
	if (!*section)
		return perr(p, p->line, "key '%s' outside any section", name);
	return perr(p, p->line, "unknown section [%s] (want [recipe] or [step NAME])", section);
}

/* With the recipe's inputs declared, the roles each step names must exist
 * by then: the inputs', and those added by earlier steps (a pass that adds
 * a model takes its role in a parameter named 'as'); the outputs' roles
 * must exist after the last step. */
static int check_roles(struct parse *p)
{
	struct recipe *r = p->r;
	const char **known;
	size_t n = 0;
	int rc = 0;

	if (!r->n_inputs)
		return 0;	/* the roles come from the input folder */
	known = calloc(r->n_inputs + r->n_steps + 1, sizeof(*known));
	if (!known)
		return perr(p, 1, "out of memory");
	for (size_t i = 0; i < r->n_inputs; i++)
		known[n++] = r->inputs[i].role;
	for (size_t i = 0; i < r->n_steps && !rc; i++) {
		const struct step *s = &r->steps[i];
		const char *as;

		for (size_t k = 0; k < s->n_models && !rc; k++) {
			const char *best;
			char have[512] = "";
			bool found = false;

			for (size_t j = 0; j < n && !found; j++)
				found = !strcmp(known[j], s->models[k]);
			if (found)
				continue;
			for (size_t j = 0; j < n; j++)
				snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s", j ? ", " : "",
					 known[j]);
			best = closest_word(s->models[k], known, n);
			perr(p, s->models_line ? s->models_line : s->line,
			     "step '%s': no model has role '%s' at this step (roles: %s)%s%s%s", s->name,
			     s->models[k], have, best ? " (did you mean '" : "", best ? best : "",
			     best ? "'?)" : "");
			rc = ONNXPASS_EINVAL;
		}
		as = s->plugin && param_declared(s->plugin->desc, "as") ?
		     onnxpass_params_string(s->params, "as") : NULL;
		if (as)
			known[n++] = as;
	}
	for (size_t i = 0; i < r->n_outputs && !rc; i++) {
		bool found = false;

		for (size_t j = 0; j < n && !found; j++)
			found = !strcmp(known[j], r->outputs[i].role);
		if (!found) {
			const char *best = closest_word(r->outputs[i].role, known, n);

			perr(p, p->outputs_line, "output role '%s' is not a model after the last step%s%s%s",
			     r->outputs[i].role, best ? " (did you mean '" : "", best ? best : "",
			     best ? "'?)" : "");
			rc = ONNXPASS_EINVAL;
		}
	}
	free(known);
	return rc;
}

static int finish(struct parse *p)
{
	struct recipe *r = p->r;
	char why[512];

	if (!r->n_steps)
		return perr(p, p->line > 0 ? p->line : 1, "no [step NAME] section");
	for (size_t i = 0; i < r->n_steps; i++) {
		struct step *s = &r->steps[i];

		if (!s->pass)
			return perr(p, s->line, "step '%s' has no 'pass ='", s->name);
		if (params_finish(s->params, why, sizeof(why)))
			return perr(p, s->line, "step '%s': %s", s->name, why);
	}
	if (check_roles(p))
		return p->rc;
	if (!r->name) {
		const char *b = path_base(r->path);
		size_t n = strcspn(b, ".");

		r->name = strndup(b, n);
	}
	return 0;
}

int recipe_load(const char *path, const struct registry *reg, struct recipe **out, char *err,
		size_t errlen)
{
	struct parse p = { 0 };
	int line;

	*out = NULL;
	p.r = calloc(1, sizeof(*p.r));
	if (!p.r)
		return ONNXPASS_ENOMEM;
	p.r->path = strdup(path);
	p.reg = reg;
	p.err = err;
	p.errlen = errlen;
	/* a regular file only: a FIFO would block, /dev/zero never end */
	{
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		struct stat st;

		if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
			close(fd);
			set_err(err, errlen, "cannot read recipe '%s': %s", path,
				S_ISDIR(st.st_mode) ? "it is a folder" : "not a regular file");
			recipe_free(p.r);
			return ONNXPASS_EINVAL;
		}
		if (fd < 0 || !(p.f = fdopen(fd, "r"))) {
			set_err(err, errlen, "cannot read recipe '%s': %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			recipe_free(p.r);
			return ONNXPASS_EIO;
		}
	}
	line = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	check_sections(&p);
	if (!p.rc && line > 0)
		perr(&p, line, "not a KEY = VALUE line or [section]");
	else if (!p.rc && line < 0)
		perr(&p, 0, "cannot parse (out of memory)");
	if (!p.rc)
		finish(&p);
	for (size_t i = 0; i < p.n_sections; i++)
		free(p.sections[i]);
	free(p.sections);
	free(p.section_lines);
	if (p.rc) {
		recipe_free(p.r);
		return p.rc;
	}
	*out = p.r;
	return 0;
}

int recipe_single(const struct plugin *pl, char **kv, size_t n_kv, struct recipe **out,
		  char *err, size_t errlen)
{
	struct recipe *r = calloc(1, sizeof(*r));
	struct step *s;
	char why[512];

	*out = NULL;
	if (!r || !(r->steps = calloc(1, sizeof(*r->steps)))) {
		free(r);
		return ONNXPASS_ENOMEM;
	}
	r->path = strdup("command line");
	r->name = strdup(pl->desc->name);
	r->n_steps = 1;
	s = &r->steps[0];
	s->name = strdup(pl->desc->name);
	s->pass = strdup(pl->desc->name);
	s->plugin = pl;
	s->params = params_new(pl->desc);
	if (!s->params) {
		recipe_free(r);
		return ONNXPASS_ENOMEM;
	}
	for (size_t i = 0; i < n_kv; i++) {
		char *eq = strchr(kv[i], '='), *key;
		int rc;

		if (!eq || eq == kv[i]) {
			set_err(err, errlen, "pass '%s': '%s' is not KEY=VALUE", pl->desc->name, kv[i]);
			recipe_free(r);
			return ONNXPASS_EINVAL;
		}
		key = strndup(kv[i], (size_t)(eq - kv[i]));
		if (!strcmp(key, "models")) {
			rc = add_roles(s, eq + 1);
			if (rc)
				snprintf(why, sizeof(why), "bad role name in models");
		} else {
			rc = params_set(s->params, key, eq + 1, 0, why, sizeof(why));
		}
		free(key);
		if (rc) {
			set_err(err, errlen, "pass '%s': %s", pl->desc->name, why);
			recipe_free(r);
			return rc;
		}
	}
	if (params_finish(s->params, why, sizeof(why))) {
		set_err(err, errlen, "%s", why);
		recipe_free(r);
		return ONNXPASS_EINVAL;
	}
	*out = r;
	return 0;
}

int recipe_override(struct recipe *r, char *const *sets, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(sets[i], '='), *dot = NULL;
		struct step *s = NULL;
		char why[512], *name, *key;
		int rc;

		for (const char *c = sets[i]; eq && c < eq; c++)
			if (*c == '.')
				dot = c;
		if (!eq || !dot || dot == sets[i] || dot + 1 == eq) {
			set_err(err, errlen, "--set wants STEP.KEY=VALUE, not '%s'", sets[i]);
			return ONNXPASS_EINVAL;
		}
		name = strndup(sets[i], (size_t)(dot - sets[i]));
		key = strndup(dot + 1, (size_t)(eq - dot - 1));
		if (!name || !key) {
			free(name);
			free(key);
			return ONNXPASS_ENOMEM;
		}
		for (size_t k = 0; k < r->n_steps && !s; k++)
			if (!strcmp(r->steps[k].name, name))
				s = &r->steps[k];
		if (!s) {
			const char **names = malloc((r->n_steps + 1) * sizeof(*names));
			const char *near = NULL;

			for (size_t k = 0; names && k < r->n_steps; k++)
				names[k] = r->steps[k].name;
			if (names)
				near = closest_word(name, names, r->n_steps);
			set_err(err, errlen, "--set '%s': recipe '%s' has no step '%s'%s%s%s", sets[i], r->path, name,
				near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			free(names);
			rc = ONNXPASS_EINVAL;
		} else if (!strcmp(key, "pass") || !strcmp(key, "models") || !strcmp(key, "as")) {
			/* roles were checked against the steps as the recipe wrote them */
			set_err(err, errlen, "--set '%s': only a step's parameters can be set, not '%s'", sets[i], key);
			rc = ONNXPASS_EINVAL;
		} else if ((rc = params_replace(s->params, key, eq + 1, why, sizeof(why))) ||
			   (rc = params_finish(s->params, why, sizeof(why)))) {
			set_err(err, errlen, "--set '%s': step '%s': %s", sets[i], name, why);
		} else if (grow(&r->overrides, &r->cap_overrides, r->n_overrides + 1, sizeof(char *)) ||
			   !(r->overrides[r->n_overrides] = strdup(sets[i]))) {
			rc = ONNXPASS_ENOMEM;
		} else {
			r->n_overrides++;
		}
		free(name);
		free(key);
		if (rc)
			return rc;
	}
	return 0;
}

void recipe_free(struct recipe *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_overrides; i++)
		free(r->overrides[i]);
	free(r->overrides);
	for (size_t i = 0; i < r->n_mem; i++)
		free(r->mem_names[i]);
	free(r->mem_names);
	free(r->mem_values);
	for (size_t i = 0; i < r->n_steps; i++) {
		struct step *s = &r->steps[i];

		free(s->name);
		free(s->pass);
		for (size_t k = 0; k < s->n_models; k++)
			free(s->models[k]);
		free(s->models);
		for (size_t k = 0; k < s->n_expects; k++)
			free(s->expects[k].op);
		free(s->expects);
		params_free(s->params);
	}
	free(r->steps);
	for (size_t i = 0; i < r->n_inputs; i++) {
		free(r->inputs[i].role);
		free(r->inputs[i].file);
	}
	free(r->inputs);
	for (size_t i = 0; i < r->n_outputs; i++) {
		free(r->outputs[i].role);
		free(r->outputs[i].file);
	}
	free(r->outputs);
	free(r->shared_data);
	free(r->notes);
	free(r->summary);
	free(r->name);
	free(r->path);
	free(r);
}
