/*
 * dirremind.c: a directive's reminders and the leader's alarm (see
 * dirremind.h).  One clock per open directive, in a tree by id.  The
 * clock decides at firing time from the records (done, reminded that
 * day already), so nothing has to disarm it when those change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <jansson.h>

#include "actions/dirremind.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/tz.h"
#include "config/calendar.h"
#include "config/config.h"
#include "config/roster.h"
#include "notify/notify.h"
#include "state/directive.h"
#include "store/store.h"

/* Working days walked to find the next reminder: over two years overdue ends it. */
#define DIRREMIND_WALK_MAX	600

struct dirremind {
	RB_ENTRY(dirremind) entry;
	char		 id[DIRECTIVE_ID_MAX];
	struct clock	 clock;
	int		 failing;	/* the record could not be written yet */
};

RB_HEAD(dirreminds, dirremind);
static struct dirreminds reminds = RB_INITIALIZER(&reminds);

static int
dirremind_cmp(struct dirremind *a, struct dirremind *b)
{
	return strcmp(a->id, b->id);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(dirreminds, dirremind, entry, dirremind_cmp)

static void dirremind_fire(struct clock *, void *);

static void
dirremind_free(struct dirremind *r)
{
	RB_REMOVE(dirreminds, &reminds, r);
	clock_free(&r->clock);
	free(r);
}

void
dirremind_shutdown(void)
{
	while (!RB_EMPTY(&reminds))
		dirremind_free(RB_MIN(dirreminds, &reminds));
}

int64_t
dirremind_instant(const char *date, int minutes)
{
	const struct tz	*tz = time_zone();
	int64_t		 local, t;
	int		 y, m, d;

	if (calendar_parse_date(date, &y, &m, &d) != 0)
		return 0;
	local = calendar_daynum(y, m, d) * 86400000LL + minutes * 60000LL;
	if (tz == NULL)
		return local;
	/* Twice: the offset at the guess may differ from the one at the answer. */
	t = local - tz_offset_ms(tz, local);
	return local - tz_offset_ms(tz, t);
}

/* The reminder day after C: submit_by after the day before it, then each working day. */
static int
dirremind_after(const struct calendar *cal, const char *submit_by, char *c)
{
	int y, m, d;

	if (strcmp(c, submit_by) < 0) {
		memcpy(c, submit_by, CALENDAR_DATE_MAX);
		return 0;
	}
	if (calendar_parse_date(c, &y, &m, &d) != 0 ||
	    calendar_workday_shift(cal, y, m, d, 1, &y, &m, &d) != 0)
		return -ERANGE;
	calendar_format_date(y, m, d, c);
	return 0;
}

int
dirremind_next(const struct directive *dv, int64_t now,
    char day[CALENDAR_DATE_MAX], const char **kind, int64_t *at)
{
	const struct config	*cfg = config_current();
	const struct calendar	*cal = cfg->calendar;
	int			 minutes = cfg->directives.remind_at_min;
	char			 created[CALENDAR_DATE_MAX], next[CALENDAR_DATE_MAX];
	struct tm		 tm;
	int			 y, m, d, i;

	if (dv->done)
		return -ENOENT;
	if (calendar_parse_date(dv->submit_by, &y, &m, &d) != 0 ||
	    calendar_workday_shift(cal, y, m, d, -1, &y, &m, &d) != 0)
		return -ERANGE;
	calendar_format_date(y, m, d, day);
	if (time_tm(dv->created_at, &tm) != 0)
		return -ERANGE;
	calendar_format_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    created);
	/* Not for days before it existed, nor for days reminded already. */
	for (i = 0; i < DIRREMIND_WALK_MAX && (strcmp(day, created) < 0 ||
	    strcmp(day, dv->reminded_day) <= 0); i++)
		if (dirremind_after(cal, dv->submit_by, day) != 0)
			return -ERANGE;
	if (i == DIRREMIND_WALK_MAX)
		return -ERANGE;
	*at = dirremind_instant(day, minutes);
	/* Days missed while down: only the latest owed is sent. */
	for (i = 0; *at <= now && i < DIRREMIND_WALK_MAX; i++) {
		memcpy(next, day, sizeof(next));
		if (dirremind_after(cal, dv->submit_by, next) != 0 ||
		    dirremind_instant(next, minutes) > now)
			break;
		memcpy(day, next, sizeof(next));
		*at = dirremind_instant(day, minutes);
	}
	*kind = strcmp(day, dv->submit_by) < 0 ? "before" :
	    strcmp(day, dv->submit_by) == 0 ? "due" : "overdue";
	return 0;
}

void
dirremind_arm(struct directive *dv)
{
	struct dirremind	 key, *r;
	char			 day[CALENDAR_DATE_MAX];
	const char		*kind;
	int64_t			 at;

	snprintf(key.id, sizeof(key.id), "%s", dv->id);
	r = RB_FIND(dirreminds, &reminds, &key);
	if (dirremind_next(dv, time_now_ms(), day, &kind, &at) != 0) {
		if (r != NULL)
			dirremind_free(r);
		return;
	}
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL) {
			log_warnx("directive %s: out of memory for its reminders; "
			    "there will be none until a restart", dv->id);
			return;
		}
		memcpy(r->id, key.id, sizeof(r->id));
		clock_init(&r->clock, dirremind_fire, r);
		RB_INSERT(dirreminds, &reminds, r);
	}
	clock_arm(&r->clock, at);
}

void
dirremind_arm_all(void)
{
	struct directive *dv;

	for (dv = directive_newest(); dv != NULL; dv = directive_older(dv))
		if (!dv->done)
			dirremind_arm(dv);
}

/* Working days from submit_by (excluded) to DAY (included). */
static int
dirremind_days_late(const char *submit_by, const char *day)
{
	char	 c[CALENDAR_DATE_MAX];
	int	 n = 0;

	memcpy(c, submit_by, sizeof(c));
	while (strcmp(c, day) < 0 && n < DIRREMIND_WALK_MAX &&
	    dirremind_after(config_current()->calendar, submit_by, c) == 0)
		n++;
	return n;
}

/* The owner: a person as any recipient; an office by its contacts, if any. */
static int
dirremind_add_owner(json_t *list, json_t *seen, const struct config *cfg,
    const struct directive *dv)
{
	const struct config_office	*o;
	json_t				*contacts, *r;
	size_t				 i;

	if (strcmp(directive_owner_kind(dv), "person") == 0)
		return notify_add_person(list, seen, cfg, directive_owner(dv),
		    "owner of the directive", NULL);
	if ((o = config_office(cfg, directive_owner(dv))) == NULL ||
	    o->ncontacts == 0)
		return 0;	/* an office without contacts hears through the officers */
	if ((contacts = json_array()) == NULL)
		return -ENOMEM;
	for (i = 0; i < o->ncontacts; i++)
		if (json_array_append_new(contacts, json_pack("{s:s, s:s}",
		    "channel", o->contacts[i].channel, "to",
		    o->contacts[i].to)) != 0) {
			json_decref(contacts);
			return -ENOMEM;
		}
	r = json_pack("{s:s, s:s, s:o, s:s}", "person", o->id, "name", o->name,
	    "contacts", contacts, "why", "office owning the directive");
	if (r == NULL || json_array_append_new(list, r) != 0)
		return -ENOMEM;
	return 0;
}

/* The leader who issued it, by name among people; else the leader on duty. */
static int
dirremind_add_leader(json_t *list, json_t *seen, const struct config *cfg,
    const struct roster_oncall *oc, const struct directive *dv)
{
	const char	*by = directive_str(dv, "issued_by");
	size_t		 i;

	for (i = 0; by != NULL && i < cfg->npeople; i++)
		if (strcmp(cfg->people[i].name, by) == 0)
			return notify_add_person(list, seen, cfg,
			    cfg->people[i].id, "issued the directive", NULL);
	return notify_add_named(list, seen, cfg, oc, "leader",
	    "the directive's issuer is not among people", NULL);
}

static int
dirremind_intent(const struct directive *dv, const char *event,
    const char *note, int64_t late_ms, int leader)
{
	const struct config	*cfg = config_current();
	const struct config_office *o;
	const struct config_person *p;
	struct roster_oncall	 oc;
	const char		*owner_name = directive_owner(dv);
	json_t			*list = json_array(), *seen = json_object();
	json_t			*on_duty = NULL, *data;
	int			 rc = -ENOMEM;

	if (list == NULL || seen == NULL)
		goto out;
	if ((rc = roster_at(cfg, time_now_ms(), &oc)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((on_duty = notify_oncall_json(&oc)) == NULL)
		goto out;
	if (leader)
		rc = dirremind_add_leader(list, seen, cfg, &oc, dv);
	else if ((rc = dirremind_add_owner(list, seen, cfg, dv)) == 0)
		rc = notify_add_named(list, seen, cfg, &oc, "officers",
		    "a directive is due", NULL);
	if (rc != 0)
		goto out;
	if (json_array_size(list) == 0) {
		log_warnx("directive %s: nobody to tell of its %s; check the "
		    "roster and people's contacts", dv->id, event);
		rc = 0;
		goto out;
	}
	if ((o = config_office(cfg, owner_name)) != NULL &&
	    strcmp(directive_owner_kind(dv), "office") == 0)
		owner_name = o->name;
	else if ((p = config_person(cfg, owner_name)) != NULL)
		owner_name = p->name;
	data = json_pack("{s:s, s:O, s:I, s:O, s:{s:s, s:s?, s:s, s:s, s:s?, "
	    "s:s}}", "event", event, "recipients", list, "late_ms",
	    (json_int_t)late_ms, "on_duty", on_duty, "directive", "id", dv->id,
	    "title", directive_str(dv, "title"), "owner_name", owner_name,
	    "submit_by", dv->submit_by, "issued_by",
	    directive_str(dv, "issued_by"), "note", note);
	rc = data == NULL ? -ENOMEM : store_append("notify.intent", NOTIFY_DESK,
	    "dutyd", data, NULL);
out:
	json_decref(list);
	json_decref(seen);
	json_decref(on_duty);
	return rc;
}

/* The records of one reminder: 0, or -errno when the reminder itself was not written. */
static int
dirremind_record(struct directive *dv, const char *day, const char *kind,
    int64_t at, int64_t now)
{
	const char	*inc = directive_str(dv, "incident");
	char		 note[128];
	int64_t		 late = now - (at > dv->created_at ? at : dv->created_at);
	json_t		*data;
	int		 rc, n, alarm;

	if (late < 0)
		late = 0;
	if (strcmp(kind, "before") == 0)
		snprintf(note, sizeof(note), "距报送时限还有 1 个工作日");
	else if (strcmp(kind, "due") == 0)
		snprintf(note, sizeof(note), "今天是报送时限");
	else {
		n = dirremind_days_late(dv->submit_by, day);
		snprintf(note, sizeof(note), "已逾期 %d 个工作日", n);
	}
	/* The first overdue day with nothing reported: the leader is told. */
	alarm = strcmp(kind, "overdue") == 0 && dv->overdue_at == 0 &&
	    dv->nprogress == 0;
	if ((data = json_pack("{s:s, s:s, s:s, s:I}", "directive", dv->id,
	    "kind", kind, "day", day, "late_ms", (json_int_t)late)) == NULL)
		return -ENOMEM;
	if ((rc = store_append("directive.reminder", inc, "dutyd", data,
	    NULL)) != 0)
		return rc;
	log_info("directive %s: %s reminder for %s (submit by %s)", dv->id, kind,
	    day, dv->submit_by);
	if ((rc = dirremind_intent(dv, "directive.reminder", note, late, 0)) != 0)
		log_warnx("directive %s: the reminder is recorded but its "
		    "message could not be (%s)", dv->id, strerror(-rc));
	if (!alarm)
		return 0;
	if ((data = json_pack("{s:s, s:I}", "directive", dv->id, "late_ms",
	    (json_int_t)late)) == NULL ||
	    (rc = store_append("directive.overdue", inc, "dutyd", data,
	    NULL)) != 0) {
		log_warnx("directive %s: overdue with no progress, but the "
		    "issuing leader's alarm cannot be recorded; phone them",
		    dv->id);
		return 0;
	}
	log_info("directive %s: past %s with no progress: %s told", dv->id,
	    dv->submit_by, directive_str(dv, "issued_by"));
	if ((rc = dirremind_intent(dv, "directive.overdue", note, late, 1)) != 0)
		log_warnx("directive %s: the leader's alarm is recorded but its "
		    "message could not be (%s)", dv->id, strerror(-rc));
	return 0;
}

static void
dirremind_fire(struct clock *c, void *arg)
{
	struct dirremind	*r = arg;
	struct directive	*dv = directive_find(r->id);
	char			 day[CALENDAR_DATE_MAX];
	const char		*kind;
	int64_t			 now = time_now_ms(), at;
	int			 rc;

	if (dv == NULL || dirremind_next(dv, now, day, &kind, &at) != 0) {
		dirremind_free(r);
		return;
	}
	if (at > now) {		/* remind_at moved, or woken early */
		clock_arm(&r->clock, at);
		return;
	}
	if ((rc = dirremind_record(dv, day, kind, at, now)) != 0) {
		if (!r->failing)
			log_errorx("directive %s: its reminder cannot be recorded "
			    "(%s); retrying every second", dv->id, strerror(-rc));
		r->failing = 1;
		clock_arm(&r->clock, now + 1000);
		return;
	}
	r->failing = 0;
	/* The record moved reminded_day: the next one is tomorrow's or later. */
	dirremind_arm(dv);
}
