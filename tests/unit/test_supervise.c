/*
 * What the watchdog weighs (actions/supervise.c) and what /metrics counts,
 * on the fake clock and the memory store: a sync that keeps failing and a
 * deadline that cannot be recorded are trouble once they last; a write
 * that succeeds again ends it.  Counters follow live events only.
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

#include "actions/supervise.h"
#include "base/metrics.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "state/incident.h"

#define MIN	COREFIX_MIN
#define SEC	INT64_C(1000)

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n"
    "policy:\n"
    "  ack_timeout: 20m\n"
    "  report_deadline: 40m\n";

static void
assert_prefix(const char *s, const char *prefix)
{
	if (s == NULL || strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("expected \"%s...\", got \"%s\"", prefix, s ? s : "(null)");
}

static void
test_a_sync_that_keeps_failing_is_trouble(void **state)
{
	corefix_start(conf);
	assert_null(supervise_trouble(fakeclock_now(), 2 * SEC));
	/* The report's record is written, its sync fails from then on. */
	memstore_fail(EIO, 1);
	corefix_report("county-a", "同步失败");
	fakeclock_advance(SEC);
	assert_null(supervise_trouble(fakeclock_now(), 2 * SEC));
	fakeclock_advance(SEC + 500);
	assert_prefix(supervise_trouble(fakeclock_now(), 2 * SEC),
	    "records have waited 2.5 s for the audit log to sync "
	    "(Input/output error)");
	/* Syncing again ends it. */
	memstore_fail(0, 0);
	fakeclock_advance(SEC);
	assert_null(supervise_trouble(fakeclock_now(), 2 * SEC));
}

static void
test_a_deadline_that_cannot_be_recorded_is_trouble(void **state)
{
	struct incident *inc;

	corefix_start(conf);
	inc = corefix_report("county-a", "时钟无法记录");
	fakeclock_advance(SEC);
	corefix_deliver_all();
	fakeclock_advance(MIN - SEC);
	assert_null(supervise_trouble(fakeclock_now(), 2 * SEC));
	memstore_fail(ENOSPC, 0);
	fakeclock_advance(19 * MIN + SEC);	/* the ack deadline passes */
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 0);
	assert_null(supervise_trouble(fakeclock_now(), 2 * SEC));
	fakeclock_advance(2 * SEC);
	/* It fired at 20 min: failing for 3 s now. */
	assert_prefix(supervise_trouble(fakeclock_now(), 2 * SEC),
	    "deadlines and delivery outcomes cannot be recorded for 3.0 s "
	    "(No space left on device)");
	memstore_fail(0, 0);
	fakeclock_advance(SEC);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 1);
	assert_null(supervise_trouble(fakeclock_now(), 2 * SEC));
}

static long long
series(const char *text, const char *name)
{
	const char *at = strstr(text, name);

	if (at == NULL)
		return -1;
	return strtoll(at + strlen(name), NULL, 10);
}

static void
test_metrics_count_live_events_not_replay(void **state)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;

	metrics_reset();
	corefix_start(conf);
	corefix_report("county-a", "计数");
	fakeclock_advance(SEC);
	assert_int_equal(corefix_deliver_all(), 2);
	fakeclock_advance(20 * MIN);		/* escalated */
	corefix_deliver_all();
	corefix_restart(MIN);			/* replay counts nothing */
	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(metrics_write(f), 0);
	fclose(f);
	assert_int_equal(series(text, "dutyd_reports_total{office=\"county-a\","
	    "late=\"false\"} "), 1);
	assert_int_equal(series(text, "dutyd_escalations_total{kind=\"ack\"} "), 1);
	assert_true(series(text, "dutyd_notify_attempts_total{channel=\"hook\","
	    "outcome=\"delivered\"} ") >= 2);
	assert_int_equal(series(text, "dutyd_notify_latency_seconds_count "), 1);
	assert_int_equal(series(text, "dutyd_notify_latency_seconds_bucket{le=\"+Inf\"} "), 1);
	assert_true(series(text, "dutyd_audit_fsync_seconds_count ") >= 2);
	free(text);
	metrics_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_sync_that_keeps_failing_is_trouble,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_a_deadline_that_cannot_be_recorded_is_trouble,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_metrics_count_live_events_not_replay,
		    corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
