/*
 * incview.c: an incident as the API shows it (GET /api/v1/incidents), and
 * the compact JSON of that every notification and reply shares, cached
 * until the incident changes or a reload may change public_url.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/wreport.h"
#include "base/timeutil.h"

static unsigned	json_gen = 1;	/* bumped to drop every cached JSON */

static int
set_time(json_t *o, const char *key, int64_t ms)
{
	char buf[TIME_RFC3339_MAX];

	if (ms == 0)
		return json_object_set_new(o, key, json_null());
	return json_object_set_new(o, key, json_string(time_format(ms, buf,
	    sizeof(buf))));
}

static json_t *
mark_person(const struct incident_mark *m)
{
	if (m->at == 0)
		return json_null();
	return json_pack("{s:s, s:s?}", "id", m->by, "name", m->by_name);
}

static json_t *
clock_json(const struct incident_clock *c, int stopped)
{
	json_t		*o;
	const char	*state;

	state = c->fired_at != 0 ? "fired" : stopped ? "stopped" : "running";
	o = json_pack("{s:s}", "state", state);
	if (o == NULL)
		return NULL;
	set_time(o, "deadline", c->deadline);
	set_time(o, "fired_at", c->fired_at);
	json_object_set_new(o, "late_by_ms", c->fired_at != 0 ?
	    json_integer(c->late_ms) : json_null());
	return o;
}

/* How the report came: the office over the API or by SMS, or staff took it by phone. */
static const char *
source_of(const struct incident *inc)
{
	const char *key = inc->idem != NULL ? strchr(inc->idem, '\n') : NULL;

	if (inc->source != NULL)
		return inc->source;
	return key != NULL && strncmp(key + 1, "sms:", 4) == 0 ? "sms" : "api";
}

static json_t *
taken_by(const struct incident *inc)
{
	if (inc->taken_by == NULL)
		return json_null();
	return json_pack("{s:s, s:s?}", "id", inc->taken_by, "name",
	    inc->taken_by_name);
}

/* Minutes past policy.county_deadline, as recorded (older logs: as it is now). */
static json_t *
late_by_minutes(const struct incident *inc)
{
	struct config	*cfg = config_current();
	int64_t		 occurred, past;

	if (inc->has_late_minutes)
		return json_integer(inc->late_minutes);
	if (!inc->late_report || cfg == NULL || time_parse(json_string_value(
	    json_object_get(incident_report(inc), "occurred_at")),
	    &occurred) != 0)
		return json_integer(0);
	past = inc->received_at - occurred - cfg->policy.county_deadline_ms;
	return json_integer(past < 60000 ? 1 : past / 60000);
}

/* A duplicate merged into another, or a false report: who closed it, when, why. */
static int
closed_json(const struct incident *inc, json_t *o)
{
	int merged = inc->state == INCIDENT_MERGED;
	int dismissed = inc->state == INCIDENT_DISMISSED;
	int failed = 0;

	failed |= json_object_set_new(o, "merged_into", merged ?
	    json_string(inc->merged_into) : json_null());
	failed |= set_time(o, "merged_at", merged ? inc->closed.at : 0);
	failed |= json_object_set_new(o, "merged_by", merged ?
	    mark_person(&inc->closed) : json_null());
	failed |= json_object_set_new(o, "merge_note", merged &&
	    inc->closed.text != NULL ? json_string(inc->closed.text) :
	    json_null());
	failed |= json_object_set_new(o, "merged_from", inc->merged_from != NULL ?
	    json_incref(inc->merged_from) : json_array());
	failed |= set_time(o, "dismissed_at", dismissed ? inc->closed.at : 0);
	failed |= json_object_set_new(o, "dismissed_by", dismissed ?
	    mark_person(&inc->closed) : json_null());
	failed |= json_object_set_new(o, "dismissal_reason", dismissed &&
	    inc->closed.text != NULL ? json_string(inc->closed.text) :
	    json_null());
	return failed;
}

/* The view; without the report's own fields unless WITH_REPORT. */
static json_t *
incview_build(const struct incident *inc, int with_timeline, int with_report)
{
	struct config	*cfg = config_current();
	json_t		*o, *clocks, *wr;
	char		*url = NULL;
	int		 failed = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	failed |= json_object_set_new(o, "id", json_string(inc->id));
	failed |= json_object_set_new(o, "office", json_string(inc->office));
	failed |= json_object_set_new(o, "office_name",
	    inc->office_name ? json_string(inc->office_name) : json_null());
	failed |= json_object_set_new(o, "state",
	    json_string(incident_state_name(inc->state)));
	/* The report's own fields, as validated. */
	if (with_report)
		failed |= json_object_update(o, incident_report(inc));
	failed |= set_time(o, "received_at", inc->received_at);
	failed |= set_time(o, "ack_deadline", inc->ack_clock.deadline);
	failed |= set_time(o, "report_deadline", inc->report_clock.deadline);
	failed |= json_object_set_new(o, "late_report",
	    json_boolean(inc->late_report));
	failed |= json_object_set_new(o, "late_by_minutes", late_by_minutes(inc));
	failed |= json_object_set_new(o, "source", json_string(source_of(inc)));
	failed |= json_object_set_new(o, "taken_by", taken_by(inc));

	failed |= json_object_set_new(o, "acknowledged",
	    json_boolean(inc->ack.at != 0));
	failed |= set_time(o, "acknowledged_at", inc->ack.at);
	failed |= json_object_set_new(o, "acknowledged_by", mark_person(&inc->ack));
	failed |= json_object_set_new(o, "escalated",
	    json_boolean(inc->ack_clock.fired_at != 0));
	failed |= set_time(o, "escalated_at", inc->ack_clock.fired_at);
	failed |= json_object_set_new(o, "overdue",
	    json_boolean(inc->report_clock.fired_at != 0));
	failed |= set_time(o, "overdue_at", inc->report_clock.fired_at);
	failed |= json_object_set_new(o, "escalation_level",
	    json_integer(inc->level));
	/*
	 * The first report's filing (filed_*), the report being drafted
	 * (number, approved_by) and every report sent (state/wreport.c).
	 */
	wr = json_pack("{s:s?, s:o, s:i, s:s?, s:s?, s:o}", "reference",
	    inc->filed.text, "filed_by", mark_person(&inc->filed), "number",
	    wreport_number(inc->id), "approved_by", wreport_approved_by(inc->id),
	    "via", wreport_last_via(inc->id), "reports",
	    wreport_sent_json(inc->id));
	if (wr != NULL)
		failed |= set_time(wr, "filed_at", inc->filed.at);
	failed |= json_object_set_new(o, "written_report", wr);
	failed |= set_time(o, "resolved_at", inc->resolved.at);
	failed |= json_object_set_new(o, "resolved_by",
	    mark_person(&inc->resolved));
	failed |= closed_json(inc, o);

	clocks = json_pack("{s:o, s:o}",
	    "ack", clock_json(&inc->ack_clock, inc->ack.at != 0 ||
		incident_is_closed(inc)),
	    "report", clock_json(&inc->report_clock, inc->filed.at != 0 ||
		incident_is_closed(inc)));
	if (clocks != NULL && inc->level_clock != NULL &&
	    inc->level_clock->deadline != 0)
		json_object_set_new(clocks, "next_level", clock_json(inc->level_clock,
		    inc->ack.at != 0 || incident_is_closed(inc)));
	failed |= json_object_set_new(o, "clocks", clocks);
	if (cfg != NULL && (url = incview_url(cfg, inc)) != NULL) {
		failed |= json_object_set_new(o, "url", json_string(url));
		free(url);
	}
	failed |= json_object_set_new(o, "updates", inc->updates != NULL ?
	    json_incref(inc->updates) : json_array());
	failed |= json_object_set_new(o, "undeliverable",
	    inc->undeliverable != NULL ? json_incref(inc->undeliverable) :
	    json_array());
	/* Entries are kept as text: the API reads them back as JSON. */
	if (with_timeline)
		failed |= json_object_set_new(o, "timeline",
		    timeline_json(&inc->timeline));
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Fields a report may hold: none is a key of the view around them. */
static int
report_keys_known(const json_t *report)
{
	static const char *const known[] = { "title", "occurred_at", "category",
	    "level", "location", "cause", "measures", "details", "casualties",
	    "reporter", NULL };
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach((json_t *)report, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL)
			return 0;
	}
	return 1;
}

/*
 * Only the incidents whose views were built most recently keep the text:
 * they are the ones being told of and shown.  Kept until its first
 * delivery, the 201's text of every report waiting for one (thousands
 * in a flood) was freed afterwards in holes between the incidents' lasting
 * blocks, where it stayed in RSS.  By id: one gone meanwhile is not found.
 */
#define INCVIEW_KEEP	256
static char	incview_kept[INCVIEW_KEEP][INCIDENT_ID_MAX];
static size_t	incview_kept_next;

static void
incview_keep(struct incident *inc)
{
	char		*id = incview_kept[incview_kept_next];
	struct incident	*old;

	if (id[0] != '\0' && (old = incident_find(id)) != NULL && old != inc) {
		free(old->json);
		old->json = NULL;
	}
	snprintf(id, INCIDENT_ID_MAX, "%s", inc->id);
	incview_kept_next = (incview_kept_next + 1) % INCVIEW_KEEP;
}

/*
 * The view's text with the report's members spliced in from its kept
 * text (jansson's compact dump, as recorded), where they go: before
 * received_at.  What precedes it (id, office,
 * office_name, state) is strings, and in a dump a quote inside a string is
 * escaped, so the first ,"received_at": is that key.  NULL: do it the long
 * way.
 */
static char *
incview_spliced(const struct incident *inc, json_t *o)
{
	static const char	 mark[] = ",\"received_at\":";
	json_t			*v;
	const char		*key, *at;
	char			*dump, *out = NULL;
	const char		*rt;
	size_t			 dl, hl, rl;

	json_object_foreach(o, key, v) {
		if (strcmp(key, "received_at") == 0)
			break;
		if (json_is_object(v) || json_is_array(v))
			return NULL;
	}
	if ((rt = increport_text(&inc->report, &rl)) == NULL || rl <= 2 ||
	    (dump = json_dumps(o, JSON_COMPACT)) == NULL)
		return NULL;
	dl = strlen(dump);
	if ((at = strstr(dump, mark)) != NULL && (out = malloc(dl + rl)) != NULL) {
		hl = (size_t)(at - dump);
		memcpy(out, dump, hl);
		out[hl] = ',';
		memcpy(out + hl + 1, rt + 1, rl - 2);
		memcpy(out + hl + rl - 1, at, dl - hl + 1);
	}
	free(dump);
	return out;
}

json_t *
incview_json(const struct incident *inc, int with_timeline)
{
	return incview_build(inc, with_timeline, 1);
}

const char *
incview_cached(struct incident *inc)
{
	const json_t	*report;
	json_t		*o;

	if (inc->json != NULL && inc->json_gen == json_gen)
		return inc->json;
	free(inc->json);
	inc->json = NULL;
	report = incident_report(inc);
	if (json_object_size(report) > 0 && report_keys_known(report)) {
		/* The view without the report's members, which come from its text. */
		if ((o = incview_build(inc, 0, 0)) != NULL) {
			inc->json = incview_spliced(inc, o);
			json_decref(o);
		}
	}
	if (inc->json == NULL && (o = incview_json(inc, 0)) != NULL) {
		inc->json = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	if (inc->json != NULL) {
		inc->json_gen = json_gen;
		incview_keep(inc);
	}
	return inc->json;
}

void
incview_flush(void)
{
	json_gen++;
}


char *
incview_url(const struct config *cf, const struct incident *inc)
{
	char *url;

	if (asprintf(&url, "%s/api/v1/incidents/%s", cf->public_url,
	    inc->id) == -1)
		return NULL;
	return url;
}

const char *
incview_who(const struct incident_mark *m)
{
	if (m->by_name != NULL)
		return m->by_name;
	return m->by != NULL ? m->by : "他人";
}
