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
 * compact dump of its object, keys in this order (what every recipient of
 * an event gets alike first: webhook_sign() starts after it), absent values
 * null, escapes as jansson writes them.
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
	    "\"incident\": {\"id\":\"I-1\",\"n\":[1,{}]}\n,"
	    "\"text\":\"x\\ty\\\"z\\\\ 中/\\u0001\x7f\",\"url\":null,"
	    "\"delivery\":\"" PLUG_DELIVERY "\","
	    "\"recipient\":{\"id\":\"a\\\"b\",\"name\":null,\"to\":\"\"}}");
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
		assert_string_equal(at + 7 + strlen(want), ",\"delivery\":\""
		    PLUG_DELIVERY "\",\"recipient\":{\"id\":\"p\",\"name\":"
		    "\"名字\",\"to\":\"to\"}}");
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

/* HMAC-SHA256(secret, body) as a receiver computes it: "sha256=<hex>". */
static void
want_signature(const char *secret, const char *body, size_t len, char *want)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;

	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)body, len, md, &mdlen));
	assert_int_equal(mdlen, 32);
	strcpy(want, "sha256=");
	for (i = 0; i < mdlen; i++)
		snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
}

/*
 * Builds m on state and checks its signature against one from the key;
 * *body (unless NULL) gets a copy of the body, which the caller frees.
 */
static void
sign_checked(void *state, const char *secret, const struct dutyd_message *m,
    char **body)
{
	char want[7 + 2 * EVP_MAX_MD_SIZE + 1];
	struct dutyd_request req;
	const char *got;

	memset(&req, 0, sizeof(req));
	assert_int_equal(wh->build(state, m, &req), 0);
	want_signature(secret, req.body, req.body_len, want);
	got = plug_header(&req, "X-Dutyd-Signature");
	assert_non_null(got);
	assert_string_equal(got, want);
	if (body != NULL)
		assert_non_null(*body = strdup(req.body));
	channel_request_clear(&req);
}

/* How many bytes a and b share from their start. */
static size_t
shared(const char *a, const char *b)
{
	size_t n = 0;

	while (a[n] != '\0' && a[n] == b[n])
		n++;
	return n;
}

/* Where the member named key (",\"key\":") begins in body. */
static size_t
member_at(const char *body, const char *key)
{
	char want[32];
	const char *at;

	snprintf(want, sizeof(want), ",\"%s\":", key);
	assert_non_null(at = strstr(body, want));
	return (size_t)(at - body);
}

/*
 * A message of the event for one recipient: the text ends in the
 * recipient's own link, as the built-in templates do.
 */
static void
message_for(struct dutyd_message *m, const struct dutyd_recipient *r,
    const char *incident, const char *head, const char *link, char *text,
    size_t textlen)
{
	snprintf(text, textlen, "%s 确认：%s", head, link);
	plug_message(m, incident, NULL, text, link, r, 1);
	m->delivery_id = r->id;
}

/*
 * The recipients of one event get bodies that begin alike (event,
 * incident, the text up to the link), and the channel signs the next one
 * from a context it kept after those bytes (webhook_sign()).  Every
 * signature must still be the one a receiver computes from the key over
 * the whole body: the same body again, the next recipient's, texts that
 * part before the link, at the incident's end or only in their last byte,
 * a text without the link or with escapes, the smallest tail, prefixes
 * across the 64-byte blocks of SHA-256, two channels with different
 * secrets in turn, and a channel configured anew.
 */
static void
test_build_signature_reused(void **unused)
{
	static const char secret[] = "tP9-秘钥-k2", other[] = "hmac-secret";
	const struct dutyd_option opts[] = {
		{ "url", "https://hooks.example.org/dutyd" },
		{ "secret", secret },
	};
	const struct dutyd_option opts2[] = {
		{ "url", "https://hooks.example.org/dutyd" },
		{ "secret", other },
	};
	static const struct dutyd_recipient li = { "li-qiang", "李强",
	    "+8613800138001" };
	static const struct dutyd_recipient nobody = { NULL, NULL, NULL };
	static const char *const incidents[] = {
		"{\"id\":\"I-1\",\"n\":1}",
		"{\"id\":\"I-1\",\"n\":2}",	/* one byte before the end */
		"{\"id\":\"I-1\",\"n\":2} ",	/* the same, grown by a byte */
		"{\"id\":\"I-1\",\"n\":2}\n",	/* only the last byte differs */
		"{\"id\":\"I-1\",\"n\":1}",	/* the first again */
		INCIDENT,
	};
	static const char *const heads[] = { TEXT, TEXT "。", "【一级】", "",
	    "tab\there \"quoted\"", TEXT };
	struct dutyd_message m;
	void *state, *state2;
	char *a, *b, pad[300], t1[512], t2[512];
	size_t i, n;

	state = plug_configure_ok(wh, opts, 2);
	state2 = plug_configure_ok(wh, opts2, 2);

	/* Two recipients of one event: alike up to the link in the text. */
	message_for(&m, &zhang, INCIDENT, TEXT, URL "/a/TBBj4uotAcjX", t1,
	    sizeof(t1));
	sign_checked(state, secret, &m, &a);
	message_for(&m, &li, INCIDENT, TEXT, URL "/a/RhAZhbDeAcjX", t2,
	    sizeof(t2));
	sign_checked(state, secret, &m, &b);
	assert_true(shared(a, b) > member_at(a, "text") + strlen(TEXT));
	free(b);
	/* The first again, byte for byte. */
	message_for(&m, &zhang, INCIDENT, TEXT, URL "/a/TBBj4uotAcjX", t1,
	    sizeof(t1));
	sign_checked(state, secret, &m, &b);
	assert_string_equal(a, b);
	free(b);
	/* A text that parts before the link: alike up to the text. */
	message_for(&m, &li, INCIDENT, "李强：" TEXT, URL "/a/RhAZhbDeAcjX",
	    t2, sizeof(t2));
	sign_checked(state, secret, &m, &b);
	assert_int_equal(shared(a, b), member_at(a, "text") + 9);
	free(b);
	/* The smallest tail: no text, no url, every recipient value null. */
	plug_message(&m, INCIDENT, NULL, NULL, NULL, &nobody, 1);
	sign_checked(state, secret, &m, &b);
	assert_int_equal(shared(a, b), member_at(a, "text") + 8);
	free(b);
	free(a);

	/* A text without the link, the same for both; one with it twice. */
	plug_message(&m, INCIDENT, NULL, TEXT, URL "/a/1", &zhang, 1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, INCIDENT, NULL, TEXT, URL "/a/2", &li, 1);
	sign_checked(state, secret, &m, NULL);
	snprintf(t1, sizeof(t1), "%s %s", URL, URL);
	plug_message(&m, INCIDENT, NULL, t1, URL, &zhang, 1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, INCIDENT, NULL, t1, URL, &li, 1);
	sign_checked(state, secret, &m, NULL);

	/*
	 * A kept prefix compared to its last byte: bodies of the same length
	 * that differ only in the byte before the cut, at the incident's end
	 * (signed after a body unlike both) and before the link.
	 */
	plug_message(&m, "{\"id\":\"I-9\"}", NULL, "q" URL, URL, &zhang, 1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, "{\"id\":\"I-1\"} ", NULL, "q" URL, URL, &zhang, 1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, "{\"id\":\"I-1\"}\n", NULL, "q" URL, URL, &zhang, 1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, "{\"id\":\"I-1\"}\n", NULL, "r" URL, URL, &zhang, 1);
	sign_checked(state, secret, &m, NULL);
	/*
	 * The bytes kept are those of the body the contexts were taken from:
	 * X, then Y (another incident of the same length, another text), then
	 * Z with Y's incident and X's text.
	 */
	plug_message(&m, "{\"id\":\"I-7\"}", NULL, "x-text " URL, URL, &zhang,
	    1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, "{\"id\":\"I-8\"}", NULL, "y-text " URL, URL, &zhang,
	    1);
	sign_checked(state, secret, &m, NULL);
	plug_message(&m, "{\"id\":\"I-8\"}", NULL, "x-text " URL, URL, &zhang,
	    1);
	sign_checked(state, secret, &m, NULL);

	/* Bodies that part in every place, each followed by the next recipient's. */
	for (i = 0; i < sizeof(incidents) / sizeof(incidents[0]); i++) {
		message_for(&m, &zhang, incidents[i], heads[i], URL "/a/z", t1,
		    sizeof(t1));
		sign_checked(state, secret, &m, NULL);
		message_for(&m, &li, incidents[i], heads[i], URL "/a/l", t2,
		    sizeof(t2));
		sign_checked(state, secret, &m, NULL);
		plug_message(&m, incidents[i], NULL, heads[i], NULL, &li, 1);
		sign_checked(state, secret, &m, NULL);
	}

	/* Prefixes of every length across two SHA-256 blocks and more. */
	for (n = 0; n < 160; n++) {
		snprintf(pad, sizeof(pad), "{\"p\":\"%.*s\"}", (int)n,
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		message_for(&m, &zhang, INCIDENT, pad, URL "/a/z", t1,
		    sizeof(t1));
		sign_checked(state, secret, &m, NULL);
		message_for(&m, &li, INCIDENT, pad, URL "/a/l", t2, sizeof(t2));
		sign_checked(state, secret, &m, NULL);
		message_for(&m, &zhang, pad, TEXT, URL "/a/z", t1, sizeof(t1));
		sign_checked(state, secret, &m, NULL);
		plug_message(&m, pad, NULL, n % 2 ? NULL : TEXT, NULL, &li, 1);
		sign_checked(state, secret, &m, NULL);
	}

	/* Two channels with their own secrets, the same messages in turn. */
	for (i = 0; i < 3; i++) {
		message(&m);
		sign_checked(state, secret, &m, NULL);
		sign_checked(state2, other, &m, NULL);
	}
	wh->release(state2);

	/* Configured anew (a reload): the new secret signs from the start. */
	wh->release(state);
	state = plug_configure_ok(wh, opts2, 2);
	message(&m);
	sign_checked(state, other, &m, NULL);
	sign_checked(state, other, &m, NULL);
	wh->release(state);
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
		cmocka_unit_test(test_build_signature_reused),
		cmocka_unit_test(test_build_bad_incident),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
