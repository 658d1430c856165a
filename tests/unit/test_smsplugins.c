/*
 * The SMS channels, loaded from build/plugins the way dutyd loads them:
 * twilio_sms and aliyun_sms.  Options, the requests they build (form
 * fields decoded back, Aliyun's signature recomputed here independently and
 * that recomputation checked against Aliyun's published examples) and how
 * they read vendor answers.
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
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "plugharness.h"

#define SID	"AC0123456789abcdef0123456789abcdef"
#define TOKEN	"f3c1d2e4a5b6c7d8e9f0a1b2c3d4e5f6"
#define TEXT	"【二级】东湖县 城关镇 河堤渗水 & 50% 水位+1m, 请回复=1 确认~"
#define URL	"https://duty.example.gov.cn/incidents/inc-20261128-0007"
#define INCIDENT "{\"id\":\"inc-20261128-0007\",\"office\":\"donghu\"," \
	"\"office_name\":\"东湖县应急管理局\",\"level\":\"II\"," \
	"\"title\":\"城关镇 河堤 渗水\",\"state\":\"open\"," \
	"\"received_at\":\"2026-11-28T14:40:35.123+08:00\"}"
#define AK_SECRET "kS9-秘钥/+=&x"

static struct channel_plugin *cp_twilio, *cp_aliyun;
static const struct dutyd_plugin *tw, *al;

static int
setup(void **unused)
{
	if ((tw = plug_open("twilio_sms", &cp_twilio)) == NULL ||
	    (al = plug_open("aliyun_sms", &cp_aliyun)) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **unused)
{
	channel_plugin_close(cp_twilio);
	channel_plugin_close(cp_aliyun);
	return 0;
}

static const struct dutyd_recipient zhang = { "zhang-wei", "张伟",
    "+8613800138000" };

/* One person, whose address a test may change in m->recipient. */
static void
message(struct dutyd_message *m)
{
	plug_message(m, INCIDENT, "城关镇 河堤 渗水", TEXT, URL, &zhang, 1);
	m->recipients = &m->recipient;
}

/* A name or a value of a form body, percent-decoded into malloc()ed memory. */
static char *
form_unescape(const char *s, size_t n)
{
	char *c, *u;
	int len;

	c = curl_easy_unescape(NULL, s, (int)n, &len);
	assert_non_null(c);
	assert_int_equal(strlen(c), len);	/* no %00 */
	u = strdup(c);
	curl_free(c);
	return u;
}

/* A form body, decoded: names and values as the vendor's server reads them. */
static void
form_parse(const char *body, struct plug_fields *f)
{
	const char *p = body, *amp, *eq;

	memset(f, 0, sizeof(*f));
	/* Strict RFC 3986: a '+' would read as a space, a '*' is not ours. */
	for (p = body; *p != '\0'; p++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_.~%=&", *p) == NULL)
			fail_msg("unencoded '%c' in form body %s", *p, body);
	for (p = body; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(amp - p));
		assert_non_null(eq);
		plug_fields_add(f, form_unescape(p, (size_t)(eq - p)),
		    form_unescape(eq + 1, (size_t)(amp - eq - 1)));
	}
}

/* twilio_sms ------------------------------------------------------------- */

static const struct dutyd_option tw_good[] = {
	{ "account_sid", SID },
	{ "auth_token", TOKEN },
	{ "from", "+15005550006" },
	{ "url", "http://127.0.0.1:9/" },
};

static void
test_twilio_configure(void **unused)
{
	const struct dutyd_option no_token[] = {
		{ "account_sid", SID }, { "from", "+15005550006" },
	};
	const struct dutyd_option unknown[] = {
		{ "account_sid", SID }, { "auth_token", TOKEN },
		{ "sender", "+15005550006" },
	};
	const struct dutyd_option twice[] = {
		{ "account_sid", SID }, { "auth_token", TOKEN },
		{ "from", "+1" }, { "from", "+2" },
	};
	const struct dutyd_option empty[] = {
		{ "account_sid", SID }, { "auth_token", "" }, { "from", "+1" },
	};
	static const char *bad_sids[] = { TOKEN, "AC123", SID "0",
	    "ACxyz456789abcdef0123456789abcdef", "SK0123456789abcdef0123456789abcdef" };
	static const char *bad_urls[] = { "ftp://api.twilio.com", "api.twilio.com",
	    "http://", "https://a b", "https:///api.twilio.com",
	    "https://api.twilio.com:65536" };
	size_t i;

	tw->release(plug_configure_ok(tw, tw_good, 4));
	tw->release(plug_configure_ok(tw, tw_good, 3));	/* url is optional */
	tw->release(NULL);
	assert_int_equal(tw->flags, DUTYD_PLUGIN_SMS);
	assert_int_equal(tw->rate_per_min, 0);

	plug_configure_bad(tw, NULL, 0, -1,
	    "missing: account_sid, auth_token, from");
	plug_configure_bad(tw, no_token, 2, -1, "missing: auth_token");
	plug_configure_bad(tw, unknown, 3, 2, "'sender'");
	plug_configure_bad(tw, unknown, 3, 2,
	    "account_sid, auth_token, from and url");
	plug_configure_bad(tw, twice, 4, 3, "twice");
	plug_configure_bad(tw, empty, 3, 1, "auth_token is empty");

	for (i = 0; i < sizeof(bad_sids) / sizeof(bad_sids[0]); i++)
		plug_configure_bad_value(tw, tw_good, 4, 0, bad_sids[i],
		    "Account SID");
	plug_configure_bad_value(tw, tw_good, 4, 1, "has space", "auth_token");
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
		plug_configure_bad_value(tw, tw_good, 4, 3, bad_urls[i],
		    "leave it out to use https://api.twilio.com");
	plug_configure_bad_value(tw, tw_good, 4, 3,
	    "https://api.twilio.com:65536", "(libcurl: Port number");
}

static void
test_twilio_build(void **unused)
{
	struct dutyd_message m;
	struct dutyd_request req;
	struct plug_fields f;

	message(&m);
	assert_int_equal(plug_build(tw, tw_good, 4, &m, &req), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, "http://127.0.0.1:9/2010-04-01/Accounts/"
	    SID "/Messages.json");
	assert_string_equal(plug_header(&req, "Content-Type"),
	    "application/x-www-form-urlencoded");
	assert_non_null(req.username);
	assert_non_null(req.password);
	assert_string_equal(req.username, SID);
	assert_string_equal(req.password, TOKEN);
	/* The token goes to libcurl's basic auth, nowhere else. */
	assert_null(strstr(req.body, TOKEN));
	assert_null(plug_header(&req, "Authorization"));
	assert_int_equal(strlen(req.body), req.body_len);

	form_parse(req.body, &f);
	assert_int_equal(f.n, 3);
	assert_string_equal(plug_fields_get(&f, "To"), "+8613800138000");
	assert_string_equal(plug_fields_get(&f, "From"), "+15005550006");
	assert_string_equal(plug_fields_get(&f, "Body"), TEXT);
	plug_fields_free(&f);
	channel_request_clear(&req);

	/* The default base is Twilio's. */
	assert_int_equal(plug_build(tw, tw_good, 3, &m, &req), 0);
	assert_string_equal(req.url, "https://api.twilio.com/2010-04-01/"
	    "Accounts/" SID "/Messages.json");
	channel_request_clear(&req);

	/* A base with a path (a proxy) keeps it; a query stays the query. */
	{
		static const char *base[][2] = {
			{ "https://proxy.example.org/twilio//",
			    "https://proxy.example.org/twilio/2010-04-01/"
			    "Accounts/" SID "/Messages.json" },
			{ "http://127.0.0.1:9?via=dutyd",
			    "http://127.0.0.1:9/2010-04-01/Accounts/" SID
			    "/Messages.json?via=dutyd" },
		};
		struct dutyd_option opts[4];
		size_t i;

		memcpy(opts, tw_good, sizeof(opts));
		for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
			opts[3].value = base[i][0];
			assert_int_equal(plug_build(tw, opts, 4, &m, &req), 0);
			assert_string_equal(req.url, base[i][1]);
			channel_request_clear(&req);
		}
	}
}

static void
test_twilio_build_bad(void **unused)
{
	struct dutyd_message m;
	void *state = plug_configure_ok(tw, tw_good, 4);

	message(&m);
	m.recipient.to = "";
	plug_build_refused(tw, state, &m);
	message(&m);
	m.text = NULL;
	plug_build_refused(tw, state, &m);
	tw->release(state);
}

static void
test_twilio_parse(void **unused)
{
	static const long permanent[] = { 20003, 21211, 21408, 21610, 21614 };
	struct dutyd_result res;
	char body[256];
	size_t i;

	res = plug_parse(tw, 201, NULL,
	    "{\"sid\":\"SM9f1c2a\",\"status\":\"queued\","
	    "\"to\":\"+8613800138000\"}", 0);
	assert_int_equal(res.outcome, DUTYD_DELIVERED);
	assert_contains(res.detail, "SM9f1c2a");
	assert_int_equal(plug_parse(tw, 200, NULL, NULL, 0).outcome,
	    DUTYD_DELIVERED);

	for (i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
		snprintf(body, sizeof(body), "{\"code\":%ld,\"message\":"
		    "\"The 'To' number is not valid.\",\"more_info\":"
		    "\"https://www.twilio.com/docs/errors/%ld\",\"status\":400}",
		    permanent[i], permanent[i]);
		res = plug_parse(tw, permanent[i] == 20003 ? 401 : 400, NULL,
		    body, 0);
		if (res.outcome != DUTYD_FAILED)
			fail_msg("code %ld: outcome %d", permanent[i],
			    res.outcome);
		snprintf(body, sizeof(body), "%ld", permanent[i]);
		assert_contains(res.detail, body);
		assert_contains(res.detail, "The 'To' number is not valid.");
		assert_null(strstr(res.detail, "more_info"));
	}
	/* 401 without a Twilio body is still a bad login. */
	assert_int_equal(plug_parse(tw, 401, NULL, "Unauthorized", 0).outcome,
	    DUTYD_FAILED);

	/* A code we do not know as permanent: try again. */
	res = plug_parse(tw, 400, NULL, "{\"code\":21617,\"message\":\"The "
	    "concatenated message body exceeds the 1600 character limit.\"}", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "21617");

	res = plug_parse(tw, 429, NULL,
	    "{\"code\":20429,\"message\":\"Too Many Requests\"}", 7000);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 7000);
	res = plug_parse(tw, 429, NULL, NULL, 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 60000);
	res = plug_parse(tw, 400, NULL,
	    "{\"code\":20429,\"message\":\"Too Many Requests\"}", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 60000);

	res = plug_parse(tw, 500, NULL,
	    "{\"code\":20500,\"message\":\"Internal Server Error\"}", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "500");
	res = plug_parse(tw, 503, NULL,
	    "<html>\r\n<b>Service Unavailable</b>", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "Service Unavailable");
	assert_null(strpbrk(res.detail, "\r\n"));

	res = plug_parse(tw, 0, "Could not resolve host: api.twilio.com",
	    NULL, 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 0);
	assert_contains(res.detail, "Could not resolve host: api.twilio.com");
}

/* aliyun_sms ------------------------------------------------------------- */

static const struct dutyd_option al_good[] = {
	{ "access_key_id", "LTAI5tTestKeyId" },
	{ "access_key_secret", AK_SECRET },
	{ "sign_name", "东湖县应急 值守" },
	{ "template_code", "SMS_154950909" },
	{ "url", "http://127.0.0.1:9/" },
	{ "region_id", "cn-shanghai" },
};

/*
 * Independent of the plugin: the documented percent-encoding, byte by byte,
 * and OpenSSL's one-shot HMAC.
 */
static char *
enc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *o = out;
	const unsigned char *p;

	assert_non_null(out);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p) != NULL)
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	*o = '\0';
	return out;
}

struct kv {
	const char	*k;
	const char	*v;
};

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

/* base64(HMAC-SHA1(secret + "&", METHOD&%2F&enc(sorted k=v&...))). */
static void
rpc_sign(const char *method, struct kv *p, size_t n, const char *secret,
    char *sts, size_t stslen, char *sig)
{
	char canon[4096] = "", key[256], *k, *v, *e;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t i;

	qsort(p, n, sizeof(*p), kv_cmp);
	for (i = 0; i < n; i++) {
		k = enc(p[i].k);
		v = enc(p[i].v);
		snprintf(canon + strlen(canon), sizeof(canon) - strlen(canon),
		    "%s%s=%s", i ? "&" : "", k, v);
		free(k);
		free(v);
	}
	assert_true(strlen(canon) < sizeof(canon) - 1);
	e = enc(canon);
	snprintf(sts, stslen, "%s&%%2F&%s", method, e);
	free(e);
	snprintf(key, sizeof(key), "%s&", secret);
	assert_non_null(HMAC(EVP_sha1(), key, (int)strlen(key),
	    (const unsigned char *)sts, strlen(sts), md, &mdlen));
	EVP_EncodeBlock((unsigned char *)sig, md, (int)mdlen);
}

/*
 * Aliyun's published examples: the RPC signature page (ECS DescribeRegions,
 * AccessKeySecret testsecret) and the SMS API's own (SendSms, testSecret,
 * a Chinese SignName).  They pin rpc_sign(), which then judges the plugin.
 */
static void
test_aliyun_vectors(void **unused)
{
	struct kv ecs[] = {
		{ "Timestamp", "2016-02-23T12:46:24Z" }, { "Format", "XML" },
		{ "AccessKeyId", "testid" }, { "Action", "DescribeRegions" },
		{ "SignatureMethod", "HMAC-SHA1" },
		{ "SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" },
		{ "Version", "2014-05-26" }, { "SignatureVersion", "1.0" },
	};
	struct kv sms[] = {
		{ "AccessKeyId", "testId" }, { "Action", "SendSms" },
		{ "Format", "XML" }, { "OutId", "123" },
		{ "PhoneNumbers", "15300000001" }, { "RegionId", "cn-hangzhou" },
		{ "SignName", "阿里云短信测试专用" },
		{ "SignatureMethod", "HMAC-SHA1" },
		{ "SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466" },
		{ "SignatureVersion", "1.0" }, { "TemplateCode", "SMS_71390007" },
		{ "TemplateParam", "{\"customer\":\"test\"}" },
		{ "Timestamp", "2017-07-12T02:42:19Z" },
		{ "Version", "2017-05-25" },
	};
	char sts[8192], sig[64];

	rpc_sign("GET", ecs, sizeof(ecs) / sizeof(ecs[0]), "testsecret", sts,
	    sizeof(sts), sig);
	assert_string_equal(sts, "GET&%2F&AccessKeyId%3Dtestid%26Action%3D"
	    "DescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26"
	    "SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26"
	    "SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z"
	    "%26Version%3D2014-05-26");
	assert_string_equal(sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
	rpc_sign("GET", sms, sizeof(sms) / sizeof(sms[0]), "testSecret", sts,
	    sizeof(sts), sig);
	assert_string_equal(sig, "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
}

static void
test_aliyun_configure(void **unused)
{
	const struct dutyd_option unknown[] = {
		{ "access_key_id", "LTAI5t" }, { "secret", "x" },
	};
	const struct dutyd_option partial[] = {
		{ "access_key_id", "LTAI5t" }, { "sign_name", "值守" },
	};
	const struct dutyd_option twice[] = {
		{ "region_id", "cn-hangzhou" }, { "region_id", "cn-beijing" },
	};

	al->release(plug_configure_ok(al, al_good, 6));
	/* url and region_id are optional */
	al->release(plug_configure_ok(al, al_good, 4));
	al->release(NULL);
	assert_int_equal(al->flags, DUTYD_PLUGIN_SMS);
	assert_int_equal(al->rate_per_min, 0);

	plug_configure_bad(al, NULL, 0, -1, "missing: access_key_id, "
	    "access_key_secret, sign_name, template_code");
	plug_configure_bad(al, partial, 2, -1, "missing: access_key_secret, "
	    "template_code");
	plug_configure_bad(al, unknown, 2, 1, "'secret'");
	plug_configure_bad(al, unknown, 2, 1, "access_key_id, "
	    "access_key_secret, sign_name, template_code, url and region_id");
	plug_configure_bad(al, twice, 2, 1, "twice");

	plug_configure_bad_value(al, al_good, 6, 3, "SMS 1549",
	    "template_code");
	plug_configure_bad_value(al, al_good, 6, 5, "cn hangzhou", "region_id");
	plug_configure_bad_value(al, al_good, 6, 4, "dysmsapi.aliyuncs.com",
	    "https://");
	plug_configure_bad_value(al, al_good, 6, 4, "https:///dysmsapi",
	    "leave it out to use https://dysmsapi.aliyuncs.com/");
	plug_configure_bad_value(al, al_good, 6, 4,
	    "https://dysmsapi.aliyuncs.com:0x50/", "(libcurl: Port number");
	plug_configure_bad_value(al, al_good, 6, 2, "值守\r\nX: 1",
	    "sign_name");
	plug_configure_bad_value(al, al_good, 6, 1, "",
	    "access_key_secret is empty");
}

static void
test_aliyun_build(void **unused)
{
	static const char *names[] = { "AccessKeyId", "Action", "Format",
	    "OutId", "PhoneNumbers", "RegionId", "SignName", "SignatureMethod",
	    "SignatureNonce", "SignatureVersion", "TemplateCode",
	    "TemplateParam", "Timestamp", "Version" };
	struct kv p[16];
	struct dutyd_message m;
	struct dutyd_request req;
	struct plug_fields f;
	char sts[8192], sig[64];
	const char *nonce;
	size_t i;

	message(&m);
	assert_int_equal(plug_build(al, al_good, 6, &m, &req), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, "http://127.0.0.1:9/");
	assert_string_equal(plug_header(&req, "Content-Type"),
	    "application/x-www-form-urlencoded");
	assert_null(req.username);
	assert_null(req.password);
	assert_int_equal(strlen(req.body), req.body_len);
	assert_null(strstr(req.body, "kS9"));	/* the secret stays home */
	/* A space is %20: '+' would mean something else to the signer. */
	assert_contains(req.body, "%20");

	form_parse(req.body, &f);
	assert_int_equal(f.n, 15);
	assert_string_equal(plug_fields_get(&f, "AccessKeyId"),
	    "LTAI5tTestKeyId");
	assert_string_equal(plug_fields_get(&f, "Action"), "SendSms");
	assert_string_equal(plug_fields_get(&f, "Format"), "JSON");
	assert_string_equal(plug_fields_get(&f, "OutId"), "d-7f3a9c-2");
	assert_string_equal(plug_fields_get(&f, "PhoneNumbers"),
	    "+8613800138000");
	assert_string_equal(plug_fields_get(&f, "RegionId"), "cn-shanghai");
	assert_string_equal(plug_fields_get(&f, "SignName"), "东湖县应急 值守");
	assert_string_equal(plug_fields_get(&f, "SignatureMethod"),
	    "HMAC-SHA1");
	assert_string_equal(plug_fields_get(&f, "SignatureVersion"), "1.0");
	assert_string_equal(plug_fields_get(&f, "TemplateCode"),
	    "SMS_154950909");
	assert_string_equal(plug_fields_get(&f, "Timestamp"),
	    "2026-11-28T08:40:35Z");
	assert_string_equal(plug_fields_get(&f, "Version"), "2017-05-25");
	nonce = plug_fields_get(&f, "SignatureNonce");
	assert_true(strlen(nonce) >= 16);

	/* The signature, recomputed over everything but itself. */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		p[i].k = names[i];
		p[i].v = plug_fields_get(&f, names[i]);
	}
	rpc_sign("POST", p, i, AK_SECRET, sts, sizeof(sts), sig);
	assert_string_equal(plug_fields_get(&f, "Signature"), sig);
	/* ... which a different secret does not reproduce. */
	rpc_sign("POST", p, i, "other", sts, sizeof(sts), sig);
	assert_string_not_equal(plug_fields_get(&f, "Signature"), sig);
	plug_fields_free(&f);
	channel_request_clear(&req);

	/* Defaults: Aliyun's endpoint and cn-hangzhou. */
	assert_int_equal(plug_build(al, al_good, 4, &m, &req), 0);
	assert_string_equal(req.url, "https://dysmsapi.aliyuncs.com/");
	form_parse(req.body, &f);
	assert_string_equal(plug_fields_get(&f, "RegionId"), "cn-hangzhou");
	plug_fields_free(&f);
	channel_request_clear(&req);
}

static char *
aliyun_nonce_of(const struct dutyd_message *m)
{
	struct dutyd_request req;
	struct plug_fields f;
	char *nonce;

	assert_int_equal(plug_build(al, al_good, 6, m, &req), 0);
	form_parse(req.body, &f);
	nonce = strdup(plug_fields_get(&f, "SignatureNonce"));
	assert_non_null(nonce);
	plug_fields_free(&f);
	channel_request_clear(&req);
	return nonce;
}

/* A replayed nonce is refused, so each attempt needs its own; no randomness. */
static void
test_aliyun_nonce(void **unused)
{
	struct dutyd_message m;
	char *a, *b, *c, *d;

	message(&m);
	a = aliyun_nonce_of(&m);
	b = aliyun_nonce_of(&m);
	m.now_ms += 1000;	/* the retry of the same delivery */
	c = aliyun_nonce_of(&m);
	message(&m);
	m.delivery_id = "d-7f3a9c-3";
	d = aliyun_nonce_of(&m);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

static json_t *
template_param(const char *incident)
{
	struct dutyd_message m;
	struct dutyd_request req;
	struct plug_fields f;
	json_t *tp;
	json_error_t jerr;

	message(&m);
	m.incident_json = incident;
	assert_int_equal(plug_build(al, al_good, 6, &m, &req), 0);
	form_parse(req.body, &f);
	tp = json_loads(plug_fields_get(&f, "TemplateParam"),
	    JSON_REJECT_DUPLICATES, &jerr);
	if (tp == NULL)
		fail_msg("TemplateParam is not JSON: %s", jerr.text);
	assert_int_equal(json_object_size(tp), 5);
	plug_fields_free(&f);
	channel_request_clear(&req);
	return tp;
}

static void
assert_var(json_t *tp, const char *name, const char *want)
{
	const char *got = json_string_value(json_object_get(tp, name));

	if (got == NULL)
		fail_msg("TemplateParam.%s is not a string", name);
	if (strcmp(got, want) != 0)
		fail_msg("TemplateParam.%s is \"%s\", expected \"%s\"", name,
		    got, want);
}

static void
test_aliyun_template(void **unused)
{
	json_t *tp;

	tp = template_param(INCIDENT);
	assert_var(tp, "office", "东湖县应急管理局");
	assert_var(tp, "title", "城关镇 河堤 渗水");
	assert_var(tp, "level", "II");
	assert_var(tp, "time", "11-28 14:40");
	assert_var(tp, "id", "inc-20261128-0007");
	json_decref(tp);

	/* Each variable is cut to 20 characters, not bytes, never mid-character. */
	tp = template_param("{\"id\":\"inc-20261128-0007-0123456789\","
	    "\"office\":\"x\",\"office_name\":\"A县Bureau of Emergency "
	    "Management\",\"title\":\"一二三四五六七八九十甲乙丙丁戊己庚辛壬癸"
	    "子丑寅卯\",\"level\":\"😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀\","
	    "\"received_at\":\"2026-01-02T03:04:05Z\"}");
	assert_var(tp, "office", "A县Bureau of Emergenc");
	assert_var(tp, "title", "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸");
	assert_var(tp, "level", "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀");
	assert_var(tp, "id", "inc-20261128-0007-01");
	assert_var(tp, "time", "01-02 03:04");
	json_decref(tp);

	/* Missing fields are empty; no office_name falls back to the office id. */
	tp = template_param("{\"office\":\"donghu\",\"office_name\":null,"
	    "\"level\":2}");
	assert_var(tp, "office", "donghu");
	assert_var(tp, "level", "2");
	assert_var(tp, "title", "");
	assert_var(tp, "time", "");
	assert_var(tp, "id", "");
	json_decref(tp);
}

static void
test_aliyun_build_bad(void **unused)
{
	static const char *bad_incidents[] = { "[1]", "not json", "" };
	static const char *bad_to[] = { "13800138000,13900139000", "",
	    "138 0013 8000", "1380013800\r\n" };
	struct dutyd_message m;
	void *state = plug_configure_ok(al, al_good, 6);
	size_t i;

	for (i = 0; i < sizeof(bad_incidents) / sizeof(bad_incidents[0]); i++) {
		message(&m);
		m.incident_json = bad_incidents[i];
		plug_build_refused(al, state, &m);
	}
	/* One message, one number: a comma would reach several. */
	for (i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		message(&m);
		m.recipient.to = bad_to[i];
		plug_build_refused(al, state, &m);
	}
	al->release(state);
}

static void
test_aliyun_parse(void **unused)
{
	static const char *permanent[] = { "isv.MOBILE_NUMBER_ILLEGAL",
	    "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL",
	    "isv.TEMPLATE_MISSING_PARAMETERS", "InvalidAccessKeyId.NotFound",
	    "SignatureDoesNotMatch", "isv.AMOUNT_NOT_ENOUGH",
	    "isv.OUT_OF_SERVICE", "isp.RAM_PERMISSION_DENY" };
	static const char *throttled[] = { "isv.BUSINESS_LIMIT_CONTROL",
	    "Throttling.User", "Throttling" };
	struct dutyd_result res;
	char body[512], want[128];
	size_t i;

	res = plug_parse(al, 200, NULL, "{\"Message\":\"OK\",\"RequestId\":"
	    "\"F655A8D5-B967-440B-8683-DAD6FF8DE990\",\"Code\":\"OK\","
	    "\"BizId\":\"900619746936498440^0\"}", 0);
	assert_int_equal(res.outcome, DUTYD_DELIVERED);
	assert_contains(res.detail, "900619746936498440^0");

	for (i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++) {
		snprintf(body, sizeof(body), "{\"Message\":\"不合法 %s\","
		    "\"RequestId\":\"R1\",\"Code\":\"%s\"}", permanent[i],
		    permanent[i]);
		/* Aliyun answers 200 for business errors, 4xx for auth ones. */
		res = plug_parse(al, strchr(permanent[i], '.') &&
		    permanent[i][0] == 'i' ? 200 : 400, NULL, body, 0);
		if (res.outcome != DUTYD_FAILED)
			fail_msg("%s: outcome %d", permanent[i], res.outcome);
		snprintf(want, sizeof(want), "Code %s: 不合法 %s", permanent[i],
		    permanent[i]);
		assert_string_equal(res.detail, want);
	}
	for (i = 0; i < sizeof(throttled) / sizeof(throttled[0]); i++) {
		snprintf(body, sizeof(body), "{\"Message\":\"触发流控\","
		    "\"Code\":\"%s\"}", throttled[i]);
		res = plug_parse(al, 200, NULL, body, 0);
		assert_int_equal(res.outcome, DUTYD_RETRY);
		assert_int_equal(res.retry_after_ms, 60000);
		assert_contains(res.detail, throttled[i]);
	}
	/* Unknown or passing codes are retried with the daemon's backoff. */
	res = plug_parse(al, 200, NULL, "{\"Message\":\"系统错误\",\"Code\":"
	    "\"isp.SYSTEM_ERROR\"}", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 0);
	assert_string_equal(res.detail, "Code isp.SYSTEM_ERROR: 系统错误");

	res = plug_parse(al, 429, NULL, NULL, 9000);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 9000);
	res = plug_parse(al, 429, NULL, "Too Many Requests", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 60000);

	res = plug_parse(al, 500, NULL,
	    "{\"Code\":\"InternalError\",\"Message\":"
	    "\"The request processing has failed due to some unknown error.\"}",
	    0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "InternalError");
	res = plug_parse(al, 502, NULL, "<html>Bad Gateway</html>", 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "Bad Gateway");
	/* A 200 that does not say OK is not a delivery. */
	assert_int_equal(plug_parse(al, 200, NULL, "{}", 0).outcome,
	    DUTYD_RETRY);
	assert_int_equal(plug_parse(al, 200, NULL, "<html>", 0).outcome,
	    DUTYD_RETRY);

	res = plug_parse(al, 0, "Connection timed out after 10001 milliseconds",
	    NULL, 0);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "Connection timed out");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twilio_configure),
		cmocka_unit_test(test_twilio_build),
		cmocka_unit_test(test_twilio_build_bad),
		cmocka_unit_test(test_twilio_parse),
		cmocka_unit_test(test_aliyun_vectors),
		cmocka_unit_test(test_aliyun_configure),
		cmocka_unit_test(test_aliyun_build),
		cmocka_unit_test(test_aliyun_nonce),
		cmocka_unit_test(test_aliyun_template),
		cmocka_unit_test(test_aliyun_build_bad),
		cmocka_unit_test(test_aliyun_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
