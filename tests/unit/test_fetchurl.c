/*
 * fetchurl_classify(): HTTP or SMTP and the loggable form of a URL, the
 * same whether the answer is parsed anew or kept from an earlier call, for
 * more URLs than are kept and for URLs that differ only at the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "notify/fetchurl.h"

static int
setup(void **state)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	fetchurl_forget();
	curl_global_cleanup();
	return 0;
}

static void
expect(const char *url, int kind, const char *log)
{
	char	 got[256] = "?";

	assert_int_equal(fetchurl_classify(url, got, sizeof(got)), kind);
	assert_string_equal(got, log);
}

static void
test_kinds(void **state)
{
	int	 round;

	for (round = 0; round < 2; round++) {
		expect("https://user:pw@hooks.example.org/x?access_token=s#f", 0,
		    "https://hooks.example.org/x");
		expect("http://127.0.0.1:9000/hook", 0,
		    "http://127.0.0.1:9000/hook");
		expect("smtps://mail.example.org:465", 1,
		    "smtps://mail.example.org:465/");
		expect("ftp://example.org/x", -EPROTONOSUPPORT, "?");
		expect("not a url", -EINVAL, "?");
	}
}

/* Forty URLs in turn, twice, then the first again: each its own answer. */
static void
test_many(void **state)
{
	char	 url[64], log[64];
	int	 round, i;

	for (round = 0; round < 2; round++)
		for (i = 0; i < 40; i++) {
			snprintf(url, sizeof(url), "%s://h%d.example.org/p?k=%d",
			    i % 3 ? "https" : "smtp", i, i);
			snprintf(log, sizeof(log), "%s://h%d.example.org/p",
			    i % 3 ? "https" : "smtp", i);
			expect(url, i % 3 ? 0 : 1, log);
		}
	expect("smtp://h0.example.org/p?k=0", 1, "smtp://h0.example.org/p");
	/* One URL the prefix of another. */
	expect("https://a.example.org/hook", 0, "https://a.example.org/hook");
	expect("https://a.example.org/hook2", 0, "https://a.example.org/hook2");
	expect("https://a.example.org/hook", 0, "https://a.example.org/hook");
	fetchurl_forget();
	expect("https://a.example.org/hook2", 0, "https://a.example.org/hook2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
