/*
 * HTTP connections: accepting them, the limits on what a peer may hold,
 * reading one request at a time (parse/httpreq.c) and writing answers.
 * http.c routes the requests; everything a client can do to the server
 * itself (how many connections, how slowly it sends, half-closing a
 * pipeline) is handled here.  docs/security.md lists each limit.
 */
#ifndef DUTYD_CONN_H
#define DUTYD_CONN_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct config;
struct conn_listener;
struct conn_request;

/* Called once per complete request; it answers with conn_reply(), now or later. */
typedef void (*conn_handler)(struct conn_request *);
/* Makes the bufferevent of an accepted TLS connection (tls.c), or NULL. */
typedef struct bufferevent *(*conn_tls_fn)(struct event_base *, int fd);

/*
 * Once: the loop and the handler.  Raises the soft RLIMIT_NOFILE to the
 * hard one and says in *limit how many descriptors there are.
 */
int	conn_init(struct event_base *, conn_handler, char *err, size_t errlen);
/* The limits in force (start and every reload). */
void	conn_configure(const struct config *);
/*
 * Serves a socket already listening (systemd's); TLS when TLS != NULL.
 * The listener, or NULL with err set (and errno).
 */
struct conn_listener *conn_listen_fd(int fd, conn_tls_fn tls, char *err,
	    size_t errlen);
/* Binds HOST:PORT and serves it; *BOUND gets the port (PORT 0: one free). */
struct conn_listener *conn_bind(const char *host, uint16_t port,
	    conn_tls_fn tls, uint16_t *bound, char *err, size_t errlen);
/*
 * Stops listening there (closes the socket; NULL: nothing); connections
 * already accepted go on.  conn_unlisten_all(): every listener, for an
 * orderly stop.
 */
void	conn_unlisten(struct conn_listener *);
void	conn_unlisten_all(void);
/* Stops listening and closes every connection; requests still waiting are dropped. */
void	conn_shutdown(void);
/* Connections open now. */
size_t	conn_count(void);
/*
 * Connections whose client is owed an answer: a request arriving or being
 * answered, or accepted and not yet asked (its request is on the way).  A
 * kept-alive one between requests may be closed, as HTTP allows.
 */
size_t	conn_unanswered(void);

/* A request, from its connection until conn_reply(). */
const char *conn_request_method(const struct conn_request *);
const char *conn_request_url(const struct conn_request *);
const char *conn_request_header(const struct conn_request *, const char *name);
const char *conn_request_body(const struct conn_request *, size_t *len);
const char *conn_request_peer(const struct conn_request *);	/* "127.0.0.1" */
int	 conn_request_tls(const struct conn_request *);
/* A header for the answer (copied). */
int	 conn_request_add_header(struct conn_request *, const char *name,
	    const char *value);
/*
 * Answers and frees the request (the connection may be gone by now: then
 * only the request is freed).  BODY of LEN bytes; CONTENT_TYPE NULL: none.
 */
void	 conn_reply(struct conn_request *, int status, const char *content_type,
	    const char *body, size_t len);

/*
 * A long answer written as things happen (Server-Sent Events), instead of
 * conn_reply(): the status line and headers (with those added to the
 * request) go out at once, without Content-Length, and the body runs until
 * conn_stream_end().  The request is freed; the connection still counts
 * against limits.connections, and no timeout closes it while the stream
 * lives.  GONE is called once when the connection ends under the stream
 * (the peer went away, an orderly stop, shutdown): the owner then calls
 * conn_stream_end().  WRITABLE, when not NULL, is called when the output
 * has drained, for a writer pacing a long backlog.  NULL when out of
 * memory (the request is then answered 503) or the peer is gone.
 */
struct conn_stream;
typedef void (*conn_stream_fn)(struct conn_stream *, void *arg);
struct conn_stream *conn_stream_begin(struct conn_request *, int status,
	    const char *content_type, conn_stream_fn gone,
	    conn_stream_fn writable, void *arg);
/*
 * Queues LEN bytes: 0; -ENOBUFS (nothing queued) when more than
 * CONN_STREAM_OUT_MAX wait for a peer that does not read, -EPIPE when the
 * connection is gone.
 */
#define CONN_STREAM_OUT_MAX	(256 * 1024)
int	 conn_stream_write(struct conn_stream *, const void *buf, size_t len);
/* Bytes waiting to go out. */
size_t	 conn_stream_pending(const struct conn_stream *);
/*
 * Frees the stream (NULL: nothing) and closes its connection: after the
 * output has gone out, or at once when the peer has stopped reading.
 */
void	 conn_stream_end(struct conn_stream *);

#endif
