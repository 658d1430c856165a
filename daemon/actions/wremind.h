/*
 * wremind.h: the reminder before the written report's deadline.
 *
 * policy.report_reminder before an incident's report_deadline (as its
 * report.received record set it), when no report has been sent yet (by
 * dutyd or by other means) and the incident is not closed, the duty
 * officers and the leader on duty are told what is still missing (未起草,
 * 待审核, 已批准未报送) and how long is left: a report.reminder record and
 * a notify.intent with the same event.  Once per incident: the record
 * says it was sent (state/wreport.c keeps reminded_at through
 * checkpoints), so a restart re-arms only those still owed one.
 */
#ifndef DUTYD_WREMIND_H
#define DUTYD_WREMIND_H

#include <stdint.h>

struct incident;

/* Follows report.received (live incidents get their reminder armed). */
void	wremind_init(void);
/* After replay: a reminder for every incident still owed one. */
void	wremind_arm_all(void);
void	wremind_shutdown(void);

/*
 * What is missing for INC's current report, as the reminder says it:
 * "未起草", "待审核", "已批准未报送" or "已起草未报送" (no approval needed).
 */
const char *wremind_missing(const struct incident *);
/* When INC's reminder is due; 0 when it gets none (policy 0, or nothing owed). */
int64_t	wremind_due(const struct incident *);

#endif
