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
