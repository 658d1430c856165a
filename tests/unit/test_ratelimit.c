/*
 * Limits on sending, on a fake clock: never more than COUNT requests in
 * any PERIOD, what is over the limit waits in order and is never dropped,
 * a backlog of bundle_after goes as one request with a record for each, a
 * reload that removes a channel or lifts its limit frees its queue at
 * once, and over 128 transfers the rest wait for a slot, in order.  The e2e test_rate_limit_sends_the_backlog_as_one_bundle needs
 * real seconds for what takes milliseconds here.
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
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "notify/delivery.h"
#include "state/incident.h"

#define MIN	COREFIX_MIN
#define T(s)	(COREFIX_T0 + (int64_t)((s) * 1000))

/* delivery.c's DELIVER_MAX_INFLIGHT: what the in-flight cap tests fill. */
#define MAX_INFLIGHT	128

#define HOOK	"http://127.0.0.1:9/hook"
#define SLOW	"http://127.0.0.1:9/slow"
#define DING	"https://oapi.dingtalk.com/robot/send?access_token=t"
#define DING_OK	"{\"errcode\":0,\"errmsg\":\"ok\"}"

#define HEAD \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "policy: { ack_timeout: 12h, report_deadline: 12h, retry_initial: 1s }\n"

#define ZHANG_ALONE \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n" \
    "duty: { officers: [zhang], leader: zhang }\n"

/* No rate limit: only the in-flight cap holds messages back. */
static const char conf_free[] = HEAD ZHANG_ALONE
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\" }\n";

/* A bundle would need 100 waiting: each message goes alone. */
static const char conf_limit[] = HEAD ZHANG_ALONE
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\", rate_limit: 2/1m, bundle_after: 100 }\n";

/* The same channel, allowed 3 a minute. */
static const char conf_limit3[] = HEAD ZHANG_ALONE
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\", rate_limit: 3/1m, bundle_after: 100 }\n";

static const char conf_bundle[] = HEAD ZHANG_ALONE
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\", rate_limit: 2/1m, bundle_after: 3 }\n";

static const char conf_robot[] = HEAD
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: ding, to: \"13800138001\" } ] }\n"
    "  - { id: zhao, name: \"赵敏\", token: \"secret-zhao\", contacts: [ { channel: ding, to: \"13800138004\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "duty: { officers: [zhang, zhao], leader: li }\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\" }\n"
    "  ding: { plugin: dingtalk, url: \"" DING "\", rate_limit: 2/1m, bundle_after: 3 }\n";

/* Zhang can fall back to the hook, li has the slow channel only. */
#define SLOW_PEOPLE \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: slow, to: \"zhang\" },\n" \
    "      { channel: hook, to: \"zhang\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: slow, to: \"li\" } ] }\n" \
    "duty: { officers: [zhang], leader: li }\n"

static const char conf_slow[] = HEAD SLOW_PEOPLE
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\" }\n"
    "  slow: { plugin: webhook, url: \"" SLOW "\", rate_limit: 1/1m }\n";

static const char conf_slow_unlimited[] = HEAD SLOW_PEOPLE
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\" }\n"
    "  slow: { plugin: webhook, url: \"" SLOW "\", rate_limit: none }\n";

/* The slow channel is gone, and the people who used it moved. */
static const char conf_slow_removed[] = HEAD
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "duty: { officers: [zhang], leader: li }\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"" HOOK "\" }\n";

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
advance_to(int64_t t)
{
	assert_true(t >= fakeclock_now());
	fakeclock_advance(t - fakeclock_now());
}

static const char *
report_at(int64_t t, const char *title)
{
	static char id[INCIDENT_ID_MAX];

	advance_to(t);
	snprintf(id, sizeof(id), "%s", corefix_report("county-a", title)->id);
	return id;
}

/* The incident request I is about (a webhook's body says). */
static const char *
req_incident(size_t i)
{
	return str(json_object_get(fakefetch_get(i)->json, "incident"), "id");
}

/* Never more than COUNT requests to URL in any PERIOD_MS. */
static void
assert_window(const char *url, size_t count, int64_t period_ms)
{
	int64_t	at[256];
	size_t	i, n = 0;

	for (i = 0; i < fakefetch_count() && n < 256; i++)
		if (strcmp(fakefetch_get(i)->url, url) == 0)
			at[n++] = fakefetch_get(i)->at;
	for (i = 0; i + count < n; i++)
		if (at[i + count] - at[i] < period_ms)
			fail_msg("requests %zu and %zu to %s only %lld ms apart",
			    i, i + count, url, (long long)(at[i + count] - at[i]));
}

/* "<intent seq>.0": the delivery id of the first recipient of INCIDENT's only intent. */
static const char *
first_delivery(const char *incident)
{
	static char	 id[64];
	json_t		*all = memstore_records("notify.intent", incident);

	assert_int_equal(json_array_size(all), 1);
	snprintf(id, sizeof(id), "%lld.0", (long long)json_integer_value(
	    json_object_get(json_array_get(all, 0), "seq")));
	json_decref(all);
	return id;
}

/*
 * 2/1m as a sliding window: a retry takes a slot like any attempt, the
 * third message waits for a minute after the first, the fourth for a
 * minute after the second, the fifth a minute after the third.
 */
static void
test_a_limit_is_a_sliding_window_and_nothing_is_dropped(void **state)
{
	static const double	 when[] = { 0, 1, 60, 61, 120 };
	const char		*expect[5];
	char			 ids[4][INCIDENT_ID_MAX];
	json_t			*all, *a;
	size_t			 i;

	corefix_start(conf_limit);
	snprintf(ids[0], sizeof(ids[0]), "%s", report_at(T(0), "甲"));
	fakefetch_answer(500, NULL, 0);
	advance_to(T(1));
	assert_int_equal(fakefetch_count(), 2);
	fakefetch_answer(200, NULL, 0);
	for (i = 1; i < 4; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", report_at(T(10 * i), "乙"));
	assert_int_equal(fakefetch_count(), 2);
	assert_int_equal(delivery_rate_queues(), 1);
	expect[0] = expect[1] = ids[0];
	expect[2] = ids[1];
	expect[3] = ids[2];
	expect[4] = ids[3];
	for (i = 2; i < 5; i++) {
		advance_to(T(when[i]) - 1);
		assert_int_equal(fakefetch_count(), i);
		advance_to(T(when[i]));
		assert_int_equal(fakefetch_count(), i + 1);
		fakefetch_answer(200, NULL, 0);
	}
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(fakefetch_get(i)->at, T(when[i]));
		assert_string_equal(req_incident(i), expect[i]);
		assert_string_equal(str(fakefetch_get(i)->json, "event"),
		    "incident.new");
	}
	assert_window(HOOK, 2, MIN);
	all = memstore_records("notify.attempt", NULL);
	assert_int_equal(json_array_size(all), 5);
	json_array_foreach(all, i, a) {
		assert_string_equal(str(json_object_get(a, "data"), "outcome"),
		    i == 0 ? "retry" : "delivered");
		assert_null(json_object_get(json_object_get(a, "data"), "bundle"));
	}
	json_decref(all);
}

/*
 * The vendor throttles at 2 a minute, so the limit is lowered from 3 by a
 * reload: the three sent a moment ago still count, and the next message
 * waits for a minute after the second of them, not for nothing.
 */
static void
test_a_lowered_limit_counts_what_was_sent_before_the_reload(void **state)
{
	size_t i;

	corefix_start(conf_limit3);
	for (i = 0; i < 3; i++)
		report_at(T(i), "降低限额前");
	assert_int_equal(fakefetch_count(), 3);
	fakefetch_answer_all("ok");
	advance_to(T(10));
	corefix_reload(conf_limit);
	report_at(T(20), "降低限额后");
	report_at(T(30), "降低限额后");
	assert_int_equal(fakefetch_count(), 3);
	advance_to(T(61) - 1);
	assert_int_equal(fakefetch_count(), 3);
	advance_to(T(61));
	assert_int_equal(fakefetch_count(), 4);
	fakefetch_answer_all("ok");
	advance_to(T(62));
	assert_int_equal(fakefetch_count(), 5);
	assert_int_equal(fakefetch_get(4)->at, T(62));
	fakefetch_answer_all("ok");
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 5);
	assert_int_equal(memstore_count_of("notify.attempt", NULL), 5);
	assert_window(HOOK, 3, MIN);
	/* Under the new limit from the reload on. */
	for (i = 1; i + 2 < fakefetch_count(); i++)
		assert_true(fakefetch_get(i + 2)->at - fakefetch_get(i)->at >= MIN);
}

/*
 * Six at once, two allowed: two go, four wait, and when the slot frees
 * the four go as one dutyd.bundle to zhang, each recorded on its own.
 */
static void
test_a_backlog_goes_as_one_bundle_with_a_record_each(void **state)
{
	static const char *const titles[] = {
		"一号险情", "二号险情", "三号险情", "四号险情", "五号险情", "六号险情",
	};
	char		 ids[6][INCIDENT_ID_MAX], lead[64];
	const char	*text;
	json_t		*all, *a;
	size_t		 i, bundled = 0;

	corefix_start(conf_bundle);
	for (i = 0; i < 6; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", report_at(T(0), titles[i]));
	snprintf(lead, sizeof(lead), "%s", first_delivery(ids[2]));
	assert_int_equal(fakefetch_count(), 2);
	assert_int_equal(fakefetch_answer_all("ok"), 2);
	advance_to(T(60) - 1);
	assert_int_equal(fakefetch_count(), 2);
	advance_to(T(60));
	assert_int_equal(fakefetch_count(), 3);
	assert_string_equal(str(fakefetch_get(2)->json, "event"), "dutyd.bundle");
	assert_string_equal(str(fakefetch_get(2)->json, "delivery"), lead);
	assert_string_equal(str(json_object_get(fakefetch_get(2)->json,
	    "recipient"), "to"), "zhang");
	text = str(fakefetch_get(2)->json, "text");
	for (i = 0; i < 6; i++)
		if ((strstr(text, titles[i]) != NULL) != (i >= 2))
			fail_msg("%s %s the bundle:\n%s", titles[i],
			    i >= 2 ? "missing from" : "repeated in", text);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 3);
	all = memstore_records("notify.attempt", NULL);
	assert_int_equal(json_array_size(all), 6);
	json_array_foreach(all, i, a) {
		json_t *d = json_object_get(a, "data");

		assert_string_equal(str(d, "outcome"), "delivered");
		if (json_object_get(d, "bundle") == NULL)
			continue;
		assert_string_equal(str(d, "bundle"), lead);
		assert_string_equal(str(a, "incident"), ids[2 + bundled]);
		bundled++;
	}
	assert_int_equal(bundled, 4);
	json_decref(all);
}

/* On a group robot a bundle is for anyone waiting: each mentioned once. */
static void
test_a_robot_bundle_mentions_each_person_once(void **state)
{
	json_t	*m, *all, *a;
	size_t	 i, ding = 0, bundled = 0;

	corefix_start(conf_robot);
	for (i = 0; i < 3; i++)
		report_at(T(0), "多人险情");
	/* Two robot messages and the leader's three webhooks. */
	assert_int_equal(fakefetch_count(), 5);
	assert_int_equal(fakefetch_answer_all(DING_OK), 5);
	advance_to(T(60));
	assert_int_equal(fakefetch_count(), 6);
	assert_string_equal(fakefetch_get(5)->url, DING);
	m = json_object_get(json_object_get(fakefetch_get(5)->json, "at"),
	    "atMobiles");
	assert_int_equal(json_array_size(m), 2);
	assert_string_equal(json_string_value(json_array_get(m, 0)), "13800138001");
	assert_string_equal(json_string_value(json_array_get(m, 1)), "13800138004");
	fakefetch_answer(200, DING_OK, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 6);
	for (i = 0; i < fakefetch_count(); i++)
		ding += strcmp(fakefetch_get(i)->url, DING) == 0;
	assert_int_equal(ding, 3);
	all = memstore_records("notify.attempt", NULL);
	assert_int_equal(json_array_size(all), 9);
	json_array_foreach(all, i, a) {
		assert_string_equal(str(json_object_get(a, "data"), "outcome"),
		    "delivered");
		bundled += json_object_get(json_object_get(a, "data"),
		    "bundle") != NULL;
	}
	assert_int_equal(bundled, 4);
	json_decref(all);
}

/*
 * Three messages wait for the slow channel when a reload removes it: its
 * queue goes at once (not when its timer would have fired, a minute on),
 * zhang's falls back to the hook, li's, with no contact left, is abandoned.
 */
static void
test_a_channel_removed_by_a_reload_frees_its_queue(void **state)
{
	json_t	*fb, *ab, *r;
	size_t	 i;

	corefix_start(conf_slow);
	report_at(T(0), "甲");
	report_at(T(0), "乙");
	assert_int_equal(fakefetch_count(), 1);
	assert_string_equal(fakefetch_get(0)->url, SLOW);
	fakefetch_answer(200, NULL, 0);
	assert_int_equal(delivery_rate_queues(), 1);
	advance_to(T(10));
	corefix_reload(conf_slow_removed);
	fakeclock_turn();
	assert_int_equal(delivery_rate_queues(), 0);
	assert_int_equal(fakefetch_count(), 2);
	assert_string_equal(fakefetch_get(1)->url, HOOK);
	assert_int_equal(fakefetch_get(1)->at, T(10));
	assert_string_equal(str(json_object_get(fakefetch_get(1)->json,
	    "recipient"), "id"), "zhang");
	fb = memstore_records("notify.fallback", NULL);
	assert_int_equal(json_array_size(fb), 1);
	r = json_object_get(json_array_get(fb, 0), "data");
	assert_string_equal(str(r, "reason"), "its channel is no longer configured");
	assert_int_equal(json_integer_value(json_object_get(r, "contact")), 1);
	json_decref(fb);
	ab = memstore_records("notify.abandoned", NULL);
	assert_int_equal(json_array_size(ab), 2);
	json_array_foreach(ab, i, r)
		assert_string_equal(str(json_object_get(r, "data"), "reason"),
		    "its channel is no longer configured");
	json_decref(ab);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 2);
	assert_int_equal(memstore_count_of("notify.attempt", NULL), 2);
}

/* A limit lifted by a reload: what waited goes now, in order, on the same channel. */
static void
test_a_limit_lifted_by_a_reload_sends_what_waited(void **state)
{
	static const char *const who[] = { "zhang", "li", "zhang", "li" };
	char	ids[2][INCIDENT_ID_MAX];
	size_t	i;

	corefix_start(conf_slow);
	snprintf(ids[0], sizeof(ids[0]), "%s", report_at(T(0), "甲"));
	snprintf(ids[1], sizeof(ids[1]), "%s", report_at(T(0), "乙"));
	fakefetch_answer(200, NULL, 0);
	advance_to(T(10));
	corefix_reload(conf_slow_unlimited);
	fakeclock_turn();
	assert_int_equal(delivery_rate_queues(), 0);
	assert_int_equal(fakefetch_count(), 4);
	for (i = 0; i < 4; i++) {
		assert_string_equal(fakefetch_get(i)->url, SLOW);
		assert_int_equal(fakefetch_get(i)->at, i == 0 ? T(0) : T(10));
		assert_string_equal(str(json_object_get(fakefetch_get(i)->json,
		    "recipient"), "id"), who[i]);
		assert_string_equal(req_incident(i), ids[i / 2]);
	}
	fakefetch_answer_all("ok");
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 4);
	assert_int_equal(memstore_count_of("notify.fallback", NULL), 0);
	assert_int_equal(memstore_count_of("notify.abandoned", NULL), 0);
}

/* A burst over the cap waits, in order, without counting as attempts. */
static void
test_a_burst_waits_for_transfer_slots_in_order(void **state)
{
	char	 ids[MAX_INFLIGHT + 3][INCIDENT_ID_MAX];
	size_t	 i;
	int	 n;

	corefix_start(conf_free);
	for (i = 0; i < MAX_INFLIGHT + 3; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s",
		    corefix_report("county-a", "同时多起")->id);
	}
	assert_int_equal(fakefetch_count(), MAX_INFLIGHT);
	assert_int_equal(fakefetch_pending(), MAX_INFLIGHT);
	fakeclock_advance(10 * MIN);
	assert_int_equal(fakefetch_count(), MAX_INFLIGHT);
	assert_int_equal(memstore_count_of("notify.attempt", NULL), 0);
	/* Each answer frees a slot for the next in line. */
	for (i = 0; i < 3; i++) {
		fakefetch_answer(200, NULL, 0);
		assert_int_equal(fakefetch_count(), MAX_INFLIGHT + i + 1);
		assert_string_equal(str(json_object_get(fakefetch_get(MAX_INFLIGHT +
		    i)->json, "incident"), "id"), ids[MAX_INFLIGHT + i]);
	}
	n = corefix_deliver_all();
	assert_int_equal(n, MAX_INFLIGHT);
	assert_int_equal(memstore_count_of("notify.attempt", NULL),
	    MAX_INFLIGHT + 3);
	for (i = 0; i < MAX_INFLIGHT + 3; i++)
		assert_string_equal(str(json_object_get(fakefetch_get(i)->json,
		    "incident"), "id"), ids[i]);
}

/*
 * A slot freed by a cancelled request (the incident was resolved) goes to
 * the first in line; the resolution's message queues behind the others.
 */
static void
test_a_slot_freed_by_a_resolution_goes_to_the_first_in_line(void **state)
{
	char	 ids[MAX_INFLIGHT + 2][INCIDENT_ID_MAX];
	size_t	 i;
	int	 changed;

	corefix_start(conf_free);
	for (i = 0; i < MAX_INFLIGHT + 2; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s",
		    corefix_report("county-a", "同时多起")->id);
	}
	assert_int_equal(fakefetch_count(), MAX_INFLIGHT);
	assert_int_equal(incact_resolve(incident_find(ids[0]), "zhang", NULL,
	    &changed), 0);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("notify.abandoned", ids[0]), 1);
	assert_int_equal(fakefetch_pending(), MAX_INFLIGHT);
	assert_int_equal(fakefetch_count(), MAX_INFLIGHT + 1);
	assert_string_equal(str(fakefetch_get(MAX_INFLIGHT)->json, "event"),
	    "incident.new");
	assert_string_equal(str(json_object_get(fakefetch_get(MAX_INFLIGHT)->json,
	    "incident"), "id"), ids[MAX_INFLIGHT]);
	fakefetch_answer(200, NULL, 0);
	fakefetch_answer(200, NULL, 0);
	assert_int_equal(fakefetch_count(), MAX_INFLIGHT + 3);
	assert_string_equal(str(json_object_get(fakefetch_get(MAX_INFLIGHT +
	    1)->json, "incident"), "id"), ids[MAX_INFLIGHT + 1]);
	assert_string_equal(corefix_sent("incident.resolved", NULL), "zhang");
	assert_string_equal(str(json_object_get(fakefetch_get(MAX_INFLIGHT +
	    2)->json, "incident"), "id"), ids[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_limit_is_a_sliding_window_and_nothing_is_dropped, corefix_teardown),
		cmocka_unit_test_teardown(test_a_lowered_limit_counts_what_was_sent_before_the_reload, corefix_teardown),
		cmocka_unit_test_teardown(test_a_backlog_goes_as_one_bundle_with_a_record_each, corefix_teardown),
		cmocka_unit_test_teardown(test_a_robot_bundle_mentions_each_person_once, corefix_teardown),
		cmocka_unit_test_teardown(test_a_channel_removed_by_a_reload_frees_its_queue, corefix_teardown),
		cmocka_unit_test_teardown(test_a_limit_lifted_by_a_reload_sends_what_waited, corefix_teardown),
		cmocka_unit_test_teardown(test_a_burst_waits_for_transfer_slots_in_order, corefix_teardown),
		cmocka_unit_test_teardown(test_a_slot_freed_by_a_resolution_goes_to_the_first_in_line, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
