/*
 * A webhook receiver fast enough not to be the bottleneck of a benchmark:
 * answers 200 to every POST.
 *
 *   sink PORT [LOG]
 *
 * GET /count answers how many POSTs arrived, so a benchmark can wait for
 * deliveries to be done without reading dutyd's log.  With LOG, each POST's
 * arrival (CLOCK_MONOTONIC, ns) and the number after the first "LAT-" in its
 * body (the tag bench/loadgen.c puts in a report's title; -1 if none) are
 * kept in memory and GET /dump writes them to LOG, one "ns tag" a line: a
 * write per request would cost the sink more than the request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

struct arrival {
	int64_t	 ns;
	long	 tag;
};

static const char	*logpath;
static struct arrival	*arrivals;
static size_t		 narrivals, cap;
static unsigned long long count;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The tag: digits after the first "LAT-" in the body, or -1. */
static long
tag_of(struct evbuffer *body)
{
	struct evbuffer_ptr p;
	char digits[24];
	size_t n = 0;
	long tag = 0;

	p = evbuffer_search(body, "LAT-", 4, NULL);
	if (p.pos < 0 || evbuffer_ptr_set(body, &p, 4, EVBUFFER_PTR_ADD) != 0)
		return -1;
	if (evbuffer_copyout_from(body, &p, digits, sizeof(digits) - 1) <= 0)
		return -1;
	digits[sizeof(digits) - 1] = '\0';
	while (digits[n] >= '0' && digits[n] <= '9' && n < 18)
		tag = tag * 10 + (digits[n++] - '0');
	return n > 0 ? tag : -1;
}

static void
keep(int64_t ns, long tag)
{
	struct arrival *a;

	if (narrivals == cap) {
		cap = cap ? cap * 2 : 65536;
		if ((a = realloc(arrivals, cap * sizeof(*a))) == NULL) {
			fprintf(stderr, "sink: out of memory\n");
			exit(1);
		}
		arrivals = a;
	}
	arrivals[narrivals].ns = ns;
	arrivals[narrivals++].tag = tag;
}

static void
answer(struct evhttp_request *req, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
dump(struct evhttp_request *req)
{
	char line[64];
	FILE *f;
	size_t i;

	if (logpath == NULL || (f = fopen(logpath, "w")) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	for (i = 0; i < narrivals; i++)
		fprintf(f, "%lld %ld\n", (long long)arrivals[i].ns, arrivals[i].tag);
	if (fclose(f) != 0) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	snprintf(line, sizeof(line), "%zu", narrivals);
	answer(req, line);
}

static void
ok(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	char line[32];

	(void)arg;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		if (strcmp(uri, "/count") == 0) {
			snprintf(line, sizeof(line), "%llu", count);
			answer(req, line);
		} else if (strcmp(uri, "/dump") == 0)
			dump(req);
		else if (strcmp(uri, "/reset") == 0) {
			count = 0;
			narrivals = 0;
			answer(req, "0");
		} else
			evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	count++;
	if (logpath != NULL)
		keep(now_ns(), tag_of(evhttp_request_get_input_buffer(req)));
	evhttp_send_reply(req, 200, "OK", NULL);
}

int
main(int argc, char *argv[])
{
	struct event_base	*base;
	struct evhttp		*http;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: sink PORT [LOG]\n");
		return 2;
	}
	logpath = argc == 3 ? argv[2] : NULL;
	base = event_base_new();
	http = evhttp_new(base);
	if (base == NULL || http == NULL ||
	    evhttp_bind_socket(http, "127.0.0.1", (unsigned short)atoi(argv[1])) != 0) {
		fprintf(stderr, "sink: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	/* Alertmanager's webhooks and a body of several KiB are both fine. */
	evhttp_set_max_body_size(http, 16 << 20);
	evhttp_set_gencb(http, ok, NULL);
	event_base_dispatch(base);
	return 0;
}
