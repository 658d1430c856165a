/*
 * wremind.c: the reminder before the written report's deadline (see
 * wremind.h).  One clock per incident still owed a reminder, in a tree by
 * id; the clock decides at firing time from the records (sent, closed,
 * reminded already), so nothing has to disarm it when those change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>

#include "actions/wract.h"
#include "actions/wremind.h"
#include "actions/wrsend.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "config/roster.h"
#include "notify/notify.h"
#include "state/incident.h"
#include "state/router.h"
#include "state/wreport.h"
#include "store/record.h"
#include "store/store.h"

struct wremind {
	RB_ENTRY(wremind) entry;
	char		 id[INCIDENT_ID_MAX];
	struct clock	 clock;
	int		 failing;	/* the record could not be written yet */
};

RB_HEAD(wreminds, wremind);
static struct wreminds	 reminds = RB_INITIALIZER(&reminds);

static int
wremind_cmp(struct wremind *a, struct wremind *b)
{
	return strcmp(a->id, b->id);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(wreminds, wremind, entry, wremind_cmp)

static void wremind_fire(struct clock *, void *);

static void
wremind_free(struct wremind *r)
{
	if (r == NULL)
		return;
	RB_REMOVE(wreminds, &reminds, r);
	clock_free(&r->clock);
	free(r);
}

const char *
wremind_missing(const struct incident *inc)
{
	if (wreport_version(inc->id) == 0)
		return "未起草";
	if (!wract_approval_required(inc))
		return "已起草未报送";
	if (wreport_approved_by(inc->id) == NULL)
		return "待审核";
	return "已批准未报送";
}

int64_t
wremind_due(const struct incident *inc)
{
	const struct wreport	*w = wreport_find(inc->id);
	int64_t			 before = config_current()->policy.report_reminder_ms;

	if (before <= 0 || incident_is_closed(inc) || inc->filed.at != 0 ||
	    (w != NULL && w->reminded_at != 0) ||
	    inc->report_clock.deadline <= 0)
		return 0;
	return inc->report_clock.deadline - before;
}

static void
wremind_arm(struct incident *inc)
{
	struct wremind	 key, *r;
	int64_t		 due;

	if ((due = wremind_due(inc)) == 0)
		return;
	snprintf(key.id, sizeof(key.id), "%s", inc->id);
	if ((r = RB_FIND(wreminds, &reminds, &key)) == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			log_warnx("incident %s: out of memory for its written "
			    "report's reminder; there will be none", inc->id);
			return;
		}
		memcpy(r->id, key.id, sizeof(r->id));
		clock_init(&r->clock, wremind_fire, r);
		RB_INSERT(wreminds, &reminds, r);
	}
	clock_arm(&r->clock, due);
}

/*
 * A new incident (live) gets its reminder; one sent, filed or closed no
 * longer waits for one, so no clock stays armed for nothing.  Replay arms
 * them all at the end (wremind_arm_all()).
 */
static int
wremind_follow(const struct record *r)
{
	struct incident	*inc;
	struct wremind	 key, *w;

	if (r->replaying || r->incident == NULL ||
	    (inc = incident_find(r->incident)) == NULL)
		return 0;
	if (strcmp(r->event, "report.received") == 0) {
		wremind_arm(inc);
		return 0;
	}
	if (strncmp(r->event, "incident.", 9) != 0 &&
	    strcmp(r->event, "report.submitted") != 0)
		return 0;
	snprintf(key.id, sizeof(key.id), "%s", inc->id);
	if ((w = RB_FIND(wreminds, &reminds, &key)) != NULL &&
	    wremind_due(inc) == 0)
		wremind_free(w);
	return 0;
}

void
wremind_init(void)
{
	router_follow("", wremind_follow);
}

void
wremind_arm_all(void)
{
	struct incident *inc;

	for (inc = incident_first(); inc != NULL; inc = incident_next(inc))
		wremind_arm(inc);
}

void
wremind_shutdown(void)
{
	while (!RB_EMPTY(&reminds))
		wremind_free(RB_MIN(wreminds, &reminds));
}

/* The duty officers and the leader on duty now. */
static json_t *
wremind_recipients(json_t **on_duty)
{
	const struct config	*cfg = config_current();
	struct roster_oncall	 oc;
	json_t			*list = json_array(), *seen = json_object();
	int			 rc;

	*on_duty = NULL;
	if (list == NULL || seen == NULL ||
	    roster_at(cfg, time_now_ms(), &oc) != 0 ||
	    (*on_duty = notify_oncall_json(&oc)) == NULL)
		goto fail;
	rc = notify_add_named(list, seen, cfg, &oc, "officers",
	    "the written report is due", NULL);
	if (rc == 0)
		rc = notify_add_named(list, seen, cfg, &oc, "leader",
		    "the written report is due", NULL);
	if (rc != 0)
		goto fail;
	json_decref(seen);
	return list;
fail:
	json_decref(list);
	json_decref(seen);
	json_decref(*on_duty);
	*on_duty = NULL;
	return NULL;
}

static int
wremind_record(struct incident *inc, int64_t now)
{
	const char	*missing = wremind_missing(inc);
	char		 deadline[TIME_RFC3339_MAX];
	int64_t		 left = inc->report_clock.deadline - now;
	json_t		*data, *recipients, *on_duty;
	int		 rc;

	time_format(inc->report_clock.deadline, deadline, sizeof(deadline));
	data = json_pack("{s:i, s:s, s:I, s:s}", "number",
	    wreport_number(inc->id), "missing", missing, "left_ms",
	    (json_int_t)left, "deadline", deadline);
	if (data == NULL)
		return -ENOMEM;
	if ((rc = store_append("report.reminder", inc->id, "dutyd", data,
	    NULL)) != 0)
		return rc;
	log_info("incident %s: written report due at %s, %s: reminder sent",
	    inc->id, deadline, missing);
	if ((recipients = wremind_recipients(&on_duty)) == NULL)
		return -ENOMEM;
	if (json_array_size(recipients) == 0)
		log_warnx("incident %s: nobody on duty to remind of the written "
		    "report; check the duty roster", inc->id);
	data = json_pack("{s:s, s:o, s:i, s:o, s:{s:s, s:I, s:s}}", "event",
	    "report.reminder", "recipients", recipients, "late_ms", 0,
	    "on_duty", on_duty, "reminder", "missing", missing, "left_ms",
	    (json_int_t)left, "deadline", deadline);
	if (data == NULL)
		return -ENOMEM;
	return store_append("notify.intent", inc->id, "dutyd", data, NULL);
}

static void
wremind_fire(struct clock *c, void *arg)
{
	struct wremind	*r = arg;
	struct incident	*inc = incident_find(r->id);
	int64_t		 now = time_now_ms();
	int		 rc;

	/* Sent, closed, reminded, or already overdue: the overdue alarm speaks. */
	if (inc == NULL || wremind_due(inc) == 0 ||
	    now >= inc->report_clock.deadline) {
		wremind_free(r);
		return;
	}
	if ((rc = wremind_record(inc, now)) != 0) {
		/* Written already: the record says so, no second reminder. */
		if (wremind_due(inc) == 0) {
			log_warnx("incident %s: the report reminder is recorded "
			    "but its message could not be (%s)", inc->id,
			    strerror(-rc));
			wremind_free(r);
			return;
		}
		if (!r->failing)
			log_errorx("incident %s: the written report's reminder "
			    "cannot be recorded (%s); retrying every second",
			    inc->id, strerror(-rc));
		r->failing = 1;
		clock_arm(&r->clock, now + 1000);
		return;
	}
	wremind_free(r);
}
