/*
 * The store, whatever the backend: the chain (seq, prev), the apply hook,
 * group commit and its waiters.  See store.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/timeutil.h"
#include "store/replayline.h"
#include "store/scanjob.h"
#include "store/store.h"

TAILQ_HEAD(store_waiters, store_waiter);
TAILQ_HEAD(store_laters, store_later);

static struct {
	const struct store_backend *be;
	store_apply_fn	 apply;
	int64_t		 seq;		/* of the last record */
	char		 hash[RECORD_HASH_HEX];	/* of its line */
	int		 dirty;		/* appended since the last sync */
	int		 health;
	struct store_waiters waiters;
	struct store_laters laters;	/* held for one write at the end of the turn */
	char		*batch;		/* their lines, reused */
	size_t		 batch_cap;
	uint64_t	 gen;		/* bumped by each sync; waiters carry it */
	uint64_t	 appended;	/* records written since start */
	uint64_t	 syncs;		/* syncs since start */
	int64_t		 segment_size;	/* for the backend, also before it opens */
	int64_t		 reserve;
	int64_t		 unsynced_since;	/* first write not yet durable; 0: none */
	int64_t		 own_failing_since;	/* dutyd's own records failing since; 0: not */
	int		 last_error;	/* the last failure (-errno), and when */
	int64_t		 last_error_at;
	/* A backend's sync_start(): one at a time, covering waiters up to a gen. */
	int		 inflight;
	uint64_t	 inflight_gen;
	int64_t		 inflight_since;	/* its unsynced_since */
	struct timespec	 inflight_t0;
	int		 inflight_status;	/* of the last one completed */
	/* The record being applied: its line, and where the backend keeps it. */
	const char	*applying_line;
	int64_t		 applying_at;
} st = { .waiters = TAILQ_HEAD_INITIALIZER(st.waiters),
    .laters = TAILQ_HEAD_INITIALIZER(st.laters),
    .segment_size = 64 * 1024 * 1024, .applying_at = -1 };

static void	store_laters_fail(int);
static int	store_laters_write(void);

/* dutyd's own records may use what the backend keeps back; clients' may not. */
static int
store_privileged(const char *actor)
{
	return strcmp(actor, "dutyd") == 0 || strcmp(actor, "operator") == 0;
}

static void
store_failed(int rc)
{
	st.last_error = rc;
	st.last_error_at = time_now_ms();
}

/* The backend's sync, timed (dutyd_audit_fsync_seconds). */
static int
store_sync(void)
{
	struct timespec	t0, t1;
	int		rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = st.be->sync(st.be->self);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_observe(METRICS_AUDIT_FSYNC, (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc;
}

/* Where the backend has the line appended or replayed last; -1: it does not read back. */
static int64_t
store_backend_at(void)
{
	return st.be != NULL && st.be->line_at != NULL && st.be->read != NULL ?
	    st.be->line_at(st.be->self) : -1;
}

/* LINE (NULL: none) at AT is being applied. */
static void
store_applying(const char *line, int64_t at)
{
	st.applying_line = line;
	st.applying_at = line != NULL ? at : -1;
}

int64_t
store_applying_at(const char **line)
{
	*line = st.applying_at >= 0 ? st.applying_line : NULL;
	return st.applying_at;
}

int
store_read(int64_t seq, int64_t at, char *buf, size_t len)
{
	if (st.be == NULL || st.be->read == NULL)
		return -ENOTSUP;
	return st.be->read(st.be->self, seq, at, buf, len);
}

const char *
store_read_data(int64_t seq, int64_t at, size_t dataoff, size_t datalen,
    char **buf, size_t *cap, int *rc)
{
	char	 head[32];
	size_t	 hl, n = dataoff + datalen + 1;
	char	*p, *d;

	hl = (size_t)snprintf(head, sizeof(head), "{\"seq\":%lld,",
	    (long long)seq);
	if (datalen < 2 || dataoff < hl + 7 || dataoff > RECORD_LINE_MAX ||
	    datalen > RECORD_LINE_MAX) {
		*rc = -EINVAL;
		return NULL;
	}
	if (n > *cap) {
		if ((p = realloc(*buf, n)) == NULL) {
			*rc = -ENOMEM;
			return NULL;
		}
		*buf = p;
		*cap = n;
	}
	if ((*rc = store_read(seq, at, *buf, n)) != 0)
		return NULL;
	/* The byte after the data: the next member's comma, or the line's end. */
	d = *buf + dataoff;
	if (memcmp(*buf, head, hl) != 0 || memcmp(d - 7, "\"data\":", 7) != 0 ||
	    d[0] != '{' || d[datalen - 1] != '}' || (d[datalen] != ',' &&
	    d[datalen] != '}')) {
		*rc = -EILSEQ;
		return NULL;
	}
	return d;
}

const char *
store_read_strerror(int rc)
{
	return rc == -EILSEQ ? "another line is there" : strerror(-rc);
}

struct store_replay {
	char	*err;
	size_t	 errlen;
};

static int
store_replay_line(const char *line, size_t len, void *arg)
{
	struct store_replay	*sr = arg;
	struct record		 rec;
	struct replayline	 rl;
	json_t			*root;
	const char		*why;
	int			 rc;

	if (replayline_parse(line, len, &rec, &rl, &root, &why) != 0) {
		/* Only an accepted break gets here: keep going without it. */
		log_warnx("skipping a damaged record in the audit log (%s)", why);
		return 0;
	}
	rec.replaying = 1;
	store_applying(line, store_backend_at());
	rc = st.apply != NULL ? st.apply(&rec) : 0;
	store_applying(NULL, -1);
	if (rc != 0)
		snprintf(sr->err, sr->errlen, "cannot apply seq %lld (%s): %s",
		    (long long)rec.seq, rec.event, strerror(-rc));
	json_decref(root);
	return rc;
}

int
store_open(const struct store_backend *be, store_apply_fn apply,
    int accept_broken, char *err, size_t errlen)
{
	struct store_tail	 tail;
	struct store_replay	 sr = { err, errlen };
	json_t			*r;
	size_t			 i;
	int			 rc;

	memset(&tail, 0, sizeof(tail));
	st.be = be;
	st.apply = apply;
	st.dirty = st.health = 0;
	st.appended = st.syncs = 0;
	st.unsynced_since = st.own_failing_since = 0;
	st.last_error = 0;
	st.last_error_at = 0;
	st.inflight = 0;
	st.inflight_since = 0;
	st.inflight_status = 0;
	be->configure(be->self, st.segment_size, st.reserve);
	if ((rc = be->open(be->self, accept_broken, &tail, err, errlen)) != 0) {
		json_decref(tail.repairs);
		be->close(be->self);
		st.be = NULL;
		return rc;
	}
	/* The file backend fills the tail in as its scan ends, during replay. */
	if ((rc = be->replay(be->self, store_replay_line, &sr, err,
	    errlen)) != 0) {
		json_decref(tail.repairs);
		be->close(be->self);
		st.be = NULL;
		return rc;
	}
	st.seq = tail.seq;
	memcpy(st.hash, tail.seq > 0 ? tail.hash : RECORD_ZERO_HASH,
	    sizeof(st.hash));
	json_array_foreach(tail.repairs, i, r) {
		const char *event = json_string_value(json_object_get(r, "event"));

		if (store_append(event, NULL, json_string_value(json_object_get(r,
		    "actor")), json_incref(json_object_get(r, "data")), NULL) != 0)
			log_warnx("cannot record %s in the audit log", event);
	}
	json_decref(tail.repairs);
	return 0;
}

void
store_close(void)
{
	struct store_waiter *w;

	(void)store_flush();
	store_laters_fail(-ECANCELED);
	free(st.batch);
	st.batch = NULL;
	st.batch_cap = 0;
	scanjob_stop_all();
	while ((w = TAILQ_FIRST(&st.waiters)) != NULL) {
		TAILQ_REMOVE(&st.waiters, w, entry);
		w->queued = 0;
		w->cb(w->arg, -ECANCELED);
	}
	if (st.be != NULL)
		st.be->close(st.be->self);
	st.be = NULL;
	st.apply = NULL;
}

/* Dequeues L: its record will not be written by the store. */
static void
store_later_take(struct store_later *l)
{
	TAILQ_REMOVE(&st.laters, l, entry);
	l->queued = 0;
	free(l->incident);
	l->incident = NULL;
}

/* Every held record fails with STATUS; their writers get their data back. */
static void
store_laters_fail(int status)
{
	struct store_later	*l;
	json_t			*data;

	while ((l = TAILQ_FIRST(&st.laters)) != NULL) {
		data = l->data;
		l->data = NULL;
		store_later_take(l);
		l->failed(l->arg, status, data);
	}
}

/* Room for N more bytes (and a NUL) in the batch. */
static int
store_batch_room(size_t used, size_t n)
{
	size_t	 cap;
	char	*p;

	if (used + n + 1 <= st.batch_cap)
		return 0;
	for (cap = st.batch_cap ? st.batch_cap : 8192; cap < used + n + 1;
	    cap *= 2)
		;
	if ((p = realloc(st.batch, cap)) == NULL)
		return -ENOMEM;
	st.batch = p;
	st.batch_cap = cap;
	return 0;
}

/* A held record once written: what applying it needs, off its writer. */
struct store_held {
	int64_t		 ts_ms;
	const char	*event, *actor;
	char		*incident;
	json_t		*data;
	char		 ts[TIME_RFC3339_MAX];
	size_t		 data_off, data_len;	/* its data's bytes in the batch */
	size_t		 line_off;	/* its line's */
};

/*
 * Writes the held records in one go, then applies them in order.  Nothing
 * is chained or applied before the write succeeded: on failure the chain
 * stays where it was and each writer is told.
 */
static int
store_laters_write(void)
{
	struct store_later	*l;
	struct store_held	*h;
	struct record		 rec;
	char			 hash[RECORD_HASH_HEX], *line, *batch;
	const char		*outer_line;
	size_t			 len, used = 0, n = 0, i, cap;
	unsigned		 flags = STORE_PRIVILEGED;
	int64_t			 first = st.seq + 1, at, outer_at;
	int			 rc = 0;

	if (TAILQ_EMPTY(&st.laters))
		return 0;
	TAILQ_FOREACH(l, &st.laters, entry)
		n++;
	if ((h = calloc(n, sizeof(*h))) == NULL) {
		store_laters_fail(-ENOMEM);
		return -ENOMEM;
	}
	memcpy(hash, st.hash, sizeof(hash));
	memset(&rec, 0, sizeof(rec));
	i = 0;
	TAILQ_FOREACH(l, &st.laters, entry) {
		rec.seq = first + (int64_t)i;
		rec.ts_ms = l->ts_ms;
		rec.ts = time_format(rec.ts_ms, h[i].ts, sizeof(h[i].ts));
		rec.event = l->event;
		rec.incident = l->incident;
		rec.actor = l->actor;
		rec.data = l->data;
		line = NULL;
		if ((rc = record_format_spliced(&rec, hash, NULL, NULL, 0, &line,
		    &len)) != 0)
			break;
		if ((rc = store_batch_room(used, len + 1)) != 0) {
			free(line);
			break;
		}
		record_hash(line, len, hash);
		h[i].line_off = used;
		h[i].data_off = used + (size_t)(rec.data_text - line);
		h[i].data_len = rec.data_textlen;
		memcpy(st.batch + used, line, len);
		st.batch[used + len] = '\n';
		used += len + 1;
		free(line);
		if (!store_privileged(l->actor))
			flags = 0;
		i++;
	}
	if (rc == 0 && (rc = st.be->append_lines(st.be->self, first,
	    first + (int64_t)n - 1, st.batch, used, flags)) != 0) {
		st.health = rc;
		store_failed(rc);
		if (flags && st.own_failing_since == 0)
			st.own_failing_since = time_now_ms();
	}
	if (rc != 0) {
		free(h);
		store_laters_fail(rc);
		return rc;
	}
	/* Where the batch went: each line read back from there. */
	at = store_backend_at();
	outer_line = st.applying_line;
	outer_at = st.applying_at;
	/* On disk: off the queue, so that nothing can cancel them now. */
	for (i = 0; i < n; i++) {
		l = TAILQ_FIRST(&st.laters);
		h[i].ts_ms = l->ts_ms;
		h[i].event = l->event;
		h[i].actor = l->actor;
		h[i].incident = l->incident;
		h[i].data = l->data;
		l->incident = NULL;
		l->data = NULL;
		TAILQ_REMOVE(&st.laters, l, entry);
		l->queued = 0;
	}
	st.seq = first + (int64_t)n - 1;
	memcpy(st.hash, hash, sizeof(st.hash));
	if (!st.dirty)
		st.unsynced_since = h[0].ts_ms;
	st.dirty = 1;
	if (flags)
		st.own_failing_since = 0;
	st.appended += n;
	/*
	 * The batch is this loop's while it applies (the data's text is in
	 * it): a record appended meanwhile writes into a batch of its own.
	 */
	batch = st.batch;
	cap = st.batch_cap;
	st.batch = NULL;
	st.batch_cap = 0;
	for (i = 0; i < n; i++) {
		rec.seq = first + (int64_t)i;
		rec.ts_ms = h[i].ts_ms;
		rec.ts = h[i].ts;
		rec.event = h[i].event;
		rec.incident = h[i].incident;
		rec.actor = h[i].actor;
		rec.data = h[i].data;
		rec.data_text = batch + h[i].data_off;
		rec.data_textlen = h[i].data_len;
		store_applying(batch + h[i].line_off, at >= 0 ?
		    at + (int64_t)h[i].line_off : -1);
		if (st.apply != NULL && (rc = st.apply(&rec)) != 0)
			log_errorx("audit seq %lld (%s) is on disk but could not "
			    "be applied in memory: %s; restart dutyd to rebuild "
			    "from the log", (long long)rec.seq, rec.event,
			    strerror(-rc));
		store_applying(outer_line, outer_at);
		free(h[i].incident);
		json_decref(h[i].data);
	}
	free(h);
	if (st.batch == NULL) {
		st.batch = batch;
		st.batch_cap = cap;
	} else
		free(batch);
	return 0;
}

void
store_append_later(struct store_later *l, const char *event,
    const char *incident, const char *actor, json_t *data,
    void (*failed)(void *arg, int status, json_t *data), void *arg)
{
	int rc;

	if (l->queued)
		store_later_cancel(l);
	if (data == NULL && (data = json_object()) == NULL) {
		failed(arg, -ENOMEM, NULL);
		return;
	}
	if (st.be == NULL || st.be->append_lines == NULL) {
		json_incref(data);
		if ((rc = store_append(event, incident, actor, data, NULL)) != 0)
			failed(arg, rc, data);
		else
			json_decref(data);
		return;
	}
	l->incident = NULL;
	if (incident != NULL && (l->incident = strdup(incident)) == NULL) {
		failed(arg, -ENOMEM, data);
		return;
	}
	l->ts_ms = time_now_ms();
	l->event = event;
	l->actor = actor;
	l->data = data;
	l->failed = failed;
	l->arg = arg;
	l->queued = 1;
	TAILQ_INSERT_TAIL(&st.laters, l, entry);
}

void
store_later_cancel(struct store_later *l)
{
	if (l == NULL || !l->queued)
		return;
	json_decref(l->data);
	l->data = NULL;
	store_later_take(l);
}

static int
store_append_line(const char *event, const char *incident, const char *actor,
    json_t *data, const char *key, const char *raw, size_t rawlen,
    int64_t *seq_out)
{
	struct record	 rec;
	char		 ts[TIME_RFC3339_MAX], *line = NULL;
	const char	*outer_line;
	size_t		 len;
	int64_t		 outer_at;
	int		 rc;

	if (data == NULL && (data = json_object()) == NULL)
		return -ENOMEM;
	if (st.be == NULL) {
		json_decref(data);
		return -EBADF;
	}
	/* What was held goes first: the chain and apply keep seq order. */
	(void)store_laters_write();
	memset(&rec, 0, sizeof(rec));
	rec.seq = st.seq + 1;
	rec.ts_ms = time_now_ms();
	rec.ts = time_format(rec.ts_ms, ts, sizeof(ts));
	rec.event = event;
	rec.incident = incident;
	rec.actor = actor;
	rec.data = data;
	if ((rc = record_format_spliced(&rec, st.hash, key, raw, rawlen, &line,
	    &len)) != 0) {
		json_decref(data);
		return rc;
	}
	line[len] = '\n';	/* over the NUL: the backend takes whole lines */
	if ((rc = st.be->append(st.be->self, rec.seq, line, len + 1,
	    (store_privileged(actor) ? STORE_PRIVILEGED : 0) |
	    (strncmp(event, "checkpoint.", 11) == 0 ? STORE_CHECKPOINT : 0))) != 0) {
		st.health = rc;
		store_failed(rc);
		if (store_privileged(actor) && st.own_failing_since == 0)
			st.own_failing_since = rec.ts_ms;
		free(line);
		json_decref(data);
		return rc;
	}
	record_hash(line, len, st.hash);
	st.seq = rec.seq;
	if (!st.dirty)
		st.unsynced_since = rec.ts_ms;
	st.dirty = 1;
	if (store_privileged(actor))
		st.own_failing_since = 0;
	st.appended++;
	/* An apply may append (a fallback): the outer record's place comes back after. */
	outer_line = st.applying_line;
	outer_at = st.applying_at;
	store_applying(line, store_backend_at());
	if (st.apply != NULL && (rc = st.apply(&rec)) != 0)
		log_errorx("audit seq %lld (%s) is on disk but could not be "
		    "applied in memory: %s; restart dutyd to rebuild from the log",
		    (long long)rec.seq, event, strerror(-rc));
	store_applying(outer_line, outer_at);
	free(line);	/* after apply: rec.data_text is in it */
	if (seq_out != NULL)
		*seq_out = rec.seq;
	json_decref(data);
	return 0;
}

int
store_append(const char *event, const char *incident, const char *actor,
    json_t *data, int64_t *seq_out)
{
	return store_append_line(event, incident, actor, data, NULL, NULL, 0,
	    seq_out);
}

int
store_append_spliced(const char *event, const char *incident,
    const char *actor, json_t *data, const char *key, const char *raw,
    size_t rawlen, int64_t *seq_out)
{
	return store_append_line(event, incident, actor, data, key, raw, rawlen,
	    seq_out);
}

void
store_wait(struct store_waiter *w, void (*cb)(void *, int), void *arg)
{
	if (w->queued)
		return;
	w->cb = cb;
	w->arg = arg;
	w->queued = 1;
	w->gen = st.gen;
	TAILQ_INSERT_TAIL(&st.waiters, w, entry);
}

void
store_wait_cancel(struct store_waiter *w)
{
	if (w == NULL || !w->queued)
		return;
	TAILQ_REMOVE(&st.waiters, w, entry);
	w->queued = 0;
}

/* Runs the waiters queued up to COVERED with STATUS. */
static void
store_wake(uint64_t covered, int status)
{
	struct store_waiter *w;

	while ((w = TAILQ_FIRST(&st.waiters)) != NULL && w->gen <= covered) {
		TAILQ_REMOVE(&st.waiters, w, entry);
		w->queued = 0;
		w->cb(w->arg, status);
	}
}

/* The backend's sync_start() completed (or could not start). */
static void
store_synced(void *arg, int status)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_observe(METRICS_AUDIT_FSYNC, (double)(t1.tv_sec -
	    st.inflight_t0.tv_sec) + (t1.tv_nsec - st.inflight_t0.tv_nsec) / 1e9);
	st.inflight = 0;
	st.inflight_status = status;
	if (status != 0) {
		/* The lines stay with the backend: the next sync retries them. */
		st.health = status;
		store_failed(status);
		if (st.inflight_since != 0)
			st.unsynced_since = st.inflight_since;
		else if (!st.dirty)
			st.unsynced_since = time_now_ms();
		st.dirty = 1;
	} else if (st.be != NULL)
		st.health = st.be->health(st.be->self);
	st.inflight_since = 0;
	store_wake(st.inflight_gen, status);
}

static void
store_commit_async(void)
{
	int rc;

	if (st.inflight)
		return;		/* what came meanwhile goes with the next */
	(void)store_laters_write();
	if (!st.dirty) {
		/* Their records were covered by a sync that completed. */
		if (!TAILQ_EMPTY(&st.waiters))
			store_wake(st.gen++, 0);
		return;
	}
	st.syncs++;
	st.inflight = 1;
	st.inflight_gen = st.gen++;
	st.inflight_since = st.unsynced_since;
	st.dirty = 0;
	st.unsynced_since = 0;
	clock_gettime(CLOCK_MONOTONIC, &st.inflight_t0);
	if ((rc = st.be->sync_start(st.be->self, store_synced, NULL)) != 0)
		store_synced(NULL, rc);
}

int
store_committing(void)
{
	return st.inflight;
}

int
store_flush(void)
{
	int rounds;

	if (st.be == NULL || st.be->sync_start == NULL) {
		store_commit();
		return st.dirty ? (st.health != 0 ? st.health : -EIO) : 0;
	}
	/* Waiters may append and wait again: a few rounds settle it. */
	for (rounds = 0; rounds < 8; rounds++) {
		if (st.inflight) {
			st.be->sync_drain(st.be->self);
			if (st.inflight)
				return -ETIMEDOUT;
			if (st.inflight_status != 0)
				return st.inflight_status;
		}
		if (!st.dirty && TAILQ_EMPTY(&st.waiters) &&
		    TAILQ_EMPTY(&st.laters))
			return 0;
		store_commit_async();
	}
	return st.dirty || st.inflight ? -EAGAIN : 0;
}

void
store_commit(void)
{
	struct store_waiter	*w;
	uint64_t		 covered;
	int			 status, rounds;

	if (st.be != NULL && st.be->sync_start != NULL) {
		store_commit_async();
		return;
	}
	/* Waiters may append and wait again: a few rounds settle it. */
	for (rounds = 0; rounds < 8; rounds++) {
		(void)store_laters_write();
		if (!st.dirty && TAILQ_EMPTY(&st.waiters))
			return;
		status = 0;
		if (st.dirty && st.be != NULL) {
			st.syncs++;
			if ((status = store_sync()) != 0) {
				st.health = status;
				store_failed(status);
			} else {
				st.dirty = 0;
				st.unsynced_since = 0;
				st.health = st.be->health(st.be->self);
			}
		}
		/* Only the waiters queued before this sync are covered by it. */
		covered = st.gen++;
		while ((w = TAILQ_FIRST(&st.waiters)) != NULL && w->gen <= covered) {
			TAILQ_REMOVE(&st.waiters, w, entry);
			w->queued = 0;
			w->cb(w->arg, status);
		}
		if (status != 0)
			return;
	}
}

int
store_checkpoint_due(void)
{
	return st.be != NULL && st.be->checkpoint_due(st.be->self, time_now_ms());
}

int
store_rotate(void)
{
	/* The closing segment takes what is held, before any checkpoint part. */
	(void)store_laters_write();
	return st.be != NULL ? st.be->rotate(st.be->self, time_now_ms()) : -EBADF;
}

void
store_checkpoint_done(void)
{
	if (st.be != NULL)
		st.be->checkpoint_done(st.be->self);
}

void
store_configure(int64_t segment_size, int64_t reserve)
{
	st.segment_size = segment_size;
	st.reserve = reserve;
	if (st.be != NULL)
		st.be->configure(st.be->self, segment_size, reserve);
}

int
store_secret(const char *name, void *buf, size_t len, char *err, size_t errlen)
{
	if (st.be == NULL) {
		snprintf(err, errlen, "the store is not open");
		return -EBADF;
	}
	return st.be->secret(st.be->self, name, buf, len, err, errlen);
}

void
store_tick(void)
{
	if (st.be != NULL && st.be->tick(st.be->self) &&
	    (st.health == -ENOSPC || st.health == -EDQUOT))
		st.health = 0;
}

int
store_health(void)
{
	return st.health;
}

int
store_pending(void)
{
	return st.dirty || st.inflight || !TAILQ_EMPTY(&st.waiters) ||
	    !TAILQ_EMPTY(&st.laters);
}

int64_t
store_last_seq(void)
{
	return st.seq;
}

void
store_stats(uint64_t *appended, uint64_t *syncs)
{
	*appended = st.appended;
	*syncs = st.syncs;
}

void
store_trouble(struct store_trouble *t)
{
	if (st.inflight && st.inflight_since != 0)
		t->unsynced_since = st.inflight_since;
	else
		t->unsynced_since = st.dirty ? st.unsynced_since : 0;
	t->own_failing_since = st.own_failing_since;
	t->last_error = st.last_error;
	t->last_error_at = st.last_error_at;
}

void
store_scan_loop(struct event_base *base)
{
	scanjob_loop(base);
}

int
store_scan(int64_t from_ms, int64_t to_ms, const char *const *kinds,
    int (*record_fn)(const struct record *, void *arg),
    void (*done)(void *arg, int status, const char *err), void *arg)
{
	return store_scan_bare(from_ms, to_ms, kinds, NULL, record_fn, done,
	    arg);
}

int
store_scan_bare(int64_t from_ms, int64_t to_ms, const char *const *kinds,
    const char *const *bare, int (*record_fn)(const struct record *, void *arg),
    void (*done)(void *arg, int status, const char *err), void *arg)
{
	char	 err[256];
	void	*h;

	if (st.be == NULL)
		return -EBADF;
	if (st.be->scan_open == NULL)
		return -ENOTSUP;
	if (scanjob_running() >= STORE_SCANS_MAX)
		return -EBUSY;
	errno = 0;
	if ((h = st.be->scan_open(st.be->self, from_ms, to_ms, err,
	    sizeof(err))) == NULL) {
		int e = errno != 0 ? errno : EIO;

		log_debug("scan: %s", err);
		return -e;
	}
	return scanjob_start(h, st.be->scan_read, st.be->scan_close, from_ms,
	    to_ms, kinds, bare, record_fn, done, arg);
}

int
store_scans_running(void)
{
	return scanjob_running();
}
