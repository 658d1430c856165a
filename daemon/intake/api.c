/*
 * The HTTP API's handlers.  Routing, authentication and limits happen in
 * http.c before these run; validation is report.c's; changes are
 * incident.c's.  Here: the mapping between them and HTTP statuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/incact.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "config/roster.h"
#include "intake/api.h"
#include "intake/http.h"
#include "notify/notify.h"
#include "parse/report.h"
#include "state/incident.h"
#include "state/incview.h"
#include "store/store.h"

/* 503 for a change that could not be written: say what and what to do. */
static void
api_not_saved(struct http_call *call, int rc, const char *what)
{
	http_error(call, 503, NULL, "%s could not be saved: the audit log cannot "
	    "be written (%s). Nothing was recorded; retry in a minute (with the "
	    "same Idempotency-Key), and phone the duty room if it persists",
	    what, strerror(-rc));
}

static void
api_reply_incident(struct http_call *call, int status, struct incident *inc)
{
	const char *json = incview_cached(inc);

	if (json == NULL)
		http_error(call, 503, NULL, "incident %s is saved, but the reply could "
		    "not be built (out of memory); ask again with GET or retry with "
		    "the same Idempotency-Key", inc->id);
	else
		http_reply_text(call, status, json);
}

static void
api_bad_body(struct http_call *call, const struct report_error *err)
{
	const char *ct = http_header(call, "Content-Type");

	/* Without a JSON Content-Type, a body that is not JSON is the wrong type. */
	if (err->not_json && ct == NULL)
		http_error(call, 415, NULL, "%s; send JSON with Content-Type: "
		    "application/json", err->message);
	else if (err->code == -ENOMEM)
		http_error(call, 503, err->field, "%s", err->message);
	else
		http_error(call, 400, err->field, "%s", err->message);
}

void
api_healthz(struct http_call *call)
{
	int		 health = store_health();
	uint64_t	 appended, syncs;
	json_t		*body;

	store_stats(&appended, &syncs);
	body = json_pack("{s:s, s:s, s:{s:b, s:s?, s:I, s:I, s:I}, s:I}",
	    "status", health == 0 ? "ok" : "degraded",
	    "version", DUTYD_VERSION,
	    "audit", "writable", health == 0,
	    "error", health == 0 ? NULL : strerror(-health),
	    "last_seq", (json_int_t)store_last_seq(),
	    "records_written", (json_int_t)appended,
	    "fdatasyncs", (json_int_t)syncs,
	    "open_incidents", (json_int_t)incident_count(INCIDENT_UNRESOLVED));
	if (body == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	if (health != 0) {
		char msg[256];

		/* Monitoring should see it as a failure; the body says why. */
		snprintf(msg, sizeof(msg), "the audit log cannot be written (%s): "
		    "reports and staff actions are refused until it can; free disk "
		    "space or check the disk", strerror(-health));
		json_object_set_new(body, "error", json_string(msg));
		http_reply(call, 503, body);
		return;
	}
	http_reply(call, 200, body);
}

void
api_report_create(struct http_call *call)
{
	struct report_error	 err;
	struct incident		*inc;
	const char		*key = http_header(call, "Idempotency-Key");
	char			 hash[RECORD_HASH_HEX], *canon = NULL, *location;
	json_t			*report, *canon_report;
	int64_t			 occurred;
	int			 rc;

	if (http_want_json(call, 1) != 0)
		return;
	if (key != NULL && report_check_idempotency_key(key) != 0) {
		http_error(call, 400, "Idempotency-Key", "Idempotency-Key must be "
		    "1 to %d printable ASCII characters without spaces",
		    IDEMPOTENCY_KEY_MAX);
		return;
	}
	/* Else an office could pre-claim the id of an SMS of its own. */
	if (key != NULL && strncmp(key, "sms:", 4) == 0) {
		http_error(call, 400, "Idempotency-Key", "Idempotency-Key must not "
		    "start with 'sms:': that is kept for reports sent by SMS");
		return;
	}
	memset(&err, 0, sizeof(err));
	if ((report = report_parse(call->body, call->body_len, &occurred,
	    &err)) == NULL) {
		api_bad_body(call, &err);
		return;
	}
	/*
	 * The same report, whatever the key order or spacing, has one hash.
	 * occurred_at is left out: a client retrying may well rebuild it from
	 * its clock, and that must not turn a retry into a refusal.
	 */
	if ((canon_report = json_copy(report)) != NULL) {
		json_object_del(canon_report, "occurred_at");
		canon = json_dumps(canon_report, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(canon_report);
	}
	if (canon_report == NULL || canon == NULL) {
		json_decref(report);
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	record_hash(canon, strlen(canon), hash);	/* the log's SHA-256 hex */
	free(canon);

	if (key != NULL &&
	    (inc = incident_find_idem(call->office->id, key)) != NULL) {
		json_decref(report);
		if (inc->body_sha256 != NULL && strcmp(inc->body_sha256, hash) != 0) {
			http_error(call, 422, "Idempotency-Key", "Idempotency-Key '%s' "
			    "was already used for a different report (%s, \"%s\"); "
			    "use a new key for a new report", key, inc->id,
			    json_string_value(json_object_get(inc->report, "title")));
			return;
		}
		/* A retry of a report we have: the same incident, nobody notified again. */
		api_reply_incident(call, 200, inc);
		return;
	}

	rc = incact_report(call->office->id, key, report, occurred, hash, &inc);
	json_decref(report);
	if (rc != 0) {
		api_not_saved(call, rc, "the report");
		return;
	}
	log_info("incident %s reported by %s: %s", inc->id, call->office->id,
	    json_string_value(json_object_get(inc->report, "title")));
	if ((location = incview_url(config_current(), inc)) != NULL) {
		http_set_header(call, "Location", location);
		free(location);
	}
	api_reply_incident(call, 201, inc);
}

/* ?limit=: a page of 1 to API_PAGE_MAX incidents, API_PAGE_DEFAULT without it. */
#define API_PAGE_DEFAULT	100
#define API_PAGE_MAX		1000

static int
api_page_limit(struct http_call *call, size_t *limit)
{
	char	*s = http_query(call, "limit"), *end;
	long	 n;

	*limit = API_PAGE_DEFAULT;
	if (s == NULL)
		return 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < 1 || n > API_PAGE_MAX) {
		http_error(call, 400, "limit", "limit must be a number of incidents "
		    "from 1 to %d (default %d); got '%.40s'", API_PAGE_MAX,
		    API_PAGE_DEFAULT, s);
		free(s);
		return -1;
	}
	free(s);
	*limit = (size_t)n;
	return 0;
}

/*
 * A page, newest first: what a duty officer looks for.  The work is the
 * page's, never the number of incidents: `next` is the cursor for the
 * following page (the last id on this one), null on the last page.
 */
void
api_incident_list(struct http_call *call)
{
	enum incident_filter	 f = INCIDENT_UNRESOLVED;
	struct incident		*inc;
	char			*state = http_query(call, "state");
	char			*cursor;
	json_t			*list, *body, *o;
	size_t			 limit;
	int			 err;

	if (state == NULL || strcmp(state, "open") == 0)
		;	/* not resolved: what the duty room has to deal with */
	else if (strcmp(state, "all") == 0)
		f = INCIDENT_ALL;
	else if (strcmp(state, "acknowledged") == 0)
		f = INCIDENT_ONLY_ACKNOWLEDGED;
	else if (strcmp(state, "resolved") == 0)
		f = INCIDENT_ONLY_RESOLVED;
	else {
		http_error(call, 400, "state", "state must be open (not resolved, "
		    "the default), acknowledged, resolved or all; got '%.40s'", state);
		free(state);
		return;
	}
	free(state);
	if (api_page_limit(call, &limit) != 0)
		return;
	cursor = http_query(call, "cursor");
	inc = incident_before(f, cursor, &err);
	if (err != 0) {
		http_error(call, 400, "cursor", "cursor must be the 'next' of the "
		    "previous page (an incident id); got '%.40s'", cursor);
		free(cursor);
		return;
	}
	free(cursor);
	if ((list = json_array()) == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	for (; inc != NULL && json_array_size(list) < limit;
	    inc = incident_older(f, inc)) {
		if ((o = incview_json(inc, 0)) == NULL ||
		    json_array_append_new(list, o) != 0) {
			json_decref(list);
			http_error(call, 503, NULL, "out of memory");
			return;
		}
	}
	o = json_array_get(list, json_array_size(list) - 1);
	body = json_pack("{s:I, s:I, s:o, s:s?}", "count",
	    (json_int_t)json_array_size(list), "total",
	    (json_int_t)incident_count(f), "incidents", list,
	    "next", inc != NULL && o != NULL ?
	    json_string_value(json_object_get(o, "id")) : NULL);
	if (body != NULL && json_object_get(body, "next") == NULL)
		json_object_set_new(body, "next", json_null());
	if (body == NULL)
		http_error(call, 503, NULL, "out of memory");
	else
		http_reply(call, 200, body);
}

static struct incident *
api_incident(struct http_call *call)
{
	struct incident *inc = incident_find(call->param);

	if (inc == NULL)
		http_error(call, 404, "id", "no incident '%s'; list them with GET "
		    "/api/v1/incidents?state=all", call->param);
	return inc;
}

void
api_incident_get(struct http_call *call)
{
	struct incident	*inc;
	json_t		*body;

	if ((inc = api_incident(call)) == NULL)
		return;
	if ((body = incview_json(inc, 1)) == NULL)
		http_error(call, 503, NULL, "out of memory");
	else
		http_reply(call, 200, body);
}

typedef int (*api_action_fn)(struct incident *, const char *, const char *,
    int *);

/* The staff actions share their shape: validate, act once, answer the incident. */
static void
api_action(struct http_call *call, const char *field, api_action_fn fn,
    const char *what, int closed_ok)
{
	static const char *const note[] = { "note", NULL };
	static const char *const reference[] = { "reference", NULL };
	struct report_error	 err;
	struct incident		*inc;
	json_t			*args;
	int			 changed = 0, rc;

	if ((inc = api_incident(call)) == NULL || http_want_json(call, 0) != 0)
		return;
	memset(&err, 0, sizeof(err));
	args = report_parse_action(call->body, call->body_len,
	    strcmp(field, "note") == 0 ? note : reference, &err);
	if (args == NULL) {
		api_bad_body(call, &err);
		return;
	}
	if (inc->state == INCIDENT_RESOLVED && !closed_ok) {
		json_decref(args);
		char when[TIME_RFC3339_MAX];

		http_error(call, 409, NULL, "incident %s was resolved at %s by %s; "
		    "it cannot be %s any more", inc->id,
		    time_format(inc->resolved.at, when, sizeof(when)),
		    incview_who(&inc->resolved),
		    what);
		return;
	}
	rc = fn(inc, call->person->id, json_string_value(json_object_get(args,
	    field)), &changed);
	json_decref(args);
	if (rc != 0) {
		api_not_saved(call, rc, what);
		return;
	}
	if (changed)
		log_info("incident %s %s by %s", inc->id, what, call->person->id);
	api_reply_incident(call, 200, inc);
}

void
api_incident_ack(struct http_call *call)
{
	api_action(call, "note", incact_acknowledge, "acknowledged", 0);
}

void
api_incident_written_report(struct http_call *call)
{
	api_action(call, "reference", incact_file_report,
	    "marked as written-report filed", 0);
}

void
api_incident_resolve(struct http_call *call)
{
	api_action(call, "note", incact_resolve, "resolved", 1);
}

/* Names beside ids: the dashboard shows people, not keys. */
static void
api_name_slot(const struct config *cf, json_t *slot)
{
	const struct config_person *p;

	p = config_person(cf, json_string_value(json_object_get(slot, "person")));
	if (p != NULL)
		json_object_set_new(slot, "name", json_string(p->name));
}

void
api_oncall(struct http_call *call)
{
	const struct config	*cf = config_current();
	struct roster_oncall	 oc;
	char			*at_s = http_query(call, "at"), at_buf[TIME_RFC3339_MAX];
	int64_t			 at = time_now_ms();
	json_t			*body, *slot;
	size_t			 i;

	if (at_s != NULL && time_parse(at_s, &at) != 0) {
		http_error(call, 400, "at", "at must be an RFC 3339 time such as "
		    "2026-12-01T08:30:00+08:00; got '%.40s'", at_s);
		free(at_s);
		return;
	}
	free(at_s);
	if (roster_at(cf, at, &oc) != 0) {
		http_error(call, 400, "at", "at is out of the range the roster "
		    "can answer for (years 1970 to 9999)");
		return;
	}
	if ((body = notify_oncall_json(&oc)) == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	json_object_set_new(body, "at", json_string(time_format(at, at_buf,
	    sizeof(at_buf))));
	json_object_set_new(body, "timezone", json_string(roster_zone(cf)));
	if (json_is_object(slot = json_object_get(body, "leader")))
		api_name_slot(cf, slot);
	json_array_foreach(json_object_get(body, "officers"), i, slot)
		api_name_slot(cf, slot);
	http_reply(call, 200, body);
}

/* 续报: what changed since the report, from the office that made it. */
void
api_incident_update(struct http_call *call)
{
	struct report_error	 err;
	struct incident		*inc;
	const char		*key = http_header(call, "Idempotency-Key");
	json_t			*update;
	int			 rc, changed = 0;

	if (http_want_json(call, 1) != 0)
		return;
	if (key != NULL && report_check_idempotency_key(key) != 0) {
		http_error(call, 400, "Idempotency-Key", "Idempotency-Key must be "
		    "1 to %d printable ASCII characters without spaces",
		    IDEMPOTENCY_KEY_MAX);
		return;
	}
	if (key != NULL && strncmp(key, "sms:", 4) == 0) {
		http_error(call, 400, "Idempotency-Key", "Idempotency-Key must not "
		    "start with 'sms:': that is kept for follow-ups sent by SMS");
		return;
	}
	if ((inc = incident_find(call->param)) == NULL) {
		http_error(call, 404, "id", "no incident '%s'; check the id in "
		    "the reply to your report", call->param);
		return;
	}
	memset(&err, 0, sizeof(err));
	if ((update = report_parse_update(call->body, call->body_len,
	    &err)) == NULL) {
		api_bad_body(call, &err);
		return;
	}
	rc = incact_update(inc, call->office->id, key, update, &changed);
	json_decref(update);
	if (rc == -EPERM)
		http_error(call, 403, "id", "incident %s was reported by another "
		    "office; only the office that reported it can add follow-ups",
		    inc->id);
	else if (rc == -EALREADY)
		http_error(call, 409, "id", "incident %s is already resolved; "
		    "phone the duty room, or report a new incident", inc->id);
	else if (rc == -EEXIST)
		http_error(call, 422, "Idempotency-Key", "Idempotency-Key '%s' was "
		    "already used for a different follow-up to %s; use a new key "
		    "for a new follow-up", key, inc->id);
	else if (rc == -EMLINK)
		http_error(call, 409, "id", "incident %s already has %d follow-ups, "
		    "the most one incident takes; phone the duty room with what is "
		    "new, or report it as a new incident", inc->id,
		    INCIDENT_UPDATES_MAX);
	else if (rc == -EFBIG)
		http_error(call, 409, "id", "incident %s's follow-ups already hold "
		    "%zu of the %d KiB one incident takes, and this one does not "
		    "fit; send only what changed, phone the duty room, or report "
		    "it as a new incident", inc->id, inc->updates_bytes / 1024,
		    INCIDENT_UPDATES_BYTES_MAX / 1024);
	else if (rc != 0)
		api_not_saved(call, rc, "the follow-up");
	else {
		if (changed)
			log_info("incident %s: follow-up %zu from %s", inc->id,
			    json_array_size(inc->updates), call->office->id);
		api_reply_incident(call, changed ? 201 : 200, inc);
	}
}
