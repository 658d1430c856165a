/*
 * webhook: POST the message as JSON to any http(s) URL.  With a secret, the
 * body is signed so the receiver can tell dutyd from anyone else:
 *
 *   X-Dutyd-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=body bytes)>
 *
 * Options: url (required), secret (optional).
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

#define WEBHOOK_DETAIL_BODY	100	/* response bytes quoted in a detail */
#define WEBHOOK_URL_MAX		2048

struct webhook {
	char		*url;
	char		*secret;
	EVP_MAC_CTX	*hmac;	/* keyed once: OpenSSL 3's one-shot HMAC() costs a provider fetch per call */
};

static void
webhook_error(struct dutyd_error *err, int option, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
webhook_error(struct dutyd_error *err, int option, const char *fmt, ...)
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
webhook_url_ok(const char *url)
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
		    i >= WEBHOOK_URL_MAX)
			return 0;
	return 1;
}

static int webhook_hmac_init(struct webhook *);

static void
webhook_release(void *arg)
{
	struct webhook *w = arg;

	if (w == NULL)
		return;
	free(w->url);
	EVP_MAC_CTX_free(w->hmac);
	if (w->secret != NULL) {
		explicit_bzero(w->secret, strlen(w->secret));
		free(w->secret);
	}
	free(w);
}

static int
webhook_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	struct webhook *w;
	const char *url = NULL, *secret = NULL;
	size_t i;

	*state = NULL;
	for (i = 0; i < nopts; i++) {
		const char *k = opts[i].key, *v = opts[i].value;

		if (k != NULL && strcmp(k, "url") == 0) {
			if (url != NULL) {
				webhook_error(err, (int)i, "url is given twice: "
				    "keep one");
				return -EINVAL;
			}
			if (v == NULL || !webhook_url_ok(v)) {
				webhook_error(err, (int)i, "url must be an "
				    "http:// or https:// address with a host "
				    "and no spaces, e.g. "
				    "https://example.org/dutyd-hook");
				return -EINVAL;
			}
			url = v;
		} else if (k != NULL && strcmp(k, "secret") == 0) {
			if (secret != NULL) {
				webhook_error(err, (int)i, "secret is given "
				    "twice: keep one");
				return -EINVAL;
			}
			if (v == NULL || v[0] == '\0') {
				webhook_error(err, (int)i, "secret is empty: "
				    "set it to the receiver's shared secret, "
				    "or remove it to send unsigned");
				return -EINVAL;
			}
			secret = v;
		} else {
			webhook_error(err, (int)i, "unknown option '%s': the "
			    "webhook channel knows url and secret",
			    k ? k : "(null)");
			return -EINVAL;
		}
	}
	if (url == NULL) {
		webhook_error(err, -1, "the webhook channel needs a url "
		    "(http:// or https://) to POST to");
		return -EINVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->url = strdup(url)) == NULL ||
	    (secret != NULL && (w->secret = strdup(secret)) == NULL)) {
		webhook_release(w);
		webhook_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	if (secret != NULL && webhook_hmac_init(w) != 0) {
		webhook_release(w);
		webhook_error(err, -1, "cannot set up HMAC-SHA256 (OpenSSL)");
		return -EIO;
	}
	*state = w;
	return 0;
}

/* CR or LF in a header value would let it add headers of its own. */
static int
webhook_header(struct dutyd_request *req, const char *name, const char *value)
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

static int
webhook_hmac_init(struct webhook *w)
{
	EVP_MAC	*mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	int	 rc = -EIO;

	if (mac != NULL && (w->hmac = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(w->hmac, (const unsigned char *)w->secret,
	    strlen(w->secret), params) == 1)
		rc = 0;
	EVP_MAC_free(mac);
	return rc;
}

static int
webhook_sign(const struct webhook *w, const char *body, size_t len,
    char *hex, size_t hexlen)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0, i;
	EVP_MAC_CTX *c;
	int ok;

	/* A copy of the keyed context: the key schedule is done once. */
	if ((c = EVP_MAC_CTX_dup(w->hmac)) == NULL)
		return -ENOMEM;
	ok = EVP_MAC_update(c, (const unsigned char *)body, len) == 1 &&
	    EVP_MAC_final(c, md, &mdlen, sizeof(md)) == 1;
	EVP_MAC_CTX_free(c);
	if (!ok)
		return -EIO;
	if (hexlen < 2 * mdlen + 1)
		return -ENOBUFS;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * mdlen] = '\0';
	return 0;
}

/* The daemon's incident JSON is spliced in as is: parsing it again costs more than the rest. */
static int
webhook_is_object(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' ||
	    s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

static int
webhook_body(const struct dutyd_message *msg, char **out, size_t *outlen)
{
	json_t *head, *tail;
	char *h = NULL, *t = NULL, *buf;
	size_t hl, tl, il;
	int n;

	*out = NULL;
	if (!webhook_is_object(msg->incident_json))
		return -EINVAL;
	head = json_pack("{s:s, s:s}", "event", msg->event,
	    "delivery", msg->delivery_id);
	tail = json_pack("{s:{s:s?, s:s?, s:s?}, s:s?, s:s?}",
	    "recipient",
		"id", msg->recipient.id,
		"name", msg->recipient.name,
		"to", msg->recipient.to,
	    "text", msg->text,
	    "url", msg->url);
	if (head != NULL && tail != NULL) {
		h = json_dumps(head, JSON_COMPACT);
		t = json_dumps(tail, JSON_COMPACT);
	}
	json_decref(head);
	json_decref(tail);
	if (h == NULL || t == NULL) {
		free(h);
		free(t);
		return -EINVAL;	/* a NULL or non-UTF-8 string */
	}
	/* {"event":…,"delivery":… + ,"incident":{…}, + "recipient":…} */
	hl = strlen(h) - 1;
	tl = strlen(t) - 1;
	il = strlen(msg->incident_json);
	buf = malloc(hl + tl + il + 16);
	if (buf == NULL) {
		free(h);
		free(t);
		return -ENOMEM;
	}
	n = sprintf(buf, "%.*s,\"incident\":%s,%s", (int)hl, h,
	    msg->incident_json, t + 1);
	free(h);
	free(t);
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

static int
webhook_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct webhook *w = arg;
	char hex[2 * EVP_MAX_MD_SIZE + 1], sig[sizeof(hex) + 8];
	int r;

	if (msg->event == NULL || msg->delivery_id == NULL ||
	    msg->incident_json == NULL)
		return -EINVAL;
	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(w->url)) == NULL)
		return -ENOMEM;
	if ((r = webhook_body(msg, &req->body, &req->body_len)) < 0)
		return r;
	if ((r = webhook_header(req, "Content-Type", "application/json")) < 0 ||
	    (r = webhook_header(req, "User-Agent", "dutyd")) < 0 ||
	    (r = webhook_header(req, "X-Dutyd-Event", msg->event)) < 0 ||
	    (r = webhook_header(req, "X-Dutyd-Delivery", msg->delivery_id)) < 0)
		return r;
	if (w->secret != NULL) {
		if ((r = webhook_sign(w, req->body, req->body_len, hex,
		    sizeof(hex))) < 0)
			return r;
		snprintf(sig, sizeof(sig), "sha256=%s", hex);
		if ((r = webhook_header(req, "X-Dutyd-Signature", sig)) < 0)
			return r;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
webhook_utf8_seq(const unsigned char *s, size_t n)
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
 * Quote at most WEBHOOK_DETAIL_BODY bytes of a response for the audit log,
 * which is JSON: never cut a character in half, and show bytes that are not
 * UTF-8 (a GBK error page, say) or control characters as '?' and ' '.
 */
static void
webhook_quote(char *dst, size_t dstlen, const char *body, size_t len)
{
	const unsigned char *s = (const unsigned char *)body;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = webhook_utf8_seq(s + i, len - i);
		if (i + (n ? n : 1) > WEBHOOK_DETAIL_BODY)
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
webhook_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[WEBHOOK_DETAIL_BODY + 8];

	if (resp->status >= 200 && resp->status <= 299) {
		res->outcome = DUTYD_DELIVERED;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld",
		    resp->status);
		return 0;
	}
	res->outcome = DUTYD_RETRY;
	if (resp->status == 0) {
		snprintf(res->detail, sizeof(res->detail), "%s",
		    resp->error ? resp->error : "no response");
		return 0;
	}
	if (resp->body == NULL || resp->body_len == 0) {
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld",
		    resp->status);
		return 0;
	}
	webhook_quote(quote, sizeof(quote), resp->body, resp->body_len);
	snprintf(res->detail, sizeof(res->detail), "HTTP %ld: %s",
	    resp->status, quote);
	return 0;
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "webhook",
	.description = "POST the message as JSON to an http(s) URL, "
	    "optionally signed with HMAC-SHA256",
	.configure = webhook_configure,
	.release = webhook_release,
	.build = webhook_build,
	.parse = webhook_parse,
};
