/*
 * Incident actions: what a report, a staff action, a follow-up or a
 * deadline makes of an incident.  Each decides from the incident as the
 * records left it, appends its record (the router applies it to the
 * incident) and then records the notifications that follow.  0, or
 * -errno when nothing could be recorded (the caller answers 503).
 */
#ifndef DUTYD_INCACT_H
#define DUTYD_INCACT_H

#include <stdint.h>
#include <jansson.h>

struct clock;
struct incident;

/* A report from OFFICE (validated fields); *out is the new incident. */
int	incact_report(const char *office, const char *idem_key,
	    const json_t *report, int64_t occurred_ms, const char *body_sha256,
	    struct incident **out);
/*
 * A report staff took by phone (电话报告) from OFFICE: the same incident,
 * with PERSON as the actor and "source": "phone" in the record.
 */
int	incact_report_phoned(const char *office, const char *person,
	    const char *idem_key, const json_t *report, int64_t occurred_ms,
	    const char *body_sha256, struct incident **out);
/*
 * Either of the above (PERSON NULL: the office's own), with the report's
 * JSON_COMPACT dump RAW at hand (report_dump()): its record and its view
 * take those bytes instead of dumping the report again.
 */
int	incact_report_dumped(const char *office, const char *person,
	    const char *idem_key, const json_t *report, const char *raw,
	    size_t rawlen, int64_t occurred_ms, const char *body_sha256,
	    struct incident **out);
/*
 * Whole minutes a report received at RECEIVED_MS comes after the county's
 * deadline (policy.county_deadline) for one that happened at OCCURRED_MS;
 * 0 when in time, at least 1 when late.
 */
int	incact_late_minutes(int64_t occurred_ms, int64_t received_ms);
/* Staff actions; *changed is 0 when it had been done already (idempotent). */
int	incact_acknowledge(struct incident *, const char *person,
	    const char *note, int *changed);
int	incact_file_report(struct incident *, const char *person,
	    const char *reference, int *changed);
int	incact_resolve(struct incident *, const char *person,
	    const char *note, int *changed);
/*
 * A note (备注) by PERSON in the incident's timeline, open or closed;
 * nobody is notified.
 */
int	incact_note(struct incident *, const char *person, const char *text);
/*
 * A duplicate (重复报告): INC is merged into the incident INTO and closed,
 * its clocks stopped; those told of it are told once more.  The same
 * merge again changes nothing.  -ENOENT: no incident INTO; -ELOOP: INTO
 * is INC; -EALREADY: INC is closed (resolved, dismissed, merged
 * elsewhere); -ECANCELED: INTO is closed.
 */
int	incact_merge(struct incident *, const char *person, const char *into,
	    const char *note, int *changed);
/*
 * A false report (误报): closed with REASON, its clocks stopped; those
 * told of it are told once more.  Again changes nothing; -EALREADY: it is
 * resolved or merged.
 */
int	incact_dismiss(struct incident *, const char *person,
	    const char *reason, int *changed);
/*
 * A follow-up report (续报) from the office that reported it: UPDATE holds
 * validated fields (report_parse_update()).  An IDEM_KEY already used for
 * this incident with the same fields changes nothing (*changed 0); with
 * other fields it is -EEXIST.  A merged incident's follow-up goes to
 * incident_merge_target(), its record naming the merged one as `via`.
 * -EPERM: another office; -EALREADY: it (or the one it was merged into)
 * is closed or no longer loaded; -EMLINK: INCIDENT_UPDATES_MAX follow-ups
 * already; -EFBIG: this one would pass INCIDENT_UPDATES_BYTES_MAX.
 */
int	incact_update(struct incident *, const char *office,
	    const char *idem_key, const json_t *update, int *changed);
/* An incident's clock came due (state/incident.h's ON_DEADLINE). */
void	incact_deadline(struct clock *, void *incident);
/* Drops the notifications still queued (replay tells them after a restart). */
void	incact_shutdown(void);

#endif
