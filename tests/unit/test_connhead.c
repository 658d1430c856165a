/*
 * intake/connhead.c: an answer's head is the text conn.c wrote with
 * evbuffer_add_printf() before, for every shape of answer, and a head
 * longer than the buffer is measured whole and cut, never overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "intake/connhead.h"
#include "intake/httpstatus.h"

/* What conn_write() and conn_stream_begin() printed (until 173636d). */
static char *
printed(const char *version, int status, const char *ct,
    const struct evkeyvalq *extra, size_t len, int keep)
{
	struct evbuffer		*out = evbuffer_new();
	const struct evkeyval	*kv;
	size_t			 n;
	char			*s;

	assert_non_null(out);
	if (len == CONNHEAD_STREAM) {
		evbuffer_add_printf(out, "%s %d %s\r\nContent-Type: %s\r\n"
		    "Connection: close\r\n", version, status,
		    httpstatus_reason(status), ct);
		TAILQ_FOREACH(kv, extra, next)
			evbuffer_add_printf(out, "%s: %s\r\n", kv->key, kv->value);
	} else {
		evbuffer_add_printf(out, "%s %d %s\r\n", version, status,
		    httpstatus_reason(status));
		if (ct != NULL)
			evbuffer_add_printf(out, "Content-Type: %s\r\n", ct);
		evbuffer_add_printf(out, "Content-Length: %zu\r\nConnection: "
		    "%s\r\n", len, keep ? "keep-alive" : "close");
		if (extra != NULL)
			TAILQ_FOREACH(kv, extra, next)
				evbuffer_add_printf(out, "%s: %s\r\n", kv->key,
				    kv->value);
		if ((status == 503 || status == 429) && (extra == NULL ||
		    evhttp_find_header(extra, "Retry-After") == NULL))
			evbuffer_add_printf(out, "Retry-After: %s\r\n", "5");
	}
	evbuffer_add(out, "\r\n", 2);
	n = evbuffer_get_length(out);
	assert_non_null(s = malloc(n + 1));
	evbuffer_remove(out, s, n);
	s[n] = '\0';
	evbuffer_free(out);
	return s;
}

static void
same(const char *version, int status, const char *ct,
    const struct evkeyvalq *extra, size_t len, int keep)
{
	char	*want = printed(version, status, ct, extra, len, keep);
	char	 buf[CONNHEAD_STACK + 1], small[16];
	size_t	 n;

	memset(buf, 'x', sizeof(buf));
	n = connhead_format(buf, CONNHEAD_STACK, version, status, ct, extra,
	    len, keep);
	if (n != strlen(want))
		print_message("got %.*s\nwant %s\n", (int)(n < sizeof(buf) ? n : sizeof(buf)), buf, want);
	assert_int_equal(n, strlen(want));
	if (n <= CONNHEAD_STACK) {
		assert_memory_equal(buf, want, n);
		assert_true(n == CONNHEAD_STACK || buf[n] == 'x');
	} else
		assert_memory_equal(buf, want, CONNHEAD_STACK);
	/* Cut short: the first bytes, the whole length, nothing past. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(connhead_format(small, 10, version, status, ct, extra,
	    len, keep), n);
	assert_memory_equal(small, want, 10);
	assert_int_equal(small[10], 'x');
	free(want);
}

static void
test_head_is_what_printf_wrote(void **state)
{
	static const int statuses[] = { 200, 201, 204, 304, 400, 401, 404,
	    409, 413, 422, 429, 431, 500, 503, 599, 99, 0, -1, INT32_MIN };
	static const size_t lens[] = { 0, 7, 1024, 4294967296ULL,
	    SIZE_MAX - 1 };
	struct evkeyvalq	 none, some, retry, huge;
	char			*big;
	size_t			 i, j;
	int			 keep;

	(void)state;
	TAILQ_INIT(&none);
	TAILQ_INIT(&some);
	TAILQ_INIT(&retry);
	TAILQ_INIT(&huge);
	evhttp_add_header(&some, "Location", "/api/v1/incidents/INC-20261203-0001");
	evhttp_add_header(&some, "Cache-Control", "no-store");
	evhttp_add_header(&retry, "Retry-After", "1");
	evhttp_add_header(&retry, "X-Empty", "");
	assert_non_null(big = malloc(3 * CONNHEAD_STACK));
	memset(big, 'a', 3 * CONNHEAD_STACK - 1);
	big[3 * CONNHEAD_STACK - 1] = '\0';
	evhttp_add_header(&huge, "Content-Security-Policy", big);
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			for (keep = 0; keep <= 1; keep++) {
				same("HTTP/1.1", statuses[i], "application/json; "
				    "charset=utf-8", &some, lens[j], keep);
				same("HTTP/1.0", statuses[i], NULL, NULL, lens[j],
				    keep);
				same("HTTP/1.1", statuses[i], "text/plain", &none,
				    lens[j], keep);
				same("HTTP/1.1", statuses[i], "text/html", &retry,
				    lens[j], keep);
				same("HTTP/1.1", statuses[i], NULL, &huge, lens[j],
				    keep);
			}
	/* A stream's head: no length, closed at the end. */
	same("HTTP/1.1", 200, "text/event-stream", &some, CONNHEAD_STREAM, 0);
	same("HTTP/1.1", 200, "text/event-stream", &none, CONNHEAD_STREAM, 0);
	same("HTTP/1.1", 200, "text/event-stream", &huge, CONNHEAD_STREAM, 0);
	evhttp_clear_headers(&some);
	evhttp_clear_headers(&retry);
	evhttp_clear_headers(&huge);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_is_what_printf_wrote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
