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
 * All clocks share one libevent timer, set for the earliest of a heap of
 * deadlines: a wake fires every clock due by then, in deadline order, in
 * one loop turn (one group commit), and an armed clock is 48 bytes, not a
 * 200-byte libevent event per clock (two per incident).  At 100,000
 * deadlines due within the same 3 s, a timer per clock cost a libevent heap
 * operation and an active-queue pass per firing.
 *
 * Work a firing causes but that need not hold up the next firing or a
 * reply (an escalation's notifications) goes to a clock_job: it runs at a
 * lower libevent priority than timers and I/O, so in turns with nothing
 * else to do, a slice at a time.
 *
 * Tests replace both the time (time_use_source()) and the timers
 * (clock_use()), so state machines run in milliseconds on a fake clock.
 */
#ifndef DUTYD_CLOCK_H
#define DUTYD_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct event_base;
struct clock;

typedef void (*clock_fn)(struct clock *, void *arg);

struct clock {
	union {
		TAILQ_ENTRY(clock) entry;	/* a replacement backend's, while armed */
		size_t	 slot;		/* in the heap, while armed */
	};
	int64_t		 deadline_ms;
	uint64_t	 seq;		/* arming order: ties, and who waits a turn */
	clock_fn	 fn;
	void		*arg;
	unsigned char	 initialized;
	unsigned char	 armed;
};

/*
 * Once, before any clock_init, with a base whose priorities are set
 * (event_base_priority_init, at least 2: jobs run at the lowest).
 */
void	clock_base(struct event_base *);
/* Before the base is freed: its events stopped.  Armed clocks stay armed. */
void	clock_end(void);
void	clock_init(struct clock *, clock_fn fn, void *arg);
/* (Re)arms for deadline; a deadline in the past fires on the next loop turn. */
void	clock_arm(struct clock *, int64_t deadline_ms);
void	clock_disarm(struct clock *);
int	clock_armed(const struct clock *);
/* A clock is due and not fired yet (firings behind: work that can wait, waits). */
int	clock_behind(void);
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
/* Runs c's callback now (a replacement backend's deadline came), then the jobs queued. */
void	clock_fire(struct clock *);

/*
 * Work for a loop turn that has nothing more urgent: one call of fn per
 * turn at the lowest priority (it does a slice and calls clock_job_later
 * again if more is left).  Under a replacement backend the jobs run at the
 * end of clock_fire(), or at clock_jobs_run().
 */
struct clock_job {
	TAILQ_ENTRY(clock_job) entry;
	void	(*fn)(void *);
	void	*arg;
	int	 queued;
};
void	clock_job_later(struct clock_job *, void (*fn)(void *), void *arg);
void	clock_job_cancel(struct clock_job *);	/* accepts NULL and jobs not queued */
void	clock_jobs_run(void);	/* every job queued, until none is (tests) */

#endif
