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

#include <curl/curl.h>
#include <jansson.h>

#include "plugin.h"
#include "chatbot.h"

/* No documented limit found: this keeps a runaway template well inside any. */
#define DINGTALK_TEXT_MAX	16000
#define DINGTALK_RATE_WAIT	60000	/* the limit is per minute */

static const struct pluglib_key dingtalk_keys[] = {
	{ "url", "copy the robot's webhook address from the group's robot "
	    "settings", NULL, NULL },
	{ "secret", "set it to the robot's signing secret (SEC...), or remove "
	    "it if the robot does not sign", NULL, NULL },
};

/*
 * errcode → outcome.  Sources: DingTalk's custom robot documentation and the
 * replies users report.  Codes not listed are retried with backoff.
 */
static const struct chatbot_code dingtalk_codes[] = {
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

/* DingTalk notifies a mention only when the number is also in the text. */
static void
dingtalk_mention(FILE *f, const struct dutyd_recipient *r)
{
	fprintf(f, "@%s", r->to);
}

/* The cap is on the message and what follows it, not the heading. */
static const struct chatbot_style dingtalk_style = {
	.title = { "#### ", "\n\n" },
	.gap = "\n\n",
	.markdown = 1,
	.mention = dingtalk_mention,
	.max = DINGTALK_TEXT_MAX,
	.max_untitled = 1,
};

static json_t *
dingtalk_body(const struct chatbot *cb, const struct dutyd_message *msg,
    const char *text)
{
	const char *title = msg->title != NULL ? msg->title : "";
	json_t *mobiles;

	if (pluglib_mention_list(msg, &mobiles) < 0)
		return NULL;
	/* markdown.title is what the chat list and the notification show. */
	return json_pack("{s:s, s:{s:s, s:s}, s:{s:o, s:b}}",
	    "msgtype", "markdown",
	    "markdown", "title", title[0] != '\0' ? title : "dutyd",
	    "text", text,
	    "at", "atMobiles", mobiles, "isAtAll", 0);
}

/* The webhook URL with timestamp= and sign= added to its query. */
static int
dingtalk_sign(const struct chatbot *cb, const struct dutyd_message *msg,
    json_t *body, char **url)
{
	char ts[24], sign[PLUGLIB_MAC_TEXT + 8];
	char b64[PLUGLIB_MAC_TEXT], param[sizeof(ts) + 16];
	struct pluglib_span in[3];
	CURLU *u;
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)msg->now_ms);
	chatbot_sign_spans(cb, ts, in);
	if ((r = pluglib_hmac_sign(cb->hmac, in, 3, PLUGLIB_BASE64, b64,
	    sizeof(b64))) < 0)
		return r;
	snprintf(param, sizeof(param), "timestamp=%s", ts);
	snprintf(sign, sizeof(sign), "sign=%s", b64);
	if ((u = pluglib_url_handle(cb->url)) == NULL)
		return -errno;
	/* libcurl encodes base64's + / =, which a query would misread. */
	if ((r = pluglib_url_set(u, CURLUPART_QUERY, param,
	    CURLU_APPENDQUERY)) == 0 &&
	    (r = pluglib_url_set(u, CURLUPART_QUERY, sign,
	    CURLU_APPENDQUERY | CURLU_URLENCODE)) == 0 &&
	    (*url = pluglib_url_string(u)) == NULL)
		r = -errno;
	curl_url_cleanup(u);
	return r;
}

static const struct chatbot_vendor dingtalk_bot = {
	.channel = "dingtalk",
	.vendor = "DingTalk",
	.keys = dingtalk_keys,
	.nkeys = sizeof(dingtalk_keys) / sizeof(dingtalk_keys[0]),
	.example = "https://oapi.dingtalk.com/robot/send?access_token=...",
	.token = "access_token=",
	.reply = { { "errcode", "errmsg" } },
	.codes = dingtalk_codes,
	.ncodes = sizeof(dingtalk_codes) / sizeof(dingtalk_codes[0]),
	.rate_wait_ms = DINGTALK_RATE_WAIT,
	.style = &dingtalk_style,
	.hmac_digest = "SHA256",
	.body = dingtalk_body,
	.sign = dingtalk_sign,
};

static int
dingtalk_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	return chatbot_configure(&dingtalk_bot, opts, nopts, state, err);
}

static int
dingtalk_parse(void *state, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return chatbot_parse(&dingtalk_bot, resp, res);
}

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "dingtalk",
	.description = "DingTalk custom group robot (自定义机器人): markdown, "
	    "@-mentions by mobile, optional signing secret",
	.configure = dingtalk_configure,
	.release = chatbot_release,
	.build = chatbot_build,
	.parse = dingtalk_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 20,
};
