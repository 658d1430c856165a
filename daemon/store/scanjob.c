/*
 * History scans on worker threads (see scanjob.h, store_scan()).
 *
 * The loop never waits for a scan: a year of a busy city is hundreds of
 * megabytes.  A thread reads, filters and parses; the loop hears of the
 * end through a pipe it watches, joins the thread and calls done().  The
 * filter looks at the fixed envelope ({"seq":N,"ts":"…","event":"…",…)
 * first, so only the records asked for are parsed as JSON: most of a
 * busy log is notification records nobody counts.
 */
#include <sys/queue.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/clock.h"
#include "base/jfast.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "store/scanjob.h"

#define SCANJOB_ERR_MAX		256
#define SCANJOB_KINDS_MAX	32	/* prefixes a scan may ask for */
#define SCANJOB_ENVELOPE_MAX	512	/* bytes before "data" in a line dutyd wrote */

/* How far below the loop a scan's thread runs (nice 10: about a tenth of a core's share). */
#define SCANJOB_NICE	10

struct scanjob {
	LIST_ENTRY(scanjob)	 entry;
	void			*handle;
	scanjob_read_fn		 read;
	void			(*close)(void *);
	int64_t			 from_ms, to_ms;
	char			*kinds[SCANJOB_KINDS_MAX];
	size_t			 nkinds;	/* 0: every kind */
	char			*bare[SCANJOB_KINDS_MAX];	/* whose data nobody reads */
	size_t			 nbare;
	int			(*record_fn)(const struct record *, void *);
	void			(*done)(void *, int, const char *);
	void			*arg;
	pthread_t		 thread;
	int			 threaded;
	atomic_int		 cancel;
	atomic_int		 ended;		/* the reading is over: status and err hold */
	int			 status;
	char			 err[SCANJOB_ERR_MAX];
	struct clock		 clock;		/* without a loop: done() next turn */
};

static struct {
	struct event_base	*base;
	int			 pipe[2];	/* threads write their struct scanjob * */
	struct event		*pipe_ev;
	LIST_HEAD(, scanjob)	 jobs;
	int			 running;
	int			 stopping;	/* a done() then starts no new scan */
} sj = { .pipe = { -1, -1 }, .jobs = LIST_HEAD_INITIALIZER(sj.jobs) };

void
scanjob_loop(struct event_base *base)
{
	sj.base = base;
}

int
scanjob_running(void)
{
	return sj.running;
}

static void
scanjob_free(struct scanjob *j)
{
	size_t i;

	if (j->handle != NULL)
		j->close(j->handle);
	for (i = 0; i < j->nkinds; i++)
		free(j->kinds[i]);
	for (i = 0; i < j->nbare; i++)
		free(j->bare[i]);
	clock_free(&j->clock);
	free(j);
}

/* Whether EV starts with one of the N prefixes in LIST. */
static int
scanjob_in(char *const *list, size_t n, const char *ev, size_t evlen)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(list[i]);
		if (evlen >= len && memcmp(ev, list[i], len) == 0)
			return 1;
	}
	return 0;
}

/*
 * Whether the line may be read bare: its kind is in the bare list, and
 * the entry's "?NEEDLE", if any, is nowhere in the line (so the one field
 * the reader wants from such a record is not there).
 */
static int
scanjob_bare_ok(const struct scanjob *j, const char *line, size_t len,
    const char *ev, size_t evlen)
{
	const char	*q;
	size_t		 i, n;

	for (i = 0; i < j->nbare; i++) {
		q = strchr(j->bare[i], '?');
		n = q != NULL ? (size_t)(q - j->bare[i]) : strlen(j->bare[i]);
		if (evlen < n || memcmp(ev, j->bare[i], n) != 0)
			continue;
		return q == NULL || memmem(line, len, q + 1, strlen(q + 1)) == NULL;
	}
	return 0;
}

/* Whether the line's kind is one asked for; checkpoint.* never is. */
static int
scanjob_kind(const struct scanjob *j, const char *ev, size_t evlen)
{
	if (evlen >= 11 && memcmp(ev, "checkpoint.", 11) == 0)
		return 0;
	return j->nkinds == 0 || scanjob_in(j->kinds, j->nkinds, ev, evlen);
}

/*
 * A record whose data nobody reads, from the envelope alone: the line up to
 * its "data" ({"seq":…,"ts":…,"event":…,"incident":…,"actor":"…") closed
 * with a brace is a JSON object of its own, which jansson parses in a
 * fraction of the time the whole line would take (a written report's text,
 * a report's details).  -1 when the line is not laid out so (not written
 * by dutyd): the caller parses it whole.
 */
static int
scanjob_bare(const char *line, size_t len, struct record *rec, json_t **rootp)
{
	const char	*a, *q;
	char		 buf[SCANJOB_ENVELOPE_MAX + 1];
	size_t		 n;
	json_t		*root, *v;

	if ((a = memmem(line, len < SCANJOB_ENVELOPE_MAX ? len :
	    SCANJOB_ENVELOPE_MAX, ",\"actor\":\"", 10)) == NULL)
		return -1;
	a += 10;
	if ((q = memchr(a, '"', (size_t)(line + len - a))) == NULL ||
	    memchr(a, '\\', (size_t)(q - a)) != NULL)
		return -1;
	n = (size_t)(q + 1 - line);
	if (n >= sizeof(buf) || len - n < 9 || memcmp(q + 1, ",\"data\":{", 9) != 0)
		return -1;
	memcpy(buf, line, n);
	buf[n] = '}';
	/* Every line's envelope is read: yajl's parse where it is jansson's. */
	if ((root = jfast_load(buf, n + 1)) == NULL &&
	    (root = json_loadb(buf, n + 1, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	memset(rec, 0, sizeof(*rec));
	v = json_object_get(root, "seq");
	rec->seq = json_integer_value(v);
	rec->ts = json_string_value(json_object_get(root, "ts"));
	rec->event = json_string_value(json_object_get(root, "event"));
	rec->actor = json_string_value(json_object_get(root, "actor"));
	v = json_object_get(root, "incident");
	rec->incident = json_string_value(v);
	if (!json_is_integer(json_object_get(root, "seq")) || rec->seq < 1 ||
	    rec->ts == NULL || time_parse(rec->ts, &rec->ts_ms) != 0 ||
	    rec->event == NULL || rec->actor == NULL ||
	    (v != NULL && !json_is_string(v)) ||
	    json_object_set_new(root, "data", json_object()) != 0) {
		json_decref(root);
		return -1;
	}
	rec->data = json_object_get(root, "data");
	*rootp = root;
	return 0;
}

/*
 * The kind, then the time, from the envelope dutyd writes, without parsing
 * the line; the time is read only for the kinds asked for (most lines of a
 * busy log are notifications nobody counts).  -1 when the line does not have
 * the envelope (written by hand, damaged): the caller then parses it whole
 * and decides on the parsed fields.
 */
static int
scanjob_event(const char *line, size_t len, const char **ev, size_t *evlen)
{
	const char	*e, *q;

	if ((e = memmem(line, len < 200 ? len : 200, ",\"event\":\"", 10)) == NULL)
		return -1;
	e += 10;
	if ((q = memchr(e, '"', (size_t)(line + len - e))) == NULL)
		return -1;
	*ev = e;
	*evlen = (size_t)(q - e);
	return 0;
}

static int
scanjob_ts(const char *line, size_t len, int64_t *ts_ms)
{
	const char	*t, *q;
	char		 ts[48];

	if ((t = memmem(line, len < 200 ? len : 200, ",\"ts\":\"", 7)) == NULL)
		return -1;
	t += 7;
	if ((q = memchr(t, '"', (size_t)(line + len - t))) == NULL ||
	    (size_t)(q - t) >= sizeof(ts))
		return -1;
	memcpy(ts, t, (size_t)(q - t));
	ts[q - t] = '\0';
	return time_parse(ts, ts_ms) == 0 ? 0 : -1;
}

/* One line, on the worker thread. */
static int
scanjob_line(const char *line, size_t len, void *arg)
{
	struct scanjob	*j = arg;
	struct record	 rec;
	json_t		*root;
	const char	*ev, *why;
	size_t		 evlen;
	int64_t		 ts_ms;
	int		 rc, known;

	if (atomic_load_explicit(&j->cancel, memory_order_relaxed))
		return -ECANCELED;
	known = scanjob_event(line, len, &ev, &evlen) == 0;
	if (known && !scanjob_kind(j, ev, evlen))
		return 0;
	known = known && scanjob_ts(line, len, &ts_ms) == 0;
	if (known && (ts_ms < j->from_ms || ts_ms >= j->to_ms))
		return 0;
	/* A damaged line (an accepted break) is not a record: left out. */
	if ((!known || !scanjob_bare_ok(j, line, len, ev, evlen) ||
	    scanjob_bare(line, len, &rec, &root) != 0) &&
	    record_parse(line, len, &rec, &root, &why) != 0)
		return 0;
	rc = 0;
	if (known || (rec.ts_ms >= j->from_ms && rec.ts_ms < j->to_ms &&
	    scanjob_kind(j, rec.event, strlen(rec.event))))
		rc = j->record_fn(&rec, j->arg);
	json_decref(root);
	return rc;
}

static void
scanjob_run(struct scanjob *j)
{
	j->status = j->read(j->handle, scanjob_line, j, j->err, sizeof(j->err));
	if (j->status == -ECANCELED && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "dutyd is stopping");
	else if (j->status != 0 && j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "reading the audit log: %s",
		    strerror(-j->status));
	atomic_store(&j->ended, 1);
}

static void *
scanjob_thread(void *arg)
{
	struct scanjob	*j = arg;
	ssize_t		 n;

	/*
	 * A year's figures take seconds of CPU; the loop's clocks and replies,
	 * and whatever else the server runs, come first.  On Linux a thread's
	 * nice value is its own (setpriority on its tid).
	 */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), SCANJOB_NICE) == -1)
		log_debug("scan: cannot lower the thread's priority: %s",
		    strerror(errno));
	scanjob_run(j);
	/* A pointer is less than PIPE_BUF: one write, whole or not at all. */
	do
		n = write(sj.pipe[1], &j, sizeof(j));
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(j))
		log_debug("scan: cannot wake the loop: %s", strerror(errno));
	return NULL;
}

/* On the loop: the scan is over. */
static void
scanjob_finish(struct scanjob *j)
{
	LIST_REMOVE(j, entry);
	sj.running--;
	if (j->threaded)
		pthread_join(j->thread, NULL);
	j->close(j->handle);
	j->handle = NULL;
	j->done(j->arg, j->status, j->status != 0 ? j->err : NULL);
	scanjob_free(j);
}

static void
scanjob_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scanjob	*j;
	ssize_t		 n;

	while ((n = read(sj.pipe[0], &j, sizeof(j))) == (ssize_t)sizeof(j))
		scanjob_finish(j);
}

static void
scanjob_clock(struct clock *c, void *arg)
{
	scanjob_finish(arg);
}

static int
scanjob_wake_setup(void)
{
	if (sj.pipe_ev != NULL)
		return 0;
	if (pipe2(sj.pipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -errno;
	if ((sj.pipe_ev = event_new(sj.base, sj.pipe[0], EV_READ | EV_PERSIST,
	    scanjob_pipe_cb, NULL)) == NULL || event_add(sj.pipe_ev, NULL) != 0) {
		if (sj.pipe_ev != NULL)
			event_free(sj.pipe_ev);
		sj.pipe_ev = NULL;
		close(sj.pipe[0]);
		close(sj.pipe[1]);
		sj.pipe[0] = sj.pipe[1] = -1;
		return -ENOMEM;
	}
	return 0;
}

static int
scanjob_spawn(struct scanjob *j)
{
	pthread_attr_t	attr;
	sigset_t	all, old;
	int		rc;

	if ((rc = scanjob_wake_setup()) != 0)
		return rc;
	if ((rc = pthread_attr_init(&attr)) != 0)
		return -rc;
	/* Signals stay with the loop, which turns them into events. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, &attr, scanjob_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	j->threaded = 1;
	return 0;
}

/* Copies a NULL-terminated list of prefixes; an empty one asks for nothing. */
static int
scanjob_list(const char *const *from, char **to, size_t *n)
{
	size_t i;

	for (i = 0; from != NULL && from[i] != NULL; i++) {
		if (i == SCANJOB_KINDS_MAX)
			return -E2BIG;
		if ((to[i] = strdup(from[i])) == NULL)
			return -ENOMEM;
		(*n)++;
	}
	/* A kind nobody writes. */
	if (from != NULL && *n == 0) {
		if ((to[0] = strdup("\"")) == NULL)
			return -ENOMEM;
		*n = 1;
	}
	return 0;
}

int
scanjob_start(void *handle, scanjob_read_fn read_fn, void (*close_fn)(void *),
    int64_t from_ms, int64_t to_ms, const char *const *kinds,
    const char *const *bare, int (*record_fn)(const struct record *, void *),
    void (*done)(void *, int, const char *), void *arg)
{
	struct scanjob	*j;
	int		 rc;

	if (sj.stopping) {
		close_fn(handle);
		return -ECANCELED;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		close_fn(handle);
		return -ENOMEM;
	}
	j->handle = handle;
	j->read = read_fn;
	j->close = close_fn;
	j->from_ms = from_ms;
	j->to_ms = to_ms;
	j->record_fn = record_fn;
	j->done = done;
	j->arg = arg;
	if ((rc = scanjob_list(kinds, j->kinds, &j->nkinds)) != 0 ||
	    (bare != NULL && bare[0] != NULL &&
	    (rc = scanjob_list(bare, j->bare, &j->nbare)) != 0)) {
		scanjob_free(j);
		return rc;
	}
	if (sj.base != NULL) {
		if ((rc = scanjob_spawn(j)) != 0) {
			scanjob_free(j);
			return rc;
		}
	} else {
		scanjob_run(j);
		clock_init(&j->clock, scanjob_clock, j);
		clock_arm(&j->clock, time_now_ms());
	}
	LIST_INSERT_HEAD(&sj.jobs, j, entry);
	sj.running++;
	return 0;
}

void
scanjob_stop_all(void)
{
	struct scanjob	*j;
	ssize_t		 n;

	sj.stopping = 1;
	LIST_FOREACH(j, &sj.jobs, entry)
		atomic_store(&j->cancel, 1);
	while ((j = LIST_FIRST(&sj.jobs)) != NULL) {
		if (j->threaded) {
			pthread_join(j->thread, NULL);
			j->threaded = 0;
		}
		/* One that had read everything keeps its result. */
		if (!atomic_load(&j->ended) || (j->status == -ECANCELED)) {
			j->status = -ECANCELED;
			snprintf(j->err, sizeof(j->err), "dutyd is stopping");
		}
		scanjob_finish(j);
	}
	if (sj.pipe_ev != NULL) {
		event_free(sj.pipe_ev);
		sj.pipe_ev = NULL;
		while ((n = read(sj.pipe[0], &j, sizeof(j))) > 0)
			;
		close(sj.pipe[0]);
		close(sj.pipe[1]);
		sj.pipe[0] = sj.pipe[1] = -1;
	}
	sj.stopping = 0;
}
