/*
 * handact.c: the handover's note, its acceptance, and the alarm when
 * nobody accepted it in time (see handact.h).  The state is
 * state/handover.c's; the messages ride the duty desk (NOTIFY_DESK).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/handact.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "config/roster.h"
#include "notify/notify.h"
#include "state/handover.h"
#include "store/store.h"

int
handact_note(const char *person, const char *text)
{
	const struct handover_note	*n;
	char				 actor[128];
	json_t				*data;

	if (handover_notes(&n) >= HANDOVER_NOTES_MAX)
		return -ENOSPC;
	if ((data = json_pack("{s:s, s:s}", "text", text, "by", person)) == NULL)
		return -ENOMEM;
	snprintf(actor, sizeof(actor), "person:%s", person);
	return store_append("duty.handover_note", NULL, actor, data, NULL);
}

int
handact_may_accept(const struct handover *h, const char *person)
{
	struct roster_oncall	 oc;
	size_t			 i, j;

	for (i = 0; i < h->nincoming; i++)
		if (strcmp(h->incoming[i].person, person) == 0)
			return 1;
	/* A team's member who stayed on is on the incoming shift too. */
	if (roster_at(config_current(), time_now_ms(), &oc) != 0)
		return 0;
	for (i = 0; i < oc.nofficers; i++) {
		if (strcmp(oc.officers[i].person, person) != 0)
			continue;
		for (j = 0; j < h->nincoming; j++)
			if (h->incoming[j].role != NULL &&
			    strcmp(h->incoming[j].role, oc.officers[i].role) == 0)
				return 1;
	}
	return 0;
}

int
handact_accept(const struct handover *h, const char *person, const char *via)
{
	char	 actor[128];
	json_t	*data;
	int64_t	 now = time_now_ms(), late;

	if (h->accepted_by != NULL)
		return -EALREADY;
	if (!handact_may_accept(h, person))
		return -EPERM;
	late = h->accept_by > 0 && now > h->accept_by ? now - h->accept_by : 0;
	data = json_pack("{s:I, s:s, s:I, s:s}", "handover_seq",
	    (json_int_t)h->seq, "by", person, "late_ms", (json_int_t)late, "via",
	    via);
	if (data == NULL)
		return -ENOMEM;
	snprintf(actor, sizeof(actor), "person:%s", person);
	return store_append("duty.handover_accepted", NULL, actor, data, NULL);
}

static const char *
handact_name(const char *id)
{
	const struct config_person *p = config_person(config_current(), id);

	return p != NULL ? p->name : id;
}

/* WHAT of each incoming, once each: 0 names (、), 1 roles (、), 2 how to reach them (；). */
static char *
handact_join(const struct handover *h, int what)
{
	const struct config_person *p;
	char	*out = NULL, *next;
	const char *s, *to;
	size_t	 i, j;

	if ((out = strdup("")) == NULL)
		return NULL;
	for (i = 0; i < h->nincoming; i++) {
		const struct handover_person *hp = &h->incoming[i];

		/* The same person (or role) twice reads once. */
		for (j = 0; j < i; j++)
			if (what == 1 ? (hp->role != NULL && h->incoming[j].role !=
			    NULL && strcmp(hp->role, h->incoming[j].role) == 0) :
			    strcmp(hp->person, h->incoming[j].person) == 0)
				break;
		if (j < i)
			continue;
		if (what == 0)
			s = handact_name(hp->person);
		else if (what == 1)
			s = hp->role == NULL ? "" : strcmp(hp->role, "leader") == 0 ?
			    "带班领导" : hp->role;
		else
			s = NULL;
		if (what == 2) {
			/* A phone first: a tired leader calls. */
			p = config_person(config_current(), hp->person);
			to = p == NULL ? NULL : p->nphones > 0 ? p->phones[0] :
			    p->ncontacts > 0 ? p->contacts[0].to : NULL;
			if (asprintf(&next, "%s%s%s %s", out, *out ? "；" : "",
			    handact_name(hp->person), to != NULL ? to :
			    "（未配置联系方式）") == -1)
				next = NULL;
		} else if (asprintf(&next, "%s%s%s", out, *out ? "、" : "", s) == -1)
			next = NULL;
		free(out);
		if ((out = next) == NULL)
			return NULL;
	}
	return out;
}

char *
handact_incoming_names(const struct handover *h)
{
	return handact_join(h, 0);
}

/* The leader on duty is told: who should have accepted, since when, how to reach them. */
static int
handact_tell_leader(const struct handover *h, int64_t seq, int64_t late)
{
	const struct config	*cfg = config_current();
	struct roster_oncall	 oc;
	char			 since[32], deadline[32];
	char			*who = NULL, *shift = NULL, *reach = NULL;
	json_t			*list = json_array(), *seen = json_object();
	json_t			*data = NULL, *on_duty = NULL;
	int			 rc = -ENOMEM;

	if (list == NULL || seen == NULL ||
	    (who = handact_join(h, 0)) == NULL ||
	    (shift = handact_join(h, 1)) == NULL ||
	    (reach = handact_join(h, 2)) == NULL)
		goto out;
	if ((rc = roster_at(cfg, time_now_ms(), &oc)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((on_duty = notify_oncall_json(&oc)) == NULL ||
	    notify_add_named(list, seen, cfg, &oc, "leader",
	    "the handover was not accepted", NULL) != 0)
		goto out;
	if (json_array_size(list) == 0)
		log_warnx("handover at seq %lld not accepted, and no leader on "
		    "duty to tell; check the duty roster", (long long)seq);
	time_local(h->at, "%m-%d %H:%M", since, sizeof(since));
	time_local(h->accept_by, "%H:%M", deadline, sizeof(deadline));
	data = json_pack("{s:s, s:O, s:I, s:O, s:{s:I, s:s, s:s, s:s, s:s, "
	    "s:s}}", "event", "duty.accept_overdue", "recipients", list,
	    "late_ms", (json_int_t)late, "on_duty", on_duty, "handover", "seq",
	    (json_int_t)seq, "shift", shift, "since", since, "deadline",
	    deadline, "who", who, "reach", reach);
	rc = data == NULL ? -ENOMEM : store_append("notify.intent", NOTIFY_DESK,
	    "dutyd", data, NULL);
out:
	json_decref(list);
	json_decref(seen);
	json_decref(on_duty);
	free(who);
	free(shift);
	free(reach);
	return rc;
}

void
handact_overdue(int64_t seq)
{
	const struct handover	*h = handover_find(seq);
	int64_t			 now = time_now_ms(), late;
	json_t			*data, *in;
	size_t			 i;
	int			 rc;

	if (h == NULL || h->accepted_by != NULL || h->overdue_at != 0)
		return;
	late = now > h->accept_by ? now - h->accept_by : 0;
	if ((in = json_array()) == NULL)
		goto failed;
	for (i = 0; i < h->nincoming; i++)
		json_array_append_new(in, json_string(h->incoming[i].person));
	data = json_pack("{s:I, s:I, s:o}", "handover_seq", (json_int_t)seq,
	    "late_ms", (json_int_t)late, "incoming", in);
	if (data == NULL)
		goto failed;
	if ((rc = store_append("duty.accept_overdue", NULL, "dutyd", data,
	    NULL)) != 0) {
		log_errorx("handover at seq %lld not accepted in time, and that "
		    "cannot be recorded (%s); retrying every second",
		    (long long)seq, strerror(-rc));
		handover_rearm(seq, now + 1000);
		return;
	}
	log_info("handover at seq %lld not accepted by its deadline; telling "
	    "the leader on duty", (long long)seq);
	/* Recorded: never again.  The message alone can fail (no memory). */
	if ((h = handover_find(seq)) != NULL &&
	    (rc = handact_tell_leader(h, seq, late)) != 0)
		log_warnx("handover at seq %lld: the leader on duty could not be "
		    "told that nobody accepted it (%s); phone them",
		    (long long)seq, strerror(-rc));
	return;
failed:
	log_errorx("handover at seq %lld: out of memory for its alarm; "
	    "retrying every second", (long long)seq);
	handover_rearm(seq, now + 1000);
}
