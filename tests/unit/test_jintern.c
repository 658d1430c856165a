/*
 * Shared JSON leaves and trees (base/jintern.c), and the records that use
 * them: intents built from shared strings, contact lists and on-duty
 * snapshots say in the log, and in an incident's timeline (kept as text,
 * state/timeline.c), exactly what each says on its own.  A shared value
 * outlives the table that handed it out, and a change of roster or
 * contacts is never hidden by a snapshot made before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/jintern.h"
#include "corefix.h"
#include "fakeclock.h"
#include "memstore.h"
#include "state/incident.h"

static void
test_equal_strings_are_one_value(void **state)
{
	json_t	*a = jintern_str("zhang"), *b = jintern_str("zhang");
	json_t	*c = jintern_str("li");
	char	 longer[JINTERN_STR_MAX + 2];
	json_t	*l1, *l2;

	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_string_equal(json_string_value(a), "zhang");
	/* Long strings are copies, equal all the same. */
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	l1 = jintern_str(longer);
	l2 = jintern_str(longer);
	assert_ptr_not_equal(l1, l2);
	assert_true(json_equal(l1, l2));
	/* As json_string(): NULL and bytes that are not UTF-8 make nothing. */
	assert_null(jintern_str(NULL));
	assert_null(jintern_str("\xff\xfe"));
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(l1);
	json_decref(l2);
	jintern_clear();
}

static void
test_shared_values_outlive_the_table(void **state)
{
	json_t	*first = jintern_str("first"), *v, *again;
	char	 s[32];
	int	 i;

	/* Past the cap the table starts again; what it handed out stays. */
	for (i = 0; i <= JINTERN_TABLE_MAX; i++) {
		snprintf(s, sizeof(s), "s%d", i);
		assert_non_null(v = jintern_str(s));
		json_decref(v);
	}
	assert_string_equal(json_string_value(first), "first");
	again = jintern_str("first");
	assert_string_equal(json_string_value(again), "first");
	jintern_clear();
	assert_string_equal(json_string_value(first), "first");
	json_decref(first);
	json_decref(again);
}

static void
test_small_integers_are_shared(void **state)
{
	json_t	*a = jintern_int(200), *b = jintern_int(200);
	json_t	*big = jintern_int(INT64_C(1) << 40), *neg = jintern_int(-1);

	assert_ptr_equal(a, b);
	assert_int_equal(json_integer_value(a), 200);
	assert_true(json_integer_value(big) == INT64_C(1) << 40);
	assert_int_equal(json_integer_value(neg), -1);
	json_decref(a);
	json_decref(b);
	json_decref(big);
	json_decref(neg);
	jintern_clear();
}

static void
test_trees_by_key(void **state)
{
	json_t *t = json_pack("[s]", "hook"), *got;

	assert_null(jintern_tree_get("k"));
	jintern_tree_put("k", t);
	assert_ptr_equal(got = jintern_tree_get("k"), t);
	json_decref(got);
	json_decref(t);
	assert_null(jintern_tree_get("other"));
	jintern_clear();
	assert_null(jintern_tree_get("k"));
}

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n"
    "policy:\n"
    "  ack_timeout: 20m\n"
    "  report_deadline: 40m\n";

/* The same people, wang now the leader and zhang reached at another address. */
static const char conf_changed[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang-2\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: wang\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n"
    "policy:\n"
    "  ack_timeout: 20m\n"
    "  report_deadline: 40m\n";

/* The data of INC's timeline entry N of kind EVENT (0: the first): a new reference. */
static json_t *
entry(const struct incident *inc, const char *event, int n)
{
	size_t i;

	for (i = 0; i < timeline_len(&inc->timeline); i++)
		if (strcmp(timeline_event(&inc->timeline, i), event) == 0 &&
		    n-- == 0)
			return timeline_data(&inc->timeline, i);
	fail_msg("%s has no %s", inc->id, event);
	return NULL;
}

/* The contacts INTENT lists for PERSON. */
static json_t *
contacts_of(json_t *intent, const char *person)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(json_object_get(intent, "recipients"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "person")),
		    person) == 0)
			return json_object_get(r, "contacts");
	fail_msg("no recipient %s", person);
	return NULL;
}

/* INC's EVENT records in its timeline say what they say in the log. */
static void
assert_as_logged(const struct incident *inc, const char *event)
{
	json_t	*all = memstore_records(event, inc->id), *d;
	size_t	 i;

	assert_true(json_array_size(all) > 0);
	for (i = 0; i < json_array_size(all); i++) {
		d = entry(inc, event, (int)i);
		assert_true(json_equal(json_object_get(json_array_get(all, i),
		    "data"), d));
		json_decref(d);
	}
	json_decref(all);
}

static void
test_intents_share_what_they_repeat(void **state)
{
	struct incident	*a, *b, *c;
	json_t		*ia, *ib, *ic;

	corefix_start(conf);
	a = corefix_report("county-a", "某镇山体滑坡");
	b = corefix_report("county-a", "某村房屋倒塌");
	corefix_deliver_all();
	fakeclock_turn();
	ia = entry(a, "notify.intent", 0);
	ib = entry(b, "notify.intent", 0);
	/* The same on-duty snapshot and contact list each: what the log says. */
	assert_true(json_equal(json_object_get(ia, "on_duty"),
	    json_object_get(ib, "on_duty")));
	assert_true(json_equal(contacts_of(ia, "zhang"), contacts_of(ib, "zhang")));
	assert_as_logged(a, "notify.intent");
	assert_as_logged(b, "notify.intent");
	assert_as_logged(a, "notify.attempt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(ib, "on_duty"), "leader"), "person")), "li");

	/* A new leader and a new address: the next intent says so. */
	corefix_reload(conf_changed);
	c = corefix_report("county-a", "某县城区内涝");
	fakeclock_turn();
	ic = entry(c, "notify.intent", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(ic, "on_duty"), "leader"), "person")), "wang");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    contacts_of(ic, "zhang"), 0), "to")), "zhang-2");
	/* The earlier incidents' records are as they were. */
	json_decref(ia);
	ia = entry(a, "notify.intent", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(ia, "on_duty"), "leader"), "person")), "li");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    contacts_of(ia, "zhang"), 0), "to")), "zhang");
	assert_as_logged(a, "notify.intent");
	json_decref(ia);
	json_decref(ib);
	json_decref(ic);
}

static void
test_replayed_intents_say_what_the_log_says(void **state)
{
	struct incident	*a, *b;
	char		 ida[INCIDENT_ID_MAX], idb[INCIDENT_ID_MAX];

	corefix_start(conf);
	a = corefix_report("county-a", "某镇山体滑坡");
	b = corefix_report("county-a", "某村房屋倒塌");
	corefix_deliver_all();
	fakeclock_turn();
	snprintf(ida, sizeof(ida), "%s", a->id);
	snprintf(idb, sizeof(idb), "%s", b->id);
	corefix_restart(COREFIX_MIN);
	assert_non_null(a = incident_find(ida));
	assert_non_null(b = incident_find(idb));
	assert_as_logged(a, "notify.intent");
	assert_as_logged(b, "notify.intent");
	assert_as_logged(b, "notify.attempt");

	/* Replayed from a checkpoint: the timelines come from its parts. */
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(COREFIX_MIN);
	assert_non_null(a = incident_find(ida));
	assert_non_null(b = incident_find(idb));
	assert_as_logged(a, "notify.intent");
	assert_as_logged(b, "notify.intent");
	assert_as_logged(a, "notify.attempt");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_strings_are_one_value),
		cmocka_unit_test(test_shared_values_outlive_the_table),
		cmocka_unit_test(test_small_integers_are_shared),
		cmocka_unit_test(test_trees_by_key),
		cmocka_unit_test_teardown(test_intents_share_what_they_repeat, corefix_teardown),
		cmocka_unit_test_teardown(test_replayed_intents_say_what_the_log_says, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
