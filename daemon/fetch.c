/*
 * Outgoing HTTP on the libevent loop: one curl multi handle driven through
 * the multi-socket API, in the shape of curl's docs/examples/hiperfifo.c.
 * curl tells us which sockets to watch (socket_cb) and when to wake it up
 * (timer_cb); libevent tells curl what became ready (socket_action).
 *
 * Completed transfers are collected from curl first and only then handed to
 * their callbacks, so a callback may start, cancel or shut down freely.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "fetch.h"
#include "log.h"

#define FETCH_MAX_INFLIGHT	256
#define FETCH_MAX_HOST_CONNS	8
#define FETCH_CONNECT_MAX_MS	10000
#define FETCH_METHOD_MAX	16

enum fetch_state {
	FETCH_RUNNING,		/* in the multi handle */
	FETCH_DONE,		/* out of curl, waiting for its callback */
	FETCH_DELIVERING,	/* its callback is running */
};

struct fetch {
	TAILQ_ENTRY(fetch)	 entry;
	enum fetch_state	 state;
	CURL			*easy;
	struct curl_slist	*headers;
	fetch_cb		 cb;
	void			*arg;
	int64_t			 started;	/* monotonic ms */
	char			 errbuf[CURL_ERROR_SIZE];
	char			*body;
	size_t			 body_len;
	size_t			 body_cap;
	/* Filled when curl is done with the transfer. */
	long			 status;
	char			*error;
	char			*content_type;
	int64_t			 duration_ms;
};

TAILQ_HEAD(fetch_list, fetch);

/* What libevent watches for one socket curl asked about. */
struct fetch_sock {
	TAILQ_ENTRY(fetch_sock)	 entry;
	curl_socket_t		 fd;
	struct event		*ev;
};

TAILQ_HEAD(fetch_sock_list, fetch_sock);

static struct {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	struct fetch_list	 running;
	struct fetch_list	 done;
	struct fetch_sock_list	 socks;
	size_t			 count;		/* running + done + delivering */
} fx;

static int64_t
fetch_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fetch_free(struct fetch *f)
{
	if (f->easy != NULL)
		curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	free(f->body);
	free(f->error);
	free(f->content_type);
	free(f);
	fx.count--;
}

/*
 * Keeps at most FETCH_BODY_MAX bytes and swallows the rest: a chatty
 * server must not turn a delivered message into a failure.
 */
static size_t
fetch_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb, keep, need, cap;
	char *p;

	keep = FETCH_BODY_MAX - f->body_len;
	if (keep > n)
		keep = n;
	if (keep == 0)
		return n;
	need = f->body_len + keep + 1;
	if (need > f->body_cap) {
		cap = f->body_cap ? f->body_cap : 1024;
		while (cap < need)
			cap *= 2;
		if (cap > FETCH_BODY_MAX + 1)
			cap = FETCH_BODY_MAX + 1;
		if ((p = realloc(f->body, cap)) == NULL)
			return 0;	/* curl fails the transfer with a write error */
		f->body = p;
		f->body_cap = cap;
	}
	memcpy(f->body + f->body_len, data, keep);
	f->body_len += keep;
	f->body[f->body_len] = '\0';
	return n;
}

/* Takes what the callback needs out of curl, then lets the easy handle go. */
static void
fetch_finish(struct fetch *f, CURLcode rc)
{
	const char *ct = NULL, *why;

	f->duration_ms = fetch_monotonic_ms() - f->started;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->status);
		curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ct);
		if (ct != NULL)
			f->content_type = strdup(ct);
	} else {
		/*
		 * A response cut short (timeout mid-body, reset) is reported as
		 * no response: half an answer is no proof of delivery.
		 */
		f->status = 0;
		why = f->errbuf[0] != '\0' ? f->errbuf : curl_easy_strerror(rc);
		f->error = strdup(why);	/* NULL: fetch_deliver says something */
	}
	curl_multi_remove_handle(fx.multi, f->easy);
	curl_easy_cleanup(f->easy);
	f->easy = NULL;
	log_debug("fetch: done in %lld ms: status %ld%s%s",
	    (long long)f->duration_ms, f->status,
	    f->error ? ", " : "", f->error ? f->error : "");
}

static void
fetch_deliver(struct fetch *f)
{
	struct fetch_result r;

	memset(&r, 0, sizeof(r));
	r.status = f->status;
	r.error = f->error;
	if (r.error == NULL && r.status == 0)
		r.error = "no HTTP response";
	r.content_type = f->content_type;
	r.body = f->body != NULL ? f->body : "";
	r.body_len = f->body_len;
	r.duration_ms = f->duration_ms;
	f->state = FETCH_DELIVERING;
	f->cb(&r, f->arg);
	fetch_free(f);
}

static void
fetch_check_multi(void)
{
	struct fetch *f;
	CURLMsg *m;
	CURLcode rc;
	char *p;
	int left;

	/* First take every finished transfer out of curl ... */
	while ((m = curl_multi_info_read(fx.multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if ((f = (struct fetch *)p) == NULL)
			continue;
		fetch_finish(f, rc);	/* m is invalid from here */
		TAILQ_REMOVE(&fx.running, f, entry);
		f->state = FETCH_DONE;
		TAILQ_INSERT_TAIL(&fx.done, f, entry);
	}
	/* ... then run callbacks, which may start, cancel or shut down. */
	while ((f = TAILQ_FIRST(&fx.done)) != NULL) {
		TAILQ_REMOVE(&fx.done, f, entry);
		fetch_deliver(f);
	}
}

static void
fetch_event_cb(evutil_socket_t fd, short what, void *arg)
{
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* May free this very event (CURL_POLL_REMOVE): touch nothing after. */
	curl_multi_socket_action(fx.multi, fd, action, &running);
	fetch_check_multi();
}

static void
fetch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	int running;

	curl_multi_socket_action(fx.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_check_multi();
}

static void
fetch_sock_free(struct fetch_sock *s)
{
	TAILQ_REMOVE(&fx.socks, s, entry);
	event_free(s->ev);
	free(s);
}

static int
fetch_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct fetch_sock *s = socketp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(fx.multi, fd, NULL);
			fetch_sock_free(s);
		}
		return 0;
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->fd = fd;
		s->ev = event_new(fx.base, fd, kind, fetch_event_cb, NULL);
		if (s->ev == NULL) {
			free(s);
			return -1;
		}
		TAILQ_INSERT_TAIL(&fx.socks, s, entry);
		curl_multi_assign(fx.multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, fx.base, fd, kind, fetch_event_cb, NULL);
	}
	if (event_add(s->ev, NULL) == -1)
		return -1;
	return 0;
}

static int
fetch_timer_set_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(fx.timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(fx.timer, &tv) == -1 ? -1 : 0;
}

int
fetch_init(struct event_base *base)
{
	size_t count = fx.count;	/* a callback still running frees itself */

	if (fx.multi != NULL)
		return -EALREADY;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	memset(&fx, 0, sizeof(fx));
	fx.count = count;
	TAILQ_INIT(&fx.running);
	TAILQ_INIT(&fx.done);
	TAILQ_INIT(&fx.socks);
	fx.base = base;
	if ((fx.timer = evtimer_new(base, fetch_timer_cb, NULL)) == NULL)
		goto fail;
	if ((fx.multi = curl_multi_init()) == NULL)
		goto fail;
	if (curl_multi_setopt(fx.multi, CURLMOPT_SOCKETFUNCTION,
	    fetch_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(fx.multi, CURLMOPT_TIMERFUNCTION,
	    fetch_timer_set_cb) != CURLM_OK ||
	    curl_multi_setopt(fx.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)FETCH_MAX_HOST_CONNS) != CURLM_OK)
		goto fail;
	return 0;
 fail:
	if (fx.multi != NULL)
		curl_multi_cleanup(fx.multi);
	if (fx.timer != NULL)
		event_free(fx.timer);
	memset(&fx, 0, sizeof(fx));
	fx.count = count;
	curl_global_cleanup();
	return -ENOMEM;
}

void
fetch_shutdown(void)
{
	struct fetch *f;
	struct fetch_sock *s;

	if (fx.multi == NULL)
		return;
	while ((f = TAILQ_FIRST(&fx.running)) != NULL) {
		TAILQ_REMOVE(&fx.running, f, entry);
		curl_multi_remove_handle(fx.multi, f->easy);
		fetch_free(f);
	}
	while ((f = TAILQ_FIRST(&fx.done)) != NULL) {
		TAILQ_REMOVE(&fx.done, f, entry);
		fetch_free(f);
	}
	/* Closing cached connections may still report sockets to remove. */
	curl_multi_cleanup(fx.multi);
	fx.multi = NULL;
	while ((s = TAILQ_FIRST(&fx.socks)) != NULL)
		fetch_sock_free(s);
	event_free(fx.timer);
	fx.timer = NULL;
	fx.base = NULL;
	/* fx.count keeps a transfer whose callback is running: it frees itself. */
	curl_global_cleanup();
}

static int
fetch_method_ok(const char *m)
{
	size_t i;

	for (i = 0; m[i] != '\0'; i++)
		if (i >= FETCH_METHOD_MAX || !isupper((unsigned char)m[i]))
			return 0;
	return i > 0;
}

/* A CR or LF in a header would smuggle in headers of its own. */
static int
fetch_header_ok(const char *h)
{
	return h != NULL && strchr(h, ':') != NULL && strpbrk(h, "\r\n") == NULL;
}

static int
fetch_setup(struct fetch *f, const struct fetch_request *req)
{
	const char *method = req->method != NULL ? req->method :
	    (req->body != NULL ? "POST" : "GET");
	long ctimeout;
	struct curl_slist *l;
	size_t i;
	int has_expect = 0;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(f->easy, opt, val);		\
} while (0)

	for (i = 0; i < req->nheaders; i++) {
		if (!fetch_header_ok(req->headers[i]))
			return -EINVAL;
		if (strncasecmp(req->headers[i], "Expect:", 7) == 0)
			has_expect = 1;
		if ((l = curl_slist_append(f->headers, req->headers[i])) == NULL)
			return -ENOMEM;
		f->headers = l;
	}
	/* No 100-continue round trip: receivers answer the body anyway. */
	if (!has_expect) {
		if ((l = curl_slist_append(f->headers, "Expect:")) == NULL)
			return -ENOMEM;
		f->headers = l;
	}

	ctimeout = req->timeout_ms < FETCH_CONNECT_MAX_MS ?
	    (long)req->timeout_ms : FETCH_CONNECT_MAX_MS;
	SET(CURLOPT_PRIVATE, (void *)f);
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
	SET(CURLOPT_HTTPHEADER, f->headers);
	SET(CURLOPT_ERRORBUFFER, f->errbuf);
	SET(CURLOPT_WRITEFUNCTION, fetch_write_cb);
	SET(CURLOPT_WRITEDATA, (void *)f);
	if (strcmp(method, "GET") == 0 && req->body == NULL)
		SET(CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else {
		if (req->body != NULL || strcmp(method, "POST") == 0) {
			/* Size first: COPYPOSTFIELDS copies that many bytes. */
			SET(CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(req->body != NULL ? req->body_len : 0));
			SET(CURLOPT_COPYPOSTFIELDS,
			    req->body != NULL ? req->body : "");
		}
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
	}
#undef SET
	if (rc == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return rc == CURLE_OK ? 0 : -EINVAL;
}

struct fetch *
fetch_start(const struct fetch_request *req, fetch_cb cb, void *arg)
{
	struct fetch *f;
	int r;

	if (fx.multi == NULL) {
		errno = ENOTCONN;
		return NULL;
	}
	if (req == NULL || req->url == NULL || cb == NULL ||
	    req->timeout_ms <= 0 || req->timeout_ms > LONG_MAX ||
	    (req->nheaders > 0 && req->headers == NULL) ||
	    (req->method != NULL && !fetch_method_ok(req->method))) {
		errno = EINVAL;
		return NULL;
	}
	if (fx.count >= FETCH_MAX_INFLIGHT) {
		errno = EAGAIN;
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	fx.count++;
	f->cb = cb;
	f->arg = arg;
	if ((f->easy = curl_easy_init()) == NULL) {
		fetch_free(f);
		errno = ENOMEM;
		return NULL;
	}
	if ((r = fetch_setup(f, req)) < 0) {
		fetch_free(f);
		errno = -r;
		return NULL;
	}
	f->started = fetch_monotonic_ms();
	f->state = FETCH_RUNNING;
	/* Only arms the timer: the transfer itself starts from the loop. */
	if (curl_multi_add_handle(fx.multi, f->easy) != CURLM_OK) {
		fetch_free(f);
		errno = ENOMEM;
		return NULL;
	}
	TAILQ_INSERT_TAIL(&fx.running, f, entry);
	/* Not the query: vendors put access tokens there. */
	log_debug("fetch: %s %.*s (timeout %lld ms)",
	    req->method ? req->method : "-", (int)strcspn(req->url, "?#"),
	    req->url, (long long)req->timeout_ms);
	return f;
}

void
fetch_cancel(struct fetch *f)
{
	if (f == NULL)
		return;
	switch (f->state) {
	case FETCH_RUNNING:
		TAILQ_REMOVE(&fx.running, f, entry);
		curl_multi_remove_handle(fx.multi, f->easy);
		break;
	case FETCH_DONE:
		TAILQ_REMOVE(&fx.done, f, entry);
		break;
	case FETCH_DELIVERING:
		/* Its callback is on the stack; fetch_deliver frees it. */
		return;
	}
	log_debug("fetch: cancelled");
	fetch_free(f);
}

size_t
fetch_inflight(void)
{
	return fx.count;
}
