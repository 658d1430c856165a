/*
 * Failed authentication per source (see authfail.h).  Each source with
 * failures has a window that opens at its first failure and lasts the
 * configured period; windows end in the order they opened, so one clock
 * at the oldest end writes the records, whatever the number of sources.
 * The sources followed are capped: past the cap, failures from new
 * sources are counted together, as "other".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>
#include <bsd/sys/tree.h>
#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/authfail.h"
#include "store/store.h"

#define AUTHFAIL_SOURCES_MAX	4096
#define AUTHFAIL_ENDPOINTS_MAX	4	/* named per record */
#define AUTHFAIL_OTHER		"other"

struct authfail_src {
	RB_ENTRY(authfail_src)	 entry;
	TAILQ_ENTRY(authfail_src) order;	/* by window start */
	char			 addr[64];
	int64_t			 since;		/* the window's start */
	unsigned		 count;		/* failures in it */
	unsigned		 refused;	/* 429s answered in it */
	char			 endpoints[AUTHFAIL_ENDPOINTS_MAX][64];
	int			 nendpoints;
};

RB_HEAD(authfail_tree, authfail_src);
TAILQ_HEAD(authfail_list, authfail_src);

static int
authfail_cmp(struct authfail_src *a, struct authfail_src *b)
{
	return strcmp(a->addr, b->addr);
}

#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(authfail_tree, authfail_src, entry, authfail_cmp)

static struct {
	struct authfail_tree	 tree;
	struct authfail_list	 order;
	size_t			 n;
	int64_t			 limit, period_ms;
	struct clock		 clock;
} af = {
	.tree = RB_INITIALIZER(&af.tree),
	.order = TAILQ_HEAD_INITIALIZER(af.order),
	.limit = 20, .period_ms = 60 * 1000,
};

static void	authfail_due(struct clock *, void *);

int
authfail_init(char *err, size_t errlen)
{
	clock_init(&af.clock, authfail_due, NULL);
	return 0;
}

void
authfail_configure(const struct config *cfg)
{
	af.limit = cfg->limits.auth_count;
	af.period_ms = cfg->limits.auth_period_ms;
}

/* One auth.refused for the window that ended (or is cut short). */
static void
authfail_record(struct authfail_src *s, int64_t until)
{
	char	 a[TIME_RFC3339_MAX], b[TIME_RFC3339_MAX];
	json_t	*data, *eps = json_array();
	int	 i, rc;

	for (i = 0; eps != NULL && i < s->nendpoints; i++)
		json_array_append_new(eps, json_string(s->endpoints[i]));
	data = json_pack("{s:s, s:o*, s:i, s:i, s:s, s:s}", "source", s->addr,
	    "endpoints", eps, "count", (int)s->count, "refused", (int)s->refused,
	    "since", time_format(s->since, a, sizeof(a)),
	    "until", time_format(until, b, sizeof(b)));
	if (data == NULL ||
	    (rc = store_append("auth.refused", NULL, "dutyd", data, NULL)) != 0)
		log_warnx("cannot record %u failed authentication(s) from %s in "
		    "the audit log", s->count, s->addr);
	log_warnx("%u failed authentication(s) from %s in %lld s%s", s->count,
	    s->addr, (long long)(until - s->since) / 1000, s->refused ?
	    "; it was answered 429 for the rest of the time" : "");
}

static void
authfail_drop(struct authfail_src *s)
{
	RB_REMOVE(authfail_tree, &af.tree, s);
	TAILQ_REMOVE(&af.order, s, order);
	af.n--;
	free(s);
}

static void
authfail_arm(void)
{
	struct authfail_src *s = TAILQ_FIRST(&af.order);

	if (s != NULL)
		clock_arm(&af.clock, s->since + af.period_ms);
	else
		clock_disarm(&af.clock);
}

static void
authfail_due(struct clock *c, void *arg)
{
	struct authfail_src	*s;
	int64_t			 now = time_now_ms();

	while ((s = TAILQ_FIRST(&af.order)) != NULL &&
	    s->since + af.period_ms <= now) {
		authfail_record(s, s->since + af.period_ms);
		authfail_drop(s);
	}
	authfail_arm();
}

static struct authfail_src *
authfail_find(const char *source)
{
	struct authfail_src probe;

	snprintf(probe.addr, sizeof(probe.addr), "%s", source);
	return RB_FIND(authfail_tree, &af.tree, &probe);
}

int64_t
authfail_wait(const char *source)
{
	struct authfail_src	*s = authfail_find(source);
	int64_t			 now = time_now_ms();

	if (s == NULL || s->count < af.limit || s->since + af.period_ms <= now)
		return 0;
	s->refused++;
	return s->since + af.period_ms - now;
}

void
authfail_note(const char *source, const char *method, const char *path)
{
	struct authfail_src	*s = authfail_find(source);
	char			 ep[64];
	int			 i;

	if (s == NULL && af.n >= AUTHFAIL_SOURCES_MAX &&
	    (s = authfail_find(AUTHFAIL_OTHER)) == NULL)
		return;		/* the cap is full of sources and "other" */
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return;
		snprintf(s->addr, sizeof(s->addr), "%s", af.n + 1 >=
		    AUTHFAIL_SOURCES_MAX ? AUTHFAIL_OTHER : source);
		s->since = time_now_ms();
		RB_INSERT(authfail_tree, &af.tree, s);
		TAILQ_INSERT_TAIL(&af.order, s, order);
		af.n++;
		if (TAILQ_FIRST(&af.order) == s)
			authfail_arm();
	}
	s->count++;
	snprintf(ep, sizeof(ep), "%s %s", method, path);
	for (i = 0; i < s->nendpoints && strcmp(s->endpoints[i], ep) != 0; i++)
		;
	if (i == s->nendpoints && i < AUTHFAIL_ENDPOINTS_MAX)
		snprintf(s->endpoints[s->nendpoints++], sizeof(s->endpoints[0]),
		    "%s", ep);
	if (s->count == af.limit)
		log_warnx("%s failed to authenticate %u times since %lld s ago; "
		    "it gets 429 until its minute is over", s->addr, s->count,
		    (long long)(time_now_ms() - s->since) / 1000);
}

void
authfail_shutdown(void)
{
	struct authfail_src *s;

	while ((s = TAILQ_FIRST(&af.order)) != NULL) {
		authfail_record(s, time_now_ms());
		authfail_drop(s);
	}
	clock_free(&af.clock);
}
