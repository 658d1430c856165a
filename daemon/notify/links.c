/*
 * links.c: one-tap links (一键确认).
 *
 * A link is issued with a notification: notify.c draws a stub (a random
 * id and the expiry) for each recipient who can still act, and the
 * notify.intent record carries it; applying the record registers it here
 * with its incident, person and action, and so does replay, and a
 * checkpoint keeps the live ones.  The token in a message is the stub
 * signed with the key the store keeps (links.key), so the log alone
 * cannot be used to act as anyone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/jintern.h"
#include "base/mac.h"
#include "config/config.h"
#include "notify/links.h"
#include "parse/linktoken.h"
#include "store/store.h"

#define LINKS_KEY_LEN	32
#define LINKS_KEY_NAME	"links.key"
/* How long an expired link is remembered, so its page can name the incident. */
#define LINKS_KEEP_MS	(7 * 24 * 3600 * INT64_C(1000))
/* Links registered at most; past it new messages carry details links. */
#define LINKS_MAX	(1024 * 1024)

/*
 * One per recipient of every intent, kept for a week past its expiry: the
 * incident and person are shared strings (jintern.h), not copies.
 */
struct link {
	RB_ENTRY(link)	 entry;		/* by stub: opening a token */
	RB_ENTRY(link)	 by_incident;	/* by incident, stub: checkpoints */
	json_t		*incident;
	json_t		*person;
	int64_t		 expiry_ms;
	char		 stub[LINKTOKEN_STUB_LEN + 1];
	char		 action;	/* 'A', 'P' */
};

RB_HEAD(link_tree, link);
RB_HEAD(link_inc_tree, link);

static unsigned char	links_key[LINKS_KEY_LEN];
static int		links_have_key;
static struct link_tree	links_tree = RB_INITIALIZER(&links_tree);
static struct link_inc_tree links_by_incident =
    RB_INITIALIZER(&links_by_incident);

/*
 * Link ids drawn from a pool filled 64 at a time: OpenSSL's RAND_bytes()
 * checks the process id on every call (a getpid() per message), and every
 * recipient of every notification gets a link.  Ids are not secrets once
 * issued (the log holds each stub); the pool's unused part is wiped at
 * shutdown.
 */
#define LINKS_POOL_IDS	64
static unsigned char	links_pool[LINKTOKEN_ID_LEN * LINKS_POOL_IDS];
static size_t		links_pool_used = sizeof(links_pool);

static size_t		links_count;

static int
links_cmp(struct link *a, struct link *b)
{
	return strcmp(a->stub, b->stub);
}

static int
links_inc_cmp(struct link *a, struct link *b)
{
	int c;

	if ((c = strcmp(json_string_value(a->incident),
	    json_string_value(b->incident))) != 0)
		return c;
	return strcmp(a->stub, b->stub);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(link_tree, link, entry, links_cmp)
RB_GENERATE_STATIC(link_inc_tree, link, by_incident, links_inc_cmp)

static void
links_remove(struct link *l)
{
	RB_REMOVE(link_tree, &links_tree, l);
	RB_REMOVE(link_inc_tree, &links_by_incident, l);
	json_decref(l->incident);
	json_decref(l->person);
	free(l);
	links_count--;
}

int
links_init(char *err, size_t errlen)
{
	int rc;

	OPENSSL_cleanse(links_key, sizeof(links_key));
	links_have_key = 0;
	if ((rc = store_secret(LINKS_KEY_NAME, links_key, sizeof(links_key),
	    err, errlen)) != 0)
		return rc;
	links_have_key = 1;
	return 0;
}

void
links_shutdown(void)
{
	struct link *l;

	OPENSSL_cleanse(links_key, sizeof(links_key));
	links_have_key = 0;
	OPENSSL_cleanse(links_pool, sizeof(links_pool));
	links_pool_used = sizeof(links_pool);
	mac_forget();	/* it keeps the key ready for the next link */
	while ((l = RB_MIN(link_tree, &links_tree)) != NULL)
		links_remove(l);
}

int
links_stub(int64_t expiry_ms, char *stub)
{
	unsigned char id[LINKTOKEN_ID_LEN];

	if (links_pool_used + sizeof(id) > sizeof(links_pool)) {
		if (RAND_bytes(links_pool, sizeof(links_pool)) != 1)
			return -EIO;
		links_pool_used = 0;
	}
	memcpy(id, links_pool + links_pool_used, sizeof(id));
	OPENSSL_cleanse(links_pool + links_pool_used, sizeof(id));
	links_pool_used += sizeof(id);
	return linktoken_stub(id, expiry_ms, stub);
}

static const struct link *
links_find(const char *stub)
{
	struct link key;

	snprintf(key.stub, sizeof(key.stub), "%s", stub);
	return RB_FIND(link_tree, &links_tree, &key);
}

int
links_register(const char *stub, const char *incident, const char *person,
    char action)
{
	struct link	*l;
	int64_t		 expiry;

	if (linktoken_stub_expiry(stub, &expiry) != 0 || incident == NULL ||
	    person == NULL || strlen(incident) > LINKTOKEN_FIELD_MAX ||
	    strlen(person) > LINKTOKEN_FIELD_MAX)
		return -EINVAL;
	/* Replayed again (a checkpoint and the intent): the same link. */
	if (links_find(stub) != NULL)
		return 0;
	/* Full (core_prune frees the expired): a details link instead. */
	if (links_count >= LINKS_MAX)
		return -ENOSPC;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	if ((l->incident = jintern_str(incident)) == NULL ||
	    (l->person = jintern_str(person)) == NULL) {
		json_decref(l->incident);
		free(l);
		/* Not UTF-8 (a peer's checkpoint line): as a bad id would be. */
		return -EINVAL;
	}
	snprintf(l->stub, sizeof(l->stub), "%s", stub);
	l->action = action;
	l->expiry_ms = expiry;
	RB_INSERT(link_tree, &links_tree, l);
	RB_INSERT(link_inc_tree, &links_by_incident, l);
	links_count++;
	return 0;
}

int
links_url(const struct config *cf, const char *stub, char **url)
{
	char		 token[LINKTOKEN_LEN + 1];
	const char	*pu;
	size_t		 ul, tl;
	int		 rc;

	*url = NULL;
	if (!links_have_key)
		return -ENOKEY;
	if ((rc = linktoken_sign(links_key, sizeof(links_key), stub,
	    token)) != 0)
		return rc;
	/* Copied, not asprintf()'d: a link in every message that can act. */
	pu = cf->public_url != NULL ? cf->public_url : "(null)";
	ul = strlen(pu);
	tl = strlen(token);
	if ((*url = malloc(ul + 3 + tl + 1)) == NULL)
		return -ENOMEM;
	memcpy(*url, pu, ul);
	memcpy(*url + ul, "/a/", 3);
	memcpy(*url + ul + 3, token, tl + 1);
	return 0;
}

int
links_open(const char *token, int64_t now_ms, struct links_link *out)
{
	char		 stub[LINKTOKEN_STUB_LEN + 1];
	const struct link *l;
	struct linktoken v1;
	int64_t		 expiry;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if (!links_have_key)
		return -ENOKEY;
	if (token == NULL || strlen(token) != LINKTOKEN_LEN) {
		/* A link sent before 0.2 carries its own fields. */
		rc = linktoken_v1_verify(links_key, sizeof(links_key), token,
		    now_ms, &v1);
		if (rc != 0 && rc != -ETIMEDOUT)
			return rc == -ENOMEM ? rc : -EBADMSG;
		snprintf(out->incident, sizeof(out->incident), "%s", v1.incident);
		snprintf(out->person, sizeof(out->person), "%s", v1.person);
		out->action = v1.action;
		out->expiry_ms = v1.expiry_ms;
		return rc;
	}
	rc = linktoken_open(links_key, sizeof(links_key), token, now_ms, stub,
	    &expiry);
	if (rc != 0 && rc != -ETIMEDOUT)
		return rc;
	if ((l = links_find(stub)) == NULL) {
		out->expiry_ms = expiry;
		/* Signed by us but forgotten: long expired, or never issued. */
		return rc == -ETIMEDOUT ? rc : -ENOENT;
	}
	snprintf(out->stub, sizeof(out->stub), "%s", l->stub);
	snprintf(out->incident, sizeof(out->incident), "%s",
	    json_string_value(l->incident));
	snprintf(out->person, sizeof(out->person), "%s",
	    json_string_value(l->person));
	out->action = l->action;
	out->expiry_ms = l->expiry_ms;
	return rc;
}

json_t *
links_snapshot(const char *incident)
{
	struct link	 key, *l;
	json_t		*list = json_array(), *o;

	if (list == NULL || strlen(incident) > LINKTOKEN_FIELD_MAX)
		return list;
	if ((key.incident = json_string(incident)) == NULL) {
		json_decref(list);
		return NULL;
	}
	key.stub[0] = '\0';
	for (l = RB_NFIND(link_inc_tree, &links_by_incident, &key); l != NULL;
	    l = RB_NEXT(link_inc_tree, &links_by_incident, l)) {
		if (strcmp(json_string_value(l->incident), incident) != 0)
			break;
		o = json_pack("{s:s, s:O, s:s#}", "stub", l->stub,
		    "person", l->person, "action", &l->action, 1);
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(key.incident);
			json_decref(list);
			return NULL;
		}
	}
	json_decref(key.incident);
	return list;
}

int
links_restore(const char *incident, json_t *list)
{
	const char	*action;
	json_t		*o;
	size_t		 i;
	int		 rc;

	json_array_foreach(list, i, o) {
		action = json_string_value(json_object_get(o, "action"));
		if (action == NULL || strlen(action) != 1)
			continue;
		if ((rc = links_register(json_string_value(json_object_get(o,
		    "stub")), incident, json_string_value(json_object_get(o,
		    "person")), action[0])) == -ENOMEM)
			return rc;
	}
	return 0;
}

void
links_prune(int64_t now_ms)
{
	struct link *l, *next;

	for (l = RB_MIN(link_tree, &links_tree); l != NULL; l = next) {
		next = RB_NEXT(link_tree, &links_tree, l);
		if (l->expiry_ms + LINKS_KEEP_MS <= now_ms)
			links_remove(l);
	}
}
