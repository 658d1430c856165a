/*
 * wract.h: the written report's draft and its approval (审核批准): save a
 * version, ask the approvers, approve, reject.  Each decides, records
 * (report.draft_saved, report.approval_requested, report.approved,
 * report.rejected) and leaves the change to state/wreport.c.  Sending is
 * actions/wrsend.c's.
 */
#ifndef DUTYD_WRACT_H
#define DUTYD_WRACT_H

#include <jansson.h>

struct incident;

/* 1 when INC's report needs approval before it is sent (policy.approval_levels). */
int	wract_approval_required(const struct incident *);
/*
 * The current report's latest version (version 0 made from the incident
 * when nobody saved one): title and body malloc'd.  0 or -errno.
 */
int	wract_current_text(const struct incident *, char **title, char **body);
/* 1 when PERSON is an approver now (policy.approvers, the roster now). */
int	wract_may_approve(const char *person);
/* Who may approve now, as the answer says it: "李明（带班领导）、…"; malloc'd. */
char	*wract_approvers_text(void);

/*
 * PERSON saves TITLE and BODY as the next version, made from BASE (the
 * version they edited).  0; -ESTALE (*current: the latest version, saved
 * by someone else meanwhile); -ENOSPC (WREPORT_VERSIONS_MAX); -EALREADY
 * (merged or dismissed); -ENOMEM or the store's error.
 */
int	wract_save(struct incident *, const char *person, const char *title,
	    const char *body, int base, int *current);
/*
 * PERSON asks the approvers to approve the latest version: the record,
 * then an intent to them with the text, a one-tap approve link (P) and
 * the SMS code <n>P.  0; -ENOTSUP (this level needs no approval);
 * -EALREADY (approved already, or merged/dismissed); -EBUSY (this version
 * was asked about less than WRACT_REQUEST_AGAIN_MS ago: the approvers
 * have it); -ENOENT (nobody could approve now); -ENOMEM or the store's.
 */
#define WRACT_REQUEST_AGAIN_MS	(5 * 60 * 1000)
int	wract_request(struct incident *, const char *person);
/*
 * PERSON approves (or rejects, with COMMENT) the latest version.
 * *changed is 0 when it was approved already.  0; -EPERM (not an
 * approver now); -EALREADY (merged or dismissed); -ENOMEM or the store's.
 */
int	wract_approve(struct incident *, const char *person, const char *comment,
	    int *changed);
int	wract_reject(struct incident *, const char *person, const char *comment);

/*
 * The draft as GET …/written-report/draft shows it to PERSON (NULL: no
 * person, e.g. an office): number, version, title, body, saved_by,
 * saved_at, approval, versions, may_approve, sent.  NULL: out of memory.
 */
json_t	*wract_draft_json(const struct incident *, const char *person);

#endif
