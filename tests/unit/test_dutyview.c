/*
 * A duty day's records as the duty log shows them: the one-line summaries
 * a duty room reads, the incidents and handovers grouped (a handover
 * accepted late, a note carried by it), and the cap: past 5,000 records
 * the log says it is truncated and how many there were, and the CSV ends
 * with a row saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "corefix.h"
#include "intake/dutyview.h"

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: sun, name: \"孙丽\", token: \"secret-sun\", contacts: [ { channel: hook, to: \"sun\" } ] }\n"
    "duty: { officers: [zhang], leader: sun }\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n";

#define INC	"INC-20261202-0001"
#define CSV_HEAD	"\xEF\xBB\xBF序号,时间,类型,事件编号,操作人,摘要\r\n"

static void
add(struct dutyview *v, int seq, const char *ts, const char *event,
    const char *incident, const char *actor, const char *data)
{
	json_error_t	 e;
	json_t		*r;

	r = json_pack("{s:i, s:s, s:s, s:s?, s:s?, s:o}", "seq", seq, "ts", ts,
	    "event", event, "incident", incident, "actor", actor, "data",
	    json_loads(data, 0, &e));
	assert_non_null(r);
	assert_int_equal(dutyview_add(v, r), 0);
	json_decref(r);
}

static const char *
summary(const json_t *o, size_t i)
{
	return json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "entries"), i), "summary"));
}

static void
test_summaries_and_groups(void **state)
{
	struct dutyview	*v;
	json_t		*o = json_object(), *inc, *h;

	corefix_start(conf);
	assert_non_null(v = dutyview_new());
	add(v, 10, "2026-12-02T08:40:00.000+08:00", "report.received", INC,
	    "office:county-a", "{\"office\":\"county-a\",\"office_name\":"
	    "\"A县应急管理局\",\"report\":{\"title\":\"山体滑坡\",\"level\":\"II\"},"
	    "\"late_report\":true}");
	add(v, 11, "2026-12-02T08:45:00.000+08:00", "incident.acknowledged", INC,
	    "person:zhang", "{}");
	add(v, 12, "2026-12-02T08:50:00.000+08:00", "incident.note", INC,
	    "person:zhang", "{\"text\":\"已电话联系\"}");
	add(v, 13, "2026-12-02T09:00:00.000+08:00", "duty.handover", NULL,
	    "dutyd", "{\"incoming\":[{\"person\":\"sun\",\"role\":\"day\"}],"
	    "\"outgoing\":[{\"person\":\"zhang\",\"role\":\"day\"}],\"count\":1,"
	    "\"accept_by\":\"2026-12-02T09:30:00.000+08:00\",\"notes\":"
	    "[{\"text\":\"待续报\",\"by\":\"zhang\"}]}");
	add(v, 14, "2026-12-02T09:30:00.000+08:00", "duty.accept_overdue", NULL,
	    "dutyd", "{\"handover_seq\":13}");
	add(v, 15, "2026-12-02T09:42:00.000+08:00", "duty.handover_accepted",
	    NULL, "person:sun", "{\"handover_seq\":13,\"by\":\"sun\","
	    "\"late_ms\":720000}");
	add(v, 16, "2026-12-02T10:00:00.000+08:00", "incident.dismissed", INC,
	    "person:sun", "{\"reason\":\"重复\"}");
	assert_int_equal(dutyview_json(v, o), 0);
	assert_string_equal(summary(o, 0), "A县应急管理局报告：山体滑坡（II级），迟报");
	assert_string_equal(summary(o, 1), "张伟确认收到 " INC);
	assert_string_equal(summary(o, 2), "张伟备注 " INC "：已电话联系");
	assert_string_equal(summary(o, 3), "交接班：1 人接班，1 起未办结事件");
	assert_string_equal(summary(o, 4), "接班超时未确认，已告知带班领导");
	assert_string_equal(summary(o, 5), "孙丽确认接班（超时 12 分钟）");
	assert_string_equal(summary(o, 6), "孙丽核实 " INC " 为误报：重复");
	inc = json_array_get(json_object_get(o, "incidents"), 0);
	assert_string_equal(json_string_value(json_object_get(inc, "title")), "山体滑坡");
	assert_string_equal(json_string_value(json_object_get(inc,
	    "acknowledged_by")), "张伟");
	assert_string_equal(json_string_value(json_object_get(inc,
	    "dismissed_reason")), "重复");
	h = json_array_get(json_object_get(o, "handovers"), 0);
	assert_string_equal(json_string_value(json_object_get(h, "note")), "待续报");
	assert_string_equal(json_string_value(json_object_get(h, "accepted_by")), "sun");
	assert_int_equal(json_integer_value(json_object_get(h, "late_ms")), 720000);
	assert_string_equal(json_string_value(json_object_get(h, "overdue_at")),
	    "2026-12-02T09:30:00.000+08:00");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(h, "from"), 0), "name")), "张伟");
	assert_int_equal(json_array_size(json_object_get(o, "notes")), 1);
	assert_true(json_is_false(json_object_get(o, "truncated")));
	json_decref(o);
	dutyview_free(v);
}

static void
test_past_the_cap_it_says_so(void **state)
{
	struct dutyview	*v;
	json_t		*o = json_object();
	char		*csv;
	size_t		 len, i;

	corefix_start(conf);
	assert_non_null(v = dutyview_new());
	for (i = 0; i < DUTYVIEW_ENTRIES_MAX + 3; i++)
		add(v, (int)i + 1, "2026-12-02T09:00:00.000+08:00", "incident.note",
		    INC, "person:zhang", "{\"text\":\"x\"}");
	dutyview_more(v, 7);
	assert_int_equal(dutyview_json(v, o), 0);
	assert_int_equal(json_array_size(json_object_get(o, "entries")),
	    DUTYVIEW_ENTRIES_MAX);
	assert_int_equal(json_integer_value(json_object_get(o, "entries_total")),
	    DUTYVIEW_ENTRIES_MAX + 10);
	assert_true(json_is_true(json_object_get(o, "truncated")));
	assert_non_null(csv = dutyview_csv(v, &len));
	assert_true(strncmp(csv, CSV_HEAD, strlen(CSV_HEAD)) == 0);
	assert_non_null(strstr(csv, "记录过多"));
	free(csv);
	json_decref(o);
	dutyview_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_summaries_and_groups, corefix_teardown),
		cmocka_unit_test_teardown(test_past_the_cap_it_says_so,
		    corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
