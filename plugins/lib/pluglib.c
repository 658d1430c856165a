/*
 * pluglib: option parsing, request building, signing, quoting and reply
 * reading that dutyd's channel plugins share.  See pluglib.h.
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
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pluglib.h"

#define PLUGLIB_QUOTE_BODY	100	/* robot response bytes in a detail */
#define PLUGLIB_QUOTE_MSG	120	/* robot errmsg bytes in a detail */

void
pluglib_error(struct dutyd_error *err, int option, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->option = option;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* "unknown option 'x': the c channel knows a, b and c" */
static void
pluglib_unknown(const char *channel, const struct pluglib_key *keys,
    size_t nkeys, int option, const char *key, struct dutyd_error *err)
{
	char known[256] = "";
	size_t k, used;

	for (k = 0; k < nkeys; k++) {
		used = strlen(known);
		snprintf(known + used, sizeof(known) - used, "%s%s", k == 0 ?
		    "" : k + 1 == nkeys ? " and " : ", ", keys[k].name);
	}
	pluglib_error(err, option, "unknown option '%s': the %s channel "
	    "knows %s", key ? key : "(null)", channel, known);
}

int
pluglib_options(const char *channel, const struct pluglib_key *keys,
    size_t nkeys, const struct dutyd_option *opts, size_t nopts,
    const char **val, int *idx, struct dutyd_error *err)
{
	size_t i, k;

	for (k = 0; k < nkeys; k++) {
		val[k] = NULL;
		idx[k] = -1;
	}
	for (i = 0; i < nopts; i++) {
		const char *key = opts[i].key, *v = opts[i].value;

		for (k = 0; k < nkeys; k++)
			if (key != NULL && strcmp(key, keys[k].name) == 0)
				break;
		if (k == nkeys) {
			pluglib_unknown(channel, keys, nkeys, (int)i, key, err);
			return -EINVAL;
		}
		if (val[k] != NULL) {
			pluglib_error(err, (int)i, "%s is given twice: keep "
			    "one", key);
			return -EINVAL;
		}
		if (keys[k].check != NULL) {
			if (v == NULL || !keys[k].check(v)) {
				pluglib_error(err, (int)i, "%s",
				    keys[k].if_bad);
				return -EINVAL;
			}
		} else if (v == NULL || v[0] == '\0') {
			pluglib_error(err, (int)i, "%s is empty: %s", key,
			    keys[k].if_empty);
			return -EINVAL;
		}
		val[k] = v;
		idx[k] = (int)i;
	}
	return 0;
}

size_t
pluglib_missing(const struct pluglib_key *keys, size_t nrequired,
    const char *const *val, char *buf, size_t len)
{
	size_t k, n = 0, used;

	if (len > 0)
		buf[0] = '\0';
	for (k = 0; k < nrequired && len > 0; k++) {
		if (val[k] != NULL)
			continue;
		used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", n++ ? ", " : "",
		    keys[k].name);
	}
	return n;
}

int
pluglib_printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || i >= max)
			return 0;
	return i > 0;
}

int
pluglib_word(const char *s, size_t max, const char *extra)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    strchr(extra, s[i]) != NULL))
			return 0;
	return i > 0;
}

int
pluglib_http_url_ok(const char *url)
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
	return pluglib_printable(url, PLUGLIB_URL_MAX);
}

void
pluglib_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
pluglib_post(struct dutyd_request *req, const char *url)
{
	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(url)) == NULL)
		return -ENOMEM;
	return 0;
}

int
pluglib_json_headers(struct dutyd_request *req, const char *delivery_id)
{
	return pluglib_headers(req, "Content-Type", "application/json",
	    "User-Agent", "dutyd", "X-Dutyd-Delivery", delivery_id, NULL);
}

int
pluglib_headers(struct dutyd_request *req, ...)
{
	const char *name, *value;
	va_list ap;
	char *h;
	int r = 0;

	va_start(ap, req);
	while (r == 0 && (name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value == NULL || strpbrk(value, "\r\n") != NULL)
			r = -EINVAL;
		else if (req->nheaders >= DUTYD_MAX_HEADERS)
			r = -E2BIG;
		else if (asprintf(&h, "%s: %s", name, value) == -1)
			r = -ENOMEM;
		else
			req->headers[req->nheaders++] = h;
	}
	va_end(ap);
	return r;
}

char *
pluglib_escape(const char *s)
{
	size_t n = strlen(s);
	char *e, *r;

	if (n > INT_MAX) {
		errno = EOVERFLOW;
		return NULL;
	}
	/* curl_free() is not free(): hand out malloc()ed memory only. */
	if ((e = curl_easy_escape(NULL, s, (int)n)) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	r = strdup(e);
	curl_free(e);
	return r;
}

int
pluglib_json_dump(json_t *body, char **out, size_t *outlen)
{
	if (body == NULL)
		return -EINVAL;	/* a string that is not UTF-8 */
	*out = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (*out == NULL)
		return -ENOMEM;
	*outlen = strlen(*out);
	return 0;
}

int
pluglib_memstream_close(FILE *f, char **buf)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

EVP_MAC_CTX *
pluglib_hmac_new(EVP_MAC *mac, const char *digest, const void *key,
    size_t keylen)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *fetched = NULL;
	EVP_MAC_CTX *c = NULL;

	if (mac == NULL)
		mac = fetched = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac != NULL && (c = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(c, key, keylen, params) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	EVP_MAC_free(fetched);
	if (c == NULL)
		errno = EIO;
	return c;
}

int
pluglib_hmac(const EVP_MAC_CTX *keyed, const struct pluglib_span *in,
    size_t nin, unsigned char md[EVP_MAX_MD_SIZE], size_t *mdlen)
{
	EVP_MAC_CTX *c;
	size_t i;
	int ok = 1;

	/* A copy of the keyed context: the key schedule is done once. */
	if ((c = EVP_MAC_CTX_dup(keyed)) == NULL)
		return -ENOMEM;
	for (i = 0; i < nin && ok; i++)
		ok = EVP_MAC_update(c, in[i].data, in[i].len) == 1;
	*mdlen = 0;
	ok = ok && EVP_MAC_final(c, md, mdlen, EVP_MAX_MD_SIZE) == 1;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : -EIO;
}

int
pluglib_base64(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	if (len > INT_MAX / 2 || outlen < PLUGLIB_BASE64_SIZE(len))
		return -ENOBUFS;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return 0;
}

size_t
pluglib_utf8_seq(const unsigned char *s, size_t n)
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

int
pluglib_utf8_ok(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i, l;

	for (i = 0; i < n; i += l)
		if ((l = pluglib_utf8_seq(u + i, n - i)) == 0)
			return 0;
	return 1;
}

size_t
pluglib_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

void
pluglib_quote(char *dst, size_t dstlen, const char *src, size_t len,
    size_t max)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 5 < dstlen) {
		n = pluglib_utf8_seq(s + i, len - i);
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

int
pluglib_link_missing(const struct dutyd_message *msg)
{
	return msg->url != NULL && msg->url[0] != '\0' &&
	    strstr(msg->text, msg->url) == NULL;
}

int
pluglib_fit(const char *head, const char *text, const char *tail,
    size_t max, char **out)
{
	static const char more[] = "…";
	size_t hl = strlen(head), tl = strlen(tail), len = strlen(text), cut;
	char *buf, *o;

	cut = pluglib_utf8_cut(text, len, max > hl + tl + 3 ?
	    max - hl - tl - 3 : 0);
	if ((*out = buf = malloc(hl + cut + sizeof(more) + tl)) == NULL)
		return -ENOMEM;
	o = buf;
	memcpy(o, head, hl);
	o += hl;
	memcpy(o, text, cut);
	o += cut;
	if (cut < len) {
		memcpy(o, more, sizeof(more) - 1);
		o += sizeof(more) - 1;
	}
	memcpy(o, tail, tl + 1);
	return 0;
}

const struct dutyd_recipient *
pluglib_mention(const struct dutyd_message *msg, size_t i)
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

int
pluglib_mention_list(const struct dutyd_message *msg, json_t **out)
{
	const struct dutyd_recipient *r;
	size_t i;

	if ((*out = json_array()) == NULL)
		return -ENOMEM;
	for (i = 0; i < msg->nrecipients; i++)
		if ((r = pluglib_mention(msg, i)) != NULL &&
		    json_array_append_new(*out, json_string(r->to)) != 0) {
			json_decref(*out);
			*out = NULL;
			return -EINVAL;	/* not UTF-8, or out of memory */
		}
	return 0;
}

int
pluglib_is_2xx(long status)
{
	return status >= 200 && status <= 299;
}

int
pluglib_parse_start(const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	res->outcome = DUTYD_RETRY;
	res->retry_after_ms = 0;
	if (resp->status != 0)
		return 0;
	snprintf(res->detail, sizeof(res->detail), "%s",
	    resp->error ? resp->error : "no response");
	return 1;
}

void
pluglib_http_detail(struct dutyd_result *res, long status, const char *quote)
{
	snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s", status,
	    quote[0] ? ": " : "", quote);
}

int64_t
pluglib_retry_after(const struct dutyd_response *resp, int64_t wait_ms)
{
	return resp->retry_after_ms > 0 ? resp->retry_after_ms : wait_ms;
}

json_t *
pluglib_json_load(const struct dutyd_response *resp)
{
	if (resp->body == NULL || resp->body_len == 0)
		return NULL;
	return json_loadb(resp->body, resp->body_len, 0, NULL);
}

int
pluglib_json_code(json_t *root, const char *code_key, const char *msg_key,
    long long *code, const char **msg)
{
	json_t *c = json_object_get(root, code_key);

	if (!json_is_integer(c))
		return -ENOENT;
	*code = json_integer_value(c);
	*msg = json_string_value(json_object_get(root, msg_key));
	if (*msg == NULL)
		*msg = "";
	return 0;
}

int
pluglib_robot_options(const struct pluglib_robot *rb,
    const struct dutyd_option *opts, size_t nopts, const char **val, int *idx,
    struct dutyd_error *err)
{
	const char *url;
	int r;

	if ((r = pluglib_options(rb->channel, rb->keys, rb->nkeys, opts, nopts,
	    val, idx, err)) < 0)
		return r;
	if ((url = val[0]) == NULL) {
		pluglib_error(err, -1, "the %s channel needs a url: the "
		    "robot's webhook address, %s", rb->channel, rb->example);
		return -EINVAL;
	}
	if (!pluglib_http_url_ok(url)) {
		pluglib_error(err, idx[0], "url must be an http:// or https:// "
		    "address with a host and no spaces, e.g. %s", rb->example);
		return -EINVAL;
	}
	if (rb->token != NULL && strstr(url, rb->token) == NULL) {
		pluglib_error(err, idx[0], "url has no %s: copy the whole "
		    "webhook address from the robot's settings in the %s group",
		    rb->token, rb->vendor);
		return -EINVAL;
	}
	return 0;
}

/* The code and message of the vendor's reply; -ENOENT: not its reply. */
static int
pluglib_robot_reply(const struct pluglib_robot *rb, json_t *root,
    long long *code, const char **msg)
{
	size_t i;

	for (i = 0; i < 2 && rb->reply[i][0] != NULL; i++)
		if (pluglib_json_code(root, rb->reply[i][0], rb->reply[i][1],
		    code, msg) == 0)
			return 0;
	return -ENOENT;
}

static const struct pluglib_code *
pluglib_lookup(const struct pluglib_robot *rb, long long code)
{
	static const struct pluglib_code other = { 0, DUTYD_RETRY, 0, NULL };
	size_t i;

	for (i = 0; i < rb->ncodes; i++)
		if (rb->codes[i].code == code)
			return &rb->codes[i];
	return &other;
}

static void
pluglib_vendor(struct dutyd_result *res, const struct pluglib_code *c,
    long long code, const char *msg)
{
	char quote[PLUGLIB_QUOTE_MSG + 8];

	pluglib_quote(quote, sizeof(quote), msg, strlen(msg),
	    PLUGLIB_QUOTE_MSG);
	res->outcome = c->outcome;
	res->retry_after_ms = c->wait_ms;
	snprintf(res->detail, sizeof(res->detail), "errcode %lld: %s%s%s%s",
	    code, quote, c->hint ? " (" : "", c->hint ? c->hint : "",
	    c->hint ? ")" : "");
}

int
pluglib_robot_parse(const struct pluglib_robot *rb,
    const struct dutyd_response *resp, struct dutyd_result *res)
{
	char quote[PLUGLIB_QUOTE_BODY + 8];
	const struct pluglib_code *c = NULL;
	const char *msg = "";
	long long code = 0;
	json_t *reply;

	if (pluglib_parse_start(resp, res))
		return 0;
	pluglib_quote(quote, sizeof(quote), resp->body,
	    resp->body ? resp->body_len : 0, PLUGLIB_QUOTE_BODY);
	if ((reply = pluglib_json_load(resp)) != NULL &&
	    pluglib_robot_reply(rb, reply, &code, &msg) == 0)
		c = pluglib_lookup(rb, code);
	if (pluglib_is_2xx(resp->status) && c != NULL)
		pluglib_vendor(res, c, code, msg);
	else if (pluglib_is_2xx(resp->status))
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld but not "
		    "a %s reply: %s", resp->status, rb->vendor, quote);
	else if (c != NULL && c->wait_ms > 0) {
		/* Rate limited, whatever the status says. */
		pluglib_vendor(res, c, code, msg);
		res->retry_after_ms = pluglib_retry_after(resp, c->wait_ms);
	} else {
		if (resp->status == 429)
			res->retry_after_ms = pluglib_retry_after(resp,
			    rb->rate_wait_ms);
		else if (resp->status < 500)
			res->outcome = DUTYD_FAILED;
		pluglib_http_detail(res, resp->status, quote);
	}
	json_decref(reply);
	return 0;
}
