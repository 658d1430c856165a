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
#include <openssl/evp.h>

#include "plugin.h"
#include "pluglib.h"

/* The whole request body may be at most 20 KB. */
#define FEISHU_TEXT_MAX		16000
#define FEISHU_RATE_WAIT	60000	/* the limit is per minute */

struct feishu {
	char		*url;
	char		*secret;
	EVP_MAC		*mac;	/* fetched once: the key changes every time */
};

enum { OPT_URL, OPT_SECRET, OPT_N };
static const struct pluglib_key feishu_keys[OPT_N] = {
	{ "url", "copy the robot's webhook address from the group's robot "
	    "settings", NULL, NULL },
	{ "secret", "set it to the robot's signing secret, or remove it if the "
	    "robot does not sign", NULL, NULL },
};

/*
 * code → outcome.  Sources: Feishu's custom robot guide and the replies users
 * report.  Codes not listed are retried with backoff.
 */
static const struct pluglib_code feishu_codes[] = {
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

static const struct pluglib_robot feishu_robot = {
	.channel = "feishu",
	.keys = feishu_keys,
	.nkeys = OPT_N,
	.vendor = "Feishu",
	.example = "https://open.feishu.cn/open-apis/bot/v2/hook/...",
	.token = NULL,
	/* {"code":..,"msg":..}; older replies {"StatusCode":..,...} */
	.reply = { { "code", "msg" }, { "StatusCode", "StatusMessage" } },
	.codes = feishu_codes,
	.ncodes = sizeof(feishu_codes) / sizeof(feishu_codes[0]),
	.rate_wait_ms = FEISHU_RATE_WAIT,
};

static void
feishu_release(void *arg)
{
	struct feishu *f = arg;

	if (f == NULL)
		return;
	free(f->url);
	EVP_MAC_free(f->mac);
	pluglib_free_secret(f->secret);
	free(f);
}

static int
feishu_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N];
	int idx[OPT_N], r;
	struct feishu *f;

	*state = NULL;
	if ((r = pluglib_robot_options(&feishu_robot, opts, nopts, val, idx,
	    err)) < 0)
		return r;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->url = strdup(val[OPT_URL])) == NULL ||
	    (val[OPT_SECRET] != NULL &&
	    (f->secret = strdup(val[OPT_SECRET])) == NULL)) {
		feishu_release(f);
		pluglib_error(err, -1, "out of memory");
		return -ENOMEM;
	}
	if (f->secret != NULL &&
	    (f->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
		feishu_release(f);
		pluglib_error(err, -1, "cannot set up HMAC-SHA256 (OpenSSL)");
		return -EIO;
	}
	*state = f;
	return 0;
}

/* b64 gets base64(HMAC-SHA256(key=ts "\n" secret, msg="")). */
static int
feishu_sign(const struct feishu *f, const char *ts, char *b64, size_t b64len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen;
	EVP_MAC_CTX *c;
	char *key;
	int n, r;

	if ((n = asprintf(&key, "%s\n%s", ts, f->secret)) == -1)
		return -ENOMEM;
	c = pluglib_hmac_new(f->mac, "SHA256", key, (size_t)n);
	explicit_bzero(key, (size_t)n);
	free(key);
	if (c == NULL)
		return -EIO;
	r = pluglib_hmac(c, NULL, 0, md, &mdlen);
	EVP_MAC_CTX_free(c);
	if (r < 0)
		return r;
	return pluglib_base64(md, mdlen, b64, b64len);
}

/*
 * The text: title, message, link and a mention tag per person.  The message
 * is shortened to fit, never the link or the mentions.  An address that
 * would break out of the tag's quotes is not put in one: the person is
 * named in plain text, and the message still goes out.
 */
static int
feishu_text(const struct dutyd_message *msg, char **out)
{
	const char *title = msg->title != NULL ? msg->title : "", *name;
	const struct dutyd_recipient *r;
	char *tail = NULL, *head = NULL;
	size_t taillen = 0, i;
	FILE *f;
	int sep = 0, rc;

	*out = NULL;
	if ((f = open_memstream(&tail, &taillen)) == NULL)
		return -ENOMEM;
	if (pluglib_link_missing(msg))
		fprintf(f, "\n%s", msg->url);
	for (i = 0; i < msg->nrecipients; i++) {
		if ((r = pluglib_mention(msg, i)) == NULL)
			continue;
		name = r->name != NULL && r->name[0] != '\0' &&
		    strpbrk(r->name, "<>") == NULL ? r->name : r->to;
		if (strpbrk(r->to, "\"<>") != NULL)
			fprintf(f, "%s@%s", sep++ ? " " : "\n", name);
		else
			fprintf(f, "%s<at user_id=\"%s\">%s</at>",
			    sep++ ? " " : "\n", r->to, name);
	}
	if ((rc = pluglib_memstream_close(f, &tail)) < 0)
		return rc;
	if (asprintf(&head, "%s%s", title, title[0] != '\0' ? "\n" : "") ==
	    -1) {
		free(tail);
		return -ENOMEM;
	}
	rc = pluglib_fit(head, msg->text, tail, FEISHU_TEXT_MAX, out);
	free(head);
	free(tail);
	return rc;
}

static int
feishu_body(const struct feishu *f, const struct dutyd_message *msg,
    char **out, size_t *outlen)
{
	char ts[24], sign[PLUGLIB_BASE64_SIZE(EVP_MAX_MD_SIZE)], *text;
	json_t *body;
	int r;

	if ((r = feishu_text(msg, &text)) < 0)
		return r;
	body = json_pack("{s:s, s:{s:s}}", "msg_type", "text",
	    "content", "text", text);
	free(text);
	if (body == NULL)
		return -EINVAL;	/* a string that is not UTF-8 */
	if (f->secret != NULL) {
		snprintf(ts, sizeof(ts), "%lld", (long long)(msg->now_ms / 1000));
		if ((r = feishu_sign(f, ts, sign, sizeof(sign))) < 0 ||
		    json_object_set_new(body, "timestamp", json_string(ts)) != 0 ||
		    json_object_set_new(body, "sign", json_string(sign)) != 0) {
			json_decref(body);
			return r < 0 ? r : -ENOMEM;
		}
	}
	return pluglib_json_dump(body, out, outlen);
}

static int
feishu_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct feishu *f = arg;
	int r;

	if (msg->text == NULL || msg->recipients == NULL)
		return -EINVAL;
	if ((r = pluglib_post(req, f->url)) < 0 ||
	    (r = feishu_body(f, msg, &req->body, &req->body_len)) < 0)
		return r;
	return pluglib_json_headers(req, msg->delivery_id);
}

static int
feishu_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	return pluglib_robot_parse(&feishu_robot, resp, res);
}

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "feishu",
	.description = "Feishu custom group robot (飞书自定义机器人): text with "
	    "<at> mentions, optional signing secret",
	.configure = feishu_configure,
	.release = feishu_release,
	.build = feishu_build,
	.parse = feishu_parse,
	.flags = DUTYD_PLUGIN_GROUP,
	.rate_per_min = 100,
};
