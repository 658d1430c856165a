/*
 * The helpers every channel plugin links in (plugins/lib): the UTF-8
 * decoder and what walks with it, URLs read by libcurl, the one HMAC, and
 * the chat robot skeleton driven by a made-up vendor.  Their symbols are
 * hidden inside each plugin, so the sources are compiled in here.
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

#include "../../plugins/lib/pluglib.c"
#include "../../plugins/lib/chatbot.c"

#include "plugharness.h"

/* UTF-8 ----------------------------------------------------------------- */

struct utf8_case {
	const char	*s;
	size_t		 n;	/* bytes the decoder may read */
	int		 len;	/* what it answers */
	uint32_t	 cp;
};

static void
test_utf8_next(void **unused)
{
	static const struct utf8_case c[] = {
		{ "A", 1, 1, 0x41 },
		{ "", 1, 1, 0 },			/* NUL is a character */
		{ "\x7f", 1, 1, 0x7f },
		{ "\xc2\x80", 2, 2, 0x80 },		/* smallest 2-byte */
		{ "é", 2, 2, 0xe9 },
		{ "\xdf\xbf", 2, 2, 0x7ff },
		{ "\xe0\xa0\x80", 3, 3, 0x800 },	/* smallest 3-byte */
		{ "险", 3, 3, 0x9669 },
		{ "\xef\xbf\xbd", 3, 3, 0xfffd },
		{ "\xf0\x90\x80\x80", 4, 4, 0x10000 },	/* smallest 4-byte */
		{ "😀", 4, 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },	/* largest */
		{ "险x", 4, 3, 0x9669 },		/* only the first */
		/* Invalid sequences. */
		{ "\x80", 1, -1, 0 },			/* a lone continuation */
		{ "\xbf\xbf", 2, -1, 0 },
		{ "\xc0\x80", 2, -1, 0 },		/* overlong NUL */
		{ "\xc1\xbf", 2, -1, 0 },
		{ "\xe0\x9f\xbf", 3, -1, 0 },		/* overlong U+07FF */
		{ "\xf0\x8f\xbf\xbf", 4, -1, 0 },	/* overlong U+FFFF */
		{ "\xed\xa0\x80", 3, -1, 0 },		/* surrogate U+D800 */
		{ "\xed\xbf\xbf", 3, -1, 0 },		/* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", 4, -1, 0 },	/* U+110000 */
		{ "\xf5\x80\x80\x80", 4, -1, 0 },
		{ "\xfe", 1, -1, 0 },
		{ "\xff", 1, -1, 0 },
		{ "\xc3\x28", 2, -1, 0 },		/* no continuation */
		{ "\xe9\x99\x41", 3, -1, 0 },
		{ "\xf0\x9f\x98\x41", 4, -1, 0 },
		{ "\xb3\xc7", 2, -1, 0 },		/* GBK 城 */
		/* Cut off where the buffer ends: not a character. */
		{ "险", 2, -1, 0 },
		{ "😀", 3, -1, 0 },
		{ "😀", 1, -1, 0 },
		{ "A", 0, -1, 0 },
	};
	uint32_t cp;
	size_t i;
	int len;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cp = 0xdeadbeef;
		len = pluglib_utf8_next(c[i].s, c[i].n, &cp);
		if (len != c[i].len || (len > 0 && cp != c[i].cp))
			fail_msg("case %zu: got %d U+%04X, want %d U+%04X", i,
			    len, (unsigned)cp, c[i].len, (unsigned)c[i].cp);
		/* The code point is optional. */
		assert_int_equal(pluglib_utf8_next(c[i].s, c[i].n, NULL),
		    c[i].len);
	}
}

static void
test_utf8_ok(void **unused)
{
	assert_true(pluglib_utf8_ok(""));
	assert_true(pluglib_utf8_ok("plain ASCII"));
	assert_true(pluglib_utf8_ok("东湖县 城关镇 😀 é"));
	assert_false(pluglib_utf8_ok("\xb3\xc7\xb9\xd8"));	/* GBK */
	assert_false(pluglib_utf8_ok("ok \xe9\x99"));	/* cut at the end */
	assert_false(pluglib_utf8_ok("\xed\xa0\x80"));	/* CESU-8 surrogate */
	assert_false(pluglib_utf8_ok("a\x80z"));
}

/* What webhook.c asked before pluglib_json_plain(): one decoder call a character. */
static int
json_plain_slow(const char *s, size_t len)
{
	size_t	i = 0;
	int	l;

	while (i < len) {
		if ((unsigned char)s[i] >= 0x80) {
			if ((l = pluglib_utf8_next(s + i, len - i, NULL)) < 0)
				return 0;
			i += (size_t)l;
		} else if ((unsigned char)s[i] < 0x20 || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
		else
			i++;
	}
	return 1;
}

/* s (n bytes) alone, cut short, and between ASCII: both answers agree. */
static void
json_plain_same(const unsigned char *s, size_t n)
{
	char	buf[16];
	size_t	k;

	for (k = 0; k <= n; k++)
		if (pluglib_json_plain((const char *)s, k) !=
		    json_plain_slow((const char *)s, k))
			fail_msg("%zu of %02x %02x %02x %02x: fast %d, slow %d",
			    k, s[0], n > 1 ? s[1] : 0, n > 2 ? s[2] : 0,
			    n > 3 ? s[3] : 0, pluglib_json_plain(
			    (const char *)s, k), json_plain_slow(
			    (const char *)s, k));
	buf[0] = 'a';
	memcpy(buf + 1, s, n);
	buf[n + 1] = 'z';
	assert_int_equal(pluglib_json_plain(buf, n + 2),
	    json_plain_slow(buf, n + 2));
}

/* Bytes a b c as the character after D of "情况说明情况", then "说明x". */
static void
json_plain_run(unsigned a, unsigned b, unsigned c, unsigned d)
{
	static const char run[] = "情况说明情况";
	char	buf[64];
	size_t	n = 3 * d, k;

	memcpy(buf, run, n);
	buf[n++] = (char)a;
	buf[n++] = (char)b;
	buf[n++] = (char)c;
	memcpy(buf + n, run + 3 * d, sizeof(run) - 1 - 3 * d);
	n += sizeof(run) - 1 - 3 * d;
	memcpy(buf + n, "说明x", 7);
	n += 7;
	for (k = n - 9; k <= n; k += 3)	/* and cut short near the end */
		if (pluglib_json_plain(buf, k) != json_plain_slow(buf, k))
			fail_msg("%02x %02x %02x after %u of %zu bytes", a, b, c,
			    d, k);
}

/*
 * The webhook's copy-or-dump test: every 1-, 2- and 3-byte string whose
 * first byte is not ASCII (and every ASCII byte), 4-byte ones from the
 * bytes at each range's edges; whole, cut short and inside ASCII.
 */
static void
test_json_plain(void **unused)
{
	static const unsigned char edge[] = { 0x00, 0x1f, 0x22, 0x41, 0x5c,
	    0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf,
	    0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	unsigned char s[4];
	unsigned a, b, c, d;

	for (a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		json_plain_same(s, 1);
		for (b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			json_plain_same(s, 2);
			if (a < 0x80)
				continue;
			for (c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				if (pluglib_json_plain((char *)s, 3) !=
				    json_plain_slow((char *)s, 3))
					fail_msg("%02x %02x %02x", a, b, c);
			}
		}
	}
	for (a = 0xf0; a < 0xf8; a++)
		for (b = 0; b < sizeof(edge); b++)
			for (c = 0; c < sizeof(edge); c++)
				for (d = 0; d < sizeof(edge); d++) {
					s[0] = (unsigned char)a;
					s[1] = edge[b];
					s[2] = edge[c];
					s[3] = edge[d];
					json_plain_same(s, 4);
				}
	/*
	 * Inside a run of Chinese (read eight bytes at a time): every
	 * sequence led by E0-EF, at each offset of the run, cut or whole.
	 */
	for (a = 0xe0; a < 0xf0; a++)
		for (b = 0; b < 256; b++)
			for (c = 0; c < 256; c++)
				for (d = 0; d < 4; d++)
					json_plain_run(a, b, c, d);
	assert_true(pluglib_json_plain("某镇化工厂爆炸（II级）😀 é ~\x7f", 42));
	assert_false(pluglib_json_plain("quote \" here", 13));
	assert_false(pluglib_json_plain("tab\there", 8));
	assert_true(pluglib_json_plain("", 0));
}

static void
test_utf8_cut(void **unused)
{
	static const char s[] = "a😀b险";	/* 1 + 4 + 1 + 3 bytes */
	static const char bad[] = "ab\xff\xe9\x99";

	/* Never inside the 4-byte character. */
	assert_int_equal(pluglib_utf8_cut(s, 9, 0, SIZE_MAX), 0);
	assert_int_equal(pluglib_utf8_cut(s, 9, 1, SIZE_MAX), 1);
	assert_int_equal(pluglib_utf8_cut(s, 9, 2, SIZE_MAX), 1);
	assert_int_equal(pluglib_utf8_cut(s, 9, 4, SIZE_MAX), 1);
	assert_int_equal(pluglib_utf8_cut(s, 9, 5, SIZE_MAX), 5);
	assert_int_equal(pluglib_utf8_cut(s, 9, 6, SIZE_MAX), 6);
	assert_int_equal(pluglib_utf8_cut(s, 9, 8, SIZE_MAX), 6);
	assert_int_equal(pluglib_utf8_cut(s, 9, 9, SIZE_MAX), 9);
	assert_int_equal(pluglib_utf8_cut(s, 9, 100, SIZE_MAX), 9);
	/* Characters, not bytes. */
	assert_int_equal(pluglib_utf8_cut(s, 9, 100, 0), 0);
	assert_int_equal(pluglib_utf8_cut(s, 9, 100, 2), 5);
	assert_int_equal(pluglib_utf8_cut(s, 9, 100, 3), 6);
	assert_int_equal(pluglib_utf8_cut(s, 9, 100, 4), 9);
	assert_int_equal(pluglib_utf8_cut(s, 9, 8, 4), 6);	/* bytes first */
	/* A byte that is not UTF-8 is one character of its own. */
	assert_int_equal(pluglib_utf8_cut(bad, 5, 100, 3), 3);
	assert_int_equal(pluglib_utf8_cut(bad, 5, 4, SIZE_MAX), 4);
	assert_int_equal(pluglib_utf8_cut(bad, 5, 100, SIZE_MAX), 5);
}

static void
test_quote(void **unused)
{
	static const char peer[] = "ok\r\n\t\x7f\xff 😀险";
	char q[64];

	pluglib_quote(q, sizeof(q), peer, strlen(peer), 100);
	assert_string_equal(q, "ok    ? 😀险");
	/* Cut between characters: the emoji does not fit in 10 bytes. */
	pluglib_quote(q, sizeof(q), peer, strlen(peer), 10);
	assert_string_equal(q, "ok    ? ");
	pluglib_quote(q, sizeof(q), peer, strlen(peer), 12);
	assert_string_equal(q, "ok    ? 😀");
	/* A character cut off by the peer is not UTF-8. */
	pluglib_quote(q, sizeof(q), "a\xf0\x9f\x98", 4, 100);
	assert_string_equal(q, "a???");
	/* The destination bounds it too, with room for a whole character. */
	pluglib_quote(q, 8, "abcdefghij", 10, 100);
	assert_string_equal(q, "abc");
	pluglib_quote(q, sizeof(q), NULL, 0, 100);
	assert_string_equal(q, "");
}

static void
test_fit(void **unused)
{
	char *out;

	assert_int_equal(pluglib_fit("T\n", "😀😀😀😀", "\nL", 100, &out), 0);
	assert_string_equal(out, "T\n😀😀😀😀\nL");
	free(out);
	/* 2 + 4 + 3 ("…") + 2 = 11: one emoji and the ellipsis. */
	assert_int_equal(pluglib_fit("T\n", "😀😀😀😀", "\nL", 13, &out), 0);
	assert_string_equal(out, "T\n😀…\nL");
	free(out);
	assert_int_equal(pluglib_fit("T\n", "😀😀😀😀", "\nL", 10, &out), 0);
	assert_string_equal(out, "T\n…\nL");
	free(out);
}

/* URLs ------------------------------------------------------------------ */

static const char *const smtp_schemes[] = { "smtp", "smtps", NULL };

struct url_case {
	const char	*url;
	const char *const *schemes;
	int		 flags;
	int		 want;		/* scheme index, or -EINVAL */
	const char	*why;		/* in why; "" for nothing said */
};

static void
test_url_parse(void **unused)
{
	const struct url_case c[] = {
		{ "http://h", pluglib_http_schemes, 0, 0, "" },
		{ "https://oapi.dingtalk.com/robot/send?access_token=x#f",
		    pluglib_http_schemes, 0, 1, "" },
		{ "HTTPS://Example.org:8443/a/b", pluglib_http_schemes, 0, 1,
		    "" },
		{ "http://[::1]:9/x", pluglib_http_schemes, 0, 0, "" },
		{ "http://127.0.0.1:9/东湖", pluglib_http_schemes, 0, 0, "" },
		{ "http://u:p@h/", pluglib_http_schemes, PLUGLIB_URL_LOGIN, 0,
		    "" },
		{ "smtp://mail.example.gov.cn:587", smtp_schemes, 0, 0, "" },
		{ "smtps://127.0.0.1", smtp_schemes, 0, 1, "" },
		/* What the rules say: scheme, host, spaces, login. */
		{ "", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "example.org", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "ftp://example.org/", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "file:///etc/passwd", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "smtp://h", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http://h", smtp_schemes, 0, -EINVAL, "" },
		{ "http://", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http://:80/", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "https:///path", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http:/h/x", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http:h", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http://a b/", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http://h/\x01", pluglib_http_schemes, 0, -EINVAL, "" },
		{ " http://h", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "http://u:p@h/", pluglib_http_schemes, 0, -EINVAL, "" },
		{ "smtp://duty:secret@h", smtp_schemes, 0, -EINVAL, "" },
		{ "smtp://@h", smtp_schemes, 0, -EINVAL, "" },
		{ "smtp://:25", smtp_schemes, 0, -EINVAL, "" },
		/* What only libcurl can say. */
		{ "http://h:99999/", pluglib_http_schemes, 0, -EINVAL,
		    "libcurl: Port number" },
		{ "smtp://h:x/", smtp_schemes, 0, -EINVAL, "libcurl: Port" },
		{ "http://[::1/", pluglib_http_schemes, 0, -EINVAL,
		    "libcurl: " },
	};
	char why[128];
	size_t i;
	int k;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(why, 'x', sizeof(why));
		k = pluglib_url_parse(c[i].url, c[i].schemes, c[i].flags, why,
		    sizeof(why));
		if (k != c[i].want || (c[i].why[0] == '\0' ? why[0] != '\0' :
		    strstr(why, c[i].why) == NULL))
			fail_msg("%s: got %d \"%.*s\", want %d \"%s\"",
			    c[i].url, k, (int)sizeof(why) - 1, why,
			    c[i].want, c[i].why);
		/* why is optional. */
		assert_int_equal(pluglib_url_parse(c[i].url, c[i].schemes,
		    c[i].flags, NULL, 0), c[i].want);
	}
}

static void
test_url_long(void **unused)
{
	char url[PLUGLIB_URL_MAX + 2], why[128];

	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "http://h/", 9);
	assert_int_equal(pluglib_url_parse(url, pluglib_http_schemes, 0, why,
	    sizeof(why)), -EINVAL);
	assert_string_equal(why, "it has 2049 bytes, more than 2048");
	url[PLUGLIB_URL_MAX] = '\0';
	assert_int_equal(pluglib_url_parse(url, pluglib_http_schemes, 0, why,
	    sizeof(why)), 0);
}

static void
test_url_option(void **unused)
{
	struct dutyd_error err = { 42, "" };

	assert_int_equal(pluglib_url_option("smtps://h:465", 3, smtp_schemes,
	    0, "url must be smtp:// or smtps://", &err), 1);
	assert_int_equal(err.option, 42);	/* untouched */
	assert_int_equal(pluglib_url_option("smtp://h:0x19", 3, smtp_schemes,
	    0, "url must be smtp:// or smtps://", &err), -EINVAL);
	assert_int_equal(err.option, 3);
	assert_contains(err.message, "url must be smtp:// or smtps:// "
	    "(libcurl: Port number");
	assert_true(err.message[strlen(err.message) - 1] == ')');
	assert_int_equal(pluglib_url_option("smtp://u@h", 1, smtp_schemes, 0,
	    "url must be smtp:// without a login", &err), -EINVAL);
	assert_int_equal(err.option, 1);
	assert_string_equal(err.message, "url must be smtp:// without a login");
}

/* A key's check judges where the key stands, and says what is wrong. */
static void
test_options_check(void **unused)
{
	static const struct pluglib_key keys[] = {
		{ "url", NULL, pluglib_http_url_check, "url must be http(s)" },
		{ "secret", "set it", NULL, NULL },
	};
	const struct dutyd_option port[] = {
		{ "secret", "s" }, { "url", "http://h:65536/" },
	};
	const struct dutyd_option first[] = {
		{ "url", "ftp://h/" }, { "colour", "red" },
	};
	struct dutyd_error err = { 42, "" };
	const char *val[2];
	int idx[2];

	assert_int_equal(pluglib_options("t", keys, 2, port, 2, val, idx,
	    &err), -EINVAL);
	assert_int_equal(err.option, 1);
	assert_contains(err.message, "url must be http(s) (libcurl: Port");
	assert_int_equal(pluglib_options("t", keys, 2, first, 2, val, idx,
	    &err), -EINVAL);
	assert_int_equal(err.option, 0);
	assert_string_equal(err.message, "url must be http(s)");
}

static void
test_url_edit(void **unused)
{
	CURLU *u;
	char *s;

	u = pluglib_url_handle("http://h/robot/send?access_token=t#frag");
	assert_non_null(u);
	assert_int_equal(pluglib_url_set(u, CURLUPART_QUERY, "sign=a+b/c=",
	    CURLU_APPENDQUERY | CURLU_URLENCODE), 0);
	s = pluglib_url_string(u);
	assert_non_null(s);
	assert_string_equal(s, "http://h/robot/send?access_token=t&"
	    "sign=a%2bb%2fc%3d#frag");
	free(s);
	assert_int_equal(pluglib_url_set(u, CURLUPART_PORT, "99999", 0),
	    -EINVAL);
	curl_url_cleanup(u);
	errno = 0;
	assert_null(pluglib_url_handle("no url"));
	assert_int_equal(errno, EINVAL);
}

/* HMAC ------------------------------------------------------------------ */

static json_t *vectors;

static struct pluglib_span
span(const char *s)
{
	struct pluglib_span sp = { s, strlen(s) };

	return sp;
}

/* The vendors' worked examples, keys and messages given in parts. */
static void
test_hmac_vectors(void **unused)
{
	const char *ts, *secret;
	struct pluglib_span k[3], m[3];
	char out[PLUGLIB_MAC_TEXT];
	EVP_MAC_CTX *c;
	int i;

	secret = plug_vector(vectors, "dingtalk_robot_sign", "secret");
	ts = plug_vector(vectors, "dingtalk_robot_sign", "timestamp");
	k[0] = span(secret);
	m[0] = span(ts);
	m[1] = span("\n");
	m[2] = span(secret);
	assert_non_null(c = pluglib_hmac_new("SHA256", k, 1, NULL));
	for (i = 0; i < 2; i++) {	/* the keyed context stays keyed */
		assert_int_equal(pluglib_hmac_sign(c, m, 3, PLUGLIB_BASE64,
		    out, sizeof(out)), 0);
		assert_string_equal(out, plug_vector(vectors,
		    "dingtalk_robot_sign", "sign_base64"));
	}
	EVP_MAC_CTX_free(c);

	/* Feishu: the key in parts, nothing signed. */
	k[0] = span(plug_vector(vectors, "feishu_bot_sign", "timestamp"));
	k[1] = span("\n");
	k[2] = span(plug_vector(vectors, "feishu_bot_sign", "secret"));
	assert_non_null(c = pluglib_hmac_new("SHA256", k, 3, NULL));
	assert_int_equal(pluglib_hmac_sign(c, NULL, 0, PLUGLIB_BASE64, out,
	    sizeof(out)), 0);
	assert_string_equal(out, plug_vector(vectors, "feishu_bot_sign",
	    "sign_base64"));
	EVP_MAC_CTX_free(c);

	/* Twilio's request validator: HMAC-SHA1. */
	k[0] = span(plug_vector(vectors, "twilio_request_validator",
	    "auth_token"));
	m[0] = span(plug_vector(vectors, "twilio_request_validator",
	    "signed_string"));
	assert_non_null(c = pluglib_hmac_new("SHA1", k, 1, NULL));
	assert_int_equal(pluglib_hmac_sign(c, m, 1, PLUGLIB_BASE64, out,
	    sizeof(out)), 0);
	assert_string_equal(out, plug_vector(vectors,
	    "twilio_request_validator", "signature"));
	/* Too little room is refused, not overrun. */
	assert_int_equal(pluglib_hmac_sign(c, m, 1, PLUGLIB_BASE64, out, 28),
	    -ENOBUFS);
	assert_int_equal(pluglib_hmac_sign(c, m, 1, PLUGLIB_HEX, out, 40),
	    -ENOBUFS);
	EVP_MAC_CTX_free(c);
}

/* Hex is lower case, as the webhook's receivers compare it. */
static void
test_hmac_hex(void **unused)
{
	static const char key[] = "tP9-秘钥-k2", body[] = "{\"event\":\"x\"}";
	struct pluglib_span k[2] = { { key, 5 }, { key + 5, sizeof(key) - 6 } };
	struct pluglib_span m = span(body);
	unsigned char md[EVP_MAX_MD_SIZE];
	char out[PLUGLIB_MAC_TEXT], want[PLUGLIB_MAC_TEXT];
	unsigned int mdlen, i;
	EVP_MAC_CTX *c;

	assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key),
	    (const unsigned char *)body, strlen(body), md, &mdlen));
	for (i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	assert_non_null(c = pluglib_hmac_new("SHA256", k, 2, NULL));
	assert_int_equal(pluglib_hmac_sign(c, &m, 1, PLUGLIB_HEX, out,
	    sizeof(out)), 0);
	assert_string_equal(out, want);
	EVP_MAC_CTX_free(c);
}

/*
 * One context signs message after message in place: each MAC is the
 * one-shot HMAC() of that message alone, whatever came before it (a
 * longer one, an empty one, one refused for want of room).
 */
static void
test_hmac_reused(void **unused)
{
	static const char key[] = "hmac-secret";
	static const char *const bodies[] = { "{\"event\":\"a\"}",
	    "a longer body than the first, over one SHA-256 block of sixty-four"
	    " bytes, so that a state left over would show", "", "b" };
	struct pluglib_span k = span(key), m;
	unsigned char md[EVP_MAX_MD_SIZE];
	char out[PLUGLIB_MAC_TEXT], want[PLUGLIB_MAC_TEXT];
	unsigned int mdlen, i, j, round;
	EVP_MAC_CTX *c;

	assert_non_null(c = pluglib_hmac_new("SHA256", &k, 1, NULL));
	for (round = 0; round < 2; round++)
		for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
			assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key),
			    (const unsigned char *)bodies[i], strlen(bodies[i]),
			    md, &mdlen));
			for (j = 0; j < mdlen; j++)
				snprintf(want + 2 * j, 3, "%02x", md[j]);
			m = span(bodies[i]);
			if (round == 1)	/* refused for room first: no trace */
				assert_int_equal(pluglib_hmac_sign(c, &m, 1,
				    PLUGLIB_HEX, out, 10), -ENOBUFS);
			assert_int_equal(pluglib_hmac_sign(c, &m, 1, PLUGLIB_HEX,
			    out, sizeof(out)), 0);
			assert_string_equal(out, want);
		}
	EVP_MAC_CTX_free(c);
}

/*
 * pluglib_hmac_more() finishes a context as it stands: a copy taken after
 * the first part of a message, finished with the rest (an empty rest too),
 * is the one-shot HMAC() of the whole, and the copy kept serves again.
 */
static void
test_hmac_more(void **unused)
{
	static const char key[] = "hmac-secret";
	static const char body[] = "{\"event\":\"incident.new\",\"incident\":"
	    "{\"id\":\"INC-20261203-0001\",\"title\":\"over one SHA-256 block\"}"
	    ",\"delivery\":\"12.0\"}";
	struct pluglib_span k = span(key), m;
	unsigned char md[EVP_MAX_MD_SIZE];
	char out[PLUGLIB_MAC_TEXT], want[PLUGLIB_MAC_TEXT];
	unsigned int mdlen, j;
	size_t cut, len = strlen(body);
	EVP_MAC_CTX *c, *pre, *copy;

	assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key),
	    (const unsigned char *)body, len, md, &mdlen));
	for (j = 0; j < mdlen; j++)
		snprintf(want + 2 * j, 3, "%02x", md[j]);
	assert_non_null(c = pluglib_hmac_new("SHA256", &k, 1, NULL));
	for (cut = 0; cut <= len; cut++) {
		assert_int_equal(EVP_MAC_init(c, NULL, 0, NULL), 1);
		assert_int_equal(EVP_MAC_update(c,
		    (const unsigned char *)body, cut), 1);
		assert_non_null(pre = EVP_MAC_CTX_dup(c));
		m.data = body + cut;
		m.len = len - cut;
		assert_int_equal(pluglib_hmac_more(c, &m, 1, PLUGLIB_HEX, out,
		    sizeof(out)), 0);
		assert_string_equal(out, want);
		for (j = 0; j < 2; j++) {
			assert_non_null(copy = EVP_MAC_CTX_dup(pre));
			assert_int_equal(pluglib_hmac_more(copy, &m, 1,
			    PLUGLIB_HEX, out, sizeof(out)), 0);
			assert_string_equal(out, want);
			EVP_MAC_CTX_free(copy);
		}
		EVP_MAC_CTX_free(pre);
	}
	EVP_MAC_CTX_free(c);
}

static void
test_hmac_bad_digest(void **unused)
{
	struct dutyd_error err = { 42, "" };
	struct pluglib_span k = span("k");
	EVP_MAC_CTX *c;

	errno = 0;
	assert_null(pluglib_hmac_new("NO-SUCH-DIGEST", &k, 1, &err));
	assert_int_equal(errno, EIO);
	assert_int_equal(err.option, -1);
	assert_string_equal(err.message,
	    "cannot set up HMAC-NO-SUCH-DIGEST (OpenSSL)");
	/* An empty key is a key. */
	k.len = 0;
	assert_non_null(c = pluglib_hmac_new("SHA256", &k, 1, NULL));
	EVP_MAC_CTX_free(c);
}

static void
test_secret(void **unused)
{
	struct dutyd_error err = { 42, "" };
	EVP_MAC_CTX *hmac = NULL;
	char *copy = NULL, out[PLUGLIB_MAC_TEXT];
	struct pluglib_span m = span("x");

	assert_int_equal(pluglib_secret(NULL, "SHA256", &copy, &hmac, &err),
	    0);
	assert_null(copy);
	assert_null(hmac);
	assert_int_equal(pluglib_secret("s3", NULL, &copy, &hmac, &err), 0);
	assert_string_equal(copy, "s3");
	assert_null(hmac);
	pluglib_free_secret(copy);
	assert_int_equal(pluglib_secret("s3", "SHA1", &copy, &hmac, &err), 0);
	assert_int_equal(pluglib_hmac_sign(hmac, &m, 1, PLUGLIB_HEX, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "68879ed42a2aef6aa19a96c2d2817bb608a1a898");
	pluglib_free_secret(copy);
	EVP_MAC_CTX_free(hmac);
	hmac = NULL;
	assert_int_equal(pluglib_secret("s3", "MD-NONE", &copy, &hmac, &err),
	    -EIO);
	assert_string_equal(err.message, "cannot set up HMAC-MD-NONE (OpenSSL)");
	assert_null(hmac);
	pluglib_free_secret(copy);	/* the caller's, as for a release */
}

/* chatbot ---------------------------------------------------------------- */

static int signs;

static void
tbot_mention(FILE *f, const struct dutyd_recipient *r)
{
	fprintf(f, "<%s>", r->to);
}

static const struct chatbot_style tbot_style = {
	.title = { "[", "]\n" },
	.gap = "\n--\n",
	.markdown = 1,
	.mention = tbot_mention,
	.max = 60,
};

static const struct chatbot_style tbot_plain = {
	.title = { "", "\n" },
	.gap = " ",
	.max = 30,
	.max_untitled = 1,
};

static int
tbot_options(const char *const *val, const int *idx,
    const struct chatbot_style **style, struct dutyd_error *err)
{
	if (val[2] != NULL && strcmp(val[2], "plain") != 0) {
		pluglib_error(err, idx[2], "style '%s'?", val[2]);
		return -EINVAL;
	}
	if (val[2] != NULL)
		*style = &tbot_plain;
	return 0;
}

static json_t *
tbot_body(const struct chatbot *cb, const struct dutyd_message *msg,
    const char *text)
{
	return json_pack("{s:s}", "t", text);
}

static int
tbot_sign(const struct chatbot *cb, const struct dutyd_message *msg,
    json_t *body, char **url)
{
	char out[PLUGLIB_MAC_TEXT];
	struct pluglib_span m[3];
	int r;

	signs++;
	chatbot_sign_spans(cb, "ts", m);
	if ((r = pluglib_hmac_sign(cb->hmac, m, 3, PLUGLIB_HEX, out,
	    sizeof(out))) < 0)
		return r;
	return json_object_set_new(body, "sig", json_string(out)) ? -ENOMEM :
	    asprintf(url, "%s&signed", cb->url) == -1 ? -ENOMEM : 0;
}

static const struct pluglib_key tbot_keys[] = {
	{ "url", "give it", NULL, NULL },
	{ "secret", "give it", NULL, NULL },
	{ "style", "give it", NULL, NULL },
};

static const struct chatbot_code tbot_codes[] = {
	{ 0, DUTYD_DELIVERED, 0, NULL },
	{ 7, DUTYD_RETRY, 5000, NULL },
	{ 9, DUTYD_FAILED, 0, "fix it" },
};

static const struct chatbot_vendor tbot = {
	.channel = "tbot",
	.vendor = "TBot",
	.keys = tbot_keys,
	.nkeys = 3,
	.example = "https://t.example/hook?tok=...",
	.token = "tok=",
	.reply = { { "rc", "why" }, { "Old", "OldWhy" } },
	.codes = tbot_codes,
	.ncodes = 3,
	.rate_wait_ms = 1234,
	.style = &tbot_style,
	.hmac_digest = "SHA256",
	.options = tbot_options,
	.body = tbot_body,
	.sign = tbot_sign,
};

static void
tbot_bad(const struct dutyd_option *opts, size_t n, int idx,
    const char *words)
{
	struct dutyd_error err = { 42, "" };
	void *state = (void *)1;

	assert_int_equal(chatbot_configure(&tbot, opts, n, &state, &err),
	    -EINVAL);
	assert_null(state);
	if (err.option != idx || strstr(err.message, words) == NULL)
		fail_msg("option %d \"%s\", want %d \"%s\"", err.option,
		    err.message, idx, words);
}

static void
test_chatbot_configure(void **unused)
{
	struct dutyd_option o[3] = {
		{ "url", "http://h/hook?a=1&tok=x" }, { "secret", "s" },
		{ "style", "plain" },
	};
	struct dutyd_error err;
	struct chatbot *cb;
	void *state;

	assert_int_equal(chatbot_configure(&tbot, o, 3, &state, &err), 0);
	cb = state;
	assert_ptr_equal(cb->vendor, &tbot);
	assert_ptr_equal(cb->style, &tbot_plain);
	assert_string_equal(cb->url, o[0].value);
	assert_string_equal(cb->secret, "s");
	assert_non_null(cb->hmac);
	chatbot_release(cb);
	assert_int_equal(chatbot_configure(&tbot, o, 1, &state, &err), 0);
	cb = state;
	assert_ptr_equal(cb->style, &tbot_style);
	assert_null(cb->secret);
	assert_null(cb->hmac);
	chatbot_release(cb);
	chatbot_release(NULL);

	tbot_bad(o + 1, 1, -1, "the tbot channel needs a url: the robot's "
	    "webhook address, https://t.example/hook?tok=...");
	o[0].value = "http://h/hook?a=1&tok=x#";
	o[2].value = "bold";
	tbot_bad(o, 3, 2, "style 'bold'?");
	/* The token is a parameter of the query, not any "tok=". */
	o[0].value = "http://h/hook?atok=x";
	tbot_bad(o, 1, 0, "url has no tok=: copy the whole webhook address "
	    "from the robot's settings in the TBot group");
	o[0].value = "http://h/tok=x/hook";
	tbot_bad(o, 1, 0, "url has no tok=");
	o[0].value = "http://h:70000/hook?tok=x";
	tbot_bad(o, 1, 0, "url must be an http:// or https:// address with "
	    "a host and no spaces, e.g. https://t.example/hook?tok=... "
	    "(libcurl: Port number");
}

static const struct dutyd_recipient trcpt[] = {
	{ "a", "A", "a1" }, { "b", "B", "" }, { "c", "C", "a1" },
	{ "d", "D", "d4" },
};

static char *
tbot_build(const struct dutyd_option *opts, size_t n,
    const struct dutyd_message *m, struct dutyd_request *req)
{
	struct dutyd_error err;
	json_t *body;
	void *state;
	char *t;

	assert_int_equal(chatbot_configure(&tbot, opts, n, &state, &err), 0);
	memset(req, 0, sizeof(*req));
	assert_int_equal(chatbot_build(state, m, req), 0);
	chatbot_release(state);
	assert_string_equal(req->method, "POST");
	assert_string_equal(plug_header(req, "Content-Type"),
	    "application/json");
	assert_string_equal(plug_header(req, "X-Dutyd-Delivery"), "d-1");
	assert_non_null(body = json_loadb(req->body, req->body_len, 0, NULL));
	assert_non_null(t = strdup(json_string_value(json_object_get(body,
	    "t"))));
	json_decref(body);
	return t;
}

static void
test_chatbot_build(void **unused)
{
	const struct dutyd_option opts[] = {
		{ "url", "http://h/hook?tok=x" }, { "secret", "s" },
		{ "style", "plain" },
	};
	const struct dutyd_option plain[] = {
		{ "url", "http://h/hook?tok=x" }, { "style", "plain" },
	};
	struct dutyd_request req;
	struct dutyd_message m;
	char *t;

	plug_message(&m, "{}", "Ti", "body 😀😀", "http://l", trcpt, 4);
	m.delivery_id = "d-1";
	signs = 0;
	t = tbot_build(opts, 1, &m, &req);
	assert_string_equal(t, "[Ti]\nbody 😀😀\n--\n[http://l](http://l)"
	    "\n--\n<a1> <d4>");
	assert_string_equal(req.url, opts[0].value);
	assert_int_equal(signs, 0);	/* no secret, no signing */
	free(t);
	channel_request_clear(&req);

	/* Over 60 bytes: only the text is cut, between characters. */
	m.url = NULL;
	m.text = "body 😀😀😀😀😀😀😀😀😀😀😀😀";
	t = tbot_build(opts, 1, &m, &req);
	assert_string_equal(t, "[Ti]\nbody 😀😀😀😀😀😀😀😀…\n--\n<a1> <d4>");
	assert_int_equal(strlen(t), 58);
	free(t);
	channel_request_clear(&req);

	/* The plain style: max counts from the text, no mentions. */
	m.text = "0123456789012345678901234567890123456789";
	t = tbot_build(plain, 2, &m, &req);
	assert_string_equal(t, "Ti\n012345678901234567890123456…");
	free(t);
	channel_request_clear(&req);

	/* With a secret the hook signs, and may change the address. */
	m.text = "x";
	t = tbot_build(opts, 2, &m, &req);
	assert_int_equal(signs, 1);
	assert_string_equal(req.url, "http://h/hook?tok=x&signed");
	assert_contains(req.body, "\"sig\":\"");
	free(t);
	channel_request_clear(&req);
}

static void
test_chatbot_build_bad(void **unused)
{
	const struct dutyd_option opts[] = { { "url", "http://h/?tok=x" } };
	struct dutyd_error err;
	struct dutyd_request req;
	struct dutyd_message m;
	void *state;

	assert_int_equal(chatbot_configure(&tbot, opts, 1, &state, &err), 0);
	plug_message(&m, "{}", "Ti", "\xb3\xc7", NULL, trcpt, 1);
	plug_build_refused(&(const struct dutyd_plugin){ .build =
	    chatbot_build }, state, &m);
	m.text = NULL;
	memset(&req, 0, sizeof(req));
	assert_int_equal(chatbot_build(state, &m, &req), -EINVAL);
	chatbot_release(state);
}

static void
test_chatbot_parse(void **unused)
{
	struct dutyd_response resp;
	struct dutyd_result res;

	resp = plug_response(200, NULL, "{\"rc\":0,\"why\":\"ok\"}", 0);
	assert_int_equal(chatbot_parse(&tbot, &resp, &res), 0);
	assert_int_equal(res.outcome, DUTYD_DELIVERED);
	assert_string_equal(res.detail, "errcode 0: ok");
	resp = plug_response(200, NULL, "{\"Old\":9,\"OldWhy\":\"no\"}", 0);
	chatbot_parse(&tbot, &resp, &res);
	assert_int_equal(res.outcome, DUTYD_FAILED);
	assert_string_equal(res.detail, "errcode 9: no (fix it)");
	resp = plug_response(403, NULL, "{\"rc\":7}", 0);
	chatbot_parse(&tbot, &resp, &res);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 5000);
	resp = plug_response(429, NULL, "busy", 0);
	chatbot_parse(&tbot, &resp, &res);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_int_equal(res.retry_after_ms, 1234);
	assert_string_equal(res.detail, "HTTP 429: busy");
	resp = plug_response(200, NULL, "{\"errcode\":0}", 0);
	chatbot_parse(&tbot, &resp, &res);
	assert_int_equal(res.outcome, DUTYD_RETRY);
	assert_string_equal(res.detail, "HTTP 200 but not a TBot reply: "
	    "{\"errcode\":0}");
}

static int
setup(void **unused)
{
	return (vectors = plug_vectors()) == NULL ? -1 : 0;
}

static int
teardown(void **unused)
{
	json_decref(vectors);
	return 0;
}

/* Headers ---------------------------------------------------------------- */

/* "Name: value" as given; a CR or LF refused; no more than the request holds. */
static void
test_headers(void **unused)
{
	struct dutyd_request req;
	size_t i;

	memset(&req, 0, sizeof(req));
	assert_int_equal(pluglib_headers(&req, "Content-Type",
	    "application/json", "X-Empty", "", "X-名", "值 ü", NULL), 0);
	assert_int_equal(req.nheaders, 3);
	assert_string_equal(req.headers[0], "Content-Type: application/json");
	assert_string_equal(req.headers[1], "X-Empty: ");
	assert_string_equal(req.headers[2], "X-名: 值 ü");
	assert_int_equal(pluglib_headers(&req, "X-Bad", "a\r\nX-Evil: 1",
	    NULL), -EINVAL);
	assert_int_equal(pluglib_headers(&req, "X-Bad", NULL, NULL), -EINVAL);
	assert_int_equal(req.nheaders, 3);
	for (i = 3; i < DUTYD_MAX_HEADERS; i++)
		assert_int_equal(pluglib_headers(&req, "X-N", "n", NULL), 0);
	assert_int_equal(pluglib_headers(&req, "X-Over", "o", NULL), -E2BIG);
	assert_int_equal(req.nheaders, DUTYD_MAX_HEADERS);
	channel_request_clear(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_next),
		cmocka_unit_test(test_utf8_ok),
		cmocka_unit_test(test_json_plain),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_url_long),
		cmocka_unit_test(test_url_option),
		cmocka_unit_test(test_options_check),
		cmocka_unit_test(test_url_edit),
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_hmac_hex),
		cmocka_unit_test(test_hmac_reused),
		cmocka_unit_test(test_hmac_more),
		cmocka_unit_test(test_hmac_bad_digest),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_chatbot_configure),
		cmocka_unit_test(test_chatbot_build),
		cmocka_unit_test(test_chatbot_build_bad),
		cmocka_unit_test(test_chatbot_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
