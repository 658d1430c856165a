/*
 * The incident store and its state machine.
 *
 * Actions (incident_report, incident_acknowledge, ...) decide, build a
 * record and hand it to audit_append(); incident_apply() is the only code
 * that changes an incident, for live records and for replay alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/audit.h"
#include "base/clock.h"
#include "config/config.h"
#include "actions/handover.h"
#include "state/incident.h"
#include "state/replycode.h"
#include "intake/sms.h"
#include "base/log.h"
#include "notify/notify.h"
#include "base/timeutil.h"

/* Timeline entries kept per incident; the oldest delivery attempts go first. */
#define INCIDENT_TIMELINE_MAX	500

RB_HEAD(incident_ids, incident);
RB_HEAD(incident_keys, incident);
TAILQ_HEAD(incident_list, incident);

static struct incident_ids	 by_id = RB_INITIALIZER(&by_id);
static struct incident_keys	 by_key = RB_INITIALIZER(&by_key);
static struct incident_list	 incidents = TAILQ_HEAD_INITIALIZER(incidents);
/* Ids are INC-<local date>-<n>: the last one issued, restored by replay. */
static int			 last_day, last_n;

static int
incident_cmp_id(struct incident *a, struct incident *b)
{
	return strcmp(a->id, b->id);
}

static int
incident_cmp_key(struct incident *a, struct incident *b)
{
	return strcmp(a->idem, b->idem);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(incident_ids, incident, by_id, incident_cmp_id)
RB_GENERATE_STATIC(incident_keys, incident, by_key, incident_cmp_key)

static void incident_clock_fired(struct clock *, void *);
static int incident_apply_checkpoint(const struct audit_record *);

void
incident_init(void)
{
	last_day = last_n = 0;
}

static void
incident_mark_clear(struct incident_mark *m)
{
	free(m->by);
	free(m->by_name);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

static void
incident_free(struct incident *inc)
{
	if (inc == NULL)
		return;
	notify_incident_free(inc);
	clock_free(&inc->ack_clock.clock);
	clock_free(&inc->report_clock.clock);
	clock_free(&inc->level_clock.clock);
	json_decref(inc->level_notify);
	json_decref(inc->updates);
	free(inc->office);
	free(inc->office_name);
	free(inc->idem);
	free(inc->body_sha256);
	free(inc->json);
	json_decref(inc->report);
	json_decref(inc->origin);
	json_decref(inc->timeline);
	incident_mark_clear(&inc->ack);
	incident_mark_clear(&inc->filed);
	incident_mark_clear(&inc->resolved);
	free(inc);
}

static void
incident_remove(struct incident *inc)
{
	TAILQ_REMOVE(&incidents, inc, entry);
	RB_REMOVE(incident_ids, &by_id, inc);
	if (inc->idem != NULL)
		RB_REMOVE(incident_keys, &by_key, inc);
	incident_free(inc);
}

void
incident_shutdown(void)
{
	while (!TAILQ_EMPTY(&incidents))
		incident_remove(TAILQ_FIRST(&incidents));
	replycode_shutdown();
}

struct incident *
incident_find(const char *id)
{
	struct incident key;

	if (id == NULL || strlen(id) >= sizeof(key.id))
		return NULL;
	strcpy(key.id, id);
	return RB_FIND(incident_ids, &by_id, &key);
}

static char *
idem_join(const char *office, const char *key)
{
	char *s;

	if (asprintf(&s, "%s\n%s", office, key) == -1)
		return NULL;
	return s;
}

struct incident *
incident_find_idem(const char *office, const char *key)
{
	struct incident	 probe, *inc;

	if ((probe.idem = idem_join(office, key)) == NULL)
		return NULL;
	inc = RB_FIND(incident_keys, &by_key, &probe);
	free(probe.idem);
	return inc;
}

struct incident *
incident_first(void)
{
	return TAILQ_FIRST(&incidents);
}

struct incident *
incident_next(struct incident *inc)
{
	return TAILQ_NEXT(inc, entry);
}

const char *
incident_state_name(enum incident_state s)
{
	switch (s) {
	case INCIDENT_OPEN:
		return "open";
	case INCIDENT_ACKNOWLEDGED:
		return "acknowledged";
	case INCIDENT_RESOLVED:
		return "resolved";
	}
	return "unknown";
}

/* "INC-20261128-0007" -> day 20261128, n 7. */
static void
incident_note_id(const char *id)
{
	int day, n;

	if (sscanf(id, "INC-%8d-%d", &day, &n) != 2)
		return;
	if (day > last_day || (day == last_day && n > last_n)) {
		last_day = day;
		last_n = n;
	}
}

static void
incident_next_id(int64_t now, char *buf, size_t len)
{
	struct tm	tm;
	int		day;

	if (time_tm(now, &tm) != 0)	/* no zone: keep the last day */
		memset(&tm, 0, sizeof(tm));
	day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	/* A clock set back past midnight must not reuse an id. */
	if (day < last_day)
		day = last_day;
	snprintf(buf, len, "INC-%08d-%04d", day,
	    day == last_day ? last_n + 1 : 1);
}

static int
json_time(json_t *obj, const char *key, int64_t *ms)
{
	return time_parse(json_string_value(json_object_get(obj, key)), ms);
}

static char *
json_strdup(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? strdup(s) : NULL;
}

/* The timeline keeps what happened, in the words of the records. */
static void
incident_timeline_add(struct incident *inc, const struct audit_record *r,
    json_t *data)
{
	json_t *e;

	e = json_pack("{s:I, s:s, s:s, s:s, s:O}", "seq", (json_int_t)r->seq,
	    "ts", r->ts, "event", r->event, "actor", r->actor, "data", data);
	if (e == NULL || json_array_append_new(inc->timeline, e) != 0)
		log_warnx("incident %s: out of memory for its timeline", inc->id);
	/* Days of retries must not grow it without end: the log has them all. */
	if (json_array_size(inc->timeline) > INCIDENT_TIMELINE_MAX) {
		size_t	 i;
		json_t	*old;

		json_array_foreach(inc->timeline, i, old) {
			const char *ev = json_string_value(json_object_get(old, "event"));

			if (ev != NULL && strcmp(ev, "notify.attempt") == 0) {
				json_array_remove(inc->timeline, i);
				break;
			}
		}
	}
}

/* An incident from its report.received data (also inside a checkpoint). */
static int
incident_create(const char *id, json_t *d, struct incident **out)
{
	struct incident	*inc;
	const char	*key;

	*out = NULL;
	if (id == NULL || strlen(id) >= INCIDENT_ID_MAX || incident_find(id) != NULL)
		return -EINVAL;
	if ((inc = calloc(1, sizeof(*inc))) == NULL)
		return -ENOMEM;
	strcpy(inc->id, id);
	TAILQ_INIT(&inc->deliveries);
	inc->origin = json_incref(d);
	inc->office = json_strdup(d, "office");
	inc->office_name = json_strdup(d, "office_name");
	inc->body_sha256 = json_strdup(d, "body_sha256");
	inc->report = json_incref(json_object_get(d, "report"));
	inc->timeline = json_array();
	inc->late_report = json_is_true(json_object_get(d, "late_report"));
	key = json_string_value(json_object_get(d, "idempotency_key"));
	if (inc->office == NULL || inc->timeline == NULL ||
	    !json_is_object(inc->report) ||
	    json_time(d, "received_at", &inc->received_at) != 0 ||
	    json_time(d, "ack_deadline", &inc->ack_clock.deadline) != 0 ||
	    json_time(d, "report_deadline", &inc->report_clock.deadline) != 0 ||
	    (key != NULL && (inc->idem = idem_join(inc->office, key)) == NULL)) {
		incident_free(inc);
		return -EINVAL;
	}
	inc->state = INCIDENT_OPEN;
	inc->notify_due = NOTIFY_NEW;
	RB_INSERT(incident_ids, &by_id, inc);
	if (inc->idem != NULL)
		RB_INSERT(incident_keys, &by_key, inc);
	TAILQ_INSERT_TAIL(&incidents, inc, entry);
	incident_note_id(inc->id);

	clock_init(&inc->ack_clock.clock, incident_clock_fired, inc);
	clock_init(&inc->report_clock.clock, incident_clock_fired, inc);
	clock_init(&inc->level_clock.clock, incident_clock_fired, inc);
	/* Past deadlines (replay after downtime) fire on the first loop turn. */
	clock_arm(&inc->ack_clock.clock, inc->ack_clock.deadline);
	clock_arm(&inc->report_clock.clock, inc->report_clock.deadline);
	*out = inc;
	return 0;
}

static int
incident_apply_report(const struct audit_record *r)
{
	struct incident	*inc;
	json_t		*summary;
	int		 rc;

	if ((rc = incident_create(r->incident, r->data, &inc)) != 0)
		return rc;
	summary = json_pack("{s:s}", "office", inc->office);
	if (summary != NULL)
		incident_timeline_add(inc, r, summary);
	json_decref(summary);
	return 0;
}

static int
incident_apply_mark(struct incident_mark *m, const struct audit_record *r,
    const char *textkey)
{
	const char *who = r->actor;

	incident_mark_clear(m);
	m->at = r->ts_ms;
	if (strncmp(who, "person:", 7) == 0)
		who += 7;
	m->by = strdup(who);
	m->by_name = json_strdup(r->data, "by_name");
	if (textkey != NULL)
		m->text = json_strdup(r->data, textkey);
	return m->by == NULL ? -ENOMEM : 0;
}

/* The next escalation level, as the record that fired the last one set it. */
static void
incident_arm_level(struct incident *inc, json_t *data)
{
	int64_t at;

	if (json_time(data, "next_level_at", &at) != 0 || inc->ack.at != 0 ||
	    inc->state == INCIDENT_RESOLVED)
		return;
	inc->level_clock.deadline = at;
	inc->level_clock.fired_at = 0;
	clock_arm(&inc->level_clock.clock, at);
}

static int
incident_apply_clock(struct incident_clock *c, const struct audit_record *r)
{
	json_t *late = json_object_get(r->data, "late_ms");

	clock_disarm(&c->clock);
	c->fired_at = r->ts_ms;
	c->late_ms = json_is_integer(late) ? json_integer_value(late) : 0;
	c->failing = 0;
	return 0;
}

/* A follow-up: kept in order beside the original report, which stays as sent. */
static int
incident_apply_update(struct incident *inc, const struct audit_record *r)
{
	char	 at[TIME_RFC3339_MAX];
	json_t	*u;

	if (inc->updates == NULL && (inc->updates = json_array()) == NULL)
		return -ENOMEM;
	u = json_pack("{s:I, s:s, s:s, s:O?, s:O?, s:O?}", "n",
	    (json_int_t)json_array_size(inc->updates) + 1, "at",
	    time_format(r->ts_ms, at, sizeof(at)), "by", r->actor,
	    "key", json_object_get(r->data, "key"),
	    "source", json_object_get(r->data, "source"),
	    "fields", json_object_get(r->data, "fields"));
	/* Told one by one: notify_reconcile() compares with updates_notified. */
	if (u == NULL || json_array_append_new(inc->updates, u) != 0)
		return -ENOMEM;
	return 0;
}

int
incident_apply(const struct audit_record *r)
{
	struct incident	*inc;
	int		 rc = 0;

	if (strcmp(r->event, "report.received") == 0)
		return incident_apply_report(r);
	if (strncmp(r->event, "checkpoint.", 11) == 0)
		return incident_apply_checkpoint(r);
	if (strncmp(r->event, "sms.", 4) == 0 && (rc = sms_apply(r)) != 0)
		return rc;
	if (r->incident == NULL)
		return 0;	/* dutyd.started and other daemon records */
	if (strcmp(r->incident, HANDOVER_DESK) == 0)
		return strncmp(r->event, "notify.", 7) == 0 ?
		    notify_apply(handover_desk(), r) : 0;
	if ((inc = incident_find(r->incident)) == NULL) {
		log_warnx("audit seq %lld (%s) names unknown incident %s; skipped",
		    (long long)r->seq, r->event, r->incident);
		return 0;
	}
	free(inc->json);
	inc->json = NULL;
	if (strncmp(r->event, "notify.", 7) == 0)
		rc = notify_apply(inc, r);
	else if (strcmp(r->event, "incident.acknowledged") == 0) {
		rc = incident_apply_mark(&inc->ack, r, "note");
		if (inc->state == INCIDENT_OPEN)
			inc->state = INCIDENT_ACKNOWLEDGED;
		clock_disarm(&inc->ack_clock.clock);
		clock_disarm(&inc->level_clock.clock);
		inc->notify_due |= NOTIFY_ACKNOWLEDGED;
	} else if (strcmp(r->event, "incident.report_filed") == 0) {
		rc = incident_apply_mark(&inc->filed, r, "reference");
		clock_disarm(&inc->report_clock.clock);
		inc->notify_due |= NOTIFY_FILED;
	} else if (strcmp(r->event, "incident.resolved") == 0) {
		rc = incident_apply_mark(&inc->resolved, r, "note");
		inc->state = INCIDENT_RESOLVED;
		clock_disarm(&inc->ack_clock.clock);
		clock_disarm(&inc->report_clock.clock);
		clock_disarm(&inc->level_clock.clock);
		replycode_release(inc->id);
		inc->notify_due |= NOTIFY_RESOLVED;
	} else if (strcmp(r->event, "incident.escalated") == 0) {
		const char *clk = json_string_value(json_object_get(r->data,
		    "clock"));

		if (clk != NULL && strcmp(clk, "level") == 0) {
			rc = incident_apply_clock(&inc->level_clock, r);
			inc->level = (int)json_integer_value(json_object_get(r->data,
			    "level"));
			json_decref(inc->level_notify);
			inc->level_notify = json_incref(json_object_get(r->data,
			    "notify"));
		} else {
			rc = incident_apply_clock(&inc->ack_clock, r);
			inc->level = 1;
			inc->notify_due |= NOTIFY_ESCALATED;
		}
		incident_arm_level(inc, r->data);
	} else if (strcmp(r->event, "incident.updated") == 0) {
		rc = incident_apply_update(inc, r);
	} else if (strcmp(r->event, "incident.report_overdue") == 0) {
		rc = incident_apply_clock(&inc->report_clock, r);
		inc->notify_due |= NOTIFY_OVERDUE;
	} else
		log_debug("audit seq %lld: %s is not an incident change; kept in "
		    "the timeline only", (long long)r->seq, r->event);
	if (rc == 0)
		incident_timeline_add(inc, r, r->data);
	return rc;
}

/*
 * Actions.
 */

static const char *
person_name(const char *person)
{
	const struct config_person *p = config_person(config_current(), person);

	return p != NULL ? p->name : NULL;
}

int
incident_report(const char *office, const char *idem_key, const json_t *report,
    int64_t occurred_ms, const char *body_sha256, struct incident **out)
{
	struct config			*cfg = config_current();
	const struct config_office	*o = config_office(cfg, office);
	char				 id[INCIDENT_ID_MAX], actor[128];
	char				 rcv[TIME_RFC3339_MAX], ack[TIME_RFC3339_MAX];
	char				 rep[TIME_RFC3339_MAX];
	int64_t				 now = time_now_ms();
	json_t				*data;
	int				 rc;

	*out = NULL;
	if (o == NULL)
		return -ENOENT;
	incident_next_id(now, id, sizeof(id));
	time_format(now, rcv, sizeof(rcv));
	time_format(now + cfg->policy.ack_timeout_ms, ack, sizeof(ack));
	time_format(now + cfg->policy.report_deadline_ms, rep, sizeof(rep));
	data = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s, s:b, s:s?, s:s}",
	    "office", o->id, "office_name", o->name, "report", report,
	    "received_at", rcv, "ack_deadline", ack, "report_deadline", rep,
	    "late_report", now - occurred_ms > cfg->policy.county_deadline_ms,
	    "idempotency_key", idem_key, "body_sha256", body_sha256);
	if (data == NULL)
		return -ENOMEM;
	snprintf(actor, sizeof(actor), "office:%s", o->id);
	if ((rc = audit_append("report.received", id, actor, data, NULL)) != 0)
		return rc;
	if ((*out = incident_find(id)) == NULL)
		return -EIO;	/* on disk but not applied; audit logged it */
	notify_reconcile(*out);
	return 0;
}

static int
incident_act(struct incident *inc, const char *event, const char *person,
    const char *textkey, const char *text)
{
	char	 actor[128];
	json_t	*data;
	int	 rc;

	data = json_pack("{s:s?}", "by_name", person_name(person));
	if (data == NULL || (text != NULL && json_object_set_new(data, textkey,
	    json_string(text)) != 0)) {
		json_decref(data);
		return -ENOMEM;
	}
	snprintf(actor, sizeof(actor), "person:%s", person);
	if ((rc = audit_append(event, inc->id, actor, data, NULL)) != 0)
		return rc;
	notify_reconcile(inc);
	return 0;
}

int
incident_acknowledge(struct incident *inc, const char *person,
    const char *note, int *changed)
{
	*changed = 0;
	if (inc->ack.at != 0 || inc->state == INCIDENT_RESOLVED)
		return 0;
	*changed = 1;
	return incident_act(inc, "incident.acknowledged", person, "note", note);
}

int
incident_file_report(struct incident *inc, const char *person,
    const char *reference, int *changed)
{
	*changed = 0;
	if (inc->filed.at != 0 || inc->state == INCIDENT_RESOLVED)
		return 0;
	*changed = 1;
	return incident_act(inc, "incident.report_filed", person, "reference",
	    reference);
}

int
incident_resolve(struct incident *inc, const char *person, const char *note,
    int *changed)
{
	int rc;

	*changed = 0;
	if (inc->state == INCIDENT_RESOLVED)
		return 0;
	*changed = 1;
	if ((rc = incident_act(inc, "incident.resolved", person, "note",
	    note)) == 0)
		notify_incident_resolved(inc);
	return rc;
}

int
incident_update(struct incident *inc, const char *office, const char *idem_key,
    const json_t *update, int *changed)
{
	const struct config_office *o = config_office(config_current(), office);
	char	 actor[128];
	json_t	*u, *data;
	size_t	 i;
	int	 rc;

	*changed = 0;
	if (strcmp(inc->office, office) != 0)
		return -EPERM;
	if (inc->state == INCIDENT_RESOLVED)
		return -EALREADY;
	json_array_foreach(inc->updates, i, u)
		if (idem_key != NULL && json_is_string(json_object_get(u, "key")) &&
		    strcmp(json_string_value(json_object_get(u, "key")),
		    idem_key) == 0)
			/* A retry, or a different follow-up under a used key. */
			return json_equal(json_object_get(u, "fields"),
			    (json_t *)update) ? 0 : -EEXIST;
	data = json_pack("{s:O, s:s?, s:s?, s:s}", "fields", update, "key",
	    idem_key, "by_name", o != NULL ? o->name : NULL, "source",
	    idem_key != NULL && strncmp(idem_key, "sms:", 4) == 0 ? "sms" :
	    "api");
	if (data == NULL)
		return -ENOMEM;
	*changed = 1;
	snprintf(actor, sizeof(actor), "office:%s", office);
	if ((rc = audit_append("incident.updated", inc->id, actor, data,
	    NULL)) != 0)
		return rc;
	notify_reconcile(inc);
	return 0;
}

/*
 * An escalation's level, whom a level beyond the first calls, and when the
 * next one is due: all in the record, so a later config change or restart
 * does not move a running clock.
 */
static int
incident_level_data(struct incident *inc, struct incident_clock *ic,
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
			json_array_append_new(who, json_string(lv->notify[i]));
	}
	if ((size_t)(level - 1) < pol->nlevels)
		return json_object_set_new(data, "next_level_at",
		    json_string(time_format(ic->deadline +
		    pol->levels[level - 1].after_ms, at, sizeof(at))));
	return 0;
}

/*
 * A deadline passed.  Firing is a record; if it cannot be written (disk
 * full), try again every second: a late escalation beats a lost one.
 */
static void
incident_clock_fired(struct clock *c, void *arg)
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
	} else if (c == &inc->level_clock.clock) {
		ic = &inc->level_clock;
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
	if (inc->state == INCIDENT_RESOLVED || ic->fired_at != 0)
		return;
	data = json_pack("{s:s, s:s, s:I}", "clock", what, "deadline",
	    time_format(ic->deadline, deadline, sizeof(deadline)),
	    "late_ms", (json_int_t)(now - ic->deadline));
	if (data != NULL && ic != &inc->report_clock &&
	    incident_level_data(inc, ic, data) != 0) {
		json_decref(data);
		data = NULL;
	}
	if (data == NULL)
		rc = -ENOMEM;
	else
		rc = audit_append(event, inc->id, "dutyd", data, NULL);
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
	log_info("incident %s: %s deadline passed%s, %s", inc->id, what,
	    now - ic->deadline > 2000 ? " while dutyd was down or stalled" : "",
	    event);
	notify_reconcile(inc);
}

/*
 * Checkpoints and retention
 */

static json_t *
mark_snapshot(const struct incident_mark *m)
{
	char	 at[TIME_RFC3339_MAX];

	if (m->at == 0)
		return json_null();
	return json_pack("{s:s, s:s?, s:s?, s:s?}", "at",
	    time_format(m->at, at, sizeof(at)), "by", m->by, "by_name", m->by_name,
	    "text", m->text);
}

static json_t *
clock_snapshot(const struct incident_clock *c)
{
	char at[TIME_RFC3339_MAX];

	if (c->fired_at == 0)
		return json_pack("{s:n}", "fired_at");
	return json_pack("{s:s, s:I}", "fired_at", time_format(c->fired_at, at,
	    sizeof(at)), "late_ms", (json_int_t)c->late_ms);
}

/* Everything incident_apply() built from the records, as one object. */
static json_t *
incident_snapshot(struct incident *inc)
{
	char next[TIME_RFC3339_MAX];

	return json_pack("{s:O, s:s, s:o, s:o, s:o, s:{s:o, s:o}, s:i, s:i, "
	    "s:O, s:o, s:{s:i, s:i, s:O?, s:s?}, s:o, s:O?, s:i}",
	    "origin", inc->origin,
	    "state", incident_state_name(inc->state),
	    "ack", mark_snapshot(&inc->ack),
	    "filed", mark_snapshot(&inc->filed),
	    "resolved", mark_snapshot(&inc->resolved),
	    "clocks", "ack", clock_snapshot(&inc->ack_clock),
		"report", clock_snapshot(&inc->report_clock),
	    "notify_due", (int)inc->notify_due,
	    "notify_done", (int)inc->notify_done,
	    "timeline", inc->timeline,
	    "deliveries", notify_snapshot(inc),
	    "escalation", "level", inc->level, "notified", inc->level_notified,
		"notify", inc->level_notify, "next_level_at",
		inc->level_clock.fired_at == 0 && inc->level_clock.deadline != 0 ?
		time_format(inc->level_clock.deadline, next, sizeof(next)) : NULL,
	    "reply_codes", replycode_snapshot(inc->id),
	    "updates", inc->updates, "updates_notified", inc->updates_notified);
}

int
incident_checkpoint(int64_t cutoff)
{
	struct incident	*inc;
	json_t		*data;
	int		 n = 0, rc;

	for (inc = incident_first(); inc != NULL; inc = incident_next(inc))
		if (inc->state != INCIDENT_RESOLVED || inc->resolved.at >= cutoff)
			n++;
	data = json_pack("{s:i, s:i, s:i}", "last_day", last_day, "last_n",
	    last_n, "incidents", n);
	if (data == NULL)
		return -ENOMEM;
	if ((rc = audit_append("checkpoint.begin", NULL, "dutyd", data, NULL)) != 0)
		return rc;
	for (inc = incident_first(); inc != NULL; inc = incident_next(inc)) {
		if (inc->state == INCIDENT_RESOLVED && inc->resolved.at < cutoff)
			continue;
		if ((data = incident_snapshot(inc)) == NULL)
			return -ENOMEM;
		if ((rc = audit_append("checkpoint.incident", inc->id, "dutyd", data,
		    NULL)) != 0)
			return rc;
	}
	/* Handover messages and SMS answers still being retried. */
	inc = handover_desk();
	if (!TAILQ_EMPTY(&inc->deliveries)) {
		if ((data = json_pack("{s:o}", "deliveries",
		    notify_snapshot(inc))) == NULL)
			return -ENOMEM;
		if ((rc = audit_append("checkpoint.incident", inc->id, "dutyd",
		    data, NULL)) != 0)
			return rc;
	}
	return audit_append("checkpoint.end", NULL, "dutyd", NULL, NULL);
}

static int
mark_restore(struct incident_mark *m, json_t *o)
{
	incident_mark_clear(m);
	if (!json_is_object(o))
		return 0;
	if (json_time(o, "at", &m->at) != 0)
		return -EINVAL;
	m->by = json_strdup(o, "by");
	m->by_name = json_strdup(o, "by_name");
	m->text = json_strdup(o, "text");
	return m->by == NULL ? -EINVAL : 0;
}

static void
clock_restore(struct incident_clock *c, json_t *o, int stopped)
{
	c->fired_at = 0;
	c->late_ms = json_integer_value(json_object_get(o, "late_ms"));
	json_time(o, "fired_at", &c->fired_at);
	if (c->fired_at != 0 || stopped)
		clock_disarm(&c->clock);
}

/* A checkpointed incident replaces whatever replay had built for it. */
static int
incident_restore(const char *id, json_t *d)
{
	struct incident	*inc;
	json_t		*clocks = json_object_get(d, "clocks"), *tl, *esc;
	const char	*state = json_string_value(json_object_get(d, "state"));
	int		 rc;

	if (strcmp(id, HANDOVER_DESK) == 0) {
		inc = handover_desk();
		notify_incident_free(inc);
		return notify_restore(inc, json_object_get(d, "deliveries"));
	}
	if ((inc = incident_find(id)) != NULL)
		incident_remove(inc);
	if ((rc = incident_create(id, json_object_get(d, "origin"), &inc)) != 0)
		return rc;
	if ((rc = mark_restore(&inc->ack, json_object_get(d, "ack"))) != 0 ||
	    (rc = mark_restore(&inc->filed, json_object_get(d, "filed"))) != 0 ||
	    (rc = mark_restore(&inc->resolved, json_object_get(d, "resolved"))) != 0)
		return rc;
	if (state != NULL && strcmp(state, "resolved") == 0)
		inc->state = INCIDENT_RESOLVED;
	else if (state != NULL && strcmp(state, "acknowledged") == 0)
		inc->state = INCIDENT_ACKNOWLEDGED;
	clock_restore(&inc->ack_clock, json_object_get(clocks, "ack"),
	    inc->ack.at != 0 || inc->state == INCIDENT_RESOLVED);
	clock_restore(&inc->report_clock, json_object_get(clocks, "report"),
	    inc->filed.at != 0 || inc->state == INCIDENT_RESOLVED);
	inc->notify_due = (unsigned)json_integer_value(json_object_get(d,
	    "notify_due"));
	inc->notify_done = (unsigned)json_integer_value(json_object_get(d,
	    "notify_done"));
	esc = json_object_get(d, "escalation");
	inc->level = (int)json_integer_value(json_object_get(esc, "level"));
	inc->level_notified = (int)json_integer_value(json_object_get(esc,
	    "notified"));
	inc->level_notify = json_incref(json_object_get(esc, "notify"));
	incident_arm_level(inc, esc);
	replycode_restore(inc->id, json_object_get(d, "reply_codes"));
	if (json_is_array(tl = json_object_get(d, "updates"))) {
		json_decref(inc->updates);
		if ((inc->updates = json_deep_copy(tl)) == NULL)
			return -ENOMEM;
	}
	inc->updates_notified = (int)json_integer_value(json_object_get(d,
	    "updates_notified"));
	if (json_is_array(tl = json_object_get(d, "timeline"))) {
		/* A copy: the timeline grows, the record must not. */
		json_decref(inc->timeline);
		if ((inc->timeline = json_deep_copy(tl)) == NULL)
			return -ENOMEM;
	}
	return notify_restore(inc, json_object_get(d, "deliveries"));
}

static int
incident_apply_checkpoint(const struct audit_record *r)
{
	json_t *v;

	/* Written live, a checkpoint describes what memory already holds. */
	if (!r->replaying)
		return 0;
	if (strcmp(r->event, "checkpoint.incident") == 0)
		return incident_restore(r->incident, r->data);
	if (strcmp(r->event, "checkpoint.begin") == 0 &&
	    json_is_integer(v = json_object_get(r->data, "last_day"))) {
		int day = (int)json_integer_value(v);
		int n = (int)json_integer_value(json_object_get(r->data, "last_n"));

		if (day > last_day || (day == last_day && n > last_n)) {
			last_day = day;
			last_n = n;
		}
	}
	return 0;
}

void
incident_prune(int64_t cutoff)
{
	struct incident	*inc, *next;
	int		 n = 0;

	for (inc = incident_first(); inc != NULL; inc = next) {
		next = incident_next(inc);
		/* One still telling people it was resolved stays until it has. */
		if (inc->state == INCIDENT_RESOLVED && inc->resolved.at < cutoff &&
		    TAILQ_EMPTY(&inc->deliveries)) {
			incident_remove(inc);
			n++;
		}
	}
	if (n > 0)
		log_info("%d resolved incident(s) past retention unloaded; they "
		    "stay in the audit log", n);
}
