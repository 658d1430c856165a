/*
 * What the duty room reads, word for word, on a fake clock: a leader
 * decides from the message alone, so incident.new and incident.escalated
 * carry the casualties, the reporter to call back, the 迟报 mark and both
 * deadlines; an SMS keeps all of that and cuts the details; who is told
 * follows the roles and each person's min_level; and a message that could
 * not be delivered at all is itself an alarm to the officers on duty.
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
#include "base/timeutil.h"
#include "config/config.h"
#include "config/template.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "notify/smsfit.h"
#include "parse/report.h"
#include "state/incident.h"
#include "state/incview.h"

#define MIN	COREFIX_MIN
#define ZHANG	"+8613800000001"

#define DING	"https://oapi.dingtalk.com/robot/send?access_token=t"

#define DING_REFUSED \
    "{\"errcode\":310000,\"errmsg\":\"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]\"}"

#define PEOPLE_WITH(li) \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: sms, to: \"" ZHANG "\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", min_level: II, contacts: [ " li " ] }\n" \
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n" \
    "  - { id: zhao, name: \"赵敏\", token: \"secret-zhao\", contacts: [ { channel: hook, to: \"zhao\" } ] }\n" \
    "duty:\n" \
    "  officers: [zhang]\n" \
    "  leader: li\n" \
    "  escalation: [wang]\n" \
    "channels:\n" \
    "  sms: { plugin: twilio_sms, account_sid: \"AC00000000000000000000000000000000\", auth_token: \"fake-twilio-auth-token\", from: \"+15005550006\", url: \"http://127.0.0.1:9\" }\n" \
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n" \
    "  ding: { plugin: dingtalk, url: \"" DING "\", rate_limit: none }\n"

#define PEOPLE	PEOPLE_WITH("{ channel: hook, to: \"li\" }")

#define POLICY \
    "policy:\n" \
    "  county_deadline: 20m\n" \
    "  ack_timeout: 20m\n" \
    "  report_deadline: 40m\n" \
    "  retry_initial: 1s\n"

static const char conf[] = PEOPLE POLICY;

/* li's only contact is a DingTalk robot. */
static const char conf_ding[] = PEOPLE_WITH("{ channel: ding, to: \"13800000002\" }")
    POLICY;

/* Level 2 calls roles, not people: whoever holds them at that moment. */
static const char conf_roles[] = PEOPLE POLICY
    "  escalation:\n"
    "    - { after: 10m, notify: [leader, zhao] }\n";

static const char conf_templates[] = PEOPLE
    "templates:\n"
    "  incident.new: \"{category}|{cause}|{measures}|{casualties}|{reporter}|"
    "{reporter_phone}|{late_report}|{report_deadline}|{action}：{link}\"\n"
    POLICY;

/* A county's report as POST /api/v1/reports takes it, OCCURRED minutes ago. */
static struct incident *
report(const char *fields, int occurred)
{
	struct report_error	 err;
	struct incident		*inc = NULL;
	char			 at[TIME_RFC3339_MAX], *body;
	int64_t			 occurred_ms;
	json_t			*r;

	time_format(fakeclock_now() - occurred * MIN, at, sizeof(at));
	assert_true(asprintf(&body, "{\"occurred_at\": \"%s\", %s}", at,
	    fields) != -1);
	r = report_parse(body, strlen(body), &occurred_ms, &err);
	if (r == NULL)
		fail_msg("report_parse: %s", err.message);
	free(body);
	assert_int_equal(incact_report("county-a", NULL, r, occurred_ms, "0",
	    &inc), 0);
	json_decref(r);
	fakeclock_turn();
	return inc;
}

#define CHEMICAL \
    "\"title\": \"某镇化工厂爆炸\", \"level\": \"II\", " \
    "\"location\": \"某镇工业园\", " \
    "\"casualties\": {\"dead\": 1, \"injured\": 5}, " \
    "\"reporter\": {\"name\": \"王强\", \"phone\": \"13800138000\"}"

/* Who was told of EVENT about INCIDENT, by any channel, as "zhang,li". */
static const char *
told(const char *event, const char *incident)
{
	static char	 out[512];
	json_t		*all = memstore_records("notify.intent", incident), *r, *p;
	size_t		 i, j, len = 0;

	out[0] = '\0';
	json_array_foreach(all, i, r) {
		if (strcmp(json_string_value(json_object_get(json_object_get(r,
		    "data"), "event")), event) != 0)
			continue;
		json_array_foreach(json_object_get(json_object_get(r, "data"),
		    "recipients"), j, p)
			len += (size_t)snprintf(out + len, sizeof(out) - len,
			    "%s%s", len > 0 ? "," : "", json_string_value(
			    json_object_get(p, "person")));
	}
	json_decref(all);
	return out;
}

/* TEXT is PREFIX and a one-tap token. */
static void
ends_in_a_link(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", text, prefix);
	assert_int_equal(strlen(text + strlen(prefix)), 24);
}

/* The text of the webhook message of EVENT to WHO (the last one). */
static const char *
hook_text(const char *event, const char *who)
{
	static char		 out[4096];
	struct fakefetch_req	*r;
	const char		*ev, *to;
	size_t			 i;

	out[0] = '\0';
	for (i = 0; (r = fakefetch_get(i)) != NULL; i++) {
		ev = json_string_value(json_object_get(r->json, "event"));
		to = json_string_value(json_object_get(json_object_get(r->json,
		    "recipient"), "id"));
		if (ev != NULL && to != NULL && strcmp(ev, event) == 0 &&
		    strcmp(to, who) == 0)
			snprintf(out, sizeof(out), "%s", json_string_value(
			    json_object_get(r->json, "text")));
	}
	return out;
}

static void
has(const char *text, const char *what)
{
	if (strstr(text, what) == NULL)
		fail_msg("\"%s\" is not in: %s", what, text);
}

static void
test_new_and_escalated_carry_what_a_leader_decides_on(void **state)
{
	struct incident *inc;
	const char	*t;

	corefix_start(conf);
	/* 35 minutes after the event: 15 past the county's 20. */
	inc = report(CHEMICAL, 35);
	assert_true(inc->late_report);
	t = hook_text("incident.new", "li");
	ends_in_a_link(t, "【突发事件】A县应急管理局报告：某镇化工厂爆炸（II级）"
	    "（迟报 15 分钟）。伤亡：死亡1人、受伤5人；地点：某镇工业园；报告人："
	    "王强（回电 13800138000）。接报 12-02 08:00，确认时限 08:20，书面报告"
	    "时限 08:40。确认：https://duty.example.gov.cn/a/");
	corefix_deliver_all();

	fakeclock_advance(20 * MIN);
	t = hook_text("incident.escalated", "li");
	has(t, "【超时未确认】A县应急管理局报告：某镇化工厂爆炸（II级）（迟报 15 分钟）");
	has(t, "确认时限 08:20 已过");
	has(t, "伤亡：死亡1人、受伤5人");
	has(t, "报告人：王强（回电 13800138000）");
	has(t, "书面报告时限 08:40");
	has(t, "确认：https://duty.example.gov.cn/a/");
	corefix_deliver_all();
}

/* On time, and with nothing but a title: nothing invented, nothing empty. */
static void
test_only_what_was_reported_is_said(void **state)
{
	const char *t;

	corefix_start(conf);
	report("\"title\": \"河堤管涌\", \"casualties\": {\"missing\": 2}", 5);
	t = hook_text("incident.new", "li");
	has(t, "河堤管涌（级别未定）。伤亡：失踪2人。接报 12-02 08:00");
	/* The officer's SMS: the same facts. */
	t = corefix_sms_to(ZHANG);
	has(t, "河堤管涌（级别未定）。伤亡：失踪2人。接报 12-02 08:00");
	assert_null(strstr(t, "迟报"));
	assert_null(strstr(t, "死亡"));
	assert_null(strstr(t, "报告人"));
	assert_null(strstr(t, "地点"));
}

/* A place and a number to call back, no name: said as they are, in order. */
static void
test_facts_without_a_name(void **state)
{
	corefix_start(conf);
	report("\"title\": \"河堤管涌\", \"location\": \"某村\", "
	    "\"reporter\": {\"phone\": \"13900000000\"}", 5);
	has(hook_text("incident.new", "li"), "河堤管涌（级别未定）。地点：某村；"
	    "报告人： （回电 13900000000）。接报 12-02 08:00");
}

/*
 * An 18-character title and long details on a 3-part SMS: the details
 * are cut, never the title, level, casualties, deadlines, link or hint.
 */
static void
test_an_sms_keeps_its_essentials(void **state)
{
	const char	*t;
	char		*token;

	corefix_start(conf);
	report("\"title\": \"某某县某某镇某某村化工厂储罐爆炸\", \"level\": \"II\", "
	    "\"casualties\": {\"dead\": 1, \"injured\": 5}, "
	    "\"details\": \"今晨储罐区发生爆炸并引发火灾，现场浓烟较大，周边三个村庄"
	    "约两千名群众正在疏散，消防救援队伍已到场处置，环保部门正在监测下风向"
	    "空气质量，事故原因正在调查，伤员已送往县人民医院救治，其中两人伤势较重。"
	    "\"", 5);
	t = corefix_sms_to(ZHANG);
	assert_true(smsfit_segments(t) <= 3);
	has(t, "某某县某某镇某某村化工厂储罐爆炸");
	has(t, "（II级）");
	has(t, "伤亡：死亡1人、受伤5人");
	has(t, "确认时限 08:20");
	has(t, "书面报告时限 08:40");
	/* The details gave way, marked as cut. */
	has(t, "今晨储罐区发生爆炸");
	has(t, "…");
	assert_null(strstr(t, "其中两人伤势较重"));
	/* The link whole, 24 characters of token, then the reply hint. */
	assert_non_null(token = strstr(t, "https://duty.example.gov.cn/a/"));
	token += strlen("https://duty.example.gov.cn/a/");
	assert_true(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789-_") == 24);
	has(t, " 回复1A确认，1F已报省");
}

/* Every report field is a placeholder; {action} says what the link does. */
static void
test_every_report_field_is_a_placeholder(void **state)
{
	struct incident	*inc;
	const char	*t;
	int		 changed;
	json_t		*u;

	corefix_start(conf_templates);
	inc = report("\"title\": \"化工厂爆炸\", \"level\": \"I\", "
	    "\"category\": \"危险化学品事故\", \"cause\": \"储罐泄漏\", "
	    "\"measures\": \"已疏散周边群众\", "
	    "\"casualties\": {\"dead\": 3, \"injured\": 2, \"missing\": 1}, "
	    "\"reporter\": {\"name\": \"王强\", \"phone\": \"13800138000\"}", 45);
	t = hook_text("incident.new", "li");
	ends_in_a_link(t, "危险化学品事故|储罐泄漏|已疏散周边群众|"
	    "死亡3人、受伤2人、失踪1人|王强|13800138000|（迟报 25 分钟）|08:40|"
	    "确认：https://duty.example.gov.cn/a/");
	/* A follow-up's facts win over the report's. */
	corefix_deliver_all();
	u = json_pack("{s:{s:i}}", "casualties", "dead", 4);
	assert_int_equal(incact_update(inc, "county-a", "u1", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	has(hook_text("incident.updated", "li"), "伤亡：死亡4人");
}

/*
 * The officers on duty write the report: they hear of the escalation and
 * of the overdue report too.  A level's roles are whoever holds them.
 */
static void
test_officers_hear_every_alarm_and_levels_name_roles(void **state)
{
	struct incident *inc;

	corefix_start(conf_roles);
	inc = report(CHEMICAL, 5);
	assert_string_equal(told("incident.new", inc->id), "zhang,li");
	corefix_deliver_all();
	fakeclock_advance(20 * MIN);
	assert_string_equal(told("incident.escalated", inc->id),
	    "zhang,li,wang");
	has(corefix_sms_to(ZHANG), "【超时未确认】");
	corefix_deliver_all();
	fakeclock_advance(10 * MIN);
	/* Level 2: the officers, then "leader" (li) and zhao. */
	assert_string_equal(told("incident.escalated", inc->id),
	    "zhang,li,wang,zhang,li,zhao");
	corefix_deliver_all();
	fakeclock_advance(10 * MIN);
	assert_string_equal(told("incident.report_overdue", inc->id),
	    "zhang,li,wang");
	has(corefix_sms_to(ZHANG), "【书面报告超时】");
}

/*
 * min_level holds back news of a minor incident, never an alarm: li
 * (II and above) is not told of a IV incident, is told of a II, and hears
 * the IV one's escalation.
 */
static void
test_min_level_filters_news_not_alarms(void **state)
{
	struct incident *minor, *major, *unknown;

	corefix_start(conf);
	minor = report("\"title\": \"路灯倒伏\", \"level\": \"IV\"", 1);
	major = report(CHEMICAL, 1);
	unknown = report("\"title\": \"情况不明\"", 1);
	assert_string_equal(told("incident.new", minor->id), "zhang");
	assert_string_equal(told("incident.new", major->id), "zhang,li");
	/* A report without a level could be anything: told. */
	assert_string_equal(told("incident.new", unknown->id),
	    "zhang,li");
	corefix_deliver_all();
	fakeclock_advance(20 * MIN);
	assert_string_equal(told("incident.escalated", minor->id),
	    "zhang,li,wang");
}

/*
 * A message that failed for good is an alarm: recorded, shown on the
 * incident, and told to the officers on duty, naming who could not be
 * reached, how, and why.  Never about itself.
 */
static void
test_an_undeliverable_message_is_an_alarm(void **state)
{
	struct incident	*inc;
	json_t		*rec, *view, *u;
	const char	*t;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf_ding);
	inc = report(CHEMICAL, 5);
	snprintf(id, sizeof(id), "%s", inc->id);
	/* li's robot refuses for good: its signing secret is wrong. */
	assert_true(fakefetch_answer_to("dingtalk", 200, DING_REFUSED, 0) >= 0);
	fakeclock_turn();

	rec = corefix_record("notify.undeliverable", id);
	assert_string_equal(json_string_value(json_object_get(rec, "actor")),
	    "dutyd");
	u = json_object_get(rec, "data");
	assert_string_equal(json_string_value(json_object_get(u, "person")), "li");
	assert_string_equal(json_string_value(json_object_get(u, "name")), "李强");
	assert_string_equal(json_string_value(json_object_get(u, "event")),
	    "incident.new");
	has(json_string_value(json_object_get(u, "reason")),
	    "钉钉 errcode 310000");
	json_decref(rec);

	/* The officer on duty is told, by SMS, what to do: phone li. */
	t = corefix_sms_to(ZHANG);
	has(t, "【通知失败】无法通知 李强（钉钉 errcode 310000");
	has(t, "请电话联系");
	has(t, "某镇化工厂爆炸");
	assert_string_equal(told("notify.undeliverable", id), "zhang");
	corefix_deliver_all();

	/* The incident shows it, also after a restart from a checkpoint. */
	view = incview_json(inc, 0);
	assert_int_equal(json_array_size(json_object_get(view,
	    "undeliverable")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(view, "undeliverable"), 0), "person")), "li");
	json_decref(view);
	memstore_want_checkpoint();
	fakeclock_turn();
	corefix_restart(MIN);
	inc = incident_find(id);
	view = incview_json(inc, 0);
	assert_int_equal(json_array_size(json_object_get(view,
	    "undeliverable")), 1);
	json_decref(view);
	/* Nothing was told twice. */
	assert_int_equal(memstore_count_of("notify.undeliverable", id), 1);
}

/* The alarm about the alarm failing is not itself alarmed: no loop. */
static void
test_an_undeliverable_alarm_does_not_loop(void **state)
{
	struct incident	*inc;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf_ding);
	inc = report(CHEMICAL, 5);
	snprintf(id, sizeof(id), "%s", inc->id);
	assert_true(fakefetch_answer_to("dingtalk", 200, DING_REFUSED, 0) >= 0);
	fakeclock_turn();
	/* zhang's SMS about li refused as well. */
	assert_true(fakefetch_answer_to("%E3%80%90%E9%80%9A%E7%9F%A5%E5%A4%B1%E8%B4%A5",
	    400, "{\"code\":21211,\"message\":\"Invalid 'To' Phone Number\"}",
	    0) >= 0);
	fakeclock_turn();
	corefix_deliver_all();
	fakeclock_advance(MIN);
	assert_int_equal(memstore_count_of("notify.undeliverable", id), 1);
	assert_int_equal(fakefetch_pending(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_new_and_escalated_carry_what_a_leader_decides_on, corefix_teardown),
		cmocka_unit_test_teardown(test_facts_without_a_name, corefix_teardown),
		cmocka_unit_test_teardown(test_only_what_was_reported_is_said, corefix_teardown),
		cmocka_unit_test_teardown(test_an_sms_keeps_its_essentials, corefix_teardown),
		cmocka_unit_test_teardown(test_every_report_field_is_a_placeholder, corefix_teardown),
		cmocka_unit_test_teardown(test_officers_hear_every_alarm_and_levels_name_roles, corefix_teardown),
		cmocka_unit_test_teardown(test_min_level_filters_news_not_alarms, corefix_teardown),
		cmocka_unit_test_teardown(test_an_undeliverable_message_is_an_alarm, corefix_teardown),
		cmocka_unit_test_teardown(test_an_undeliverable_alarm_does_not_loop, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
