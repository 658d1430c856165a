/*
 * The duty roster: who is on duty at an instant.  The leader on duty
 * (带班领导) hands over once a duty day; duty officers (值班员) work in
 * shifts.  Both rotate through lists of people counted in local calendar
 * days from a start date, and overrides change single days or exact
 * periods.  See docs/roster.md.
 *
 * A roster is immutable once loaded (rosterload.c) and owned by its
 * struct config.  Every query (roster.c) works without one too: with
 * cf->roster NULL it answers from the static `duty:` block.
 *
 * The roster counts in its own zone, a struct tz loaded with it
 * (base/tz.h): no call reads or writes TZ or other process-wide state, so
 * queries of a roster need no lock.  Only roster_format() for a config
 * without roster or zone falls back to the display zone of timeutil.h,
 * which is the main thread's.
 */
#ifndef DUTYD_ROSTER_H
#define DUTYD_ROSTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

struct config;
struct loader;
struct roster;

#define ROSTER_ON_DUTY_MAX	32

struct roster_slot {
	const char	*person;	/* person id (owned by the roster or the config) */
	const char	*role;		/* "leader", a shift's name, or "duty" (the static block) */
	const char	*why;		/* "rotation 'night'", "override 2026-12-03 night: zhang → zhao (line 41)", "duty block" */
	int64_t		 start, end;	/* the period this slot covers around the instant asked (ms) */
};

struct roster_oncall {
	struct roster_slot leader;
	int		 has_leader;
	struct roster_slot officers[ROSTER_ON_DUTY_MAX];	/* every shift active then */
	size_t		 nofficers;
};

/*
 * NODE is the value of `roster:`: a mapping, or a path to a YAML file
 * holding that mapping (relative to the directory of ld->path).  People
 * must already be in ld->cf->people.  Reports every problem through LD and
 * returns NULL after any; checks coverage over the 90 days from NOW_MS.
 */
struct roster	*roster_load(struct loader *ld, yaml_node_t *node, int64_t now_ms);
void		 roster_free(struct roster *);	/* accepts NULL */

/* Who is on duty at AT_MS.  0, -ERANGE (AT_MS out of years 1970-9999), -ENOMEM. */
int		 roster_at(const struct config *cf, int64_t at_ms,
		    struct roster_oncall *out);
/*
 * The next instant after AFTER_MS at which the leader or the people of any
 * shift change, overrides included; -1 when they never change (the static
 * duty block, or a roster whose rotations all name the same people);
 * -ERANGE or -ENOMEM on failure.
 */
int64_t		 roster_next_change(const struct config *cf, int64_t after_ms);
/*
 * For `dutyd --oncall`: one line per period of the DAYS (1-366) local days
 * from FROM_MS, in the roster's zone, e.g.
 * "2026-12-01 08:30–17:30  day      张伟 (zhang)".  0 or -errno.
 */
int		 roster_print(FILE *, const struct config *cf, int64_t from_ms,
		    int days);
/*
 * The first instant of the local day DAYS after the one holding MS, in
 * roster_zone() (DAYS 0: the day of MS), and that day's date
 * ("2026-12-02") into DATE (11 bytes) when not NULL.  -ERANGE outside
 * years 1970-9999.
 */
int64_t		 roster_day_start(const struct config *cf, int64_t ms, int days,
		    char *date);
/*
 * `roster.accept_within`: how long the incoming may take to accept a
 * handover before the leader on duty is told; 0: no alarm (also without a
 * roster, which has no handovers).
 */
#define ROSTER_ACCEPT_WITHIN_DEFAULT	(30 * 60 * INT64_C(1000))
int64_t		 roster_accept_within(const struct config *cf);
/*
 * A duty day (值班日) runs from the leader's handover on its date to the
 * next day's (midnight without a roster), in roster_zone().  DATE
 * ("2026-12-02") to its [*FROM, *TO): 0 or -EINVAL (no such date, or
 * before 1970).  The date of the duty day holding MS into DATE (11
 * bytes): 0 or -ERANGE.
 */
int		 roster_duty_day(const struct config *cf, const char *date,
		    int64_t *from, int64_t *to);
int		 roster_duty_date(const struct config *cf, int64_t ms, char *date);
/* 1 if PERSON is in any rotation or override of R (NULL: 0). */
int		 roster_names(const struct roster *r, const char *person);
/* The zone the roster counts in, for messages ("localtime" without one). */
const char	*roster_zone(const struct config *cf);
/* MS as "2026-12-01 08:30" in roster_zone(); returns BUF. */
char		*roster_format(const struct config *cf, int64_t ms, char *buf,
		    size_t len);

#endif
