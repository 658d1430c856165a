/*
 * A clock is a wall-clock deadline kept by a libevent timer.  Arming is not
 * a record; firing is (the incident records incident.escalated or
 * incident.report_overdue), so replay never fires a clock twice.  A timer
 * that wakes early because the wall clock was set back re-arms itself.
 */
#ifndef DUTYD_CLOCK_H
#define DUTYD_CLOCK_H

#include <stdint.h>
#include <event2/event_struct.h>

struct event_base;
struct clock;

typedef void (*clock_fn)(struct clock *, void *arg);

struct clock {
	struct event	 ev;
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
void	clock_free(struct clock *);	/* accepts NULL and never-initialized clocks */

#endif
