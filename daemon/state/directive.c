/*
 * directive.c: directives in memory (see directive.h).  Each keeps the
 * object the API shows, changed as records apply, so the view, the
 * checkpoint part and the restore are the same object and cannot drift.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <jansson.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "state/directive.h"
#include "state/router.h"
#include "store/record.h"

TAILQ_HEAD(directive_list, directive);
RB_HEAD(directive_ids, directive);

static struct directive_list	 directives = TAILQ_HEAD_INITIALIZER(directives);
static struct directive_ids	 directive_ids = RB_INITIALIZER(&directive_ids);
static size_t			 ndirectives;
static int			 last_day, last_n;

static int
directive_cmp(struct directive *a, struct directive *b)
{
	return strcmp(a->id, b->id);
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(directive_ids, directive, by_id, directive_cmp)

static int directive_apply(const struct record *);

void
directive_init(void)
{
	last_day = last_n = 0;
	router_own(ROUTER_DIRECTIVE, directive_apply);
}

static void
directive_free(struct directive *d)
{
	RB_REMOVE(directive_ids, &directive_ids, d);
	TAILQ_REMOVE(&directives, d, entry);
	ndirectives--;
	json_decref(d->view);
	json_decref(d->timeline);
	free(d);
}

void
directive_shutdown(void)
{
	struct directive *d;

	while ((d = TAILQ_FIRST(&directives)) != NULL)
		directive_free(d);
	last_day = last_n = 0;
}

struct directive *
directive_find(const char *id)
{
	struct directive key;

	if (id == NULL || strlen(id) >= sizeof(key.id))
		return NULL;
	memcpy(key.id, id, strlen(id) + 1);
	return RB_FIND(directive_ids, &directive_ids, &key);
}

struct directive *
directive_newest(void)
{
	return TAILQ_LAST(&directives, directive_list);
}

struct directive *
directive_older(struct directive *d)
{
	return TAILQ_PREV(d, directive_list, entry);
}

size_t
directive_count(void)
{
	return ndirectives;
}

const char *
directive_str(const struct directive *d, const char *key)
{
	return json_string_value(json_object_get(d->view, key));
}

const char *
directive_owner(const struct directive *d)
{
	return directive_str(d, "owner");
}

const char *
directive_owner_kind(const struct directive *d)
{
	return directive_str(d, "owner_kind");
}

/* NOW's local date, "YYYY-MM-DD" (the zone times are shown in). */
static void
directive_today(int64_t now, char date[CALENDAR_DATE_MAX])
{
	struct tm tm;

	if (time_tm(now, &tm) != 0)
		memset(&tm, 0, sizeof(tm));
	calendar_format_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    date);
}

int
directive_is_overdue(const struct directive *d, int64_t now)
{
	char today[CALENDAR_DATE_MAX];

	if (d->done)
		return 0;
	directive_today(now, today);
	return strcmp(today, d->submit_by) > 0;
}

json_t *
directive_json(const struct directive *d, int64_t now, int timeline)
{
	const struct config		*cfg = config_current();
	const struct config_office	*o;
	const struct config_person	*p;
	const char			*owner = directive_owner(d), *name = owner;
	json_t				*v;

	if ((v = json_deep_copy(d->view)) == NULL)
		return NULL;
	if (strcmp(directive_owner_kind(d), "office") == 0 &&
	    (o = config_office(cfg, owner)) != NULL)
		name = o->name;
	else if ((p = config_person(cfg, owner)) != NULL)
		name = p->name;
	if (json_object_set_new(v, "owner_name", json_string(name)) != 0 ||
	    json_object_set_new(v, "overdue",
	    json_boolean(directive_is_overdue(d, now))) != 0 ||
	    (timeline && json_object_set_new(v, "timeline",
	    json_deep_copy(d->timeline)) != 0)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* Ids --------------------------------------------------------------------- */

void
directive_id_seen(int day, int n)
{
	if (day > last_day || (day == last_day && n > last_n)) {
		last_day = day;
		last_n = n;
	}
}

void
directive_id_counter(int *day, int *n)
{
	*day = last_day;
	*n = last_n;
}

/* "DIR-20261202-0007" -> day 20261202, n 7. */
static void
directive_note_id(const char *id)
{
	int day, n;

	if (sscanf(id, "DIR-%8d-%d", &day, &n) == 2)
		directive_id_seen(day, n);
}

void
directive_new_id(int64_t now, char *buf, size_t len)
{
	struct tm	tm;
	int		day;

	if (time_tm(now, &tm) != 0)
		memset(&tm, 0, sizeof(tm));
	day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	/* A clock set back past midnight must not reuse an id. */
	if (day < last_day)
		day = last_day;
	snprintf(buf, len, "DIR-%08d-%04d", day,
	    day == last_day ? last_n + 1 : 1);
}

/* Applying records -------------------------------------------------------- */

/* Into the list by (created_at, id): replay may restore an older one later. */
static void
directive_insert(struct directive *d)
{
	struct directive *at;

	for (at = TAILQ_LAST(&directives, directive_list); at != NULL &&
	    (at->created_at > d->created_at || (at->created_at ==
	    d->created_at && strcmp(at->id, d->id) > 0));
	    at = TAILQ_PREV(at, directive_list, entry))
		;
	if (at == NULL)
		TAILQ_INSERT_HEAD(&directives, d, entry);
	else
		TAILQ_INSERT_AFTER(&directives, at, d, entry);
	RB_INSERT(directive_ids, &directive_ids, d);
	ndirectives++;
}

static int
directive_timeline_add(struct directive *d, const struct record *r)
{
	json_t *e;

	/* The oldest after the creation go first; the log has them all. */
	while (json_array_size(d->timeline) >= DIRECTIVE_TIMELINE_MAX)
		json_array_remove(d->timeline, 1);
	e = json_pack("{s:I, s:s, s:s, s:s?, s:o}", "seq", (json_int_t)r->seq,
	    "ts", r->ts, "event", r->event, "actor", r->actor, "data",
	    r->data != NULL ? json_deep_copy(r->data) : json_object());
	if (e == NULL)
		return -ENOMEM;
	return json_array_append_new(d->timeline, e) == 0 ? 0 : -ENOMEM;
}

static int
directive_created(const struct record *r, const char *id)
{
	struct directive	*d;
	json_t			*data = r->data;
	const char		*submit_by;
	int			 rc;

	if (directive_find(id) != NULL)
		return 0;	/* its checkpoint part came first */
	submit_by = json_string_value(json_object_get(data, "submit_by"));
	if (submit_by == NULL || strlen(submit_by) >= CALENDAR_DATE_MAX)
		return -EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	snprintf(d->id, sizeof(d->id), "%s", id);
	memcpy(d->submit_by, submit_by, strlen(submit_by) + 1);
	d->created_at = r->ts_ms;
	d->view = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, "
	    "s:s, s:s?, s:s, s:n, s:[], s:n, s:n, s:n, s:s, s:b}",
	    "id", id, "title", json_object_get(data, "title"),
	    "text", json_object_get(data, "text"),
	    "issued_by", json_object_get(data, "issued_by"),
	    "issued_at", json_object_get(data, "issued_at"),
	    "owner", json_object_get(data, "owner"),
	    "owner_kind", json_object_get(data, "owner_kind"),
	    "due", json_object_get(data, "due"),
	    "submit_by", submit_by, "incident", r->incident,
	    "state", "open", "delayed", "progress", "completed_at", "result",
	    "on_time", "created_at", r->ts, "default_due",
	    json_is_true(json_object_get(data, "default_due")));
	d->timeline = json_array();
	if (d->view == NULL || d->timeline == NULL ||
	    directive_owner(d) == NULL || directive_owner_kind(d) == NULL) {
		rc = d->view == NULL || d->timeline == NULL ? -ENOMEM : -EINVAL;
		json_decref(d->view);
		json_decref(d->timeline);
		free(d);
		return rc;
	}
	directive_note_id(id);
	directive_insert(d);
	return directive_timeline_add(d, r);
}

/* {at, text, by, by_name?}: a progress report as the API lists it. */
static json_t *
directive_entry(const struct record *r, const char *key)
{
	return json_pack("{s:s, s:O?, s:s?, s:O?}", "at", r->ts, key,
	    json_object_get(r->data, key), "by", r->actor, "by_name",
	    json_object_get(r->data, "by_name"));
}

static int
directive_change(struct directive *d, const struct record *r)
{
	const char	*day;
	json_t		*e;

	if (strcmp(r->event, "directive.progress") == 0) {
		if ((e = directive_entry(r, "text")) == NULL ||
		    json_array_append_new(json_object_get(d->view, "progress"),
		    e) != 0)
			return -ENOMEM;
		d->nprogress++;
	} else if (strcmp(r->event, "directive.delayed") == 0) {
		e = json_pack("{s:O?, s:O?, s:s, s:s?, s:O?}", "reason",
		    json_object_get(r->data, "reason"), "expected",
		    json_object_get(r->data, "expected"), "at", r->ts, "by",
		    r->actor, "by_name", json_object_get(r->data, "by_name"));
		if (e == NULL || json_object_set_new(d->view, "delayed", e) != 0)
			return -ENOMEM;
		/* 报告原因和进展: a delay reported is progress reported. */
		d->nprogress++;
	} else if (strcmp(r->event, "directive.completed") == 0) {
		d->done = 1;
		d->completed_at = r->ts_ms;
		if (json_object_set_new(d->view, "state", json_string("done")) ||
		    json_object_set_new(d->view, "completed_at",
		    json_string(r->ts)) || json_object_set(d->view, "result",
		    json_object_get(r->data, "result")) ||
		    json_object_set_new(d->view, "on_time", json_boolean(
		    json_is_true(json_object_get(r->data, "on_time")))) ||
		    json_object_set_new(d->view, "completed_by",
		    json_string(r->actor)))
			return -ENOMEM;
	} else if (strcmp(r->event, "directive.reminder") == 0) {
		day = json_string_value(json_object_get(r->data, "day"));
		if (day != NULL && strlen(day) < CALENDAR_DATE_MAX &&
		    strcmp(day, d->reminded_day) > 0)
			memcpy(d->reminded_day, day, strlen(day) + 1);
	} else if (strcmp(r->event, "directive.overdue") == 0)
		d->overdue_at = r->ts_ms;
	return directive_timeline_add(d, r);
}

static int
directive_apply(const struct record *r)
{
	struct directive	*d;
	const char		*id;

	id = json_string_value(json_object_get(r->data, "directive"));
	if (id == NULL || strlen(id) >= DIRECTIVE_ID_MAX) {
		log_warnx("audit seq %lld (%s) names no directive; skipped",
		    (long long)r->seq, r->event);
		return 0;
	}
	if (strcmp(r->event, "directive.created") == 0)
		return directive_created(r, id);
	if ((d = directive_find(id)) == NULL) {
		/* Inside a replayed checkpoint its part comes later; else unloaded. */
		if (!router_restoring())
			log_debug("audit seq %lld (%s) names directive %s, not "
			    "loaded; skipped", (long long)r->seq, r->event, id);
		return 0;
	}
	return directive_change(d, r);
}

/* Checkpoints ------------------------------------------------------------- */

json_t *
directive_snapshot(const struct directive *d, size_t trim)
{
	json_t	*tl;
	size_t	 n = json_array_size(d->timeline);

	/* The creation stays; the oldest after it go first (the log has them). */
	if (trim == 0)
		tl = json_incref(d->timeline);
	else {
		if ((tl = json_array()) == NULL)
			return NULL;
		if (n > 0 && json_array_append(tl, json_array_get(d->timeline,
		    0)) != 0) {
			json_decref(tl);
			return NULL;
		}
		for (; trim + 1 < n; trim++)
			if (json_array_append(tl, json_array_get(d->timeline,
			    trim + 1)) != 0) {
				json_decref(tl);
				return NULL;
			}
	}
	return json_pack("{s:s, s:O, s:o, s:s, s:I, s:I, s:i, s:s, s:I, s:b}",
	    "directive", d->id, "view", d->view, "timeline", tl,
	    "submit_by", d->submit_by, "created_ms", (json_int_t)d->created_at,
	    "completed_ms", (json_int_t)d->completed_at, "nprogress",
	    d->nprogress, "reminded_day", d->reminded_day, "overdue_ms",
	    (json_int_t)d->overdue_at, "done", d->done);
}

int
directive_restore(const json_t *part)
{
	struct directive	*d, *old;
	const char		*id, *sb, *rd;

	id = json_string_value(json_object_get(part, "directive"));
	sb = json_string_value(json_object_get(part, "submit_by"));
	rd = json_string_value(json_object_get(part, "reminded_day"));
	if (id == NULL || strlen(id) >= DIRECTIVE_ID_MAX || sb == NULL ||
	    strlen(sb) >= CALENDAR_DATE_MAX || rd == NULL ||
	    strlen(rd) >= CALENDAR_DATE_MAX ||
	    !json_is_object(json_object_get(part, "view")) ||
	    !json_is_array(json_object_get(part, "timeline")))
		return -EINVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	memcpy(d->id, id, strlen(id) + 1);
	memcpy(d->submit_by, sb, strlen(sb) + 1);
	memcpy(d->reminded_day, rd, strlen(rd) + 1);
	d->created_at = json_integer_value(json_object_get(part, "created_ms"));
	d->completed_at = json_integer_value(json_object_get(part,
	    "completed_ms"));
	d->overdue_at = json_integer_value(json_object_get(part, "overdue_ms"));
	d->nprogress = (int)json_integer_value(json_object_get(part,
	    "nprogress"));
	d->done = json_is_true(json_object_get(part, "done"));
	d->view = json_deep_copy(json_object_get(part, "view"));
	d->timeline = json_deep_copy(json_object_get(part, "timeline"));
	if (d->view == NULL || d->timeline == NULL ||
	    directive_owner(d) == NULL || directive_owner_kind(d) == NULL) {
		json_decref(d->view);
		json_decref(d->timeline);
		free(d);
		return -EINVAL;
	}
	/* What replay made of it before its part came, the part replaces. */
	if ((old = directive_find(id)) != NULL)
		directive_free(old);
	directive_note_id(id);
	directive_insert(d);
	return 0;
}

int
directive_prune(int64_t cutoff)
{
	struct directive	*d, *next;
	int			 n = 0;

	for (d = TAILQ_FIRST(&directives); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->done && d->completed_at < cutoff) {
			directive_free(d);
			n++;
		}
	}
	return n;
}
