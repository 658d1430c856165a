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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin.h"
#include "pluglib.h"

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
#define EMAIL_EMPTY		"set it, or remove the line"
static const struct pluglib_key email_keys[OPT_N] = {
	{ "url", EMAIL_EMPTY, NULL, NULL },
	{ "from", EMAIL_EMPTY, NULL, NULL },
	{ "username", EMAIL_EMPTY, NULL, NULL },
	{ "password", EMAIL_EMPTY, NULL, NULL },
	{ "starttls", EMAIL_EMPTY, NULL, NULL },
};

/*
 * A bare address, local@domain, safe in a header and an SMTP command: no
 * line breaks, brackets, spaces or other characters that would end the
 * address or start another.
 */
static int
email_addr_ok(const char *s)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0')
		return 0;
	return pluglib_printable(s, EMAIL_ADDR_MAX) &&
	    strpbrk(s, "<>()[],;:\"\\") == NULL;
}

/* Characters a Message-ID's left part may hold (RFC 5322 atext and '.'). */
static int
email_id_ok(const char *s)
{
	return pluglib_word(s, 128, "!#$%&'*+-/=?^_`{|}~.");
}

/* The schemes url may have: index 0 is STARTTLS, 1 is TLS from the start. */
static const char *const email_schemes[] = { "smtp", "smtps", NULL };
#define EMAIL_SMTPS	1

static void
email_release(void *arg)
{
	struct email *e = arg;

	if (e == NULL)
		return;
	free(e->url);
	free(e->from);
	free(e->username);
	pluglib_free_secret(e->password);
	free(e);
}

/* Checks that span options; val[k] and idx[k] as in email_configure(). */
static int
email_check(const char *const *val, const int *idx, enum dutyd_tls *tls,
    struct dutyd_error *err)
{
	int kind;

	if ((kind = pluglib_url_option(val[OPT_URL], idx[OPT_URL],
	    email_schemes, 0, "url must be smtp://host[:port] (STARTTLS, "
	    "usually port 587) or smtps://host[:port] (TLS, usually port 465), "
	    "without spaces; put the login in username and password, not in "
	    "the url", err)) < 0)
		return kind;
	if (!email_addr_ok(val[OPT_FROM])) {
		pluglib_error(err, idx[OPT_FROM], "from must be a plain "
		    "address like duty@example.gov.cn, without a name or "
		    "<brackets>");
		return -EINVAL;
	}
	if ((val[OPT_USER] == NULL) != (val[OPT_PASS] == NULL)) {
		if (val[OPT_USER] != NULL)
			pluglib_error(err, idx[OPT_USER], "username is given "
			    "without a password: add password, or remove "
			    "username to send without logging in");
		else
			pluglib_error(err, idx[OPT_PASS], "password is given "
			    "without a username: add username, or remove "
			    "password to send without logging in");
		return -EINVAL;
	}
	if (val[OPT_USER] != NULL && (strpbrk(val[OPT_USER], "\r\n") ||
	    strpbrk(val[OPT_PASS], "\r\n"))) {
		pluglib_error(err, idx[strpbrk(val[OPT_USER], "\r\n") ?
		    OPT_USER : OPT_PASS], "username and password must be on "
		    "one line");
		return -EINVAL;
	}
	*tls = kind == EMAIL_SMTPS ? DUTYD_TLS_DEFAULT : DUTYD_TLS_REQUIRED;
	if (val[OPT_STARTTLS] == NULL ||
	    strcmp(val[OPT_STARTTLS], "required") == 0)
		return 0;
	if (strcmp(val[OPT_STARTTLS], "none") != 0) {
		pluglib_error(err, idx[OPT_STARTTLS], "starttls must be "
		    "required (the default: never send in clear) or none (a "
		    "relay without TLS on a trusted network), not '%s'",
		    val[OPT_STARTTLS]);
		return -EINVAL;
	}
	if (kind == EMAIL_SMTPS) {
		pluglib_error(err, idx[OPT_STARTTLS], "starttls: none does not "
		    "apply to smtps://, which is TLS from the first byte: "
		    "remove starttls, or use smtp:// for a relay without TLS");
		return -EINVAL;
	}
	if (val[OPT_PASS] != NULL) {
		/* AUTH PLAIN over a plain connection gives the password away. */
		pluglib_error(err, idx[OPT_STARTTLS], "starttls: none would "
		    "send the password in clear text: use starttls: required "
		    "or smtps://, or a relay that needs no login");
		return -EINVAL;
	}
	*tls = DUTYD_TLS_DEFAULT;
	return 0;
}

static int
email_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N];
	int idx[OPT_N];
	enum dutyd_tls tls = DUTYD_TLS_DEFAULT;
	struct email *e;
	int r;

	*state = NULL;
	if ((r = pluglib_options("email", email_keys, OPT_N, opts, nopts, val,
	    idx, err)) < 0)
		return r;
	if (val[OPT_URL] == NULL || val[OPT_FROM] == NULL) {
		pluglib_error(err, -1, "the email channel needs %s: url (the "
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
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	e->domain = strrchr(e->from, '@') + 1;
	e->tls = tls;
	*state = e;
	return 0;
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
	unsigned char chunk[EMAIL_WORD_BYTES];
	char b64[PLUGLIB_BASE64_SIZE(EMAIL_WORD_BYTES)];
	size_t len = strlen(title), i = 0, n, max = EMAIL_WORD_FIRST, j;

	if (!pluglib_utf8_ok(title))
		return -EINVAL;
	fputs("Subject:", f);
	while (i < len) {
		n = pluglib_utf8_cut(title + i, len - i, max, SIZE_MAX);
		for (j = 0; j < n; j++)
			chunk[j] = ((unsigned char)title[i + j] < 0x20 ||
			    title[i + j] == 0x7f) ? ' ' : title[i + j];
		if (pluglib_base64(chunk, n, b64, sizeof(b64)) < 0)
			return -ENOBUFS;
		fprintf(f, "%s=?UTF-8?B?%s?=", i ? "\r\n " : " ", b64);
		i += n;
		max = EMAIL_WORD_BYTES;
	}
	fputs("\r\n", f);
	return 0;
}

/* MIME text is base64 of its canonical form, CRLF line ends (RFC 2045 6.8). */
static char *
email_canonical(const struct dutyd_message *msg, size_t *outlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	const char *p;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	for (p = msg->text; *p != '\0'; p++) {
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
	if (pluglib_link_missing(msg))
		fprintf(f, "\r\n\r\n%s", msg->url);
	if (pluglib_memstream_close(f, &buf) < 0)
		return NULL;
	*outlen = len;
	return buf;
}

static int
email_body(FILE *f, const struct dutyd_message *msg)
{
	char line[PLUGLIB_BASE64_SIZE(EMAIL_B64_LINE)], *text;
	size_t len, i, n;
	int r = 0;

	if ((text = email_canonical(msg, &len)) == NULL)
		return -ENOMEM;
	for (i = 0; i < len && r == 0; i += n) {
		n = len - i < EMAIL_B64_LINE ? len - i : EMAIL_B64_LINE;
		if ((r = pluglib_base64(text + i, n, line, sizeof(line))) == 0)
			fprintf(f, "%s\r\n", line);
	}
	free(text);
	return r;
}

static int
email_message(const struct email *e, const struct dutyd_message *msg,
    char **out, size_t *outlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, i;
	int r, closed;

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
		    /* RFC 3834: vacation replies must not come back. */
		    "Auto-Submitted: auto-generated\r\n"
		    "\r\n", msg->delivery_id, (long long)msg->now_ms,
		    e->domain, msg->delivery_id);
		r = email_body(f, msg);
	}
	closed = pluglib_memstream_close(f, &buf);
	if (r == 0)
		r = closed;
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
	    !pluglib_utf8_ok(msg->text) ||
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
		pluglib_quote(why, sizeof(why), resp->error,
		    strlen(resp->error), EMAIL_QUOTE);
	if (resp->body != NULL && resp->body_len > 0)
		pluglib_quote(reply, sizeof(reply), resp->body, resp->body_len,
		    EMAIL_QUOTE);
	if (pluglib_is_2xx(resp->status) && resp->error == NULL)
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

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
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
