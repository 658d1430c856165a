/*
 * desk.c: the duty desk's own notifications.
 *
 * 交接班: at every change of the roster (a leader's duty day begins, a
 * shift begins, an override starts or ends) whoever comes on duty gets one
 * message listing the open incidents and their running deadlines.  The
 * handover is a duty.handover record; the messages are ordinary
 * notifications (intent, attempts, fallback, retries) on NOTIFY_DESK.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/desk.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "config/roster.h"
#include "notify/notify.h"
#include "state/handover.h"
#include "state/incident.h"
#include "store/store.h"

#define DESK_LIST_MAX	(8 * 1024)	/* bytes of the incident list in a message */
/* Ids in the duty.handover record: the record must fit a line, and the loop its turn. */
#define DESK_IDS_MAX	1000

static struct clock	 desk_clock;	/* the next roster change */

static void desk_handover_cb(struct clock *, void *);

void
desk_init(void)
{
	clock_init(&desk_clock, desk_handover_cb, NULL);
}

void
desk_shutdown(void)
{
	clock_free(&desk_clock);
}

/* Arm for the next change strictly after AFTER. */
static void
desk_schedule(int64_t after)
{
	int64_t next;

	clock_disarm(&desk_clock);
	if ((next = roster_next_change(config_current(), after)) > 0)
		clock_arm(&desk_clock, next);
}

/* Start-up and reload: from now on. */
void
desk_arm(void)
{
	desk_schedule(time_now_ms());
}

int
desk_answer(const char *channel, const char *to, const char *text)
{
	json_t *data;

	data = json_pack("{s:s, s:[{s:s, s:s, s:[{s:s, s:s}], s:s}], s:i, "
	    "s:{s:s}}", "event", "sms.reply", "recipients", "person", to,
	    "name", to, "contacts", "channel", channel, "to", to, "why",
	    "answer to an inbound SMS", "late_ms", 0, "reply", "text", text);
	if (data == NULL)
		return -ENOMEM;
	return store_append("notify.intent", NOTIFY_DESK, "dutyd", data, NULL);
}

/*
 * ROLE is already among the incoming: {shift} names each role once.  By
 * name, not by substring: "day" must still be listed after "midday".
 */
static int
desk_role_listed(const json_t *incoming, const char *role)
{
	const json_t	*o;
	const char	*r;
	size_t		 i;

	json_array_foreach(incoming, i, o)
		if ((r = json_string_value(json_object_get(o, "role"))) != NULL &&
		    strcmp(r, role) == 0)
			return 1;
	return 0;
}

static int
desk_slot_in(const struct roster_oncall *oc, const struct roster_slot *s)
{
	size_t i;

	if (oc->has_leader && strcmp(oc->leader.person, s->person) == 0 &&
	    strcmp(oc->leader.role, s->role) == 0)
		return 1;
	for (i = 0; i < oc->nofficers; i++)
		if (strcmp(oc->officers[i].person, s->person) == 0 &&
		    strcmp(oc->officers[i].role, s->role) == 0)
			return 1;
	return 0;
}

/* One line per open incident, with the deadline it is running against. */
static char *
desk_list(int *count, json_t *ids)
{
	struct incident	*inc;
	char		*buf = NULL, *line, hm[16];
	size_t		 len = 0, l;
	const char	*what;
	int64_t		 due;

	*count = (int)incident_count(INCIDENT_NOT_CLOSED);
	if ((buf = strdup("")) == NULL)
		return NULL;
	/* Oldest first, until both the text and the ids are full. */
	for (inc = incident_oldest(INCIDENT_NOT_CLOSED); inc != NULL &&
	    (json_array_size(ids) < DESK_IDS_MAX || len + 64 < DESK_LIST_MAX);
	    inc = incident_newer(INCIDENT_NOT_CLOSED, inc)) {
		if (json_array_size(ids) < DESK_IDS_MAX)
			json_array_append_new(ids, json_string(inc->id));
		if (inc->ack.at == 0) {
			what = "确认时限";
			due = inc->ack_clock.deadline;
		} else if (inc->filed.at == 0) {
			what = "书面报告时限";
			due = inc->report_clock.deadline;
		} else {
			what = "处置中";
			due = 0;
		}
		time_local(due, " %H:%M", hm, sizeof(hm));
		if (asprintf(&line, "%s%s %s：%s，%s%s%s", len ? "\n" : "", inc->id,
		    inc->office_name ? inc->office_name : inc->office,
		    json_string_value(json_object_get(incident_report(inc), "title")),
		    what, hm, due != 0 && due < time_now_ms() ? "（已超时）" :
		    "") == -1)
			goto fail;
		l = strlen(line);
		if (len + l < DESK_LIST_MAX) {
			char *grown = realloc(buf, len + l + 1);

			if (grown == NULL) {
				free(line);
				goto fail;
			}
			buf = grown;
			memcpy(buf + len, line, l + 1);
			len += l;
		}
		free(line);
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

/*
 * The notes left since the last handover: into the record as they are,
 * and as the message's {note} ("\n交班留言（张伟 08:20）：…").  0 or -ENOMEM.
 */
static int
desk_notes(json_t **list, char **text)
{
	const struct config		*cfg = config_current();
	const struct config_person	*p;
	const struct handover_note	*n;
	char				 hm[16], *next;
	size_t				 i, count = handover_notes(&n);

	*text = NULL;
	if ((*list = json_array()) == NULL || (*text = strdup("")) == NULL)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		char when[TIME_RFC3339_MAX];

		p = config_person(cfg, n[i].by);
		time_local(n[i].at, "%H:%M", hm, sizeof(hm));
		if (json_array_append_new(*list, json_pack("{s:s, s:s, s:s}",
		    "text", n[i].text, "by", n[i].by, "at", time_format(n[i].at,
		    when, sizeof(when)))) != 0 ||
		    asprintf(&next, "%s\n交班留言（%s %s）：%s", *text, p != NULL ?
		    p->name : n[i].by, hm, n[i].text) == -1)
			return -ENOMEM;
		free(*text);
		*text = next;
	}
	return 0;
}

/* Each incoming's accept link (the stub their message carries), for handover.c. */
static void
desk_links(json_t *incoming, const json_t *recipients)
{
	json_t		*in;
	const json_t	*r;
	size_t		 i, j;

	json_array_foreach(incoming, i, in)
		json_array_foreach(recipients, j, r)
			if (json_equal(json_object_get(in, "person"),
			    json_object_get(r, "person")) &&
			    json_object_get(r, "link") != NULL)
				json_object_set(in, "link",
				    json_object_get(r, "link"));
}

static int
desk_handover(int64_t at, const struct roster_oncall *before,
    const struct roster_oncall *after)
{
	const struct config	*cfg = config_current();
	const struct roster_slot *s;
	json_t			*incoming = json_array(), *recipients = json_array();
	json_t			*seen = json_object(), *ids = json_array(), *data;
	json_t			*notes = NULL, *outgoing = json_array();
	char			 why[256], shift[256] = "", when[TIME_RFC3339_MAX];
	char			 by[TIME_RFC3339_MAX], *list = NULL, *note = NULL;
	int			 count = 0, listed, rc = -ENOMEM;
	size_t			 i, n = after->nofficers + 1;
	int64_t			 within = roster_accept_within(cfg), seq;
	/* Each incoming gets their own link: a tap accepts the handover (接班确认). */
	struct notify_ask	 ask = { .link = 1 };

	if (incoming == NULL || recipients == NULL || seen == NULL ||
	    ids == NULL || outgoing == NULL)
		goto out;
	/* Who hands over: in a role before, not in it after (the duty log's 交班人). */
	for (i = 0; i < before->nofficers + 1; i++) {
		s = i == 0 ? (before->has_leader ? &before->leader : NULL) :
		    &before->officers[i - 1];
		if (s != NULL && !desk_slot_in(after, s) &&
		    json_array_append_new(outgoing, json_pack("{s:s, s:s}",
		    "person", s->person, "role", s->role)) != 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		s = i == 0 ? (after->has_leader ? &after->leader : NULL) :
		    &after->officers[i - 1];
		if (s == NULL || desk_slot_in(before, s))
			continue;
		listed = desk_role_listed(incoming, s->role);
		json_array_append_new(incoming, json_pack("{s:s, s:s, s:s}",
		    "person", s->person, "role", s->role, "why", s->why));
		snprintf(why, sizeof(why), "coming on duty: %s (%s)", s->role,
		    s->why);
		if (notify_add_person(recipients, seen, cfg, s->person, why,
		    &ask) != 0)
			goto out;
		if (!listed && strlen(shift) +
		    strlen(s->role) + 4 < sizeof(shift)) {
			if (shift[0] != '\0')
				strcat(shift, "、");
			strcat(shift, strcmp(s->role, "leader") == 0 ? "带班领导" :
			    s->role);
		}
	}
	if (json_array_size(incoming) == 0) {
		rc = 0;		/* the same people stay on: nobody to brief */
		goto out;
	}
	if ((list = desk_list(&count, ids)) == NULL ||
	    desk_notes(&notes, &note) != 0)
		goto out;
	desk_links(incoming, recipients);
	/* Derived here, from the config in force: a reload never moves it. */
	data = json_pack("{s:s, s:O, s:O, s:o, s:o, s:i, s:s?, s:O}", "at",
	    time_format(at, when, sizeof(when)), "incoming", incoming,
	    "outgoing", outgoing, "on_duty", notify_oncall_json(after),
	    "incidents", ids, "count", count, "accept_by", within > 0 ?
	    time_format(at + within, by, sizeof(by)) : NULL, "notes", notes);
	ids = NULL;
	if (data == NULL || (rc = store_append("duty.handover", NULL, "dutyd",
	    data, &seq)) != 0)
		goto out;
	log_info("handover at %s: %s coming on duty, %d open incident(s)", when,
	    shift, count);
	data = json_pack("{s:s, s:O, s:I, s:s, s:{s:s, s:i, s:s, s:s, s:I}}",
	    "event", "duty.handover", "recipients", recipients, "late_ms",
	    (json_int_t)(time_now_ms() - at), "link_action", "H", "handover",
	    "shift", shift, "count", count, "incidents", list, "note", note,
	    "seq", (json_int_t)seq);
	rc = data == NULL ? -ENOMEM : store_append("notify.intent", NOTIFY_DESK,
	    "dutyd", data, NULL);
out:
	json_decref(incoming);
	json_decref(recipients);
	json_decref(seen);
	json_decref(ids);
	json_decref(notes);
	json_decref(outgoing);
	free(list);
	free(note);
	return rc;
}

static void
desk_handover_cb(struct clock *c, void *arg)
{
	const struct config	*cfg = config_current();
	struct roster_oncall	 before, after;
	int64_t			 at = c->deadline_ms;
	int			 rc;

	if (roster_at(cfg, at - 1, &before) == 0 &&
	    roster_at(cfg, at, &after) == 0 &&
	    (rc = desk_handover(at, &before, &after)) != 0)
		log_errorx("cannot record the handover at the roster change "
		    "(%s); the incoming shift was not briefed by dutyd: brief "
		    "them in person", strerror(-rc));
	/* After this change, however late it was noticed: never twice. */
	desk_schedule(at);
}
