/*
 * feishu: a Feishu (Lark) custom group robot (飞书自定义机器人).  One text
 * message per request; the people it is for are mentioned with
 * <at user_id="...">name</at>.
 *
 * Options: url (required: the robot's webhook address), secret (optional:
 * the robot's signing secret).  With a secret the body carries "timestamp"
 * (seconds, as a string) and "sign" = base64(HMAC-SHA256(key=timestamp "\n"
 * secret, msg="")): Feishu keys the MAC with the string and signs nothing.
 * Feishu refuses a timestamp more than an hour off, so the host clock matters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "plugin.h"

#define FEISHU_URL_MAX		2048
/* The whole request body may be at most 20 KB. */
#define FEISHU_TEXT_MAX		16000
#define FEISHU_QUOTE_BODY	100	/* response bytes quoted in a detail */
#define FEISHU_QUOTE_MSG	120	/* vendor msg bytes quoted in a detail */
#define FEISHU_RATE_WAIT	60000	/* the limit is per minute */

struct feishu {
	char		*url;
	char		*secret;
	EVP_MAC		*mac;	/* fetched once: the key changes every time */
};

/*
 * code → outcome.  Sources: Feishu's custom robot guide and the replies users
 * report.  Codes not listed are retried with backoff.
 */
static const struct feishu_code {
	long long	 code;
	enum dutyd_outcome outcome;
	int64_t		 wait_ms;
	const char	*hint;
} feishu_codes[] = {
	{ 0, DUTYD_DELIVERED, 0, NULL },
	/* too many request; frequency limited */
	{ 9499, DUTYD_RETRY, FEISHU_RATE_WAIT, NULL },
	{ 11232, DUTYD_RETRY, FEISHU_RATE_WAIT, NULL },
	/* incoming webhook access token invalid */
	{ 19001, DUTYD_FAILED, 0, "check the webhook address in url" },
	{ 19007, DUTYD_FAILED, 0, "the robot is disabled: enable it in the "
	    "group" },
	/* sign match fail or timestamp is not within one hour */
	{ 19021, DUTYD_FAILED, 0, "check secret and the host clock" },
	{ 19022, DUTYD_FAILED, 0, "add dutyd's address to the robot's IP "
	    "allow list" },
	{ 19024, DUTYD_FAILED, 0, "the text lacks the robot's keyword: fix "
	    "the template or the robot's security settings" },
};

static void
feishu_error(struct dutyd_error *err, int option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
feishu_error(struct dutyd_error *err, int option, const char *fmt, ...)
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
feishu_url_ok(const char *url)
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
		    i >= FEISHU_URL_MAX)
			return 0;
	return 1;
}

static void
feishu_release(void *arg)
{
	struct feishu *f = arg;

	if (f == NULL)
		return;
	free(f->url);
	EVP_MAC_free(f->mac);
	if (f->secret != NULL) {
		explicit_bzero(f->secret, strlen(f->secret));
		free(f->secret);
	}
	free(f);
}

static int
feishu_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	static const char *const keys[] = { "url", "secret" };
	const char *val[2] = { NULL, NULL };
	int pos[2] = { -1, -1 };
	struct feishu *f;
	size_t i, k;

	*state = NULL;
	for (i = 0; i < nopts; i++) {
		for (k = 0; k < 2; k++)
			if (opts[i].key != NULL && strcmp(opts[i].key, keys[k]) == 0)
				break;
		if (k == 2) {
			feishu_error(err, (int)i, "unknown option '%s': the "
			    "feishu channel knows url and secret",
			    opts[i].key ? opts[i].key : "(null)");
			return -EINVAL;
		}
		if (val[k] != NULL) {
			feishu_error(err, (int)i, "%s is given twice: keep "
			    "one", keys[k]);
			return -EINVAL;
		}
		if (opts[i].value == NULL || opts[i].value[0] == '\0') {
			feishu_error(err, (int)i, "%s is empty: %s", keys[k],
			    k == 0 ? "copy the robot's webhook address from "
			    "the group's robot settings" : "set it to the "
			    "robot's signing secret, or remove it if the robot "
			    "does not sign");
			return -EINVAL;
		}
		val[k] = opts[i].value;
		pos[k] = (int)i;
	}
	if (val[0] == NULL) {
		feishu_error(err, -1, "the feishu channel needs a url: the "
		    "robot's webhook address, https://open.feishu.cn/open-apis/"
		    "bot/v2/hook/...");
		return -EINVAL;
	}
	if (!feishu_url_ok(val[0])) {
		feishu_error(err, pos[0], "url must be an http:// or https:// "
		    "address with a host and no spaces, e.g. https://open."
		    "feishu.cn/open-apis/bot/v2/hook/...");
		return -EINVAL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->url = strdup(val[0])) == NULL ||
	    (val[1] != NULL && (f->secret = strdup(val[1])) == NULL)) {
		feishu_release(f);
		feishu_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	if (f->secret != NULL &&
	    (f->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
		feishu_release(f);
		feishu_error(err, -1, "cannot set up HMAC-SHA256 (OpenSSL)");
		return -EIO;
	}
	*state = f;
	return 0;
}

/* CR or LF in a header value would let it add headers of its own. */
static int
feishu_header(struct dutyd_request *req, const char *name, const char *value)
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

/* b64 gets base64(HMAC-SHA256(key=ts "\n" secret, msg="")). */
static int
feishu_sign(const struct feishu *f, const char *ts, char *b64, size_t b64len)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	EVP_MAC_CTX *c;
	char *key;
	int n, ok;

	if ((n = asprintf(&key, "%s\n%s", ts, f->secret)) == -1)
		return -ENOMEM;
	ok = (c = EVP_MAC_CTX_new(f->mac)) != NULL &&
	    EVP_MAC_init(c, (const unsigned char *)key, (size_t)n,
	    params) == 1 &&
	    EVP_MAC_final(c, md, &mdlen, sizeof(md)) == 1;
	EVP_MAC_CTX_free(c);
	explicit_bzero(key, (size_t)n);
	free(key);
	if (!ok)
		return -EIO;
	if (b64len < 4 * ((mdlen + 2) / 3) + 1)
		return -ENOBUFS;
	EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	return 0;
}

/* Recipient i, unless its address is empty or already mentioned. */
static const struct dutyd_recipient *
feishu_mention(const struct dutyd_message *msg, size_t i)
{
	const char *to = msg->recipients[i].to;
	size_t j;

	if (to == NULL || to[0] == '\0')
		return NULL;
	for (j = 0; j < i; j++)
		if (msg->recipients[j].to != NULL &&
		    strcmp(msg->recipients[j].to, to) == 0)
			return NULL;
	return &msg->recipients[i];
}

/* Longest prefix of s (len bytes) of at most max bytes that ends on a character boundary. */
static size_t
feishu_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/*
 * The text: title, message, link and a mention tag per person.  The message
 * is shortened to fit, never the link or the mentions.  An address that
 * would break out of the tag's quotes is not put in one: the person is
 * named in plain text, and the message still goes out.
 */
static int
feishu_text(const struct dutyd_message *msg, char **out)
{
	const struct dutyd_recipient *r;
	char *tail = NULL, *buf = NULL;
	size_t taillen = 0, buflen = 0, headlen, len, cut, i;
	const char *name;
	FILE *f;
	int sep = 0, bad;

	*out = NULL;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (msg->url != NULL && msg->url[0] != '\0' &&
	    strstr(msg->text, msg->url) == NULL)
		fprintf(f, "\n%s", msg->url);
	for (i = 0; i < msg->nrecipients; i++) {
		if ((r = feishu_mention(msg, i)) == NULL)
			continue;
		name = r->name != NULL && r->name[0] != '\0' &&
		    strpbrk(r->name, "<>") == NULL ? r->name : r->to;
		if (strpbrk(r->to, "\"<>") != NULL)
			fprintf(f, "%s@%s", sep++ ? " " : "\n", name);
		else
			fprintf(f, "%s<at user_id=\"%s\">%s</at>",
			    sep++ ? " " : "\n", r->to, name);
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
	if (msg->title != NULL && msg->title[0] != '\0')
		fprintf(f, "%s\n", msg->title);
	fflush(f);
	headlen = buflen;
	len = strlen(msg->text);
	cut = feishu_cut(msg->text, len, FEISHU_TEXT_MAX > headlen + taillen + 3 ?
	    FEISHU_TEXT_MAX - headlen - taillen - 3 : 0);
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
feishu_body(const struct feishu *f, const struct dutyd_message *msg,
    char **out, size_t *outlen)
{
	char ts[24], sign[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1], *text;
	json_t *body;
	int r;

	if ((r = feishu_text(msg, &text)) < 0)
		return r;
	body = json_pack("{s:s, s:{s:s}}", "msg_type", "text",
	    "content", "text", text);
	free(text);
	if (body == NULL)
		return -EINVAL;	/* a string that is not UTF-8 */
	if (f->secret != NULL) {
		snprintf(ts, sizeof(ts), "%lld", (long long)(msg->now_ms / 1000));
		if ((r = feishu_sign(f, ts, sign, sizeof(sign))) < 0 ||
		    json_object_set_new(body, "timestamp", json_string(ts)) != 0 ||
		    json_object_set_new(body, "sign", json_string(sign)) != 0) {
			json_decref(body);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*out = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (*out == NULL)
		return -ENOMEM;
	*outlen = strlen(*out);
	return 0;
}

static int
feishu_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct feishu *f = arg;
	int r;

	if (msg->text == NULL || msg->recipients == NULL)
		return -EINVAL;
	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(f->url)) == NULL)
		return -ENOMEM;
	if ((r = feishu_body(f, msg, &req->body, &req->body_len)) < 0 ||
	    (r = feishu_header(req, "Content-Type", "application/json")) < 0 ||
	    (r = feishu_header(req, "User-Agent", "dutyd")) < 0 ||
	    (r = feishu_header(req, "X-Dutyd-Delivery", msg->delivery_id)) < 0)
		return r;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
feishu_utf8_seq(const unsigned char *s, size_t n)
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
feishu_quote(char *dst, size_t dstlen, const char *src, size_t len,
    size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = feishu_utf8_seq(s + i, len - i);
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

/*
 * The reply's code and message; NULL if it is not Feishu's JSON.  Current
 * replies say {"code":..,"msg":..}, older ones {"StatusCode":..,
 * "StatusMessage":..}.
 */
static json_t *
feishu_reply(const struct dutyd_response *resp, long long *code,
    const char **msg)
{
	json_t *root, *c;
	const char *m = "msg";

	if (resp->body == NULL || resp->body_len == 0 ||
	    (root = json_loadb(resp->body, resp->body_len, 0, NULL)) == NULL)
		return NULL;
	c = json_object_get(root, "code");
	if (!json_is_integer(c)) {
		c = json_object_get(root, "StatusCode");
		m = "StatusMessage";
	}
	if (!json_is_integer(c)) {
		json_decref(root);
		return NULL;
	}
	*code = json_integer_value(c);
	*msg = json_string_value(json_object_get(root, m));
	if (*msg == NULL)
		*msg = "";
	return root;
}

static const struct feishu_code *
feishu_lookup(long long code)
{
	static const struct feishu_code other = { 0, DUTYD_RETRY, 0, NULL };
	size_t i;

	for (i = 0; i < sizeof(feishu_codes) / sizeof(feishu_codes[0]); i++)
		if (feishu_codes[i].code == code)
			return &feishu_codes[i];
	return &other;
}

static void
feishu_vendor(struct dutyd_result *res, const struct feishu_code *c,
    long long code, const char *msg)
{
	char quote[FEISHU_QUOTE_MSG + 8];

	feishu_quote(quote, sizeof(quote), msg, strlen(msg), FEISHU_QUOTE_MSG);
	res->outcome = c->outcome;
	res->retry_after_ms = c->wait_ms;
	snprintf(res->detail, sizeof(res->detail), "errcode %lld: %s%s%s%s",
	    code, quote, c->hint ? " (" : "", c->hint ? c->hint : "",
	    c->hint ? ")" : "");
}

static int
feishu_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[FEISHU_QUOTE_BODY + 8];
	const struct feishu_code *c;
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
	feishu_quote(quote, sizeof(quote), resp->body ? resp->body : "",
	    resp->body ? resp->body_len : 0, FEISHU_QUOTE_BODY);
	reply = feishu_reply(resp, &code, &msg);
	c = reply ? feishu_lookup(code) : NULL;
	if (resp->status >= 200 && resp->status <= 299 && c != NULL)
		feishu_vendor(res, c, code, msg);
	else if (resp->status >= 200 && resp->status <= 299) {
		res->outcome = DUTYD_RETRY;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld but not "
		    "a Feishu reply: %s", resp->status, quote);
	} else if (c != NULL && c->wait_ms > 0) {
		/* Rate limited, whatever the status says. */
		feishu_vendor(res, c, code, msg);
		if (resp->retry_after_ms > 0)
			res->retry_after_ms = resp->retry_after_ms;
	} else {
		res->outcome = resp->status == 429 || resp->status >= 500 ?
		    DUTYD_RETRY : DUTYD_FAILED;
		if (resp->status == 429)
			res->retry_after_ms = resp->retry_after_ms > 0 ?
			    resp->retry_after_ms : FEISHU_RATE_WAIT;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s",
		    resp->status, quote[0] ? ": " : "", quote);
	}
	json_decref(reply);
	return 0;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "feishu",
	.description = "Feishu custom group robot (飞书自定义机器人): text with "
	    "<at> mentions, optional signing secret",
	.configure = feishu_configure,
	.release = feishu_release,
	.build = feishu_build,
	.parse = feishu_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 100,
};
