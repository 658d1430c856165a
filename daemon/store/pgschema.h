/*
 * The PostgreSQL store's schema: what `dutyd --init-store` creates and
 * every instance checks before it reads a line (docs/high-availability.md).
 *
 *   dutyd_meta(key text primary key, value text)      schema_version = PGSCHEMA_VERSION
 *   dutyd_audit(seq bigint primary key, line text)     one audit line each, byte for
 *                                                      byte as the file log holds it,
 *                                                      without its newline
 *   dutyd_checkpoint(begin_seq bigint primary key,     a checkpoint.begin … checkpoint.end
 *                    end_seq bigint)                   written whole (replay starts at
 *                                                      the newest)
 *   dutyd_secret(name text primary key, value bytea)   named secrets (the one-tap link key)
 *   dutyd_leader(id int primary key check (id = 1),    who took the lead last, for the
 *                instance text, pid int,               standbys to show; renewed is its
 *                since timestamptz,                    lease, set by the server's clock
 *                backend_pid int,                      at least every lease/4: a standby
 *                renewed timestamptz)                  finding it older than the lease
 *                                                      ends backend_pid's session (a hung
 *                                                      leader) when that holds the lock
 *
 * The leader holds pg_advisory_lock(PGSCHEMA_LOCK_KEY) on the session it
 * writes through, for as long as it writes.
 */
#ifndef DUTYD_PGSCHEMA_H
#define DUTYD_PGSCHEMA_H

#include <stddef.h>
#include "base/pqlib.h"

#define PGSCHEMA_VERSION	1
/* "dutyd" in ASCII: one key for every dutyd database. */
#define PGSCHEMA_LOCK_KEY	0x6475747964LL

/*
 * The version the database holds: 0 when it holds no dutyd schema, the
 * version, or -errno with a sentence in err.  Blocking; for the tools and
 * for start-up checks, never on a loop that serves.
 */
int	pgschema_version(PGconn *, char *err, size_t errlen);
/*
 * Creates the schema in one transaction when there is none; 0 also when
 * the current version is already there (*created 0).  A newer or older
 * version is -EPROTO with a sentence.  Blocking.
 */
int	pgschema_init(PGconn *, int *created, char *err, size_t errlen);
/* The statement (no parameters) that reads the version: one row, one column, text. */
extern const char pgschema_version_sql[];

#endif
