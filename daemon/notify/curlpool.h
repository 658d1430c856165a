/*
 * Easy handles of finished HTTP transfers, kept for the next ones (for
 * curlfetch.c, on the loop's thread): a handle made and freed per
 * delivery cost a tenth of curl's share of it.  See curlpool.c.
 */
#ifndef DUTYD_CURLPOOL_H
#define DUTYD_CURLPOOL_H

#include <curl/curl.h>

/*
 * A handle for a transfer, kept or new (NULL: out of memory).  PLAIN: the
 * transfer is a plain POST (a body, no other method, no credentials, no
 * CA file of its own); *set is then 1 when the handle carries a plain
 * POST's options already, and only the transfer's own need setting.
 * Any other kept handle comes reset.
 */
CURL	*curlpool_get(int plain, int *set);
/*
 * Takes back a finished transfer's handle (out of the multi handle),
 * PLAIN as it was got.  Nothing on it points at the transfer's memory
 * afterwards.
 */
void	 curlpool_put(CURL *, int plain);
/* Frees every kept handle (shutdown). */
void	 curlpool_clear(void);

#endif
