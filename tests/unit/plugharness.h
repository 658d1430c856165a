/*
 * What the channel plugin tests share: a plugin loaded the way dutyd loads
 * it, options it must take or refuse, a message to build from, a response
 * to read, and the name/value lists requests are decoded into.
 *
 * Header-only, static inline: a test that does not use a helper does not
 * warn about it.  Include after <cmocka.h> and what it needs.
 */
#ifndef PLUGHARNESS_H
#define PLUGHARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/channel.h"

#define PLUG_NOW_MS	1795855235123LL	/* 2026-11-28T08:40:35.123Z */
#define PLUG_DELIVERY	"d-7f3a9c-2"
#define PLUG_FIELDS_MAX	32

/* BUILD_PLUGIN_DIR/name.so, or NULL with the reason on stderr. */
static inline const struct dutyd_plugin *
plug_open(const char *name, struct channel_plugin **cp)
{
	char err[512];

	if (channel_plugin_open(BUILD_PLUGIN_DIR, name, cp, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return channel_plugin_abi(*cp);
}

static inline void
assert_contains(const char *hay, const char *needle)
{
	if (hay == NULL || strstr(hay, needle) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", needle,
		    hay ? hay : "(null)");
}

static inline void *
plug_configure_ok(const struct dutyd_plugin *p,
    const struct dutyd_option *opts, size_t n)
{
	struct dutyd_error err = { .option = 42, .message = "" };
	void *state = NULL;
	int r;

	r = p->configure(opts, n, &state, &err);
	if (r != 0)
		fail_msg("%s configure: %d: option %d: %s", p->name, r,
		    err.option, err.message);
	assert_non_null(state);
	return state;
}

/* Expects a refusal that points at option `idx` and says `words`. */
static inline void
plug_configure_bad(const struct dutyd_plugin *p,
    const struct dutyd_option *opts, size_t n, int idx, const char *words)
{
	struct dutyd_error err = { .option = 42, .message = "" };
	void *state = (void *)1;

	assert_int_equal(p->configure(opts, n, &state, &err), -EINVAL);
	assert_null(state);
	if (err.option != idx)
		fail_msg("%s: error at option %d, expected %d: %s", p->name,
		    err.option, idx, err.message);
	assert_contains(err.message, words);
}

/* good, but option idx has value: expects a refusal there that says words. */
static inline void
plug_configure_bad_value(const struct dutyd_plugin *p,
    const struct dutyd_option *good, size_t n, size_t idx, const char *value,
    const char *words)
{
	struct dutyd_option opts[16];

	assert_true(n <= sizeof(opts) / sizeof(opts[0]) && idx < n);
	memcpy(opts, good, n * sizeof(opts[0]));
	opts[idx].value = value;
	plug_configure_bad(p, opts, n, (int)idx, words);
}

/* The value of header `name` in req, NULL if it has none. */
static inline const char *
plug_header(const struct dutyd_request *req, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < req->nheaders; i++)
		if (strncmp(req->headers[i], name, n) == 0 &&
		    req->headers[i][n] == ':')
			return req->headers[i] + n + 2;
	return NULL;
}

/* A new incident for the n people in r, as the daemon hands it over. */
static inline void
plug_message(struct dutyd_message *m, const char *incident, const char *title,
    const char *text, const char *url, const struct dutyd_recipient *r,
    size_t n)
{
	memset(m, 0, sizeof(*m));
	m->event = "incident.new";
	m->delivery_id = PLUG_DELIVERY;
	m->incident_json = incident;
	m->title = title;
	m->text = text;
	m->url = url;
	m->recipient = r[0];
	m->recipients = r;
	m->nrecipients = n;
	m->now_ms = PLUG_NOW_MS;
}

/* Configures p, builds m into req (which owns its memory): build()'s answer. */
static inline int
plug_build(const struct dutyd_plugin *p, const struct dutyd_option *opts,
    size_t n, const struct dutyd_message *m, struct dutyd_request *req)
{
	void *state = plug_configure_ok(p, opts, n);
	int r;

	memset(req, 0, sizeof(*req));
	r = p->build(state, m, req);
	p->release(state);
	return r;
}

/* Expects build() to refuse m as input it cannot carry, and to leak nothing. */
static inline void
plug_build_refused(const struct dutyd_plugin *p, void *state,
    const struct dutyd_message *m)
{
	struct dutyd_request req;

	memset(&req, 0, sizeof(req));
	assert_int_equal(p->build(state, m, &req), -EINVAL);
	channel_request_clear(&req);	/* what build() left behind */
}

/* A response as the daemon passes it on; body NULL: none came. */
static inline struct dutyd_response
plug_response(long status, const char *error, const char *body,
    int64_t retry_after_ms)
{
	struct dutyd_response resp;

	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	resp.error = error;
	resp.body = body ? body : "";
	resp.body_len = body ? strlen(body) : 0;
	resp.retry_after_ms = retry_after_ms;
	return resp;
}

/*
 * p's reading of a response, into a result filled with garbage first: a
 * field the plugin does not set shows.  Checks what holds for every plugin.
 */
static inline struct dutyd_result
plug_parse(const struct dutyd_plugin *p, long status, const char *error,
    const char *body, int64_t retry_after_ms)
{
	struct dutyd_response resp = plug_response(status, error, body,
	    retry_after_ms);
	struct dutyd_result res;

	memset(&res, 0x5a, sizeof(res));
	res.detail[sizeof(res.detail) - 1] = '\0';
	assert_int_equal(p->parse(NULL, &resp, &res), 0);
	assert_non_null(memchr(res.detail, '\0', sizeof(res.detail)));
	if (res.outcome != DUTYD_RETRY)
		assert_int_equal(res.retry_after_ms, 0);
	return res;
}

/* data/vectors.json, the vendors' signature examples; NULL: stderr says why. */
static inline json_t *
plug_vectors(void)
{
	json_error_t jerr;
	json_t *v;

	if ((v = json_load_file(TEST_SRC_DIR "/data/vectors.json", 0,
	    &jerr)) == NULL)
		fprintf(stderr, "vectors.json: %s\n", jerr.text);
	return v;
}

/* The string at group.key in vectors; there must be one. */
static inline const char *
plug_vector(json_t *vectors, const char *group, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(
	    vectors, group), key));

	if (s == NULL)
		fail_msg("vectors.json has no %s.%s", group, key);
	return s;
}

/* Names and values decoded from a request: form fields, mail headers. */
struct plug_fields {
	int	 nocase;	/* names match in any case (mail headers) */
	size_t	 n;
	char	*name[PLUG_FIELDS_MAX];
	char	*value[PLUG_FIELDS_MAX];
};

/* Takes both strings, malloc()ed. */
static inline void
plug_fields_add(struct plug_fields *f, char *name, char *value)
{
	assert_non_null(name);
	assert_non_null(value);
	assert_true(f->n < PLUG_FIELDS_MAX);
	f->name[f->n] = name;
	f->value[f->n] = value;
	f->n++;
}

/* The one value of `name`; fails if there is none, or more than one. */
static inline const char *
plug_fields_get(const struct plug_fields *f, const char *name)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < f->n; i++)
		if ((f->nocase ? strcasecmp(f->name[i], name) :
		    strcmp(f->name[i], name)) == 0) {
			if (v != NULL)
				fail_msg("%s is there twice", name);
			v = f->value[i];
		}
	if (v == NULL)
		fail_msg("%s is not there", name);
	return v;
}

static inline void
plug_fields_free(struct plug_fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	f->n = 0;
}

#endif
