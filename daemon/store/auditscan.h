/*
 * Reading the audit log without applying it: list the segments, verify the
 * hash chain across all of them, find torn tails, damage and the last
 * complete checkpoint.  Used at start-up (before replay, or on a thread
 * beside it when the log is one segment) and by `dutyd --verify-audit`.
 * No event loop, no daemon state.
 *
 * Segments: closed ones are audit-<first seq>-<last seq>.log (12 digits
 * each, so names sort in order); the active one is audit.log.  The chain
 * runs across them.  The verification reads every byte but parses JSON
 * only where the fixed envelope ({"seq":N, … ,"prev":"<hex>"}) does not
 * suffice, so it runs at about the speed of SHA-256.
 */
#ifndef DUTYD_AUDITSCAN_H
#define DUTYD_AUDITSCAN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "store/record.h"

#define AUDITSCAN_ACTIVE	"audit.log"
#define AUDITSCAN_MAX_BREAKS	256

struct auditscan_seg {
	char		*path;
	char		*name;		/* basename */
	int64_t		 first_seq;	/* 0 when empty */
	int64_t		 last_seq;
	off_t		 size;		/* bytes of whole records (a torn tail excluded) */
	int		 checkpoint;	/* begins with a complete checkpoint */
	off_t		 checkpoint_end;	/* where it ends */
	int64_t		 plain_records;	/* records other than checkpoint.* */
};

/* A place where the chain does not hold. */
struct auditscan_break {
	int64_t		 seq;		/* the first bad record */
	size_t		 seg;		/* index into segs */
	off_t		 offset;	/* byte offset of the line where it showed */
	char		 line_sha256[RECORD_HASH_HEX];	/* of that line */
	char		 reason[256];	/* a sentence naming the seq */
	int		 accepted;	/* an audit.chain_broken record accepts it */
};

struct auditscan_state;
struct auditscan_watch;

struct auditscan {
	struct auditscan_seg	*segs;
	size_t			 nsegs;
	int64_t			 records;
	int64_t			 first_seq;	/* of the first record seen */
	int64_t			 last_seq;	/* of the last whole line */
	char			 last_hash[RECORD_HASH_HEX];	/* its SHA-256 */
	int64_t			 last_good_seq;	/* before the first break */
	char			 last_good_hash[RECORD_HASH_HEX];
	int			 partial;	/* the files do not start at seq 1 */
	int			 torn;		/* the last segment ends in half a line */
	off_t			 torn_offset;
	size_t			 torn_len;
	struct auditscan_break	*breaks;
	size_t			 nbreaks;
	size_t			 more_breaks;	/* beyond AUDITSCAN_MAX_BREAKS */
	int			 rows;		/* fed from a table: offsets are row seqs */
	struct auditscan_state	*state;		/* while lines are fed */
	struct auditscan_watch	*watch;		/* while it runs on a thread */
};

/*
 * Only the names of the segments in DIR, oldest first, the active one last
 * (segs[].path and name; nothing read).  0 or -errno.
 */
int	auditscan_list(const char *dir, struct auditscan *, char *err, size_t errlen);
/* The segments in DIR, oldest first, the active one last. 0 or -errno. */
int	auditscan_dir(const char *dir, struct auditscan *, char *err, size_t errlen);
/* The segments auditscan_list() found: auditscan_dir()'s scan. 0 or -errno. */
int	auditscan_scan(struct auditscan *, char *err, size_t errlen);
/*
 * auditscan_scan() on a thread of its own, for start-up's replay to follow
 * line by line (filelog.c).  Nothing of S but its segments' paths may be
 * read until auditscan_finish() has returned.  0, or -errno when no
 * thread started (then scan with auditscan_scan()).
 */
int	auditscan_start(struct auditscan *);
/*
 * Waits until the scan has checked every line of the last segment that
 * ends at or before byte NEED (a line is checked when the line after it
 * names its hash as prev, and everything before it held), or has ended.
 * How far it has checked: NEED or more, else the scan has ended short of
 * NEED (then auditscan_finish(), and only what it found decides).
 */
off_t	auditscan_wait(struct auditscan *, off_t need);
/*
 * Waits for the scan on a thread to end, asking it to stop first when
 * STOP: auditscan_scan()'s status, and S is whole again.  0 when none ran.
 */
int	auditscan_finish(struct auditscan *, int stop, char *err, size_t errlen);
/* The given files, in this order (for --verify-audit). 0 or -errno. */
int	auditscan_files(char *const *paths, size_t n, struct auditscan *,
	    char *err, size_t errlen);
void	auditscan_free(struct auditscan *);

/*
 * Lines from elsewhere, a table (the PostgreSQL store), checked as a
 * file's: feed_begin (WHERE names the source in messages, NAME the table),
 * then every row in seq order (KEY its seq column, the line without a
 * newline), then feed_end.  Memory does not grow with the lines.
 */
int	auditscan_feed_begin(struct auditscan *, const char *where,
	    const char *name, char *err, size_t errlen);
void	auditscan_feed(struct auditscan *, int64_t key, const char *line,
	    size_t len);
void	auditscan_feed_end(struct auditscan *);
/* What --verify-audit prints about a scan; 1 when damaged, else 0. */
int	auditscan_print(const struct auditscan *, FILE *out);

/* The first break no audit.chain_broken record accepts, or NULL. */
const struct auditscan_break *auditscan_unaccepted(const struct auditscan *);
/* Where replay starts: the newest segment beginning with a complete checkpoint, else 0. */
size_t	auditscan_replay_start(const struct auditscan *);

/* "audit-000000000001-000000000456.log" for a closed segment. */
void	auditscan_segment_name(int64_t first, int64_t last, char *buf, size_t len);

#endif
