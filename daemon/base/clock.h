/*
 * A clock is a wall-clock deadline kept by a timer: every timer in dutyd
 * (incident deadlines, delivery retries, rate limits, handovers, retries of
 * records that could not be written) is one.  Arming is not a record;
 * firing is, where it matters, so replay never fires a clock twice.
 *
 * libevent's timers run on the monotonic clock from the loop's cached
 * time, deadlines are wall-clock times: each wake-up checks time_now_ms()
 * again and sleeps on if it is early, so a clock never fires before its
 * deadline (a timer added late in a loop turn would otherwise fire early
 * by however long the turn had run).
 *
 * Tests replace both the time (time_use_source()) and the timers
 * (clock_use()), so state machines run in milliseconds on a fake clock.
 */
#ifndef DUTYD_CLOCK_H
#define DUTYD_CLOCK_H

#include <stdint.h>
#include <sys/queue.h>
#include <event2/event_struct.h>

struct event_base;
struct clock;

typedef void (*clock_fn)(struct clock *, void *arg);

struct clock {
	struct event	 ev;		/* the libevent backend's timer */
	TAILQ_ENTRY(clock) entry;	/* a replacement backend's, while armed */
	int64_t		 deadline_ms;
	clock_fn	 fn;
	void		*arg;
	int		 initialized;
	int		 armed;
};

void	clock_base(struct event_base *);	/* once, before any clock_init */
void	clock_init(struct clock *, clock_fn fn, void *arg);
/* (Re)arms for deadline; a deadline in the past fires on the next loop turn. */
void	clock_arm(struct clock *, int64_t deadline_ms);
void	clock_disarm(struct clock *);
int	clock_armed(const struct clock *);
void	clock_free(struct clock *);	/* accepts NULL and never-initialized clocks */

/*
 * Another timer backend (tests): arm and disarm are told of every change;
 * the backend calls clock_fire() when a deadline comes.  NULL: libevent.
 */
struct clock_backend {
	void	(*arm)(struct clock *);
	void	(*disarm)(struct clock *);
};
void	clock_use(const struct clock_backend *);
/* Runs c's callback now (a replacement backend's deadline came). */
void	clock_fire(struct clock *);

#endif
