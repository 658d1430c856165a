/*
 * Deadlines to timers: libevent's, or a replacement backend's (tests).
 */
#include <string.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/timeutil.h"

static struct event_base		*clock_evbase;
static const struct clock_backend	*clock_backend;

void
clock_base(struct event_base *base)
{
	clock_evbase = base;
}

void
clock_use(const struct clock_backend *b)
{
	clock_backend = b;
}

static void
clock_set_timer(struct clock *c)
{
	struct timeval	tv;
	int64_t		delay = c->deadline_ms - time_now_ms();

	if (clock_backend != NULL) {
		clock_backend->arm(c);
		return;
	}
	if (delay < 0)
		delay = 0;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	if (evtimer_add(&c->ev, &tv) == -1)
		fatalx("cannot arm a timer for a deadline");
}

void
clock_fire(struct clock *c)
{
	c->armed = 0;
	c->fn(c, c->arg);
}

static void
clock_wake(evutil_socket_t fd, short events, void *arg)
{
	struct clock	*c = arg;
	int64_t		 now = time_now_ms();

	if (now < c->deadline_ms) {
		clock_set_timer(c);
		return;
	}
	metrics_observe(METRICS_CLOCK_LATENESS, (now - c->deadline_ms) / 1000.0);
	clock_fire(c);
}

void
clock_init(struct clock *c, clock_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	if (clock_backend == NULL &&
	    evtimer_assign(&c->ev, clock_evbase, clock_wake, c) == -1)
		fatalx("cannot create a timer");
	c->initialized = 1;
}

void
clock_arm(struct clock *c, int64_t deadline_ms)
{
	clock_disarm(c);
	c->deadline_ms = deadline_ms;
	c->armed = 1;
	clock_set_timer(c);
}

void
clock_disarm(struct clock *c)
{
	if (c->initialized && c->armed) {
		if (clock_backend != NULL)
			clock_backend->disarm(c);
		else
			evtimer_del(&c->ev);
	}
	c->armed = 0;
}

int
clock_armed(const struct clock *c)
{
	return c->armed;
}

void
clock_free(struct clock *c)
{
	if (c == NULL || !c->initialized)
		return;
	clock_disarm(c);
	c->initialized = 0;
}
