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
#include "actions/wrsend.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "config/config.h"
#include "intake/api.h"
#include "intake/http.h"
#include "intake/incfilter.h"
#include "intake/role.h"
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

/*
 * A standby (PostgreSQL store, not the lead): 503, so that a load
 * balancer sends traffic elsewhere, with what it follows.  It has no
 * incidents or store of its own to count: nothing of the state is read.
 */
static void
api_healthz_standby(struct http_call *call)
{
	json_t *body;

	body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}",
	    "status", role_name(), "role", role_name(),
	    "leader", role_leader(), "instance", role_instance(),
	    "version", DUTYD_VERSION, "last_seq", (json_int_t)role_seq());
	if (body == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	http_reply(call, 503, body);
}

void
api_healthz(struct http_call *call)
{
	int		 health;
	uint64_t	 appended, syncs;
	json_t		*body;

	if (role_name() != NULL && !role_is_leader()) {
		api_healthz_standby(call);
		return;
	}
	health = store_health();
	store_stats(&appended, &syncs);
	body = json_pack("{s:s, s:s, s:{s:b, s:s?, s:I, s:I, s:I}, s:I}",
	    "status", health == 0 ? "ok" : "degraded",
	    "version", DUTYD_VERSION,
	    "audit", "writable", health == 0,
	    "error", health == 0 ? NULL : strerror(-health),
	    "last_seq", (json_int_t)store_last_seq(),
	    "records_written", (json_int_t)appended,
	    "fdatasyncs", (json_int_t)syncs,
	    "open_incidents", (json_int_t)incident_count(INCIDENT_NOT_CLOSED));
	if (body == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	if (role_name() != NULL) {
		json_object_set_new(body, "role", json_string(role_name()));
		json_object_set_new(body, "instance",
		    json_string(role_instance()));
	}
	if (health != 0) {
		char msg[256];

		/* Monitoring should see it as a failure; the body says why. */
		if (role_name() != NULL)
			snprintf(msg, sizeof(msg), "the audit records cannot be "
			    "written to PostgreSQL (%s): reports and staff "
			    "actions are refused until they can; check that the "
			    "database is up and has disk space", strerror(-health));
		else
			snprintf(msg, sizeof(msg), "the audit log cannot be written "
			    "(%s): reports and staff actions are refused until it "
			    "can; free disk space or check the disk",
			    strerror(-health));
		json_object_set_new(body, "error", json_string(msg));
		http_reply(call, 503, body);
		return;
	}
	http_reply(call, 200, body);
}

/*
 * Staff taking a report by phone say which office it is from: that office,
 * or NULL after answering 400.  The report keeps only its own fields.
 */
static const struct config_office *
api_phoned_office(struct http_call *call, json_t *report)
{
	const struct config	*cf = config_current();
	const struct config_office *o;
	const char		*id = json_string_value(json_object_get(report,
				    "office"));
	char			 known[256] = "";
	size_t			 i, len;

	if ((o = config_office(cf, id)) != NULL) {
		json_object_del(report, "office");
		return o;
	}
	for (i = 0; i < cf->noffices && (len = strlen(known)) + 70 <
	    sizeof(known); i++)
		snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
		    cf->offices[i].id);
	http_error(call, 400, "office", "no office '%s' in the configuration; "
	    "office is the id of the office that phoned: %s", id, known);
	return NULL;
}

void
api_report_create(struct http_call *call)
{
	const struct config_office *office = call->office;
	struct report_error	 err;
	struct incident		*inc;
	const char		*key = http_header(call, "Idempotency-Key");
	struct report_text	 text;
	char			 hash[RECORD_HASH_HEX], *location;
	json_t			*report;
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
	/*
	 * The report's own dump comes with it, for its record and its view;
	 * and the canonical one: the same report, whatever the key order or
	 * spacing, has one hash.  occurred_at is left out of that: a client
	 * retrying may well rebuild it from its clock, and that must not turn
	 * a retry into a refusal.
	 */
	memset(&text, 0, sizeof(text));
	if (call->person == NULL)
		rc = report_parse_dump(call->body, call->body_len, time_now_ms(),
		    0, &occurred, &err, &report, &text);
	/* Taken by phone: the office it names leaves it before its texts. */
	else if ((report = report_parse_opts(call->body, call->body_len,
	    time_now_ms(), REPORT_PHONED, &occurred, &err)) == NULL)
		rc = -EINVAL;
	else if ((office = api_phoned_office(call, report)) == NULL) {
		json_decref(report);
		return;
	} else if ((rc = report_dump(report, &text.raw, &text.rawlen,
	    &text.canon, &text.canonlen)) != 0)
		json_decref(report);
	if (rc == -EINVAL) {
		api_bad_body(call, &err);
		return;
	}
	if (rc != 0) {
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	record_hash(text.canon, text.canonlen, hash);	/* the log's SHA-256 hex */
	free(text.canon);

	if (key != NULL &&
	    (inc = incident_find_idem(office->id, key)) != NULL) {
		json_decref(report);
		free(text.raw);
		if (inc->body_sha256 != NULL && strcmp(inc->body_sha256, hash) != 0) {
			http_error(call, 422, "Idempotency-Key", "Idempotency-Key '%s' "
			    "was already used for a different report (%s, \"%s\"); "
			    "use a new key for a new report", key, inc->id,
			    json_string_value(json_object_get(incident_report(inc), "title")));
			return;
		}
		/* A retry of a report we have: the same incident, nobody notified again. */
		api_reply_incident(call, 200, inc);
		return;
	}

	rc = incact_report_dumped(office->id, call->person != NULL ?
	    call->person->id : NULL, key, report, text.raw, text.rawlen, occurred,
	    hash, &inc);
	json_decref(report);
	free(text.raw);
	if (rc != 0) {
		api_not_saved(call, rc, "the report");
		return;
	}
	/*
	 * Debug only: in a flood a line per report is a write per report, and
	 * the audit log has the report (dutyctl shows it).
	 */
	log_debug("incident %s reported by %s%s%s: %s", inc->id, office->id,
	    call->person != NULL ? ", taken by phone by " : "",
	    call->person != NULL ? call->person->id : "",
	    json_string_value(json_object_get(incident_report(inc), "title")));
	if ((location = incview_url(config_current(), inc)) != NULL) {
		http_set_header(call, "Location", location);
		free(location);
	}
	api_reply_incident(call, 201, inc);
}

/*
 * What an office reads of its incident: what became of it, not the duty
 * room's working (notes, whom it told at which address, who could not be
 * reached).
 */
static json_t *
api_view(struct http_call *call, struct incident *inc, int with_timeline)
{
	json_t *o = incview_json(inc, with_timeline && call->office == NULL);

	if (o != NULL && call->office != NULL)
		json_object_del(o, "undeliverable");
	return o;
}

/*
 * Incidents a page looks at, matching or not: an office or a time that
 * few incidents match costs a few short pages, not one walk of them all.
 */
#define API_PAGE_SCAN_MAX	10000

/*
 * A page, newest first: what a duty officer looks for.  The work is the
 * page's, never the number of incidents: `next` is the cursor for the
 * following page, null on the last page.  With office= or since= a page
 * may hold fewer than limit and still have a next.
 */
void
api_incident_list(struct http_call *call)
{
	struct incfilter	 f;
	enum incident_filter	 which;
	struct incident		*inc, *last = NULL;
	json_t			*list, *body, *o;
	size_t			 seen = 0;
	int			 err;

	if (incfilter_parse(call, &f) != 0)
		return;
	if (call->office != NULL && f.office[0] != '\0' &&
	    strcmp(f.office, call->office->id) != 0) {
		http_error(call, 400, "office", "an office sees only its own "
		    "incidents: office= must be %s, or left out", call->office->id);
		return;
	}
	if (call->office != NULL)
		snprintf(f.office, sizeof(f.office), "%s", call->office->id);
	which = incfilter_list(&f);
	inc = incident_before(which, f.cursor[0] != '\0' ? f.cursor : NULL, &err);
	if ((list = json_array()) == NULL) {
		http_error(call, 503, NULL, "out of memory");
		return;
	}
	for (; inc != NULL && json_array_size(list) < f.limit &&
	    seen < API_PAGE_SCAN_MAX; inc = incident_older(which, inc)) {
		last = inc;
		seen++;
		if (!incfilter_match(&f, inc))
			continue;
		if ((o = api_view(call, inc, 0)) == NULL ||
		    json_array_append_new(list, o) != 0) {
			json_decref(list);
			http_error(call, 503, NULL, "out of memory");
			return;
		}
	}
	body = json_pack("{s:I, s:o, s:o, s:s?}", "count",
	    (json_int_t)json_array_size(list), "total",
	    incfilter_narrows(&f) ? json_null() :
	    json_integer((json_int_t)incident_count(which)), "incidents", list,
	    "next", inc != NULL && last != NULL ? last->id : NULL);
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

	/* Another office's incident is not there, as far as an office knows. */
	if (inc != NULL && call->office != NULL &&
	    strcmp(inc->office, call->office->id) != 0)
		inc = NULL;
	if (inc == NULL && call->office != NULL)
		http_error(call, 404, "id", "no incident '%s' reported by %s; list "
		    "your office's incidents with GET /api/v1/incidents?state=all",
		    call->param, call->office->id);
	else if (inc == NULL)
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
	if ((body = api_view(call, inc, 1)) == NULL)
		http_error(call, 503, NULL, "out of memory");
	else
		http_reply(call, 200, body);
}

/* How a closed incident was closed, to finish "incident X ...": who, when. */
static const char *
api_closed_how(const struct incident *inc, char *buf, size_t len)
{
	const struct incident_mark *m = inc->state == INCIDENT_RESOLVED ?
	    &inc->resolved : &inc->closed;
	char when[TIME_RFC3339_MAX];

	time_format(m->at, when, sizeof(when));
	if (inc->state == INCIDENT_MERGED)
		snprintf(buf, len, "was merged into %s at %s by %s", inc->merged_into,
		    when, incview_who(m));
	else if (inc->state == INCIDENT_DISMISSED)
		snprintf(buf, len, "was dismissed as a false report at %s by %s",
		    when, incview_who(m));
	else
		snprintf(buf, len, "was resolved at %s by %s", when,
		    incview_who(m));
	return buf;
}

typedef int (*api_action_fn)(struct incident *, const char *, const char *,
    int *);

/*
 * The incident a staff action names and its body's FIELDS (a body is
 * required with NEED_BODY), or NULL with the answer sent.
 */
static json_t *
api_action_args(struct http_call *call, const char *const *fields,
    int need_body, struct incident **inc)
{
	struct report_error	 err;
	json_t			*args;

	if ((*inc = api_incident(call)) == NULL ||
	    http_want_json(call, need_body) != 0)
		return NULL;
	memset(&err, 0, sizeof(err));
	if ((args = report_parse_action(call->body, call->body_len, fields,
	    &err)) == NULL)
		api_bad_body(call, &err);
	return args;
}

/* The staff actions share their shape: validate, act once, answer the incident. */
static void
api_action(struct http_call *call, const char *field, api_action_fn fn,
    const char *what, int closed_ok)
{
	static const char *const note[] = { "note", NULL };
	static const char *const reference[] = { "reference", NULL };
	struct incident		*inc;
	json_t			*args;
	int			 changed = 0, rc;

	if ((args = api_action_args(call, strcmp(field, "note") == 0 ? note :
	    reference, 0, &inc)) == NULL)
		return;
	/* A duplicate or a false report is closed for every action. */
	if (incident_is_closed(inc) && (!closed_ok ||
	    inc->state != INCIDENT_RESOLVED)) {
		char how[256];

		json_decref(args);
		http_error(call, 409, "id", "incident %s %s; it cannot be %s any "
		    "more", inc->id, api_closed_how(inc, how, sizeof(how)), what);
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
	/* Filed by other means (fax, the provincial system): via "other". */
	api_action(call, "reference", wrsend_file_other,
	    "marked as written-report filed", 0);
}

void
api_incident_resolve(struct http_call *call)
{
	api_action(call, "note", incact_resolve, "resolved", 1);
}

/* A string argument that is there and not only white space. */
static const char *
api_given(json_t *args, const char *key)
{
	const char *s = json_string_value(json_object_get(args, key));

	return s != NULL && s[strspn(s, " \t\r\n")] != '\0' ? s : NULL;
}

/* 备注: a note in the timeline, on an open or a closed incident. */
void
api_incident_note(struct http_call *call)
{
	static const char *const fields[] = { "text", NULL };
	struct incident		*inc;
	const char		*text;
	json_t			*args;
	int			 rc;

	if ((args = api_action_args(call, fields, 1, &inc)) == NULL)
		return;
	if ((text = api_given(args, "text")) == NULL) {
		json_decref(args);
		http_error(call, 400, "text", "text is missing or blank: the note, "
		    "1 to %d characters, e.g. {\"text\": \"已电话联系县局，"
		    "伤员已送医\"}", REPORT_NOTE_MAX);
		return;
	}
	rc = incact_note(inc, call->person->id, text);
	json_decref(args);
	if (rc != 0) {
		api_not_saved(call, rc, "the note");
		return;
	}
	log_info("incident %s: note by %s", inc->id, call->person->id);
	api_reply_incident(call, 201, inc);
}

/* 重复报告: this incident is the same as another; it closes into that one. */
void
api_incident_merge(struct http_call *call)
{
	static const char *const fields[] = { "into", "note", NULL };
	struct incident		*inc, *into;
	const char		*into_id;
	char			 how[256];
	json_t			*args;
	int			 changed = 0, rc;

	if ((args = api_action_args(call, fields, 1, &inc)) == NULL)
		return;
	if ((into_id = api_given(args, "into")) == NULL) {
		json_decref(args);
		http_error(call, 400, "into", "into is missing: the id of the "
		    "incident %s duplicates, e.g. {\"into\": \"INC-20261202-0001\", "
		    "\"note\": \"同一事件\"}", inc->id);
		return;
	}
	rc = incact_merge(inc, call->person->id, into_id, api_given(args, "note"),
	    &changed);
	into = incident_find(into_id);
	if (rc == -ENOENT)
		http_error(call, 404, "into", "no incident '%.*s' to merge %s into; "
		    "list them with GET /api/v1/incidents", (int)utf8_cut(into_id,
		    strlen(into_id), 40, UTF8_NOCAP), into_id, inc->id);
	else if (rc == -ELOOP)
		http_error(call, 409, "into", "incident %s cannot be merged into "
		    "itself; into names the incident it duplicates", inc->id);
	else if (rc == -EALREADY)
		http_error(call, 409, "id", "incident %s %s; only an open incident "
		    "can be merged", inc->id, api_closed_how(inc, how, sizeof(how)));
	else if (rc == -ECANCELED)
		http_error(call, 409, "into", "incident %s %s; merge %s into an "
		    "incident that is still open%s%s", into->id, api_closed_how(into,
		    how, sizeof(how)), inc->id, into->state == INCIDENT_MERGED ?
		    ", such as " : "", into->state == INCIDENT_MERGED ?
		    into->merged_into : "");
	else if (rc != 0)
		api_not_saved(call, rc, "the merge");
	else {
		if (changed)
			log_info("incident %s merged into %s by %s", inc->id, into_id,
			    call->person->id);
		api_reply_incident(call, 200, inc);
	}
	json_decref(args);
}

/* 误报: a false report, closed with the reason. */
void
api_incident_dismiss(struct http_call *call)
{
	static const char *const fields[] = { "reason", NULL };
	struct incident		*inc;
	const char		*reason;
	char			 how[256];
	json_t			*args;
	int			 changed = 0, rc;

	if ((args = api_action_args(call, fields, 1, &inc)) == NULL)
		return;
	if ((reason = api_given(args, "reason")) == NULL) {
		json_decref(args);
		http_error(call, 400, "reason", "reason is missing: say why %s is a "
		    "false report, e.g. {\"reason\": \"经核实为演练\"}; everyone "
		    "told of it reads it", inc->id);
		return;
	}
	rc = incact_dismiss(inc, call->person->id, reason, &changed);
	if (rc == -EALREADY)
		http_error(call, 409, "id", "incident %s %s; it cannot be dismissed",
		    inc->id, api_closed_how(inc, how, sizeof(how)));
	else if (rc != 0)
		api_not_saved(call, rc, "the dismissal");
	else {
		if (changed)
			log_info("incident %s dismissed as a false report by %s",
			    inc->id, call->person->id);
		api_reply_incident(call, 200, inc);
	}
	json_decref(args);
}

/* 续报: what changed since the report, from the office that made it. */
void
api_incident_update(struct http_call *call)
{
	struct report_error	 err;
	struct incident		*inc, *dest;
	const char		*key = http_header(call, "Idempotency-Key");
	char			 how[256], *location;
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
	else if (rc == -EALREADY && inc->state == INCIDENT_MERGED)
		http_error(call, 409, "id", "incident %s was merged into %s, which "
		    "is closed; phone the duty room, or report a new incident",
		    inc->id, inc->merged_into);
	else if (rc == -EALREADY)
		http_error(call, 409, "id", "incident %s %s; phone the duty room, "
		    "or report a new incident", inc->id, api_closed_how(inc, how,
		    sizeof(how)));
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
		/* A duplicate's follow-up went to the incident it was merged into. */
		if ((dest = incident_merge_target(inc)) == NULL)
			dest = inc;
		if (changed)
			log_info("incident %s: follow-up %zu from %s%s%s", dest->id,
			    json_array_size(dest->updates), call->office->id,
			    dest != inc ? " to " : "", dest != inc ? inc->id : "");
		if (dest != inc &&
		    (location = incview_url(config_current(), dest)) != NULL) {
			http_set_header(call, "Location", location);
			free(location);
		}
		api_reply_incident(call, changed ? 201 : 200, dest);
	}
}
