/*
 * Counters and histograms in memory, rendered in the Prometheus text
 * exposition format (version 0.0.4).  Series are few (offices, channels
 * and outcomes come from the config and the code), so a list per counter
 * is enough; METRICS_SERIES_MAX caps it all the same.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"

struct metrics_series {
	TAILQ_ENTRY(metrics_series) entry;
	uint64_t	 n;
	const char	*v1, *v2;	/* the values as given, after labels: found without rendering */
	char		 labels[];	/* rendered: office="a",late="false" */
};

TAILQ_HEAD(metrics_list, metrics_series);

struct metrics_counter_def {
	const char	*name;
	const char	*help;
	const char	*label1, *label2;	/* label2 may be NULL */
	struct metrics_list series;
	size_t		 nseries;
	int		 told_full;
};

static struct metrics_counter_def metrics_counters[METRICS_NCOUNTERS] = {
	[METRICS_REPORTS] = { "dutyd_reports_total", "Reports received "
	    "(new incidents), by office and whether they came after "
	    "county_deadline.", "office", "late", { NULL, NULL }, 0, 0 },
	[METRICS_ESCALATIONS] = { "dutyd_escalations_total", "Deadlines that "
	    "fired: ack (acknowledgement), report (written report), level "
	    "(further escalation levels).", "kind", NULL, { NULL, NULL }, 0, 0 },
	[METRICS_NOTIFY_ATTEMPTS] = { "dutyd_notify_attempts_total",
	    "Delivery attempts by channel and outcome (delivered, retry, "
	    "rejected, failed).", "channel", "outcome", { NULL, NULL }, 0, 0 },
};

#define METRICS_BUCKETS_MAX	16

struct metrics_histogram_def {
	const char	*name;
	const char	*help;
	double		 le[METRICS_BUCKETS_MAX];	/* upper bounds, ascending */
	size_t		 nle;
	uint64_t	 counts[METRICS_BUCKETS_MAX];	/* per bucket, not cumulative */
	uint64_t	 count;
	double		 sum;
};

static struct metrics_histogram_def metrics_histograms[METRICS_NHISTOGRAMS] = {
	[METRICS_NOTIFY_LATENCY] = { "dutyd_notify_latency_seconds",
	    "From a report's receipt to the first delivery of its "
	    "incident.new notification.",
	    { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900 }, 12,
	    { 0 }, 0, 0 },
	[METRICS_AUDIT_FSYNC] = { "dutyd_audit_fsync_seconds",
	    "How long each sync of the audit log took (one per loop turn "
	    "that wrote records).",
	    { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	    0.5, 1, 2.5, 5 }, 13, { 0 }, 0, 0 },
	[METRICS_CLOCK_LATENESS] = { "dutyd_clock_lateness_seconds",
	    "How late each clock (deadline, retry, rate limit, handover) "
	    "fired after its deadline.",
	    { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600 },
	    12, { 0 }, 0, 0 },
};

/* A label value as the format wants it: backslash, quote and newline escaped. */
static int
metrics_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"') {
			if (fputc('\\', f) == EOF || fputc(*s, f) == EOF)
				return -1;
		} else if (*s == '\n') {
			if (fputs("\\n", f) == EOF)
				return -1;
		} else if (fputc(*s, f) == EOF)
			return -1;
	}
	return 0;
}

static char *
metrics_labels(const struct metrics_counter_def *c, const char *v1,
    const char *v2)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 bad;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	bad = fprintf(f, "%s=\"", c->label1) < 0 ||
	    metrics_escape(f, v1 != NULL ? v1 : "") != 0 || fputc('"', f) == EOF;
	if (!bad && c->label2 != NULL)
		bad = fprintf(f, ",%s=\"", c->label2) < 0 ||
		    metrics_escape(f, v2 != NULL ? v2 : "") != 0 ||
		    fputc('"', f) == EOF;
	if (fclose(f) != 0 || bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
metrics_init_lists(void)
{
	size_t i;

	for (i = 0; i < METRICS_NCOUNTERS; i++)
		if (metrics_counters[i].series.tqh_last == NULL)
			TAILQ_INIT(&metrics_counters[i].series);
}

int
metrics_count(enum metrics_counter which, const char *v1, const char *v2)
{
	struct metrics_counter_def	*c = &metrics_counters[which];
	struct metrics_series		*s;
	char				*labels, *p;
	size_t				 len, l1, l2;

	metrics_init_lists();
	/* Absent and empty values are one series, as their labels are; without a second label v2 is none. */
	if (v1 == NULL)
		v1 = "";
	if (v2 == NULL || c->label2 == NULL)
		v2 = "";
	TAILQ_FOREACH(s, &c->series, entry)
		if (strcmp(s->v1, v1) == 0 && strcmp(s->v2, v2) == 0) {
			s->n++;
			return 0;
		}
	if (c->nseries >= METRICS_SERIES_MAX) {
		if (!c->told_full)
			log_debug("metrics: %s has %d series, no more are kept",
			    c->name, METRICS_SERIES_MAX);
		c->told_full = 1;
		return -ENOSPC;
	}
	if ((labels = metrics_labels(c, v1, v2)) == NULL)
		return -ENOMEM;
	len = strlen(labels);
	l1 = strlen(v1);
	l2 = strlen(v2);
	if ((s = calloc(1, sizeof(*s) + len + l1 + l2 + 3)) == NULL) {
		free(labels);
		return -ENOMEM;
	}
	memcpy(s->labels, labels, len + 1);
	p = s->labels + len + 1;
	memcpy(p, v1, l1 + 1);
	s->v1 = p;
	memcpy(p + l1 + 1, v2, l2 + 1);
	s->v2 = p + l1 + 1;
	free(labels);
	TAILQ_INSERT_TAIL(&c->series, s, entry);
	c->nseries++;
	s->n = 1;
	return 0;
}

void
metrics_observe(enum metrics_histogram which, double seconds)
{
	struct metrics_histogram_def	*h = &metrics_histograms[which];
	size_t				 i;

	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < h->nle; i++)
		if (seconds <= h->le[i])
			break;
	if (i < h->nle)
		h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

int
metrics_write(FILE *f)
{
	const struct metrics_counter_def	*c;
	const struct metrics_histogram_def	*h;
	const struct metrics_series		*s;
	uint64_t				 cum;
	size_t					 i, b;

	metrics_init_lists();
	for (i = 0; i < METRICS_NCOUNTERS; i++) {
		c = &metrics_counters[i];
		if (fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", c->name,
		    c->help, c->name) < 0)
			return -EIO;
		TAILQ_FOREACH(s, &c->series, entry)
			if (fprintf(f, "%s{%s} %llu\n", c->name, s->labels,
			    (unsigned long long)s->n) < 0)
				return -EIO;
	}
	for (i = 0; i < METRICS_NHISTOGRAMS; i++) {
		h = &metrics_histograms[i];
		if (fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", h->name,
		    h->help, h->name) < 0)
			return -EIO;
		for (b = 0, cum = 0; b < h->nle; b++) {
			cum += h->counts[b];
			if (fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", h->name,
			    h->le[b], (unsigned long long)cum) < 0)
				return -EIO;
		}
		if (fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9g\n"
		    "%s_count %llu\n", h->name, (unsigned long long)h->count,
		    h->name, h->sum, h->name, (unsigned long long)h->count) < 0)
			return -EIO;
	}
	return 0;
}

void
metrics_reset(void)
{
	struct metrics_series	*s;
	size_t			 i;

	metrics_init_lists();
	for (i = 0; i < METRICS_NCOUNTERS; i++) {
		while ((s = TAILQ_FIRST(&metrics_counters[i].series)) != NULL) {
			TAILQ_REMOVE(&metrics_counters[i].series, s, entry);
			free(s);
		}
		metrics_counters[i].nseries = 0;
		metrics_counters[i].told_full = 0;
	}
	for (i = 0; i < METRICS_NHISTOGRAMS; i++) {
		memset(metrics_histograms[i].counts, 0,
		    sizeof(metrics_histograms[i].counts));
		metrics_histograms[i].count = 0;
		metrics_histograms[i].sum = 0;
	}
}
