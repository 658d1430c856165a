/*
 * The store's file backend: the audit log in state_dir (audit.log and
 * closed segments audit-<first>-<last>.log), its disk reserve, the lock
 * that keeps a second dutyd away, and named secrets.  See filelog.c.
 */
#ifndef DUTYD_FILELOG_H
#define DUTYD_FILELOG_H

#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

/* The backend for STATE_DIR (made if missing when opened); NULL: no memory. */
const struct store_backend *filelog_at(const char *state_dir);
/*
 * dutyd --verify-audit: check segments (in this order) or a state_dir
 * offline and print what was found.  0 intact, 1 damaged, 2 unreadable.
 */
int	filelog_verify(char *const *paths, size_t n, FILE *out);

#endif
