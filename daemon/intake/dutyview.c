/*
 * dutyview.c: a duty day's records, grouped and summed up in Chinese
 * (see dutyview.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/csv.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/dutyview.h"
#include "state/handover.h"
#include "state/incident.h"

const char *const dutyview_kinds[] = {
	"report.received", "report.submitted", "incident.", "duty.",
	"directive.", "dutyd.", NULL
};

struct dutyview {
	json_t	*entries;
	json_t	*incidents;	/* id → view, in the order first seen */
	json_t	*order;		/* the ids in that order */
	json_t	*handovers;
	json_t	*directives;
	json_t	*titles;	/* directive id → title */
	json_t	*notes;
	size_t	 total;
};

struct dutyview *
dutyview_new(void)
{
	struct dutyview *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->entries = json_array();
	v->incidents = json_object();
	v->order = json_array();
	v->handovers = json_array();
	v->directives = json_array();
	v->titles = json_object();
	v->notes = json_array();
	if (v->entries == NULL || v->incidents == NULL || v->order == NULL ||
	    v->handovers == NULL || v->directives == NULL || v->titles == NULL ||
	    v->notes == NULL) {
		dutyview_free(v);
		return NULL;
	}
	return v;
}

void
dutyview_free(struct dutyview *v)
{
	if (v == NULL)
		return;
	json_decref(v->entries);
	json_decref(v->incidents);
	json_decref(v->order);
	json_decref(v->handovers);
	json_decref(v->directives);
	json_decref(v->titles);
	json_decref(v->notes);
	free(v);
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A person's name from an id, or from an actor "person:zhang"; else as given. */
static const char *
dutyview_name(const char *who)
{
	const struct config_person *p;

	if (who == NULL)
		return NULL;
	if (strncmp(who, "person:", 7) == 0)
		who += 7;
	else if (strcmp(who, "dutyd") == 0)
		return "值班系统";
	else if (strncmp(who, "office:", 7) == 0) {
		const struct config_office *o = config_office(config_current(),
		    who + 7);

		return o != NULL ? o->name : who + 7;
	}
	p = config_person(config_current(), who);
	return p != NULL ? p->name : who;
}

/* The incident's view, made on first sight. */
static json_t *
dutyview_incident(struct dutyview *v, const char *id)
{
	json_t *o;

	if ((o = json_object_get(v->incidents, id)) != NULL)
		return o;
	o = json_pack("{s:s, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, "
	    "s:n, s:n, s:n, s:n, s:n, s:i, s:i}", "id", id, "office",
	    "office_name", "title", "level", "received_at", "acknowledged_at",
	    "acknowledged_by", "reported_to_province_at", "reported_by",
	    "resolved_at", "resolved_by", "merged_into", "merged_at",
	    "dismissed_at", "dismissed_reason", "escalations", 0, "updates", 0);
	if (o == NULL || json_object_set_new(v->incidents, id, o) != 0 ||
	    json_array_append_new(v->order, json_string(id)) != 0)
		return NULL;
	return o;
}

static void
set(json_t *o, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(o, key, json_string(value));
}

static void
bump(json_t *o, const char *key)
{
	json_object_set_new(o, key, json_integer(json_integer_value(
	    json_object_get(o, key)) + 1));
}

/* What an incident's record changes in its view. */
static int
dutyview_incident_record(struct dutyview *v, const char *ev, const char *id,
    const char *ts, const char *actor, const json_t *d)
{
	json_t		*o;
	const char	*by = dutyview_name(actor);

	if ((o = dutyview_incident(v, id)) == NULL)
		return -ENOMEM;
	if (strcmp(ev, "report.received") == 0) {
		set(o, "office", str(d, "office"));
		set(o, "office_name", str(d, "office_name"));
		set(o, "title", str(json_object_get(d, "report"), "title"));
		set(o, "level", str(json_object_get(d, "report"), "level"));
		set(o, "received_at", ts);
	} else if (strcmp(ev, "incident.acknowledged") == 0) {
		set(o, "acknowledged_at", ts);
		set(o, "acknowledged_by", by);
	} else if (strcmp(ev, "report.submitted") == 0 ||
	    strcmp(ev, "incident.report_filed") == 0) {
		/* The first report to the province counts: 续报 come later. */
		if (json_is_null(json_object_get(o, "reported_to_province_at"))) {
			set(o, "reported_to_province_at", ts);
			set(o, "reported_by", by);
		}
	} else if (strcmp(ev, "incident.resolved") == 0) {
		set(o, "resolved_at", ts);
		set(o, "resolved_by", by);
	} else if (strcmp(ev, "incident.merged") == 0) {
		set(o, "merged_into", str(d, "into"));
		set(o, "merged_at", ts);
	} else if (strcmp(ev, "incident.dismissed") == 0) {
		set(o, "dismissed_at", ts);
		set(o, "dismissed_reason", str(d, "reason"));
	} else if (strcmp(ev, "incident.escalated") == 0)
		bump(o, "escalations");
	else if (strcmp(ev, "incident.updated") == 0)
		bump(o, "updates");
	return 0;
}

static json_t *
dutyview_handover_find(struct dutyview *v, json_int_t seq)
{
	json_t	*h;
	size_t	 i;

	json_array_foreach(v->handovers, i, h)
		if (json_integer_value(json_object_get(h, "seq")) == seq)
			return h;
	return NULL;
}

/* People of a handover record's list, with their names. */
static json_t *
dutyview_people(const json_t *list)
{
	json_t	*out = json_array(), *p;
	size_t	 i;

	json_array_foreach(list, i, p)
		if (out != NULL && json_array_append_new(out, json_pack(
		    "{s:s?, s:s?, s:s?}", "person", str(p, "person"), "name",
		    dutyview_name(str(p, "person")), "role", str(p, "role"))) != 0) {
			json_decref(out);
			return NULL;
		}
	return out;
}

static int
dutyview_duty_record(struct dutyview *v, const char *ev, json_int_t seq,
    const char *ts, const char *actor, const json_t *d)
{
	json_t		*h, *n;
	char		*note = NULL, *next;
	size_t		 i;

	if (strcmp(ev, "duty.handover") == 0) {
		/* The notes it carried: written before it, by the outgoing. */
		json_array_foreach(json_object_get(d, "notes"), i, n) {
			if (asprintf(&next, "%s%s%s", note != NULL ? note : "",
			    note != NULL ? "\n" : "", str(n, "text")) == -1)
				next = NULL;
			free(note);
			if ((note = next) == NULL)
				return -ENOMEM;
		}
		h = json_pack("{s:I, s:s, s:s?, s:o, s:o, s:s?, s:n, s:n, s:n, "
		    "s:I, s:n}", "seq", seq, "at", ts, "accept_by",
		    str(d, "accept_by"), "from", dutyview_people(json_object_get(d,
		    "outgoing")), "to", dutyview_people(json_object_get(d,
		    "incoming")), "note", note, "accepted_by", "accepted_by_name",
		    "accepted_at", "late_ms", (json_int_t)0, "overdue_at");
		free(note);
		return h == NULL || json_array_append_new(v->handovers, h) != 0 ?
		    -ENOMEM : 0;
	}
	if (strcmp(ev, "duty.handover_note") == 0)
		return json_array_append_new(v->notes, json_pack("{s:n, s:s, "
		    "s:s?, s:s?, s:s?}", "incident", "at", ts, "by", str(d, "by"),
		    "by_name", dutyview_name(str(d, "by")), "text",
		    str(d, "text"))) != 0 ? -ENOMEM : 0;
	h = dutyview_handover_find(v, json_integer_value(json_object_get(d,
	    "handover_seq")));
	if (h == NULL)
		return 0;	/* of a handover of the day before */
	if (strcmp(ev, "duty.handover_accepted") == 0) {
		set(h, "accepted_by", str(d, "by"));
		set(h, "accepted_by_name", dutyview_name(str(d, "by")));
		set(h, "accepted_at", ts);
		json_object_set(h, "late_ms", json_object_get(d, "late_ms"));
	} else if (strcmp(ev, "duty.accept_overdue") == 0)
		set(h, "overdue_at", ts);
	(void)actor;
	return 0;
}

static int
dutyview_directive_record(struct dutyview *v, const char *ev, const char *ts,
    const char *actor, const json_t *d)
{
	const char	*id = str(d, "directive"), *text;

	if (id == NULL)
		return 0;
	if (strcmp(ev, "directive.created") == 0 && str(d, "title") != NULL)
		json_object_set_new(v->titles, id, json_string(str(d, "title")));
	text = str(d, "text") != NULL && strcmp(ev, "directive.created") != 0 ?
	    str(d, "text") : str(d, "reason") != NULL ? str(d, "reason") :
	    str(d, "result") != NULL ? str(d, "result") : str(d, "kind");
	return json_array_append_new(v->directives, json_pack("{s:s, s:s?, s:s, "
	    "s:s, s:s?, s:s?}", "id", id, "title", str(v->titles, id), "event",
	    ev + strlen("directive."), "at", ts, "by", dutyview_name(actor),
	    "text", text)) != 0 ? -ENOMEM : 0;
}

/* The one line a duty room reads: who did what. */
static char *
dutyview_summary(const char *ev, const char *id, const char *actor,
    const json_t *d, const json_t *inc)
{
	const char	*by = dutyview_name(actor), *t;
	char		*s = NULL;
	int		 n = -1;

	if (strcmp(ev, "report.received") == 0)
		n = asprintf(&s, "%s报告：%s（%s级）%s", str(d, "office_name") ?: "",
		    str(json_object_get(d, "report"), "title") ?: "",
		    str(json_object_get(d, "report"), "level") ?: "未定",
		    json_is_true(json_object_get(d, "late_report")) ? "，迟报" : "");
	else if (strcmp(ev, "incident.acknowledged") == 0)
		n = asprintf(&s, "%s确认收到 %s", by, id);
	else if (strcmp(ev, "incident.report_filed") == 0)
		n = asprintf(&s, "%s登记书面报告已报省%s%s", by, str(d,
		    "reference") ? "，文号 " : "", str(d, "reference") ?: "");
	else if (strcmp(ev, "report.submitted") == 0)
		n = asprintf(&s, "%s向省级报送书面报告", by);
	else if (strcmp(ev, "incident.resolved") == 0)
		n = asprintf(&s, "%s标记 %s 处置完毕", by, id);
	else if (strcmp(ev, "incident.merged") == 0)
		n = asprintf(&s, "%s将 %s 并入 %s（重复报告）", by, id,
		    str(d, "into") ?: "");
	else if (strcmp(ev, "incident.dismissed") == 0)
		n = asprintf(&s, "%s核实 %s 为误报：%s", by, id, str(d, "reason") ?:
		    "");
	else if (strcmp(ev, "incident.escalated") == 0)
		n = asprintf(&s, "%s 超时未确认，第%lld级升级", id, (long long)
		    json_integer_value(json_object_get(d, "level")));
	else if (strcmp(ev, "incident.report_overdue") == 0)
		n = asprintf(&s, "%s 书面报告超时未报送", id);
	else if (strcmp(ev, "incident.updated") == 0)
		n = asprintf(&s, "%s续报 %s", by, id);
	else if (strcmp(ev, "incident.note") == 0)
		n = asprintf(&s, "%s备注 %s：%s", by, id, str(d, "text") ?: "");
	else if (strcmp(ev, "duty.handover") == 0)
		n = asprintf(&s, "交接班：%lld 人接班，%lld 起未办结事件",
		    (long long)json_array_size(json_object_get(d, "incoming")),
		    (long long)json_integer_value(json_object_get(d, "count")));
	else if (strcmp(ev, "duty.handover_note") == 0)
		n = asprintf(&s, "%s交班留言：%s", by, str(d, "text") ?: "");
	else if (strcmp(ev, "duty.handover_accepted") == 0)
		n = json_integer_value(json_object_get(d, "late_ms")) > 0 ?
		    asprintf(&s, "%s确认接班（超时 %lld 分钟）", by, (long long)
		    (json_integer_value(json_object_get(d, "late_ms")) / 60000)) :
		    asprintf(&s, "%s确认接班", by);
	else if (strcmp(ev, "duty.accept_overdue") == 0)
		n = asprintf(&s, "接班超时未确认，已告知带班领导");
	else if (strncmp(ev, "directive.", 10) == 0) {
		t = strcmp(ev, "directive.created") == 0 ? "收到批示件" :
		    strcmp(ev, "directive.progress") == 0 ? "批示件进展" :
		    strcmp(ev, "directive.delayed") == 0 ? "批示件申请延期" :
		    strcmp(ev, "directive.completed") == 0 ? "批示件办结" :
		    strcmp(ev, "directive.reminder") == 0 ? "批示件催办提醒" :
		    strcmp(ev, "directive.overdue") == 0 ?
		    "批示件逾期，已告知批示领导" : ev;
		n = asprintf(&s, "%s %s%s%s", t, str(d, "directive") ?: "",
		    str(d, "title") != NULL ? "：" : str(d, "text") != NULL ? "："
		    : "", str(d, "title") ?: str(d, "text") ?: "");
	} else if (strcmp(ev, "dutyd.started") == 0)
		n = asprintf(&s, "值班系统启动");
	else if (strcmp(ev, "dutyd.stopped") == 0)
		n = asprintf(&s, "值班系统停止");
	else
		n = asprintf(&s, "%s", ev);
	(void)inc;
	return n < 0 ? NULL : s;
}

int
dutyview_add(struct dutyview *v, const json_t *r)
{
	const char	*ev = str(r, "event"), *id = str(r, "incident");
	const char	*ts = str(r, "ts"), *actor = str(r, "actor");
	const json_t	*d = json_object_get(r, "data");
	json_int_t	 seq = json_integer_value(json_object_get(r, "seq"));
	char		*summary;
	int		 rc = 0;

	if (ev == NULL || ts == NULL)
		return 0;
	v->total++;
	if (json_array_size(v->entries) >= DUTYVIEW_ENTRIES_MAX)
		return 0;
	if (id != NULL && (strcmp(ev, "report.received") == 0 ||
	    strcmp(ev, "report.submitted") == 0 || strncmp(ev, "incident.", 9) ==
	    0))
		rc = dutyview_incident_record(v, ev, id, ts, actor, d);
	else if (strncmp(ev, "duty.", 5) == 0)
		rc = dutyview_duty_record(v, ev, seq, ts, actor, d);
	else if (strncmp(ev, "directive.", 10) == 0)
		rc = dutyview_directive_record(v, ev, ts, actor, d);
	if (rc == 0 && strcmp(ev, "incident.note") == 0)
		rc = json_array_append_new(v->notes, json_pack("{s:s, s:s, s:s?, "
		    "s:s?, s:s?}", "incident", id, "at", ts, "by", actor != NULL &&
		    strncmp(actor, "person:", 7) == 0 ? actor + 7 : actor,
		    "by_name", dutyview_name(actor), "text", str(d, "text"))) != 0 ?
		    -ENOMEM : 0;
	if (rc != 0 || (summary = dutyview_summary(ev, id, actor, d, NULL)) ==
	    NULL)
		return rc != 0 ? rc : -ENOMEM;
	rc = json_array_append_new(v->entries, json_pack("{s:I, s:s, s:s, s:s?, "
	    "s:s?, s:s?, s:s}", "seq", seq, "ts", ts, "event", ev, "incident",
	    id, "actor", actor, "actor_name", dutyview_name(actor), "summary",
	    summary)) != 0 ? -ENOMEM : 0;
	free(summary);
	return rc;
}

void
dutyview_more(struct dutyview *v, size_t n)
{
	v->total += n;
}

/* What the day's records did not say, from memory while still loaded. */
static void
dutyview_fill(struct dutyview *v)
{
	const struct handover	*hm;
	struct incident		*inc;
	json_t			*o, *h, *idv;
	char			 ts[TIME_RFC3339_MAX];
	size_t			 i;

	json_array_foreach(v->order, i, idv) {
		o = json_object_get(v->incidents, json_string_value(idv));
		if (!json_is_null(json_object_get(o, "title")) ||
		    (inc = incident_find(json_string_value(idv))) == NULL)
			continue;
		set(o, "office", inc->office);
		set(o, "office_name", inc->office_name);
		set(o, "title", str(incident_report(inc), "title"));
		set(o, "level", str(incident_report(inc), "level"));
		if (inc->received_at > 0)
			set(o, "received_at", time_format(inc->received_at, ts,
			    sizeof(ts)));
	}
	/* Accepted after the day ended. */
	json_array_foreach(v->handovers, i, h) {
		if (!json_is_null(json_object_get(h, "accepted_by")) ||
		    (hm = handover_find(json_integer_value(json_object_get(h,
		    "seq")))) == NULL || hm->accepted_by == NULL)
			continue;
		set(h, "accepted_by", hm->accepted_by);
		set(h, "accepted_by_name", dutyview_name(hm->accepted_by));
		set(h, "accepted_at", time_format(hm->accepted_at, ts, sizeof(ts)));
		json_object_set_new(h, "late_ms", json_integer(hm->late_ms));
	}
}

int
dutyview_json(struct dutyview *v, json_t *o)
{
	json_t	*list = json_array(), *idv;
	size_t	 i;

	dutyview_fill(v);
	json_array_foreach(v->order, i, idv)
		json_array_append(list, json_object_get(v->incidents,
		    json_string_value(idv)));
	if (list == NULL || json_object_set_new(o, "incidents", list) != 0 ||
	    json_object_set(o, "handovers", v->handovers) != 0 ||
	    json_object_set(o, "directives", v->directives) != 0 ||
	    json_object_set(o, "notes", v->notes) != 0 ||
	    json_object_set(o, "entries", v->entries) != 0 ||
	    json_object_set_new(o, "entries_total",
	    json_integer((json_int_t)v->total)) != 0 ||
	    json_object_set_new(o, "truncated",
	    json_boolean(v->total > json_array_size(v->entries))) != 0)
		return -ENOMEM;
	return 0;
}

char *
dutyview_csv(struct dutyview *v, size_t *len)
{
	static const char *const head[] = { "序号", "时间", "类型", "事件编号",
	    "操作人", "摘要" };
	FILE		*f;
	char		*buf = NULL, seq[32], when[32];
	const json_t	*e;
	int64_t		 ms;
	size_t		 i;

	if ((f = open_memstream(&buf, len)) == NULL)
		return NULL;
	fputs(CSV_BOM, f);
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		csv_field(f, head[i], i == 0);
	csv_row_end(f);
	json_array_foreach(v->entries, i, e) {
		snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(
		    json_object_get(e, "seq")));
		/* As a spreadsheet sorts and reads it: local, to the second. */
		if (time_parse(str(e, "ts"), &ms) != 0 ||
		    time_local(ms, "%Y-%m-%d %H:%M:%S", when, sizeof(when))[0] ==
		    '\0')
			snprintf(when, sizeof(when), "%s", str(e, "ts"));
		csv_field(f, seq, 1);
		csv_field(f, when, 0);
		csv_field(f, str(e, "event"), 0);
		csv_field(f, str(e, "incident"), 0);
		csv_field(f, str(e, "actor_name"), 0);
		csv_field(f, str(e, "summary"), 0);
		csv_row_end(f);
	}
	if (v->total > json_array_size(v->entries)) {
		snprintf(seq, sizeof(seq), "%zu", v->total);
		csv_field(f, "", 1);
		csv_field(f, "", 0);
		csv_field(f, "", 0);
		csv_field(f, "", 0);
		csv_field(f, "", 0);
		csv_field(f, "（记录过多，以下已省略；共有记录条数见 entries_total）", 0);
		csv_row_end(f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
