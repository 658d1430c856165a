/*
 * calendar.c: working days (see calendar.h).  Dates are day numbers (days
 * since 1970-01-01) kept in sorted arrays, so a question is a binary
 * search and a walk over a year is cheap enough to run per reminder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/calendar.h"

/* How far calendar_workday_shift() looks before giving up. */
#define CALENDAR_SEARCH_DAYS	3660

struct calendar {
	int32_t		*holidays;	/* sorted, unique day numbers */
	size_t		 nholidays;
	int32_t		*workdays;
	size_t		 nworkdays;
	int		 years[CALENDAR_YEARS_MAX];
	size_t		 nyears;
};

/* Howard Hinnant's days_from_civil: proleptic Gregorian, no time zone involved. */
int64_t
calendar_daynum(int year, int month, int day)
{
	int64_t		 y = year - (month <= 2);
	int64_t		 era = (y >= 0 ? y : y - 399) / 400;
	int64_t		 yoe = y - era * 400;
	int64_t		 doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 +
			    day - 1;
	int64_t		 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
calendar_civil(int64_t z, int *year, int *month, int *day)
{
	int64_t		 era, doe, yoe, doy, mp, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(y + (*month <= 2));
}

int
calendar_weekday(int64_t daynum)
{
	/* 1970-01-01 was a Thursday. */
	return (int)(((daynum % 7) + 11) % 7);
}

char *
calendar_format_date(int year, int month, int day, char *buf)
{
	snprintf(buf, CALENDAR_DATE_MAX, "%04d-%02d-%02d", year, month, day);
	return buf;
}

static int
calendar_mdays(int year, int month)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (month == 2 && (year % 4 == 0 && (year % 100 != 0 ||
	    year % 400 == 0)))
		return 29;
	return mdays[month - 1];
}

int
calendar_parse_date(const char *s, int *year, int *month, int *day)
{
	int	 i, y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > calendar_mdays(y, m))
		return -EINVAL;
	*year = y;
	*month = m;
	*day = d;
	return 0;
}

static int
calendar_in(const int32_t *v, size_t n, int64_t x)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == x)
			return 1;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
calendar_workday_n(const struct calendar *cal, int64_t dn)
{
	int	 wd;

	if (cal != NULL && calendar_in(cal->holidays, cal->nholidays, dn))
		return 0;
	if (cal != NULL && calendar_in(cal->workdays, cal->nworkdays, dn))
		return 1;
	wd = calendar_weekday(dn);
	return wd != 0 && wd != 6;
}

int
calendar_is_workday(const struct calendar *cal, int year, int month, int day)
{
	return calendar_workday_n(cal, calendar_daynum(year, month, day));
}

int
calendar_covers(const struct calendar *cal, int year, int month, int day)
{
	size_t	 i;

	(void)month;
	(void)day;
	for (i = 0; cal != NULL && i < cal->nyears; i++)
		if (cal->years[i] == year)
			return 1;
	return 0;
}

int
calendar_workday_shift(const struct calendar *cal, int year, int month,
    int day, int n, int *y, int *m, int *d)
{
	int64_t	 dn = calendar_daynum(year, month, day);
	int	 step = n < 0 ? -1 : 1, left = n < 0 ? -n : n, i;

	for (i = 0; left > 0 && i < CALENDAR_SEARCH_DAYS; i++) {
		dn += step;
		if (calendar_workday_n(cal, dn))
			left--;
	}
	if (left > 0)
		return -ERANGE;
	calendar_civil(dn, y, m, d);
	return 0;
}

int64_t
calendar_first_uncovered(const struct calendar *cal, int year, int month,
    int day, int days)
{
	int64_t	 dn = calendar_daynum(year, month, day), end = dn + days;
	int	 y, m, d;

	for (; dn < end; dn++) {
		calendar_civil(dn, &y, &m, &d);
		if (!calendar_covers(cal, y, m, d))
			return dn;
	}
	return -1;
}

struct calendar *
calendar_new(void)
{
	return calloc(1, sizeof(struct calendar));
}

void
calendar_free(struct calendar *cal)
{
	if (cal == NULL)
		return;
	free(cal->holidays);
	free(cal->workdays);
	free(cal);
}

static int
calendar_cmp32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* V's N day numbers sorted and unique into *OUT: the count, or -ENOMEM. */
static int
calendar_sorted(const int32_t *v, size_t n, int32_t **out, size_t *nout)
{
	size_t	 i, k = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if ((*out = malloc(n * sizeof(**out))) == NULL)
		return -ENOMEM;
	memcpy(*out, v, n * sizeof(**out));
	qsort(*out, n, sizeof(**out), calendar_cmp32);
	for (i = 0; i < n; i++)
		if (k == 0 || (*out)[k - 1] != (*out)[i])
			(*out)[k++] = (*out)[i];
	*nout = k;
	return 0;
}

int
calendar_fill(struct calendar *cal, const int32_t *holidays, size_t nh,
    const int32_t *workdays, size_t nw, const int *years, size_t ny)
{
	int32_t	*h, *w;
	size_t	 nh2, nw2, i, j;
	int	 y, m, d;

	if (calendar_sorted(holidays, nh, &h, &nh2) != 0)
		return -ENOMEM;
	if (calendar_sorted(workdays, nw, &w, &nw2) != 0) {
		free(h);
		return -ENOMEM;
	}
	free(cal->holidays);
	free(cal->workdays);
	cal->holidays = h;
	cal->nholidays = nh2;
	cal->workdays = w;
	cal->nworkdays = nw2;
	cal->nyears = 0;
	for (i = 0; i < ny && cal->nyears < CALENDAR_YEARS_MAX; i++)
		cal->years[cal->nyears++] = years[i];
	/* Without years declared, a year is known when any of its dates is listed. */
	for (i = 0; ny == 0 && i < nh2 + nw2 &&
	    cal->nyears < CALENDAR_YEARS_MAX; i++) {
		calendar_civil(i < nh2 ? h[i] : w[i - nh2], &y, &m, &d);
		for (j = 0; j < cal->nyears && cal->years[j] != y; j++)
			;
		if (j == cal->nyears)
			cal->years[cal->nyears++] = y;
	}
	return 0;
}

int
calendar_is_holiday(const struct calendar *cal, int64_t daynum)
{
	return calendar_in(cal->holidays, cal->nholidays, daynum);
}
