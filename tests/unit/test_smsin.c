/*
 * SMS intake: gateway bodies and signatures, phone numbers, what staff
 * reply and what county offices write when they report by SMS.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "state/incident.h"
#include "parse/report.h"
#include "parse/smsin.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#define VECTORS		TEST_SRC_DIR "/data/vectors.json"
#define MIN_MS		INT64_C(60000)
#define DAY_MS		INT64_C(86400000)
#define CST		(8 * 3600)	/* China Standard Time, seconds */

_Static_assert(SMSIN_ID_MAX == INCIDENT_ID_MAX, "ids must fit both ways");

/* Helpers ---------------------------------------------------------------- */

static char *
repeat(const char *unit, size_t n)
{
	size_t	 u = strlen(unit), i;
	char	*s;

	s = malloc(u * n + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

/* Epoch ms of a local wall-clock time at a fixed UTC offset. */
static int64_t
wall_ms(int y, int mo, int d, int h, int mi, long offset_s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return ((int64_t)timegm(&tm) - offset_s) * 1000;
}

/* Twilio's algorithm, spelled out here from its documentation. */
static char *
twilio_sig(const char *token, const char *signed_string)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	size_t		 mdlen = 0;
	char		*b64;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, token,
	    strlen(token), (const unsigned char *)signed_string,
	    strlen(signed_string), md, sizeof(md), &mdlen));
	b64 = calloc(1, 4 * ((mdlen + 2) / 3) + 1);
	assert_non_null(b64);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	return b64;
}

static json_t *
load_vectors(void)
{
	json_error_t	 err;
	json_t		*v;

	v = json_load_file(VECTORS, 0, &err);
	if (v == NULL)
		fail_msg("%s: %s", VECTORS, err.text);
	return v;
}

/* The params object as a form body, each value percent-encoded. */
static char *
form_body(json_t *params)
{
	const char	*k;
	json_t		*v;
	char		*body, *enc;
	size_t		 len = 0;

	body = calloc(1, 4096);
	assert_non_null(body);
	json_object_foreach(params, k, v) {
		enc = evhttp_uriencode(json_string_value(v), -1, 1);
		assert_non_null(enc);
		len += (size_t)snprintf(body + len, 4096 - len, "%s%s=%s",
		    len > 0 ? "&" : "", k, enc);
		free(enc);
	}
	assert_true(len < 4096);
	return body;
}

static void
parse_ok(const char *body, struct smsin_form *form)
{
	int	 rc = smsin_form_parse(body, strlen(body), form);

	if (rc != 0)
		fail_msg("smsin_form_parse(\"%.60s\") = %d", body, rc);
}

static int
parse_rc(const char *body)
{
	struct smsin_form form;
	int	 rc;

	rc = smsin_form_parse(body, strlen(body), &form);
	if (rc != 0) {
		assert_int_equal(form.npairs, 0);
		assert_null(form.pairs);
	}
	smsin_form_free(&form);
	return rc;
}

/* Form bodies ------------------------------------------------------------ */

static void
test_form_order_and_repeats(void **state)
{
	struct smsin_form form;

	parse_ok("From=%2B8613800138000&Body=3+A%E7%A1%AE%E8%AE%A4&Body=x"
	    "&To=106", &form);
	assert_int_equal(form.npairs, 4);
	assert_string_equal(form.pairs[0].name, "From");
	assert_string_equal(form.pairs[0].value, "+8613800138000");
	assert_string_equal(form.pairs[1].name, "Body");
	assert_string_equal(form.pairs[1].value, "3 A确认");
	assert_string_equal(form.pairs[2].name, "Body");
	assert_string_equal(form.pairs[2].value, "x");
	assert_string_equal(form.pairs[3].value, "106");
	assert_string_equal(smsin_form_get(&form, "Body"), "3 A确认");
	assert_null(smsin_form_get(&form, "body"));
	smsin_form_free(&form);

	/* Names are decoded too, and an empty value is a value. */
	parse_ok("Add%4Fns=&X=1", &form);
	assert_int_equal(form.npairs, 2);
	assert_string_equal(form.pairs[0].name, "AddOns");
	assert_string_equal(form.pairs[0].value, "");
	smsin_form_free(&form);

	parse_ok("", &form);
	assert_int_equal(form.npairs, 0);
	smsin_form_free(&form);
}

static void
test_form_caps(void **state)
{
	char	 body[SMSIN_BODY_MAX + 64];
	char	*v;
	size_t	 len = 0;
	int	 i;

	for (i = 0; i < SMSIN_PAIRS_MAX; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "%sp%d=%d", i ? "&" : "", i, i);
	assert_int_equal(parse_rc(body), 0);
	snprintf(body + len, sizeof(body) - len, "&one=more");
	assert_int_equal(parse_rc(body), -E2BIG);

	/* The body cap is on the bytes, whatever the pairs hold. */
	v = repeat("a", (SMSIN_BODY_MAX - 12) / 4);
	snprintf(body, sizeof(body), "a=%s&b=%s&c=%s&d=%s", v, v, v, v);
	assert_int_equal(strlen(body), SMSIN_BODY_MAX - 1);
	assert_int_equal(parse_rc(body), 0);
	snprintf(body, sizeof(body), "a=%s&b=%s&c=%s&d=%sa", v, v, v, v);
	assert_int_equal(parse_rc(body), 0);
	snprintf(body, sizeof(body), "a=%s&b=%s&c=%s&d=%saa", v, v, v, v);
	assert_int_equal(parse_rc(body), -E2BIG);
	free(v);

	v = repeat("a", SMSIN_VALUE_MAX);
	snprintf(body, sizeof(body), "Body=%s", v);
	assert_int_equal(parse_rc(body), 0);
	snprintf(body, sizeof(body), "Body=%sa", v);
	assert_int_equal(parse_rc(body), -E2BIG);
	free(v);
	v = repeat("n", SMSIN_NAME_MAX + 1);
	snprintf(body, sizeof(body), "%s=1", v);
	assert_int_equal(parse_rc(body), -E2BIG);
	free(v);
}

static void
test_form_malformed(void **state)
{
	struct smsin_form form;

	assert_int_equal(parse_rc("Body=a%00b"), -EINVAL);
	assert_int_equal(parse_rc("=x"), -EINVAL);
	assert_int_equal(parse_rc("novalue"), -EINVAL);
	/* A NUL byte inside the length given. */
	assert_int_equal(smsin_form_parse("A=1\0B=2", 7, &form), -EINVAL);
	smsin_form_free(&form);
	assert_int_equal(smsin_form_parse(NULL, 0, &form), -EINVAL);
}

/* Twilio signatures ------------------------------------------------------ */

static void
test_twilio_vectors(void **state)
{
	struct smsin_form form;
	json_t		*all, *v, *p443;
	const char	*url, *url443, *token, *sig, *sig443;
	char		*body, *mine;

	all = load_vectors();
	v = json_object_get(all, "twilio_request_validator");
	p443 = json_object_get(v, "same_params_url_with_port_443");
	token = json_string_value(json_object_get(v, "auth_token"));
	url = json_string_value(json_object_get(v, "url"));
	sig = json_string_value(json_object_get(v, "signature"));
	url443 = json_string_value(json_object_get(p443, "url"));
	sig443 = json_string_value(json_object_get(p443, "signature"));
	assert_non_null(token);
	assert_non_null(url);
	assert_non_null(sig);
	assert_non_null(url443);
	assert_non_null(sig443);

	/* The vector agrees with the algorithm as documented. */
	mine = twilio_sig(token, json_string_value(json_object_get(v,
	    "signed_string")));
	assert_string_equal(mine, sig);
	free(mine);

	body = form_body(json_object_get(v, "params"));
	parse_ok(body, &form);
	assert_int_equal(form.npairs, 5);
	assert_int_equal(smsin_twilio_valid(url, &form, token, sig), 0);
	assert_int_equal(smsin_twilio_valid(url443, &form, token, sig443), 0);
	/* Signed without the port, received with it, and the other way. */
	assert_int_equal(smsin_twilio_valid(url443, &form, token, sig), 0);
	assert_int_equal(smsin_twilio_valid(url, &form, token, sig443), 0);
	/* Another port is another URL. */
	assert_int_equal(smsin_twilio_valid(
	    "https://mycompany.com:8443/myapp.php?foo=1&bar=2", &form, token,
	    sig), -EBADMSG);
	/* The query string is part of what is signed. */
	assert_int_equal(smsin_twilio_valid(
	    "https://mycompany.com/myapp.php?foo=1&bar=3", &form, token, sig),
	    -EBADMSG);
	smsin_form_free(&form);
	free(body);
	json_decref(all);
}

static void
test_twilio_tampered(void **state)
{
	struct smsin_form form;
	json_t		*all, *v;
	const char	*url, *token, *sig;
	char		*body, *at, bad[32];

	all = load_vectors();
	v = json_object_get(all, "twilio_request_validator");
	token = json_string_value(json_object_get(v, "auth_token"));
	url = json_string_value(json_object_get(v, "url"));
	sig = json_string_value(json_object_get(v, "signature"));
	body = form_body(json_object_get(v, "params"));

	/* A changed value. */
	assert_non_null(at = strstr(body, "Digits=1234"));
	at[strlen("Digits=1234") - 1] = '5';
	parse_ok(body, &form);
	assert_int_equal(smsin_twilio_valid(url, &form, token, sig), -EBADMSG);
	smsin_form_free(&form);
	at[strlen("Digits=1234") - 1] = '4';

	parse_ok(body, &form);
	/* A wrong token. */
	assert_int_equal(smsin_twilio_valid(url, &form, "12346", sig),
	    -EBADMSG);
	/* A changed, short, long or missing signature. */
	snprintf(bad, sizeof(bad), "%s", sig);
	bad[3] = bad[3] == 'A' ? 'B' : 'A';
	assert_int_equal(smsin_twilio_valid(url, &form, token, bad), -EBADMSG);
	bad[27] = '\0';
	assert_int_equal(smsin_twilio_valid(url, &form, token, bad), -EBADMSG);
	snprintf(bad, sizeof(bad), "%s=", sig);
	assert_int_equal(smsin_twilio_valid(url, &form, token, bad), -EBADMSG);
	assert_int_equal(smsin_twilio_valid(url, &form, token, ""), -EBADMSG);
	assert_int_equal(smsin_twilio_valid(url, &form, token, NULL),
	    -EBADMSG);
	/* Nothing to check against: rejected, and not as a mismatch. */
	assert_int_equal(smsin_twilio_valid(url, &form, "", sig), -EINVAL);
	assert_int_equal(smsin_twilio_valid("ftp://mycompany.com/", &form,
	    token, sig), -EINVAL);
	assert_int_equal(smsin_twilio_valid("https:///x", &form, token, sig),
	    -EINVAL);
	smsin_form_free(&form);
	free(body);
	json_decref(all);
}

static void
test_twilio_repeated(void **state)
{
	struct smsin_form form;
	const char	*url = "http://duty.example.cn/sms/twilio";
	char		*sig;

	/* Sorted by name, then by value: Body a, Body b, From. */
	parse_ok("From=%2B8613800138000&Body=b&Body=a", &form);
	sig = twilio_sig("tok", "http://duty.example.cn/sms/twilio"
	    "Bodya" "Bodyb" "From+8613800138000");
	assert_int_equal(smsin_twilio_valid(url, &form, "tok", sig), 0);
	/* http's default port is 80. */
	assert_int_equal(smsin_twilio_valid(
	    "http://duty.example.cn:80/sms/twilio", &form, "tok", sig), 0);
	assert_int_equal(smsin_twilio_valid(
	    "http://duty.example.cn:443/sms/twilio", &form, "tok", sig),
	    -EBADMSG);
	free(sig);
	/* In the order sent is not the order signed. */
	sig = twilio_sig("tok", "http://duty.example.cn/sms/twilio"
	    "From+8613800138000" "Bodyb" "Bodya");
	assert_int_equal(smsin_twilio_valid(url, &form, "tok", sig),
	    -EBADMSG);
	free(sig);
	smsin_form_free(&form);

	/* A pair sent twice is signed once, as Twilio's validators do. */
	parse_ok("Body=a&Body=a", &form);
	sig = twilio_sig("tok", "http://duty.example.cn/sms/twilio" "Bodya");
	assert_int_equal(smsin_twilio_valid(url, &form, "tok", sig), 0);
	free(sig);
	smsin_form_free(&form);

	/* Decoded values are signed: '+' is a space, %2B a plus. */
	parse_ok("Body=3+A&From=%2B1", &form);
	sig = twilio_sig("tok", "https://[::1]:8443/s" "Body3 A" "From+1");
	assert_int_equal(smsin_twilio_valid("https://[::1]:8443/s", &form,
	    "tok", sig), 0);
	free(sig);
	smsin_form_free(&form);
}

/*
 * Signed with the default port or without it, received the other way: only
 * the port changes, whatever else the URL holds; other URLs are not guessed.
 */
static void
test_twilio_default_port(void **state)
{
	static const struct {
		const char	*signed_url;
		const char	*received;
	} same[] = {
		/* The path is signed as written: dot segments and all. */
		{ "https://duty.example.cn/sms/../sms/twilio?x=1&y=%E4%B8%AD",
		    "https://duty.example.cn:443/sms/../sms/twilio?x=1&y=%E4%B8%AD" },
		{ "https://duty.example.cn:443//sms//twilio#f",
		    "https://duty.example.cn//sms//twilio#f" },
		{ "HTTPS://Duty.Example.CN:443/s", "HTTPS://Duty.Example.CN/s" },
		{ "https://[2001:db8::1]/s", "https://[2001:db8::1]:443/s" },
		{ "http://duty.example.cn", "http://duty.example.cn:80" },
		{ "https://duty.example.cn?x=1", "https://duty.example.cn:443?x=1" },
		{ "https://u:p@duty.example.cn/s", "https://u:p@duty.example.cn:443/s" },
	};
	static const char *const unsure[] = {
		"https:///x",			/* curl reads host x */
		"http:/duty.example.cn/s",
		"https://duty.example.cn:/s",	/* an empty port */
		"https://duty.example.cn:0443/s",
		"https://[0:0::1]/s",		/* curl writes [::1] */
		"https://duty.example.cn:65536/s",
		"https://duty example.cn/s",
	};
	struct smsin_form form;
	char		*sig, signed_string[256];
	size_t		 i;

	parse_ok("Body=3A&From=%2B8613800138000", &form);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		snprintf(signed_string, sizeof(signed_string), "%s%s",
		    same[i].signed_url, "Body3A" "From+8613800138000");
		sig = twilio_sig("tok", signed_string);
		if (smsin_twilio_valid(same[i].received, &form, "tok", sig) != 0 ||
		    smsin_twilio_valid(same[i].signed_url, &form, "tok", sig) != 0)
			fail_msg("%s signed, %s received: rejected",
			    same[i].signed_url, same[i].received);
		free(sig);
	}
	/* No pairs signs the URL alone. */
	smsin_form_free(&form);
	sig = twilio_sig("tok", "https://duty.example.cn/s");
	assert_int_equal(smsin_twilio_valid("https://duty.example.cn:443/s",
	    &form, "tok", sig), 0);
	free(sig);
	for (i = 0; i < sizeof(unsure) / sizeof(unsure[0]); i++) {
		sig = twilio_sig("tok", unsure[i]);
		if (smsin_twilio_valid(unsure[i], &form, "tok", sig) != -EINVAL)
			fail_msg("%s: not rejected as a URL", unsure[i]);
		free(sig);
	}
}

/* Aliyun uplink ---------------------------------------------------------- */

static int
aliyun(const char *json, struct smsin_aliyun_msg **m, size_t *n, char *why,
    size_t whylen)
{
	return smsin_aliyun_parse(json, strlen(json), m, n, why, whylen);
}

static void
test_aliyun_batch(void **state)
{
	struct smsin_aliyun_msg *m;
	char	 why[256];
	size_t	 n;

	assert_int_equal(aliyun("[{\"phone_number\":\"13800138000\","
	    "\"send_time\":\"2026-11-28 14:05:00\",\"content\":\"3A\","
	    "\"sign_name\":\"应急值守\",\"dest_code\":\"1234\","
	    "\"sequence_id\":1234567890},"
	    "{\"phone_number\":\"8613900139000\",\"send_time\":\"soon\","
	    "\"content\":\"镇北河道水位超警戒\",\"dest_code\":\"\","
	    "\"sequence_id\":\"42\"}]", &m, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].phone_number, "13800138000");
	assert_string_equal(m[0].content, "3A");
	assert_string_equal(m[0].send_time, "2026-11-28 14:05:00");
	assert_string_equal(m[0].dest_code, "1234");
	assert_string_equal(m[0].sequence_id, "1234567890");
	assert_true(m[0].send_ms == wall_ms(2026, 11, 28, 14, 5, CST));
	assert_string_equal(m[1].content, "镇北河道水位超警戒");
	assert_string_equal(m[1].dest_code, "");
	assert_string_equal(m[1].sequence_id, "42");
	assert_true(m[1].send_ms == 0);
	smsin_aliyun_free(m, n);

	assert_int_equal(aliyun("[]", &m, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	smsin_aliyun_free(m, n);
}

static void
expect_aliyun(const char *json, int want, const char *needle)
{
	struct smsin_aliyun_msg *m = (void *)1;
	char	 why[256];
	size_t	 n = 99;
	int	 rc;

	rc = aliyun(json, &m, &n, why, sizeof(why));
	if (rc != want)
		fail_msg("%.80s: %d, expected %d (%s)", json, rc, want, why);
	assert_null(m);
	assert_int_equal(n, 0);
	if (needle != NULL && strstr(why, needle) == NULL)
		fail_msg("%.80s: \"%s\" does not mention \"%s\"", json, why,
		    needle);
}

static void
test_aliyun_rejects(void **state)
{
	static const char *const fields[] = { "phone_number", "content",
	    "send_time", "dest_code", "sequence_id" };
	json_t	*item, *arr;
	char	*s, *text;
	size_t	 i;

	expect_aliyun("{\"phone_number\":\"13800138000\"}", -EINVAL, "array");
	expect_aliyun("[1]", -EINVAL, "message 1");
	expect_aliyun("[{\"phone_number\":", -EINVAL, "JSON");
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		item = json_pack("{s:s, s:s, s:s, s:s, s:i}", "phone_number",
		    "13800138000", "content", "3A", "send_time",
		    "2026-11-28 14:05:00", "dest_code", "", "sequence_id", 7);
		assert_non_null(item);
		arr = json_pack("[{s:s, s:s, s:s, s:s, s:i}, o]",
		    "phone_number", "13800138000", "content", "1A", "send_time",
		    "2026-11-28 14:05:00", "dest_code", "", "sequence_id", 6,
		    item);
		assert_non_null(arr);
		assert_int_equal(json_object_del(item, fields[i]), 0);
		s = json_dumps(arr, JSON_COMPACT);
		assert_non_null(s);
		expect_aliyun(s, -EINVAL, fields[i]);
		/* Which message, so the vendor's log can be matched. */
		expect_aliyun(s, -EINVAL, "message 2");
		free(s);
		json_decref(arr);
	}
	expect_aliyun("[{\"phone_number\":\"1\",\"content\":\"x\","
	    "\"send_time\":\"t\",\"dest_code\":\"\",\"sequence_id\":-1}]",
	    -EINVAL, "sequence_id");
	expect_aliyun("[{\"phone_number\":\"\",\"content\":\"x\","
	    "\"send_time\":\"t\",\"dest_code\":\"\",\"sequence_id\":1}]",
	    -EINVAL, "phone_number");

	/* At most SMSIN_ALIYUN_ITEMS_MAX messages. */
	arr = json_array();
	for (i = 0; i < SMSIN_ALIYUN_ITEMS_MAX + 1; i++) {
		item = json_pack("{s:s, s:s, s:s, s:s, s:I}", "phone_number",
		    "13800138000", "content", "3A", "send_time",
		    "2026-11-28 14:05:00", "dest_code", "", "sequence_id",
		    (json_int_t)i);
		assert_int_equal(json_array_append_new(arr, item), 0);
		if (i + 1 < SMSIN_ALIYUN_ITEMS_MAX)
			continue;
		s = json_dumps(arr, JSON_COMPACT);
		assert_non_null(s);
		if (i + 1 == SMSIN_ALIYUN_ITEMS_MAX) {
			struct smsin_aliyun_msg *m;
			size_t	 n;

			assert_int_equal(aliyun(s, &m, &n, NULL, 0), 0);
			assert_int_equal(n, SMSIN_ALIYUN_ITEMS_MAX);
			smsin_aliyun_free(m, n);
		} else
			expect_aliyun(s, -E2BIG, "at most");
		free(s);
	}
	json_decref(arr);

	/* Content up to SMSIN_TEXT_MAX characters, counted as characters. */
	for (i = SMSIN_TEXT_MAX; i <= SMSIN_TEXT_MAX + 1; i++) {
		struct smsin_aliyun_msg *m;
		size_t	 n;

		text = repeat("水", i);
		arr = json_pack("[{s:s, s:s, s:s, s:s, s:i}]", "phone_number",
		    "13800138000", "content", text, "send_time",
		    "2026-11-28 14:05:00", "dest_code", "", "sequence_id", 1);
		s = json_dumps(arr, JSON_COMPACT);
		assert_non_null(s);
		if (i == SMSIN_TEXT_MAX) {
			assert_int_equal(aliyun(s, &m, &n, NULL, 0), 0);
			smsin_aliyun_free(m, n);
		} else
			expect_aliyun(s, -E2BIG, "content");
		free(s);
		free(text);
		json_decref(arr);
	}
}

/* Phone numbers ---------------------------------------------------------- */

static void
expect_phone(const char *in, const char *want)
{
	char	 out[SMSIN_PHONE_MAX];
	int	 rc;

	rc = smsin_phone_normalize(in, out, sizeof(out));
	if (want == NULL) {
		if (rc != -EINVAL)
			fail_msg("\"%s\": %d \"%s\", expected -EINVAL", in, rc,
			    out);
		return;
	}
	if (rc != 0 || strcmp(out, want) != 0)
		fail_msg("\"%s\": %d \"%s\", expected \"%s\"", in, rc, out,
		    want);
}

static void
test_phone(void **state)
{
	char	 small[SMSIN_PHONE_MAX - 1];

	expect_phone("+86 138-0013-8000", "+8613800138000");
	expect_phone("+8613800138000", "+8613800138000");
	expect_phone("13800138000", "+8613800138000");
	expect_phone("138 0013 8000", "+8613800138000");
	expect_phone("8613800138000", "+8613800138000");
	expect_phone("008613800138000", "+8613800138000");
	expect_phone("0086 138 0013 8000", "+8613800138000");
	/* Not mainland mobiles: digits kept as they are. */
	expect_phone("010-12345678", "01012345678");
	expect_phone("(0571) 8765 4321", "057187654321");
	expect_phone("12345", "12345");
	expect_phone("+1 415 867 5309", "+14158675309");
	expect_phone("001 415 867 5309", "+14158675309");
	expect_phone("+852 9123 4567", "+85291234567");

	expect_phone("", NULL);
	expect_phone("+", NULL);
	expect_phone("12", NULL);
	expect_phone("138OO138000", NULL);
	expect_phone("+86+13800138000", NULL);
	expect_phone("1380013800012345678", NULL);
	expect_phone("+0123456", NULL);
	expect_phone("张三", NULL);
	assert_int_equal(smsin_phone_normalize("13800138000", small,
	    sizeof(small)), -ENOSPC);
}

/* Reply commands --------------------------------------------------------- */

static void
expect_reply(const char *text, char action, int code, const char *incident)
{
	struct smsin_reply r;
	int	 rc;

	rc = smsin_reply_parse(text, &r);
	if (rc != 0)
		fail_msg("\"%s\": %d, expected a reply", text, rc);
	if (r.action != action || r.code != code ||
	    strcmp(r.incident, incident) != 0)
		fail_msg("\"%s\": %c %d \"%s\", expected %c %d \"%s\"", text,
		    r.action, r.code, r.incident, action, code, incident);
}

static void
expect_not_reply(const char *text)
{
	struct smsin_reply r;
	int	 rc;

	if ((rc = smsin_reply_parse(text, &r)) != -EINVAL)
		fail_msg("\"%s\": %d (%c %d \"%s\"), expected -EINVAL", text,
		    rc, r.action, r.code, r.incident);
}

static void
test_reply_codes(void **state)
{
	expect_reply("3A", 'A', 3, "");
	expect_reply("3a", 'A', 3, "");
	expect_reply("3 a", 'A', 3, "");
	expect_reply(" 12 F ", 'F', 12, "");
	expect_reply("9999r", 'R', 9999, "");
	expect_reply("３Ａ", 'A', 3, "");		/* full width */
	expect_reply("１２　ｒ", 'R', 12, "");		/* U+3000 between */
	expect_reply("3A。", 'A', 3, "");
	expect_reply("3A\r\n", 'A', 3, "");
	expect_reply("A", 'A', 0, "");
	expect_reply("f", 'F', 0, "");
	expect_reply("Ｒ", 'R', 0, "");
	/* Chinese words for the same actions. */
	expect_reply("3确认", 'A', 3, "");
	expect_reply("3 收到", 'A', 3, "");
	expect_reply("确认", 'A', 0, "");
	expect_reply("２　已报送", 'F', 2, "");
	expect_reply("2已报", 'F', 2, "");
	expect_reply("4 处置完毕", 'R', 4, "");

	expect_not_reply("");
	expect_not_reply("   ");
	expect_not_reply("B");
	expect_not_reply("3B");
	expect_not_reply("3");
	expect_not_reply("0A");
	expect_not_reply("10000A");
	expect_not_reply("3AA");
	expect_not_reply("3A4F");
	expect_not_reply("3\nA");
	expect_not_reply("A区发生火灾");
	expect_not_reply("确认一下是不是要上报");
	expect_not_reply("镇北河道水位超警戒");
	expect_not_reply("\xff" "3A");
}

static void
test_reply_ids(void **state)
{
	char	 id[SMSIN_ID_MAX], text[64];

	/* Exactly the ids incident.c makes. */
	snprintf(id, sizeof(id), "INC-%08d-%04d", 20261128, 7);
	snprintf(text, sizeof(text), "A %s", id);
	expect_reply(text, 'A', 0, id);
	expect_reply("a inc-20261128-0007", 'A', 0, id);
	expect_reply("F　INC-20261128-0007", 'F', 0, id);
	expect_reply("ＲＩＮＣ－２０２６１１２８－０００７", 'R', 0, id);
	expect_reply("确认 INC-20261128-0007", 'A', 0, id);
	/* After 9999 incidents in a day, %04d gives five digits. */
	expect_reply("A INC-20261128-12345", 'A', 0, "INC-20261128-12345");

	expect_not_reply("A INC-20261128-007");
	expect_not_reply("A INC-2026112-0007");
	expect_not_reply("A INC-20261128");
	expect_not_reply("A INC-20261128-0007x");
	expect_not_reply("A INC-20261128-0007 please");
	expect_not_reply("A INC-20261128-00070000000");
	expect_not_reply("3A INC-20261128-0007");
	expect_not_reply("INC-20261128-0007");
	expect_not_reply("B INC-20261128-0007");
}

/* Reports ---------------------------------------------------------------- */

static void
report_ok(const char *text, int64_t received, long offset,
    struct smsin_report *r)
{
	int	 rc = smsin_report_parse(text, received, offset, r);

	if (rc != 0)
		fail_msg("\"%.60s\": %d", text, rc);
}

static void
test_report_plain(void **state)
{
	struct smsin_report r;
	int64_t	 now = wall_ms(2026, 11, 28, 14, 10, CST);

	report_ok("镇北河道水位超警戒\n水位 3.2 米，持续上涨\n请派员", now, CST,
	    &r);
	assert_string_equal(r.title, "镇北河道水位超警戒");
	assert_string_equal(r.details, "水位 3.2 米，持续上涨\n请派员");
	assert_false(r.has_time);
	assert_true(r.occurred_ms == now);
	assert_string_equal(r.followup_id, "");
	smsin_report_free(&r);

	/* Blank lines and ideographic spaces around do not count. */
	report_ok("\r\n　 山体滑坡　\r\n\r\n  道路中断 \r\n", now, CST, &r);
	assert_string_equal(r.title, "山体滑坡");
	assert_string_equal(r.details, "道路中断");
	smsin_report_free(&r);

	report_ok("一行", now, CST, &r);
	assert_string_equal(r.title, "一行");
	assert_null(r.details);
	smsin_report_free(&r);

	/* Not a time: kept in the title. */
	report_ok("1405 仓库起火", now, CST, &r);
	assert_string_equal(r.title, "1405 仓库起火");
	assert_false(r.has_time);
	smsin_report_free(&r);
	report_ok("14:05:30 仓库起火", now, CST, &r);
	assert_string_equal(r.title, "14:05:30 仓库起火");
	assert_false(r.has_time);
	smsin_report_free(&r);
	report_ok("25:00 仓库起火", now, CST, &r);
	assert_false(r.has_time);
	smsin_report_free(&r);
}

static void
test_report_time(void **state)
{
	struct smsin_report r;
	int64_t	 now = wall_ms(2026, 11, 28, 14, 10, CST);

	report_ok("14:05 某村山体滑坡\n两户受损", now, CST, &r);
	assert_true(r.has_time);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 28, 14, 5, CST));
	assert_string_equal(r.title, "某村山体滑坡");
	assert_string_equal(r.details, "两户受损");
	smsin_report_free(&r);

	report_ok("１４：０５，某村山体滑坡", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 28, 14, 5, CST));
	assert_string_equal(r.title, "某村山体滑坡");
	smsin_report_free(&r);

	report_ok("9:30某村山体滑坡", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 28, 9, 30, CST));
	assert_string_equal(r.title, "某村山体滑坡");
	smsin_report_free(&r);

	/* Up to five minutes ahead is a fast clock, not yesterday. */
	report_ok("14:15 x", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 28, 14, 15, CST));
	smsin_report_free(&r);
	report_ok("14:16 x", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 27, 14, 16, CST));
	smsin_report_free(&r);

	/* Just after midnight, "23:58" was last night. */
	now = wall_ms(2026, 12, 1, 0, 2, CST);
	report_ok("23:58 x", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 30, 23, 58, CST));
	smsin_report_free(&r);
	report_ok("00:01 x", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 12, 1, 0, 1, CST));
	smsin_report_free(&r);

	/* The day is the sender's: 06:00 UTC on the 1st is 14:00 there. */
	now = wall_ms(2026, 12, 1, 6, 0, 0);
	report_ok("13:00 x", now, CST, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 12, 1, 13, 0, CST));
	smsin_report_free(&r);
	report_ok("13:00 x", now, 0, &r);
	assert_true(r.occurred_ms == wall_ms(2026, 11, 30, 13, 0, 0));
	smsin_report_free(&r);
}

static void
test_report_followup(void **state)
{
	struct smsin_report r;
	int64_t	 now = wall_ms(2026, 11, 28, 16, 0, CST);

	report_ok("INC-20261128-0001 水位回落\n已转移群众 30 人", now, CST, &r);
	assert_string_equal(r.followup_id, "INC-20261128-0001");
	assert_string_equal(r.title, "水位回落");
	assert_string_equal(r.details, "已转移群众 30 人");
	assert_false(r.has_time);
	smsin_report_free(&r);

	report_ok("inc-20261128-0001　15:40 水位回落", now, CST, &r);
	assert_string_equal(r.followup_id, "INC-20261128-0001");
	assert_true(r.occurred_ms == wall_ms(2026, 11, 28, 15, 40, CST));
	assert_string_equal(r.title, "水位回落");
	smsin_report_free(&r);

	report_ok("15:40 INC-20261128-0001\n水位回落", now, CST, &r);
	assert_string_equal(r.followup_id, "INC-20261128-0001");
	assert_true(r.has_time);
	assert_string_equal(r.title, "水位回落");
	smsin_report_free(&r);

	/* An id later in the text is just text. */
	report_ok("关于 INC-20261128-0001 的续报", now, CST, &r);
	assert_string_equal(r.followup_id, "");
	smsin_report_free(&r);
}

static void
test_report_limits(void **state)
{
	struct smsin_report r;
	int64_t	 now = wall_ms(2026, 11, 28, 14, 10, CST);
	char	*long_line, *text, *want;
	size_t	 len;

	/* A long first line: nothing is lost, the rest starts the details. */
	long_line = repeat("水", REPORT_TITLE_MAX + 50);
	len = strlen(long_line) + 16;
	text = malloc(len);
	assert_non_null(text);
	snprintf(text, len, "%s\n详情", long_line);
	report_ok(text, now, CST, &r);
	assert_int_equal(utf8_length(r.title), REPORT_TITLE_MAX);
	want = repeat("水", 50);
	assert_non_null(r.details);
	assert_int_equal(strncmp(r.details, want, strlen(want)), 0);
	assert_string_equal(r.details + strlen(want), "\n详情");
	smsin_report_free(&r);
	free(want);
	free(text);
	free(long_line);

	text = repeat("水", SMSIN_TEXT_MAX);
	report_ok(text, now, CST, &r);
	smsin_report_free(&r);
	free(text);
	text = repeat("水", SMSIN_TEXT_MAX + 1);
	assert_int_equal(smsin_report_parse(text, now, CST, &r), -E2BIG);
	assert_null(r.title);
	free(text);

	assert_int_equal(smsin_report_parse("", now, CST, &r), -EINVAL);
	assert_int_equal(smsin_report_parse(" \r\n　\n", now, CST, &r),
	    -EINVAL);
	assert_int_equal(smsin_report_parse("INC-20261128-0001", now, CST,
	    &r), -EINVAL);
	assert_int_equal(smsin_report_parse("14:05", now, CST, &r), -EINVAL);
	assert_int_equal(smsin_report_parse("火\xe6\xb0", now, CST, &r),
	    -EINVAL);
	assert_int_equal(smsin_report_parse("\xc0\xaf", now, CST, &r),
	    -EINVAL);
	assert_int_equal(smsin_report_parse("\xed\xa0\x80", now, CST, &r),
	    -EINVAL);
	assert_null(r.title);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_order_and_repeats),
		cmocka_unit_test(test_form_caps),
		cmocka_unit_test(test_form_malformed),
		cmocka_unit_test(test_twilio_vectors),
		cmocka_unit_test(test_twilio_tampered),
		cmocka_unit_test(test_twilio_repeated),
		cmocka_unit_test(test_twilio_default_port),
		cmocka_unit_test(test_aliyun_batch),
		cmocka_unit_test(test_aliyun_rejects),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_reply_codes),
		cmocka_unit_test(test_reply_ids),
		cmocka_unit_test(test_report_plain),
		cmocka_unit_test(test_report_time),
		cmocka_unit_test(test_report_followup),
		cmocka_unit_test(test_report_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
