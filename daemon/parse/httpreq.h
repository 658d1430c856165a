/*
 * HTTP/1.1 requests from a byte stream: the framing is http-parser's
 * (Node's parser, Debian's libhttp-parser); this module adds dutyd's caps
 * and refusals and collects one request at a time.  Pure: no sockets, no
 * clock, no logging, so it can be fuzzed alone.
 *
 * Refused, with the status a server answers (and then closes): a request
 * line or head over its cap (414, 431), a body over its cap (413), a
 * Transfer-Encoding other than exactly "chunked" or given twice (501,
 * 400: another server in front could frame it differently), two
 * Content-Length headers or one beside chunked (400: request smuggling),
 * and anything http-parser cannot frame (400).  Chunk extensions and
 * trailers are valid and ignored.
 */
#ifndef DUTYD_HTTPREQ_H
#define DUTYD_HTTPREQ_H

#include <stddef.h>

#define HTTPREQ_URL_MAX		(8 * 1024)	/* bytes of the request target: 414 */
#define HTTPREQ_HEAD_MAX	(16 * 1024)	/* bytes of the request line and headers: 431 */
#define HTTPREQ_HEADERS_MAX	100		/* header fields: 431 */
#define HTTPREQ_BODY_MAX	(1024 * 1024)	/* bytes of a body: 413 */

struct httpreq;

/* What httpreq_feed() stopped at. */
enum httpreq_event {
	HTTPREQ_MORE,		/* all bytes taken; the request goes on */
	HTTPREQ_BEGIN,		/* the first byte of a request */
	HTTPREQ_HEAD,		/* its head is complete (the body may follow) */
	HTTPREQ_DONE,		/* a whole request: read it, then httpreq_next() */
	HTTPREQ_ERROR,		/* refused: httpreq_status() and httpreq_why() */
};

/* A parser for the requests of one connection; NULL when out of memory. */
struct httpreq	*httpreq_new(void);
void		 httpreq_free(struct httpreq *);	/* accepts NULL */

/*
 * Takes bytes until an event; *used says how many (the caller keeps the
 * rest for the next call).  After HTTPREQ_DONE nothing more is taken
 * until httpreq_next(); after HTTPREQ_ERROR nothing ever is.
 */
enum httpreq_event httpreq_feed(struct httpreq *, const char *data,
	    size_t len, size_t *used);
/* Ready for the next request on the connection (pipelining). */
void		 httpreq_next(struct httpreq *);

/* The request being read (from HTTPREQ_HEAD) or just read (HTTPREQ_DONE). */
const char	*httpreq_method(const struct httpreq *);	/* "GET" */
const char	*httpreq_url(const struct httpreq *);	/* as sent: "/a/x?y" */
size_t		 httpreq_nheaders(const struct httpreq *);
const char	*httpreq_header_name(const struct httpreq *, size_t i);
const char	*httpreq_header_value(const struct httpreq *, size_t i);
/* The first header NAME (any case), or NULL. */
const char	*httpreq_header(const struct httpreq *, const char *name);
/* NUL-terminated (the body may hold NULs before body_len). */
const char	*httpreq_body(const struct httpreq *, size_t *len);
int		 httpreq_keep_alive(const struct httpreq *);
/* The client waits for 100 Continue before it sends the body. */
int		 httpreq_expects_continue(const struct httpreq *);
/* "HTTP/1.1" or "HTTP/1.0", for the status line of the answer. */
const char	*httpreq_version(const struct httpreq *);

/* After HTTPREQ_ERROR: the status to answer and why, a sentence. */
int		 httpreq_status(const struct httpreq *);
const char	*httpreq_why(const struct httpreq *);

#endif
