/*
 * Writing and restoring checkpoints.  Each module snapshots its own part
 * of an incident; this file only puts the parts together and back.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "actions/checkpoint.h"
#include "notify/ledger.h"
#include "notify/links.h"
#include "notify/notify.h"
#include "state/incident.h"
#include "state/replycode.h"
#include "state/router.h"
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

	if ((o = incident_snapshot(inc, trim)) == NULL)
		return NULL;
	if (notify_snapshot(inc->id, o) != 0 || ledger_snapshot(inc->id, o) != 0 ||
	    json_object_set_new(o, "reply_codes",
	    replycode_snapshot(inc->id)) != 0 ||
	    json_object_set_new(o, "links", links_snapshot(inc->id)) != 0) {
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
	} while (rc == -EMSGSIZE && trim <= json_array_size(inc->timeline) +
	    CHECKPOINT_TRIM_STEP);
	return rc;
}

int
checkpoint_write(int64_t cutoff)
{
	struct incident	*inc;
	json_t		*data;
	int		 day, n = 0, rc;

	for (inc = incident_first(); inc != NULL; inc = incident_next(inc))
		if (!incident_is_closed(inc) || incident_closed_at(inc) >= cutoff)
			n++;
	incident_id_counter(&day, &rc);
	data = json_pack("{s:i, s:i, s:i}", "last_day", day, "last_n", rc,
	    "incidents", n);
	if (data == NULL)
		return -ENOMEM;
	if ((rc = store_append("checkpoint.begin", NULL, "dutyd", data, NULL)) != 0)
		return rc;
	for (inc = incident_first(); inc != NULL; inc = incident_next(inc)) {
		if (incident_is_closed(inc) && incident_closed_at(inc) < cutoff)
			continue;
		if ((rc = checkpoint_write_incident(inc)) != 0)
			return rc;
	}
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
	return store_append("checkpoint.end", NULL, "dutyd", NULL, NULL);
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
		incident_id_seen((int)json_integer_value(v),
		    (int)json_integer_value(json_object_get(r->data, "last_n")));
		return 0;
	}
	if (strcmp(r->event, "checkpoint.incident") != 0 || r->incident == NULL)
		return 0;
	if (strcmp(r->incident, NOTIFY_DESK) == 0)
		return ledger_restore(NOTIFY_DESK, r->data);
	if ((rc = incident_restore(r->incident, r->data)) != 0)
		return rc;
	replycode_restore(r->incident, json_object_get(r->data, "reply_codes"));
	if ((rc = notify_restore(r->incident, r->data)) != 0)
		return rc;
	if ((rc = links_restore(r->incident, json_object_get(r->data,
	    "links"))) != 0)
		return rc;
	return ledger_restore(r->incident, r->data);
}
