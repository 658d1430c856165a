/*
 * The PostgreSQL store's backend (pglog.c): the leader writes its lines
 * through the session that holds the advisory lock, one transaction per
 * commit, started by store_commit() and completed on the loop.  Lines read
 * before the lead was taken (pgha.c) serve open() and replay() from
 * memory.
 */
#ifndef DUTYD_PGLOG_H
#define DUTYD_PGLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store/record.h"

struct pgconn;
struct store_backend;

/* Lines in seq order, each NUL-terminated, without its newline. */
struct pgline {
	int64_t		 seq;
	char		*line;
	size_t		 len;
};
struct pglines {
	struct pgline	*v;
	size_t		 n, cap;
	size_t		 first;		/* v[0..first) are dropped, not yet compacted */
	int64_t		 bytes;		/* of the lines held */
};
int	pglog_lines_push(struct pglines *, int64_t seq, const char *line, size_t len);
/* Drops the lines before SEQ. */
void	pglog_lines_drop_before(struct pglines *, int64_t seq);
void	pglog_lines_clear(struct pglines *);

/* What the new leader found, handed over by pgha.c (LINES are taken). */
struct pglog_found {
	struct pglines	 lines;		/* from the newest complete checkpoint on */
	int64_t		 tail_seq;
	char		 tail_hash[RECORD_HASH_HEX];
	int64_t		 bytes_since_ckpt;	/* of lines after its end */
};

/* Starts afresh: no secrets, nothing pending (before pglog_add_secret()). */
void	pglog_reset(void);
/* A dutyd_secret row read before the lead was taken. */
int	pglog_add_secret(const char *name, const void *value, size_t len);
/*
 * The backend, writing through CONN (the lock's session; pgha.c keeps it
 * and frees it).  FIRST_SQL goes into the first transaction (dutyd_leader).
 * Scans connect with CONNINFO/APPNAME on their threads.
 */
const struct store_backend *pglog_begin(struct pgconn *conn,
	    struct pglog_found *found, const char *first_sql,
	    const char *conninfo, const char *appname, int64_t lease_ms);
/* The session is gone: nothing more is sent (the commit in flight failed). */
void	pglog_detach(void);
/*
 * Renews the lease (dutyd_leader.renewed) unless a commit, which renews it
 * too, runs; a hung server shows as a statement that does not return.
 * 0 or -errno.
 */
int	pglog_heartbeat(void);
/* Since when commits fail (pgconn_now()); 0 while they succeed. */
int64_t	pglog_failing_since(void);

#endif
