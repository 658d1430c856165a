/*
 * The PostgreSQL store's leader election and standby (pgha.c): every
 * instance connects; the one holding pg_advisory_lock(PGSCHEMA_LOCK_KEY)
 * on the session it writes through is the leader; the others follow the
 * table so that taking over is quick.  See docs/high-availability.md.
 */
#ifndef DUTYD_PGHA_H
#define DUTYD_PGHA_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct event_base;
struct store_backend;

enum pgha_role { PGHA_CONNECTING, PGHA_STANDBY, PGHA_LEADER, PGHA_LOST };

struct pgha_hooks {
	/*
	 * The lock is ours and every line up to the table's end is read and
	 * verified: the caller runs core_start(pgha_backend(), …) now (the
	 * backend's open/replay/secret serve from memory, never block) and
	 * starts answering.  Nonzero return: pgha gives the lead up (closes
	 * the session) and the caller is expected to exit or re-exec.
	 */
	int	(*promoted)(void *arg);
	/*
	 * The leader's session is gone (connection lost, lock lost, commits
	 * failing for longer than lease): from now on nothing may answer 2xx.
	 * The caller re-executes itself and comes back as a standby.
	 */
	void	(*lost)(void *arg, const char *why);
	/* Something a standby shows changed (leader name, seq read, db reachable). */
	void	(*changed)(void *arg);
};

/* Non-blocking: connects in the background, retries forever with backoff. */
int	pgha_start(struct event_base *, const struct config_pg *,
	    const struct pgha_hooks *, void *arg, char *err, size_t errlen);
enum pgha_role pgha_role(void);
const char *pgha_leader(void);		/* the leader's instance as last read; "" unknown */
const char *pgha_instance(void);	/* ours */
/* One sentence for STATUS= and logs: "following duty-a, read up to seq 812" / "cannot reach the database: …". */
const char *pgha_status(void);
int64_t	pgha_read_seq(void);		/* standby: last seq read from the table */
/*
 * 1 once there is something true to show: the first read of the table is
 * done (the leader's name and seq known), or the lead is ours, or the
 * first attempt to reach the database failed.  main sends READY=1 then
 * (at most a second after start), so a standby that says it is ready also
 * names its leader.
 */
int	pgha_settled(void);
/* The store backend writing through the lock's session; valid from promoted() on. */
const struct store_backend *pgha_backend(void);
void	pgha_stop(void);		/* closes everything; accepts being called in any role */

#endif
