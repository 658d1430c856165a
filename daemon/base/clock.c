/*
 * Deadlines to libevent timers.  libevent's timers run on the monotonic
 * clock, deadlines are wall-clock times from the audit log: each wake-up
 * checks the wall clock again and sleeps on if it is early.
 */
#include <string.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"

static struct event_base *clock_evbase;

void
clock_base(struct event_base *base)
{
	clock_evbase = base;
}

static void
clock_set_timer(struct clock *c)
{
	struct timeval tv = time_until(c->deadline_ms);

	if (evtimer_add(&c->ev, &tv) == -1)
		fatalx("cannot arm a timer for a deadline");
}

static void
clock_wake(evutil_socket_t fd, short events, void *arg)
{
	struct clock *c = arg;

	if (time_now_ms() < c->deadline_ms) {
		clock_set_timer(c);
		return;
	}
	c->armed = 0;
	c->fn(c, c->arg);
}

void
clock_init(struct clock *c, clock_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	if (evtimer_assign(&c->ev, clock_evbase, clock_wake, c) == -1)
		fatalx("cannot create a timer");
	c->initialized = 1;
}

void
clock_arm(struct clock *c, int64_t deadline_ms)
{
	c->deadline_ms = deadline_ms;
	c->armed = 1;
	clock_set_timer(c);
}

void
clock_disarm(struct clock *c)
{
	if (c->initialized && c->armed)
		evtimer_del(&c->ev);
	c->armed = 0;
}

void
clock_free(struct clock *c)
{
	if (c == NULL || !c->initialized)
		return;
	clock_disarm(c);
	c->initialized = 0;
}
