/*
 * delivery.h: one person's message about one event, until it is delivered
 * or given up.  ledger.c makes and ends deliveries as the records say;
 * delivery.c (the engine: attempts, fallback, rate limits, bundles) decides
 * and records what happens to them.
 *
 * A delivery is in one of these states:
 *
 *	WAIT_DURABLE	its intent is written but not yet synced: wait, so a
 *			message never goes out for a change that could vanish
 *	SCHEDULED	timer set for the next attempt
 *	QUEUED		due, waiting for a free transfer slot (not an attempt yet)
 *	RATE_QUEUED	due, waiting for its channel's rate limit
 *	INFLIGHT	a request is out (holds a config reference)
 *	BUNDLED		riding in another delivery's request (its "lead")
 *	RECORDING	an outcome could not be written yet: retried by timer
 */
#ifndef DUTYD_DELIVERY_H
#define DUTYD_DELIVERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "base/clock.h"
#include "notify/notify.h"
#include "parse/linktoken.h"
#include "state/incident.h"
#include "store/store.h"

#define DELIVERY_CONTACTS_MAX	16

struct config;
struct config_channel;
struct fetch;

enum delivery_state {
	DELIVERY_WAIT_DURABLE,
	DELIVERY_SCHEDULED,
	DELIVERY_QUEUED,
	DELIVERY_RATE_QUEUED,
	DELIVERY_INFLIGHT,
	DELIVERY_BUNDLED,
	DELIVERY_RECORDING,
};

struct delivery_contact {
	char		*channel;
	char		*to;		/* in channel's block */
	int		 code;		/* SMS reply code on this phone; 0: none */
};

struct delivery {
	TAILQ_ENTRY(delivery) entry;	/* in its subject's deliveries */
	TAILQ_ENTRY(delivery) queue;	/* QUEUED or RATE_QUEUED: in that queue */
	TAILQ_ENTRY(delivery) riders;	/* BUNDLED: in its lead's bundle */
	TAILQ_HEAD(, delivery) bundle;	/* INFLIGHT lead: who rides along */
	struct delivery	*lead;		/* BUNDLED: whose request carries it */
	struct chanq	*chanq;		/* RATE_QUEUED: which queue */
	struct notify_subject *subj;
	int64_t		 intent;	/* seq of the notify.intent record */
	int		 index;		/* recipient within it */
	enum notify_event event;
	int		 level;		/* escalation level >= 2, else 0 */
	int		 update;	/* incident.updated: the follow-up's number */
	json_t		*extra;		/* duty.handover: {shift, count, incidents}; sms.reply: {text} */
	char		*person;
	char		*person_name;	/* in person's block */
	char		 link[LINKTOKEN_STUB_LEN + 1];	/* one-tap link stub; "": none */
	/*
	 * As many as it has (most people one or two): an array of
	 * DELIVERY_CONTACTS_MAX made every delivery 744 bytes, and in a flood
	 * thousands wait at once; freed, they left holes between the
	 * incidents' lasting blocks that stayed in RSS.
	 */
	struct delivery_contact *contacts;
	size_t		 ncontacts;
	size_t		 contact;	/* the one being tried */
	unsigned	 rejected;	/* contacts that refused for good (bits) */
	int		 contact_attempts;	/* on the current contact */
	int64_t		 contact_since;	/* first attempt on it; 0: none yet */
	int64_t		 late_ms;	/* a clock that fired late says so */
	int		 attempts;	/* on every contact */
	int64_t		 first_attempt_at;
	int64_t		 next_at;	/* SCHEDULED: when */
	enum delivery_state state;
	struct clock	 timer;
	struct store_waiter waiter;
	struct store_later later;	/* its outcome, held for the turn's write */
	struct fetch	*fetch;
	struct config	*cfg;		/* held while in flight */
	char		*recording_event;	/* RECORDING: what to write */
	json_t		*recording_data;
};

/* delivery.c */
void	delivery_shutdown(void);
/* Allocated with its timer; in the subject's list.  NULL when out of memory. */
struct delivery *delivery_new(struct notify_subject *, int64_t intent,
	    int index, enum notify_event, const char *person, const char *name,
	    int64_t late_ms);
int	delivery_add_contact(struct delivery *, const char *channel,
	    const char *to, int code);
void	delivery_free(struct delivery *);	/* accepts NULL */
void	delivery_schedule(struct delivery *, int64_t at);
/* Start once the intent is on disk. */
void	delivery_when_durable(struct delivery *);
/* Nothing in progress any more: out of queues, requests, timers. */
void	delivery_halt(struct delivery *);
void	delivery_abandon(struct delivery *, const char *reason);
/* A new configuration is in force: queues of channels gone or unlimited go. */
void	delivery_reconfigured(void);
/* The incident was closed (resolved, merged, dismissed): end deliveries that no longer matter. */
void	delivery_incident_resolved(struct incident *);
/* Channels with a rate-limit queue (for health and tests). */
size_t	delivery_rate_queues(void);

#endif
