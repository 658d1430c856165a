/*
 * Validation of what clients send: incident reports, staff action bodies and
 * idempotency keys.  Pure functions of bytes (no globals, clock or logging)
 * so that each can be fuzzed alone.
 *
 * Error messages end up in an HTTP reply read by a county duty officer, so
 * they name the field, say what was wrong and what is expected, and are
 * always valid UTF-8 (the reply is JSON).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/jfast.h"
#include "base/jwrite.h"
#include "parse/report.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#define REPORT_PHONE_MAX	32	/* bytes; phones are ASCII */
#define REPORT_COUNT_MAX	1000000
#define QUOTE_MAX		48	/* bytes of client text quoted */
#define TIME_EXAMPLE		"2026-11-28T14:05:00+08:00"

enum kind {
	K_TITLE,	/* text that must not be blank */
	K_TEXT,
	K_TIME,
	K_LEVEL,
	K_PHONE,
	K_COUNT,
	K_OBJECT,
	K_ID		/* an id from the configuration: office */
};

struct field {
	const char		*key;
	const char		*path;		/* err->field: dotted, static */
	enum kind		 kind;
	size_t			 max;		/* chars; phone: bytes; count */
	int			 required;
	const struct field	*members;	/* K_OBJECT */
};

static const struct field casualty_fields[] = {
	{ "dead", "casualties.dead", K_COUNT, REPORT_COUNT_MAX, 0, NULL },
	{ "injured", "casualties.injured", K_COUNT, REPORT_COUNT_MAX, 0, NULL },
	{ "missing", "casualties.missing", K_COUNT, REPORT_COUNT_MAX, 0, NULL },
	{ NULL, NULL, 0, 0, 0, NULL }
};

static const struct field reporter_fields[] = {
	{ "name", "reporter.name", K_TEXT, REPORT_SHORT_MAX, 0, NULL },
	{ "phone", "reporter.phone", K_PHONE, REPORT_PHONE_MAX, 0, NULL },
	{ NULL, NULL, 0, 0, 0, NULL }
};

#define REPORT_ID_MAX	64	/* bytes: ids are ASCII (config/confval.h) */

#define REPORT_FIELDS \
	{ "title", "title", K_TITLE, REPORT_TITLE_MAX, 1, NULL }, \
	{ "occurred_at", "occurred_at", K_TIME, 0, 1, NULL }, \
	{ "category", "category", K_TEXT, REPORT_SHORT_MAX, 0, NULL }, \
	{ "level", "level", K_LEVEL, 0, 0, NULL }, \
	{ "location", "location", K_TEXT, REPORT_TEXT_MAX, 0, NULL }, \
	{ "cause", "cause", K_TEXT, REPORT_TEXT_MAX, 0, NULL }, \
	{ "measures", "measures", K_TEXT, REPORT_TEXT_MAX, 0, NULL }, \
	{ "details", "details", K_TEXT, REPORT_DETAILS_MAX, 0, NULL }, \
	{ "casualties", "casualties", K_OBJECT, 0, 0, casualty_fields }, \
	{ "reporter", "reporter", K_OBJECT, 0, 0, reporter_fields }

/* Staff taking a report by phone say which office it is from. */
static const struct field phoned_fields[] = {
	{ "office", "office", K_ID, REPORT_ID_MAX, 1, NULL },
	REPORT_FIELDS,
	{ NULL, NULL, 0, 0, 0, NULL }
};

static const struct field report_fields[] = {
	REPORT_FIELDS,
	{ NULL, NULL, 0, 0, 0, NULL }
};

/* A follow-up (续报) says what changed: everything but what and when. */
static const struct field update_fields[] = {
	{ "level", "level", K_LEVEL, 0, 0, NULL },
	{ "location", "location", K_TEXT, REPORT_TEXT_MAX, 0, NULL },
	{ "cause", "cause", K_TEXT, REPORT_TEXT_MAX, 0, NULL },
	{ "measures", "measures", K_TEXT, REPORT_TEXT_MAX, 0, NULL },
	{ "details", "details", K_TEXT, REPORT_DETAILS_MAX, 0, NULL },
	{ "casualties", "casualties", K_OBJECT, 0, 0, casualty_fields },
	{ "reporter", "reporter", K_OBJECT, 0, 0, reporter_fields },
	{ NULL, NULL, 0, 0, 0, NULL }
};

static const char *const levels[] = { "I", "II", "III", "IV", NULL };
/* The same levels as counties write them: Roman numerals U+2160..U+2163, digits. */
static const char *const level_numerals[] = {
	"\xe2\x85\xa0", "\xe2\x85\xa1", "\xe2\x85\xa2", "\xe2\x85\xa3", NULL
};
static const char *const level_digits[] = { "1", "2", "3", "4", NULL };

/* 0..3 for a level as written (I..IV, Ⅰ..Ⅳ, "1".."4", 1..4), or -1. */
static int
level_index(const json_t *v)
{
	const char	*s;
	int		 k;

	if (json_is_integer(v))
		return json_integer_value(v) >= 1 && json_integer_value(v) <= 4 ?
		    (int)json_integer_value(v) - 1 : -1;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	for (k = 0; levels[k] != NULL; k++)
		if (strcmp(s, levels[k]) == 0 ||
		    strcmp(s, level_numerals[k]) == 0 ||
		    strcmp(s, level_digits[k]) == 0)
			return k;
	return -1;
}

/* White space a blank title may hold; U+3000 is what a Chinese IME types. */
static const char *const blanks[] = {
	" ", "\t", "\n", "\r", "\v", "\f",
	"\xc2\xa0",		/* U+00A0 no-break space */
	"\xe3\x80\x80",		/* U+3000 ideographic space */
	"\xe2\x80\x8b",		/* U+200B zero width space */
	"\xef\xbb\xbf",		/* U+FEFF byte order mark */
	NULL
};

/* Length of s cut to at most max bytes on a UTF-8 character boundary. */
static int
clip(const char *s, size_t max)
{
	return (int)utf8_cut(s, strlen(s), UTF8_NOCAP, max);
}

/*
 * A message cut by snprintf may end inside a UTF-8 sequence; the reply is
 * JSON, so drop that tail, and as a last resort any byte that is not ASCII.
 */
static void
tidy_utf8(char *msg)
{
	size_t	 n = strlen(msg), valid = utf8_span(msg, n);

	/* Less than a character left over: what snprintf left of one. */
	if (n - valid < 4) {
		msg[valid] = '\0';
		return;
	}
	for (; *msg != '\0'; msg++)
		if ((unsigned char)*msg >= 0x80)
			*msg = '?';
}

static void fail(struct report_error *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct report_error *err, const char *field, const char *fmt, ...)
{
	va_list	 ap;

	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	tidy_utf8(err->message);
	err->code = -EINVAL;
}

static void
fail_nomem(struct report_error *err)
{
	err->field = NULL;
	err->not_json = 0;
	snprintf(err->message, sizeof(err->message),
	    "dutyd ran out of memory while reading the body; try again");
	err->code = -ENOMEM;
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a whole number";
	case JSON_REAL:
		return "a decimal number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

static int
is_blank(const char *s)
{
	const char *const *b;
	size_t	 n;

	while (*s != '\0') {
		for (b = blanks; *b != NULL; b++) {
			n = strlen(*b);
			if (strncmp(s, *b, n) == 0)
				break;
		}
		if (*b == NULL)
			return 0;
		s += n;
	}
	return 1;
}

/* JSON white space only: an action body may be empty. */
static int
is_empty_body(const char *body, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", body[i]) == NULL || body[i] == '\0')
			return 0;
	return 1;
}

/* Append name to a ", "-separated list, for unknown-field messages. */
static void
list_add(char *buf, size_t len, const char *name)
{
	size_t	 off = strlen(buf);

	if (off < len)
		snprintf(buf + off, len - off, "%s%s", off ? ", " : "", name);
}

static void
list_fields(const struct field *fields, char *buf, size_t len)
{
	buf[0] = '\0';
	for (; fields->key != NULL; fields++)
		list_add(buf, len, fields->key);
}

/*
 * Parse the body into an object; NULL with *err filled otherwise.  *PLAIN
 * (when not NULL) says whether jfast parsed it: then every string and key
 * in it is plain (base/jwrite.h, JWRITE_PLAIN).
 */
static json_t *
load_object(const char *body, size_t len, int jansson_only, int *plain,
    struct report_error *err)
{
	json_error_t	 jerr;
	json_t		*root;
	char		 text[JSON_ERROR_TEXT_LENGTH];

	if (len > REPORT_BODY_MAX) {
		fail(err, NULL, "the body is %zu bytes; it may be at most %d "
		    "bytes: shorten the details", len, REPORT_BODY_MAX);
		return NULL;
	}
	if (is_empty_body(body, len)) {
		err->not_json = 1;
		fail(err, NULL, "the body is empty; send a JSON object");
		return NULL;
	}
	if (plain != NULL)
		*plain = 0;
	if (!jansson_only && (root = jfast_load(body, len)) != NULL) {
		if (plain != NULL)
			*plain = 1;
		return root;
	}
	/* Let \u0000 in strings through: the error can then name the field. */
	root = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		snprintf(text, sizeof(text), "%s", jerr.text);
		switch (json_error_code(&jerr)) {
		case json_error_out_of_memory:
			fail_nomem(err);
			break;
		case json_error_duplicate_key:
			fail(err, NULL, "the body names a field twice (%s at "
			    "line %d column %d); send each field once", text,
			    jerr.line, jerr.column);
			break;
		default:
			err->not_json = 1;
			fail(err, NULL, "body is not valid JSON: %s at line %d "
			    "column %d", text, jerr.line, jerr.column);
			break;
		}
		return NULL;
	}
	if (!json_is_object(root)) {
		fail(err, NULL, "the body must be a JSON object, like "
		    "{\"title\": \"...\"}, not %s", type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/*
 * Code points of a string jansson holds (valid UTF-8: its parsers and
 * jfast check): the bytes that do not continue a character.  What
 * utf8_length() counts, without decoding each character.
 */
static size_t
count_chars(const char *s, size_t len)
{
	size_t	 i, n = len;

	for (i = 0; i < len; i++)
		n -= ((unsigned char)s[i] & 0xc0) == 0x80;
	return n;
}

/*
 * A string without NUL, at most max code points; 0 or -1 with *err filled.
 * EXPECT (what the message says is wanted) is read only when V is not a
 * string.
 */
static int
check_string(const json_t *v, const char *path, const char *expect,
    size_t max, struct report_error *err)
{
	const char	*s;
	size_t		 n;

	if (!json_is_string(v)) {
		fail(err, path, "%s must be a string (%s), not %s", path,
		    expect, type_name(v));
		return -1;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		fail(err, path, "%s contains a NUL character (\\u0000); "
		    "remove it", path);
		return -1;
	}
	/* No more bytes than allowed characters: no need to count them. */
	if (max > 0 && json_string_length(v) > max &&
	    (n = count_chars(s, json_string_length(v))) > max) {
		fail(err, path, "%s is %zu characters long; shorten it to at "
		    "most %zu", path, n, max);
		return -1;
	}
	return 0;
}

static int
check_value(const json_t *v, const struct field *f, int64_t *ms,
    struct report_error *err)
{
	const char	*s;
	char		 expect[96];
	json_int_t	 i;
	size_t		 k;
	int		 rc;

	switch (f->kind) {
	case K_TITLE:
	case K_TEXT:
		/* check_string() words what it expects only for a non-string. */
		if (json_is_string(v)) {
			if (check_string(v, f->path, NULL, f->max, err) == -1)
				return -1;
			if (f->kind == K_TEXT || !is_blank(json_string_value(v)))
				return 0;
		}
		if (f->kind == K_TITLE)
			snprintf(expect, sizeof(expect), "1 to %zu characters "
			    "saying what happened", f->max);
		else
			snprintf(expect, sizeof(expect), "at most %zu "
			    "characters", f->max);
		if (!json_is_string(v))
			return check_string(v, f->path, expect, f->max, err);
		fail(err, f->path, "%s is blank; write %s", f->path, expect);
		return -1;
	case K_TIME:
		if (check_string(v, f->path, "an RFC 3339 time with offset, "
		    "e.g. " TIME_EXAMPLE, 0, err) == -1)
			return -1;
		s = json_string_value(v);
		rc = time_parse(s, ms);
		/* Before 1970 is a typo, not an incident anyone reports now. */
		if (rc == -ERANGE || (rc == 0 && *ms < 0)) {
			fail(err, f->path, "%s must be a time between the years "
			    "1970 and 9999, e.g. " TIME_EXAMPLE "; got \"%.*s\"",
			    f->path, clip(s, QUOTE_MAX), s);
			return -1;
		}
		if (rc != 0) {
			fail(err, f->path, "%s must be an RFC 3339 time with "
			    "offset, e.g. " TIME_EXAMPLE "; got \"%.*s\"",
			    f->path, clip(s, QUOTE_MAX), s);
			return -1;
		}
		return 0;
	case K_LEVEL:
		if (level_index(v) >= 0)
			return 0;
		if (!json_is_string(v)) {
			fail(err, f->path, "%s must be one of \"I\", \"II\", "
			    "\"III\", \"IV\" (or 1 to 4), not %s", f->path,
			    type_name(v));
			return -1;
		}
		if (check_string(v, f->path, "\"I\", \"II\", \"III\" or "
		    "\"IV\"", 0, err) == -1)
			return -1;
		s = json_string_value(v);
		fail(err, f->path, "%s must be one of \"I\", \"II\", \"III\", "
		    "\"IV\" (Ⅰ to Ⅳ, or 1 to 4, are read the same); got "
		    "\"%.*s\"", f->path, clip(s, QUOTE_MAX), s);
		return -1;
	case K_ID:
		if (check_string(v, f->path, "an office id such as county-a", 0,
		    err) == -1)
			return -1;
		s = json_string_value(v);
		k = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_.-");
		if (k == 0 || k > f->max || s[k] != '\0') {
			fail(err, f->path, "%s must be an office's id from the "
			    "configuration, such as county-a; got \"%.*s\"",
			    f->path, clip(s, QUOTE_MAX), s);
			return -1;
		}
		return 0;
	case K_PHONE:
		if (check_string(v, f->path, "a phone number", 0, err) == -1)
			return -1;
		s = json_string_value(v);
		if (strlen(s) > f->max || strspn(s, "0123456789 +-()") !=
		    strlen(s) || strpbrk(s, "0123456789") == NULL) {
			fail(err, f->path, "%s must be a phone number: at "
			    "most %zu characters, only digits, spaces and "
			    "+ - ( ); got \"%.*s\"", f->path, f->max,
			    clip(s, QUOTE_MAX), s);
			return -1;
		}
		return 0;
	case K_COUNT:
		if (!json_is_integer(v)) {
			fail(err, f->path, "%s must be a whole number from 0 "
			    "to %zu, without quotes or decimals; got %s",
			    f->path, f->max, type_name(v));
			return -1;
		}
		i = json_integer_value(v);
		if (i < 0 || (json_int_t)f->max < i) {
			fail(err, f->path, "%s must be a whole number from 0 "
			    "to %zu; got %" JSON_INTEGER_FORMAT, f->path,
			    f->max, i);
			return -1;
		}
		return 0;
	case K_OBJECT:
		break;
	}
	return -1;
}

/*
 * 1 when IN is what copy_fields() would build from it: only known members,
 * none null, in the table's order, a level spelled I..IV, and the same for
 * the objects in it.  The tree parsed is then the report as it is.
 */
static int
in_table_order(const json_t *in, const struct field *fields)
{
	const struct field	*f = fields;
	const char		*key;
	json_t			*v;
	int			 k;

	json_object_foreach((json_t *)in, key, v) {
		while (f->key != NULL && strcmp(f->key, key) != 0)
			f++;
		if (f->key == NULL || json_is_null(v))
			return 0;
		if (f->kind == K_LEVEL && (!json_is_string(v) ||
		    (k = level_index(v)) < 0 ||
		    strcmp(json_string_value(v), levels[k]) != 0))
			return 0;
		if (f->kind == K_OBJECT && (!json_is_object(v) ||
		    !in_table_order(v, f->members)))
			return 0;
		f++;
	}
	return 1;
}

/*
 * Copy the known, non-null members of `in` into `out`, checking each
 * (`out` NULL: only checking, `in` being in_table_order(), so that its
 * members are met in the table's order, without looking each up; none
 * is unknown).  path names `in` in errors (NULL: the body).
 */
static int
copy_fields(const json_t *in, const struct field *fields, const char *path,
    json_t *out, int64_t *ms, struct report_error *err)
{
	const struct field *f;
	const char	*key;
	json_t		*v, *sub;
	char		 known[160];
	void		*it = out == NULL ? json_object_iter((json_t *)in) : NULL;

	/* Unknown members; none when only checking (in_table_order()). */
	if (out != NULL)
	json_object_foreach((json_t *)in, key, v) {
		for (f = fields; f->key != NULL; f++)
			if (strcmp(key, f->key) == 0)
				break;
		if (f->key == NULL && path == NULL && strcmp(key, "office") == 0) {
			fail(err, "office", "unknown field \"office\": an office "
			    "token already says which office reports; office is "
			    "for reports duty staff take by phone, sent with a "
			    "person's token");
			return -1;
		}
		if (f->key == NULL) {
			list_fields(fields, known, sizeof(known));
			fail(err, path, "unknown field \"%.*s\"%s%s; the known "
			    "fields%s%s are: %s", clip(key, QUOTE_MAX), key,
			    path ? " in " : "", path ? path : "",
			    path ? " of " : "", path ? path : "", known);
			return -1;
		}
	}
	for (f = fields; f->key != NULL; f++) {
		if (out != NULL)
			v = json_object_get(in, f->key);
		else if (it != NULL && strcmp(json_object_iter_key(it),
		    f->key) == 0) {
			v = json_object_iter_value(it);
			it = json_object_iter_next((json_t *)in, it);
		} else
			v = NULL;
		if (v == NULL || json_is_null(v)) {
			if (f->required) {
				fail(err, f->path, "%s is missing; every "
				    "report %s", f->path,
				    f->kind == K_TIME ? "needs occurred_at, when it "
				    "happened, e.g. " TIME_EXAMPLE :
				    f->kind == K_ID ? "taken by phone names the "
				    "office it is from (its id, e.g. county-a)" :
				    "needs a title saying what happened");
				return -1;
			}
			continue;
		}
		if (f->kind == K_OBJECT) {
			if (!json_is_object(v)) {
				list_fields(f->members, known, sizeof(known));
				fail(err, f->path, "%s must be an object with "
				    "any of the fields %s, not %s", f->path,
				    known, type_name(v));
				return -1;
			}
			if (out == NULL) {
				if (copy_fields(v, f->members, f->path, NULL,
				    ms, err) == -1)
					return -1;
				continue;
			}
			if ((sub = json_object()) == NULL) {
				fail_nomem(err);
				return -1;
			}
			if (copy_fields(v, f->members, f->path, sub, ms,
			    err) == -1) {
				json_decref(sub);
				return -1;
			}
			if (json_object_set_new(out, f->key, sub) == -1) {
				fail_nomem(err);
				return -1;
			}
			continue;
		}
		if (check_value(v, f, ms, err) == -1)
			return -1;
		if (out == NULL)
			continue;
		/* One spelling of a level, whatever the county typed. */
		if (f->kind == K_LEVEL ? json_object_set_new(out, f->key,
		    json_string(levels[level_index(v)])) == -1 :
		    json_object_set(out, f->key, v) == -1) {
			fail_nomem(err);
			return -1;
		}
	}
	return 0;
}

json_t *
report_parse(const char *body, size_t len, int64_t *occurred_ms,
    struct report_error *err)
{
	return report_parse_opts(body, len, 0, 0, occurred_ms, err);
}

/* *PLAIN: as load_object() says, for report_dump_flags(). */
static json_t *
report_parse_plain(const char *body, size_t len, int64_t now_ms,
    unsigned flags, int64_t *occurred_ms, int *plain, struct report_error *err)
{
	struct report_error scratch;
	const struct field *fields;
	json_t		*root, *out;
	int64_t		 ms = 0;
	const char	*s;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if ((root = load_object(body, len, flags & REPORT_JANSSON, plain,
	    err)) == NULL)
		return NULL;
	fields = flags & REPORT_PHONED ? phoned_fields : report_fields;
	/* Sent as it would be kept (the usual case): checked, not copied. */
	if (!(flags & REPORT_COPY) && in_table_order(root, fields)) {
		if (copy_fields(root, fields, NULL, NULL, &ms, err) == -1) {
			json_decref(root);
			return NULL;
		}
		out = root;
	} else {
		if ((out = json_object()) == NULL) {
			fail_nomem(err);
			json_decref(root);
			return NULL;
		}
		if (copy_fields(root, fields, NULL, out, &ms, err) == -1) {
			json_decref(out);
			json_decref(root);
			return NULL;
		}
		json_decref(root);
	}
	/* A clock set wrong, or a day or an offset mistyped: not the future. */
	if (now_ms != 0 && ms > now_ms + REPORT_FUTURE_SLACK_MS) {
		s = json_string_value(json_object_get(out, "occurred_at"));
		fail(err, "occurred_at", "occurred_at \"%.*s\" is %lld minutes "
		    "in the future; it must be when the incident happened: "
		    "check the date, the time and the offset (+08:00 for "
		    "Beijing time)", clip(s, QUOTE_MAX), s,
		    (long long)((ms - now_ms) / 60000));
		json_decref(out);
		return NULL;
	}
	if (occurred_ms != NULL)
		*occurred_ms = ms;
	return out;
}

json_t *
report_parse_opts(const char *body, size_t len, int64_t now_ms, unsigned flags,
    int64_t *occurred_ms, struct report_error *err)
{
	return report_parse_plain(body, len, now_ms, flags, occurred_ms, NULL,
	    err);
}

/* NAME's index in the NULL-terminated LIST (which may be NULL), or -1. */
static int
report_field_index(const char *const *list, const char *name)
{
	int i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0)
			return i;
	return -1;
}

json_t *
report_parse_action_n(const char *body, size_t len, const char *const *fields,
    const char *const *numbers, struct report_error *err)
{
	struct report_error scratch;
	json_t		*root, *out, *v;
	const char	*key;
	char		 known[160], expect[48];
	size_t		 i;
	int		 n, num;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (len == 0 || is_empty_body(body, len)) {
		if ((out = json_object()) == NULL)
			fail_nomem(err);
		return out;
	}
	if ((root = load_object(body, len, 0, NULL, err)) == NULL)
		return NULL;
	if ((out = json_object()) == NULL) {
		fail_nomem(err);
		goto fail;
	}
	snprintf(expect, sizeof(expect), "at most %d characters",
	    REPORT_NOTE_MAX);
	json_object_foreach(root, key, v) {
		num = (n = report_field_index(numbers, key)) >= 0;
		if (!num && (n = report_field_index(fields, key)) < 0) {
			known[0] = '\0';
			for (i = 0; fields != NULL && fields[i] != NULL; i++)
				list_add(known, sizeof(known), fields[i]);
			for (i = 0; numbers != NULL && numbers[i] != NULL; i++)
				list_add(known, sizeof(known), numbers[i]);
			fail(err, NULL, known[0] == '\0' ? "unknown field "
			    "\"%.*s\"; this action takes no fields: send an "
			    "empty body%s" : "unknown field \"%.*s\"; the known "
			    "fields are: %s", clip(key, QUOTE_MAX), key, known);
			goto fail;
		}
		if (json_is_null(v))
			continue;
		/* err->field points into the caller's list: it outlives err. */
		if (num && (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > INT_MAX)) {
			fail(err, numbers[n], "%s must be a whole number from "
			    "0 to %d", numbers[n], INT_MAX);
			goto fail;
		}
		if (!num && check_string(v, fields[n], expect,
		    REPORT_NOTE_MAX, err) == -1)
			goto fail;
		if (json_object_set(out, key, v) == -1) {
			fail_nomem(err);
			goto fail;
		}
	}
	json_decref(root);
	return out;
fail:
	json_decref(out);
	json_decref(root);
	return NULL;
}

int
report_check_idempotency_key(const char *key)
{
	size_t	 i;

	if (key == NULL || key[0] == '\0')
		return -EINVAL;
	for (i = 0; key[i] != '\0'; i++) {
		if (i >= IDEMPOTENCY_KEY_MAX)
			return -EINVAL;
		if ((unsigned char)key[i] < 0x21 ||
		    (unsigned char)key[i] > 0x7e)
			return -EINVAL;
	}
	return 0;
}

json_t *
report_parse_update(const char *body, size_t len, struct report_error *err)
{
	struct report_error scratch;
	json_t		*root, *out;
	char		 known[160];

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if ((root = load_object(body, len, 0, NULL, err)) == NULL)
		return NULL;
	if ((out = json_object()) == NULL) {
		fail_nomem(err);
		json_decref(root);
		return NULL;
	}
	if (copy_fields(root, update_fields, NULL, out, NULL, err) == -1) {
		json_decref(out);
		json_decref(root);
		return NULL;
	}
	json_decref(root);
	if (json_object_size(out) == 0) {
		list_fields(update_fields, known, sizeof(known));
		fail(err, NULL, "a follow-up needs at least one of: %s", known);
		json_decref(out);
		return NULL;
	}
	return out;
}

/*
 * report_dump(): the raw text written once by jwrite (jansson's bytes,
 * without its walk of every character); the canonical one copied from it,
 * member by member in the order of their keys, each member's text written
 * anew only where its value holds an object whose keys are not in order.
 */
#define DUMP_MEMBERS_MAX	32

struct dump_member {
	const char	*key;
	json_t		*value;
	size_t		 off, len;	/* "key":value in the raw text */
};

static int
dump_by_key(const void *a, const void *b)
{
	const struct dump_member *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* 1 when V's objects, at every depth, have their keys in sorted order. */
static int
dump_sorted(const json_t *v, int depth)
{
	const char	*key, *last = NULL;
	json_t		*m;
	size_t		 i, klen;

	if (depth > 8)
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			if (!dump_sorted(m, depth + 1))
				return 0;
		return 1;
	}
	if (!json_is_object(v))
		return 1;
	json_object_keylen_foreach((json_t *)v, key, klen, m) {
		if (strlen(key) != klen || (last != NULL &&
		    strcmp(last, key) >= 0) || !dump_sorted(m, depth + 1))
			return 0;
		last = key;
	}
	return 1;
}

/* w's text handed over as a malloc'd string; -ENOMEM if it failed. */
static int
dump_take(struct jwrite *w, char **text, size_t *len)
{
	if (w->failed || w->p == NULL) {
		free(w->p);
		return -ENOMEM;
	}
	*text = w->p;
	*len = w->len;
	return 0;
}

/*
 * FLAGS: JWRITE_PLAIN when jfast parsed the body REPORT was checked from
 * (copy_fields() adds only a level's spelling, plain too).
 */
static int
report_dump_flags(const json_t *report, unsigned flags, char **raw,
    size_t *rawlen, char **canon, size_t *canonlen)
{
	struct dump_member	 mem[DUMP_MEMBERS_MAX], tmp;
	struct jwrite		 w, c;
	const char		*key;
	json_t			*v, *copy;
	size_t			 n = 0, i, k, klen;

	*raw = *canon = NULL;
	*rawlen = *canonlen = 0;
	if (!json_is_object(report) ||
	    json_object_size(report) > DUMP_MEMBERS_MAX)
		goto slow;
	memset(&w, 0, sizeof(w));
	jwrite_bytes(&w, "{", 1);
	json_object_keylen_foreach((json_t *)report, key, klen, v) {
		/* A key with a NUL sorts otherwise than by strcmp(). */
		if (strlen(key) != klen) {
			free(w.p);
			goto slow;
		}
		if (n > 0)
			jwrite_bytes(&w, ",", 1);
		mem[n].key = key;
		mem[n].value = v;
		mem[n].off = w.len;
		jwrite_string(&w, key, klen);
		jwrite_bytes(&w, ":", 1);
		jwrite_value(&w, v, flags);
		mem[n].len = w.len - mem[n].off;
		n++;
	}
	jwrite_bytes(&w, "}", 1);
	if (dump_take(&w, raw, rawlen) != 0)
		return -ENOMEM;
	/* A few members, mostly in order: qsort() cost a tenth of the dump. */
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && dump_by_key(&mem[k - 1], &mem[k]) > 0; k--) {
			tmp = mem[k];
			mem[k] = mem[k - 1];
			mem[k - 1] = tmp;
		}
	memset(&c, 0, sizeof(c));
	c.cap = *rawlen + 1;
	if ((c.p = malloc(c.cap)) == NULL)
		c.failed = 1;
	jwrite_bytes(&c, "{", 1);
	for (i = 0; i < n; i++) {
		if (strcmp(mem[i].key, "occurred_at") == 0)
			continue;
		if (c.len > 1)
			jwrite_bytes(&c, ",", 1);
		/* Nested objects are sorted too in the canonical text. */
		if (dump_sorted(mem[i].value, 0))
			jwrite_bytes(&c, *raw + mem[i].off, mem[i].len);
		else {
			jwrite_string(&c, mem[i].key, strlen(mem[i].key));
			jwrite_bytes(&c, ":", 1);
			jwrite_value(&c, mem[i].value, JWRITE_SORT | flags);
		}
	}
	jwrite_bytes(&c, "}", 1);
	if (dump_take(&c, canon, canonlen) != 0) {
		free(*raw);
		*raw = NULL;
		*rawlen = 0;
		return -ENOMEM;
	}
	return 0;
slow:
	/* The general way, for what the fast one does not handle. */
	if ((copy = json_copy((json_t *)report)) == NULL)
		return -ENOMEM;
	json_object_del(copy, "occurred_at");
	*canon = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	*raw = json_dumps(report, JSON_COMPACT | JSON_ENCODE_ANY);
	if (*raw == NULL || *canon == NULL) {
		free(*raw);
		free(*canon);
		*raw = *canon = NULL;
		return -ENOMEM;
	}
	*rawlen = strlen(*raw);
	*canonlen = strlen(*canon);
	return 0;
}

int
report_dump(const json_t *report, char **raw, size_t *rawlen, char **canon,
    size_t *canonlen)
{
	return report_dump_flags(report, 0, raw, rawlen, canon, canonlen);
}

int
report_parse_dump(const char *body, size_t len, int64_t now_ms, unsigned flags,
    int64_t *occurred_ms, struct report_error *err, json_t **report,
    struct report_text *text)
{
	int	 plain = 0;

	memset(text, 0, sizeof(*text));
	if ((*report = report_parse_plain(body, len, now_ms, flags, occurred_ms,
	    &plain, err)) == NULL)
		return -EINVAL;
	/* A report read by jfast: its 864 bytes of details not checked twice. */
	if (report_dump_flags(*report, plain ? JWRITE_PLAIN : 0, &text->raw,
	    &text->rawlen, &text->canon, &text->canonlen) != 0) {
		json_decref(*report);
		*report = NULL;
		return -ENOMEM;
	}
	return 0;
}
