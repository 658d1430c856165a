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

/*
 * Clocks due beyond the turn's CLOCK_FIRE_PER_TURN, in the order they came
 * due: a burst of deadlines (a flood's acknowledgement deadlines) must not
 * hold the loop for seconds while reports wait for their answer.  The loop
 * says when a turn ends (libevent's cached time cannot: it is the coarse
 * monotonic clock, the same across many short turns).
 */
TAILQ_HEAD(clock_queue, clock);
static struct {
	struct clock_queue	 due;
	struct event		 drain;
	int			 drain_ready;
	int			 fired;	/* in this turn */
} cq = { .due = TAILQ_HEAD_INITIALIZER(cq.due) };

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

void
clock_turn_end(void)
{
	cq.fired = 0;
}

/* Room for one more firing in this loop turn; counts it. */
static int
clock_room(void)
{
	if (cq.fired >= CLOCK_FIRE_PER_TURN)
		return 0;
	cq.fired++;
	return 1;
}

static void
clock_fire_due(struct clock *c)
{
	metrics_observe(METRICS_CLOCK_LATENESS, (time_now_ms() -
	    c->deadline_ms) / 1000.0);
	clock_fire(c);
}

static void
clock_drain_later(void)
{
	static const struct timeval now = { 0, 0 };

	if (evtimer_add(&cq.drain, &now) == -1)
		fatalx("cannot arm a timer for clocks due");
}

/* The next turn: the queued clocks, as many as there is room for. */
static void
clock_drain(evutil_socket_t fd, short events, void *arg)
{
	struct clock *c;

	while ((c = TAILQ_FIRST(&cq.due)) != NULL && clock_room()) {
		TAILQ_REMOVE(&cq.due, c, entry);
		c->queued = 0;
		clock_fire_due(c);
	}
	if (!TAILQ_EMPTY(&cq.due))
		clock_drain_later();
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
	/* Behind those already waiting: they came due first. */
	if (TAILQ_EMPTY(&cq.due) && clock_room()) {
		clock_fire_due(c);
		return;
	}
	if (!cq.drain_ready) {
		if (evtimer_assign(&cq.drain, clock_evbase, clock_drain, NULL) == -1)
			fatalx("cannot create a timer");
		cq.drain_ready = 1;
	}
	if (TAILQ_EMPTY(&cq.due))
		clock_drain_later();
	TAILQ_INSERT_TAIL(&cq.due, c, entry);
	c->queued = 1;
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
	if (c->queued) {
		TAILQ_REMOVE(&cq.due, c, entry);
		c->queued = 0;
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
