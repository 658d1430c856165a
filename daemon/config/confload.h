/*
 * confload.c: a configuration file, read and checked.
 */
#ifndef DUTYD_CONFLOAD_H
#define DUTYD_CONFLOAD_H

struct config;
struct config_diag;

/*
 * Parse and validate FILE, loading each channel's plugin from plugin_dir.
 * Returns a config with refs == 1, or NULL with at least one line in diag
 * ("FILE:LINE:COLUMN: message").
 */
struct config	*confload(const char *path, struct config_diag *diag);

#endif
