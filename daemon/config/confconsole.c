/*
 * confconsole.c: `console:` (see confconsole.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include <yaml.h>

#include "config/config.h"
#include "config/confconsole.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
#define TTL_MIN		((int64_t)1000)
#define TTL_MAX		((int64_t)30 * 86400 * 1000)
#define STREAMS_MAX	1024

static const struct field console_fields[] = {
	{ "session_ttl", 0 }, { "max_streams", 0 }, { "keepalive", 0 },
};

void
confconsole_load(struct loader *ld, yaml_node_t *n)
{
	struct config_console *c = &ld->cf->console;
	yaml_node_t *val[NFIELDS(console_fields)];
	const char *s;
	char *end;
	long v;

	c->session_ttl_ms = CONFCONSOLE_TTL_DEFAULT;
	c->max_streams = CONFCONSOLE_STREAMS_DEFAULT;
	c->keepalive_ms = CONFCONSOLE_KEEPALIVE_DEFAULT;
	if (n == NULL || confyaml_fields(ld, n, "'console'", " in console",
	    console_fields, NFIELDS(console_fields), val) == -1)
		return;
	if (val[0] != NULL && confyaml_duration(ld, val[0], "session_ttl",
	    " in console", &c->session_ttl_ms) == 0 &&
	    (c->session_ttl_ms < TTL_MIN || c->session_ttl_ms > TTL_MAX))
		confyaml_errat(ld, &val[0]->start_mark, "'session_ttl' in console "
		    "must be from 1s to 30d (a shift is 12h, the default)");
	if (val[1] != NULL && (s = confyaml_scalar(ld, val[1], "max_streams",
	    " in console")) != NULL) {
		v = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || v < 1 || v > STREAMS_MAX)
			confyaml_errat(ld, &val[1]->start_mark, "'max_streams' in "
			    "console must be a whole number from 1 to %d, not '%s'",
			    STREAMS_MAX, s);
		else
			c->max_streams = (int)v;
	}
	/* Proxies and browsers drop a connection silent for a minute or so. */
	if (val[2] != NULL && confyaml_duration(ld, val[2], "keepalive",
	    " in console", &c->keepalive_ms) == 0 &&
	    (c->keepalive_ms < 1000 || c->keepalive_ms > 300 * 1000))
		confyaml_errat(ld, &val[2]->start_mark, "'keepalive' in console "
		    "must be from 1s to 5m (the default is 15s)");
}
