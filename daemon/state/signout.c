/*
 * signout.c: the sessions signed out before they expired (see signout.h).
 * Two trees over the same entries: by id, to refuse a cookie; by expiry,
 * to forget those that expired (and, at the cap, the nearest expiry)
 * without walking them all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <jansson.h>

#include "base/timeutil.h"
#include "parse/sesstoken.h"
#include "state/router.h"
#include "state/signout.h"
#include "store/record.h"

struct signout {
	RB_ENTRY(signout)	 by_id;
	RB_ENTRY(signout)	 by_expiry;
	char			 id[SESSTOKEN_ID_HEX];
	int64_t			 expiry_ms;
};

RB_HEAD(signout_ids, signout);
RB_HEAD(signout_expiries, signout);

static struct signout_ids	 signout_ids = RB_INITIALIZER(&signout_ids);
static struct signout_expiries	 signout_expiries =
    RB_INITIALIZER(&signout_expiries);
static size_t			 signout_n;

static int
signout_id_cmp(struct signout *a, struct signout *b)
{
	return strcmp(a->id, b->id);
}

static int
signout_expiry_cmp(struct signout *a, struct signout *b)
{
	if (a->expiry_ms != b->expiry_ms)
		return a->expiry_ms < b->expiry_ms ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* libbsd's tree.h leaves __unused to us; define it after system headers. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(signout_ids, signout, by_id, signout_id_cmp)
RB_GENERATE_STATIC(signout_expiries, signout, by_expiry, signout_expiry_cmp)

static void
signout_drop(struct signout *s)
{
	RB_REMOVE(signout_ids, &signout_ids, s);
	RB_REMOVE(signout_expiries, &signout_expiries, s);
	free(s);
	signout_n--;
}

/* Those expired by NOW go: their cookies are refused for that already. */
static void
signout_prune(int64_t now_ms)
{
	struct signout *s;

	while ((s = RB_MIN(signout_expiries, &signout_expiries)) != NULL &&
	    s->expiry_ms <= now_ms)
		signout_drop(s);
}

static int
signout_id_ok(const char *id)
{
	return id != NULL && strlen(id) == SESSTOKEN_ID_HEX - 1 &&
	    strspn(id, "0123456789abcdef") == SESSTOKEN_ID_HEX - 1;
}

/* 0, -EINVAL (not a session id) or -ENOMEM. */
static int
signout_add(const char *id, int64_t expiry_ms, int64_t now_ms)
{
	struct signout	*s, probe;

	if (!signout_id_ok(id))
		return -EINVAL;
	signout_prune(now_ms);
	if (expiry_ms <= now_ms)
		return 0;
	snprintf(probe.id, sizeof(probe.id), "%s", id);
	if (RB_FIND(signout_ids, &signout_ids, &probe) != NULL)
		return 0;
	if (signout_n >= SIGNOUT_MAX)
		signout_drop(RB_MIN(signout_expiries, &signout_expiries));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	memcpy(s->id, probe.id, sizeof(s->id));
	s->expiry_ms = expiry_ms;
	RB_INSERT(signout_ids, &signout_ids, s);
	RB_INSERT(signout_expiries, &signout_expiries, s);
	signout_n++;
	return 0;
}

/* "session", "expires_at" of one entry; -EINVAL when they are not. */
static int
signout_add_json(const json_t *o, int64_t now_ms)
{
	const char	*id = json_string_value(json_object_get(o, "session"));
	const char	*at = json_string_value(json_object_get(o, "expires_at"));
	int64_t		 expiry;

	if (at == NULL || time_parse(at, &expiry) != 0)
		return -EINVAL;
	return signout_add(id, expiry, now_ms);
}

/*
 * A damaged entry is skipped, not fatal: the worst it does is let one
 * signed-out cookie work until it expires.
 */
static int
signout_apply(const struct record *r)
{
	int rc;

	if (strcmp(r->event, "session.ended") != 0)
		return 0;
	rc = signout_add_json(r->data, time_now_ms());
	return rc == -ENOMEM ? rc : 0;
}

void
signout_init(void)
{
	router_own(ROUTER_SESSION, signout_apply);
}

int
signout_has(const char *id)
{
	struct signout probe;

	if (!signout_id_ok(id))
		return 0;
	memcpy(probe.id, id, sizeof(probe.id));
	return RB_FIND(signout_ids, &signout_ids, &probe) != NULL;
}

json_t *
signout_snapshot(int64_t now_ms)
{
	struct signout	*s;
	json_t		*list, *o;
	char		 at[TIME_RFC3339_MAX];

	signout_prune(now_ms);
	if ((list = json_array()) == NULL)
		return NULL;
	RB_FOREACH(s, signout_expiries, &signout_expiries) {
		o = json_pack("{s:s, s:s}", "session", s->id, "expires_at",
		    time_format(s->expiry_ms, at, sizeof(at)));
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return json_pack("{s:o}", "sessions", list);
}

int
signout_restore(const json_t *data)
{
	json_t		*o;
	size_t		 i;
	int64_t		 now = time_now_ms();

	json_array_foreach(json_object_get(data, "sessions"), i, o)
		if (signout_add_json(o, now) == -ENOMEM)
			return -ENOMEM;
	return 0;
}

size_t
signout_count(void)
{
	return signout_n;
}

void
signout_clear(void)
{
	struct signout *s;

	while ((s = RB_MIN(signout_ids, &signout_ids)) != NULL)
		signout_drop(s);
}
