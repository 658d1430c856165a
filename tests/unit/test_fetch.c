/*
 * fetch against a real HTTP server: an evhttp on 127.0.0.1 (free port) in
 * the same event_base, so the loop drives both ends.  SMTP goes to a
 * scripted server in a thread.  Every wait has a deadline, so a bug fails
 * the test instead of hanging it.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <openssl/evp.h>

#include "notify/curlfetch.h"
#include "notify/fetch.h"

/* A started transfer, or the test fails. */
static struct fetch *
start_ok(const struct fetch_request *req, fetch_cb cb, void *arg)
{
	struct fetch	*f = NULL;
	int		 rc = fetch_start(req, cb, arg, &f);

	if (rc != 0)
		fail_msg("fetch_start: %s", strerror(-rc));
	assert_non_null(f);
	return f;
}

/* What fetch_start answers; a transfer it started anyway is cancelled. */
static int
start_rc(const struct fetch_request *req, fetch_cb cb, void *arg)
{
	struct fetch	*f = NULL;
	int		 rc = fetch_start(req, cb, arg, &f);

	if (rc == 0)
		fetch_cancel(f);
	else
		assert_null(f);
	return rc;
}

#define BIG_LEN		(FETCH_BODY_MAX + 10000)
#define MAX_HEADERS	32

/* What the server saw of the last request to /echo. */
static struct {
	char	 method[16];
	char	*body;
	size_t	 body_len;
	char	*headers[MAX_HEADERS];	/* "Name: value" */
	size_t	 nheaders;
	int	 requests;	/* all of them, kept across seen_clear() */
	int	 target_hits;	/* requests to /target, kept too */
} seen;

/* What a fetch callback was given, copied: the result dies with the call. */
struct got {
	int	 calls;
	long	 status;
	char	*error;
	char	*content_type;
	char	*body;
	size_t	 body_len;
	int64_t	 duration_ms;
	int64_t	 retry_after_ms;
	int	*counter;	/* bumped on every callback, shared by a batch */
};

static struct event_base *base;
static struct evhttp *http;
static int port;
static int deadline_hit;

static void
seen_clear(void)
{
	int requests = seen.requests, target_hits = seen.target_hits;
	size_t i;

	free(seen.body);
	for (i = 0; i < seen.nheaders; i++)
		free(seen.headers[i]);
	memset(&seen, 0, sizeof(seen));
	seen.requests = requests;
	seen.target_hits = target_hits;
}

static void
reply(struct evhttp_request *req, int code, const char *ctype,
    const void *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	assert_non_null(out);
	if (ctype != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", ctype);
	evbuffer_add(out, body, len);
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Other", out);
	evbuffer_free(out);
}

/*
 * A 503 with the headers the query asks for, in order: v=X sends
 * "Retry-After: X", lc=X "retry-after: X", pad=N first N headers of
 * 1000 bytes each.
 */
static void
serve_retry(struct evhttp_request *req, const char *query)
{
	struct evkeyvalq q, *out = evhttp_request_get_output_headers(req);
	struct evkeyval *kv;
	char name[32], pad[1001];
	int i, n;

	TAILQ_INIT(&q);
	assert_int_equal(evhttp_parse_query_str(query, &q), 0);
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	TAILQ_FOREACH(kv, &q, next) {
		if (strcmp(kv->key, "v") == 0)
			evhttp_add_header(out, "Retry-After", kv->value);
		else if (strcmp(kv->key, "lc") == 0)
			evhttp_add_header(out, "retry-after", kv->value);
		else if (strcmp(kv->key, "pad") == 0) {
			n = atoi(kv->value);
			for (i = 0; i < n; i++) {
				snprintf(name, sizeof(name), "X-Pad-%d", i);
				evhttp_add_header(out, name, pad);
			}
		}
	}
	evhttp_clear_headers(&q);
	reply(req, 503, "text/plain", "busy", 4);
}

static void
serve(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyval *kv;
	static char big[BIG_LEN];
	char where[128];
	size_t i, n;

	if (strcmp(uri, "/echo") == 0) {
		seen_clear();
		seen.requests++;
		switch (evhttp_request_get_command(req)) {
		case EVHTTP_REQ_GET:	strcpy(seen.method, "GET"); break;
		case EVHTTP_REQ_POST:	strcpy(seen.method, "POST"); break;
		case EVHTTP_REQ_PUT:	strcpy(seen.method, "PUT"); break;
		default:		strcpy(seen.method, "other"); break;
		}
		n = evbuffer_get_length(in);
		seen.body = malloc(n + 1);
		assert_non_null(seen.body);
		evbuffer_copyout(in, seen.body, n);
		seen.body[n] = '\0';
		seen.body_len = n;
		TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next) {
			if (seen.nheaders == MAX_HEADERS)
				break;
			if (asprintf(&seen.headers[seen.nheaders], "%s: %s",
			    kv->key, kv->value) == -1)
				fail();
			seen.nheaders++;
		}
		reply(req, 200, "text/plain; charset=utf-8", seen.body, n);
	} else if (strcmp(uri, "/status/500") == 0) {
		reply(req, 500, "text/plain", "boom", 4);
	} else if (strcmp(uri, "/big") == 0) {
		for (i = 0; i < sizeof(big); i++)
			big[i] = 'a' + i % 26;
		reply(req, 200, "application/octet-stream", big, sizeof(big));
	} else if (strcmp(uri, "/redirect") == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Location", "/echo");
		reply(req, 302, NULL, "", 0);
	} else if (strcmp(uri, "/redirect-away") == 0) {
		snprintf(where, sizeof(where), "http://127.0.0.1:%d/target", port);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Location", where);
		reply(req, 302, "text/plain", "moved", 5);
	} else if (strcmp(uri, "/target") == 0) {
		seen.target_hits++;
		reply(req, 200, "text/plain", "target", 6);
	} else if (strncmp(uri, "/retry?", 7) == 0) {
		serve_retry(req, uri + 7);
	} else if (strcmp(uri, "/hang") == 0) {
		/* Never answered; evhttp frees it when either side closes. */
	} else {
		reply(req, 404, "text/plain", "no", 2);
	}
}

/*
 * A scripted ESMTP server in a thread: one connection, just enough of RFC
 * 5321 for curl, and a record of what arrived.  It gives up 5 s after it
 * started, so a client that never comes cannot hang the test.  The record
 * is read only after smtpd_stop() joined the thread: no locks, and a
 * failed assertion cannot leave the server waiting on one.
 */
#define SMTPD_RCPT_MAX	8
#define SMTPD_LINE_MAX	(64 * 1024)
#define SMTPD_MSG_MAX	(1024 * 1024)
#define SMTPD_LIFE_MS	5000

struct smtpd {
	pthread_t	 thread;
	int		 lfd;
	int		 fd;
	int		 port;
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
	char		 in[SMTPD_LINE_MAX];
	size_t		 inlen;
	/* The script, fixed before the thread starts. */
	int		 rcpt_code;	/* the reply to every RCPT */
	int		 auth;		/* offer AUTH PLAIN */
	int		 mute_after_data;	/* never answer the end of the message */
	int		 started;
	/* What arrived. */
	int		 ehlo;
	int		 mail;		/* MAIL commands */
	char		 from[256];	/* MAIL FROM argument as sent */
	char		 rcpt[SMTPD_RCPT_MAX][256];
	int		 nrcpt;
	int		 data;		/* DATA commands */
	char		*msg;		/* dot-unstuffed, without the final "." line */
	size_t		 msg_len;
	char		 auth_plain[256];	/* base64 of AUTH PLAIN */
};

static struct smtpd smtpd;	/* static: teardown stops it after a failure */

static int
smtpd_left_ms(const struct smtpd *sd)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(sd->deadline.tv_sec - now.tv_sec) * 1000 +
	    (sd->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

static int
smtpd_wait(const struct smtpd *sd, int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int left;

	if ((left = smtpd_left_ms(sd)) == 0)
		return -1;
	return poll(&pfd, 1, left) == 1 ? 0 : -1;
}

static void
smtpd_say(struct smtpd *sd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0 && (n = send(sd->fd, s, len, MSG_NOSIGNAL)) > 0) {
		s += n;
		len -= n;
	}
}

/* One line without its CRLF into line (len bytes); -1 on EOF or deadline. */
static int
smtpd_line(struct smtpd *sd, char *line, size_t *len)
{
	char *eol;
	ssize_t n;

	for (;;) {
		eol = memmem(sd->in, sd->inlen, "\r\n", 2);
		if (eol != NULL) {
			*len = eol - sd->in;
			memcpy(line, sd->in, *len);
			line[*len] = '\0';
			sd->inlen -= *len + 2;
			memmove(sd->in, eol + 2, sd->inlen);
			return 0;
		}
		if (sd->inlen == sizeof(sd->in) || smtpd_wait(sd, sd->fd) == -1 ||
		    (n = recv(sd->fd, sd->in + sd->inlen,
		    sizeof(sd->in) - sd->inlen, 0)) <= 0)
			return -1;
		sd->inlen += n;
	}
}

static void
smtpd_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* After 354: the message up to the lone ".", then the reply to it. */
static int
smtpd_message(struct smtpd *sd, char *line)
{
	char *msg = malloc(SMTPD_MSG_MAX);
	size_t len, msg_len = 0;
	const char *p;

	/* No cmocka asserts in this thread: they longjmp to the main one. */
	if (msg == NULL)
		return -1;
	while (smtpd_line(sd, line, &len) == 0) {
		if (len == 1 && line[0] == '.') {
			free(sd->msg);
			sd->msg = msg;
			sd->msg_len = msg_len;
			if (sd->mute_after_data) {
				/* A hung server: read on, say nothing. */
				while (smtpd_line(sd, line, &len) == 0)
					;
				return -1;
			}
			smtpd_say(sd, "250 2.0.0 queued\r\n");
			return 0;
		}
		p = line[0] == '.' ? line + 1 : line;	/* RFC 5321 4.5.2 */
		len -= p - line;
		if (msg_len + len + 2 > SMTPD_MSG_MAX)
			break;
		memcpy(msg + msg_len, p, len);
		memcpy(msg + msg_len + len, "\r\n", 2);
		msg_len += len + 2;
	}
	free(msg);
	return -1;
}

static void *
smtpd_main(void *arg)
{
	struct smtpd *sd = arg;
	char *line = malloc(SMTPD_LINE_MAX + 1), reply[64];
	size_t len;

	if (line == NULL || smtpd_wait(sd, sd->lfd) == -1 ||
	    (sd->fd = accept(sd->lfd, NULL, NULL)) == -1)
		goto out;
	smtpd_say(sd, "220 dutyd-test ESMTP\r\n");
	while (smtpd_line(sd, line, &len) == 0) {
		if (strncasecmp(line, "EHLO ", 5) == 0) {
			sd->ehlo++;
			smtpd_say(sd, "250-dutyd-test\r\n");
			if (sd->auth)
				smtpd_say(sd, "250-AUTH PLAIN\r\n");
			smtpd_say(sd, "250 SIZE 10485760\r\n");
		} else if (strncasecmp(line, "AUTH PLAIN", 10) == 0) {
			if (line[10] == ' ')
				smtpd_copy(sd->auth_plain,
				    sizeof(sd->auth_plain), line + 11);
			else {
				smtpd_say(sd, "334 \r\n");
				if (smtpd_line(sd, line, &len) == -1)
					break;
				smtpd_copy(sd->auth_plain,
				    sizeof(sd->auth_plain), line);
			}
			smtpd_say(sd, "235 2.7.0 ok\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			smtpd_copy(sd->from, sizeof(sd->from), line + 10);
			sd->mail++;
			smtpd_say(sd, "250 2.1.0 ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			if (sd->nrcpt < SMTPD_RCPT_MAX)
				snprintf(sd->rcpt[sd->nrcpt++],
				    sizeof(sd->rcpt[0]), "%s", line + 8);
			snprintf(reply, sizeof(reply), "%d %s\r\n",
			    sd->rcpt_code, sd->rcpt_code == 250 ? "2.1.5 ok" :
			    "5.1.1 no such mailbox");
			smtpd_say(sd, reply);
		} else if (strcasecmp(line, "DATA") == 0) {
			sd->data++;
			smtpd_say(sd, "354 go ahead\r\n");
			if (smtpd_message(sd, line) == -1)
				break;
		} else if (strcasecmp(line, "QUIT") == 0) {
			smtpd_say(sd, "221 2.0.0 bye\r\n");
			break;
		} else if (strcasecmp(line, "RSET") == 0 ||
		    strcasecmp(line, "NOOP") == 0)
			smtpd_say(sd, "250 2.0.0 ok\r\n");
		else
			smtpd_say(sd, "502 5.5.2 not here\r\n");
	}
 out:
	if (sd->fd != -1)
		close(sd->fd);
	sd->fd = -1;
	free(line);
	return NULL;
}

static struct smtpd *
smtpd_start(int rcpt_code, int auth)
{
	struct smtpd *sd = &smtpd;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(sd, 0, sizeof(*sd));
	sd->fd = -1;
	sd->rcpt_code = rcpt_code;
	sd->auth = auth;
	assert_true((sd->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sd->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(sd->lfd, 4), 0);
	assert_int_equal(getsockname(sd->lfd, (struct sockaddr *)&sin, &len), 0);
	sd->port = ntohs(sin.sin_port);
	clock_gettime(CLOCK_MONOTONIC, &sd->deadline);
	sd->deadline.tv_sec += SMTPD_LIFE_MS / 1000;
	assert_int_equal(pthread_create(&sd->thread, NULL, smtpd_main, sd), 0);
	sd->started = 1;
	return sd;
}

/*
 * Closes dutyd's side first (curl says QUIT to a cached connection), so
 * the thread ends now rather than at its deadline.
 */
static void
smtpd_stop(struct smtpd *sd)
{
	if (!sd->started)
		return;
	sd->started = 0;
	curlfetch_shutdown();
	pthread_join(sd->thread, NULL);
	close(sd->lfd);
}

static int
setup(void **unused)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	seen_clear();
	seen.requests = 0;
	seen.target_hits = 0;
	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL)
		return -1;
	evhttp_set_gencb(http, serve, NULL);
	if ((bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0)) == NULL)
		return -1;
	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &len) == -1)
		return -1;
	port = ntohs(sin.sin_port);
	return curlfetch_init(base) == 0 ? 0 : -1;
}

static int
teardown(void **unused)
{
	smtpd_stop(&smtpd);
	free(smtpd.msg);
	smtpd.msg = NULL;
	curlfetch_shutdown();
	evhttp_free(http);
	event_base_free(base);
	seen_clear();
	return 0;
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	deadline_hit = 1;
	event_base_loopbreak(base);
}

/* Runs the loop until *count reaches want or ms pass; 1 if it got there. */
static int
run_until(const int *count, int want, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *deadline;

	deadline_hit = 0;
	deadline = evtimer_new(base, on_deadline, NULL);
	assert_non_null(deadline);
	evtimer_add(deadline, &tv);
	while ((count == NULL || *count < want) && !deadline_hit)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(deadline);
	return count != NULL && *count >= want;
}

static void
got_clear(struct got *g)
{
	free(g->error);
	free(g->content_type);
	free(g->body);
	memset(g, 0, sizeof(*g));
}

static void
on_result(const struct fetch_result *r, void *arg)
{
	struct got *g = arg;

	g->calls++;
	if (g->counter != NULL)
		(*g->counter)++;
	free(g->error);
	free(g->content_type);
	free(g->body);
	g->status = r->status;
	g->error = r->error ? strdup(r->error) : NULL;
	g->content_type = r->content_type ? strdup(r->content_type) : NULL;
	assert_non_null(r->body);
	assert_int_equal(r->body[r->body_len], '\0');
	g->body = malloc(r->body_len + 1);
	assert_non_null(g->body);
	memcpy(g->body, r->body, r->body_len + 1);
	g->body_len = r->body_len;
	g->duration_ms = r->duration_ms;
	g->retry_after_ms = r->retry_after_ms;
}

static struct fetch *
start(const char *method, const char *path, const char *body, size_t len,
    int64_t timeout_ms, struct got *g)
{
	struct fetch_request req;
	char url[512];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;	/* fetch copies it */
	req.body = body;
	req.body_len = len;
	req.timeout_ms = timeout_ms;
	return start_ok(&req, on_result, g);
}

static const char *
seen_header(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < seen.nheaders; i++)
		if (strncasecmp(seen.headers[i], name, n) == 0 &&
		    seen.headers[i][n] == ':')
			return seen.headers[i] + n + 2;
	return NULL;
}

static void
test_post_arrives_exactly(void **unused)
{
	/* Binary-safe: an embedded NUL and UTF-8 must survive. */
	static const char body[] = "{\"text\":\"河堤渗水\"}\0tail";
	char *headers[] = {
		"Content-Type: application/json",
		"X-Dutyd-Delivery: d-42",
		"User-Agent: dutyd",
	};
	struct fetch_request req;
	struct got g = { 0 };
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.nheaders = 3;
	req.body = body;
	req.body_len = sizeof(body) - 1;
	req.timeout_ms = 5000;
	assert_non_null(start_ok(&req, on_result, &g));
	url[0] = '\0';	/* fetch made its own copies */
	headers[1] = "X-Dutyd-Delivery: changed";
	assert_int_equal(g.calls, 0);	/* never from inside fetch_start */
	assert_int_equal(fetch_inflight(), 1);

	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.calls, 1);
	assert_int_equal(fetch_inflight(), 0);
	assert_int_equal(seen.requests, 1);
	assert_string_equal(seen.method, "POST");
	assert_int_equal(seen.body_len, sizeof(body) - 1);
	assert_memory_equal(seen.body, body, sizeof(body) - 1);
	assert_string_equal(seen_header("Content-Type"), "application/json");
	assert_string_equal(seen_header("X-Dutyd-Delivery"), "d-42");
	assert_string_equal(seen_header("User-Agent"), "dutyd");
	assert_null(seen_header("Expect"));

	assert_int_equal(g.status, 200);
	assert_null(g.error);
	assert_string_equal(g.content_type, "text/plain; charset=utf-8");
	assert_int_equal(g.body_len, sizeof(body) - 1);
	assert_memory_equal(g.body, body, sizeof(body) - 1);
	assert_true(g.duration_ms >= 0 && g.duration_ms < 5000);
	got_clear(&g);
}

/*
 * A kept connection's socket stays watched between transfers (no epoll_ctl
 * to drop it and another to take it back).  When the server closes it
 * meanwhile, the loop does not spin on it, the next transfer gets through
 * on a new connection, and the one after reuses that.
 */
static void
test_kept_connection_closed_while_idle(void **unused)
{
	struct fetch_request	 req;
	struct got		 g = { 0 };
	char			 url[128];
	clock_t			 cpu;
	int			 i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "x";
	req.body_len = 1;
	req.timeout_ms = 5000;
	evhttp_set_timeout(http, 1);	/* idle connections closed after 1 s */
	for (i = 0; i < 3; i++) {
		assert_non_null(start_ok(&req, on_result, &g));
		assert_true(run_until(&g.calls, i + 1, 5000));
		assert_int_equal(g.status, 200);
		assert_string_equal(g.body, "x");
		assert_int_equal(fetch_inflight(), 0);
		if (i > 0)
			continue;
		cpu = clock();
		run_until(NULL, 0, 1600);	/* the server closes it meanwhile */
		assert_true(clock() - cpu < CLOCKS_PER_SEC / 4);
	}
	assert_int_equal(seen.requests, 3);
	got_clear(&g);
}

static void
test_methods(void **unused)
{
	struct got g = { 0 };

	start("PUT", "/echo", "abc", 3, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_string_equal(seen.method, "PUT");
	assert_string_equal(seen.body, "abc");
	assert_int_equal(g.status, 200);
	got_clear(&g);

	start("GET", "/echo", NULL, 0, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_string_equal(seen.method, "GET");
	assert_int_equal(seen.body_len, 0);
	assert_int_equal(g.status, 200);
	got_clear(&g);

	/* An empty POST is still a POST. */
	start("POST", "/echo", NULL, 0, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_string_equal(seen.method, "POST");
	assert_int_equal(seen.body_len, 0);
	got_clear(&g);
}

static void
test_status_reported(void **unused)
{
	struct got ok = { 0 }, bad = { 0 }, redir = { 0 }, missing = { 0 };
	int done = 0;

	ok.counter = bad.counter = redir.counter = missing.counter = &done;
	start("POST", "/echo", "x", 1, 5000, &ok);
	start("POST", "/status/500", "x", 1, 5000, &bad);
	start("POST", "/redirect", "x", 1, 5000, &redir);
	start("POST", "/nowhere", "x", 1, 5000, &missing);
	assert_true(run_until(&done, 4, 5000));

	assert_int_equal(ok.status, 200);
	assert_int_equal(bad.status, 500);
	assert_null(bad.error);	/* a response came: no transport error */
	assert_string_equal(bad.body, "boom");
	assert_string_equal(bad.content_type, "text/plain");
	/* Redirects are reported, not followed. */
	assert_int_equal(redir.status, 302);
	assert_int_equal(seen.requests, 1);
	assert_int_equal(missing.status, 404);
	got_clear(&ok);
	got_clear(&bad);
	got_clear(&redir);
	got_clear(&missing);
}

static void
test_big_body_truncated(void **unused)
{
	struct got g = { 0 };
	size_t i;

	start("GET", "/big", NULL, 0, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 200);
	assert_null(g.error);
	assert_int_equal(g.body_len, FETCH_BODY_MAX);
	for (i = 0; i < g.body_len; i++)
		if (g.body[i] != 'a' + (char)(i % 26))
			fail_msg("body byte %zu is '%c'", i, g.body[i]);
	got_clear(&g);
}

static void
test_connection_refused(void **unused)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct fetch_request req;
	struct got g = { 0 };
	char url[128], portstr[16];
	int fd;

	/*
	 * A port held bound but not listening refuses connections; closing
	 * it first would let another test (they run side by side) take it.
	 */
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	snprintf(portstr, sizeof(portstr), "%d", ntohs(sin.sin_port));
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "x";
	req.body_len = 1;
	req.timeout_ms = 5000;
	assert_non_null(start_ok(&req, on_result, &g));
	assert_int_equal(g.calls, 0);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_true(strlen(g.error) > 0);
	/* Says where it tried, for the person reading the audit log. */
	assert_non_null(strstr(g.error, portstr));
	got_clear(&g);
	close(fd);
}

static void
test_timeout(void **unused)
{
	struct got g = { 0 };

	start("POST", "/hang", "x", 1, 300, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_true(strlen(g.error) > 0);
	assert_true(g.duration_ms >= 250);
	assert_true(g.duration_ms < 5000);
	got_clear(&g);
}

/* Only http, https, smtp, smtps: no file://, no ftp:// from a config typo. */
static void
test_other_schemes_refused(void **unused)
{
	static const char *urls[] = { "file:///etc/passwd", "ftp://127.0.0.1/",
	    "gopher://127.0.0.1/", "FILE:///etc/shadow", "dict://127.0.0.1/",
	    "scp://127.0.0.1/x" };
	struct fetch_request req;
	struct got g = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.url = urls[i];
		req.timeout_ms = 2000;
		if ((rc = start_rc(&req, on_result, &g)) == 0)
			fail_msg("%s was accepted", urls[i]);
		assert_int_equal(rc, -EPROTONOSUPPORT);
	}
	/* Not a URL at all: curl would guess http, we do not. */
	req.url = "127.0.0.1/echo";
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);
	assert_int_equal(fetch_inflight(), 0);
	assert_false(run_until(&g.calls, 1, 100));
}

static void
test_bad_requests(void **unused)
{
	char *smuggle[] = { "X-A: 1\r\nX-B: 2" };
	struct fetch_request req;
	struct got g = { 0 };
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.timeout_ms = 0;	/* every transfer needs a bound */
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);
	req.timeout_ms = 1000;
	req.headers = smuggle;
	req.nheaders = 1;
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);
	req.nheaders = 0;
	req.method = "PO ST";
	assert_int_not_equal(start_rc(&req, on_result, &g), 0);
	assert_int_equal(fetch_inflight(), 0);
	assert_false(run_until(&g.calls, 1, 100));
}

static void
test_cancel(void **unused)
{
	struct got hang = { 0 }, quick = { 0 }, control = { 0 };
	struct fetch *f1, *f2;

	f1 = start("POST", "/hang", "x", 1, 300, &hang);
	f2 = start("POST", "/echo", "x", 1, 5000, &quick);
	start("POST", "/echo", "y", 1, 5000, &control);
	assert_int_equal(fetch_inflight(), 3);
	fetch_cancel(f1);
	fetch_cancel(f2);
	fetch_cancel(NULL);
	assert_int_equal(fetch_inflight(), 1);
	assert_true(run_until(&control.calls, 1, 5000));
	/* Past the cancelled one's own timeout: still nothing. */
	assert_false(run_until(NULL, 0, 600));
	assert_int_equal(hang.calls, 0);
	assert_int_equal(quick.calls, 0);
	assert_int_equal(control.calls, 1);
	assert_int_equal(fetch_inflight(), 0);
	got_clear(&control);
}

/* A callback that starts the next fetch and cancels another one. */
struct chain {
	struct got	 got;
	struct got	*next;
	struct fetch	*victim;
};

static void
on_chain(const struct fetch_result *r, void *arg)
{
	struct chain *c = arg;

	on_result(r, &c->got);
	fetch_cancel(c->victim);
	c->victim = NULL;
	if (c->next != NULL)
		start("POST", "/echo", "next", 4, 5000, c->next);
}

static void
test_reentrant(void **unused)
{
	struct chain c = { { 0 }, NULL, NULL };
	struct got victim = { 0 }, next = { 0 }, peer = { 0 };
	struct fetch_request req;
	char url[128];
	int i;

	c.next = &next;
	c.victim = start("POST", "/hang", "x", 1, 300, &victim);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "first";
	req.body_len = 5;
	req.timeout_ms = 5000;
	assert_non_null(start_ok(&req, on_chain, &c));
	/* Peers finishing in the same turn must survive the callback. */
	for (i = 0; i < 3; i++)
		start("POST", "/echo", "p", 1, 5000, &peer);
	assert_true(run_until(&next.calls, 1, 5000));
	assert_int_equal(c.got.calls, 1);
	assert_int_equal(c.got.status, 200);
	assert_int_equal(next.status, 200);
	assert_string_equal(next.body, "next");
	assert_true(run_until(&peer.calls, 3, 5000));
	assert_false(run_until(NULL, 0, 500));
	assert_int_equal(victim.calls, 0);
	assert_int_equal(fetch_inflight(), 0);
	got_clear(&c.got);
	got_clear(&next);
	got_clear(&peer);
}

static void
on_shutdown(const struct fetch_result *r, void *arg)
{
	on_result(r, arg);
	curlfetch_shutdown();	/* e.g. dutyd stopping from a callback */
}

static void
test_shutdown_from_callback(void **unused)
{
	struct got g = { 0 };
	struct fetch_request req;
	char url[128];
	int i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 5000;
	for (i = 0; i < 5; i++)
		assert_non_null(start_ok(&req, on_shutdown, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	assert_false(run_until(&g.calls, 2, 300));
	assert_int_equal(g.calls, 1);
	assert_int_equal(fetch_inflight(), 0);
		assert_int_equal(start_rc(&req, on_result, &g), -ENOTCONN);
	got_clear(&g);
}

static void
test_concurrent(void **unused)
{
	enum { N = 20 };
	struct got g[N];
	char body[N][16];
	int done = 0, i;

	memset(g, 0, sizeof(g));
	for (i = 0; i < N; i++) {
		g[i].counter = &done;
		snprintf(body[i], sizeof(body[i]), "req-%d", i);
		start("POST", "/echo", body[i], strlen(body[i]), 5000, &g[i]);
	}
	assert_int_equal(fetch_inflight(), N);
	assert_true(run_until(&done, N, 10000));
	for (i = 0; i < N; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].status, 200);
		assert_string_equal(g[i].body, body[i]);
		got_clear(&g[i]);
	}
	assert_int_equal(fetch_inflight(), 0);
}

/* The cap, then shutdown with everything in flight: ASan checks the rest. */
static void
test_cap_and_shutdown(void **unused)
{
	enum { CAP = 256 };
	struct got g = { 0 };
	struct fetch_request req;
	char url[128];
	int i;

	for (i = 0; i < CAP; i++)
		start("POST", "/hang", "x", 1, 10000, &g);
	assert_int_equal(fetch_inflight(), CAP);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.timeout_ms = 1000;
		assert_int_equal(start_rc(&req, on_result, &g), -EAGAIN);

	/* Let connections open and requests go out before pulling the plug. */
	run_until(NULL, 0, 300);
	curlfetch_shutdown();
	assert_int_equal(fetch_inflight(), 0);
	assert_false(run_until(NULL, 0, 200));
	assert_int_equal(g.calls, 0);

	/* And the module comes back up. */
	assert_int_equal(curlfetch_init(base), 0);
	start("GET", "/echo", NULL, 0, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 200);
	got_clear(&g);
}

/* The 302 comes back as it is; its Location never sees a request. */
static void
test_redirect_not_followed(void **unused)
{
	struct got g = { 0 };

	start("GET", "/redirect-away", NULL, 0, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 302);
	assert_null(g.error);
	assert_string_equal(g.body, "moved");
	assert_int_equal(seen.target_hits, 0);
	got_clear(&g);
}

static char *
base64(const void *in, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static void
test_basic_auth(void **unused)
{
	static const char user[] = "值班员", pass[] = "p@ss:wörd 1";
	struct fetch_request req;
	struct got g = { 0 };
	char url[128], password[sizeof(pass)], *want, *cred;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memcpy(password, pass, sizeof(pass));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 5000;
	req.username = user;
	req.password = password;
	assert_non_null(start_ok(&req, on_result, &g));
	memset(password, 'x', sizeof(password) - 1);	/* fetch kept a copy */
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 200);

	assert_true(asprintf(&cred, "%s:%s", user, pass) > 0);
	want = base64(cred, strlen(cred));
	assert_non_null(seen_header("Authorization"));
	assert_memory_equal(seen_header("Authorization"), "Basic ", 6);
	assert_string_equal(seen_header("Authorization") + 6, want);
	free(want);
	free(cred);
	got_clear(&g);

	/* Without a username nothing is sent; a password alone is an error. */
	req.username = NULL;
	req.password = NULL;
	assert_non_null(start_ok(&req, on_result, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 200);
	assert_null(seen_header("Authorization"));
	got_clear(&g);
	req.password = pass;
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);
}

/*
 * Finished transfers' handles serve the next ones: nothing of a request
 * (its headers, body, method, credentials) may reach the one after it,
 * also with more transfers at once than handles are kept.
 */
static void
test_nothing_carried_over(void **unused)
{
	char *headers[] = { "X-Only-Once: 1" };
	struct fetch_request req;
	struct got g[24];
	char url[128];
	int done = 0;
	size_t i;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url;
	req.headers = headers;
	req.nheaders = 1;
	req.body = "first";
	req.body_len = 5;
	req.timeout_ms = 5000;
	req.username = "u";
	req.password = "p";
	memset(g, 0, sizeof(g));
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		g[i].counter = &done;
		start_ok(&req, on_result, &g[i]);
	}
	assert_true(run_until(&done, (int)(sizeof(g) / sizeof(g[0])), 10000));
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		assert_int_equal(g[i].status, 200);
		got_clear(&g[i]);
	}
	assert_string_equal(seen.method, "PUT");
	assert_non_null(seen_header("X-Only-Once"));
	assert_non_null(seen_header("Authorization"));

	req.method = NULL;	/* a GET, as no body says */
	req.headers = NULL;
	req.nheaders = 0;
	req.body = NULL;
	req.body_len = 0;
	req.username = req.password = NULL;
	done = 0;
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		g[i].counter = &done;
		seen_clear();
		start_ok(&req, on_result, &g[i]);
		assert_true(run_until(&g[i].calls, 1, 5000));
		assert_int_equal(g[i].status, 200);
		assert_string_equal(seen.method, "GET");
		assert_int_equal(seen.body_len, 0);
		assert_null(seen_header("X-Only-Once"));
		assert_null(seen_header("Authorization"));
		got_clear(&g[i]);
	}
}

/* One request to /echo (or to URL when given), run to its answer. */
static void
plain_one(const char *method, const char *hdr, const char *body,
    const char *user, const char *url, struct got *g)
{
	struct fetch_request req;
	char echo[128], *headers[1];

	snprintf(echo, sizeof(echo), "http://127.0.0.1:%d/echo", port);
	headers[0] = (char *)hdr;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url != NULL ? url : echo;
	req.headers = hdr != NULL ? headers : NULL;
	req.nheaders = hdr != NULL ? 1 : 0;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.timeout_ms = 5000;
	req.username = user;
	req.password = user;
	seen_clear();
	memset(g, 0, sizeof(*g));
	assert_non_null(start_ok(&req, on_result, g));
	assert_true(run_until(&g->calls, 1, 5000));
}

/*
 * A plain POST's handle keeps its options for the next plain POST, which
 * sets only its own: each request still carries its own headers, body
 * and error message and nothing else, also after and before a request
 * that needs a reset handle (credentials, another method, no body).
 */
static void
test_plain_posts_keep_options(void **unused)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct got g;
	char refused[128], portstr[16];
	int fd, i;

	for (i = 0; i < 3; i++) {
		plain_one(i == 1 ? "POST" : NULL, i == 0 ? "X-A: 1" : "X-B: 2",
		    i == 0 ? "one" : "second body", NULL, NULL, &g);
		assert_int_equal(g.status, 200);
		assert_string_equal(seen.method, "POST");
		assert_int_equal(seen.body_len, i == 0 ? 3 : 11);
		assert_memory_equal(seen.body, i == 0 ? "one" : "second body",
		    seen.body_len);
		assert_true((seen_header("X-A") != NULL) == (i == 0));
		assert_true((seen_header("X-B") != NULL) == (i != 0));
		got_clear(&g);
	}
	plain_one("PUT", "X-C: 3", "put", "u", NULL, &g);
	assert_string_equal(seen.method, "PUT");
	assert_non_null(seen_header("Authorization"));
	assert_null(seen_header("X-B"));
	got_clear(&g);
	plain_one(NULL, NULL, "after", NULL, NULL, &g);
	assert_string_equal(seen.method, "POST");
	assert_null(seen_header("Authorization"));
	assert_null(seen_header("X-C"));
	assert_memory_equal(seen.body, "after", 5);
	got_clear(&g);
	plain_one(NULL, NULL, NULL, NULL, NULL, &g);
	assert_string_equal(seen.method, "GET");
	assert_int_equal(seen.body_len, 0);
	got_clear(&g);

	/* A kept handle's failure still says what curl's error buffer says. */
	plain_one(NULL, "X-A: 1", "warm", NULL, NULL, &g);
	got_clear(&g);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/",
	    ntohs(sin.sin_port));
	snprintf(portstr, sizeof(portstr), "%d", ntohs(sin.sin_port));
	plain_one(NULL, "X-A: 1", "x", NULL, refused, &g);
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_non_null(strstr(g.error, portstr));
	got_clear(&g);
	close(fd);
	plain_one(NULL, "X-A: 1", "back", NULL, NULL, &g);
	assert_int_equal(g.status, 200);
	assert_memory_equal(seen.body, "back", 4);
	got_clear(&g);
}

/*
 * connect_timeout_ms bounds the connect, timeout_ms the whole transfer.  A
 * listener with backlog 0 and one connection queued makes Linux drop
 * further SYNs, which is what a dead host looks like.
 */
static void
test_connect_timeout(void **unused)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct fetch_request req;
	struct got g = { 0 };
	char url[128];
	int lfd, filler;

	assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_true((filler = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(filler, (struct sockaddr *)&sin, sizeof(sin)), 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 5000;
	req.connect_timeout_ms = 300;
	assert_non_null(start_ok(&req, on_result, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_true(g.duration_ms >= 250);
	assert_true(g.duration_ms < 2500);
	got_clear(&g);
	close(filler);
	close(lfd);

	/* A server that accepted but is slow still gets all of timeout_ms. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang", port);
	req.timeout_ms = 900;
	assert_non_null(start_ok(&req, on_result, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_true(g.duration_ms >= 850);
	assert_true(g.duration_ms < 5000);
	got_clear(&g);
}

static void
test_retry_after(void **unused)
{
	struct {
		char		 query[256];
		int64_t		 min, max;
	} cases[] = {
		{ "v=120", 120000, 120000 },
		{ "v=0", 0, 0 },
		{ "lc=7", 7000, 7000 },			/* any case */
		{ "v=30&v=60", 60000, 60000 },		/* the last one */
		{ "v=99999999999999999999999", FETCH_RETRY_AFTER_MAX,
		    FETCH_RETRY_AFTER_MAX },
		{ "v=7200", FETCH_RETRY_AFTER_MAX, FETCH_RETRY_AFTER_MAX },
		{ "v=soon", 0, 0 },
		{ "v=-5", 0, 0 },
		{ "v=1.5", 0, 0 },
		{ "v=12abc", 0, 0 },
		{ "x=1", 0, 0 },			/* none */
		{ "pad=40&v=120", 0, 0 },		/* past the header cap */
		{ "", 110000, 120000 },			/* HTTP-date in 2 min */
		{ "", 0, 0 },				/* HTTP-date gone by */
		{ "", FETCH_RETRY_AFTER_MAX, FETCH_RETRY_AFTER_MAX },	/* in a day */
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	static const int64_t offsets[3] = { 120, -3600, 86400 };
	struct got g[N];
	struct tm tm;
	time_t when;
	char date[64], *enc, path[sizeof(cases[0].query) + 8];
	int done = 0, i;

	for (i = 0; i < 3; i++) {
		when = time(NULL) + offsets[i];
		assert_non_null(gmtime_r(&when, &tm));
		assert_true(evutil_date_rfc1123(date, sizeof(date), &tm) > 0);
		assert_non_null(enc = evhttp_encode_uri(date));
		snprintf(cases[N - 3 + i].query, sizeof(cases[0].query),
		    "v=%s", enc);
		free(enc);
	}
	memset(g, 0, sizeof(g));
	for (i = 0; i < N; i++) {
		g[i].counter = &done;
		assert_true(snprintf(path, sizeof(path), "/retry?%s",
		    cases[i].query) < (int)sizeof(path));
		start("POST", path, "x", 1, 5000, &g[i]);
	}
	assert_true(run_until(&done, N, 5000));
	for (i = 0; i < N; i++) {
		assert_int_equal(g[i].status, 503);
		if (g[i].retry_after_ms < cases[i].min ||
		    g[i].retry_after_ms > cases[i].max)
			fail_msg("Retry-After from \"%s\": %lld ms, want "
			    "%lld..%lld", cases[i].query,
			    (long long)g[i].retry_after_ms,
			    (long long)cases[i].min, (long long)cases[i].max);
		got_clear(&g[i]);
	}
}

#define MAIL_FROM	"duty@example.gov.cn"

static void
smtp_request(struct fetch_request *req, char *url, size_t len,
    const struct smtpd *sd, char *const *rcpt, size_t nrcpt)
{
	snprintf(url, len, "smtp://127.0.0.1:%d/dutyd.example", sd->port);
	memset(req, 0, sizeof(*req));
	req->url = url;
	req->timeout_ms = 5000;
	req->mail_from = MAIL_FROM;
	req->mail_rcpt = rcpt;
	req->nrcpt = nrcpt;
	req->body = "Subject: x\r\n\r\nx\r\n";
	req->body_len = strlen(req->body);
}

/* Envelope, credentials and every byte of a large message arrive intact. */
static void
test_smtp_delivers(void **unused)
{
	static const char plain[] = "\0duty\0s3cret";	/* RFC 4616 */
	char *rcpt[] = { "zhang@example.gov.cn", "<li@example.gov.cn>" };
	char url[128], *msg, *orig, *want_auth, size[32];
	struct fetch_request req;
	struct smtpd *sd;
	struct got g = { 0 };
	size_t len = 0, cap = 200 * 1024;
	int i;

	/* Past curl's 64 KiB upload buffer; lines that need dot-stuffing. */
	assert_non_null(msg = malloc(cap));
	len += snprintf(msg, cap, "From: 值班室 <" MAIL_FROM ">\r\n"
	    "To: zhang@example.gov.cn\r\nSubject: =?UTF-8?B?5rKz5aCk?=\r\n"
	    "\r\n河堤渗水，请立即处置。\r\n.\r\n..double\r\n.single\r\n");
	for (i = 0; len + 100 < cap - 100; i++)
		len += snprintf(msg + len, cap - len,
		    "%s line %d of the report, bare\nLF kept\r\n",
		    i % 7 == 0 ? "." : "", i);
	len += snprintf(msg + len, cap - len, "end\r\n");
	assert_non_null(orig = malloc(len));
	memcpy(orig, msg, len);

	sd = smtpd_start(250, 1);
	smtp_request(&req, url, sizeof(url), sd, rcpt, 2);
	req.body = msg;
	req.body_len = len;
	req.username = "duty";
	req.password = "s3cret";
	assert_non_null(start_ok(&req, on_result, &g));
	memset(msg, '#', len);	/* fetch kept a copy */
	assert_true(run_until(&g.calls, 1, 5000));
	smtpd_stop(sd);
	assert_null(g.error);
	assert_int_equal(g.status, 250);

	snprintf(size, sizeof(size), " SIZE=%zu", len);
	assert_memory_equal(sd->from, "<" MAIL_FROM ">",
	    strlen("<" MAIL_FROM ">"));
	assert_non_null(strstr(sd->from, size));
	assert_int_equal(sd->nrcpt, 2);
	assert_string_equal(sd->rcpt[0], "<zhang@example.gov.cn>");
	assert_string_equal(sd->rcpt[1], "<li@example.gov.cn>");
	assert_int_equal(sd->data, 1);
	assert_int_equal(sd->msg_len, len);
	assert_memory_equal(sd->msg, orig, len);
	want_auth = base64(plain, sizeof(plain) - 1);
	assert_string_equal(sd->auth_plain, want_auth);
	free(want_auth);
	free(msg);
	free(orig);
	got_clear(&g);
}

static void
test_smtp_rcpt_rejected(void **unused)
{
	char *rcpt[] = { "nobody@example.gov.cn" };
	char url[128];
	struct fetch_request req;
	struct smtpd *sd;
	struct got g = { 0 };

	sd = smtpd_start(550, 0);
	smtp_request(&req, url, sizeof(url), sd, rcpt, 1);
	assert_non_null(start_ok(&req, on_result, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	smtpd_stop(sd);
	assert_int_equal(g.status, 550);
	assert_non_null(g.error);
	assert_int_equal(sd->nrcpt, 1);
	assert_int_equal(sd->data, 0);
	got_clear(&g);
}

/* tls_required and no STARTTLS on offer: nothing goes out in plain text. */
static void
test_smtp_tls_required(void **unused)
{
	char *rcpt[] = { "zhang@example.gov.cn" };
	char url[128];
	struct fetch_request req;
	struct smtpd *sd;
	struct got g = { 0 };

	sd = smtpd_start(250, 1);
	smtp_request(&req, url, sizeof(url), sd, rcpt, 1);
	req.tls_required = 1;
	req.username = "duty";
	req.password = "s3cret";
	assert_non_null(start_ok(&req, on_result, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	smtpd_stop(sd);
	assert_non_null(g.error);
	assert_int_equal(sd->ehlo, 1);	/* it did talk to the server */
	assert_string_equal(sd->auth_plain, "");
	assert_int_equal(sd->mail, 0);
	assert_int_equal(sd->data, 0);
	assert_null(sd->msg);
	got_clear(&g);
}

static void
test_smtp_bad_requests(void **unused)
{
	char *rcpt[] = { "zhang@example.gov.cn" };
	char *smuggle[] = { "a@example.gov.cn>\r\nRCPT TO:<b@example.gov.cn" };
	char *empty[] = { "" };
	struct fetch_request req;
	struct smtpd sd = { .port = 25 };	/* only its port: never reached */
	struct got g = { 0 };
	char url[128];

	smtp_request(&req, url, sizeof(url), &sd, rcpt, 1);
	req.mail_from = NULL;
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);

	smtp_request(&req, url, sizeof(url), &sd, rcpt, 0);
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);

	smtp_request(&req, url, sizeof(url), &sd, smuggle, 1);
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);

	smtp_request(&req, url, sizeof(url), &sd, empty, 1);
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);

	smtp_request(&req, url, sizeof(url), &sd, rcpt, 1);
	req.mail_from = "a@example.gov.cn>\r\nDATA";
		assert_int_equal(start_rc(&req, on_result, &g), -EINVAL);

	assert_int_equal(fetch_inflight(), 0);
	assert_false(run_until(&g.calls, 1, 100));
}

/* Ticks of a timer the loop should keep running while a mail server hangs. */
static int64_t	 tick_last, tick_gap_max;
static int	 ticks;

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (tick_last != 0 && now - tick_last > tick_gap_max)
		tick_gap_max = now - tick_last;
	tick_last = now;
	ticks++;
}

/*
 * A mail server that takes the message and never answers must not stop
 * the loop: libcurl waits for that answer in a blocking call, so SMTP runs
 * off the loop.  The clocks (here a 50 ms timer) keep their time.
 */
static void
test_smtp_hang_does_not_block_the_loop(void **unused)
{
	static const struct timeval every = { 0, 50 * 1000 };
	char *rcpt[] = { "zhang@example.gov.cn" };
	char url[128];
	struct fetch_request req;
	struct smtpd *sd;
	struct got g = { 0 };
	struct event *tick;
	struct timespec t0, t1;

	sd = smtpd_start(250, 0);
	sd->mute_after_data = 1;
	smtp_request(&req, url, sizeof(url), sd, rcpt, 1);
	req.timeout_ms = 1500;
	tick_last = tick_gap_max = 0;
	ticks = 0;
	assert_non_null(tick = event_new(base, -1, EV_PERSIST, on_tick, NULL));
	event_add(tick, &every);
	assert_non_null(start_ok(&req, on_result, &g));
	assert_true(run_until(&g.calls, 1, 8000));
	event_free(tick);
	assert_non_null(g.error);
	assert_int_equal(g.status, 0);		/* 354 is no answer */
	assert_true(ticks >= 10);
	if (tick_gap_max > 400)
		fail_msg("the loop stood still for %lld ms during the mail "
		    "transfer", (long long)tick_gap_max);

	/* Shutdown with one still hanging returns within its bounded wait. */
	assert_non_null(start_ok(&req, on_result, &g));
	run_until(NULL, 0, 300);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	curlfetch_shutdown();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 4);
	assert_int_equal(curlfetch_init(base), 0);
	smtpd_stop(sd);
	got_clear(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_post_arrives_exactly),
		T(test_kept_connection_closed_while_idle),
		T(test_methods),
		T(test_status_reported),
		T(test_big_body_truncated),
		T(test_connection_refused),
		T(test_timeout),
		T(test_other_schemes_refused),
		T(test_bad_requests),
		T(test_cancel),
		T(test_reentrant),
		T(test_shutdown_from_callback),
		T(test_concurrent),
		T(test_cap_and_shutdown),
		T(test_redirect_not_followed),
		T(test_basic_auth),
		T(test_nothing_carried_over),
		T(test_plain_posts_keep_options),
		T(test_connect_timeout),
		T(test_retry_after),
		T(test_smtp_delivers),
		T(test_smtp_rcpt_rejected),
		T(test_smtp_tls_required),
		T(test_smtp_bad_requests),
		T(test_smtp_hang_does_not_block_the_loop),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
