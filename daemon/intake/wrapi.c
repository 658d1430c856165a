/*
 * wrapi.c: the written report's draft and approval over HTTP (see
 * wrapi.h): HTTP to actions/wract.c and back.  Submitting is wrsubmit.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/wract.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "config/config.h"
#include "intake/http.h"
#include "intake/wrapi.h"
#include "parse/report.h"
#include "state/incident.h"
#include "state/wreport.h"

/* A reject's or an approval's comment: as long as a note. */
#define WRAPI_COMMENT_MAX	REPORT_NOTE_MAX

/* MS as the duty room reads it; one at a time (a static buffer). */
static const char *
wrapi_when(int64_t ms)
{
	static char buf[64];

	return time_local(ms, "%Y-%m-%d %H:%M:%S", buf, sizeof(buf));
}

/* The same, a second buffer: two times in one message. */
static const char *
wrapi_when2(int64_t ms)
{
	static char buf[64];

	return time_local(ms, "%Y-%m-%d %H:%M:%S", buf, sizeof(buf));
}

/* Who saved W's latest version: "dutyd" for version 0, its own text. */
static const char *
wrapi_saver(const struct wreport *w)
{
	return w != NULL && w->saved_by_name != NULL ? w->saved_by_name :
	    w != NULL && w->saved_by != NULL ? w->saved_by : "dutyd";
}

/* When (wrapi_when's buffer), "-" for version 0. */
static const char *
wrapi_saved_at(const struct wreport *w)
{
	return w != NULL && w->version > 0 ? wrapi_when(w->saved_at) : "-";
}

static struct incident *
wrapi_incident(struct http_call *call)
{
	struct incident *inc = incident_find(call->param);

	if (inc == NULL)
		http_error(call, 404, "id", "no incident '%s'; list them with GET "
		    "/api/v1/incidents?state=all", call->param);
	return inc;
}

static int
wrapi_closed(struct http_call *call, struct incident *inc)
{
	if (inc->state != INCIDENT_MERGED && inc->state != INCIDENT_DISMISSED)
		return 0;
	http_error(call, 409, "id", "incident %s was %s; its written report goes "
	    "with the incident it was merged into, if any", inc->id,
	    inc->state == INCIDENT_MERGED ? "merged into another" :
	    "dismissed as a false report");
	return 1;
}

static void
wrapi_reply_draft(struct http_call *call, struct incident *inc)
{
	json_t *o;

	if ((o = wract_draft_json(inc, call->person != NULL ?
	    call->person->id : NULL)) == NULL) {
		http_error(call, 503, NULL, "the written report of incident %s "
		    "could not be shown (out of memory); retry in a moment",
		    inc->id);
		return;
	}
	http_reply(call, 200, o);
}

static void
wrapi_not_saved(struct http_call *call, struct incident *inc, int rc,
    const char *what)
{
	http_error(call, 503, NULL, "incident %s: %s could not be saved: the "
	    "audit log cannot be written (%s). Nothing was recorded; retry in "
	    "a minute, and phone the duty room if it persists", inc->id, what,
	    strerror(-rc));
}

void
wrapi_draft_get(struct http_call *call)
{
	struct incident *inc;

	if ((inc = wrapi_incident(call)) != NULL)
		wrapi_reply_draft(call, inc);
}

void
wrapi_text_get(struct http_call *call)
{
	struct incident	*inc;
	char		*title = NULL, *body = NULL, *text = NULL;

	if ((inc = wrapi_incident(call)) == NULL)
		return;
	if (wract_current_text(inc, &title, &body) != 0 ||
	    asprintf(&text, "%s\n\n%s", title, body) < 0) {
		text = NULL;
		http_error(call, 503, NULL, "the written report of incident %s "
		    "could not be made (out of memory); retry in a moment",
		    inc->id);
	} else
		http_reply_as(call, 200, "text/plain; charset=utf-8", text);
	free(title);
	free(body);
	free(text);
}

/* A title is one line: the text form is the title, a blank line, the body. */
static int
wrapi_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * {"title", "body", "base_version"}: every field there, of its type and
 * size; 0, or -1 after answering 400.
 */
static int
wrapi_draft_args(struct http_call *call, json_t *o, const char **title,
    const char **body, int *base)
{
	const char	*key;
	json_t		*v;

	if (!json_is_object(o)) {
		http_error(call, 400, NULL, "the body must be a JSON object: "
		    "{\"title\": \"…\", \"body\": \"…\", \"base_version\": N}");
		return -1;
	}
	json_object_foreach(o, key, v)
		if (strcmp(key, "title") != 0 && strcmp(key, "body") != 0 &&
		    strcmp(key, "base_version") != 0) {
			http_error(call, 400, key, "unknown field '%s'; a draft has "
			    "title, body and base_version", key);
			return -1;
		}
	*title = json_string_value(json_object_get(o, "title"));
	*body = json_string_value(json_object_get(o, "body"));
	v = json_object_get(o, "base_version");
	if (*title == NULL || (*title)[strspn(*title, " \t\r\n")] == '\0' ||
	    utf8_length(*title) > WREPORT_TITLE_MAX || wrapi_has_control(*title)) {
		http_error(call, 400, "title", "title is missing, blank, longer "
		    "than %d characters or more than one line: the report's title, "
		    "e.g. \"关于A县某镇化工厂爆炸的报告\"", WREPORT_TITLE_MAX);
		return -1;
	}
	if (*body == NULL || (*body)[strspn(*body, " \t\r\n")] == '\0' ||
	    strlen(*body) > WREPORT_BODY_MAX) {
		http_error(call, 400, "body", "body is missing, blank or over %d "
		    "KiB: the report's text (GET …/written-report/draft gives "
		    "the current one to edit)", WREPORT_BODY_MAX / 1024);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > WREPORT_VERSIONS_MAX) {
		http_error(call, 400, "base_version", "base_version must be the "
		    "version you edited (a whole number: \"version\" of GET "
		    "…/written-report/draft), so that two officers editing at "
		    "once do not overwrite each other");
		return -1;
	}
	*base = (int)json_integer_value(v);
	return 0;
}

void
wrapi_draft_put(struct http_call *call)
{
	const struct wreport	*w;
	struct incident		*inc;
	json_error_t		 jerr;
	const char		*title, *body;
	json_t			*o;
	int			 base, current, rc;

	if ((inc = wrapi_incident(call)) == NULL || wrapi_closed(call, inc) ||
	    http_want_json(call, 1) != 0)
		return;
	if ((o = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		http_error(call, 400, NULL, "the body is not valid JSON (%s at "
		    "character %d); send {\"title\", \"body\", \"base_version\"}",
		    jerr.text, jerr.position);
		return;
	}
	if (wrapi_draft_args(call, o, &title, &body, &base) != 0) {
		json_decref(o);
		return;
	}
	rc = wract_save(inc, call->person->id, title, body, base, &current);
	json_decref(o);
	switch (rc) {
	case 0:
		log_info("incident %s: written report version %d saved by %s",
		    inc->id, current + 1, call->person->id);
		wrapi_reply_draft(call, inc);
		return;
	case -ESTALE:
		w = wreport_find(inc->id);
		http_error(call, 409, "base_version", "the draft changed while you "
		    "edited it: you edited version %d, the latest is version %d, "
		    "saved by %s at %s. Reload the draft (GET …/written-report/"
		    "draft), make your changes again on it, and save with "
		    "base_version %d", base, current,
		    wrapi_saver(w), wrapi_saved_at(w),
		    current);
		return;
	case -ENOSPC:
		http_error(call, 409, "base_version", "this report has %d saved "
		    "versions, the most one report may have; submit it, or "
		    "file it by other means", WREPORT_VERSIONS_MAX);
		return;
	case -EALREADY:
		wrapi_closed(call, inc);
		return;
	default:
		wrapi_not_saved(call, inc, rc, "the draft");
	}
}

/*
 * The body of approve/reject: {"comment", "version"}, the comment optional
 * for approve, the version optional: the one the approver read, so that an
 * edit saved since is not approved (or rejected) unread: 409.  NULL after
 * answering.
 */
static json_t *
wrapi_comment_args(struct http_call *call, struct incident *inc,
    int required, const char **comment)
{
	static const char *const fields[] = { "comment", NULL };
	static const char *const numbers[] = { "version", NULL };
	struct report_error	 err;
	const struct wreport	*w;
	json_t			*args, *read;
	int			 current;

	*comment = NULL;
	if (http_want_json(call, required) != 0)
		return NULL;
	memset(&err, 0, sizeof(err));
	if ((args = report_parse_action_n(call->body, call->body_len, fields,
	    numbers, &err)) == NULL) {
		http_error(call, err.code == -ENOMEM ? 503 : 400, err.field, "%s",
		    err.message);
		return NULL;
	}
	current = wreport_version(inc->id);
	if ((read = json_object_get(args, "version")) != NULL &&
	    json_integer_value(read) != current) {
		w = wreport_find(inc->id);
		http_error(call, 409, "version", "incident %s's written report "
		    "changed after the version you read: you read version %d, "
		    "the latest is version %d, saved by %s at %s. Read it "
		    "(GET …/written-report/draft) and decide on it, with "
		    "\"version\": %d", inc->id, (int)json_integer_value(read),
		    current,
		    wrapi_saver(w), wrapi_saved_at(w),
		    current);
		json_decref(args);
		return NULL;
	}
	*comment = json_string_value(json_object_get(args, "comment"));
	if (*comment != NULL && (*comment)[strspn(*comment, " \t\r\n")] == '\0')
		*comment = NULL;
	if (required && *comment == NULL) {
		json_decref(args);
		http_error(call, 400, "comment", "comment is missing or blank: say "
		    "what must change before the report can be approved (1 to %d "
		    "characters), e.g. {\"comment\": \"伤亡人数请与县局再次核实\"}",
		    WRAPI_COMMENT_MAX);
		return NULL;
	}
	return args;
}

/* 403 for someone not an approver now: says who is. */
static void
wrapi_not_approver(struct http_call *call, struct incident *inc)
{
	char *who = wract_approvers_text();

	http_error(call, 403, NULL, "%s is not an approver of incident %s's "
	    "written report (policy.approvers); who may approve now: %s",
	    call->person->name, inc->id, who != NULL ? who : "(unknown: out of "
	    "memory)");
	free(who);
}

void
wrapi_request_post(struct http_call *call)
{
	struct incident	*inc;
	char		*who;
	int		 rc;

	if ((inc = wrapi_incident(call)) == NULL || wrapi_closed(call, inc) ||
	    http_want_json(call, 0) != 0)
		return;
	switch ((rc = wract_request(inc, call->person->id))) {
	case 0:
		log_info("incident %s: approval of written report version %d "
		    "requested by %s", inc->id, wreport_version(inc->id),
		    call->person->id);
		wrapi_reply_draft(call, inc);
		return;
	case -ENOTSUP:
		http_error(call, 409, NULL, "incident %s is level %s, which needs "
		    "no approval (policy.approval_levels): submit the report "
		    "directly (POST …/written-report/submit)", inc->id,
		    json_string_value(incident_fact(inc, "level", NULL)));
		return;
	case -EALREADY:
		http_error(call, 409, NULL, "version %d of incident %s's written "
		    "report is approved already (by %s): submit it (POST "
		    "…/written-report/submit)", wreport_version(inc->id), inc->id,
		    wreport_approved_by(inc->id));
		return;
	case -EBUSY:
		http_error(call, 409, NULL, "approval of version %d of incident "
		    "%s's written report was asked at %s: the approvers have it "
		    "(message, one-tap link, SMS code). Ask again after %s, or "
		    "phone them", wreport_version(inc->id), inc->id,
		    wrapi_when(wreport_find(inc->id)->approval.at),
		    wrapi_when2(wreport_find(inc->id)->approval.at +
		    WRACT_REQUEST_AGAIN_MS));
		return;
	case -ENOENT:
		who = wract_approvers_text();
		http_error(call, 409, NULL, "nobody can approve incident %s's "
		    "written report now: %s. Check policy.approvers and the "
		    "roster, or phone the leader", inc->id, who != NULL ? who : "");
		free(who);
		return;
	default:
		wrapi_not_saved(call, inc, rc, "the approval request");
	}
}

void
wrapi_approve_post(struct http_call *call)
{
	struct incident	*inc;
	const char	*comment;
	json_t		*args;
	int		 changed = 0, rc;

	if ((inc = wrapi_incident(call)) == NULL || wrapi_closed(call, inc) ||
	    (args = wrapi_comment_args(call, inc, 0, &comment)) == NULL)
		return;
	rc = wract_approve(inc, call->person->id, comment, &changed);
	json_decref(args);
	if (rc == -EPERM)
		wrapi_not_approver(call, inc);
	else if (rc == -EALREADY)
		wrapi_closed(call, inc);
	else if (rc != 0)
		wrapi_not_saved(call, inc, rc, "the approval");
	else {
		if (changed)
			log_info("incident %s: written report version %d approved "
			    "by %s", inc->id, wreport_version(inc->id),
			    call->person->id);
		wrapi_reply_draft(call, inc);
	}
}

void
wrapi_reject_post(struct http_call *call)
{
	struct incident	*inc;
	const char	*comment;
	json_t		*args;
	int		 rc;

	if ((inc = wrapi_incident(call)) == NULL || wrapi_closed(call, inc))
		return;
	/* Who may reject first: a stranger learns nothing from the body check. */
	if (!wract_may_approve(call->person->id)) {
		wrapi_not_approver(call, inc);
		return;
	}
	if ((args = wrapi_comment_args(call, inc, 1, &comment)) == NULL)
		return;
	rc = wract_reject(inc, call->person->id, comment);
	json_decref(args);
	if (rc == -EPERM)
		wrapi_not_approver(call, inc);
	else if (rc == -EALREADY)
		wrapi_closed(call, inc);
	else if (rc != 0)
		wrapi_not_saved(call, inc, rc, "the rejection");
	else {
		log_info("incident %s: written report version %d rejected by %s",
		    inc->id, wreport_version(inc->id), call->person->id);
		wrapi_reply_draft(call, inc);
	}
}
