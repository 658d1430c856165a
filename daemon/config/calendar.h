/*
 * calendar.h: working days (工作日).  The `calendar:` key of the
 * configuration: `holidays:` (dates and ranges off work, 法定节假日) and
 * `workdays:` (调休: weekend dates worked in exchange), with the years the
 * calendar declares it knows in full.  Saturdays and Sundays are off unless
 * `workdays:` lists them; a `holidays:` date is off whatever its weekday.
 *
 * Dates are local dates in the configuration's zone: callers turn instants
 * into dates with base/tz.c and ask about the date.  Pure functions of the
 * value, apart from calendar_load(), which is part of the config schema.
 */
#ifndef DUTYD_CALENDAR_H
#define DUTYD_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

struct calendar;

/* "YYYY-MM-DD" and its NUL. */
#define CALENDAR_DATE_MAX	11
/* Years one calendar declares. */
#define CALENDAR_YEARS_MAX	64

/* 1 when the date is a working day under CAL, else 0. */
int	calendar_is_workday(const struct calendar *, int year, int month,
	    int day);
/* 1 when the date falls inside a year the calendar declares (`years:`). */
int	calendar_covers(const struct calendar *, int year, int month, int day);

/*
 * The working day N working days after (N > 0) or before (N < 0) the date,
 * into *Y, *M, *D.  0, or -ERANGE when none is found within ten years
 * (a calendar of nothing but holidays).
 */
int	calendar_workday_shift(const struct calendar *, int year, int month,
	    int day, int n, int *y, int *m, int *d);

/*
 * Strict "YYYY-MM-DD" (a real date, years 1970..9999): 0 and the parts, or
 * -EINVAL.  Pure.
 */
int	calendar_parse_date(const char *s, int *year, int *month, int *day);
/* Days since 1970-01-01 and back; the weekday of a day number (0 Sunday). */
int64_t	calendar_daynum(int year, int month, int day);
void	calendar_civil(int64_t daynum, int *year, int *month, int *day);
int	calendar_weekday(int64_t daynum);
/* "YYYY-MM-DD" into BUF (CALENDAR_DATE_MAX bytes); returns BUF. */
char	*calendar_format_date(int year, int month, int day, char *buf);

/*
 * The first date from the given one on, within DAYS days, that the
 * calendar does not cover, as a day number; -1 when all are covered.
 */
int64_t	calendar_first_uncovered(const struct calendar *, int year, int month,
	    int day, int days);

/* An empty calendar (weekends off, no holidays, no year declared); NULL: no memory. */
struct calendar *calendar_new(void);
void	calendar_free(struct calendar *);	/* accepts NULL */
/*
 * CAL's days off and make-up working days (day numbers, in any order,
 * repeats allowed) and the years it declares; with none declared, the
 * years of the dates listed.  0 or -ENOMEM (CAL unchanged).  The loader
 * (confcal.c) calls it once, before anyone reads CAL.
 */
int	calendar_fill(struct calendar *, const int32_t *holidays, size_t nh,
	    const int32_t *workdays, size_t nw, const int *years, size_t ny);
/* 1 when DAYNUM is listed under `holidays:`. */
int	calendar_is_holiday(const struct calendar *, int64_t daynum);

#endif
