/*
 * parse/httpreq.c: requests framed one at a time, and every framing a
 * proxy in front could read differently refused with its status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/httpreq.h"

/* Feeds TEXT in pieces of STEP bytes until an event other than MORE. */
static enum httpreq_event
feed(struct httpreq *r, const char **text, size_t step)
{
	enum httpreq_event	 ev = HTTPREQ_MORE;
	size_t			 len, used;

	while (**text != '\0') {
		len = strlen(*text);
		ev = httpreq_feed(r, *text, len < step ? len : step, &used);
		*text += used;
		if (ev != HTTPREQ_MORE)
			return ev;
	}
	return ev;
}

/* The status the whole of TEXT is refused with (0: accepted). */
static int
refused(const char *text)
{
	struct httpreq		*r = httpreq_new();
	enum httpreq_event	 ev;
	int			 status = 0;

	assert_non_null(r);
	while ((ev = feed(r, &text, 7)) != HTTPREQ_MORE) {
		if (ev == HTTPREQ_ERROR) {
			status = httpreq_status(r);
			assert_true(strlen(httpreq_why(r)) > 10);
			break;
		}
		if (ev == HTTPREQ_DONE)
			httpreq_next(r);
	}
	httpreq_free(r);
	return status;
}

static void
test_pipelined_requests_one_at_a_time(void **state)
{
	const char *text = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: "
	    "application/json\r\nExpect: 100-continue\r\nContent-Length: 2"
	    "\r\n\r\n{}";
	struct httpreq	*r = httpreq_new();
	size_t		 len;

	assert_int_equal(feed(r, &text, 5), HTTPREQ_BEGIN);
	assert_int_equal(feed(r, &text, 5), HTTPREQ_HEAD);
	assert_int_equal(feed(r, &text, 5), HTTPREQ_DONE);
	assert_string_equal(httpreq_method(r), "GET");
	assert_string_equal(httpreq_url(r), "/healthz");
	assert_true(httpreq_keep_alive(r));
	/* Nothing more is taken until the first is answered. */
	assert_int_equal(feed(r, &text, 5), HTTPREQ_DONE);
	httpreq_next(r);
	assert_int_equal(feed(r, &text, 5), HTTPREQ_BEGIN);
	assert_int_equal(feed(r, &text, 5), HTTPREQ_HEAD);
	assert_true(httpreq_expects_continue(r));
	assert_string_equal(httpreq_header(r, "content-type"), "application/json");
	assert_int_equal(feed(r, &text, 5), HTTPREQ_DONE);
	assert_string_equal(httpreq_body(r, &len), "{}");
	assert_int_equal(len, 2);
	assert_string_equal(text, "");
	httpreq_free(r);
}

/* A chunk extension and a trailer are valid: the body is the chunks' data. */
static void
test_chunks_with_extensions(void **state)
{
	const char *text = "POST /r HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "5;name=value\r\nhello\r\n1;x\r\n!\r\n0;last\r\nX-Trailer: t\r\n\r\n";
	struct httpreq		*r = httpreq_new();
	enum httpreq_event	 ev;
	size_t			 len;

	while ((ev = feed(r, &text, 3)) != HTTPREQ_DONE)
		assert_int_not_equal(ev, HTTPREQ_ERROR);
	assert_string_equal(httpreq_body(r, &len), "hello!");
	assert_null(httpreq_header(r, "X-Trailer"));
	httpreq_free(r);
}

static void
test_ambiguous_framing_is_refused(void **state)
{
	assert_int_equal(refused("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\n{}"), 400);
	assert_int_equal(refused("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
	assert_int_equal(refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, "
	    "chunked\r\n\r\n0\r\n\r\n"), 501);
	assert_int_equal(refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked"
	    "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
	assert_int_equal(refused("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	assert_int_equal(refused("NOT A REQUEST\r\n\r\n"), 400);
}

static void
test_caps(void **state)
{
	char	*big;
	size_t	 n = 20 * 1024;

	big = malloc(n + 100);
	memset(big, 'a', n);
	memcpy(big, "GET /", 5);
	snprintf(big + 9000, 100, " HTTP/1.1\r\n\r\n");
	assert_int_equal(refused(big), 414);
	memset(big, 'a', n);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	snprintf(big + 17000, 100, "\r\n\r\n");
	assert_int_equal(refused(big), 431);
	free(big);
	assert_int_equal(refused("POST / HTTP/1.1\r\nContent-Length: 2000000\r\n"
	    "\r\n"), 413);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_requests_one_at_a_time),
		cmocka_unit_test(test_chunks_with_extensions),
		cmocka_unit_test(test_ambiguous_framing_is_refused),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
