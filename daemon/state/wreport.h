/*
 * wreport.h: the written report to the province (书面报告) of each
 * incident, as the records say: the number of the report being drafted
 * (0 首报, n 续报n), the versions saved of it, its approval, and the
 * reports sent so far.  The router hands every report.* record but
 * report.received to this module, and it follows incident.report_filed
 * (a report filed by other means counts as sent).
 *
 * Version 0 of each number is not here: it is generated on demand from
 * the incident (parse/wdraft.h, actions/wract.h), so it needs no record.
 * Only the latest version's text is kept in memory and in checkpoints;
 * the log holds every version.
 */
#ifndef DUTYD_WREPORT_H
#define DUTYD_WREPORT_H

#include <stddef.h>
#include <stdint.h>
#include <bsd/sys/tree.h>
#include <jansson.h>

/* Versions saved of one report number; past it a save is refused (409). */
#define WREPORT_VERSIONS_MAX	200
/* Reports sent per incident (首报 and 续报). */
#define WREPORT_SENT_MAX	100
#define WREPORT_TITLE_MAX	200		/* characters */
#define WREPORT_BODY_MAX	(32 * 1024)	/* bytes */

enum wreport_approval_state {
	WREPORT_NONE,		/* never asked */
	WREPORT_REQUESTED,	/* 待审核 */
	WREPORT_APPROVED,
	WREPORT_REJECTED,	/* 已退回 */
};

/* The approval of the current number: the last request, approval or rejection. */
struct wreport_approval {
	enum wreport_approval_state state;
	int		 version;	/* the version asked about, approved or rejected */
	char		*by;		/* person id (approve/reject); NULL when requested */
	char		*by_name;
	char		*comment;
	int64_t		 at;
	json_t		*approvers;	/* of the request: person ids, or NULL */
};

struct wreport {
	RB_ENTRY(wreport) by_id;
	char		*id;		/* the incident's */
	int		 number;	/* the report being drafted: 0 首报, n 续报n */
	/* The current number's versions, oldest first: [{version, saved_by, saved_at}]. */
	json_t		*versions;
	int		 version;	/* the latest saved; 0: only dutyd's */
	char		*title;		/* of the latest saved version; NULL when 0 */
	char		*body;
	char		*saved_by;	/* person id */
	char		*saved_by_name;
	int64_t		 saved_at;
	struct wreport_approval approval;
	/* Reports sent: [{number, version, title, reference, sent_at, approved_by, via}]. */
	json_t		*sent;
	int64_t		 reminded_at;	/* the last report.reminder; 0: none */
};

/* Registers with the router (owner of report.* but report.received). */
void	wreport_init(void);
void	wreport_shutdown(void);

/* What the records say of incident ID's report; NULL: nothing yet (number 0, version 0). */
const struct wreport *wreport_find(const char *id);
/* The number of the report being drafted (0: 首报). */
int	wreport_number(const char *id);
/* The latest version saved of the current number (0: dutyd's own). */
int	wreport_version(const char *id);
/*
 * Approved: the current number's latest version was approved (an edit
 * after approval withdraws it).  The approver's person id, or NULL.
 */
const char *wreport_approved_by(const char *id);
/* The reports sent, as a new reference ([] when none); NULL: out of memory. */
json_t	*wreport_sent_json(const char *id);
/* How the last report went: "dutyd", "other", or NULL when none was sent. */
const char *wreport_last_via(const char *id);

/* Checkpoints: the part of incident ID (NULL: nothing to keep), and back. */
json_t	*wreport_snapshot(const char *id);
int	wreport_restore(const char *id, const json_t *part);
/* Forget those whose incident HAS says is gone (retention). */
void	wreport_prune(int (*has)(const char *id));

#endif
