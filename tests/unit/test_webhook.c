/*
 * The webhook channel, loaded from build/plugins/webhook.so the way dutyd
 * loads it: options, the request it builds (and its signature, recomputed
 * here independently) and how it reads answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plugharness.h"

#define INCIDENT "{\"id\":\"inc-20261128-0007\",\"level\":2," \
	"\"title\":\"城关镇 河堤 渗水\",\"county\":\"东湖县\"," \
	"\"tags\":[\"flood\"],\"reported\":\"2026-11-28T14:40:35+08:00\"}"
#define TEXT "【二级】东湖县 城关镇 河堤 渗水 (reported 14:40)"
#define URL "https://duty.example.gov.cn/incidents/inc-20261128-0007"

static struct channel_plugin *cp;
static const struct dutyd_plugin *wh;

static int
setup(void **unused)
{
	return (wh = plug_open("webhook", &cp)) == NULL ? -1 : 0;
}

static int
teardown(void **unused)
{
	channel_plugin_close(cp);
	return 0;
}

static void
test_configure(void **unused)
{
	const struct dutyd_option good[] = {
		{ "url", "https://hooks.example.org/dutyd" },
		{ "secret", "s3cret" },
	};
	const struct dutyd_option none[] = { { "secret", "s3cret" } };
	const struct dutyd_option unknown[] = {
		{ "url", "http://127.0.0.1:8080/" },
		{ "secret", "x" },
		{ "colour", "red" },
	};
	const struct dutyd_option empty_secret[] = {
		{ "url", "http://127.0.0.1:8080/" },
		{ "secret", "" },
	};
	const struct dutyd_option twice[] = {
		{ "url", "http://a/" },
		{ "url", "http://b/" },
	};
	static const char *bad_urls[] = { "ftp://example.org/", "example.org",
	    "http://", "https:///path", "http://a b/", "file:///etc/passwd",
	    "", "http:/example.org/", "http://example.org:65536/" };
	const struct dutyd_option secret_url[] = {
		{ "secret", "x" },
		{ "url", "http://127.0.0.1:8080/" },
	};
	size_t i;

	wh->release(plug_configure_ok(wh, good, 2));
	wh->release(plug_configure_ok(wh, good, 1));	/* secret is optional */
	wh->release(NULL);

	plug_configure_bad(wh, none, 1, -1, "url");
	plug_configure_bad(wh, NULL, 0, -1, "url");
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
		plug_configure_bad_value(wh, secret_url, 2, 1, bad_urls[i],
		    "http://");
	plug_configure_bad_value(wh, secret_url, 2, 1,
	    "http://example.org:65536/", "dutyd-hook (libcurl: Port number");
	plug_configure_bad(wh, unknown, 3, 2, "colour");
	plug_configure_bad(wh, unknown, 3, 2, "url and secret");
	plug_configure_bad(wh, empty_secret, 2, 1, "secret");
	plug_configure_bad(wh, twice, 2, 1, "twice");
}

static const struct dutyd_recipient zhang = { "zhang-wei", "张伟",
    "+8613800138000" };

static void
message(struct dutyd_message *m)
{
	plug_message(m, INCIDENT, NULL, TEXT, URL, &zhang, 1);
}

static void
build(const struct dutyd_option *opts, size_t n, struct dutyd_request *req)
{
	struct dutyd_message m;

	message(&m);
	assert_int_equal(plug_build(wh, opts, n, &m, req), 0);
}

static void
test_build_body(void **unused)
{
	const struct dutyd_option opts[] = { { "url", "http://127.0.0.1:9/h" } };
	struct dutyd_request req;
	json_t *body, *want, *rcpt;
	json_error_t jerr;
	char *again;

	build(opts, 1, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, "http://127.0.0.1:9/h");
	assert_non_null(req.body);
	assert_int_equal(strlen(req.body), req.body_len);

	body = json_loadb(req.body, req.body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL)
		fail_msg("body is not JSON: %s: %s", jerr.text, req.body);
	assert_string_equal(json_string_value(json_object_get(body, "event")),
	    "incident.new");
	assert_string_equal(json_string_value(json_object_get(body,
	    "delivery")), "d-7f3a9c-2");
	assert_string_equal(json_string_value(json_object_get(body, "text")),
	    TEXT);
	assert_string_equal(json_string_value(json_object_get(body, "url")),
	    URL);
	/* The incident is embedded as an object, not as a string. */
	want = json_loads(INCIDENT, 0, NULL);
	assert_non_null(want);
	assert_true(json_is_object(json_object_get(body, "incident")));
	assert_true(json_equal(json_object_get(body, "incident"), want));
	rcpt = json_object_get(body, "recipient");
	assert_string_equal(json_string_value(json_object_get(rcpt, "id")),
	    "zhang-wei");
	assert_string_equal(json_string_value(json_object_get(rcpt, "name")),
	    "张伟");
	assert_string_equal(json_string_value(json_object_get(rcpt, "to")),
	    "+8613800138000");
	assert_int_equal(json_object_size(body), 6);

	/* Compact, and Chinese text as UTF-8 rather than \u escapes. */
	assert_contains(req.body, "\"text\":\"" TEXT "\"");
	assert_null(strstr(req.body, "\\u"));
	again = json_dumps(body, JSON_COMPACT);
	assert_string_equal(req.body, again);

	free(again);
	json_decref(want);
	json_decref(body);
	channel_request_clear(&req);
}

/*
 * Receivers verify the signature over the exact bytes: the body is the
 * compact dump of its object, keys in this order, absent values null,
 * escapes as jansson writes them.
 */
static void
test_build_exact(void **unused)
{
	const struct dutyd_option opts[] = { { "url", "http://127.0.0.1:9/h" } };
	static const struct dutyd_recipient odd = { "a\"b", NULL, "" };
	struct dutyd_message m;
	struct dutyd_request req;

	plug_message(&m, " {\"id\":\"I-1\",\"n\":[1,{}]}\n", NULL,
	    "x\ty\"z\\ 中/\x01\x7f", NULL, &odd, 1);
	assert_int_equal(plug_build(wh, opts, 1, &m, &req), 0);
	assert_string_equal(req.body, "{\"event\":\"incident.new\","
	    "\"delivery\":\"" PLUG_DELIVERY "\","
	    "\"incident\": {\"id\":\"I-1\",\"n\":[1,{}]}\n,"
	    "\"recipient\":{\"id\":\"a\\\"b\",\"name\":null,\"to\":\"\"},"
	    "\"text\":\"x\\ty\\\"z\\\\ 中/\\u0001\x7f\",\"url\":null}");
	assert_int_equal(req.body_len, strlen(req.body));
	channel_request_clear(&req);

	/* No event or delivery id: nothing to send. */
	plug_message(&m, "{}", NULL, "t", NULL, &odd, 1);
	m.event = NULL;
	assert_int_equal(plug_build(wh, opts, 1, &m, &req), -EINVAL);
	channel_request_clear(&req);
}

/*
 * A value with nothing to escape is copied, not dumped (webhook.c): for
 * every kind of text the bytes are jansson's, and what jansson refuses
 * (not UTF-8) is refused still.
 */
static void
test_build_copied_values_are_jansson_s(void **unused)
{
	static const char *const texts[] = { "", "plain ascii / ~\x7f",
	    "中文：某镇化工厂爆炸（II级）", "emoji \xf0\x9f\x98\x80 end",
	    "line\u2028sep", "tab\there", "quote \" here", "back\\slash",
	    "\x01", "中\n文", "bad \xff byte", "overlong \xc0\xaf",
	    "surrogate \xed\xa0\x80", "cut \xe4\xb8", "\xf4\x90\x80\x80" };
	const struct dutyd_option opts[] = { { "url", "http://127.0.0.1:9/h" } };
	static const struct dutyd_recipient rcpt = { "p", "名字", "to" };
	struct dutyd_message m;
	struct dutyd_request req;
	json_t		*j;
	char		*want, *at;
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		plug_message(&m, "{}", NULL, texts[i], texts[i], &rcpt, 1);
		r = plug_build(wh, opts, 1, &m, &req);
		j = json_string_nocheck(texts[i]);
		want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(j);
		if (want == NULL) {
			assert_int_equal(r, -EINVAL);
			channel_request_clear(&req);
			continue;
		}
		assert_int_equal(r, 0);
		assert_non_null(at = strstr(req.body, ",\"text\":"));
		assert_memory_equal(at + 8, want, strlen(want));
		at += 8 + strlen(want);
		assert_memory_equal(at, ",\"url\":", 7);
		assert_memory_equal(at + 7, want, strlen(want));
		assert_string_equal(at + 7 + strlen(want), "}");
		free(want);
		channel_request_clear(&req);
	}
}

static void
test_build_headers(void **unused)
{
	const struct dutyd_option opts[] = { { "url", "http://127.0.0.1:9/h" } };
	struct dutyd_request req;

	build(opts, 1, &req);
	assert_int_equal(req.nheaders, 4);
	assert_non_null(plug_header(&req, "Content-Type"));
	assert_string_equal(plug_header(&req, "Content-Type"),
	    "application/json");
	assert_string_equal(plug_header(&req, "User-Agent"), "dutyd");
	assert_string_equal(plug_header(&req, "X-Dutyd-Event"), "incident.new");
	assert_string_equal(plug_header(&req, "X-Dutyd-Delivery"),
	    "d-7f3a9c-2");
	assert_null(plug_header(&req, "X-Dutyd-Signature"));
	channel_request_clear(&req);
}

static void
test_build_signature(void **unused)
{
	static const char secret[] = "tP9-秘钥-k2";
	const struct dutyd_option opts[] = {
		{ "url", "https://hooks.example.org/dutyd" },
		{ "secret", secret },
	};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	char want[7 + 2 * EVP_MAX_MD_SIZE + 1];
	const char *got;
	struct dutyd_request req;

	build(opts, 2, &req);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)req.body, req.body_len, md, &mdlen));
	assert_int_equal(mdlen, 32);
	strcpy(want, "sha256=");
	for (i = 0; i < mdlen; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
	got = plug_header(&req, "X-Dutyd-Signature");
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(req.nheaders, 5);

	/* It covers every byte of the body, not a prefix. */
	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)req.body, req.body_len - 1, md, &mdlen));
	for (i = 0; i < mdlen; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
	assert_string_not_equal(got, want);
	channel_request_clear(&req);
}

static void
test_build_bad_incident(void **unused)
{
	const struct dutyd_option opts[] = { { "url", "http://127.0.0.1:9/h" } };
	static const char *bad[] = { "[1,2]", "\"text\"", "not json", "{",
	    "" };
	struct dutyd_message m;
	void *state = plug_configure_ok(wh, opts, 1);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		message(&m);
		m.incident_json = bad[i];
		plug_build_refused(wh, state, &m);
	}
	/* Text that is not UTF-8 cannot be put into JSON. */
	message(&m);
	m.text = "\xb3\xc7\xb9\xd8";	/* GBK */
	plug_build_refused(wh, state, &m);
	/* A header cannot be smuggled in through the delivery id. */
	message(&m);
	m.delivery_id = "d-1\r\nX-Evil: 1";
	plug_build_refused(wh, state, &m);
	wh->release(state);
}

static struct dutyd_result
parse(long status, const char *error, const char *body)
{
	return plug_parse(wh, status, error, body, 0);
}

static void
test_parse(void **unused)
{
	struct dutyd_result res;
	char body[301], want[120];
	static const char *cjk = "服务暂时不可用请稍后再试服务暂时不可用请稍后再试"
	    "服务暂时不可用请稍后再试服务暂时不可用请稍后再试";	/* 48 x 3 bytes */

	assert_int_equal(parse(200, NULL, "ok").outcome, DUTYD_DELIVERED);
	assert_int_equal(parse(204, NULL, NULL).outcome, DUTYD_DELIVERED);

	res = parse(500, NULL, "internal error");
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_string_equal(res.detail, "HTTP 500: internal error");

	res = parse(404, NULL, NULL);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_string_equal(res.detail, "HTTP 404");

	res = parse(0, "Failed to connect to 127.0.0.1 port 9 after 0 ms: "
	    "Couldn't connect to server", NULL);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "Couldn't connect to server");

	/* Only the first 100 bytes of a long body are quoted. */
	memset(body, 'x', 300);
	body[300] = '\0';
	memcpy(body, "BEGIN", 5);
	res = parse(503, NULL, body);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	snprintf(want, sizeof(want), "HTTP 503: %.100s", body);
	assert_string_equal(res.detail, want);

	/* ... without cutting a character in half (33 x 3 = 99 bytes). */
	res = parse(502, NULL, cjk);
	snprintf(want, sizeof(want), "HTTP 502: %.99s", cjk);
	assert_string_equal(res.detail, want);

	/* Non-UTF-8 bytes and line breaks do not reach the audit log. */
	res = parse(500, NULL, "\xb7\xfe\xce\xf1\r\nbad");
	assert_string_equal(res.detail, "HTTP 500: ????  bad");

	assert_int_equal(parse(302, NULL, NULL).outcome, DUTYD_RETRY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_build_body),
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_copied_values_are_jansson_s),
		cmocka_unit_test(test_build_headers),
		cmocka_unit_test(test_build_signature),
		cmocka_unit_test(test_build_bad_incident),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
