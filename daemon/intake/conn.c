/*
 * HTTP connections (see conn.h).
 *
 * Each connection reads one request at a time: while it is being
 * answered (a 2xx waits for the audit log's sync) the next one, pipelined
 * or not, stays in the input buffer, which stops growing at CONN_HOLD_MAX.
 * A client that half-closes after a pipeline gets every answer before the
 * connection closes.
 *
 * The limits a peer cannot argue with: a cap on connections, and one per
 * source address; when full, the connection idle the longest is closed for
 * the newcomer, and only when none is idle does the newcomer get 503.  The
 * request head must arrive within header_timeout of its first byte, the
 * body within body_timeout of the head, and an idle connection closes after
 * idle_timeout.  The cap stays below the process's descriptor limit, and a
 * failing accept() pauses the listener instead of spinning.
 *
 * A stream (Server-Sent Events) has no timeout but counts against the caps,
 * is never idle, and cannot queue more than CONN_STREAM_OUT_MAX for a peer.
 * An orderly stop waits for every client owed an answer (conn_unanswered).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/queue.h>
#include <bsd/sys/tree.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "base/fdlimit.h"
#include "base/log.h"
#include "base/netaddr.h"
#include "config/config.h"
#include "intake/conn.h"
#include "intake/connhead.h"
#include "parse/httpreq.h"

#define CONN_HOLD_MAX		(64 * 1024)	/* input kept while a request is answered */
#define CONN_FD_RESERVE		64	/* descriptors kept for the log, plugins, deliveries */
#define CONN_LINGER_MS		2000	/* reading what a client still sends before closing */
#define CONN_PAUSE_MS		100	/* the listeners rest this long after accept() fails */
#define CONN_NOFILE_MAX		(1 << 20)

enum conn_state {
	CONN_IDLE,		/* between requests (or before the first) */
	CONN_HEAD,		/* a request head is arriving */
	CONN_BODY,		/* its body is arriving */
	CONN_WAIT,		/* the request is being answered */
	CONN_CLOSING,		/* the last answer is going out; then close */
	CONN_STREAM,		/* a stream is being written (conn_stream_begin) */
};

struct conn;

struct conn_source {
	RB_ENTRY(conn_source)	 entry;
	TAILQ_HEAD(, conn)	 idle;		/* its idle connections, oldest first */
	char			 addr[INET6_ADDRSTRLEN];
	int			 n;		/* its connections */
};

struct conn {
	TAILQ_ENTRY(conn)	 all;		/* every connection */
	TAILQ_ENTRY(conn)	 idle_all;	/* while idle: conn_idle, oldest first */
	TAILQ_ENTRY(conn)	 idle_src;	/* and its source's */
	int			 idle;		/* in those two lists */
	struct conn_source	*src;
	struct bufferevent	*bev;
	struct httpreq		*parser;
	struct conn_request	*cur;		/* the request being answered */
	struct event		*timer;		/* the state's timeout, or the linger */
	struct event		*later;		/* resumes reading after an answer */
	enum conn_state		 state;
	int			 eof;		/* the client sent all it will send */
	int			 linger;	/* closing: reading what remains */
	int			 tls;
	struct conn_stream	*stream;	/* in CONN_STREAM */
	unsigned		 answers;	/* written on it */
};

struct conn_stream {
	struct conn		*conn;		/* NULL once the connection is gone */
	conn_stream_fn		 gone, writable;
	void			*arg;
};

/* One allocation: the url, body and headers' texts follow in[]. */
struct conn_request {
	struct conn		*conn;		/* NULL once the connection is gone */
	const char		*method;
	char			*url;
	struct evkeyvalq	 out;
	char			*body;
	size_t			 body_len;
	char			 peer[INET6_ADDRSTRLEN];
	char			 version[12];
	int			 keep_alive;
	int			 tls;
	size_t			 nin;
	struct { const char *name, *value; } in[];
};

struct conn_listener {
	TAILQ_ENTRY(conn_listener) entry;
	struct evconnlistener	*lev;
	conn_tls_fn		 tls;
};

RB_HEAD(conn_sources, conn_source);
TAILQ_HEAD(conn_list, conn);
TAILQ_HEAD(conn_listeners, conn_listener);

static int
conn_source_cmp(struct conn_source *a, struct conn_source *b)
{
	return strcmp(a->addr, b->addr);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(conn_sources, conn_source, entry, conn_source_cmp)

static struct {
	struct event_base	*base;
	conn_handler		 handler;
	struct conn_sources	 sources;
	struct conn_list	 conns, idle;
	struct conn_listeners	 listeners;
	struct event		*resume;	/* re-enables the listeners */
	size_t			 n;
	long			 nofile;	/* the descriptor limit */
	/* The limits in force. */
	size_t			 max, per_source;
	struct timeval		 head_tv, body_tv, idle_tv;
	/* accept() failures, told once a second. */
	int64_t			 fail_since;
	unsigned		 fails, evicted;
	int			 fail_errno;
} cn = {
	.sources = RB_INITIALIZER(&cn.sources),
	.conns = TAILQ_HEAD_INITIALIZER(cn.conns),
	.idle = TAILQ_HEAD_INITIALIZER(cn.idle),
	.listeners = TAILQ_HEAD_INITIALIZER(cn.listeners),
	.max = 1024, .per_source = 64,
	.head_tv = { 10, 0 }, .body_tv = { 30, 0 }, .idle_tv = { 60, 0 },
};

static void	conn_free(struct conn *);
static void	conn_feed(struct conn *);
static void	conn_close_after_answer(struct conn *);

static struct timeval
conn_tv(int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

static int64_t
conn_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Idle lists ------------------------------------------------------------- */

static void
conn_unidle(struct conn *c)
{
	if (!c->idle)
		return;
	TAILQ_REMOVE(&cn.idle, c, idle_all);
	TAILQ_REMOVE(&c->src->idle, c, idle_src);
	c->idle = 0;
}

static void
conn_set_idle(struct conn *c)
{
	conn_unidle(c);
	c->state = CONN_IDLE;
	TAILQ_INSERT_TAIL(&cn.idle, c, idle_all);
	TAILQ_INSERT_TAIL(&c->src->idle, c, idle_src);
	c->idle = 1;
	evtimer_add(c->timer, &cn.idle_tv);
}

/* Answers ----------------------------------------------------------------- */

/*
 * The connection's own refusal (a head too slow or too large, a server
 * full): {"error", "field": null}, then close.
 */
static void
conn_refuse(struct conn *c, int status, const char *why)
{
	struct evkeyvalq	 extra;
	json_t			*o;
	char			*text;

	TAILQ_INIT(&extra);
	evhttp_add_header(&extra, "Cache-Control", "no-store");
	o = json_pack("{s:s, s:n}", "error", why, "field");
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	connhead_write(c->bev, c->tls, "HTTP/1.1", status, "application/json; charset=utf-8",
	    &extra, text != NULL ? text : "{}", text != NULL ? strlen(text) : 2,
	    0, 0);
	free(text);
	evhttp_clear_headers(&extra);
	log_debug("connection from %s refused: %d %s", c->src->addr, status, why);
	conn_close_after_answer(c);
}

/* Closing --------------------------------------------------------------------- */

/*
 * After the last answer is written: a plain TCP connection stops writing,
 * then reads and drops what the client still sends for a moment, so that
 * closing with unread bytes does not reset the connection before the
 * client has read the answer (a 413 while it is still sending).
 */
static void
conn_drained(struct conn *c)
{
	struct timeval	 linger = conn_tv(CONN_LINGER_MS);
	int		 fd = bufferevent_getfd(c->bev);

	if (c->tls || c->eof || fd == -1 || shutdown(fd, SHUT_WR) == -1) {
		conn_free(c);
		return;
	}
	c->linger = 1;
	bufferevent_enable(c->bev, EV_READ);
	evtimer_add(c->timer, &linger);
}

static void
conn_close_after_answer(struct conn *c)
{
	conn_unidle(c);
	c->state = CONN_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	evtimer_del(c->timer);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_drained(c);
	/* else conn_write_cb() when it has gone out */
}

/* Tells a stream's owner that its connection is going (it ends the stream). */
static void
conn_stream_gone(struct conn *c)
{
	struct conn_stream *s = c->stream;

	if (s == NULL)
		return;
	c->stream = NULL;
	s->conn = NULL;
	s->gone(s, s->arg);
}

static void
conn_free(struct conn *c)
{
	conn_stream_gone(c);
	if (c->cur != NULL)
		c->cur->conn = NULL;	/* answered later into the void */
	conn_unidle(c);
	TAILQ_REMOVE(&cn.conns, c, all);
	cn.n--;
	if (--c->src->n == 0) {
		RB_REMOVE(conn_sources, &cn.sources, c->src);
		free(c->src);
	}
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->later != NULL)
		event_free(c->later);
	if (c->bev != NULL)
		bufferevent_free(c->bev);	/* closes the socket */
	httpreq_free(c->parser);
	free(c);
}

/* Requests ---------------------------------------------------------------- */

static void
conn_request_free(struct conn_request *r)
{
	evhttp_clear_headers(&r->out);
	free(r);
}

/* S and its NUL at *AT, which moves past them. */
static char *
conn_put(char **at, const char *s, size_t n)
{
	char *p = memcpy(*at, s, n);

	p[n] = '\0';
	*at += n + 1;
	return p;
}

/*
 * The request just read, copied out of the parser in one piece: it may
 * outlive the connection.  A header evhttp_add_header() would drop (a
 * line break in its name, or one not continued in its value) fails it.
 */
static struct conn_request *
conn_request_take(struct conn *c)
{
	struct conn_request	*r;
	const char		*body, *url = httpreq_url(c->parser), *n, *v;
	size_t			 i, len, nh = httpreq_nheaders(c->parser), size;
	char			*at;

	body = httpreq_body(c->parser, &len);
	size = sizeof(*r) + nh * sizeof(r->in[0]) + strlen(url) + len + 2;
	for (i = 0; i < nh; i++) {
		n = httpreq_header_name(c->parser, i);
		v = httpreq_header_value(c->parser, i);
		size += strlen(n) + strlen(v) + 2;
		if (strpbrk(n, "\r\n") != NULL)
			return NULL;
		while ((v = strpbrk(v, "\r\n")) != NULL)
			if (*(v += strspn(v, "\r\n")) != ' ' && *v != '\t')
				return NULL;
	}
	if ((r = calloc(1, size)) == NULL)
		return NULL;
	TAILQ_INIT(&r->out);
	r->conn = c;
	r->method = httpreq_method(c->parser);
	r->keep_alive = httpreq_keep_alive(c->parser);
	r->tls = c->tls;
	n = httpreq_version(c->parser);
	memcpy(r->version, n, strnlen(n, sizeof(r->version) - 1));
	memcpy(r->peer, c->src->addr, sizeof(r->peer));
	at = (char *)&r->in[nh];
	r->url = conn_put(&at, url, strlen(url));
	r->body = conn_put(&at, body, len);
	r->body_len = len;
	for (r->nin = nh, i = 0; i < nh; i++) {
		n = httpreq_header_name(c->parser, i);
		v = httpreq_header_value(c->parser, i);
		r->in[i].name = conn_put(&at, n, strlen(n));
		r->in[i].value = conn_put(&at, v, strlen(v));
	}
	return r;
}

const char *
conn_request_method(const struct conn_request *r)
{
	return r->method;
}

const char *
conn_request_url(const struct conn_request *r)
{
	return r->url;
}

const char *
conn_request_header(const struct conn_request *r, const char *name)
{
	size_t i;

	/* evhttp_find_header()'s match: the first, ASCII case ignored. */
	for (i = 0; i < r->nin; i++)
		if (evutil_ascii_strcasecmp(r->in[i].name, name) == 0)
			return r->in[i].value;
	return NULL;
}

const char *
conn_request_body(const struct conn_request *r, size_t *len)
{
	*len = r->body_len;
	return r->body;
}

const char *
conn_request_peer(const struct conn_request *r)
{
	return r->peer;
}

int
conn_request_tls(const struct conn_request *r)
{
	return r->tls;
}

int
conn_request_add_header(struct conn_request *r, const char *name,
    const char *value)
{
	return evhttp_add_header(&r->out, name, value) == 0 ? 0 : -ENOMEM;
}

void
conn_reply(struct conn_request *r, int status, const char *content_type,
    const char *body, size_t len)
{
	struct conn	*c = r->conn;
	int		 keep;

	if (c == NULL) {
		conn_request_free(r);
		return;
	}
	c->cur = NULL;
	keep = r->keep_alive && c->state == CONN_WAIT;
	c->answers++;
	if (connhead_write(c->bev, c->tls, r->version, status, content_type,
	    &r->out, body, len, keep, strcmp(r->method, "HEAD") == 0) != 0)
		keep = 0;	/* nothing written: the client sees the close */
	conn_request_free(r);
	if (!keep) {
		conn_close_after_answer(c);
		return;
	}
	/* The next request may be waiting in the input already. */
	conn_set_idle(c);
	event_active(c->later, 0, 0);
}

/* Streams ----------------------------------------------------------------- */

struct conn_stream *
conn_stream_begin(struct conn_request *r, int status, const char *content_type,
    conn_stream_fn gone, conn_stream_fn writable, void *arg)
{
	static const char	 nomem[] = "{\"error\":\"dutyd is out of memory; "
	    "retry shortly\",\"field\":null}\n";
	struct conn		*c = r->conn;
	struct conn_stream	*s = NULL;

	/* No Content-Length: the body ends when the connection closes. */
	if (c == NULL || (s = calloc(1, sizeof(*s))) == NULL ||
	    connhead_write(c->bev, c->tls, r->version, status, content_type,
	    &r->out, NULL, CONNHEAD_STREAM, 0, 1) != 0) {
		free(s);
		conn_reply(r, 503, "application/json; charset=utf-8", nomem,
		    sizeof(nomem) - 1);
		return NULL;
	}
	conn_request_free(r);
	c->cur = NULL;
	c->state = CONN_STREAM;
	c->stream = s;
	evtimer_del(c->timer);
	*s = (struct conn_stream){ c, gone, writable, arg };
	return s;
}

int
conn_stream_write(struct conn_stream *s, const void *buf, size_t len)
{
	if (s->conn == NULL)
		return -EPIPE;
	if (conn_stream_pending(s) > CONN_STREAM_OUT_MAX)
		return -ENOBUFS;
	return evbuffer_add(bufferevent_get_output(s->conn->bev), buf, len) == 0 ?
	    0 : -ENOMEM;
}

size_t
conn_stream_pending(const struct conn_stream *s)
{
	return s->conn == NULL ? 0 :
	    evbuffer_get_length(bufferevent_get_output(s->conn->bev));
}

void
conn_stream_end(struct conn_stream *s)
{
	struct conn	*c;
	size_t		 pending;

	if (s == NULL)
		return;
	c = s->conn;
	free(s);
	if (c == NULL)
		return;
	c->stream = NULL;
	pending = evbuffer_get_length(bufferevent_get_output(c->bev));
	if (pending > CONN_STREAM_OUT_MAX) {
		conn_free(c);	/* it does not read: waiting would not help */
		return;
	}
	conn_close_after_answer(c);	/* frees C when nothing is pending */
	/* A peer slow to take the rest gets idle_timeout, not forever. */
	if (pending > 0)
		evtimer_add(c->timer, &cn.idle_tv);
}

/* Reading ----------------------------------------------------------------- */

static void
conn_dispatch(struct conn *c)
{
	struct conn_request *r;

	evtimer_del(c->timer);
	c->state = CONN_WAIT;
	r = conn_request_take(c);
	httpreq_next(c->parser);
	if (r == NULL) {
		conn_refuse(c, 503, "dutyd is out of memory; retry shortly");
		return;
	}
	c->cur = r;
	cn.handler(r);
}

/* Feeds the input to the parser until a request is complete or the input ends. */
static void
conn_feed(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v[4];
	enum httpreq_event	 ev;
	size_t			 used;
	int			 i, n;

	while ((c->state == CONN_IDLE || c->state == CONN_HEAD ||
	    c->state == CONN_BODY) && evbuffer_get_length(in) > 0) {
		/* The first chunk that holds bytes (a chain may start empty). */
		n = evbuffer_peek(in, -1, NULL, v, 4);
		for (i = 0; i < n && i < 4 && v[i].iov_len == 0; i++)
			;
		if (i == n || i == 4) {
			if (evbuffer_pullup(in, -1) == NULL)
				break;
			continue;
		}
		ev = httpreq_feed(c->parser, v[i].iov_base, v[i].iov_len, &used);
		evbuffer_drain(in, used);
		switch (ev) {
		case HTTPREQ_MORE:
			break;
		case HTTPREQ_BEGIN:
			conn_unidle(c);
			c->state = CONN_HEAD;
			evtimer_add(c->timer, &cn.head_tv);
			break;
		case HTTPREQ_HEAD:
			c->state = CONN_BODY;
			evtimer_add(c->timer, &cn.body_tv);
			if (httpreq_expects_continue(c->parser))
				evbuffer_add_printf(bufferevent_get_output(c->bev),
				    "HTTP/1.1 100 Continue\r\n\r\n");
			break;
		case HTTPREQ_DONE:
			conn_dispatch(c);
			return;		/* the rest waits for the answer */
		case HTTPREQ_ERROR:
			conn_refuse(c, httpreq_status(c->parser),
			    httpreq_why(c->parser));
			return;
		}
	}
	/* The client is done sending: close once nothing is owed to it. */
	if (c->eof && c->state != CONN_WAIT && c->state != CONN_CLOSING)
		conn_close_after_answer(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	/* A stream's peer has nothing more to say: what it sends is dropped. */
	if (c->linger || c->state == CONN_STREAM) {
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	conn_feed(c);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_CLOSING && !c->linger)
		conn_drained(c);
	else if (c->state == CONN_STREAM && c->stream->writable != NULL)
		c->stream->writable(c->stream, c->stream->arg);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;		/* a TLS handshake done */
	/* A stream has nothing left to answer: its peer closing ends it. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !c->linger &&
	    c->state != CONN_STREAM) {
		/* A half-close: answer what was sent first. */
		c->eof = 1;
		conn_feed(c);
		return;
	}
	log_debug("connection from %s closed: %s", c->src->addr,
	    what & BEV_EVENT_EOF ? "by the client" :
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	conn_free(c);
}

static void
conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	char		 why[160];

	switch (c->state) {
	case CONN_HEAD:
		snprintf(why, sizeof(why), "the request head did not arrive "
		    "within %ld s (limits.header_timeout); send it at once",
		    (long)cn.head_tv.tv_sec);
		conn_refuse(c, 408, why);
		break;
	case CONN_BODY:
		snprintf(why, sizeof(why), "the request body did not arrive "
		    "within %ld s (limits.body_timeout); send it at once",
		    (long)cn.body_tv.tv_sec);
		conn_refuse(c, 408, why);
		break;
	case CONN_WAIT:
	case CONN_STREAM:
		break;
	case CONN_IDLE:
	case CONN_CLOSING:
		conn_free(c);	/* idle too long, or done lingering */
		break;
	}
}

static void
conn_later(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_IDLE)
		conn_feed(c);
}

/* Accepting --------------------------------------------------------------- */

static struct conn_source *
conn_source_get(const char *addr)
{
	struct conn_source probe, *s;

	snprintf(probe.addr, sizeof(probe.addr), "%s", addr);
	if ((s = RB_FIND(conn_sources, &cn.sources, &probe)) != NULL)
		return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->addr, probe.addr, sizeof(s->addr));
	TAILQ_INIT(&s->idle);
	RB_INSERT(conn_sources, &cn.sources, s);
	return s;
}

/* Closes the connection idle the longest (of SRC, or of all); 0 when none is. */
static int
conn_evict(struct conn_source *src)
{
	struct conn *c = src != NULL ? TAILQ_FIRST(&src->idle) :
	    TAILQ_FIRST(&cn.idle);

	if (c == NULL)
		return 0;
	log_debug("closing the idle connection from %s to make room",
	    c->src->addr);
	conn_free(c);
	cn.evicted++;
	return 1;
}

static void
conn_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct conn_listener	*l = arg;
	struct conn		*c;
	char			 peer[INET6_ADDRSTRLEN];
	const char		*full = NULL;
	int			 one = 1;

	/* Nagle held keep-alive answers over 16 KiB back ~40 ms (delayed ACK). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	netaddr_peer(sa, peer, sizeof(peer));
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->src = conn_source_get(peer)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	/* Counted first: an eviction must not free the source it shares. */
	c->src->n++;
	cn.n++;
	TAILQ_INSERT_TAIL(&cn.conns, c, all);
	/* Make room: the connections idle longest go first. */
	if ((size_t)c->src->n > cn.per_source && !conn_evict(c->src))
		full = "this address already holds as many connections as "
		    "dutyd serves to one (limits.connections_per_source); "
		    "retry when one is closed";
	else if (cn.n > cn.max && !conn_evict(NULL))
		full = "dutyd is serving as many connections as it can "
		    "(limits.connections); retry in a few seconds";
	c->tls = l->tls != NULL;
	c->bev = l->tls != NULL ? l->tls(cn.base, fd) :
	    bufferevent_socket_new(cn.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		close(fd);
	if (c->bev == NULL || (c->parser = httpreq_new()) == NULL ||
	    (c->timer = evtimer_new(cn.base, conn_timeout, c)) == NULL ||
	    (c->later = event_new(cn.base, -1, 0, conn_later, c)) == NULL) {
		conn_free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* While a request is answered, what follows waits; this much of it. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_HOLD_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (full != NULL) {
		conn_refuse(c, 503, full);
		return;
	}
	conn_set_idle(c);
}

static void
conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn_listener *l;

	TAILQ_FOREACH(l, &cn.listeners, entry)
		evconnlistener_enable(l->lev);
}

/*
 * accept() failed.  Out of descriptors it would fail again at once: the
 * listeners rest a moment, an idle connection makes room, and the log
 * says so once a second with a count, not once per try.
 */
static void
conn_accept_error(struct evconnlistener *lev, void *arg)
{
	struct conn_listener	*l;
	struct timeval		 pause = conn_tv(CONN_PAUSE_MS);
	int			 e = EVUTIL_SOCKET_ERROR();
	int64_t			 now = conn_mono_ms();

	cn.fails++;
	cn.fail_errno = e;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		conn_evict(NULL);
		TAILQ_FOREACH(l, &cn.listeners, entry)
			evconnlistener_disable(l->lev);
		evtimer_add(cn.resume, &pause);
	}
	if (now - cn.fail_since < 1000)
		return;
	log_warnx("cannot accept connections: %s (%u time(s) in the last "
	    "second; %u idle connection(s) closed to make room; %zu open, at "
	    "most %zu with the descriptor limit %ld)", strerror(cn.fail_errno),
	    cn.fails, cn.evicted, cn.n, cn.max, cn.nofile);
	cn.fail_since = now;
	cn.fails = cn.evicted = 0;
}

static struct conn_listener *
conn_add_listener(struct evconnlistener *lev, conn_tls_fn tls, char *err,
    size_t errlen)
{
	struct conn_listener *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		evconnlistener_free(lev);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	l->lev = lev;
	l->tls = tls;
	evconnlistener_set_cb(lev, conn_accept, l);
	evconnlistener_set_error_cb(lev, conn_accept_error);
	TAILQ_INSERT_TAIL(&cn.listeners, l, entry);
	return l;
}

struct conn_listener *
conn_listen_fd(int fd, conn_tls_fn tls, char *err, size_t errlen)
{
	struct evconnlistener *lev;

	lev = evconnlistener_new(cn.base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (lev == NULL) {
		snprintf(err, errlen, "cannot listen on descriptor %d: %s", fd,
		    strerror(errno));
		errno = EINVAL;
		return NULL;
	}
	return conn_add_listener(lev, tls, err, errlen);
}

struct conn_listener *
conn_bind(const char *host, uint16_t port, conn_tls_fn tls, uint16_t *bound,
    char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	struct evutil_addrinfo	 hints, *ai = NULL;
	struct evconnlistener	*lev;
	char			 serv[8];
	int			 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST;
	snprintf(serv, sizeof(serv), "%u", port);
	if ((rc = evutil_getaddrinfo(host, serv, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s is not an address: %s", host,
		    evutil_gai_strerror(rc));
		errno = EINVAL;
		return NULL;
	}
	lev = evconnlistener_new_bind(cn.base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, -1, ai->ai_addr,
	    (int)ai->ai_addrlen);
	rc = errno;
	evutil_freeaddrinfo(ai);
	if (lev == NULL) {
		snprintf(err, errlen, "%s", strerror(rc));
		errno = rc;
		return NULL;
	}
	/* Port 0 took any free one: say which. */
	*bound = port;
	if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&ss,
	    &sslen) == 0)
		*bound = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	return conn_add_listener(lev, tls, err, errlen);
}

/* Limits ------------------------------------------------------------------ */

int
conn_init(struct event_base *base, conn_handler handler, char *err,
    size_t errlen)
{
	long	was;
	int	rc;

	cn.base = base;
	cn.handler = handler;
	if ((cn.resume = evtimer_new(base, conn_resume, NULL)) == NULL) {
		snprintf(err, errlen, "cannot create a timer");
		return -ENOMEM;
	}
	if ((rc = fdlimit_raise(CONN_NOFILE_MAX, &was, &cn.nofile)) != 0)
		log_warnx("cannot raise the descriptor limit from %ld: %s", was,
		    strerror(-rc));
	else if (cn.nofile != was)
		log_info("descriptor limit raised from %ld to %ld", was, cn.nofile);
	return 0;
}

void
conn_configure(const struct config *cfg)
{
	const struct config_limits *l = &cfg->limits;
	long room = cn.nofile - CONN_FD_RESERVE;

	cn.max = (size_t)l->connections;
	/* Never more than the descriptors allow, or accept() fails instead. */
	if (room < 16)
		room = cn.nofile / 2 > 0 ? cn.nofile / 2 : 1;
	if (cn.max > (size_t)room) {
		log_warnx("limits.connections is %d but the descriptor limit is "
		    "%ld: serving at most %ld connections (raise LimitNOFILE= "
		    "in the systemd unit for more)", l->connections, cn.nofile,
		    room);
		cn.max = (size_t)room;
	}
	cn.per_source = (size_t)l->connections_per_source;
	cn.head_tv = conn_tv(l->header_timeout_ms);
	cn.body_tv = conn_tv(l->body_timeout_ms);
	cn.idle_tv = conn_tv(l->idle_timeout_ms);
}

size_t
conn_count(void)
{
	return cn.n;
}

/* Owed an answer, or accepted and not yet asked: an orderly stop waits. */
size_t
conn_unanswered(void)
{
	struct conn	*c;
	size_t		 n = 0;

	TAILQ_FOREACH(c, &cn.conns, all)
		n += c->state != CONN_STREAM && c->state != CONN_CLOSING &&
		    (c->state != CONN_IDLE || c->answers == 0);
	return n;
}

void
conn_unlisten(struct conn_listener *l)
{
	if (l == NULL)
		return;
	TAILQ_REMOVE(&cn.listeners, l, entry);
	evconnlistener_free(l->lev);
	free(l);
}

/*
 * An orderly stop: no more connections, and the streams end (what they
 * queued goes out first) so that their clients reconnect to the next dutyd.
 */
void
conn_unlisten_all(void)
{
	struct conn *c, *next;

	while (!TAILQ_EMPTY(&cn.listeners))
		conn_unlisten(TAILQ_FIRST(&cn.listeners));
	for (c = TAILQ_FIRST(&cn.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, all);
		if (c->stream != NULL)	/* its owner ends it: out, then closed */
			c->stream->gone(c->stream, c->stream->arg);
	}
}

void
conn_shutdown(void)
{
	conn_unlisten_all();
	while (!TAILQ_EMPTY(&cn.conns))
		conn_free(TAILQ_FIRST(&cn.conns));
	if (cn.resume != NULL)
		event_free(cn.resume);
	cn.resume = NULL;
}
