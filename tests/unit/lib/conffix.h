/*
 * Configuration tests: a config written from a base text and an extra
 * part, loaded by the real loader, its diagnostics kept.
 */
#ifndef DUTYD_CONFFIX_H
#define DUTYD_CONFFIX_H

#include "config/config.h"
#include "config/confload.h"

struct conffix {
	struct config		*cf;	/* NULL when it did not load */
	struct config_diag	 diag;
	char			 path[64];	/* the file it was written to (gone) */
};

void	conffix_load(struct conffix *, const char *base, const char *extra);
void	conffix_unload(struct conffix *);
/* BASE + EXTRA fails to load with one error at LINECOL ("12:3") starting with WANT. */
void	conffix_expect_error(const char *base, const char *extra,
	    const char *linecol, const char *want);

#endif
