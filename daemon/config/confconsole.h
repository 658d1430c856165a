/*
 * `console:` the web console's sessions and live streams.  Part of the
 * configuration schema; confload.c calls in here.
 */
#ifndef DUTYD_CONFCONSOLE_H
#define DUTYD_CONFCONSOLE_H

#include <yaml.h>

struct loader;

#define CONFCONSOLE_TTL_DEFAULT		((int64_t)12 * 3600 * 1000)	/* a shift */
#define CONFCONSOLE_STREAMS_DEFAULT	64
#define CONFCONSOLE_KEEPALIVE_DEFAULT	((int64_t)15 * 1000)

/* N may be NULL (section absent): defaults only. */
void	confconsole_load(struct loader *, yaml_node_t *n);

#endif
