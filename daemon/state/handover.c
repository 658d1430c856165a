/*
 * handover.c: the recent handovers and the notes waiting for the next
 * one, rebuilt from duty.* records (see handover.h).  A ring of
 * HANDOVER_KEEP: the duty log reads older ones from the store, so only
 * what an accept or an alarm needs stays in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "state/handover.h"
#include "state/router.h"
#include "store/record.h"

static struct handover	*ring[HANDOVER_KEEP];	/* [0] the oldest */
static size_t		 nring;
static struct handover_note notes[HANDOVER_NOTES_MAX];
static size_t		 nnotes;
static void		(*overdue_fn)(int64_t);

static int handover_apply(const struct record *);

static void
handover_fire(struct clock *c, void *arg)
{
	struct handover *h = arg;

	if (overdue_fn != NULL && h->accepted_by == NULL && h->overdue_at == 0)
		overdue_fn(h->seq);
}

static void
handover_free(struct handover *h)
{
	size_t i;

	if (h == NULL)
		return;
	clock_free(&h->clock);
	for (i = 0; i < h->nincoming; i++) {
		free(h->incoming[i].person);
		free(h->incoming[i].role);
		free(h->incoming[i].link);
	}
	free(h->accepted_by);
	free(h);
}

static void
handover_notes_clear(void)
{
	size_t i;

	for (i = 0; i < nnotes; i++) {
		free(notes[i].text);
		free(notes[i].by);
	}
	nnotes = 0;
}

static void
handover_clear(void)
{
	size_t i;

	for (i = 0; i < nring; i++)
		handover_free(ring[i]);
	nring = 0;
	handover_notes_clear();
}

void
handover_init(void (*overdue)(int64_t))
{
	overdue_fn = overdue;
	router_own(ROUTER_HANDOVER, handover_apply);
}

void
handover_shutdown(void)
{
	handover_clear();
	overdue_fn = NULL;
}

const struct handover *
handover_latest(void)
{
	return nring > 0 ? ring[nring - 1] : NULL;
}

static struct handover *
handover_lookup(int64_t seq)
{
	size_t i;

	for (i = nring; i > 0; i--)
		if (ring[i - 1]->seq == seq)
			return ring[i - 1];
	return NULL;
}

const struct handover *
handover_find(int64_t seq)
{
	return handover_lookup(seq);
}

const struct handover *
handover_by_link(const char *stub)
{
	size_t i, j;

	for (i = nring; stub != NULL && i > 0; i--)
		for (j = 0; j < ring[i - 1]->nincoming; j++)
			if (ring[i - 1]->incoming[j].link != NULL &&
			    strcmp(ring[i - 1]->incoming[j].link, stub) == 0)
				return ring[i - 1];
	return NULL;
}

size_t
handover_notes(const struct handover_note **out)
{
	*out = notes;
	return nnotes;
}

int
handover_any(void)
{
	return nring > 0 || nnotes > 0;
}

void
handover_rearm(int64_t seq, int64_t at)
{
	struct handover *h = handover_lookup(seq);

	if (h != NULL)
		clock_arm(&h->clock, at);
}

static int
handover_pending(const struct handover *h)
{
	return h->accept_by > 0 && h->accepted_by == NULL && h->overdue_at == 0;
}

/* The clock runs while the handover waits to be accepted and nobody was told. */
static void
handover_arm(struct handover *h)
{
	if (handover_pending(h))
		clock_arm(&h->clock, h->accept_by);
	else
		clock_disarm(&h->clock);
}

static int64_t
handover_time(const json_t *v)
{
	int64_t ms = 0;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (time_parse(json_string_value(v), &ms) != 0)
		return 0;
	return ms;
}

static char *
handover_dup(const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? strdup(s) : NULL;
}

/* A handover from its record's data (or its checkpoint form); NULL: no memory. */
static struct handover *
handover_new(int64_t seq, const json_t *o)
{
	struct handover	*h;
	json_t		*in, *p;
	size_t		 i;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->seq = seq;
	h->at = handover_time(json_object_get(o, "at"));
	h->accept_by = handover_time(json_object_get(o, "accept_by"));
	clock_init(&h->clock, handover_fire, h);
	in = json_object_get(o, "incoming");
	json_array_foreach(in, i, p) {
		struct handover_person *hp;

		if (h->nincoming == HANDOVER_INCOMING_MAX)
			break;
		if (json_string_value(json_object_get(p, "person")) == NULL)
			continue;
		hp = &h->incoming[h->nincoming++];
		hp->person = handover_dup(json_object_get(p, "person"));
		hp->role = handover_dup(json_object_get(p, "role"));
		hp->link = handover_dup(json_object_get(p, "link"));
		if (hp->person == NULL || (hp->role == NULL &&
		    json_object_get(p, "role") != NULL) || (hp->link == NULL &&
		    json_object_get(p, "link") != NULL)) {
			handover_free(h);
			return NULL;
		}
	}
	return h;
}

/*
 * Full: the oldest one done with goes (accepted, or its alarm told), so
 * that a busy roster cannot push out a handover whose alarm is still owed.
 */
static void
handover_push(struct handover *h)
{
	size_t i;

	if (nring == HANDOVER_KEEP) {
		for (i = 0; i < nring && handover_pending(ring[i]); i++)
			;
		if (i == nring)
			i = 0;
		handover_free(ring[i]);
		memmove(ring + i, ring + i + 1, (nring - i - 1) * sizeof(ring[0]));
		nring--;
	}
	ring[nring++] = h;
}

static int
handover_note_add(const json_t *o, int64_t at)
{
	struct handover_note *n;

	if (nnotes == HANDOVER_NOTES_MAX)
		return 0;	/* the action refuses more; the log has it anyway */
	n = &notes[nnotes];
	n->text = handover_dup(json_object_get(o, "text"));
	n->by = handover_dup(json_object_get(o, "by"));
	n->at = at;
	if (n->text == NULL || n->by == NULL) {
		free(n->text);
		free(n->by);
		return -ENOMEM;
	}
	nnotes++;
	return 0;
}

static int
handover_apply(const struct record *r)
{
	struct handover	*h;
	json_t		*d = r->data;

	if (strcmp(r->event, "duty.handover") == 0) {
		if ((h = handover_new(r->seq, d)) == NULL)
			return -ENOMEM;
		handover_push(h);
		/* The notes written before it were handed over with it. */
		handover_notes_clear();
		handover_arm(h);
		return 0;
	}
	if (strcmp(r->event, "duty.handover_note") == 0)
		return handover_note_add(d, r->ts_ms);
	h = handover_lookup(json_integer_value(json_object_get(d,
	    "handover_seq")));
	if (h == NULL) {
		/* Before a checkpoint's part (which holds it), or long gone. */
		log_debug("audit seq %lld: %s of a handover not kept",
		    (long long)r->seq, r->event);
		return 0;
	}
	if (strcmp(r->event, "duty.handover_accepted") == 0) {
		free(h->accepted_by);
		if ((h->accepted_by = handover_dup(json_object_get(d, "by"))) ==
		    NULL)
			return -ENOMEM;
		h->accepted_at = r->ts_ms;
		h->late_ms = json_integer_value(json_object_get(d, "late_ms"));
	} else if (strcmp(r->event, "duty.accept_overdue") == 0)
		h->overdue_at = r->ts_ms;
	handover_arm(h);
	return 0;
}

json_t *
handover_snapshot(void)
{
	json_t	*list = json_array(), *nl = json_array(), *o, *in;
	size_t	 i, j;

	if (list == NULL || nl == NULL)
		goto fail;
	for (i = 0; i < nring; i++) {
		const struct handover *h = ring[i];

		if ((in = json_array()) == NULL)
			goto fail;
		for (j = 0; j < h->nincoming; j++)
			json_array_append_new(in, json_pack("{s:s, s:s?, s:s?}",
			    "person", h->incoming[j].person, "role",
			    h->incoming[j].role, "link", h->incoming[j].link));
		o = json_pack("{s:I, s:I, s:I, s:o, s:s?, s:I, s:I, s:I}", "seq",
		    (json_int_t)h->seq, "at", (json_int_t)h->at, "accept_by",
		    (json_int_t)h->accept_by, "incoming", in, "accepted_by",
		    h->accepted_by, "accepted_at", (json_int_t)h->accepted_at,
		    "late_ms", (json_int_t)h->late_ms, "overdue_at",
		    (json_int_t)h->overdue_at);
		if (o == NULL || json_array_append_new(list, o) != 0 ||
		    json_array_size(in) != h->nincoming)
			goto fail;
	}
	for (i = 0; i < nnotes; i++)
		if (json_array_append_new(nl, json_pack("{s:s, s:s, s:I}", "text",
		    notes[i].text, "by", notes[i].by, "at",
		    (json_int_t)notes[i].at)) != 0)
			goto fail;
	return json_pack("{s:o, s:o}", "handovers", list, "notes", nl);
fail:
	json_decref(list);
	json_decref(nl);
	return NULL;
}

int
handover_restore(const json_t *o)
{
	struct handover	*h;
	json_t		*v;
	size_t		 i;

	/* The part holds everything as it was when written: it replaces. */
	handover_clear();
	json_array_foreach(json_object_get(o, "handovers"), i, v) {
		if ((h = handover_new(json_integer_value(json_object_get(v,
		    "seq")), v)) == NULL)
			return -ENOMEM;
		if (json_string_value(json_object_get(v, "accepted_by")) != NULL &&
		    (h->accepted_by = handover_dup(json_object_get(v,
		    "accepted_by"))) == NULL) {
			handover_free(h);
			return -ENOMEM;
		}
		h->accepted_at = json_integer_value(json_object_get(v,
		    "accepted_at"));
		h->late_ms = json_integer_value(json_object_get(v, "late_ms"));
		h->overdue_at = json_integer_value(json_object_get(v,
		    "overdue_at"));
		handover_push(h);
		handover_arm(h);
	}
	json_array_foreach(json_object_get(o, "notes"), i, v)
		if (handover_note_add(v, json_integer_value(json_object_get(v,
		    "at"))) != 0)
			return -ENOMEM;
	return 0;
}
