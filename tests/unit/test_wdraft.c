/*
 * Version 0 of the written report (parse/wdraft.c): each fact of the
 * report and its follow-ups in its section, the latest word winning, what
 * nobody reported written （待核实）, the title of 续报, the footer.
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

#include "base/tz.h"
#include "parse/wdraft.h"

/* 2026-12-02 14:05 +08:00 */
#define WHEN_MS	INT64_C(1796191500000)

static struct tz *shanghai;

static int
setup(void **state)
{
	return tz_load("Asia/Shanghai", &shanghai);
}

static int
teardown(void **state)
{
	tz_unref(shanghai);
	return 0;
}

/* The text of BODY from heading HEAD to heading NEXT (a static copy). */
static const char *
section(const char *body, const char *head, const char *next)
{
	static char	 buf[4096];
	const char	*a = strstr(body, head), *b;

	assert_non_null(a);
	a += strlen(head);
	b = strstr(a, next);
	assert_non_null(b);
	snprintf(buf, sizeof(buf), "%.*s", (int)(b - a), a);
	return buf;
}

static void
input(struct wdraft_input *in, json_t *report, json_t *updates)
{
	memset(in, 0, sizeof(*in));
	in->office_name = "A县应急管理局";
	in->report = report;
	in->updates = updates;
	in->received_ms = WHEN_MS + 10 * 60000;
	in->organization = "某市人民政府总值班室";
	in->addressee = "省政府总值班室";
	in->approver = "李强";
	in->contact_name = "张伟";
	in->contact_phone = "+8613800000001";
	in->tz = shanghai;
}

static void
test_first_report_with_what_is_unknown(void **state)
{
	struct wdraft_input	 in;
	json_t			*report;
	char			*title, *body;

	report = json_pack("{s:s, s:s, s:s, s:{s:i}}", "title", "某镇化工厂爆炸",
	    "occurred_at", "2026-12-02T14:05:00+08:00", "level", "II",
	    "casualties", "dead", 1);
	input(&in, report, NULL);
	assert_int_equal(wdraft_make(&in, &title, &body), 0);
	assert_string_equal(title, "关于A县应急管理局某镇化工厂爆炸的报告");
	assert_true(strncmp(body, "省政府总值班室：\n", strlen("省政府总值班室：\n")) == 0);
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "事发时间：2026年12月2日 14时05分"));
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "事发地点：（待核实）"));
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "事件级别：Ⅱ级（重大）"));
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "14时15分接A县应急管理局首报"));
	assert_string_equal(section(body, "二、伤亡和损失情况\n", "\n\n三、"),
	    "死亡1人，受伤人数（待核实），失踪人数（待核实）。");
	assert_string_equal(section(body, "三、事件原因\n", "\n\n四、"), WDRAFT_UNKNOWN);
	assert_string_equal(section(body, "四、已采取的处置措施\n", "\n\n五、"),
	    WDRAFT_UNKNOWN);
	assert_non_null(strstr(body, "\n某市人民政府总值班室\n签发：李强\n"
	    "联系人及电话：张伟 +8613800000001\n2026年12月2日 14时15分\n"));
	free(title);
	free(body);
	json_decref(report);
}

static void
test_follow_ups_give_the_latest_word_and_a_later_report_its_number(void **state)
{
	struct wdraft_input	 in;
	json_t			*report, *updates;
	char			*title, *body, name[32];

	report = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i}}", "title",
	    "某镇化工厂爆炸", "occurred_at", "2026-12-02T14:05:00+08:00",
	    "level", "III", "location", "某镇工业园", "category", "生产安全事故",
	    "casualties", "dead", 1, "injured", 5);
	updates = json_pack("[{s:i, s:s, s:{s:s, s:s}}, {s:i, s:s, s:{s:s, s:{s:i, s:i}}}]",
	    "n", 1, "at", "2026-12-02T14:30:00+08:00", "fields", "cause",
	    "反应釜超压", "measures", "已疏散周边群众300人",
	    "n", 2, "at", "2026-12-02T15:00:00+08:00", "fields", "level", "I",
	    "casualties", "dead", 3, "missing", 2);
	input(&in, report, updates);
	in.number = 1;
	assert_int_equal(wdraft_make(&in, &title, &body), 0);
	assert_string_equal(title, "关于A县应急管理局某镇化工厂爆炸的报告（续报一）");
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "事件级别：Ⅰ级（特别重大）"));
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "某镇工业园"));
	assert_non_null(strstr(section(body, "一、基本情况", "二、"),
	    "14时30分接续报一；2026年12月2日 15时00分接续报二"));
	/* Dead from the second follow-up, injured still from the report. */
	assert_string_equal(section(body, "二、伤亡和损失情况\n", "\n\n三、"),
	    "死亡3人，受伤5人，失踪2人。");
	assert_string_equal(section(body, "三、事件原因\n", "\n\n四、"), "反应釜超压");
	assert_string_equal(section(body, "四、已采取的处置措施\n", "\n\n五、"),
	    "已疏散周边群众300人");
	/* Everything was reported by now: nothing is left （待核实）. */
	assert_null(strstr(body, WDRAFT_UNKNOWN));
	/* The footer's time is that of the latest fact: the same text each time. */
	assert_non_null(strstr(body, "2026年12月2日 15时00分\n"));
	free(title);
	free(body);
	assert_string_equal(wdraft_number_name(0, name, sizeof(name)), "首报");
	assert_string_equal(wdraft_number_name(2, name, sizeof(name)), "续报二");
	assert_string_equal(wdraft_number_name(10, name, sizeof(name)), "续报十");
	assert_string_equal(wdraft_number_name(12, name, sizeof(name)), "续报十二");
	assert_string_equal(wdraft_number_name(20, name, sizeof(name)), "续报二十");
	json_decref(report);
	json_decref(updates);
}

static void
test_nobody_named_is_unknown_not_invented(void **state)
{
	struct wdraft_input	 in;
	json_t			*report;
	char			*title, *body;

	report = json_pack("{s:s, s:s}", "title", "山体滑坡", "occurred_at",
	    "2026-12-02T14:05:00+08:00");
	input(&in, report, NULL);
	in.organization = in.addressee = in.approver = NULL;
	in.contact_name = in.contact_phone = NULL;
	assert_int_equal(wdraft_make(&in, &title, &body), 0);
	assert_true(strncmp(body, "（待核实）：", strlen("（待核实）：")) == 0);
	assert_non_null(strstr(body, "事件级别：（待核实）"));
	assert_non_null(strstr(body, "\n（待核实）\n签发：（待核实）\n"
	    "联系人及电话：（待核实） （待核实）\n"));
	free(title);
	free(body);
	json_decref(report);
	/* A report without its title is refused, not guessed. */
	report = json_object();
	input(&in, report, NULL);
	assert_int_equal(wdraft_make(&in, &title, &body), -EINVAL);
	assert_null(title);
	assert_null(body);
	json_decref(report);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_report_with_what_is_unknown),
		cmocka_unit_test(test_follow_ups_give_the_latest_word_and_a_later_report_its_number),
		cmocka_unit_test(test_nobody_named_is_unknown_not_invented),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
