/*
 * Channel plugins: dlopen() by name from plugin_dir, ABI check.  Each open
 * is a dlopen() reference, so two configs (before and after a reload) can
 * share a loaded plugin.
 */
#ifndef DUTYD_CHANNEL_H
#define DUTYD_CHANNEL_H

#include <stddef.h>
#include "plugin.h"

struct channel_plugin;

/*
 * Load DIR/NAME.so.  NAME must be [a-z0-9_-]+.  0, or a negative errno with
 * a sentence in err saying what is wrong and what to do.
 */
int	channel_plugin_open(const char *dir, const char *name,
	    struct channel_plugin **out, char *err, size_t errlen);
void	channel_plugin_close(struct channel_plugin *);	/* accepts NULL */
const struct dutyd_plugin *channel_plugin_abi(const struct channel_plugin *);

/* Frees everything build() allocated and zeroes the request. */
void	channel_request_clear(struct dutyd_request *);

#endif
