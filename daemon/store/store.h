/*
 * The store: where records go, and the source of truth.
 *
 * Every change is: build a record, store_append() it (which hands it to
 * the apply function, the record router), and answer the client only from
 * a store_wait() callback, which runs after the sync that covers it.
 * dutyd's own records that nobody waits on may be held for the end of the
 * turn instead and written together (store_append_later()).
 * Records appended during one loop turn share that sync (group commit):
 * the loop calls store_commit() at the end of every turn.
 *
 * This file is what callers see; it chains the records (seq, prev) and
 * keeps the waiters.  Where the lines live is a backend's business: the
 * audit log in state_dir (filelog.c) today, a PostgreSQL table later.
 * Nothing outside a backend touches the files of the state directory.
 */
#ifndef DUTYD_STORE_H
#define DUTYD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>

#include "store/record.h"

/* Applies a record to memory.  Live appends and start-up replay both call it. */
typedef int (*store_apply_fn)(const struct record *);

struct store_waiter {
	TAILQ_ENTRY(store_waiter) entry;
	void		(*cb)(void *arg, int status);	/* status 0: durable; <0: -errno */
	void		*arg;
	int		 queued;
	uint64_t	 gen;
};

/*
 * A record of dutyd's own whose writer needs nothing from it at once (a
 * delivery's outcome): see store_append_later().  Owned by the writer,
 * like a waiter; its members are the store's.
 */
struct store_later {
	TAILQ_ENTRY(store_later) entry;
	int		 queued;
	int64_t		 ts_ms;
	const char	*event;		/* a literal */
	const char	*actor;		/* a literal */
	char		*incident;
	json_t		*data;
	void		(*failed)(void *arg, int status, json_t *data);
	void		*arg;
};

#define STORE_PRIVILEGED	0x1
#define STORE_CHECKPOINT	0x2

/* Where the chain ends, as a backend found it when it opened. */
struct store_tail {
	int64_t		 seq;		/* of the last record; 0: empty */
	char		 hash[RECORD_HASH_HEX];	/* SHA-256 of its line */
	/* Records the backend wants appended once replay is done ({event, actor, data}). */
	json_t		*repairs;
};

/*
 * A backend keeps lines.  Every function returns 0 or -errno unless it
 * says otherwise, and writes a sentence into err where it has one.
 */
struct store_backend {
	const char	*name;
	void		*self;
	/*
	 * Opens, verifies, repairs what is safe to repair; fills tail, or
	 * leaves it to replay(), which then verifies as it goes, calls
	 * line() only for lines verified, and fails as open() would.
	 */
	int	(*open)(void *self, int accept_broken, struct store_tail *tail,
		    char *err, size_t errlen);
	/* Calls line() for every line from the newest complete checkpoint on. */
	int	(*replay)(void *self, int (*line)(const char *, size_t, void *),
		    void *arg, char *err, size_t errlen);
	/*
	 * Writes record SEQ's line (LEN bytes, its newline included).
	 * Nothing stays written on failure.  FLAGS: STORE_PRIVILEGED for
	 * dutyd's own records (a clock firing, a notification), which may
	 * use space kept back for them; STORE_CHECKPOINT for checkpoint.*.
	 */
	int	(*append)(void *self, int64_t seq, const char *line, size_t len,
		    unsigned flags);
	/*
	 * Optional: records FIRST to LAST (none checkpoint.*), whole lines
	 * back to back, as append() writes one: all or nothing.
	 */
	int	(*append_lines)(void *self, int64_t first, int64_t last,
		    const char *lines, size_t len, unsigned flags);
	/* Everything appended is durable. */
	int	(*sync)(void *self);
	/*
	 * Optional (NULL: sync() is used, and blocks).  Starts making
	 * everything appended so far durable and returns at once; done(arg,
	 * status) runs later on the loop: 0 when it is durable, -errno when
	 * not, and then the lines stay appended, so that the next
	 * sync_start() retries them with the same seqs and bytes.  store.c
	 * starts one at a time and waits for done() before the next; lines
	 * appended meanwhile belong to the next.  Nonzero return: not
	 * started, done() is not called.
	 */
	int	(*sync_start)(void *self, void (*done)(void *arg, int status),
		    void *arg);
	/*
	 * With sync_start: blocks until the one started last has called
	 * done() (or failed), for a stop.  Does nothing when none runs.
	 */
	void	(*sync_drain)(void *self);
	/* A condition that outlives a failed call (a full disk), or 0. */
	int	(*health)(void *self);
	/* Once a second; returns 1 when a lasting condition has cleared. */
	int	(*tick)(void *self);
	/*
	 * Checkpoints: due() says whether replay would gain from one now;
	 * rotate() makes room for it (a new segment); done() is told that
	 * checkpoint.begin … checkpoint.end are all written.
	 */
	int	(*checkpoint_due)(void *self, int64_t now);
	int	(*rotate)(void *self, int64_t now);
	void	(*checkpoint_done)(void *self);
	void	(*configure)(void *self, int64_t segment_size, int64_t reserve);
	/*
	 * A named secret of LEN random bytes kept with the records (the
	 * one-tap link key), made on first use.
	 */
	int	(*secret)(void *self, const char *name, void *buf, size_t len,
		    char *err, size_t errlen);
	void	(*close)(void *self);
	/*
	 * History, for store_scan().  scan_open() runs on the loop and notes
	 * what there is to read now, so that later appends and rotations do
	 * not matter; it may leave out what cannot hold a record whose ts is
	 * in [from_ms, to_ms).  NULL with errno and a sentence in err.
	 * scan_read() runs on a worker thread and touches nothing but the
	 * handle: it calls line() for every whole line noted (without its
	 * newline), in seq order, and stops at the first nonzero return,
	 * which it returns.  scan_close() frees the handle on any thread.
	 */
	/*
	 * Optional (NULL: lines are not read back, and whoever would keep
	 * a reference keeps the bytes).  line_at() is where the line
	 * appended last by append(), or the one replay() handed over last,
	 * lies: a place read() takes back, -1 when there is none.  read()
	 * copies LEN bytes from the start of record SEQ's line at AT: 0,
	 * -ENODATA when the line is not there or shorter, -errno.
	 */
	int64_t	(*line_at)(void *self);
	int	(*read)(void *self, int64_t seq, int64_t at, char *buf,
		    size_t len);
	void	*(*scan_open)(void *self, int64_t from_ms, int64_t to_ms,
		    char *err, size_t errlen);
	int	(*scan_read)(void *scan, int (*line)(const char *, size_t,
		    void *), void *arg, char *err, size_t errlen);
	void	(*scan_close)(void *scan);
};

/*
 * Opens the store and replays it through apply.  0, or -errno with a
 * sentence in err; dutyd does not start then.
 */
int	store_open(const struct store_backend *, store_apply_fn apply,
	    int accept_broken, char *err, size_t errlen);
void	store_close(void);

/*
 * Writes one record now (not yet durable) and applies it.  Steals DATA
 * (an object, or NULL for {}).  0 or -errno; on failure nothing was
 * written or applied and the caller answers 503.  *seq_out, when not
 * NULL, gets its seq.  ACTOR "dutyd" and "operator" are dutyd's own.
 */
int	store_append(const char *event, const char *incident, const char *actor,
	    json_t *data, int64_t *seq_out);
/*
 * The same, when DATA's member KEY (plain ASCII) is at hand already dumped
 * (JSON_COMPACT) as RAW: its bytes go into the line as they are instead of
 * being dumped again (a report's text is most of its record).  The line is
 * the one store_append() writes.
 */
int	store_append_spliced(const char *event, const char *incident,
	    const char *actor, json_t *data, const char *key, const char *raw,
	    size_t rawlen, int64_t *seq_out);

/*
 * store_append() for a record of dutyd's own (ACTOR "dutyd" or "operator")
 * that nobody answers on and whose writer does not need it applied before
 * it returns: it is written with the others held this turn in one write,
 * at the end of the turn or before the next store_append(), whichever
 * comes first, and applied only then, in seq order; its seq is given then.
 * One write(2) a turn instead of one a record.  Steals DATA.  If it cannot
 * be written, nothing of it was applied and FAILED(ARG, -errno, DATA) runs
 * then (DATA is the caller's again).  Until then L is queued: the caller
 * keeps it and calls store_later_cancel() before it goes (the record is
 * then not written).  A backend without append_lines writes it at once.
 */
void	store_append_later(struct store_later *l, const char *event,
	    const char *incident, const char *actor, json_t *data,
	    void (*failed)(void *arg, int status, json_t *data), void *arg);
void	store_later_cancel(struct store_later *l);

/*
 * Lines read back instead of kept (an incident's report): while a record
 * is applied, where its line lies, and the line's bytes in *LINE (the
 * record's data_text points into them when it is set); -1 when the
 * backend cannot read lines back or the record came otherwise (a replay
 * the backend serves from memory).  A place stays valid across restarts:
 * segments are never rewritten.
 */
int64_t	store_applying_at(const char **line);
/*
 * LEN bytes from the start of record SEQ's line, at AT (from
 * store_applying_at()), into BUF.  0, -ENOTSUP (no such backend, or
 * none open), -ENODATA, -errno.  Blocks on a read (the file log's page
 * cache, as a rule).
 */
int	store_read(int64_t seq, int64_t at, char *buf, size_t len);
/*
 * Record SEQ's data read back: DATALEN bytes at DATAOFF in its line at AT
 * (from store_applying_at() and the record's data_text), into *BUF (grown
 * as needed; *CAP its size), checked to be that record's line ({"seq":SEQ,
 * first) with its data there ("data": before it, an object).  The data's
 * bytes in *BUF, or NULL and *RC: -ENOMEM, -ENODATA, -EILSEQ (another line
 * is there), -EINVAL, -errno.
 */
const char *store_read_data(int64_t seq, int64_t at, size_t dataoff,
	    size_t datalen, char **buf, size_t *cap, int *rc);
/* What store_read_data()'s *RC means, for the caller's log line. */
const char *store_read_strerror(int rc);

/* Run w->cb after the next sync (at the end of this loop turn). */
void	store_wait(struct store_waiter *w, void (*cb)(void *, int), void *arg);
void	store_wait_cancel(struct store_waiter *w);
/*
 * End of a loop turn: one sync for everything appended, then the waiters.
 * With a backend that has sync_start, the sync is only started here and the
 * waiters it covers run when it completes (on the loop, from the backend's
 * event); while one runs, appends and waiters wait for the next.
 */
void	store_commit(void);
/*
 * Commits everything appended and waits for it, blocking (a stop): 0, or
 * the -errno of the sync that failed.  store_close() does this too.
 */
int	store_flush(void);
/* A sync started by store_commit() has not completed yet. */
int	store_committing(void);

/* Checkpoints (see the backend).  The caller writes checkpoint.* records. */
int	store_checkpoint_due(void);
int	store_rotate(void);
void	store_checkpoint_done(void);
void	store_configure(int64_t segment_size, int64_t reserve);
int	store_secret(const char *name, void *buf, size_t len, char *err,
	    size_t errlen);
void	store_tick(void);

/*
 * History scans: reading the whole log (statistics, the duty log) without
 * stopping the loop.
 */
#define STORE_SCANS_MAX		2	/* at once; each reads on a thread of its own */
struct event_base;
/*
 * The loop that scans report back to (main.c, once, before store_open()).
 * Without one (the unit tests) a scan reads at once, on the caller's
 * thread, and done() runs from a clock armed for now: on the next loop turn
 * (fakeclock_turn()), never before store_scan() returns.
 */
void	store_scan_loop(struct event_base *);
/*
 * Reads every record whose ts is in [from_ms, to_ms) from every segment
 * the backend holds (also those before the newest checkpoint, also beyond
 * audit.retention), in seq order, checkpoint.* records skipped.  KINDS:
 * NULL for all, else a NULL-terminated list of kind prefixes
 * ("directive.", "report.received") so a backend can skip lines before
 * parsing them.  RECORD_FN runs for each match on a worker thread (it may
 * touch only ARG; a nonzero return, -errno, ends the scan with it); then
 * DONE(ARG, status) runs on the loop (0, or -errno with a sentence in err;
 * -ECANCELED when dutyd stops first).  Never blocks the loop.  0 when
 * started, -EBUSY when STORE_SCANS_MAX scans already run, -errno.  A
 * struct record passed to record_fn is valid only during the call.
 */
int	store_scan(int64_t from_ms, int64_t to_ms, const char *const *kinds,
	    int (*record_fn)(const struct record *, void *arg),
	    void (*done)(void *arg, int status, const char *err), void *arg);
/*
 * store_scan() for a reader that needs only the envelope of some kinds:
 * records of a kind in BARE (prefixes, NULL-terminated; also matched by
 * KINDS) reach record_fn with seq, ts, event, incident and actor, and data
 * an empty object: their lines are not parsed beyond the envelope, which
 * spares most of the work on long ones (a written report's text).  An
 * entry "KIND?TEXT" is bare only when TEXT is nowhere in the line: a reader
 * that wants one rare field ("incident.updated?\"via\":") still gets it.
 */
int	store_scan_bare(int64_t from_ms, int64_t to_ms, const char *const *kinds,
	    const char *const *bare,
	    int (*record_fn)(const struct record *, void *arg),
	    void (*done)(void *arg, int status, const char *err), void *arg);
/* Scans running now. */
int	store_scans_running(void);

/* 0 while writes succeed, else the -errno of the failure still going on. */
int	store_health(void);
/* Something is written but not synced, or someone waits: commit again soon. */
int	store_pending(void);
int64_t	store_last_seq(void);
/*
 * What the watchdog weighs (0: no such trouble): since when a record has
 * waited for a sync, since when dutyd's own records (a clock firing, a
 * delivery's outcome) cannot be written, and the last failure seen.
 */
struct store_trouble {
	int64_t		 unsynced_since;
	int64_t		 own_failing_since;
	int		 last_error;	/* -errno */
	int64_t		 last_error_at;
};
void	store_trouble(struct store_trouble *);
/* Since start: records written, syncs (group commit makes them fewer). */
void	store_stats(uint64_t *appended, uint64_t *syncs);

#endif
