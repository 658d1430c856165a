/*
 * The handover's two sides on a fake clock: the outgoing's note goes into
 * the next handover message, the incoming accept it (late_ms past
 * roster.accept_within), and when nobody does the leader on duty is told
 * once, also when accept_by passed while dutyd was down, also after a
 * checkpoint.  What tests/e2e/test_dutylog.py waits seconds for.
 *
 * The day: 2026-12-02 from 08:00 Asia/Shanghai.  At 08:30 wang takes over
 * as leader from li and sun comes on the day shift; zhang stays on all
 * day.  accept_within is 30m: accept_by 09:00.
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

#include "actions/handact.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "config/config.h"
#include "notify/links.h"
#include "notify/notify.h"
#include "state/handover.h"

#define MIN	COREFIX_MIN

#define PEOPLE \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n" \
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n" \
    "  - { id: sun, name: \"孙丽\", token: \"secret-sun\", contacts: [ { channel: hook, to: \"sun-hook\" } ] }\n" \
    "channels:\n" \
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n" \
    "policy: { ack_timeout: 20m, report_deadline: 40m, report_reminder: 0, retry_initial: 1s }\n"

#define ROSTER(within) PEOPLE \
    "roster:\n" \
    "  timezone: Asia/Shanghai\n" \
    "  start: 2026-12-01\n" \
    within \
    "  leader: { handover: \"08:30\", people: [li, wang] }\n" \
    "  shifts:\n" \
    "    - { name: allday, hours: \"00:00-00:00\", people: [zhang] }\n" \
    "    - { name: day, hours: \"08:30-17:30\", people: [li, sun] }\n"

static const char conf[] = ROSTER("  accept_within: 30m\n");
static const char conf_default[] = ROSTER("");
static const char conf_off[] = ROSTER("  accept_within: 0\n");

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("no string '%s'", key);
	return s;
}

/* The text of the Nth (0-based) webhook request for EVENT. */
static const char *
request_text(const char *event, size_t n)
{
	struct fakefetch_req	*r;
	const char		*ev;
	size_t			 i;

	for (i = 0; (r = fakefetch_get(i)) != NULL; i++) {
		ev = json_string_value(json_object_get(r->json, "event"));
		if (ev != NULL && strcmp(ev, event) == 0 && n-- == 0)
			return str(r->json, "text");
	}
	fail_msg("no %s request", event);
	return NULL;
}

/* To 08:30 and its handover, messages delivered. */
static const struct handover *
to_handover(void)
{
	const struct handover *h;

	fakeclock_advance(30 * MIN);
	corefix_deliver_all();
	assert_non_null(h = handover_latest());
	return h;
}

/* The note written at 08:10 is in the 08:30 message and record, then no longer waits. */
static void
test_the_note_goes_with_the_next_handover(void **state)
{
	const struct handover_note	*n;
	json_t				*h;
	const char			*text;

	corefix_start(conf);
	fakeclock_advance(10 * MIN);
	assert_int_equal(handact_note("li", "A县滑坡待续报, 已约\"9时\"回电"), 0);
	fakeclock_turn();
	assert_int_equal(handover_notes(&n), 1);
	to_handover();
	assert_int_equal(handover_notes(&n), 0);
	h = corefix_record("duty.handover", NULL);
	assert_string_equal(str(json_array_get(json_object_get(json_object_get(h,
	    "data"), "notes"), 0), "by"), "li");
	assert_string_equal(str(json_object_get(h, "data"), "accept_by"),
	    "2026-12-02T09:00:00.000+08:00");
	/* li hands over as leader: he is the outgoing. */
	assert_string_equal(str(json_array_get(json_object_get(json_object_get(h,
	    "data"), "outgoing"), 0), "person"), "li");
	json_decref(h);
	text = request_text("duty.handover", 0);
	assert_non_null(strstr(text, "\n交班留言（李强 08:10）：A县滑坡待续报, "
	    "已约\"9时\"回电\n接班确认：https://duty.example.gov.cn/a/"));
}

/* Sixteen notes wait for one handover at most; after it there is room again. */
static void
test_notes_are_capped(void **state)
{
	const struct handover_note	*n;
	int				 i;

	corefix_start(conf);
	for (i = 0; i < HANDOVER_NOTES_MAX; i++)
		assert_int_equal(handact_note("li", "留言"), 0);
	assert_int_equal(handact_note("li", "多一条"), -ENOSPC);
	fakeclock_turn();
	assert_int_equal(handover_notes(&n), HANDOVER_NOTES_MAX);
	to_handover();
	assert_int_equal(handover_notes(&n), 0);
	assert_int_equal(handact_note("sun", "接班后"), 0);
}

/* Accepted in time: late_ms 0, no alarm; a second accept changes nothing. */
static void
test_accepted_in_time_no_alarm(void **state)
{
	const struct handover *h;

	corefix_start(conf);
	h = to_handover();
	assert_int_equal(h->accept_by, COREFIX_T0 + 60 * MIN);
	fakeclock_advance(10 * MIN);
	/* zhang stayed on, li went off: neither is coming on duty. */
	assert_int_equal(handact_accept(h, "zhang", "api"), -EPERM);
	assert_int_equal(handact_accept(h, "li", "api"), -EPERM);
	assert_int_equal(handact_accept(h, "sun", "api"), 0);
	fakeclock_turn();
	assert_string_equal(h->accepted_by, "sun");
	assert_int_equal(h->late_ms, 0);
	assert_int_equal(handact_accept(h, "wang", "api"), -EALREADY);
	fakeclock_advance(60 * MIN);
	corefix_deliver_all();
	assert_int_equal(memstore_count_of("duty.handover_accepted", NULL), 1);
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 0);
	assert_string_equal(corefix_sent("duty.accept_overdue", NULL), "");
}

/* Nobody by 09:00: the leader on duty is told, once; a late accept says how late. */
static void
test_nobody_accepts_the_leader_is_told_once(void **state)
{
	const struct handover	*h;
	json_t			*r;
	const char		*text;

	corefix_start(conf);
	h = to_handover();
	fakeclock_advance(30 * MIN - 1);
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 0);
	fakeclock_advance(1);					/* 09:00 */
	corefix_deliver_all();
	r = corefix_record("duty.accept_overdue", NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
	    "data"), "handover_seq")), h->seq);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
	    "data"), "late_ms")), 0);
	json_decref(r);
	assert_string_equal(corefix_sent("duty.accept_overdue", NULL), "wang");
	text = request_text("duty.accept_overdue", 0);
	/* Who should have, since when, how to reach them. */
	assert_non_null(strstr(text, "12-02 08:30 交接班后"));
	assert_non_null(strstr(text, "王芳、孙丽"));
	assert_non_null(strstr(text, "到 09:00 仍未确认接班"));
	assert_non_null(strstr(text, "孙丽 sun-hook"));
	fakeclock_advance(10 * MIN);
	assert_int_equal(handact_accept(h, "sun", "api"), 0);
	fakeclock_turn();
	assert_int_equal(h->late_ms, 10 * MIN);
	fakeclock_advance(120 * MIN);
	corefix_deliver_all();
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 1);
	assert_string_equal(corefix_sent("duty.accept_overdue", NULL), "wang");
}

/*
 * A checkpoint at 08:45 holds the pending handover; dutyd is down from
 * then to 09:15 and replays from the checkpoint alone: the alarm fires
 * once on the first turn, 15 minutes late, and never again after another
 * restart.
 */
static void
test_the_pending_accept_survives_a_checkpoint_and_downtime(void **state)
{
	const struct handover	*h;
	struct links_link	 l;
	json_t			*r;
	char			*url;
	int64_t			 seq;

	corefix_start(conf);
	seq = to_handover()->seq;
	fakeclock_advance(15 * MIN);
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.handovers", NULL), 1);
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(30 * MIN);				/* 09:15 */
	fakeclock_turn();
	corefix_deliver_all();
	r = corefix_record("duty.accept_overdue", NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
	    "data"), "late_ms")), 15 * MIN);
	json_decref(r);
	assert_string_equal(corefix_sent("duty.accept_overdue", NULL), "wang");
	corefix_restart(MIN);
	fakeclock_advance(60 * MIN);
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 1);
	/* Still there to accept, with its link. */
	assert_non_null(h = handover_find(seq));
	assert_non_null(h->incoming[0].link);
	assert_ptr_equal(handover_by_link(h->incoming[1].link), h);
	/* The link in wang's message still opens to this handover. */
	assert_int_equal(links_url(config_current(), h->incoming[0].link, &url), 0);
	assert_int_equal(links_open(strstr(url, "/a/") + 3, fakeclock_now(), &l), 0);
	assert_int_equal(l.action, 'H');
	assert_string_equal(l.person, "wang");
	assert_ptr_equal(handover_by_link(l.stub), h);
	free(url);
	assert_int_equal(handact_accept(h, "wang", "link"), 0);
	fakeclock_turn();
	assert_int_equal(h->late_ms, 76 * MIN);
}

/* Restarted before accept_by without a checkpoint: the clock is re-armed from the records. */
static void
test_a_restart_rearms_from_the_records(void **state)
{
	corefix_start(conf_default);		/* the default: 30m */
	to_handover();
	fakeclock_advance(5 * MIN);
	corefix_restart(5 * MIN);			/* 08:40 */
	assert_int_equal(fakeclock_armed() > 0, 1);
	fakeclock_advance(20 * MIN - 1);
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 0);
	fakeclock_advance(1);
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 1);
}

/* accept_within: 0: accepting still works, nobody is chased. */
static void
test_accept_within_zero_has_no_alarm(void **state)
{
	const struct handover	*h;
	json_t			*r;

	corefix_start(conf_off);
	h = to_handover();
	assert_int_equal(h->accept_by, 0);
	r = corefix_record("duty.handover", NULL);
	assert_true(json_is_null(json_object_get(json_object_get(r, "data"),
	    "accept_by")) || json_object_get(json_object_get(r, "data"),
	    "accept_by") == NULL);
	json_decref(r);
	fakeclock_advance(24 * 60 * MIN);
	assert_int_equal(memstore_count_of("duty.accept_overdue", NULL), 0);
	assert_int_equal(handact_accept(handover_find(h->seq), "sun", "api"), 0);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("duty.handover_accepted", NULL), 1);
}

/*
 * An intent's on-duty snapshot goes into its line as the text dumped when
 * the snapshot was made (notify.c): each line is still the dump of its
 * record, and the snapshot is the roster's at the intent, not the one
 * before 08:30 once wang and sun come on.
 */
static void
test_intents_carry_the_snapshot_of_their_moment(void **state)
{
	json_t		*r, *on;
	char		*again;
	size_t		 i, before = 0, after = 0;
	int		 late;

	corefix_start(conf);
	corefix_report("county-a", "第一起");	/* escalated at 08:20 */
	fakeclock_advance(31 * MIN);
	corefix_report("county-a", "第二起");	/* the first overdue at 08:40 */
	fakeclock_advance(10 * MIN);
	for (i = 0; i < memstore_count(); i++) {
		r = json_loads(memstore_line(i), 0, NULL);
		assert_non_null(r);
		again = json_dumps(r, JSON_COMPACT);
		assert_string_equal(again, memstore_line(i));
		free(again);
		on = json_object_get(json_object_get(r, "data"), "on_duty");
		if (strcmp(str(r, "event"), "notify.intent") == 0 && on != NULL) {
			late = strcmp(str(r, "ts"), "2026-12-02T08:30") > 0;
			assert_string_equal(str(json_object_get(on, "leader"),
			    "person"), late ? "wang" : "li");
			assert_int_equal(json_array_size(json_object_get(on,
			    "officers")), late ? 2 : 1);
			if (late)
				after++;
			else
				before++;
		}
		json_decref(r);
	}
	assert_true(before >= 2);
	assert_true(after >= 2);	/* the second, the overdue */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_the_note_goes_with_the_next_handover,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_notes_are_capped, corefix_teardown),
		cmocka_unit_test_teardown(test_accepted_in_time_no_alarm,
		    corefix_teardown),
		cmocka_unit_test_teardown(
		    test_nobody_accepts_the_leader_is_told_once, corefix_teardown),
		cmocka_unit_test_teardown(
		    test_the_pending_accept_survives_a_checkpoint_and_downtime,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_a_restart_rearms_from_the_records,
		    corefix_teardown),
		cmocka_unit_test_teardown(test_accept_within_zero_has_no_alarm,
		    corefix_teardown),
		cmocka_unit_test_teardown(
		    test_intents_carry_the_snapshot_of_their_moment,
		    corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
