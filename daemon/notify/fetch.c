/*
 * fetch.c: the transport deliveries use, whatever carries it: libcurl
 * (curlfetch.c) in dutyd, a fake in the unit tests.
 */
#include <errno.h>
#include <stddef.h>

#include "notify/fetch.h"

static const struct fetch_backend *fetch_backend;

void
fetch_use(const struct fetch_backend *b)
{
	fetch_backend = b;
}

int
fetch_start(const struct fetch_request *req, fetch_cb cb, void *arg,
    struct fetch **out)
{
	*out = NULL;
	if (fetch_backend == NULL)
		return -ENOTCONN;
	return fetch_backend->start(req, cb, arg, out);
}

void
fetch_cancel(struct fetch *f)
{
	if (f != NULL && fetch_backend != NULL)
		fetch_backend->cancel(f);
}

size_t
fetch_inflight(void)
{
	return fetch_backend != NULL ? fetch_backend->inflight() : 0;
}
