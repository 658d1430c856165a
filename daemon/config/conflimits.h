/*
 * `limits:` (connections, timeouts, failed authentication) and `tls:`
 * (the HTTPS listener): what the configuration says about peers.  Part of
 * the configuration schema; confload.c calls in here.
 */
#ifndef DUTYD_CONFLIMITS_H
#define DUTYD_CONFLIMITS_H

#include <yaml.h>

struct loader;

/* N may be NULL (section absent): defaults only. */
void	conflimits_load(struct loader *, yaml_node_t *n);
void	conflimits_tls(struct loader *, yaml_node_t *n);

#endif
