/*
 * twilio_sms: send the text as an SMS through Twilio's Messages API.
 *
 *   POST <url>/2010-04-01/Accounts/<account_sid>/Messages.json
 *   Content-Type: application/x-www-form-urlencoded
 *   To=<recipient>&From=<from>&Body=<text>
 *
 * with HTTP basic auth account_sid:auth_token (the daemon hands both to
 * libcurl, so the token never appears in a header we build).
 *
 * Options: account_sid, auth_token, from (required), url (optional base,
 * default https://api.twilio.com).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "plugin.h"

#define TWILIO_DEFAULT_URL	"https://api.twilio.com"
#define TWILIO_URL_MAX		2048
#define TWILIO_QUOTE		160	/* bytes of a vendor message quoted in a detail */
#define TWILIO_RETRY_MS		60000	/* when Twilio throttles without a Retry-After */

struct twilio {
	char	*url;		/* the whole Messages.json URL */
	char	*sid;
	char	*token;
	char	*from;		/* percent-encoded */
};

enum { OPT_SID, OPT_TOKEN, OPT_FROM, OPT_URL, OPT_N };
static const char *const twilio_keys[OPT_N] = {
	"account_sid", "auth_token", "from", "url",
};

/*
 * Error codes that mean this message will never go out as configured: bad
 * credentials, a number that is not a mobile, a recipient who opted out.
 * https://www.twilio.com/docs/api/errors
 */
static const long twilio_permanent[] = {
	20003,	/* authentication failed: wrong account_sid or auth_token */
	21211,	/* invalid 'To' phone number */
	21212,	/* invalid 'From' phone number */
	21408,	/* sending to this region is not enabled on the account */
	21606,	/* 'From' is not an SMS-capable number of this account */
	21610,	/* the recipient replied STOP */
	21612,	/* 'To' cannot be reached from 'From' by SMS */
	21614,	/* 'To' is not a mobile number */
	21660,	/* 'From' does not belong to this account */
};

static void
twilio_error(struct dutyd_error *err, int option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
twilio_error(struct dutyd_error *err, int option, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->option = option;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static int
twilio_printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || i >= max)
			return 0;
	return i > 0;
}

static int
twilio_url_ok(const char *url)
{
	const char *host;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return 0;
	if (*host == '\0' || *host == '/')
		return 0;
	return twilio_printable(url, TWILIO_URL_MAX);
}

/* An Account SID is "AC" and 32 hex digits; checking catches a pasted token. */
static int
twilio_sid_ok(const char *sid)
{
	size_t i;

	if (strncmp(sid, "AC", 2) != 0 || strlen(sid) != 34)
		return 0;
	for (i = 2; sid[i] != '\0'; i++)
		if (!((sid[i] >= '0' && sid[i] <= '9') ||
		    (sid[i] >= 'a' && sid[i] <= 'f') ||
		    (sid[i] >= 'A' && sid[i] <= 'F')))
			return 0;
	return 1;
}

static char *
twilio_escape(const char *s)
{
	size_t n = strlen(s);

	if (n > INT_MAX)
		return NULL;
	return curl_easy_escape(NULL, s, (int)n);
}

static void
twilio_release(void *arg)
{
	struct twilio *t = arg;

	if (t == NULL)
		return;
	free(t->url);
	free(t->sid);
	free(t->from);
	if (t->token != NULL) {
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
	}
	free(t);
}

static int
twilio_state(const char *const *val, struct twilio **out)
{
	struct twilio *t;
	const char *base = val[OPT_URL] ? val[OPT_URL] : TWILIO_DEFAULT_URL;
	size_t blen = strlen(base);
	char *from;

	*out = NULL;
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	if (asprintf(&t->url, "%.*s/2010-04-01/Accounts/%s/Messages.json",
	    (int)blen, base, val[OPT_SID]) == -1) {
		t->url = NULL;
		twilio_release(t);
		return -ENOMEM;
	}
	/* curl_free() is not free(): keep only malloc()ed memory in the state. */
	from = twilio_escape(val[OPT_FROM]);
	if (from != NULL)
		t->from = strdup(from);
	curl_free(from);
	if (t->from == NULL || (t->sid = strdup(val[OPT_SID])) == NULL ||
	    (t->token = strdup(val[OPT_TOKEN])) == NULL) {
		twilio_release(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

static int
twilio_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N] = { NULL };
	int idx[OPT_N] = { -1, -1, -1, -1 };
	struct twilio *t;
	char missing[128] = "";
	size_t i, k;
	int r;

	*state = NULL;
	for (i = 0; i < nopts; i++) {
		const char *key = opts[i].key, *v = opts[i].value;

		for (k = 0; k < OPT_N; k++)
			if (key != NULL && strcmp(key, twilio_keys[k]) == 0)
				break;
		if (k == OPT_N) {
			twilio_error(err, (int)i, "unknown option '%s': the "
			    "twilio_sms channel knows account_sid, auth_token, "
			    "from and url", key ? key : "(null)");
			return -EINVAL;
		}
		if (val[k] != NULL) {
			twilio_error(err, (int)i, "%s is given twice: keep one",
			    key);
			return -EINVAL;
		}
		if (v == NULL || v[0] == '\0') {
			twilio_error(err, (int)i, "%s is empty: copy it from "
			    "the Twilio console, or remove the line", key);
			return -EINVAL;
		}
		val[k] = v;
		idx[k] = (int)i;
	}
	for (k = 0; k < OPT_URL; k++)
		if (val[k] == NULL)
			snprintf(missing + strlen(missing),
			    sizeof(missing) - strlen(missing), "%s%s",
			    missing[0] ? ", " : "", twilio_keys[k]);
	if (missing[0] != '\0') {
		twilio_error(err, -1, "the twilio_sms channel needs "
		    "account_sid, auth_token and from (the sending number, "
		    "e.g. +15005550006); missing: %s", missing);
		return -EINVAL;
	}
	if (!twilio_sid_ok(val[OPT_SID])) {
		twilio_error(err, idx[OPT_SID], "account_sid must be the "
		    "Account SID from the Twilio console: AC followed by 32 "
		    "hex digits (not the auth token)");
		return -EINVAL;
	}
	if (!twilio_printable(val[OPT_TOKEN], 256)) {
		twilio_error(err, idx[OPT_TOKEN], "auth_token must be one word "
		    "without spaces: copy it from the Twilio console");
		return -EINVAL;
	}
	if (val[OPT_URL] != NULL && !twilio_url_ok(val[OPT_URL])) {
		twilio_error(err, idx[OPT_URL], "url must be an http:// or "
		    "https:// address with a host and no spaces; leave it out "
		    "to use %s", TWILIO_DEFAULT_URL);
		return -EINVAL;
	}
	if ((r = twilio_state(val, &t)) < 0) {
		twilio_error(err, -1, "out of memory");
		return r;
	}
	*state = t;
	return 0;
}

static int
twilio_header(struct dutyd_request *req, const char *name, const char *value)
{
	char *h;

	if (req->nheaders >= DUTYD_MAX_HEADERS)
		return -E2BIG;
	if (asprintf(&h, "%s: %s", name, value) == -1)
		return -ENOMEM;
	req->headers[req->nheaders++] = h;
	return 0;
}

static int
twilio_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct twilio *t = arg;
	char *to, *body;
	int r, n;

	if (msg->text == NULL || msg->recipient.to == NULL ||
	    msg->recipient.to[0] == '\0')
		return -EINVAL;
	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(t->url)) == NULL ||
	    (req->username = strdup(t->sid)) == NULL ||
	    (req->password = strdup(t->token)) == NULL)
		return -ENOMEM;
	to = twilio_escape(msg->recipient.to);
	body = twilio_escape(msg->text);
	n = -1;
	if (to != NULL && body != NULL)
		n = asprintf(&req->body, "To=%s&From=%s&Body=%s", to, t->from,
		    body);
	curl_free(to);
	curl_free(body);
	if (n == -1) {
		req->body = NULL;
		return -ENOMEM;
	}
	req->body_len = (size_t)n;
	if ((r = twilio_header(req, "Content-Type",
	    "application/x-www-form-urlencoded")) < 0 ||
	    (r = twilio_header(req, "Accept", "application/json")) < 0 ||
	    (r = twilio_header(req, "User-Agent", "dutyd")) < 0)
		return r;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
twilio_utf8_seq(const unsigned char *s, size_t n)
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

/*
 * Quote at most TWILIO_QUOTE bytes for the audit log, which is JSON: never
 * cut a character in half; bytes that are not UTF-8 become '?', control
 * characters ' '.
 */
static void
twilio_quote(char *dst, size_t dstlen, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = twilio_utf8_seq(s + i, len - i);
		if (i + (n ? n : 1) > TWILIO_QUOTE)
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

static int
twilio_is_permanent(long code)
{
	size_t i;

	for (i = 0; i < sizeof(twilio_permanent) / sizeof(twilio_permanent[0]);
	    i++)
		if (twilio_permanent[i] == code)
			return 1;
	return 0;
}

static int
twilio_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[TWILIO_QUOTE + 8] = "";
	json_t *o = NULL;
	const char *s;
	long code = 0;

	res->outcome = DUTYD_RETRY;
	res->retry_after_ms = 0;
	if (resp->status == 0) {
		snprintf(res->detail, sizeof(res->detail), "%s",
		    resp->error ? resp->error : "no response");
		return 0;
	}
	if (resp->body != NULL && resp->body_len > 0)
		o = json_loadb(resp->body, resp->body_len, 0, NULL);
	if (json_is_object(o)) {
		code = (long)json_integer_value(json_object_get(o, "code"));
		s = json_string_value(json_object_get(o,
		    resp->status >= 200 && resp->status <= 299 ? "sid" :
		    "message"));
		if (s != NULL)
			twilio_quote(quote, sizeof(quote), s, strlen(s));
	} else if (resp->body != NULL)
		twilio_quote(quote, sizeof(quote), resp->body, resp->body_len);
	json_decref(o);

	if (resp->status >= 200 && resp->status <= 299) {
		res->outcome = DUTYD_DELIVERED;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s",
		    resp->status, quote[0] ? ": sid " : "", quote);
		return 0;
	}
	if (code != 0)
		snprintf(res->detail, sizeof(res->detail),
		    "HTTP %ld: Twilio error %ld: %s", resp->status, code,
		    quote);
	else
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s",
		    resp->status, quote[0] ? ": " : "", quote);
	if (resp->status == 429 || code == 20429)
		res->retry_after_ms = resp->retry_after_ms > 0 ?
		    resp->retry_after_ms : TWILIO_RETRY_MS;
	else if (resp->status >= 400 && resp->status <= 499 &&
	    (twilio_is_permanent(code) || (code == 0 && resp->status == 401)))
		res->outcome = DUTYD_FAILED;
	return 0;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "twilio_sms",
	.description = "SMS through Twilio's Messages API",
	.configure = twilio_configure,
	.release = twilio_release,
	.build = twilio_build,
	.parse = twilio_parse,
	.flags = DUTYD_PLUGIN_SMS,
	.rate_per_min = 0,
};
