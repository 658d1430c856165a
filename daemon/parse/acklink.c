/*
 * One-tap links: signed tokens and the pages they open.  Pure functions of
 * bytes (no globals, clock or logging) so they can be fuzzed alone.
 *
 * A token is base64url(payload) "." base64url(HMAC-SHA256(key, payload)).
 * The payload is "1|A|<expiry_ms>|<incident>|<person>": the fields cannot
 * hold '|', so no two field sets give the same payload.  Base64 is checked
 * to be canonical, so each payload has exactly one token: a flipped bit in
 * the padding of the last character is an altered token, not the same one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/mac.h"
#include "parse/acklink.h"

#define PAYLOAD_MAX	(ACKLINK_TOKEN_MAX * 3 / 4)	/* decoded bytes */
#define MAC_LEN		32				/* SHA-256 */
#define B64_BUF(n)	(((n) + 2) / 3 * 4 + 1)

/* Tokens ----------------------------------------------------------------- */

/*
 * HMAC-SHA256 into md (MAC_LEN bytes); 0 or -ENOMEM.  One-shot: keying
 * afresh costs about a microsecond more than a cached key (measured), and
 * these functions keep no state.
 */
static int
acklink_mac(const void *key, size_t keylen, const unsigned char *msg,
    size_t len, unsigned char *md)
{
	return mac_hmac("SHA256", key, keylen, msg, len, md, MAC_LEN) ==
	    MAC_LEN ? 0 : -ENOMEM;
}

/* base64url without padding of in[0..n) into out (B64_BUF(n) bytes). */
static size_t
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t	 len, i;

	len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return len;
}

/*
 * Decode canonical base64url s[0..n) into out (outsz bytes); its length,
 * or -1.
 */
static int
b64url_decode(const char *s, size_t n, unsigned char *out, size_t outsz)
{
	char		 tmp[ACKLINK_TOKEN_MAX + 4], again[ACKLINK_TOKEN_MAX + 4];
	size_t		 i, pad;
	int		 len;

	if (n == 0 || n > ACKLINK_TOKEN_MAX || n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			tmp[i] = '+';
		else if (s[i] == '_')
			tmp[i] = '/';
		else if ((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			tmp[i] = s[i];
		else
			return -1;
	}
	for (pad = 0; (n + pad) % 4 != 0; pad++)
		tmp[n + pad] = '=';
	tmp[n + pad] = '\0';
	if ((n + pad) / 4 * 3 > outsz)
		return -1;
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	if ((len = EVP_DecodeBlock(out, (unsigned char *)tmp,
	    (int)(n + pad))) < 0 || (size_t)len < pad)
		return -1;
	len -= (int)pad;
	/* Unused low bits must be zero: one token per payload. */
	if (b64url_encode(out, (size_t)len, again) != n ||
	    memcmp(again, s, n) != 0)
		return -1;
	return len;
}

/* 1..ACKLINK_FIELD_MAX printable ASCII bytes without '|'. */
static int
field_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > ACKLINK_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '|')
			return 0;
	return 1;
}

static int
action_ok(char action)
{
	return action == 'A' || action == 'F' || action == 'R';
}

int
acklink_make(const void *key, size_t keylen, const char *incident,
    const char *person, char action, int64_t expiry_ms, char *token,
    size_t tokenlen)
{
	char		 payload[PAYLOAD_MAX + 1];
	unsigned char	 md[MAC_LEN];
	char		 p64[B64_BUF(PAYLOAD_MAX)], m64[B64_BUF(MAC_LEN)];
	size_t		 plen, n;
	int		 rc, len;

	if (tokenlen > 0)
		*token = '\0';
	if (key == NULL || keylen < ACKLINK_KEY_MIN || incident == NULL ||
	    person == NULL || !field_ok(incident, strlen(incident)) ||
	    !field_ok(person, strlen(person)) || !action_ok(action) ||
	    expiry_ms < 0)
		return -EINVAL;
	len = snprintf(payload, sizeof(payload), "1|%c|%" PRId64 "|%s|%s",
	    action, expiry_ms, incident, person);
	if (len < 0 || (size_t)len >= sizeof(payload))
		return -EINVAL;
	plen = (size_t)len;
	if ((rc = acklink_mac(key, keylen, (unsigned char *)payload, plen,
	    md)) != 0)
		return rc;
	n = b64url_encode((unsigned char *)payload, plen, p64);
	n += 1 + b64url_encode(md, sizeof(md), m64);
	if (n > ACKLINK_TOKEN_MAX || n >= tokenlen)
		return -ENOSPC;
	snprintf(token, tokenlen, "%s.%s", p64, m64);
	return 0;
}

/* A canonical non-negative decimal of s[0..n). */
static int
parse_ms(const char *s, size_t n, int64_t *ms)
{
	int64_t	 v = 0;
	size_t	 i;

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ms = v;
	return 0;
}

/* "1|A|<expiry>|<incident>|<person>" into out. */
static int
parse_payload(const char *p, size_t n, struct acklink *out)
{
	const char	*f[5];
	size_t		 flen[5], i, k = 0, start = 0;

	for (i = 0; i <= n && k < 5; i++) {
		if (i == n || p[i] == '|') {
			f[k] = p + start;
			flen[k++] = i - start;
			start = i + 1;
		}
	}
	if (k != 5 || start != n + 1)
		return -EINVAL;
	if (flen[0] != 1 || f[0][0] != '1' || flen[1] != 1 ||
	    !action_ok(f[1][0]) || parse_ms(f[2], flen[2], &out->expiry_ms) ||
	    !field_ok(f[3], flen[3]) || !field_ok(f[4], flen[4]))
		return -EINVAL;
	out->action = f[1][0];
	memcpy(out->incident, f[3], flen[3]);
	out->incident[flen[3]] = '\0';
	memcpy(out->person, f[4], flen[4]);
	out->person[flen[4]] = '\0';
	return 0;
}

int
acklink_verify(const void *key, size_t keylen, const char *token,
    int64_t now_ms, struct acklink *out)
{
	unsigned char	 payload[PAYLOAD_MAX + 1], md[MAC_LEN];
	unsigned char	 got[PAYLOAD_MAX + 1];
	const char	*dot;
	size_t		 len;
	int		 plen, glen, rc;

	memset(out, 0, sizeof(*out));
	if (key == NULL || keylen < ACKLINK_KEY_MIN || token == NULL ||
	    (len = strnlen(token, ACKLINK_TOKEN_MAX + 1)) > ACKLINK_TOKEN_MAX)
		return -EINVAL;
	if ((dot = memchr(token, '.', len)) == NULL || dot == token ||
	    dot + 1 == token + len ||
	    memchr(dot + 1, '.', len - (size_t)(dot + 1 - token)) != NULL)
		return -EINVAL;
	if ((plen = b64url_decode(token, (size_t)(dot - token), payload,
	    sizeof(payload))) < 0 ||
	    (glen = b64url_decode(dot + 1, len - (size_t)(dot + 1 - token),
	    got, sizeof(got))) != MAC_LEN)
		return -EBADMSG;
	if ((rc = acklink_mac(key, keylen, payload, (size_t)plen, md)) != 0)
		return rc;
	if (!mac_equal(md, got, MAC_LEN))
		return -EBADMSG;
	/* Signed with our key, so a bad payload is a bug, not an attack. */
	if (parse_payload((const char *)payload, (size_t)plen, out) != 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	if (now_ms >= out->expiry_ms)
		return -ETIMEDOUT;
	return 0;
}

/* Pages ------------------------------------------------------------------ */

static void
html_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"zh-CN\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    /* The URL holds the token: keep it out of Referer and indexes. */
    "<meta name=\"referrer\" content=\"no-referrer\">\n"
    "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
    "<style>\n"
    "body{margin:0;font:18px/1.5 system-ui,\"PingFang SC\","
    "\"Microsoft YaHei\",sans-serif;background:#f4f4f4;color:#222}\n"
    "main{max-width:32em;margin:0 auto;padding:1em}\n"
    "h1{font-size:1.3em;margin:.5em 0}\n"
    "dl{background:#fff;border-radius:8px;padding:.5em 1em;margin:1em 0}\n"
    "dt{color:#666;font-size:.85em;margin-top:.5em}\n"
    "dd{margin:0 0 .3em 0;word-break:break-all}\n"
    "button{display:block;width:100%;min-height:3.5em;font-size:1.2em;"
    "border:0;border-radius:8px;background:#c62828;color:#fff}\n"
    ".ok{color:#2e7d32}.err{color:#c62828}\n"
    "</style>\n";

/* Open a page with its <title>; the caller writes the body. */
static FILE *
page_open(char **buf, size_t *len, const char *title)
{
	FILE	*f;

	if ((f = open_memstream(buf, len)) == NULL)
		return NULL;
	fputs(page_head, f);
	fputs("<title>", f);
	html_escape(f, title);
	fputs("</title>\n</head>\n<body>\n<main>\n", f);
	return f;
}

static char *
page_close(FILE *f, char **buf)
{
	int	 failed;

	fputs("</main>\n</body>\n</html>\n", f);
	failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		free(*buf);
		errno = ENOMEM;
		return NULL;
	}
	return *buf;
}

static void
page_item(FILE *f, const char *label, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	fprintf(f, "<dt>%s</dt><dd>", label);
	html_escape(f, value);
	fputs("</dd>\n", f);
}

/* The national grading of emergencies, as duty staff say it. */
static const char *
level_words(const char *level)
{
	static const char *const words[][2] = {
		{ "I", "Ⅰ级（特别重大）" },
		{ "II", "Ⅱ级（重大）" },
		{ "III", "Ⅲ级（较大）" },
		{ "IV", "Ⅳ级（一般）" },
	};
	size_t	 i;

	for (i = 0; level != NULL && i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(level, words[i][0]) == 0)
			return words[i][1];
	return level;
}

char *
acklink_page(const struct acklink_summary *s, const char *token, char action)
{
	FILE		*f;
	char		*buf = NULL;
	size_t		 len;
	const char	*verb;

	switch (action) {
	case 'A':
		verb = "确认收到";
		break;
	case 'F':
		verb = "书面报告已报送";
		break;
	case 'R':
		verb = "已处置完毕";
		break;
	default:
		errno = EINVAL;
		return NULL;
	}
	if (s == NULL || token == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((f = page_open(&buf, &len, verb)) == NULL)
		return NULL;
	fputs("<h1>", f);
	html_escape(f, s->title != NULL ? s->title : "突发事件");
	fputs("</h1>\n<dl>\n", f);
	page_item(f, "事件编号", s->incident);
	page_item(f, "报告单位", s->office);
	page_item(f, "事件级别", level_words(s->level));
	page_item(f, "发生时间", s->occurred);
	page_item(f, "值班人员", s->person);
	fputs("</dl>\n<form method=\"post\">\n"
	    "<input type=\"hidden\" name=\"token\" value=\"", f);
	html_escape(f, token);
	fputs("\">\n<button type=\"submit\">", f);
	html_escape(f, verb);
	fputs("</button>\n</form>\n"
	    "<p>点按按钮后才会记录，并以您本人的名义写入值班日志。</p>\n", f);
	return page_close(f, &buf);
}

static char *
answer_page(const char *title, const char *cls, const char *message)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len;

	if (message == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if ((f = page_open(&buf, &len, title)) == NULL)
		return NULL;
	fprintf(f, "<h1 class=\"%s\">", cls);
	html_escape(f, title);
	fputs("</h1>\n<p>", f);
	html_escape(f, message);
	fputs("</p>\n", f);
	return page_close(f, &buf);
}

char *
acklink_done_page(const char *message)
{
	return answer_page("已记录", "ok", message);
}

char *
acklink_error_page(const char *message)
{
	return answer_page("未能完成", "err", message);
}
