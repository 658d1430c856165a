/*
 * The email channel, loaded from build/plugins the way dutyd loads it:
 * options, the SMTP envelope and the RFC 5322 message it builds (read back
 * here: headers, RFC 2047 subject, base64 body), refused header injection
 * and how it reads SMTP reply codes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "plugharness.h"

#define TITLE	"【二级】东湖县城关镇河堤渗水险情持续扩大，请求立即派员支援抢险 " \
	"(reported 14:40, level II) 😀 end"
#define TEXT	"【二级】东湖县 城关镇 河堤渗水\n请立即确认。\r\nReply: ack"
#define URL	"https://duty.example.gov.cn/api/v1/incidents/inc-20261128-0007"

static struct channel_plugin *cp;
static const struct dutyd_plugin *em;

static int
setup(void **unused)
{
	return (em = plug_open("email", &cp)) == NULL ? -1 : 0;
}

static int
teardown(void **unused)
{
	channel_plugin_close(cp);
	return 0;
}

static const struct dutyd_option good[] = {
	{ "url", "smtp://127.0.0.1:2525" },
	{ "from", "duty@example.gov.cn" },
	{ "username", "duty" },
	{ "password", "pa55-秘密" },
};

static void
test_configure(void **unused)
{
	const struct dutyd_option smtps[] = {
		{ "url", "smtps://mail.example.gov.cn:465" },
		{ "from", "duty@example.gov.cn" },
		{ "starttls", "required" },
	};
	const struct dutyd_option smtps_none[] = {
		{ "url", "smtps://mail.example.gov.cn" },
		{ "from", "duty@example.gov.cn" },
		{ "starttls", "none" },
	};
	const struct dutyd_option no_from[] = {
		{ "url", "smtp://127.0.0.1:25" },
	};
	const struct dutyd_option user_only[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "from", "a@b" },
		{ "username", "duty" },
	};
	const struct dutyd_option clear_password[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "from", "a@b" },
		{ "username", "duty" }, { "password", "x" },
		{ "starttls", "none" },
	};
	const struct dutyd_option pass_only[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "password", "x" },
		{ "from", "a@b" },
	};
	const struct dutyd_option unknown[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "from", "a@b" },
		{ "tls", "yes" },
	};
	const struct dutyd_option starttls_bad[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "from", "a@b" },
		{ "starttls", "optional" },
	};
	static const char *bad_urls[] = { "http://mail.example.org",
	    "mail.example.org:25", "smtp://", "smtp://:25",
	    "smtp://duty:secret@mail.example.org", "smtp://a b", "",
	    "smtp://@mail.example.org", "smtps://duty@mail.example.org",
	    "smtp:///mail.example.org", "smtps:mail.example.org",
	    "smtp://mail.example.org:99999" };
	static const char *bad_from[] = { "duty", "Duty <duty@example.org>",
	    "duty@", "@example.org", "duty@example.org\r\nBcc: x@y",
	    "du ty@example.org" };
	const struct dutyd_option url_from[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "from", "a@b" },
	};
	const struct dutyd_option from_url[] = {
		{ "from", "a@b" }, { "url", "smtp://127.0.0.1:25" },
	};
	size_t i;

	em->release(plug_configure_ok(em, good, 4));
	em->release(plug_configure_ok(em, good, 2));
	em->release(plug_configure_ok(em, smtps, 3));
	em->release(plug_configure_ok(em, smtps, 2));
	em->release(NULL);
	assert_int_equal(em->flags, 0);
	assert_int_equal(em->rate_per_min, 0);

	plug_configure_bad(em, NULL, 0, -1, "url and from");
	plug_configure_bad(em, no_from, 1, -1, "needs from");
	plug_configure_bad(em, user_only, 3, 2, "without a password");
	plug_configure_bad(em, pass_only, 3, 1, "without a username");
	plug_configure_bad(em, clear_password, 5, 4, "password in clear text");
	plug_configure_bad(em, unknown, 3, 2, "'tls'");
	plug_configure_bad(em, unknown, 3, 2,
	    "url, from, username, password and starttls");
	plug_configure_bad(em, starttls_bad, 3, 2, "required");
	plug_configure_bad(em, smtps_none, 3, 2, "smtps://");
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
		plug_configure_bad_value(em, from_url, 2, 1, bad_urls[i],
		    bad_urls[i][0] ? "smtp://" : "empty");
	plug_configure_bad_value(em, from_url, 2, 1,
	    "smtp://mail.example.org:99999", "not in the url (libcurl: Port");
	for (i = 0; i < sizeof(bad_from) / sizeof(bad_from[0]); i++)
		plug_configure_bad_value(em, url_from, 2, 1, bad_from[i],
		    "from");
}

static void
message(struct dutyd_message *m, struct dutyd_recipient *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		r[i].id = "zhang-wei";
		r[i].name = "张伟";
		if (r[i].to == NULL)
			r[i].to = "zhang.wei@example.gov.cn";
	}
	plug_message(m, "{\"id\":\"inc-20261128-0007\"}", TITLE, TEXT, URL,
	    r, n);
}

static void
test_envelope(void **unused)
{
	const struct dutyd_option plain[] = {
		{ "url", "smtp://127.0.0.1:25" }, { "from", "duty@example.gov.cn" },
		{ "starttls", "none" },
	};
	const struct dutyd_option smtps[] = {
		{ "url", "smtps://127.0.0.1:465" },
		{ "from", "duty@example.gov.cn" },
	};
	struct dutyd_recipient r[DUTYD_MAX_RCPT + 1];
	struct dutyd_message m;
	struct dutyd_request req;
	char addr[DUTYD_MAX_RCPT + 1][32], *want;
	size_t i;

	memset(r, 0, sizeof(r));
	message(&m, r, 1);
	assert_int_equal(plug_build(em, good, 4, &m, &req), 0);
	assert_string_equal(req.url, "smtp://127.0.0.1:2525");
	assert_int_equal(req.tls, DUTYD_TLS_REQUIRED);	/* the default */
	assert_string_equal(req.mail_from, "<duty@example.gov.cn>");
	assert_int_equal(req.nrcpt, 1);
	assert_string_equal(req.mail_rcpt[0], "<zhang.wei@example.gov.cn>");
	assert_string_equal(req.username, "duty");
	assert_string_equal(req.password, "pa55-秘密");
	assert_null(strstr(req.body, "pa55"));
	channel_request_clear(&req);

	assert_int_equal(plug_build(em, plain, 3, &m, &req), 0);
	assert_int_equal(req.tls, DUTYD_TLS_DEFAULT);
	assert_null(req.username);
	assert_null(req.password);
	channel_request_clear(&req);
	assert_int_equal(plug_build(em, smtps, 2, &m, &req), 0);
	assert_int_equal(req.tls, DUTYD_TLS_DEFAULT);	/* TLS by the scheme */
	channel_request_clear(&req);

	/* A bundle: one envelope recipient each, up to DUTYD_MAX_RCPT. */
	memset(r, 0, sizeof(r));
	for (i = 0; i <= DUTYD_MAX_RCPT; i++) {
		snprintf(addr[i], sizeof(addr[i]), "p%zu@example.gov.cn", i);
		r[i].to = addr[i];
	}
	message(&m, r, DUTYD_MAX_RCPT);
	assert_int_equal(plug_build(em, good, 4, &m, &req), 0);
	assert_int_equal(req.nrcpt, DUTYD_MAX_RCPT);
	for (i = 0; i < DUTYD_MAX_RCPT; i++) {
		assert_int_not_equal(asprintf(&want, "<%s>", addr[i]), -1);
		assert_string_equal(req.mail_rcpt[i], want);
		free(want);
		assert_contains(req.body, addr[i]);
	}
	channel_request_clear(&req);
	message(&m, r, DUTYD_MAX_RCPT + 1);
	assert_int_equal(plug_build(em, good, 4, &m, &req), -E2BIG);
	channel_request_clear(&req);
}

/* The message, split into unfolded headers and the body. */
struct mail {
	char			*raw;	/* the header block as sent, folded */
	struct plug_fields	 h;	/* unfolded */
	char			*body;
};

static void
mail_parse(const char *msg, struct mail *ml)
{
	const char *end = strstr(msg, "\r\n\r\n"), *p, *q;
	size_t i;
	char *line, *colon, *u;

	memset(ml, 0, sizeof(*ml));
	ml->h.nocase = 1;
	/* CRLF everywhere: no bare CR, no bare LF. */
	for (i = 0; msg[i] != '\0'; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			fail_msg("bare LF at byte %zu", i);
		if (msg[i] == '\r' && msg[i + 1] != '\n')
			fail_msg("bare CR at byte %zu", i);
	}
	assert_non_null(end);
	ml->raw = strndup(msg, (size_t)(end - msg) + 2);
	ml->body = strdup(end + 4);
	assert_non_null(ml->raw);
	assert_non_null(ml->body);
	for (p = msg; p < end + 2; p = q + 2) {
		q = strstr(p, "\r\n");
		if (*p == ' ' || *p == '\t') {	/* a continuation */
			assert_true(ml->h.n > 0);
			u = ml->h.value[ml->h.n - 1];
			if (asprintf(&ml->h.value[ml->h.n - 1], "%s%.*s", u,
			    (int)(q - p), p) == -1)
				fail();
			free(u);
			continue;
		}
		line = strndup(p, (size_t)(q - p));
		assert_non_null(line);
		if ((colon = strchr(line, ':')) == NULL)
			fail_msg("header line without a colon: %s", line);
		*colon = '\0';
		plug_fields_add(&ml->h, line, strdup(colon[1] == ' ' ?
		    colon + 2 : colon + 1));
	}
}

static const char *
mail_header(const struct mail *ml, const char *name)
{
	return plug_fields_get(&ml->h, name);
}

static void
mail_free(struct mail *ml)
{
	plug_fields_free(&ml->h);
	free(ml->raw);
	free(ml->body);
}

/* Decodes base64 with OpenSSL; returns the length, without the padding. */
static size_t
unbase64(const char *in, size_t len, unsigned char *out)
{
	int n;

	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	assert_true(n >= 0);
	if (len >= 1 && in[len - 1] == '=')
		n--;
	if (len >= 2 && in[len - 2] == '=')
		n--;
	return (size_t)n;
}

/* The Subject's encoded-words, decoded and joined, as a mail reader shows it. */
static char *
decode_subject(const struct mail *ml, size_t *nwords)
{
	const char *raw = strstr(ml->raw, "Subject:"), *p, *end;
	unsigned char dec[128];
	char *out = calloc(1, 4096);
	size_t wl, n;
	json_t *utf8;

	assert_non_null(raw);
	assert_non_null(out);
	*nwords = 0;
	p = raw + 8;
	for (;;) {
		while (*p == ' ' || (p[0] == '\r' && p[1] == '\n' &&
		    (p[2] == ' ' || p[2] == '\t')))
			p += *p == ' ' ? 1 : 2;
		if (p[0] == '\r')
			break;
		end = p + strcspn(p, " \r");
		wl = (size_t)(end - p);
		if (wl > 75)
			fail_msg("encoded-word of %zu characters: %.*s", wl,
			    (int)wl, p);
		if (strncmp(p, "=?UTF-8?B?", 10) != 0 || wl < 12 ||
		    strncmp(end - 2, "?=", 2) != 0)
			fail_msg("not a UTF-8 B encoded-word: %.*s", (int)wl, p);
		n = unbase64(p + 10, wl - 12, dec);
		/* Whole characters only: each word is valid UTF-8 alone. */
		utf8 = json_stringn((const char *)dec, n);
		if (utf8 == NULL)
			fail_msg("word %zu splits a character", *nwords);
		json_decref(utf8);
		assert_true(strlen(out) + n < 4096);
		strncat(out, (const char *)dec, n);
		(*nwords)++;
		p = end;
	}
	return out;
}

static void
test_message(void **unused)
{
	struct dutyd_recipient r[1] = { { 0 } };
	struct dutyd_message m;
	struct dutyd_request req;
	struct mail ml;
	struct tm tm;
	char *subject, *b64, *canon, *line, *end;
	unsigned char *text;
	const char *p;
	size_t nwords, len, n;

	message(&m, r, 1);
	assert_int_equal(plug_build(em, good, 4, &m, &req), 0);
	assert_int_equal(strlen(req.body), req.body_len);
	mail_parse(req.body, &ml);

	assert_string_equal(mail_header(&ml, "From"), "duty@example.gov.cn");
	assert_string_equal(mail_header(&ml, "To"), "zhang.wei@example.gov.cn");
	/* RFC 3834: an automatic message, so vacation replies stay away. */
	assert_string_equal(mail_header(&ml, "Auto-Submitted"), "auto-generated");
	assert_string_equal(mail_header(&ml, "Message-ID"),
	    "<d-7f3a9c-2.1795855235123@example.gov.cn>");
	assert_string_equal(mail_header(&ml, "MIME-Version"), "1.0");
	assert_string_equal(mail_header(&ml, "Content-Type"),
	    "text/plain; charset=UTF-8");
	assert_string_equal(mail_header(&ml, "Content-Transfer-Encoding"),
	    "base64");
	assert_string_equal(mail_header(&ml, "X-Dutyd-Delivery"), "d-7f3a9c-2");

	/* Date: RFC 5322, UTC, the message's own clock. */
	memset(&tm, 0, sizeof(tm));
	p = strptime(mail_header(&ml, "Date"), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm);
	if (p == NULL || *p != '\0')
		fail_msg("Date is not RFC 5322 UTC: %s", mail_header(&ml,
		    "Date"));
	assert_int_equal(timegm(&tm), PLUG_NOW_MS / 1000);
	assert_true(strncmp(mail_header(&ml, "Date"), "Sat, 28 Nov 2026", 16)
	    == 0);

	/* Subject: several encoded-words, each <= 75, reading back the title. */
	subject = decode_subject(&ml, &nwords);
	assert_string_equal(subject, TITLE);
	assert_true(nwords >= 3);
	free(subject);
	/* Header lines stay within RFC 5322's 78 characters. */
	for (p = ml.raw; *p != '\0'; p = strstr(p, "\r\n") + 2)
		if (strstr(p, "\r\n") - p > 78)
			fail_msg("header line longer than 78: %.*s",
			    (int)(strstr(p, "\r\n") - p), p);

	/* Body: base64 lines of at most 76, decoding to the text in CRLF form. */
	b64 = calloc(1, strlen(ml.body) + 1);
	assert_non_null(b64);
	for (line = ml.body; *line != '\0'; line = end + 2) {
		end = strstr(line, "\r\n");
		assert_non_null(end);	/* the last line ends too */
		assert_true(end - line <= 76);
		assert_true(end - line > 0);
		strncat(b64, line, (size_t)(end - line));
	}
	assert_true(strlen(b64) > 76);	/* so there was a fold to test */
	text = malloc(strlen(b64));
	assert_non_null(text);
	len = unbase64(b64, strlen(b64), text);
	n = (size_t)asprintf(&canon, "%s\r\n\r\n%s",
	    "【二级】东湖县 城关镇 河堤渗水\r\n请立即确认。\r\nReply: ack", URL);
	assert_int_equal(len, n);
	assert_memory_equal(text, canon, n);
	free(canon);
	free(text);
	free(b64);
	mail_free(&ml);
	channel_request_clear(&req);
}

static void
test_message_short(void **unused)
{
	struct dutyd_recipient r[3] = { { .to = "a@example.gov.cn" },
	    { .to = "b@example.gov.cn" }, { .to = "c@example.gov.cn" } };
	struct dutyd_message m;
	struct dutyd_request req;
	struct mail ml;
	char *subject;
	size_t nwords;

	/* An ASCII title is one word; a bundle lists everyone in To:. */
	message(&m, r, 3);
	m.title = "Flood at Chengguan";
	m.url = NULL;
	assert_int_equal(plug_build(em, good, 4, &m, &req), 0);
	mail_parse(req.body, &ml);
	subject = decode_subject(&ml, &nwords);
	assert_string_equal(subject, "Flood at Chengguan");
	assert_int_equal(nwords, 1);
	free(subject);
	assert_string_equal(mail_header(&ml, "To"), "a@example.gov.cn, "
	    "b@example.gov.cn, c@example.gov.cn");
	assert_int_equal(req.nrcpt, 3);
	mail_free(&ml);
	channel_request_clear(&req);
}

static void
test_injection(void **unused)
{
	static const char *bad_to[] = { "x@example.org\r\nBcc: spy@evil.example",
	    "x@example.org\nBcc: spy@evil.example", "<x@example.org>",
	    "x@example.org> NOTIFY=NEVER", "nobody", "", "a@b, c@d" };
	static const char *bad_ids[] = { "d-1\r\nBcc: spy@evil.example",
	    "d 1", "d<1>", "" };
	struct dutyd_recipient r[2] = { { 0 } };
	struct dutyd_message m;
	struct dutyd_request req;
	struct mail ml;
	char *subject;
	size_t i, nwords;

	for (i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++) {
		memset(r, 0, sizeof(r));
		r[1].to = bad_to[i];	/* the second of two, too */
		message(&m, r, 2);
		if (plug_build(em, good, 4, &m, &req) != -EINVAL)
			fail_msg("recipient accepted: %s", bad_to[i]);
		channel_request_clear(&req);
	}
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		memset(r, 0, sizeof(r));
		message(&m, r, 1);
		m.delivery_id = bad_ids[i];
		assert_int_equal(plug_build(em, good, 4, &m, &req), -EINVAL);
		channel_request_clear(&req);
	}
	/* A line break in the title stays inside the encoded Subject. */
	memset(r, 0, sizeof(r));
	message(&m, r, 1);
	m.title = "title\r\nBcc: spy@evil.example";
	assert_int_equal(plug_build(em, good, 4, &m, &req), 0);
	mail_parse(req.body, &ml);
	for (i = 0; i < ml.h.n; i++)
		assert_string_not_equal(ml.h.name[i], "Bcc");
	subject = decode_subject(&ml, &nwords);
	assert_null(strpbrk(subject, "\r\n"));
	assert_contains(subject, "Bcc: spy@evil.example");
	free(subject);
	mail_free(&ml);
	channel_request_clear(&req);
	/* Text that is not UTF-8 would be mislabelled by charset=UTF-8. */
	message(&m, r, 1);
	m.text = "\xb3\xc7\xb9\xd8";	/* GBK */
	assert_int_equal(plug_build(em, good, 4, &m, &req), -EINVAL);
	channel_request_clear(&req);
}

static struct dutyd_result
parse(long status, const char *error, const char *body)
{
	struct dutyd_result res = plug_parse(em, status, error, body, 0);

	assert_int_equal(res.retry_after_ms, 0);
	return res;
}

static void
test_parse(void **unused)
{
	struct dutyd_result res;

	res = parse(250, NULL, "2.0.0 Ok: queued as 4QH2Yx");
	assert_int_equal(res.outcome, DUTYD_DELIVERED);
	assert_contains(res.detail, "250");

	res = parse(550, "Failed sending data to the peer",
	    "5.1.1 <nobody@example.gov.cn>: Recipient address rejected");
	assert_int_equal(res.outcome, DUTYD_FAILED);
	assert_contains(res.detail, "550");
	assert_contains(res.detail, "Recipient address rejected");
	res = parse(535, "Login denied", NULL);
	assert_int_equal(res.outcome, DUTYD_FAILED);
	assert_contains(res.detail, "Login denied");

	res = parse(451, "Failed sending data to the peer",
	    "4.3.0 Try again later\r\n");
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "451");
	assert_null(strpbrk(res.detail, "\r\n"));
	assert_int_equal(parse(421, NULL, NULL).outcome, DUTYD_RETRY);

	/* A good last reply with an error is not a delivery (STARTTLS refused). */
	res = parse(250, "STARTTLS not supported.", NULL);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "STARTTLS not supported.");

	res = parse(0, "Failed to connect to 127.0.0.1 port 2525 after 0 ms: "
	    "Couldn't connect to server", NULL);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_contains(res.detail, "Couldn't connect to server");
	assert_int_equal(parse(0, NULL, NULL).outcome, DUTYD_RETRY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_message_short),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
