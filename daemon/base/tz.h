/*
 * Time zones as values: a struct tz is loaded once from the tz database and
 * answers "what is the UTC offset at this instant" without the process
 * environment.  TZ and tzset() are process-wide state that other threads read
 * (getaddrinfo() in libcurl's resolver, SMTP transfers), so after start-up
 * dutyd never sets TZ; every conversion names its zone instead.
 *
 * A struct tz is immutable and reference counted (atomically): it may be
 * shared between threads and outlive the config that loaded it.
 */
#ifndef DUTYD_TZ_H
#define DUTYD_TZ_H

#include <stdint.h>
#include <time.h>

struct tz;

/*
 * NAME is a tz database name ("Asia/Shanghai"), read from tz_dir(); NULL is
 * the system's zone (TZ as the process started with it, else
 * /etc/localtime, else UTC).  0 and *OUT holding one reference, or -EINVAL
 * (NAME is empty or a path: absolute or with ".."), -ENOENT (no such zone in
 * the database, or not a zone file), -ENOMEM.
 */
int		 tz_load(const char *name, struct tz **out);
struct tz	*tz_ref(struct tz *);		/* returns its argument */
void		 tz_unref(struct tz *);		/* accepts NULL */
/* The name it was loaded by; the system's: its database name if known. */
const char	*tz_name(const struct tz *);
/* The offset from UTC in force at instant MS (ms since the epoch), in ms. */
int64_t		 tz_offset_ms(const struct tz *, int64_t ms);
/*
 * MS as broken-down local time, like localtime_r() in that zone: tm_gmtoff,
 * tm_isdst and tm_zone (the abbreviation, which lives as long as the zone)
 * included.  0, or -ERANGE when the year does not fit.
 */
int		 tz_tm(const struct tz *, int64_t ms, struct tm *);
/* Where zone names are looked up: $TZDIR, else /usr/share/zoneinfo. */
const char	*tz_dir(void);

#endif
