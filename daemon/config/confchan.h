/*
 * confchan.h: the daemon-side options of a channel and message templates.
 * Private to the configuration code (config.c, confchan.c).
 */
#ifndef DUTYD_CONFCHAN_H
#define DUTYD_CONFCHAN_H

#include <stdint.h>

#include <yaml.h>

struct config_channel;
struct config_templates;
struct loader;
struct tmpl;

void	confchan_defaults(struct config_channel *);
/*
 * KEY of channel C is the daemon's: 1 (taken, or reported), -1 (wrong and
 * reported); 0: not the daemon's, it goes to the plugin.
 */
int	confchan_option(struct loader *, struct config_channel *c,
	    const char *key, yaml_node_t *v, const char *ctx);
/* After the plugin is loaded: its documented rate limit unless one was set. */
void	confchan_finish(struct config_channel *);

void	confchan_templates(struct loader *, yaml_node_t *, const char *ctx,
	    struct config_templates *out);

/*
 * A rate: "20/min", "2/5s", "100/1h" (COUNT 1..10000), or "none" (0/0).
 * 0, or -EINVAL with why.
 */
int	confchan_rate(const char *s, int64_t *count, int64_t *period,
	    const char **why);

#endif
