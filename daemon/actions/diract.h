/*
 * diract.h: leaders' directives (批示件督办): created, progressed, delayed,
 * completed.  Each action checks what the state allows, writes its record
 * (state/directive.c applies it) and arms the reminders (dirremind.c).
 *
 * The deadline (批必查): with a `due` date, the result goes to the leader
 * one working day before it, so submit_by is the working day before due.
 * Without one, due is issued_at's local date plus directives.default_due
 * (a week), and submit_by is that day, or the next working day when it
 * falls on a day off (docs/directives.md says why).
 */
#ifndef DUTYD_DIRACT_H
#define DUTYD_DIRACT_H

#include <stddef.h>
#include <stdint.h>

#include "config/calendar.h"

struct config;
struct directive;

/* A directive as asked for; strings validated for size by the caller. */
struct diract_new {
	const char	*title;
	const char	*text;
	const char	*issued_by;
	int64_t		 issued_at;	/* ms */
	const char	*owner;		/* an office id or a person id */
	const char	*due;		/* "YYYY-MM-DD" or NULL */
	const char	*incident;	/* an incident id or NULL */
};

/*
 * The deadline of a directive issued at ISSUED_AT (ms) with DUE (NULL:
 * none) under CFG: DUE_OUT (the date, given or computed) and SUBMIT_BY.
 * 0, -EINVAL (DUE is not a date), -ERANGE (no working day found).
 */
int	diract_deadline(const struct config *cfg, int64_t issued_at,
	    const char *due, char due_out[CALENDAR_DATE_MAX],
	    char submit_by[CALENDAR_DATE_MAX]);

/*
 * Creates the directive: 0 and its id in ID.  -EINVAL with *FIELD naming
 * what is wrong and *WHY saying so; -ENOSPC at DIRECTIVE_LOADED_MAX;
 * else the store's -errno.  ACTOR is "person:<id>".
 */
int	diract_create(const struct diract_new *, const char *actor,
	    char id[], size_t idlen, const char **field, const char **why);
/*
 * What an owner or staff reports: -EALREADY when the directive is done,
 * -ENOSPC past DIRECTIVE_PROGRESS_MAX reports, -EINVAL (a delay's
 * EXPECTED is not a date), else the store's -errno.  BY_NAME: who, as
 * people read it.
 */
int	diract_progress(struct directive *, const char *actor,
	    const char *by_name, const char *text);
int	diract_delay(struct directive *, const char *actor, const char *by_name,
	    const char *reason, const char *expected);
int	diract_complete(struct directive *, const char *actor,
	    const char *by_name, const char *result);

#endif
