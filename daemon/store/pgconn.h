/*
 * One PostgreSQL session on the libevent loop (pgconn.c): an asynchronous
 * connect and one query at a time, through libpq's non-blocking API with
 * the socket as an event, so the loop never waits for the database.
 */
#ifndef DUTYD_PGCONN_H
#define DUTYD_PGCONN_H

#include <stddef.h>
#include <stdint.h>
#include "base/pqlib.h"

struct event_base;
struct pgconn;

struct pgconn_hooks {
	/* Connected and ready for a query. */
	void	(*up)(void *arg);
	/*
	 * The session is gone (or never came): WHY says what happened.  The
	 * query in flight got its done() with the error first.  The owner
	 * frees the pgconn (from here is fine) and may open another.
	 */
	void	(*down)(void *arg, const char *why);
};

/*
 * Starts connecting with CONNINFO (a conninfo string or URI) as
 * application_name APPNAME; keepalives and tcp_user_timeout follow LEASE_MS
 * so that a cut-off session is noticed within it.  NULL with a sentence in
 * err when it cannot even start (a bad conninfo, no memory).
 */
struct pgconn *pgconn_open(struct event_base *, const char *conninfo,
	    const char *appname, int64_t lease_ms,
	    const struct pgconn_hooks *, void *arg, char *err, size_t errlen);
/* Frees it now, closing the session; no hook runs.  Accepts NULL. */
void	pgconn_free(struct pgconn *);

/*
 * Sends SQL (one or several statements).  result() runs for every result
 * that holds rows; done() once at the end, ERR NULL when every statement
 * succeeded, else the first error's message.  -EBUSY while a query runs,
 * -ENOTCONN before up().
 */
int	pgconn_query(struct pgconn *, const char *sql,
	    void (*result)(void *arg, const PGresult *),
	    void (*done)(void *arg, const char *err), void *arg);
int	pgconn_ready(const struct pgconn *);	/* up() ran, not down */
int	pgconn_busy(const struct pgconn *);
/* When the query in flight was sent (time_mono_ms()); 0 when idle. */
int64_t	pgconn_busy_since(const struct pgconn *);
/*
 * Blocks until the query in flight has ended (its done() ran) or
 * TIMEOUT_MS passed: for a stop only.  0, or -ETIMEDOUT.
 */
int	pgconn_wait(struct pgconn *, int timeout_ms);
PGconn	*pgconn_pg(struct pgconn *);

/*
 * The libpq keywords/values pgconn_open() uses, for a blocking connection
 * of the same settings (a scan's worker thread).  Frees with
 * pgconn_params_free().  NULL with a sentence in err.
 */
struct pgconn_params;
struct pgconn_params *pgconn_params_new(const char *conninfo,
	    const char *appname, int64_t lease_ms, char *err, size_t errlen);
PGconn	*pgconn_params_connect(const struct pgconn_params *);	/* blocking */
void	pgconn_params_free(struct pgconn_params *);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t	pgconn_now(void);

#endif
