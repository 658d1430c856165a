/*
 * GET /metrics in the Prometheus text exposition format: the gauges read
 * from the state now, then what base/metrics.c counted since start.
 * Open only to metrics.allow (loopback by default): the numbers tell who
 * reports and how the duty room keeps up.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/metrics.h"
#include "config/config.h"
#include "intake/http.h"
#include "intake/metricsapi.h"
#include "intake/role.h"
#include "state/incident.h"

#define METRICSAPI_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static int
metricsapi_allowed(const struct config *cfg, const char *peer)
{
	size_t i;

	for (i = 0; i < cfg->metrics.nallow; i++)
		if (netaddr_match(&cfg->metrics.allow[i], peer))
			return 1;
	return 0;
}

void
metricsapi_get(struct http_call *call)
{
	const struct config	*cfg = config_current();
	const char		*peer = http_peer(call);
	char			*text = NULL;
	size_t			 len = 0;
	FILE			*f;
	int			 bad;

	if (!metricsapi_allowed(cfg, peer)) {
		http_error(call, 403, NULL, "%s may not read the metrics: add it "
		    "to metrics.allow in %s and reload dutyd", peer, cfg->path);
		return;
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	bad = fprintf(f, "# HELP dutyd_build_info The dutyd version running.\n"
	    "# TYPE dutyd_build_info gauge\n"
	    "dutyd_build_info{version=\"%s\"} 1\n", DUTYD_VERSION) < 0;
	/* A standby has no incidents of its own: a 0 there would be a lie. */
	if (!bad && (role_name() == NULL || role_is_leader()))
		bad = fprintf(f, "# HELP dutyd_incidents_open Incidents not "
		    "resolved.\n"
		    "# TYPE dutyd_incidents_open gauge\n"
		    "dutyd_incidents_open %zu\n"
		    "# HELP dutyd_incidents_overdue Open incidents with a deadline "
		    "passed and not met (unacknowledged, or no written report).\n"
		    "# TYPE dutyd_incidents_overdue gauge\n"
		    "dutyd_incidents_overdue %zu\n",
		    incident_count(INCIDENT_NOT_CLOSED),
		    incident_count_overdue()) < 0;
	if (!bad && role_name() != NULL)
		bad = fprintf(f, "# HELP dutyd_role This instance's role on the "
		    "PostgreSQL store (1: the one it has).\n"
		    "# TYPE dutyd_role gauge\n"
		    "dutyd_role{role=\"leader\"} %d\n"
		    "dutyd_role{role=\"standby\"} %d\n", role_is_leader(),
		    !role_is_leader()) < 0;
	bad = bad || metrics_write(f) != 0;
	if (fclose(f) != 0 || bad) {
		free(text);
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	http_reply_as(call, 200, METRICSAPI_TYPE, text);
	free(text);
}
