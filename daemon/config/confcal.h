/*
 * confcal.h: the `calendar:` section: a mapping (`include`, `years`,
 * `holidays`, `workdays`) or the name of a file holding one (relative to
 * the configuration's directory), into cf->calendar (config/calendar.c).
 * Part of the configuration schema; confload.c calls in here.
 */
#ifndef DUTYD_CONFCAL_H
#define DUTYD_CONFCAL_H

#include <yaml.h>

struct loader;

/* N is the value of `calendar:`; NULL when absent (weekends only). */
void	confcal_load(struct loader *, yaml_node_t *n);

#endif
