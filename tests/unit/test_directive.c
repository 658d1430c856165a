/*
 * Leaders' directives on a fake clock: the deadline counted in working
 * days across holidays and a make-up Saturday; the reminder on the working
 * day before submit_by at remind_at and not a millisecond earlier, on it,
 * and on each working day overdue (none on days off); each day once,
 * restarts and checkpoints included; days missed while down sent once,
 * late; the issuing leader told past submit_by when nothing was reported,
 * and not when progress was.
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

#include "actions/diract.h"
#include "actions/dirremind.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "state/directive.h"
#include "store/store.h"

#define MIN	COREFIX_MIN
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

/*
 * COREFIX_T0 is Wednesday 2026-12-02 08:00 (+08:00).  Thursday and Friday
 * are holidays, Saturday the 5th is worked (调休), Monday the 7th is off.
 */
#define CONF \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\", contacts: [ { channel: hook, to: \"county-a\" } ] }\n" \
    "  - { id: county-b, name: \"B县应急管理局\", token: \"secret-b\" }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n" \
    "  - { id: wang, name: \"王市长\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n" \
    "duty: { officers: [zhang], leader: li }\n" \
    "channels:\n" \
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n" \
    "calendar:\n" \
    "  holidays: [ \"2026-12-03..2026-12-04\", 2026-12-07 ]\n" \
    "  workdays: [ 2026-12-05 ]\n" \
    "directives: { remind_at: \"09:00\" }\n"

static const char conf[] = CONF;
/* The officers' channel is rate-limited: a backlog of reminders goes as one bundle. */
static const char conf_limited[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices: [ { id: county-b, name: \"B县应急管理局\", token: \"secret-b\" } ]\n"
    "people: [ { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] } ]\n"
    "duty: { officers: [zhang], leader: zhang }\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\", rate_limit: 2/1m, bundle_after: 3 }\n"
    "directives: { remind_at: \"09:00\" }\n";

/* Local time on a day of December 2026. */
static int64_t
dec(int day, int hour)
{
	char	 s[64];
	int64_t	 ms;

	snprintf(s, sizeof(s), "2026-12-%02dT%02d:00:00+08:00", day, hour);
	assert_int_equal(time_parse(s, &ms), 0);
	return ms;
}

static void
until(int64_t at)
{
	fakeclock_advance(at - fakeclock_now());
}

static struct directive *
create(const char *owner, const char *due, const char *issued_by, char *id)
{
	struct diract_new	 n;
	const char		*field, *why;

	memset(&n, 0, sizeof(n));
	n.title = "关于做好寒潮天气防范工作的批示";
	n.text = "请认真落实。";
	n.issued_by = issued_by;
	n.issued_at = fakeclock_now();
	n.owner = owner;
	n.due = due;
	assert_int_equal(diract_create(&n, "person:zhang", id, DIRECTIVE_ID_MAX,
	    &field, &why), 0);
	fakeclock_turn();
	return directive_find(id);
}

/* "kind day, kind day" of the reminders recorded for ID. */
static const char *
reminded(const char *id)
{
	static char	 buf[512];
	json_t		*all = memstore_records("directive.reminder", NULL), *r, *d;
	size_t		 i;

	buf[0] = '\0';
	json_array_foreach(all, i, r) {
		d = json_object_get(r, "data");
		if (strcmp(json_string_value(json_object_get(d, "directive")), id))
			continue;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %s",
		    buf[0] ? ", " : "", json_string_value(json_object_get(d,
		    "kind")), json_string_value(json_object_get(d, "day")));
	}
	json_decref(all);
	return buf;
}

static void
test_deadline_in_working_days(void **state)
{
	char	 due[CALENDAR_DATE_MAX], sb[CALENDAR_DATE_MAX];

	corefix_start(conf);
	/* Due Tuesday the 8th: Monday is off, Sunday too: the make-up Saturday. */
	assert_int_equal(diract_deadline(config_current(), COREFIX_T0,
	    "2026-12-08", due, sb), 0);
	assert_string_equal(sb, "2026-12-05");
	assert_int_equal(diract_deadline(config_current(), COREFIX_T0,
	    "2026-12-09", due, sb), 0);
	assert_string_equal(sb, "2026-12-08");
	/* No date: a week, the 9th, a working day. */
	assert_int_equal(diract_deadline(config_current(), COREFIX_T0, NULL,
	    due, sb), 0);
	assert_string_equal(due, "2026-12-09");
	assert_string_equal(sb, "2026-12-09");
	/* Issued on the 5th: due the 12th, a Saturday: the next working day. */
	assert_int_equal(diract_deadline(config_current(), dec(5, 10), NULL,
	    due, sb), 0);
	assert_string_equal(due, "2026-12-12");
	assert_string_equal(sb, "2026-12-14");
	assert_int_equal(diract_deadline(config_current(), COREFIX_T0,
	    "2026-12-32", due, sb), -EINVAL);
}

static void
test_reminders_before_on_and_after_working_days_only(void **state)
{
	struct directive	*d;
	char			 id[DIRECTIVE_ID_MAX];
	json_t			*rec;

	corefix_start(conf);
	d = create("county-a", "2026-12-09", "王市长", id);
	assert_non_null(d);
	assert_string_equal(d->submit_by, "2026-12-08");
	/* The working day before the 8th is the make-up Saturday, past two holidays. */
	until(dec(5, 9) - 1);
	assert_string_equal(reminded(id), "");
	fakeclock_advance(1);
	assert_string_equal(reminded(id), "before 2026-12-05");
	/* The owner (by its office's contact) and the officer on duty. */
	assert_string_equal(corefix_sent("directive.reminder", NULL),
	    "county-a,zhang");
	corefix_deliver_all();
	until(dec(8, 9));
	assert_string_equal(reminded(id), "before 2026-12-05, due 2026-12-08");
	assert_int_equal(memstore_count_of("directive.overdue", NULL), 0);
	/* Overdue: each working day; the leader who issued it told once. */
	until(dec(9, 9));
	assert_string_equal(reminded(id),
	    "before 2026-12-05, due 2026-12-08, overdue 2026-12-09");
	rec = corefix_record("directive.overdue", NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(rec,
	    "data"), "late_ms")), 0);
	json_decref(rec);
	assert_string_equal(corefix_sent("directive.overdue", NULL), "wang");
	until(dec(15, 9));
	assert_string_equal(reminded(id), "before 2026-12-05, due 2026-12-08, "
	    "overdue 2026-12-09, overdue 2026-12-10, overdue 2026-12-11, "
	    "overdue 2026-12-14, overdue 2026-12-15");
	assert_int_equal(memstore_count_of("directive.overdue", NULL), 1);
	assert_true(directive_is_overdue(d, fakeclock_now()));
	/* Done: no more. */
	assert_int_equal(diract_complete(d, "office:county-a", "A县", "已落实"),
	    0);
	fakeclock_turn();
	assert_true(d->done);
	until(dec(18, 9));
	assert_int_equal(memstore_count_of("directive.reminder", NULL), 7);
	rec = corefix_record("directive.completed", NULL);
	assert_false(json_is_true(json_object_get(json_object_get(rec, "data"),
	    "on_time")));
	json_decref(rec);
}

static void
test_progress_spares_the_leader(void **state)
{
	struct directive	*d;
	char			 id[DIRECTIVE_ID_MAX];

	corefix_start(conf);
	d = create("zhang", "2026-12-09", "某副市长", id);
	assert_int_equal(diract_progress(d, "person:zhang", "张伟", "已部署"), 0);
	fakeclock_turn();
	until(dec(10, 9));
	assert_string_equal(reminded(id), "before 2026-12-05, due 2026-12-08, "
	    "overdue 2026-12-09, overdue 2026-12-10");
	assert_int_equal(memstore_count_of("directive.overdue", NULL), 0);
	/* A person owner is told as a person. */
	assert_non_null(strstr(corefix_sent("directive.reminder", NULL), "zhang"));
}

static void
test_unknown_issuer_tells_the_leader_on_duty(void **state)
{
	char id[DIRECTIVE_ID_MAX];

	corefix_start(conf);
	create("county-b", "2026-12-09", "某副市长", id);
	until(dec(9, 9));
	assert_int_equal(memstore_count_of("directive.overdue", NULL), 1);
	assert_string_equal(corefix_sent("directive.overdue", NULL), "li");
	/* An office with no contacts: its reminders go to the officers. */
	assert_null(strstr(corefix_sent("directive.reminder", NULL), "county-b"));
}

static void
test_restarts_and_checkpoints_never_repeat_a_day(void **state)
{
	struct directive	*d;
	char			 id[DIRECTIVE_ID_MAX], id2[DIRECTIVE_ID_MAX];
	json_t			*before, *after;

	corefix_start(conf);
	d = create("county-a", "2026-12-09", "王市长", id);
	/* The counter survives a checkpoint: the next id of the day follows on. */
	memstore_want_checkpoint();
	fakeclock_turn();
	corefix_restart(0);
	create("county-b", "2026-12-30", "王市长", id2);
	assert_string_equal(id2, "DIR-20261202-0002");
	d = directive_find(id);
	until(dec(5, 9));
	assert_string_equal(reminded(id), "before 2026-12-05");
	corefix_deliver_all();
	before = directive_json(d, fakeclock_now(), 1);
	/* From the records. */
	corefix_restart(MIN);
	assert_string_equal(reminded(id), "before 2026-12-05");
	/* From a checkpoint alone. */
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.directive", NULL), 3);
	corefix_restart(0);
	assert_non_null(d = directive_find(id));
	after = directive_json(d, fakeclock_now(), 1);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	assert_string_equal(reminded(id), "before 2026-12-05");
	/* Re-armed: the next day comes. */
	until(dec(8, 9));
	assert_string_equal(reminded(id), "before 2026-12-05, due 2026-12-08");
}

static void
test_days_missed_while_down_are_sent_once_late(void **state)
{
	char	 id[DIRECTIVE_ID_MAX];
	json_t	*all, *last;

	corefix_start(conf);
	create("county-a", "2026-12-09", "王市长", id);
	until(dec(4, 12));
	/* Down from Friday noon to Wednesday the 9th 10:00. */
	corefix_restart(dec(9, 10) - dec(4, 12));
	fakeclock_turn();
	assert_string_equal(reminded(id), "overdue 2026-12-09");
	all = memstore_records("directive.reminder", NULL);
	last = json_array_get(all, json_array_size(all) - 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(last,
	    "data"), "late_ms")), HOUR);
	json_decref(all);
	assert_int_equal(memstore_count_of("directive.overdue", NULL), 1);
	until(dec(10, 9));
	assert_string_equal(reminded(id),
	    "overdue 2026-12-09, overdue 2026-12-10");
}

/*
 * A directive with every progress report it may have, each as long as it
 * may be, is over the line limit with its timeline: the checkpoint gives
 * up old timeline entries and still holds the directive whole.
 */
static void
test_the_largest_directive_fits_a_checkpoint(void **state)
{
	struct directive	*d;
	char			 id[DIRECTIVE_ID_MAX], *text;
	size_t			 i;
	json_t			*before, *after;

	corefix_start(conf);
	d = create("county-a", "2026-12-30", "王市长", id);
	assert_non_null(text = malloc(DIRECTIVE_NOTE_MAX * 3 + 1));
	for (i = 0; i < DIRECTIVE_NOTE_MAX; i++)
		memcpy(text + i * 3, "办", 3);
	text[DIRECTIVE_NOTE_MAX * 3] = '\0';
	for (i = 0; i < DIRECTIVE_PROGRESS_MAX; i++) {
		assert_int_equal(diract_progress(d, "office:county-a", "A县",
		    text), 0);
		fakeclock_turn();
	}
	free(text);
	assert_int_equal(diract_progress(d, "office:county-a", "A县", "x"),
	    -ENOSPC);
	before = directive_json(d, fakeclock_now(), 0);
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(0);
	assert_non_null(d = directive_find(id));
	after = directive_json(d, fakeclock_now(), 0);
	assert_true(json_equal(json_object_get(before, "progress"),
	    json_object_get(after, "progress")));
	assert_int_equal(d->nprogress, DIRECTIVE_PROGRESS_MAX);
	json_decref(before);
	json_decref(after);
}

/* Many directives are reminded at remind_at: a bundle lists every one. */
static void
test_a_bundle_of_reminders_names_each_directive(void **state)
{
	struct diract_new	 n;
	const char		*field, *why;
	char			 id[DIRECTIVE_ID_MAX], title[64], all[16384] = "";
	size_t			 i;
	const char		*text;

	corefix_start(conf_limited);
	memset(&n, 0, sizeof(n));
	n.text = "请认真落实。";
	n.issued_by = "王市长";
	n.issued_at = fakeclock_now();
	n.owner = "county-b";
	n.due = "2026-12-08";
	for (i = 0; i < 5; i++) {
		snprintf(title, sizeof(title), "第%zu号批示", i + 1);
		n.title = title;
		assert_int_equal(diract_create(&n, "person:zhang", id, sizeof(id),
		    &field, &why), 0);
		fakeclock_turn();
	}
	/* Friday the 4th: the working day before submit_by, Monday the 7th. */
	until(dec(4, 9));
	assert_int_equal(memstore_count_of("directive.reminder", NULL), 5);
	for (i = 0; i < 4; i++) {
		fakefetch_answer_all("");
		fakeclock_advance(MIN);
	}
	fakefetch_answer_all("");
	for (i = 0; i < fakefetch_count(); i++)
		if ((text = json_string_value(json_object_get(
		    fakefetch_get(i)->json, "text"))) != NULL)
			snprintf(all + strlen(all), sizeof(all) - strlen(all),
			    "%s\n", text);
	assert_true(fakefetch_count() < 5);	/* bundled */
	for (i = 0; i < 5; i++) {
		snprintf(title, sizeof(title), "第%zu号批示", i + 1);
		if (strstr(all, title) == NULL)
			fail_msg("%s is in no message:\n%s", title, all);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_deadline_in_working_days, corefix_teardown),
		cmocka_unit_test_teardown(test_reminders_before_on_and_after_working_days_only, corefix_teardown),
		cmocka_unit_test_teardown(test_progress_spares_the_leader, corefix_teardown),
		cmocka_unit_test_teardown(test_unknown_issuer_tells_the_leader_on_duty, corefix_teardown),
		cmocka_unit_test_teardown(test_restarts_and_checkpoints_never_repeat_a_day, corefix_teardown),
		cmocka_unit_test_teardown(test_days_missed_while_down_are_sent_once_late, corefix_teardown),
		cmocka_unit_test_teardown(test_the_largest_directive_fits_a_checkpoint, corefix_teardown),
		cmocka_unit_test_teardown(test_a_bundle_of_reminders_names_each_directive, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
