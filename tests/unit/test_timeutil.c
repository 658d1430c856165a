/*
 * Durations as operators write them in the config, and RFC 3339 times as
 * clients send them and dutyd writes them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "base/tz.h"

static int64_t
dur(const char *s)
{
	int64_t		 ms = -1;
	const char	*why = NULL;

	assert_int_equal(duration_parse(s, &ms, &why), 0);
	assert_null(why);
	return ms;
}

static const char *
dur_err(const char *s, int want)
{
	int64_t		 ms = 12345;
	const char	*why = NULL;

	assert_int_equal(duration_parse(s, &ms, &why), want);
	assert_int_equal(ms, 12345);	/* untouched on error */
	assert_non_null(why);
	return why;
}

static void
test_durations(void **state)
{
	assert_int_equal(dur("90s"), 90000);
	assert_int_equal(dur("20m"), 20 * 60000);
	assert_int_equal(dur("1h"), 3600000);
	assert_int_equal(dur("1h30m"), 5400000);
	assert_int_equal(dur("2s"), 2000);
	assert_int_equal(dur("500ms"), 500);
	assert_int_equal(dur("1d"), 86400000);
	assert_int_equal(dur("1m30s"), 90000);
	assert_int_equal(dur("0s"), 0);
}

static void
test_duration_errors(void **state)
{
	assert_non_null(strstr(dur_err("20", -EINVAL), "unit"));
	assert_non_null(strstr(dur_err("", -EINVAL), "empty"));
	assert_non_null(strstr(dur_err("20x", -EINVAL), "unit"));
	dur_err("m", -EINVAL);
	dur_err("-5s", -EINVAL);
	dur_err("1.5h", -EINVAL);
	dur_err("20 m", -EINVAL);
	dur_err("1h30", -EINVAL);
	dur_err("99999999999999999999s", -ERANGE);
	dur_err("3651d", -ERANGE);
	dur_err("3650d1s", -ERANGE);
}

static int64_t
ts(const char *s)
{
	int64_t ms = -1;

	assert_int_equal(time_parse(s, &ms), 0);
	return ms;
}

static void
test_rfc3339_parse(void **state)
{
	/* date -d 2026-11-28T06:40:35Z +%s = 1795848035 */
	assert_int_equal(ts("2026-11-28T06:40:35Z"), INT64_C(1795848035000));
	assert_int_equal(ts("2026-11-28T14:40:35+08:00"), INT64_C(1795848035000));
	assert_int_equal(ts("2026-11-27T22:40:35-08:00"), INT64_C(1795848035000));
	assert_int_equal(ts("2026-11-28T06:40:35.123Z"), INT64_C(1795848035123));
	assert_int_equal(ts("2026-11-28T06:40:35.1+00:00"), INT64_C(1795848035100));
	assert_int_equal(ts("2026-11-28T06:40:35.123456789Z"), INT64_C(1795848035123));
	assert_int_equal(ts("2026-11-28 06:40:35z"), INT64_C(1795848035000));
	assert_int_equal(ts("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
	assert_int_equal(ts("1970-01-01T00:00:00Z"), 0);
}

static void
test_rfc3339_rejects(void **state)
{
	static const char *bad[] = {
		"", "yesterday", "2026-11-28", "2026-11-28T14:05", "2026-11-28 14:05",
		"2026-11-28T14:05:00", "2026-11-28T14:05:00+0800", "2026-11-28T14:05:00+08",
		"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z",
		"2026-11-28T24:00:00Z", "2026-11-28T14:60:00Z", "2026-11-28T14:05:00.Z",
		"2026-11-28T14:05:00Z ", " 2026-11-28T14:05:00Z", "2026-11-28T14:05:00+24:00",
		"26-11-28T14:05:00Z", "2026/11/28T14:05:00Z",
	};
	size_t	i;
	int64_t	ms;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (time_parse(bad[i], &ms) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(time_parse(NULL, &ms), -EINVAL);
}

/* Times are shown in ZONE from now on. */
static void
show_in(const char *zone)
{
	struct tz *tz;

	assert_int_equal(tz_load(zone, &tz), 0);
	time_set_zone(tz);
	tz_unref(tz);	/* time_set_zone() holds its own */
}

static void
test_format_carries_offset(void **state)
{
	char	buf[TIME_RFC3339_MAX];
	int64_t	back;

	show_in("Asia/Shanghai");
	assert_string_equal(time_format(INT64_C(1795848035123), buf, sizeof(buf)),
	    "2026-11-28T14:40:35.123+08:00");
	assert_int_equal(ts(buf), INT64_C(1795848035123));
	show_in("UTC");
	assert_string_equal(time_format(INT64_C(1795848035000), buf, sizeof(buf)),
	    "2026-11-28T06:40:35.000+00:00");
	show_in("America/St_Johns");	/* a half-hour offset */
	time_format(INT64_C(1795848035000), buf, sizeof(buf));
	assert_string_equal(buf + 23, "-03:30");
	assert_int_equal(time_parse(buf, &back), 0);
	assert_int_equal(back, INT64_C(1795848035000));
	/* Before the epoch the milliseconds still count up within a second. */
	show_in("UTC");
	assert_string_equal(time_format(-500, buf, sizeof(buf)),
	    "1969-12-31T23:59:59.500+00:00");
	time_set_zone(NULL);
}

/*
 * Every time written is valid RFC 3339 that reads back as the same instant:
 * four-digit years only, and whole-minute offsets even where the zone had
 * local mean time (Shanghai +08:05:43 before 1901).  Year 0 was written
 * "0-01-01T08:05:43.000+08:05".
 */
static void
test_times_stay_rfc3339(void **state)
{
	char	buf[TIME_RFC3339_MAX];
	int64_t	ms, back;

	assert_int_equal(time_parse("0000-01-01T00:00:00Z", &ms), -ERANGE);
	assert_int_equal(time_parse("0999-12-31T23:59:59Z", &ms), -ERANGE);
	assert_int_equal(time_parse("1000-01-01T00:00:00Z", &ms), -ERANGE);
	assert_int_equal(time_parse("1000-01-02T00:00:00Z", &ms), 0);
	assert_int_equal(ms, TIME_MIN_MS);
	assert_int_equal(time_parse("9999-12-30T23:59:59.999Z", &ms), 0);
	assert_int_equal(ms, TIME_MAX_MS);
	assert_int_equal(time_parse("9999-12-31T23:59:59Z", &ms), -ERANGE);

	show_in("Asia/Shanghai");
	assert_int_equal(time_parse("1900-01-01T00:00:00Z", &ms), 0);
	assert_string_equal(time_format(ms, buf, sizeof(buf)),
	    "1900-01-01T08:06:00.000+08:06");
	assert_int_equal(time_parse(buf, &back), 0);
	assert_int_equal(back, ms);
	assert_string_equal(time_format(TIME_MIN_MS, buf, sizeof(buf)),
	    "1000-01-02T08:06:00.000+08:06");
	assert_string_equal(time_format(TIME_MAX_MS, buf, sizeof(buf)),
	    "9999-12-31T07:59:59.999+08:00");
	assert_string_equal(time_format(TIME_MIN_MS - 1, buf, sizeof(buf)),
	    "invalid-time");
	assert_string_equal(time_format(TIME_MAX_MS + 1, buf, sizeof(buf)),
	    "invalid-time");
	time_set_zone(NULL);
}

/*
 * The zone set for display, never TZ: TZ is process-wide, and setting it
 * while other threads read the environment is a data race, so dutyd no
 * longer does, and what it shows must not depend on it.
 */
static void
test_shown_zone_not_tz(void **state)
{
	char	buf[TIME_RFC3339_MAX];
	struct tm tm;

	show_in("Asia/Shanghai");
	setenv("TZ", "America/New_York", 1);
	tzset();
	assert_string_equal(time_format(INT64_C(1795848035123), buf, sizeof(buf)),
	    "2026-11-28T14:40:35.123+08:00");
	assert_string_equal(time_local(INT64_C(1795848035123), "%m-%d %H:%M %Z",
	    buf, sizeof(buf)), "11-28 14:40 CST");
	assert_int_equal(time_tm(INT64_C(1795848035123), &tm), 0);
	assert_int_equal(tm.tm_gmtoff, 8 * 3600);
	assert_string_equal(tz_name(time_zone()), "Asia/Shanghai");
	assert_string_equal(time_local(0, "%H:%M", buf, sizeof(buf)), "");
	time_set_zone(NULL);	/* the system's again */
	assert_non_null(time_zone());
	unsetenv("TZ");
	tzset();
}


/*
 * Times are formatted from a cache by the second: what it gives is what
 * formatting anew gives, for any milliseconds, for seconds that share a
 * slot, and after the zone changes.
 */
static void
test_format_cache_is_exact(void **state)
{
	char	 buf[TIME_RFC3339_MAX], again[TIME_RFC3339_MAX];
	int64_t	 t, base = INT64_C(1795848035123), back;
	int	 i;

	show_in("Asia/Shanghai");
	for (i = 0; i < 2000; i++) {
		/* Deadlines 20 and 40 minutes on, and milliseconds around them. */
		t = base + (int64_t)(i % 3) * 1200000 + (i / 3) * 997;
		time_format(t, buf, sizeof(buf));
		assert_int_equal(time_parse(buf, &back), 0);
		assert_int_equal(back, t);
		assert_string_equal(time_format(t, again, sizeof(again)), buf);
	}
	assert_string_equal(time_format(INT64_C(1795848035123), buf,
	    sizeof(buf)), "2026-11-28T14:40:35.123+08:00");
	assert_string_equal(time_format(INT64_C(1795848035007), buf,
	    sizeof(buf)), "2026-11-28T14:40:35.007+08:00");
	show_in("UTC");
	assert_string_equal(time_format(INT64_C(1795848035123), buf,
	    sizeof(buf)), "2026-11-28T06:40:35.123+00:00");
	/* A buffer too small is cut as snprintf cuts it. */
	assert_string_equal(time_format(INT64_C(1795848035123), buf, 11),
	    "2026-11-28");
	time_set_zone(NULL);
}

/*
 * Local times are formatted from a cache by the second and format: what it
 * gives is what strftime gives, for formats sharing a second, for seconds
 * sharing a slot, after the zone changes and into a buffer too small.
 */
static void
test_local_cache_is_exact(void **state)
{
	char	 buf[64];
	int64_t	 t = INT64_C(1795848035123);
	int	 i;

	show_in("Asia/Shanghai");
	for (i = 0; i < 40; i++)
		time_local(t + (int64_t)i * 60000, "%H:%M", buf, sizeof(buf));
	assert_string_equal(time_local(t, "%m-%d %H:%M", buf, sizeof(buf)),
	    "11-28 14:40");
	assert_string_equal(time_local(t, "%H:%M", buf, sizeof(buf)), "14:40");
	assert_string_equal(time_local(t + 800, "%H:%M:%S", buf, sizeof(buf)),
	    "14:40:35");
	assert_string_equal(time_local(t + 1200000, "%H:%M", buf, sizeof(buf)),
	    "15:00");
	show_in("UTC");
	assert_string_equal(time_local(t, "%H:%M", buf, sizeof(buf)), "06:40");
	/* strftime gives nothing at all when the text does not fit. */
	assert_string_equal(time_local(t, "%m-%d %H:%M", buf, 6), "");
	assert_string_equal(time_local(t, "%H:%M", buf, 6), "06:40");
	time_set_zone(NULL);
}

/*
 * time_parse() counts days itself instead of calling timegm(): every day of
 * the years around each rule of the calendar (leap every 4, not every 100,
 * every 400), the ends of the range, a leap second and offsets on both
 * sides, each against timegm() on the same fields.
 */
static void
test_parse_is_timegm(void **state)
{
	static const int	 from[] = { 1000, 1599, 1699, 1896, 1968, 2096,
				    2396, 9995 };
	static const int	 mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };
	char			 s[64];
	struct tm		 tm;
	int64_t			 ms;
	size_t			 i;
	int			 y, mo, d, n = 0;

	(void)state;
	for (i = 0; i < sizeof(from) / sizeof(from[0]); i++)
		for (y = from[i]; y < from[i] + (from[i] == 1968 ? 140 : 5) &&
		    y <= TIME_YEAR_MAX; y++)
			for (mo = 1; mo <= 12; mo++)
				for (d = 1; d <= mdays[mo - 1]; d++) {
					memset(&tm, 0, sizeof(tm));
					tm.tm_year = y - 1900;
					tm.tm_mon = mo - 1;
					tm.tm_mday = d;
					tm.tm_hour = (d * 7) % 24;
					tm.tm_min = (d * 13) % 60;
					tm.tm_sec = (d * 29) % 60;
					snprintf(s, sizeof(s),
					    "%04d-%02d-%02dT%02d:%02d:%02d.250+08:00",
					    y, mo, d, tm.tm_hour, tm.tm_min, tm.tm_sec);
					if (time_parse(s, &ms) != 0) {
						/* 29 February of a common year, or before the range. */
						assert_true((mo == 2 && d == 29 && (y % 4 != 0 ||
						    (y % 100 == 0 && y % 400 != 0))) ||
						    (y == 1000 && mo == 1 && d <= 2));
						continue;
					}
					assert_int_equal(ms, ((int64_t)timegm(&tm) -
					    8 * 3600) * 1000 + 250);
					n++;
				}
	assert_true(n > 60000);
	assert_int_equal(time_parse("2016-12-31T23:59:60Z", &ms), 0);
	assert_int_equal(ms, 1483228800000LL);	/* 2017-01-01T00:00:00Z */
	assert_int_equal(time_parse("2026-12-03T05:00:00-09:30", &ms), 0);
	assert_int_equal(ms, (1796274000LL + 9 * 3600 + 1800) * 1000);
	assert_int_equal(time_parse("1970-01-01T00:00:00Z", &ms), 0);
	assert_int_equal(ms, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_rfc3339_parse),
		cmocka_unit_test(test_rfc3339_rejects),
		cmocka_unit_test(test_parse_is_timegm),
		cmocka_unit_test(test_format_carries_offset),
		cmocka_unit_test(test_format_cache_is_exact),
		cmocka_unit_test(test_local_cache_is_exact),
		cmocka_unit_test(test_shown_zone_not_tz),
		cmocka_unit_test(test_times_stay_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
