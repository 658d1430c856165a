/*
 * fakeclock.c: see fakeclock.h.
 */
#include <stdint.h>
#include <sys/queue.h>

#include "actions/core.h"
#include "base/clock.h"
#include "base/timeutil.h"
#include "fakeclock.h"

static TAILQ_HEAD(, clock)	armed = TAILQ_HEAD_INITIALIZER(armed);
static int64_t			fake_now;

static int64_t
fake_time(void)
{
	return fake_now;
}

static void
fake_arm(struct clock *c)
{
	TAILQ_INSERT_TAIL(&armed, c, entry);
}

static void
fake_disarm(struct clock *c)
{
	TAILQ_REMOVE(&armed, c, entry);
}

static const struct clock_backend fake_backend = { fake_arm, fake_disarm };

void
fakeclock_start(int64_t now)
{
	fake_now = now;
	TAILQ_INIT(&armed);
	time_use_source(fake_time);
	clock_use(&fake_backend);
}

void
fakeclock_stop(void)
{
	time_use_source(NULL);
	clock_use(NULL);
}

int64_t
fakeclock_now(void)
{
	return fake_now;
}

/* The earliest armed clock due at or before LIMIT; ties in arming order. */
static struct clock *
fake_due(int64_t limit)
{
	struct clock *c, *best = NULL;

	TAILQ_FOREACH(c, &armed, entry)
		if (c->deadline_ms <= limit &&
		    (best == NULL || c->deadline_ms < best->deadline_ms))
			best = c;
	return best;
}

static void
fake_run_until(int64_t target)
{
	struct clock *c;

	while ((c = fake_due(target)) != NULL) {
		if (c->deadline_ms > fake_now)
			fake_now = c->deadline_ms;
		TAILQ_REMOVE(&armed, c, entry);
		clock_fire(c);
		core_turn();
	}
	if (target > fake_now)
		fake_now = target;
}

void
fakeclock_advance(int64_t ms)
{
	fake_run_until(fake_now + ms);
	clock_jobs_run();
	core_turn();
}

void
fakeclock_turn(void)
{
	fake_run_until(fake_now);
	clock_jobs_run();
	core_turn();
}

int
fakeclock_armed(void)
{
	struct clock	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &armed, entry)
		n++;
	return n;
}

int64_t
fakeclock_next(void)
{
	struct clock *c = fake_due(INT64_MAX);

	return c != NULL ? c->deadline_ms : 0;
}
