/*
 * An answer for conn.c: its head (the status line and the headers) as one
 * text, written with the body.
 */
#ifndef DUTYD_CONNHEAD_H
#define DUTYD_CONNHEAD_H

#include <stddef.h>

struct bufferevent;
struct evkeyvalq;

#define CONNHEAD_RETRY_AFTER	"5"	/* seconds, on a 503 or 429 that names none */
#define CONNHEAD_STACK		2048	/* a head longer than this is rare */
/* LEN of a stream's head: no Content-Length (the body ends at the close). */
#define CONNHEAD_STREAM		((size_t)-1)

/*
 * The head of an answer of STATUS with a body of LEN bytes: the status
 * line, Content-Type (unless NULL), Content-Length (unless LEN is
 * CONNHEAD_STREAM), Connection (KEEP:
 * keep-alive, else close), the EXTRA headers (may be NULL) in their order,
 * Retry-After on a 503 or 429 whose EXTRA names none, and the blank line.
 * Written into BUF up to CAP bytes (no NUL); returns its whole length, so
 * a head longer than CAP is written again into a buffer that holds it.
 */
size_t	connhead_format(char *buf, size_t cap, const char *version, int status,
	    const char *content_type, const struct evkeyvalq *extra, size_t len,
	    int keep);

/*
 * The head and, unless HEAD_ONLY, LEN bytes of BODY on BEV's connection
 * (TLS: through the bufferevent, else written at once when nothing is
 * queued, the rest queued).  0, or -ENOMEM (a long head): nothing written.
 */
int	connhead_write(struct bufferevent *bev, int tls, const char *version,
	    int status, const char *content_type, const struct evkeyvalq *extra,
	    const char *body, size_t len, int keep, int head_only);

#endif
