/*
 * fetchurl.c: sorting a URL into HTTP or SMTP and its loggable form (see
 * fetchurl.h).  Parsing with curl's URL API costs more than the rest of
 * setting up a transfer; a handful of answers, replaced in turn, cover
 * every channel of a normal config.  A URL that changes per message (a
 * signature in the query) just misses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "notify/fetchurl.h"

#define FETCHURL_KEPT		16
#define FETCHURL_KEEP_MAX	2048	/* longer URLs are parsed every time */
#define FETCHURL_LOG_MAX	256	/* what curlfetch logs of one */

static struct fetchurl {
	char	*url;
	int	 kind;			/* 0 http(s), 1 smtp(s) */
	char	 log[FETCHURL_LOG_MAX];
} fetchurl_kept[FETCHURL_KEPT];
static size_t	fetchurl_next;		/* the one replaced next */

static int
fetchurl_parse(const char *url, char *log, size_t loglen)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL, *safe = NULL;
	int r;

	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	/* Any scheme parses, so that a known-bad one reads as such. */
	if ((uc = curl_url_set(u, CURLUPART_URL, url,
	    CURLU_NON_SUPPORT_SCHEME)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK) {
		r = uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		goto done;
	}
	if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
		r = 0;
	else if (strcmp(scheme, "smtp") == 0 || strcmp(scheme, "smtps") == 0)
		r = 1;
	else {
		r = -EPROTONOSUPPORT;
		goto done;
	}
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &safe, 0) == CURLUE_OK)
		snprintf(log, loglen, "%s", safe);
 done:
	curl_free(scheme);
	curl_free(safe);
	curl_url_cleanup(u);
	return r;
}

int
fetchurl_classify(const char *url, char *log, size_t loglen)
{
	struct fetchurl	*k;
	char		 safe[FETCHURL_LOG_MAX] = "?", *copy;
	size_t		 i;
	int		 r;

	for (i = 0; i < FETCHURL_KEPT; i++) {
		k = &fetchurl_kept[i];
		if (k->url != NULL && strcmp(k->url, url) == 0) {
			snprintf(log, loglen, "%s", k->log);
			return k->kind;
		}
	}
	r = fetchurl_parse(url, safe, sizeof(safe));
	snprintf(log, loglen, "%s", safe);
	/* Only what a transfer can use is kept; without memory, nothing. */
	if (r < 0 || strlen(url) > FETCHURL_KEEP_MAX ||
	    (copy = strdup(url)) == NULL)
		return r;
	k = &fetchurl_kept[fetchurl_next];
	free(k->url);
	k->url = copy;
	k->kind = r;
	memcpy(k->log, safe, sizeof(k->log));
	fetchurl_next = (fetchurl_next + 1) % FETCHURL_KEPT;
	return r;
}

void
fetchurl_forget(void)
{
	size_t	 i;

	for (i = 0; i < FETCHURL_KEPT; i++) {
		free(fetchurl_kept[i].url);
		fetchurl_kept[i].url = NULL;
	}
	fetchurl_next = 0;
}
