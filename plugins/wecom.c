/*
 * wecom: a WeCom group robot (企业微信群机器人).  One text or markdown message
 * per request; the people it is for are mentioned.
 *
 * Options: url (required: the robot's webhook address with key=), msgtype
 * (text, the default, or markdown).  A text message @-mentions by mobile
 * through mentioned_mobile_list; a markdown message cannot (WeCom ignores
 * mentioned_mobile_list there and <@userid> wants a user id, not a mobile),
 * so it names the people in plain text instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin.h"
#include "chatbot.h"

#define WECOM_TEXT_MAX		2048	/* documented limits of text.content, */
#define WECOM_MARKDOWN_MAX	4096	/* and markdown.content, in UTF-8 bytes */
#define WECOM_RATE_WAIT		60000	/* the limit is per minute */

enum { OPT_URL, OPT_MSGTYPE, OPT_N };
static const struct pluglib_key wecom_keys[OPT_N] = {
	{ "url", "copy the robot's webhook address from the group's robot "
	    "settings", NULL, NULL },
	{ "msgtype", "set it to text or markdown, or remove it for text",
	    NULL, NULL },
};

/*
 * errcode → outcome, from WeCom's global error code list.  Codes not listed
 * are retried with backoff.
 */
static const struct chatbot_code wecom_codes[] = {
	{ 0, DUTYD_DELIVERED, 0, NULL },
	/* api freq out of limit */
	{ 45009, DUTYD_RETRY, WECOM_RATE_WAIT, NULL },
	/* invalid webhook url */
	{ 93000, DUTYD_FAILED, 0, "check key= in url; the robot may have "
	    "been removed from the group" },
};

/* Mentions in text messages travel in mentioned_mobile_list instead. */
static const struct chatbot_style wecom_text = {
	.title = { "", "\n" },
	.gap = "\n",
	.markdown = 0,
	.mention = NULL,
	.max = WECOM_TEXT_MAX,
};

static void
wecom_mention(FILE *f, const struct dutyd_recipient *r)
{
	fprintf(f, "@%s", r->name != NULL && r->name[0] != '\0' ? r->name :
	    r->to);
}

static const struct chatbot_style wecom_markdown = {
	.title = { "**", "**\n" },
	.gap = "\n",
	.markdown = 1,
	.mention = wecom_mention,
	.max = WECOM_MARKDOWN_MAX,
};

static int
wecom_options(const char *const *val, const int *idx,
    const struct chatbot_style **style, struct dutyd_error *err)
{
	const char *type = val[OPT_MSGTYPE];

	if (type != NULL && strcmp(type, "text") != 0 &&
	    strcmp(type, "markdown") != 0) {
		pluglib_error(err, idx[OPT_MSGTYPE], "msgtype '%s' is not "
		    "supported: use text (mentions notify people) or markdown "
		    "(formatting, mentions only as names)", type);
		return -EINVAL;
	}
	if (type != NULL && strcmp(type, "markdown") == 0)
		*style = &wecom_markdown;
	return 0;
}

static json_t *
wecom_body(const struct chatbot *cb, const struct dutyd_message *msg,
    const char *content)
{
	json_t *mobiles;

	if (cb->style == &wecom_markdown)
		return json_pack("{s:s, s:{s:s}}", "msgtype", "markdown",
		    "markdown", "content", content);
	if (pluglib_mention_list(msg, &mobiles) < 0)
		return NULL;
	return json_pack("{s:s, s:{s:s, s:o}}", "msgtype", "text",
	    "text", "content", content, "mentioned_mobile_list", mobiles);
}

static const struct chatbot_vendor wecom_bot = {
	.channel = "wecom",
	.vendor = "WeCom",
	.keys = wecom_keys,
	.nkeys = OPT_N,
	.example = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...",
	.token = "key=",
	.reply = { { "errcode", "errmsg" } },
	.codes = wecom_codes,
	.ncodes = sizeof(wecom_codes) / sizeof(wecom_codes[0]),
	.rate_wait_ms = WECOM_RATE_WAIT,
	.style = &wecom_text,
	.options = wecom_options,
	.body = wecom_body,
};

static int
wecom_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	return chatbot_configure(&wecom_bot, opts, nopts, state, err);
}

static int
wecom_parse(void *state, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return chatbot_parse(&wecom_bot, resp, res);
}

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "wecom",
	.description = "WeCom group robot (企业微信群机器人): text with "
	    "@-mentions by mobile, or markdown",
	.configure = wecom_configure,
	.release = chatbot_release,
	.build = chatbot_build,
	.parse = wecom_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 20,
};
