/*
 * webhook: POST the message as JSON to any http(s) URL.  With a secret, the
 * body is signed so the receiver can tell dutyd from anyone else:
 *
 *   X-Dutyd-Signature: sha256=<hex HMAC-SHA256(key=secret, msg=body bytes)>
 *
 * Options: url (required), secret (optional).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "plugin.h"
#include "pluglib.h"

#define WEBHOOK_DETAIL_BODY	100	/* response bytes quoted in a detail */

/* Where the body's bytes that recipients may share end (webhook_body()). */
enum { WEBHOOK_CUT_INCIDENT, WEBHOOK_CUT_TEXT, WEBHOOK_NCUT };

struct webhook {
	char		*url;
	char		*secret;
	EVP_MAC_CTX	*hmac;	/* keyed once: OpenSSL 3's one-shot HMAC() costs a provider fetch per call */
	/*
	 * hmac after the first pre_len[i] bytes of the last body signed from
	 * the key (its incident; its text up to the link: the same for every
	 * recipient of an event), and those bytes: a body that begins with
	 * them signs only the rest, from a copy of pre[i].  One body a
	 * channel: the recipients of one event come one after the other.
	 * The bytes are compared, never trusted by pointer.
	 */
	EVP_MAC_CTX	*pre[WEBHOOK_NCUT];
	size_t		 pre_len[WEBHOOK_NCUT];
	char		*pre_bytes;
	size_t		 pre_cap;	/* pre_bytes' size, kept for the next body */
};

/* Drops the kept contexts (their memory is wiped). */
static void
webhook_forget(struct webhook *w)
{
	size_t i;

	for (i = 0; i < sizeof(w->pre) / sizeof(w->pre[0]); i++) {
		EVP_MAC_CTX_free(w->pre[i]);
		w->pre[i] = NULL;
		w->pre_len[i] = 0;
	}
}

enum { OPT_URL, OPT_SECRET, OPT_N };
static const struct pluglib_key webhook_keys[OPT_N] = {
	{ "url", NULL, pluglib_http_url_check, "url must be an http:// or "
	    "https:// address with a host and no spaces, e.g. "
	    "https://example.org/dutyd-hook" },
	{ "secret", "set it to the receiver's shared secret, or remove it to "
	    "send unsigned", NULL, NULL },
};

static void
webhook_release(void *arg)
{
	struct webhook *w = arg;

	if (w == NULL)
		return;
	free(w->url);
	EVP_MAC_CTX_free(w->hmac);
	webhook_forget(w);
	free(w->pre_bytes);
	pluglib_free_secret(w->secret);
	free(w);
}

static int
webhook_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N];
	int idx[OPT_N];
	struct webhook *w;
	int r;

	*state = NULL;
	if ((r = pluglib_options("webhook", webhook_keys, OPT_N, opts, nopts,
	    val, idx, err)) < 0)
		return r;
	if (val[OPT_URL] == NULL) {
		pluglib_error(err, -1, "the webhook channel needs a url "
		    "(http:// or https://) to POST to");
		return -EINVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->url = strdup(val[OPT_URL])) == NULL) {
		webhook_release(w);
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	if ((r = pluglib_secret(val[OPT_SECRET], "SHA256", &w->secret,
	    &w->hmac, err)) < 0)
		webhook_release(w);
	else
		*state = w;
	return r;
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

/*
 * The body, {"event","incident","text","url","delivery","recipient":{"id",
 * "name","to"}} in that order and compact, as json_dumps() of that object
 * writes it: each value is jansson's encoding of it (a NULL is null, text
 * that is not UTF-8 fails), only the frame around them is written here.
 * One object dumped per message cost jansson a loop check per container
 * (a "%p" key in a hash table) and two more passes over the text.
 *
 * What every recipient of an event gets alike comes first: the incident
 * (two thirds of a body) and the text, which differs between them in its
 * link, the recipient's own one-tap link, and what follows it.  Their
 * signatures start from the context kept after those bytes
 * (webhook_sign()).
 */
struct webhook_field {
	const char	*frame;		/* what comes before the value */
	const char	*value;
	int		 required;	/* NULL is refused, not null */
};

/*
 * Whether jansson writes S as it is between quotes: valid UTF-8 (which it
 * requires) with no control character, quote or backslash to escape.
 * Copying those bytes costs a fifth of dumping them (the message text,
 * a third of a body).
 */
static int
webhook_plain(const char *s, size_t *n)
{
	size_t	len = strlen(s);

	if (!pluglib_json_plain(s, len))
		return 0;
	*n = len;
	return 1;
}

/* Appends the JSON for s (NULL: null) at buf[*len], room permitting. */
static int
webhook_value(const char *s, char *buf, size_t size, size_t *len)
{
	json_t	*j;
	size_t	 n;

	if (s == NULL) {
		if (size - *len < 4)
			return -ENOSPC;
		memcpy(buf + *len, "null", 4);
		*len += 4;
		return 0;
	}
	if (webhook_plain(s, &n)) {
		if (size - *len < n + 2)
			return -ENOSPC;
		buf[*len] = '"';
		memcpy(buf + *len + 1, s, n);
		buf[*len + 1 + n] = '"';
		*len += n + 2;
		return 0;
	}
	/* Checked as it is written: dumping refuses what is not UTF-8. */
	if ((j = json_string_nocheck(s)) == NULL)
		return -ENOMEM;
	n = json_dumpb(j, buf + *len, size - *len, JSON_ENCODE_ANY |
	    JSON_COMPACT);
	json_decref(j);
	if (n == 0 || n > size - *len)
		return -EINVAL;
	*len += n;
	return 0;
}

/*
 * cut[WEBHOOK_CUT_INCIDENT]: the length of the body up to the end of the
 * incident; cut[WEBHOOK_CUT_TEXT]: up to where the url first shows in the
 * text, or the end of the text.  Only where to keep a signing context: a
 * body signs from one only when it starts with the very same bytes.
 */
static int
webhook_body(const struct dutyd_message *msg, char **out, size_t *outlen,
    size_t cut[WEBHOOK_NCUT])
{
	const struct webhook_field f[] = {
		{ "{\"event\":", msg->event, 1 },
		{ ",\"incident\":", NULL, 0 },	/* spliced in as it is */
		{ ",\"text\":", msg->text, 0 },
		{ ",\"url\":", msg->url, 0 },
		{ ",\"delivery\":", msg->delivery_id, 1 },
		{ ",\"recipient\":{\"id\":", msg->recipient.id, 0 },
		{ ",\"name\":", msg->recipient.name, 0 },
		{ ",\"to\":", msg->recipient.to, 0 },
	};
	size_t	 i, size, len = 0, il, fl, ul;
	char	*buf;
	const char *at;
	int	 r = 0;

	*out = NULL;
	if (!webhook_is_object(msg->incident_json))
		return -EINVAL;
	il = strlen(msg->incident_json);
	/* A byte escaped takes six at most (\u001f); each value is quoted. */
	size = il + 3;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].required && f[i].value == NULL)
			return -EINVAL;
		size += strlen(f[i].frame) + 6 +
		    (f[i].value != NULL ? 6 * strlen(f[i].value) : 0);
	}
	if ((buf = malloc(size)) == NULL)
		return -ENOMEM;
	for (i = 0; r == 0 && i < sizeof(f) / sizeof(f[0]); i++) {
		fl = strlen(f[i].frame);
		memcpy(buf + len, f[i].frame, fl);
		len += fl;
		if (i == 1) {
			memcpy(buf + len, msg->incident_json, il);
			len += il;
			cut[WEBHOOK_CUT_INCIDENT] = len;
			continue;
		}
		at = buf + len;
		r = webhook_value(f[i].value, buf, size - 3, &len);
		if (i != 2)
			continue;
		cut[WEBHOOK_CUT_TEXT] = len;
		if (msg->url != NULL && (ul = strlen(msg->url)) > 0 &&
		    (at = memmem(at, (size_t)(buf + len - at), msg->url,
		    ul)) != NULL)
			cut[WEBHOOK_CUT_TEXT] = (size_t)(at - buf);
	}
	if (r != 0) {
		free(buf);
		return r == -ENOMEM ? r : -EINVAL;
	}
	buf[len++] = '}';
	buf[len++] = '}';
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/*
 * hex = HMAC(secret, body), as a signature from the key would be.  The
 * body signs from the longest kept context whose bytes it starts with;
 * otherwise from the key, keeping a context at each of its cuts for the
 * bodies after it (the next recipients of the event).
 */
static int
webhook_sign(struct webhook *w, const char *body, size_t len,
    const size_t cut[WEBHOOK_NCUT], char *hex, size_t hexlen)
{
	struct pluglib_span rest;
	EVP_MAC_CTX *c = NULL;
	size_t at = 0, i;
	int r, k = -1;

	/* Kept contexts cover ever longer prefixes of pre_bytes. */
	for (i = 0; i < WEBHOOK_NCUT && w->pre[i] != NULL &&
	    w->pre_len[i] <= len && memcmp(body + at, w->pre_bytes + at,
	    w->pre_len[i] - at) == 0; i++) {
		at = w->pre_len[i];
		k = (int)i;
	}
	/* Without memory for the copy, the signature starts from the key. */
	if (k >= 0 && (c = EVP_MAC_CTX_dup(w->pre[k])) != NULL) {
		rest.data = body + at;
		rest.len = len - at;
		r = pluglib_hmac_more(c, &rest, 1, PLUGLIB_HEX, hex, hexlen);
		EVP_MAC_CTX_free(c);
		return r;
	}
	webhook_forget(w);
	if (EVP_MAC_init(w->hmac, NULL, 0, NULL) != 1)
		return -EIO;
	/* Keeping them only saves work: without memory, sign all the same. */
	if (w->pre_cap < cut[WEBHOOK_NCUT - 1]) {
		free(w->pre_bytes);
		w->pre_cap = 0;
		if ((w->pre_bytes = malloc(cut[WEBHOOK_NCUT - 1])) != NULL)
			w->pre_cap = cut[WEBHOOK_NCUT - 1];
	}
	for (at = 0, i = 0; i < WEBHOOK_NCUT; i++) {
		if (cut[i] < at || cut[i] > len)
			break;	/* cannot be: keep what came before */
		if (EVP_MAC_update(w->hmac, (const unsigned char *)body + at,
		    cut[i] - at) != 1)
			return -EIO;
		at = cut[i];
		if (w->pre_cap < at ||
		    (w->pre[i] = EVP_MAC_CTX_dup(w->hmac)) == NULL)
			break;
		w->pre_len[i] = at;
	}
	if (i > 0)
		memcpy(w->pre_bytes, body, w->pre_len[i - 1]);
	rest.data = body + at;
	rest.len = len - at;
	return pluglib_hmac_more(w->hmac, &rest, 1, PLUGLIB_HEX, hex, hexlen);
}

static int
webhook_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct webhook *w = arg;
	char hex[PLUGLIB_MAC_TEXT], sig[sizeof(hex) + 8];
	size_t cut[WEBHOOK_NCUT] = { 0, 0 };
	int r;

	if (msg->event == NULL || msg->delivery_id == NULL ||
	    msg->incident_json == NULL)
		return -EINVAL;
	if ((r = pluglib_post(req, w->url)) < 0 ||
	    (r = webhook_body(msg, &req->body, &req->body_len, cut)) < 0 ||
	    (r = pluglib_headers(req, "Content-Type", "application/json",
	    "User-Agent", "dutyd", "X-Dutyd-Event", msg->event,
	    "X-Dutyd-Delivery", msg->delivery_id, NULL)) < 0)
		return r;
	if (w->secret == NULL)
		return 0;
	if ((r = webhook_sign(w, req->body, req->body_len, cut, hex,
	    sizeof(hex))) < 0)
		return r;
	snprintf(sig, sizeof(sig), "sha256=%s", hex);
	return pluglib_headers(req, "X-Dutyd-Signature", sig, NULL);
}

static int
webhook_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[WEBHOOK_DETAIL_BODY + 8];

	if (pluglib_parse_start(resp, res))
		return 0;
	if (pluglib_is_2xx(resp->status)) {
		res->outcome = DUTYD_DELIVERED;
		pluglib_http_detail(res, resp->status, "");
		return 0;
	}
	pluglib_quote(quote, sizeof(quote), resp->body,
	    resp->body ? resp->body_len : 0, WEBHOOK_DETAIL_BODY);
	pluglib_http_detail(res, resp->status, quote);
	return 0;
}

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
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
