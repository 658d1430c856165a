/*
 * dirremind.h: a directive's reminders and the issuing leader's alarm
 * (批示件督办).
 *
 * At directives.remind_at (local time) on the working day before
 * submit_by, on submit_by, and on every working day after it while the
 * directive is open, the owner (a person, or an office with contacts) and
 * the duty officers on duty are told: a directive.reminder record {kind
 * "before"|"due"|"overdue", day} and a notify.intent on the duty desk.  On
 * the first overdue reminder, when neither progress nor a delay was
 * reported, the leader who issued it is told too (directive.overdue):
 * the person whose configured name is `issued_by`, else the leader on
 * duty.  Each day is reminded once (the record says so); days missed
 * while dutyd was down are not sent one by one: the latest owed fires
 * once on start, with late_ms.
 */
#ifndef DUTYD_DIRREMIND_H
#define DUTYD_DIRREMIND_H

#include <stdint.h>

#include "config/calendar.h"

struct directive;

void	dirremind_shutdown(void);
/* D's clock for its next reminder (a new directive, one just reminded). */
void	dirremind_arm(struct directive *);
/* After replay, and after a reload (remind_at, the calendar): every open one. */
void	dirremind_arm_all(void);

/*
 * D's next reminder at NOW: its DAY and KIND ("before", "due",
 * "overdue") and the instant it is due AT (remind_at that day; when
 * that has passed, the reminder is owed now).  0, or -ENOENT when D gets
 * no more (done), -ERANGE (a calendar of no working days).
 */
int	dirremind_next(const struct directive *, int64_t now,
	    char day[CALENDAR_DATE_MAX], const char **kind, int64_t *at);
/* The instant of local DATE at MINUTES past midnight, in the zone times are shown in. */
int64_t	dirremind_instant(const char *date, int minutes);

#endif
