/*
 * chatbot: configure, build and parse for the group robots; the vendors'
 * differences come in through struct chatbot_vendor.  See chatbot.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "chatbot.h"

#define CHATBOT_QUOTE_BODY	100	/* response bytes in a detail */
#define CHATBOT_QUOTE_MSG	120	/* errmsg bytes in a detail */

void
chatbot_release(void *arg)
{
	struct chatbot *cb = arg;

	if (cb == NULL)
		return;
	free(cb->url);
	EVP_MAC_CTX_free(cb->hmac);
	pluglib_free_secret(cb->secret);
	free(cb);
}

/*
 * 1 if url's query has a parameter starting with token ("key="), 0 if
 * not; -errno if libcurl cannot take url again (out of memory).
 */
static int
chatbot_has_token(const char *url, const char *token)
{
	size_t n = strlen(token);
	char *query = NULL;
	const char *p;
	CURLU *u;
	int found = 0;

	if ((u = pluglib_url_handle(url)) == NULL)
		return -errno;
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK)
		for (p = query; p != NULL && !found; p = strchr(p, '&'))
			found = strncmp(p + (*p == '&'), token, n) == 0;
	curl_free(query);
	curl_url_cleanup(u);
	return found;
}

/* The url given, http(s), holding the vendor's token. */
static int
chatbot_url(const struct chatbot_vendor *v, const char *url, int idx,
    struct dutyd_error *err)
{
	char rule[256];
	int r;

	if (url == NULL) {
		pluglib_error(err, -1, "the %s channel needs a url: the "
		    "robot's webhook address, %s", v->channel, v->example);
		return -EINVAL;
	}
	snprintf(rule, sizeof(rule), "url must be an http:// or https:// "
	    "address with a host and no spaces, e.g. %s", v->example);
	if ((r = pluglib_url_option(url, idx, pluglib_http_schemes,
	    PLUGLIB_URL_LOGIN, rule, err)) < 0)
		return r;
	if (v->token != NULL && (r = chatbot_has_token(url, v->token)) <= 0) {
		if (r == 0)
			pluglib_error(err, idx, "url has no %s: copy the whole "
			    "webhook address from the robot's settings in the "
			    "%s group", v->token, v->vendor);
		else
			pluglib_error(err, -1, "out of memory");
		return r < 0 ? r : -EINVAL;
	}
	return 0;
}

int
chatbot_configure(const struct chatbot_vendor *v,
    const struct dutyd_option *opts, size_t nopts, void **state,
    struct dutyd_error *err)
{
	const struct chatbot_style *style = v->style;
	const char *val[CHATBOT_KEYS_MAX], *secret = NULL;
	int idx[CHATBOT_KEYS_MAX], r;
	struct chatbot *cb;
	size_t k;

	*state = NULL;
	if (v->nkeys > CHATBOT_KEYS_MAX) {
		pluglib_error(err, -1, "the %s plugin knows more options than "
		    "chatbot can sort: raise CHATBOT_KEYS_MAX", v->channel);
		return -E2BIG;
	}
	if ((r = pluglib_options(v->channel, v->keys, v->nkeys, opts, nopts,
	    val, idx, err)) < 0 ||
	    (r = chatbot_url(v, val[0], idx[0], err)) < 0 ||
	    (v->options != NULL && (r = v->options(val, idx, &style,
	    err)) < 0))
		return r;
	for (k = 0; k < v->nkeys; k++)
		if (strcmp(v->keys[k].name, "secret") == 0)
			secret = val[k];
	if ((cb = calloc(1, sizeof(*cb))) == NULL ||
	    (cb->url = strdup(val[0])) == NULL) {
		chatbot_release(cb);
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	cb->vendor = v;
	cb->style = style;
	if ((r = pluglib_secret(secret, v->hmac_digest, &cb->secret,
	    &cb->hmac, err)) < 0)
		chatbot_release(cb);
	else
		*state = cb;
	return r;
}

/*
 * The text as the style lays it out: title, the message, the link, the
 * mentions.  Only the message is shortened to fit.
 */
static int
chatbot_text(const struct chatbot *cb, const struct dutyd_message *msg,
    char **out)
{
	const struct chatbot_style *st = cb->style;
	const char *title = msg->title != NULL ? msg->title : "";
	const struct dutyd_recipient *r;
	char *tail = NULL, *head = NULL;
	size_t taillen = 0, i;
	FILE *f;
	int sep = 0, rc;

	*out = NULL;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (pluglib_link_missing(msg) && st->markdown)
		fprintf(f, "%s[%s](%s)", st->gap, msg->url, msg->url);
	else if (pluglib_link_missing(msg))
		fprintf(f, "%s%s", st->gap, msg->url);
	for (i = 0; st->mention != NULL && i < msg->nrecipients; i++)
		if ((r = pluglib_mention(msg, i)) != NULL) {
			fputs(sep++ ? " " : st->gap, f);
			st->mention(f, r);
		}
	if ((rc = pluglib_memstream_close(f, &tail)) < 0)
		return rc;
	if (title[0] == '\0' ? (head = strdup("")) == NULL :
	    asprintf(&head, "%s%s%s", st->title[0], title, st->title[1]) ==
	    -1) {
		free(tail);
		return -ENOMEM;
	}
	rc = pluglib_fit(head, msg->text, tail, st->max +
	    (st->max_untitled ? strlen(head) : 0), out);
	free(head);
	free(tail);
	return rc;
}

int
chatbot_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	const struct chatbot *cb = arg;
	json_t *body;
	char *text;
	int r;

	if (msg->text == NULL || msg->recipients == NULL)
		return -EINVAL;
	if ((r = chatbot_text(cb, msg, &text)) < 0)
		return r;
	body = cb->vendor->body(cb, msg, text);
	free(text);
	if (body == NULL)
		return -EINVAL;	/* a string that is not UTF-8 */
	snprintf(req->method, sizeof(req->method), "POST");
	if (cb->secret != NULL && cb->vendor->sign != NULL &&
	    (r = cb->vendor->sign(cb, msg, body, &req->url)) < 0) {
		json_decref(body);
		return r;
	}
	if ((r = pluglib_json_dump(body, &req->body, &req->body_len)) < 0)
		return r;
	if (req->url == NULL && (req->url = strdup(cb->url)) == NULL)
		return -ENOMEM;
	return pluglib_json_headers(req, msg->delivery_id);
}

void
chatbot_sign_spans(const struct chatbot *cb, const char *ts,
    struct pluglib_span spans[3])
{
	spans[0].data = ts;
	spans[0].len = strlen(ts);
	spans[1].data = "\n";
	spans[1].len = 1;
	spans[2].data = cb->secret;
	spans[2].len = strlen(cb->secret);
}

/* The code and message of the vendor's reply; -ENOENT: not its reply. */
static int
chatbot_reply(const struct chatbot_vendor *v, json_t *root, long long *code,
    const char **msg)
{
	size_t i;

	for (i = 0; i < 2 && v->reply[i][0] != NULL; i++)
		if (pluglib_json_code(root, v->reply[i][0], v->reply[i][1],
		    code, msg) == 0)
			return 0;
	return -ENOENT;
}

static const struct chatbot_code *
chatbot_lookup(const struct chatbot_vendor *v, long long code)
{
	static const struct chatbot_code other = { 0, DUTYD_RETRY, 0, NULL };
	size_t i;

	for (i = 0; i < v->ncodes; i++)
		if (v->codes[i].code == code)
			return &v->codes[i];
	return &other;
}

static void
chatbot_vendor_said(struct dutyd_result *res, const struct chatbot_code *c,
    long long code, const char *msg)
{
	char quote[CHATBOT_QUOTE_MSG + 8];

	pluglib_quote(quote, sizeof(quote), msg, strlen(msg),
	    CHATBOT_QUOTE_MSG);
	res->outcome = c->outcome;
	res->retry_after_ms = c->wait_ms;
	snprintf(res->detail, sizeof(res->detail), "errcode %lld: %s%s%s%s",
	    code, quote, c->hint ? " (" : "", c->hint ? c->hint : "",
	    c->hint ? ")" : "");
}

int
chatbot_parse(const struct chatbot_vendor *v,
    const struct dutyd_response *resp, struct dutyd_result *res)
{
	char quote[CHATBOT_QUOTE_BODY + 8];
	const struct chatbot_code *c = NULL;
	const char *msg = "";
	long long code = 0;
	json_t *reply;

	if (pluglib_parse_start(resp, res))
		return 0;
	pluglib_quote(quote, sizeof(quote), resp->body,
	    resp->body ? resp->body_len : 0, CHATBOT_QUOTE_BODY);
	if ((reply = pluglib_json_load(resp)) != NULL &&
	    chatbot_reply(v, reply, &code, &msg) == 0)
		c = chatbot_lookup(v, code);
	if (pluglib_is_2xx(resp->status) && c != NULL)
		chatbot_vendor_said(res, c, code, msg);
	else if (pluglib_is_2xx(resp->status))
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld but not "
		    "a %s reply: %s", resp->status, v->vendor, quote);
	else if (c != NULL && c->wait_ms > 0) {
		/* Rate limited, whatever the status says. */
		chatbot_vendor_said(res, c, code, msg);
		res->retry_after_ms = pluglib_retry_after(resp, c->wait_ms);
	} else {
		if (resp->status == 429)
			res->retry_after_ms = pluglib_retry_after(resp,
			    v->rate_wait_ms);
		else if (resp->status < 500)
			res->outcome = DUTYD_FAILED;
		pluglib_http_detail(res, resp->status, quote);
	}
	json_decref(reply);
	return 0;
}
