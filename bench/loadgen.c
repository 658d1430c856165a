/*
 * Reports for the benchmarks, closed loop (as fast as CONNS keep-alive
 * connections allow) or open loop (RATE a second on a schedule, whatever
 * the answers do: wrk2 is not in Debian).
 *
 *   loadgen -p PORT -n COUNT [-c CONNS] [-r RATE] [-t TOKEN] [-k FIRST_TAG]
 *           [-s BODY_BYTES] [-o OUT]
 *
 * Report i's title is "LAT-<FIRST_TAG + i> …" so bench/sink.c can tell
 * which report a webhook is about.  OUT gets one line a report:
 * "tag scheduled_ns sent_ns answered_ns status" (CLOCK_MONOTONIC, the
 * sink's clock too; status 0: no answer).  stdout gets one summary line of
 * key=value pairs.  An open-loop report that finds every connection busy
 * waits for one: "backlog" and "max_lag_ms" say whether that happened.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

struct sent {
	int64_t	 sched, sent, done;
	int	 status;
};

struct conn {
	struct evhttp_connection *evcon;
	int	 busy;
};

static struct event_base *base;
static struct conn	*conns;
static int		 nconns;
static struct sent	*log_;
static long		 count, next, answered, ok2xx, errors, first_tag;
static long		 backlog;
static double		 rate;
static int64_t		 t0, max_lag;
static const char	*token = "secret-a", *path = "/api/v1/reports";
static char		 occurred[32];
static char		*pad;
static struct event	*tick;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void	send_one(struct conn *c, long i);

struct pending {
	struct conn	*c;
	long		 i;
};

static void
done_cb(struct evhttp_request *req, void *arg)
{
	struct pending *p = arg;
	struct conn *c = p->c;
	int st = req != NULL ? evhttp_request_get_response_code(req) : 0;

	log_[p->i].done = now_ns();
	log_[p->i].status = st;
	free(p);
	c->busy = 0;
	answered++;
	if (st >= 200 && st < 300)
		ok2xx++;
	else
		errors++;
	if (answered == count) {
		event_base_loopexit(base, NULL);
		return;
	}
	/* Closed loop, or open loop with reports waiting for a connection. */
	if (next < count && (rate <= 0 ||
	    (double)(now_ns() - t0) * rate / 1e9 >= (double)next))
		send_one(c, next++);
}

static void
send_one(struct conn *c, long i)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct pending *p;
	char auth[256], title[64];

	if ((p = malloc(sizeof(*p))) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	p->c = c;
	p->i = i;
	if ((req = evhttp_request_new(done_cb, p)) == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	h = evhttp_request_get_output_headers(req);
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	evhttp_add_header(h, "Host", "127.0.0.1");
	evhttp_add_header(h, "Authorization", auth);
	evhttp_add_header(h, "Content-Type", "application/json");
	snprintf(title, sizeof(title), "LAT-%ld 基准测试", first_tag + i);
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	    "{\"title\":\"%s\",\"occurred_at\":\"%s\",\"level\":\"IV\","
	    "\"location\":\"某县某镇\",\"details\":\"%s\"}", title, occurred, pad);
	c->busy = 1;
	log_[i].sched = rate > 0 ? t0 + (int64_t)((double)i * 1e9 / rate) : now_ns();
	log_[i].sent = now_ns();
	if (log_[i].sent - log_[i].sched > max_lag)
		max_lag = log_[i].sent - log_[i].sched;
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST, path) != 0) {
		fprintf(stderr, "loadgen: cannot send\n");
		exit(1);
	}
}

static struct conn *
idle_conn(void)
{
	for (int j = 0; j < nconns; j++)
		if (!conns[j].busy)
			return &conns[j];
	return NULL;
}

/* Open loop: every report whose time has come goes out now. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	double due = (double)(now_ns() - t0) * rate / 1e9;
	struct conn *c;

	(void)fd;
	(void)what;
	(void)arg;
	while (next < count && (double)next <= due) {
		if ((c = idle_conn()) == NULL) {
			backlog++;
			break;
		}
		send_one(c, next++);
	}
	if (next >= count)
		event_del(tick);
}

int
main(int argc, char *argv[])
{
	const char *out = NULL;
	struct timeval ms = { 0, 1000 };
	size_t padlen = 864;
	int port = 0, o;
	time_t when;
	FILE *f;

	nconns = 32;
	while ((o = getopt(argc, argv, "p:n:c:r:t:k:s:o:P:")) != -1) {
		switch (o) {
		case 'p': port = atoi(optarg); break;
		case 'n': count = atol(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 't': token = optarg; break;
		case 'k': first_tag = atol(optarg); break;
		case 's': padlen = (size_t)atol(optarg); break;
		case 'o': out = optarg; break;
		case 'P': path = optarg; break;
		default:
			fprintf(stderr, "usage: loadgen -p PORT -n COUNT [-c CONNS] "
			    "[-r RATE] [-t TOKEN] [-k FIRST_TAG] [-s BODY_BYTES] [-o OUT]\n");
			return 2;
		}
	}
	if (port <= 0 || count <= 0 || nconns <= 0) {
		fprintf(stderr, "loadgen: -p and -n are required\n");
		return 2;
	}
	/* A minute ago: in time, never "after the report arrives". */
	when = time(NULL) - 60;
	strftime(occurred, sizeof(occurred), "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
	/* Details in Chinese, as a duty room's are: padlen bytes of UTF-8. */
	if ((pad = malloc(padlen + 1)) == NULL ||
	    (log_ = calloc((size_t)count, sizeof(*log_))) == NULL ||
	    (conns = calloc((size_t)nconns, sizeof(*conns))) == NULL ||
	    (base = event_base_new()) == NULL)
		return 1;
	padlen -= padlen % 12;
	for (size_t j = 0; j < padlen; j += 12)
		memcpy(pad + j, "情况说明", 12);
	pad[padlen] = '\0';
	for (int j = 0; j < nconns; j++) {
		conns[j].evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1",
		    (unsigned short)port);
		if (conns[j].evcon == NULL)
			return 1;
		evhttp_connection_set_timeout(conns[j].evcon, 120);
	}
	t0 = now_ns();
	if (rate > 0) {
		tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
		if (tick == NULL || event_add(tick, &ms) != 0)
			return 1;
		tick_cb(-1, 0, NULL);
	} else {
		for (int j = 0; j < nconns && next < count; j++)
			send_one(&conns[j], next++);
	}
	event_base_dispatch(base);
	{
		double secs = (double)(now_ns() - t0) / 1e9;

		printf("sent=%ld ok=%ld errors=%ld seconds=%.3f rate=%.1f backlog=%ld "
		    "max_lag_ms=%.3f\n", next, ok2xx, errors, secs,
		    (double)answered / secs, backlog, (double)max_lag / 1e6);
	}
	if (out != NULL) {
		if ((f = fopen(out, "w")) == NULL)
			return 1;
		for (long i = 0; i < next; i++)
			fprintf(f, "%ld %lld %lld %lld %d\n", first_tag + i,
			    (long long)log_[i].sched, (long long)log_[i].sent,
			    (long long)log_[i].done, log_[i].status);
		if (fclose(f) != 0)
			return 1;
	}
	return errors ? 1 : 0;
}
