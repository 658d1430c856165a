/*
 * HTTP requests from a byte stream (see httpreq.h).  http-parser frames
 * them; its callbacks collect the request here, under caps, and pause it
 * at each event so the connection can arm its timers and answer in order.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "parse/httpreq.h"

struct httpreq_field {
	char	*name;
	char	*value;
	size_t	 nlen, vlen;
};

struct httpreq {
	http_parser		 hp;
	enum httpreq_event	 ev;		/* set by a callback that paused */
	int			 status;	/* refused: the answer */
	char			 why[256];
	int			 head_done, done, trailers;
	size_t			 head_bytes;	/* request target and headers so far */
	char			*url;
	size_t			 url_len;
	struct httpreq_field	*f;
	size_t			 nf, capf;
	int			 in_value;	/* the last callback was a value */
	char			*body;
	size_t			 body_len, body_cap;
	int			 keep_alive, expect;
	char			 version[12];
};

static int
httpreq_refuse(struct httpreq *r, int status, const char *why)
{
	if (r->status == 0) {
		r->status = status;
		snprintf(r->why, sizeof(r->why), "%s", why);
	}
	return -1;
}

/* Appends to a bounded string; -1 when out of memory. */
static int
httpreq_append(char **s, size_t *len, const char *at, size_t n)
{
	char *grown = realloc(*s, *len + n + 1);

	if (grown == NULL)
		return -1;
	memcpy(grown + *len, at, n);
	*len += n;
	grown[*len] = '\0';
	*s = grown;
	return 0;
}

static int
httpreq_on_begin(http_parser *p)
{
	struct httpreq *r = p->data;

	r->ev = HTTPREQ_BEGIN;
	http_parser_pause(p, 1);
	return 0;
}

static int
httpreq_count(struct httpreq *r, size_t n)
{
	r->head_bytes += n;
	if (r->head_bytes > HTTPREQ_HEAD_MAX)
		return httpreq_refuse(r, 431, "the request head is over 16 KiB; "
		    "send fewer or shorter headers");
	return 0;
}

static int
httpreq_on_url(http_parser *p, const char *at, size_t n)
{
	struct httpreq *r = p->data;

	if (r->url_len + n > HTTPREQ_URL_MAX)
		return httpreq_refuse(r, 414, "the request target is over 8 KiB; "
		    "dutyd's URLs are short: check the link or the client");
	if (httpreq_count(r, n) != 0)
		return -1;
	if (httpreq_append(&r->url, &r->url_len, at, n) != 0)
		return httpreq_refuse(r, 503, "out of memory; retry shortly");
	return 0;
}

static int
httpreq_on_field(http_parser *p, const char *at, size_t n)
{
	struct httpreq		*r = p->data;
	struct httpreq_field	*grown;

	if (r->trailers)
		return 0;	/* trailers are valid and ignored */
	if (httpreq_count(r, n + 4) != 0)
		return -1;
	if (r->nf == 0 || r->in_value) {
		if (r->nf == HTTPREQ_HEADERS_MAX)
			return httpreq_refuse(r, 431, "the request has more than "
			    "100 header fields");
		if (r->nf == r->capf) {
			r->capf = r->capf ? r->capf * 2 : 16;
			if ((grown = reallocarray(r->f, r->capf,
			    sizeof(*r->f))) == NULL)
				return httpreq_refuse(r, 503, "out of memory; "
				    "retry shortly");
			r->f = grown;
		}
		memset(&r->f[r->nf++], 0, sizeof(*r->f));
		r->in_value = 0;
	}
	if (httpreq_append(&r->f[r->nf - 1].name, &r->f[r->nf - 1].nlen, at,
	    n) != 0)
		return httpreq_refuse(r, 503, "out of memory; retry shortly");
	return 0;
}

static int
httpreq_on_value(http_parser *p, const char *at, size_t n)
{
	struct httpreq *r = p->data;

	if (r->trailers)
		return 0;
	if (httpreq_count(r, n) != 0)
		return -1;
	r->in_value = 1;
	if (httpreq_append(&r->f[r->nf - 1].value, &r->f[r->nf - 1].vlen, at,
	    n) != 0)
		return httpreq_refuse(r, 503, "out of memory; retry shortly");
	return 0;
}

/* Framing another server in front might read differently is refused. */
static int
httpreq_check_framing(struct httpreq *r)
{
	const char	*te = NULL, *v;
	size_t		 i, nte = 0, len;

	for (i = 0; i < r->nf; i++) {
		if (r->f[i].value == NULL && httpreq_append(&r->f[i].value,
		    &r->f[i].vlen, "", 0) != 0)
			return httpreq_refuse(r, 503, "out of memory; retry "
			    "shortly");
		if (strcasecmp(r->f[i].name, "Transfer-Encoding") == 0) {
			te = r->f[i].value;
			nte++;
		}
	}
	if (nte > 1)
		return httpreq_refuse(r, 400, "two Transfer-Encoding headers: "
		    "send one, chunked");
	if (te != NULL) {
		v = te + strspn(te, " \t");
		len = strlen(v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len != 7 || strncasecmp(v, "chunked", 7) != 0)
			return httpreq_refuse(r, 501, "Transfer-Encoding other "
			    "than chunked is not supported; send the body as "
			    "it is, with Content-Length");
	}
	return 0;
}

static int
httpreq_on_head(http_parser *p)
{
	struct httpreq	*r = p->data;
	const char	*e;

	if (r->trailers)
		return 0;
	if (httpreq_check_framing(r) != 0)
		return -1;
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	    p->content_length > HTTPREQ_BODY_MAX)
		return httpreq_refuse(r, 413, "the body is over 1 MiB; dutyd "
		    "takes at most 64 KiB per report");
	if (r->url == NULL && httpreq_append(&r->url, &r->url_len, "", 0) != 0)
		return httpreq_refuse(r, 503, "out of memory; retry shortly");
	r->keep_alive = http_should_keep_alive(p);
	snprintf(r->version, sizeof(r->version), "HTTP/%u.%u",
	    p->http_major > 9 ? 1 : p->http_major,
	    p->http_minor > 9 ? 1 : p->http_minor);
	e = httpreq_header(r, "Expect");
	r->expect = e != NULL && strcasecmp(e, "100-continue") == 0 &&
	    (p->http_major > 1 || (p->http_major == 1 && p->http_minor >= 1));
	r->head_done = 1;
	r->trailers = 1;
	r->ev = HTTPREQ_HEAD;
	http_parser_pause(p, 1);
	return 0;
}

static int
httpreq_on_body(http_parser *p, const char *at, size_t n)
{
	struct httpreq	*r = p->data;
	char		*grown;

	if (r->body_len + n > HTTPREQ_BODY_MAX)
		return httpreq_refuse(r, 413, "the body is over 1 MiB; dutyd "
		    "takes at most 64 KiB per report");
	if (r->body_len + n + 1 > r->body_cap) {
		r->body_cap = r->body_cap ? r->body_cap : 4096;
		while (r->body_cap < r->body_len + n + 1)
			r->body_cap *= 2;
		if ((grown = realloc(r->body, r->body_cap)) == NULL)
			return httpreq_refuse(r, 503, "out of memory; retry "
			    "shortly");
		r->body = grown;
	}
	memcpy(r->body + r->body_len, at, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

static int
httpreq_on_done(http_parser *p)
{
	struct httpreq *r = p->data;

	r->done = 1;
	r->ev = HTTPREQ_DONE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings httpreq_settings = {
	.on_message_begin = httpreq_on_begin,
	.on_url = httpreq_on_url,
	.on_header_field = httpreq_on_field,
	.on_header_value = httpreq_on_value,
	.on_headers_complete = httpreq_on_head,
	.on_body = httpreq_on_body,
	.on_message_complete = httpreq_on_done,
};

struct httpreq *
httpreq_new(void)
{
	struct httpreq *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	http_parser_init(&r->hp, HTTP_REQUEST);
	r->hp.data = r;
	return r;
}

static void
httpreq_clear(struct httpreq *r)
{
	size_t i;

	for (i = 0; i < r->nf; i++) {
		free(r->f[i].name);
		free(r->f[i].value);
	}
	free(r->f);
	free(r->url);
	free(r->body);
	r->f = NULL;
	r->nf = r->capf = 0;
	r->url = r->body = NULL;
	r->url_len = r->body_len = r->body_cap = r->head_bytes = 0;
	r->head_done = r->done = r->trailers = r->in_value = 0;
	r->keep_alive = r->expect = 0;
}

void
httpreq_free(struct httpreq *r)
{
	if (r == NULL)
		return;
	httpreq_clear(r);
	free(r);
}

void
httpreq_next(struct httpreq *r)
{
	int upgrade = r->hp.upgrade;

	httpreq_clear(r);
	/* dutyd upgrades to nothing: what follows is another request. */
	if (upgrade) {
		http_parser_init(&r->hp, HTTP_REQUEST);
		r->hp.data = r;
	}
}

enum httpreq_event
httpreq_feed(struct httpreq *r, const char *data, size_t len, size_t *used)
{
	enum http_errno	 err;
	size_t		 n;

	*used = 0;
	if (r->status != 0)
		return HTTPREQ_ERROR;
	if (r->done)
		return HTTPREQ_DONE;
	if (len == 0)		/* http-parser reads 0 bytes as the end */
		return HTTPREQ_MORE;
	r->ev = HTTPREQ_MORE;
	n = http_parser_execute(&r->hp, &httpreq_settings, data, len);
	err = HTTP_PARSER_ERRNO(&r->hp);
	*used = n;
	if (err == HPE_PAUSED) {
		http_parser_pause(&r->hp, 0);
		return r->ev;
	}
	if (err == HPE_OK && r->status == 0)
		return HTTPREQ_MORE;
	if (r->status == 0) {
		if (err == HPE_UNEXPECTED_CONTENT_LENGTH)
			httpreq_refuse(r, 400, "two Content-Length headers, or "
			    "Content-Length beside Transfer-Encoding: a request "
			    "is framed one way only");
		else if (err == HPE_HEADER_OVERFLOW)
			httpreq_refuse(r, 431, "the request head is too large");
		else {
			char why[200];

			snprintf(why, sizeof(why), "malformed HTTP request: %s",
			    http_errno_description(err));
			httpreq_refuse(r, 400, why);
		}
	}
	return HTTPREQ_ERROR;
}

const char *
httpreq_method(const struct httpreq *r)
{
	return http_method_str((enum http_method)r->hp.method);
}

const char *
httpreq_url(const struct httpreq *r)
{
	return r->url != NULL ? r->url : "";
}

size_t
httpreq_nheaders(const struct httpreq *r)
{
	return r->head_done ? r->nf : 0;
}

const char *
httpreq_header_name(const struct httpreq *r, size_t i)
{
	return i < r->nf ? r->f[i].name : NULL;
}

const char *
httpreq_header_value(const struct httpreq *r, size_t i)
{
	return i < r->nf && r->f[i].value != NULL ? r->f[i].value : "";
}

const char *
httpreq_header(const struct httpreq *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nf; i++)
		if (r->f[i].name != NULL && strcasecmp(r->f[i].name, name) == 0)
			return r->f[i].value != NULL ? r->f[i].value : "";
	return NULL;
}

const char *
httpreq_body(const struct httpreq *r, size_t *len)
{
	*len = r->body_len;
	return r->body != NULL ? r->body : "";
}

int
httpreq_keep_alive(const struct httpreq *r)
{
	return r->keep_alive;
}

int
httpreq_expects_continue(const struct httpreq *r)
{
	return r->expect && (r->hp.flags & F_CHUNKED ||
	    (r->hp.content_length != ULLONG_MAX && r->hp.content_length > 0));
}

const char *
httpreq_version(const struct httpreq *r)
{
	return r->version[0] != '\0' ? r->version : "HTTP/1.1";
}

int
httpreq_status(const struct httpreq *r)
{
	return r->status;
}

const char *
httpreq_why(const struct httpreq *r)
{
	return r->why;
}
