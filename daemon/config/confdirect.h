/*
 * confdirect.h: the `directives:` section (批示件督办): `default_due`, how
 * long a directive issued without a due date has (default 7d), and
 * `remind_at`, the local time of day reminders go out (default "09:00").
 * Part of the configuration schema; confload.c calls in here.
 */
#ifndef DUTYD_CONFDIRECT_H
#define DUTYD_CONFDIRECT_H

#include <yaml.h>

struct loader;

/* N is the value of `directives:`, NULL when absent (defaults). */
void	confdirect_load(struct loader *, yaml_node_t *n);

#endif
