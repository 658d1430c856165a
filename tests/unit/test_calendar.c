/*
 * Working days (config/calendar.c): weekends, holidays and make-up working
 * days (调休), the shipped 2026 arrangement, the `calendar:` key's errors
 * as FILE:LINE:COLUMN, and the `dutyd -t` warning when the calendar does
 * not reach 60 days ahead.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "conffix.h"
#include "config/calendar.h"
#include "config/confcheck.h"
#include "config/config.h"
#include "config/confload.h"

#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must be defined (the Makefile does)"
#endif

#define SHIPPED	TEST_SRC_DIR "/../../etc/calendar-cn-2026.yaml"

static const char BASE[] =
    /*  1 */ "listen: \"127.0.0.1:8080\"\n"
    /*  2 */ "state_dir: ./var\n"
    /*  3 */ "plugin_dir: \"" TEST_PLUGIN_DIR "\"\n"
    /*  4 */ "public_url: \"http://127.0.0.1:8080/\"\n"
    /*  5 */ "timezone: Asia/Shanghai\n"
    /*  6 */ "offices: [ { id: county-a, name: A县应急管理局, token: office-token-a } ]\n"
    /*  7 */ "people:\n"
    /*  8 */ "  - { id: zhang, name: 张伟, token: person-token-z, contacts: [ { channel: hook, to: zhang } ] }\n"
    /*  9 */ "duty: { officers: [zhang], leader: zhang }\n"
    /* 10 */ "channels: { hook: { plugin: testchan, url: \"http://127.0.0.1:9/hook\" } }\n";

static void
load(struct conffix *l, const char *extra)
{
	conffix_load(l, BASE, extra);
}

/* EXTRA fails to load with one error at LINECOL ("12:3") starting with WANT. */
static void
expect_error(const char *extra, const char *linecol, const char *want)
{
	conffix_expect_error(BASE, extra, linecol, want);
}

static void
test_dates(void **state)
{
	int y, m, d;
	char buf[CALENDAR_DATE_MAX];

	assert_int_equal(calendar_parse_date("2026-02-28", &y, &m, &d), 0);
	assert_int_equal(y * 10000 + m * 100 + d, 20260228);
	assert_int_equal(calendar_parse_date("2026-02-29", &y, &m, &d), -EINVAL);
	assert_int_equal(calendar_parse_date("2028-02-29", &y, &m, &d), 0);
	assert_int_equal(calendar_parse_date("2026-2-28", &y, &m, &d), -EINVAL);
	assert_int_equal(calendar_parse_date("2026-13-01", &y, &m, &d), -EINVAL);
	assert_int_equal(calendar_parse_date("2026-01-01x", &y, &m, &d), -EINVAL);
	assert_int_equal(calendar_parse_date(NULL, &y, &m, &d), -EINVAL);
	/* 2026-12-02 is a Wednesday; day numbers round-trip. */
	assert_int_equal(calendar_weekday(calendar_daynum(2026, 12, 2)), 3);
	calendar_civil(calendar_daynum(2028, 2, 29) + 1, &y, &m, &d);
	assert_string_equal(calendar_format_date(y, m, d, buf), "2028-03-01");
}

/* Without a calendar: Monday to Friday, nothing declared. */
static void
test_empty(void **state)
{
	struct conffix	l;
	int		y, m, d;

	load(&l, "");
	assert_non_null(l.cf);
	assert_non_null(l.cf->calendar);
	assert_true(calendar_is_workday(l.cf->calendar, 2026, 12, 4));	/* Fri */
	assert_false(calendar_is_workday(l.cf->calendar, 2026, 12, 5));	/* Sat */
	assert_false(calendar_covers(l.cf->calendar, 2026, 12, 5));
	/* The working day before Monday is Friday. */
	assert_int_equal(calendar_workday_shift(l.cf->calendar, 2026, 12, 7,
	    -1, &y, &m, &d), 0);
	assert_int_equal(y * 10000 + m * 100 + d, 20261204);
	conffix_unload(&l);
}

/* The State Council's 2026 arrangement, as shipped in etc/. */
static void
test_shipped(void **state)
{
	struct conffix	 l;
	const struct calendar *c;
	int		 y, m, d;

	load(&l, "calendar: { include: \"" SHIPPED "\" }\n");
	assert_non_null(l.cf);
	c = l.cf->calendar;
	assert_false(calendar_is_workday(c, 2026, 1, 1));
	assert_false(calendar_is_workday(c, 2026, 1, 2));	/* Friday, holiday */
	assert_true(calendar_is_workday(c, 2026, 1, 4));	/* Sunday worked */
	assert_true(calendar_is_workday(c, 2026, 2, 14));	/* Saturday worked */
	assert_false(calendar_is_workday(c, 2026, 2, 23));	/* Monday, 春节 */
	assert_true(calendar_is_workday(c, 2026, 2, 24));
	assert_true(calendar_is_workday(c, 2026, 2, 28));
	assert_true(calendar_is_workday(c, 2026, 10, 10));
	assert_false(calendar_is_workday(c, 2026, 10, 5));
	assert_true(calendar_is_workday(c, 2026, 10, 8));
	/* The day before the first day back after 春节 is the make-up Saturday. */
	assert_int_equal(calendar_workday_shift(c, 2026, 2, 24, -1, &y, &m, &d),
	    0);
	assert_int_equal(y * 10000 + m * 100 + d, 20260214);
	assert_int_equal(calendar_workday_shift(c, 2026, 9, 30, 1, &y, &m, &d),
	    0);
	assert_int_equal(y * 10000 + m * 100 + d, 20261008);
	assert_true(calendar_covers(c, 2026, 12, 31));
	assert_false(calendar_covers(c, 2027, 1, 1));
	assert_int_equal(calendar_first_uncovered(c, 2026, 12, 1, 60),
	    calendar_daynum(2027, 1, 1));
	assert_int_equal(calendar_first_uncovered(c, 2026, 6, 1, 60), -1);
	conffix_unload(&l);
}

/* Inline, in both range forms; a file name alone is the file. */
static void
test_inline(void **state)
{
	struct conffix	 l;

	load(&l, "calendar:\n"
	    "  holidays: [ 2027-01-01, \"2027-02-05..2027-02-11\", { from: 2027-05-01, to: 2027-05-03 } ]\n"
	    "  workdays: [ 2027-02-13 ]\n");
	assert_non_null(l.cf);
	assert_false(calendar_is_workday(l.cf->calendar, 2027, 2, 8));
	assert_false(calendar_is_workday(l.cf->calendar, 2027, 5, 3));
	assert_true(calendar_is_workday(l.cf->calendar, 2027, 5, 4));
	assert_true(calendar_is_workday(l.cf->calendar, 2027, 2, 13));
	/* No `years:`: the years of the dates listed. */
	assert_true(calendar_covers(l.cf->calendar, 2027, 7, 1));
	assert_false(calendar_covers(l.cf->calendar, 2026, 7, 1));
	conffix_unload(&l);
	load(&l, "calendar: \"" SHIPPED "\"\n");
	assert_non_null(l.cf);
	assert_true(calendar_is_workday(l.cf->calendar, 2026, 2, 14));
	conffix_unload(&l);
}

static void
test_errors(void **state)
{
	expect_error("calendar: { holidays: [ 2026-02-30 ] }\n", "11:25",
	    "'holidays' in calendar: '2026-02-30' is not a date");
	expect_error("calendar: { holidays: [ \"2026-02-10..2026-02-01\" ] }\n",
	    "11:25", "'holidays' in calendar: a range must run forward");
	expect_error("calendar: { holidays: [ 2026-02-14 ], workdays: [ 2026-02-14 ] }\n",
	    "11:51", "2026-02-14 is listed both under 'holidays' and 'workdays'");
	expect_error("calendar: { holiday: [ 2026-02-14 ] }\n", "11:13",
	    "unknown key 'holiday'");
	expect_error("calendar: { years: [ 26 ] }\n", "11:22",
	    "'years' in calendar lists the years");
	expect_error("calendar: { include: no-such-calendar.yaml }\n", "11:22",
	    "cannot read");
	expect_error("directives: { default_due: 36h }\n", "11:28",
	    "'default_due' in directives is counted in whole days");
	expect_error("directives: { remind_at: \"9am\" }\n", "11:26",
	    "'remind_at' in directives is a local time of day");
}

static int64_t fake_now;

static int64_t
now_fn(void)
{
	return fake_now;
}

static void
say(const char *msg, void *arg)
{
	int *n = arg;

	if (strstr(msg, "the calendar does not cover 2027-01-01") != NULL)
		(*n)++;
}

/* `dutyd -t` warns when the next 60 days run past the calendar. */
static void
test_warning(void **state)
{
	struct conffix	 l;
	int		 n = 0;

	load(&l, "calendar: { include: \"" SHIPPED "\" }\n");
	assert_non_null(l.cf);
	time_use_source(now_fn);
	assert_int_equal(time_parse("2026-06-01T09:00:00+08:00", &fake_now), 0);
	confcheck_warnings(l.cf, say, &n);
	assert_int_equal(n, 0);
	assert_int_equal(time_parse("2026-11-05T09:00:00+08:00", &fake_now), 0);
	confcheck_warnings(l.cf, say, &n);
	assert_int_equal(n, 1);
	time_use_source(NULL);
	conffix_unload(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
