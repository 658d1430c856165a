/*
 * The written report's state on the fake clock and the memory store
 * (state/wreport.c, actions/wract.c): versions saved in turn, a stale base
 * refused, approval only by approvers and withdrawn by an edit, a report
 * sent moving to the next number, and every bit of it back after a
 * restart, from the records and from a checkpoint alone.
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

#include "actions/wract.h"
#include "actions/wrsend.h"
#include "corefix.h"
#include "fakeclock.h"
#include "memstore.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/wreport.h"
#include "store/store.h"

#define MIN	COREFIX_MIN

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "organization: \"某市人民政府总值班室\"\n"
    "province: { name: \"省政府总值班室\" }\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n"
    "  escalation: [wang]\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n";

/* The draft as the API shows it, without what depends on who asks. */
static json_t *
draft(const struct incident *inc)
{
	json_t *d = wract_draft_json(inc, "li");

	assert_non_null(d);
	return d;
}

static const char *
approval_state(const struct incident *inc)
{
	static char	 buf[32];
	json_t		*d = draft(inc);

	snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(
	    json_object_get(d, "approval"), "state")));
	json_decref(d);
	return buf;
}

static void
test_versions_in_turn_and_a_stale_base_refused(void **state)
{
	struct incident	*inc;
	char		*title, *body;
	int		 current;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	/* Version 0 is dutyd's, made on demand: no record. */
	assert_int_equal(wract_current_text(inc, &title, &body), 0);
	assert_string_equal(title, "关于A县应急管理局某镇化工厂爆炸的报告");
	assert_non_null(strstr(body, "省政府总值班室："));
	free(title);
	free(body);
	assert_int_equal(memstore_count_of("report.draft_saved", NULL), 0);
	assert_int_equal(wract_save(inc, "zhang", "标题", "正文一", 0, &current), 0);
	assert_int_equal(wreport_version(inc->id), 1);
	/* Wang edited version 0 meanwhile: refused, told the latest. */
	assert_int_equal(wract_save(inc, "wang", "标题", "正文二", 0, &current),
	    -ESTALE);
	assert_int_equal(current, 1);
	assert_int_equal(memstore_count_of("report.draft_saved", NULL), 1);
	assert_int_equal(wract_save(inc, "wang", "标题", "正文二", 1, &current), 0);
	assert_int_equal(wract_current_text(inc, &title, &body), 0);
	assert_string_equal(body, "正文二");
	free(title);
	free(body);
	assert_string_equal(wreport_find(inc->id)->saved_by, "wang");
	assert_int_equal(json_array_size(wreport_find(inc->id)->versions), 2);
}

static void
test_only_approvers_approve_and_an_edit_withdraws_it(void **state)
{
	struct incident	*inc;
	int		 changed, current;

	corefix_start(conf);
	inc = corefix_report("county-a", "河堤管涌");
	/* Level unknown: it could be the worst, so it is approved first. */
	assert_true(wract_approval_required(inc));
	assert_false(wract_may_approve("zhang"));
	assert_true(wract_may_approve("li"));
	assert_int_equal(wract_approve(inc, "zhang", NULL, &changed), -EPERM);
	assert_int_equal(wract_reject(inc, "wang", "不行"), -EPERM);
	assert_int_equal(memstore_count_of("report.approved", NULL), 0);
	assert_int_equal(wract_request(inc, "zhang"), 0);
	fakeclock_turn();
	assert_string_equal(approval_state(inc), "requested");
	/* Asked again within 5 minutes: the approvers have it, nobody is told twice. */
	fakeclock_advance(5 * MIN - 1);
	assert_int_equal(wract_request(inc, "wang"), -EBUSY);
	assert_int_equal(memstore_count_of("report.approval_requested", NULL), 1);
	/* The approvers are told: one intent, to the leader, with a P link. */
	assert_string_equal(corefix_sent("report.approval_requested", inc->id), "li");
	assert_int_equal(wract_approve(inc, "li", "同意", &changed), 0);
	assert_int_equal(changed, 1);
	assert_string_equal(wreport_approved_by(inc->id), "li");
	/* Asking again for an approved version is refused; approving again is a no-op. */
	assert_int_equal(wract_request(inc, "zhang"), -EALREADY);
	assert_int_equal(wract_approve(inc, "li", NULL, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(memstore_count_of("report.approved", NULL), 1);
	/* An edit after approval withdraws it. */
	assert_int_equal(wract_save(inc, "zhang", "标题", "改过的", 0, &current), 0);
	assert_null(wreport_approved_by(inc->id));
	assert_string_equal(approval_state(inc), "none");
	assert_int_equal(wract_reject(inc, "li", "伤亡数字再核实"), 0);
	assert_string_equal(approval_state(inc), "rejected");
	assert_null(wreport_approved_by(inc->id));
}

/* Everything the draft and the incident show, for before/after comparisons. */
static json_t *
everything(const char *id)
{
	struct incident *inc = incident_find(id);

	assert_non_null(inc);
	return json_pack("{s:o, s:o}", "draft", draft(inc), "incident",
	    incview_json(inc, 1));
}

static void
check_same(json_t *before, json_t *after)
{
	if (!json_equal(before, after)) {
		char *a = json_dumps(before, JSON_SORT_KEYS | JSON_INDENT(1));
		char *b = json_dumps(after, JSON_SORT_KEYS | JSON_INDENT(1));

		print_message("before: %.3000s\nafter: %.3000s\n", a, b);
		free(a);
		free(b);
		fail();
	}
}

static void
test_restart_and_checkpoint_keep_everything(void **state)
{
	struct incident	*inc;
	json_t		*before, *after;
	char		 id[INCIDENT_ID_MAX];
	size_t		 sent_to;
	int		 current, changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "山体滑坡");
	snprintf(id, sizeof(id), "%s", inc->id);
	assert_int_equal(wract_save(inc, "zhang", "首报标题", "首报正文", 0,
	    &current), 0);
	assert_int_equal(wract_request(inc, "zhang"), 0);
	assert_int_equal(wract_approve(inc, "li", "同意", &changed), 0);
	/* The first report goes: the next is 续报一. */
	assert_int_equal(wrsend_submit(inc, "zhang", "某应急〔2026〕12号",
	    NULL, &sent_to), 0);
	fakeclock_turn();
	assert_int_equal(wreport_number(id), 1);
	assert_int_equal(wreport_version(id), 0);
	assert_null(wreport_approved_by(id));
	assert_string_equal(wreport_last_via(id), "dutyd");
	assert_int_equal(wract_save(inc, "wang", "续报标题", "续报正文", 0,
	    &current), 0);
	corefix_deliver_all();
	/* From the records. */
	before = everything(id);
	corefix_restart(MIN);
	after = everything(id);
	check_same(before, after);
	json_decref(after);
	/* From a checkpoint alone. */
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(0);
	after = everything(id);
	check_same(before, after);
	json_decref(after);
	json_decref(before);
	inc = incident_find(id);
	/* Still editable from where it was: a stale base is still stale. */
	assert_int_equal(wract_save(inc, "zhang", "x", "y", 0, &current), -ESTALE);
	assert_int_equal(current, 1);
	assert_int_equal(json_array_size(wreport_find(id)->sent), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_versions_in_turn_and_a_stale_base_refused, corefix_teardown),
		cmocka_unit_test_teardown(test_only_approvers_approve_and_an_edit_withdraws_it, corefix_teardown),
		cmocka_unit_test_teardown(test_restart_and_checkpoint_keep_everything, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
