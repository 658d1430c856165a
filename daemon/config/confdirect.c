/*
 * confdirect.c: the `directives:` section (see confdirect.h).
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/confdirect.h"
#include "config/config.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
/* Longer than a quarter is no deadline a leader's instruction would carry. */
#define CONFDIRECT_DUE_MAX	(92 * 86400000LL)

static const struct field directive_fields[] = {
	{ "default_due", 0 }, { "remind_at", 0 },
};

/* "HH:MM" in 24-hour time: minutes after midnight, or -1. */
static int
confdirect_hhmm(const char *s)
{
	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	if ((s[0] - '0') * 10 + (s[1] - '0') > 23)
		return -1;
	return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 + (s[3] - '0') * 10 +
	    (s[4] - '0');
}

void
confdirect_load(struct loader *ld, yaml_node_t *n)
{
	struct config_directives *d = &ld->cf->directives;
	yaml_node_t	*val[NFIELDS(directive_fields)];
	const char	*s;
	int64_t		 ms;
	int		 min;

	d->default_due_ms = CONFIG_DIRECTIVE_DUE_DEFAULT;
	d->remind_at_min = CONFIG_DIRECTIVE_REMIND_DEFAULT;
	if (n == NULL || confyaml_fields(ld, n, "'directives'",
	    " in directives", directive_fields, NFIELDS(directive_fields),
	    val) != 0)
		return;
	if (val[0] != NULL && confyaml_duration(ld, val[0], "default_due",
	    " in directives", &ms) == 0) {
		if (ms < 86400000LL || ms > CONFDIRECT_DUE_MAX ||
		    ms % 86400000LL != 0)
			confyaml_errat(ld, &val[0]->start_mark, "'default_due' in "
			    "directives is counted in whole days, from 1d to 92d "
			    "(the rules say a week: 7d)");
		else
			d->default_due_ms = ms;
	}
	if (val[1] != NULL && (s = confyaml_scalar(ld, val[1], "remind_at",
	    " in directives")) != NULL) {
		if ((min = confdirect_hhmm(s)) < 0)
			confyaml_errat(ld, &val[1]->start_mark, "'remind_at' in "
			    "directives is a local time of day written HH:MM "
			    "(e.g. \"09:00\"), not '%s'", s);
		else
			d->remind_at_min = min;
	}
}
