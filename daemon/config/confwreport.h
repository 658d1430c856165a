/*
 * `organization:`, `province:` and the approval keys of `policy:`
 * (`approval_levels`, `approvers`): who writes the written report, whom it
 * goes to, and who must approve it first.  Part of the configuration
 * schema; confload.c calls in here after people and channels are loaded.
 */
#ifndef DUTYD_CONFWREPORT_H
#define DUTYD_CONFWREPORT_H

#include <yaml.h>

struct config;
struct loader;

/* Levels needing approval by default: I and II (bit 1 << level, I = 1). */
#define CONFWREPORT_LEVELS_DEFAULT	((1u << 1) | (1u << 2))

/*
 * ORG, PROVINCE and POLICY are the values of those keys, each NULL when
 * absent (defaults only).  POLICY's other keys are confpolicy.c's.
 */
void	confwreport_load(struct loader *, yaml_node_t *org,
	    yaml_node_t *province, yaml_node_t *policy);
/* 1 when a report of LEVEL ("I".."IV"; NULL: unknown) needs approval under CF. */
int	confwreport_needs_approval(const struct config *cf, const char *level);

#endif
