/*
 * replycode.c: which incident "3A" from a phone means.  A code is the
 * smallest number not in use on that phone, so night staff type one or two
 * digits; it is reused once its incident is resolved.  The table is built
 * from notify.intent records (and checkpoints), never written on its own.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "state/replycode.h"
#include "state/router.h"
#include "store/record.h"

#define REPLYCODE_MAX	9999	/* what smsin_reply_parse() accepts */

struct replycode {
	TAILQ_ENTRY(replycode) entry;
	char		*phone;
	char		*incident;
	int		 code;
	/*
	 * The record that gave it: the latest wins.  A record's seq, not an
	 * order of applying, so a checkpoint restoring incidents one by one
	 * keeps which one the phone heard of last.
	 */
	int64_t		 seq;
};

static TAILQ_HEAD(, replycode)	codes = TAILQ_HEAD_INITIALIZER(codes);

static struct replycode *
lookup(const char *phone, const char *incident, int code)
{
	struct replycode *r;

	TAILQ_FOREACH(r, &codes, entry)
		if (strcmp(r->phone, phone) == 0 &&
		    (incident == NULL || strcmp(r->incident, incident) == 0) &&
		    (code == 0 || r->code == code))
			return r;
	return NULL;
}

static void
replycode_free(struct replycode *r)
{
	TAILQ_REMOVE(&codes, r, entry);
	free(r->phone);
	free(r->incident);
	free(r);
}

int
replycode_for(const char *phone, const char *incident)
{
	struct replycode	*r;
	int			 code;

	if ((r = lookup(phone, incident, 0)) != NULL)
		return r->code;
	for (code = 1; code < REPLYCODE_MAX; code++)
		if (lookup(phone, NULL, code) == NULL)
			break;
	return code;
}

void
replycode_set(const char *phone, int code, const char *incident, int64_t seq)
{
	struct replycode *r;

	if (phone == NULL || incident == NULL || code < 1 || code > REPLYCODE_MAX)
		return;
	/* Whatever held the code before is superseded: the record says so. */
	if ((r = lookup(phone, NULL, code)) != NULL) {
		struct replycode *old = lookup(phone, incident, 0);

		if (old != NULL && old != r)
			replycode_free(old);
	} else if ((r = lookup(phone, incident, 0)) == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return;	/* the reply then finds no code: it is answered so */
		TAILQ_INSERT_TAIL(&codes, r, entry);
	}
	/* A delivery restored after its incident's codes is no later news. */
	if (r->incident == NULL || strcmp(r->incident, incident) != 0 ||
	    seq > r->seq)
		r->seq = seq;
	free(r->phone);
	free(r->incident);
	r->phone = strdup(phone);
	r->incident = strdup(incident);
	r->code = code;
	if (r->phone == NULL || r->incident == NULL) {
		TAILQ_REMOVE(&codes, r, entry);
		free(r->phone);
		free(r->incident);
		free(r);
	}
}

/* Closing frees the incident's codes (followed through the router). */
static int
replycode_follow(const struct record *r)
{
	if (r->incident != NULL && (strcmp(r->event, "incident.resolved") == 0 ||
	    strcmp(r->event, "incident.merged") == 0 ||
	    strcmp(r->event, "incident.dismissed") == 0))
		replycode_release(r->incident);
	return 0;
}

void
replycode_init(void)
{
	router_follow("incident.", replycode_follow);
}

void
replycode_release(const char *incident)
{
	struct replycode *r, *next;

	for (r = TAILQ_FIRST(&codes); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (strcmp(r->incident, incident) == 0)
			replycode_free(r);
	}
}

const char *
replycode_find(const char *phone, int code)
{
	struct replycode *r = code > 0 ? lookup(phone, NULL, code) : NULL;

	return r != NULL ? r->incident : NULL;
}

const char *
replycode_latest(const char *phone)
{
	struct replycode *r, *best = NULL;

	TAILQ_FOREACH(r, &codes, entry)
		if (strcmp(r->phone, phone) == 0 &&
		    (best == NULL || r->seq > best->seq))
			best = r;
	return best != NULL ? best->incident : NULL;
}

json_t *
replycode_snapshot(const char *incident)
{
	struct replycode	*r;
	json_t			*list = json_array();

	TAILQ_FOREACH(r, &codes, entry)
		if (list != NULL && strcmp(r->incident, incident) == 0)
			json_array_append_new(list, json_pack("{s:s, s:i, s:I}",
			    "phone", r->phone, "code", r->code, "seq",
			    (json_int_t)r->seq));
	return list;
}

void
replycode_restore(const char *incident, json_t *list)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(list, i, o)
		replycode_set(json_string_value(json_object_get(o, "phone")),
		    (int)json_integer_value(json_object_get(o, "code")), incident,
		    json_integer_value(json_object_get(o, "seq")));
}

void
replycode_shutdown(void)
{
	while (!TAILQ_EMPTY(&codes))
		replycode_free(TAILQ_FIRST(&codes));
}
