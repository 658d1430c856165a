/*
 * What dutyd counts and times for Prometheus (GET /metrics): counters with
 * labels and histograms, kept in memory since start.  Writers call in from
 * every layer; intake/metricsapi.c renders them with the gauges it reads
 * from the state.  Only live events count: replay does not.
 */
#ifndef DUTYD_METRICS_H
#define DUTYD_METRICS_H

#include <stdio.h>

enum metrics_counter {
	METRICS_REPORTS,		/* dutyd_reports_total{office,late} */
	METRICS_ESCALATIONS,		/* dutyd_escalations_total{kind}: ack, report, level */
	METRICS_NOTIFY_ATTEMPTS,	/* dutyd_notify_attempts_total{channel,outcome} */
	METRICS_NCOUNTERS
};

enum metrics_histogram {
	METRICS_NOTIFY_LATENCY,		/* dutyd_notify_latency_seconds: report to first delivered */
	METRICS_AUDIT_FSYNC,		/* dutyd_audit_fsync_seconds */
	METRICS_CLOCK_LATENESS,		/* dutyd_clock_lateness_seconds */
	METRICS_NHISTOGRAMS
};

/* Distinct label sets kept per counter; more are not counted (ids come from the config). */
#define METRICS_SERIES_MAX	1000

/*
 * Adds one to the series with these label values, given in the counter's
 * label order (a counter with one label ignores V2).  0 or -errno.
 */
int	metrics_count(enum metrics_counter, const char *v1, const char *v2);
void	metrics_observe(enum metrics_histogram, double seconds);
/* Every counter and histogram in the text exposition format.  0 or -errno. */
int	metrics_write(FILE *);
/* Forgets everything counted (tests; and the end of the process, for leak checks). */
void	metrics_reset(void);

#endif
