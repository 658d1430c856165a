/*
 * Writing and restoring checkpoints.  Each module snapshots its own part
 * of an incident; this file only puts the parts together and back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "actions/checkpoint.h"
#include "base/timeutil.h"
#include "notify/ledger.h"
#include "notify/links.h"
#include "notify/notify.h"
#include "state/directive.h"
#include "state/handover.h"
#include "state/incid.h"
#include "state/incident.h"
#include "state/incsnap.h"
#include "state/replycode.h"
#include "state/router.h"
#include "state/signout.h"
#include "state/wreport.h"
#include "store/store.h"

/* Timeline entries given up per try when a snapshot is over the line limit. */
#define CHECKPOINT_TRIM_STEP	64

static int checkpoint_apply(const struct record *);

void
checkpoint_init(void)
{
	router_own(ROUTER_CHECKPOINT, checkpoint_apply);
}

static json_t *
checkpoint_incident(struct incident *inc, size_t trim)
{
	json_t *o;

	if ((o = incsnap_incident(inc, trim)) == NULL)
		return NULL;
	if (notify_snapshot(inc->id, o) != 0 || ledger_snapshot(inc->id, o) != 0 ||
	    json_object_set_new(o, "reply_codes",
	    replycode_snapshot(inc->id)) != 0 ||
	    json_object_set_new(o, "links", links_snapshot(inc->id)) != 0 ||
	    (wreport_find(inc->id) != NULL && json_object_set_new(o,
	    "wreport", wreport_snapshot(inc->id)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * One incident.  A line over the limit gives up timeline entries, the
 * oldest delivery records first, until it fits: the log has them all.
 */
static int
checkpoint_write_incident(struct incident *inc)
{
	size_t	 trim = 0;
	json_t	*data;
	int	 rc;

	do {
		if ((data = checkpoint_incident(inc, trim)) == NULL)
			return -ENOMEM;
		rc = store_append("checkpoint.incident", inc->id, "dutyd", data,
		    NULL);
		trim += CHECKPOINT_TRIM_STEP;
	} while (rc == -EMSGSIZE && trim <= timeline_len(&inc->timeline) +
	    CHECKPOINT_TRIM_STEP);
	return rc;
}

/*
 * A checkpoint in progress.  The incidents go in receipt order, a few per
 * loop turn, up to the newest one there was at checkpoint.begin: those
 * received later have their report.received after it, in the same segment.
 */
static struct {
	int	 running;
	int64_t	 cutoff;
	char	 last[INCIDENT_ID_MAX];	/* the last one written; "": none yet */
	char	 stop[INCIDENT_ID_MAX];	/* the newest at begin; "": there were none */
} ck;

int
checkpoint_running(void)
{
	return ck.running;
}

void
checkpoint_abort(void)
{
	ck.running = 0;
}

int
checkpoint_start(int64_t cutoff)
{
	struct incident	*newest;
	json_t		*data;
	int		 day, n, dday, dn, rc, err;

	newest = incident_before(INCIDENT_ALL, NULL, &err);
	incid_counter(&day, &n);
	directive_id_counter(&dday, &dn);
	/* How many are loaded; those resolved before CUTOFF are left out. */
	data = json_pack("{s:i, s:i, s:I, s:i, s:i}", "last_day", day, "last_n",
	    n, "incidents", (json_int_t)incident_count(INCIDENT_ALL),
	    "directive_day", dday, "directive_n", dn);
	if (data == NULL)
		return -ENOMEM;
	if ((rc = store_append("checkpoint.begin", NULL, "dutyd", data, NULL)) != 0)
		return rc;
	ck.running = 1;
	ck.cutoff = cutoff;
	ck.last[0] = '\0';
	snprintf(ck.stop, sizeof(ck.stop), "%s", newest != NULL ? newest->id : "");
	return 0;
}

/* One directive; a line over the limit gives up timeline entries, as an incident's. */
static int
checkpoint_write_directive(struct directive *dv)
{
	size_t	 trim = 0;
	json_t	*data;
	int	 rc;

	do {
		if ((data = directive_snapshot(dv, trim)) == NULL)
			return -ENOMEM;
		rc = store_append("checkpoint.directive", NULL, "dutyd", data,
		    NULL);
		trim += CHECKPOINT_TRIM_STEP;
	} while (rc == -EMSGSIZE && trim <= json_array_size(dv->timeline) +
	    CHECKPOINT_TRIM_STEP);
	return rc;
}

/* The duty desk's deliveries still going, and the end. */
static int
checkpoint_finish(void)
{
	struct directive *dv;
	json_t	*data;
	int	 rc;

	/* Handover messages and SMS answers still being retried. */
	if (notify_busy(NOTIFY_DESK)) {
		if ((data = json_object()) == NULL ||
		    ledger_snapshot(NOTIFY_DESK, data) != 0) {
			json_decref(data);
			return -ENOMEM;
		}
		if ((rc = store_append("checkpoint.incident", NOTIFY_DESK, "dutyd",
		    data, NULL)) != 0)
			return rc;
	}
	/* Handovers still to be accepted keep their clocks; notes wait for the next. */
	if (handover_any()) {
		/* With the accept links the handover messages carried: their intents are older. */
		if ((data = handover_snapshot()) == NULL ||
		    json_object_set_new(data, "links",
		    links_snapshot(NOTIFY_DESK)) != 0) {
			json_decref(data);
			return -ENOMEM;
		}
		if ((rc = store_append("checkpoint.handovers", NULL, "dutyd",
		    data, NULL)) != 0)
			return rc;
	}
	/* Directives, a part each: open ones keep their clocks, done ones their figures. */
	for (dv = directive_newest(); dv != NULL; dv = directive_older(dv))
		if ((rc = checkpoint_write_directive(dv)) != 0)
			return rc;
	/* Signed-out console sessions stay out after a restart. */
	if (signout_count() > 0) {
		if ((data = signout_snapshot(time_now_ms())) == NULL)
			return -ENOMEM;
		if ((rc = store_append("checkpoint.signouts", NULL, "dutyd", data,
		    NULL)) != 0)
			return rc;
	}
	if ((rc = store_append("checkpoint.end", NULL, "dutyd", NULL, NULL)) != 0)
		return rc;
	ck.running = 0;
	return 0;
}

int
checkpoint_step(size_t budget, int *done)
{
	struct incident	*inc;
	size_t		 n = 0;
	int		 rc, err;

	*done = 0;
	if (!ck.running)
		return -EINVAL;
	inc = ck.stop[0] == '\0' ? NULL : incident_after(INCIDENT_ALL,
	    ck.last[0] != '\0' ? ck.last : NULL, &err);
	for (; inc != NULL && !incident_is_after(inc, ck.stop) && n < budget;
	    inc = incident_newer(INCIDENT_ALL, inc)) {
		snprintf(ck.last, sizeof(ck.last), "%s", inc->id);
		if (incident_is_closed(inc) && incident_closed_at(inc) < ck.cutoff)
			continue;
		if ((rc = checkpoint_write_incident(inc)) != 0)
			return rc;
		n++;
	}
	if (inc != NULL && !incident_is_after(inc, ck.stop))
		return 0;	/* more next turn */
	if ((rc = checkpoint_finish()) != 0)
		return rc;
	*done = 1;
	return 0;
}

static int
checkpoint_apply(const struct record *r)
{
	json_t	*v;
	int	 rc;

	/* Written live, a checkpoint describes what memory already holds. */
	if (!r->replaying)
		return 0;
	if (strcmp(r->event, "checkpoint.begin") == 0 &&
	    json_is_integer(v = json_object_get(r->data, "last_day"))) {
		incid_seen((int)json_integer_value(v),
		    (int)json_integer_value(json_object_get(r->data, "last_n")));
		directive_id_seen((int)json_integer_value(json_object_get(r->data,
		    "directive_day")), (int)json_integer_value(json_object_get(
		    r->data, "directive_n")));
		return 0;
	}
	if (strcmp(r->event, "checkpoint.signouts") == 0)
		return signout_restore(r->data);
	if (strcmp(r->event, "checkpoint.directive") == 0)
		return directive_restore(r->data);
	if (strcmp(r->event, "checkpoint.handovers") == 0) {
		if ((rc = handover_restore(r->data)) != 0)
			return rc;
		return links_restore(NOTIFY_DESK, json_object_get(r->data,
		    "links"));
	}
	if (strcmp(r->event, "checkpoint.incident") != 0 || r->incident == NULL)
		return 0;
	if (strcmp(r->incident, NOTIFY_DESK) == 0)
		return ledger_restore(NOTIFY_DESK, r->data);
	if ((rc = incident_restore(r->incident, r->data)) != 0)
		return rc;
	replycode_restore(r->incident, json_object_get(r->data, "reply_codes"));
	if ((rc = wreport_restore(r->incident, json_object_get(r->data,
	    "wreport"))) != 0)
		return rc;
	if ((rc = notify_restore(r->incident, r->data)) != 0)
		return rc;
	if ((rc = links_restore(r->incident, json_object_get(r->data,
	    "links"))) != 0)
		return rc;
	return ledger_restore(r->incident, r->data);
}
