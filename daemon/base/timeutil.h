/*
 * Time values are int64_t milliseconds since the Unix epoch (wall clock).
 * Helpers: parsing and formatting RFC 3339 and durations.  Formatting uses
 * the zone in which times are shown (time_set_zone(), from `timezone:`),
 * never the process TZ, and always writes the numeric offset, e.g.
 * "2026-11-28T14:40:35.123+08:00".
 */
#ifndef DUTYD_TIMEUTIL_H
#define DUTYD_TIMEUTIL_H

#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tz;

#define TIME_RFC3339_MAX 40	/* buffer size for time_format() */

/* The wall clock, or what a test made it (time_use_source(); NULL: the real one). */
int64_t	time_now_ms(void);
void	time_use_source(int64_t (*now)(void));
/*
 * The times dutyd reads and writes: years 1000 to 9999, a day short of
 * each end so that every zone still writes four-digit years.
 */
#define TIME_YEAR_MIN	1000
#define TIME_YEAR_MAX	9999
#define TIME_MIN_MS	(-30610137600000LL)	/* 1000-01-02T00:00:00Z */
#define TIME_MAX_MS	(253402214399999LL)	/* 9999-12-30T23:59:59.999Z */

/*
 * Strict RFC 3339 date-time ("T" or " " separator, optional fraction, "Z"
 * or ±hh:mm).  0, -EINVAL, or -ERANGE outside TIME_MIN_MS..TIME_MAX_MS.
 */
int	time_parse(const char *s, int64_t *ms);
/*
 * The zone in which times are shown, by time_format(), time_local() and
 * time_tm(): set at start-up and on every reload from the config; until
 * then, and after time_set_zone(NULL), the system's.  It is module state
 * swapped without a lock, so these are for the main thread only (nothing
 * else formats times).  time_set_zone() takes its own reference.
 */
void	time_set_zone(struct tz *);
/* That zone; NULL only when the system's cannot be loaded (no memory). */
const struct tz *time_zone(void);
/* MS as broken-down time in that zone (tm_gmtoff included).  0 or -errno. */
int	time_tm(int64_t ms, struct tm *);
/*
 * Shown time with numeric offset and milliseconds, always valid RFC 3339
 * ("invalid-time" outside TIME_MIN_MS..TIME_MAX_MS).  Returns buf.
 */
char	*time_format(int64_t ms, char *buf, size_t len);
/*
 * Durations: one or more <integer><unit> groups, unit one of ms, s, m, h, d,
 * e.g. "90s", "20m", "1h30m".  A bare number is an error (seconds or minutes?).
 * 0 or -EINVAL (bad syntax) or -ERANGE (too large); *why says what is wrong.
 */
int	duration_parse(const char *s, int64_t *ms, const char **why);

/*
 * MS in the zone in which times are shown, with strftime() FMT, e.g.
 * "%H:%M" for a message.  "" when MS is 0 (not set) or cannot be shown.
 * Returns buf.
 */
char	*time_local(int64_t ms, const char *fmt, char *buf, size_t len);

#endif
