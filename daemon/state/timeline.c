/*
 * timeline.c: an incident's timeline as compact entries (see timeline.h).
 * An entry is one allocation: the envelope's numbers, then its ts and
 * data as text (or, where the store reads lines back, where the record's
 * line is: its data is read back when wanted); its kind and actor are
 * held once for all entries.  A
 * record kept as a jansson tree took a block per value and a hashtable
 * per object: for a report told to two people and delivered, its five
 * entries took 6.4 KB of the 15.3 an open incident cost; as text they
 * take about 1.3 KB, and 1.2 with kind and actor shared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <bsd/sys/tree.h>

#include "base/log.h"
#include "state/timeline.h"
#include "store/record.h"
#include "store/store.h"

/*
 * A text many entries repeat, held once: the on-duty snapshot every
 * intent carries (the people on duty, their roles and shifts) is the
 * same from one roster change to the next.
 */
struct timeline_shared {
	RB_ENTRY(timeline_shared) node;
	size_t		 refs, len;
	const char	*key;		/* text; a probe's, the text looked for */
	char		 text[];
};

struct timeline_entry {
	int64_t		 seq;
	int64_t		 intent;	/* a notify.attempt's delivery: */
	int64_t		 recipient;	/* intent seq and index */
	int64_t		 at;		/* LINE: where the store has the record's line */
	int32_t		 update_n;	/* the follow-up its data's fields are */
	/*
	 * Offsets into text: ts at 0, then the data.  RAW: the whole entry
	 * as JSON for data, and no ts.  LINE: the data is the record's own,
	 * read back from its line at AT (DATA its offset there), text only
	 * the ts.
	 */
	uint32_t	 data, datalen;
	unsigned	 raw:1, attempt:1, line:1;
	/* A notify.intent's on_duty, a null in its data text meanwhile. */
	struct timeline_shared *on_duty;
	/*
	 * Its kind and actor, held once for every entry that has them: a
	 * handful of texts ("notify.attempt", "dutyd", an office) each 15 to
	 * 20 bytes in every entry of every incident.  RAW: actor NULL.
	 */
	struct timeline_shared *event, *actor;
	char		 text[];
};

RB_HEAD(timeline_texts, timeline_shared);

static struct timeline_texts	 timeline_texts = RB_INITIALIZER(&timeline_texts);

static int
timeline_shared_cmp(struct timeline_shared *a, struct timeline_shared *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->key, b->key, a->len);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(timeline_texts, timeline_shared, node, timeline_shared_cmp)

/*
 * The tree last shared, and its text (one reference each held): live
 * intents hand the same tree over and over (notify.c shares it until the
 * roster changes), and dumping it again for every intent cost ~35k
 * instructions a report.
 */
static json_t			*timeline_last_tree;
static struct timeline_shared	*timeline_last_text;

/* Where texts are written before they are copied to their entry. */
static char	*timeline_scratch;
static size_t	 timeline_scratch_cap;
/* Data read back from the store lands here (the loop's thread only), reused. */
static char	*timeline_buf;
static size_t	 timeline_bufcap;

static void timeline_unshare(struct timeline_shared *);
static size_t timeline_scratch_dump(json_t *);

/* V's compact JSON, held once however many entries have it.  NULL: no memory. */
static struct timeline_shared *
timeline_share(json_t *v)
{
	struct timeline_shared	*s, *found;
	size_t			 len;

	if (v == timeline_last_tree && timeline_last_text != NULL) {
		timeline_last_text->refs++;
		return timeline_last_text;
	}
	if ((len = timeline_scratch_dump(v)) == 0 ||
	    (s = malloc(sizeof(*s) + len + 1)) == NULL)
		return NULL;
	memcpy(s->text, timeline_scratch, len);
	s->text[len] = '\0';
	s->len = len;
	s->key = s->text;
	if ((found = RB_FIND(timeline_texts, &timeline_texts, s)) != NULL) {
		free(s);
		found->refs++;
		s = found;
	} else {
		s->refs = 1;
		RB_INSERT(timeline_texts, &timeline_texts, s);
	}
	timeline_forget();
	timeline_last_tree = json_incref(v);
	timeline_last_text = s;
	s->refs++;
	return s;
}

void
timeline_forget(void)
{
	struct timeline_shared *s = timeline_last_text;

	json_decref(timeline_last_tree);
	timeline_last_tree = NULL;
	timeline_last_text = NULL;
	timeline_unshare(s);
	free(timeline_buf);
	timeline_buf = NULL;
	timeline_bufcap = 0;
	free(timeline_scratch);
	timeline_scratch = NULL;
	timeline_scratch_cap = 0;
}

static void
timeline_unshare(struct timeline_shared *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	RB_REMOVE(timeline_texts, &timeline_texts, s);
	free(s);
}

/* S (LEN bytes) held once, a reference more.  NULL: no memory. */
static struct timeline_shared *
timeline_share_text(const char *s, size_t len)
{
	struct timeline_shared	 probe, *n;

	probe.len = len;
	probe.key = s;
	if ((n = RB_FIND(timeline_texts, &timeline_texts, &probe)) != NULL) {
		n->refs++;
		return n;
	}
	if ((n = malloc(sizeof(*n) + len + 1)) == NULL)
		return NULL;
	memcpy(n->text, s, len);
	n->text[len] = '\0';
	n->len = len;
	n->key = n->text;
	n->refs = 1;
	RB_INSERT(timeline_texts, &timeline_texts, n);
	return n;
}

static void
timeline_entry_free(struct timeline_entry *e)
{
	timeline_unshare(e->on_duty);
	timeline_unshare(e->event);
	timeline_unshare(e->actor);
	free(e);
}

/* Room for one more entry. */
static int
timeline_grow(struct timeline *tl)
{
	struct timeline_entry	**e;
	uint32_t		  cap;

	if (tl->n < tl->cap)
		return 0;
	/* Most incidents keep under ten entries: start small. */
	cap = tl->cap == 0 ? 4 : tl->cap * 2;
	if ((e = reallocarray(tl->e, cap, sizeof(*e))) == NULL)
		return -ENOMEM;
	tl->e = e;
	tl->cap = cap;
	return 0;
}

/*
 * V's compact JSON in the scratch buffer: its length, 0 when out of
 * memory.  One json_dumpb() into a buffer kept between calls (the loop's
 * thread only) instead of one to size it and another to fill a new one:
 * jansson's dump costs ~90 instructions a byte, and the texts kept here
 * are most of a report's.
 */
static size_t
timeline_scratch_dump(json_t *v)
{
	size_t	 len, cap;
	char	*p;

	if (v == NULL)
		return 0;
	len = json_dumpb(v, timeline_scratch, timeline_scratch_cap, JSON_COMPACT);
	if (len == 0 || len <= timeline_scratch_cap)
		return len;
	for (cap = timeline_scratch_cap != 0 ? timeline_scratch_cap : 1024;
	    cap < len; cap *= 2)
		;
	if ((p = realloc(timeline_scratch, cap)) == NULL)
		return 0;
	timeline_scratch = p;
	timeline_scratch_cap = cap;
	return json_dumpb(v, timeline_scratch, cap, JSON_COMPACT) == len ? len : 0;
}

char *
timeline_dump(json_t *v)
{
	size_t	 len = timeline_scratch_dump(v);
	char	*t;

	if (len == 0 || (t = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(t, timeline_scratch, len);
	t[len] = '\0';
	return t;
}

/*
 * DATA as compact JSON into a new entry with room for EXTRA bytes of
 * envelope text first (the data begins at e->data); TEXT, when not NULL,
 * is that JSON already (the record's own bytes on replay), MORE (or NULL)
 * text to put after it.  NULL when out of memory.
 */
static struct timeline_entry *
timeline_entry_new(json_t *data, const char *text, size_t textlen,
    const char *more, size_t extra)
{
	struct timeline_entry	*e;
	size_t			 len, morelen = more != NULL ? strlen(more) : 0;

	if (text != NULL)
		len = textlen;
	else if ((len = timeline_scratch_dump(data)) == 0)
		return NULL;
	else
		text = timeline_scratch;
	if ((e = malloc(sizeof(*e) + extra + len + morelen + 1)) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->data = (uint32_t)extra;
	e->datalen = (uint32_t)(len + morelen);
	memcpy(e->text + extra, text, len);
	if (morelen > 0)
		memcpy(e->text + extra + len, more, morelen);
	len += morelen;
	e->text[extra + len] = '\0';
	return e;
}

/* A notify.attempt's delivery, read from its data, for trimming. */
static void
timeline_note_attempt(struct timeline_entry *e, const char *event, json_t *data)
{
	if (strcmp(event, "notify.attempt") != 0)
		return;
	e->attempt = 1;
	e->intent = json_integer_value(json_object_get(data, "intent"));
	e->recipient = json_integer_value(json_object_get(data, "recipient"));
}

static int
timeline_push(struct timeline *tl, struct timeline_entry *e)
{
	if (timeline_grow(tl) != 0) {
		timeline_entry_free(e);
		return -ENOMEM;
	}
	tl->e[tl->n++] = e;
	return 0;
}

/*
 * An intent's own text (TEXT: the record's data as dutyd wrote it, a
 * jansson dump the parse just validated) up to its on_duty's value, when
 * on_duty is its data's last member and the text ends with it written as
 * SHARED's text (jansson's dump of such a snapshot).  The entry's text is
 * then that and "null}", what the data with a null there dumps to,
 * without copying the tree and dumping it again.  -1: another shape.
 */
static int
timeline_cut_on_duty(json_t *data, const struct timeline_shared *shared,
    const char *text, size_t *textlen)
{
	static const char	 key[] = ",\"on_duty\":";
	const size_t		 kl = sizeof(key) - 1;
	void			*it, *last = NULL;
	size_t			 n = *textlen;

	for (it = json_object_iter(data); it != NULL;
	    it = json_object_iter_next(data, it))
		last = it;
	if (last == NULL || strcmp(json_object_iter_key(last), "on_duty") != 0 ||
	    n < kl + shared->len + 2 || text[n - 1] != '}' ||
	    memcmp(text + n - 1 - shared->len, shared->text, shared->len) != 0 ||
	    memcmp(text + n - 1 - shared->len - kl, key, kl) != 0)
		return -1;
	*textlen = n - 1 - shared->len;
	return 0;
}

static struct timeline_entry *
timeline_envelope(json_t *data, const char *text, size_t textlen, int64_t seq,
    const char *ts, const char *event, const char *actor)
{
	struct timeline_entry	*e;
	struct timeline_shared	*shared = NULL;
	json_t			*copy = NULL;
	const char		*more = NULL;
	size_t			 tl = strlen(ts) + 1;

	/* An intent's on-duty snapshot: kept once, a null in its place. */
	if (strcmp(event, "notify.intent") == 0 &&
	    json_is_object(json_object_get(data, "on_duty"))) {
		/*
		 * On replay, the text the last intent shared is most often
		 * this one's too: then it is not dumped again.
		 */
		if (text != NULL && timeline_last_text != NULL &&
		    timeline_cut_on_duty(data, timeline_last_text, text,
		    &textlen) == 0) {
			shared = timeline_last_text;
			shared->refs++;
			more = "null}";
		} else if ((shared = timeline_share(json_object_get(data,
		    "on_duty"))) == NULL)
			return NULL;
		else if (text != NULL && timeline_cut_on_duty(data, shared, text,
		    &textlen) == 0)
			more = "null}";
		else {
			if ((copy = json_copy(data)) == NULL ||
			    json_object_set_new(copy, "on_duty", json_null()) != 0) {
				timeline_unshare(shared);
				json_decref(copy);
				return NULL;
			}
			data = copy;
			text = NULL;	/* the record's text has the snapshot */
		}
	}
	e = timeline_entry_new(data, text, textlen, more, tl);
	if (e == NULL) {
		json_decref(copy);
		timeline_unshare(shared);
		return NULL;
	}
	e->on_duty = shared;
	e->seq = seq;
	memcpy(e->text, ts, tl);
	if ((e->event = timeline_share_text(event, strlen(event))) == NULL ||
	    (e->actor = timeline_share_text(actor, strlen(actor))) == NULL) {
		json_decref(copy);
		timeline_entry_free(e);
		return NULL;
	}
	timeline_note_attempt(e, event, data);
	json_decref(copy);
	return e;
}

/*
 * R's data where the store keeps its line, when it reads lines back: the
 * entry holds its envelope and that place, not the data (an intent's and
 * two deliveries' data were 730 of an open incident's bytes).  NULL: kept
 * as text instead (no place, or no memory: *NOMEM).
 */
static struct timeline_entry *
timeline_entry_line(const struct record *r, int *nomem)
{
	struct timeline_entry	*e;
	const char		*l;
	size_t			 tl = strlen(r->ts) + 1;
	int64_t			 at;

	*nomem = 0;
	if (r->data_text == NULL || (at = store_applying_at(&l)) < 0 ||
	    l == NULL || r->data_text <= l || (size_t)(r->data_text - l) >
	    RECORD_LINE_MAX || r->data_textlen > RECORD_LINE_MAX)
		return NULL;
	if ((e = malloc(sizeof(*e) + tl)) == NULL) {
		*nomem = 1;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->line = 1;
	e->seq = r->seq;
	e->at = at;
	e->data = (uint32_t)(r->data_text - l);
	e->datalen = (uint32_t)r->data_textlen;
	memcpy(e->text, r->ts, tl);
	if ((e->event = timeline_share_text(r->event, strlen(r->event))) == NULL ||
	    (e->actor = timeline_share_text(r->actor, strlen(r->actor))) == NULL) {
		timeline_entry_free(e);
		*nomem = 1;
		return NULL;
	}
	timeline_note_attempt(e, r->event, r->data);
	return e;
}

int
timeline_add(struct timeline *tl, const struct record *r, json_t *data,
    int update_n)
{
	struct timeline_entry	*e = NULL;
	int			 nomem = 0;

	/* As json_string(NULL) made the tree's entry fail before. */
	if (r->ts == NULL || r->event == NULL || r->actor == NULL || data == NULL)
		return -ENOMEM;
	if (data == r->data && (e = timeline_entry_line(r, &nomem)) == NULL &&
	    nomem)
		return -ENOMEM;
	/* On replay the record's data is in the line as its dump would be. */
	if (e == NULL && (e = timeline_envelope(data, data == r->data ?
	    r->data_text : NULL, r->data_textlen, r->seq, r->ts, r->event,
	    r->actor)) == NULL)
		return -ENOMEM;
	e->update_n = update_n;
	return timeline_push(tl, e);
}

int
timeline_add_text(struct timeline *tl, const struct record *r,
    const char *text, size_t len)
{
	struct timeline_entry *e;

	if (r->ts == NULL || r->event == NULL || r->actor == NULL ||
	    text == NULL || (e = timeline_envelope(NULL, text, len, r->seq,
	    r->ts, r->event, r->actor)) == NULL)
		return -ENOMEM;
	return timeline_push(tl, e);
}

/* ENTRY has the shape timeline_entry_json() gives back, key for key. */
static int
timeline_usual(json_t *entry)
{
	static const char *const keys[] = { "seq", "ts", "event", "actor",
	    "data" };
	const char	*key;
	json_t		*v;
	size_t		 i = 0;

	if (!json_is_object(entry) || json_object_size(entry) != 5)
		return 0;
	json_object_foreach(entry, key, v) {
		if (strcmp(key, keys[i]) != 0 || (i == 0 && !json_is_integer(v)) ||
		    (i >= 1 && i <= 3 && !json_is_string(v)) ||
		    (i >= 1 && i <= 3 && strlen(json_string_value(v)) !=
		    json_string_length(v)))
			return 0;
		i++;
	}
	return 1;
}

int
timeline_add_json(struct timeline *tl, json_t *entry, json_t *data,
    int update_n)
{
	struct timeline_entry	*e;
	json_t			*copy;
	const char		*ev;

	if (data != NULL) {
		/* The entry with that data instead, key order kept. */
		if ((copy = json_copy(entry)) == NULL ||
		    json_object_set(copy, "data", data) != 0) {
			json_decref(copy);
			return -ENOMEM;
		}
	} else
		copy = json_incref(entry);
	if (timeline_usual(copy))
		e = timeline_envelope(json_object_get(copy, "data"), NULL, 0,
		    json_integer_value(json_object_get(copy, "seq")),
		    json_string_value(json_object_get(copy, "ts")),
		    json_string_value(json_object_get(copy, "event")),
		    json_string_value(json_object_get(copy, "actor")));
	else {
		/* Not as dutyd writes them: kept and shown as it was. */
		ev = json_string_value(json_object_get(copy, "event"));
		ev = ev != NULL && strlen(ev) == json_string_length(json_object_get(
		    copy, "event")) ? ev : "";
		if ((e = timeline_entry_new(copy, NULL, 0, NULL, 0)) != NULL) {
			e->raw = 1;
			e->seq = json_integer_value(json_object_get(copy, "seq"));
			if ((e->event = timeline_share_text(ev, strlen(ev))) == NULL) {
				timeline_entry_free(e);
				e = NULL;
			} else
				timeline_note_attempt(e, ev, json_object_get(copy,
				    "data"));
		}
	}
	json_decref(copy);
	if (e == NULL)
		return -ENOMEM;
	e->update_n = update_n;
	return timeline_push(tl, e);
}

void
timeline_clear(struct timeline *tl)
{
	uint32_t i;

	for (i = 0; i < tl->n; i++)
		timeline_entry_free(tl->e[i]);
	free(tl->e);
	memset(tl, 0, sizeof(*tl));
}

size_t
timeline_len(const struct timeline *tl)
{
	return tl->n;
}

static json_t *
timeline_load(const char *text, size_t len)
{
	return json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* E's data read back from its line; NULL: logged. */
static json_t *
timeline_read(const struct timeline_entry *e)
{
	const char	*d;
	int		 rc;

	if ((d = store_read_data(e->seq, e->at, e->data, e->datalen,
	    &timeline_buf, &timeline_bufcap, &rc)) != NULL)
		return timeline_load(d, e->datalen);
	if (rc != -ENOMEM)
		log_warnx("a timeline entry cannot be read back from audit seq "
		    "%lld (place %lld): %s", (long long)e->seq, (long long)e->at,
		    store_read_strerror(rc));
	return NULL;
}

/* E's data as recorded: its shared on-duty snapshot back in its place. */
static json_t *
timeline_load_data(const struct timeline_entry *e)
{
	json_t *d;

	if (e->line)
		return timeline_read(e);
	d = timeline_load(e->text + e->data, e->datalen);

	if (d != NULL && e->on_duty != NULL && json_object_set_new(d,
	    "on_duty", timeline_load(e->on_duty->text, e->on_duty->len)) != 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}

json_t *
timeline_entry_json(const struct timeline *tl, size_t i)
{
	const struct timeline_entry	*e;
	json_t				*o, *data;

	if (i >= tl->n)
		return NULL;
	e = tl->e[i];
	if (e->raw)
		return timeline_load(e->text + e->data, e->datalen);
	/* Member by member, in the order the tree had them. */
	if ((data = timeline_load_data(e)) == NULL ||
	    (o = json_object()) == NULL) {
		json_decref(data);
		return NULL;
	}
	if (json_object_set_new(o, "seq", json_integer(e->seq)) != 0 ||
	    json_object_set_new(o, "ts", json_string(e->text)) != 0 ||
	    json_object_set_new(o, "event", json_string(e->event->text)) != 0 ||
	    json_object_set_new(o, "actor", json_string(e->actor->text)) != 0 ||
	    json_object_set_new(o, "data", data) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
timeline_data(const struct timeline *tl, size_t i)
{
	json_t *o, *d;

	if (i >= tl->n)
		return NULL;
	if (!tl->e[i]->raw)
		return timeline_load_data(tl->e[i]);
	o = timeline_load(tl->e[i]->text + tl->e[i]->data, tl->e[i]->datalen);
	d = json_incref(json_object_get(o, "data"));
	json_decref(o);
	return d;
}

const char *
timeline_event(const struct timeline *tl, size_t i)
{
	return i < tl->n ? tl->e[i]->event->text : "";
}

int
timeline_update_n(const struct timeline *tl, size_t i)
{
	return i < tl->n ? tl->e[i]->update_n : 0;
}

json_t *
timeline_json(const struct timeline *tl)
{
	json_t	*a = json_array();
	size_t	 i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < tl->n; i++)
		if (json_array_append_new(a, timeline_entry_json(tl, i)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static void
timeline_remove(struct timeline *tl, size_t i)
{
	timeline_entry_free(tl->e[i]);
	memmove(&tl->e[i], &tl->e[i + 1], (tl->n - i - 1) * sizeof(tl->e[0]));
	tl->n--;
}

void
timeline_trim_attempts(struct timeline *tl, int64_t intent, int64_t recipient,
    size_t keep_first, size_t keep_last)
{
	size_t i, n = 0, middle = 0;

	for (i = 0; i < tl->n; i++) {
		if (!tl->e[i]->attempt || tl->e[i]->intent != intent ||
		    tl->e[i]->recipient != recipient)
			continue;
		if (n++ == keep_first)
			middle = i;
	}
	if (n > keep_first + keep_last)
		timeline_remove(tl, middle);
}

void
timeline_cap(struct timeline *tl, size_t max)
{
	size_t i;

	if (tl->n <= max)
		return;
	for (i = 0; i < tl->n; i++)
		if (tl->e[i]->attempt) {
			timeline_remove(tl, i);
			return;
		}
}
