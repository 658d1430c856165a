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

struct webhook {
	char		*url;
	char		*secret;
	EVP_MAC_CTX	*hmac;	/* keyed once: OpenSSL 3's one-shot HMAC() costs a provider fetch per call */
};

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
 * The body, {"event","delivery","incident","recipient":{"id","name","to"},
 * "text","url"} in that order and compact, as json_dumps() of that object
 * writes it: each value is jansson's encoding of it (a NULL is null, text
 * that is not UTF-8 fails), only the frame around them is written here.
 * One object dumped per message cost jansson a loop check per container
 * (a "%p" key in a hash table) and two more passes over the text.
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

static int
webhook_body(const struct dutyd_message *msg, char **out, size_t *outlen)
{
	const struct webhook_field f[] = {
		{ "{\"event\":", msg->event, 1 },
		{ ",\"delivery\":", msg->delivery_id, 1 },
		{ ",\"incident\":", NULL, 0 },	/* spliced in as it is */
		{ ",\"recipient\":{\"id\":", msg->recipient.id, 0 },
		{ ",\"name\":", msg->recipient.name, 0 },
		{ ",\"to\":", msg->recipient.to, 0 },
		{ "},\"text\":", msg->text, 0 },
		{ ",\"url\":", msg->url, 0 },
	};
	size_t	 i, size, len = 0, il, fl;
	char	*buf;
	int	 r = 0;

	*out = NULL;
	if (!webhook_is_object(msg->incident_json))
		return -EINVAL;
	il = strlen(msg->incident_json);
	/* A byte escaped takes six at most (\u001f); each value is quoted. */
	size = il + 2;
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
		if (i == 2) {
			memcpy(buf + len, msg->incident_json, il);
			len += il;
		} else
			r = webhook_value(f[i].value, buf, size - 2, &len);
	}
	if (r != 0) {
		free(buf);
		return r == -ENOMEM ? r : -EINVAL;
	}
	buf[len++] = '}';
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

static int
webhook_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct webhook *w = arg;
	char hex[PLUGLIB_MAC_TEXT], sig[sizeof(hex) + 8];
	struct pluglib_span in;
	int r;

	if (msg->event == NULL || msg->delivery_id == NULL ||
	    msg->incident_json == NULL)
		return -EINVAL;
	if ((r = pluglib_post(req, w->url)) < 0 ||
	    (r = webhook_body(msg, &req->body, &req->body_len)) < 0 ||
	    (r = pluglib_headers(req, "Content-Type", "application/json",
	    "User-Agent", "dutyd", "X-Dutyd-Event", msg->event,
	    "X-Dutyd-Delivery", msg->delivery_id, NULL)) < 0)
		return r;
	if (w->secret == NULL)
		return 0;
	in.data = req->body;
	in.len = req->body_len;
	if ((r = pluglib_hmac_sign(w->hmac, &in, 1, PLUGLIB_HEX, hex,
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
