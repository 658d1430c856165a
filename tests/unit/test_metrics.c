/*
 * Counters as /metrics shows them: one series per set of label values
 * (absent and empty the same), quotes and backslashes escaped, a counter
 * with one label blind to a second value, and the cap on series.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/metrics.h"

static char *
rendered(void)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_write(f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static int
teardown(void **state)
{
	metrics_reset();
	return 0;
}

static void
test_series(void **state)
{
	char	*text;
	int	 i;

	for (i = 0; i < 3; i++)
		assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, "hook",
		    "delivered"), 0);
	assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, "hook",
	    "retry"), 0);
	assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, "ho\"o\\k",
	    "retry"), 0);
	assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, NULL, ""), 0);
	assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, "", NULL), 0);
	assert_int_equal(metrics_count(METRICS_ESCALATIONS, "ack", "x"), 0);
	assert_int_equal(metrics_count(METRICS_ESCALATIONS, "ack", "y"), 0);
	text = rendered();
	if (strstr(text, "dutyd_notify_attempts_total{channel=\"hook\","
	    "outcome=\"delivered\"} 3\n") == NULL ||
	    strstr(text, "dutyd_notify_attempts_total{channel=\"hook\","
	    "outcome=\"retry\"} 1\n") == NULL ||
	    strstr(text, "dutyd_notify_attempts_total{channel=\"ho\\\"o\\\\k\","
	    "outcome=\"retry\"} 1\n") == NULL ||
	    strstr(text, "dutyd_notify_attempts_total{channel=\"\","
	    "outcome=\"\"} 2\n") == NULL ||
	    strstr(text, "dutyd_escalations_total{kind=\"ack\"} 2\n") == NULL)
		fail_msg("%s", text);
	free(text);
}

static void
test_cap(void **state)
{
	char	 v[32];
	int	 i;

	for (i = 0; i < METRICS_SERIES_MAX; i++) {
		snprintf(v, sizeof(v), "c%d", i);
		assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, v, "x"),
		    0);
	}
	assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, "one more",
	    "x"), -ENOSPC);
	/* A series already there still counts. */
	assert_int_equal(metrics_count(METRICS_NOTIFY_ATTEMPTS, "c7", "x"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_series, teardown),
		cmocka_unit_test_teardown(test_cap, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
