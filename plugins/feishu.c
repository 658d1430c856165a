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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin.h"
#include "chatbot.h"

/* The whole request body may be at most 20 KB. */
#define FEISHU_TEXT_MAX		16000
#define FEISHU_RATE_WAIT	60000	/* the limit is per minute */

static const struct pluglib_key feishu_keys[] = {
	{ "url", "copy the robot's webhook address from the group's robot "
	    "settings", NULL, NULL },
	{ "secret", "set it to the robot's signing secret, or remove it if the "
	    "robot does not sign", NULL, NULL },
};

/*
 * code → outcome.  Sources: Feishu's custom robot guide and the replies users
 * report.  Codes not listed are retried with backoff.
 */
static const struct chatbot_code feishu_codes[] = {
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

/*
 * An address that would break out of the tag's quotes is not put in one:
 * the person is named in plain text, and the message still goes out.
 */
static void
feishu_mention(FILE *f, const struct dutyd_recipient *r)
{
	const char *name = r->name != NULL && r->name[0] != '\0' &&
	    strpbrk(r->name, "<>") == NULL ? r->name : r->to;

	if (strpbrk(r->to, "\"<>") != NULL)
		fprintf(f, "@%s", name);
	else
		fprintf(f, "<at user_id=\"%s\">%s</at>", r->to, name);
}

static const struct chatbot_style feishu_style = {
	.title = { "", "\n" },
	.gap = "\n",
	.markdown = 0,
	.mention = feishu_mention,
	.max = FEISHU_TEXT_MAX,
};

static json_t *
feishu_body(const struct chatbot *cb, const struct dutyd_message *msg,
    const char *text)
{
	return json_pack("{s:s, s:{s:s}}", "msg_type", "text",
	    "content", "text", text);
}

/* timestamp and sign = base64(HMAC-SHA256(key=ts "\n" secret, msg="")). */
static int
feishu_sign(const struct chatbot *cb, const struct dutyd_message *msg,
    json_t *body, char **url)
{
	char ts[24], sign[PLUGLIB_MAC_TEXT];
	struct pluglib_span key[3];
	EVP_MAC_CTX *mac;
	int r;

	snprintf(ts, sizeof(ts), "%lld", (long long)(msg->now_ms / 1000));
	chatbot_sign_spans(cb, ts, key);
	/* A new key every time: keyed for this one message. */
	if ((mac = pluglib_hmac_new("SHA256", key, 3, NULL)) == NULL)
		return -errno;
	r = pluglib_hmac_sign(mac, NULL, 0, PLUGLIB_BASE64, sign,
	    sizeof(sign));
	EVP_MAC_CTX_free(mac);
	if (r < 0)
		return r;
	if (json_object_set_new(body, "timestamp", json_string(ts)) != 0 ||
	    json_object_set_new(body, "sign", json_string(sign)) != 0)
		return -ENOMEM;
	return 0;
}

static const struct chatbot_vendor feishu_bot = {
	.channel = "feishu",
	.vendor = "Feishu",
	.keys = feishu_keys,
	.nkeys = sizeof(feishu_keys) / sizeof(feishu_keys[0]),
	.example = "https://open.feishu.cn/open-apis/bot/v2/hook/...",
	.token = NULL,
	/* {"code":..,"msg":..}; older replies {"StatusCode":..,...} */
	.reply = { { "code", "msg" }, { "StatusCode", "StatusMessage" } },
	.codes = feishu_codes,
	.ncodes = sizeof(feishu_codes) / sizeof(feishu_codes[0]),
	.rate_wait_ms = FEISHU_RATE_WAIT,
	.style = &feishu_style,
	.hmac_digest = NULL,	/* the key changes with every message */
	.body = feishu_body,
	.sign = feishu_sign,
};

static int
feishu_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	return chatbot_configure(&feishu_bot, opts, nopts, state, err);
}

static int
feishu_parse(void *state, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return chatbot_parse(&feishu_bot, resp, res);
}

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "feishu",
	.description = "Feishu custom group robot (飞书自定义机器人): text with "
	    "<at> mentions, optional signing secret",
	.configure = feishu_configure,
	.release = chatbot_release,
	.build = chatbot_build,
	.parse = feishu_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 100,
};
