/*
 * confyaml.c: the YAML side of loading the configuration.  It reads the
 * file, walks libyaml's document and collects every problem as a
 * FILE:LINE:COLUMN line, so that the schema in config.c can report all
 * mistakes at once instead of stopping at the first.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "config/config.h"
#include "config/confval.h"
#include "config/confyaml.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_KEYS_MAX		256	/* keys in a mapping with a fixed schema */

struct diagline {
	size_t		 line, col, seq;
	char		*text;
};

static void
diag_push(struct loader *ld, size_t line, size_t col, char *text)
{
	struct diagline *n;
	size_t cap;

	if (text == NULL) {
		ld->oom = 1;
		return;
	}
	if (ld->nlines == ld->caplines) {
		cap = ld->caplines ? ld->caplines * 2 : 16;
		if ((n = reallocarray(ld->lines, cap, sizeof(*n))) == NULL) {
			free(text);
			ld->oom = 1;
			return;
		}
		ld->lines = n;
		ld->caplines = cap;
	}
	ld->lines[ld->nlines].line = line;
	ld->lines[ld->nlines].col = col;
	ld->lines[ld->nlines].seq = ld->nlines;
	ld->lines[ld->nlines].text = text;
	ld->nlines++;
}

/* "FILE:LINE:COLUMN: message", or "FILE: message" without a mark. */
void
confyaml_errat(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	char *msg, *text;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		ld->oom = 1;
		return;
	}
	if (m == NULL)
		rc = asprintf(&text, "%s: %s", ld->path, msg);
	else
		rc = asprintf(&text, "%s:%zu:%zu: %s", ld->path, m->line + 1,
		    m->column + 1, msg);
	free(msg);
	if (m == NULL)
		diag_push(ld, 0, 0, rc == -1 ? NULL : text);
	else
		diag_push(ld, m->line + 1, m->column + 1,
		    rc == -1 ? NULL : text);
}

void
confyaml_warnat(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		ld->oom = 1;
		return;
	}
	confyaml_errat(ld, m, "warning: %s", msg);
	free(msg);
	ld->nwarnings++;
}

static int
diagline_cmp(const void *a, const void *b)
{
	const struct diagline *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the collected lines to the caller in file order. */
static void
diag_flush(struct loader *ld, struct config_diag *diag)
{
	char **n;
	size_t i;

	if (ld->nlines > 1)
		qsort(ld->lines, ld->nlines, sizeof(*ld->lines), diagline_cmp);
	if (diag != NULL && ld->nlines > 0 &&
	    (n = reallocarray(diag->lines, diag->n + ld->nlines,
	    sizeof(*n))) != NULL) {
		diag->lines = n;
		for (i = 0; i < ld->nlines; i++)
			diag->lines[diag->n++] = ld->lines[i].text;
	} else {
		for (i = 0; i < ld->nlines; i++)
			free(ld->lines[i].text);
	}
	free(ld->lines);
	ld->lines = NULL;
	ld->nlines = ld->caplines = 0;
}

char *
confyaml_sdup(struct loader *ld, const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		ld->oom = 1;
	return d;
}

void *
confyaml_zalloc(struct loader *ld, size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n ? n : 1, size)) == NULL)
		ld->oom = 1;
	return p;
}

/* "a, b, c" into a fixed buffer, ending in "..." when it does not fit. */
void
confyaml_list_add(char *buf, size_t len, const char *item)
{
	size_t used = strlen(buf);

	if (used >= 3 && strcmp(buf + used - 3, "...") == 0)
		return;
	if (used + strlen(item) + 2 + 5 > len)
		snprintf(buf + used, len - used, "%s...", used ? ", " : "");
	else
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
		    item);
}

yaml_node_t *
confyaml_node(struct loader *ld, int i)
{
	return yaml_document_get_node(&ld->doc, i);
}

const char *
confyaml_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "a string";
	}
}

/* `key:` with nothing after it, or ~ / null. */
int
confyaml_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (*v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
}

int
confyaml_has_nul(const yaml_node_t *n)
{
	return strlen((const char *)n->data.scalar.value) !=
	    n->data.scalar.length;
}

/* A non-empty string, or NULL after saying why not. */
const char *
confyaml_scalar(struct loader *ld, yaml_node_t *n, const char *key,
    const char *ctx)
{
	if (n->type != YAML_SCALAR_NODE) {
		confyaml_errat(ld, &n->start_mark, "expected a string for "
		    "'%s'%s, got %s", key, ctx, confyaml_kind(n));
		return NULL;
	}
	if (confyaml_is_null(n) || n->data.scalar.length == 0) {
		confyaml_errat(ld, &n->start_mark, "'%s'%s is empty", key, ctx);
		return NULL;
	}
	if (confyaml_has_nul(n)) {
		confyaml_errat(ld, &n->start_mark, "'%s'%s contains a NUL "
		    "character", key, ctx);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* The items of a list, or NULL after saying why not. */
yaml_node_item_t *
confyaml_items(struct loader *ld, yaml_node_t *n, const char *key,
    const char *ctx, size_t max, size_t *count)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		confyaml_errat(ld, &n->start_mark, "expected a list for "
		    "'%s'%s, got %s", key, ctx, confyaml_kind(n));
		return NULL;
	}
	*count = n->data.sequence.items.top - n->data.sequence.items.start;
	if (*count > max) {
		confyaml_errat(ld, &n->start_mark, "too many entries in "
		    "'%s'%s (%zu); at most %zu", key, ctx, *count, max);
		return NULL;
	}
	return n->data.sequence.items.start;
}

/* Optimal string alignment distance, for "did you mean". */
static unsigned int
distance(const char *a, const char *b)
{
	unsigned char d[CONFVAL_ID_MAX + 1][CONFVAL_ID_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int v, t;

	if (la > CONFVAL_ID_MAX || lb > CONFVAL_ID_MAX)
		return UINT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if ((t = d[i - 1][j] + 1) < v)
				v = t;
			if ((t = d[i][j - 1] + 1) < v)
				v = t;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && (t = d[i - 2][j - 2] + 1) < v)
				v = t;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

static const char *
closest(const char *key, const struct field *f, size_t nf)
{
	const char *best = NULL;
	unsigned int d, bestd = UINT_MAX, limit;
	size_t i, len;

	for (i = 0; i < nf; i++) {
		len = strlen(f[i].key);
		limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
		d = distance(key, f[i].key);
		if (d <= limit && d < bestd) {
			best = f[i].key;
			bestd = d;
		}
	}
	return best;
}

/*
 * Walk a mapping with a fixed set of keys: keys must be strings, known and
 * not repeated.  Fills val[] (NULL when absent) and reports missing
 * required keys at the mapping.  -1 when MAP is not a mapping.
 */
int
confyaml_fields(struct loader *ld, yaml_node_t *map, const char *what,
    const char *ctx, const struct field *f, size_t nf, yaml_node_t **val)
{
	yaml_node_t *key[CONFYAML_FIELDS_MAX] = { NULL }, *k;
	yaml_node_pair_t *p;
	char known[CONFYAML_LIST_MAX];
	const char *s, *hint;
	size_t i, n;

	memset(val, 0, nf * sizeof(*val));
	if (map->type != YAML_MAPPING_NODE) {
		confyaml_errat(ld, &map->start_mark, "expected a mapping for "
		    "%s, got %s", what, confyaml_kind(map));
		return -1;
	}
	n = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	if (n > CONFIG_KEYS_MAX) {
		confyaml_errat(ld, &map->start_mark, "too many keys%s (%zu)",
		    ctx, n);
		return -1;
	}
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = confyaml_node(ld, p->key);
		if (k->type != YAML_SCALAR_NODE) {
			confyaml_errat(ld, &k->start_mark, "keys must be "
			    "strings%s, not %s", ctx, confyaml_kind(k));
			continue;
		}
		s = (const char *)k->data.scalar.value;
		for (i = 0; i < nf && strcmp(s, f[i].key) != 0; i++)
			;
		if (i == nf) {
			if ((hint = closest(s, f, nf)) != NULL) {
				confyaml_errat(ld, &k->start_mark, "unknown "
				    "key '%s'%s; did you mean '%s'?", s, ctx,
				    hint);
				continue;
			}
			known[0] = '\0';
			for (i = 0; i < nf; i++)
				confyaml_list_add(known, sizeof(known),
				    f[i].key);
			confyaml_errat(ld, &k->start_mark, "unknown key "
			    "'%s'%s; known keys are: %s", s, ctx, known);
			continue;
		}
		if (key[i] != NULL) {
			confyaml_errat(ld, &k->start_mark, "duplicate key "
			    "'%s'%s (first at line %zu)", s, ctx,
			    key[i]->start_mark.line + 1);
			continue;
		}
		key[i] = k;
		val[i] = confyaml_node(ld, p->value);
	}
	for (i = 0; i < nf; i++)
		if (f[i].required && val[i] == NULL)
			confyaml_errat(ld, &map->start_mark, "missing "
			    "required key '%s'%s", f[i].key, ctx);
	return 0;
}

/* An earlier key of MAP equal to the key of pair P, for duplicate checks. */
yaml_node_t *
confyaml_earlier_key(struct loader *ld, yaml_node_t *map,
    yaml_node_pair_t *p)
{
	yaml_node_t *k = confyaml_node(ld, p->key), *e;
	yaml_node_pair_t *q;

	for (q = map->data.mapping.pairs.start; q < p; q++) {
		e = confyaml_node(ld, q->key);
		if (e->type == YAML_SCALAR_NODE &&
		    e->data.scalar.length == k->data.scalar.length &&
		    memcmp(e->data.scalar.value, k->data.scalar.value,
		    k->data.scalar.length) == 0)
			return e;
	}
	return NULL;
}

static void
syntax_error(struct loader *ld, yaml_parser_t *p, const unsigned char *buf,
    size_t len)
{
	yaml_mark_t m = p->problem_mark;
	size_t i, end, bol = 0;

	if (p->error == YAML_MEMORY_ERROR) {
		ld->oom = 1;
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		memset(&m, 0, sizeof(m));
		end = p->problem_offset < len ? p->problem_offset : len;
		for (i = 0; i < end; i++) {
			if (buf[i] == '\n') {
				m.line++;
				bol = i + 1;
			}
		}
		m.column = utf8_count((const char *)buf + bol, end - bol);
		confyaml_errat(ld, &m, "the file is not valid UTF-8 (%s); "
		    "save it as UTF-8", p->problem ? p->problem : "bad byte");
		return;
	}
	if (p->context != NULL && *p->context != '\0')
		confyaml_errat(ld, &m, "YAML syntax error: %s (%s at line "
		    "%zu, column %zu)", p->problem ? p->problem :
		    "unknown problem",
		    p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	else
		confyaml_errat(ld, &m, "YAML syntax error: %s",
		    p->problem ? p->problem : "unknown problem");
}

static int
read_file(struct loader *ld, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	FILE *f;
	int bad;

	if ((f = fopen(ld->path, "re")) == NULL) {
		confyaml_errat(ld, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	if ((buf = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		fclose(f);
		ld->oom = 1;
		return -1;
	}
	*outlen = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	if ((bad = ferror(f)))
		confyaml_errat(ld, NULL, "cannot read: %s", strerror(errno));
	else if ((bad = *outlen > CONFIG_FILE_MAX))
		confyaml_errat(ld, NULL, "the file is larger than %d bytes; "
		    "is it the right file?", CONFIG_FILE_MAX);
	fclose(f);
	if (bad) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/*
 * Parse BUF into ld->doc: exactly one document, else say why.  EMPTY says
 * what the file should have held.
 */
static yaml_node_t *
parse_one(struct loader *ld, const unsigned char *buf, size_t len,
    const char *empty)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root;
	yaml_mark_t top = { 0, 0, 0 };

	if (!yaml_parser_initialize(&parser)) {
		ld->oom = 1;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &ld->doc)) {
		syntax_error(ld, &parser, buf, len);
		yaml_parser_delete(&parser);
		return NULL;
	}
	ld->loaded = 1;
	if (!yaml_parser_load(&parser, &extra))
		syntax_error(ld, &parser, buf, len);
	else {
		if (yaml_document_get_root_node(&extra) != NULL)
			confyaml_errat(ld, &extra.start_mark, "a second YAML "
			    "document; the file must hold exactly one (remove "
			    "this '---')");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	if ((root = yaml_document_get_root_node(&ld->doc)) == NULL)
		confyaml_errat(ld, &top, "%s", empty);
	return root;
}

yaml_node_t *
confyaml_load(struct loader *ld)
{
	yaml_node_t *root;
	unsigned char *buf = NULL;
	size_t len = 0;

	if (read_file(ld, &buf, &len) == -1)
		return NULL;
	root = parse_one(ld, buf, len, "the file holds no settings; expected "
	    "listen:, state_dir:, plugin_dir:, public_url:, offices:, "
	    "people:, duty: and channels:");
	/* The document holds copies of the scalars, not pointers into buf. */
	free(buf);
	return root;
}


yaml_node_t *
confyaml_include(struct loader *ld, yaml_node_t *n, const char *key,
    struct loader *sub)
{
	const char *s, *slash;
	unsigned char *buf = NULL;
	yaml_node_t *root;
	char *path, empty[160];
	size_t len = 0;
	int dirlen;

	memset(sub, 0, sizeof(*sub));
	sub->cf = ld->cf;
	if ((s = confyaml_scalar(ld, n, key, "")) == NULL)
		return NULL;
	slash = strrchr(ld->path, '/');
	dirlen = s[0] == '/' || slash == NULL ? 0 :
	    (int)(slash - ld->path + 1);
	if (strlen(s) > PATH_MAX || asprintf(&path, "%.*s%s", dirlen,
	    ld->path, s) == -1) {
		confyaml_errat(ld, &n->start_mark, "the file name for '%s' is "
		    "too long", key);
		return NULL;
	}
	sub->path = path;
	if (access(path, R_OK) == -1) {
		confyaml_errat(ld, &n->start_mark, "cannot read %s, the file "
		    "named by '%s': %s; a relative path is taken from the "
		    "directory of %s", path, key, strerror(errno), ld->path);
		return NULL;
	}
	if (read_file(sub, &buf, &len) == -1)
		return NULL;
	if (snprintf(empty, sizeof(empty), "the file is empty; it should hold "
	    "the '%s' settings", key) >= (int)sizeof(empty))
		empty[sizeof(empty) - 1] = '\0';
	root = parse_one(sub, buf, len, empty);
	free(buf);
	return root;
}

void
confyaml_include_end(struct loader *ld, const yaml_mark_t *at,
    struct loader *sub)
{
	size_t i;

	if (sub->loaded)
		yaml_document_delete(&sub->doc);
	if (sub->oom)
		ld->oom = 1;
	if (sub->nlines > 1)
		qsort(sub->lines, sub->nlines, sizeof(*sub->lines),
		    diagline_cmp);
	for (i = 0; i < sub->nlines; i++)
		diag_push(ld, at->line + 1, at->column + 1,
		    sub->lines[i].text);
	ld->nwarnings += sub->nwarnings;
	free(sub->lines);
	free((char *)sub->path);
	memset(sub, 0, sizeof(*sub));
}

int
confyaml_finish(struct loader *ld, struct config_diag *diag)
{
	int rc;

	if (ld->loaded)
		yaml_document_delete(&ld->doc);
	ld->loaded = 0;
	if (ld->oom)
		confyaml_errat(ld, NULL, "out of memory while loading the "
		    "configuration");
	rc = ld->oom ? -ENOMEM : ld->nlines > ld->nwarnings ? -EINVAL : 0;
	diag_flush(ld, diag);
	return rc;
}

const char *
confyaml_id(struct loader *ld, yaml_node_t *n, const char *what,
    const char *ctx)
{
	const char *s;

	if ((s = confyaml_scalar(ld, n, "id", ctx)) == NULL)
		return NULL;
	if (!confval_id(s)) {
		confyaml_errat(ld, &n->start_mark, "invalid %s id '%s': use 1 "
		    "to %d of the characters A-Z a-z 0-9 _ . -", what, s,
		    CONFVAL_ID_MAX);
		return NULL;
	}
	return s;
}

const char *
confyaml_name(struct loader *ld, yaml_node_t *n, const char *who,
    const char *ctx)
{
	const char *s;
	size_t len;

	if ((s = confyaml_scalar(ld, n, "name", ctx)) == NULL)
		return NULL;
	if ((len = utf8_length(s)) > CONFVAL_NAME_MAX) {
		confyaml_errat(ld, &n->start_mark, "name of %s is too long "
		    "(%zu characters); at most %d", who, len, CONFVAL_NAME_MAX);
		return NULL;
	}
	return s;
}

const char *
confyaml_token(struct loader *ld, yaml_node_t *n, const char *who,
    const char *ctx)
{
	const char *s;
	size_t len;

	if ((s = confyaml_scalar(ld, n, "token", ctx)) == NULL)
		return NULL;
	if (!confval_visible(s)) {
		confyaml_errat(ld, &n->start_mark, "token of %s contains "
		    "whitespace or control characters", who);
		return NULL;
	}
	if ((len = strlen(s)) < CONFVAL_TOKEN_MIN) {
		confyaml_errat(ld, &n->start_mark, "token of %s is too short "
		    "(%zu bytes); use at least %d, e.g. the output of "
		    "`openssl rand -hex 16`", who, len, CONFVAL_TOKEN_MIN);
		return NULL;
	}
	return s;
}

int
confyaml_duration(struct loader *ld, yaml_node_t *n, const char *key,
    const char *ctx, int64_t *ms)
{
	const char *s, *why = NULL;

	if ((s = confyaml_scalar(ld, n, key, ctx)) == NULL)
		return -1;
	if (duration_parse(s, ms, &why) < 0) {
		confyaml_errat(ld, &n->start_mark, "invalid duration '%s' for "
		    "'%s'%s: %s", s, key, ctx,
		    why ? why : "write e.g. 90s, 20m or 1h30m");
		return -1;
	}
	if (*ms <= 0) {
		confyaml_errat(ld, &n->start_mark, "'%s'%s must be longer than "
		    "zero", key, ctx);
		return -1;
	}
	return 0;
}
