/*
 * oncallapi.c: the duty roster over HTTP (see oncallapi.h).  The days are
 * walked from one change of the roster to the next (roster_at() and
 * roster_next_change()), so the answer is what `dutyd --oncall` prints:
 * the same roster, the same overrides, the same zone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/timeutil.h"
#include "config/config.h"
#include "config/roster.h"
#include "intake/http.h"
#include "intake/oncallapi.h"
#include "notify/notify.h"

/* Periods a walk may collect and the steps it may take: days × shifts, with room. */
#define ONCALLAPI_PERIODS_MAX	4096
#define ONCALLAPI_STEPS_MAX	4096

struct oncallapi_period {
	const char	*role;
	const char	*person;
	const char	*why;
	int64_t		 start, end;	/* 0, INT64_MAX: always (the duty block) */
	int		 leader;
};

static json_t *
oncallapi_time(int64_t ms)
{
	char buf[TIME_RFC3339_MAX];

	if (ms <= 0 || ms == INT64_MAX)
		return json_null();
	return json_string(time_format(ms, buf, sizeof(buf)));
}

/* {"id", "name"} of a person on duty (the name is null if the id is unknown). */
static json_t *
oncallapi_person(const struct config *cf, const char *id)
{
	const struct config_person *p = config_person(cf, id);

	return json_pack("{s:s, s:s?}", "id", id, "name", p != NULL ? p->name :
	    NULL);
}

static int
oncallapi_is_override(const char *why)
{
	return why != NULL && strncmp(why, "override", 8) == 0;
}

json_t *
oncallapi_now(const struct config *cf, int64_t at)
{
	struct roster_oncall	 oc;
	json_t			*officers, *o;
	int64_t			 since = 0, until = INT64_MAX, next;
	size_t			 i;

	if (roster_at(cf, at, &oc) != 0 || (officers = json_array()) == NULL)
		return NULL;
	for (i = 0; i < oc.nofficers; i++) {
		o = oncallapi_person(cf, oc.officers[i].person);
		if (o == NULL || json_object_set_new(o, "role",
		    json_string(oc.officers[i].role)) != 0 ||
		    json_array_append_new(officers, o) != 0) {
			json_decref(officers);
			return NULL;
		}
		if (oc.officers[i].start > since)
			since = oc.officers[i].start;
		if (oc.officers[i].end < until)
			until = oc.officers[i].end;
	}
	if (oc.has_leader) {
		if (oc.leader.start > since)
			since = oc.leader.start;
		if (oc.leader.end < until)
			until = oc.leader.end;
	}
	/* A shift that starts while the others go on changes who is on duty too. */
	if ((next = roster_next_change(cf, at)) > at && next < until)
		until = next;
	return json_pack("{s:o, s:o, s:o, s:o}", "leader", oc.has_leader ?
	    oncallapi_person(cf, oc.leader.person) : json_null(), "officers",
	    officers, "since", oncallapi_time(since), "until",
	    oncallapi_time(until));
}

/* Adds S's period unless the walk met it already; -ENOSPC past the cap. */
static int
oncallapi_add(struct oncallapi_period *p, size_t *n,
    const struct roster_slot *s, int leader)
{
	size_t i;

	for (i = *n; i > 0; i--)
		if (p[i - 1].start == s->start && p[i - 1].leader == leader &&
		    strcmp(p[i - 1].person, s->person) == 0 &&
		    strcmp(p[i - 1].role, s->role) == 0)
			return 0;
	if (*n == ONCALLAPI_PERIODS_MAX)
		return -ENOSPC;
	p[*n].role = s->role;
	p[*n].person = s->person;
	p[*n].why = s->why;
	p[*n].start = s->start;
	p[*n].end = s->end;
	p[*n].leader = leader;
	(*n)++;
	return 0;
}

/* Every period on duty in [from, to), in the order met. */
static int
oncallapi_walk(const struct config *cf, int64_t from, int64_t to,
    struct oncallapi_period *p, size_t *n)
{
	struct roster_oncall	 oc;
	int64_t			 t = from, next, nc;
	size_t			 i, steps;
	int			 rc;

	for (steps = 0; t < to && steps < ONCALLAPI_STEPS_MAX; steps++) {
		if ((rc = roster_at(cf, t, &oc)) != 0)
			return rc;
		next = INT64_MAX;
		if (oc.has_leader) {
			if ((rc = oncallapi_add(p, n, &oc.leader, 1)) != 0)
				return rc;
			if (oc.leader.end > t)
				next = oc.leader.end;
		}
		for (i = 0; i < oc.nofficers; i++) {
			if ((rc = oncallapi_add(p, n, &oc.officers[i], 0)) != 0)
				return rc;
			if (oc.officers[i].end > t && oc.officers[i].end < next)
				next = oc.officers[i].end;
		}
		if ((nc = roster_next_change(cf, t)) > t && nc < next)
			next = nc;
		if (next == INT64_MAX || next <= t)
			break;
		t = next;
	}
	return 0;
}

static int
oncallapi_cmp(const void *a, const void *b)
{
	const struct oncallapi_period *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->leader != y->leader)
		return y->leader - x->leader;	/* the leader first */
	return strcmp(x->role, y->role);
}

static json_t *
oncallapi_shift(const struct config *cf, const struct oncallapi_period *p)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:b}", "role", p->role,
	    "person", oncallapi_person(cf, p->person), "from",
	    oncallapi_time(p->start), "until", oncallapi_time(p->end),
	    "override", oncallapi_is_override(p->why));
}

/* [{"date", "shifts"}] for NDAYS local days from the one holding AT. */
static json_t *
oncallapi_days(const struct config *cf, int64_t at, int ndays)
{
	struct oncallapi_period	*p;
	json_t			*days, *shifts, *s;
	int64_t			 from, to, ds, de;
	char			 date[11];
	size_t			 n = 0, i;
	int			 d, failed = 0;

	if ((from = roster_day_start(cf, at, 0, NULL)) < 0 ||
	    (to = roster_day_start(cf, at, ndays, NULL)) < 0 ||
	    (p = calloc(ONCALLAPI_PERIODS_MAX, sizeof(*p))) == NULL)
		return NULL;
	if (oncallapi_walk(cf, from, to, p, &n) != 0 ||
	    (days = json_array()) == NULL) {
		free(p);
		return NULL;
	}
	qsort(p, n, sizeof(*p), oncallapi_cmp);
	for (d = 0; d < ndays && !failed; d++) {
		ds = roster_day_start(cf, at, d, date);
		de = roster_day_start(cf, at, d + 1, NULL);
		if (ds < 0 || de < 0 || (shifts = json_array()) == NULL) {
			failed = 1;
			break;
		}
		for (i = 0; i < n && !failed; i++)
			if (p[i].start < de && p[i].end > ds)
				failed = (s = oncallapi_shift(cf, &p[i])) == NULL ||
				    json_array_append_new(shifts, s) != 0;
		s = json_pack("{s:s, s:o}", "date", date, "shifts", shifts);
		failed |= s == NULL || json_array_append_new(days, s) != 0;
	}
	free(p);
	if (failed) {
		json_decref(days);
		return NULL;
	}
	return days;
}

/* Names beside ids in the slots of the older fields: people, not keys. */
static void
oncallapi_name_slot(const struct config *cf, json_t *slot)
{
	const struct config_person *p;

	p = config_person(cf, json_string_value(json_object_get(slot, "person")));
	if (p != NULL)
		json_object_set_new(slot, "name", json_string(p->name));
}

/* days=N: 0 and *n, or -1 after answering 400. */
static int
oncallapi_ndays(struct http_call *call, int *n)
{
	char	*s = http_query(call, "days"), *end;
	long	 v;

	*n = ONCALLAPI_DAYS_DEFAULT;
	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > ONCALLAPI_DAYS_MAX) {
		http_error(call, 400, "days", "days must be a whole number from 1 "
		    "to %d (default %d: today and the next 14 days); got '%.20s'",
		    ONCALLAPI_DAYS_MAX, ONCALLAPI_DAYS_DEFAULT, s);
		free(s);
		return -1;
	}
	free(s);
	*n = (int)v;
	return 0;
}

void
oncallapi_get(struct http_call *call)
{
	const struct config	*cf = config_current();
	struct roster_oncall	 oc;
	char			*at_s = http_query(call, "at"), at_buf[TIME_RFC3339_MAX];
	int64_t			 at = time_now_ms(), next;
	json_t			*body, *slot;
	size_t			 i;
	int			 ndays;

	if (at_s != NULL && time_parse(at_s, &at) != 0) {
		http_error(call, 400, "at", "at must be an RFC 3339 time such as "
		    "2026-12-01T08:30:00+08:00 (write + as %%2B); got '%.40s'",
		    at_s);
		free(at_s);
		return;
	}
	free(at_s);
	if (oncallapi_ndays(call, &ndays) != 0)
		return;
	if (roster_at(cf, at, &oc) != 0 ||
	    roster_day_start(cf, at, ndays + 1, NULL) < 0) {
		http_error(call, 400, "at", "at is out of the range the roster "
		    "can answer for (years 1970 to 9999)");
		return;
	}
	if ((body = notify_oncall_json(&oc)) == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	json_object_set_new(body, "at", json_string(time_format(at, at_buf,
	    sizeof(at_buf))));
	json_object_set_new(body, "timezone", json_string(roster_zone(cf)));
	if (json_is_object(slot = json_object_get(body, "leader")))
		oncallapi_name_slot(cf, slot);
	json_array_foreach(json_object_get(body, "officers"), i, slot)
		oncallapi_name_slot(cf, slot);
	next = roster_next_change(cf, at);
	if (json_object_set_new(body, "now", oncallapi_now(cf, at)) != 0 ||
	    json_object_set_new(body, "next_handover", next > at ?
	    oncallapi_time(next) : json_null()) != 0 ||
	    json_object_set_new(body, "days", oncallapi_days(cf, at,
	    ndays)) != 0) {
		json_decref(body);
		http_error(call, 503, NULL, "out of memory, or the roster changes "
		    "too often to list (over %d shifts in %d days); ask for fewer "
		    "days", ONCALLAPI_PERIODS_MAX, ndays);
		return;
	}
	http_reply(call, 200, body);
}

void
oncallapi_offices(struct http_call *call)
{
	const struct config	*cf = config_current();
	json_t			*list = json_array(), *o;
	size_t			 i;

	for (i = 0; list != NULL && i < cf->noffices; i++) {
		o = json_pack("{s:s, s:s}", "id", cf->offices[i].id, "name",
		    cf->offices[i].name);
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (list == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	http_reply(call, 200, json_pack("{s:o}", "offices", list));
}
