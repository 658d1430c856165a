/*
 * Deadlines to timers: one libevent timer for a heap of clocks, or a
 * replacement backend's timers (tests).  Jobs: a queue run at the lowest
 * libevent priority.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/timeutil.h"

static struct event_base		*clock_evbase;
static const struct clock_backend	*clock_backend;

/* The armed clocks, a binary min-heap by (deadline, arming order). */
static struct clock	**clock_heap;
static size_t		  clock_n, clock_cap;
static uint64_t		  clock_seq;

static struct event	  clock_timer;	/* set for clock_heap[0] */
static int		  clock_timer_set;
static int64_t		  clock_timer_at;
static int		  clock_waking;	/* in clock_wake(): it sets the timer at the end */

/*
 * A job waits for a turn with nothing else to do, but no longer than this:
 * under a steady stream of reports, escalations' notifications still go.
 */
#define CLOCK_JOB_WAIT_MS	50

static TAILQ_HEAD(, clock_job)	clock_jobs = TAILQ_HEAD_INITIALIZER(clock_jobs);
/*
 * Pending while a job is queued: a timer due at once, not event_active(),
 * which libevent runs again in the same pass over the queue (a job
 * queueing its next slice would run them all before any clock fired).
 */
static struct event		clock_idle;
static int			clock_idle_set;
static struct event		clock_idle_late;	/* CLOCK_JOB_WAIT_MS, at the default priority */

static void	clock_wake(evutil_socket_t, short, void *);
static void	clock_idle_run(evutil_socket_t, short, void *);
static void	clock_idle_wake(void);

void
clock_base(struct event_base *base)
{
	int n;

	clock_evbase = base;
	clock_timer_set = clock_idle_set = 0;
	if (base == NULL)
		return;
	if (evtimer_assign(&clock_timer, base, clock_wake, NULL) == -1 ||
	    evtimer_assign(&clock_idle, base, clock_idle_run, &clock_idle) == -1 ||
	    evtimer_assign(&clock_idle_late, base, clock_idle_run, NULL) == -1)
		fatalx("cannot create the clocks' timer");
	/* Jobs wait for turns with no timer and no I/O to serve. */
	if ((n = event_base_get_npriorities(base)) > 1 &&
	    event_priority_set(&clock_idle, n - 1) == -1)
		fatalx("cannot set the priority of the clocks' jobs");
}

void
clock_end(void)
{
	if (clock_evbase == NULL)
		return;
	event_del(&clock_timer);
	event_del(&clock_idle);
	event_del(&clock_idle_late);
	clock_timer_set = clock_idle_set = 0;
	clock_evbase = NULL;
}

void
clock_use(const struct clock_backend *b)
{
	clock_backend = b;
}

static int
clock_before(const struct clock *a, const struct clock *b)
{
	return a->deadline_ms < b->deadline_ms ||
	    (a->deadline_ms == b->deadline_ms && a->seq < b->seq);
}

static void
clock_place(struct clock *c, size_t i)
{
	clock_heap[i] = c;
	c->slot = i;
}

static void
clock_sift_up(size_t i)
{
	struct clock	*c = clock_heap[i];
	size_t		 up;

	while (i > 0 && clock_before(c, clock_heap[up = (i - 1) / 2])) {
		clock_place(clock_heap[up], i);
		i = up;
	}
	clock_place(c, i);
}

static void
clock_sift_down(size_t i)
{
	struct clock	*c = clock_heap[i];
	size_t		 kid;

	while ((kid = 2 * i + 1) < clock_n) {
		if (kid + 1 < clock_n &&
		    clock_before(clock_heap[kid + 1], clock_heap[kid]))
			kid++;
		if (!clock_before(clock_heap[kid], c))
			break;
		clock_place(clock_heap[kid], i);
		i = kid;
	}
	clock_place(c, i);
}

static void
clock_heap_remove(struct clock *c)
{
	size_t		 i = c->slot;
	struct clock	*last = clock_heap[--clock_n];

	if (i == clock_n)
		return;
	clock_place(last, i);
	if (i > 0 && clock_before(last, clock_heap[(i - 1) / 2]))
		clock_sift_up(i);
	else
		clock_sift_down(i);
}

/* The one timer, for the earliest deadline; libevent's clock is monotonic. */
static void
clock_set_timer(void)
{
	struct timeval	tv;
	int64_t		delay;

	if (clock_waking || clock_evbase == NULL)
		return;
	if (clock_n == 0) {
		if (clock_timer_set)
			event_del(&clock_timer);
		clock_timer_set = 0;
		return;
	}
	if (clock_timer_set && clock_timer_at == clock_heap[0]->deadline_ms)
		return;
	clock_timer_at = clock_heap[0]->deadline_ms;
	if ((delay = clock_timer_at - time_now_ms()) < 0)
		delay = 0;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	if (evtimer_add(&clock_timer, &tv) == -1)
		fatalx("cannot arm a timer for a deadline");
	clock_timer_set = 1;
}

static void
clock_run_jobs(void)
{
	struct clock_job *j;

	while ((j = TAILQ_FIRST(&clock_jobs)) != NULL) {
		TAILQ_REMOVE(&clock_jobs, j, entry);
		j->queued = 0;
		j->fn(j->arg);
	}
}

void
clock_fire(struct clock *c)
{
	c->armed = 0;
	c->fn(c, c->arg);
	if (clock_backend != NULL)
		clock_run_jobs();
}

/*
 * Clocks a wake fires before it lets the loop read its sockets (the time is
 * looked at every CLOCK_WAKE_PART of them): when thousands are due at once,
 * a report arriving meanwhile is answered in the next turn, not after all.
 */
#define CLOCK_WAKE_MS		5
#define CLOCK_WAKE_PART		32

/*
 * The clocks due by now, in deadline order, in this turn (CLOCK_WAKE_MS of
 * them, the rest in the next).  libevent's timer may wake a little early
 * (its clock is the loop's cached monotonic time): what is not due yet
 * sleeps on.  A clock armed by a callback here waits for the next turn
 * even if already due, so one that keeps re-arming itself for now cannot
 * hold the loop.
 */
static void
clock_wake(evutil_socket_t fd, short events, void *arg)
{
	int64_t		 now = time_now_ms(), until = now + CLOCK_WAKE_MS;
	uint64_t	 limit = clock_seq;
	struct clock	*c;
	unsigned	 n = 0;

	clock_timer_set = 0;
	clock_waking = 1;
	while (clock_n > 0 && (c = clock_heap[0])->deadline_ms <= now &&
	    c->seq < limit) {
		if (++n % CLOCK_WAKE_PART == 0 && time_now_ms() >= until)
			break;
		clock_heap_remove(c);
		c->armed = 0;
		metrics_observe(METRICS_CLOCK_LATENESS,
		    (now - c->deadline_ms) / 1000.0);
		c->fn(c, c->arg);
	}
	clock_waking = 0;
	clock_set_timer();
}

void
clock_init(struct clock *c, clock_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->arg = arg;
	c->initialized = 1;
}

void
clock_arm(struct clock *c, int64_t deadline_ms)
{
	struct clock **h;

	clock_disarm(c);
	c->deadline_ms = deadline_ms;
	c->seq = clock_seq++;
	c->armed = 1;
	if (clock_backend != NULL) {
		clock_backend->arm(c);
		return;
	}
	if (clock_n == clock_cap) {
		/* Every open incident holds one or two: grow by half. */
		size_t cap = clock_cap < 64 ? 64 : clock_cap + clock_cap / 2;

		if ((h = reallocarray(clock_heap, cap, sizeof(*h))) == NULL)
			fatalx("out of memory arming a clock");
		clock_heap = h;
		clock_cap = cap;
	}
	clock_place(c, clock_n++);
	clock_sift_up(c->slot);
	clock_set_timer();
}

void
clock_disarm(struct clock *c)
{
	if (c->initialized && c->armed) {
		if (clock_backend != NULL)
			clock_backend->disarm(c);
		else {
			clock_heap_remove(c);
			clock_set_timer();
		}
	}
	c->armed = 0;
}

int
clock_armed(const struct clock *c)
{
	return c->armed;
}

int
clock_behind(void)
{
	return clock_backend == NULL && clock_n > 0 &&
	    clock_heap[0]->deadline_ms <= time_now_ms();
}

void
clock_free(struct clock *c)
{
	if (c == NULL || !c->initialized)
		return;
	clock_disarm(c);
	c->initialized = 0;
}

/* Keeps a job's turn coming while any is queued. */
static void
clock_idle_wake(void)
{
	static const struct timeval late = { 0, CLOCK_JOB_WAIT_MS * 1000 };
	static const struct timeval now = { 0, 0 };

	if (clock_backend != NULL || clock_evbase == NULL)
		return;
	if (TAILQ_EMPTY(&clock_jobs)) {
		event_del(&clock_idle_late);
		return;
	}
	if (!clock_idle_set) {
		if (evtimer_add(&clock_idle, &now) == -1)
			fatalx("cannot arm the clocks' job timer");
		clock_idle_set = 1;
	}
	if (!evtimer_pending(&clock_idle_late, NULL) &&
	    evtimer_add(&clock_idle_late, &late) == -1)
		fatalx("cannot arm the clocks' job timer");
}

/* An idle turn, or a job waited CLOCK_JOB_WAIT_MS. */
static void
clock_idle_run(evutil_socket_t fd, short events, void *arg)
{
	struct clock_job *j;

	if (arg == &clock_idle)
		clock_idle_set = 0;
	/*
	 * libevent runs a lower priority in the same loop call once the
	 * higher ones are done: while firings are behind, no job runs (its
	 * deliveries would compete with the firings; they catch up first).
	 */
	if (clock_behind()) {
		clock_idle_wake();
		return;
	}
	/* One job a turn: a turn stays short, and timers and I/O go first. */
	if ((j = TAILQ_FIRST(&clock_jobs)) != NULL) {
		TAILQ_REMOVE(&clock_jobs, j, entry);
		j->queued = 0;
		j->fn(j->arg);
	}
	clock_idle_wake();
}

void
clock_job_later(struct clock_job *j, void (*fn)(void *), void *arg)
{
	j->fn = fn;
	j->arg = arg;
	if (j->queued)
		return;
	TAILQ_INSERT_TAIL(&clock_jobs, j, entry);
	j->queued = 1;
	if (!clock_idle_set)
		clock_idle_wake();
}

void
clock_job_cancel(struct clock_job *j)
{
	if (j == NULL || !j->queued)
		return;
	TAILQ_REMOVE(&clock_jobs, j, entry);
	j->queued = 0;
}

void
clock_jobs_run(void)
{
	clock_run_jobs();
}
