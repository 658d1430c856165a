/*
 * The PostgreSQL store's command-line tools: create the schema, move a
 * file log into an empty table, verify the table's chain.  Blocking libpq:
 * they run before (or instead of) a dutyd, never on its loop.  See
 * docs/high-availability.md.
 */
#ifndef DUTYD_PGTOOL_H
#define DUTYD_PGTOOL_H

#include <stdio.h>

#include "config/config.h"

/* dutyd --init-store -c FILE: creates or checks the schema.  0, or 1 with why on ERR. */
int	pgtool_init_store(const struct config *, FILE *out, FILE *err);
/*
 * dutyd --import-audit STATE_DIR -c FILE: copies a verified file log, its
 * checkpoints and named secrets into the configured, empty database in one
 * transaction.  0, or 1 with why on ERR.
 */
int	pgtool_import(const struct config *, const char *state_dir, FILE *out,
	    FILE *err);
/*
 * dutyd --verify-audit URI|CONNINFO: the table's chain, as filelog_verify()
 * checks files.  0 intact, 1 damaged, 2 unreachable or unreadable.
 */
int	pgtool_verify(const char *conninfo_or_uri, FILE *out);
/* Whether a --verify-audit argument names a database rather than a file. */
int	pgtool_is_conninfo(const char *arg);

#endif
