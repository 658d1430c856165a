/*
 * confstore.h: the `store:` section, where the records live.  Absent or
 * empty: the file log in state_dir (cfg->postgresql NULL).  With
 * `store.postgresql`: conninfo (libpq's, checked by PQconninfoParse here,
 * so `dutyd -t` needs no database), instance (default: the host name),
 * lease (1s..60s, default 5s).  Part of the configuration schema:
 * confload.c calls in here; main.c asks confstore_same() on a reload.
 */
#ifndef DUTYD_CONFSTORE_H
#define DUTYD_CONFSTORE_H

#include <yaml.h>

struct config;
struct loader;

#define CONFSTORE_INSTANCE_MAX	64

/* N is the value of `store:`, NULL when absent (the file log). */
void	confstore_load(struct loader *, yaml_node_t *n);
/*
 * 1 when A and B name the same store (both the file log, or the same
 * conninfo, instance and lease): a reload can only keep the store it
 * started with, since the leadership and the records hang on it.
 */
int	confstore_same(const struct config *a, const struct config *b);
/* 1 for 1..CONFSTORE_INSTANCE_MAX of A-Z a-z 0-9 . _ - */
int	confstore_instance_ok(const char *s);

#endif
