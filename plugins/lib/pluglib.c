/*
 * pluglib: option parsing, request building, signing, quoting and reply
 * reading that dutyd's channel plugins share.  See pluglib.h.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "pluglib.h"

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

/* "<rule>", and " (<why>)" when why says more. */
static void
pluglib_bad(struct dutyd_error *err, int option, const char *rule,
    const char *why)
{
	pluglib_error(err, option, "%s%s%s%s", rule, why[0] ? " (" : "", why,
	    why[0] ? ")" : "");
}

int
pluglib_options(const char *channel, const struct pluglib_key *keys,
    size_t nkeys, const struct dutyd_option *opts, size_t nopts,
    const char **val, int *idx, struct dutyd_error *err)
{
	char why[128] = "";
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
			if (v == NULL || keys[k].check(v, why,
			    sizeof(why)) < 0) {
				pluglib_bad(err, (int)i, keys[k].if_bad, why);
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

void
pluglib_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

const char *const pluglib_http_schemes[] = { "http", "https", NULL };

/* 1 for the faults every URL rule names already: scheme, host, login. */
static int
pluglib_url_named(CURLUcode rc)
{
	return rc == CURLUE_BAD_SCHEME || rc == CURLUE_UNSUPPORTED_SCHEME ||
	    rc == CURLUE_NO_SCHEME || rc == CURLUE_NO_HOST ||
	    rc == CURLUE_BAD_SLASHES || rc == CURLUE_USER_NOT_ALLOWED ||
	    rc == CURLUE_MALFORMED_INPUT;
}

/* Which of schemes u has, if url spells it "<scheme>://<not a slash>". */
static int
pluglib_url_scheme(CURLU *u, const char *url, const char *const *schemes)
{
	char *scheme = NULL, *host = NULL;
	size_t n;
	int k = -1;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    host[0] != '\0') {
		for (k = 0; schemes[k] != NULL; k++)
			if (strcmp(schemes[k], scheme) == 0)
				break;
		n = strlen(scheme);
		/*
		 * libcurl reads http:/h and https:///h as http://h, as
		 * browsers do; in a configuration file they are typos.
		 */
		if (schemes[k] == NULL || strncmp(url + n, "://", 3) != 0 ||
		    url[n + 3] == '/')
			k = -1;
	}
	curl_free(scheme);
	curl_free(host);
	return k;
}

int
pluglib_url_parse(const char *url, const char *const *schemes, int flags,
    char *why, size_t whylen)
{
	char dummy[1];
	CURLUcode rc;
	CURLU *u;
	size_t len;
	int k;

	if (why == NULL || whylen == 0) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	why[0] = '\0';
	if (!pluglib_printable(url, SIZE_MAX))
		return -EINVAL;
	if ((len = strlen(url)) > PLUGLIB_URL_MAX) {
		snprintf(why, whylen, "it has %zu bytes, more than %d", len,
		    PLUGLIB_URL_MAX);
		return -EINVAL;
	}
	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	/* The scheme is ours to judge, whatever this libcurl was built for. */
	rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME |
	    ((flags & PLUGLIB_URL_LOGIN) ? 0 : CURLU_DISALLOW_USER));
	if (rc == CURLUE_OK) {
		if ((k = pluglib_url_scheme(u, url, schemes)) < 0)
			k = -EINVAL;
	} else if (rc == CURLUE_OUT_OF_MEMORY)
		k = -ENOMEM;
	else {
		if (!pluglib_url_named(rc))
			snprintf(why, whylen, "libcurl: %s",
			    curl_url_strerror(rc));
		k = -EINVAL;
	}
	curl_url_cleanup(u);
	return k;
}

int
pluglib_http_url_check(const char *url, char *why, size_t whylen)
{
	int k = pluglib_url_parse(url, pluglib_http_schemes, PLUGLIB_URL_LOGIN,
	    why, whylen);

	return k < 0 ? k : 0;
}

int
pluglib_url_option(const char *url, int idx, const char *const *schemes,
    int flags, const char *rule, struct dutyd_error *err)
{
	char why[128];
	int k;

	if ((k = pluglib_url_parse(url, schemes, flags, why,
	    sizeof(why))) == -ENOMEM)
		pluglib_error(err, -1, "out of memory");
	else if (k < 0)
		pluglib_bad(err, idx, rule, why);
	return k;
}

CURLU *
pluglib_url_handle(const char *url)
{
	CURLU *u;
	int r;

	if ((u = curl_url()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if ((r = pluglib_url_set(u, CURLUPART_URL, url,
	    CURLU_NON_SUPPORT_SCHEME)) < 0) {
		curl_url_cleanup(u);
		errno = -r;
		return NULL;
	}
	return u;
}

char *
pluglib_url_string(CURLU *u)
{
	CURLUcode rc;
	char *c, *s;

	if ((rc = curl_url_get(u, CURLUPART_URL, &c, 0)) != CURLUE_OK) {
		errno = rc == CURLUE_OUT_OF_MEMORY ? ENOMEM : EINVAL;
		return NULL;
	}
	/* curl_free() is not free(): hand out malloc()ed memory only. */
	s = strdup(c);
	curl_free(c);
	return s;
}

int
pluglib_url_set(CURLU *u, CURLUPart what, const char *part,
    unsigned int flags)
{
	CURLUcode rc = curl_url_set(u, what, part, flags);

	if (rc == CURLUE_OK)
		return 0;
	return rc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
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
	size_t nl, vl;
	char *h;
	int r = 0;

	va_start(ap, req);
	while (r == 0 && (name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value == NULL || strpbrk(value, "\r\n") != NULL)
			r = -EINVAL;
		else if (req->nheaders >= DUTYD_MAX_HEADERS)
			r = -E2BIG;
		/* Copied, not printed: asprintf() was most of a header's cost. */
		else if ((h = malloc((nl = strlen(name)) +
		    (vl = strlen(value)) + 3)) == NULL)
			r = -ENOMEM;
		else {
			memcpy(h, name, nl);
			memcpy(h + nl, ": ", 2);
			memcpy(h + nl + 2, value, vl + 1);
			req->headers[req->nheaders++] = h;
		}
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

int
pluglib_base64(const void *in, size_t len, char *out, size_t outlen)
{
	if (len > INT_MAX / 2 || outlen < PLUGLIB_BASE64_SIZE(len))
		return -ENOBUFS;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return 0;
}

EVP_MAC_CTX *
pluglib_hmac_new(const char *digest, const struct pluglib_span *key,
    size_t nkey, struct dutyd_error *err)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};
	unsigned char *joined;
	size_t len = 0, i;
	EVP_MAC_CTX *c = NULL;
	EVP_MAC *mac = NULL;

	for (i = 0; i < nkey; i++)
		len += key[i].len;
	/* EVP_MAC_init() takes the key in one piece. */
	if ((joined = malloc(len ? len : 1)) == NULL) {
		pluglib_error(err, -1, "out of memory");
		return NULL;
	}
	for (len = 0, i = 0; i < nkey; len += key[i++].len)
		memcpy(joined + len, key[i].data, key[i].len);
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (c = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(c, joined, len, params) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	EVP_MAC_free(mac);
	explicit_bzero(joined, len);
	free(joined);
	if (c == NULL) {
		pluglib_error(err, -1, "cannot set up HMAC-%s (OpenSSL)",
		    digest);
		errno = EIO;
	}
	return c;
}

int
pluglib_secret(const char *value, const char *digest, char **copy,
    EVP_MAC_CTX **hmac, struct dutyd_error *err)
{
	struct pluglib_span key;

	if (value == NULL)
		return 0;
	if ((*copy = strdup(value)) == NULL) {
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	key.data = *copy;
	key.len = strlen(*copy);
	if (digest != NULL &&
	    (*hmac = pluglib_hmac_new(digest, &key, 1, err)) == NULL)
		return -errno;
	return 0;
}

/* Lower-case hex of len bytes, NUL-terminated; -ENOBUFS if out is short. */
static int
pluglib_hex(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (outlen < 2 * len + 1)
		return -ENOBUFS;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
	return 0;
}

int
pluglib_hmac_sign(EVP_MAC_CTX *keyed, const struct pluglib_span *msg,
    size_t nmsg, enum pluglib_text as, char *out, size_t outlen)
{
	/*
	 * Without a key, init copies the keyed inner digest state back: the
	 * key schedule is not done again, and neither a copy of the whole
	 * context nor its wiping free is paid per message (a copy per
	 * message cost 4 k instructions of a webhook's 130 k).
	 */
	if (EVP_MAC_init(keyed, NULL, 0, NULL) != 1)
		return -EIO;
	return pluglib_hmac_more(keyed, msg, nmsg, as, out, outlen);
}

int
pluglib_hmac_more(EVP_MAC_CTX *c, const struct pluglib_span *msg,
    size_t nmsg, enum pluglib_text as, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0, i;
	int ok = 1;

	for (i = 0; i < nmsg && ok; i++)
		ok = EVP_MAC_update(c, msg[i].data, msg[i].len) == 1;
	ok = ok && EVP_MAC_final(c, md, &mdlen, sizeof(md)) == 1;
	if (!ok)
		return -EIO;
	return as == PLUGLIB_HEX ? pluglib_hex(md, mdlen, out, outlen) :
	    pluglib_base64(md, mdlen, out, outlen);
}

int
pluglib_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	int len, i;

	if (n == 0)
		return -1;
	if (u[0] < 0x80) {
		len = 1;
		c = u[0];
	} else if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3;
		c = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4;
		c = u[0] & 0x07;
	} else
		return -1;	/* a continuation byte, or never in UTF-8 */
	if ((size_t)len > n)
		return -1;
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (u[i] & 0x3f);
	}
	/* Overlong forms would let one character pass for another. */
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return -1;
	if (cp != NULL)
		*cp = c;
	return len;
}

int
pluglib_utf8_ok(const char *s)
{
	size_t n = strlen(s), i;
	int l;

	for (i = 0; i < n; i += (size_t)l)
		if ((l = pluglib_utf8_next(s + i, n - i, NULL)) < 0)
			return 0;
	return 1;
}

int
pluglib_json_plain(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s, *end = u + len;
	unsigned char c, lo, hi;
	uint64_t w;
	size_t n;

	/*
	 * Unicode's well-formed sequences (table 3-7): the second byte's range
	 * is what rules out overlong forms, surrogates and code points past
	 * U+10FFFF, the rest are any continuation byte.
	 */
	while (u < end) {
		c = *u;
		if (c < 0x80) {
			if (c < 0x20 || c == '"' || c == '\\')
				return 0;
			u++;
			continue;
		}
		/*
		 * A run of Chinese: three-byte characters led by E1-EC, EE or
		 * EF, with no second byte to range-check, two at a time, then
		 * one: a webhook's 1 KB text checked in 4.6 k instructions, not 10 k.
		 */
		while (end - u >= 8) {
			memcpy(&w, u, 8);
			w = le64toh(w);
			if ((w & 0xc0c0f0c0c0f0) != 0x8080e08080e0 ||
			    u[0] == 0xe0 || u[0] == 0xed || u[3] == 0xe0 ||
			    u[3] == 0xed)
				break;
			u += 6;
		}
		while (end - u >= 3 && (unsigned)(u[0] - 0xe1) <= 0x0e &&
		    u[0] != 0xed && (u[1] & 0xc0) == 0x80 &&
		    (u[2] & 0xc0) == 0x80)
			u += 3;
		if (u == end)
			break;
		if ((c = *u) < 0x80)
			continue;
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xe0 && c <= 0xef) {	/* Chinese: the common case */
			n = 3;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if ((size_t)(end - u) < n || u[1] < lo || u[1] > hi ||
		    (n > 2 && (u[2] & 0xc0) != 0x80) ||
		    (n > 3 && (u[3] & 0xc0) != 0x80))
			return 0;
		u += n;
	}
	return 1;
}

size_t
pluglib_utf8_cut(const char *s, size_t len, size_t max, size_t max_chars)
{
	size_t i = 0, chars;
	int l;

	if (len <= max && len <= max_chars)
		return len;
	for (chars = 0; i < len && chars < max_chars; chars++) {
		if ((l = pluglib_utf8_next(s + i, len - i, NULL)) < 0)
			l = 1;
		if (i + (size_t)l > max)
			break;
		i += (size_t)l;
	}
	return i;
}

void
pluglib_quote(char *dst, size_t dstlen, const char *src, size_t len,
    size_t max)
{
	size_t i = 0, o = 0;
	uint32_t cp;
	int n;

	while (i < len && o + 5 < dstlen) {
		n = pluglib_utf8_next(src + i, len - i, &cp);
		if (i + (n > 0 ? (size_t)n : 1) > max)
			break;
		if (n < 0) {
			dst[o++] = '?';
			i++;
		} else if (cp < 0x20 || cp == 0x7f) {
			dst[o++] = ' ';
			i++;
		} else {
			memcpy(dst + o, src + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
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
	    max - hl - tl - 3 : 0, SIZE_MAX);
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
