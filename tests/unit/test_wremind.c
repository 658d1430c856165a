/*
 * The written report on a fake clock: the reminder comes report_reminder
 * before the deadline and not a millisecond earlier, says what is missing
 * as the records say it, goes to the officers and the leader on duty, is
 * never sent twice (restarts included) and never for a report already
 * sent; a downtime across its time sends it late, one across the deadline
 * leaves it to the overdue alarm.  A submission stops the report clock.
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
#include "actions/wremind.h"
#include "actions/wrsend.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "state/incident.h"
#include "base/timeutil.h"
#include "store/store.h"

#define MIN	COREFIX_MIN

#define CONF \
    "timezone: \"Asia/Shanghai\"\n" \
    "organization: \"某市人民政府总值班室\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n" \
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n" \
    "duty:\n" \
    "  officers: [zhang]\n" \
    "  leader: li\n" \
    "  escalation: [wang]\n" \
    "channels:\n" \
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n" \
    "policy:\n" \
    "  ack_timeout: 20m\n" \
    "  report_deadline: 40m\n"

static const char conf[] = CONF;
static const char conf_off[] = CONF "  report_reminder: 0\n";
static const char conf_province[] = CONF
    "province:\n"
    "  name: \"省政府总值班室\"\n"
    "  contacts: [ { channel: hook, to: \"province\" } ]\n";

/* A report of LEVEL from county-a, now. */
static struct incident *
report_level(const char *title, const char *level)
{
	struct incident	*inc = NULL;
	char		 at[TIME_RFC3339_MAX];
	json_t		*report;

	report = json_pack("{s:s, s:s, s:s}", "title", title, "level", level,
	    "occurred_at", time_format(fakeclock_now(), at, sizeof(at)));
	assert_non_null(report);
	assert_int_equal(incact_report("county-a", NULL, report,
	    fakeclock_now(), "0", &inc), 0);
	json_decref(report);
	fakeclock_turn();
	return inc;
}

static json_int_t
data_int(json_t *rec, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(rec, "data"),
	    key));
}

static const char *
data_str(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(json_object_get(rec, "data"),
	    key));
}

static void
test_reminder_at_its_time_not_before(void **state)
{
	struct incident	*inc;
	json_t		*rem;

	corefix_start(conf);
	inc = report_level("某镇化工厂爆炸", "III");
	corefix_deliver_all();
	assert_int_equal(wremind_due(inc), COREFIX_T0 + 30 * MIN);
	fakeclock_advance(30 * MIN - 1);
	assert_int_equal(memstore_count_of("report.reminder", inc->id), 0);
	fakeclock_advance(1);
	rem = corefix_record("report.reminder", inc->id);
	assert_string_equal(data_str(rem, "missing"), "未起草");
	assert_int_equal(data_int(rem, "left_ms"), 10 * MIN);
	assert_int_equal(data_int(rem, "number"), 0);
	json_decref(rem);
	/* The officer on duty writes it, the leader on duty signs it. */
	assert_string_equal(corefix_sent("report.reminder", inc->id), "zhang,li");
	corefix_deliver_all();
	/* Once: the deadline then fires as it always did. */
	fakeclock_advance(20 * MIN);
	assert_int_equal(memstore_count_of("report.reminder", inc->id), 1);
	assert_int_equal(memstore_count_of("incident.report_overdue", inc->id), 1);
}

static void
test_what_is_missing_follows_the_records(void **state)
{
	struct incident	*iv, *one;
	json_t		*saved;

	corefix_start(conf);
	iv = report_level("四级事件", "IV");
	one = report_level("一级事件", "I");
	assert_string_equal(wremind_missing(iv), "未起草");
	assert_string_equal(wremind_missing(one), "未起草");
	/* A saved version: IV needs no approval, I does. */
	saved = json_pack("{s:i, s:i, s:s, s:s, s:i, s:s}", "number", 0,
	    "version", 1, "title", "关于…的报告", "body", "一、基本情况",
	    "base_version", 0, "by_name", "张伟");
	assert_int_equal(store_append("report.draft_saved", iv->id,
	    "person:zhang", saved, NULL), 0);
	saved = json_pack("{s:i, s:i, s:s, s:s, s:i, s:s}", "number", 0,
	    "version", 1, "title", "关于…的报告", "body", "一、基本情况",
	    "base_version", 0, "by_name", "张伟");
	assert_int_equal(store_append("report.draft_saved", one->id,
	    "person:zhang", saved, NULL), 0);
	fakeclock_turn();
	assert_string_equal(wremind_missing(iv), "已起草未报送");
	assert_string_equal(wremind_missing(one), "待审核");
	assert_string_equal(wrsend_missing(one), "未审核");
	assert_null(wrsend_missing(iv));
	assert_int_equal(store_append("report.approved", one->id, "person:li",
	    json_pack("{s:i, s:i, s:s, s:s}", "number", 0, "version", 1,
	    "comment", "同意", "by_name", "李强"), NULL), 0);
	fakeclock_turn();
	assert_string_equal(wremind_missing(one), "已批准未报送");
	assert_null(wrsend_missing(one));
	fakeclock_advance(30 * MIN);
	saved = memstore_records("report.reminder", one->id);
	assert_string_equal(data_str(json_array_get(saved, 0), "missing"),
	    "已批准未报送");
	json_decref(saved);
}

static void
test_no_reminder_once_sent_and_the_clock_stops_at_the_submission(void **state)
{
	struct incident	*inc;
	size_t		 sent_to = 9;
	json_t		*sub;

	corefix_start(conf_province);
	inc = report_level("已报送", "IV");
	corefix_deliver_all();
	fakeclock_advance(5 * MIN);
	assert_int_equal(wrsend_submit(inc, "zhang", "某应急〔2026〕12号",
	    NULL, &sent_to), 0);
	fakeclock_turn();
	assert_int_equal(sent_to, 1);
	assert_int_equal(inc->filed.at, COREFIX_T0 + 5 * MIN);
	assert_string_equal(inc->filed.text, "某应急〔2026〕12号");
	sub = corefix_record("report.submitted", inc->id);
	assert_int_equal(data_int(sub, "number"), 0);
	assert_int_equal(strlen(data_str(sub, "text_sha256")), 64);
	json_decref(sub);
	/* The province gets the report itself: its title as the message's. */
	assert_string_equal(corefix_sent("report.submitted", inc->id), "province");
	/* Nothing left to wait for: no reminder, no overdue, no clock. */
	corefix_deliver_all();
	fakeclock_advance(60 * MIN);
	assert_int_equal(memstore_count_of("report.reminder", inc->id), 0);
	assert_int_equal(memstore_count_of("incident.report_overdue", inc->id), 0);
	/* The next report is 续报一. */
	assert_int_equal(wrsend_submit(inc, "zhang", NULL, NULL, &sent_to), 0);
	fakeclock_turn();
	sub = memstore_records("report.submitted", inc->id);
	assert_int_equal(json_array_size(sub), 2);
	assert_non_null(strstr(data_str(json_array_get(sub, 1), "title"),
	    "续报一"));
	json_decref(sub);
}

/* The intents of INC for EVENT. */
static size_t
intents_for(const char *id, const char *event)
{
	json_t	*all = memstore_records("notify.intent", id), *r;
	size_t	 i, n = 0;

	json_array_foreach(all, i, r)
		if (strcmp(data_str(r, "event"), event) == 0)
			n++;
	json_decref(all);
	return n;
}

static void
test_a_submission_whose_delivery_was_not_recorded_is_sent_after_restart(
    void **state)
{
	struct incident	*inc;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf_province);
	inc = report_level("停在中间", "IV");
	snprintf(id, sizeof(id), "%s", inc->id);
	corefix_deliver_all();
	/* dutyd stopped after the submission's record, before its intent. */
	assert_int_equal(store_append("report.submitted", id, "person:zhang",
	    json_pack("{s:i, s:i, s:s, s:s, s:s, s:n, s:s, s:s, s:i}",
	    "number", 0, "version", 0, "title", "关于停在中间的报告", "body",
	    "一、基本情况", "text_sha256", "0", "approved_by", "by_name", "张伟",
	    "province", "省政府总值班室", "contacts", 1), NULL), 0);
	fakeclock_turn();
	assert_int_equal(intents_for(id, "report.submitted"), 0);
	corefix_restart(1 * MIN);
	fakeclock_turn();
	assert_int_equal(intents_for(id, "report.submitted"), 1);
	assert_string_equal(corefix_sent("report.submitted", id), "province");
	corefix_deliver_all();
	/* Recorded now: another restart sends nothing again. */
	corefix_restart(1 * MIN);
	fakeclock_turn();
	assert_int_equal(intents_for(id, "report.submitted"), 1);
	assert_string_equal(corefix_sent("report.submitted", id), "");
}

/* The last request to the province's hook, as sent. */
static const char *
province_text(void)
{
	struct fakefetch_req	*r;
	size_t			 i;

	for (i = fakefetch_count(); i-- > 0; ) {
		r = fakefetch_get(i);
		if (r->json != NULL && strcmp(json_string_value(json_object_get(
		    json_object_get(r->json, "recipient"), "id")) ?: "",
		    "province") == 0)
			return json_string_value(json_object_get(r->json, "text"));
	}
	return NULL;
}

/*
 * A checkpoint while the province's delivery is still failing and after a
 * reminder: replayed from the checkpoint alone, the delivery goes on with
 * the report's text, the report is still filed, and nobody is reminded
 * again.
 */
static void
test_a_checkpoint_keeps_the_delivery_and_the_reminder(void **state)
{
	struct incident	*sent, *late;
	size_t		 sent_to;
	char		 sid[INCIDENT_ID_MAX], lid[INCIDENT_ID_MAX];
	const char	*text;

	corefix_start(conf_province);
	sent = report_level("报送中", "IV");
	late = report_level("未报送", "IV");
	snprintf(sid, sizeof(sid), "%s", sent->id);
	snprintf(lid, sizeof(lid), "%s", late->id);
	corefix_deliver_all();
	assert_int_equal(wrsend_submit(sent, "zhang", "一号", NULL, &sent_to), 0);
	fakeclock_turn();
	/* The province's server answers 503 for now. */
	assert_true(fakefetch_answer_to("province", 503, "busy", 0) >= 0);
	fakeclock_turn();
	fakeclock_advance(30 * MIN);
	assert_int_equal(memstore_count_of("report.reminder", lid), 1);
	assert_true(fakefetch_answer_to("province", 503, "busy", 0) >= 0);
	corefix_deliver_all();
	fakefetch_answer_to("province", 503, "busy", 0);
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(0);
	sent = incident_find(sid);
	assert_non_null(sent);
	assert_int_not_equal(sent->filed.at, 0);
	fakeclock_advance(5 * MIN);
	text = province_text();
	assert_non_null(text);
	assert_non_null(strstr(text, "报送中"));
	assert_non_null(strstr(text, "一、"));
	corefix_deliver_all();
	fakeclock_advance(20 * MIN);
	assert_int_equal(memstore_count_of("report.reminder", lid), 1);
	assert_int_equal(memstore_count_of("incident.report_overdue", sid), 0);
	assert_int_equal(memstore_count_of("incident.report_overdue", lid), 1);
}

#define DING	"https://oapi.dingtalk.com/robot/send?access_token=t"

/* The province on the same rate-limited group robot as the duty room. */
static const char conf_robot[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: ding, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: ding, to: \"li\" } ] }\n"
    "duty: { officers: [zhang], leader: li }\n"
    "channels:\n"
    "  ding: { plugin: dingtalk, url: \"" DING "\", rate_limit: 1/min, bundle_after: 2 }\n"
    "province:\n"
    "  name: \"省政府总值班室\"\n"
    "  contacts: [ { channel: ding, to: \"province\" } ]\n"
    "policy: { ack_timeout: 12h, report_deadline: 24h, report_reminder: 0 }\n";

/*
 * A rate-limited group robot sends queued messages as one summary: never
 * the written report, which must reach the province as itself.
 */
static void
test_the_report_is_never_bundled(void **state)
{
	struct incident		*inc;
	struct fakefetch_req	*r;
	size_t			 sent_to, i, before;
	int			 found = 0;

	corefix_start(conf_robot);
	inc = report_level("限速", "IV");
	fakefetch_answer_all("{\"errcode\":0,\"errmsg\":\"ok\"}");
	fakeclock_turn();
	assert_int_equal(wrsend_submit(inc, "zhang", NULL, NULL, &sent_to), 0);
	fakeclock_turn();
	before = fakefetch_count();
	/* Minutes of tokens: everything queued goes out. */
	for (i = 0; i < 10; i++) {
		fakeclock_advance(1 * MIN);
		fakefetch_answer_all("{\"errcode\":0,\"errmsg\":\"ok\"}");
		fakeclock_turn();
	}
	for (i = before; i < fakefetch_count(); i++) {
		r = fakefetch_get(i);
		if (r->body != NULL && strstr(r->body, "一、基本情况") != NULL) {
			found = 1;
			assert_null(strstr(r->body, "合并通知"));
		}
	}
	assert_true(found);
}

static void
test_approval_is_required_for_level_one(void **state)
{
	struct incident	*inc;
	size_t		 sent_to;

	corefix_start(conf);
	inc = report_level("一级", "I");
	assert_int_equal(wrsend_submit(inc, "zhang", NULL, NULL, &sent_to), -EACCES);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("report.submitted", inc->id), 0);
	assert_int_equal(inc->filed.at, 0);
}

static void
test_rearmed_after_a_restart_and_never_twice(void **state)
{
	struct incident	*inc;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf);
	inc = report_level("重启", "III");
	snprintf(id, sizeof(id), "%s", inc->id);
	corefix_deliver_all();
	fakeclock_advance(5 * MIN);
	corefix_restart(10 * MIN);			/* up again at minute 15 */
	fakeclock_turn();
	fakeclock_advance(15 * MIN - 1);
	assert_int_equal(memstore_count_of("report.reminder", id), 0);
	fakeclock_advance(1);				/* minute 30 */
	assert_int_equal(memstore_count_of("report.reminder", id), 1);
	corefix_deliver_all();
	corefix_restart(1 * MIN);
	fakeclock_advance(5 * MIN);
	assert_int_equal(memstore_count_of("report.reminder", id), 1);
}

static void
test_downtime_across_the_reminder_sends_it_late(void **state)
{
	struct incident	*a;
	json_t		*rem;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf);
	a = report_level("停机", "III");
	snprintf(id, sizeof(id), "%s", a->id);
	corefix_deliver_all();
	corefix_restart(35 * MIN);			/* up at minute 35 */
	fakeclock_turn();
	rem = corefix_record("report.reminder", id);
	assert_int_equal(data_int(rem, "left_ms"), 5 * MIN);
	json_decref(rem);
}

static void
test_downtime_across_the_deadline_leaves_it_to_the_overdue_alarm(void **state)
{
	struct incident	*a;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf);
	a = report_level("停机更久", "III");
	snprintf(id, sizeof(id), "%s", a->id);
	corefix_deliver_all();
	corefix_restart(45 * MIN);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("report.reminder", id), 0);
	assert_int_equal(memstore_count_of("incident.report_overdue", id), 1);
}

static void
test_report_reminder_zero_turns_it_off(void **state)
{
	struct incident *inc;

	corefix_start(conf_off);
	inc = report_level("不提醒", "III");
	assert_int_equal(wremind_due(inc), 0);
	fakeclock_advance(60 * MIN);
	assert_int_equal(memstore_count_of("report.reminder", inc->id), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reminder_at_its_time_not_before,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_what_is_missing_follows_the_records,
		    corefix_teardown),
		cmocka_unit_test_teardown(
		    test_no_reminder_once_sent_and_the_clock_stops_at_the_submission,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_approval_is_required_for_level_one,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_the_report_is_never_bundled,
		    corefix_teardown),
		cmocka_unit_test_teardown(
		    test_a_checkpoint_keeps_the_delivery_and_the_reminder,
		    corefix_teardown),
		cmocka_unit_test_teardown(
		    test_a_submission_whose_delivery_was_not_recorded_is_sent_after_restart,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_rearmed_after_a_restart_and_never_twice,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_downtime_across_the_reminder_sends_it_late,
		    corefix_teardown),
		cmocka_unit_test_teardown(
		    test_downtime_across_the_deadline_leaves_it_to_the_overdue_alarm,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_report_reminder_zero_turns_it_off,
		    corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
