/*
 * The audit log: append-only JSON Lines, hash-chained, and the source of
 * truth.  Every change is: build a record, audit_append() it (which applies
 * it to memory through the apply hook), and answer the client only from an
 * audit_wait() callback, which runs after the fdatasync that covers it.
 * Records appended during one loop turn share that fdatasync (group commit).
 */
#ifndef DUTYD_AUDIT_H
#define DUTYD_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>

#define AUDIT_HASH_HEX	65	/* 64 hex digits and NUL */
/* The prev of the first record. */
#define AUDIT_ZERO_HASH	"0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_LINE_MAX	(1024 * 1024)

struct audit_record {
	int64_t		 seq;
	int64_t		 ts_ms;
	const char	*ts;		/* as written */
	const char	*event;		/* "report.received", "notify.attempt", ... */
	const char	*incident;	/* NULL when the record has none */
	const char	*actor;		/* "office:county-a", "person:zhang", "dutyd" */
	json_t		*data;		/* an object, borrowed */
	int		 replaying;	/* applied from the log at start-up */
};

/* Applies a record to memory.  Live appends and start-up replay both call it. */
typedef int (*audit_apply_fn)(const struct audit_record *);

struct audit_waiter {
	TAILQ_ENTRY(audit_waiter) entry;
	void		(*cb)(void *arg, int status);	/* status 0: durable; <0: -errno */
	void		*arg;
	int		 queued;
	uint64_t	 gen;
};

/* Pure helpers, usable offline. */
void	audit_hash(const char *line, size_t len, char hex[AUDIT_HASH_HEX]);
/* Parses one line (without newline) into rec; *root owns the strings. 0 or -EINVAL with why. */
int	audit_parse_line(const char *line, size_t len, struct audit_record *rec,
	    json_t **root, const char **why);

/*
 * Opens the log in STATE_DIR, verifies the chain across every segment and
 * replays through apply from the newest complete checkpoint.  A torn last
 * line (no newline, or unparsable) is cut away with a warning naming its
 * byte offset.  Any other damage fails (0 or -errno, with a sentence in err
 * naming the first bad seq) unless accept_broken, in which case each break
 * is recorded as audit.chain_broken and later starts accept it.
 */
int	audit_open(const char *state_dir, audit_apply_fn apply, int accept_broken,
	    char *err, size_t errlen);
/* segment_size and reserve from the config (at start and on reload). */
void	audit_configure(int64_t segment_size, int64_t reserve);
/* Makes the disk reserve; 0, or -errno when it cannot be had. */
int	audit_reserve_make(void);
/* Once a second: reopen a log that could not be opened, re-make a released reserve. */
void	audit_tick(void);

/*
 * Segments.  When audit_should_rotate(), the caller commits, calls
 * audit_rotate() (closes the active segment for good and opens a new one),
 * appends the checkpoint records (checkpoint.begin, checkpoint.incident…,
 * checkpoint.end) and, if they were all written, audit_checkpoint_done().
 */
int	audit_should_rotate(void);
int	audit_rotate(void);
void	audit_checkpoint_done(void);
void	audit_close(void);

/*
 * Writes one record now (not yet durable) and applies it.  Steals `data`
 * (an object, or NULL for {}).
 * 0 or -errno; on failure nothing was written or
 * applied and the caller answers 503.  *seq_out, when not NULL, gets its seq.
 */
int	audit_append(const char *event, const char *incident, const char *actor,
	    json_t *data, int64_t *seq_out);

/* Run w->cb after the next fdatasync (at the end of this loop turn). */
void	audit_wait(struct audit_waiter *w, void (*cb)(void *, int), void *arg);
void	audit_wait_cancel(struct audit_waiter *w);

/* End of a loop turn: one fdatasync for everything appended, then the waiters. */
void	audit_commit(void);

/* 0 while writes succeed, else the -errno of the failure that is still going on. */
int	audit_health(void);
/* Something is written but not synced, or someone waits: commit again soon. */
int	audit_pending(void);
int64_t	audit_last_seq(void);
/* Since start: records written, fdatasync calls (group commit makes it fewer). */
void	audit_stats(uint64_t *appended, uint64_t *syncs);

#endif
