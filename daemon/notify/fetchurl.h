/*
 * What a transfer's URL is, for curlfetch.c: HTTP or SMTP, and the form of
 * it that may be logged.  A channel sends to the same URL all day, so the
 * answers for the URLs last asked about are kept instead of parsing each
 * one again for every message.
 */
#ifndef DUTYD_FETCHURL_H
#define DUTYD_FETCHURL_H

#include <stddef.h>

/*
 * 0 for http(s), 1 for smtp(s); fills log (loglen bytes) with the URL minus
 * credentials, query and fragment (vendors put access tokens there).
 * -EINVAL for what is not a URL, -EPROTONOSUPPORT for other schemes,
 * -ENOMEM.
 */
int	fetchurl_classify(const char *url, char *log, size_t loglen);
/* Frees what is kept (shutdown). */
void	fetchurl_forget(void);

#endif
