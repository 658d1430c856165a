/*
 * smsseen.c: the gateway message ids already taken, so that a message a
 * gateway delivers again changes nothing.  Bounded: the oldest are
 * forgotten first; the idempotency keys of reports and follow-ups cover
 * what is forgotten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <bsd/sys/tree.h>

#include "base/log.h"
#include "state/router.h"
#include "state/smsseen.h"
#include "store/record.h"

#define SMSSEEN_MAX	10000	/* gateway message ids remembered */

/* Ids a gateway delivered, oldest first: a re-delivery changes nothing. */
struct smsseen {
	RB_ENTRY(smsseen)	 node;
	TAILQ_ENTRY(smsseen)	 age;
	char			*key;	/* "twilio:SM..." */
};

RB_HEAD(smsseen_tree, smsseen);
TAILQ_HEAD(smsseen_list, smsseen);

static struct smsseen_tree	 seen_tree = RB_INITIALIZER(&seen_tree);
static struct smsseen_list	 seen_age = TAILQ_HEAD_INITIALIZER(seen_age);
static size_t			 nseen;

static int
smsseen_cmp(struct smsseen *a, struct smsseen *b)
{
	return strcmp(a->key, b->key);
}

/* libbsd's tree.h leaves __unused to us; define it after system headers. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(smsseen_tree, smsseen, node, smsseen_cmp)

static int
smsseen_key(const char *provider, const char *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s:%s", provider, id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
smsseen_has(const char *provider, const char *id)
{
	struct smsseen	 probe;
	char		 key[16 + SMSSEEN_ID_MAX + 2];

	if (smsseen_key(provider, id, key, sizeof(key)) != 0)
		return 0;
	probe.key = key;
	return RB_FIND(smsseen_tree, &seen_tree, &probe) != NULL;
}

static void
smsseen_drop(struct smsseen *s)
{
	RB_REMOVE(smsseen_tree, &seen_tree, s);
	TAILQ_REMOVE(&seen_age, s, age);
	free(s->key);
	free(s);
	nseen--;
}

void
smsseen_add(const char *provider, const char *id)
{
	struct smsseen	*s;
	char		 key[16 + SMSSEEN_ID_MAX + 2];

	if (smsseen_key(provider, id, key, sizeof(key)) != 0 ||
	    smsseen_has(provider, id))
		return;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->key = strdup(key)) == NULL) {
		/* The idempotency keys still stop a second report. */
		log_debug("sms: out of memory remembering message %s", key);
		free(s);
		return;
	}
	RB_INSERT(smsseen_tree, &seen_tree, s);
	TAILQ_INSERT_TAIL(&seen_age, s, age);
	if (++nseen > SMSSEEN_MAX)
		smsseen_drop(TAILQ_FIRST(&seen_age));
}

void
smsseen_clear(void)
{
	while (!TAILQ_EMPTY(&seen_age))
		smsseen_drop(TAILQ_FIRST(&seen_age));
}

/* sms.received: the gateway's message id is taken. */
static int
smsseen_apply(const struct record *r)
{
	const char *provider, *id;

	provider = json_string_value(json_object_get(r->data, "provider"));
	id = json_string_value(json_object_get(r->data, "id"));
	if (provider != NULL && id != NULL)
		smsseen_add(provider, id);
	return 0;
}

void
smsseen_init(void)
{
	router_own(ROUTER_SMSSEEN, smsseen_apply);
}
