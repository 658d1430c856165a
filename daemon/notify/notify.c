/*
 * Who gets what: the events worth telling, whom the roster of the moment
 * names for each, and the notify.intent records that say so.  What was
 * told is kept per subject (an incident, or the duty desk), so each event
 * is told once; ledger.c applies the records, delivery.c does the sending.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/jintern.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/channel.h"
#include "config/config.h"
#include "config/roster.h"
#include "notify/links.h"
#include "notify/notify.h"
#include "parse/smsin.h"
#include "state/incident.h"
#include "state/replycode.h"
#include "store/store.h"

RB_HEAD(notify_subjects, notify_subject);

static struct notify_subjects	 subjects = RB_INITIALIZER(&subjects);
static struct clock		 reconcile_clock;	/* intents that could not be written */
static int			 reconcile_failing;

static int
notify_subject_cmp(struct notify_subject *a, struct notify_subject *b)
{
	return strcmp(a->id, b->id);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(notify_subjects, notify_subject, entry, notify_subject_cmp)

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
	{ NOTIFY_UNDELIVERABLE,	"notify.undeliverable" },
	{ NOTIFY_MERGED,	"incident.merged" },
	{ NOTIFY_DISMISSED,	"incident.dismissed" },
	{ NOTIFY_REPORT_SUBMITTED, "report.submitted" },
	{ NOTIFY_REPORT_REMINDER, "report.reminder" },
	{ NOTIFY_APPROVAL_REQUESTED, "report.approval_requested" },
	{ NOTIFY_DIRECTIVE_REMINDER, "directive.reminder" },
	{ NOTIFY_DIRECTIVE_OVERDUE, "directive.overdue" },
	{ NOTIFY_ACCEPT_OVERDUE, "duty.accept_overdue" },
};
#define NOTIFY_NEVENTS	(sizeof(notify_events) / sizeof(notify_events[0]))

static void notify_reconcile_cb(struct clock *, void *);
static void notify_oncall_forget(void);

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
notify_init(void)
{
	reconcile_failing = 0;
	clock_init(&reconcile_clock, notify_reconcile_cb, NULL);
}

/*
 * The subject found last: an action's reconcile, its intent's apply and
 * the deliveries ask for the same one in turn (a walk of the tree is some
 * twenty strcmp()s of ids alike for their first twelve bytes).
 */
static struct notify_subject	*subject_last;
/* A new subject's node, taken by RB_INSERT() only when there is none: one walk, not two. */
static struct notify_subject	*subject_spare;

struct notify_subject *
notify_subject(const char *id, int create)
{
	struct notify_subject key, *s;

	if (id == NULL || strlen(id) >= sizeof(key.id))
		return NULL;
	if (subject_last != NULL && strcmp(subject_last->id, id) == 0)
		return subject_last;
	if (!create) {
		strcpy(key.id, id);
		if ((s = RB_FIND(notify_subjects, &subjects, &key)) != NULL)
			subject_last = s;
		return s;
	}
	if (subject_spare == NULL &&
	    (subject_spare = calloc(1, sizeof(*subject_spare))) == NULL)
		return NULL;
	strcpy(subject_spare->id, id);
	/* RB_INSERT() gives back the one already there, and then inserts nothing. */
	if ((s = RB_INSERT(notify_subjects, &subjects, subject_spare)) == NULL) {
		s = subject_spare;
		subject_spare = NULL;
		TAILQ_INIT(&s->deliveries);
	}
	return subject_last = s;
}

struct notify_subject *
notify_subject_first(void)
{
	return RB_MIN(notify_subjects, &subjects);
}

struct notify_subject *
notify_subject_next(struct notify_subject *s)
{
	return RB_NEXT(notify_subjects, &subjects, s);
}

/* Only once its deliveries are gone (ledger_shutdown(), or done). */
static void
notify_subject_free(struct notify_subject *s)
{
	RB_REMOVE(notify_subjects, &subjects, s);
	if (subject_last == s)
		subject_last = NULL;
	free(s);
}

void
notify_shutdown(void)
{
	clock_free(&reconcile_clock);
	notify_oncall_forget();
	while (!RB_EMPTY(&subjects))
		notify_subject_free(RB_MIN(notify_subjects, &subjects));
	free(subject_spare);
	subject_spare = NULL;
}

void
notify_told(struct notify_subject *subj, enum notify_event ev, int level,
    int update)
{
	if (ev == NOTIFY_UPDATED) {
		if (update > subj->updates_notified)
			subj->updates_notified = update;
	} else if (level >= 2) {
		if (level > subj->level_notified)
			subj->level_notified = level;
	} else
		subj->done |= ev;
}

int
notify_busy(const char *id)
{
	struct notify_subject *s = notify_subject(id, 0);

	return s != NULL && !TAILQ_EMPTY(&s->deliveries);
}

void
notify_prune(void)
{
	struct notify_subject *s, *next;

	for (s = RB_MIN(notify_subjects, &subjects); s != NULL; s = next) {
		next = RB_NEXT(notify_subjects, &subjects, s);
		if (TAILQ_EMPTY(&s->deliveries) && strcmp(s->id, NOTIFY_DESK) != 0 &&
		    incident_find(s->id) == NULL)
			notify_subject_free(s);
	}
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

	o = json_pack("{s:o, s:o}", "channel", jintern_str(c->channel), "to",
	    jintern_str(c->to));
	if (o == NULL || incident == NULL || ch == NULL || ch->plugin == NULL ||
	    !(channel_plugin_abi(ch->plugin)->flags & DUTYD_PLUGIN_SMS) ||
	    smsin_phone_normalize(c->to, phone, sizeof(phone)) != 0)
		return o;
	json_object_set_new(o, "code", json_integer(replycode_for(phone,
	    incident)));
	return o;
}

/* The rank of a level, I most severe: 1..4; 0 when it has none. */
static int
notify_level_rank(const char *level)
{
	static const char *const ranks[] = { "I", "II", "III", "IV" };
	size_t i;

	for (i = 0; level != NULL && i < 4; i++)
		if (strcmp(level, ranks[i]) == 0)
			return (int)i + 1;
	return 0;
}

/*
 * Every intent's recipients and on-duty snapshot stay in memory with the
 * incident's timeline: the same contact list, the same people on duty,
 * shared by every intent that says the same (they are never changed once
 * recorded).  The key names all they say; one too long is not shared.
 */
static int
notify_key_add(char *key, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n + 2 > size - *len)
		return -1;
	memcpy(key + *len, s, n);
	key[*len + n] = '\n';
	key[*len + n + 1] = '\0';
	*len += n + 1;
	return 0;
}

/* CONTACTS (stolen) as a shared list when none carries a reply code. */
static json_t *
notify_contacts_shared(const struct config_person *p, json_t *contacts)
{
	char	 key[1024];
	size_t	 len = 0, i;
	json_t	*c, *shared;

	if (notify_key_add(key, sizeof(key), &len, "contacts") != 0 ||
	    notify_key_add(key, sizeof(key), &len, p->id) != 0)
		return contacts;
	json_array_foreach(contacts, i, c) {
		if (json_object_get(c, "code") != NULL ||
		    notify_key_add(key, sizeof(key), &len, json_string_value(
		    json_object_get(c, "channel"))) != 0 ||
		    notify_key_add(key, sizeof(key), &len, json_string_value(
		    json_object_get(c, "to"))) != 0)
			return contacts;
	}
	if ((shared = jintern_tree_get(key)) != NULL) {
		json_decref(contacts);
		return shared;
	}
	jintern_tree_put(key, contacts);
	return contacts;
}

/* Whether min_level keeps ID from hearing of it: then their why need not be written. */
static int
notify_held_back(const struct config *cfg, const char *id,
    const struct notify_ask *ask)
{
	const struct config_person *p;

	if (ask == NULL || !ask->filter || (p = config_person(cfg, id)) == NULL)
		return 0;
	return p->min_level > 0 && notify_level_rank(ask->level) > p->min_level;
}

int
notify_add_person(json_t *list, json_t *seen, const struct config *cfg,
    const char *id, const char *why, const struct notify_ask *ask)
{
	const struct config_person	*p;
	json_t				*contacts, *r;
	char				 stub[LINKTOKEN_STUB_LEN + 1];
	size_t				 i;
	int				 rank;

	if (json_object_get(seen, id) != NULL)
		return 0;	/* the leader may also be a duty officer: once is enough */
	if ((p = config_person(cfg, id)) == NULL) {
		json_object_set_new(seen, id, json_true());
		log_warnx("person '%s' is on duty but not in people; cannot "
		    "notify them", id);
		return 0;
	}
	/* min_level: a new incident below it is not theirs (unknown levels are). */
	if (ask != NULL && ask->filter && p->min_level > 0 &&
	    (rank = notify_level_rank(ask->level)) > p->min_level)
		return 0;
	json_object_set_new(seen, id, json_true());
	/* In order: the first is tried first, the others are fallbacks. */
	contacts = json_array();
	for (i = 0; contacts != NULL && i < p->ncontacts; i++)
		if (json_array_append_new(contacts, contact_json(cfg,
		    &p->contacts[i], ask != NULL ? ask->codes : NULL)) != 0) {
			json_decref(contacts);
			contacts = NULL;
		}
	if (contacts == NULL)
		return -ENOMEM;
	contacts = notify_contacts_shared(p, contacts);
	r = json_pack("{s:o, s:o, s:o, s:o}", "person", jintern_str(p->id),
	    "name", jintern_str(p->name), "contacts", contacts, "why",
	    jintern_str(why));
	/* Their own one-tap link, when a tap can still acknowledge. */
	if (r != NULL && ask != NULL && ask->link &&
	    (links_stub(time_now_ms() + cfg->links.ttl_ms, stub) != 0 ||
	    json_object_set_new(r, "link", json_string(stub)) != 0)) {
		json_decref(r);
		r = NULL;
	}
	if (r == NULL || json_array_append_new(list, r) != 0)
		return -ENOMEM;
	return 0;
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
 * The last snapshot made, by its key: every intent until the roster
 * changes says the same, so it is neither looked up again nor dumped
 * again (its text goes into each intent's line as it is).
 */
static struct {
	char	*key;
	json_t	*tree;
	char	*text;		/* its compact dump, made when first asked */
	size_t	 len;
} oncall_last;

static void
notify_oncall_forget(void)
{
	free(oncall_last.key);
	json_decref(oncall_last.tree);
	free(oncall_last.text);
	memset(&oncall_last, 0, sizeof(oncall_last));
}

static void
notify_oncall_remember(const char *key, json_t *o)
{
	char *k = strdup(key);

	notify_oncall_forget();
	if (k == NULL)
		return;		/* not remembered: looked up again next time */
	oncall_last.key = k;
	oncall_last.tree = json_incref(o);
}

json_t *
notify_oncall_shared(const struct roster_oncall *oc)
{
	const struct roster_slot *sl;
	char		 key[2048], num[TIME_RFC3339_MAX], until[TIME_RFC3339_MAX];
	size_t		 len = 0, i;
	json_t		*o;

	for (i = 0; i <= oc->nofficers; i++) {
		sl = i < oc->nofficers ? &oc->officers[i] :
		    oc->has_leader ? &oc->leader : NULL;
		/* As slot_json() writes them: in the zone of this config. */
		if (sl != NULL && sl->start > 0)
			time_format(sl->start, num, sizeof(num));
		else
			num[0] = '\0';
		if (sl != NULL && sl->end > 0 && sl->end < INT64_MAX)
			time_format(sl->end, until, sizeof(until));
		else
			until[0] = '\0';
		if (notify_key_add(key, sizeof(key), &len, i == 0 ? "on_duty" :
		    "") != 0 || (sl != NULL && (notify_key_add(key, sizeof(key),
		    &len, sl->person) != 0 || notify_key_add(key, sizeof(key),
		    &len, sl->role) != 0 || notify_key_add(key, sizeof(key),
		    &len, sl->why) != 0)) || notify_key_add(key, sizeof(key),
		    &len, num) != 0 || notify_key_add(key, sizeof(key), &len,
		    until) != 0)
			return notify_oncall_json(oc);
	}
	if (oncall_last.key != NULL && strcmp(oncall_last.key, key) == 0)
		return json_incref(oncall_last.tree);
	if ((o = jintern_tree_get(key)) == NULL &&
	    (o = notify_oncall_json(oc)) != NULL)
		jintern_tree_put(key, o);
	if (o != NULL)
		notify_oncall_remember(key, o);
	return o;
}

const char *
notify_oncall_text(const json_t *o, size_t *len)
{
	if (o == NULL || o != oncall_last.tree)
		return NULL;
	if (oncall_last.text == NULL && (oncall_last.text =
	    json_dumps(o, JSON_COMPACT)) != NULL)
		oncall_last.len = strlen(oncall_last.text);
	*len = oncall_last.len;
	return oncall_last.text;
}

int
notify_add_named(json_t *list, json_t *seen, const struct config *cfg,
    const struct roster_oncall *oc, const char *id, const char *why,
    const struct notify_ask *ask)
{
	char	 w[512];
	size_t	 i;
	int	 rc = 0;

	if (strcmp(id, "leader") == 0) {
		if (!oc->has_leader)
			return 0;
		snprintf(w, sizeof(w), "%s: leader on duty (%s)", why,
		    oc->leader.why);
		return notify_add_person(list, seen, cfg, oc->leader.person, w, ask);
	}
	if (strcmp(id, "officers") == 0) {
		for (i = 0; rc == 0 && i < oc->nofficers; i++) {
			snprintf(w, sizeof(w), "%s: duty officer, %s shift (%s)",
			    why, oc->officers[i].role, oc->officers[i].why);
			rc = notify_add_person(list, seen, cfg,
			    oc->officers[i].person, w, ask);
		}
		return rc;
	}
	return notify_add_person(list, seen, cfg, id, why, ask);
}

/*
 * Who hears of an event: the roster of this moment, not of when the
 * incident opened.  The duty officers on duty hear of everything (they
 * write the report); the leader on duty too; escalations and overdue
 * reports also reach duty.escalation, and levels beyond the first call
 * the officers and their own list (roles or people).  *on_duty gets who was on duty and why, for the record.
 */
static json_t *
notify_recipients(const struct incident *inc, enum notify_event ev, int level,
    json_t **on_duty)
{
	const struct config	*cfg = config_current();
	const struct config_duty *duty = &cfg->duty;
	struct roster_oncall	 oc;
	struct notify_ask	 ask;
	json_t			*list = json_array(), *seen = json_object(), *who;
	char			 why[256];
	int			 escalation, rc = 0;
	size_t			 i;

	*on_duty = NULL;
	memset(&ask, 0, sizeof(ask));
	/* A reply code and a one-tap link only where they can still act. */
	if (ev == NOTIFY_NEW || ev == NOTIFY_ESCALATED || ev == NOTIFY_OVERDUE ||
	    ev == NOTIFY_UPDATED) {
		ask.codes = inc->id;
		ask.link = inc->state == INCIDENT_OPEN;
	}
	/* min_level holds back news of an incident, never an alarm. */
	ask.filter = ev == NOTIFY_NEW;
	ask.level = json_string_value(incident_fact(inc, "level", NULL));
	if (list == NULL || seen == NULL ||
	    roster_at(cfg, time_now_ms(), &oc) != 0)
		goto fail;
	if ((*on_duty = notify_oncall_shared(&oc)) == NULL)
		goto fail;
	for (i = 0; rc == 0 && i < oc.nofficers; i++) {
		if (notify_held_back(cfg, oc.officers[i].person, &ask))
			continue;
		snprintf(why, sizeof(why), "duty officer, %s shift (%s)",
		    oc.officers[i].role, oc.officers[i].why);
		rc = notify_add_person(list, seen, cfg, oc.officers[i].person,
		    why, &ask);
	}
	if (rc == 0 && level >= 2) {
		snprintf(why, sizeof(why), "escalation level %d", level);
		json_array_foreach(inc->level_notify, i, who)
			if (json_is_string(who) && (rc = notify_add_named(list,
			    seen, cfg, &oc, json_string_value(who), why,
			    &ask)) != 0)
				goto fail;
		json_decref(seen);
		return list;
	}
	escalation = ev == NOTIFY_ESCALATED || ev == NOTIFY_OVERDUE ||
	    inc->ack_clock.fired_at != 0 || inc->report_clock.fired_at != 0;
	if (rc == 0 && oc.has_leader &&
	    !notify_held_back(cfg, oc.leader.person, &ask)) {
		snprintf(why, sizeof(why), "leader on duty (%s)", oc.leader.why);
		rc = notify_add_person(list, seen, cfg, oc.leader.person, why,
		    &ask);
	}
	for (i = 0; escalation && rc == 0 && i < duty->nescalation; i++)
		rc = notify_add_person(list, seen, cfg, duty->escalation[i],
		    "duty.escalation", &ask);
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

/* A merge or a dismissal goes to whoever was told of the incident before. */
static json_t *
notify_recipients_told(const struct incident *inc, json_t **on_duty)
{
	const struct config	*cfg = config_current();
	struct roster_oncall	 oc;
	json_t			*list = json_array(), *seen = json_object();
	const char		*person;

	*on_duty = NULL;
	if (list == NULL || seen == NULL ||
	    roster_at(cfg, time_now_ms(), &oc) != 0 ||
	    (*on_duty = notify_oncall_shared(&oc)) == NULL)
		goto fail;
	for (person = inctold_next(&inc->told, NULL); person != NULL;
	    person = inctold_next(&inc->told, person))
		if (notify_add_person(list, seen, cfg, person,
		    "told of this incident before", NULL) != 0)
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
	json_t		*data, *recipients, *on_duty;
	const char	*text;
	size_t		 len;
	int64_t		 late = 0;
	int		 rc;

	if (ev == NOTIFY_ESCALATED && level >= 2)
		late = inc->level_clock != NULL ? inc->level_clock->late_ms : 0;
	else if (ev == NOTIFY_ESCALATED)
		late = inc->ack_clock.late_ms;
	else if (ev == NOTIFY_OVERDUE)
		late = inc->report_clock.late_ms;
	if (ev == NOTIFY_MERGED || ev == NOTIFY_DISMISSED)
		recipients = notify_recipients_told(inc, &on_duty);
	else
		recipients = notify_recipients(inc, ev, ev == NOTIFY_ESCALATED ?
		    level : 0, &on_duty);
	if (recipients == NULL)
		return -ENOMEM;
	if (json_array_size(recipients) == 0 && ev != NOTIFY_MERGED &&
	    ev != NOTIFY_DISMISSED)
		log_warnx("incident %s: nobody to notify of %s; check the duty "
		    "roster and people's contacts in the configuration", inc->id,
		    notify_event_name(ev));
	if ((data = json_object()) == NULL) {
		json_decref(recipients);
		json_decref(on_duty);
		return -ENOMEM;
	}
	/* json_pack()'s members in its order, without its reading a format. */
	rc = json_object_set_new_nocheck(data, "event",
	    jintern_str(notify_event_name(ev)));
	rc |= json_object_set_new_nocheck(data, "recipients", recipients);
	rc |= json_object_set_new_nocheck(data, "late_ms", jintern_int(late));
	rc |= json_object_set_new_nocheck(data, "on_duty", on_duty);
	if (rc != 0 || (ev == NOTIFY_UPDATED && json_object_set_new(data,
	    "update", json_integer(level)) != 0) || (ev != NOTIFY_UPDATED &&
	    level >= 2 && json_object_set_new(data, "level",
	    json_integer(level)) != 0)) {
		json_decref(data);
		return -ENOMEM;
	}
	/* The snapshot's text as dumped once, not dumped again in every line. */
	if ((text = notify_oncall_text(on_duty, &len)) != NULL)
		return store_append_spliced("notify.intent", inc->id, "dutyd",
		    data, "on_duty", text, len, NULL);
	return store_append("notify.intent", inc->id, "dutyd", data, NULL);
}

int
notify_undeliverable(struct incident *inc, int64_t intent, int index,
    enum notify_event ev, const char *person, const char *name,
    const char *reason)
{
	const struct config	*cfg = config_current();
	struct roster_oncall	 oc;
	json_t			*data, *recipients, *seen, *on_duty;
	char			 why[256];
	size_t			 i;
	int			 rc = 0;

	data = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s}", "intent",
	    (json_int_t)intent, "recipient", index, "event",
	    notify_event_name(ev), "person", person, "name", name, "reason",
	    reason);
	if (data == NULL)
		return -ENOMEM;
	if ((rc = store_append("notify.undeliverable", inc->id, "dutyd", data,
	    NULL)) != 0)
		return rc;
	log_warnx("incident %s: %s could not be told of %s (%s); telling the "
	    "duty officers on duty", inc->id, person, notify_event_name(ev),
	    reason);
	/* The duty officers on duty, but not who could not be reached. */
	recipients = json_array();
	seen = json_pack("{s:b}", person, 1);
	if (recipients == NULL || seen == NULL ||
	    roster_at(cfg, time_now_ms(), &oc) != 0 ||
	    (on_duty = notify_oncall_shared(&oc)) == NULL) {
		json_decref(recipients);
		json_decref(seen);
		return -ENOMEM;
	}
	for (i = 0; rc == 0 && i < oc.nofficers; i++) {
		snprintf(why, sizeof(why), "duty officer, %s shift (%s): %s could "
		    "not be reached", oc.officers[i].role, oc.officers[i].why,
		    person);
		rc = notify_add_person(recipients, seen, cfg,
		    oc.officers[i].person, why, NULL);
	}
	/* Nobody else on the desk: the leader on duty has to know. */
	if (rc == 0 && json_array_size(recipients) == 0 && oc.has_leader) {
		snprintf(why, sizeof(why), "leader on duty (%s): %s could not "
		    "be reached", oc.leader.why, person);
		rc = notify_add_person(recipients, seen, cfg, oc.leader.person,
		    why, NULL);
	}
	json_decref(seen);
	data = rc != 0 ? NULL : json_pack("{s:s, s:o, s:i, s:o, s:{s:s, s:s, "
	    "s:s, s:s}}", "event", "notify.undeliverable", "recipients",
	    recipients, "late_ms", 0, "on_duty", on_duty, "undeliverable",
	    "person", person, "name", name, "event", notify_event_name(ev),
	    "reason", reason);
	if (data == NULL) {
		if (rc != 0) {
			json_decref(recipients);
			json_decref(on_duty);
		}
		return -ENOMEM;
	}
	return store_append("notify.intent", inc->id, "dutyd", data, NULL);
}

static void
notify_reconcile_failed(struct incident *inc, const char *what, int rc)
{
	if (!reconcile_failing)
		log_errorx("incident %s: cannot record who to notify of %s (%s); "
		    "retrying every second", inc->id, what, strerror(-rc));
	reconcile_failing = 1;
	if (!clock_armed(&reconcile_clock))
		clock_arm(&reconcile_clock, time_now_ms() + 1000);
}

/* What the incident's records call for telling: derived, never stored. */
static unsigned
notify_due(const struct incident *inc)
{
	unsigned due = NOTIFY_NEW;

	if (inc->ack_clock.fired_at != 0)
		due |= NOTIFY_ESCALATED;
	if (inc->report_clock.fired_at != 0)
		due |= NOTIFY_OVERDUE;
	if (inc->ack.at != 0)
		due |= NOTIFY_ACKNOWLEDGED;
	if (inc->filed.at != 0)
		due |= NOTIFY_FILED;
	if (inc->resolved.at != 0)
		due |= NOTIFY_RESOLVED;
	if (inc->state == INCIDENT_MERGED)
		due |= NOTIFY_MERGED;
	if (inc->state == INCIDENT_DISMISSED)
		due |= NOTIFY_DISMISSED;
	return due;
}

void
notify_reconcile(struct incident *inc)
{
	struct notify_subject	*subj;
	unsigned		 pending;
	size_t			 i;
	int			 rc;

	if ((subj = notify_subject(inc->id, 1)) == NULL) {
		notify_reconcile_failed(inc, "its events", -ENOMEM);
		return;
	}
	pending = notify_due(inc) & ~subj->done;

	/* Once closed, only how it was closed is worth telling. */
	if (incident_is_closed(inc))
		pending &= NOTIFY_CLOSING;
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
	    subj->level_notified < inc->level &&
	    (rc = notify_intent(inc, NOTIFY_ESCALATED, inc->level)) != 0) {
		notify_reconcile_failed(inc, "an escalation level", rc);
		return;
	}
	/* Every follow-up (续报) is told, in order. */
	while (!incident_is_closed(inc) &&
	    subj->updates_notified < (int)json_array_size(inc->updates)) {
		int before = subj->updates_notified;

		if ((rc = notify_intent(inc, NOTIFY_UPDATED,
		    subj->updates_notified + 1)) != 0) {
			notify_reconcile_failed(inc, "a follow-up", rc);
			return;
		}
		if (subj->updates_notified == before)
			return;	/* not applied: do not spin */
	}
}

void
notify_reconcile_all(void)
{
	struct incident *inc;

	for (inc = incident_first(); inc != NULL; inc = incident_next(inc)) {
		notify_reconcile(inc);
		if (reconcile_failing)
			return;
	}
}

static void
notify_reconcile_cb(struct clock *c, void *arg)
{
	reconcile_failing = 0;
	notify_reconcile_all();
	if (!reconcile_failing)
		log_info("notifications that could not be recorded are recorded now");
}

int
notify_snapshot(const char *id, json_t *o)
{
	struct notify_subject	*subj = notify_subject(id, 0);
	json_t			*esc = json_object_get(o, "escalation");

	if (subj == NULL)
		return 0;
	if (json_object_set_new(o, "notify_done", json_integer(subj->done)) != 0 ||
	    json_object_set_new(o, "updates_notified",
	    json_integer(subj->updates_notified)) != 0 ||
	    (json_is_object(esc) && json_object_set_new(esc, "notified",
	    json_integer(subj->level_notified)) != 0))
		return -ENOMEM;
	return 0;
}

int
notify_restore(const char *id, json_t *o)
{
	struct notify_subject *subj;

	if ((subj = notify_subject(id, 1)) == NULL)
		return -ENOMEM;
	subj->done = (unsigned)json_integer_value(json_object_get(o,
	    "notify_done"));
	subj->updates_notified = (int)json_integer_value(json_object_get(o,
	    "updates_notified"));
	subj->level_notified = (int)json_integer_value(json_object_get(
	    json_object_get(o, "escalation"), "notified"));
	return 0;
}

