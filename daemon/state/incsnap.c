/*
 * An incident as one JSON object, for a checkpoint part: everything
 * incident_apply() built from the records, which incident_restore() reads
 * back.
 */
#include <string.h>

#include <jansson.h>

#include "base/timeutil.h"
#include "state/incident.h"
#include "state/incsnap.h"

static json_t *
incsnap_mark(const struct incident_mark *m)
{
	char	 at[TIME_RFC3339_MAX];

	if (m->at == 0)
		return json_null();
	return json_pack("{s:s, s:s?, s:s?, s:s?}", "at",
	    time_format(m->at, at, sizeof(at)), "by", m->by, "by_name", m->by_name,
	    "text", m->text);
}

static json_t *
incsnap_clock(const struct incident_clock *c)
{
	char at[TIME_RFC3339_MAX];

	if (c->fired_at == 0)
		return json_pack("{s:n}", "fired_at");
	return json_pack("{s:s, s:I}", "fired_at", time_format(c->fired_at, at,
	    sizeof(at)), "late_ms", (json_int_t)c->late_ms);
}

/*
 * The timeline for a checkpoint: a follow-up's fields are in `updates`
 * already and are not written twice (the entry says `update_n`), and
 * TRIM entries go, the oldest delivery records first.
 */
static json_t *
incsnap_timeline(const struct incident *inc, size_t trim)
{
	json_t		*tl = json_array(), *e, *data;
	const char	*ev;
	size_t		 i, skip = 0;
	int		 n;

	if (tl == NULL)
		return NULL;
	for (i = 0; i < timeline_len(&inc->timeline); i++) {
		ev = timeline_event(&inc->timeline, i);
		if (skip < trim && strncmp(ev, "notify.", 7) == 0) {
			skip++;
			continue;
		}
		if ((e = timeline_entry_json(&inc->timeline, i)) == NULL) {
			json_decref(tl);
			return NULL;
		}
		data = json_object_get(e, "data");
		if (strcmp(ev, "incident.updated") == 0 &&
		    (n = timeline_update_n(&inc->timeline, i)) > 0 &&
		    (json_object_del(data, "fields") != 0 ||
		    json_object_set_new(data, "update_n",
		    json_integer((json_int_t)n)) != 0)) {
			json_decref(e);
			json_decref(tl);
			return NULL;
		}
		if (json_array_append_new(tl, e) != 0) {
			json_decref(tl);
			return NULL;
		}
	}
	return tl;
}

/* Everything incident_apply() built from the records, as one object. */
json_t *
incsnap_incident(const struct incident *inc, size_t trim)
{
	char	 next[TIME_RFC3339_MAX];
	json_t	*o, *told;
	const char *person;

	o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:{s:o, s:o}, s:o*, "
	    "s:{s:i, s:O?, s:s?}, s:O?, s:O*}",
	    "origin", incident_origin(inc),
	    "state", incident_state_name(inc->state),
	    "ack", incsnap_mark(&inc->ack),
	    "filed", incsnap_mark(&inc->filed),
	    "resolved", incsnap_mark(&inc->resolved),
	    "clocks", "ack", incsnap_clock(&inc->ack_clock),
		"report", incsnap_clock(&inc->report_clock),
	    "timeline", incsnap_timeline(inc, trim),
	    "escalation", "level", inc->level, "notify", inc->level_notify,
		"next_level_at",
		inc->level_clock != NULL && inc->level_clock->fired_at == 0 &&
		inc->level_clock->deadline != 0 ? time_format(
		inc->level_clock->deadline, next, sizeof(next)) : NULL,
	    "updates", inc->updates, "undeliverable", inc->undeliverable);
	/* Merges, dismissals, who was told, where the store has the report: only where there are some. */
	if (o == NULL || (inc->closed.at != 0 && json_object_set_new(o, "closed",
	    incsnap_mark(&inc->closed)) != 0) ||
	    (inc->merged_into[0] != '\0' && json_object_set_new(o,
	    "merged_into", json_string(inc->merged_into)) != 0) ||
	    (inc->merged_from != NULL && json_object_set(o, "merged_from",
	    inc->merged_from) != 0) ||
	    (inc->report.seq != 0 && inc->report.data == NULL &&
	    json_object_set_new(o, "origin_line",
	    increport_line(&inc->report)) != 0)) {
		json_decref(o);
		return NULL;
	}
	if (inc->told.ids != NULL) {
		if ((told = json_array()) == NULL ||
		    json_object_set_new(o, "told", told) != 0) {
			json_decref(o);
			return NULL;
		}
		for (person = inctold_next(&inc->told, NULL); person != NULL;
		    person = inctold_next(&inc->told, person))
			if (json_array_append_new(told, json_string(person)) != 0) {
				json_decref(o);
				return NULL;
			}
	}
	return o;
}
