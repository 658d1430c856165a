/*
 * confmetrics.h: the `metrics:` section (who may read GET /metrics).
 * Private to the configuration code (confload.c, confmetrics.c).
 */
#ifndef DUTYD_CONFMETRICS_H
#define DUTYD_CONFMETRICS_H

#include <yaml.h>

struct loader;

/* N may be NULL: then loopback only (127.0.0.0/8, ::1). */
void	confmetrics_load(struct loader *, yaml_node_t *n);

#endif
