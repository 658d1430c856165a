/*
 * dingtalk: a DingTalk custom group robot (自定义机器人).  One markdown message
 * per request; the people it is for are @-mentioned by mobile number.
 *
 * Options: url (required: the robot's webhook address with access_token=),
 * secret (optional: the robot's signing secret, "SEC...").  With a secret the
 * URL gets &timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key=secret,
 * msg=timestamp "\n" secret)))>; DingTalk refuses a timestamp more than an
 * hour off, so the host clock matters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "plugin.h"

#define DINGTALK_URL_MAX	2048
/* No documented limit found: this keeps a runaway template well inside any. */
#define DINGTALK_TEXT_MAX	16000
#define DINGTALK_QUOTE_BODY	100	/* response bytes quoted in a detail */
#define DINGTALK_QUOTE_MSG	120	/* vendor errmsg bytes quoted in a detail */
#define DINGTALK_RATE_WAIT	60000	/* the limit is per minute */

struct dingtalk {
	char		*url;
	char		*secret;
	EVP_MAC_CTX	*hmac;	/* keyed once with the secret */
};

/*
 * errcode → outcome.  Sources: DingTalk's custom robot documentation and the
 * replies users report.  Codes not listed are retried with backoff.
 */
static const struct dingtalk_code {
	long long	 code;
	enum dutyd_outcome outcome;
	int64_t		 wait_ms;
	const char	*hint;
} dingtalk_codes[] = {
	{ 0, DUTYD_DELIVERED, 0, NULL },
	/* send too fast: 130101 in older replies, 410100 发送速度太快而限流 */
	{ 130101, DUTYD_RETRY, DINGTALK_RATE_WAIT, NULL },
	{ 410100, DUTYD_RETRY, DINGTALK_RATE_WAIT, NULL },
	/* token is not exist */
	{ 300001, DUTYD_FAILED, 0, "check access_token in url" },
	{ 300005, DUTYD_FAILED, 0, "check access_token in url" },
	/* keywords not in content, sign not match, invalid timestamp, ... */
	{ 310000, DUTYD_FAILED, 0, "check the robot's security settings "
	    "(keyword, secret, IP list) and the host clock" },
	{ 400013, DUTYD_FAILED, 0, "the group was disbanded" },
	{ 400101, DUTYD_FAILED, 0, "check access_token in url" },
	{ 400102, DUTYD_FAILED, 0, "the robot is disabled: enable it in the group" },
	{ 400106, DUTYD_FAILED, 0, "the robot no longer exists: add it again" },
};

static void
dingtalk_error(struct dutyd_error *err, int option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dingtalk_error(struct dutyd_error *err, int option, const char *fmt, ...)
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
dingtalk_url_ok(const char *url)
{
	const char *host;
	size_t i;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return 0;
	if (*host == '\0' || *host == '/')
		return 0;
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f ||
		    i >= DINGTALK_URL_MAX)
			return 0;
	return 1;
}

static void
dingtalk_release(void *arg)
{
	struct dingtalk *d = arg;

	if (d == NULL)
		return;
	free(d->url);
	EVP_MAC_CTX_free(d->hmac);
	if (d->secret != NULL) {
		explicit_bzero(d->secret, strlen(d->secret));
		free(d->secret);
	}
	free(d);
}

static int
dingtalk_hmac_init(struct dingtalk *d)
{
	EVP_MAC	*mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	int	 rc = -EIO;

	if (mac != NULL && (d->hmac = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(d->hmac, (const unsigned char *)d->secret,
	    strlen(d->secret), params) == 1)
		rc = 0;
	EVP_MAC_free(mac);
	return rc;
}

static int
dingtalk_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	static const char *const keys[] = { "url", "secret" };
	const char *val[2] = { NULL, NULL };
	int pos[2] = { -1, -1 };
	struct dingtalk *d;
	size_t i, k;

	*state = NULL;
	for (i = 0; i < nopts; i++) {
		for (k = 0; k < 2; k++)
			if (opts[i].key != NULL && strcmp(opts[i].key, keys[k]) == 0)
				break;
		if (k == 2) {
			dingtalk_error(err, (int)i, "unknown option '%s': the "
			    "dingtalk channel knows url and secret",
			    opts[i].key ? opts[i].key : "(null)");
			return -EINVAL;
		}
		if (val[k] != NULL) {
			dingtalk_error(err, (int)i, "%s is given twice: keep "
			    "one", keys[k]);
			return -EINVAL;
		}
		if (opts[i].value == NULL || opts[i].value[0] == '\0') {
			dingtalk_error(err, (int)i, "%s is empty: %s", keys[k],
			    k == 0 ? "copy the robot's webhook address from "
			    "the group's robot settings" : "set it to the "
			    "robot's signing secret (SEC...), or remove it if "
			    "the robot does not sign");
			return -EINVAL;
		}
		val[k] = opts[i].value;
		pos[k] = (int)i;
	}
	if (val[0] == NULL) {
		dingtalk_error(err, -1, "the dingtalk channel needs a url: the "
		    "robot's webhook address, https://oapi.dingtalk.com/robot/"
		    "send?access_token=...");
		return -EINVAL;
	}
	if (!dingtalk_url_ok(val[0])) {
		dingtalk_error(err, pos[0], "url must be an http:// or "
		    "https:// address with a host and no spaces, e.g. "
		    "https://oapi.dingtalk.com/robot/send?access_token=...");
		return -EINVAL;
	}
	if (strstr(val[0], "access_token=") == NULL) {
		dingtalk_error(err, pos[0], "url has no access_token=: copy "
		    "the whole webhook address from the robot's settings in "
		    "the DingTalk group");
		return -EINVAL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->url = strdup(val[0])) == NULL ||
	    (val[1] != NULL && (d->secret = strdup(val[1])) == NULL)) {
		dingtalk_release(d);
		dingtalk_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	if (d->secret != NULL && dingtalk_hmac_init(d) != 0) {
		dingtalk_release(d);
		dingtalk_error(err, -1, "cannot set up HMAC-SHA256 (OpenSSL)");
		return -EIO;
	}
	*state = d;
	return 0;
}

/* CR or LF in a header value would let it add headers of its own. */
static int
dingtalk_header(struct dutyd_request *req, const char *name, const char *value)
{
	char *h;

	if (value == NULL || strpbrk(value, "\r\n") != NULL)
		return -EINVAL;
	if (req->nheaders >= DUTYD_MAX_HEADERS)
		return -E2BIG;
	if (asprintf(&h, "%s: %s", name, value) == -1)
		return -ENOMEM;
	req->headers[req->nheaders++] = h;
	return 0;
}

/* The webhook URL with &timestamp=&sign= appended, or a copy of it unsigned. */
static int
dingtalk_url(const struct dingtalk *d, int64_t now_ms, char **out)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	char ts[24], *esc;
	size_t mdlen = 0;
	EVP_MAC_CTX *c;
	int ok;

	if (d->secret == NULL)
		return (*out = strdup(d->url)) == NULL ? -ENOMEM : 0;
	snprintf(ts, sizeof(ts), "%lld", (long long)now_ms);
	if ((c = EVP_MAC_CTX_dup(d->hmac)) == NULL)
		return -ENOMEM;
	ok = EVP_MAC_update(c, (const unsigned char *)ts, strlen(ts)) == 1 &&
	    EVP_MAC_update(c, (const unsigned char *)"\n", 1) == 1 &&
	    EVP_MAC_update(c, (const unsigned char *)d->secret,
	    strlen(d->secret)) == 1 &&
	    EVP_MAC_final(c, md, &mdlen, sizeof(md)) == 1;
	EVP_MAC_CTX_free(c);
	if (!ok)
		return -EIO;
	EVP_EncodeBlock(b64, md, (int)mdlen);
	/* base64 has + / =, which a query string would misread. */
	if ((esc = curl_easy_escape(NULL, (const char *)b64, 0)) == NULL)
		return -ENOMEM;
	ok = asprintf(out, "%s%ctimestamp=%s&sign=%s", d->url,
	    strchr(d->url, '?') ? '&' : '?', ts, esc) != -1;
	curl_free(esc);
	if (!ok) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Recipient i's mobile, unless empty or already mentioned. */
static const char *
dingtalk_mention(const struct dutyd_message *msg, size_t i)
{
	const char *to = msg->recipients[i].to;
	size_t j;

	if (to == NULL || to[0] == '\0')
		return NULL;
	for (j = 0; j < i; j++)
		if (msg->recipients[j].to != NULL &&
		    strcmp(msg->recipients[j].to, to) == 0)
			return NULL;
	return to;
}

/* Longest prefix of s (len bytes) of at most max bytes that ends on a character boundary. */
static size_t
dingtalk_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * The markdown text: title as a heading, the message, the link, and
 * "@mobile" for each mention, since DingTalk highlights and notifies a
 * mention only when the number also appears in the text.  The message is
 * shortened, never the link or the mentions.
 */
static int
dingtalk_text(const struct dutyd_message *msg, const char *title, char **out)
{
	char *tail = NULL, *buf = NULL;
	size_t taillen = 0, buflen = 0, len, cut, i;
	const char *to;
	FILE *f;
	int sep = 0, bad;

	*out = NULL;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (msg->url != NULL && msg->url[0] != '\0' &&
	    strstr(msg->text, msg->url) == NULL)
		fprintf(f, "\n\n[%s](%s)", msg->url, msg->url);
	for (i = 0; i < msg->nrecipients; i++)
		if ((to = dingtalk_mention(msg, i)) != NULL)
			fprintf(f, "%s@%s", sep++ ? " " : "\n\n", to);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(tail);
		return -ENOMEM;
	}
	if ((f = open_memstream(&buf, &buflen)) == NULL) {
		free(tail);
		return -ENOMEM;
	}
	if (title[0] != '\0')
		fprintf(f, "#### %s\n\n", title);
	len = strlen(msg->text);
	cut = dingtalk_cut(msg->text, len, DINGTALK_TEXT_MAX > taillen + 3 ?
	    DINGTALK_TEXT_MAX - taillen - 3 : 0);
	fwrite(msg->text, 1, cut, f);
	if (cut < len)
		fputs("…", f);
	fputs(tail, f);
	free(tail);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

static int
dingtalk_body(const struct dutyd_message *msg, char **out, size_t *outlen)
{
	const char *title = msg->title != NULL ? msg->title : "";
	json_t *mobiles, *body;
	const char *to;
	char *text;
	size_t i;
	int r;

	if ((r = dingtalk_text(msg, title, &text)) < 0)
		return r;
	if ((mobiles = json_array()) == NULL) {
		free(text);
		return -ENOMEM;
	}
	for (i = 0; i < msg->nrecipients; i++)
		if ((to = dingtalk_mention(msg, i)) != NULL &&
		    json_array_append_new(mobiles, json_string(to)) != 0) {
			json_decref(mobiles);
			free(text);
			return -EINVAL;	/* not UTF-8, or out of memory */
		}
	/* markdown.title is what the chat list and the notification show. */
	body = json_pack("{s:s, s:{s:s, s:s}, s:{s:o, s:b}}",
	    "msgtype", "markdown",
	    "markdown", "title", title[0] != '\0' ? title : "dutyd",
	    "text", text,
	    "at", "atMobiles", mobiles, "isAtAll", 0);
	free(text);
	if (body == NULL)
		return -EINVAL;	/* a string that is not UTF-8 */
	*out = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (*out == NULL)
		return -ENOMEM;
	*outlen = strlen(*out);
	return 0;
}

static int
dingtalk_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct dingtalk *d = arg;
	int r;

	if (msg->text == NULL || msg->recipients == NULL)
		return -EINVAL;
	snprintf(req->method, sizeof(req->method), "POST");
	if ((r = dingtalk_url(d, msg->now_ms, &req->url)) < 0 ||
	    (r = dingtalk_body(msg, &req->body, &req->body_len)) < 0 ||
	    (r = dingtalk_header(req, "Content-Type", "application/json")) < 0 ||
	    (r = dingtalk_header(req, "User-Agent", "dutyd")) < 0 ||
	    (r = dingtalk_header(req, "X-Dutyd-Delivery", msg->delivery_id)) < 0)
		return r;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
dingtalk_utf8_seq(const unsigned char *s, size_t n)
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
 * Quote at most max bytes of peer text for the audit log, which is JSON:
 * never cut a character in half, and show bytes that are not UTF-8 or
 * control characters as '?' and ' '.
 */
static void
dingtalk_quote(char *dst, size_t dstlen, const char *src, size_t len,
    size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = dingtalk_utf8_seq(s + i, len - i);
		if (i + (n ? n : 1) > max)
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

/* The reply's errcode and errmsg; NULL if it is not DingTalk's JSON. */
static json_t *
dingtalk_reply(const struct dutyd_response *resp, long long *code,
    const char **msg)
{
	json_t *root, *c;

	if (resp->body == NULL || resp->body_len == 0 ||
	    (root = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return NULL;
	c = json_object_get(root, "errcode");
	if (!json_is_integer(c)) {
		json_decref(root);
		return NULL;
	}
	*code = json_integer_value(c);
	*msg = json_string_value(json_object_get(root, "errmsg"));
	if (*msg == NULL)
		*msg = "";
	return root;
}

static const struct dingtalk_code *
dingtalk_lookup(long long code)
{
	static const struct dingtalk_code other = { 0, DUTYD_RETRY, 0, NULL };
	size_t i;

	for (i = 0; i < sizeof(dingtalk_codes) / sizeof(dingtalk_codes[0]); i++)
		if (dingtalk_codes[i].code == code)
			return &dingtalk_codes[i];
	return &other;
}

static void
dingtalk_vendor(struct dutyd_result *res, const struct dingtalk_code *c,
    long long code, const char *msg)
{
	char quote[DINGTALK_QUOTE_MSG + 8];

	dingtalk_quote(quote, sizeof(quote), msg, strlen(msg),
	    DINGTALK_QUOTE_MSG);
	res->outcome = c->outcome;
	res->retry_after_ms = c->wait_ms;
	snprintf(res->detail, sizeof(res->detail), "errcode %lld: %s%s%s%s",
	    code, quote, c->hint ? " (" : "", c->hint ? c->hint : "",
	    c->hint ? ")" : "");
}

static int
dingtalk_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[DINGTALK_QUOTE_BODY + 8];
	const struct dingtalk_code *c;
	const char *msg = "";
	long long code = 0;
	json_t *reply;

	res->retry_after_ms = 0;
	if (resp->status == 0) {
		res->outcome = DUTYD_RETRY;
		snprintf(res->detail, sizeof(res->detail), "%s",
		    resp->error ? resp->error : "no response");
		return 0;
	}
	dingtalk_quote(quote, sizeof(quote), resp->body ? resp->body : "",
	    resp->body ? resp->body_len : 0, DINGTALK_QUOTE_BODY);
	reply = dingtalk_reply(resp, &code, &msg);
	c = reply ? dingtalk_lookup(code) : NULL;
	if (resp->status >= 200 && resp->status <= 299 && c != NULL)
		dingtalk_vendor(res, c, code, msg);
	else if (resp->status >= 200 && resp->status <= 299) {
		res->outcome = DUTYD_RETRY;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld but not "
		    "a DingTalk reply: %s", resp->status, quote);
	} else if (c != NULL && c->wait_ms > 0) {
		/* Rate limited, whatever the status says. */
		dingtalk_vendor(res, c, code, msg);
		if (resp->retry_after_ms > 0)
			res->retry_after_ms = resp->retry_after_ms;
	} else {
		res->outcome = resp->status == 429 || resp->status >= 500 ?
		    DUTYD_RETRY : DUTYD_FAILED;
		if (resp->status == 429)
			res->retry_after_ms = resp->retry_after_ms > 0 ?
			    resp->retry_after_ms : DINGTALK_RATE_WAIT;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s",
		    resp->status, quote[0] ? ": " : "", quote);
	}
	json_decref(reply);
	return 0;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "dingtalk",
	.description = "DingTalk custom group robot (自定义机器人): markdown, "
	    "@-mentions by mobile, optional signing secret",
	.configure = dingtalk_configure,
	.release = dingtalk_release,
	.build = dingtalk_build,
	.parse = dingtalk_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 20,
};
