/*
 * confsms.h: phones, `sms:` and `links:`.  Private to the configuration
 * code (config.c, confsms.c).
 */
#ifndef DUTYD_CONFSMS_H
#define DUTYD_CONFSMS_H

#include <stddef.h>
#include <yaml.h>

struct config;
struct loader;

/* `phones:` of WHO ("office 'county-a'"), normalised, appended to *out. */
void	confsms_phones(struct loader *, yaml_node_t *, const char *who,
	    char ***out, size_t *nout);
void	confsms_load(struct loader *, yaml_node_t *n);	/* n may be NULL */
void	confsms_links(struct loader *, yaml_node_t *n);	/* n may be NULL */
/* After offices, people and channels: SMS contacts as phones, one owner each. */
void	confsms_finish(struct loader *, const yaml_mark_t *at);

#endif
