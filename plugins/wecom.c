/*
 * wecom: a WeCom group robot (企业微信群机器人).  One text or markdown message
 * per request; the people it is for are mentioned.
 *
 * Options: url (required: the robot's webhook address with key=), msgtype
 * (text, the default, or markdown).  A text message @-mentions by mobile
 * through mentioned_mobile_list; a markdown message cannot (WeCom ignores
 * mentioned_mobile_list there and <@userid> wants a user id, not a mobile),
 * so it names the people in plain text instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "plugin.h"

#define WECOM_URL_MAX		2048
#define WECOM_TEXT_MAX		2048	/* documented limits of text.content, */
#define WECOM_MARKDOWN_MAX	4096	/* and markdown.content, in UTF-8 bytes */
#define WECOM_QUOTE_BODY	100	/* response bytes quoted in a detail */
#define WECOM_QUOTE_MSG		120	/* vendor errmsg bytes quoted in a detail */
#define WECOM_RATE_WAIT		60000	/* the limit is per minute */

struct wecom {
	char		*url;
	int		 markdown;
};

/*
 * errcode → outcome, from WeCom's global error code list.  Codes not listed
 * are retried with backoff.
 */
static const struct wecom_code {
	long long	 code;
	enum dutyd_outcome outcome;
	int64_t		 wait_ms;
	const char	*hint;
} wecom_codes[] = {
	{ 0, DUTYD_DELIVERED, 0, NULL },
	/* api freq out of limit */
	{ 45009, DUTYD_RETRY, WECOM_RATE_WAIT, NULL },
	/* invalid webhook url */
	{ 93000, DUTYD_FAILED, 0, "check key= in url; the robot may have "
	    "been removed from the group" },
};

static void
wecom_error(struct dutyd_error *err, int option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
wecom_error(struct dutyd_error *err, int option, const char *fmt, ...)
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
wecom_url_ok(const char *url)
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
		    i >= WECOM_URL_MAX)
			return 0;
	return 1;
}

static void
wecom_release(void *arg)
{
	struct wecom *w = arg;

	if (w == NULL)
		return;
	free(w->url);
	free(w);
}

static int
wecom_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	static const char *const keys[] = { "url", "msgtype" };
	const char *val[2] = { NULL, NULL };
	int pos[2] = { -1, -1 };
	struct wecom *w;
	size_t i, k;

	*state = NULL;
	for (i = 0; i < nopts; i++) {
		for (k = 0; k < 2; k++)
			if (opts[i].key != NULL && strcmp(opts[i].key, keys[k]) == 0)
				break;
		if (k == 2) {
			wecom_error(err, (int)i, "unknown option '%s': the "
			    "wecom channel knows url and msgtype",
			    opts[i].key ? opts[i].key : "(null)");
			return -EINVAL;
		}
		if (val[k] != NULL) {
			wecom_error(err, (int)i, "%s is given twice: keep one",
			    keys[k]);
			return -EINVAL;
		}
		if (opts[i].value == NULL || opts[i].value[0] == '\0') {
			wecom_error(err, (int)i, "%s is empty: %s", keys[k],
			    k == 0 ? "copy the robot's webhook address from "
			    "the group's robot settings" : "set it to text or "
			    "markdown, or remove it for text");
			return -EINVAL;
		}
		val[k] = opts[i].value;
		pos[k] = (int)i;
	}
	if (val[0] == NULL) {
		wecom_error(err, -1, "the wecom channel needs a url: the "
		    "robot's webhook address, https://qyapi.weixin.qq.com/"
		    "cgi-bin/webhook/send?key=...");
		return -EINVAL;
	}
	if (!wecom_url_ok(val[0])) {
		wecom_error(err, pos[0], "url must be an http:// or https:// "
		    "address with a host and no spaces, e.g. https://qyapi."
		    "weixin.qq.com/cgi-bin/webhook/send?key=...");
		return -EINVAL;
	}
	if (strstr(val[0], "key=") == NULL) {
		wecom_error(err, pos[0], "url has no key=: copy the whole "
		    "webhook address from the robot's settings in the WeCom "
		    "group");
		return -EINVAL;
	}
	if (val[1] != NULL && strcmp(val[1], "text") != 0 &&
	    strcmp(val[1], "markdown") != 0) {
		wecom_error(err, pos[1], "msgtype '%s' is not supported: use "
		    "text (mentions notify people) or markdown (formatting, "
		    "mentions only as names)", val[1]);
		return -EINVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->url = strdup(val[0])) == NULL) {
		wecom_release(w);
		wecom_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	w->markdown = val[1] != NULL && strcmp(val[1], "markdown") == 0;
	*state = w;
	return 0;
}

/* CR or LF in a header value would let it add headers of its own. */
static int
wecom_header(struct dutyd_request *req, const char *name, const char *value)
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

/* Recipient i's mobile, unless empty or already mentioned. */
static const char *
wecom_mention(const struct dutyd_message *msg, size_t i)
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
wecom_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * The content: title, message, link, and for markdown the names of the
 * people it is for.  WeCom refuses content over its limit, so the message
 * is shortened to fit, never the link or the names.
 */
static int
wecom_content(const struct wecom *w, const struct dutyd_message *msg,
    char **out)
{
	const char *title = msg->title != NULL ? msg->title : "";
	const struct dutyd_recipient *r;
	char *tail = NULL, *buf = NULL;
	size_t taillen = 0, buflen = 0, headlen, len, cut, max, i;
	FILE *f;
	int sep = 0, bad;

	*out = NULL;
	max = w->markdown ? WECOM_MARKDOWN_MAX : WECOM_TEXT_MAX;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (msg->url != NULL && msg->url[0] != '\0' &&
	    strstr(msg->text, msg->url) == NULL) {
		if (w->markdown)
			fprintf(f, "\n[%s](%s)", msg->url, msg->url);
		else
			fprintf(f, "\n%s", msg->url);
	}
	for (i = 0; w->markdown && i < msg->nrecipients; i++) {
		if (wecom_mention(msg, i) == NULL)
			continue;
		r = &msg->recipients[i];
		fprintf(f, "%s@%s", sep++ ? " " : "\n",
		    r->name != NULL && r->name[0] != '\0' ? r->name : r->to);
	}
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
		fprintf(f, w->markdown ? "**%s**\n" : "%s\n", title);
	fflush(f);
	headlen = buflen;
	len = strlen(msg->text);
	cut = wecom_cut(msg->text, len, max > headlen + taillen + 3 ?
	    max - headlen - taillen - 3 : 0);
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
wecom_body(const struct wecom *w, const struct dutyd_message *msg,
    char **out, size_t *outlen)
{
	json_t *mobiles = NULL, *body;
	const char *to;
	char *content;
	size_t i;
	int r;

	if ((r = wecom_content(w, msg, &content)) < 0)
		return r;
	if (w->markdown)
		body = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown",
		    "markdown", "content", content);
	else {
		if ((mobiles = json_array()) == NULL) {
			free(content);
			return -ENOMEM;
		}
		for (i = 0; i < msg->nrecipients; i++)
			if ((to = wecom_mention(msg, i)) != NULL &&
			    json_array_append_new(mobiles, json_string(to)) != 0) {
				json_decref(mobiles);
				free(content);
				return -EINVAL;	/* not UTF-8, or out of memory */
			}
		body = json_pack("{s:s, s:{s:s, s:o}}", "msgtype", "text",
		    "text", "content", content,
		    "mentioned_mobile_list", mobiles);
	}
	free(content);
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
wecom_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct wecom *w = arg;
	int r;

	if (msg->text == NULL || msg->recipients == NULL)
		return -EINVAL;
	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(w->url)) == NULL)
		return -ENOMEM;
	if ((r = wecom_body(w, msg, &req->body, &req->body_len)) < 0 ||
	    (r = wecom_header(req, "Content-Type", "application/json")) < 0 ||
	    (r = wecom_header(req, "User-Agent", "dutyd")) < 0 ||
	    (r = wecom_header(req, "X-Dutyd-Delivery", msg->delivery_id)) < 0)
		return r;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
wecom_utf8_seq(const unsigned char *s, size_t n)
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
wecom_quote(char *dst, size_t dstlen, const char *src, size_t len, size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = wecom_utf8_seq(s + i, len - i);
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

/* The reply's errcode and errmsg; NULL if it is not WeCom's JSON. */
static json_t *
wecom_reply(const struct dutyd_response *resp, long long *code,
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

static const struct wecom_code *
wecom_lookup(long long code)
{
	static const struct wecom_code other = { 0, DUTYD_RETRY, 0, NULL };
	size_t i;

	for (i = 0; i < sizeof(wecom_codes) / sizeof(wecom_codes[0]); i++)
		if (wecom_codes[i].code == code)
			return &wecom_codes[i];
	return &other;
}

static void
wecom_vendor(struct dutyd_result *res, const struct wecom_code *c,
    long long code, const char *msg)
{
	char quote[WECOM_QUOTE_MSG + 8];

	wecom_quote(quote, sizeof(quote), msg, strlen(msg), WECOM_QUOTE_MSG);
	res->outcome = c->outcome;
	res->retry_after_ms = c->wait_ms;
	snprintf(res->detail, sizeof(res->detail), "errcode %lld: %s%s%s%s",
	    code, quote, c->hint ? " (" : "", c->hint ? c->hint : "",
	    c->hint ? ")" : "");
}

static int
wecom_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[WECOM_QUOTE_BODY + 8];
	const struct wecom_code *c;
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
	wecom_quote(quote, sizeof(quote), resp->body ? resp->body : "",
	    resp->body ? resp->body_len : 0, WECOM_QUOTE_BODY);
	reply = wecom_reply(resp, &code, &msg);
	c = reply ? wecom_lookup(code) : NULL;
	if (resp->status >= 200 && resp->status <= 299 && c != NULL)
		wecom_vendor(res, c, code, msg);
	else if (resp->status >= 200 && resp->status <= 299) {
		res->outcome = DUTYD_RETRY;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld but not "
		    "a WeCom reply: %s", resp->status, quote);
	} else if (c != NULL && c->wait_ms > 0) {
		/* Rate limited, whatever the status says. */
		wecom_vendor(res, c, code, msg);
		if (resp->retry_after_ms > 0)
			res->retry_after_ms = resp->retry_after_ms;
	} else {
		res->outcome = resp->status == 429 || resp->status >= 500 ?
		    DUTYD_RETRY : DUTYD_FAILED;
		if (resp->status == 429)
			res->retry_after_ms = resp->retry_after_ms > 0 ?
			    resp->retry_after_ms : WECOM_RATE_WAIT;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s",
		    resp->status, quote[0] ? ": " : "", quote);
	}
	json_decref(reply);
	return 0;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "wecom",
	.description = "WeCom group robot (企业微信群机器人): text with "
	    "@-mentions by mobile, or markdown",
	.configure = wecom_configure,
	.release = wecom_release,
	.build = wecom_build,
	.parse = wecom_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 20,
};
