/*
 * Incidents: the store and the state machine.  Every change is a record:
 * an action builds it, audit_append() writes it and calls incident_apply(),
 * which is the only code that changes an incident.  Start-up replay calls
 * the same incident_apply(), so memory is a function of the log.
 */
#ifndef DUTYD_INCIDENT_H
#define DUTYD_INCIDENT_H

#include <stdint.h>
#include <sys/queue.h>
#include <bsd/sys/tree.h>
#include <jansson.h>

#include "store/audit.h"
#include "base/clock.h"

#define INCIDENT_ID_MAX	32

enum incident_state {
	INCIDENT_OPEN,
	INCIDENT_ACKNOWLEDGED,
	INCIDENT_RESOLVED,
};

struct delivery;
TAILQ_HEAD(delivery_list, delivery);

/* Who did something, and when. at == 0: not done. */
struct incident_mark {
	int64_t		 at;
	char		*by;		/* person id */
	char		*by_name;	/* as the roster named them then */
	char		*text;		/* note or reference */
};

/* A deadline and what became of it. */
struct incident_clock {
	struct clock	 clock;
	int64_t		 deadline;
	int64_t		 fired_at;	/* 0: not fired */
	int64_t		 late_ms;	/* how late it fired (dutyd down, or disk trouble) */
	int		 failing;	/* firing could not be recorded yet */
};

struct incident {
	RB_ENTRY(incident) by_id;
	RB_ENTRY(incident) by_key;
	TAILQ_ENTRY(incident) entry;	/* in order of receipt */
	char		 id[INCIDENT_ID_MAX];
	char		*office;
	char		*office_name;
	char		*idem;		/* "office\nkey", NULL without Idempotency-Key */
	char		*body_sha256;
	json_t		*report;	/* the validated fields */
	json_t		*origin;	/* the report.received data, for checkpoints */
	int64_t		 received_at;
	int		 late_report;
	enum incident_state state;
	struct incident_mark ack, filed, resolved;
	struct incident_clock ack_clock, report_clock;
	/* Escalation beyond the leader (policy.escalation): the next level's clock. */
	struct incident_clock level_clock;
	int		 level;		/* escalation levels fired; 1: at ack_timeout */
	int		 level_notified;	/* highest level >= 2 with a notify.intent */
	json_t		*level_notify;	/* whom the last level >= 2 calls: ids, "leader" */
	json_t		*updates;	/* follow-ups (续报), oldest first: {n, at, by, key?, fields} */
	int		 updates_notified;	/* follow-ups with a notify.intent */
	json_t		*timeline;	/* array of events, oldest first */
	struct delivery_list deliveries;	/* notifications not yet done */
	unsigned	 notify_due;	/* enum notify_event bits the records call for */
	unsigned	 notify_done;	/* bits with a notify.intent record */
	char		*json;		/* incview_cached(), dropped by every change */
	unsigned	 json_gen;	/* the generation it was made in */
};

void	incident_init(void);
void	incident_shutdown(void);	/* frees every incident */

/* The audit apply hook. */
int	incident_apply(const struct audit_record *);

struct incident *incident_find(const char *id);
struct incident *incident_find_idem(const char *office, const char *key);
struct incident *incident_first(void);
struct incident *incident_next(struct incident *);
const char *incident_state_name(enum incident_state);

/*
 * Checkpoints: records that let start-up replay begin at a segment's start.
 * incident_checkpoint() appends checkpoint.begin, one checkpoint.incident
 * per incident worth keeping (open, or resolved at or after cutoff) and
 * checkpoint.end; 0 or -errno.  incident_apply() restores them.
 */
int	incident_checkpoint(int64_t cutoff);
/* Forget resolved incidents older than cutoff (they stay in the log). */
void	incident_prune(int64_t cutoff);

/*
 * Actions.  Each appends its record (and the notification intents that
 * follow from it) and returns 0, or -errno when nothing could be recorded.
 * *changed is 0 when the action had already been done (idempotent).
 */
int	incident_report(const char *office, const char *idem_key,
	    const json_t *report, int64_t occurred_ms, const char *body_sha256,
	    struct incident **out);
int	incident_acknowledge(struct incident *, const char *person,
	    const char *note, int *changed);
int	incident_file_report(struct incident *, const char *person,
	    const char *reference, int *changed);
int	incident_resolve(struct incident *, const char *person,
	    const char *note, int *changed);
/*
 * A follow-up report (续报) from the office that reported it: UPDATE holds
 * validated fields (report_validate_update()).  An IDEM_KEY already used
 * for this incident with the same fields changes nothing (*changed 0);
 * with other fields it is -EEXIST.  -EPERM: another office; -EALREADY:
 * resolved.
 */
int	incident_update(struct incident *, const char *office,
	    const char *idem_key, const json_t *update, int *changed);

#endif
