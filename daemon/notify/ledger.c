/*
 * ledger.c: what the notify.* records say about each delivery.  The
 * router hands them here, live and replayed: an intent makes one delivery
 * per recipient (waiting for the intent to be durable before its first
 * attempt), an attempt reschedules it or ends it, a fallback moves it to
 * the next contact, an abandonment ends it.  A delivery with no final
 * record is attempted again after a restart; one with an outcome never is.
 * The live paths (delivery.c) only decide and append.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "notify/delivery.h"
#include "notify/ledger.h"
#include "notify/links.h"
#include "notify/notify.h"
#include "parse/smsin.h"
#include "state/incident.h"
#include "state/replycode.h"
#include "state/router.h"
#include "store/record.h"

static int ledger_apply(const struct record *);

void
ledger_init(void)
{
	router_own(ROUTER_NOTIFY, ledger_apply);
}

/* Every delivery goes (shutdown): transfers in flight are cancelled. */
void
ledger_shutdown(void)
{
	struct notify_subject *s;

	for (s = notify_subject_first(); s != NULL; s = notify_subject_next(s))
		while (!TAILQ_EMPTY(&s->deliveries))
			delivery_free(TAILQ_FIRST(&s->deliveries));
}


static struct delivery *
ledger_find(struct notify_subject *subj, json_t *data)
{
	struct delivery	*d;
	json_int_t	 intent, index;

	intent = json_integer_value(json_object_get(data, "intent"));
	index = json_integer_value(json_object_get(data, "recipient"));
	TAILQ_FOREACH(d, &subj->deliveries, entry)
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
ledger_delivery(struct notify_subject *subj, int64_t intent, int index,
    enum notify_event ev, json_t *rcp, int64_t late_ms)
{
	struct delivery	*d;
	json_t		*contacts = json_object_get(rcp, "contacts"), *c;
	const char	*link;
	char		 phone[SMSIN_PHONE_MAX];
	size_t		 i;
	int		 code;

	d = delivery_new(subj, intent, index, ev,
	    json_string_value(json_object_get(rcp, "person")),
	    json_string_value(json_object_get(rcp, "name")), late_ms);
	if (d == NULL)
		return NULL;
	link = json_string_value(json_object_get(rcp, "link"));
	if (link != NULL && strlen(link) == LINKTOKEN_STUB_LEN)
		memcpy(d->link, link, sizeof(d->link));
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
			replycode_set(phone, code, subj->id, intent);
	}
	return d;
fail:
	delivery_free(d);
	return NULL;
}

/* What the intent's one-tap links do: 'A' (acknowledge) unless it says "link_action". */
static char
ledger_link_action(const json_t *data)
{
	const char *a = json_string_value(json_object_get(data, "link_action"));

	/* 'H': accept the handover the message tells of (actions/handact.c). */
	if (a != NULL && (strcmp(a, "P") == 0 || strcmp(a, "H") == 0))
		return a[0];
	return 'A';
}

/* What a message not about an incident's own facts says, or NULL. */
static json_t *
ledger_extra(json_t *data)
{
	/*
	 * A handover, an SMS reply, who could not be told, the written
	 * report (report.submitted) or its reminder, a directive's
	 * reminder (what it is and how long is left): the first there.
	 */
	static const char *const keys[] = { "handover", "reply",
	    "undeliverable", "report", "reminder", "directive" };
	json_t	*v;
	size_t	 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = json_object_get(data, keys[i])) != NULL)
			return v;
	return NULL;
}

static int
ledger_apply_intent(struct notify_subject *subj, const struct record *r)
{
	json_t		*recipients, *rcp, *extra;
	enum notify_event ev;
	json_int_t	 late_ms;
	size_t		 i;
	int		 level, update;
	char		 action;

	ev = notify_event_parse(json_string_value(json_object_get(r->data,
	    "event")));
	recipients = json_object_get(r->data, "recipients");
	if (ev == 0 || !json_is_array(recipients))
		return -EINVAL;
	level = (int)json_integer_value(json_object_get(r->data, "level"));
	update = (int)json_integer_value(json_object_get(r->data, "update"));
	notify_told(subj, ev, level, update);
	/* The same for every recipient: looked up once, not per delivery. */
	late_ms = json_integer_value(json_object_get(r->data, "late_ms"));
	extra = ledger_extra(r->data);
	action = ledger_link_action(r->data);
	json_array_foreach(recipients, i, rcp) {
		struct delivery	*d;

		d = ledger_delivery(subj, r->seq, (int)i, ev, rcp, late_ms);
		if (d == NULL)
			return -ENOMEM;
		d->level = level;
		d->update = update;
		d->extra = json_incref(extra);
		/* The link a tap acknowledges (or approves, "P") with; without it, a details link. */
		if (d->link[0] != '\0' && links_register(d->link, subj->id,
		    d->person, action) != 0)
			d->link[0] = '\0';
		if (r->replaying)
			delivery_schedule(d, 0);
		else
			delivery_when_durable(d);
	}
	return 0;
}

static void
ledger_apply_attempt(struct delivery *d, const struct record *r)
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
	} else {
		if (outcome != NULL && strcmp(outcome, "delivered") == 0 &&
		    d->event == NOTIFY_NEW)
			d->subj->new_delivered = 1;
		delivery_free(d);	/* delivered, or failed for good */
	}
}

static void
ledger_apply_fallback(struct delivery *d, const struct record *r)
{
	json_int_t next = json_integer_value(json_object_get(r->data, "contact"));

	if (next < 0 || (size_t)next >= d->ncontacts)
		return;
	d->contact = (size_t)next;
	d->contact_attempts = 0;
	d->contact_since = 0;
	delivery_schedule(d, r->replaying ? 0 : r->ts_ms);
}

static int
ledger_apply(const struct record *r)
{
	struct notify_subject	*subj;
	struct delivery		*d;

	/* An incident no longer loaded (past retention) has nobody left to tell. */
	if (r->incident == NULL || (strcmp(r->incident, NOTIFY_DESK) != 0 &&
	    incident_find(r->incident) == NULL)) {
		/* Inside a replayed checkpoint, its part comes later. */
		if (!router_restoring())
			log_warnx("audit seq %lld (%s) names unknown incident %s; "
			    "skipped", (long long)r->seq, r->event,
			    r->incident ? r->incident : "-");
		return 0;
	}
	if (strcmp(r->event, "notify.intent") == 0) {
		if ((subj = notify_subject(r->incident, 1)) == NULL)
			return -ENOMEM;
		return ledger_apply_intent(subj, r);
	}
	if ((subj = notify_subject(r->incident, 0)) == NULL ||
	    (d = ledger_find(subj, r->data)) == NULL)
		return 0;	/* already finished: nothing left in memory */
	if (strcmp(r->event, "notify.attempt") == 0)
		ledger_apply_attempt(d, r);
	else if (strcmp(r->event, "notify.fallback") == 0)
		ledger_apply_fallback(d, r);
	else if (strcmp(r->event, "notify.abandoned") == 0)
		delivery_free(d);
	return 0;
}

static json_t *
ledger_deliveries(struct notify_subject *subj)
{
	struct delivery	*d;
	json_t		*list = json_array(), *o, *contacts;
	char		 at[TIME_RFC3339_MAX], first[TIME_RFC3339_MAX];
	char		 since[TIME_RFC3339_MAX];
	size_t		 i;

	if (list == NULL)
		return NULL;
	TAILQ_FOREACH(d, &subj->deliveries, entry) {
		contacts = json_array();
		for (i = 0; contacts != NULL && i < d->ncontacts; i++)
			if (json_array_append_new(contacts, json_pack("{s:s, s:s, "
			    "s:i}", "channel", d->contacts[i].channel,
			    "to", d->contacts[i].to, "code",
			    d->contacts[i].code)) != 0) {
				json_decref(contacts);
				contacts = NULL;
			}
		o = json_pack("{s:I, s:i, s:s, s:{s:s, s:s, s:o, s:s*}, s:I, s:i, "
		    "s:i, s:i, s:i, s:s?, s:s?, s:s?, s:i}",
		    "intent", (json_int_t)d->intent, "recipient", d->index,
		    "event", notify_event_name(d->event),
		    "to", "person", d->person, "name", d->person_name,
			"contacts", contacts,
			"link", d->link[0] != '\0' ? d->link : NULL,
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
		if (o != NULL && ((d->update > 0 && json_object_set_new(o, "update",
		    json_integer(d->update)) != 0) || (d->extra != NULL &&
		    json_object_set(o, "handover", d->extra) != 0))) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static int
ledger_deliveries_restore(struct notify_subject *subj, json_t *list)
{
	struct delivery	*d;
	json_t		*o;
	size_t		 i;
	int64_t		 next;
	json_int_t	 contact;

	json_array_foreach(list, i, o) {
		d = ledger_delivery(subj,
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


int
ledger_snapshot(const char *id, json_t *o)
{
	struct notify_subject	*subj = notify_subject(id, 0);
	json_t			*list;

	list = subj != NULL ? ledger_deliveries(subj) : json_array();
	if (list == NULL || json_object_set_new(o, "deliveries", list) != 0)
		return -ENOMEM;
	return 0;
}

int
ledger_restore(const char *id, json_t *o)
{
	struct notify_subject *subj;

	if ((subj = notify_subject(id, 1)) == NULL)
		return -ENOMEM;
	while (!TAILQ_EMPTY(&subj->deliveries))
		delivery_free(TAILQ_FIRST(&subj->deliveries));
	return ledger_deliveries_restore(subj, json_object_get(o, "deliveries"));
}
