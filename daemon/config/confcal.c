/*
 * confcal.c: the `calendar:` section (see confcal.h).  Dates are checked
 * as they are read; each problem names the file, line and column it is
 * at, the included file's own when it is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/calendar.h"
#include "config/confcal.h"
#include "config/config.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
/* A year has some 30 days off; twenty years of them and room to spare. */
#define CONFCAL_DATES_MAX	2048
#define CONFCAL_RANGE_MAX	366	/* days in one holidays range */
#define CONFCAL_INCLUDES_MAX	16

/* Dates as read, before sorting. */
struct confcal_list {
	int32_t		*v;
	size_t		 n;
};

struct confcal_build {
	struct confcal_list	 holidays, workdays;
	int			 years[CALENDAR_YEARS_MAX];
	size_t			 nyears;
};

static int
confcal_push(struct loader *ld, struct confcal_list *l, int64_t dn,
    const yaml_mark_t *at, const char *key)
{
	int32_t *v;

	if (l->n >= CONFCAL_DATES_MAX) {
		confyaml_errat(ld, at, "'%s' in calendar lists more than %d "
		    "days; keep the years in use", key, CONFCAL_DATES_MAX);
		return -1;
	}
	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		ld->oom = 1;
		return -1;
	}
	l->v = v;
	l->v[l->n++] = (int32_t)dn;
	return 0;
}

/* A date scalar as a day number; -1 after saying what is wrong. */
static int64_t
confcal_date(struct loader *ld, yaml_node_t *n, const char *s, const char *key)
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
confcal_entry(struct loader *ld, yaml_node_t *n, const char *key, int ranges,
    struct confcal_list *l)
{
	yaml_node_t	*val[NFIELDS(range_fields)];
	const char	*s, *dots;
	char		 a[32];
	int64_t		 from, to, dn;

	if (ranges && n->type == YAML_MAPPING_NODE) {
		if (confyaml_fields(ld, n, "a range of holidays", " in calendar",
		    range_fields, NFIELDS(range_fields), val) != 0 ||
		    (s = confyaml_scalar(ld, val[0], "from", " in calendar")) ==
		    NULL || (from = confcal_date(ld, val[0], s, key)) < 0 ||
		    (s = confyaml_scalar(ld, val[1], "to", " in calendar")) ==
		    NULL || (to = confcal_date(ld, val[1], s, key)) < 0)
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
			if ((from = confcal_date(ld, n, a, key)) < 0 ||
			    (to = confcal_date(ld, n, dots + 2, key)) < 0)
				return;
		} else if ((from = to = confcal_date(ld, n, s, key)) < 0)
			return;
	}
	if (to < from || to - from >= CONFCAL_RANGE_MAX) {
		confyaml_errat(ld, &n->start_mark, "'%s' in calendar: a range "
		    "must run forward and span at most %d days", key,
		    CONFCAL_RANGE_MAX);
		return;
	}
	for (dn = from; dn <= to; dn++)
		if (confcal_push(ld, l, dn, &n->start_mark, key) != 0)
			return;
}

static int
confcal_listed(const struct confcal_list *l, int64_t dn)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == dn)
			return 1;
	return 0;
}

/*
 * Make-up working days: weekend days, not also holidays.  Checked as
 * each is read, so the message points at it, in whichever file.
 */
static void
confcal_workday(struct loader *ld, yaml_node_t *n, struct confcal_build *b)
{
	char		 date[CALENDAR_DATE_MAX];
	size_t		 before = b->workdays.n;
	int64_t		 dn;
	int		 y, m, d, wd;

	confcal_entry(ld, n, "workdays", 0, &b->workdays);
	if (b->workdays.n == before)
		return;
	dn = b->workdays.v[b->workdays.n - 1];
	calendar_civil(dn, &y, &m, &d);
	calendar_format_date(y, m, d, date);
	wd = calendar_weekday(dn);
	if (confcal_listed(&b->holidays, dn))
		confyaml_errat(ld, &n->start_mark, "%s is listed both under "
		    "'holidays' and 'workdays' in calendar; keep it in one",
		    date);
	else if (wd != 0 && wd != 6)
		confyaml_warnat(ld, &n->start_mark, "%s under 'workdays' in "
		    "calendar is a weekday, a working day anyway; 'workdays' is "
		    "for weekend days worked (调休)", date);
}

static void
confcal_dates(struct loader *ld, yaml_node_t *n, const char *key,
    struct confcal_build *b)
{
	yaml_node_item_t	*it;
	size_t			 count, i;

	if ((it = confyaml_items(ld, n, key, " in calendar", CONFCAL_DATES_MAX,
	    &count)) == NULL)
		return;
	for (i = 0; i < count; i++)
		if (strcmp(key, "holidays") == 0)
			confcal_entry(ld, confyaml_node(ld, it[i]), key, 1,
			    &b->holidays);
		else
			confcal_workday(ld, confyaml_node(ld, it[i]), b);
}

static void
confcal_years(struct loader *ld, yaml_node_t *n, struct confcal_build *b)
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
		if (b->nyears < CALENDAR_YEARS_MAX)
			b->years[b->nyears++] = (int)y;
	}
}

static const struct field calendar_fields[] = {
	{ "include", 0 }, { "years", 0 }, { "holidays", 0 }, { "workdays", 0 },
};

static void confcal_body(struct loader *, yaml_node_t *,
    struct confcal_build *, int nested);

static void
confcal_include(struct loader *ld, yaml_node_t *n, struct confcal_build *b)
{
	struct loader	 sub;
	yaml_node_t	*root;

	root = confyaml_include(ld, n, "include", &sub);
	if (root != NULL)
		confcal_body(&sub, root, b, 1);
	confyaml_include_end(ld, &n->start_mark, &sub);
}

static void
confcal_body(struct loader *ld, yaml_node_t *n, struct confcal_build *b,
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
		    CONFCAL_INCLUDES_MAX, &count)) != NULL)
			for (i = 0; i < count; i++)
				confcal_include(ld, confyaml_node(ld, it[i]), b);
	} else if (val[0] != NULL)
		confcal_include(ld, val[0], b);
	if (val[1] != NULL)
		confcal_years(ld, val[1], b);
	/* Holidays first: a make-up day is checked against them. */
	if (val[2] != NULL)
		confcal_dates(ld, val[2], "holidays", b);
	if (val[3] != NULL)
		confcal_dates(ld, val[3], "workdays", b);
}

void
confcal_load(struct loader *ld, yaml_node_t *n)
{
	struct confcal_build	 b;

	if (ld->cf->calendar == NULL || n == NULL || confyaml_is_null(n))
		return;
	memset(&b, 0, sizeof(b));
	if (n->type == YAML_SCALAR_NODE)
		confcal_include(ld, n, &b);
	else
		confcal_body(ld, n, &b, 0);
	if (calendar_fill(ld->cf->calendar, b.holidays.v, b.holidays.n,
	    b.workdays.v, b.workdays.n, b.years, b.nyears) != 0)
		ld->oom = 1;
	free(b.holidays.v);
	free(b.workdays.v);
}
