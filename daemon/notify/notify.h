/*
 * Notifications: who gets what, and delivery until it is done.
 *
 * Each notifying incident event (incident.new, .escalated, .report_overdue,
 * .acknowledged, .report_filed, .resolved) happens at most once per incident
 * and leads to one notify.intent record listing every recipient, resolved
 * from the roster at that moment.  Each recipient is a delivery, identified
 * by "<intent seq>.<index>"; every attempt and its outcome is a
 * notify.attempt record; notify.abandoned ends one that will not be sent.
 * A delivery with no final outcome in the log is attempted again after a
 * restart (at least once), one with an outcome never is (at most one
 * delivered message per delivery).
 */
#ifndef DUTYD_NOTIFY_H
#define DUTYD_NOTIFY_H

#include <stdint.h>
#include <event2/event.h>

#include <jansson.h>

#include "store/audit.h"

struct config;
struct incident;
struct roster_oncall;

/* One bit per notifying event; struct incident keeps which are due and done. */
enum notify_event {
	NOTIFY_NEW		= 1 << 0,
	NOTIFY_ESCALATED	= 1 << 1,
	NOTIFY_OVERDUE		= 1 << 2,
	NOTIFY_ACKNOWLEDGED	= 1 << 3,
	NOTIFY_FILED		= 1 << 4,
	NOTIFY_RESOLVED		= 1 << 5,
	NOTIFY_HANDOVER		= 1 << 6,	/* duty.handover, on the duty desk */
	NOTIFY_UPDATED		= 1 << 7,	/* incident.updated: one per follow-up */
	NOTIFY_REPLY		= 1 << 8,	/* sms.reply: an answer to an inbound SMS, on the duty desk */
};

void	notify_init(struct event_base *);
void	notify_shutdown(void);

const char *notify_event_name(enum notify_event);
enum notify_event notify_event_parse(const char *name);	/* 0 when unknown */

/*
 * Records the intents an incident is due and has not had yet.  Called after
 * every incident change, and for every incident after replay (a crash may
 * fall between a change and its intent).  Failures are retried by a timer.
 */
void	notify_reconcile(struct incident *);
/* Applies notify.* records. */
int	notify_apply(struct incident *, const struct audit_record *);
/* The incident was resolved: end deliveries that no longer matter. */
void	notify_incident_resolved(struct incident *);
/* Deliveries not yet done, for a checkpoint; and back (scheduled, not started). */
json_t	*notify_snapshot(struct incident *);
int	 notify_restore(struct incident *, json_t *deliveries);
/*
 * Appends person ID to LIST as a recipient {person, name, contacts, why},
 * unless SEEN has them already; with INCIDENT, SMS contacts get its reply
 * code.  0 or -ENOMEM.
 */
int	notify_add_person(json_t *list, json_t *seen, const struct config *,
	    const char *id, const char *why, const char *incident);
/*
 * Send TEXT as it is to TO on CHANNEL (an answer to an inbound SMS through
 * a gateway that cannot answer in its webhook reply): a notification on
 * the duty desk, with its records, retries and fallback.  0 or -errno.
 */
int	notify_direct(const char *channel, const char *to, const char *text);
/* Who is on duty, as records and the API show it. */
json_t	*notify_oncall_json(const struct roster_oncall *);
/* Frees an incident's deliveries (shutdown); cancels transfers in flight. */
void	notify_incident_free(struct incident *);

#endif
