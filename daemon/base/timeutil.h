/*
 * Time values are int64_t milliseconds since the Unix epoch (wall clock).
 * Pure helpers: parsing and formatting RFC 3339 and durations.  Formatting
 * uses the process time zone (TZ, libc's tz database) and always writes the
 * numeric offset, e.g. "2026-11-28T14:40:35.123+08:00".
 */
#ifndef DUTYD_TIMEUTIL_H
#define DUTYD_TIMEUTIL_H

#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>

#define TIME_RFC3339_MAX 40	/* buffer size for time_format() */

int64_t	time_now_ms(void);
/* From now until the wall-clock time at (zero if it has passed), for a timer. */
struct timeval time_until(int64_t at);
/* Strict RFC 3339 date-time ("T" or " " separator, optional fraction, "Z" or ±hh:mm). 0 or -EINVAL. */
int	time_parse(const char *s, int64_t *ms);
/* Local time with numeric offset and milliseconds.  Returns buf. */
char	*time_format(int64_t ms, char *buf, size_t len);
/*
 * Durations: one or more <integer><unit> groups, unit one of ms, s, m, h, d,
 * e.g. "90s", "20m", "1h30m".  A bare number is an error (seconds or minutes?).
 * 0 or -EINVAL (bad syntax) or -ERANGE (too large); *why says what is wrong.
 */
int	duration_parse(const char *s, int64_t *ms, const char **why);

/*
 * MS in the process time zone with strftime() FMT, e.g. "%H:%M" for a
 * message.  "" when MS is 0 (not set) or cannot be shown.  Returns buf.
 */
char	*time_local(int64_t ms, const char *fmt, char *buf, size_t len);

#endif
