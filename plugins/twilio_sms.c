/*
 * twilio_sms: send the text as an SMS through Twilio's Messages API.
 *
 *   POST <url>/2010-04-01/Accounts/<account_sid>/Messages.json
 *   Content-Type: application/x-www-form-urlencoded
 *   To=<recipient>&From=<from>&Body=<text>
 *
 * with HTTP basic auth account_sid:auth_token (the daemon hands both to
 * libcurl, so the token never appears in a header we build).
 *
 * Options: account_sid, auth_token, from (required), url (optional base,
 * default https://api.twilio.com).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "plugin.h"
#include "pluglib.h"

#define TWILIO_DEFAULT_URL	"https://api.twilio.com"
#define TWILIO_QUOTE		160	/* bytes of a vendor message quoted in a detail */
#define TWILIO_RETRY_MS		60000	/* when Twilio throttles without a Retry-After */
#define TWILIO_EMPTY \
	"copy it from the Twilio console, or remove the line"

struct twilio {
	char	*url;		/* the whole Messages.json URL */
	char	*sid;
	char	*token;
	char	*from;		/* percent-encoded */
};

enum { OPT_SID, OPT_TOKEN, OPT_FROM, OPT_URL, OPT_N };
static const struct pluglib_key twilio_keys[OPT_N] = {
	{ "account_sid", TWILIO_EMPTY, NULL, NULL },
	{ "auth_token", TWILIO_EMPTY, NULL, NULL },
	{ "from", TWILIO_EMPTY, NULL, NULL },
	{ "url", TWILIO_EMPTY, NULL, NULL },
};

/*
 * Error codes that mean this message will never go out as configured: bad
 * credentials, a number that is not a mobile, a recipient who opted out.
 * https://www.twilio.com/docs/api/errors
 */
static const long twilio_permanent[] = {
	20003,	/* authentication failed: wrong account_sid or auth_token */
	21211,	/* invalid 'To' phone number */
	21212,	/* invalid 'From' phone number */
	21408,	/* sending to this region is not enabled on the account */
	21606,	/* 'From' is not an SMS-capable number of this account */
	21610,	/* the recipient replied STOP */
	21612,	/* 'To' cannot be reached from 'From' by SMS */
	21614,	/* 'To' is not a mobile number */
	21660,	/* 'From' does not belong to this account */
};

/* An Account SID is "AC" and 32 hex digits; checking catches a pasted token. */
static int
twilio_sid_ok(const char *sid)
{
	size_t i;

	if (strncmp(sid, "AC", 2) != 0 || strlen(sid) != 34)
		return 0;
	for (i = 2; sid[i] != '\0'; i++)
		if (!((sid[i] >= '0' && sid[i] <= '9') ||
		    (sid[i] >= 'a' && sid[i] <= 'f') ||
		    (sid[i] >= 'A' && sid[i] <= 'F')))
			return 0;
	return 1;
}

static void
twilio_release(void *arg)
{
	struct twilio *t = arg;

	if (t == NULL)
		return;
	free(t->url);
	free(t->sid);
	free(t->from);
	pluglib_free_secret(t->token);
	free(t);
}

/* base's path, less its trailing slashes, then the Messages resource. */
static char *
twilio_messages_url(const char *base, const char *sid)
{
	char *path = NULL, *url = NULL, *full = NULL;
	size_t n;
	CURLU *u;
	int r;

	if ((u = pluglib_url_handle(base)) == NULL)
		return NULL;
	if ((r = curl_url_get(u, CURLUPART_PATH, &path, 0)) != CURLUE_OK)
		r = r == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
	else {
		for (n = strlen(path); n > 0 && path[n - 1] == '/'; n--)
			;
		if (asprintf(&full, "%.*s/2010-04-01/Accounts/%s/Messages.json",
		    (int)n, path, sid) == -1) {
			full = NULL;
			r = -ENOMEM;
		} else if ((r = pluglib_url_set(u, CURLUPART_PATH, full,
		    0)) == 0 && (url = pluglib_url_string(u)) == NULL)
			r = -errno;
	}
	curl_free(path);
	free(full);
	curl_url_cleanup(u);
	if (r < 0)
		errno = -r;
	return url;
}

static int
twilio_state(const char *const *val, struct twilio **out)
{
	struct twilio *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -ENOMEM;
	if ((t->url = twilio_messages_url(val[OPT_URL] ? val[OPT_URL] :
	    TWILIO_DEFAULT_URL, val[OPT_SID])) == NULL ||
	    (t->from = pluglib_escape(val[OPT_FROM])) == NULL ||
	    (t->sid = strdup(val[OPT_SID])) == NULL ||
	    (t->token = strdup(val[OPT_TOKEN])) == NULL) {
		twilio_release(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

static int
twilio_configure(const struct dutyd_option *opts, size_t nopts,
    void **state, struct dutyd_error *err)
{
	const char *val[OPT_N];
	int idx[OPT_N];
	struct twilio *t;
	char missing[128];
	int r;

	*state = NULL;
	if ((r = pluglib_options("twilio_sms", twilio_keys, OPT_N, opts, nopts,
	    val, idx, err)) < 0)
		return r;
	if (pluglib_missing(twilio_keys, OPT_URL, val, missing,
	    sizeof(missing)) > 0) {
		pluglib_error(err, -1, "the twilio_sms channel needs "
		    "account_sid, auth_token and from (the sending number, "
		    "e.g. +15005550006); missing: %s", missing);
		return -EINVAL;
	}
	if (!twilio_sid_ok(val[OPT_SID])) {
		pluglib_error(err, idx[OPT_SID], "account_sid must be the "
		    "Account SID from the Twilio console: AC followed by 32 "
		    "hex digits (not the auth token)");
		return -EINVAL;
	}
	if (!pluglib_printable(val[OPT_TOKEN], 256)) {
		pluglib_error(err, idx[OPT_TOKEN], "auth_token must be one "
		    "word without spaces: copy it from the Twilio console");
		return -EINVAL;
	}
	if (val[OPT_URL] != NULL && (r = pluglib_url_option(val[OPT_URL],
	    idx[OPT_URL], pluglib_http_schemes, PLUGLIB_URL_LOGIN, "url must "
	    "be an http:// or https:// address with a host and no spaces; "
	    "leave it out to use " TWILIO_DEFAULT_URL, err)) < 0)
		return r;
	if ((r = twilio_state(val, &t)) < 0) {
		pluglib_error(err, -1, "out of memory");
		return r;
	}
	*state = t;
	return 0;
}

static int
twilio_build(void *arg, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct twilio *t = arg;
	char *to, *body;
	int n;

	if (msg->text == NULL || msg->recipient.to == NULL ||
	    msg->recipient.to[0] == '\0')
		return -EINVAL;
	if (pluglib_post(req, t->url) < 0 ||
	    (req->username = strdup(t->sid)) == NULL ||
	    (req->password = strdup(t->token)) == NULL)
		return -ENOMEM;
	to = pluglib_escape(msg->recipient.to);
	body = pluglib_escape(msg->text);
	n = -1;
	if (to != NULL && body != NULL)
		n = asprintf(&req->body, "To=%s&From=%s&Body=%s", to, t->from,
		    body);
	free(to);
	free(body);
	if (n == -1) {
		req->body = NULL;
		return -ENOMEM;
	}
	req->body_len = (size_t)n;
	return pluglib_headers(req,
	    "Content-Type", "application/x-www-form-urlencoded",
	    "Accept", "application/json", "User-Agent", "dutyd", NULL);
}

static int
twilio_is_permanent(long code)
{
	size_t i;

	for (i = 0; i < sizeof(twilio_permanent) / sizeof(twilio_permanent[0]);
	    i++)
		if (twilio_permanent[i] == code)
			return 1;
	return 0;
}

static int
twilio_parse(void *arg, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	char quote[TWILIO_QUOTE + 8] = "";
	json_t *o;
	const char *s;
	long code = 0;

	if (pluglib_parse_start(resp, res))
		return 0;
	o = pluglib_json_load(resp);
	if (json_is_object(o)) {
		code = (long)json_integer_value(json_object_get(o, "code"));
		s = json_string_value(json_object_get(o,
		    pluglib_is_2xx(resp->status) ? "sid" : "message"));
		if (s != NULL)
			pluglib_quote(quote, sizeof(quote), s, strlen(s),
			    TWILIO_QUOTE);
	} else if (resp->body != NULL)
		pluglib_quote(quote, sizeof(quote), resp->body, resp->body_len,
		    TWILIO_QUOTE);
	json_decref(o);

	if (pluglib_is_2xx(resp->status)) {
		res->outcome = DUTYD_DELIVERED;
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s",
		    resp->status, quote[0] ? ": sid " : "", quote);
		return 0;
	}
	if (code != 0)
		snprintf(res->detail, sizeof(res->detail),
		    "HTTP %ld: Twilio error %ld: %s", resp->status, code,
		    quote);
	else
		pluglib_http_detail(res, resp->status, quote);
	if (resp->status == 429 || code == 20429)
		res->retry_after_ms = pluglib_retry_after(resp,
		    TWILIO_RETRY_MS);
	else if (resp->status >= 400 && resp->status <= 499 &&
	    (twilio_is_permanent(code) || (code == 0 && resp->status == 401)))
		res->outcome = DUTYD_FAILED;
	return 0;
}

DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "twilio_sms",
	.description = "SMS through Twilio's Messages API",
	.configure = twilio_configure,
	.release = twilio_release,
	.build = twilio_build,
	.parse = twilio_parse,
	.flags = DUTYD_PLUGIN_SMS,
	.rate_per_min = 0,
};
