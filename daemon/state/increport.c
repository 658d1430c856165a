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
#include "base/jwrite.h"
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

/*
 * Members of D as its compact dump writes them, from the one after FROM
 * (NULL: the first) up to STOP (NULL: the end), each with a comma first
 * (COMMA_FIRST), else after: written by jwrite, whose bytes are jansson's,
 * without a tree of them to dump.
 */
static void
increport_members(struct jwrite *w, json_t *d, void *from, void *stop,
    int comma_first)
{
	void		*it;
	const char	*k;

	it = from != NULL ? json_object_iter_next(d, from) : json_object_iter(d);
	for (; it != NULL && it != stop; it = json_object_iter_next(d, it)) {
		if (comma_first)
			jwrite_bytes(w, ",", 1);
		k = json_object_iter_key(it);
		jwrite_string(w, k, strlen(k));
		jwrite_bytes(w, ":", 1);
		jwrite_value(w, json_object_iter_value(it), 0);
		if (!comma_first)
			jwrite_bytes(w, ",", 1);
	}
}

int
increport_locate(json_t *d, const char *key, const char *text, size_t len,
    size_t *off, size_t *vlen)
{
	struct jwrite	 b, a;
	void		*it;
	int		 rc = -EINVAL;

	if (!json_is_object(d))
		return -EINVAL;
	if ((it = json_object_iter_at(d, key)) == NULL)
		return -ENOENT;
	/* The text is {<before>,"key":<value>,<after>}, each member jansson's. */
	memset(&b, 0, sizeof(b));
	memset(&a, 0, sizeof(a));
	jwrite_bytes(&b, "{", 1);
	increport_members(&b, d, NULL, it, 0);
	jwrite_string(&b, key, strlen(key));
	jwrite_bytes(&b, ":", 1);
	increport_members(&a, d, it, NULL, 1);
	jwrite_bytes(&a, "}", 1);
	/* Failed (no memory, or a key jansson would write broken): not found, dumped instead. */
	if (!b.failed && !a.failed && len >= b.len + a.len + 1 &&
	    memcmp(text, b.p, b.len) == 0 &&
	    memcmp(text + len - a.len, a.p, a.len) == 0) {
		*off = b.len;
		*vlen = len - a.len - b.len;
		rc = 0;
	}
	free(b.p);
	free(a.p);
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
		    (long long)r->at, store_read_strerror(rc));
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
