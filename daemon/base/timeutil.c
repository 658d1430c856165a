/*
 * Time parsing and formatting.  Calendar arithmetic is libc's (timegm,
 * gmtime_r) and zone offsets are tz.c's; this file only reads and writes
 * the RFC 3339 and duration notations, and keeps the zone in which times
 * are shown.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "base/tz.h"

static struct tz *shown;	/* time_set_zone()'s; NULL: the system's */
static struct tz *system_zone;	/* loaded when first needed, then kept */

static int64_t (*time_source)(void);

/*
 * time_format() of the last few seconds seen, by the second: a report's
 * turn formats the same few seconds a dozen times (now, its deadlines, the
 * records' ts), and the zone lookup and snprintf cost more than the rest
 * of writing its record.  Cleared whenever the zone changes.
 */
#define TIME_CACHE_SLOTS	16
#define TIME_PREFIX_LEN		20	/* "2026-11-28T14:05:00." */
#define TIME_SUFFIX_LEN		6	/* "+08:00" */
static struct time_cached {
	int64_t		 sec;
	int		 valid;
	char		 prefix[TIME_PREFIX_LEN + 1];
	char		 suffix[TIME_SUFFIX_LEN + 1];
} time_cache[TIME_CACHE_SLOTS];

/*
 * time_local()'s texts, by the second and format: every message of an
 * incident shows the same four times (received, occurred, two deadlines),
 * and the zone lookup and strftime were half of what its variables cost.
 * Cleared whenever the zone changes; longer texts and formats are not kept.
 */
#define TIME_LOCAL_SLOTS	16
#define TIME_LOCAL_FMT_MAX	24
#define TIME_LOCAL_TEXT_MAX	48
static struct time_local_cached {
	int64_t		 sec;
	int		 valid;
	char		 fmt[TIME_LOCAL_FMT_MAX];
	char		 text[TIME_LOCAL_TEXT_MAX];
} time_local_cache[TIME_LOCAL_SLOTS];

int64_t
time_now_ms(void)
{
	struct timespec ts;

	if (time_source != NULL)
		return time_source();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
time_use_source(int64_t (*now)(void))
{
	time_source = now;
}

/* Reads exactly n digits. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/*
 * Days from 1970-01-01 to a proleptic Gregorian date: what timegm() works
 * out, without its normalising of every struct tm field (2.6 k instructions
 * a call, four calls a report).  Shifting the year to start in March puts
 * the leap day last; an era is the 400 years after which the calendar
 * repeats (146,097 days).
 */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
time_parse(const char *s, int64_t *ms)
{
	const char	*p = s;
	int		 y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t		 frac = 0, t;

	if (s == NULL)
		return -EINVAL;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		int n = 0;

		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			if (n < 3) {
				frac = frac * 10 + (*p - '0');
				n++;
			}
			p++;
		}
		while (n++ < 3)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -EINVAL;
		if (oh > 23 || om > 59)
			return -EINVAL;
	} else
		return -EINVAL;
	if (*p != '\0')
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	/* What time_format() can write back in four-digit years, in any zone. */
	if (y < TIME_YEAR_MIN || y > TIME_YEAR_MAX)
		return -ERANGE;

	/* A leap second (:60) comes out as :00 of the next minute. */
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    (int64_t)sign * (oh * 3600 + om * 60);
	if (t * 1000 < TIME_MIN_MS || t * 1000 > TIME_MAX_MS)
		return -ERANGE;
	*ms = t * 1000 + frac;
	return 0;
}

void
time_set_zone(struct tz *tz)
{
	if (tz != NULL)
		tz_ref(tz);
	tz_unref(shown);
	shown = tz;
	memset(time_cache, 0, sizeof(time_cache));
	memset(time_local_cache, 0, sizeof(time_local_cache));
}

const struct tz *
time_zone(void)
{
	if (shown != NULL)
		return shown;
	if (system_zone == NULL && tz_load(NULL, &system_zone) < 0)
		return NULL;
	return system_zone;
}

int
time_tm(int64_t ms, struct tm *tm)
{
	const struct tz *tz = time_zone();

	return tz == NULL ? -ENOMEM : tz_tm(tz, ms, tm);
}

static char *time_format_slow(int64_t, char *, size_t);

char *
time_format(int64_t ms, char *buf, size_t len)
{
	struct time_cached	*c;
	int64_t			 sec, msec;
	char			 full[TIME_RFC3339_MAX];

	if (ms < TIME_MIN_MS || ms > TIME_MAX_MS || len < TIME_RFC3339_MAX)
		return time_format_slow(ms, buf, len);
	sec = ms / 1000 - (ms % 1000 < 0);
	msec = ms - sec * 1000;
	/* Hashed: a report's deadlines are whole minutes apart, as are slots mod 16. */
	c = &time_cache[((uint64_t)sec * 0x9e3779b97f4a7c15ULL) >> 60];
	if (!c->valid || c->sec != sec) {
		/* Only a whole, well-formed text is kept: "invalid-time" is not. */
		if (strlen(time_format_slow(sec * 1000, full, sizeof(full))) !=
		    TIME_PREFIX_LEN + 3 + TIME_SUFFIX_LEN)
			return time_format_slow(ms, buf, len);
		memcpy(c->prefix, full, TIME_PREFIX_LEN);
		c->prefix[TIME_PREFIX_LEN] = '\0';
		memcpy(c->suffix, full + TIME_PREFIX_LEN + 3, TIME_SUFFIX_LEN + 1);
		c->sec = sec;
		c->valid = 1;
	}
	memcpy(buf, c->prefix, TIME_PREFIX_LEN);
	buf[TIME_PREFIX_LEN] = (char)('0' + msec / 100);
	buf[TIME_PREFIX_LEN + 1] = (char)('0' + msec / 10 % 10);
	buf[TIME_PREFIX_LEN + 2] = (char)('0' + msec % 10);
	memcpy(buf + TIME_PREFIX_LEN + 3, c->suffix, TIME_SUFFIX_LEN + 1);
	return buf;
}

static char *
time_format_slow(int64_t ms, char *buf, size_t len)
{
	struct tm	 tm;
	int64_t		 msec, secs;
	long		 off;
	time_t		 local;

	msec = ms % 1000;
	if (msec < 0)
		msec += 1000;
	if (ms < TIME_MIN_MS || ms > TIME_MAX_MS || time_tm(ms, &tm) != 0) {
		snprintf(buf, len, "invalid-time");
		return buf;
	}
	/*
	 * RFC 3339 offsets are whole minutes; local mean time before 1901
	 * (Shanghai: +08:05:43) is not.  Round the offset and write the
	 * clock time at the rounded one, so the text still names the instant.
	 */
	off = tm.tm_gmtoff;
	if (off % 60 != 0) {
		off = (off + (off < 0 ? -30 : 30)) / 60 * 60;
		secs = ms / 1000 - (ms % 1000 < 0);
		local = (time_t)(secs + off);
		if (gmtime_r(&local, &tm) == NULL) {
			snprintf(buf, len, "invalid-time");
			return buf;
		}
	}
	off /= 60;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)msec, off < 0 ? '-' : '+', labs(off) / 60,
	    labs(off) % 60);
	return buf;
}

int
duration_parse(const char *s, int64_t *ms, const char **why)
{
	const char	*p = s;
	const char	*dummy;
	int64_t		 total = 0;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (s == NULL || *s == '\0') {
		*why = "a duration cannot be empty; write it like 90s, 20m or 1h";
		return -EINVAL;
	}
	while (*p != '\0') {
		int64_t	 n = 0, unit;

		if (!isdigit((unsigned char)*p)) {
			*why = "a duration is a number with a unit, like 90s, 20m, 1h or 1h30m";
			return -EINVAL;
		}
		while (isdigit((unsigned char)*p)) {
			if (n > INT64_MAX / 10 - 10) {
				*why = "duration is too large";
				return -ERANGE;
			}
			n = n * 10 + (*p++ - '0');
		}
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			unit = 86400 * 1000;
			p++;
		} else if (*p == '\0') {
			*why = "a duration needs a unit (ms, s, m, h or d), like 90s or 20m";
			return -EINVAL;
		} else {
			*why = "unknown duration unit; use ms, s, m, h or d, like 90s or 20m";
			return -EINVAL;
		}
		/* Ten years is far beyond any duty-room clock; it also keeps the sum in range. */
		if (n > (int64_t)3650 * 86400 * 1000 / unit ||
		    total + n * unit > (int64_t)3650 * 86400 * 1000) {
			*why = "duration is too large (at most 3650d)";
			return -ERANGE;
		}
		total += n * unit;
	}
	*ms = total;
	return 0;
}

static char *
time_local_slow(int64_t ms, const char *fmt, char *buf, size_t len)
{
	struct tm	tm;

	if (ms <= 0 || time_tm(ms, &tm) != 0 ||
	    strftime(buf, len, fmt, &tm) == 0)
		buf[0] = '\0';
	return buf;
}

char *
time_local(int64_t ms, const char *fmt, char *buf, size_t len)
{
	struct time_local_cached *c;
	int64_t		 sec;
	size_t		 flen, tlen;

	/* strftime() sees no fraction of a second: the text is the second's. */
	if (ms <= 0 || len == 0 || (flen = strlen(fmt)) >= TIME_LOCAL_FMT_MAX)
		return time_local_slow(ms, fmt, buf, len);
	sec = ms / 1000;
	/* Hashed: the times shown are whole minutes apart, as slots mod 16 are. */
	c = &time_local_cache[(((uint64_t)sec ^ ((uint64_t)flen << 40)) *
	    0x9e3779b97f4a7c15ULL) >> 60];
	if (!c->valid || c->sec != sec || strcmp(c->fmt, fmt) != 0) {
		time_local_slow(sec * 1000, fmt, c->text, sizeof(c->text));
		/* An empty text is a failure or one that did not fit: not kept. */
		if (c->text[0] == '\0') {
			c->valid = 0;
			return time_local_slow(ms, fmt, buf, len);
		}
		memcpy(c->fmt, fmt, flen + 1);
		c->sec = sec;
		c->valid = 1;
	}
	if ((tlen = strlen(c->text)) >= len) {
		/* strftime() gives nothing at all when the text does not fit. */
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, c->text, tlen + 1);
	return buf;
}
