/*
 * diract.c: leaders' directives, decided and recorded (see diract.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "actions/diract.h"
#include "actions/dirremind.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/calendar.h"
#include "config/config.h"
#include "state/directive.h"
#include "state/incident.h"
#include "store/store.h"

/* MS's local date (the zone times are shown in): 0, or -ERANGE. */
static int
diract_local_date(int64_t ms, int *y, int *m, int *d)
{
	struct tm tm;

	if (time_tm(ms, &tm) != 0)
		return -ERANGE;
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
	return 0;
}

int
diract_deadline(const struct config *cfg, int64_t issued_at, const char *due,
    char due_out[CALENDAR_DATE_MAX], char submit_by[CALENDAR_DATE_MAX])
{
	int	 y, m, d;

	if (due != NULL) {
		if (calendar_parse_date(due, &y, &m, &d) != 0)
			return -EINVAL;
		calendar_format_date(y, m, d, due_out);
		/* The result reaches the leader one working day before the date. */
		if (calendar_workday_shift(cfg->calendar, y, m, d, -1, &y, &m,
		    &d) != 0)
			return -ERANGE;
		calendar_format_date(y, m, d, submit_by);
		return 0;
	}
	if (diract_local_date(issued_at, &y, &m, &d) != 0)
		return -ERANGE;
	calendar_civil(calendar_daynum(y, m, d) + cfg->directives.default_due_ms /
	    86400000LL, &y, &m, &d);
	calendar_format_date(y, m, d, due_out);
	/* A time limit ending on a day off ends on the next working day. */
	if (!calendar_is_workday(cfg->calendar, y, m, d) &&
	    calendar_workday_shift(cfg->calendar, y, m, d, 1, &y, &m, &d) != 0)
		return -ERANGE;
	calendar_format_date(y, m, d, submit_by);
	return 0;
}

int
diract_create(const struct diract_new *n, const char *actor, char id[],
    size_t idlen, const char **field, const char **why)
{
	const struct config	*cfg = config_current();
	char			 due[CALENDAR_DATE_MAX], submit_by[CALENDAR_DATE_MAX];
	char			 issued[TIME_RFC3339_MAX];
	const char		*kind;
	int64_t			 now = time_now_ms();
	int			 y, m, d, ty, tm, td, rc;
	json_t			*data;

	*field = *why = NULL;
	if (config_office(cfg, n->owner) != NULL)
		kind = "office";
	else if (config_person(cfg, n->owner) != NULL)
		kind = "person";
	else {
		*field = "owner";
		*why = "is neither an office id nor a person id of the "
		    "configuration (GET /api/v1/offices lists the offices)";
		return -EINVAL;
	}
	if (n->incident != NULL && incident_find(n->incident) == NULL) {
		*field = "incident";
		*why = "names no incident dutyd has loaded (GET "
		    "/api/v1/incidents?state=all)";
		return -EINVAL;
	}
	if (n->due != NULL) {
		if (calendar_parse_date(n->due, &y, &m, &d) != 0) {
			*field = "due";
			*why = "is not a date written YYYY-MM-DD, e.g. 2026-12-20";
			return -EINVAL;
		}
		if (diract_local_date(now, &ty, &tm, &td) != 0 ||
		    calendar_daynum(y, m, d) < calendar_daynum(ty, tm, td)) {
			*field = "due";
			*why = "is in the past; give the date the leader set, "
			    "today or later";
			return -EINVAL;
		}
	}
	if (directive_count() >= DIRECTIVE_LOADED_MAX) {
		*field = NULL;
		*why = "too many directives are loaded";
		return -ENOSPC;
	}
	if ((rc = diract_deadline(cfg, n->issued_at, n->due, due,
	    submit_by)) != 0) {
		*field = "due";
		*why = "leaves no working day before it in the calendar";
		return -EINVAL;
	}
	directive_new_id(now, id, idlen);
	time_format(n->issued_at, issued, sizeof(issued));
	data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
	    "directive", id, "title", n->title, "text", n->text, "issued_by",
	    n->issued_by, "issued_at", issued, "owner", n->owner, "owner_kind",
	    kind, "due", due, "submit_by", submit_by, "default_due",
	    n->due == NULL);
	if (data == NULL)
		return -ENOMEM;
	if ((rc = store_append("directive.created", n->incident, actor, data,
	    NULL)) != 0)
		return rc;
	log_info("directive %s from %s to %s %s: submit by %s%s", id,
	    n->issued_by, kind, n->owner, submit_by, n->due == NULL ?
	    " (default due)" : "");
	dirremind_arm(directive_find(id));
	return 0;
}

/* The record of a report on an open directive; DATA is taken. */
static int
diract_append(struct directive *dv, const char *event, const char *actor,
    json_t *data)
{
	int rc;

	if (data == NULL)
		return -ENOMEM;
	if (json_object_set_new(data, "directive", json_string(dv->id)) != 0) {
		json_decref(data);
		return -ENOMEM;
	}
	if ((rc = store_append(event, directive_str(dv, "incident"), actor, data,
	    NULL)) != 0)
		return rc;
	dirremind_arm(dv);
	return 0;
}

int
diract_progress(struct directive *dv, const char *actor, const char *by_name,
    const char *text)
{
	if (dv->done)
		return -EALREADY;
	if (dv->nprogress >= DIRECTIVE_PROGRESS_MAX)
		return -ENOSPC;
	return diract_append(dv, "directive.progress", actor,
	    json_pack("{s:s, s:s?}", "text", text, "by_name", by_name));
}

int
diract_delay(struct directive *dv, const char *actor, const char *by_name,
    const char *reason, const char *expected)
{
	int y, m, d;

	if (dv->done)
		return -EALREADY;
	if (dv->nprogress >= DIRECTIVE_PROGRESS_MAX)
		return -ENOSPC;
	if (calendar_parse_date(expected, &y, &m, &d) != 0)
		return -EINVAL;
	return diract_append(dv, "directive.delayed", actor,
	    json_pack("{s:s, s:s, s:s?}", "reason", reason, "expected",
	    expected, "by_name", by_name));
}

int
diract_complete(struct directive *dv, const char *actor, const char *by_name,
    const char *result)
{
	char	 today[CALENDAR_DATE_MAX];
	int	 y, m, d;

	if (dv->done)
		return -EALREADY;
	if (diract_local_date(time_now_ms(), &y, &m, &d) != 0)
		return -ERANGE;
	calendar_format_date(y, m, d, today);
	return diract_append(dv, "directive.completed", actor,
	    json_pack("{s:s, s:b, s:s?}", "result", result, "on_time",
	    strcmp(today, dv->submit_by) <= 0, "by_name", by_name));
}
