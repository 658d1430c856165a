/*
 * Failed delivery attempts told in the log without flooding it: once a
 * minute per channel, with how many were held back.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "config/confval.h"
#include "notify/failwarn.h"

/*
 * Retries that fail the same way are told once a minute per channel, with
 * how many there were: a receiver down under 20,000 deliveries wrote a
 * warning per attempt (136,000 lines in 70 s).  Every attempt stays in
 * the audit log.
 */
#define FAILWARN_EVERY_MS	(60 * 1000)
#define FAILWARN_CHANNELS	64

static struct failwarn {
	char		 channel[CONFVAL_ID_MAX + 1];
	int64_t		 since;		/* the last warning told */
	unsigned	 held;		/* retries not told since */
} failwarns[FAILWARN_CHANNELS];

int
failwarn_now(const char *channel, const char *detail)
{
	struct failwarn	*w = NULL;
	int64_t			 now = time_now_ms();
	size_t			 i;

	for (i = 0; i < FAILWARN_CHANNELS && w == NULL; i++)
		if (strcmp(failwarns[i].channel, channel) == 0 ||
		    failwarns[i].channel[0] == '\0')
			w = &failwarns[i];
	if (w == NULL)
		return 1;	/* more channels than slots: tell them all */
	if (w->channel[0] == '\0')
		snprintf(w->channel, sizeof(w->channel), "%s", channel);
	if (w->since != 0 && now - w->since < FAILWARN_EVERY_MS) {
		w->held++;
		return 0;
	}
	if (w->held > 0)
		log_warnx("channel %s: %u more failed attempt(s) in the last %lld s "
		    "(the audit log has each); the latest: %s", channel, w->held,
		    (long long)(now - w->since) / 1000, detail);
	w->since = now;
	w->held = 0;
	return 1;
}
