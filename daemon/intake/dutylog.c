/*
 * dutylog.c: GET /api/v1/dutylog?date=YYYY-MM-DD[&format=csv] (see
 * dutylog.h).  The day is read from the store by two scans on a worker
 * thread, never from memory: first whether the log holds anything before
 * the day (else it is not complete), then the day itself; the answer is
 * sent when the second ends.  The request waits meanwhile; the loop does
 * not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "config/calendar.h"
#include "config/config.h"
#include "config/roster.h"
#include "intake/dutylog.h"
#include "intake/dutyview.h"
#include "intake/http.h"
#include "store/record.h"
#include "store/store.h"

#define CSV_TYPE	"text/csv; charset=utf-8"
/* Roster changes walked for who was on duty: a day has a few dozen at most. */
#define DUTYLOG_STEPS_MAX	500
/* The probe found a record before the day: it stops there. */
#define DUTYLOG_FOUND		(-EEXIST)

struct dutylog_job {
	struct http_call call;	/* a copy: the request outlives the handler */
	char		 date[11];
	int		 csv;
	int64_t		 from, to;
	int		 earlier;	/* the log holds records before the day */
	json_t		*records;	/* the day's, as the worker copied them */
	size_t		 beyond;	/* past DUTYVIEW_ENTRIES_MAX, counted only */
};

static void
dutylog_job_free(struct dutylog_job *j)
{
	json_decref(j->records);
	free(j);
}

static json_t *
dutylog_time(int64_t ms)
{
	char buf[TIME_RFC3339_MAX];

	return json_string(time_format(ms, buf, sizeof(buf)));
}

static json_t *
dutylog_person(const char *id)
{
	const struct config_person *p = config_person(config_current(), id);

	return json_pack("{s:s, s:s?}", "person", id, "name", p != NULL ?
	    p->name : NULL);
}

static int
dutylog_has(const json_t *list, const char *person)
{
	const json_t	*p;
	size_t		 i;

	json_array_foreach(list, i, p)
		if (strcmp(json_string_value(json_object_get(p, "person")),
		    person) == 0)
			return 1;
	return 0;
}

/* The people of SHIFT in LIST ({shift, people}), made on first sight. */
static json_t *
dutylog_shift(json_t *list, const char *shift)
{
	json_t	*s;
	size_t	 i;

	json_array_foreach(list, i, s)
		if (strcmp(json_string_value(json_object_get(s, "shift")),
		    shift) == 0)
			return json_object_get(s, "people");
	s = json_pack("{s:s, s:[]}", "shift", shift, "people");
	if (s == NULL || json_array_append_new(list, s) != 0)
		return NULL;
	return json_object_get(s, "people");
}

/*
 * Who was on duty during [FROM, TO), as the roster in force says: the
 * leader(s) and each shift's people, walked from change to change.
 */
static json_t *
dutylog_on_duty(int64_t from, int64_t to)
{
	const struct config	*cf = config_current();
	struct roster_oncall	 oc;
	json_t			*leaders = json_array(), *officers = json_array();
	json_t			*people;
	int64_t			 at = from, next;
	size_t			 i;
	int			 steps = 0;

	if (leaders == NULL || officers == NULL)
		goto fail;
	while (at < to && steps++ < DUTYLOG_STEPS_MAX &&
	    roster_at(cf, at, &oc) == 0) {
		if (oc.has_leader && !dutylog_has(leaders, oc.leader.person) &&
		    json_array_append_new(leaders,
		    dutylog_person(oc.leader.person)) != 0)
			goto fail;
		for (i = 0; i < oc.nofficers; i++) {
			if ((people = dutylog_shift(officers,
			    oc.officers[i].role)) == NULL)
				goto fail;
			if (!dutylog_has(people, oc.officers[i].person) &&
			    json_array_append_new(people,
			    dutylog_person(oc.officers[i].person)) != 0)
				goto fail;
		}
		if ((next = roster_next_change(cf, at)) <= at)
			break;
		at = next;
	}
	return json_pack("{s:O, s:o, s:o}", "leader", json_array_size(leaders) >
	    0 ? json_array_get(leaders, 0) : json_null(), "leaders", leaders,
	    "officers", officers);
fail:
	json_decref(leaders);
	json_decref(officers);
	return NULL;
}

static void
dutylog_answer(struct dutylog_job *j)
{
	const struct config	*cf = config_current();
	struct dutyview		*v = dutyview_new();
	json_t			*o = NULL, *r;
	char			*csv, name[96];
	size_t			 i, len;
	int			 y = 0, m = 0, d = 0, work;

	if (v == NULL)
		goto nomem;
	json_array_foreach(j->records, i, r)
		if (dutyview_add(v, r) != 0)
			goto nomem;
	dutyview_more(v, j->beyond);
	if (j->csv) {
		if ((csv = dutyview_csv(v, &len)) == NULL)
			goto nomem;
		snprintf(name, sizeof(name), "attachment; filename=\"dutylog-%s."
		    "csv\"", j->date);
		http_set_header(&j->call, "Content-Disposition", name);
		http_reply_as(&j->call, 200, CSV_TYPE, csv);
		free(csv);
		dutyview_free(v);
		return;
	}
	sscanf(j->date, "%4d-%2d-%2d", &y, &m, &d);
	work = calendar_is_workday(cf->calendar, y, m, d);
	o = json_pack("{s:s, s:o, s:o, s:s, s:b, s:b, s:b, s:o}", "date",
	    j->date, "from", dutylog_time(j->from), "to", dutylog_time(j->to),
	    "timezone", roster_zone(cf), "holiday", work == 0, "complete",
	    j->earlier, "in_progress", time_now_ms() < j->to, "on_duty",
	    dutylog_on_duty(j->from, j->to));
	if (o == NULL || dutyview_json(v, o) != 0)
		goto nomem;
	/* Nothing before the day: the log began during it, or after it. */
	if (!j->earlier && json_object_set_new(o, "note", json_string(
	    "审计日志从此日期之后（或当天中途）才开始记录，本日值班日志不完整。")) != 0)
		goto nomem;
	http_reply(&j->call, 200, o);
	dutyview_free(v);
	return;
nomem:
	json_decref(o);
	dutyview_free(v);
	http_error(&j->call, 503, NULL, "out of memory building the duty log; "
	    "retry shortly");
}

/* On the worker: a copy of each record of the day, up to the cap. */
static int
dutylog_collect(const struct record *r, void *arg)
{
	struct dutylog_job	*j = arg;
	json_t			*o;

	if (json_array_size(j->records) >= DUTYVIEW_ENTRIES_MAX) {
		j->beyond++;
		return 0;
	}
	o = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:o}", "seq",
	    (json_int_t)r->seq, "ts", r->ts, "event", r->event, "incident",
	    r->incident, "actor", r->actor, "data", r->data != NULL ?
	    json_deep_copy(r->data) : json_object());
	if (o == NULL || json_array_append_new(j->records, o) != 0)
		return -ENOMEM;
	return 0;
}

static void
dutylog_day_done(void *arg, int status, const char *err)
{
	struct dutylog_job *j = arg;

	if (status != 0) {
		log_warnx("duty log of %s: the audit log could not be read: %s",
		    j->date, err != NULL ? err : strerror(-status));
		http_error(&j->call, 503, NULL, "the audit log could not be read "
		    "(%s); retry in a minute", err != NULL && *err ? err :
		    strerror(-status));
	} else
		dutylog_answer(j);
	dutylog_job_free(j);
}

/* On the worker: any record before the day will do. */
static int
dutylog_probe(const struct record *r, void *arg)
{
	struct dutylog_job *j = arg;

	j->earlier = 1;
	return DUTYLOG_FOUND;
}

static void
dutylog_busy(struct http_call *call, int rc)
{
	if (rc == -EBUSY) {
		http_set_header(call, "Retry-After", "5");
		http_error(call, 503, NULL, "%d history reads (figures, duty logs) "
		    "are running, the most at once; retry in a few seconds",
		    STORE_SCANS_MAX);
	} else
		http_error(call, 503, NULL, "the audit log cannot be read now (%s); "
		    "retry in a minute", strerror(-rc));
}

static void
dutylog_probe_done(void *arg, int status, const char *err)
{
	struct dutylog_job	*j = arg;
	int			 rc;

	if (status != 0 && status != DUTYLOG_FOUND) {
		dutylog_day_done(j, status, err);
		return;
	}
	if ((rc = store_scan(j->from, j->to, dutyview_kinds, dutylog_collect,
	    dutylog_day_done, j)) != 0) {
		dutylog_busy(&j->call, rc);
		dutylog_job_free(j);
	}
}

void
dutylog_get(struct http_call *call)
{
	const struct config	*cf = config_current();
	struct dutylog_job	*j;
	char			*date = http_query(call, "date");
	char			*format = http_query(call, "format");
	char			 today[11];
	int			 rc, csv = 0;

	if (format != NULL && strcmp(format, "csv") != 0 &&
	    strcmp(format, "json") != 0) {
		http_error(call, 400, "format", "format must be json (the default) "
		    "or csv");
		goto out;
	}
	csv = format != NULL && strcmp(format, "csv") == 0;
	if (date == NULL && roster_duty_date(cf, time_now_ms(), today) == 0 &&
	    (date = strdup(today)) == NULL) {
		http_error(call, 503, NULL, "out of memory; retry shortly");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->records = json_array()) == NULL) {
		free(j);
		http_error(call, 503, NULL, "out of memory; retry shortly");
		goto out;
	}
	if (date == NULL || roster_duty_day(cf, date, &j->from, &j->to) != 0) {
		http_error(call, 400, "date", "date must be a local date "
		    "YYYY-MM-DD, e.g. date=2026-12-02: the duty day that begins at "
		    "the leader's handover that day");
		dutylog_job_free(j);
		goto out;
	}
	if (j->from > time_now_ms()) {
		http_error(call, 400, "date", "the duty day of %s has not begun "
		    "yet; there is no log of it", date);
		dutylog_job_free(j);
		goto out;
	}
	snprintf(j->date, sizeof(j->date), "%s", date);
	j->csv = csv;
	j->call = *call;
	/* Only the request outlives this turn; the config may be reloaded. */
	j->call.person = NULL;
	j->call.office = NULL;
	j->call.body = NULL;
	if ((rc = store_scan(0, j->from, NULL, dutylog_probe,
	    dutylog_probe_done, j)) != 0) {
		dutylog_busy(call, rc);
		dutylog_job_free(j);
	}
out:
	free(date);
	free(format);
}
