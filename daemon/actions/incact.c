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
#include "base/log.h"
#include "base/metrics.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "notify/delivery.h"
#include "notify/notify.h"
#include "state/incident.h"
#include "store/store.h"

static const char *
incact_person_name(const char *person)
{
	const struct config_person *p = config_person(config_current(), person);

	return p != NULL ? p->name : NULL;
}

int
incact_report(const char *office, const char *idem_key, const json_t *report,
    int64_t occurred_ms, const char *body_sha256, struct incident **out)
{
	struct config			*cfg = config_current();
	const struct config_office	*o = config_office(cfg, office);
	char				 id[INCIDENT_ID_MAX], actor[128];
	char				 rcv[TIME_RFC3339_MAX], ack[TIME_RFC3339_MAX];
	char				 rep[TIME_RFC3339_MAX];
	int64_t				 now = time_now_ms();
	json_t				*data;
	int				 rc, late;

	*out = NULL;
	if (o == NULL)
		return -ENOENT;
	incident_new_id(now, id, sizeof(id));
	time_format(now, rcv, sizeof(rcv));
	time_format(now + cfg->policy.ack_timeout_ms, ack, sizeof(ack));
	time_format(now + cfg->policy.report_deadline_ms, rep, sizeof(rep));
	data = json_pack("{s:s, s:s, s:O, s:s, s:s, s:s, s:b, s:s?, s:s}",
	    "office", o->id, "office_name", o->name, "report", report,
	    "received_at", rcv, "ack_deadline", ack, "report_deadline", rep,
	    "late_report", (late = now - occurred_ms >
	    cfg->policy.county_deadline_ms),
	    "idempotency_key", idem_key, "body_sha256", body_sha256);
	if (data == NULL)
		return -ENOMEM;
	snprintf(actor, sizeof(actor), "office:%s", o->id);
	if ((rc = store_append("report.received", id, actor, data, NULL)) != 0)
		return rc;
	metrics_count(METRICS_REPORTS, o->id, late ? "true" : "false");
	if ((*out = incident_find(id)) == NULL)
		return -EIO;	/* on disk but not applied; the store logged it */
	notify_reconcile(*out);
	return 0;
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
	snprintf(actor, sizeof(actor), "person:%s", person);
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
	if (inc->ack.at != 0 || inc->state == INCIDENT_RESOLVED)
		return 0;
	*changed = 1;
	return incact_mark(inc, "incident.acknowledged", person, "note", note);
}

int
incact_file_report(struct incident *inc, const char *person,
    const char *reference, int *changed)
{
	*changed = 0;
	if (inc->filed.at != 0 || inc->state == INCIDENT_RESOLVED)
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
	if (inc->state == INCIDENT_RESOLVED)
		return 0;
	*changed = 1;
	if ((rc = incact_mark(inc, "incident.resolved", person, "note",
	    note)) == 0)
		delivery_incident_resolved(inc);
	return rc;
}

int
incact_update(struct incident *inc, const char *office, const char *idem_key,
    const json_t *update, int *changed)
{
	const struct config_office *o = config_office(config_current(), office);
	char	 actor[128];
	json_t	*u, *data;
	size_t	 i, size;
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
	/* An incident's follow-ups must fit one checkpoint line. */
	if (json_array_size(inc->updates) >= INCIDENT_UPDATES_MAX)
		return -EMLINK;
	size = json_dumpb(update, NULL, 0, JSON_COMPACT);
	if (inc->updates_bytes + size > INCIDENT_UPDATES_BYTES_MAX)
		return -EFBIG;
	data = json_pack("{s:O, s:s?, s:s?, s:s}", "fields", update, "key",
	    idem_key, "by_name", o != NULL ? o->name : NULL, "source",
	    idem_key != NULL && strncmp(idem_key, "sms:", 4) == 0 ? "sms" :
	    "api");
	if (data == NULL)
		return -ENOMEM;
	*changed = 1;
	snprintf(actor, sizeof(actor), "office:%s", office);
	if ((rc = store_append("incident.updated", inc->id, actor, data,
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
	notify_reconcile(inc);
}
