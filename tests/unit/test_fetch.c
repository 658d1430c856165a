/*
 * fetch against a real HTTP server: an evhttp on 127.0.0.1 (free port) in
 * the same event_base, so the loop drives both ends.  Every wait has a
 * deadline, so a bug fails the test instead of hanging it.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "fetch.h"

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
	int	*counter;	/* bumped on every callback, shared by a batch */
};

static struct event_base *base;
static struct evhttp *http;
static int port;
static int deadline_hit;

static void
seen_clear(void)
{
	int requests = seen.requests;
	size_t i;

	free(seen.body);
	for (i = 0; i < seen.nheaders; i++)
		free(seen.headers[i]);
	memset(&seen, 0, sizeof(seen));
	seen.requests = requests;
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

static void
serve(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyval *kv;
	static char big[BIG_LEN];
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
	} else if (strcmp(uri, "/hang") == 0) {
		/* Never answered; evhttp frees it when either side closes. */
	} else {
		reply(req, 404, "text/plain", "no", 2);
	}
}

static int
setup(void **unused)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	seen_clear();
	seen.requests = 0;
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
	return fetch_init(base) == 0 ? 0 : -1;
}

static int
teardown(void **unused)
{
	fetch_shutdown();
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
}

static struct fetch *
start(const char *method, const char *path, const char *body, size_t len,
    int64_t timeout_ms, struct got *g)
{
	struct fetch_request req;
	struct fetch *f;
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;	/* fetch copies it */
	req.body = body;
	req.body_len = len;
	req.timeout_ms = timeout_ms;
	f = fetch_start(&req, on_result, g);
	assert_non_null(f);
	return f;
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
	assert_non_null(fetch_start(&req, on_result, &g));
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

	/* A port that was free a moment ago and has no listener now. */
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	snprintf(portstr, sizeof(portstr), "%d", ntohs(sin.sin_port));
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "x";
	req.body_len = 1;
	req.timeout_ms = 5000;
	assert_non_null(fetch_start(&req, on_result, &g));
	assert_int_equal(g.calls, 0);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 0);
	assert_non_null(g.error);
	assert_true(strlen(g.error) > 0);
	/* Says where it tried, for the person reading the audit log. */
	assert_non_null(strstr(g.error, portstr));
	got_clear(&g);
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

/* Only http and https: no file://, no ftp:// from a config typo. */
static void
test_other_schemes_refused(void **unused)
{
	static const char *urls[] = { "file:///etc/passwd", "ftp://127.0.0.1/",
	    "gopher://127.0.0.1/" };
	struct fetch_request req;
	struct got g = { 0 };
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.url = urls[i];
		req.timeout_ms = 2000;
		assert_non_null(fetch_start(&req, on_result, &g));
		assert_int_equal(g.calls, 0);
		assert_true(run_until(&g.calls, 1, 5000));
		assert_int_equal(g.status, 0);
		assert_non_null(g.error);
		assert_int_equal(g.body_len, 0);
		got_clear(&g);
	}
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
	errno = 0;
	assert_null(fetch_start(&req, on_result, &g));
	assert_int_equal(errno, EINVAL);
	req.timeout_ms = 1000;
	req.headers = smuggle;
	req.nheaders = 1;
	errno = 0;
	assert_null(fetch_start(&req, on_result, &g));
	assert_int_equal(errno, EINVAL);
	req.nheaders = 0;
	req.method = "PO ST";
	assert_null(fetch_start(&req, on_result, &g));
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
	assert_non_null(fetch_start(&req, on_chain, &c));
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
	fetch_shutdown();	/* e.g. dutyd stopping from a callback */
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
		assert_non_null(fetch_start(&req, on_shutdown, &g));
	assert_true(run_until(&g.calls, 1, 5000));
	assert_false(run_until(&g.calls, 2, 300));
	assert_int_equal(g.calls, 1);
	assert_int_equal(fetch_inflight(), 0);
	errno = 0;
	assert_null(fetch_start(&req, on_result, &g));
	assert_int_equal(errno, ENOTCONN);
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
	errno = 0;
	assert_null(fetch_start(&req, on_result, &g));
	assert_int_equal(errno, EAGAIN);

	/* Let connections open and requests go out before pulling the plug. */
	run_until(NULL, 0, 300);
	fetch_shutdown();
	assert_int_equal(fetch_inflight(), 0);
	assert_false(run_until(NULL, 0, 200));
	assert_int_equal(g.calls, 0);

	/* And the module comes back up. */
	assert_int_equal(fetch_init(base), 0);
	start("GET", "/echo", NULL, 0, 5000, &g);
	assert_true(run_until(&g.calls, 1, 5000));
	assert_int_equal(g.status, 200);
	got_clear(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_post_arrives_exactly),
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
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
