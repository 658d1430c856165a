/*
 * confmetrics.c: `metrics: {allow: [...]}`.  The metrics say how many
 * incidents are open and which offices report, so by default only the
 * machine itself (a Prometheus or node exporter beside dutyd) may read them.
 */
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "base/netaddr.h"
#include "config/config.h"
#include "config/confmetrics.h"
#include "config/confyaml.h"

static const struct field metrics_fields[] = { { "allow", 0 } };

static void
confmetrics_default(struct config_metrics *m)
{
	const char *why;

	m->nallow = 0;
	if (netaddr_parse("127.0.0.0/8", &m->allow[m->nallow], &why) == 0)
		m->nallow++;
	if (netaddr_parse("::1", &m->allow[m->nallow], &why) == 0)
		m->nallow++;
}

void
confmetrics_load(struct loader *ld, yaml_node_t *n)
{
	struct config_metrics	*m = &ld->cf->metrics;
	yaml_node_t		*val[1], *e;
	yaml_node_item_t	*it;
	const char		*s, *why;
	size_t			 count, i;

	confmetrics_default(m);
	if (n == NULL || confyaml_fields(ld, n, "'metrics'", " in metrics",
	    metrics_fields, 1, val) == -1 || val[0] == NULL)
		return;
	if ((it = confyaml_items(ld, val[0], "allow", " in metrics",
	    CONFIG_METRICS_ALLOW_MAX, &count)) == NULL)
		return;
	/* Written out, the list replaces the default: [] lets nobody in. */
	m->nallow = 0;
	for (i = 0; i < count; i++) {
		e = confyaml_node(ld, it[i]);
		if ((s = confyaml_scalar(ld, e, "allow", " in metrics")) == NULL)
			continue;
		if (netaddr_parse(s, &m->allow[m->nallow], &why) != 0) {
			confyaml_errat(ld, &e->start_mark, "'%s' in metrics.allow "
			    "is not an address or network: %s", s, why);
			continue;
		}
		m->nallow++;
	}
}
