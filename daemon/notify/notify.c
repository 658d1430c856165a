/*
 * Who gets what: intents and the records of deliveries.  See notify.h for
 * the records and delivery.h for a delivery's states; deliver.c does the
 * sending.  Records are applied by notify_apply(), which creates,
 * reschedules and frees deliveries; the live paths only decide and append.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "store/audit.h"
#include "config/channel.h"
#include "config/channel.h"
#include "config/config.h"
#include "notify/delivery.h"
#include "actions/handover.h"
#include "state/incident.h"
#include "base/log.h"
#include "notify/notify.h"
#include "state/replycode.h"
#include "config/roster.h"
#include "parse/smsin.h"
#include "base/timeutil.h"

static struct event		*reconcile_timer;	/* intents that could not be written */
static int			 reconcile_failing;

static const struct {
	enum notify_event	 bit;
	const char		*name;
} notify_events[] = {
	{ NOTIFY_NEW,		"incident.new" },
	{ NOTIFY_ESCALATED,	"incident.escalated" },
	{ NOTIFY_OVERDUE,	"incident.report_overdue" },
	{ NOTIFY_ACKNOWLEDGED,	"incident.acknowledged" },
	{ NOTIFY_FILED,		"incident.report_filed" },
	{ NOTIFY_RESOLVED,	"incident.resolved" },
	{ NOTIFY_HANDOVER,	"duty.handover" },
	{ NOTIFY_UPDATED,	"incident.updated" },
	{ NOTIFY_REPLY,		"sms.reply" },
};
#define NOTIFY_NEVENTS	(sizeof(notify_events) / sizeof(notify_events[0]))

static void notify_reconcile_cb(evutil_socket_t, short, void *);

const char *
notify_event_name(enum notify_event ev)
{
	size_t i;

	for (i = 0; i < NOTIFY_NEVENTS; i++)
		if (notify_events[i].bit == ev)
			return notify_events[i].name;
	return "unknown";
}

enum notify_event
notify_event_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NOTIFY_NEVENTS; i++)
		if (strcmp(notify_events[i].name, name) == 0)
			return notify_events[i].bit;
	return 0;
}

void
notify_init(struct event_base *base)
{
	deliver_init(base);
	reconcile_failing = 0;
	reconcile_timer = evtimer_new(base, notify_reconcile_cb, NULL);
	if (reconcile_timer == NULL)
		fatalx("cannot create the notification retry timer");
}

void
notify_shutdown(void)
{
	if (reconcile_timer != NULL)
		event_free(reconcile_timer);
	reconcile_timer = NULL;
	deliver_shutdown();
	message_shutdown();
}

/*
 * Recipients
 */

/* An SMS contact gets a reply code for INCIDENT: "3A" from that phone acts on it. */
static json_t *
contact_json(const struct config *cfg, const struct config_contact *c,
    const char *incident)
{
	const struct config_channel	*ch = config_channel(cfg, c->channel);
	char				 phone[SMSIN_PHONE_MAX];
	json_t				*o;

	o = json_pack("{s:s, s:s}", "channel", c->channel, "to", c->to);
	if (o == NULL || incident == NULL || ch == NULL || ch->plugin == NULL ||
	    !(channel_plugin_abi(ch->plugin)->flags & DUTYD_PLUGIN_SMS) ||
	    smsin_phone_normalize(c->to, phone, sizeof(phone)) != 0)
		return o;
	json_object_set_new(o, "code", json_integer(replycode_for(phone,
	    incident)));
	return o;
}

int
notify_add_person(json_t *list, json_t *seen, const struct config *cfg,
    const char *id, const char *why, const char *incident)
{
	const struct config_person	*p;
	json_t				*contacts, *r;
	size_t				 i;

	if (json_object_get(seen, id) != NULL)
		return 0;	/* the leader may also be a duty officer: once is enough */
	json_object_set_new(seen, id, json_true());
	if ((p = config_person(cfg, id)) == NULL) {
		log_warnx("person '%s' is on duty but not in people; cannot "
		    "notify them", id);
		return 0;
	}
	/* In order: the first is tried first, the others are fallbacks. */
	contacts = json_array();
	for (i = 0; contacts != NULL && i < p->ncontacts; i++)
		if (json_array_append_new(contacts, contact_json(cfg,
		    &p->contacts[i], incident)) != 0) {
			json_decref(contacts);
			contacts = NULL;
		}
	if (contacts == NULL)
		return -ENOMEM;
	r = json_pack("{s:s, s:s, s:o, s:s}", "person", p->id, "name", p->name,
	    "contacts", contacts, "why", why);
	if (r == NULL || json_array_append_new(list, r) != 0)
		return -ENOMEM;
	return 0;
}

int
notify_direct(const char *channel, const char *to, const char *text)
{
	json_t *data;

	data = json_pack("{s:s, s:[{s:s, s:s, s:[{s:s, s:s}], s:s}], s:i, "
	    "s:{s:s}}", "event", "sms.reply", "recipients", "person", to,
	    "name", to, "contacts", "channel", channel, "to", to, "why",
	    "answer to an inbound SMS", "late_ms", 0, "reply", "text", text);
	if (data == NULL)
		return -ENOMEM;
	return audit_append("notify.intent", handover_desk()->id, "dutyd", data,
	    NULL);
}

static json_t *
slot_json(const struct roster_slot *s)
{
	char start[TIME_RFC3339_MAX], end[TIME_RFC3339_MAX];

	return json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "person", s->person,
	    "role", s->role, "why", s->why,
	    "since", s->start > 0 ? time_format(s->start, start, sizeof(start)) :
	    NULL, "until", s->end > 0 && s->end < INT64_MAX ?
	    time_format(s->end, end, sizeof(end)) : NULL);
}

json_t *
notify_oncall_json(const struct roster_oncall *oc)
{
	json_t	*o, *officers = json_array();
	size_t	 i;

	for (i = 0; officers != NULL && i < oc->nofficers; i++)
		json_array_append_new(officers, slot_json(&oc->officers[i]));
	o = json_pack("{s:o, s:o}", "leader", oc->has_leader ?
	    slot_json(&oc->leader) : json_null(), "officers", officers);
	return o;
}

/*
 * Who hears of an event: the roster of this moment, not of when the
 * incident opened.  Level 1 escalations and overdue reports go up to the
 * leader on duty and duty.escalation; levels beyond call their own list.
 * *on_duty gets who was on duty and why, for the record.
 */
static json_t *
notify_recipients(const struct incident *inc, enum notify_event ev, int level,
    json_t **on_duty)
{
	const struct config	*cfg = config_current();
	const struct config_duty *duty = &cfg->duty;
	struct roster_oncall	 oc;
	json_t			*list = json_array(), *seen = json_object(), *who;
	const char		*codes;
	char			 why[256];
	int			 escalation, officers, rc = 0;
	size_t			 i;

	*on_duty = NULL;
	/* A reply code only where a reply can still act. */
	codes = ev == NOTIFY_NEW || ev == NOTIFY_ESCALATED ||
	    ev == NOTIFY_OVERDUE || ev == NOTIFY_UPDATED ? inc->id : NULL;
	if (list == NULL || seen == NULL ||
	    roster_at(cfg, time_now_ms(), &oc) != 0)
		goto fail;
	if ((*on_duty = notify_oncall_json(&oc)) == NULL)
		goto fail;
	if (level >= 2) {
		json_array_foreach(inc->level_notify, i, who) {
			const char *id = json_string_value(who);

			if (id != NULL && strcmp(id, "leader") == 0 && oc.has_leader) {
				snprintf(why, sizeof(why), "escalation level %d: "
				    "leader on duty (%s)", level, oc.leader.why);
				rc = notify_add_person(list, seen, cfg,
				    oc.leader.person, why, codes);
			} else if (id != NULL && strcmp(id, "leader") != 0) {
				snprintf(why, sizeof(why), "escalation level %d",
				    level);
				rc = notify_add_person(list, seen, cfg, id, why,
				    codes);
			}
			if (rc != 0)
				goto fail;
		}
		json_decref(seen);
		return list;
	}
	/* Escalations go up: the leader and the escalation list. */
	officers = ev != NOTIFY_ESCALATED && ev != NOTIFY_OVERDUE;
	escalation = !officers || inc->ack_clock.fired_at != 0 ||
	    inc->report_clock.fired_at != 0;
	for (i = 0; officers && rc == 0 && i < oc.nofficers; i++) {
		snprintf(why, sizeof(why), "duty officer, %s shift (%s)",
		    oc.officers[i].role, oc.officers[i].why);
		rc = notify_add_person(list, seen, cfg, oc.officers[i].person,
		    why, codes);
	}
	if (rc == 0 && oc.has_leader) {
		snprintf(why, sizeof(why), "leader on duty (%s)", oc.leader.why);
		rc = notify_add_person(list, seen, cfg, oc.leader.person, why,
		    codes);
	}
	for (i = 0; escalation && rc == 0 && i < duty->nescalation; i++)
		rc = notify_add_person(list, seen, cfg, duty->escalation[i],
		    "duty.escalation", codes);
	if (rc != 0)
		goto fail;
	json_decref(seen);
	return list;
fail:
	json_decref(list);
	json_decref(seen);
	json_decref(*on_duty);
	*on_duty = NULL;
	return NULL;
}

/*
 * Intents
 */

/*
 * LEVEL: 0; the escalation level >= 2 this intent is for; or, for
 * NOTIFY_UPDATED, the follow-up's number.
 */
static int
notify_intent(struct incident *inc, enum notify_event ev, int level)
{
	json_t	*data, *recipients, *on_duty;
	int64_t	 late = 0;

	if (ev == NOTIFY_ESCALATED && level >= 2)
		late = inc->level_clock.late_ms;
	else if (ev == NOTIFY_ESCALATED)
		late = inc->ack_clock.late_ms;
	else if (ev == NOTIFY_OVERDUE)
		late = inc->report_clock.late_ms;
	if ((recipients = notify_recipients(inc, ev, ev == NOTIFY_ESCALATED ?
	    level : 0, &on_duty)) == NULL)
		return -ENOMEM;
	if (json_array_size(recipients) == 0)
		log_warnx("incident %s: nobody to notify of %s; check the duty "
		    "roster and people's contacts in the configuration", inc->id,
		    notify_event_name(ev));
	data = json_pack("{s:s, s:o, s:I, s:o}", "event", notify_event_name(ev),
	    "recipients", recipients, "late_ms", (json_int_t)late,
	    "on_duty", on_duty);
	if (data == NULL)
		return -ENOMEM;
	if (ev == NOTIFY_UPDATED)
		json_object_set_new(data, "update", json_integer(level));
	else if (level >= 2)
		json_object_set_new(data, "level", json_integer(level));
	return audit_append("notify.intent", inc->id, "dutyd", data, NULL);
}

static void
notify_reconcile_failed(struct incident *inc, const char *what, int rc)
{
	struct timeval tv = { 1, 0 };

	if (!reconcile_failing)
		log_errorx("incident %s: cannot record who to notify of %s (%s); "
		    "retrying every second", inc->id, what, strerror(-rc));
	reconcile_failing = 1;
	if (reconcile_timer != NULL)
		evtimer_add(reconcile_timer, &tv);
}

void
notify_reconcile(struct incident *inc)
{
	unsigned	 pending = inc->notify_due & ~inc->notify_done;
	size_t		 i;
	int		 rc;

	/* Once resolved, only the resolution is worth telling. */
	if (inc->state == INCIDENT_RESOLVED)
		pending &= NOTIFY_RESOLVED;
	for (i = 0; i < NOTIFY_NEVENTS && pending != 0; i++) {
		if (!(pending & notify_events[i].bit))
			continue;
		if ((rc = notify_intent(inc, notify_events[i].bit, 0)) != 0) {
			notify_reconcile_failed(inc, notify_events[i].name, rc);
			return;
		}
	}
	/* Each escalation level beyond the first is told once; only the latest matters. */
	if (inc->state == INCIDENT_OPEN && inc->level >= 2 &&
	    inc->level_notified < inc->level &&
	    (rc = notify_intent(inc, NOTIFY_ESCALATED, inc->level)) != 0) {
		notify_reconcile_failed(inc, "an escalation level", rc);
		return;
	}
	/* Every follow-up (续报) is told, in order. */
	while (inc->state != INCIDENT_RESOLVED &&
	    inc->updates_notified < (int)json_array_size(inc->updates)) {
		int before = inc->updates_notified;

		if ((rc = notify_intent(inc, NOTIFY_UPDATED,
		    inc->updates_notified + 1)) != 0) {
			notify_reconcile_failed(inc, "a follow-up", rc);
			return;
		}
		if (inc->updates_notified == before)
			return;	/* not applied: do not spin */
	}
}

static void
notify_reconcile_cb(evutil_socket_t fd, short events, void *arg)
{
	struct incident *inc;

	reconcile_failing = 0;
	for (inc = incident_first(); inc != NULL; inc = incident_next(inc)) {
		notify_reconcile(inc);
		if (reconcile_failing)
			return;
	}
	log_info("notifications that could not be recorded are recorded now");
}

/*
 * Deliveries
 */

void
notify_incident_free(struct incident *inc)
{
	while (!TAILQ_EMPTY(&inc->deliveries))
		delivery_free(TAILQ_FIRST(&inc->deliveries));
}

static struct delivery *
delivery_find(struct incident *inc, json_t *data)
{
	struct delivery	*d;
	json_int_t	 intent, index;

	intent = json_integer_value(json_object_get(data, "intent"));
	index = json_integer_value(json_object_get(data, "recipient"));
	TAILQ_FOREACH(d, &inc->deliveries, entry)
		if (d->intent == intent && d->index == index)
			return d;
	return NULL;
}

/*
 * A recipient as an intent or a checkpoint lists it: {person, name,
 * contacts: [{channel, to}...]}, or, as logs before fallback wrote it, one
 * contact as {person, name, channel, to}.
 */
static struct delivery *
delivery_from_json(struct incident *inc, int64_t intent, int index,
    enum notify_event ev, json_t *rcp, int64_t late_ms)
{
	struct delivery	*d;
	json_t		*contacts = json_object_get(rcp, "contacts"), *c;
	char		 phone[SMSIN_PHONE_MAX];
	size_t		 i;
	int		 code;

	d = delivery_new(inc, intent, index, ev,
	    json_string_value(json_object_get(rcp, "person")),
	    json_string_value(json_object_get(rcp, "name")), late_ms);
	if (d == NULL)
		return NULL;
	if (!json_is_array(contacts)) {
		if (delivery_add_contact(d,
		    json_string_value(json_object_get(rcp, "channel")),
		    json_string_value(json_object_get(rcp, "to")), 0) != 0)
			goto fail;
		return d;
	}
	json_array_foreach(contacts, i, c) {
		if (i == DELIVERY_CONTACTS_MAX)
			break;
		code = (int)json_integer_value(json_object_get(c, "code"));
		if (delivery_add_contact(d,
		    json_string_value(json_object_get(c, "channel")),
		    json_string_value(json_object_get(c, "to")), code) != 0)
			goto fail;
		if (code > 0 && smsin_phone_normalize(d->contacts[i].to, phone,
		    sizeof(phone)) == 0)
			replycode_set(phone, code, inc->id);
	}
	return d;
fail:
	delivery_free(d);
	return NULL;
}

static int
notify_apply_intent(struct incident *inc, const struct audit_record *r)
{
	json_t		*recipients, *rcp;
	enum notify_event ev;
	size_t		 i;
	int		 level, update;

	ev = notify_event_parse(json_string_value(json_object_get(r->data,
	    "event")));
	recipients = json_object_get(r->data, "recipients");
	if (ev == 0 || !json_is_array(recipients))
		return -EINVAL;
	level = (int)json_integer_value(json_object_get(r->data, "level"));
	update = (int)json_integer_value(json_object_get(r->data, "update"));
	if (ev == NOTIFY_UPDATED) {
		if (update > inc->updates_notified)
			inc->updates_notified = update;
	} else if (level >= 2) {
		if (level > inc->level_notified)
			inc->level_notified = level;
	} else
		inc->notify_done |= ev;
	json_array_foreach(recipients, i, rcp) {
		struct delivery	*d;

		d = delivery_from_json(inc, r->seq, (int)i, ev, rcp,
		    json_integer_value(json_object_get(r->data, "late_ms")));
		if (d == NULL)
			return -ENOMEM;
		d->level = level;
		d->update = update;
		d->extra = json_incref(json_object_get(r->data, "handover"));
		if (d->extra == NULL)
			d->extra = json_incref(json_object_get(r->data, "reply"));
		if (r->replaying)
			delivery_schedule(d, 0);
		else
			delivery_when_durable(d);
	}
	return 0;
}

static void
notify_apply_attempt(struct delivery *d, const struct audit_record *r)
{
	const char	*outcome;
	json_t		*contact = json_object_get(r->data, "contact");
	int64_t		 next = 0;

	d->attempts = (int)json_integer_value(json_object_get(r->data,
	    "attempt"));
	if (d->first_attempt_at == 0)
		d->first_attempt_at = r->ts_ms;
	if (json_is_integer(contact) && json_integer_value(contact) >= 0 &&
	    (size_t)json_integer_value(contact) < d->ncontacts)
		d->contact = (size_t)json_integer_value(contact);
	if (d->contact_attempts++ == 0)
		d->contact_since = r->ts_ms;
	outcome = json_string_value(json_object_get(r->data, "outcome"));
	if (outcome != NULL && strcmp(outcome, "retry") == 0) {
		time_parse(json_string_value(json_object_get(r->data,
		    "next_attempt_at")), &next);
		delivery_schedule(d, next);
	} else if (outcome != NULL && strcmp(outcome, "rejected") == 0) {
		/* The notify.fallback that follows says where to; now, in any case. */
		d->rejected |= 1u << d->contact;
		delivery_schedule(d, r->replaying ? 0 : r->ts_ms);
	} else
		delivery_free(d);	/* delivered, or failed for good */
}

static void
notify_apply_fallback(struct delivery *d, const struct audit_record *r)
{
	json_int_t next = json_integer_value(json_object_get(r->data, "contact"));

	if (next < 0 || (size_t)next >= d->ncontacts)
		return;
	d->contact = (size_t)next;
	d->contact_attempts = 0;
	d->contact_since = 0;
	delivery_schedule(d, r->replaying ? 0 : r->ts_ms);
}

int
notify_apply(struct incident *inc, const struct audit_record *r)
{
	struct delivery	*d;

	if (strcmp(r->event, "notify.intent") == 0)
		return notify_apply_intent(inc, r);
	if ((d = delivery_find(inc, r->data)) == NULL)
		return 0;	/* already finished: nothing left in memory */
	if (strcmp(r->event, "notify.attempt") == 0)
		notify_apply_attempt(d, r);
	else if (strcmp(r->event, "notify.fallback") == 0)
		notify_apply_fallback(d, r);
	else if (strcmp(r->event, "notify.abandoned") == 0)
		delivery_free(d);
	return 0;
}

json_t *
notify_snapshot(struct incident *inc)
{
	struct delivery	*d;
	json_t		*list = json_array(), *o, *contacts;
	char		 at[TIME_RFC3339_MAX], first[TIME_RFC3339_MAX];
	char		 since[TIME_RFC3339_MAX];
	size_t		 i;

	TAILQ_FOREACH(d, &inc->deliveries, entry) {
		contacts = json_array();
		for (i = 0; contacts != NULL && i < d->ncontacts; i++)
			json_array_append_new(contacts, json_pack("{s:s, s:s, s:i}",
			    "channel", d->contacts[i].channel,
			    "to", d->contacts[i].to, "code", d->contacts[i].code));
		o = json_pack("{s:I, s:i, s:s, s:{s:s, s:s, s:o?}, s:I, s:i, "
		    "s:i, s:i, s:i, s:s?, s:s?, s:s?, s:i}",
		    "intent", (json_int_t)d->intent, "recipient", d->index,
		    "event", notify_event_name(d->event),
		    "to", "person", d->person, "name", d->person_name,
			"contacts", contacts,
		    "late_ms", (json_int_t)d->late_ms, "attempts", d->attempts,
		    "contact", (int)d->contact, "contact_attempts",
		    d->contact_attempts, "rejected", (int)d->rejected,
		    "contact_since", d->contact_since ?
			time_format(d->contact_since, since, sizeof(since)) : NULL,
		    "first_attempt_at", d->first_attempt_at ?
			time_format(d->first_attempt_at, first, sizeof(first)) : NULL,
		    "next_attempt_at", d->state == DELIVERY_SCHEDULED ?
			time_format(d->next_at, at, sizeof(at)) : NULL,
		    "level", d->level);
		if (o != NULL && d->update > 0)
			json_object_set_new(o, "update", json_integer(d->update));
		if (o != NULL && d->extra != NULL)
			json_object_set(o, "handover", d->extra);
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

int
notify_restore(struct incident *inc, json_t *list)
{
	struct delivery	*d;
	json_t		*o;
	size_t		 i;
	int64_t		 next;
	json_int_t	 contact;

	json_array_foreach(list, i, o) {
		d = delivery_from_json(inc,
		    json_integer_value(json_object_get(o, "intent")),
		    (int)json_integer_value(json_object_get(o, "recipient")),
		    notify_event_parse(json_string_value(json_object_get(o, "event"))),
		    json_object_get(o, "to"),
		    json_integer_value(json_object_get(o, "late_ms")));
		if (d == NULL)
			return -ENOMEM;
		d->attempts = (int)json_integer_value(json_object_get(o, "attempts"));
		d->level = (int)json_integer_value(json_object_get(o, "level"));
		d->update = (int)json_integer_value(json_object_get(o, "update"));
		d->extra = json_incref(json_object_get(o, "handover"));
		contact = json_integer_value(json_object_get(o, "contact"));
		if (contact > 0 && (size_t)contact < d->ncontacts)
			d->contact = (size_t)contact;
		d->contact_attempts = (int)json_integer_value(json_object_get(o,
		    "contact_attempts"));
		d->rejected = (unsigned)json_integer_value(json_object_get(o,
		    "rejected"));
		time_parse(json_string_value(json_object_get(o, "contact_since")),
		    &d->contact_since);
		time_parse(json_string_value(json_object_get(o, "first_attempt_at")),
		    &d->first_attempt_at);
		next = 0;
		time_parse(json_string_value(json_object_get(o, "next_attempt_at")),
		    &next);
		delivery_schedule(d, next);
	}
	return 0;
}

void
notify_incident_resolved(struct incident *inc)
{
	struct delivery *d, *next;

	for (d = TAILQ_FIRST(&inc->deliveries); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->event == NOTIFY_RESOLVED || d->state == DELIVERY_RECORDING)
			continue;
		/* A bundle's request speaks for others too: let it finish. */
		if (d->state == DELIVERY_BUNDLED ||
		    (d->state == DELIVERY_INFLIGHT && !TAILQ_EMPTY(&d->bundle)))
			continue;
		delivery_halt(d);
		delivery_abandon(d, "the incident was resolved");
	}
}
