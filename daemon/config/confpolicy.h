/*
 * confpolicy.h: the `policy:` and `audit:` sections.  Private to the
 * configuration code.
 */
#ifndef DUTYD_CONFPOLICY_H
#define DUTYD_CONFPOLICY_H

#include <yaml.h>

struct config_policy;
struct loader;

/* N may be NULL (section absent): defaults only. */
void	confpolicy_load(struct loader *, yaml_node_t *n);
void	confpolicy_audit(struct loader *, yaml_node_t *n);

#endif
