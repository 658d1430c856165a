/*
 * Clocks on libevent's timers (the real backend, the real time): a burst
 * of deadlines fires over several loop turns, at most CLOCK_FIRE_PER_TURN
 * in each so requests are answered in between, each once, none before
 * its deadline.  (libevent orders timers due at the same instant as it
 * likes; those queued fire in the order they woke.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "base/clock.h"
#include "base/timeutil.h"

#define BURST	(3 * CLOCK_FIRE_PER_TURN + 17)

static int	nfired, times_fired[BURST];
static int64_t	fired_at[BURST];

static void
fired(struct clock *c, void *arg)
{
	int i = (int)(intptr_t)arg;

	fired_at[i] = time_now_ms();
	times_fired[i]++;
	nfired++;
}

static void
test_a_burst_fires_over_turns_in_order(void **state)
{
	struct event_base	*base = event_base_new();
	struct clock		*c = calloc(BURST, sizeof(*c));
	int64_t			 now = time_now_ms();
	int			 i, turns = 0, before, gone = -1;

	assert_non_null(base);
	assert_non_null(c);
	clock_base(base);
	/* All due at once: deadlines just past. */
	for (i = 0; i < BURST; i++) {
		clock_init(&c[i], fired, (void *)(intptr_t)i);
		clock_arm(&c[i], now - BURST + i);
	}
	/* One disarmed while it waits its turn never fires. */
	while (nfired < BURST - 1 && turns < 100) {
		before = nfired;
		event_base_loop(base, EVLOOP_ONCE);
		clock_turn_end();	/* as core_turn() does */
		turns++;
		assert_true(nfired - before <= CLOCK_FIRE_PER_TURN);
		if (turns == 1) {
			assert_int_equal(nfired, CLOCK_FIRE_PER_TURN);
			for (gone = 0; times_fired[gone] != 0; gone++)
				;
			assert_true(clock_armed(&c[gone]));
			clock_disarm(&c[gone]);
			assert_false(clock_armed(&c[gone]));
		}
	}
	assert_int_equal(nfired, BURST - 1);
	assert_true(turns >= 4);
	for (i = 0; i < BURST; i++) {
		assert_int_equal(times_fired[i], i == gone ? 0 : 1);
		assert_true(i == gone || fired_at[i] >= c[i].deadline_ms);
	}
	/* Nothing left to fire. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(nfired, BURST - 1);
	/* A clock re-armed later still fires once, not before its deadline. */
	clock_arm(&c[gone], time_now_ms() + 30);
	while (times_fired[gone] < 1) {
		event_base_loop(base, EVLOOP_ONCE);
		clock_turn_end();
	}
	assert_true(fired_at[gone] >= c[gone].deadline_ms);
	assert_int_equal(nfired, BURST);
	for (i = 0; i < BURST; i++)
		clock_free(&c[i]);
	free(c);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_burst_fires_over_turns_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
