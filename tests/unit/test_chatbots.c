/*
 * The group robot channels (dingtalk, wecom, feishu), loaded from
 * build/plugins the way dutyd loads them: their options, the requests they
 * build (checked by decoding the JSON, signatures against the vendors'
 * worked examples in data/vectors.json) and how they read the answers.
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
#include <curl/curl.h>
#include <jansson.h>

#include "plugharness.h"

#define TITLE	"【二级】东湖县 城关镇 河堤 渗水"
#define TEXT	"东湖县 城关镇 河堤 渗水\n上报 14:40 值班员 张伟\n请 20 分钟内确认"
#define URL	"https://duty.example.gov.cn/incidents/inc-20261128-0007"
#define MOBILE1	"+8613800138000"
#define MOBILE2	"13900139000"

static struct channel_plugin *cp_ding, *cp_wecom, *cp_feishu;
static const struct dutyd_plugin *ding, *wecom, *feishu;
static json_t *vectors;

static const struct dutyd_recipient rcpts[] = {
	{ "zhang-wei", "张伟", MOBILE1 },
	{ "li-na", "李娜", MOBILE2 },
	{ "wang-fang", "王芳", "" },		/* no address here: not mentioned */
	{ "zhang-wei-2", "张伟", MOBILE1 },	/* picked by two rules: mentioned once */
};

static int
setup(void **unused)
{
	if ((ding = plug_open("dingtalk", &cp_ding)) == NULL ||
	    (wecom = plug_open("wecom", &cp_wecom)) == NULL ||
	    (feishu = plug_open("feishu", &cp_feishu)) == NULL)
		return -1;
	return (vectors = plug_vectors()) == NULL ? -1 : 0;
}

static int
teardown(void **unused)
{
	channel_plugin_close(cp_ding);
	channel_plugin_close(cp_wecom);
	channel_plugin_close(cp_feishu);
	json_decref(vectors);
	return 0;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* What every robot refuses alike; `good` is a working url. */
static void
configure_common(const struct dutyd_plugin *p, const char *good,
    const char *known)
{
	static const char *bad_urls[] = { "ftp://example.org/?key=1&access_token=1",
	    "example.org/?key=1&access_token=1", "http://", "https:///?key=1",
	    "http://a b/?key=1&access_token=1", "file:///etc/passwd",
	    "https:///h/?key=1&access_token=1", "http:/h/?key=1&access_token=1",
	    "http://h:99999/?key=1&access_token=1" };
	struct dutyd_option opts[3];
	size_t i;

	plug_configure_bad(p, NULL, 0, -1, "needs a url");
	opts[0] = (struct dutyd_option){ "url", good };
	opts[1] = (struct dutyd_option){ "colour", "red" };
	plug_configure_bad(p, opts, 2, 1, "'colour'");
	plug_configure_bad(p, opts, 2, 1, known);
	opts[1] = (struct dutyd_option){ "url", good };
	plug_configure_bad(p, opts, 2, 1, "twice");
	plug_configure_bad_value(p, opts, 1, 0, "", "empty");
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
		plug_configure_bad_value(p, opts, 1, 0, bad_urls[i], "http://");
	/* What the rule does not say, libcurl does. */
	plug_configure_bad_value(p, opts, 1, 0,
	    "http://h:99999/?key=1&access_token=1", "(libcurl: Port number");
	p->release(plug_configure_ok(p, opts, 1));
	p->release(NULL);
}

static void
test_abi(void **unused)
{
	/* Group robots: the daemon may bundle people into one message. */
	assert_true(ding->flags & DUTYD_PLUGIN_GROUP);
	assert_true(wecom->flags & DUTYD_PLUGIN_GROUP);
	assert_true(feishu->flags & DUTYD_PLUGIN_GROUP);
	assert_false((ding->flags | wecom->flags | feishu->flags) &
	    DUTYD_PLUGIN_SMS);
	/* The vendors' documented per-robot limits. */
	assert_int_equal(ding->rate_per_min, 20);
	assert_int_equal(wecom->rate_per_min, 20);
	assert_int_equal(feishu->rate_per_min, 100);
}

static void
test_configure(void **unused)
{
	const struct dutyd_option ding_ok[] = {
		{ "secret", "SECabc" },
		{ "url", "https://oapi.dingtalk.com/robot/send?access_token=x" },
	};
	const struct dutyd_option ding_notoken[] = {
		{ "url", "https://oapi.dingtalk.com/robot/send?token=x" },
	};
	const struct dutyd_option ding_nosecret[] = {
		{ "url", "http://127.0.0.1:9/robot/send?access_token=x" },
		{ "secret", "" },
	};
	const struct dutyd_option wecom_ok[] = {
		{ "msgtype", "markdown" },
		{ "url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k" },
	};
	const struct dutyd_option wecom_nokey[] = {
		{ "url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send" },
	};
	const struct dutyd_option wecom_type[] = {
		{ "url", "http://127.0.0.1:9/send?key=k" },
		{ "msgtype", "news" },
	};
	const struct dutyd_option feishu_ok[] = {
		{ "url", "https://open.feishu.cn/open-apis/bot/v2/hook/0f2a" },
		{ "secret", "demo" },
	};
	const struct dutyd_option feishu_secret_only[] = {
		{ "secret", "demo" },
	};
	/* The token is a query parameter of its own, wherever it stands. */
	static const char *wecom_keyless[] = {
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?monkey=k",
		"https://qyapi.weixin.qq.com/key=k/send",
		"https://qyapi.weixin.qq.com/send#key=k",
	};
	const struct dutyd_option wecom_later[] = {
		{ "url", "http://127.0.0.1:9/send?debug=1&key=k#top" },
	};
	size_t i;

	configure_common(ding, "http://127.0.0.1:9/send?access_token=x",
	    "url and secret");
	configure_common(wecom, "http://127.0.0.1:9/send?key=k",
	    "url and msgtype");
	configure_common(feishu, "http://127.0.0.1:9/hook/x",
	    "url and secret");

	ding->release(plug_configure_ok(ding, ding_ok, 2));
	plug_configure_bad(ding, ding_notoken, 1, 0, "access_token");
	plug_configure_bad(ding, ding_nosecret, 2, 1, "secret");
	wecom->release(plug_configure_ok(wecom, wecom_ok, 2));
	plug_configure_bad(wecom, wecom_nokey, 1, 0, "key=");
	for (i = 0; i < sizeof(wecom_keyless) / sizeof(wecom_keyless[0]); i++)
		plug_configure_bad_value(wecom, wecom_nokey, 1, 0,
		    wecom_keyless[i], "url has no key=");
	wecom->release(plug_configure_ok(wecom, wecom_later, 1));
	plug_configure_bad(wecom, wecom_type, 2, 1, "'news'");
	feishu->release(plug_configure_ok(feishu, feishu_ok, 2));
	plug_configure_bad(feishu, feishu_secret_only, 1, -1, "url");
}

static void
message(struct dutyd_message *m)
{
	plug_message(m, "{\"id\":\"inc-20261128-0007\"}", TITLE, TEXT, URL,
	    rcpts, sizeof(rcpts) / sizeof(rcpts[0]));
}

/* Configures, builds m, and returns the body decoded; checks what all share. */
static json_t *
build(const struct dutyd_plugin *p, const struct dutyd_option *opts,
    size_t n, const struct dutyd_message *m, struct dutyd_request *req)
{
	json_error_t jerr;
	json_t *body;

	assert_int_equal(plug_build(p, opts, n, m, req), 0);
	assert_string_equal(req->method, "POST");
	assert_non_null(req->body);
	assert_int_equal(strlen(req->body), req->body_len);
	assert_string_equal(plug_header(req, "Content-Type"),
	    "application/json");
	assert_string_equal(plug_header(req, "X-Dutyd-Delivery"),
	    m->delivery_id);
	body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (body == NULL)
		fail_msg("%s body is not JSON: %s: %s", p->name, jerr.text,
		    req->body);
	/* Chinese as UTF-8, not \u escapes: the vendors count bytes. */
	assert_null(strstr(req->body, "\\u"));
	return body;
}

static const char *
jstr(json_t *root, const char *a, const char *b)
{
	json_t *v = json_object_get(root, a);

	if (b != NULL)
		v = json_object_get(v, b);
	if (!json_is_string(v))
		fail_msg("no string at %s%s%s", a, b ? "." : "", b ? b : "");
	return json_string_value(v);
}

static void
assert_mobiles(json_t *list)
{
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 0)), MOBILE1);
	assert_string_equal(json_string_value(json_array_get(list, 1)), MOBILE2);
}

static void
test_dingtalk_build(void **unused)
{
	const struct dutyd_option opts[] = {
		{ "url", "http://127.0.0.1:9/robot/send?access_token=t0k3n" },
	};
	struct dutyd_message m;
	struct dutyd_request req;
	const char *text;
	json_t *body, *at;

	message(&m);
	body = build(ding, opts, 1, &m, &req);
	/* Unsigned: the address as configured. */
	assert_string_equal(req.url, opts[0].value);
	assert_string_equal(jstr(body, "msgtype", NULL), "markdown");
	assert_string_equal(jstr(body, "markdown", "title"), TITLE);
	text = jstr(body, "markdown", "text");
	assert_contains(text, TITLE);
	assert_contains(text, TEXT);
	assert_int_equal(count(text, URL), 2);	/* [URL](URL): one link */
	/* DingTalk notifies only numbers that also appear in the text. */
	assert_int_equal(count(text, "@" MOBILE1), 1);
	assert_int_equal(count(text, "@" MOBILE2), 1);
	assert_null(strstr(text, "王芳"));
	at = json_object_get(body, "at");
	assert_mobiles(json_object_get(at, "atMobiles"));
	assert_true(json_is_false(json_object_get(at, "isAtAll")));
	json_decref(body);
	channel_request_clear(&req);

	/* A link already in the text is not added again. */
	message(&m);
	m.text = TEXT "\n" URL;
	m.nrecipients = 1;
	body = build(ding, opts, 1, &m, &req);
	text = jstr(body, "markdown", "text");
	assert_int_equal(count(text, URL), 1);
	assert_int_equal(count(text, "@"), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(body,
	    "at"), "atMobiles")), 1);
	json_decref(body);
	channel_request_clear(&req);
}

/* The value of query parameter `name` in url, still percent-encoded. */
static char *
query(const char *url, const char *name)
{
	const char *p = strchr(url, '?'), *end;
	size_t n = strlen(name);

	while (p != NULL) {
		p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			p += n + 1;
			end = p + strcspn(p, "&");
			return strndup(p, (size_t)(end - p));
		}
		p = strchr(p, '&');
	}
	return NULL;
}

static void
test_dingtalk_sign(void **unused)
{
	const char *grp = "dingtalk_robot_sign";
	const struct dutyd_option opts[] = {
		{ "url", "http://127.0.0.1:9/robot/send?access_token=t0k3n" },
		{ "secret", plug_vector(vectors, grp, "secret") },
	};
	struct dutyd_message m;
	struct dutyd_request req;
	char *ts, *sign, *raw;
	json_t *body;
	int len;

	message(&m);
	m.now_ms = strtoll(plug_vector(vectors, grp, "timestamp"), NULL, 10);
	body = build(ding, opts, 2, &m, &req);
	assert_true(strncmp(req.url, opts[0].value, strlen(opts[0].value)) == 0);
	ts = query(req.url, "timestamp");
	sign = query(req.url, "sign");
	assert_non_null(ts);
	assert_non_null(sign);
	assert_string_equal(ts, plug_vector(vectors, grp, "timestamp"));
	/* Percent-encoded: a raw + would arrive as a space. */
	assert_null(strpbrk(sign, "+/="));
	raw = curl_easy_unescape(NULL, sign, 0, &len);
	assert_non_null(raw);
	assert_string_equal(raw, plug_vector(vectors, grp, "sign_base64"));
	curl_free(raw);
	free(ts);
	free(sign);
	json_decref(body);
	channel_request_clear(&req);

	/* The signature joins the query, before any #fragment. */
	{
		const struct dutyd_option frag[] = {
			{ "url", "http://127.0.0.1:9/robot/send?access_token="
			    "t0k3n#top" },
			{ "secret", plug_vector(vectors, grp, "secret") },
		};

		body = build(ding, frag, 2, &m, &req);
		assert_string_equal(req.url, "http://127.0.0.1:9/robot/send?"
		    "access_token=t0k3n&timestamp=1577262236757&sign="
		    "hmPWwU%2b7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2bGs6EZQM%3d#top");
		json_decref(body);
		channel_request_clear(&req);
	}

	/* A different moment, a different signature. */
	m.now_ms += 1;
	body = build(ding, opts, 2, &m, &req);
	sign = query(req.url, "sign");
	raw = curl_easy_unescape(NULL, sign, 0, &len);
	assert_string_not_equal(raw, plug_vector(vectors, grp, "sign_base64"));
	curl_free(raw);
	free(sign);
	json_decref(body);
	channel_request_clear(&req);
}

static void
test_wecom_build(void **unused)
{
	const struct dutyd_option text_opts[] = {
		{ "url", "http://127.0.0.1:9/cgi-bin/webhook/send?key=k1" },
	};
	const struct dutyd_option md_opts[] = {
		{ "url", "http://127.0.0.1:9/cgi-bin/webhook/send?key=k1" },
		{ "msgtype", "markdown" },
	};
	struct dutyd_message m;
	struct dutyd_request req;
	const char *content;
	json_t *body;

	message(&m);
	body = build(wecom, text_opts, 1, &m, &req);
	assert_string_equal(req.url, text_opts[0].value);
	assert_string_equal(jstr(body, "msgtype", NULL), "text");
	content = jstr(body, "text", "content");
	assert_true(strncmp(content, TITLE "\n", strlen(TITLE) + 1) == 0);
	assert_contains(content, TEXT);
	assert_int_equal(count(content, URL), 1);
	assert_mobiles(json_object_get(json_object_get(body, "text"),
	    "mentioned_mobile_list"));
	json_decref(body);
	channel_request_clear(&req);

	/* A link already in the text is not added again. */
	m.text = TEXT "\n" URL;
	body = build(wecom, text_opts, 1, &m, &req);
	assert_int_equal(count(jstr(body, "text", "content"), URL), 1);
	json_decref(body);
	channel_request_clear(&req);

	/* Markdown cannot mention by mobile: names in plain text instead. */
	message(&m);
	body = build(wecom, md_opts, 2, &m, &req);
	assert_string_equal(jstr(body, "msgtype", NULL), "markdown");
	assert_null(json_object_get(body, "text"));
	assert_null(json_object_get(json_object_get(body, "markdown"),
	    "mentioned_mobile_list"));
	content = jstr(body, "markdown", "content");
	assert_contains(content, "**" TITLE "**");
	assert_contains(content, TEXT);
	assert_contains(content, "[" URL "](" URL ")");
	assert_int_equal(count(content, "@张伟"), 1);
	assert_int_equal(count(content, "@李娜"), 1);
	assert_null(strstr(content, "王芳"));
	json_decref(body);
	channel_request_clear(&req);
}

/* WeCom refuses content over 2048 (text) or 4096 (markdown) bytes. */
static void
test_wecom_long(void **unused)
{
	const struct dutyd_option text_opts[] = {
		{ "url", "http://127.0.0.1:9/send?key=k1" },
	};
	const struct dutyd_option md_opts[] = {
		{ "url", "http://127.0.0.1:9/send?key=k1" },
		{ "msgtype", "markdown" },
	};
	const struct { const struct dutyd_option *opts; size_t n;
	    const char *type; size_t max; } v[] = {
		{ text_opts, 1, "text", 2048 },
		{ md_opts, 2, "markdown", 4096 },
	};
	struct dutyd_message m;
	struct dutyd_request req;
	const char *content;
	char *text;
	size_t i, k, len;
	json_t *body;

	/* 2000 three-byte characters, then a marker that must be cut off. */
	text = malloc(2000 * 3 + 8);
	assert_non_null(text);
	for (k = 0; k < 2000; k++)
		memcpy(text + 3 * k, "险", 3);
	strcpy(text + 6000, "END");
	for (i = 0; i < 2; i++) {
		message(&m);
		m.text = text;
		body = build(wecom, v[i].opts, v[i].n, &m, &req);
		content = jstr(body, v[i].type, "content");
		len = strlen(content);
		assert_true(len <= v[i].max);
		assert_true(len > v[i].max - 64);	/* shortened, not dropped */
		assert_null(strstr(content, "END"));
		assert_contains(content, "险…");	/* cut between characters */
		assert_contains(content, URL);	/* the link survives */
		json_decref(body);
		channel_request_clear(&req);
	}
	free(text);
}

static void
test_feishu_build(void **unused)
{
	const struct dutyd_option opts[] = {
		{ "url", "http://127.0.0.1:9/open-apis/bot/v2/hook/0f2a" },
	};
	static const struct dutyd_recipient sneaky[] = {
		{ "x", "X", "ou_1\"><at user_id=\"all" },
	};
	struct dutyd_message m;
	struct dutyd_request req;
	const char *text;
	json_t *body;

	message(&m);
	body = build(feishu, opts, 1, &m, &req);
	assert_string_equal(req.url, opts[0].value);
	assert_string_equal(jstr(body, "msg_type", NULL), "text");
	text = jstr(body, "content", "text");
	assert_true(strncmp(text, TITLE "\n", strlen(TITLE) + 1) == 0);
	assert_contains(text, TEXT);
	assert_int_equal(count(text, URL), 1);
	assert_int_equal(count(text, "<at user_id=\"" MOBILE1 "\">张伟</at>"), 1);
	assert_int_equal(count(text, "<at user_id=\"" MOBILE2 "\">李娜</at>"), 1);
	assert_int_equal(count(text, "<at "), 2);
	assert_null(strstr(text, "王芳"));
	/* Unsigned: no timestamp or sign for Feishu to check. */
	assert_int_equal(json_object_size(body), 2);
	json_decref(body);
	channel_request_clear(&req);

	/* A link already in the text is not added again. */
	message(&m);
	m.text = URL " " TEXT;
	body = build(feishu, opts, 1, &m, &req);
	assert_int_equal(count(jstr(body, "content", "text"), URL), 1);
	json_decref(body);
	channel_request_clear(&req);

	/* An address cannot smuggle in a mention of everyone. */
	message(&m);
	m.recipients = sneaky;
	m.nrecipients = 1;
	body = build(feishu, opts, 1, &m, &req);
	text = jstr(body, "content", "text");
	assert_null(strstr(text, "<at"));
	assert_contains(text, "@X");
	json_decref(body);
	channel_request_clear(&req);
}

static void
test_feishu_sign(void **unused)
{
	const char *grp = "feishu_bot_sign";
	const struct dutyd_option opts[] = {
		{ "url", "http://127.0.0.1:9/open-apis/bot/v2/hook/0f2a" },
		{ "secret", plug_vector(vectors, grp, "secret") },
	};
	struct dutyd_message m;
	struct dutyd_request req;
	json_t *body;

	message(&m);
	/* Seconds, rounded down: the milliseconds do not matter. */
	m.now_ms = strtoll(plug_vector(vectors, grp, "timestamp"), NULL,
	    10) * 1000 + 999;
	body = build(feishu, opts, 2, &m, &req);
	assert_string_equal(jstr(body, "timestamp", NULL),
	    plug_vector(vectors, grp, "timestamp"));
	assert_string_equal(jstr(body, "sign", NULL),
	    plug_vector(vectors, grp, "sign_base64"));
	assert_string_equal(jstr(body, "msg_type", NULL), "text");
	json_decref(body);
	channel_request_clear(&req);

	m.now_ms += 1000;
	body = build(feishu, opts, 2, &m, &req);
	assert_string_not_equal(jstr(body, "sign", NULL),
	    plug_vector(vectors, grp, "sign_base64"));
	json_decref(body);
	channel_request_clear(&req);
}

/* Input no robot can carry: refused, and nothing leaks. */
static void
test_build_bad(void **unused)
{
	const struct dutyd_option ding_opts[] = {
		{ "url", "http://127.0.0.1:9/send?access_token=t" },
		{ "secret", "SECx" },
	};
	const struct dutyd_option wecom_opts[] = {
		{ "url", "http://127.0.0.1:9/send?key=k" },
	};
	const struct dutyd_option feishu_opts[] = {
		{ "url", "http://127.0.0.1:9/hook/x" },
		{ "secret", "demo" },
	};
	const struct { const struct dutyd_plugin *p;
	    const struct dutyd_option *opts; size_t n; } v[] = {
		{ ding, ding_opts, 2 },
		{ wecom, wecom_opts, 1 },
		{ feishu, feishu_opts, 2 },
	};
	struct dutyd_message m;
	void *state;
	size_t i;

	for (i = 0; i < 3; i++) {
		state = plug_configure_ok(v[i].p, v[i].opts, v[i].n);
		message(&m);
		m.text = "\xb3\xc7\xb9\xd8";	/* GBK, not UTF-8 */
		plug_build_refused(v[i].p, state, &m);

		message(&m);
		m.delivery_id = "d-1\r\nX-Evil: 1";
		plug_build_refused(v[i].p, state, &m);
		v[i].p->release(state);
	}
}

struct pcase {
	long		 status;
	const char	*error;
	const char	*body;
	int64_t		 retry_after;
	enum dutyd_outcome want;
	int64_t		 want_wait;
	const char	*want_detail;
};

static void
parse_cases(const struct dutyd_plugin *p, const struct pcase *c, size_t n)
{
	struct dutyd_response resp;
	struct dutyd_result res;
	size_t i;

	for (i = 0; i < n; i++) {
		resp = plug_response(c[i].status, c[i].error, c[i].body,
		    c[i].retry_after);
		memset(&res, 0xff, sizeof(res));	/* nothing left to chance */
		res.detail[sizeof(res.detail) - 1] = '\0';
		assert_int_equal(p->parse(NULL, &resp, &res), 0);
		if (res.outcome != c[i].want || res.retry_after_ms !=
		    c[i].want_wait || strstr(res.detail, c[i].want_detail) == NULL)
			fail_msg("%s: HTTP %ld %s: got outcome %d wait %lld "
			    "\"%s\", want %d wait %lld \"%s\"", p->name,
			    c[i].status, c[i].body ? c[i].body : "",
			    res.outcome, (long long)res.retry_after_ms,
			    res.detail, c[i].want, (long long)c[i].want_wait,
			    c[i].want_detail);
	}
}

#define DELIVERED	DUTYD_DELIVERED
#define RETRY		DUTYD_RETRY
#define FAILED		DUTYD_FAILED

/* What all three do with HTTP itself, before any vendor code. */
static void
parse_http(const struct dutyd_plugin *p)
{
	const struct pcase c[] = {
		{ 429, NULL, "", 5000, RETRY, 5000, "HTTP 429" },
		{ 429, NULL, "slow down", 0, RETRY, 60000, "HTTP 429: slow down" },
		{ 500, NULL, "internal error", 0, RETRY, 0, "HTTP 500: internal error" },
		{ 502, NULL, NULL, 0, RETRY, 0, "HTTP 502" },
		{ 0, "Failed to connect to 127.0.0.1 port 9 after 0 ms: "
		    "Couldn't connect to server", NULL, 0, RETRY, 0,
		    "Couldn't connect to server" },
		{ 0, NULL, NULL, 0, RETRY, 0, "no response" },
		/* A wrong address or token is not fixed by waiting. */
		{ 404, NULL, "<h1>Not Found</h1>", 0, FAILED, 0,
		    "HTTP 404: <h1>Not Found</h1>" },
		{ 403, NULL, NULL, 0, FAILED, 0, "HTTP 403" },
		{ 302, NULL, NULL, 0, FAILED, 0, "HTTP 302" },
		/* A 2xx from something else (a proxy's page) is no delivery. */
		{ 200, NULL, "<html>gateway\r\ntimeout</html>", 0, RETRY, 0,
		    "<html>gateway  timeout</html>" },
		{ 200, NULL, "", 0, RETRY, 0, "HTTP 200" },
		{ 200, NULL, "{\"ok\":true}", 0, RETRY, 0, "{\"ok\":true}" },
		{ 200, NULL, "[0]", 0, RETRY, 0, "[0]" },
	};

	parse_cases(p, c, sizeof(c) / sizeof(c[0]));
}

static void
test_dingtalk_parse(void **unused)
{
	const struct pcase c[] = {
		{ 200, NULL, "{\"errcode\":0,\"errmsg\":\"ok\"}", 0,
		    DELIVERED, 0, "errcode 0: ok" },
		{ 200, NULL, "{\"errcode\":-1,\"errmsg\":\"系统繁忙\"}", 0,
		    RETRY, 0, "errcode -1: 系统繁忙" },
		{ 200, NULL, "{\"errcode\":410100,\"errmsg\":\"发送速度太快而限流\"}",
		    0, RETRY, 60000, "errcode 410100: 发送速度太快而限流" },
		{ 200, NULL, "{\"errcode\":130101,\"errmsg\":\"send too fast, "
		    "exceed 20 times per minute\"}", 0, RETRY, 60000,
		    "send too fast" },
		{ 200, NULL, "{\"errcode\":310000,\"errmsg\":\"keywords not in "
		    "content\"}", 0, FAILED, 0,
		    "errcode 310000: keywords not in content" },
		{ 200, NULL, "{\"errcode\":300001,\"errmsg\":\"token is not "
		    "exist\"}", 0, FAILED, 0, "token is not exist" },
		{ 400, NULL, "{\"errcode\":300001,\"errmsg\":\"token is not "
		    "exist\"}", 0, FAILED, 0, "HTTP 400: {\"errcode\":300001" },
		/* Rate limited is rate limited, whatever the HTTP status. */
		{ 403, NULL, "{\"errcode\":410100,\"errmsg\":\"limited\"}", 0,
		    RETRY, 60000, "errcode 410100: limited" },
		/* Feishu's success is not DingTalk's. */
		{ 200, NULL, "{\"code\":0,\"msg\":\"success\"}", 0, RETRY, 0,
		    "HTTP 200" },
	};

	parse_http(ding);
	parse_cases(ding, c, sizeof(c) / sizeof(c[0]));
}

static void
test_wecom_parse(void **unused)
{
	const struct pcase c[] = {
		{ 200, NULL, "{\"errcode\":0,\"errmsg\":\"ok\"}", 0,
		    DELIVERED, 0, "errcode 0" },
		{ 200, NULL, "{\"errcode\":-1,\"errmsg\":\"system busy\"}", 0,
		    RETRY, 0, "errcode -1: system busy" },
		{ 200, NULL, "{\"errcode\":45009,\"errmsg\":\"api freq out of "
		    "limit\"}", 0, RETRY, 60000,
		    "errcode 45009: api freq out of limit" },
		{ 200, NULL, "{\"errcode\":93000,\"errmsg\":\"invalid webhook "
		    "url, hint: [1755605200056773468916791]\"}", 0, FAILED, 0,
		    "errcode 93000: invalid webhook url" },
		{ 429, NULL, "{\"errcode\":45009,\"errmsg\":\"api freq out of "
		    "limit\"}", 7000, RETRY, 7000, "errcode 45009" },
	};

	parse_http(wecom);
	parse_cases(wecom, c, sizeof(c) / sizeof(c[0]));
}

static void
test_feishu_parse(void **unused)
{
	const struct pcase c[] = {
		{ 200, NULL, "{\"code\":0,\"data\":{},\"msg\":\"success\"}", 0,
		    DELIVERED, 0, "errcode 0: success" },
		/* Older replies. */
		{ 200, NULL, "{\"Extra\":null,\"StatusCode\":0,"
		    "\"StatusMessage\":\"success\"}", 0, DELIVERED, 0,
		    "success" },
		{ 200, NULL, "{\"code\":2200,\"msg\":\"internal error\"}", 0,
		    RETRY, 0, "errcode 2200: internal error" },
		{ 200, NULL, "{\"code\":9499,\"msg\":\"too many request\"}", 0,
		    RETRY, 60000, "errcode 9499: too many request" },
		{ 400, NULL, "{\"code\":9499,\"msg\":\"too many request\"}", 0,
		    RETRY, 60000, "errcode 9499" },
		{ 200, NULL, "{\"code\":19021,\"data\":{},\"msg\":\"sign match "
		    "fail or timestamp is not within one hour from current "
		    "time\"}", 0, FAILED, 0, "errcode 19021: sign match fail" },
		{ 200, NULL, "{\"code\":19024,\"msg\":\"Key Words Not Found\"}",
		    0, FAILED, 0, "errcode 19024: Key Words Not Found" },
		{ 400, NULL, "{\"code\":19021,\"msg\":\"sign match fail\"}", 0,
		    FAILED, 0, "HTTP 400" },
		{ 200, NULL, "{\"errcode\":0,\"errmsg\":\"ok\"}", 0, RETRY, 0,
		    "HTTP 200" },
	};

	parse_http(feishu);
	parse_cases(feishu, c, sizeof(c) / sizeof(c[0]));
}

/* A long vendor message still leaves room for the advice after it. */
static void
test_parse_long_message(void **unused)
{
	const struct dutyd_plugin *p[] = { ding, wecom, feishu };
	const char *code[] = { "errcode\":310000", "errcode\":93000",
	    "code\":19024" };
	struct dutyd_response resp;
	struct dutyd_result res;
	char body[1024], msg[601];
	json_t *s;
	size_t i, k;

	for (k = 0; k < 200; k++)
		memcpy(msg + 3 * k, "错", 3);
	msg[600] = '\0';
	for (i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"%s,\"%s\":\"%s\"}", code[i],
		    i == 2 ? "msg" : "errmsg", msg);
		resp = plug_response(200, NULL, body, 0);
		memset(&res, 0, sizeof(res));
		assert_int_equal(p[i]->parse(NULL, &resp, &res), 0);
		assert_int_equal(res.outcome, DUTYD_FAILED);
		assert_true(strlen(res.detail) < sizeof(res.detail) - 1);
		assert_true(res.detail[strlen(res.detail) - 1] == ')');
		assert_contains(res.detail, "错错错");
		/* Still UTF-8, so the audit log can carry it. */
		s = json_string(res.detail);
		assert_non_null(s);
		json_decref(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi),
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_dingtalk_build),
		cmocka_unit_test(test_dingtalk_sign),
		cmocka_unit_test(test_wecom_build),
		cmocka_unit_test(test_wecom_long),
		cmocka_unit_test(test_feishu_build),
		cmocka_unit_test(test_feishu_sign),
		cmocka_unit_test(test_build_bad),
		cmocka_unit_test(test_dingtalk_parse),
		cmocka_unit_test(test_wecom_parse),
		cmocka_unit_test(test_feishu_parse),
		cmocka_unit_test(test_parse_long_message),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
