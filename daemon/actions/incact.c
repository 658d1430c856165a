/*
 * Incident actions: decide, record, then tell.  Nothing here changes an
 * incident: the record does, through the router (state/incident.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/incact.h"
#include "base/clock.h"
#include "base/jintern.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "notify/delivery.h"
#include "notify/notify.h"
#include "state/incid.h"
#include "state/incident.h"
#include "state/incseed.h"
#include "state/incview.h"
#include "store/store.h"

static const char *
incact_person_name(const char *person)
{
	const struct config_person *p = config_person(config_current(), person);

	return p != NULL ? p->name : NULL;
}

/* "person:zhang": snprintf()'s "%s%s", cut as it cuts, without its format reading. */
static void
incact_actor(char *buf, size_t size, const char *prefix, const char *id)
{
	size_t p = strlen(prefix), n = strnlen(id, size - p - 1);

	memcpy(buf, prefix, p);
	memcpy(buf + p, id, n);
	buf[p + n] = '\0';
}

int
incact_late_minutes(int64_t occurred_ms, int64_t received_ms)
{
	int64_t past = received_ms - occurred_ms -
	    config_current()->policy.county_deadline_ms;

	if (past <= 0)
		return 0;
	/* Late by seconds is late: it says so, in whole minutes. */
	return past < 60000 ? 1 : (int)(past / 60000);
}

/* Times and hashes dutyd wrote: ASCII, nothing for jansson to check. */
static json_t *
incact_ascii(const char *s)
{
	return s != NULL ? json_stringn_nocheck(s, strlen(s)) : NULL;
}

/*
 * The report.received data, in the order json_pack("{s:s, s:s, s:O, s:s,
 * s:s, s:s, s:b, s:i, s:s, s:s?, s:s}") made it (the record's bytes follow
 * the order): built member by member, as json_pack's reading of its format
 * cost more than the members.  The office's strings are shared (jintern).
 */
static json_t *
incact_received(const struct config_office *o, const json_t *report,
    const char *rcv, const char *ack, const char *rep, int late,
    const char *source, const char *idem_key, const char *body_sha256)
{
	json_t	*d = json_object();

	if (d == NULL ||
	    json_object_set_new_nocheck(d, "office", jintern_str(o->id)) != 0 ||
	    json_object_set_new_nocheck(d, "office_name",
	    jintern_str(o->name)) != 0 ||
	    json_object_set_nocheck(d, "report", (json_t *)report) != 0 ||
	    json_object_set_new_nocheck(d, "received_at", incact_ascii(rcv)) != 0 ||
	    json_object_set_new_nocheck(d, "ack_deadline",
	    incact_ascii(ack)) != 0 ||
	    json_object_set_new_nocheck(d, "report_deadline",
	    incact_ascii(rep)) != 0 ||
	    json_object_set_new_nocheck(d, "late_report",
	    json_boolean(late > 0)) != 0 ||
	    json_object_set_new_nocheck(d, "late_by_minutes",
	    jintern_int(late)) != 0 ||
	    json_object_set_new_nocheck(d, "source", jintern_str(source)) != 0 ||
	    json_object_set_new_nocheck(d, "idempotency_key", idem_key != NULL ?
	    json_string(idem_key) : json_null()) != 0 ||
	    json_object_set_new_nocheck(d, "body_sha256",
	    incact_ascii(body_sha256)) != 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* A report from OFFICE; TAKER is the person who took it by phone, or NULL. */
static int
incact_report_from(const char *office, const char *taker, const char *idem_key,
    const json_t *report, const char *raw, size_t rawlen, int64_t occurred_ms,
    const char *body_sha256, struct incident **out)
{
	struct config			*cfg = config_current();
	const struct config_office	*o = config_office(cfg, office);
	char				 id[INCIDENT_ID_MAX], actor[128];
	char				 rcv[TIME_RFC3339_MAX], ack[TIME_RFC3339_MAX];
	char				 rep[TIME_RFC3339_MAX];
	int64_t				 now = time_now_ms();
	struct incseed			 seed;
	const char			*source;
	json_t				*data;
	int				 late, rc;

	*out = NULL;
	if (o == NULL)
		return -ENOENT;
	incid_new(now, id, sizeof(id));
	time_format(now, rcv, sizeof(rcv));
	time_format(now + cfg->policy.ack_timeout_ms, ack, sizeof(ack));
	time_format(now + cfg->policy.report_deadline_ms, rep, sizeof(rep));
	late = incact_late_minutes(occurred_ms, now);
	source = taker != NULL ? "phone" : idem_key != NULL &&
	    strncmp(idem_key, "sms:", 4) == 0 ? "sms" : "api";
	data = incact_received(o, report, rcv, ack, rep, late, source, idem_key,
	    body_sha256);
	if (data == NULL || (taker != NULL && (json_object_set_new(data,
	    "taken_by", json_string(taker)) != 0 || json_object_set_new(data,
	    "taken_by_name", json_string(incact_person_name(taker) != NULL ?
	    incact_person_name(taker) : taker)) != 0))) {
		json_decref(data);
		return -ENOMEM;
	}
	if (taker != NULL)
		incact_actor(actor, sizeof(actor), "person:", taker);
	else
		incact_actor(actor, sizeof(actor), "office:", o->id);
	/* What DATA says, as incseed_read() would read it back (incseed.h). */
	memset(&seed, 0, sizeof(seed));
	seed.data = data;
	seed.office = o->id;
	seed.office_name = o->name;
	seed.body_sha256 = body_sha256;
	seed.idem_key = idem_key;
	seed.source = source;
	seed.taken_by = taker;
	seed.taken_by_name = taker != NULL ? json_string_value(json_object_get(
	    data, "taken_by_name")) : NULL;
	seed.received_at = rcv;
	seed.ack_deadline = ack;
	seed.report_deadline = rep;
	seed.late_report = late > 0;
	seed.has_late_minutes = 1;
	seed.late_minutes = late;
	incseed_expect(&seed);
	rc = raw != NULL ? store_append_spliced("report.received", id, actor,
	    data, "report", raw, rawlen, NULL) : store_append("report.received",
	    id, actor, data, NULL);
	incseed_expect(NULL);
	if (rc != 0)
		return rc;
	metrics_count(METRICS_REPORTS, o->id, late ? "true" : "false");
	if ((*out = incident_find(id)) == NULL)
		return -EIO;	/* on disk but not applied; the store logged it */
	notify_reconcile(*out);
	return 0;
}

int
incact_report(const char *office, const char *idem_key, const json_t *report,
    int64_t occurred_ms, const char *body_sha256, struct incident **out)
{
	return incact_report_from(office, NULL, idem_key, report, NULL, 0,
	    occurred_ms, body_sha256, out);
}

int
incact_report_phoned(const char *office, const char *person,
    const char *idem_key, const json_t *report, int64_t occurred_ms,
    const char *body_sha256, struct incident **out)
{
	return incact_report_from(office, person, idem_key, report, NULL, 0,
	    occurred_ms, body_sha256, out);
}

int
incact_report_dumped(const char *office, const char *person,
    const char *idem_key, const json_t *report, const char *raw, size_t rawlen,
    int64_t occurred_ms, const char *body_sha256, struct incident **out)
{
	return incact_report_from(office, person, idem_key, report, raw, rawlen,
	    occurred_ms, body_sha256, out);
}

static int
incact_mark(struct incident *inc, const char *event, const char *person,
    const char *textkey, const char *text)
{
	char	 actor[128];
	json_t	*data;
	int	 rc;

	data = json_pack("{s:s?}", "by_name", incact_person_name(person));
	if (data == NULL || (text != NULL && json_object_set_new(data, textkey,
	    json_string(text)) != 0)) {
		json_decref(data);
		return -ENOMEM;
	}
	incact_actor(actor, sizeof(actor), "person:", person);
	if ((rc = store_append(event, inc->id, actor, data, NULL)) != 0)
		return rc;
	notify_reconcile(inc);
	return 0;
}

int
incact_acknowledge(struct incident *inc, const char *person, const char *note,
    int *changed)
{
	*changed = 0;
	if (inc->ack.at != 0 || incident_is_closed(inc))
		return 0;
	*changed = 1;
	return incact_mark(inc, "incident.acknowledged", person, "note", note);
}

int
incact_file_report(struct incident *inc, const char *person,
    const char *reference, int *changed)
{
	*changed = 0;
	if (inc->filed.at != 0 || incident_is_closed(inc))
		return 0;
	*changed = 1;
	return incact_mark(inc, "incident.report_filed", person, "reference",
	    reference);
}

int
incact_resolve(struct incident *inc, const char *person, const char *note,
    int *changed)
{
	int rc;

	*changed = 0;
	if (incident_is_closed(inc))
		return 0;
	*changed = 1;
	if ((rc = incact_mark(inc, "incident.resolved", person, "note",
	    note)) == 0)
		delivery_incident_resolved(inc);
	return rc;
}

int
incact_note(struct incident *inc, const char *person, const char *text)
{
	char	 actor[128];
	json_t	*data;

	data = json_pack("{s:s, s:s?}", "text", text, "by_name",
	    incact_person_name(person));
	if (data == NULL)
		return -ENOMEM;
	incact_actor(actor, sizeof(actor), "person:", person);
	/* A note tells nobody: it is for whoever reads the incident next. */
	return store_append("incident.note", inc->id, actor, data, NULL);
}

/* A merge or a dismissal: recorded, told, and the rest of its messages end. */
static int
incact_close(struct incident *inc, const char *event, const char *person,
    json_t *data)
{
	char	actor[128];
	int	rc;

	incact_actor(actor, sizeof(actor), "person:", person);
	if ((rc = store_append(event, inc->id, actor, data, NULL)) != 0)
		return rc;
	notify_reconcile(inc);
	delivery_incident_resolved(inc);
	return 0;
}

int
incact_merge(struct incident *inc, const char *person, const char *into_id,
    const char *note, int *changed)
{
	struct incident	*into = incident_find(into_id);
	json_t		*data;

	*changed = 0;
	if (into == NULL)
		return -ENOENT;
	if (into == inc)
		return -ELOOP;
	if (inc->state == INCIDENT_MERGED && strcmp(inc->merged_into,
	    into->id) == 0)
		return 0;	/* the same merge again */
	if (incident_is_closed(inc))
		return -EALREADY;
	if (incident_is_closed(into))
		return -ECANCELED;
	data = json_pack("{s:s, s:s?, s:s?}", "into", into->id, "note", note,
	    "by_name", incact_person_name(person));
	if (data == NULL)
		return -ENOMEM;
	*changed = 1;
	return incact_close(inc, "incident.merged", person, data);
}

int
incact_dismiss(struct incident *inc, const char *person, const char *reason,
    int *changed)
{
	json_t	*data;

	*changed = 0;
	if (inc->state == INCIDENT_DISMISSED)
		return 0;
	if (incident_is_closed(inc))
		return -EALREADY;
	data = json_pack("{s:s, s:s?}", "reason", reason, "by_name",
	    incact_person_name(person));
	if (data == NULL)
		return -ENOMEM;
	*changed = 1;
	return incact_close(inc, "incident.dismissed", person, data);
}

int
incact_update(struct incident *inc, const char *office, const char *idem_key,
    const json_t *update, int *changed)
{
	const struct config_office *o = config_office(config_current(), office);
	struct incident	*dest;
	char	 actor[128];
	json_t	*u, *data;
	size_t	 i, size;
	int	 rc;

	*changed = 0;
	if (strcmp(inc->office, office) != 0)
		return -EPERM;
	/* A duplicate's follow-ups belong to the incident it was merged into. */
	if ((dest = incident_merge_target(inc)) == NULL ||
	    incident_is_closed(dest))
		return -EALREADY;
	incact_actor(actor, sizeof(actor), "office:", office);
	json_array_foreach(dest->updates, i, u)
		if (idem_key != NULL && json_is_string(json_object_get(u, "key")) &&
		    strcmp(json_string_value(json_object_get(u, "key")),
		    idem_key) == 0 && json_is_string(json_object_get(u, "by")) &&
		    strcmp(json_string_value(json_object_get(u, "by")),
		    actor) == 0)
			/* A retry, or a different follow-up under a used key. */
			return json_equal(json_object_get(u, "fields"),
			    (json_t *)update) ? 0 : -EEXIST;
	/* An incident's follow-ups must fit one checkpoint line. */
	if (json_array_size(dest->updates) >= INCIDENT_UPDATES_MAX)
		return -EMLINK;
	size = json_dumpb(update, NULL, 0, JSON_COMPACT);
	if (dest->updates_bytes + size > INCIDENT_UPDATES_BYTES_MAX)
		return -EFBIG;
	data = json_pack("{s:O, s:s?, s:s?, s:s, s:s?}", "fields", update, "key",
	    idem_key, "by_name", o != NULL ? o->name : NULL, "source",
	    idem_key != NULL && strncmp(idem_key, "sms:", 4) == 0 ? "sms" :
	    "api", "via", dest != inc ? inc->id : NULL);
	if (data == NULL)
		return -ENOMEM;
	*changed = 1;
	if ((rc = store_append("incident.updated", dest->id, actor, data,
	    NULL)) != 0)
		return rc;
	notify_reconcile(dest);
	return 0;
}

/*
 * An escalation's level, whom a level beyond the first calls, and when the
 * next one is due: all in the record, so a later config change or restart
 * does not move a running clock.
 */
static int
incact_level_data(struct incident *inc, struct incident_clock *ic,
    json_t *data)
{
	const struct config_policy *pol = &config_current()->policy;
	const struct config_level *lv;
	char	 at[TIME_RFC3339_MAX];
	int	 level = ic == &inc->ack_clock ? 1 : inc->level + 1;
	json_t	*who;
	size_t	 i;

	if (json_object_set_new(data, "level", json_integer(level)) != 0)
		return -ENOMEM;
	if (level >= 2) {
		/* Levels shrank in a reload: the list as it is now still decides. */
		lv = (size_t)(level - 2) < pol->nlevels ?
		    &pol->levels[level - 2] : NULL;
		if ((who = json_array()) == NULL ||
		    json_object_set_new(data, "notify", who) != 0)
			return -ENOMEM;
		for (i = 0; lv != NULL && i < lv->nnotify; i++)
			if (json_array_append_new(who,
			    json_string(lv->notify[i])) != 0)
				return -ENOMEM;
	}
	if ((size_t)(level - 1) < pol->nlevels &&
	    json_object_set_new(data, "next_level_at", json_string(time_format(
	    ic->deadline + pol->levels[level - 1].after_ms, at, sizeof(at)))) != 0)
		return -ENOMEM;
	return 0;
}

/*
 * Whom an escalation tells is written after the firings of the turn, at the
 * clocks' job priority, a slice a turn: at 100,000 deadlines due within
 * seconds, an intent and its deliveries per firing made the later firings
 * and every report wait behind them.  Ids, not pointers: an incident may be
 * merged or unloaded meanwhile.  A crash before they are written loses
 * nothing: notify_reconcile_all() after replay tells what is due.
 */
#define INCACT_TELL_SLICE	16

static struct clock_job	  incact_tell_job;
static char		**incact_tell_ids;
static size_t		  incact_tell_n, incact_tell_next, incact_tell_cap;

static void
incact_tell(void *arg)
{
	struct incident	*inc;
	size_t		 k;

	for (k = 0; k < INCACT_TELL_SLICE &&
	    incact_tell_next < incact_tell_n; k++) {
		char *id = incact_tell_ids[incact_tell_next++];

		if ((inc = incident_find(id)) != NULL)
			notify_reconcile(inc);
		free(id);
	}
	if (incact_tell_next < incact_tell_n)
		clock_job_later(&incact_tell_job, incact_tell, NULL);
	else
		incact_tell_n = incact_tell_next = 0;
}

/* Queues inc's notifications; -ENOMEM: tell now instead. */
static int
incact_tell_later(const struct incident *inc)
{
	char	**ids;
	size_t	  cap;

	if (incact_tell_n == incact_tell_cap) {
		cap = incact_tell_cap < 256 ? 256 : incact_tell_cap * 2;
		if ((ids = reallocarray(incact_tell_ids, cap,
		    sizeof(*ids))) == NULL)
			return -ENOMEM;
		incact_tell_ids = ids;
		incact_tell_cap = cap;
	}
	if ((incact_tell_ids[incact_tell_n] = strdup(inc->id)) == NULL)
		return -ENOMEM;
	incact_tell_n++;
	clock_job_later(&incact_tell_job, incact_tell, NULL);
	return 0;
}

void
incact_shutdown(void)
{
	clock_job_cancel(&incact_tell_job);
	while (incact_tell_next < incact_tell_n)
		free(incact_tell_ids[incact_tell_next++]);
	free(incact_tell_ids);
	incact_tell_ids = NULL;
	incact_tell_n = incact_tell_next = incact_tell_cap = 0;
}

/*
 * A deadline passed.  Firing is a record; if it cannot be written (disk
 * full), try again every second: a late escalation beats a lost one.
 */
void
incact_deadline(struct clock *c, void *arg)
{
	struct incident		*inc = arg;
	struct incident_clock	*ic;
	const char		*event, *what;
	char			 deadline[TIME_RFC3339_MAX];
	int64_t			 now = time_now_ms();
	json_t			*data;
	int			 rc;

	if (c == &inc->ack_clock.clock) {
		ic = &inc->ack_clock;
		event = "incident.escalated";
		what = "ack";
		if (inc->ack.at != 0)
			return;
	} else if (inc->level_clock != NULL && c == &inc->level_clock->clock) {
		ic = inc->level_clock;
		event = "incident.escalated";
		what = "level";
		if (inc->ack.at != 0)
			return;
	} else {
		ic = &inc->report_clock;
		event = "incident.report_overdue";
		what = "report";
		if (inc->filed.at != 0)
			return;
	}
	if (incident_is_closed(inc) || ic->fired_at != 0)
		return;
	data = json_pack("{s:s, s:s, s:I}", "clock", what, "deadline",
	    time_format(ic->deadline, deadline, sizeof(deadline)),
	    "late_ms", (json_int_t)(now - ic->deadline));
	if (data != NULL && ic != &inc->report_clock &&
	    incact_level_data(inc, ic, data) != 0) {
		json_decref(data);
		data = NULL;
	}
	if (data == NULL)
		rc = -ENOMEM;
	else
		rc = store_append(event, inc->id, "dutyd", data, NULL);
	if (rc != 0) {
		if (!ic->failing)
			log_errorx("incident %s: the %s deadline passed but cannot be "
			    "recorded (%s); retrying every second, notifications wait "
			    "until the audit log is writable", inc->id, what,
			    strerror(-rc));
		ic->failing = 1;
		clock_arm(c, now + 1000);
		return;
	}
	metrics_count(METRICS_ESCALATIONS, what, NULL);
	log_info("incident %s: %s deadline passed%s, %s", inc->id, what,
	    now - ic->deadline > 2000 ? " while dutyd was down or stalled" : "",
	    event);
	if (incact_tell_later(inc) != 0)
		notify_reconcile(inc);
}
