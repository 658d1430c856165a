/*
 * The duty room's corrections on the real core with a fake clock: a
 * duplicate merged into another incident, a false report dismissed, a
 * report staff took by phone, a county told it was late, and follow-ups
 * that reach the right incident however they were typed.  Each state
 * machine is checked through a restart too, from the records alone and
 * from a checkpoint: what the log says is what comes back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actions/incact.h"
#include "actions/smsact.h"
#include "base/clock.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "parse/smsfollow.h"
#include "state/incident.h"
#include "state/incview.h"

#define MIN	COREFIX_MIN
#define HOUR	(60 * MIN)

#define INC1	"INC-20261202-0001"
#define INC2	"INC-20261202-0002"
#define INC3	"INC-20261202-0003"

#define OFFICE_A	"+8613900000001"
#define OFFICE_B	"+8613900000002"
#define LI		"+8613800000002"

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\", phones: [\"13900000001\"] }\n"
    "  - { id: county-b, name: \"B县应急管理局\", token: \"secret-b\", phones: [\"13900000002\"] }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", phones: [\"13800000002\"], contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n"
    "  escalation: [wang]\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n"
    "sms:\n"
    "  twilio: { auth_token: \"twilio-webhook-token-0123456789\" }\n"
    "  reply_limit: 100/min\n"
    "policy:\n"
    "  ack_timeout: 20m\n"
    "  report_deadline: 40m\n"
    "  county_deadline: 20m\n";

static int	sid;

static int
setup(void **state)
{
	sid = 0;
	corefix_start(conf);
	return 0;
}

static const char *
s_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(none)";
}

/* The text of the last message of EVENT about INCIDENT to PERSON; "" if none. */
static const char *
text_to(const char *event, const char *incident, const char *person)
{
	static char		 out[4096];
	struct fakefetch_req	*r;
	size_t			 i;

	out[0] = '\0';
	for (i = 0; (r = fakefetch_get(i)) != NULL; i++)
		if (strcmp(s_of(r->json, "event"), event) == 0 &&
		    strcmp(s_of(json_object_get(r->json, "incident"), "id"),
		    incident) == 0 && strcmp(s_of(json_object_get(r->json,
		    "recipient"), "id"), person) == 0)
			snprintf(out, sizeof(out), "%s", s_of(r->json, "text"));
	return out;
}

/* The data of the one record of EVENT about INCIDENT (a new reference). */
static json_t *
data_of(const char *event, const char *incident)
{
	json_t *r = corefix_record(event, incident);
	json_t *d = json_incref(json_object_get(r, "data"));

	json_decref(r);
	return d;
}

/* An SMS from PHONE; the answer, or NULL.  A loop turn commits it. */
static const char *
sms(const char *phone, const char *text)
{
	char id[64];

	snprintf(id, sizeof(id), "SM%032x", ++sid);
	return corefix_sms_in(id, phone, text);
}

/* The result of the last SMS taken: "kind|result|incident". */
static const char *
sms_outcome(void)
{
	static char	 out[256];
	json_t		*all = memstore_records("sms.received", NULL);
	json_t		*r = json_array_get(all, json_array_size(all) - 1);
	json_t		*d = json_object_get(r, "data");

	snprintf(out, sizeof(out), "%s|%s|%s", s_of(d, "kind"),
	    s_of(d, "result"), s_of(r, "incident"));
	json_decref(all);
	return out;
}

static int
starts_with(const char *s, const char *head)
{
	if (strncmp(s, head, strlen(head)) == 0)
		return 1;
	print_error("\"%s\"\n does not start with\n\"%s\"\n", s, head);
	return 0;
}

static json_t *
update_of(const char *details)
{
	json_t *u = json_pack("{s:s}", "details", details);

	assert_non_null(u);
	return u;
}

/* Merging ------------------------------------------------------------------ */

static void
test_merge_closes_the_duplicate_into_the_other(void **state)
{
	struct incident	*a, *b;
	json_t		*d, *tl, *e;
	size_t		 i;
	int		 changed = -1, shown = 0;

	a = corefix_report("county-a", "化工厂爆炸");
	b = corefix_report("county-b", "某化工厂爆炸起火");
	corefix_deliver_all();
	fakeclock_advance(5 * MIN);
	assert_int_equal(incact_merge(a, "zhang", INC2, "同一事件，乙县先报",
	    &changed), 0);
	assert_int_equal(changed, 1);
	fakeclock_turn();
	d = data_of("incident.merged", INC1);
	assert_string_equal(s_of(d, "into"), INC2);
	assert_string_equal(s_of(d, "note"), "同一事件，乙县先报");
	assert_string_equal(s_of(d, "by_name"), "张伟");
	json_decref(d);
	assert_int_equal(a->state, INCIDENT_MERGED);
	assert_string_equal(incident_state_name(a->state), "merged");
	assert_true(incident_is_closed(a));
	assert_string_equal(a->merged_into, INC2);
	assert_string_equal(a->closed.by, "zhang");
	assert_string_equal(json_string_value(json_array_get(b->merged_from, 0)),
	    INC1);
	assert_ptr_equal(incident_merge_target(a), b);
	/* The target's timeline shows the merge. */
	tl = timeline_json(&b->timeline);
	json_array_foreach(tl, i, e)
		if (strcmp(s_of(e, "event"), "incident.merged") == 0)
			shown++;
	json_decref(tl);
	assert_int_equal(shown, 1);

	/* Those told of it hear of the merge once, with a link that does nothing. */
	assert_string_equal(corefix_sent("incident.merged", INC1), "zhang,li");
	assert_string_equal(text_to("incident.merged", INC1, "li"),
	    "【重复报告】A县应急管理局报告的“化工厂爆炸”（" INC1 "）与 " INC2
	    "“某化工厂爆炸起火” 为同一事件，已由张伟合并，后续以该事件为准。详情："
	    "https://duty.example.gov.cn/api/v1/incidents/" INC1);

	/* Its clocks stopped; the other's run on. */
	fakeclock_advance(60 * MIN);
	assert_int_equal(memstore_count_of("incident.escalated", INC1), 0);
	assert_int_equal(memstore_count_of("incident.report_overdue", INC1), 0);
	assert_int_equal(memstore_count_of("incident.escalated", INC2), 1);
	assert_int_equal(memstore_count_of("notify.intent", INC1), 2);
	assert_int_equal(incident_count(INCIDENT_NOT_CLOSED), 1);

	/* Again: nothing changes, nobody is told twice. */
	assert_int_equal(incact_merge(a, "li", INC2, NULL, &changed), 0);
	assert_int_equal(changed, 0);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("incident.merged", INC1), 1);
	assert_string_equal(corefix_sent("incident.merged", INC1), "zhang,li");
}

static void
test_merge_refuses_what_cannot_be_merged(void **state)
{
	struct incident	*a, *b, *c;
	int		 changed = -1;

	a = corefix_report("county-a", "甲");
	b = corefix_report("county-a", "乙");
	c = corefix_report("county-b", "丙");
	assert_int_equal(incact_merge(a, "zhang", INC1, NULL, &changed), -ELOOP);
	assert_int_equal(incact_merge(a, "zhang", "INC-20261202-0099", NULL,
	    &changed), -ENOENT);
	assert_int_equal(incact_resolve(c, "li", NULL, &changed), 0);
	fakeclock_turn();
	/* Into a resolved incident; a resolved one into another. */
	assert_int_equal(incact_merge(a, "zhang", INC3, NULL, &changed),
	    -ECANCELED);
	assert_int_equal(incact_merge(c, "zhang", INC1, NULL, &changed),
	    -EALREADY);
	/* Into a merged incident; a merged one into a third. */
	assert_int_equal(incact_merge(b, "zhang", INC1, NULL, &changed), 0);
	fakeclock_turn();
	assert_int_equal(incact_merge(a, "zhang", INC2, NULL, &changed),
	    -ECANCELED);
	assert_int_equal(incact_merge(b, "zhang", INC3, NULL, &changed),
	    -EALREADY);
	/* A merged incident is closed to every other action. */
	assert_int_equal(incact_acknowledge(b, "li", NULL, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(incact_resolve(b, "li", NULL, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(incact_dismiss(b, "li", "x", &changed), -EALREADY);
	assert_int_equal(memstore_count_of("incident.merged", NULL), 1);
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 0);
	assert_int_equal(a->state, INCIDENT_OPEN);
}

static void
test_followups_to_a_duplicate_go_to_the_other(void **state)
{
	struct incident	*a, *b;
	json_t		*u, *d, *upd;
	int		 changed;

	a = corefix_report("county-a", "化工厂爆炸");
	b = corefix_report("county-b", "化工厂爆炸起火");
	assert_int_equal(incact_merge(a, "zhang", INC2, NULL, &changed), 0);
	corefix_deliver_all();
	u = update_of("火势已控制");
	assert_int_equal(incact_update(a, "county-a", "k1", u, &changed), 0);
	assert_int_equal(changed, 1);
	fakeclock_turn();
	/* The record names the target, and the duplicate it was sent to. */
	d = data_of("incident.updated", INC2);
	assert_string_equal(s_of(d, "via"), INC1);
	json_decref(d);
	assert_int_equal(memstore_count_of("incident.updated", INC1), 0);
	assert_int_equal(json_array_size(a->updates), 0);
	upd = json_array_get(b->updates, 0);
	assert_string_equal(s_of(upd, "via"), INC1);
	assert_string_equal(s_of(upd, "by"), "office:county-a");
	/* The target's people are told of it, as of any follow-up. */
	assert_string_equal(corefix_sent("incident.updated", INC2), "zhang,li");
	/* The same key again is a retry; another office may not write to it. */
	assert_int_equal(incact_update(a, "county-a", "k1", u, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(incact_update(a, "county-b", "k2", u, &changed), -EPERM);
	/* Once the target is closed, nothing more is taken. */
	assert_int_equal(incact_resolve(b, "li", NULL, &changed), 0);
	fakeclock_turn();
	assert_int_equal(incact_update(a, "county-a", "k3", u, &changed),
	    -EALREADY);
	json_decref(u);
	assert_int_equal(json_array_size(b->updates), 1);
}

/* Dismissing ----------------------------------------------------------------- */

static void
test_dismiss_closes_a_false_report(void **state)
{
	struct incident	*a;
	json_t		*d;
	int		 changed = -1;

	a = corefix_report("county-a", "河堤决口");
	/* li's message is still being retried when it is dismissed. */
	assert_int_equal(fakefetch_answer(200, "ok", 0) >= 0, 1);
	fakeclock_turn();
	fakeclock_advance(19 * MIN);
	assert_int_equal(incact_dismiss(a, "li", "经核实为演练", &changed), 0);
	assert_int_equal(changed, 1);
	fakeclock_turn();
	d = data_of("incident.dismissed", INC1);
	assert_string_equal(s_of(d, "reason"), "经核实为演练");
	assert_string_equal(s_of(d, "by_name"), "李强");
	json_decref(d);
	assert_int_equal(a->state, INCIDENT_DISMISSED);
	assert_string_equal(incident_state_name(a->state), "dismissed");
	assert_string_equal(a->closed.text, "经核实为演练");
	/* Its clocks are stopped at once, not left to find it closed. */
	assert_int_equal(clock_armed(&a->ack_clock.clock), 0);
	assert_int_equal(clock_armed(&a->report_clock.clock), 0);
	/* The message not yet delivered no longer matters; the dismissal does. */
	assert_int_equal(memstore_count_of("notify.abandoned", INC1), 1);
	assert_string_equal(corefix_sent("incident.dismissed", INC1), "zhang,li");
	assert_string_equal(text_to("incident.dismissed", INC1, "zhang"),
	    "【误报】A县应急管理局报告的“河堤决口”（" INC1 "）经李强核实为误报，"
	    "已撤销。原因：经核实为演练。详情：https://duty.example.gov.cn/api/v1/"
	    "incidents/" INC1);
	fakeclock_advance(2 * HOUR);
	assert_int_equal(memstore_count_of("incident.escalated", INC1), 0);
	assert_int_equal(memstore_count_of("incident.report_overdue", INC1), 0);
	assert_int_equal(fakeclock_armed(), 0);
	/* Again: nothing; resolved or merged ones cannot be dismissed. */
	assert_int_equal(incact_dismiss(a, "zhang", "again", &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(memstore_count_of("incident.dismissed", INC1), 1);
	assert_int_equal(incact_file_report(a, "zhang", NULL, &changed), 0);
	assert_int_equal(changed, 0);
}

/* Restarts ------------------------------------------------------------------ */

/* What a merge, a dismissal and a redirected follow-up leave, after a restart. */
static void
check_after_restart(void)
{
	struct incident *a = incident_find(INC1), *b = incident_find(INC2);
	struct incident *c = incident_find(INC3);
	json_t *v;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(a->state, INCIDENT_MERGED);
	assert_string_equal(a->merged_into, INC2);
	assert_string_equal(a->closed.by_name, "张伟");
	assert_int_equal(c->state, INCIDENT_DISMISSED);
	assert_string_equal(c->closed.text, "误报");
	assert_string_equal(json_string_value(json_array_get(b->merged_from, 0)),
	    INC1);
	assert_int_equal(json_array_size(b->updates), 1);
	assert_string_equal(s_of(json_array_get(b->updates, 0), "via"), INC1);
	assert_true(inctold_has(&a->told, "li"));
	assert_true(inctold_has(&c->told, "zhang"));
	/* As the API shows them. */
	v = incview_json(a, 0);
	assert_string_equal(s_of(v, "state"), "merged");
	assert_string_equal(s_of(v, "merged_into"), INC2);
	assert_string_equal(s_of(json_object_get(v, "merged_by"), "id"), "zhang");
	assert_string_equal(s_of(json_object_get(json_object_get(v, "clocks"),
	    "ack"), "state"), "stopped");
	json_decref(v);
	v = incview_json(c, 0);
	assert_string_equal(s_of(v, "state"), "dismissed");
	assert_string_equal(s_of(v, "dismissal_reason"), "误报");
	json_decref(v);
	/* Nothing is told again, no clock of theirs fires. */
	corefix_deliver_all();
	fakeclock_advance(2 * HOUR);
	assert_int_equal(memstore_count_of("incident.merged", NULL), 1);
	assert_int_equal(memstore_count_of("notify.intent", INC1), 2);
	assert_int_equal(memstore_count_of("notify.intent", INC3), 2);
	assert_int_equal(memstore_count_of("incident.escalated", INC1), 0);
	assert_int_equal(memstore_count_of("incident.escalated", INC3), 0);
	assert_int_equal(memstore_count_of("incident.escalated", INC2), 1);
}

static void
make_corrections(void)
{
	struct incident	*a, *c;
	json_t		*u;
	int		 changed;

	a = corefix_report("county-a", "化工厂爆炸");
	corefix_report("county-b", "化工厂爆炸起火");
	c = corefix_report("county-a", "山体滑坡");
	corefix_deliver_all();
	assert_int_equal(incact_merge(a, "zhang", INC2, "重复", &changed), 0);
	assert_int_equal(incact_dismiss(c, "zhang", "误报", &changed), 0);
	u = update_of("火势已控制");
	assert_int_equal(incact_update(a, "county-a", "k1", u, &changed), 0);
	json_decref(u);
	corefix_deliver_all();
}

static void
test_restart_replays_the_corrections(void **state)
{
	make_corrections();
	corefix_restart(MIN);
	check_after_restart();
}

static void
test_restart_from_a_checkpoint_keeps_the_corrections(void **state)
{
	make_corrections();
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(MIN);
	check_after_restart();
}

/* A merge whose message was not yet recorded when dutyd died is told after. */
static void
test_a_merge_is_told_after_a_crash(void **state)
{
	struct incident	*a;
	int		 changed;

	a = corefix_report("county-a", "甲");
	corefix_report("county-a", "乙");
	corefix_deliver_all();
	memstore_fail(ENOSPC, 1);	/* the merge is written, its intent not */
	assert_int_equal(incact_merge(a, "zhang", INC2, NULL, &changed), 0);
	memstore_fail(0, 0);
	corefix_restart(MIN);
	corefix_deliver_all();
	assert_int_equal(memstore_count_of("incident.merged", INC1), 1);
	assert_string_equal(corefix_sent("incident.merged", INC1), "zhang,li");
}

/* Phoned-in reports and late ones ------------------------------------------- */

static void
test_a_report_taken_by_phone(void **state)
{
	struct incident	*inc;
	char		 at[TIME_RFC3339_MAX];
	json_t		*report, *r, *v;

	report = json_pack("{s:s, s:s}", "title", "某村山洪", "occurred_at",
	    time_format(fakeclock_now(), at, sizeof(at)));
	assert_int_equal(incact_report_phoned("county-b", "wang", NULL, report,
	    fakeclock_now(), "0", &inc), 0);
	json_decref(report);
	fakeclock_turn();
	r = corefix_record("report.received", inc->id);
	assert_string_equal(s_of(r, "actor"), "person:wang");
	v = json_object_get(r, "data");
	assert_string_equal(s_of(v, "source"), "phone");
	assert_string_equal(s_of(v, "office"), "county-b");
	assert_string_equal(s_of(v, "taken_by"), "wang");
	assert_string_equal(s_of(v, "taken_by_name"), "王芳");
	json_decref(r);
	/* Everything else as for the county's own report. */
	assert_string_equal(inc->office, "county-b");
	assert_string_equal(corefix_sent("incident.new", inc->id), "zhang,li");
	v = incview_json(inc, 0);
	assert_string_equal(s_of(v, "source"), "phone");
	assert_string_equal(s_of(json_object_get(v, "taken_by"), "name"), "王芳");
	json_decref(v);
	/* A county's own report says where it came from too. */
	inc = corefix_report("county-a", "甲");
	v = incview_json(inc, 0);
	assert_string_equal(s_of(v, "source"), "api");
	assert_true(json_is_null(json_object_get(v, "taken_by")));
	json_decref(v);
}

static void
test_late_by_minutes(void **state)
{
	struct incident	*inc;
	char		 at[TIME_RFC3339_MAX];
	json_t		*report, *d, *v;

	/* 35 minutes after the event, 20 allowed: 15 late. */
	report = json_pack("{s:s, s:s}", "title", "化工厂爆炸", "occurred_at",
	    time_format(fakeclock_now() - 35 * MIN, at, sizeof(at)));
	assert_int_equal(incact_report("county-a", NULL, report,
	    fakeclock_now() - 35 * MIN, "0", &inc), 0);
	json_decref(report);
	fakeclock_turn();
	d = data_of("report.received", inc->id);
	assert_true(json_is_true(json_object_get(d, "late_report")));
	assert_int_equal(json_integer_value(json_object_get(d,
	    "late_by_minutes")), 15);
	json_decref(d);
	v = incview_json(inc, 0);
	assert_int_equal(json_integer_value(json_object_get(v,
	    "late_by_minutes")), 15);
	json_decref(v);
	/* Seconds late is late: a minute; in time is 0. */
	assert_int_equal(incact_late_minutes(0, 20 * MIN + 10), 1);
	assert_int_equal(incact_late_minutes(0, 20 * MIN), 0);
	assert_int_equal(incact_late_minutes(0, 5 * MIN), 0);
}

/* SMS: the county's answer and mistyped follow-ups --------------------------- */

static void
test_the_county_hears_it_was_late_not_the_city_deadlines(void **state)
{
	json_t *d;

	assert_string_equal(sms(OFFICE_A, "07:25 化工厂爆炸"),
	    "已收到，事件编号 " INC1 "。本次报告距事发 35 分钟，已超过 20 分钟报告"
	    "时限。续报请以事件编号开头。");
	d = data_of("report.received", INC1);
	assert_int_equal(json_integer_value(json_object_get(d, "late_by_minutes")),
	    15);
	json_decref(d);
	assert_string_equal(sms(OFFICE_A, "07:45 山体滑坡"),
	    "已收到，事件编号 " INC2 "。续报请以事件编号开头。");
}

static void
test_a_followup_word_goes_to_the_only_open_incident(void **state)
{
	struct incident *a;

	a = corefix_report("county-a", "化工厂爆炸");
	corefix_report("county-b", "别县的事");
	corefix_deliver_all();
	assert_string_equal(sms(OFFICE_A, "续报：化工厂火势已控制，无新增伤亡"),
	    "已作为事件 " INC1 "（化工厂爆炸）的续报记录。续报请以事件编号开头，如："
	    INC1 " 火势已控制。");
	assert_string_equal(sms_outcome(), "followup|" INC1 "|" INC1);
	assert_int_equal(memstore_count_of("report.received", NULL), 2);
	assert_string_equal(s_of(json_object_get(json_array_get(a->updates, 0),
	    "fields"), "details"), "化工厂火势已控制，无新增伤亡");
	/* 补充 and 【续报】 too; 更正 keeps its word. */
	assert_non_null(sms(OFFICE_A, "补充 3人送医"));
	assert_non_null(sms(OFFICE_A, "【续报】已疏散200人"));
	assert_non_null(sms(OFFICE_A, "更正：受伤2人"));
	assert_int_equal(json_array_size(a->updates), 4);
	assert_string_equal(s_of(json_object_get(json_array_get(a->updates, 2),
	    "fields"), "details"), "已疏散200人");
	assert_string_equal(s_of(json_object_get(json_array_get(a->updates, 3),
	    "fields"), "details"), "更正：受伤2人");
	/* An incident older than 24 hours is not guessed at. */
	fakeclock_advance(25 * HOUR);
	assert_string_equal(sms(OFFICE_A, "续报：已撤离"),
	    "未能确定续报对应哪起事件，短信未登记。本单位未办结事件：" INC1
	    " 化工厂爆炸；续报请以事件编号开头，如：" INC1 " 火势已控制。");
	assert_string_equal(sms_outcome(), "followup|no recent incident|(none)");
	assert_int_equal(json_array_size(a->updates), 4);
	assert_int_equal(memstore_count_of("report.received", NULL), 2);
}

static void
test_a_followup_word_with_two_open_incidents_is_answered_with_both(void **state)
{
	corefix_report("county-a", "化工厂爆炸");
	corefix_report("county-a", "一个名字很长很长很长很长很长很长的山体滑坡事件");
	corefix_deliver_all();
	assert_string_equal(sms(OFFICE_A, "续报：化工厂火势已控制"),
	    "未能确定续报对应哪起事件，短信未登记。本单位未办结事件：" INC2
	    " 一个名字很长很长很长很长很长很长的山体滑…；" INC1 " 化工厂爆炸；续报请以"
	    "事件编号开头，如：" INC2 " 火势已控制。");
	assert_string_equal(sms_outcome(),
	    "followup|several open incidents|(none)");
	assert_int_equal(memstore_count_of("report.received", NULL), 2);
	assert_int_equal(memstore_count_of("incident.updated", NULL), 0);
	/* With none open: never a new incident either. */
	assert_string_equal(sms(OFFICE_B, "更正：伤亡人数为2人"),
	    "本单位没有未办结的事件，短信未登记。如是新报告，请直接写事件名称重新发送"
	    "（不以“更正”或事件编号开头）。");
	assert_string_equal(sms_outcome(), "followup|no open incident|(none)");
	assert_int_equal(memstore_count_of("report.received", NULL), 2);
}

static void
test_an_id_close_to_the_form_names_its_incident(void **state)
{
	struct incident *a, *b;

	a = corefix_report("county-a", "化工厂爆炸");
	b = corefix_report("county-a", "山体滑坡");
	corefix_deliver_all();
	/* Two open: the id says which, written however. */
	assert_string_equal(sms(OFFICE_A, "INC20261202-0001 补充：3人送医"),
	    "已收到事件 " INC1 " 的续报。");
	assert_string_equal(s_of(json_object_get(json_array_get(a->updates, 0),
	    "fields"), "details"), "补充：3人送医");
	assert_string_equal(sms(OFFICE_A, "inc-20261202-2 道路已抢通"),
	    "已收到事件 " INC2 " 的续报。");
	assert_string_equal(sms(OFFICE_A,
	    "ＩＮＣ２０２６１２０２０００２　已撤离"), "已收到事件 " INC2 " 的续报。");
	assert_string_equal(sms(OFFICE_A, "续报 INC 20261202 0001 火灭了"),
	    "已收到事件 " INC1 " 的续报。");
	assert_int_equal(json_array_size(a->updates), 2);
	assert_int_equal(json_array_size(b->updates), 2);
	/* An id that names nothing, with two open: the list. */
	assert_string_equal(sms_outcome(), "followup|" INC1 "|" INC1);
	assert_non_null(strstr(sms(OFFICE_A, "INC20261202-0009 补充"),
	    "未能确定续报对应哪起事件"));
	assert_int_equal(memstore_count_of("report.received", NULL), 2);
	/* Another office's incident is not this office's to add to. */
	assert_string_equal(sms(OFFICE_B, "INC20261202-0001 补充"),
	    "事件 " INC1 " 不是本单位报告的，续报未记录。请核对事件编号。");
}

static void
test_sms_followups_to_closed_incidents(void **state)
{
	struct incident	*a, *c;
	int		 changed;

	a = corefix_report("county-a", "化工厂爆炸");
	corefix_report("county-b", "化工厂爆炸起火");
	c = corefix_report("county-a", "山洪");
	corefix_deliver_all();
	assert_int_equal(incact_merge(a, "zhang", INC2, NULL, &changed), 0);
	assert_int_equal(incact_dismiss(c, "zhang", "演练", &changed), 0);
	fakeclock_turn();
	assert_string_equal(sms(OFFICE_A, INC1 " 火势已控制"),
	    "已收到事件 " INC1 " 的续报。该事件已并入事件 " INC2 "，续报已记入 "
	    INC2 "。");
	assert_string_equal(sms_outcome(), "followup|" INC2 "|" INC1);
	assert_int_equal(json_array_size(incident_find(INC2)->updates), 1);
	assert_string_equal(sms(OFFICE_A, INC3 " 又有新情况"),
	    "事件 " INC3 " 已核实为误报并撤销，续报未记录。如有新情况，请作为新报告"
	    "发送（不以事件编号开头）。");
	assert_string_equal(sms_outcome(), "followup|dismissed|" INC3);
	/* Both closed: a word is not guessed onto either. */
	assert_non_null(strstr(sms(OFFICE_A, "续报：火灭了"),
	    "本单位没有未办结的事件"));
	/* Staff replying to a closed incident are told how it was closed. */
	assert_string_equal(sms(LI, "A " INC3),
	    "事件 " INC3 " 已由张伟于 08:00 核实为误报，无需再操作。");
	assert_string_equal(sms(LI, "R " INC1),
	    "事件 " INC1 " 已由张伟于 08:00 并入事件 " INC2 "，无需再操作。");
	assert_int_equal(memstore_count_of("incident.resolved", NULL), 0);
}

/* The parser of mistyped follow-ups, alone. */
static void
test_smsfollow_parse(void **state)
{
	static const struct {
		const char		*text;
		enum smsfollow_kind	 kind;
		const char		*id, *rest;
	} cases[] = {
		{ "续报：火势已控制", SMSFOLLOW_WORD, "", "火势已控制" },
		{ "  补充,3人送医", SMSFOLLOW_WORD, "", "3人送医" },
		{ "【更正】死亡1人", SMSFOLLOW_WORD, "", "【更正】死亡1人" },
		{ "[补充] 死亡1人", SMSFOLLOW_WORD, "", "死亡1人" },
		{ "续报", SMSFOLLOW_WORD, "", "" },
		{ "INC20261202-0001 补充", SMSFOLLOW_ID, INC1, "补充" },
		{ "inc-20261202-1：好", SMSFOLLOW_ID, INC1, "好" },
		{ "INC202612020012 x", SMSFOLLOW_ID, "INC-20261202-0012", "x" },
		{ "ＩＮＣ－２０２６１２０２－０００３ y", SMSFOLLOW_ID, INC3, "y" },
		{ "INC_20261202_12345 z", SMSFOLLOW_ID, "INC-20261202-12345", "z" },
		{ "续报 INC20261202-0001 x", SMSFOLLOW_ID, INC1, "x" },
		{ "INC-2026120-0001 x", SMSFOLLOW_NONE, "", "" },
		{ "INCIDENT 火灾", SMSFOLLOW_NONE, "", "" },
		{ "14:05 化工厂爆炸", SMSFOLLOW_NONE, "", "" },
		{ "报告：续报", SMSFOLLOW_NONE, "", "" },
	};
	struct smsfollow f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (smsfollow_parse(cases[i].text, &f) != cases[i].kind)
			fail_msg("\"%s\": kind %d", cases[i].text, f.kind);
		assert_string_equal(f.id, cases[i].id);
		if (f.kind != SMSFOLLOW_NONE)
			assert_string_equal(cases[i].text + f.rest, cases[i].rest);
	}
}

/* Message texts -------------------------------------------------------------- */

static void
test_acknowledgement_texts(void **state)
{
	struct incident	*a, *b;
	int		 changed;

	a = corefix_report("county-a", "化工厂爆炸");
	b = corefix_report("county-a", "山体滑坡");
	corefix_deliver_all();
	/* In time, with a note: the note is in the message. */
	assert_int_equal(incact_acknowledge(a, "zhang", "已派人前往", &changed), 0);
	fakeclock_turn();
	assert_true(starts_with(text_to("incident.acknowledged", INC1, "li"),
	    "【已确认】A县应急管理局报告的“化工厂爆炸”（级别未定）已由张伟确认（备注："
	    "已派人前往），书面报告须于 08:40 前报送。详情：https://duty.example."
	    "gov.cn/"));
	corefix_deliver_all();
	/* After the written report's deadline: it says the report is overdue. */
	fakeclock_advance(45 * MIN);
	corefix_deliver_all();
	assert_int_equal(incact_acknowledge(b, "li", NULL, &changed), 0);
	fakeclock_turn();
	assert_true(starts_with(text_to("incident.acknowledged", INC2, "zhang"),
	    "【已确认】A县应急管理局报告的“山体滑坡”（级别未定）已由李强确认，书面报告"
	    "已超时（时限 08:40），请立即报送。详情："));
	/* A written report filed with an empty reference: 未填写. */
	assert_int_equal(incact_file_report(b, "li", "  ", &changed), 0);
	fakeclock_turn();
	assert_non_null(strstr(text_to("incident.report_filed", INC2, "zhang"),
	    "（文号：未填写）"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_merge_closes_the_duplicate_into_the_other, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_merge_refuses_what_cannot_be_merged, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_followups_to_a_duplicate_go_to_the_other, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_dismiss_closes_a_false_report, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_replays_the_corrections, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_restart_from_a_checkpoint_keeps_the_corrections, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_merge_is_told_after_a_crash, setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_a_report_taken_by_phone,
		    setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(test_late_by_minutes, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_county_hears_it_was_late_not_the_city_deadlines,
		    setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_followup_word_goes_to_the_only_open_incident, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_followup_word_with_two_open_incidents_is_answered_with_both,
		    setup, corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_id_close_to_the_form_names_its_incident, setup,
		    corefix_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sms_followups_to_closed_incidents, setup,
		    corefix_teardown),
		cmocka_unit_test(test_smsfollow_parse),
		cmocka_unit_test_setup_teardown(test_acknowledgement_texts,
		    setup, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
