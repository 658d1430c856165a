/*
 * fakefetch.c: see fakefetch.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "fakefetch.h"
#include "notify/fetch.h"

#define FAKEFETCH_MAX	4096

struct fetch {
	fetch_cb	 cb;
	void		*arg;
	size_t		 index;
};

static struct fakefetch_req	 reqs[FAKEFETCH_MAX];
static struct fetch		*live[FAKEFETCH_MAX];
static size_t			 nreqs, ninflight;

static void
fakefetch_clear(void)
{
	size_t i, j;

	for (i = 0; i < nreqs; i++) {
		free(reqs[i].url);
		free(reqs[i].body);
		json_decref(reqs[i].json);
		for (j = 0; j < reqs[i].nrcpt; j++)
			free(reqs[i].rcpt[j]);
		free(reqs[i].rcpt);
		free(live[i]);
	}
	memset(reqs, 0, sizeof(reqs));
	memset(live, 0, sizeof(live));
	nreqs = ninflight = 0;
}

static int
fake_start(const struct fetch_request *req, fetch_cb cb, void *arg,
    struct fetch **out)
{
	struct fakefetch_req	*r;
	struct fetch		*f;
	size_t			 i;

	if (req == NULL || req->url == NULL || cb == NULL || req->timeout_ms <= 0)
		return -EINVAL;
	if (nreqs == FAKEFETCH_MAX || (f = calloc(1, sizeof(*f))) == NULL)
		return -ENOMEM;
	r = &reqs[nreqs];
	r->url = strdup(req->url);
	r->body = strndup(req->body != NULL ? req->body : "", req->body_len);
	r->json = json_loads(r->body, 0, NULL);
	r->at = time_now_ms();
	if (req->nrcpt > 0) {
		r->rcpt = calloc(req->nrcpt, sizeof(*r->rcpt));
		for (i = 0; r->rcpt != NULL && i < req->nrcpt; i++)
			r->rcpt[r->nrcpt++] = strdup(req->mail_rcpt[i]);
	}
	f->cb = cb;
	f->arg = arg;
	f->index = nreqs;
	live[nreqs++] = f;
	ninflight++;
	*out = f;
	return 0;
}

static void
fake_cancel(struct fetch *f)
{
	reqs[f->index].done = 1;
	live[f->index] = NULL;
	ninflight--;
	free(f);
}

static size_t
fake_inflight(void)
{
	return ninflight;
}

static const struct fetch_backend fake_backend = {
	fake_start, fake_cancel, fake_inflight
};

void
fakefetch_start(void)
{
	fakefetch_clear();
	fetch_use(&fake_backend);
}

void
fakefetch_stop(void)
{
	fetch_use(NULL);
	fakefetch_clear();
}

size_t
fakefetch_count(void)
{
	return nreqs;
}

struct fakefetch_req *
fakefetch_get(size_t i)
{
	return i < nreqs ? &reqs[i] : NULL;
}

size_t
fakefetch_pending(void)
{
	return ninflight;
}

/* Answers pending request I. */
static int
fakefetch_answer_at(size_t i, long status, const char *body,
    int64_t retry_after_ms)
{
	struct fetch_result	 res;
	struct fetch		*f;

	f = live[i];
	live[i] = NULL;
	reqs[i].done = 1;
	ninflight--;
	memset(&res, 0, sizeof(res));
	res.status = status;
	if (status == 0)
		res.error = body != NULL ? body : "Connection refused";
	else {
		res.body = body != NULL ? body : "";
		res.body_len = strlen(res.body);
		res.content_type = "application/json";
	}
	res.retry_after_ms = retry_after_ms;
	f->cb(&res, f->arg);
	free(f);
	return (int)i;
}

int
fakefetch_answer(long status, const char *body, int64_t retry_after_ms)
{
	size_t i;

	for (i = 0; i < nreqs && (reqs[i].done || live[i] == NULL); i++)
		;
	if (i == nreqs)
		return -1;
	return fakefetch_answer_at(i, status, body, retry_after_ms);
}

int
fakefetch_answer_to(const char *needle, long status, const char *body,
    int64_t retry_after_ms)
{
	size_t i;

	for (i = 0; i < nreqs; i++)
		if (!reqs[i].done && live[i] != NULL &&
		    (strstr(reqs[i].url, needle) != NULL ||
		    strstr(reqs[i].body, needle) != NULL))
			return fakefetch_answer_at(i, status, body,
			    retry_after_ms);
	return -1;
}

int
fakefetch_answer_all(const char *body)
{
	int n = 0;

	while (fakefetch_pending() > 0 && fakefetch_answer(200, body, 0) >= 0)
		n++;
	return n;
}
