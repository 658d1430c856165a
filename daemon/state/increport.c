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
#include "base/log.h"
#include "state/increport.h"
#include "store/record.h"
#include "store/store.h"

/*
 * A kept tree; least recently read first in the list.  A report read back
 * from the store keeps its bytes here too while its tree is kept: the 201
 * and every message's view are built from them just after the report came,
 * without a read.
 */
struct increport_slot {
	TAILQ_ENTRY(increport_slot) lru;
	struct increport	*owner;	/* NULL: free */
	json_t			*tree;
	char			*text;	/* NULL: none */
	size_t			 len;
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
	free(s->text);
	s->owner = NULL;
	s->tree = NULL;
	s->text = NULL;
	s->len = 0;
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

/* Bytes read back land here (the loop's thread only), reused. */
static char	*increport_buf;
static size_t	 increport_bufcap;

/* The report's bytes kept beside R's tree, while it is kept (none without memory). */
static void
increport_hold(const struct increport *r, const char *text, size_t len)
{
	struct increport_slot *s;

	if (r->slot == 0)
		return;
	s = &increport_slots[r->slot - 1];
	free(s->text);
	if ((s->text = malloc(len)) != NULL)
		memcpy(s->text, text, len);
	s->len = s->text != NULL ? len : 0;
}

/* R's data read back from its line: NULL with *RC. */
static const char *
increport_read(const struct increport *r, int *rc)
{
	return store_read_data(r->seq, r->at, r->dataoff, r->datalen,
	    &increport_buf, &increport_bufcap, rc);
}

/* R's data text: kept, or read back (valid until the next read).  NULL: logged. */
static const char *
increport_bytes(const struct increport *r)
{
	const char	*d;
	int		 rc;

	if (r->data != NULL)
		return r->data;
	if ((d = increport_read(r, &rc)) == NULL && rc != -ENOMEM)
		log_warnx("an incident's report cannot be read back from audit "
		    "seq %lld (place %lld): %s", (long long)r->seq,
		    (long long)r->at, rc == -EILSEQ ? "another line is there" :
		    strerror(-rc));
	return d;
}

int
increport_keep(struct increport *r, json_t *d, const struct record *rec,
    json_t *line)
{
	json_t		*report = json_object_get(d, "report");
	const char	*text = NULL, *l;
	char		*dump = NULL;
	size_t		 len = 0, off = 0, vlen = 0;
	int64_t		 at;
	int		 rc;

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
		}
		/* Where the store keeps the line: read back when wanted. */
		if ((at = store_applying_at(&l)) >= 0 && l != NULL &&
		    text > l && (size_t)(text - l) < UINT32_MAX &&
		    len < UINT32_MAX) {
			r->seq = rec->seq;
			r->at = at;
			r->dataoff = (uint32_t)(text - l);
			r->datalen = (uint32_t)len;
			text = NULL;
		}
	} else if (rec == NULL && json_array_size(line) == 4) {
		/* A checkpoint's reference, taken when it reads back as one. */
		r->seq = json_integer_value(json_array_get(line, 0));
		r->at = json_integer_value(json_array_get(line, 1));
		r->dataoff = (uint32_t)json_integer_value(json_array_get(line, 2));
		r->datalen = (uint32_t)json_integer_value(json_array_get(line, 3));
		if (increport_read(r, &rc) == NULL)
			memset(r, 0, sizeof(*r));
	}
	/* Kept in memory: the report found in the text now, as it always was. */
	if (r->seq == 0 && text != NULL && vlen == 0 && (rc = increport_locate(d,
	    "report", text, len, &off, &vlen)) != 0) {
		if (rc == -ENOMEM)
			return rc;
		text = NULL;	/* a line not as dutyd writes them: dumped */
	}
	if (r->seq == 0 && text == NULL) {
		/* A checkpoint's, or a record without its text: dumped. */
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
	if (r->seq == 0) {
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
	}
	/* Read back, the report is found in the text when first shown. */
	r->off = (uint32_t)off;
	r->len = (uint32_t)vlen;
	/* Just received: about to be told and shown. */
	increport_put(r, json_incref(report));
	if (r->data == NULL && vlen != 0)
		increport_hold(r, rec->data_text + off, vlen);
	return 0;
}

json_t *
increport_line(const struct increport *r)
{
	if (r->data != NULL || r->seq == 0)
		return NULL;
	return json_pack("[I, I, I, I]", (json_int_t)r->seq, (json_int_t)r->at,
	    (json_int_t)r->dataoff, (json_int_t)r->datalen);
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

/*
 * Where the report lies in the data, found the first time it is shown (a
 * replayed line: comparing the dumps costs 43 k instructions, and most
 * incidents replayed are never shown).  A text that is not jansson's dump
 * (another writer's line) is replaced by the dump, kept in memory.
 */
static int
increport_find(struct increport *r)
{
	const char	*text;
	json_t		*d;
	char		*dump;
	size_t		 off, vlen;
	int		 rc;

	if (r->len != 0)
		return 0;
	if ((text = increport_bytes(r)) == NULL ||
	    (d = increport_load(text, r->datalen)) == NULL)
		return -ENOMEM;
	rc = increport_locate(d, "report", text, r->datalen, &off, &vlen);
	if (rc == -EINVAL) {
		if ((dump = json_dumps(d, JSON_COMPACT)) == NULL)
			rc = -ENOMEM;
		else if ((rc = increport_locate(d, "report", dump, strlen(dump),
		    &off, &vlen)) != 0 || strlen(dump) > UINT32_MAX)
			free(dump);
		else {
			free(r->data);
			r->data = dump;
			r->datalen = (uint32_t)strlen(dump);
			r->seq = 0;
		}
	}
	json_decref(d);
	if (rc != 0)
		return rc;
	r->off = (uint32_t)off;
	r->len = (uint32_t)vlen;
	return 0;
}

json_t *
increport_tree(const struct increport *cr)
{
	/* Which trees are kept is no part of the incident's state. */
	struct increport	*r = (struct increport *)(uintptr_t)cr;
	struct increport_slot	*s;
	const char		*text;
	json_t			*tree, *d;

	if (r->slot != 0) {
		s = &increport_slots[r->slot - 1];
		TAILQ_REMOVE(&increport_lru, s, lru);
		TAILQ_INSERT_TAIL(&increport_lru, s, lru);
		return s->tree;
	}
	if ((r->data == NULL && r->seq == 0) ||
	    (text = increport_bytes(r)) == NULL)
		return NULL;
	if (r->len != 0)
		tree = increport_load(text + r->off, r->len);
	else {
		/* Not found in the data yet: the data parsed, its report taken. */
		d = increport_load(text, r->datalen);
		tree = json_incref(json_object_get(d, "report"));
		json_decref(d);
	}
	if (tree == NULL)
		return NULL;
	increport_put(r, tree);
	return tree;
}

const char *
increport_text(const struct increport *cr, size_t *len)
{
	struct increport	*r = (struct increport *)(uintptr_t)cr;
	const char		*text;

	*len = 0;
	if (r->data == NULL && r->slot != 0 &&
	    increport_slots[r->slot - 1].text != NULL) {
		*len = increport_slots[r->slot - 1].len;
		return increport_slots[r->slot - 1].text;
	}
	if ((r->data == NULL && r->seq == 0) || increport_find(r) != 0 ||
	    (text = increport_bytes(r)) == NULL)
		return NULL;
	if (r->data == NULL)
		increport_hold(r, text + r->off, r->len);
	*len = r->len;
	return text + r->off;
}

json_t *
increport_data(const struct increport *r)
{
	const char *text;

	if ((r->data == NULL && r->seq == 0) ||
	    (text = increport_bytes(r)) == NULL)
		return NULL;
	return increport_load(text, r->datalen);
}

void
increport_forget(void)
{
	size_t i;

	free(increport_buf);
	increport_buf = NULL;
	increport_bufcap = 0;
	if (!increport_ready)
		return;
	for (i = 0; i < INCREPORT_KEPT; i++)
		if (increport_slots[i].owner != NULL ||
		    increport_slots[i].tree != NULL)
			increport_drop(&increport_slots[i]);
}
