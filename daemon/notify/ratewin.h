/*
 * A rate-limited channel's window: the times of its last COUNT sends, so
 * that never more than COUNT go in any PERIOD.  See ratewin.c.
 */
#ifndef DUTYD_RATEWIN_H
#define DUTYD_RATEWIN_H

#include <stddef.h>
#include <stdint.h>

struct ratewin {
	int64_t		*sent;		/* ring of the last `cap` send times */
	size_t		 cap, n, head;	/* head: the oldest when n == cap */
};

/* When the window lets the next send go: NOW or later.  COUNT may change. */
int64_t	ratewin_next(struct ratewin *, size_t count, int64_t period_ms,
	    int64_t now);
/* Counts a send at NOW when the window lets it go: 1, else 0. */
int	ratewin_take(struct ratewin *, size_t count, int64_t period_ms,
	    int64_t now);
void	ratewin_free(struct ratewin *);

#endif
