/*
 * calendar.c: working days (see calendar.h).  Dates are day numbers (days
 * since 1970-01-01) kept in sorted arrays, so a question is a binary
 * search and a walk over a year is cheap enough to run per reminder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/calendar.h"
#include "config/config.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
/* A year has some 30 days off; twenty years of them and room to spare. */
#define CALENDAR_DATES_MAX	2048
#define CALENDAR_RANGE_MAX	366	/* days in one holidays range */
#define CALENDAR_YEARS_MAX	64
#define CALENDAR_INCLUDES_MAX	16
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

/* Loading. */

/* Dates as read, before sorting; where each came from, for messages. */
struct calendar_list {
	int32_t		*v;
	yaml_mark_t	*at;
	size_t		 n;
};

static int
calendar_push(struct loader *ld, struct calendar_list *l, int64_t dn,
    const yaml_mark_t *at, const char *key)
{
	int32_t		*v;
	yaml_mark_t	*m;

	if (l->n >= CALENDAR_DATES_MAX) {
		confyaml_errat(ld, at, "'%s' in calendar lists more than %d "
		    "days; split the calendar by year and keep the years in use",
		    key, CALENDAR_DATES_MAX);
		return -1;
	}
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		ld->oom = 1;
		return -1;
	}
	l->v = v;
	if ((m = realloc(l->at, (l->n + 1) * sizeof(*m))) == NULL) {
		ld->oom = 1;
		return -1;
	}
	l->at = m;
	l->v[l->n] = (int32_t)dn;
	l->at[l->n++] = *at;
	return 0;
}

/* A date scalar; -1 after saying what is wrong. */
static int64_t
calendar_date(struct loader *ld, yaml_node_t *n, const char *s,
    const char *key)
{
	int	 y, m, d;

	if (calendar_parse_date(s, &y, &m, &d) != 0) {
		confyaml_errat(ld, &n->start_mark, "'%s' in calendar: '%s' is "
		    "not a date written YYYY-MM-DD (e.g. 2026-10-01)", key, s);
		return -1;
	}
	return calendar_daynum(y, m, d);
}

static const struct field range_fields[] = {
	{ "from", 1 }, { "to", 1 },
};

/* A date, "FROM..TO", or {from, to}: both ends included. */
static void
calendar_entry(struct loader *ld, yaml_node_t *n, const char *key,
    int ranges, struct calendar_list *l)
{
	yaml_node_t	*val[NFIELDS(range_fields)];
	const char	*s, *dots;
	char		 a[32];
	int64_t		 from, to, dn;

	if (ranges && n->type == YAML_MAPPING_NODE) {
		if (confyaml_fields(ld, n, "a range of holidays", " in calendar",
		    range_fields, NFIELDS(range_fields), val) != 0 ||
		    (s = confyaml_scalar(ld, val[0], "from", " in calendar")) ==
		    NULL || (from = calendar_date(ld, val[0], s, key)) < 0 ||
		    (s = confyaml_scalar(ld, val[1], "to", " in calendar")) ==
		    NULL || (to = calendar_date(ld, val[1], s, key)) < 0)
			return;
	} else {
		if ((s = confyaml_scalar(ld, n, key, " in calendar")) == NULL)
			return;
		if (ranges && (dots = strstr(s, "..")) != NULL) {
			if ((size_t)(dots - s) >= sizeof(a)) {
				confyaml_errat(ld, &n->start_mark, "'%s' in "
				    "calendar: '%s' is not a range written "
				    "YYYY-MM-DD..YYYY-MM-DD", key, s);
				return;
			}
			snprintf(a, sizeof(a), "%.*s", (int)(dots - s), s);
			if ((from = calendar_date(ld, n, a, key)) < 0 ||
			    (to = calendar_date(ld, n, dots + 2, key)) < 0)
				return;
		} else if ((from = to = calendar_date(ld, n, s, key)) < 0)
			return;
	}
	if (to < from || to - from >= CALENDAR_RANGE_MAX) {
		confyaml_errat(ld, &n->start_mark, "'%s' in calendar: a range "
		    "must run forward and span at most %d days", key,
		    CALENDAR_RANGE_MAX);
		return;
	}
	for (dn = from; dn <= to; dn++)
		if (calendar_push(ld, l, dn, &n->start_mark, key) != 0)
			return;
}

static void
calendar_dates(struct loader *ld, yaml_node_t *n, const char *key, int ranges,
    struct calendar_list *l)
{
	yaml_node_item_t	*it;
	size_t			 count, i;

	if ((it = confyaml_items(ld, n, key, " in calendar", CALENDAR_DATES_MAX,
	    &count)) == NULL)
		return;
	for (i = 0; i < count; i++)
		calendar_entry(ld, confyaml_node(ld, it[i]), key, ranges, l);
}

static void
calendar_years(struct loader *ld, yaml_node_t *n, int *years, size_t *nyears)
{
	yaml_node_item_t	*it;
	yaml_node_t		*v;
	const char		*s;
	char			*end;
	size_t			 count, i;
	long			 y;

	if ((it = confyaml_items(ld, n, "years", " in calendar",
	    CALENDAR_YEARS_MAX, &count)) == NULL)
		return;
	for (i = 0; i < count; i++) {
		v = confyaml_node(ld, it[i]);
		if ((s = confyaml_scalar(ld, v, "years", " in calendar")) == NULL)
			continue;
		y = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || y < 1970 || y > 9999) {
			confyaml_errat(ld, &v->start_mark, "'years' in calendar "
			    "lists the years whose holidays and make-up working "
			    "days are all listed, e.g. [2026], not '%s'", s);
			continue;
		}
		if (*nyears < CALENDAR_YEARS_MAX)
			years[(*nyears)++] = (int)y;
	}
}

static const struct field calendar_fields[] = {
	{ "include", 0 }, { "years", 0 }, { "holidays", 0 }, { "workdays", 0 },
};

struct calendar_build {
	struct calendar_list	 holidays, workdays;
	int			 years[CALENDAR_YEARS_MAX];
	size_t			 nyears;
};

static void calendar_body(struct loader *, yaml_node_t *,
    struct calendar_build *, int nested);

static void
calendar_include(struct loader *ld, yaml_node_t *n, struct calendar_build *b)
{
	struct loader	 sub;
	yaml_node_t	*root;

	root = confyaml_include(ld, n, "include", &sub);
	if (root != NULL)
		calendar_body(&sub, root, b, 1);
	confyaml_include_end(ld, &n->start_mark, &sub);
}

static void
calendar_body(struct loader *ld, yaml_node_t *n, struct calendar_build *b,
    int nested)
{
	yaml_node_t		*val[NFIELDS(calendar_fields)];
	yaml_node_item_t	*it;
	size_t			 count, i;

	if (confyaml_fields(ld, n, "'calendar'", " in calendar",
	    calendar_fields, NFIELDS(calendar_fields), val) != 0)
		return;
	if (val[0] != NULL && nested)
		confyaml_errat(ld, &val[0]->start_mark, "a calendar file cannot "
		    "include another; include both from the configuration");
	else if (val[0] != NULL && val[0]->type == YAML_SEQUENCE_NODE) {
		if ((it = confyaml_items(ld, val[0], "include", " in calendar",
		    CALENDAR_INCLUDES_MAX, &count)) != NULL)
			for (i = 0; i < count; i++)
				calendar_include(ld, confyaml_node(ld, it[i]), b);
	} else if (val[0] != NULL)
		calendar_include(ld, val[0], b);
	if (val[1] != NULL)
		calendar_years(ld, val[1], b->years, &b->nyears);
	if (val[2] != NULL)
		calendar_dates(ld, val[2], "holidays", 1, &b->holidays);
	if (val[3] != NULL)
		calendar_dates(ld, val[3], "workdays", 0, &b->workdays);
}

static int
calendar_cmp32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Sorted and unique, into a new array; NULL (and ld->oom) without memory. */
static int32_t *
calendar_sorted(struct loader *ld, const struct calendar_list *l, size_t *n)
{
	int32_t		*v;
	size_t		 i, k = 0;

	*n = 0;
	if (l->n == 0)
		return NULL;
	if ((v = malloc(l->n * sizeof(*v))) == NULL) {
		ld->oom = 1;
		return NULL;
	}
	memcpy(v, l->v, l->n * sizeof(*v));
	qsort(v, l->n, sizeof(*v), calendar_cmp32);
	for (i = 0; i < l->n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	*n = k;
	return v;
}

static void
calendar_check(struct loader *ld, const struct calendar_build *b)
{
	char	 date[CALENDAR_DATE_MAX];
	int	 y, m, d;
	size_t	 i;

	for (i = 0; i < b->workdays.n; i++) {
		calendar_civil(b->workdays.v[i], &y, &m, &d);
		if (calendar_in(ld->cf->calendar->holidays,
		    ld->cf->calendar->nholidays, b->workdays.v[i]))
			confyaml_errat(ld, &b->workdays.at[i], "%s is listed both "
			    "under 'holidays' and 'workdays' in calendar; keep "
			    "it in one", calendar_format_date(y, m, d, date));
		else if (calendar_weekday(b->workdays.v[i]) != 0 &&
		    calendar_weekday(b->workdays.v[i]) != 6)
			confyaml_warnat(ld, &b->workdays.at[i], "%s under "
			    "'workdays' in calendar is a weekday, a working day "
			    "anyway; 'workdays' is for weekend days worked "
			    "(调休)", calendar_format_date(y, m, d, date));
	}
}

void
calendar_load(struct loader *ld, yaml_node_t *n)
{
	struct calendar		*cal = ld->cf->calendar;
	struct calendar_build	 b;
	int			 y, m, d;
	size_t			 i, j;

	if (cal == NULL || n == NULL || confyaml_is_null(n))
		return;
	memset(&b, 0, sizeof(b));
	if (n->type == YAML_SCALAR_NODE)
		calendar_include(ld, n, &b);
	else
		calendar_body(ld, n, &b, 0);
	cal->holidays = calendar_sorted(ld, &b.holidays, &cal->nholidays);
	cal->workdays = calendar_sorted(ld, &b.workdays, &cal->nworkdays);
	calendar_check(ld, &b);
	/* Without `years:`, a year is known when any of its dates is listed. */
	if (b.nyears == 0)
		for (i = 0; i < b.holidays.n + b.workdays.n &&
		    b.nyears < CALENDAR_YEARS_MAX; i++) {
			calendar_civil(i < b.holidays.n ? b.holidays.v[i] :
			    b.workdays.v[i - b.holidays.n], &y, &m, &d);
			for (j = 0; j < b.nyears && b.years[j] != y; j++)
				;
			if (j == b.nyears)
				b.years[b.nyears++] = y;
		}
	memcpy(cal->years, b.years, sizeof(cal->years));
	cal->nyears = b.nyears;
	free(b.holidays.v);
	free(b.holidays.at);
	free(b.workdays.v);
	free(b.workdays.at);
}
