/*
 * email: mail the message through an SMTP relay.  build() writes the whole
 * RFC 5322 message; the daemon hands it, the envelope and the login to
 * libcurl.  With smtp:// the default is STARTTLS or nothing: a relay that
 * does not offer it fails the delivery instead of getting the text in clear.
 *
 * Options: url (smtp://host[:port] or smtps://host[:port]), from (an
 * address), username and password (together, optional), starttls
 * (required | none; smtp:// only).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "plugin.h"

#define EMAIL_URL_MAX		2048
#define EMAIL_ADDR_MAX		254	/* RFC 5321 path limit less the brackets */
#define EMAIL_QUOTE		120	/* bytes of a server reply quoted in a detail */
/*
 * RFC 2047: an encoded-word is at most 75 characters; "=?UTF-8?B?" and "?="
 * leave 63 for base64, i.e. 60 (45 bytes).  The first word shares its line
 * with "Subject: ", so it takes 42 bytes (56 characters) to stay within 78.
 */
#define EMAIL_WORD_BYTES	45
#define EMAIL_WORD_FIRST	42
#define EMAIL_B64_LINE		57	/* bytes per 76-character base64 line */

struct email {
	char		*url;
	char		*from;
	const char	*domain;	/* in from, for Message-ID */
	char		*username;
	char		*password;
	enum dutyd_tls	 tls;
};

enum { OPT_URL, OPT_FROM, OPT_USER, OPT_PASS, OPT_STARTTLS, OPT_N };
static const char *const email_keys[OPT_N] = {
	"url", "from", "username", "password", "starttls",
};

static void
email_error(struct dutyd_error *err, int option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
email_error(struct dutyd_error *err, int option, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->option = option;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/*
 * A bare address, local@domain, safe in a header and an SMTP command: no
 * line breaks, brackets, spaces or other characters that would end the
 * address or start another.
 */
static int
email_addr_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	size_t i;

	if (at == NULL || at == s || at[1] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= EMAIL_ADDR_MAX || (unsigned char)s[i] <= ' ' ||
		    s[i] == 0x7f || strchr("<>()[],;:\"\\", s[i]) != NULL)
			return 0;
	return 1;
}

/* Characters a Message-ID's left part may hold (RFC 5322 atext and '.'). */
static int
email_id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 128 || !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    strchr("!#$%&'*+-/=?^_`{|}~.", s[i]) != NULL))
			return 0;
	return i > 0;
}

/* 1: smtp://, 2: smtps://, 0: neither, or no host, or a login in it. */
static int
email_url_kind(const char *url)
{
	const char *host;
	size_t i, hostlen;
	int kind;

	if (strncasecmp(url, "smtp://", 7) == 0) {
		host = url + 7;
		kind = 1;
	} else if (strncasecmp(url, "smtps://", 8) == 0) {
		host = url + 8;
		kind = 2;
	} else
		return 0;
	hostlen = strcspn(host, "/?#");
	if (hostlen == 0 || host[0] == ':' || memchr(host, '@', hostlen))
		return 0;
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f ||
		    i >= EMAIL_URL_MAX)
			return 0;
	return kind;
}

static void
email_release(void *arg)
{
	struct email *e = arg;

	if (e == NULL)
		return;
	free(e->url);
	free(e->from);
	free(e->username);
	if (e->password != NULL) {
		explicit_bzero(e->password, strlen(e->password));
		free(e->password);
	}
	free(e);
}

/* Checks that span options; val[k] and idx[k] as in email_configure(). */
static int
email_check(const char *const *val, const int *idx, enum dutyd_tls *tls,
    struct dutyd_error *err)
{
	int kind;

	if ((kind = email_url_kind(val[OPT_URL])) == 0) {
		email_error(err, idx[OPT_URL], "url must be smtp://host[:port] "
		    "(STARTTLS, usually port 587) or smtps://host[:port] (TLS, "
		    "usually port 465), without spaces; put the login in "
		    "username and password, not in the url");
		return -EINVAL;
	}
	if (!email_addr_ok(val[OPT_FROM])) {
		email_error(err, idx[OPT_FROM], "from must be a plain address "
		    "like duty@example.gov.cn, without a name or <brackets>");
		return -EINVAL;
	}
	if ((val[OPT_USER] == NULL) != (val[OPT_PASS] == NULL)) {
		if (val[OPT_USER] != NULL)
			email_error(err, idx[OPT_USER], "username is given "
			    "without a password: add password, or remove "
			    "username to send without logging in");
		else
			email_error(err, idx[OPT_PASS], "password is given "
			    "without a username: add username, or remove "
			    "password to send without logging in");
		return -EINVAL;
	}
	if (val[OPT_USER] != NULL && (strpbrk(val[OPT_USER], "\r\n") ||
	    strpbrk(val[OPT_PASS], "\r\n"))) {
		email_error(err, idx[strpbrk(val[OPT_USER], "\r\n") ? OPT_USER :
		    OPT_PASS], "username and password must be on one line");
		return -EINVAL;
	}
	*tls = kind == 1 ? DUTYD_TLS_REQUIRED : DUTYD_TLS_DEFAULT;
	if (val[OPT_STARTTLS] == NULL ||
	    strcmp(val[OPT_STARTTLS], "required") == 0)
		return 0;
	if (strcmp(val[OPT_STARTTLS], "none") != 0) {
		email_error(err, idx[OPT_STARTTLS], "starttls must be required "
		    "(the default: never send in clear) or none (a relay "
		    "without TLS on a trusted network), not '%s'",
		    val[OPT_STARTTLS]);
		return -EINVAL;
	}
	if (kind == 2) {
		email_error(err, idx[OPT_STARTTLS], "starttls: none does not "
		    "apply to smtps://, which is TLS from the first byte: "
		    "remove starttls, or use smtp:// for a relay without TLS");
		return -EINVAL;
	}
	if (val[OPT_PASS] != NULL) {
		/* AUTH PLAIN over a plain connection gives the password away. */
		email_error(err, idx[OPT_STARTTLS], "starttls: none would send "
		    "the password in clear text: use starttls: required or "
		    "smtps://, or a relay that needs no login");
		return -EINVAL;
	}
	*tls = DUTYD_TLS_DEFAULT;
	return 0;
}

static int
email_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N] = { NULL };
	int idx[OPT_N] = { -1, -1, -1, -1, -1 };
	enum dutyd_tls tls = DUTYD_TLS_DEFAULT;
	struct email *e;
	size_t i, k;
	int r;

	*state = NULL;
	for (i = 0; i < nopts; i++) {
		const char *key = opts[i].key, *v = opts[i].value;

		for (k = 0; k < OPT_N; k++)
			if (key != NULL && strcmp(key, email_keys[k]) == 0)
				break;
		if (k == OPT_N) {
			email_error(err, (int)i, "unknown option '%s': the email "
			    "channel knows url, from, username, password and "
			    "starttls", key ? key : "(null)");
			return -EINVAL;
		}
		if (val[k] != NULL) {
			email_error(err, (int)i, "%s is given twice: keep one",
			    key);
			return -EINVAL;
		}
		if (v == NULL || v[0] == '\0') {
			email_error(err, (int)i, "%s is empty: set it, or "
			    "remove the line", key);
			return -EINVAL;
		}
		val[k] = v;
		idx[k] = (int)i;
	}
	if (val[OPT_URL] == NULL || val[OPT_FROM] == NULL) {
		email_error(err, -1, "the email channel needs %s: url (the "
		    "relay, e.g. smtp://mail.example.gov.cn:587) and from (the "
		    "sender address)", val[OPT_URL] == NULL ?
		    (val[OPT_FROM] == NULL ? "url and from" : "url") : "from");
		return -EINVAL;
	}
	if ((r = email_check(val, idx, &tls, err)) < 0)
		return r;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->url = strdup(val[OPT_URL])) == NULL ||
	    (e->from = strdup(val[OPT_FROM])) == NULL ||
	    (val[OPT_USER] != NULL &&
	    ((e->username = strdup(val[OPT_USER])) == NULL ||
	    (e->password = strdup(val[OPT_PASS])) == NULL))) {
		email_release(e);
		email_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	e->domain = strrchr(e->from, '@') + 1;
	e->tls = tls;
	*state = e;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
email_utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int
email_utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i, l;

	for (i = 0; i < n; i += l)
		if ((l = email_utf8_seq(u + i, n - i)) == 0)
			return 0;
	return 1;
}

/* "Date: Sat, 28 Nov 2026 08:40:35 +0000": English names whatever the locale. */
static int
email_date(FILE *f, int64_t now_ms)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return -EINVAL;
	fprintf(f, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/*
 * The title as RFC 2047 encoded-words, each holding whole characters, one
 * per folded line.  Control characters become spaces: the subject is one
 * line.
 */
static int
email_subject(FILE *f, const char *title)
{
	const unsigned char *s = (const unsigned char *)title;
	unsigned char chunk[EMAIL_WORD_BYTES];
	char b64[4 * EMAIL_WORD_BYTES / 3 + 4];
	size_t len = strlen(title), i = 0, n, l, max = EMAIL_WORD_FIRST, j;

	if (!email_utf8_ok(title))
		return -EINVAL;
	fputs("Subject:", f);
	while (i < len) {
		for (n = 0; i + n < len; n += l) {
			l = email_utf8_seq(s + i + n, len - i - n);
			if (n + l > max)
				break;
		}
		for (j = 0; j < n; j++)
			chunk[j] = (s[i + j] < 0x20 || s[i + j] == 0x7f) ?
			    ' ' : s[i + j];
		EVP_EncodeBlock((unsigned char *)b64, chunk, (int)n);
		fprintf(f, "%s=?UTF-8?B?%s?=", i ? "\r\n " : " ", b64);
		i += n;
		max = EMAIL_WORD_BYTES;
	}
	fputs("\r\n", f);
	return 0;
}

/* MIME text is base64 of its canonical form, CRLF line ends (RFC 2045 6.8). */
static char *
email_canonical(const char *text, const char *url, size_t *outlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	const char *p;
	int bad;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	for (p = text; *p != '\0'; p++) {
		if (*p == '\r') {
			fputs("\r\n", f);
			if (p[1] == '\n')
				p++;
		} else if (*p == '\n')
			fputs("\r\n", f);
		else
			fputc(*p, f);
	}
	/* Templates usually carry {link} already: once is enough. */
	if (url != NULL && url[0] != '\0' && strstr(text, url) == NULL)
		fprintf(f, "\r\n\r\n%s", url);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	*outlen = len;
	return buf;
}

static int
email_body(FILE *f, const struct dutyd_message *msg)
{
	char line[4 * EMAIL_B64_LINE / 3 + 4], *text;
	size_t len, i, n;

	if ((text = email_canonical(msg->text, msg->url, &len)) == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i += n) {
		n = len - i < EMAIL_B64_LINE ? len - i : EMAIL_B64_LINE;
		EVP_EncodeBlock((unsigned char *)line,
		    (const unsigned char *)text + i, (int)n);
		fprintf(f, "%s\r\n", line);
	}
	free(text);
	return 0;
}

static int
email_message(const struct email *e, const struct dutyd_message *msg,
    char **out, size_t *outlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, i;
	int r, bad;

	*out = NULL;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return -ENOMEM;
	if ((r = email_date(f, msg->now_ms)) == 0) {
		fprintf(f, "From: %s\r\nTo: ", e->from);
		for (i = 0; i < msg->nrecipients; i++)
			fprintf(f, "%s%s", i ? ",\r\n " : "",
			    msg->recipients[i].to);
		fputs("\r\n", f);
		r = email_subject(f, msg->title);
	}
	if (r == 0) {
		fprintf(f, "Message-ID: <%s.%lld@%s>\r\n"
		    "MIME-Version: 1.0\r\n"
		    "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "X-Dutyd-Delivery: %s\r\n"
		    "\r\n", msg->delivery_id, (long long)msg->now_ms,
		    e->domain, msg->delivery_id);
		r = email_body(f, msg);
	}
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return r < 0 ? r : -ENOMEM;
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int
email_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct email *e = arg;
	size_t i;

	if (msg->delivery_id == NULL || !email_id_ok(msg->delivery_id) ||
	    msg->title == NULL || msg->text == NULL ||
	    !email_utf8_ok(msg->text) ||
	    (msg->url != NULL && strpbrk(msg->url, "\r\n") != NULL) ||
	    msg->recipients == NULL || msg->nrecipients == 0)
		return -EINVAL;
	if (msg->nrecipients > DUTYD_MAX_RCPT)
		return -E2BIG;
	/* Every address goes into To: and RCPT TO: check them all first. */
	for (i = 0; i < msg->nrecipients; i++)
		if (msg->recipients[i].to == NULL ||
		    !email_addr_ok(msg->recipients[i].to))
			return -EINVAL;
	req->tls = e->tls;
	if ((req->url = strdup(e->url)) == NULL ||
	    asprintf(&req->mail_from, "<%s>", e->from) == -1) {
		req->mail_from = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < msg->nrecipients; i++) {
		if (asprintf(&req->mail_rcpt[i], "<%s>",
		    msg->recipients[i].to) == -1) {
			req->mail_rcpt[i] = NULL;
			return -ENOMEM;
		}
		req->nrcpt++;
	}
	if (e->username != NULL &&
	    ((req->username = strdup(e->username)) == NULL ||
	    (req->password = strdup(e->password)) == NULL))
		return -ENOMEM;
	return email_message(e, msg, &req->body, &req->body_len);
}

/*
 * Quote at most EMAIL_QUOTE bytes for the audit log, which is JSON: never
 * cut a character in half; bytes that are not UTF-8 become '?', control
 * characters ' '.
 */
static void
email_quote(char *dst, size_t dstlen, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = email_utf8_seq(s + i, len - i);
		if (i + (n ? n : 1) > EMAIL_QUOTE)
			break;
		if (n == 0) {
			dst[o++] = '?';
			i++;
		} else if (n == 1) {
			dst[o++] = (s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
			i++;
		} else {
			memcpy(dst + o, s + i, n);
			o += n;
			i += n;
		}
	}
	dst[o] = '\0';
}

/*
 * The daemon passes the last SMTP reply code as status.  5xx is the server
 * refusing for good (550 no such mailbox, 535 wrong login, 554 rejected);
 * 4xx asks to come back later.  A 2xx with an error is a transfer that broke
 * after a good reply (or STARTTLS refused): not delivered.
 */
static int
email_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char why[(DUTYD_ERROR_MAX - 16) / 2] = "", reply[(DUTYD_ERROR_MAX - 16) / 2] = "";

	res->retry_after_ms = 0;
	if (resp->error != NULL)
		email_quote(why, sizeof(why), resp->error, strlen(resp->error));
	if (resp->body != NULL && resp->body_len > 0)
		email_quote(reply, sizeof(reply), resp->body, resp->body_len);
	if (resp->status >= 200 && resp->status <= 299 && resp->error == NULL)
		res->outcome = DUTYD_DELIVERED;
	else if (resp->status >= 500 && resp->status <= 599)
		res->outcome = DUTYD_FAILED;
	else
		res->outcome = DUTYD_RETRY;
	if (resp->status == 0)
		snprintf(res->detail, sizeof(res->detail), "%s",
		    why[0] ? why : "no response");
	else
		snprintf(res->detail, sizeof(res->detail), "SMTP %ld%s%s%s%s",
		    resp->status % 1000, why[0] ? ": " : "", why,
		    reply[0] ? ": " : "", reply);
	return 0;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "email",
	.description = "mail through an SMTP relay (STARTTLS or SMTPS)",
	.configure = email_configure,
	.release = email_release,
	.build = email_build,
	.parse = email_parse,
	.flags = 0,
	.rate_per_min = 0,
};
