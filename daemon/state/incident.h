/*
 * Incidents: what the records say about each one.  The record router
 * hands incident records to this module, which is the only code that
 * changes an incident, for live records and for replay alike, so memory
 * is a function of the log.  Deciding what to record is the actions'
 * business (actions/incact.c); telling people, notify's.
 */
#ifndef DUTYD_INCIDENT_H
#define DUTYD_INCIDENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <bsd/sys/tree.h>
#include <jansson.h>

#include "base/clock.h"
#include "state/inclist.h"
#include "state/increport.h"
#include "state/inctold.h"
#include "state/timeline.h"

#define INCIDENT_ID_MAX		32
/* Follow-ups (续报) one incident takes, and their bytes: it must fit a checkpoint line. */
#define INCIDENT_UPDATES_MAX		100
#define INCIDENT_UPDATES_BYTES_MAX	(512 * 1024)

struct record;

enum incident_state {
	INCIDENT_OPEN,
	INCIDENT_ACKNOWLEDGED,
	INCIDENT_RESOLVED,
	INCIDENT_MERGED,	/* a duplicate: merged into another incident */
	INCIDENT_DISMISSED,	/* a false report (误报) */
};

/* Merges followed from one incident to the one it ended up in. */
#define INCIDENT_MERGE_HOPS	16

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
	struct inclist_node order;	/* in the lists the API pages through */
	int		 overdue;	/* counted in incident_count_overdue() */
	char		 id[INCIDENT_ID_MAX];
	char		*office;
	char		*office_name;
	char		*idem;		/* "office\nkey", NULL without Idempotency-Key */
	char		*body_sha256;
	/*
	 * The report.received data as text, the validated report in it:
	 * checkpoints write it back (incident_origin()), the view splices the
	 * report's bytes, incident_report() reads its fields.  What the view
	 * reads of the rest is kept apart.
	 */
	struct increport report;
	char		*source;	/* its "source", NULL without one */
	char		*taken_by, *taken_by_name;	/* a report taken by phone */
	int64_t		 late_minutes;	/* its "late_by_minutes", */
	int		 has_late_minutes;	/* when it had one (older logs did not) */
	int64_t		 received_at;
	int		 late_report;
	enum incident_state state;
	struct incident_mark ack, filed, resolved;
	/* Merged or dismissed: who, when, and the note or the reason. */
	struct incident_mark closed;
	char		 merged_into[INCIDENT_ID_MAX];	/* "" unless merged */
	json_t		*merged_from;	/* ids of the incidents merged into this one */
	struct inctold	 told;	/* every person a notify.intent about it named */
	struct incident_clock ack_clock, report_clock;
	/*
	 * Escalation beyond the leader (policy.escalation): the next level's
	 * clock, made when first armed (NULL until then: most incidents are
	 * acknowledged before any, and a clock is 208 bytes).
	 */
	struct incident_clock *level_clock;
	int		 level;		/* escalation levels fired; 1: at ack_timeout */
	json_t		*level_notify;	/* whom the last level >= 2 calls: ids, "leader" */
	json_t		*updates;	/* follow-ups (续报), oldest first: {n, at, by, key?, fields} */
	size_t		 updates_bytes;	/* of their fields, as JSON */
	struct timeline	 timeline;	/* every record naming it, oldest first */
	json_t		*undeliverable;	/* who could not be told: {at, person, name, event, reason} */
	char		*json;		/* incview_cached(), dropped by every change */
	unsigned	 json_gen;	/* the generation it was made in */
};

/*
 * Registers with the router.  ON_DEADLINE is called when one of an
 * incident's clocks comes due (its arg is the incident).
 */
void	incident_init(clock_fn on_deadline);
void	incident_shutdown(void);	/* frees every incident */

struct incident *incident_find(const char *id);
struct incident *incident_find_idem(const char *office, const char *key);
struct incident *incident_first(void);
struct incident *incident_next(struct incident *);
const char *incident_state_name(enum incident_state);
/*
 * The report's fields, as validated: borrowed, and valid while fewer than
 * INCREPORT_KEPT other incidents' reports are read (increport.h).  NULL
 * when out of memory.
 */
json_t	*incident_report(const struct incident *);
/*
 * The latest word on report field KEY ("level", "casualties"): the last
 * follow-up that gave it, else the report; NULL when neither did.  With
 * SUB, a member of that object field ("dead"), looked up the same way.
 */
json_t	*incident_fact(const struct incident *, const char *key,
	    const char *sub);
/* Resolved, merged or dismissed: its clocks stopped, nothing more to do. */
int	incident_is_closed(const struct incident *);
/* When it was resolved, merged or dismissed; 0 while it is not closed. */
int64_t	incident_closed_at(const struct incident *);
/*
 * Where a follow-up to INC goes: INC itself, or the incident it was merged
 * into (followed through later merges).  NULL when that one is no longer
 * loaded (retention) or the chain is longer than INCIDENT_MERGE_HOPS.
 */
struct incident *incident_merge_target(struct incident *inc);
/* Not closed, with a deadline passed and unmet: kept as records apply, O(1). */
size_t	incident_count_overdue(void);

/* Which incidents a list shows (inclist.c keeps the lists). */
enum incident_filter {
	INCIDENT_ALL = INCLIST_ALL,
	INCIDENT_NOT_CLOSED = INCLIST_NOT_CLOSED,	/* open or acknowledged */
};
/* Those in state S only (an enum incident_state). */
#define INCIDENT_IN_STATE(s)	((enum incident_filter)(INCLIST_STATE + (int)(s)))
/*
 * Of the incidents loaded that pass FILTER, in O(1) and O(log n): how
 * many, and the newest one received before the incident with id BEFORE
 * (NULL: the newest of all; an id that is gone still marks its place).
 * -EINVAL in *err when BEFORE is not an incident id.
 */
size_t	incident_count(enum incident_filter);
struct incident *incident_before(enum incident_filter, const char *before,
	    int *err);
struct incident *incident_older(enum incident_filter, struct incident *);
/*
 * Oldest first: the first that passes FILTER, the one received after INC,
 * and the oldest received after the incident with id AFTER (which may be
 * gone; -EINVAL in *err when it is not an incident id).
 */
struct incident *incident_after(enum incident_filter, const char *after,
	    int *err);
/* 1 when INC was received after the incident with id ID. */
int	incident_is_after(const struct incident *, const char *id);
struct incident *incident_oldest(enum incident_filter);
struct incident *incident_newer(enum incident_filter, struct incident *);

/* The report.received data it came from, as recorded: a new reference, NULL when out of memory. */
json_t	*incident_origin(const struct incident *);

/*
 * Checkpoints: an incident back from the object incsnap.c made; the
 * restored one replaces whatever replay had built.  0 or -errno.
 */
int	 incident_restore(const char *id, json_t *snapshot);

/*
 * Forget closed incidents older than cutoff (they stay in the log),
 * except those BUSY says something still works for.  How many went.
 */
int	incident_prune(int64_t cutoff, int (*busy)(const char *id));

#endif
