/*
 * dirapi.c: leaders' directives over HTTP (see dirapi.h): HTTP to
 * actions/diract.c and back.  Staff see and do everything; an office sees
 * and reports on the directives it owns, and nothing else exists for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/diract.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "config/config.h"
#include "intake/dirapi.h"
#include "intake/http.h"
#include "parse/report.h"
#include "state/directive.h"

#define DIRAPI_LIMIT_DEFAULT	200
#define DIRAPI_LIMIT_MAX	1000
/* issued_at may run ahead of dutyd's clock by what a report's may. */
#define DIRAPI_FUTURE_SLACK_MS	REPORT_FUTURE_SLACK_MS

/* The Chinese of each field's 400, as the duty room reads it. */
static const struct {
	const char	*field;
	const char	*zh;
} dirapi_zh[] = {
	{ "title", "批示件标题（title）填写有误：必须填写，1 至 200 字，不能换行。" },
	{ "text", "批示内容（text）填写有误：必须填写，不能只有空白，最多 8000 字。" },
	{ "issued_by", "批示领导（issued_by）填写有误：必须填写领导姓名，1 至 100 字，不能换行。" },
	{ "issued_at", "批示时间（issued_at）填写有误：须为带时区的时间，如 "
	    "2026-12-01T09:30:00+08:00，且不能晚于现在。" },
	{ "owner", "承办单位（owner）填写有误：须为配置中的单位编号或人员编号（如 county-a）。" },
	{ "due", "办理时限（due）填写有误：须为 YYYY-MM-DD 格式的日期，且不能早于今天；不填则按默认时限。" },
	{ "incident", "关联事件（incident）填写有误：须为已有事件的编号，如 INC-20261201-0001；不关联请不填。" },
	{ "progress", "进展情况（text）填写有误：必须填写，不能只有空白，最多 2000 字。" },
	{ "result", "办理结果（result）填写有误：必须填写，不能只有空白，最多 2000 字。" },
	{ "reason", "延期原因（reason）填写有误：必须说明无法按期办结的原因和目前进展，最多 2000 字。" },
	{ "expected", "预计办结日期（expected）填写有误：须为 YYYY-MM-DD 格式的日期。" },
	{ "state", "查询条件 state 有误：可选 open（未办结）、done（已办结）、overdue（已逾期）或 all。" },
	{ "limit", "查询条件 limit 有误：须为 1 至 1000 的整数。" },
};

static const char *
dirapi_zh_of(const char *field)
{
	size_t i;

	for (i = 0; field != NULL && i < sizeof(dirapi_zh) / sizeof(dirapi_zh[0]);
	    i++)
		if (strcmp(dirapi_zh[i].field, field) == 0)
			return dirapi_zh[i].zh;
	return NULL;
}

static const char DIRAPI_ZH_404[] = "找不到该批示件，请核对编号（如 DIR-20261201-0001）。";
static const char DIRAPI_ZH_DONE[] = "该批示件已办结，不能再报送进展、延期或办结。";
static const char DIRAPI_ZH_503[] = "值班系统暂时无法保存，本次操作未记录。请稍后重试；如持续出现，请电话联系值班室。";

/* Blank: missing, empty or only white space. */
static int
dirapi_blank(const char *s)
{
	return s == NULL || s[strspn(s, " \t\r\n")] == '\0';
}

static int
dirapi_one_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* The directive of the path, as the caller may see it; NULL after 404. */
static struct directive *
dirapi_find(struct http_call *call)
{
	struct directive *dv = directive_find(call->param);

	/* An office sees its own: another's is no more there than a missing one. */
	if (dv != NULL && call->office != NULL &&
	    (strcmp(directive_owner_kind(dv), "office") != 0 ||
	    strcmp(directive_owner(dv), call->office->id) != 0))
		dv = NULL;
	if (dv == NULL)
		http_error_zh(call, 404, "id", DIRAPI_ZH_404, "no directive '%s'; "
		    "list them with GET /api/v1/directives?state=all",
		    call->param);
	return dv;
}

static void
dirapi_reply(struct http_call *call, int status, struct directive *dv)
{
	json_t *o;

	if ((o = directive_json(dv, time_now_ms(), 1)) == NULL)
		http_error_zh(call, 503, NULL, DIRAPI_ZH_503, "directive %s could "
		    "not be shown (out of memory); retry in a moment", dv->id);
	else
		http_reply(call, status, o);
}

/* A string member: NULL when absent or null; -1 after 400 when not a string. */
static int
dirapi_string(struct http_call *call, json_t *o, const char *key,
    const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		http_error_zh(call, 400, key, dirapi_zh_of(key), "%s must be a "
		    "string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static const char *const dirapi_create_fields[] = {
	"title", "text", "issued_by", "issued_at", "owner", "due", "incident",
	NULL
};

/* The body of a new directive; 0, or -1 after answering 400. */
static int
dirapi_create_args(struct http_call *call, json_t *o, struct diract_new *n)
{
	const char	*key, *issued_at = NULL;
	json_t		*v;
	size_t		 i;
	int64_t		 now = time_now_ms();

	if (!json_is_object(o)) {
		http_error(call, 400, NULL, "the body must be a JSON object: "
		    "{\"title\", \"text\", \"issued_by\", \"issued_at\", \"owner\", "
		    "\"due\", \"incident\"}");
		return -1;
	}
	json_object_foreach(o, key, v) {
		for (i = 0; dirapi_create_fields[i] != NULL &&
		    strcmp(dirapi_create_fields[i], key) != 0; i++)
			;
		if (dirapi_create_fields[i] == NULL) {
			http_error(call, 400, key, "unknown field '%s'; a directive "
			    "has title, text, issued_by, issued_at, owner, due and "
			    "incident", key);
			return -1;
		}
	}
	memset(n, 0, sizeof(*n));
	if (dirapi_string(call, o, "title", &n->title) != 0 ||
	    dirapi_string(call, o, "text", &n->text) != 0 ||
	    dirapi_string(call, o, "issued_by", &n->issued_by) != 0 ||
	    dirapi_string(call, o, "issued_at", &issued_at) != 0 ||
	    dirapi_string(call, o, "owner", &n->owner) != 0 ||
	    dirapi_string(call, o, "due", &n->due) != 0 ||
	    dirapi_string(call, o, "incident", &n->incident) != 0)
		return -1;
	if (dirapi_blank(n->title) || utf8_length(n->title) >
	    DIRECTIVE_TITLE_MAX || !dirapi_one_line(n->title)) {
		http_error_zh(call, 400, "title", dirapi_zh_of("title"), "title "
		    "is missing, blank, longer than %d characters or more than "
		    "one line: what the instruction is about, e.g. "
		    "\"关于做好寒潮天气防范工作的批示\"", DIRECTIVE_TITLE_MAX);
		return -1;
	}
	if (dirapi_blank(n->text) || utf8_length(n->text) > DIRECTIVE_TEXT_MAX) {
		http_error_zh(call, 400, "text", dirapi_zh_of("text"), "text is "
		    "missing, blank or longer than %d characters: the leader's "
		    "instruction as written", DIRECTIVE_TEXT_MAX);
		return -1;
	}
	if (dirapi_blank(n->issued_by) || utf8_length(n->issued_by) >
	    DIRECTIVE_NAME_MAX || !dirapi_one_line(n->issued_by)) {
		http_error_zh(call, 400, "issued_by", dirapi_zh_of("issued_by"),
		    "issued_by is missing, blank or not a name of 1 to %d "
		    "characters: the leader who issued it, e.g. \"王市长\"",
		    DIRECTIVE_NAME_MAX);
		return -1;
	}
	n->issued_at = now;
	if (issued_at != NULL && (time_parse(issued_at, &n->issued_at) != 0 ||
	    n->issued_at > now + DIRAPI_FUTURE_SLACK_MS)) {
		http_error_zh(call, 400, "issued_at", dirapi_zh_of("issued_at"),
		    "issued_at must be an RFC 3339 time with its offset, not in "
		    "the future, e.g. \"2026-12-01T09:30:00+08:00\"");
		return -1;
	}
	if (dirapi_blank(n->owner)) {
		http_error_zh(call, 400, "owner", dirapi_zh_of("owner"), "owner is "
		    "missing: the office id or person id responsible for it");
		return -1;
	}
	return 0;
}

void
dirapi_create(struct http_call *call)
{
	struct diract_new	 n;
	json_error_t		 jerr;
	json_t			*o;
	const char		*field, *why;
	char			 id[DIRECTIVE_ID_MAX], actor[160];
	int			 rc;

	if (http_want_json(call, 1) != 0)
		return;
	if ((o = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		http_error(call, 400, NULL, "the body is not valid JSON (%s at "
		    "character %d)", jerr.text, jerr.position);
		return;
	}
	if (dirapi_create_args(call, o, &n) != 0) {
		json_decref(o);
		return;
	}
	snprintf(actor, sizeof(actor), "person:%s", call->person->id);
	rc = diract_create(&n, actor, id, sizeof(id), &field, &why);
	if (rc == -EINVAL)
		http_error_zh(call, 400, field, dirapi_zh_of(field), "%s '%s' %s",
		    field, strcmp(field, "owner") == 0 ? n.owner :
		    strcmp(field, "incident") == 0 ? n.incident : n.due, why);
	else if (rc == -ENOSPC)
		http_error_zh(call, 503, NULL, DIRAPI_ZH_503, "%d directives are "
		    "loaded, the most dutyd keeps; complete some, or shorten "
		    "audit.retention", DIRECTIVE_LOADED_MAX);
	else if (rc != 0)
		http_error_zh(call, 503, NULL, DIRAPI_ZH_503, "the directive could "
		    "not be saved: the audit log cannot be written (%s). Nothing "
		    "was recorded; retry in a minute", strerror(-rc));
	else
		dirapi_reply(call, 201, directive_find(id));
	json_decref(o);
}

/* Who acts, as the record and people name them. */
static void
dirapi_actor(struct http_call *call, char *actor, size_t len,
    const char **name)
{
	if (call->person != NULL) {
		snprintf(actor, len, "person:%s", call->person->id);
		*name = call->person->name;
	} else {
		snprintf(actor, len, "office:%s", call->office->id);
		*name = call->office->name;
	}
}

/* An owner's or staff's report: FIELDS of the body, all required strings. */
static json_t *
dirapi_report_args(struct http_call *call, const char *const *fields,
    const char *const *zh_keys)
{
	json_error_t	 jerr;
	json_t		*args, *v;
	const char	*key, *s;
	char		 known[128] = "";
	size_t		 i;

	if (http_want_json(call, 1) != 0)
		return NULL;
	for (i = 0; fields[i] != NULL; i++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known),
		    "%s%s", i > 0 ? ", " : "", fields[i]);
	if ((args = json_loadb(call->body, call->body_len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(args)) {
		http_error(call, 400, NULL, "the body must be a JSON object with "
		    "%s", known);
		json_decref(args);
		return NULL;
	}
	json_object_foreach(args, key, v) {
		for (i = 0; fields[i] != NULL && strcmp(fields[i], key) != 0; i++)
			;
		if (fields[i] == NULL) {
			http_error(call, 400, key, "unknown field '%s'; this takes "
			    "%s", key, known);
			json_decref(args);
			return NULL;
		}
	}
	for (i = 0; fields[i] != NULL; i++) {
		s = json_string_value(json_object_get(args, fields[i]));
		if (dirapi_blank(s) || utf8_length(s) > DIRECTIVE_NOTE_MAX) {
			http_error_zh(call, 400, fields[i],
			    dirapi_zh_of(zh_keys[i]), "%s is missing, not a "
			    "string, blank or longer than %d characters", fields[i],
			    DIRECTIVE_NOTE_MAX);
			json_decref(args);
			return NULL;
		}
	}
	return args;
}

static void
dirapi_done(struct http_call *call, struct directive *dv, const char *what,
    int rc)
{
	if (rc == 0) {
		log_info("directive %s: %s by %s", dv->id, what,
		    call->person != NULL ? call->person->id : call->office->id);
		dirapi_reply(call, 200, dv);
	} else if (rc == -EALREADY)
		http_error_zh(call, 409, "id", DIRAPI_ZH_DONE, "directive %s was "
		    "completed at %s; nothing more can be reported on it", dv->id,
		    directive_str(dv, "completed_at"));
	else if (rc == -ENOSPC)
		http_error_zh(call, 409, "id", "该批示件的进展报告已达上限，请电话报告值班室。",
		    "directive %s has %d progress reports and delays, the most "
		    "one may have; phone the duty room", dv->id,
		    DIRECTIVE_PROGRESS_MAX);
	else
		http_error_zh(call, 503, NULL, DIRAPI_ZH_503, "directive %s: the "
		    "%s could not be saved: the audit log cannot be written (%s). "
		    "Nothing was recorded; retry in a minute", dv->id, what,
		    strerror(-rc));
}

void
dirapi_progress(struct http_call *call)
{
	static const char *const fields[] = { "text", NULL };
	static const char *const zh[] = { "progress" };
	struct directive	*dv;
	json_t			*args;
	const char		*name;
	char			 actor[160];

	if ((dv = dirapi_find(call)) == NULL ||
	    (args = dirapi_report_args(call, fields, zh)) == NULL)
		return;
	dirapi_actor(call, actor, sizeof(actor), &name);
	dirapi_done(call, dv, "progress", diract_progress(dv, actor, name,
	    json_string_value(json_object_get(args, "text"))));
	json_decref(args);
}

void
dirapi_complete(struct http_call *call)
{
	static const char *const fields[] = { "result", NULL };
	static const char *const zh[] = { "result" };
	struct directive	*dv;
	json_t			*args;
	const char		*name;
	char			 actor[160];

	if ((dv = dirapi_find(call)) == NULL ||
	    (args = dirapi_report_args(call, fields, zh)) == NULL)
		return;
	dirapi_actor(call, actor, sizeof(actor), &name);
	dirapi_done(call, dv, "completion", diract_complete(dv, actor, name,
	    json_string_value(json_object_get(args, "result"))));
	json_decref(args);
}

void
dirapi_delay(struct http_call *call)
{
	static const char *const fields[] = { "reason", "expected", NULL };
	static const char *const zh[] = { "reason", "expected" };
	struct directive	*dv;
	json_t			*args;
	const char		*name, *expected;
	char			 actor[160];
	int			 y, m, d;

	if ((dv = dirapi_find(call)) == NULL ||
	    (args = dirapi_report_args(call, fields, zh)) == NULL)
		return;
	expected = json_string_value(json_object_get(args, "expected"));
	if (calendar_parse_date(expected, &y, &m, &d) != 0) {
		http_error_zh(call, 400, "expected", dirapi_zh_of("expected"),
		    "expected must be the date it should be done by, written "
		    "YYYY-MM-DD, e.g. \"2026-12-20\"; got '%s'", expected);
		json_decref(args);
		return;
	}
	dirapi_actor(call, actor, sizeof(actor), &name);
	dirapi_done(call, dv, "delay", diract_delay(dv, actor, name,
	    json_string_value(json_object_get(args, "reason")), expected));
	json_decref(args);
}

void
dirapi_get(struct http_call *call)
{
	struct directive *dv;

	if ((dv = dirapi_find(call)) != NULL)
		dirapi_reply(call, 200, dv);
}

void
dirapi_list(struct http_call *call)
{
	struct directive	*dv;
	char			*state = http_query(call, "state");
	char			*limit_s = http_query(call, "limit"), *end;
	const char		*want = state != NULL ? state : "open";
	json_t			*list = NULL, *o;
	int64_t			 now = time_now_ms();
	long			 limit = DIRAPI_LIMIT_DEFAULT;

	if (strcmp(want, "open") != 0 && strcmp(want, "done") != 0 &&
	    strcmp(want, "overdue") != 0 && strcmp(want, "all") != 0) {
		http_error_zh(call, 400, "state", dirapi_zh_of("state"), "state "
		    "must be open (the default), done, overdue or all; got '%s'",
		    want);
		goto out;
	}
	if (limit_s != NULL && ((limit = strtol(limit_s, &end, 10)) < 1 ||
	    limit > DIRAPI_LIMIT_MAX || *end != '\0' || *limit_s == '\0')) {
		http_error_zh(call, 400, "limit", dirapi_zh_of("limit"), "limit "
		    "must be a whole number from 1 to %d (default %d); got '%s'",
		    DIRAPI_LIMIT_MAX, DIRAPI_LIMIT_DEFAULT, limit_s);
		goto out;
	}
	if ((list = json_array()) == NULL)
		goto oom;
	for (dv = directive_newest(); dv != NULL &&
	    json_array_size(list) < (size_t)limit; dv = directive_older(dv)) {
		if (call->office != NULL &&
		    (strcmp(directive_owner_kind(dv), "office") != 0 ||
		    strcmp(directive_owner(dv), call->office->id) != 0))
			continue;
		if ((strcmp(want, "open") == 0 && dv->done) ||
		    (strcmp(want, "done") == 0 && !dv->done) ||
		    (strcmp(want, "overdue") == 0 &&
		    !directive_is_overdue(dv, now)))
			continue;
		if ((o = directive_json(dv, now, 0)) == NULL ||
		    json_array_append_new(list, o) != 0)
			goto oom;
	}
	http_reply(call, 200, json_pack("{s:o}", "directives", list));
	list = NULL;
	goto out;
oom:
	http_error_zh(call, 503, NULL, DIRAPI_ZH_503, "out of memory");
out:
	json_decref(list);
	free(state);
	free(limit_s);
}
