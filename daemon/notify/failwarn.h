/*
 * Retries that fail the same way are told once a minute per channel, with
 * how many were held back (notify/failwarn.c).
 */
#ifndef DUTYD_FAILWARN_H
#define DUTYD_FAILWARN_H

/*
 * 1: log this failed attempt on CHANNEL now (after saying how many were
 * held back since the last one, with DETAIL); 0: it is counted, not told.
 */
int	failwarn_now(const char *channel, const char *detail);

#endif
