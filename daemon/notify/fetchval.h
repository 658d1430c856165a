/*
 * What may go into a request and what an answer's Retry-After says, for
 * curlfetch.c: pure checks, apart from the transport.  See fetchval.c.
 */
#ifndef DUTYD_FETCHVAL_H
#define DUTYD_FETCHVAL_H

#include <stddef.h>
#include <stdint.h>

/* An HTTP method: upper-case letters only, at most MAX of them. */
int	fetchval_method(const char *m, size_t max);
/* A header line "Name: value" without CR or LF. */
int	fetchval_header(const char *h);
/* A mail address without CR or LF. */
int	fetchval_address(const char *a);
/* A Retry-After value in ms from NOW (ms), capped at MAX; 0: none or past. */
int64_t	fetchval_retry_after(const char *v, int64_t now, int64_t max);

#endif
