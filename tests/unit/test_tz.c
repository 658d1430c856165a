/*
 * Time zones as values (base/tz.c): the offsets the tz database gives around
 * real transitions, the same as glibc's localtime_r() with TZ set (which the
 * daemon no longer uses, so only this test asks it), and what an unknown
 * name gets.
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "base/tz.h"

#define HOUR	((int64_t)3600 * 1000)

static int64_t
T(const char *s)
{
	int64_t ms = -1;

	if (time_parse(s, &ms) != 0)
		fail_msg("bad time in test: %s", s);
	return ms;
}

static struct tz *
load(const char *name)
{
	struct tz *tz = NULL;

	assert_int_equal(tz_load(name, &tz), 0);
	assert_non_null(tz);
	return tz;
}

/* The offset just before and at instant WHEN, in hours. */
static void
assert_jump(const struct tz *tz, const char *when, int before, int after)
{
	assert_int_equal(tz_offset_ms(tz, T(when) - 1), before * HOUR);
	assert_int_equal(tz_offset_ms(tz, T(when)), after * HOUR);
}

static void
test_new_york(void **state)
{
	struct tz *tz = load("America/New_York");

	assert_string_equal(tz_name(tz), "America/New_York");
	assert_jump(tz, "2027-03-14T07:00:00Z", -5, -4);	/* 02:00 EST */
	assert_jump(tz, "2027-11-07T06:00:00Z", -4, -5);	/* 02:00 EDT */
	/* Past the file's explicit transitions: its footer rule. */
	assert_jump(tz, "2100-03-14T07:00:00Z", -5, -4);
	assert_jump(tz, "2100-11-07T06:00:00Z", -4, -5);
	assert_int_equal(tz_offset_ms(tz, T("2250-07-01T12:00:00Z")), -4 * HOUR);
	tz_unref(tz);
}

static void
test_london(void **state)
{
	struct tz *tz = load("Europe/London");

	assert_jump(tz, "2027-03-28T01:00:00Z", 0, 1);
	assert_jump(tz, "2027-10-31T01:00:00Z", 1, 0);
	assert_jump(tz, "2100-03-28T01:00:00Z", 0, 1);
	assert_jump(tz, "2100-10-31T01:00:00Z", 1, 0);
	tz_unref(tz);
}

static void
test_fixed(void **state)
{
	struct tz *sh = load("Asia/Shanghai"), *utc = load("UTC");
	int64_t t;

	/* China has not changed its clocks since 1991. */
	for (t = T("1992-01-01T00:00:00Z"); t < T("2110-01-01T00:00:00Z");
	    t += 97 * HOUR) {
		assert_int_equal(tz_offset_ms(sh, t), 8 * HOUR);
		assert_int_equal(tz_offset_ms(utc, t), 0);
	}
	assert_int_equal(tz_offset_ms(sh, T("1988-07-01T00:00:00Z")), 9 * HOUR);
	assert_int_equal(tz_offset_ms(utc, -1), 0);
	tz_unref(sh);
	tz_unref(utc);
}

/* What glibc says, with TZ as set (only this test sets it), in ms. */
static int64_t
glibc_offset(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	assert_non_null(localtime_r(&t, &tm));
	return (int64_t)tm.tm_gmtoff * 1000;
}

static void
test_same_as_glibc(void **state)
{
	static const char *zones[] = {
		"America/New_York", "Europe/London", "Asia/Shanghai", "UTC",
		"America/St_Johns", "Australia/Lord_Howe", "America/Santiago",
	};
	char val[64];
	struct tz *tz;
	size_t i;
	int64_t t;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		snprintf(val, sizeof(val), ":%s", zones[i]);
		setenv("TZ", val, 1);
		tzset();
		tz = load(zones[i]);
		/* Every 7 hours: every weekday and hour, over a century. */
		for (t = T("2000-01-01T00:00:00Z"); t < T("2110-01-01T00:00:00Z");
		    t += 7 * HOUR)
			if (tz_offset_ms(tz, t) != glibc_offset(t))
				fail_msg("%s at %lld: %lld, libc %lld", zones[i],
				    (long long)t, (long long)tz_offset_ms(tz, t),
				    (long long)glibc_offset(t));
		tz_unref(tz);
	}
	unsetenv("TZ");
	tzset();
}

static void
test_broken_down(void **state)
{
	struct tz *ny = load("America/New_York"), *utc = load("UTC");
	struct tm tm;
	char buf[64];

	assert_int_equal(tz_tm(ny, T("2027-03-14T07:00:00.999Z"), &tm), 0);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
	assert_string_equal(buf, "2027-03-14 03:00:00 -0400 EDT");
	assert_int_equal(tm.tm_gmtoff, -4 * 3600);
	assert_int_equal(tm.tm_isdst, 1);
	assert_int_equal(tm.tm_wday, 0);
	assert_int_equal(tz_tm(ny, T("2027-03-14T06:59:59Z"), &tm), 0);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
	assert_string_equal(buf, "2027-03-14 01:59:59 -0500 EST");
	assert_int_equal(tm.tm_isdst, 0);
	/* Before the epoch, half a second: still the second that holds it. */
	assert_int_equal(tz_tm(utc, -500, &tm), 0);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	assert_string_equal(buf, "1969-12-31 23:59:59");
	/* Any int64_t ms fits (a year near 292 million fits an int). */
	assert_int_equal(tz_tm(ny, INT64_MAX, &tm), 0);
	assert_int_equal(tz_tm(ny, INT64_MIN, &tm), 0);
	tz_unref(ny);
	tz_unref(utc);
}

static void
test_unknown(void **state)
{
	struct tz *tz = (struct tz *)&tz;	/* anything but NULL */
	struct stat st;

	assert_int_equal(tz_load("Mars/Olympus", &tz), -ENOENT);
	assert_null(tz);
	assert_int_equal(tz_load("Asia", &tz), -ENOENT);	/* a directory */
	assert_int_equal(tz_load("Asia/Shanghai/x", &tz), -ENOENT);
	/* A POSIX TZ rule is not a database name. */
	assert_int_equal(tz_load("CST-8", &tz), -ENOENT);
	if (stat("/usr/share/zoneinfo/zone.tab", &st) == 0)
		assert_int_equal(tz_load("zone.tab", &tz), -EINVAL);
	assert_int_equal(tz_load("", &tz), -EINVAL);
	assert_int_equal(tz_load("/etc/passwd", &tz), -EINVAL);
	assert_int_equal(tz_load("../../etc/passwd", &tz), -EINVAL);
	assert_int_equal(tz_load("Asia/../Asia/Tokyo", &tz), -EINVAL);
	assert_null(tz);
	tz_unref(NULL);
}

static void
test_system_zone(void **state)
{
	struct tz *tz;
	time_t now = time(NULL);
	struct tm tm;

	setenv("TZ", ":Asia/Tokyo", 1);
	tz = load(NULL);
	assert_string_equal(tz_name(tz), "Asia/Tokyo");
	assert_int_equal(tz_offset_ms(tz, T("2026-12-01T00:00:00Z")), 9 * HOUR);
	tz_unref(tz);
	/* Without TZ: /etc/localtime, as libc reads it. */
	unsetenv("TZ");
	tzset();
	tz = load(NULL);
	assert_non_null(localtime_r(&now, &tm));
	assert_int_equal(tz_offset_ms(tz, (int64_t)now * 1000),
	    (int64_t)tm.tm_gmtoff * 1000);
	assert_true(tz_name(tz)[0] != '\0');
	tz_unref(tz);
}

/* TZDIR moves the database, as for libc. */
static void
test_tzdir(void **state)
{
	char dir[] = "/tmp/test_tz.XXXXXX", sub[64], file[96];
	FILE *in, *out;
	struct tz *tz, *other;
	char buf[4096];
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/Test", dir);
	snprintf(file, sizeof(file), "%s/Zone", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_non_null(in = fopen("/usr/share/zoneinfo/Asia/Tokyo", "rb"));
	assert_non_null(out = fopen(file, "wb"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(out), 0);

	assert_int_equal(tz_load("Test/Zone", &other), -ENOENT);
	setenv("TZDIR", dir, 1);
	assert_string_equal(tz_dir(), dir);
	tz = load("Test/Zone");
	assert_int_equal(tz_offset_ms(tz, T("2026-12-01T00:00:00Z")), 9 * HOUR);
	assert_int_equal(tz_load("Asia/Tokyo", &other), -ENOENT);
	unsetenv("TZDIR");
	assert_string_equal(tz_dir(), "/usr/share/zoneinfo");
	/* Loaded is loaded: the zone does not depend on the file any more. */
	unlink(file);
	rmdir(sub);
	rmdir(dir);
	assert_int_equal(tz_offset_ms(tz, T("2026-12-01T00:00:00Z")), 9 * HOUR);
	tz_unref(tz);
}

static void
test_references(void **state)
{
	struct tz *tz = load("Europe/London");

	assert_ptr_equal(tz_ref(tz), tz);
	tz_unref(tz);
	assert_int_equal(tz_offset_ms(tz, T("2027-07-01T00:00:00Z")), HOUR);
	tz_unref(tz);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_york),
		cmocka_unit_test(test_london),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_same_as_glibc),
		cmocka_unit_test(test_broken_down),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_system_zone),
		cmocka_unit_test(test_tzdir),
		cmocka_unit_test(test_references),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
