/*
 * The event stream (see stream.h).
 *
 * A router follower notes which incidents the live records of a loop turn
 * changed (with the seq of the last record about each); once the turn's
 * sync has made them durable, each changed incident is serialized once
 * (incview_cached(), shared with notifications) and written to every
 * stream allowed to see it.  The cost of a change is one write per stream,
 * whatever the number of incidents.  With no stream that may see an
 * incident, its change only goes into the ring: a record costs an entry in
 * a list, not a view dumped for nobody (the console is usually closed while
 * reports pour in).
 *
 * Resuming: a ring keeps the last STREAM_RING changes (seq, incident).  A
 * Last-Event-ID inside it gets the incidents changed after it, each once
 * and as it is now; one older than the ring (or from before a restart)
 * gets every open incident once, up to STREAM_BACKLOG_MAX, then `event:
 * reset` to say the client must reload its list.
 *
 * Slow readers: a stream's backlog is written as the client reads it,
 * never more than STREAM_LOW_WATER queued at once.  While it has one, or
 * its output is above that mark, a change is added to it (once per
 * incident) instead of being written: a slow reader gets each incident as
 * it is when it can take it, and costs at most a backlog of ids and one
 * event.  A reader that takes nothing for STREAM_STALL_TICKS keepalive
 * intervals while events wait, or owes more than STREAM_BACKLOG_MAX
 * incidents, is dropped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>
#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/conn.h"
#include "intake/http.h"
#include "intake/oncallapi.h"
#include "intake/stream.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/router.h"
#include "store/record.h"
#include "store/store.h"

#define STREAM_RING		4096	/* changes remembered for Last-Event-ID */
#define STREAM_BACKLOG_MAX	1000	/* incidents one resume sends, then reset */
#define STREAM_LOW_WATER	(64 * 1024)	/* a backlog waits above this */
#define STREAM_RETRY_AFTER	"10"	/* seconds, when all streams are taken */
#define STREAM_RETRY_MS		"3000"	/* how soon EventSource reconnects */
#define STREAM_WARN_MS		(60 * 1000)	/* drops are told once a minute */
#define STREAM_STALL_TICKS	2	/* keepalive intervals a stuck reader gets */
/*
 * A stream ends after this many keepalive intervals (10 minutes by default)
 * and the client reconnects with Last-Event-ID, losing nothing: a sign-out,
 * a changed token or an expired session holds no stream longer than that.
 */
#define STREAM_LIFE_TICKS	40

struct stream_change {
	int64_t		 seq;
	char		 id[INCIDENT_ID_MAX];
};

struct stream {
	TAILQ_ENTRY(stream)	 entry;
	struct conn_stream	*cs;
	char			*office;	/* its incidents only; NULL: staff */
	char			*person;	/* staff: who opened it */
	int64_t			 opened_at;
	char			 peer[64];
	/* What a resume still owes, oldest first. */
	struct stream_change	*backlog;
	size_t			 nbacklog, sent;
	int			 reset;		/* `event: reset` after the backlog */
	int64_t			 stalled_since;	/* events wait for the reader; 0: none */
};

TAILQ_HEAD(stream_list, stream);

static struct {
	struct stream_list	 streams;
	size_t			 n;
	struct stream_change	 ring[STREAM_RING];
	size_t			 ring_next, ring_len;
	int64_t			 floor;		/* the ring holds every change after it */
	/* This turn's changes in record order, an incident more than once. */
	struct stream_change	*turn;
	size_t			 nturn, turn_cap;
	int			 turn_lost;	/* out of memory for one this turn */
	char			*ev;		/* the event being written */
	size_t			 ev_cap;
	int64_t			 handover;	/* this turn's duty.handover seq, or 0 */
	struct store_waiter	 waiter;
	struct clock		 keepalive;
	int64_t			 warned_at;
	unsigned		 dropped;
	int			 ready;
} sm = {
	.streams = TAILQ_HEAD_INITIALIZER(sm.streams),
};

static void
stream_close(struct stream *s)
{
	TAILQ_REMOVE(&sm.streams, s, entry);
	sm.n--;
	conn_stream_end(s->cs);
	free(s->backlog);
	free(s->office);
	free(s->person);
	free(s);
}

/* The peer stopped reading: drop it, and say so once a minute at most. */
static void
stream_drop(struct stream *s, const char *why)
{
	int64_t now = time_now_ms();

	sm.dropped++;
	if (now - sm.warned_at >= STREAM_WARN_MS) {
		log_warnx("event stream to %s dropped: %s (%u stream(s) "
		    "dropped in the last minute; a client that reconnects with "
		    "Last-Event-ID gets what it missed)", s->peer, why,
		    sm.dropped);
		sm.warned_at = now;
		sm.dropped = 0;
	}
	stream_close(s);
}

/* 0, or -1 when the stream was closed. */
static int
stream_send(struct stream *s, const char *buf, size_t len)
{
	int rc = conn_stream_write(s->cs, buf, len);

	if (rc == -ENOBUFS) {
		stream_drop(s, "its reader fell more than 256 KiB behind");
		return -1;
	}
	return 0;	/* -EPIPE: the gone callback closes it */
}

static int
stream_sees(const struct stream *s, const struct incident *inc)
{
	return s->office == NULL || (inc->office != NULL &&
	    strcmp(s->office, inc->office) == 0);
}

/*
 * "event: incident\nid: SEQ\ndata: JSON\n\n" in a buffer the module keeps
 * (valid until the next event is built): every stream gets the same bytes,
 * and a view of a few KiB is copied once, not formatted through printf.
 * NULL when out of memory.
 */
static const char *
stream_incident_event(struct incident *inc, int64_t seq, size_t *len)
{
	const char	*json = incview_cached(inc);
	char		 head[64];
	size_t		 jl, hl, need;
	char		*p;
	int		 n;

	if (json == NULL)
		return NULL;
	n = snprintf(head, sizeof(head), "event: incident\nid: %lld\ndata: ",
	    (long long)seq);
	if (n < 0 || (size_t)n >= sizeof(head))
		return NULL;
	hl = (size_t)n;
	jl = strlen(json);
	need = hl + jl + 2;
	if (need > sm.ev_cap) {
		if ((p = realloc(sm.ev, need + need / 2)) == NULL)
			return NULL;
		sm.ev = p;
		sm.ev_cap = need + need / 2;
	}
	memcpy(sm.ev, head, hl);
	memcpy(sm.ev + hl, json, jl);
	memcpy(sm.ev + hl + jl, "\n\n", 2);
	*len = need;
	return sm.ev;
}

/* Writes what the backlog owes while the client keeps up; 0, or -1 when closed. */
static int
stream_pump(struct stream *s)
{
	static const char reset[] = "event: reset\ndata: {\"reason\":\"too many "
	    "changes to replay: reload the list (GET /api/v1/incidents)\"}\n\n";
	struct incident	*inc;
	const char	*ev;
	size_t		 len;

	while (s->sent < s->nbacklog &&
	    conn_stream_pending(s->cs) < STREAM_LOW_WATER) {
		struct stream_change *c = &s->backlog[s->sent++];

		if ((inc = incident_find(c->id)) == NULL || !stream_sees(s, inc))
			continue;	/* gone since (retention), or not its own */
		if ((ev = stream_incident_event(inc, c->seq, &len)) == NULL)
			continue;
		if (stream_send(s, ev, len) != 0)
			return -1;
	}
	if (s->sent < s->nbacklog) {
		if (s->stalled_since == 0)	/* until the output drains */
			s->stalled_since = time_now_ms();
		return 0;
	}
	free(s->backlog);
	s->backlog = NULL;
	s->nbacklog = s->sent = 0;
	if (s->reset) {
		s->reset = 0;
		return stream_send(s, reset, sizeof(reset) - 1);
	}
	return 0;
}

static void
stream_gone(struct conn_stream *cs, void *arg)
{
	stream_close(arg);
}

/* The output has all gone out: the reader keeps up. */
static void
stream_writable(struct conn_stream *cs, void *arg)
{
	struct stream *s = arg;

	s->stalled_since = 0;
	if (s->backlog != NULL)
		stream_pump(s);
}

/*
 * A change for a stream that is behind: owed once per incident, at its
 * last seq.  0, or -1 when the stream was dropped for owing too much.
 */
static int
stream_defer(struct stream *s, const char *id, int64_t seq)
{
	size_t i;

	if (s->stalled_since == 0) {
		s->stalled_since = time_now_ms();
		log_debug("event stream to %s: the reader is behind (%zu bytes "
		    "wait); changes wait for it", s->peer,
		    conn_stream_pending(s->cs));
	}
	for (i = s->sent; i < s->nbacklog; i++)
		if (strcmp(s->backlog[i].id, id) == 0) {
			s->backlog[i].seq = seq;
			return 0;
		}
	if (s->backlog == NULL && (s->backlog = calloc(STREAM_BACKLOG_MAX,
	    sizeof(*s->backlog))) == NULL) {
		stream_drop(s, "out of memory for what it is owed");
		return -1;
	}
	if (s->nbacklog == STREAM_BACKLOG_MAX && s->sent > 0) {
		memmove(s->backlog, s->backlog + s->sent,
		    (s->nbacklog - s->sent) * sizeof(*s->backlog));
		s->nbacklog -= s->sent;
		s->sent = 0;
	}
	if (s->nbacklog == STREAM_BACKLOG_MAX) {
		stream_drop(s, "its reader owes more incidents than a resume "
		    "sends");
		return -1;
	}
	s->backlog[s->nbacklog].seq = seq;
	snprintf(s->backlog[s->nbacklog++].id, INCIDENT_ID_MAX, "%s", id);
	return 0;
}

/* Every open incident it may see, up to the cap; then a reset. */
static int
stream_snapshot(struct stream *s)
{
	struct incident	*inc;
	int64_t		 seq = store_last_seq();
	size_t		 n = 0;

	if ((s->backlog = calloc(STREAM_BACKLOG_MAX,
	    sizeof(*s->backlog))) == NULL)
		return -ENOMEM;
	for (inc = incident_oldest(INCIDENT_NOT_CLOSED); inc != NULL;
	    inc = incident_newer(INCIDENT_NOT_CLOSED, inc)) {
		if (!stream_sees(s, inc))
			continue;
		if (n == STREAM_BACKLOG_MAX) {
			s->reset = 1;
			break;
		}
		s->backlog[n].seq = seq;
		snprintf(s->backlog[n++].id, INCIDENT_ID_MAX, "%s", inc->id);
	}
	s->nbacklog = n;
	return 0;
}

static int
stream_by_seq(const void *a, const void *b)
{
	const struct stream_change *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
stream_by_id_seq(const void *a, const void *b)
{
	const struct stream_change *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c != 0 ? c : stream_by_seq(a, b);
}

/*
 * Keeps each incident of V once, at its last change, oldest change first;
 * returns how many are left.  Sorting, not a lookup per change: a turn in
 * which 100,000 clocks fire must not cost a quadratic search.
 */
static size_t
stream_dedup(struct stream_change *v, size_t n)
{
	size_t i, m = 0;

	if (n < 2)
		return n;
	qsort(v, n, sizeof(*v), stream_by_id_seq);
	for (i = 0; i < n; i++)
		if (i + 1 == n || strcmp(v[i].id, v[i + 1].id) != 0)
			v[m++] = v[i];
	qsort(v, m, sizeof(*v), stream_by_seq);
	return m;
}

/*
 * The incidents changed after LAST, from the ring, each once at its last
 * change, oldest first; the snapshot when the ring does not reach back, or
 * when they are more than a resume sends.
 */
static int
stream_resume(struct stream *s, int64_t last)
{
	struct stream_change	*after;
	size_t			 i, n = 0, at;

	if (last < sm.floor || last > store_last_seq())
		return stream_snapshot(s);
	for (i = 0; i < sm.ring_len; i++) {
		at = (sm.ring_next + STREAM_RING - 1 - i) % STREAM_RING;
		if (sm.ring[at].seq <= last)
			break;
		n++;
	}
	if (n == 0)
		return 0;
	if ((after = calloc(n, sizeof(*after))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		after[i] = sm.ring[(sm.ring_next + STREAM_RING - n + i) %
		    STREAM_RING];
	n = stream_dedup(after, n);
	if (n > STREAM_BACKLOG_MAX) {
		free(after);
		return stream_snapshot(s);
	}
	/* stream_defer() counts on room for STREAM_BACKLOG_MAX. */
	if ((s->backlog = calloc(STREAM_BACKLOG_MAX,
	    sizeof(*s->backlog))) == NULL) {
		free(after);
		return -ENOMEM;
	}
	memcpy(s->backlog, after, n * sizeof(*after));
	free(after);
	s->nbacklog = n;
	return 0;
}

/*
 * Every stream gets LEN bytes of BUF, or only those that see INC; one that
 * is behind owes INC (at SEQ) instead.
 */
static void
stream_fan_out(const char *buf, size_t len, const struct incident *inc,
    int64_t seq)
{
	struct stream *s, *next;

	for (s = TAILQ_FIRST(&sm.streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (inc != NULL && !stream_sees(s, inc))
			continue;
		if (inc != NULL && (s->sent < s->nbacklog ||
		    conn_stream_pending(s->cs) > STREAM_LOW_WATER))
			stream_defer(s, inc->id, seq);
		else
			stream_send(s, buf, len);
	}
}

/* Some open stream shows INC: else its event is not worth building. */
static int
stream_anyone_sees(const struct incident *inc)
{
	struct stream *s;

	TAILQ_FOREACH(s, &sm.streams, entry)
		if (stream_sees(s, inc))
			return 1;
	return 0;
}

static void
stream_handover(int64_t seq)
{
	struct stream	*s, *next;
	json_t		*now = oncallapi_now(config_current(), time_now_ms());
	char		*data = now != NULL ? json_dumps(now, JSON_COMPACT) : NULL;
	char		*ev;
	int		 n;

	json_decref(now);
	if (data != NULL && (n = asprintf(&ev, "event: oncall\nid: %lld\n"
	    "data: %s\n\n", (long long)seq, data)) >= 0) {
		/* Staff only, as GET /api/v1/oncall. */
		for (s = TAILQ_FIRST(&sm.streams); s != NULL; s = next) {
			next = TAILQ_NEXT(s, entry);
			if (s->office == NULL)
				stream_send(s, ev, (size_t)n);
		}
		free(ev);
	}
	free(data);
}

/*
 * Every change remembered was lost: a client resuming from before now gets
 * the snapshot, which holds whatever the lost change was about.
 */
static void
stream_forget(void)
{
	sm.ring_len = 0;
	sm.floor = store_last_seq();
}

/* The turn's records are durable: out they go, oldest change first. */
static void
stream_flush(void *arg, int status)
{
	struct stream_change	*list = sm.turn;
	struct incident		*inc;
	size_t			 i, n = sm.nturn, cap = sm.turn_cap, len;
	const char		*ev;

	if (status != 0) {
		/* Not on disk yet: told after the sync that succeeds. */
		store_wait(&sm.waiter, stream_flush, NULL);
		return;
	}
	if (sm.handover != 0)
		stream_handover(sm.handover);
	sm.handover = 0;
	if (sm.turn_lost) {
		sm.turn_lost = 0;
		stream_forget();
	}
	/* Taken from the module: a change noted while it goes out is the next turn's. */
	sm.turn = NULL;
	sm.nturn = sm.turn_cap = 0;
	n = stream_dedup(list, n);
	for (i = 0; i < n; i++) {
		if (sm.ring_len == STREAM_RING)
			sm.floor = sm.ring[sm.ring_next].seq;
		else
			sm.ring_len++;
		sm.ring[sm.ring_next] = list[i];
		sm.ring_next = (sm.ring_next + 1) % STREAM_RING;
		if (TAILQ_EMPTY(&sm.streams) ||
		    (inc = incident_find(list[i].id)) == NULL ||
		    !stream_anyone_sees(inc) ||
		    (ev = stream_incident_event(inc, list[i].seq, &len)) == NULL)
			continue;
		stream_fan_out(ev, len, inc, list[i].seq);
	}
	/* Kept for the next turn, unless a burst made it big. */
	if (sm.turn == NULL && cap <= 1024) {
		sm.turn = list;
		sm.turn_cap = cap;
	} else
		free(list);
}

/*
 * ID changed at SEQ this turn.  The records about one incident mostly come
 * one after another: those only move its seq on.
 */
static void
stream_note(const char *id, int64_t seq)
{
	struct stream_change	*c, *v;
	size_t			 cap, len;

	if (sm.nturn > 0 && strcmp(sm.turn[sm.nturn - 1].id, id) == 0) {
		sm.turn[sm.nturn - 1].seq = seq;
		return;
	}
	if (sm.nturn == sm.turn_cap) {
		cap = sm.turn_cap > 0 ? sm.turn_cap * 2 : 16;
		if ((v = reallocarray(sm.turn, cap, sizeof(*v))) == NULL) {
			/* Streams miss it: when they resume they get the snapshot. */
			if (!sm.turn_lost)
				log_warnx("event streams: out of memory for a "
				    "change of %s; clients that resume get every "
				    "open incident", id);
			sm.turn_lost = 1;
			return;
		}
		sm.turn = v;
		sm.turn_cap = cap;
	}
	c = &sm.turn[sm.nturn++];
	c->seq = seq;
	len = strnlen(id, sizeof(c->id) - 1);	/* as snprintf cuts it */
	memcpy(c->id, id, len);
	c->id[len] = '\0';
}

/* The router's follower: live records only; replay rebuilt the state already. */
static int
stream_follow(const struct record *r)
{
	const char *into;

	if (r->replaying || !sm.ready)
		return 0;
	if (strcmp(r->event, "duty.handover") == 0)
		sm.handover = r->seq;
	else if (r->incident != NULL) {
		stream_note(r->incident, r->seq);
		/* A merge changes the incident it went into as well. */
		if (strcmp(r->event, "incident.merged") == 0 &&
		    (into = json_string_value(json_object_get(r->data,
		    "into"))) != NULL)
			stream_note(into, r->seq);
	} else
		return 0;
	/*
	 * Queued anew, behind the sync that covers this record: one queued
	 * before it would run after the sync the record missed when another
	 * waiter appended it, and send it before it is on disk.
	 */
	store_wait_cancel(&sm.waiter);
	store_wait(&sm.waiter, stream_flush, NULL);
	return 0;
}

/* Whoever opened S is still in the configuration (a reload may remove them). */
static int
stream_allowed(const struct config *cfg, const struct stream *s)
{
	return s->office != NULL ? config_office(cfg, s->office) != NULL :
	    s->person == NULL || config_person(cfg, s->person) != NULL;
}

/*
 * Every keepalive interval: a comment to every quiet stream; a reader stuck
 * too long is dropped; a stream whose person or office is gone, or that
 * has lived its life, ends.
 */
static void
stream_keepalive(struct clock *c, void *arg)
{
	static const char	 comment[] = ": keepalive\n\n";
	struct stream		*s, *next;
	int64_t			 now = time_now_ms();
	const struct config	*cfg = config_current();
	int64_t			 every = cfg->console.keepalive_ms;
	char			 why[128];

	for (s = TAILQ_FIRST(&sm.streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->stalled_since != 0 &&
		    now - s->stalled_since >= STREAM_STALL_TICKS * every) {
			snprintf(why, sizeof(why), "its reader took nothing for "
			    "%lld s while events waited",
			    (long long)(now - s->stalled_since) / 1000);
			stream_drop(s, why);
		} else if (!stream_allowed(cfg, s)) {
			log_info("event stream to %s ended: %s %s is no longer in "
			    "%s", s->peer, s->office != NULL ? "office" : "person",
			    s->office != NULL ? s->office : s->person, cfg->path);
			stream_close(s);
		} else if (now - s->opened_at >= STREAM_LIFE_TICKS * every &&
		    s->sent == s->nbacklog)
			stream_close(s);	/* it reconnects, authenticated anew */
		else if (conn_stream_pending(s->cs) == 0)
			stream_send(s, comment, sizeof(comment) - 1);
	}
	clock_arm(&sm.keepalive, now + every);
}

void
stream_init(void)
{
	/* Changes before now are not in the ring: older ids get the snapshot. */
	sm.floor = store_last_seq();
	router_follow("", stream_follow);
	clock_init(&sm.keepalive, stream_keepalive, NULL);
	clock_arm(&sm.keepalive, time_now_ms() +
	    config_current()->console.keepalive_ms);
	sm.ready = 1;
}

void
stream_shutdown(void)
{
	while (!TAILQ_EMPTY(&sm.streams))
		stream_close(TAILQ_FIRST(&sm.streams));
	store_wait_cancel(&sm.waiter);
	clock_free(&sm.keepalive);
	free(sm.turn);
	sm.turn = NULL;
	sm.nturn = sm.turn_cap = 0;
	sm.turn_lost = 0;
	free(sm.ev);
	sm.ev = NULL;
	sm.ev_cap = 0;
	sm.ready = 0;
}

size_t
stream_count(void)
{
	return sm.n;
}

/* Last-Event-ID: -1 when absent, -2 when not a seq. */
static int64_t
stream_last_id(struct http_call *call)
{
	const char	*h = http_header(call, "Last-Event-ID");
	char		*end;
	long long	 v;

	if (h == NULL || *h == '\0')
		return -1;
	errno = 0;
	v = strtoll(h, &end, 10);
	if (*end != '\0' || v < 0 || errno != 0 || *h < '0' || *h > '9')
		return -2;
	return v;
}

void
stream_get(struct http_call *call)
{
	static const char hello[] = ": dutyd events\nretry: " STREAM_RETRY_MS
	    "\n\n";
	const struct config	*cfg = config_current();
	struct stream		*s;
	int64_t			 last = stream_last_id(call);

	if (!sm.ready) {
		http_set_header(call, "Retry-After", STREAM_RETRY_AFTER);
		http_error(call, 503, NULL, "dutyd is starting; retry shortly");
		return;
	}
	if (last == -2) {
		http_error(call, 400, "Last-Event-ID", "Last-Event-ID must be the "
		    "id of an event this stream sent (an audit seq, a whole "
		    "number), or absent to start from now");
		return;
	}
	if (sm.n >= (size_t)cfg->console.max_streams) {
		http_set_header(call, "Retry-After", STREAM_RETRY_AFTER);
		http_error(call, 503, NULL, "dutyd already serves %zu event "
		    "streams (console.max_streams); close a console tab or "
		    "retry in %s s", sm.n, STREAM_RETRY_AFTER);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (call->person != NULL &&
	    (s->person = strdup(call->person->id)) == NULL) ||
	    (call->office != NULL && call->person == NULL &&
	    (s->office = strdup(call->office->id)) == NULL)) {
		if (s != NULL)
			free(s->person);
		free(s);
		http_error(call, 503, NULL, "dutyd is out of memory; retry "
		    "shortly");
		return;
	}
	snprintf(s->peer, sizeof(s->peer), "%s", http_peer(call));
	s->opened_at = time_now_ms();
	if (last >= 0 && stream_resume(s, last) != 0) {
		free(s->office);
		free(s->person);
		free(s);
		http_error(call, 503, NULL, "dutyd is out of memory; retry "
		    "shortly");
		return;
	}
	http_set_header(call, "Cache-Control", "no-store");
	/* A reverse proxy (nginx) must pass events on as they come. */
	http_set_header(call, "X-Accel-Buffering", "no");
	if ((s->cs = conn_stream_begin(call->req, 200,
	    "text/event-stream; charset=utf-8", stream_gone, stream_writable,
	    s)) == NULL) {
		free(s->backlog);
		free(s->office);
		free(s->person);
		free(s);
		return;
	}
	TAILQ_INSERT_TAIL(&sm.streams, s, entry);
	sm.n++;
	log_debug("event stream to %s opened (%s%s), %zu open", s->peer,
	    s->office != NULL ? "office " : "staff",
	    s->office != NULL ? s->office : "", sm.n);
	if (stream_send(s, hello, sizeof(hello) - 1) == 0 && s->backlog != NULL)
		stream_pump(s);
}
