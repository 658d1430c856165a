/*
 * dutyd's HTTP API through libcurl: curl_url() builds the URL, jansson
 * the bodies.  One request per run, so the easy interface is enough.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctlhttp.h"

/* An answer bigger than this is not dutyd's: a list of 5,000 incidents fits. */
#define CTL_BODY_MAX	(64 * 1024 * 1024)

struct ctl_buf {
	char	*p;
	size_t	 len;
	int	 too_big;
};

static size_t
ctl_collect(char *data, size_t size, size_t n, void *arg)
{
	struct ctl_buf	*b = arg;
	size_t		 add = size * n;
	char		*p;

	if (b->len + add > CTL_BODY_MAX) {
		b->too_big = 1;
		return 0;
	}
	if ((p = realloc(b->p, b->len + add + 1)) == NULL)
		return 0;
	memcpy(p + b->len, data, add);
	b->p = p;
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

char *
ctl_escape(const char *segment)
{
	char	*e = curl_easy_escape(NULL, segment, 0), *out;

	if (e == NULL)
		return NULL;
	out = strdup(e);
	curl_free(e);
	return out;
}

static CURLU *
ctl_url(const struct ctl_server *srv, const char *path, const char *qname,
    const char *qvalue)
{
	CURLU	*u = curl_url();
	char	*q = NULL;
	int	 bad;

	if (u == NULL)
		return NULL;
	bad = curl_url_set(u, CURLUPART_URL, srv->url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK;
	if (!bad && qname != NULL && qvalue != NULL) {
		if (asprintf(&q, "%s=%s", qname, qvalue) == -1)
			bad = 1;
		else
			bad = curl_url_set(u, CURLUPART_QUERY, q,
			    CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK;
		free(q);
	}
	if (bad) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

int
ctl_request(const struct ctl_server *srv, const char *method, const char *path,
    const char *qname, const char *qvalue, json_t *body, const char *idem,
    struct ctl_reply *out)
{
	struct curl_slist	*h = NULL, *h2;
	struct ctl_buf		 buf = { NULL, 0, 0 };
	char			 errbuf[CURL_ERROR_SIZE] = "", hdr[512];
	char			*text = NULL;
	CURLcode		 rc;
	CURLU			*u;
	CURL			*c;
	int			 ret = 0;

	memset(out, 0, sizeof(*out));
	if ((u = ctl_url(srv, path, qname, qvalue)) == NULL) {
		fprintf(stderr, "dutyctl: '%s' is not a server URL: give "
		    "--server http://HOST:PORT (or set DUTYD_SERVER)\n", srv->url);
		return CTL_USAGE;
	}
	if ((c = curl_easy_init()) == NULL) {
		curl_url_cleanup(u);
		fprintf(stderr, "dutyctl: cannot set up libcurl\n");
		return CTL_UNAVAILABLE;
	}
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", srv->token);
	if ((h2 = curl_slist_append(h, hdr)) != NULL)
		h = h2;
	if (idem != NULL) {
		snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", idem);
		if ((h2 = curl_slist_append(h, hdr)) != NULL)
			h = h2;
	}
	if (body != NULL) {
		if ((h2 = curl_slist_append(h,
		    "Content-Type: application/json")) != NULL)
			h = h2;
		text = json_dumps(body, JSON_COMPACT);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text != NULL ? text : "{}");
	}
	curl_easy_setopt(c, CURLOPT_CURLU, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ctl_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dutyctl/" DUTYD_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		fprintf(stderr, "dutyctl: cannot reach dutyd at %s: %s; is it "
		    "running (systemctl status dutyd) and is --server right?\n",
		    srv->url, errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		ret = CTL_UNAVAILABLE;
		free(buf.p);
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		out->body = buf.p != NULL ? buf.p : strdup("");
		out->json = json_loads(out->body, 0, NULL);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	curl_url_cleanup(u);
	free(text);
	return ret;
}

void
ctl_reply_free(struct ctl_reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}
