/*
 * The incidents in memory, and the one function that changes them: the
 * router hands incident records here (incident_apply), live or replayed.
 * Every record that names an incident also lands in its timeline
 * (incident_follow).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/jwrite.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "state/incid.h"
#include "state/incident.h"
#include "state/incseed.h"
#include "state/router.h"
#include "store/record.h"

/* Timeline entries kept per incident; the oldest delivery attempts go first. */
#define INCIDENT_TIMELINE_MAX	500
/* Undeliverable notices shown per incident (the log keeps them all). */
#define INCIDENT_UNDELIVERABLE_MAX	50
/*
 * Attempts of one delivery kept in the timeline: its first and its last
 * few (a receiver down for hours made thousands; the log has them all).
 */
#define INCIDENT_ATTEMPTS_FIRST	2
#define INCIDENT_ATTEMPTS_LAST	3

RB_HEAD(incident_ids, incident);
RB_HEAD(incident_keys, incident);
TAILQ_HEAD(incident_list, incident);

static struct incident_ids	 by_id = RB_INITIALIZER(&by_id);
static struct incident_keys	 by_key = RB_INITIALIZER(&by_key);
static struct incident_list	 incidents = TAILQ_HEAD_INITIALIZER(incidents);
static size_t			 incidents_overdue;	/* incident_recount() keeps it */
/* Found last: a record's owner and followers look one up (1 k instructions a walk). */
static struct incident		*incident_found;

static clock_fn			 incident_on_deadline;

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

static int incident_apply(const struct record *);
static int incident_follow(const struct record *);

void
incident_init(clock_fn on_deadline)
{
	incid_reset();
	incident_on_deadline = on_deadline;
	router_own(ROUTER_INCIDENT, incident_apply);
	router_follow("", incident_follow);
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
	clock_free(&inc->ack_clock.clock);
	clock_free(&inc->report_clock.clock);
	if (inc->level_clock != NULL) {
		clock_free(&inc->level_clock->clock);
		free(inc->level_clock);
	}
	json_decref(inc->level_notify);
	json_decref(inc->updates);
	json_decref(inc->merged_from);
	inctold_clear(&inc->told);
	/* office, idem and the other strings are in inc's block. */
	free(inc->json);
	increport_clear(&inc->report);
	timeline_clear(&inc->timeline);
	json_decref(inc->undeliverable);
	incident_mark_clear(&inc->ack);
	incident_mark_clear(&inc->filed);
	incident_mark_clear(&inc->resolved);
	incident_mark_clear(&inc->closed);
	free(inc);
}

/* Every change of state goes through here: the lists follow it. */
static void
incident_set_state(struct incident *inc, enum incident_state st)
{
	inc->state = st;
	inclist_set(&inc->order, (int)st, incident_is_closed(inc));
}

/* Not closed, and a deadline fired that is still not met. */
static int
incident_is_overdue(const struct incident *inc)
{
	return !incident_is_closed(inc) &&
	    ((inc->ack_clock.fired_at != 0 && inc->ack.at == 0) ||
	    (inc->report_clock.fired_at != 0 && inc->filed.at == 0));
}

/* After any change to INC: the overdue count follows, so reading it is O(1). */
static void
incident_recount(struct incident *inc)
{
	int now = incident_is_overdue(inc);

	if (now == inc->overdue)
		return;
	inc->overdue = now;
	if (now)
		incidents_overdue++;
	else
		incidents_overdue--;
}

static void
incident_remove(struct incident *inc)
{
	if (inc->overdue)
		incidents_overdue--;
	inclist_remove(&inc->order);
	TAILQ_REMOVE(&incidents, inc, entry);
	RB_REMOVE(incident_ids, &by_id, inc);
	if (incident_found == inc)
		incident_found = NULL;
	if (inc->idem != NULL)
		RB_REMOVE(incident_keys, &by_key, inc);
	incident_free(inc);
}

void
incident_shutdown(void)
{
	while (!TAILQ_EMPTY(&incidents))
		incident_remove(TAILQ_FIRST(&incidents));
	timeline_forget();
	increport_forget();
}

struct incident *
incident_find(const char *id)
{
	struct incident key, *inc;

	if (id != NULL && incident_found != NULL && strcmp(incident_found->id, id) == 0)
		return incident_found;
	if (id == NULL || strlen(id) >= sizeof(key.id))
		return NULL;
	strcpy(key.id, id);
	if ((inc = RB_FIND(incident_ids, &by_id, &key)) != NULL)
		incident_found = inc;
	return inc;
}

struct incident *
incident_find_idem(const char *office, const char *key)
{
	struct incident	 probe, *inc;

	if (asprintf(&probe.idem, "%s\n%s", office, key) == -1)
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

size_t
incident_count(enum incident_filter f)
{
	return inclist_count((enum inclist_filter)f);
}

json_t *
incident_fact(const struct incident *inc, const char *key, const char *sub)
{
	json_t	*v;
	size_t	 i;

	for (i = json_array_size(inc->updates); i > 0; i--) {
		v = json_object_get(json_object_get(json_array_get(inc->updates,
		    i - 1), "fields"), key);
		if (v != NULL && sub != NULL)
			v = json_object_get(v, sub);
		if (v != NULL)
			return v;
	}
	v = json_object_get(incident_report(inc), key);
	return sub != NULL ? json_object_get(v, sub) : v;
}

json_t *
incident_report(const struct incident *inc)
{
	return increport_tree(&inc->report);
}

int
incident_is_closed(const struct incident *inc)
{
	return inc->state == INCIDENT_RESOLVED || inc->state == INCIDENT_MERGED ||
	    inc->state == INCIDENT_DISMISSED;
}

int64_t
incident_closed_at(const struct incident *inc)
{
	if (inc->state == INCIDENT_RESOLVED)
		return inc->resolved.at;
	if (inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED)
		return inc->closed.at;
	return 0;
}

struct incident *
incident_merge_target(struct incident *inc)
{
	int hops;

	for (hops = 0; inc != NULL && inc->state == INCIDENT_MERGED; hops++) {
		if (hops == INCIDENT_MERGE_HOPS)
			return NULL;
		inc = incident_find(inc->merged_into);
	}
	return inc;
}

size_t
incident_count_overdue(void)
{
	return incidents_overdue;
}

static struct incident *
incident_of(struct inclist_node *e)
{
	return e == NULL ? NULL : (struct incident *)(void *)((char *)e -
	    offsetof(struct incident, order));
}

struct incident *
incident_before(enum incident_filter f, const char *before, int *err)
{
	return incident_of(inclist_below((enum inclist_filter)f, before, err));
}

struct incident *
incident_older(enum incident_filter f, struct incident *inc)
{
	return incident_of(inclist_older((enum inclist_filter)f, &inc->order));
}

struct incident *
incident_after(enum incident_filter f, const char *after, int *err)
{
	return incident_of(inclist_above((enum inclist_filter)f, after, err));
}

struct incident *
incident_oldest(enum incident_filter f)
{
	int err;

	return incident_of(inclist_above((enum inclist_filter)f, NULL, &err));
}

struct incident *
incident_newer(enum incident_filter f, struct incident *inc)
{
	return incident_of(inclist_newer((enum inclist_filter)f, &inc->order));
}

int
incident_is_after(const struct incident *inc, const char *id)
{
	return inclist_is_after(&inc->order, id);
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
	case INCIDENT_MERGED:
		return "merged";
	case INCIDENT_DISMISSED:
		return "dismissed";
	}
	return "unknown";
}

/* Applying records -------------------------------------------------------- */

static int
incident_time(json_t *obj, const char *key, int64_t *ms)
{
	return time_parse(json_string_value(json_object_get(obj, key)), ms);
}

/* 0, -ENOMEM, or -EINVAL when KEY is there but not a string. */
static int
incident_strdup(json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	return (*out = strdup(json_string_value(v))) == NULL ? -ENOMEM : 0;
}

/* Which follow-up carries FIELDS (the entry says so in checkpoints). */
static int
incident_update_of(const struct incident *inc, json_t *fields)
{
	json_t	*u;
	size_t	 i;

	if (fields == NULL)
		return 0;
	json_array_foreach(inc->updates, i, u)
		if (json_object_get(u, "fields") == fields)
			return (int)i + 1;
	return 0;
}

/* The timeline keeps what happened, in the words of the records. */
static int
incident_timeline_add(struct incident *inc, const struct record *r,
    json_t *data)
{
	int update_n = 0;

	if (strcmp(r->event, "incident.updated") == 0)
		update_n = incident_update_of(inc, json_object_get(data,
		    "fields"));
	if (timeline_add(&inc->timeline, r, data, update_n) != 0)
		return -ENOMEM;
	/* A delivery's attempts past its first and last few leave it. */
	if (strcmp(r->event, "notify.attempt") == 0)
		timeline_trim_attempts(&inc->timeline,
		    json_integer_value(json_object_get(data, "intent")),
		    json_integer_value(json_object_get(data, "recipient")),
		    INCIDENT_ATTEMPTS_FIRST, INCIDENT_ATTEMPTS_LAST);
	/* Days of retries must not grow it without end: the log has them all. */
	timeline_cap(&inc->timeline, INCIDENT_TIMELINE_MAX);
	return 0;
}

/* S's copy at *AT, in the incident's block; NULL stays NULL. */
static char *
incident_put(char **at, const char *s)
{
	char *p = *at;

	if (s == NULL)
		return NULL;
	*at = stpcpy(p, s) + 1;
	return p;
}

json_t *
incident_origin(const struct incident *inc)
{
	return increport_data(&inc->report);
}

/*
 * An incident from its report.received data D (also inside a checkpoint)
 * as S reads it (incseed.h), its strings in its own block; D and LINE
 * kept as increport_keep() says.
 */
static int
incident_create(const char *id, const struct incseed *s, json_t *d,
    const struct record *r, json_t *line, struct incident **out)
{
	const char *const strs[] = { s->office, s->office_name, s->body_sha256,
	    s->source, s->taken_by, s->taken_by_name, s->idem_key };
	struct incident	*inc;
	size_t		 i, more = 0;
	char		*at;
	int		 rc, day, n;

	*out = NULL;
	if (id == NULL || strlen(id) >= INCIDENT_ID_MAX || incident_find(id) != NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		more += strs[i] != NULL ? strlen(strs[i]) + 1 : 0;
	/* "office\nkey": the office's length again, where the key's NUL was. */
	more += s->idem_key != NULL && s->office != NULL ? strlen(s->office) + 1 : 0;
	if ((inc = calloc(1, sizeof(*inc) + more)) == NULL)
		return -ENOMEM;
	at = (char *)(inc + 1);
	strcpy(inc->id, id);
	inc->late_report = s->late_report;
	inc->office = incident_put(&at, s->office);
	inc->office_name = incident_put(&at, s->office_name);
	inc->body_sha256 = incident_put(&at, s->body_sha256);
	inc->source = incident_put(&at, s->source);
	inc->taken_by = incident_put(&at, s->taken_by);
	inc->taken_by_name = incident_put(&at, s->taken_by_name);
	if (s->idem_key != NULL && s->office != NULL)	/* as incident_find_idem() */
		at += sprintf(inc->idem = at, "%s\n%s", s->office, s->idem_key) + 1;
	if ((inc->has_late_minutes = s->has_late_minutes))
		inc->late_minutes = s->late_minutes;
	if ((rc = increport_keep(&inc->report, d, r, line)) != 0) {
		incident_free(inc);
		return rc;
	}
	if (inc->office == NULL ||
	    time_parse(s->received_at, &inc->received_at) != 0 ||
	    time_parse(s->ack_deadline, &inc->ack_clock.deadline) != 0 ||
	    time_parse(s->report_deadline, &inc->report_clock.deadline) != 0) {
		incident_free(inc);
		return -EINVAL;
	}
	inc->state = INCIDENT_OPEN;
	inclist_add(&inc->order, inc->id);
	RB_INSERT(incident_ids, &by_id, inc);
	if (inc->idem != NULL)
		RB_INSERT(incident_keys, &by_key, inc);
	TAILQ_INSERT_TAIL(&incidents, inc, entry);
	/* "INC-20261128-0007": day 20261128, n 7. */
	if (inclist_parse_id(inc->id, &day, &n) == 0)
		incid_seen(day, n);

	clock_init(&inc->ack_clock.clock, incident_on_deadline, inc);
	clock_init(&inc->report_clock.clock, incident_on_deadline, inc);
	/* Past deadlines (replay after downtime) fire on the first loop turn. */
	clock_arm(&inc->ack_clock.clock, inc->ack_clock.deadline);
	clock_arm(&inc->report_clock.clock, inc->report_clock.deadline);
	*out = inc;
	return 0;
}

static int
incident_apply_mark(struct incident_mark *m, const struct record *r,
    const char *textkey)
{
	const char	*who = r->actor;
	int		 rc;

	incident_mark_clear(m);
	m->at = r->ts_ms;
	if (strncmp(who, "person:", 7) == 0)
		who += 7;
	if ((m->by = strdup(who)) == NULL)
		return -ENOMEM;
	if ((rc = incident_strdup(r->data, "by_name", &m->by_name)) != 0)
		return rc;
	return textkey != NULL ? incident_strdup(r->data, textkey, &m->text) : 0;
}

/* The level clock, made the first time it is needed.  NULL: no memory. */
static struct incident_clock *
incident_level_clock(struct incident *inc)
{
	if (inc->level_clock == NULL &&
	    (inc->level_clock = calloc(1, sizeof(*inc->level_clock))) != NULL)
		clock_init(&inc->level_clock->clock, incident_on_deadline, inc);
	return inc->level_clock;
}

/* The next escalation level, as the record that fired the last one set it. */
static int
incident_arm_level(struct incident *inc, json_t *data)
{
	struct incident_clock	*lc;
	int64_t			 at;

	if (incident_time(data, "next_level_at", &at) != 0 || inc->ack.at != 0 ||
	    incident_is_closed(inc))
		return 0;
	if ((lc = incident_level_clock(inc)) == NULL) {
		log_warnx("incident %s: out of memory for its next escalation "
		    "level's clock", inc->id);
		return -ENOMEM;
	}
	lc->deadline = at;
	lc->fired_at = 0;
	clock_arm(&lc->clock, at);
	return 0;
}

static void
incident_level_disarm(struct incident *inc)
{
	if (inc->level_clock != NULL)
		clock_disarm(&inc->level_clock->clock);
}

static void
incident_apply_clock(struct incident_clock *c, const struct record *r)
{
	json_t *late = json_object_get(r->data, "late_ms");

	clock_disarm(&c->clock);
	c->fired_at = r->ts_ms;
	c->late_ms = json_is_integer(late) ? json_integer_value(late) : 0;
	c->failing = 0;
}

/* The bytes a follow-up's fields count against INCIDENT_UPDATES_BYTES_MAX. */
static size_t
incident_update_size(json_t *fields)
{
	return json_dumpb(fields, NULL, 0, JSON_COMPACT);
}

/* A follow-up: kept in order beside the original report, which stays as sent. */
static int
incident_apply_update(struct incident *inc, const struct record *r)
{
	char	 at[TIME_RFC3339_MAX];
	json_t	*u, *fields = json_object_get(r->data, "fields");

	if (inc->updates == NULL && (inc->updates = json_array()) == NULL)
		return -ENOMEM;
	/* The record's own fields object, not a copy. */
	u = json_pack("{s:I, s:s, s:s, s:O?, s:O?, s:O?, s:O?}", "n",
	    (json_int_t)json_array_size(inc->updates) + 1, "at",
	    time_format(r->ts_ms, at, sizeof(at)), "by", r->actor,
	    "key", json_object_get(r->data, "key"),
	    "source", json_object_get(r->data, "source"),
	    "via", json_object_get(r->data, "via"),
	    "fields", fields);
	if (u == NULL || json_array_append_new(inc->updates, u) != 0)
		return -ENOMEM;
	inc->updates_bytes += incident_update_size(fields);
	return 0;
}

static int
incident_apply_escalated(struct incident *inc, const struct record *r)
{
	const char *clk = json_string_value(json_object_get(r->data, "clock"));

	if (clk != NULL && strcmp(clk, "level") == 0) {
		if (incident_level_clock(inc) == NULL)
			return -ENOMEM;
		incident_apply_clock(inc->level_clock, r);
		inc->level = (int)json_integer_value(json_object_get(r->data,
		    "level"));
		json_decref(inc->level_notify);
		inc->level_notify = json_incref(json_object_get(r->data, "notify"));
	} else {
		incident_apply_clock(&inc->ack_clock, r);
		inc->level = 1;
	}
	return incident_arm_level(inc, r->data);
}

/* Someone could not be told: the incident shows it (the last few). */
static int
incident_apply_undeliverable(struct incident *inc, const struct record *r)
{
	json_t *u;

	if (inc->undeliverable == NULL &&
	    (inc->undeliverable = json_array()) == NULL)
		return -ENOMEM;
	u = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?}", "at", r->ts,
	    "person", json_object_get(r->data, "person"),
	    "name", json_object_get(r->data, "name"),
	    "event", json_object_get(r->data, "event"),
	    "reason", json_object_get(r->data, "reason"));
	if (u == NULL || json_array_append_new(inc->undeliverable, u) != 0)
		return -ENOMEM;
	if (json_array_size(inc->undeliverable) > INCIDENT_UNDELIVERABLE_MAX)
		json_array_remove(inc->undeliverable, 0);
	return 0;
}

static void
incident_stop_clocks(struct incident *inc)
{
	clock_disarm(&inc->ack_clock.clock);
	clock_disarm(&inc->report_clock.clock);
	incident_level_disarm(inc);
}

/* The incident a merge went into learns of it. */
static int
incident_apply_merged_into(const struct record *r)
{
	struct incident	*into;
	const char	*id = json_string_value(json_object_get(r->data, "into"));

	if ((into = incident_find(id)) == NULL || strcmp(into->id,
	    r->incident) == 0)
		return 0;
	free(into->json);
	into->json = NULL;
	if ((into->merged_from == NULL &&
	    (into->merged_from = json_array()) == NULL) ||
	    json_array_append_new(into->merged_from, json_string(r->incident)) != 0 ||
	    incident_timeline_add(into, r, r->data) != 0)
		return -ENOMEM;
	return 0;
}

/*
 * A duplicate merged into another, or a false report dismissed: closed
 * like a resolution, and the incident it went into lists it and shows the
 * merge in its timeline.
 */
static int
incident_apply_close(struct incident *inc, const struct record *r)
{
	const char	*id;
	int		 merged = strcmp(r->event, "incident.merged") == 0, rc;

	if ((rc = incident_apply_mark(&inc->closed, r, merged ? "note" :
	    "reason")) != 0)
		return rc;
	incident_set_state(inc, merged ? INCIDENT_MERGED : INCIDENT_DISMISSED);
	incident_stop_clocks(inc);
	if (!merged)
		return 0;
	id = json_string_value(json_object_get(r->data, "into"));
	snprintf(inc->merged_into, sizeof(inc->merged_into), "%s",
	    id != NULL ? id : "");
	return incident_apply_merged_into(r);
}

static int
incident_apply(const struct record *r)
{
	struct incseed		 seed;
	const struct incseed	*given;
	struct incident		*inc;
	int			 rc = 0;

	if (strcmp(r->event, "report.received") == 0) {
		/* Live, the action said what its data says: not read back. */
		if ((given = incseed_expected(r->data)) == NULL &&
		    (rc = incseed_read(r->data, &seed)) != 0)
			return rc;
		return incident_create(r->incident, given != NULL ? given : &seed,
		    r->data, r, NULL, &inc);
	}
	/* The duty desk's messages are no incident's. */
	if (strcmp(r->event, "notify.undeliverable") == 0)
		return (inc = incident_find(r->incident)) != NULL ?
		    incident_apply_undeliverable(inc, r) : 0;
	if ((inc = incident_find(r->incident)) == NULL) {
		if (router_restoring()) {
			log_debug("audit seq %lld (%s): incident %s comes later in "
			    "the checkpoint", (long long)r->seq, r->event,
			    r->incident ? r->incident : "-");
			/*
			 * Its part, written later, holds this merge; the one it
			 * went into may have been written before it.
			 */
			if (strcmp(r->event, "incident.merged") == 0)
				return incident_apply_merged_into(r);
		} else
			log_warnx("audit seq %lld (%s) names unknown incident %s; "
			    "skipped", (long long)r->seq, r->event,
			    r->incident ? r->incident : "-");
		return 0;
	}
	if (strcmp(r->event, "incident.acknowledged") == 0) {
		rc = incident_apply_mark(&inc->ack, r, "note");
		if (inc->state == INCIDENT_OPEN)
			incident_set_state(inc, INCIDENT_ACKNOWLEDGED);
		clock_disarm(&inc->ack_clock.clock);
		incident_level_disarm(inc);
	} else if (strcmp(r->event, "incident.report_filed") == 0) {
		/* The first report is what the clock waited for; 续报 keep it. */
		if (inc->filed.at == 0)
			rc = incident_apply_mark(&inc->filed, r, "reference");
		clock_disarm(&inc->report_clock.clock);
	} else if (strcmp(r->event, "incident.resolved") == 0) {
		rc = incident_apply_mark(&inc->resolved, r, "note");
		incident_set_state(inc, INCIDENT_RESOLVED);
		incident_stop_clocks(inc);
	} else if (strcmp(r->event, "incident.merged") == 0 ||
	    strcmp(r->event, "incident.dismissed") == 0)
		rc = incident_apply_close(inc, r);
	else if (strcmp(r->event, "incident.escalated") == 0)
		rc = incident_apply_escalated(inc, r);
	else if (strcmp(r->event, "incident.updated") == 0)
		rc = incident_apply_update(inc, r);
	else if (strcmp(r->event, "incident.report_overdue") == 0)
		incident_apply_clock(&inc->report_clock, r);
	/* incident.note changes no state: the timeline (incident_follow) shows it. */
	incident_recount(inc);
	return rc;
}

/* Whom an intent names has been told of the incident: merged or dismissed, they hear of it. */
static int
incident_note_told(struct incident *inc, json_t *data)
{
	json_t		*rcp;
	const char	*person;
	size_t		 i;

	if (inctold_add(&inc->told, NULL) != 0)
		return -ENOMEM;
	json_array_foreach(json_object_get(data, "recipients"), i, rcp)
		if ((person = json_string_value(json_object_get(rcp,
		    "person"))) != NULL && inctold_add(&inc->told, person) != 0)
			return -ENOMEM;
	return 0;
}

/*
 * A report's entry says only which office sent it, {"office":"…"}: written
 * as jansson dumps it when the office needs no escaping (json_dumpb() of
 * the summary cost 3.4 k instructions a report), else dumped.
 */
static int
incident_follow_received(struct incident *inc, const struct record *r)
{
	char	 buf[128];
	size_t	 n = strlen(inc->office);
	json_t	*summary;
	int	 rc;

	if (n + 14 <= sizeof(buf) && jwrite_plain(inc->office, n)) {
		memcpy(buf, "{\"office\":\"", 11);
		memcpy(buf + 11, inc->office, n);
		memcpy(buf + 11 + n, "\"}", 2);
		return timeline_add_text(&inc->timeline, r, buf, n + 13) != 0 ?
		    -ENOMEM : 0;
	}
	if ((summary = json_pack("{s:s}", "office", inc->office)) == NULL)
		return -ENOMEM;
	rc = incident_timeline_add(inc, r, summary);
	json_decref(summary);
	return rc;
}

/* Every record that names an incident: its timeline, and its cached view goes. */
static int
incident_follow(const struct record *r)
{
	struct incident	*inc;
	json_t		*summary;
	int		 rc;

	if (r->incident == NULL || (inc = incident_find(r->incident)) == NULL)
		return 0;
	free(inc->json);
	inc->json = NULL;
	/*
	 * The written report sent by dutyd (state/wreport.c owns the record):
	 * the report clock stops at the submission, not at its delivery.
	 */
	if (strcmp(r->event, "report.submitted") == 0 && inc->filed.at == 0) {
		if (incident_apply_mark(&inc->filed, r, "reference") != 0)
			log_warnx("incident %s: out of memory for its report's "
			    "submission", inc->id);
		clock_disarm(&inc->report_clock.clock);
		incident_recount(inc);
	}
	/* The province, sent the report, is nobody to tell of a merge. */
	if (strcmp(r->event, "notify.intent") == 0 &&
	    strcmp(json_string_value(json_object_get(r->data, "event")) ?: "",
	    "report.submitted") != 0 &&
	    incident_note_told(inc, r->data) != 0)
		log_warnx("incident %s: out of memory for whom it was told to",
		    inc->id);
	if (strcmp(r->event, "report.draft_saved") == 0) {
		/* A draft is up to 32 KiB a version: the draft API has the text. */
		if ((summary = json_deep_copy(r->data)) == NULL)
			rc = -ENOMEM;
		else {
			json_object_del(summary, "body");
			rc = incident_timeline_add(inc, r, summary);
		}
		json_decref(summary);
	} else if (strcmp(r->event, "report.received") != 0)
		rc = incident_timeline_add(inc, r, r->data);
	else
		rc = incident_follow_received(inc, r);
	if (rc != 0)
		log_warnx("incident %s: out of memory for its timeline", inc->id);
	return 0;
}

/* Checkpoints and retention ------------------------------------------------ */

static int
incident_mark_restore(struct incident_mark *m, json_t *o)
{
	int rc;

	incident_mark_clear(m);
	if (!json_is_object(o))
		return 0;
	if (incident_time(o, "at", &m->at) != 0)
		return -EINVAL;
	if ((rc = incident_strdup(o, "by", &m->by)) != 0 ||
	    (rc = incident_strdup(o, "by_name", &m->by_name)) != 0 ||
	    (rc = incident_strdup(o, "text", &m->text)) != 0)
		return rc;
	return m->by == NULL ? -EINVAL : 0;
}

static void
incident_clock_restore(struct incident_clock *c, json_t *o, int stopped)
{
	c->fired_at = 0;
	c->late_ms = json_integer_value(json_object_get(o, "late_ms"));
	incident_time(o, "fired_at", &c->fired_at);
	if (c->fired_at != 0 || stopped)
		clock_disarm(&c->clock);
}

/* A checkpoint's timeline: follow-ups get their fields back from `updates`. */
static int
incident_timeline_restore(struct incident *inc, json_t *tl)
{
	json_t	*e, *data, *u;
	size_t	 i;
	int	 n, rc;

	timeline_clear(&inc->timeline);
	json_array_foreach(tl, i, e) {
		data = json_object_get(e, "data");
		n = (int)json_integer_value(json_object_get(data, "update_n"));
		u = json_array_get(inc->updates, (size_t)n - 1);
		if (json_object_get(data, "update_n") == NULL || u == NULL) {
			if (timeline_add_json(&inc->timeline, e, NULL, 0) != 0)
				return -ENOMEM;
			continue;
		}
		if ((data = json_copy(data)) == NULL ||
		    json_object_del(data, "update_n") != 0 ||
		    json_object_set(data, "fields", json_object_get(u,
		    "fields")) != 0)
			rc = -ENOMEM;
		else
			rc = timeline_add_json(&inc->timeline, e, data, n);
		json_decref(data);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
incident_restore(const char *id, json_t *d)
{
	struct incseed	 seed;
	struct incident	*inc;
	json_t		*clocks = json_object_get(d, "clocks"), *v, *esc, *origin;
	const char	*state = json_string_value(json_object_get(d, "state"));
	size_t		 i;
	int		 rc;

	if ((inc = incident_find(id)) != NULL)
		incident_remove(inc);
	origin = json_object_get(d, "origin");
	if ((rc = incseed_read(origin, &seed)) != 0 ||
	    (rc = incident_create(id, &seed, origin, NULL,
	    json_object_get(d, "origin_line"), &inc)) != 0)
		return rc;
	if ((rc = incident_mark_restore(&inc->ack, json_object_get(d, "ack"))) != 0 ||
	    (rc = incident_mark_restore(&inc->filed, json_object_get(d,
	    "filed"))) != 0 ||
	    (rc = incident_mark_restore(&inc->resolved, json_object_get(d,
	    "resolved"))) != 0 ||
	    (rc = incident_mark_restore(&inc->closed, json_object_get(d,
	    "closed"))) != 0)
		return rc;
	if (state != NULL && strcmp(state, "resolved") == 0)
		incident_set_state(inc, INCIDENT_RESOLVED);
	else if (state != NULL && strcmp(state, "acknowledged") == 0)
		incident_set_state(inc, INCIDENT_ACKNOWLEDGED);
	else if (state != NULL && strcmp(state, "merged") == 0)
		incident_set_state(inc, INCIDENT_MERGED);
	else if (state != NULL && strcmp(state, "dismissed") == 0)
		incident_set_state(inc, INCIDENT_DISMISSED);
	snprintf(inc->merged_into, sizeof(inc->merged_into), "%s",
	    json_string_value(json_object_get(d, "merged_into")) != NULL ?
	    json_string_value(json_object_get(d, "merged_into")) : "");
	if (json_is_array(v = json_object_get(d, "merged_from")) &&
	    (inc->merged_from = json_deep_copy(v)) == NULL)
		return -ENOMEM;
	json_array_foreach(json_object_get(d, "told"), i, v)
		if (json_is_string(v) && inctold_add(&inc->told,
		    json_string_value(v)) != 0)
			return -ENOMEM;
	incident_clock_restore(&inc->ack_clock, json_object_get(clocks, "ack"),
	    inc->ack.at != 0 || incident_is_closed(inc));
	incident_clock_restore(&inc->report_clock, json_object_get(clocks,
	    "report"), inc->filed.at != 0 || incident_is_closed(inc));
	incident_recount(inc);
	esc = json_object_get(d, "escalation");
	inc->level = (int)json_integer_value(json_object_get(esc, "level"));
	inc->level_notify = json_incref(json_object_get(esc, "notify"));
	if ((rc = incident_arm_level(inc, esc)) != 0)
		return rc;
	if (json_is_array(v = json_object_get(d, "updates"))) {
		if ((inc->updates = json_deep_copy(v)) == NULL)
			return -ENOMEM;
		json_array_foreach(inc->updates, i, v)
			inc->updates_bytes += incident_update_size(
			    json_object_get(v, "fields"));
	}
	if (json_is_array(v = json_object_get(d, "timeline")) &&
	    (rc = incident_timeline_restore(inc, v)) != 0)
		return rc;
	if (json_is_array(v = json_object_get(d, "undeliverable")) &&
	    (inc->undeliverable = json_deep_copy(v)) == NULL)
		return -ENOMEM;
	return 0;
}

int
incident_prune(int64_t cutoff, int (*busy)(const char *))
{
	struct incident	*inc, *next;
	int		 n = 0;

	for (inc = incident_first(); inc != NULL; inc = next) {
		next = incident_next(inc);
		/* One still telling people it was closed stays until it has. */
		if (incident_is_closed(inc) && incident_closed_at(inc) < cutoff &&
		    (busy == NULL || !busy(inc->id))) {
			incident_remove(inc);
			n++;
		}
	}
	return n;
}
