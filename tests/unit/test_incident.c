/*
 * Incidents on a fake clock: the deadlines fire at their time and once,
 * an acknowledgement stops the climb, escalation levels chain, downtime
 * is caught up with the lateness said, follow-ups are capped and a
 * checkpoint of a heavy incident fits and restores what it held.  What
 * the e2e tests prove with real sleeps, here in milliseconds.
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

#include "actions/checkpoint.h"
#include "base/timeutil.h"
#include "actions/core.h"
#include "actions/incact.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "notify/notify.h"
#include "parse/report.h"
#include "state/incid.h"
#include "state/incident.h"
#include "state/increport.h"
#include "state/incseed.h"
#include "state/incview.h"
#include "state/timeline.h"
#include "store/store.h"

#define MIN	COREFIX_MIN

/* Two offices, four people, the leader's level and one more. */
#define CONF \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "  - { id: county-b, name: \"B县应急管理局\", token: \"secret-b\" }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n" \
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n" \
    "  - { id: zhao, name: \"赵敏\", token: \"secret-zhao\", contacts: [ { channel: hook, to: \"zhao\" } ] }\n" \
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

/* Levels 2 and 3 beyond the leader on duty. */
static const char conf_levels[] = CONF
    "  escalation:\n"
    "    - { after: 10m, notify: [zhao] }\n"
    "    - { after: 30m, notify: [leader, zhao] }\n";

static void
test_report_tells_the_duty_room_at_once(void **state)
{
	struct incident	*inc;
	json_t		*intent;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	assert_non_null(inc);
	assert_string_equal(inc->id, "INC-20261202-0001");
	assert_int_equal(inc->ack_clock.deadline, COREFIX_T0 + 20 * MIN);
	assert_int_equal(inc->report_clock.deadline, COREFIX_T0 + 40 * MIN);
	/* One intent, officers and the leader; the escalation list waits. */
	intent = corefix_record("notify.intent", inc->id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    intent, "data"), "event")), "incident.new");
	json_decref(intent);
	/* Sent only once the intent is durable: in the same turn here. */
	assert_string_equal(corefix_sent("incident.new", inc->id), "zhang,li");
	assert_int_equal(corefix_deliver_all(), 2);
	assert_int_equal(memstore_count_of("notify.attempt", inc->id), 2);
	/* Delivered is final: nothing is sent again. */
	fakeclock_advance(5 * MIN);
	assert_string_equal(corefix_sent("incident.new", inc->id), "zhang,li");
}

static void
test_escalation_at_the_deadline_not_before(void **state)
{
	struct incident	*inc;
	json_t		*esc;

	corefix_start(conf);
	inc = corefix_report("county-a", "河堤管涌");
	corefix_deliver_all();
	fakeclock_advance(20 * MIN - 1);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 0);
	assert_string_equal(corefix_sent("incident.escalated", NULL), "");
	fakeclock_advance(1);
	esc = corefix_record("incident.escalated", inc->id);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(esc,
	    "data"), "late_ms")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(esc,
	    "data"), "level")), 1);
	json_decref(esc);
	/*
	 * Escalations go up, the leader and the escalation list, and to the
	 * officer on duty, who writes the report.
	 */
	assert_string_equal(corefix_sent("incident.escalated", inc->id),
	    "zhang,li,wang");
	assert_int_equal(inc->level, 1);
	/* Firing is a record: an hour on, nothing fires twice. */
	corefix_deliver_all();
	fakeclock_advance(60 * MIN);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 1);
	assert_int_equal(memstore_count_of("incident.report_overdue", inc->id), 1);
	assert_string_equal(corefix_sent("incident.escalated", inc->id),
	    "zhang,li,wang");
}

static void
test_acknowledgement_stops_the_escalation(void **state)
{
	struct incident	*inc;
	int		 changed = -1;

	corefix_start(conf);
	inc = corefix_report("county-a", "山体滑坡");
	corefix_deliver_all();
	fakeclock_advance(19 * MIN);
	assert_int_equal(incact_acknowledge(inc, "zhang", "收到", &changed), 0);
	assert_int_equal(changed, 1);
	fakeclock_turn();
	assert_int_equal(inc->state, INCIDENT_ACKNOWLEDGED);
	assert_string_equal(inc->ack.by, "zhang");
	assert_string_equal(inc->ack.by_name, "张伟");
	/* Twice is once. */
	assert_int_equal(incact_acknowledge(inc, "li", NULL, &changed), 0);
	assert_int_equal(changed, 0);
	assert_string_equal(corefix_sent("incident.acknowledged", inc->id),
	    "zhang,li");
	fakeclock_advance(30 * MIN);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 0);
	/* The written report is a separate clock: it still runs out. */
	assert_int_equal(memstore_count_of("incident.report_overdue", inc->id), 1);
}

static void
test_report_overdue_unless_filed(void **state)
{
	struct incident	*a, *b;
	int		 changed;

	corefix_start(conf);
	a = corefix_report("county-a", "甲");
	b = corefix_report("county-b", "乙");
	assert_int_equal(incact_file_report(b, "zhang", "A应急〔2026〕1号",
	    &changed), 0);
	assert_int_equal(changed, 1);
	fakeclock_advance(40 * MIN);
	assert_int_equal(memstore_count_of("incident.report_overdue", a->id), 1);
	assert_int_equal(memstore_count_of("incident.report_overdue", b->id), 0);
	assert_string_equal(b->filed.text, "A应急〔2026〕1号");
}

static void
test_resolution_stops_every_clock(void **state)
{
	struct incident	*inc;
	int		 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "误报");
	assert_int_equal(incact_resolve(inc, "li", "核实为误报", &changed), 0);
	fakeclock_turn();
	assert_int_equal(inc->state, INCIDENT_RESOLVED);
	fakeclock_advance(120 * MIN);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 0);
	assert_int_equal(memstore_count_of("incident.report_overdue", inc->id), 0);
	/* Nothing is owed: no clock waits, only the resolution is told. */
	assert_int_equal(fakeclock_armed(), 0);
	assert_int_equal(memstore_count_of("notify.intent", inc->id), 2);
	assert_string_equal(corefix_sent("incident.resolved", inc->id),
	    "zhang,li");
	/* The first message, not yet delivered, no longer matters. */
	assert_int_equal(memstore_count_of("notify.abandoned", inc->id), 2);
}

static void
test_levels_chain_from_the_record(void **state)
{
	struct incident	*inc;
	json_t		*all, *l2;

	corefix_start(conf_levels);
	inc = corefix_report("county-a", "危化品泄漏");
	corefix_deliver_all();
	fakeclock_advance(20 * MIN);
	corefix_deliver_all();
	/* Level 1 carries when level 2 is due: 10 minutes on. */
	assert_non_null(inc->level_clock);
	assert_int_equal(inc->level_clock->deadline, COREFIX_T0 + 30 * MIN);
	/* A reload changes whom level 2 calls, never when. */
	corefix_reload(conf);
	fakeclock_advance(10 * MIN - 1);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 1);
	corefix_reload(conf_levels);
	fakeclock_advance(1);
	all = memstore_records("incident.escalated", inc->id);
	assert_int_equal(json_array_size(all), 2);
	l2 = json_object_get(json_array_get(all, 1), "data");
	assert_int_equal(json_integer_value(json_object_get(l2, "level")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(l2,
	    "notify"), 0)), "zhao");
	json_decref(all);
	assert_string_equal(corefix_sent("incident.escalated", inc->id),
	    "zhang,li,wang,zhang,zhao");
	/* Level 3: 30 minutes after level 2's deadline, the leader and zhao. */
	corefix_deliver_all();
	fakeclock_advance(30 * MIN);
	assert_int_equal(memstore_count_of("incident.escalated", inc->id), 3);
	assert_string_equal(corefix_sent("incident.escalated", inc->id),
	    "zhang,li,wang,zhang,zhao,zhang,li,zhao");
	assert_int_equal(inc->level, 3);
}

static void
test_downtime_is_caught_up_once(void **state)
{
	struct incident	*inc;
	json_t		*esc;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf);
	inc = corefix_report("county-a", "停电期间的事件");
	snprintf(id, sizeof(id), "%s", inc->id);
	corefix_deliver_all();
	fakeclock_advance(5 * MIN);
	/* Down from minute 5 to minute 35: the ack deadline passes unseen. */
	corefix_restart(30 * MIN);
	fakeclock_turn();
	esc = corefix_record("incident.escalated", id);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(esc,
	    "data"), "late_ms")), 15 * MIN);
	json_decref(esc);
	assert_int_equal(memstore_count_of("incident.report_overdue", id), 0);
	/* The leader is told, and told it is late. */
	assert_string_equal(corefix_sent("incident.escalated", id),
	    "zhang,li,wang");
	corefix_deliver_all();
	/* Down again: nothing fires twice, the next deadline fires once. */
	corefix_restart(10 * MIN);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("incident.escalated", id), 1);
	assert_int_equal(memstore_count_of("incident.report_overdue", id), 1);
	assert_string_equal(corefix_sent("incident.escalated", id), "");
	/* Delivered before the restart: not sent again after it. */
	assert_string_equal(corefix_sent("incident.new", id), "");
}

static void
test_a_crash_between_change_and_intent_is_reconciled(void **state)
{
	struct incident	*inc;
	char		 id[INCIDENT_ID_MAX];
	int		 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "夜间险情");
	snprintf(id, sizeof(id), "%s", inc->id);
	corefix_deliver_all();
	/* The acknowledgement is written, its intent cannot be; then a crash. */
	memstore_fail(EIO, 1);
	assert_int_equal(incact_acknowledge(inc, "zhang", NULL, &changed), 0);
	assert_int_equal(memstore_count_of("notify.intent", id), 1);
	memstore_fail(0, 0);
	corefix_restart(MIN);
	/* After a restart the intent is there, once. */
	assert_int_equal(memstore_count_of("notify.intent", id), 2);
	assert_string_equal(corefix_sent("incident.acknowledged", id),
	    "zhang,li");
}

static void
test_follow_ups_are_capped(void **state)
{
	struct incident	*inc;
	json_t		*u, *big;
	char		 key[32], *text;
	int		 i, changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "持续险情");
	for (i = 0; i < INCIDENT_UPDATES_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		u = json_pack("{s:s}", "details", key);
		assert_int_equal(incact_update(inc, "county-a", key, u, &changed), 0);
		assert_int_equal(changed, 1);
		json_decref(u);
	}
	u = json_pack("{s:s}", "details", "one more");
	assert_int_equal(incact_update(inc, "county-a", "more", u, &changed),
	    -EMLINK);
	/* A retry of one that was taken is still answered as taken. */
	json_decref(u);
	u = json_pack("{s:s}", "details", "k7");
	assert_int_equal(incact_update(inc, "county-a", "k7", u, &changed), 0);
	assert_int_equal(changed, 0);
	json_decref(u);

	/* Bytes: a few long ones fill the incident before the count does. */
	inc = corefix_report("county-a", "长续报");
	text = malloc(60 * 1024);
	memset(text, 'x', 60 * 1024 - 1);
	text[60 * 1024 - 1] = '\0';
	big = json_pack("{s:s}", "details", text);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "b%d", i);
		if (incact_update(inc, "county-a", key, big, &changed) != 0)
			break;
	}
	assert_int_equal(i, INCIDENT_UPDATES_BYTES_MAX / (60 * 1024));
	assert_int_equal(incact_update(inc, "county-a", "last", big, &changed),
	    -EFBIG);
	assert_true(inc->updates_bytes <= INCIDENT_UPDATES_BYTES_MAX);
	json_decref(big);
	free(text);
}

/*
 * 30 follow-ups of 7,900 characters made every checkpoint of the incident
 * fail (one line over the limit: each follow-up was written twice), and a
 * segment holding only checkpoint.begin was cut every 10 s.
 */
static void
test_checkpoint_of_a_heavy_incident_fits_and_restores(void **state)
{
	struct incident	*inc;
	json_t		*u, *before, *after;
	char		 key[32], id[INCIDENT_ID_MAX], *text;
	size_t		 i, len;
	int		 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "特大暴雨");
	snprintf(id, sizeof(id), "%s", inc->id);
	/* 7,900 characters of Chinese: 23,700 bytes each. */
	len = 7900 * 3;
	text = malloc(len + 1);
	for (i = 0; i < len; i += 3)
		memcpy(text + i, "雨", 3);
	text[len] = '\0';
	for (i = 0; i < 21; i++) {
		snprintf(key, sizeof(key), "u%zu", i);
		u = json_pack("{s:s}", "details", text);
		assert_int_equal(incact_update(inc, "county-a", key, u, &changed), 0);
		json_decref(u);
		corefix_deliver_all();
	}
	free(text);
	before = incview_json(inc, 1);
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	for (i = 0; i < memstore_count(); i++)
		assert_true(strlen(memstore_line(i)) <= 1024 * 1024);
	/* Replayed from the checkpoint alone, the incident is what it was. */
	corefix_restart(0);
	inc = incident_find(id);
	assert_non_null(inc);
	after = incview_json(inc, 1);
	assert_true(json_equal(before, after));
	assert_int_equal(json_array_size(inc->updates), 21);
	json_decref(before);
	json_decref(after);
}

/* Every incident as the API shows it, by id, and the counts. */
static json_t *
everything(void)
{
	struct incident	*inc;
	json_t		*all = json_object();
	int		 err;

	for (inc = incident_before(INCIDENT_ALL, NULL, &err); inc != NULL;
	    inc = incident_older(INCIDENT_ALL, inc))
		json_object_set_new(all, inc->id, incview_json(inc, 1));
	json_object_set_new(all, "counts", json_pack("{s:I, s:I, s:I}",
	    "all", (json_int_t)incident_count(INCIDENT_ALL), "unresolved",
	    (json_int_t)incident_count(INCIDENT_NOT_CLOSED), "resolved",
	    (json_int_t)incident_count(INCIDENT_IN_STATE(INCIDENT_RESOLVED))));
	return all;
}

/*
 * A checkpoint is written a part per loop turn, with live records between
 * the parts (issue 15: writing it in one turn stalled the loop for seconds
 * at 30,000 open incidents), and replay from it still ends where memory was:
 * changes to incidents whose part was written, not yet written, and new ones.
 */
static void
test_checkpoint_is_written_across_turns(void **state)
{
	struct incident	*inc[450], *late;
	json_t		*before, *after, *lines;
	size_t		 i, n, begin, end, plain;
	int		 changed;

	corefix_start(conf);
	for (i = 0; i < 450; i++)
		assert_non_null(inc[i] = corefix_report("county-a", "险情"));
	corefix_deliver_all();
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.begin", NULL), 1);
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 200);
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 0);
	/* Between the parts: one written, one not yet, one new. */
	assert_int_equal(incact_acknowledge(inc[10], "zhang", "收到", &changed), 0);
	assert_int_equal(incact_acknowledge(inc[400], "zhang", "收到", &changed), 0);
	assert_int_equal(incact_resolve(inc[300], "li", "误报", &changed), 0);
	assert_int_equal(incact_resolve(inc[20], "li", NULL, &changed), 0);
	core_turn();	/* one turn: the next 200 parts */
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 400);
	assert_int_equal(incact_acknowledge(inc[440], "li", NULL, &changed), 0);
	/* A report; its turns (the fake clock's kick) write the rest. */
	assert_non_null(late = corefix_report("county-b", "新险情"));
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	n = memstore_count_of("checkpoint.incident", NULL);
	assert_int_equal(n, 450);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.begin", NULL), 1);
	/* The new incident needs no part: its report follows the begin. */
	lines = memstore_records("checkpoint.incident", late->id);
	assert_int_equal(json_array_size(lines), 0);
	json_decref(lines);
	begin = end = plain = 0;
	for (i = 0; i < memstore_count(); i++) {
		if (strstr(memstore_line(i), "\"event\":\"checkpoint.begin\""))
			begin = i;
		else if (strstr(memstore_line(i), "\"event\":\"checkpoint.end\""))
			end = i;
		else if (begin != 0 && end == 0 &&
		    !strstr(memstore_line(i), "\"event\":\"checkpoint."))
			plain++;
	}
	assert_true(plain > 0);		/* they were interleaved */
	corefix_deliver_all();
	before = everything();
	corefix_restart(0);
	after = everything();
	if (!json_equal(before, after)) {
		char *a = json_dumps(before, JSON_SORT_KEYS | JSON_INDENT(1));
		char *b = json_dumps(after, JSON_SORT_KEYS | JSON_INDENT(1));

		print_message("before: %.2000s\nafter: %.2000s\n", a, b);
		free(a);
		free(b);
		fail();
	}
	json_decref(before);
	json_decref(after);
}

static void
test_ids_count_per_local_day_and_survive_restarts(void **state)
{
	struct incident *inc;

	corefix_start(conf);
	assert_string_equal(corefix_report("county-a", "一")->id,
	    "INC-20261202-0001");
	assert_string_equal(corefix_report("county-a", "二")->id,
	    "INC-20261202-0002");
	corefix_restart(MIN);
	assert_string_equal(corefix_report("county-a", "三")->id,
	    "INC-20261202-0003");
	/* Midnight in Shanghai, not in UTC. */
	fakeclock_advance(16 * 60 * MIN);
	inc = corefix_report("county-a", "次日");
	assert_string_equal(inc->id, "INC-20261203-0001");
}

/*
 * Ids are written digit by digit (incid.c): what snprintf("INC-%08d-%04d")
 * wrote, for counters and days of every width, past 9999 a day too.
 */
static void
test_new_ids_are_printf_s(void **state)
{
	static const int days[] = { 20261202, 20991231, 123456789 };
	static const int ns[] = { 0, 1, 8, 9, 10, 99, 999, 1000, 9998, 9999,
	    10000, 123456, 2147483646 };
	char	 got[INCIDENT_ID_MAX], want[INCIDENT_ID_MAX];
	size_t	 d, i;

	(void)state;
	corefix_start(conf);
	for (d = 0; d < sizeof(days) / sizeof(days[0]); d++)
		for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			incid_seen(days[d], ns[i]);
			incid_new(fakeclock_now(), got, sizeof(got));
			snprintf(want, sizeof(want), "INC-%08d-%04d", days[d],
			    ns[i] + 1);
			assert_string_equal(got, want);
		}
	/* A new day starts at 1: the counter is below today's date. */
	incid_reset();
	incid_new(fakeclock_now(), got, sizeof(got));
	assert_string_equal(got, "INC-20261202-0001");
}

/*
 * notify_subject() keeps the one found last and inserts a new one in one
 * walk (notify.c): what it gives is what the tree holds, once per id, and
 * one freed is not given again.
 */
static void
test_subjects_found_last_are_the_tree_s(void **state)
{
	struct notify_subject	*a, *b, *s;
	size_t			 n = 0;

	(void)state;
	corefix_start(conf);
	assert_non_null(a = notify_subject("INC-20261202-0101", 1));
	assert_non_null(b = notify_subject("INC-20261202-0102", 1));
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(notify_subject("INC-20261202-0101", 1), a);
	assert_ptr_equal(notify_subject("INC-20261202-0102", 0), b);
	assert_ptr_equal(notify_subject("INC-20261202-0101", 0), a);
	assert_null(notify_subject("INC-20261202-0103", 0));
	for (s = notify_subject_first(); s != NULL; s = notify_subject_next(s))
		n += strncmp(s->id, "INC-20261202-010", 16) == 0;
	assert_int_equal(n, 2);
	/* Neither is an incident, nor has deliveries: pruned, and forgotten. */
	notify_prune();
	assert_null(notify_subject("INC-20261202-0101", 0));
	assert_null(notify_subject("INC-20261202-0102", 0));
	assert_non_null(a = notify_subject("INC-20261202-0102", 1));
	assert_true(TAILQ_EMPTY(&a->deliveries));
}

/* The ids of a page: FROM (NULL: the newest) and LIMIT older ones that pass F. */
static const char *
page(enum incident_filter f, const char *from, int limit)
{
	static char	 buf[512];
	struct incident	*inc;
	int		 err, n = 0;

	buf[0] = '\0';
	for (inc = incident_before(f, from, &err); inc != NULL && n < limit;
	    inc = incident_older(f, inc), n++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		    n ? "," : "", inc->id + 13);
	assert_int_equal(err, 0);
	return buf;
}

/*
 * The API list and /healthz count and page without walking every
 * incident (issue 15: /healthz walked all of them, the list built all of
 * them): counts per state kept as states change, pages newest first.
 */
static void
test_lists_page_and_count_without_a_walk(void **state)
{
	struct incident	*inc[7];
	int		 i, changed, err;

	corefix_start(conf);
	for (i = 0; i < 7; i++)
		assert_non_null(inc[i] = corefix_report("county-a", "事件"));
	assert_int_equal(incact_acknowledge(inc[1], "zhang", NULL, &changed), 0);
	assert_int_equal(incact_acknowledge(inc[4], "zhang", NULL, &changed), 0);
	assert_int_equal(incact_resolve(inc[2], "li", NULL, &changed), 0);
	assert_int_equal(incact_resolve(inc[4], "li", NULL, &changed), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(incident_count(INCIDENT_ALL), 7);
		assert_int_equal(incident_count(INCIDENT_NOT_CLOSED), 5);
		assert_int_equal(incident_count(INCIDENT_IN_STATE(INCIDENT_ACKNOWLEDGED)), 1);
		assert_int_equal(incident_count(INCIDENT_IN_STATE(INCIDENT_RESOLVED)), 2);
		assert_string_equal(page(INCIDENT_ALL, NULL, 3), "0007,0006,0005");
		assert_string_equal(page(INCIDENT_ALL, "INC-20261202-0005", 3),
		    "0004,0003,0002");
		assert_string_equal(page(INCIDENT_ALL, "INC-20261202-0002", 3),
		    "0001");
		assert_string_equal(page(INCIDENT_NOT_CLOSED, NULL, 10),
		    "0007,0006,0004,0002,0001");
		assert_string_equal(page(INCIDENT_IN_STATE(INCIDENT_ACKNOWLEDGED), NULL, 10),
		    "0002");
		assert_string_equal(page(INCIDENT_IN_STATE(INCIDENT_RESOLVED), NULL, 10),
		    "0005,0003");
		/* A cursor whose incident is gone still marks its place. */
		assert_string_equal(page(INCIDENT_ALL, "INC-20261202-0099", 2),
		    "0007,0006");
		assert_string_equal(page(INCIDENT_NOT_CLOSED, "INC-20261202-0005",
		    10), "0004,0002,0001");
		/* The same after replay from the log, then from a checkpoint. */
		if (i == 1) {
			memstore_want_checkpoint();
			fakeclock_turn();
			assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
		}
		corefix_restart(MIN);
	}
	assert_null(incident_before(INCIDENT_ALL, "INC-2026", &err));
	assert_int_equal(err, -EINVAL);
	assert_null(incident_before(INCIDENT_ALL, "INC-20261202-0001x", &err));
	assert_int_equal(err, -EINVAL);
}

/* What incident_count_overdue() must say, by walking them all. */
static size_t
overdue_by_walk(void)
{
	struct incident	*inc;
	size_t		 n = 0;

	for (inc = incident_first(); inc != NULL; inc = incident_next(inc))
		if (!incident_is_closed(inc) &&
		    ((inc->ack_clock.fired_at != 0 && inc->ack.at == 0) ||
		    (inc->report_clock.fired_at != 0 && inc->filed.at == 0)))
			n++;
	return n;
}

/*
 * Merged and dismissed incidents have lists of their own and leave the
 * open one; the overdue count (STATUS=, /metrics) is kept as records
 * apply instead of walking every incident, and agrees with a walk through
 * acknowledgements, filing, closing, a restart and a checkpoint.
 */
static void
test_closed_lists_and_overdue_count(void **state)
{
	struct incident	*inc[6];
	int		 i, changed;

	corefix_start(conf);
	for (i = 0; i < 6; i++)
		assert_non_null(inc[i] = corefix_report("county-a", "事件"));
	assert_int_equal(incident_count_overdue(), 0);
	fakeclock_advance(21 * MIN);	/* every acknowledgement overdue */
	assert_int_equal(incident_count_overdue(), 6);
	assert_int_equal(incact_acknowledge(inc[0], "zhang", NULL, &changed), 0);
	assert_int_equal(incact_merge(inc[1], "zhang", inc[2]->id, NULL,
	    &changed), 0);
	assert_int_equal(incact_dismiss(inc[3], "zhang", "误报", &changed), 0);
	assert_int_equal(incident_count_overdue(), 3);
	fakeclock_advance(20 * MIN);	/* written reports overdue too */
	/* 0, 2, 4, 5: the first acknowledged but its report not filed */
	assert_int_equal(incident_count_overdue(), 4);
	assert_int_equal(incact_file_report(inc[0], "zhang", NULL, &changed), 0);
	assert_int_equal(incident_count_overdue(), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(incident_count_overdue(), overdue_by_walk());
		assert_int_equal(incident_count_overdue(), 3);
		assert_int_equal(incident_count(INCIDENT_NOT_CLOSED), 4);
		assert_int_equal(incident_count(INCIDENT_IN_STATE(INCIDENT_MERGED)), 1);
		assert_int_equal(incident_count(INCIDENT_IN_STATE(INCIDENT_DISMISSED)), 1);
		assert_int_equal(incident_count(INCIDENT_IN_STATE(INCIDENT_OPEN)), 3);
		assert_string_equal(page(INCIDENT_IN_STATE(INCIDENT_MERGED), NULL, 10),
		    "0002");
		assert_string_equal(page(INCIDENT_NOT_CLOSED, NULL, 10),
		    "0006,0005,0003,0001");
		if (i == 1) {
			memstore_want_checkpoint();
			fakeclock_turn();
			assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
		}
		corefix_restart(MIN);
	}
}

/*
 * A checkpoint is written a part per loop turn with live records between
 * the parts.  A merge recorded between them names two incidents: the one
 * merged, whose part comes later (and holds the merge), and the one it
 * went into, whose part may be written already.  Replayed from that
 * checkpoint, the second must still list the first in merged_from.
 */
static void
test_merge_between_checkpoint_parts(void **state)
{
	struct incident	*a, *b, *c, *d;
	json_t		*from;
	int		 changed, done = 0;

	corefix_start(conf);
	assert_non_null(a = corefix_report("county-a", "甲"));
	assert_non_null(b = corefix_report("county-a", "乙"));
	assert_non_null(c = corefix_report("county-a", "丙"));
	assert_non_null(d = corefix_report("county-a", "丁"));
	store_commit();
	assert_int_equal(checkpoint_start(0), 0);
	assert_int_equal(checkpoint_step(2, &done), 0);	/* a and b written */
	assert_false(done);
	/* c into a (a written before), b into d (d written after). */
	assert_int_equal(incact_merge(c, "zhang", a->id, NULL, &changed), 0);
	assert_int_equal(incact_merge(b, "zhang", d->id, NULL, &changed), 0);
	while (!done)
		assert_int_equal(checkpoint_step(1, &done), 0);
	store_checkpoint_done();
	store_commit();
	corefix_restart(MIN);
	assert_non_null(a = incident_find("INC-20261202-0001"));
	assert_non_null(d = incident_find("INC-20261202-0004"));
	from = a->merged_from;
	assert_int_equal(json_array_size(from), 1);
	assert_string_equal(json_string_value(json_array_get(from, 0)),
	    "INC-20261202-0003");
	from = d->merged_from;
	assert_int_equal(json_array_size(from), 1);
	assert_string_equal(json_string_value(json_array_get(from, 0)),
	    "INC-20261202-0002");
	assert_int_equal(incident_count(INCIDENT_IN_STATE(INCIDENT_MERGED)), 2);
	assert_int_equal(incident_count(INCIDENT_NOT_CLOSED), 2);
}


/* The cached text of INC is the view's own dump. */
static void
assert_cached_is_view(struct incident *inc)
{
	json_t	*view = incview_json(inc, 0);
	char	*want = json_dumps(view, JSON_COMPACT);

	assert_non_null(want);
	assert_string_equal(incview_cached(inc), want);
	free(want);
	json_decref(view);
}

/*
 * The view every reply and message shares is spliced from the report's
 * dump (given with the report, or made once): the same bytes as dumping
 * the whole view, as the incident changes.
 */
static void
test_cached_view_is_the_dumped_view(void **state)
{
	static const char body[] = "{\"title\":\"化工厂\\\"爆炸\\\"\","
	    "\"occurred_at\":\"2026-12-02T08:00:00+08:00\",\"level\":\"Ⅱ\","
	    "\"casualties\":{\"dead\":1},\"reporter\":{\"name\":\"王\\n\"},"
	    "\"details\":\"情况\\u0001说明\"}";
	struct incident	*inc = NULL, *plain;
	json_t		*report;
	char		*raw, *canon, id[INCIDENT_ID_MAX];
	size_t		 rawlen, canonlen;
	int64_t		 ms;
	int		 changed, i;

	corefix_start(conf);
	report = report_parse(body, sizeof(body) - 1, &ms, NULL);
	assert_non_null(report);
	assert_int_equal(report_dump(report, &raw, &rawlen, &canon, &canonlen), 0);
	assert_int_equal(incact_report_dumped("county-a", NULL, "k1", report, raw,
	    rawlen, ms, "0", &inc), 0);
	free(raw);
	free(canon);
	json_decref(report);
	fakeclock_turn();
	assert_non_null(inc);
	snprintf(id, sizeof(id), "%s", inc->id);
	assert_cached_is_view(inc);
	plain = corefix_report("county-b", "只有标题");
	assert_cached_is_view(plain);
	fakeclock_advance(21 * MIN);	/* escalated */
	assert_cached_is_view(inc);
	assert_int_equal(incact_acknowledge(inc, "zhang", "收到", &changed), 0);
	fakeclock_turn();
	assert_cached_is_view(inc);
	assert_cached_is_view(plain);
	/*
	 * Only recent incidents keep the report's tree: an older one reads
	 * it from its text again, and its view is the same.
	 */
	assert_non_null(incview_cached(inc));
	for (i = 0; i < INCREPORT_KEPT + 44; i++)
		assert_cached_is_view(corefix_report("county-a", "又一起"));
	assert_int_equal(inc->report.slot, 0);
	/* Nor do they keep their views' text: 256 others were built since. */
	assert_null(inc->json);
	assert_int_equal(incact_resolve(inc, "zhang", NULL, &changed), 0);
	fakeclock_turn();
	assert_cached_is_view(inc);
	assert_int_not_equal(inc->report.slot, 0);
	/* Replayed, the report's text is the line's: the same view. */
	corefix_restart(MIN);
	assert_non_null(inc = incident_find(id));
	assert_cached_is_view(inc);
	assert_string_equal(json_string_value(json_object_get(incident_report(inc),
	    "title")), "化工厂\"爆炸\"");
	assert_int_equal(json_integer_value(incident_fact(inc, "casualties",
	    "dead")), 1);
}

/*
 * The report.received line is what jansson wrote before the data was
 * built member by member: jansson's dump of the parsed data, byte for
 * byte, members in the order json_pack gave them, with and without a key
 * and a taker.
 */
static void
test_received_line_is_jansson_s(void **state)
{
	static const char body[] = "{\"title\":\"化工厂\",\"occurred_at\":"
	    "\"2026-12-02T08:00:00+08:00\",\"level\":\"II\","
	    "\"details\":\"说明\"}";
	static const char *const order[] = { "office", "office_name", "report",
	    "received_at", "ack_deadline", "report_deadline", "late_report",
	    "late_by_minutes", "source", "idempotency_key", "body_sha256",
	    "taken_by", "taken_by_name", NULL };
	struct incident	*inc = NULL;
	json_t		*report, *root, *data, *v;
	const char	*line, *key, *at;
	char		*raw, *canon, *want;
	size_t		 rawlen, canonlen, n, k, round;
	int64_t		 ms;

	(void)state;
	corefix_start(conf);
	for (round = 0; round < 3; round++) {
		report = report_parse(body, sizeof(body) - 1, &ms, NULL);
		assert_non_null(report);
		assert_int_equal(report_dump(report, &raw, &rawlen, &canon,
		    &canonlen), 0);
		assert_int_equal(incact_report_dumped("county-a",
		    round == 2 ? "zhang" : NULL, round == 1 ? "k-line" : NULL,
		    report, raw, rawlen, ms, "abc", &inc), 0);
		free(raw);
		free(canon);
		json_decref(report);
		n = memstore_count();
		for (line = NULL; n > 0; n--) {
			line = memstore_line(n - 1);
			if (strstr(line, "\"event\":\"report.received\"") != NULL)
				break;
		}
		assert_non_null(line);
		root = json_loads(line, 0, NULL);
		assert_non_null(root);
		data = json_object_get(root, "data");
		/* The data's bytes are jansson's dump of what they parse to. */
		want = json_dumps(data, JSON_COMPACT);
		assert_non_null(at = strstr(line, ",\"data\":"));
		assert_memory_equal(at + 8, want, strlen(want));
		free(want);
		k = 0;
		json_object_foreach(data, key, v) {
			while (order[k] != NULL && strcmp(order[k], key) != 0)
				k++;
			assert_non_null(order[k]);
		}
		assert_true(json_is_null(json_object_get(data,
		    "idempotency_key")) == (round != 1));
		assert_int_equal(json_object_size(data), round == 2 ? 13 : 11);
		json_decref(root);
		fakeclock_turn();
	}
}

/* What an incident took from its report.received record, in one line. */
static void
origin_said(const struct incident *inc, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%s|%s|%s|%s|%s|%s|%s|%lld|%lld|%lld|%d|%d|%lld",
	    inc->id, inc->office, inc->office_name ? inc->office_name : "-",
	    inc->body_sha256 ? inc->body_sha256 : "-", inc->idem ? inc->idem : "-",
	    inc->source ? inc->source : "-", inc->taken_by ? inc->taken_by : "-",
	    inc->taken_by_name ? inc->taken_by_name : "-",
	    (long long)inc->received_at, (long long)inc->ack_clock.deadline,
	    (long long)inc->report_clock.deadline, inc->late_report,
	    inc->has_late_minutes, (long long)inc->late_minutes);
}

/* The report's timeline entry, written as text (incident.c): {"office": …}. */
static void
assert_received_entry(const struct incident *inc)
{
	json_t *data = timeline_data(&inc->timeline, 0), *want;

	assert_string_equal(timeline_event(&inc->timeline, 0), "report.received");
	assert_non_null(want = json_pack("{s:s}", "office", inc->office));
	assert_true(json_equal(data, want));
	json_decref(data);
	json_decref(want);
}

/*
 * A live report's incident is made from what the action says its record
 * holds (incseed_expect()), replay's from the record: the two make the
 * same incident, for a report over the API with a key, one by SMS and
 * late, one taken by phone and one whose bytes were spliced in; and what
 * the action said is what its record reads back as (incseed_read()).
 */
static void
test_live_incident_is_the_replayed_one(void **state)
{
	static const char body[] = "{\"title\":\"化工厂\",\"occurred_at\":"
	    "\"2026-12-01T08:00:00+08:00\",\"level\":\"II\"}";
	struct incident	*inc[4];
	struct incseed	 seed;
	json_t		*report, *origin;
	char		 live[4][512], back[512], *raw, *canon;
	size_t		 rawlen, canonlen, i;
	int64_t		 ms, now;

	(void)state;
	corefix_start(conf);
	now = fakeclock_now();
	report = json_pack("{s:s}", "title", "按时");
	assert_int_equal(incact_report("county-a", "k-1", report, now, "aa",
	    &inc[0]), 0);
	json_decref(report);
	report = report_parse(body, sizeof(body) - 1, &ms, NULL);
	assert_non_null(report);
	assert_int_equal(incact_report("county-b", "sms:13800000000", report, ms,
	    "bb", &inc[1]), 0);
	assert_int_equal(incact_report_phoned("county-a", "zhang", NULL, report,
	    ms, "cc", &inc[2]), 0);
	assert_int_equal(report_dump(report, &raw, &rawlen, &canon, &canonlen), 0);
	assert_int_equal(incact_report_dumped("county-b", NULL, NULL, report, raw,
	    rawlen, now, "dd", &inc[3]), 0);
	free(raw);
	free(canon);
	json_decref(report);
	fakeclock_turn();
	assert_true(inc[1]->late_report && inc[1]->late_minutes > 0);
	assert_string_equal(inc[2]->taken_by_name, "张伟");
	/* Who the record names as its actor (incact_actor()). */
	for (i = 0; i < 4; i++) {
		origin = corefix_record("report.received", inc[i]->id);
		assert_string_equal(json_string_value(json_object_get(origin,
		    "actor")), i == 2 ? "person:zhang" : i == 1 || i == 3 ?
		    "office:county-b" : "office:county-a");
		json_decref(origin);
	}
	for (i = 0; i < 4; i++) {
		assert_received_entry(inc[i]);
		origin_said(inc[i], live[i], sizeof(live[i]));
		/* The seed read back from the record: the same strings and times. */
		assert_non_null(origin = incident_origin(inc[i]));
		assert_int_equal(incseed_read(origin, &seed), 0);
		assert_string_equal(seed.office, inc[i]->office);
		assert_string_equal(seed.received_at, time_format(
		    inc[i]->received_at, back, sizeof(back)));
		assert_int_equal(seed.late_minutes, inc[i]->late_minutes);
		json_decref(origin);
	}
	corefix_restart(MIN);
	for (i = 0; i < 4; i++) {
		snprintf(back, sizeof(back), "%.17s", live[i]);	/* its id */
		assert_non_null(inc[i] = incident_find(back));
		origin_said(inc[i], back, sizeof(back));
		assert_string_equal(back, live[i]);
		assert_received_entry(inc[i]);
	}
}

/* YAML with every person hearing only of level I (min_level). */
static char *
only_level_one(const char *yaml)
{
	const char	*at;
	char		*out, *o;

	assert_non_null(out = malloc(2 * strlen(yaml) + 1));
	for (o = out; *yaml != '\0'; yaml++) {
		if (strncmp(yaml, "contacts:", 9) == 0)
			for (at = "min_level: I, "; *at != '\0'; at++)
				*o++ = *at;
		*o++ = *yaml;
	}
	*o = '\0';
	return out;
}

/*
 * Every notify.intent line is what json_pack() made before its data was
 * built member by member (notify.c): jansson's dump of the parsed data,
 * byte for byte, members in json_pack()'s order, then "update" or
 * "level"; an intent naming nobody (min_level holds everyone back from a
 * level IV report) keeps its on-duty snapshot.  For news, escalations, a
 * level, a follow-up and an acknowledgement.
 */
static void
test_intent_lines_are_jansson_s(void **state)
{
	static const char *const order[] = { "event", "recipients", "late_ms",
	    "on_duty", "update", "level", NULL };
	struct incident	*inc, *quiet;
	json_t		*report, *root, *data, *v;
	const char	*line, *key, *at;
	char		*want, *yaml;
	size_t		 i, k, seen = 0, empty = 0, extra = 0;
	int64_t		 ms;
	int		 changed;

	(void)state;
	yaml = only_level_one(conf_levels);
	corefix_start(yaml);
	free(yaml);
	inc = corefix_report("county-a", "化工厂爆炸");
	at = "{\"title\":\"t\",\"occurred_at\":\"2026-12-02T08:00:00+08:00\","
	    "\"level\":\"IV\"}";
	assert_non_null(report = report_parse(at, strlen(at), &ms, NULL));
	assert_int_equal(incact_report("county-b", NULL, report, ms, "0",
	    &quiet), 0);
	json_decref(report);
	fakeclock_turn();
	assert_non_null(report = report_parse_update("{\"details\":\"续报\"}",
	    strlen("{\"details\":\"续报\"}"), NULL));
	assert_int_equal(incact_update(inc, "county-a", NULL, report, &changed), 0);
	json_decref(report);
	fakeclock_turn();
	fakeclock_advance(21 * MIN);	/* escalated, then level 2 */
	fakeclock_advance(11 * MIN);
	assert_int_equal(incact_acknowledge(inc, "zhang", "收到", &changed), 0);
	fakeclock_turn();
	for (i = 0; i < memstore_count(); i++) {
		line = memstore_line(i);
		/* notify_intent()'s: of incident events (not a reminder's). */
		if (strstr(line, "\"event\":\"notify.intent\"") == NULL ||
		    strstr(line, "\"data\":{\"event\":\"incident.") == NULL)
			continue;
		seen++;
		assert_non_null(root = json_loads(line, 0, NULL));
		data = json_object_get(root, "data");
		want = json_dumps(data, JSON_COMPACT);
		assert_non_null(at = strstr(line, ",\"data\":"));
		assert_memory_equal(at + 8, want, strlen(want));
		assert_memory_equal(at + 8 + strlen(want), ",\"prev\":", 8);
		free(want);
		k = 0;
		json_object_foreach(data, key, v) {
			while (order[k] != NULL && strcmp(order[k], key) != 0)
				k++;
			if (order[k] == NULL)
				fail_msg("%s: %s", key, line);
			if (k < 4)
				assert_string_equal(key, order[k]);
			extra += k >= 4;
			k++;
		}
		assert_true(json_is_object(json_object_get(data, "on_duty")));
		empty += json_array_size(json_object_get(data, "recipients")) == 0;
		json_decref(root);
	}
	assert_true(seen >= 5);
	assert_true(empty >= 1);
	assert_true(extra >= 2);	/* the follow-up's update, level 2 */
}

/*
 * The view's text is written member by member (incview.c) instead of
 * dumped: in every state an incident can be in, with every member that is
 * not null or empty in the common case filled, and strings that need
 * escaping, the same bytes as dumping incview_json().
 */
static void
test_written_view_is_the_dumped_view_in_every_state(void **state)
{
	struct incident	*a, *b, *c, *d, *e;
	json_t		*report, *u;
	int64_t		 ms;
	int		 changed;

	corefix_start(conf_levels);
	report = report_parse("{\"title\":\"电话\",\"occurred_at\":"
	    "\"2026-12-01T08:00:00+08:00\",\"level\":\"I\"}", 72, &ms, NULL);
	assert_non_null(report);
	/* Taken by phone, and late (a day after it happened). */
	assert_int_equal(incact_report_phoned("county-a", "zhang", NULL, report,
	    ms, "0", &a), 0);
	json_decref(report);
	fakeclock_turn();
	assert_non_null(a);
	assert_non_null(a->taken_by);
	assert_cached_is_view(a);
	/* Escalated twice: a level clock, a level, lateness. */
	fakeclock_advance(31 * MIN);
	assert_non_null(a->level_clock);
	assert_cached_is_view(a);
	b = corefix_report("county-a", "标题\"引号\"\\与\001控制");
	c = corefix_report("county-b", "重复");
	d = corefix_report("county-b", "误报");
	e = corefix_report("county-a", "续报");
	corefix_deliver_all();
	assert_int_equal(incact_acknowledge(b, "li", "收到", &changed), 0);
	assert_int_equal(incact_file_report(b, "zhang", "文号\"1\"\n\\", &changed),
	    0);
	fakeclock_turn();
	assert_cached_is_view(b);
	assert_int_equal(incact_resolve(b, "wang", NULL, &changed), 0);
	fakeclock_turn();
	assert_cached_is_view(b);
	assert_int_equal(incact_merge(c, "zhang", e->id, "同一\t起", &changed), 0);
	assert_int_equal(incact_dismiss(d, "li", "误报\"了\"", &changed), 0);
	u = json_pack("{s:s, s:{s:i}}", "details", "火势\002已控制",
	    "casualties", "dead", 2);
	assert_non_null(u);
	assert_int_equal(incact_update(e, "county-a", "k1", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	assert_cached_is_view(c);
	assert_cached_is_view(d);
	assert_cached_is_view(e);	/* merged_from and updates */
	assert_cached_is_view(a);
	/*
	 * A report with a member the view has too (an old log's, or one not
	 * parsed): the view as jansson makes it, not the report's bytes
	 * spliced in; and with every member a report may have, spliced.
	 */
	u = json_pack("{s:s, s:s, s:s}", "title", "t", "state", "假",
	    "occurred_at", "2026-12-02T08:00:00+08:00");
	assert_non_null(u);
	assert_int_equal(incact_report("county-a", NULL, u, ms, "0", &b), 0);
	json_decref(u);
	fakeclock_turn();
	assert_cached_is_view(b);
	u = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i}, "
	    "s:{s:s}}", "title", "全", "occurred_at", "2026-12-02T08:00:00+08:00",
	    "category", "c", "level", "II", "location", "l", "cause", "c",
	    "measures", "m", "details", "d", "casualties", "dead", 1, "reporter",
	    "name", "王");
	assert_non_null(u);
	assert_int_equal(incact_report("county-a", NULL, u, ms, "0", &c), 0);
	json_decref(u);
	fakeclock_turn();
	assert_cached_is_view(c);
}

/*
 * The report read back from its line (not kept: increport.h) is what
 * keeping the recorded data in memory gives: the report's bytes, its tree
 * and the data, byte for byte.
 */
static void
assert_report_as_kept(struct incident *inc)
{
	struct increport	 mem;
	json_t			*origin = incident_origin(inc), *a, *b;
	const char		*t;
	char			*back;
	size_t			 len, mlen;

	assert_non_null(origin);
	assert_int_equal(increport_keep(&mem, origin, NULL, NULL), 0);
	assert_non_null(mem.data);
	assert_non_null(t = increport_text(&inc->report, &len));
	assert_non_null(back = strndup(t, len));	/* its buffer is reused */
	assert_non_null(t = increport_text(&mem, &mlen));
	assert_int_equal(len, mlen);
	assert_memory_equal(back, t, len);
	assert_non_null(a = increport_data(&inc->report));
	assert_non_null(b = increport_data(&mem));
	assert_true(json_equal(a, b));
	assert_true(json_equal(incident_report(inc), increport_tree(&mem)));
	json_decref(a);
	json_decref(b);
	free(back);
	increport_clear(&mem);
	json_decref(origin);
}

/* The line of INC's report.received in the memory store. */
static size_t
received_line(const char *id)
{
	size_t i;

	for (i = 0; i < memstore_count(); i++)
		if (strstr(memstore_line(i), "\"event\":\"report.received\"") &&
		    strstr(memstore_line(i), id))
			return i;
	fail();
	return 0;
}

/*
 * A store that reads lines back keeps no report text in memory: live,
 * replayed from the start (found in the data only when first shown) and
 * restored from a checkpoint (its origin_line), the report read back is
 * the one kept in memory and the views are the dumped ones.  A line that
 * no longer reads back is an error, not a crash; a checkpoint's reference
 * to it gives way to the checkpoint's own copy.
 */
static void
test_report_read_back_is_the_kept_one(void **state)
{
	static const char *const titles[] = { "化工厂\"爆炸\"", "只有标题",
	    "换行\n与\\" };
	struct incident	*inc;
	char		 id[3][INCIDENT_ID_MAX], *before, dead[] = "{\"seq\":1}";
	size_t		 i, round;
	int		 changed;

	corefix_start(conf);
	for (i = 0; i < 3; i++) {
		assert_non_null(inc = corefix_report("county-a", titles[i]));
		snprintf(id[i], sizeof(id[i]), "%s", inc->id);
		assert_null(inc->report.data);
		assert_int_not_equal(inc->report.seq, 0);
		assert_int_not_equal(inc->report.len, 0);	/* spliced */
	}
	corefix_deliver_all();
	assert_int_equal(incact_acknowledge(incident_find(id[1]), "zhang", NULL,
	    &changed), 0);
	fakeclock_turn();
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 3; i++) {
			assert_non_null(inc = incident_find(id[i]));
			assert_null(inc->report.data);
			/* Neither its tree nor its view kept: both read back. */
			increport_forget();
			incview_flush();
			assert_cached_is_view(inc);
			assert_report_as_kept(inc);
			assert_string_equal(json_string_value(json_object_get(
			    incident_report(inc), "title")), titles[i]);
		}
		if (round == 0)
			corefix_restart(0);	/* replayed from the start */
		else if (round == 1) {
			memstore_want_checkpoint();
			fakeclock_turn();
			assert_int_equal(memstore_count_of("checkpoint.end",
			    NULL), 1);
			corefix_restart(0);	/* restored from the checkpoint */
		}
	}
	/* The line gone bad: the view and the report cannot be had, no crash. */
	inc = incident_find(id[0]);
	before = strdup(incview_cached(inc));
	assert_non_null(before);
	memstore_damage(received_line(id[0]), dead);
	increport_forget();
	incview_flush();
	assert_null(incview_cached(inc));
	assert_null(incident_report(inc));
	assert_null(incident_origin(inc));
	/* The checkpoint's copy of the data serves instead. */
	corefix_restart(0);
	assert_non_null(inc = incident_find(id[0]));
	assert_non_null(inc->report.data);
	assert_string_equal(incview_cached(inc), before);
	assert_cached_is_view(inc);
	free(before);
}

/* The record with seq SEQ in the memory store, parsed. */
static json_t *
record_of(json_int_t seq)
{
	json_t	*r;
	size_t	 i;

	for (i = 0; i < memstore_count(); i++) {
		r = json_loads(memstore_line(i), 0, NULL);
		if (json_integer_value(json_object_get(r, "seq")) == seq)
			return r;
		json_decref(r);
	}
	fail();
	return NULL;
}

/*
 * Timeline entries whose data is their record's own are read back from
 * its line (timeline.h): what the API shows is the record as written,
 * envelope and data, live and replayed; a line gone bad makes the
 * incident's view with its timeline an error, not a crash.
 */
static void
test_timeline_read_back_is_the_records(void **state)
{
	struct incident	*inc;
	json_t		*tl, *e, *rec, *u;
	char		 id[INCIDENT_ID_MAX], dead[] = "{\"seq\":1}";
	size_t		 i, round, checked, attempt = 0;
	int		 changed;

	corefix_start(conf);
	assert_non_null(inc = corefix_report("county-a", "险情"));
	snprintf(id, sizeof(id), "%s", inc->id);
	corefix_deliver_all();
	u = json_pack("{s:s}", "details", "水位\"上涨\"");
	assert_int_equal(incact_update(inc, "county-a", "k1", u, &changed), 0);
	json_decref(u);
	assert_int_equal(incact_note(inc, "zhang", "已联系\n现场"), 0);
	assert_int_equal(incact_acknowledge(inc, "zhang", "收到", &changed), 0);
	fakeclock_turn();
	corefix_deliver_all();
	fakeclock_turn();
	for (round = 0; round < 2; round++) {
		assert_non_null(inc = incident_find(id));
		assert_non_null(tl = timeline_json(&inc->timeline));
		checked = 0;
		json_array_foreach(tl, i, e) {
			rec = record_of(json_integer_value(json_object_get(e,
			    "seq")));
			assert_string_equal(json_string_value(json_object_get(e,
			    "event")), json_string_value(json_object_get(rec,
			    "event")));
			assert_string_equal(json_string_value(json_object_get(e,
			    "ts")), json_string_value(json_object_get(rec, "ts")));
			assert_string_equal(json_string_value(json_object_get(e,
			    "actor")), json_string_value(json_object_get(rec,
			    "actor")));
			/* The report's entry is a summary: the view has the report. */
			if (strcmp(json_string_value(json_object_get(e, "event")),
			    "report.received") != 0) {
				assert_true(json_equal(json_object_get(e, "data"),
				    json_object_get(rec, "data")));
				checked++;
			}
			if (strcmp(json_string_value(json_object_get(e, "event")),
			    "notify.attempt") == 0)
				attempt = (size_t)json_integer_value(
				    json_object_get(e, "seq"));
			json_decref(rec);
		}
		assert_true(checked >= 7);	/* intents, attempts, the update, note, ack */
		json_decref(tl);
		if (round == 0)
			corefix_restart(0);
	}
	/* An attempt's line damaged: no timeline, no view with it; no crash. */
	memstore_damage(attempt - 1, dead);
	assert_null(timeline_json(&inc->timeline));
	assert_null(incview_json(inc, 1));
	assert_non_null(tl = incview_json(inc, 0));
	json_decref(tl);
}

/*
 * incident_find() keeps the incident found last: one pruned (or replaced
 * by a checkpoint's) must not be found through it afterwards.
 */
static void
test_found_last_is_forgotten_when_removed(void **state)
{
	struct incident	*a, *b;
	char		 ida[sizeof(a->id)], idb[sizeof(b->id)];
	int		 changed;

	corefix_start(conf);
	a = corefix_report("county-a", "甲");
	b = corefix_report("county-b", "乙");
	snprintf(ida, sizeof(ida), "%s", a->id);
	snprintf(idb, sizeof(idb), "%s", b->id);
	assert_int_equal(incact_resolve(a, "li", "已处置", &changed), 0);
	fakeclock_turn();
	corefix_deliver_all();
	assert_ptr_equal(incident_find(ida), a);	/* now the one found last */
	assert_int_equal(incident_prune(INT64_MAX, NULL), 1);
	assert_null(incident_find(ida));
	assert_ptr_equal(incident_find(idb), b);
	assert_ptr_equal(incident_find(idb), b);
	assert_null(incident_find(ida));
	assert_null(incident_find(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_report_tells_the_duty_room_at_once, corefix_teardown),
		cmocka_unit_test_teardown(test_cached_view_is_the_dumped_view, corefix_teardown),
		cmocka_unit_test_teardown(test_report_read_back_is_the_kept_one, corefix_teardown),
		cmocka_unit_test_teardown(test_timeline_read_back_is_the_records, corefix_teardown),
		cmocka_unit_test_teardown(test_received_line_is_jansson_s, corefix_teardown),
		cmocka_unit_test_teardown(test_live_incident_is_the_replayed_one, corefix_teardown),
		cmocka_unit_test_teardown(test_intent_lines_are_jansson_s, corefix_teardown),
		cmocka_unit_test_teardown(test_written_view_is_the_dumped_view_in_every_state, corefix_teardown),
		cmocka_unit_test_teardown(test_closed_lists_and_overdue_count, corefix_teardown),
		cmocka_unit_test_teardown(test_merge_between_checkpoint_parts, corefix_teardown),
		cmocka_unit_test_teardown(test_escalation_at_the_deadline_not_before, corefix_teardown),
		cmocka_unit_test_teardown(test_acknowledgement_stops_the_escalation, corefix_teardown),
		cmocka_unit_test_teardown(test_report_overdue_unless_filed, corefix_teardown),
		cmocka_unit_test_teardown(test_resolution_stops_every_clock, corefix_teardown),
		cmocka_unit_test_teardown(test_levels_chain_from_the_record, corefix_teardown),
		cmocka_unit_test_teardown(test_downtime_is_caught_up_once, corefix_teardown),
		cmocka_unit_test_teardown(test_a_crash_between_change_and_intent_is_reconciled, corefix_teardown),
		cmocka_unit_test_teardown(test_follow_ups_are_capped, corefix_teardown),
		cmocka_unit_test_teardown(test_checkpoint_of_a_heavy_incident_fits_and_restores, corefix_teardown),
		cmocka_unit_test_teardown(test_ids_count_per_local_day_and_survive_restarts, corefix_teardown),
		cmocka_unit_test_teardown(test_new_ids_are_printf_s, corefix_teardown),
		cmocka_unit_test_teardown(test_subjects_found_last_are_the_tree_s, corefix_teardown),
		cmocka_unit_test_teardown(test_lists_page_and_count_without_a_walk, corefix_teardown),
		cmocka_unit_test_teardown(test_checkpoint_is_written_across_turns, corefix_teardown),
		cmocka_unit_test_teardown(test_found_last_is_forgotten_when_removed, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
