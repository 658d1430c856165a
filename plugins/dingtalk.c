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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "plugin.h"
#include "pluglib.h"

/* No documented limit found: this keeps a runaway template well inside any. */
#define DINGTALK_TEXT_MAX	16000
#define DINGTALK_RATE_WAIT	60000	/* the limit is per minute */

struct dingtalk {
	char		*url;
	char		*secret;
	EVP_MAC_CTX	*hmac;	/* keyed once with the secret */
};

enum { OPT_URL, OPT_SECRET, OPT_N };
static const struct pluglib_key dingtalk_keys[OPT_N] = {
	{ "url", "copy the robot's webhook address from the group's robot "
	    "settings", NULL, NULL },
	{ "secret", "set it to the robot's signing secret (SEC...), or remove "
	    "it if the robot does not sign", NULL, NULL },
};

/*
 * errcode → outcome.  Sources: DingTalk's custom robot documentation and the
 * replies users report.  Codes not listed are retried with backoff.
 */
static const struct pluglib_code dingtalk_codes[] = {
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

static const struct pluglib_robot dingtalk_robot = {
	.channel = "dingtalk",
	.keys = dingtalk_keys,
	.nkeys = OPT_N,
	.vendor = "DingTalk",
	.example = "https://oapi.dingtalk.com/robot/send?access_token=...",
	.token = "access_token=",
	.reply = { { "errcode", "errmsg" } },
	.codes = dingtalk_codes,
	.ncodes = sizeof(dingtalk_codes) / sizeof(dingtalk_codes[0]),
	.rate_wait_ms = DINGTALK_RATE_WAIT,
};

static void
dingtalk_release(void *arg)
{
	struct dingtalk *d = arg;

	if (d == NULL)
		return;
	free(d->url);
	EVP_MAC_CTX_free(d->hmac);
	pluglib_free_secret(d->secret);
	free(d);
}

static int
dingtalk_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N];
	int idx[OPT_N], r;
	struct dingtalk *d;

	*state = NULL;
	if ((r = pluglib_robot_options(&dingtalk_robot, opts, nopts, val, idx,
	    err)) < 0)
		return r;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->url = strdup(val[OPT_URL])) == NULL ||
	    (val[OPT_SECRET] != NULL &&
	    (d->secret = strdup(val[OPT_SECRET])) == NULL)) {
		dingtalk_release(d);
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	if (d->secret != NULL && (d->hmac = pluglib_hmac_new(NULL, "SHA256",
	    d->secret, strlen(d->secret))) == NULL) {
		dingtalk_release(d);
		pluglib_error(err, -1, "cannot set up HMAC-SHA256 (OpenSSL)");
		return -EIO;
	}
	*state = d;
	return 0;
}

/* The webhook URL with &timestamp=&sign= appended, or a copy of it unsigned. */
static int
dingtalk_url(const struct dingtalk *d, int64_t now_ms, char **out)
{
	char ts[24], b64[PLUGLIB_BASE64_SIZE(EVP_MAX_MD_SIZE)], *esc;
	struct pluglib_span in[3] = { { ts, 0 }, { "\n", 1 }, { NULL, 0 } };
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen;
	int r;

	if (d->secret == NULL)
		return (*out = strdup(d->url)) == NULL ? -ENOMEM : 0;
	snprintf(ts, sizeof(ts), "%lld", (long long)now_ms);
	in[0].len = strlen(ts);
	in[2].data = d->secret;
	in[2].len = strlen(d->secret);
	if ((r = pluglib_hmac(d->hmac, in, 3, md, &mdlen)) < 0 ||
	    (r = pluglib_base64(md, mdlen, b64, sizeof(b64))) < 0)
		return r;
	/* base64 has + / =, which a query string would misread. */
	if ((esc = pluglib_escape(b64)) == NULL)
		return -ENOMEM;
	r = asprintf(out, "%s%ctimestamp=%s&sign=%s", d->url,
	    strchr(d->url, '?') ? '&' : '?', ts, esc);
	free(esc);
	if (r == -1) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
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
	const struct dutyd_recipient *r;
	char *tail = NULL, *head = NULL;
	size_t taillen = 0, i;
	FILE *f;
	int sep = 0, rc;

	*out = NULL;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (pluglib_link_missing(msg))
		fprintf(f, "\n\n[%s](%s)", msg->url, msg->url);
	for (i = 0; i < msg->nrecipients; i++)
		if ((r = pluglib_mention(msg, i)) != NULL)
			fprintf(f, "%s@%s", sep++ ? " " : "\n\n", r->to);
	if ((rc = pluglib_memstream_close(f, &tail)) < 0)
		return rc;
	if (asprintf(&head, "%s%s%s", title[0] != '\0' ? "#### " : "", title,
	    title[0] != '\0' ? "\n\n" : "") == -1) {
		free(tail);
		return -ENOMEM;
	}
	/* The cap is on the message and what follows it, not the heading. */
	rc = pluglib_fit(head, msg->text, tail,
	    DINGTALK_TEXT_MAX + strlen(head), out);
	free(head);
	free(tail);
	return rc;
}

static int
dingtalk_body(const struct dutyd_message *msg, char **out, size_t *outlen)
{
	const char *title = msg->title != NULL ? msg->title : "";
	json_t *mobiles;
	char *text;
	int r;

	if ((r = dingtalk_text(msg, title, &text)) < 0)
		return r;
	if ((r = pluglib_mention_list(msg, &mobiles)) < 0) {
		free(text);
		return r;
	}
	/* markdown.title is what the chat list and the notification show. */
	r = pluglib_json_dump(json_pack("{s:s, s:{s:s, s:s}, s:{s:o, s:b}}",
	    "msgtype", "markdown",
	    "markdown", "title", title[0] != '\0' ? title : "dutyd",
	    "text", text,
	    "at", "atMobiles", mobiles, "isAtAll", 0), out, outlen);
	free(text);
	return r;
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
	    (r = dingtalk_body(msg, &req->body, &req->body_len)) < 0)
		return r;
	return pluglib_json_headers(req, msg->delivery_id);
}

static int
dingtalk_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return pluglib_robot_parse(&dingtalk_robot, resp, res);
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
