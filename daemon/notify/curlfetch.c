/*
 * curlfetch.c: the transport (fetch.h) on libcurl.
 *
 * Outgoing HTTP and SMTP on the libevent loop: one curl multi handle driven
 * through the multi-socket API, in the shape of curl's hiperfifo.c.  curl
 * tells us which sockets to watch (socket_cb) and when to wake it up
 * (timer_cb); libevent tells curl what became ready (socket_action).
 * Completed transfers are collected from curl first and only then handed to
 * their callbacks, so a callback may start, cancel or shut down freely.
 *
 * SMTP is the exception: libcurl 7.88 waits for the server's answer to the
 * end of the message and to QUIT in blocking calls, even in the multi
 * interface, and a mail server that hangs there would stop the loop and
 * with it every clock.  Each SMTP transfer therefore runs curl_easy_perform()
 * on a thread of its own and reports back through a pipe.
 */
#include <sys/queue.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <event2/event.h>
#include "notify/curlfetch.h"
#include "notify/curlpool.h"
#include "notify/fetch.h"
#include "notify/fetchurl.h"
#include "notify/fetchval.h"
#include "base/log.h"
#include "base/timeutil.h"
#define FETCH_MAX_INFLIGHT	256
#define FETCH_MAX_HOST_CONNS	8
#define FETCH_CONNECT_DEFAULT_MS 5000
#define FETCH_METHOD_MAX	16
#define FETCH_HEADER_BYTES_MAX	(32 * 1024)	/* response header bytes looked at */
#define FETCH_RETRY_AFTER_LEN	64	/* longer values are garbage anyway */
#define FETCH_SHUTDOWN_WAIT_MS	2000	/* for SMTP threads at shutdown, in all */

enum fetch_state {
	FETCH_RUNNING,		/* in the multi handle */
	FETCH_THREAD,		/* SMTP: on its own thread */
	FETCH_DONE,		/* out of curl, waiting for its callback */
	FETCH_DELIVERING,	/* its callback is running */
};

struct fetch {
	TAILQ_ENTRY(fetch)	 entry;
	enum fetch_state	 state;
	int			 smtp;		/* else HTTP */
	int			 plain;		/* a POST of a body, no credentials or CA file of its own */
	CURL			*easy;
	struct curl_slist	*headers;
	struct curl_slist	*rcpts;
	char			*password;	/* wiped before it is freed */
	fetch_cb		 cb;
	void			*arg;
	int64_t			 started;	/* monotonic ms */
	char			 errbuf[CURL_ERROR_SIZE];
	/* The message uploaded over SMTP. */
	char			*upload;
	size_t			 upload_len;
	size_t			 upload_off;
	/* Response headers: only Retry-After is kept. */
	size_t			 header_bytes;
	int			 refusal_kept;	/* SMTP: body holds a 4xx/5xx reply */
	char			 retry_after[FETCH_RETRY_AFTER_LEN];
	char			*body;
	size_t			 body_len;
	size_t			 body_cap;
	/* Filled when curl is done with the transfer. */
	int			 failed;
	long			 status;
	char			*error;
	char			*content_type;
	int64_t			 duration_ms;
	int64_t			 retry_after_ms;
	/* FETCH_THREAD */
	pthread_t		 thread;
	CURLcode		 rc;		/* written by the thread before it reports */
	atomic_int		 abort;		/* set by the loop: stop as soon as curl can */
	int			 cancelled;	/* no callback: free when the thread is done */
};

TAILQ_HEAD(fetch_list, fetch);

/* What libevent watches for one socket curl asked about. */
struct fetch_sock {
	TAILQ_ENTRY(fetch_sock)	 entry;
	curl_socket_t		 fd;
	short			 kind;		/* what ev waits for */
	int			 idle;		/* kept between transfers: curl waits for nothing */
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
	struct fetch_list	 threads;	/* FETCH_THREAD */
	int			 pipe[2];	/* threads write their struct fetch * */
	struct event		*pipe_ev;
	size_t			 count;		/* running + threads + done + delivering */
	int			 in_curl;	/* 0 ms asked there: the timer, or no poll ever */
} fx = { .pipe = { -1, -1 } };

static int64_t
curlfetch_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
curlfetch_free(struct fetch *f)
{
	if (f->easy != NULL)
		curl_easy_cleanup(f->easy);
	curl_slist_free_all(f->headers);
	curl_slist_free_all(f->rcpts);
	if (f->password != NULL) {
		explicit_bzero(f->password, strlen(f->password));
		free(f->password);
	}
	free(f->upload);
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
curlfetch_write_cb(char *data, size_t size, size_t nmemb, void *arg)
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

/* Feeds the copied message to curl, which does the SMTP dot-stuffing. */
static size_t
curlfetch_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nitems, left = f->upload_len - f->upload_off;

	if (n > left)
		n = left;
	if (n > 0)
		memcpy(buf, f->upload + f->upload_off, n);
	f->upload_off += n;
	return n;
}

/*
 * Keeps the last Retry-After of the last response (a 1xx may come first).
 * Only the first FETCH_HEADER_BYTES_MAX bytes are looked at: a server
 * must not make us scan megabytes of headers.
 */
static size_t
curlfetch_header_cb(char *data, size_t size, size_t nitems, void *arg)
{
	static const char name[] = "Retry-After:";
	struct fetch *f = arg;
	size_t n = size * nitems, len = sizeof(name) - 1;
	const char *v, *end;

	if (n > FETCH_HEADER_BYTES_MAX - f->header_bytes) {
		f->header_bytes = FETCH_HEADER_BYTES_MAX;
		return n;
	}
	f->header_bytes += n;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		f->retry_after[0] = '\0';
		return n;
	}
	if (n < len || strncasecmp(data, name, len) != 0)
		return n;
	v = data + len;
	end = data + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	/* Too long for any valid value: remembered as garbage, i.e. none. */
	if ((size_t)(end - v) >= sizeof(f->retry_after))
		end = v;
	memcpy(f->retry_after, v, end - v);
	f->retry_after[end - v] = '\0';
	return n;
}

/* Takes what the callback needs out of curl, then lets the easy handle go. */
static void
curlfetch_finish(struct fetch *f, CURLcode rc)
{
	const char *ct = NULL, *why;

	f->duration_ms = curlfetch_monotonic_ms() - f->started;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->status);
		curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ct);
		if (ct != NULL)
			f->content_type = strdup(ct);
		if (!f->smtp)
			f->retry_after_ms = fetchval_retry_after(
			    f->retry_after, time_now_ms(), FETCH_RETRY_AFTER_MAX);
	} else {
		/*
		 * A response cut short (timeout mid-body, reset) is reported as
		 * no response: half an answer is no proof of delivery.  SMTP
		 * keeps its last reply code (550 after RCPT, ...) next to the
		 * error: the error alone says the message was not accepted.
		 */
		f->failed = 1;
		f->status = 0;
		if (f->smtp) {
			curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE,
			    &f->status);
			/* 354 and the like are no answer: only a refusal counts. */
			if (f->status < 400)
				f->status = 0;
		}
		why = f->errbuf[0] != '\0' ? f->errbuf : curl_easy_strerror(rc);
		f->error = strdup(why);	/* NULL: fetch_deliver says something */
	}
	if (f->state == FETCH_RUNNING) {
		curl_multi_remove_handle(fx.multi, f->easy);
		curlpool_put(f->easy, f->plain);
	} else
		curl_easy_cleanup(f->easy);
	f->easy = NULL;
	log_debug("fetch: done in %lld ms: status %ld%s%s",
	    (long long)f->duration_ms, f->status,
	    f->error ? ", " : "", f->error ? f->error : "");
}

static void
curlfetch_deliver(struct fetch *f)
{
	struct fetch_result r;

	memset(&r, 0, sizeof(r));
	r.status = f->status;
	r.error = f->error;
	/* Out of memory for curl's message must still read as a failure. */
	if (r.error == NULL && f->failed)
		r.error = "transfer failed";
	else if (r.error == NULL && r.status == 0)
		r.error = f->smtp ? "no SMTP response" : "no HTTP response";
	r.content_type = f->content_type;
	r.body = f->body != NULL ? f->body : "";
	r.body_len = f->body_len;
	r.duration_ms = f->duration_ms;
	r.retry_after_ms = f->retry_after_ms;
	f->state = FETCH_DELIVERING;
	f->cb(&r, f->arg);
	curlfetch_free(f);
}

static void
curlfetch_check_multi(void)
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
		curlfetch_finish(f, rc);	/* m is invalid from here */
		TAILQ_REMOVE(&fx.running, f, entry);
		f->state = FETCH_DONE;
		TAILQ_INSERT_TAIL(&fx.done, f, entry);
	}
	/* ... then run callbacks, which may start, cancel or shut down. */
	while ((f = TAILQ_FIRST(&fx.done)) != NULL) {
		TAILQ_REMOVE(&fx.done, f, entry);
		curlfetch_deliver(f);
	}
}

static void
curlfetch_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch_sock *s = arg;
	int action = 0, running;

	if (s->idle) {
		/* The peer closed (or spoke) between transfers: curl sees it on reuse. */
		event_del(s->ev);
		s->kind = 0;
		return;
	}

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	fx.in_curl = 1;
	/* May free this very event (CURL_POLL_REMOVE): touch nothing after. */
	curl_multi_socket_action(fx.multi, fd, action, &running);
	curlfetch_check_multi();
	fx.in_curl = 0;
}

static void
curlfetch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	int running;

	fx.in_curl = 1;
	curl_multi_socket_action(fx.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curlfetch_check_multi();
	fx.in_curl = 0;
}

static void
curlfetch_sock_free(struct fetch_sock *s)
{
	TAILQ_REMOVE(&fx.socks, s, entry);
	event_free(s->ev);
	free(s);
}

static struct fetch_sock *
curlfetch_sock_find(curl_socket_t fd)
{
	struct fetch_sock *s;

	TAILQ_FOREACH(s, &fx.socks, entry)
		if (s->fd == fd)
			return s;
	return NULL;
}

/* curl closes a socket: its event goes first, before the number is reused. */
static int
curlfetch_close_cb(void *clientp, curl_socket_t fd)
{
	struct fetch_sock *s = curlfetch_sock_find(fd);

	if (s != NULL)
		curlfetch_sock_free(s);
	return close(fd);
}

static int
curlfetch_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct fetch_sock *s = socketp;
	short kind;

	if (s == NULL)
		s = curlfetch_sock_find(fd);	/* kept from its last transfer */
	if (what == CURL_POLL_REMOVE) {
		if (s == NULL)
			return 0;
		curl_multi_assign(fx.multi, fd, NULL);
		/*
		 * A kept connection's next transfer asks for reading again: the
		 * event stays (until curlfetch_close_cb()) instead of an
		 * epoll_ctl to remove it now and another to add it back.
		 */
		if (s->kind == (EV_READ | EV_PERSIST))
			s->idle = 1;
		else
			curlfetch_sock_free(s);
		return 0;
	}
	if (s != NULL && s->idle) {
		s->idle = 0;
		curl_multi_assign(fx.multi, fd, s);
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
		s->ev = event_new(fx.base, fd, kind, curlfetch_event_cb, s);
		if (s->ev == NULL) {
			free(s);
			return -1;
		}
		TAILQ_INSERT_TAIL(&fx.socks, s, entry);
		curl_multi_assign(fx.multi, fd, s);
	} else if (s->kind == kind) {
		/* Asked again for what it has (a kept connection's next transfer): no epoll_ctl. */
		return 0;
	} else {
		event_del(s->ev);
		event_assign(s->ev, fx.base, fd, kind, curlfetch_event_cb, s);
	}
	if (event_add(s->ev, NULL) == -1) {
		s->kind = 0;	/* not waiting: the next call adds it again */
		return -1;
	}
	s->kind = kind;
	return 0;
}

static int
curlfetch_timer_set_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(fx.timer);
		return 0;
	}
	/* Now, from outside curl: this turn, not after the next poll's reads. */
	if (timeout_ms == 0 && !fx.in_curl) {
		evtimer_del(fx.timer);
		event_active(fx.timer, EV_TIMEOUT, 1);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(fx.timer, &tv) == -1 ? -1 : 0;
}

/* An SMTP transfer, start to end, off the loop. */
static void *
curlfetch_thread_main(void *arg)
{
	struct fetch	*f = arg;
	ssize_t		 n;

	f->rc = curl_easy_perform(f->easy);
	/* A pointer is less than PIPE_BUF: the write is atomic. */
	do
		n = write(fx.pipe[1], &f, sizeof(f));
	while (n == -1 && errno == EINTR);
	return NULL;
}

/* curl asks now and then whether to go on: not after a cancel or shutdown. */
static int
curlfetch_xfer_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct fetch *f = arg;

	return atomic_load(&f->abort) ? 1 : 0;
}

static void
curlfetch_thread_done(struct fetch *f)
{
	pthread_join(f->thread, NULL);
	TAILQ_REMOVE(&fx.threads, f, entry);
	if (f->cancelled) {
		curl_easy_cleanup(f->easy);
		f->easy = NULL;
		curlfetch_free(f);
		return;
	}
	curlfetch_finish(f, f->rc);
	f->state = FETCH_DONE;
	TAILQ_INSERT_TAIL(&fx.done, f, entry);
}

static void
curlfetch_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch	*f;
	ssize_t		 n;

	while ((n = read(fx.pipe[0], &f, sizeof(f))) == (ssize_t)sizeof(f))
		curlfetch_thread_done(f);
	while ((f = TAILQ_FIRST(&fx.done)) != NULL) {
		TAILQ_REMOVE(&fx.done, f, entry);
		curlfetch_deliver(f);
	}
}

static int
curlfetch_thread_start(struct fetch *f)
{
	pthread_attr_t	attr;
	sigset_t	all, old;
	int		rc;

	if (curl_easy_setopt(f->easy, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(f->easy, CURLOPT_XFERINFOFUNCTION,
	    curlfetch_xfer_cb) != CURLE_OK ||
	    curl_easy_setopt(f->easy, CURLOPT_XFERINFODATA, (void *)f) !=
	    CURLE_OK)
		return -EINVAL;
	if ((rc = pthread_attr_init(&attr)) != 0)
		return -rc;
	/* Signals stay with the loop's thread, where libevent handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->thread, &attr, curlfetch_thread_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	f->state = FETCH_THREAD;
	TAILQ_INSERT_TAIL(&fx.threads, f, entry);
	return 0;
}

/* Shutdown: ask every SMTP thread to stop, wait a little, leave the rest. */
static int
curlfetch_threads_stop(void)
{
	struct timespec	 deadline;
	struct fetch	*f;
	ssize_t		 n;
	int		 left = 0;

	TAILQ_FOREACH(f, &fx.threads, entry)
		atomic_store(&f->abort, 1);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += FETCH_SHUTDOWN_WAIT_MS / 1000;
	while ((f = TAILQ_FIRST(&fx.threads)) != NULL) {
		if (pthread_timedjoin_np(f->thread, NULL, &deadline) != 0) {
			/* Stuck in curl's blocking QUIT: exit will end it. */
			pthread_detach(f->thread);
			TAILQ_REMOVE(&fx.threads, f, entry);
			left++;
			continue;
		}
		TAILQ_REMOVE(&fx.threads, f, entry);
		curl_easy_cleanup(f->easy);
		f->easy = NULL;
		curlfetch_free(f);
	}
	while ((n = read(fx.pipe[0], &f, sizeof(f))) > 0)
		;	/* pointers of threads joined above */
	if (left > 0)
		log_warnx("%d mail transfer(s) did not stop at shutdown; the mail "
		    "server does not answer", left);
	return left;
}

static const struct fetch_backend curlfetch_backend;

int
curlfetch_init(struct event_base *base)
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
	TAILQ_INIT(&fx.threads);
	fx.pipe[0] = fx.pipe[1] = -1;
	fx.base = base;
	if ((fx.timer = evtimer_new(base, curlfetch_timer_cb, NULL)) == NULL)
		goto fail;
	if (pipe2(fx.pipe, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    (fx.pipe_ev = event_new(base, fx.pipe[0], EV_READ | EV_PERSIST,
	    curlfetch_pipe_cb, NULL)) == NULL || event_add(fx.pipe_ev, NULL) != 0)
		goto fail;
	if ((fx.multi = curl_multi_init()) == NULL)
		goto fail;
	if (curl_multi_setopt(fx.multi, CURLMOPT_SOCKETFUNCTION,
	    curlfetch_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(fx.multi, CURLMOPT_TIMERFUNCTION,
	    curlfetch_timer_set_cb) != CURLM_OK ||
	    curl_multi_setopt(fx.multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)FETCH_MAX_HOST_CONNS) != CURLM_OK)
		goto fail;
	fetch_use(&curlfetch_backend);
	return 0;
 fail:
	if (fx.multi != NULL)
		curl_multi_cleanup(fx.multi);
	if (fx.timer != NULL)
		event_free(fx.timer);
	if (fx.pipe_ev != NULL)
		event_free(fx.pipe_ev);
	if (fx.pipe[0] != -1) {
		close(fx.pipe[0]);
		close(fx.pipe[1]);
	}
	memset(&fx, 0, sizeof(fx));
	fx.pipe[0] = fx.pipe[1] = -1;
	fx.count = count;
	curl_global_cleanup();
	return -ENOMEM;
}

void
curlfetch_shutdown(void)
{
	struct fetch *f;
	struct fetch_sock *s;
	int stuck;

	if (fx.multi == NULL)
		return;
	fetch_use(NULL);
	stuck = curlfetch_threads_stop();
	while ((f = TAILQ_FIRST(&fx.running)) != NULL) {
		TAILQ_REMOVE(&fx.running, f, entry);
		curl_multi_remove_handle(fx.multi, f->easy);
		curlfetch_free(f);
	}
	while ((f = TAILQ_FIRST(&fx.done)) != NULL) {
		TAILQ_REMOVE(&fx.done, f, entry);
		curlfetch_free(f);
	}
	curlpool_clear();
	/* Closing cached connections may still report sockets to remove. */
	curl_multi_cleanup(fx.multi);
	fx.multi = NULL;
	while ((s = TAILQ_FIRST(&fx.socks)) != NULL)
		curlfetch_sock_free(s);
	event_free(fx.timer);
	fx.timer = NULL;
	event_free(fx.pipe_ev);
	fx.pipe_ev = NULL;
	/* A thread left behind still holds the write end: keep both. */
	if (!stuck) {
		close(fx.pipe[0]);
		close(fx.pipe[1]);
		fx.pipe[0] = fx.pipe[1] = -1;
	}
	fx.base = NULL;
	fetchurl_forget();
	/* fx.count keeps a transfer whose callback is running: it frees itself. */
	if (!stuck)
		curl_global_cleanup();
}

#define SET(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(f->easy, opt, val);		\
} while (0)

static int
curlfetch_setup_http(struct fetch *f, const struct fetch_request *req, int set)
{
	const char *method = req->method != NULL ? req->method :
	    (req->body != NULL ? "POST" : "GET");
	struct curl_slist *l;
	size_t i;
	int has_expect = 0;
	CURLcode rc = CURLE_OK;

	if (req->method != NULL && !fetchval_method(req->method, FETCH_METHOD_MAX))
		return -EINVAL;
	for (i = 0; i < req->nheaders; i++) {
		if (!fetchval_header(req->headers[i]))
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

	if (!set) {
		SET(CURLOPT_PROTOCOLS_STR, "http,https");
		/* The loop's own transfers: their sockets' events go before a close. */
		SET(CURLOPT_CLOSESOCKETFUNCTION, curlfetch_close_cb);
		/*
		 * curl refuses an empty list.  Nothing is followed anyway; were
		 * that ever switched on, it could not leave TLS.
		 */
		SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
		SET(CURLOPT_HEADERFUNCTION, curlfetch_header_cb);
	}
	SET(CURLOPT_HTTPHEADER, f->headers);
	SET(CURLOPT_HEADERDATA, (void *)f);
	/* Sent up front: no 401 round trip, and no weaker scheme to pick. */
	if (req->username != NULL)
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
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
	if (rc == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return rc == CURLE_OK ? 0 : -EINVAL;
}

/*
 * SMTP: curl hands every server reply line here.  The first refusal (4xx,
 * 5xx), else the last line, is kept as the "body", so that a refusal reads
 * "550 5.1.1 no such mailbox" rather than curl's own words (and not the
 * "221 Bye" of the QUIT that follows).
 */
static size_t
curlfetch_smtp_reply_cb(char *data, size_t size, size_t nitems, void *arg)
{
	struct fetch	*f = arg;
	size_t		 n = size * nitems, keep = n;

	while (keep > 0 && (data[keep - 1] == '\n' || data[keep - 1] == '\r'))
		keep--;
	if (keep > 256)
		keep = 256;
	if (keep == 0 || f->refusal_kept)
		return n;
	if (data[0] == '4' || data[0] == '5')
		f->refusal_kept = 1;
	if (f->body_cap < keep + 1) {
		char *grown = realloc(f->body, 257);

		if (grown == NULL)
			return n;	/* the reply is a nicety; the code still counts */
		f->body = grown;
		f->body_cap = 257;
	}
	memcpy(f->body, data, keep);
	f->body[keep] = '\0';
	f->body_len = keep;
	return n;
}

static int
curlfetch_setup_smtp(struct fetch *f, const struct fetch_request *req)
{
	struct curl_slist *l;
	size_t i;
	CURLcode rc = CURLE_OK;

	if (!fetchval_address(req->mail_from) || req->nrcpt == 0 ||
	    req->mail_rcpt == NULL)
		return -EINVAL;
	for (i = 0; i < req->nrcpt; i++) {
		if (!fetchval_address(req->mail_rcpt[i]) ||
		    req->mail_rcpt[i][0] == '\0')
			return -EINVAL;
		if ((l = curl_slist_append(f->rcpts, req->mail_rcpt[i])) == NULL)
			return -ENOMEM;
		f->rcpts = l;
	}
	if (req->body != NULL && req->body_len > 0) {
		if ((f->upload = malloc(req->body_len)) == NULL)
			return -ENOMEM;
		memcpy(f->upload, req->body, req->body_len);
		f->upload_len = req->body_len;
	}

	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_MAIL_FROM, req->mail_from);
	SET(CURLOPT_MAIL_RCPT, f->rcpts);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, curlfetch_read_cb);
	SET(CURLOPT_READDATA, (void *)f);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)f->upload_len);
	/* No STARTTLS offered means no transfer, never one in plain text. */
	if (req->tls_required)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	/* Bounds the waits curl does outside the transfer timeout (QUIT). */
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)(req->timeout_ms + 999) / 1000);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_HEADERFUNCTION, curlfetch_smtp_reply_cb);
	SET(CURLOPT_HEADERDATA, (void *)f);
	if (rc == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return rc == CURLE_OK ? 0 : -EINVAL;
}

/* SET: a plain POST's handle, whose options for every transfer stay set. */
static int
curlfetch_setup(struct fetch *f, const struct fetch_request *req, int set)
{
	long ctimeout;
	CURLcode rc = CURLE_OK;
	int r;

	r = f->smtp ? curlfetch_setup_smtp(f, req) :
	    curlfetch_setup_http(f, req, set);
	if (r < 0)
		return r;
	if (req->password != NULL &&
	    (f->password = strdup(req->password)) == NULL)
		return -ENOMEM;

	ctimeout = req->connect_timeout_ms > 0 ?
	    (long)req->connect_timeout_ms : FETCH_CONNECT_DEFAULT_MS;
	SET(CURLOPT_PRIVATE, (void *)f);
	SET(CURLOPT_URL, req->url);
	if (!set) {
		SET(CURLOPT_NOSIGNAL, 1L);
		SET(CURLOPT_FOLLOWLOCATION, 0L);
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
		SET(CURLOPT_WRITEFUNCTION, curlfetch_write_cb);
	}
	if (req->ca_file != NULL)	/* a private CA, this channel's only */
		SET(CURLOPT_CAINFO, req->ca_file);
	SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
	SET(CURLOPT_ERRORBUFFER, f->errbuf);
	SET(CURLOPT_WRITEDATA, (void *)f);
	if (req->username != NULL)
		SET(CURLOPT_USERNAME, req->username);
	if (f->password != NULL)
		SET(CURLOPT_PASSWORD, f->password);
	if (rc == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return rc == CURLE_OK ? 0 : -EINVAL;
}

#undef SET

static int
curlfetch_start(const struct fetch_request *req, fetch_cb cb, void *arg,
    struct fetch **out)
{
	struct fetch *f;
	char logurl[256] = "?";
	int r, smtp, set = 0;

	if (fx.multi == NULL) {
		return -ENOTCONN;
	}
	if (req == NULL || req->url == NULL || cb == NULL ||
	    req->timeout_ms <= 0 || req->timeout_ms > LONG_MAX ||
	    req->connect_timeout_ms < 0 || req->connect_timeout_ms > LONG_MAX ||
	    (req->nheaders > 0 && req->headers == NULL) ||
	    (req->password != NULL && req->username == NULL)) {
		return -EINVAL;
	}
	if ((smtp = fetchurl_classify(req->url, logurl, sizeof(logurl))) < 0) {
		return smtp;
	}
	if (fx.count >= FETCH_MAX_INFLIGHT) {
		return -EAGAIN;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	fx.count++;
	f->smtp = smtp;
	f->plain = !smtp && req->body != NULL && (req->method == NULL ||
	    strcmp(req->method, "POST") == 0) && req->username == NULL &&
	    req->password == NULL && req->ca_file == NULL;
	f->cb = cb;
	f->arg = arg;
	/* A mail transfer runs on a thread of its own, on a handle of its own. */
	if ((f->easy = smtp ? curl_easy_init() : curlpool_get(f->plain, &set)) ==
	    NULL) {
		curlfetch_free(f);
		return -ENOMEM;
	}
	if ((r = curlfetch_setup(f, req, set)) < 0) {
		curlfetch_free(f);
		return r;
	}
	f->started = curlfetch_monotonic_ms();
	if (smtp) {
		if ((r = curlfetch_thread_start(f)) < 0) {
			curlfetch_free(f);
			return r;
		}
	} else {
		f->state = FETCH_RUNNING;
		/* Only arms the timer: the transfer itself starts from the loop. */
		if (curl_multi_add_handle(fx.multi, f->easy) != CURLM_OK) {
			curlfetch_free(f);
			return -ENOMEM;
		}
		TAILQ_INSERT_TAIL(&fx.running, f, entry);
	}
	log_debug("fetch: %s %s (timeout %lld ms)", smtp ? "SMTP" :
	    (req->method ? req->method : "-"), logurl,
	    (long long)req->timeout_ms);
	*out = f;
	return 0;
}

static void
curlfetch_cancel(struct fetch *f)
{
	if (f == NULL)
		return;
	switch (f->state) {
	case FETCH_RUNNING:
		TAILQ_REMOVE(&fx.running, f, entry);
		curl_multi_remove_handle(fx.multi, f->easy);
		break;
	case FETCH_THREAD:
		/* The thread owns it until it reports: no callback, then free. */
		f->cancelled = 1;
		atomic_store(&f->abort, 1);
		log_debug("fetch: cancelled (mail transfer stopping)");
		return;
	case FETCH_DONE:
		TAILQ_REMOVE(&fx.done, f, entry);
		break;
	case FETCH_DELIVERING:
		/* Its callback is on the stack; fetch_deliver frees it. */
		return;
	}
	log_debug("fetch: cancelled");
	curlfetch_free(f);
}

static size_t
curlfetch_inflight(void)
{
	return fx.count;
}

static const struct fetch_backend curlfetch_backend = {
	curlfetch_start, curlfetch_cancel, curlfetch_inflight
};
