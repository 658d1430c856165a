/*
 * testchan: a fake channel plugin for unit tests.  It checks its options the
 * way a real plugin must (required, optional, unknown, malformed), so the
 * tests can see where the daemon points when a plugin rejects a channel.
 *
 * Like a third-party plugin written before DUTYD_PLUGIN_EXPORT, it does not
 * use the macro and is built with default visibility: it must still load.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

struct testchan {
	char	*url;
	char	*secret;	/* NULL when not configured */
};

static void
testchan_release(void *state)
{
	struct testchan *t = state;

	if (t == NULL)
		return;
	free(t->url);
	free(t->secret);
	free(t);
}

static int
testchan_configure(const struct dutyd_option *opts, size_t nopts, void **state,
    struct dutyd_error *err)
{
	struct testchan *t;
	const char *url = NULL, *secret = NULL;
	size_t i;

	for (i = 0; i < nopts; i++) {
		if (strcmp(opts[i].key, "url") == 0) {
			if (strncmp(opts[i].value, "http://", 7) != 0) {
				err->option = (int)i;
				snprintf(err->message, sizeof(err->message),
				    "url must start with http://");
				return -EINVAL;
			}
			url = opts[i].value;
		} else if (strcmp(opts[i].key, "secret") == 0)
			secret = opts[i].value;
		else {
			err->option = (int)i;
			snprintf(err->message, sizeof(err->message),
			    "unknown option '%s' for channel plugin testchan",
			    opts[i].key);
			return -EINVAL;
		}
	}
	if (url == NULL) {
		err->option = -1;
		snprintf(err->message, sizeof(err->message),
		    "channel plugin testchan needs option 'url'");
		return -EINVAL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->url = strdup(url)) == NULL ||
	    (secret != NULL && (t->secret = strdup(secret)) == NULL)) {
		testchan_release(t);
		err->option = -1;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -ENOMEM;
	}
	*state = t;
	return 0;
}

static int
testchan_build(void *state, const struct dutyd_message *msg,
    struct dutyd_request *req)
{
	struct testchan *t = state;
	const char *text = msg->text ? msg->text : "";

	snprintf(req->method, sizeof(req->method), "POST");
	if ((req->url = strdup(t->url)) == NULL ||
	    (req->headers[0] = strdup("Content-Type: text/plain; "
	    "charset=utf-8")) == NULL)
		return -ENOMEM;
	req->nheaders = 1;
	if (t->secret != NULL) {
		if (asprintf(&req->headers[1], "X-Test-Secret: %s",
		    t->secret) == -1) {
			req->headers[1] = NULL;
			return -ENOMEM;
		}
		req->nheaders = 2;
	}
	if ((req->body = strdup(text)) == NULL)
		return -ENOMEM;
	req->body_len = strlen(text);
	return 0;
}

static int
testchan_parse(void *state, const struct dutyd_response *resp,
    struct dutyd_result *res)
{
	if (resp->status >= 200 && resp->status < 300)
		res->outcome = DUTYD_DELIVERED;
	else if (resp->status == 0 || resp->status == 429 ||
	    resp->status >= 500)
		res->outcome = DUTYD_RETRY;
	else
		res->outcome = DUTYD_FAILED;
	if (resp->status == 0)
		snprintf(res->detail, sizeof(res->detail), "no response: %s",
		    resp->error ? resp->error : "unknown error");
	else
		snprintf(res->detail, sizeof(res->detail), "HTTP %ld",
		    resp->status);
	return 0;
}

/* A second build says so here (test_channel.c: a plugin replaced on disk). */
#ifndef TESTCHAN_DESCRIPTION
#define TESTCHAN_DESCRIPTION	"fake channel for unit tests"
#endif

const struct dutyd_plugin dutyd_plugin = {
	.abi = DUTYD_PLUGIN_ABI,
	.size = sizeof(struct dutyd_plugin),
	.name = "testchan",
	.description = TESTCHAN_DESCRIPTION,
	.configure = testchan_configure,
	.release = testchan_release,
	.build = testchan_build,
	.parse = testchan_parse,
};
