/*
 * increport.c: an incident's report as text (see increport.h).  Open
 * incidents are mostly waiting: of 100,000 the duty room reads a handful,
 * while each tree held for the rest cost as much as the incident's other
 * state together.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "base/jfast.h"
#include "state/increport.h"
#include "store/record.h"

/* A kept tree; least recently read first in the list. */
struct increport_slot {
	TAILQ_ENTRY(increport_slot) lru;
	struct increport	*owner;	/* NULL: free */
	json_t			*tree;
};

TAILQ_HEAD(increport_lru, increport_slot);

static struct increport_slot	increport_slots[INCREPORT_KEPT];
static struct increport_lru	increport_lru = TAILQ_HEAD_INITIALIZER(increport_lru);
static int			increport_ready;

static void
increport_init(void)
{
	size_t i;

	if (increport_ready)
		return;
	for (i = 0; i < INCREPORT_KEPT; i++)
		TAILQ_INSERT_TAIL(&increport_lru, &increport_slots[i], lru);
	increport_ready = 1;
}

static void
increport_drop(struct increport_slot *s)
{
	if (s->owner != NULL)
		s->owner->slot = 0;
	json_decref(s->tree);
	s->owner = NULL;
	s->tree = NULL;
	/* Free slots are taken first. */
	TAILQ_REMOVE(&increport_lru, s, lru);
	TAILQ_INSERT_HEAD(&increport_lru, s, lru);
}

/* TREE (a reference the slot takes over) kept as R's, in place of the least recently read. */
static void
increport_put(struct increport *r, json_t *tree)
{
	struct increport_slot *s;

	increport_init();
	s = TAILQ_FIRST(&increport_lru);
	increport_drop(s);
	s->owner = r;
	s->tree = tree;
	r->slot = (uint16_t)(s - increport_slots + 1);
	TAILQ_REMOVE(&increport_lru, s, lru);
	TAILQ_INSERT_TAIL(&increport_lru, s, lru);
}

/* The members of D but KEY, before and after it, as two objects. */
static int
increport_split(json_t *d, const char *key, json_t **before, json_t **after)
{
	const char	*k;
	json_t		*v;
	int		 seen = 0;

	*before = json_object();
	*after = json_object();
	if (*before == NULL || *after == NULL)
		return -ENOMEM;
	json_object_foreach(d, k, v) {
		if (strcmp(k, key) == 0)
			seen = 1;
		else if (json_object_set(seen ? *after : *before, k, v) != 0)
			return -ENOMEM;
	}
	return 0;
}

int
increport_locate(json_t *d, const char *key, const char *text, size_t len,
    size_t *off, size_t *vlen)
{
	json_t	*before = NULL, *after = NULL;
	char	*b = NULL, *a = NULL;
	size_t	 bl, al, kl, at, tail;
	int	 rc;

	if (!json_is_object(d))
		return -EINVAL;
	if (json_object_get(d, key) == NULL)
		return -ENOENT;
	/* The text is {<before>,"key":<value>,<after>}, each part jansson's. */
	if ((rc = increport_split(d, key, &before, &after)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((b = json_dumps(before, JSON_COMPACT)) == NULL ||
	    (a = json_dumps(after, JSON_COMPACT)) == NULL)
		goto out;
	rc = -EINVAL;
	bl = strlen(b) - 1;		/* without its } */
	al = strlen(a) - 1;		/* without its { */
	kl = strlen(key);
	at = bl + (json_object_size(before) > 0) + kl + 3;
	tail = json_object_size(after) > 0 ? al + 1 : 1;
	if (len < at + tail + 1 || memcmp(text, b, bl) != 0 ||
	    (json_object_size(before) > 0 && text[bl] != ','))
		goto out;
	if (text[at - kl - 3] != '"' || memcmp(text + at - kl - 2, key, kl) != 0 ||
	    text[at - 2] != '"' || text[at - 1] != ':')
		goto out;
	if (json_object_size(after) > 0 ? (text[len - tail] != ',' ||
	    memcmp(text + len - al, a + 1, al) != 0) : text[len - 1] != '}')
		goto out;
	*off = at;
	*vlen = len - tail - at;
	rc = 0;
out:
	free(b);
	free(a);
	json_decref(before);
	json_decref(after);
	return rc;
}

int
increport_keep(struct increport *r, json_t *d, const struct record *rec)
{
	json_t		*report = json_object_get(d, "report");
	const char	*text = NULL;
	char		*dump = NULL;
	size_t		 len = 0, off, vlen;
	int		 rc = -EINVAL;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(d) || !json_is_object(report))
		return -EINVAL;
	/* Live, the report's bytes were spliced in; replayed, the line has them. */
	if (rec != NULL && rec->data == d && rec->data_text != NULL) {
		text = rec->data_text;
		len = rec->data_textlen;
		if (rec->spliced_key != NULL &&
		    strcmp(rec->spliced_key, "report") == 0) {
			off = rec->spliced_off;
			vlen = rec->spliced_len;
			rc = 0;
		} else
			rc = increport_locate(d, "report", text, len, &off, &vlen);
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		/* A checkpoint's, or a line not as dutyd writes them: dumped. */
		if ((dump = json_dumps(d, JSON_COMPACT)) == NULL)
			return -ENOMEM;
		text = dump;
		len = strlen(dump);
		if ((rc = increport_locate(d, "report", text, len, &off,
		    &vlen)) != 0) {
			free(dump);
			return rc;
		}
	}
	if (len > UINT32_MAX || (r->data = dump != NULL ? dump :
	    malloc(len + 1)) == NULL) {
		free(dump);
		return len > UINT32_MAX ? -EINVAL : -ENOMEM;
	}
	if (dump == NULL) {
		memcpy(r->data, text, len);
		r->data[len] = '\0';
	}
	r->datalen = (uint32_t)len;
	r->off = (uint32_t)off;
	r->len = (uint32_t)vlen;
	/* Just received: about to be told and shown. */
	increport_put(r, json_incref(report));
	return 0;
}

void
increport_clear(struct increport *r)
{
	if (r->slot != 0)
		increport_drop(&increport_slots[r->slot - 1]);
	free(r->data);
	memset(r, 0, sizeof(*r));
}

static json_t *
increport_load(const char *text, size_t len)
{
	json_t *v;

	if ((v = jfast_load(text, len)) == NULL)
		v = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	return v;
}

json_t *
increport_tree(const struct increport *cr)
{
	/* Which trees are kept is no part of the incident's state. */
	struct increport	*r = (struct increport *)(uintptr_t)cr;
	struct increport_slot	*s;
	json_t			*tree;

	if (r->data == NULL)
		return NULL;
	if (r->slot != 0) {
		s = &increport_slots[r->slot - 1];
		TAILQ_REMOVE(&increport_lru, s, lru);
		TAILQ_INSERT_TAIL(&increport_lru, s, lru);
		return s->tree;
	}
	if ((tree = increport_load(r->data + r->off, r->len)) == NULL)
		return NULL;
	increport_put(r, tree);
	return tree;
}

const char *
increport_text(const struct increport *r, size_t *len)
{
	*len = r->len;
	return r->data != NULL ? r->data + r->off : NULL;
}

json_t *
increport_data(const struct increport *r)
{
	return r->data != NULL ? increport_load(r->data, r->datalen) : NULL;
}

void
increport_forget(void)
{
	size_t i;

	if (!increport_ready)
		return;
	for (i = 0; i < INCREPORT_KEPT; i++)
		if (increport_slots[i].owner != NULL ||
		    increport_slots[i].tree != NULL)
			increport_drop(&increport_slots[i]);
}
