/*
 * A rate-limited channel's window (ratewin.h), apart from the deliveries
 * that wait for it (delivery.c).
 */
#include <stdlib.h>

#include "notify/ratewin.h"

int64_t
ratewin_next(struct ratewin *w, size_t count, int64_t period_ms, int64_t now)
{
	int64_t *grown;
	size_t	 keep, i;

	if (w->cap != count) {
		/*
		 * New limit (a reload): the newest sends still count, or a
		 * limit lowered because the vendor throttled would let a
		 * whole new COUNT go at once.
		 */
		if ((grown = calloc(count, sizeof(*grown))) == NULL)
			return now + 1000;
		keep = w->n < count ? w->n : count;
		for (i = 0; i < keep; i++)
			grown[i] = w->sent[(w->head + w->n - keep + i) % w->cap];
		free(w->sent);
		w->sent = grown;
		w->cap = count;
		w->n = keep;
		w->head = 0;
	}
	if (w->n < w->cap || now - w->sent[w->head] >= period_ms)
		return now;
	return w->sent[w->head] + period_ms;
}

int
ratewin_take(struct ratewin *w, size_t count, int64_t period_ms, int64_t now)
{
	if (ratewin_next(w, count, period_ms, now) > now || w->sent == NULL)
		return 0;
	if (w->n < w->cap)
		w->sent[(w->head + w->n++) % w->cap] = now;
	else {
		w->sent[w->head] = now;
		w->head = (w->head + 1) % w->cap;
	}
	return 1;
}

void
ratewin_free(struct ratewin *w)
{
	free(w->sent);
	w->sent = NULL;
	w->cap = w->n = w->head = 0;
}
