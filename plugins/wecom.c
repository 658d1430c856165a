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
#include "pluglib.h"

#define WECOM_TEXT_MAX		2048	/* documented limits of text.content, */
#define WECOM_MARKDOWN_MAX	4096	/* and markdown.content, in UTF-8 bytes */
#define WECOM_RATE_WAIT		60000	/* the limit is per minute */

struct wecom {
	char		*url;
	int		 markdown;
};

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
static const struct pluglib_code wecom_codes[] = {
	{ 0, DUTYD_DELIVERED, 0, NULL },
	/* api freq out of limit */
	{ 45009, DUTYD_RETRY, WECOM_RATE_WAIT, NULL },
	/* invalid webhook url */
	{ 93000, DUTYD_FAILED, 0, "check key= in url; the robot may have "
	    "been removed from the group" },
};

static const struct pluglib_robot wecom_robot = {
	.channel = "wecom",
	.keys = wecom_keys,
	.nkeys = OPT_N,
	.vendor = "WeCom",
	.example = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...",
	.token = "key=",
	.reply = { { "errcode", "errmsg" } },
	.codes = wecom_codes,
	.ncodes = sizeof(wecom_codes) / sizeof(wecom_codes[0]),
	.rate_wait_ms = WECOM_RATE_WAIT,
};

static void
wecom_release(void *arg)
{
	struct wecom *w = arg;

	if (w == NULL)
		return;
	free(w->url);
	free(w);
}

static int
wecom_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N], *type;
	int idx[OPT_N], r;
	struct wecom *w;

	*state = NULL;
	if ((r = pluglib_robot_options(&wecom_robot, opts, nopts, val, idx,
	    err)) < 0)
		return r;
	type = val[OPT_MSGTYPE];
	if (type != NULL && strcmp(type, "text") != 0 &&
	    strcmp(type, "markdown") != 0) {
		pluglib_error(err, idx[OPT_MSGTYPE], "msgtype '%s' is not "
		    "supported: use text (mentions notify people) or markdown "
		    "(formatting, mentions only as names)", type);
		return -EINVAL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->url = strdup(val[OPT_URL])) == NULL) {
		wecom_release(w);
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	w->markdown = type != NULL && strcmp(type, "markdown") == 0;
	*state = w;
	return 0;
}

/*
 * The content: title, message, link, and for markdown the names of the
 * people it is for.  WeCom refuses content over its limit, so the message
 * is shortened to fit, never the link or the names.
 */
static int
wecom_content(const struct wecom *w, const struct dutyd_message *msg,
    char **out)
{
	const char *title = msg->title != NULL ? msg->title : "";
	const struct dutyd_recipient *r;
	char *tail = NULL, *head = NULL;
	size_t taillen = 0, i;
	FILE *f;
	int sep = 0, rc;

	*out = NULL;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (pluglib_link_missing(msg)) {
		if (w->markdown)
			fprintf(f, "\n[%s](%s)", msg->url, msg->url);
		else
			fprintf(f, "\n%s", msg->url);
	}
	for (i = 0; w->markdown && i < msg->nrecipients; i++) {
		if ((r = pluglib_mention(msg, i)) == NULL)
			continue;
		fprintf(f, "%s@%s", sep++ ? " " : "\n",
		    r->name != NULL && r->name[0] != '\0' ? r->name : r->to);
	}
	if ((rc = pluglib_memstream_close(f, &tail)) < 0)
		return rc;
	if (title[0] == '\0' ? (head = strdup("")) == NULL :
	    asprintf(&head, w->markdown ? "**%s**\n" : "%s\n", title) == -1) {
		free(tail);
		return -ENOMEM;
	}
	rc = pluglib_fit(head, msg->text, tail, w->markdown ?
	    WECOM_MARKDOWN_MAX : WECOM_TEXT_MAX, out);
	free(head);
	free(tail);
	return rc;
}

static int
wecom_body(const struct wecom *w, const struct dutyd_message *msg,
    char **out, size_t *outlen)
{
	json_t *mobiles, *body;
	char *content;
	int r;

	if ((r = wecom_content(w, msg, &content)) < 0)
		return r;
	if (w->markdown)
		body = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown",
		    "markdown", "content", content);
	else if ((r = pluglib_mention_list(msg, &mobiles)) < 0) {
		free(content);
		return r;
	} else
		body = json_pack("{s:s, s:{s:s, s:o}}", "msgtype", "text",
		    "text", "content", content,
		    "mentioned_mobile_list", mobiles);
	free(content);
	return pluglib_json_dump(body, out, outlen);
}

static int
wecom_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct wecom *w = arg;
	int r;

	if (msg->text == NULL || msg->recipients == NULL)
		return -EINVAL;
	if ((r = pluglib_post(req, w->url)) < 0 ||
	    (r = wecom_body(w, msg, &req->body, &req->body_len)) < 0)
		return r;
	return pluglib_json_headers(req, msg->delivery_id);
}

static int
wecom_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return pluglib_robot_parse(&wecom_robot, resp, res);
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "wecom",
	.description = "WeCom group robot (企业微信群机器人): text with "
	    "@-mentions by mobile, or markdown",
	.configure = wecom_configure,
	.release = wecom_release,
	.build = wecom_build,
	.parse = wecom_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 20,
};
