/*
 * Notifications: who gets what, and delivery until it is done.
 *
 * Each notifying incident event (incident.new, .escalated, .report_overdue,
 * .acknowledged, .report_filed, .resolved, each follow-up, each escalation
 * level) is told once and leads to one notify.intent record listing every
 * recipient, resolved from the roster at that moment.  Each recipient is a
 * delivery, identified by "<intent seq>.<index>"; every attempt and its
 * outcome is a notify.attempt record; notify.fallback moves it to the
 * next contact; notify.abandoned ends one that will not be sent.  A
 * delivery with no final outcome in the log is attempted again after a
 * restart (at least once), one with an outcome never is (at most one
 * delivered message per delivery).
 *
 * Notifications hang on a subject: an incident, or the duty desk
 * (NOTIFY_DESK) for what belongs to no incident.  This module decides
 * what is told to whom; ledger.c applies the notify.* records,
 * delivery.c sends, message.c words it.
 */
#ifndef DUTYD_NOTIFY_H
#define DUTYD_NOTIFY_H

#include <stdint.h>
#include <sys/queue.h>
#include <bsd/sys/tree.h>

#include <jansson.h>

#include "state/incident.h"

struct config;
struct delivery;
struct roster_oncall;

/* The subject of notifications that belong to no incident (handovers, SMS answers). */
#define NOTIFY_DESK	"duty-desk"

/* One bit per notifying event. */
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
	NOTIFY_UNDELIVERABLE	= 1 << 9,	/* notify.undeliverable: someone could not be told */
	/* Bits are kept in checkpoints (notify_done); these leave room below. */
	NOTIFY_MERGED		= 1 << 12,	/* incident.merged: to those told of it */
	NOTIFY_DISMISSED	= 1 << 13,	/* incident.dismissed: to those told of it */
	/* The written report (actions/wrsend.c, wremind.c): not derived, written by them. */
	NOTIFY_REPORT_SUBMITTED	= 1 << 14,	/* report.submitted: the report itself, to the province */
	NOTIFY_REPORT_REMINDER	= 1 << 15,	/* report.reminder: what is missing, before the deadline */
	/* report.approval_requested (actions/wract.c): the draft, an approve link (P) and code <n>P */
	NOTIFY_APPROVAL_REQUESTED = 1 << 16,
	/* Leaders' directives (actions/dirremind.c), on the duty desk: the text is in the intent. */
	NOTIFY_DIRECTIVE_REMINDER = 1 << 25,	/* directive.reminder: to the owner and the officers */
	NOTIFY_DIRECTIVE_OVERDUE = 1 << 26,	/* directive.overdue: to the leader who issued it */
	/* duty.accept_overdue (actions/handact.c): nobody accepted a handover in time; far from the others' bits */
	NOTIFY_ACCEPT_OVERDUE	= 1 << 24,
};

/* The events that close an incident: once closed, only these are told. */
#define NOTIFY_CLOSING	(NOTIFY_RESOLVED | NOTIFY_MERGED | NOTIFY_DISMISSED)
/* Sent even once the incident is closed: the report the province is owed. */
#define NOTIFY_AFTER_CLOSE	(NOTIFY_CLOSING | NOTIFY_REPORT_SUBMITTED)

/*
 * What notifications hang on: an incident, or the duty desk.  What has
 * been told (intents recorded) and the deliveries still going (ledger.c
 * and delivery.c keep those).
 */
struct notify_subject {
	RB_ENTRY(notify_subject) entry;
	char		 id[INCIDENT_ID_MAX];
	unsigned	 done;		/* enum notify_event bits with an intent */
	int		 level_notified;	/* highest level >= 2 with an intent */
	int		 updates_notified;	/* follow-ups with an intent */
	int		 new_delivered;	/* incident.new reached someone (live or replayed) */
	TAILQ_HEAD(notify_deliveries, delivery) deliveries;
};

void	notify_init(void);
/* Frees every subject; their deliveries must be gone (ledger_shutdown()). */
void	notify_shutdown(void);

const char *notify_event_name(enum notify_event);
enum notify_event notify_event_parse(const char *name);	/* 0 when unknown */

/*
 * Records the intents an incident is due and has not had yet.  Called
 * after every change an action records, and for every incident after
 * replay (a crash may fall between a change and its intent).  Failures
 * are retried by a timer.
 */
void	notify_reconcile(struct incident *);
void	notify_reconcile_all(void);
/*
 * A delivery of EV to PERSON (NAME) failed for good, for REASON: the
 * notify.undeliverable record, and an intent telling the duty officers on
 * duty (the leader when there are none).  0 or -errno.
 */
int	notify_undeliverable(struct incident *, int64_t intent, int index,
	    enum notify_event ev, const char *person, const char *name,
	    const char *reason);
/* SUBJECT's bookkeeping; with CREATE, made when missing (NULL: no memory). */
struct notify_subject *notify_subject(const char *id, int create);
struct notify_subject *notify_subject_first(void);
struct notify_subject *notify_subject_next(struct notify_subject *);
/* An intent for EV (a LEVEL >= 2, or follow-up UPDATE) was recorded. */
void	notify_told(struct notify_subject *, enum notify_event ev, int level,
	    int update);
/* Deliveries of SUBJECT are not done yet. */
int	notify_busy(const char *subject);
/* Forget what was told of incidents no longer loaded and no longer busy. */
void	notify_prune(void);

/*
 * Checkpoints: what was told of SUBJECT, added to the checkpoint object O
 * (notify_done, escalation.notified, updates_notified), and back.
 * 0 or -errno.
 */
int	notify_snapshot(const char *subject, json_t *o);
int	notify_restore(const char *subject, json_t *o);

/* What a recipient is given beside the message. */
struct notify_ask {
	const char	*codes;		/* SMS contacts get a reply code for this incident */
	int		 link;		/* a one-tap link to acknowledge it */
	int		 filter;	/* people[].min_level applies */
	const char	*level;		/* the incident's level, for min_level */
};

/*
 * Appends person ID to LIST as a recipient {person, name, contacts, why,
 * link?}, unless SEEN has them already, or ASK (may be NULL) filters them
 * out.  0 or -ENOMEM.
 */
int	notify_add_person(json_t *list, json_t *seen, const struct config *,
	    const char *id, const char *why, const struct notify_ask *ask);
/*
 * Everyone on duty in OC named by ID: the role "leader" or "officers", or
 * a person id; each added as notify_add_person() does, WHY followed by
 * their role and why they are on duty.
 */
int	notify_add_named(json_t *list, json_t *seen, const struct config *,
	    const struct roster_oncall *oc, const char *id, const char *why,
	    const struct notify_ask *ask);
/* Who is on duty, as records and the API show it. */
json_t	*notify_oncall_json(const struct roster_oncall *);
/*
 * The same, shared with every record that says the same: for records
 * only, never to be changed (an API answer that adds to it takes the one
 * above).  NULL when out of memory.
 */
json_t	*notify_oncall_shared(const struct roster_oncall *);
/*
 * O's compact dump (*LEN bytes) when O is the last snapshot
 * notify_oncall_shared() gave, valid until it gives another; else NULL.
 */
const char *notify_oncall_text(const json_t *o, size_t *len);

#endif
