/*
 * roster.c: who is on duty at an instant, from a loaded roster (see
 * rosterload.c) or from the static duty block.
 *
 * Everything is counted in the roster zone's wall-clock time, treated as
 * if it were UTC ("wall" values): a shift instance is the wall interval
 * [date + from, date + from + length).  Wall time goes back when clocks
 * fall back, so an instant is placed by roster_mono(), the latest wall
 * time shown so far; a boundary's instant is roster_first_at(), the first
 * moment the clock shows that wall time or later.  Both never decrease and
 * each undoes the other, so shifts that meet on paper meet at one instant
 * on every day: also when that time of day does not exist (the boundary is
 * the jump) or happens twice (the first one counts).  The offsets come
 * from the tz database through the roster's struct tz (base/tz.c), never
 * from here, and never through the process TZ: nothing here writes to the
 * environment that other threads read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "config/roster.h"
#include "config/rosterimpl.h"
#include "base/timeutil.h"
#include "base/tz.h"
#include "base/utf8.h"

#define SPAN_MS		(36 * 60 * MIN_MS)	/* around a jump: over a day */
#define PRINT_DAYS_MAX	366
#define CHUNK_DAYS	8

int64_t
roster_fdiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return a % b != 0 && (a < 0) != (b < 0) ? q - 1 : q;
}

static int64_t
fmodp(int64_t a, int64_t b)
{
	return a - roster_fdiv(a, b) * b;
}

/*
 * Time zone
 */

int64_t
roster_wall(const struct tz *tz, int64_t t)
{
	return t + tz_offset_ms(tz, t);
}

/* The latest wall time shown at or before T. */
int64_t
roster_mono(const struct tz *tz, int64_t t)
{
	int64_t now = tz_offset_ms(tz, t);
	int64_t before = tz_offset_ms(tz, t - SPAN_MS), lo, hi, mid;

	if (before <= now)
		return t + now;
	/* The clocks went back since: find when, and the time shown then. */
	lo = t - SPAN_MS;
	hi = t;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz_offset_ms(tz, mid) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi - 1 + before > t + now ? hi - 1 + before : t + now;
}

/* The first instant at which the clock shows wall time W or later. */
int64_t
roster_first_at(const struct tz *tz, int64_t w)
{
	int64_t off[3], c, best = 0, lo, hi, mid;
	int i, found = 0;

	for (i = 0; i < 3; i++)
		off[i] = tz_offset_ms(tz, w + (i - 1) * SPAN_MS);
	for (i = 0; i < 3; i++) {
		c = w - off[i];
		if (tz_offset_ms(tz, c) == off[i] && (!found || c < best)) {
			best = c;
			found = 1;
		}
	}
	if (found)
		return best;
	/* The clocks jump over W: the jump is the boundary. */
	lo = hi = w - off[0];
	for (i = 1; i < 3; i++) {
		if (w - off[i] < lo)
			lo = w - off[i];
		if (w - off[i] > hi)
			hi = w - off[i];
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (roster_wall(tz, mid) >= w)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* "2026-12-01 08:30" */
void
roster_fmt_wall(int64_t w, char *buf, size_t len)
{
	time_t s = (time_t)roster_fdiv(w, 1000);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "?");
}

/* "2026-12-01 17:30–18:00", with the end's date when it differs. */
void
roster_fmt_period(int64_t wa, int64_t wb, char *buf, size_t len)
{
	char a[32], b[32];

	roster_fmt_wall(wa, a, sizeof(a));
	roster_fmt_wall(wb, b, sizeof(b));
	snprintf(buf, len, "%s–%s", a, strncmp(a, b, 11) == 0 ? b + 11 : b);
}

/*
 * Who holds which role
 */

static const struct team *
rotation(const struct roster *r, const struct role *ro, int64_t day)
{
	int64_t k = day - r->start;

	if (ro->weekly)
		k = roster_fdiv(k, 7);
	return &ro->items[fmodp(k, (int64_t)ro->nitems)];
}

static size_t
apply(const struct override *ov, struct member *mb, size_t n)
{
	size_t i, j;

	if (ov->from == NULL) {
		for (i = 0; i < ov->team.n; i++) {
			mb[i].id = ov->team.ids[i];
			mb[i].why = ov->why;
		}
		return ov->team.n;
	}
	for (i = 0; i < n && strcmp(mb[i].id, ov->from) != 0; i++)
		;
	for (j = 0; j < n && strcmp(mb[j].id, ov->to) != 0; j++)
		;
	if (i == n)
		return n;
	if (j < n) {	/* already there: nobody is on a shift twice */
		memmove(&mb[i], &mb[i + 1], (n - i - 1) * sizeof(*mb));
		return n - 1;
	}
	mb[i].id = ov->to;
	mb[i].why = ov->why;
	return n;
}

/*
 * The people of instance DAY of role RI at instant T (NOTIME: date
 * overrides only), after the first NOV overrides in file order.  When S is
 * not NULL, [*S, *E) is narrowed to the part that holds around T.
 */
size_t
roster_team_at(const struct roster *r, size_t ri, int64_t day, int64_t t,
    size_t nov, struct member *mb, int64_t *s, int64_t *e)
{
	const struct role *ro = &r->roles[ri];
	const struct team *tm = rotation(r, ro, day);
	const struct override *ov;
	size_t i, n;

	for (n = 0; n < tm->n; n++) {
		mb[n].id = tm->ids[n];
		mb[n].why = ro->why;
	}
	for (i = 0; i < nov; i++) {
		ov = &r->ov[i];
		if (ov->role != ri)
			continue;
		if (ov->day != NODAY) {
			if (ov->day == day)
				n = apply(ov, mb, n);
			continue;
		}
		if (t == NOTIME)
			continue;
		if (t >= ov->start && t < ov->end)
			n = apply(ov, mb, n);
		if (s == NULL)
			continue;
		if (ov->start > t && ov->start < *e)
			*e = ov->start;
		else if (ov->end <= t && ov->end > *s)
			*s = ov->end;
		else if (t >= ov->start && t < ov->end) {
			if (ov->start > *s)
				*s = ov->start;
			if (ov->end < *e)
				*e = ov->end;
		}
	}
	return n;
}

/* The instance of role RI that the wall time M falls in; 0 when none. */
int
roster_instance(const struct roster *r, size_t ri, int64_t m, int64_t *day)
{
	const struct role *ro = &r->roles[ri];

	*day = roster_fdiv(m - ro->from, DAY_MS);
	return m < *day * DAY_MS + ro->from + ro->len;
}

/* Who holds role RI at T (M = roster_mono(T)): 0 when the shift is off. */
static size_t
role_at(const struct roster *r, size_t ri, int64_t t, int64_t m,
    struct member *mb, int64_t *s, int64_t *e)
{
	const struct role *ro = &r->roles[ri];
	int64_t day;

	if (!roster_instance(r, ri, m, &day))
		return 0;
	if (s != NULL) {
		*s = roster_first_at(r->tz, day * DAY_MS + ro->from);
		*e = roster_first_at(r->tz, day * DAY_MS + ro->from + ro->len);
	}
	return roster_team_at(r, ri, day, t, r->nov, mb, s, e);
}

static int
duty_block(const struct config *cf, struct roster_oncall *out)
{
	static const struct roster_slot always = {
		NULL, "duty", "duty block", 0, INT64_MAX
	};
	size_t i;

	if (cf->duty.leader != NULL) {
		out->leader = always;
		out->leader.person = cf->duty.leader;
		out->leader.role = "leader";
		out->has_leader = 1;
	}
	for (i = 0; i < cf->duty.nofficers; i++) {
		if (i == ROSTER_ON_DUTY_MAX)
			return -ERANGE;
		out->officers[i] = always;
		out->officers[i].person = cf->duty.officers[i];
		out->nofficers++;
	}
	return 0;
}

int
roster_at(const struct config *cf, int64_t at, struct roster_oncall *out)
{
	const struct roster *r = cf->roster;
	struct member mb[TEAM_MAX];
	struct roster_slot *sl;
	int64_t m, s = 0, e = 0;
	size_t ri, i, n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (r == NULL)
		return duty_block(cf, out);
	if (at < TIME_LO || at > TIME_HI)
		return -ERANGE;
	m = roster_mono(r->tz, at);
	for (ri = 0; ri < r->nroles && rc == 0; ri++) {
		n = role_at(r, ri, at, m, mb, &s, &e);
		for (i = 0; i < n; i++) {
			if (ri == 0) {
				sl = &out->leader;
				out->has_leader = 1;
			} else if (out->nofficers < ROSTER_ON_DUTY_MAX)
				sl = &out->officers[out->nofficers++];
			else {
				rc = -ERANGE;
				break;
			}
			sl->person = mb[i].id;
			sl->role = r->roles[ri].name;
			sl->why = mb[i].why;
			sl->start = s;
			sl->end = e;
		}
	}
	return rc;
}

static int
same_people(const struct member *a, size_t na, const struct member *b,
    size_t nb)
{
	size_t i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && strcmp(a[i].id, b[j].id) != 0; j++)
			;
		if (j == nb)
			return 0;
	}
	return 1;
}

static int
changes_at(const struct roster *r, int64_t c)
{
	struct member a[TEAM_MAX], b[TEAM_MAX];
	int64_t m0 = roster_mono(r->tz, c - 1), m1 = roster_mono(r->tz, c);
	size_t ri, na, nb;

	for (ri = 0; ri < r->nroles; ri++) {
		na = role_at(r, ri, c - 1, m0, a, NULL, NULL);
		nb = role_at(r, ri, c, m1, b, NULL, NULL);
		if (!same_people(a, na, b, nb))
			return 1;
	}
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Test the candidates in (LO, HI] in order; the first change, or -1. */
static int64_t
first_change(const struct roster *r, int64_t *c, size_t n, int64_t lo,
    int64_t hi)
{
	size_t i;

	qsort(c, n, sizeof(*c), cmp_i64);
	for (i = 0; i < n; i++)
		if (c[i] > lo && c[i] <= hi && (i == 0 || c[i] != c[i - 1]) &&
		    changes_at(r, c[i]))
			return c[i];
	return -1;
}

/* When overrides begin and end: exact times, and dated shifts' bounds. */
static void
override_edges(const struct roster *r, int64_t *c)
{
	const struct override *ov;
	const struct role *ro;
	size_t i;

	for (i = 0; i < r->nov; i++) {
		ov = &r->ov[i];
		ro = &r->roles[ov->role];
		c[2 * i] = ov->day == NODAY ? ov->start :
		    roster_first_at(r->tz, ov->day * DAY_MS + ro->from);
		c[2 * i + 1] = ov->day == NODAY ? ov->end :
		    roster_first_at(r->tz, ov->day * DAY_MS + ro->from +
		    ro->len);
	}
}

/*
 * A rotation that changes people at all does so within one cycle; after
 * that, only overrides can.  So: rotation boundaries for one cycle, in
 * chunks since the first change is usually close, then overrides.
 */
int64_t
roster_next_change(const struct config *cf, int64_t after)
{
	const struct roster *r = cf->roster;
	const struct role *ro;
	int64_t *c, *oe, d, k, last, lo, hi, found = -1, cycle = 0;
	size_t ri, i, n, cap;

	if (r == NULL)
		return -1;
	if (after < TIME_LO || after > TIME_HI)
		return -ERANGE;
	cap = (CHUNK_DAYS + 2) * r->nroles * 2 + r->nov * 2;
	if ((c = reallocarray(NULL, cap * 2, sizeof(*c))) == NULL)
		return -ENOMEM;
	oe = c + cap;
	for (ri = 0; ri < r->nroles; ri++) {
		ro = &r->roles[ri];
		if ((int64_t)ro->nitems * (ro->weekly ? 7 : 1) > cycle)
			cycle = ro->nitems * (ro->weekly ? 7 : 1);
	}
	override_edges(r, oe);
	d = roster_fdiv(roster_mono(r->tz, after), DAY_MS) - 1;
	last = d + cycle + 2;
	for (lo = after; d <= last && found == -1; d += CHUNK_DAYS) {
		hi = roster_first_at(r->tz, (d + CHUNK_DAYS) * DAY_MS);
		for (i = n = 0; i < r->nov * 2; i++)
			if (oe[i] > lo && oe[i] <= hi)
				c[n++] = oe[i];
		for (ri = 0; ri < r->nroles; ri++) {
			ro = &r->roles[ri];
			for (k = d - 1; k <= d + CHUNK_DAYS; k++) {
				c[n++] = roster_first_at(r->tz,
				    k * DAY_MS + ro->from);
				c[n++] = roster_first_at(r->tz,
				    k * DAY_MS + ro->from + ro->len);
			}
		}
		found = first_change(r, c, n, lo, hi);
		lo = hi;
	}
	if (found == -1)
		found = first_change(r, oe, r->nov * 2, lo, INT64_MAX);
	free(c);
	return found;
}

/*
 * Printing
 */

struct row {
	int64_t		 s, e;
	size_t		 ri, n;
	struct member	 mb[TEAM_MAX];
};

static int
cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->ri < y->ri ? -1 : x->ri > y->ri;
}

static void
print_people(FILE *fp, const struct config *cf, const struct member *mb,
    size_t n)
{
	const struct config_person *p;
	size_t i;

	for (i = 0; i < n; i++) {
		p = config_person(cf, mb[i].id);
		fprintf(fp, "%s%s (%s)", i ? ", " : "",
		    p != NULL && p->name != NULL ? p->name : "?", mb[i].id);
	}
}

static int
print_block(FILE *fp, const struct config *cf)
{
	struct member mb[1];
	size_t i;

	fprintf(fp, "No roster: the duty block is on duty at all times.\n");
	if (cf->duty.leader != NULL) {
		mb[0].id = cf->duty.leader;
		fprintf(fp, "always  %-8s ", "leader");
		print_people(fp, cf, mb, 1);
		fprintf(fp, "\n");
	}
	for (i = 0; i < cf->duty.nofficers; i++) {
		mb[0].id = cf->duty.officers[i];
		fprintf(fp, "always  %-8s ", "duty");
		print_people(fp, cf, mb, 1);
		fprintf(fp, "\n");
	}
	return ferror(fp) ? -EIO : 0;
}

/* The periods of every role that overlap [FROM, UNTIL), unsorted. */
static int
collect_rows(const struct roster *r, int64_t from, int64_t until,
    struct row **rows, size_t *nrows)
{
	struct row *nr, *row;
	struct member mb[TEAM_MAX];
	int64_t t, m, s, e, day;
	size_t ri, n, cap = 0;

	for (ri = 0; ri < r->nroles; ri++) {
		for (t = from; t < until; t = e) {
			m = roster_mono(r->tz, t);
			if ((n = role_at(r, ri, t, m, mb, &s, &e)) == 0) {
				roster_instance(r, ri, m, &day);
				e = roster_first_at(r->tz, (day + 1) * DAY_MS +
				    r->roles[ri].from);
				continue;
			}
			if (*nrows == cap) {
				cap = cap ? cap * 2 : 64;
				if ((nr = reallocarray(*rows, cap,
				    sizeof(*nr))) == NULL)
					return -ENOMEM;
				*rows = nr;
			}
			row = &(*rows)[(*nrows)++];
			row->s = s;
			row->e = e;
			row->ri = ri;
			row->n = n;
			memcpy(row->mb, mb, n * sizeof(*mb));
		}
	}
	return 0;
}

int
roster_print(FILE *fp, const struct config *cf, int64_t from, int days)
{
	const struct roster *r = cf->roster;
	struct row *rows = NULL;
	char period[96], a[32], b[32];
	int64_t until;
	size_t nrows = 0, i, j, k, width = 0;
	int rc;

	if (r == NULL)
		return print_block(fp, cf);
	if (days < 1 || days > PRINT_DAYS_MAX || from < TIME_LO ||
	    from > TIME_HI - (int64_t)(PRINT_DAYS_MAX + 2) * DAY_MS)
		return -ERANGE;
	until = roster_first_at(r->tz, (roster_fdiv(roster_mono(r->tz, from),
	    DAY_MS) + days) * DAY_MS);
	rc = collect_rows(r, from, until, &rows, &nrows);
	if (rc == 0 && nrows > 1)
		qsort(rows, nrows, sizeof(*rows), cmp_row);
	for (i = 0; rc == 0 && i < nrows; i++) {
		roster_fmt_period(roster_wall(r->tz, rows[i].s),
		    roster_wall(r->tz, rows[i].e), period, sizeof(period));
		if (utf8_length(period) > width)
			width = utf8_length(period);
	}
	roster_fmt_wall(roster_wall(r->tz, from), a, sizeof(a));
	roster_fmt_wall(roster_wall(r->tz, until), b, sizeof(b));
	if (rc == 0)
		fprintf(fp, "On duty from %s to %s (%s):\n", a, b, r->zone);
	for (i = 0; rc == 0 && i < nrows; i++) {
		const struct row *w = &rows[i];
		const struct role *ro = &r->roles[w->ri];

		roster_fmt_period(roster_wall(r->tz, w->s),
		    roster_wall(r->tz, w->e), period, sizeof(period));
		fprintf(fp, "%s%*s  %-8s ", period,
		    (int)(width - utf8_length(period)), "", ro->name);
		print_people(fp, cf, w->mb, w->n);
		for (j = 0, k = 0; j < w->n; j++) {
			if (w->mb[j].why == ro->why)
				continue;
			/* Several people may share one override. */
			for (k = 0; k < j && w->mb[k].why != w->mb[j].why; k++)
				;
			if (k == j)
				fprintf(fp, "  [%s]", w->mb[j].why);
		}
		fprintf(fp, "\n");
	}
	free(rows);
	if (rc == 0 && ferror(fp))
		rc = -EIO;
	return rc;
}

const char *
roster_zone(const struct config *cf)
{
	if (cf->roster != NULL)
		return cf->roster->zone;
	return cf->timezone != NULL ? cf->timezone : "localtime";
}

/* The leader's handover, wall ms after midnight: where a duty day begins. */
static int64_t
roster_handover_wall(const struct config *cf)
{
	return cf->roster != NULL && cf->roster->nroles > 0 ?
	    cf->roster->roles[0].from : 0;
}

static const struct tz *
roster_tz(const struct config *cf)
{
	return cf->roster != NULL ? cf->roster->tz : cf->tz != NULL ? cf->tz :
	    time_zone();
}

int
roster_duty_day(const struct config *cf, const char *date, int64_t *from,
    int64_t *to)
{
	const struct tz	*tz = roster_tz(cf);
	struct tm	 tm;
	int64_t		 w;
	int		 y, m, d, n = 0;

	if (date == NULL || strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d%n",
	    &y, &m, &d, &n) != 3 || n != 10 || date[4] != '-' || date[7] != '-')
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if (y < 1970 || y > 9998 || m < 1 || m > 12 || d < 1 || tz == NULL)
		return -EINVAL;
	w = roster_fdiv((int64_t)timegm(&tm), 86400);
	/* timegm() moves 2026-02-30 to March: no such date. */
	if (tm.tm_mday != d || tm.tm_mon != m - 1)
		return -EINVAL;
	w = w * DAY_MS + roster_handover_wall(cf);
	*from = roster_first_at(tz, w);
	*to = roster_first_at(tz, w + DAY_MS);
	return 0;
}

int
roster_duty_date(const struct config *cf, int64_t ms, char *date)
{
	const struct tz	*tz = roster_tz(cf);
	char		 buf[32];
	int64_t		 d;

	if (tz == NULL || ms < TIME_LO + DAY_MS || ms > TIME_HI - 2 * DAY_MS)
		return -ERANGE;
	d = roster_fdiv(roster_wall(tz, ms) - roster_handover_wall(cf), DAY_MS);
	roster_fmt_wall(d * DAY_MS, buf, sizeof(buf));
	memcpy(date, buf, 10);
	date[10] = '\0';
	return 0;
}

int64_t
roster_accept_within(const struct config *cf)
{
	return cf->roster != NULL ? cf->roster->accept_within : 0;
}

int64_t
roster_day_start(const struct config *cf, int64_t ms, int days, char *date)
{
	const struct tz *tz = cf->roster != NULL ? cf->roster->tz :
	    cf->tz != NULL ? cf->tz : time_zone();
	int64_t d, start;
	char buf[32];

	if (ms < TIME_LO || ms > TIME_HI - (int64_t)(days + 2) * DAY_MS ||
	    days < 0 || tz == NULL)
		return -ERANGE;
	d = roster_fdiv(roster_wall(tz, ms), DAY_MS) + days;
	start = roster_first_at(tz, d * DAY_MS);
	if (date != NULL) {
		roster_fmt_wall(d * DAY_MS, buf, sizeof(buf));
		memcpy(date, buf, 10);	/* "2026-12-02 00:00" */
		date[10] = '\0';
	}
	return start;
}

char *
roster_format(const struct config *cf, int64_t ms, char *buf, size_t len)
{
	const struct tz *tz = cf->roster != NULL ? cf->roster->tz :
	    cf->tz != NULL ? cf->tz : time_zone();

	if (ms < TIME_LO || ms > TIME_HI || tz == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	roster_fmt_wall(roster_wall(tz, ms), buf, len);
	return buf;
}

void
roster_free(struct roster *r)
{
	size_t i, j;

	if (r == NULL)
		return;
	for (i = 0; i < r->nroles; i++) {
		free(r->roles[i].name);
		free(r->roles[i].why);
		for (j = 0; j < r->roles[i].nitems; j++)
			free(r->roles[i].items[j].ids);
		free(r->roles[i].items);
	}
	free(r->roles);
	for (i = 0; i < r->nov; i++) {
		free(r->ov[i].team.ids);
		free(r->ov[i].why);
	}
	free(r->ov);
	free(r->zone);
	tz_unref(r->tz);
	free(r);
}


static int
team_has(const struct team *t, const char *person)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->ids[i], person) == 0)
			return 1;
	return 0;
}

int
roster_names(const struct roster *r, const char *person)
{
	size_t i, j;

	for (i = 0; r != NULL && i < r->nroles; i++)
		for (j = 0; j < r->roles[i].nitems; j++)
			if (team_has(&r->roles[i].items[j], person))
				return 1;
	for (i = 0; r != NULL && i < r->nov; i++)
		if (team_has(&r->ov[i].team, person) || (r->ov[i].to != NULL &&
		    strcmp(r->ov[i].to, person) == 0))
			return 1;
	return 0;
}
