/*
 * directive.h: leaders' written instructions (领导批示件) as the records
 * say: the owner of directive.* records.
 *
 * A directive is created by directive.created (its deadline, submit_by,
 * computed by the action from the calendar and written in the record, so
 * a config change never moves it), progresses (directive.progress),
 * reports a delay (directive.delayed), and ends with directive.completed.
 * Its reminders (directive.reminder, one per working day at most) and the
 * issuing leader's alarm (directive.overdue) are recorded here too, so a
 * restart knows what was told.  Done directives stay loaded for
 * audit.retention after completion; the log keeps them all.
 */
#ifndef DUTYD_DIRECTIVE_H
#define DUTYD_DIRECTIVE_H

#include <stdint.h>
#include <sys/queue.h>

#include <bsd/sys/tree.h>
#include <jansson.h>

#include "config/calendar.h"

#define DIRECTIVE_ID_MAX	32	/* "DIR-20261202-0001" and its NUL */
/* Loaded at once; past it a new one is refused (the duty room phones). */
#define DIRECTIVE_LOADED_MAX	10000
#define DIRECTIVE_TITLE_MAX	200	/* code points */
#define DIRECTIVE_TEXT_MAX	8000	/* code points: the instruction as written */
#define DIRECTIVE_NAME_MAX	100	/* code points: issued_by */
#define DIRECTIVE_NOTE_MAX	2000	/* code points: progress, result, reason */
/* Progress reports and delays per directive: one line each in a checkpoint. */
#define DIRECTIVE_PROGRESS_MAX	100
/* Timeline entries kept in memory; the log has them all. */
#define DIRECTIVE_TIMELINE_MAX	400

struct directive {
	TAILQ_ENTRY(directive) entry;	/* in order of creation */
	RB_ENTRY(directive) by_id;
	char		 id[DIRECTIVE_ID_MAX];
	/* What the API shows, less what is computed when shown (overdue, owner_name). */
	json_t		*view;
	json_t		*timeline;	/* [{seq, ts, event, actor, data}] */
	char		 submit_by[CALENDAR_DATE_MAX];
	int		 done;
	int64_t		 created_at;	/* the directive.created record's time */
	int64_t		 completed_at;
	int		 nprogress;	/* progress reports and delays */
	/* The last working day a reminder was recorded for; "" none. */
	char		 reminded_day[CALENDAR_DATE_MAX];
	int64_t		 overdue_at;	/* directive.overdue recorded (the leader told); 0 not */
};

void	directive_init(void);
void	directive_shutdown(void);

struct directive *directive_find(const char *id);
/* Newest first. */
struct directive *directive_newest(void);
struct directive *directive_older(struct directive *);
size_t	directive_count(void);

/* The owner: "office" or "person", and its id. */
const char *directive_owner(const struct directive *);
const char *directive_owner_kind(const struct directive *);
const char *directive_str(const struct directive *, const char *key);
/* Open and past submit_by (local date of NOW after it). */
int	directive_is_overdue(const struct directive *, int64_t now);

/*
 * D as the API shows it (docs/directives.md); with TIMELINE the timeline
 * too.  A new reference, or NULL without memory.
 */
json_t	*directive_json(const struct directive *, int64_t now, int timeline);

/* Ids: DIR-<local date>-<n>; the counter survives restarts (records, checkpoints). */
void	directive_new_id(int64_t now, char *buf, size_t len);
void	directive_id_counter(int *day, int *n);
void	directive_id_seen(int day, int n);

/*
 * Checkpoints: one directive as a part, less the TRIM oldest timeline
 * entries after its creation (a part over the line limit gives them up),
 * and back (replacing what replay made).
 */
json_t	*directive_snapshot(const struct directive *, size_t trim);
int	directive_restore(const json_t *part);
/* Done directives completed before CUTOFF are unloaded; how many. */
int	directive_prune(int64_t cutoff);

#endif
