/*
 * The delivery engine on a fake clock: retries back off as configured and
 * as the vendor asks, a contact that keeps failing or refuses gives way to
 * the next, a restart neither loses nor repeats a message, a resolution
 * ends what no longer matters and a full disk delays a record, never a
 * second request.  What the e2e tests prove with real sleeps (and
 * sometimes flakily), here to the millisecond.
 * Rate limits, reloads and the in-flight cap: test_ratelimit.c.
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
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "state/incident.h"

#define MIN	COREFIX_MIN
#define SEC	INT64_C(1000)
#define T(s)	(COREFIX_T0 + (int64_t)((s) * 1000))

#define HOOK	"http://127.0.0.1:9/hook"
#define BACKUP	"http://127.0.0.1:9/backup"
#define DING	"https://oapi.dingtalk.com/robot/send?access_token=t"
#define WECOM	"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
#define DING_OK	"{\"errcode\":0,\"errmsg\":\"ok\"}"

/* No deadline of the incident itself fires while these tests run. */
#define HEAD \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "channels:\n" \
    "  hook: { plugin: webhook, url: \"" HOOK "\" }\n" \
    "  backup: { plugin: webhook, url: \"" BACKUP "\" }\n" \
    "  ding: { plugin: dingtalk, url: \"" DING "\", rate_limit: none }\n" \
    "  wecom: { plugin: wecom, url: \"" WECOM "\", rate_limit: none }\n" \
    "policy:\n" \
    "  ack_timeout: 12h\n" \
    "  report_deadline: 12h\n" \
    "  retry_initial: 1s\n"

/* Zhang alone, one contact: every request is his. */
static const char conf_one[] = HEAD
    "  retry_max: 4s\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n";

static const char conf_give_up[] = HEAD
    "  retry_give_up: 10s\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n";

/* Two webhooks, told apart by URL; each contact gets 10 s. */
static const char conf_two[] = HEAD
    "  fallback_after: 10s\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" },\n"
    "      { channel: backup, to: \"zhang-b\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n";

/* A group robot that refuses for good (a 4xx), then a webhook. */
static const char conf_refuse[] = HEAD
    "  fallback_after: 10s\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: ding, to: \"13800138001\" },\n"
    "      { channel: hook, to: \"zhang\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n";

static const char conf_three[] = HEAD
    "  fallback_after: 10s\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: ding, to: \"13800138001\" },\n"
    "      { channel: hook, to: \"zhang\" }, { channel: backup, to: \"zhang-b\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n";

static const char conf_robots[] = HEAD
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: ding, to: \"13800138001\" },\n"
    "      { channel: wecom, to: \"13700137001\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n";

/* Two people on one robot, the leader on the webhook. */
static const char conf_group[] = HEAD
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: ding, to: \"13800138001\" } ] }\n"
    "  - { id: zhao, name: \"赵敏\", token: \"secret-zhao\", contacts: [ { channel: ding, to: \"13800138004\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "duty: { officers: [zhang, zhao], leader: li }\n";

static const char conf_pair[] = HEAD
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "duty: { officers: [zhang], leader: li }\n";

static int64_t
at_ms(const char *rfc3339)
{
	int64_t ms = 0;

	if (rfc3339 == NULL || time_parse(rfc3339, &ms) != 0)
		fail_msg("not a time: %s", rfc3339 ? rfc3339 : "(null)");
	return ms;
}

/* Records of EVENT about INCIDENT (NULL: any), their data in order. */
static json_t *
datas(const char *event, const char *incident)
{
	json_t	*all = memstore_records(event, incident), *out = json_array();
	json_t	*r;
	size_t	 i;

	json_array_foreach(all, i, r)
		json_array_append(out, json_object_get(r, "data"));
	json_decref(all);
	return out;
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static json_int_t
num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* Attempt I (0-based) of every notify.attempt record: its data. */
static void
assert_attempt(json_t *all, size_t i, int attempt, int contact,
    const char *outcome, int status)
{
	json_t *a = json_array_get(all, i);

	if (a == NULL)
		fail_msg("no attempt record %zu (of %zu)", i, json_array_size(all));
	assert_int_equal(num(a, "attempt"), attempt);
	assert_int_equal(num(a, "contact"), contact);
	assert_string_equal(str(a, "outcome"), outcome);
	assert_int_equal(num(a, "status"), status);
}

static void
advance_to(int64_t t)
{
	assert_true(t >= fakeclock_now());
	fakeclock_advance(t - fakeclock_now());
}

/* The next request goes out at T to URL, not a millisecond before. */
static void
expect_request_at(int64_t t, const char *url)
{
	size_t n = fakefetch_count();

	if (t > fakeclock_now()) {
		advance_to(t - 1);
		if (fakefetch_count() != n)
			fail_msg("request %zu went out at T0%+lld ms, before T0%+lld",
			    n, (long long)(fakefetch_get(n)->at - COREFIX_T0),
			    (long long)(t - COREFIX_T0));
		advance_to(t);
	} else
		fakeclock_turn();
	assert_int_equal(fakefetch_count(), n + 1);
	assert_int_equal(fakefetch_get(n)->at, t);
	assert_string_equal(fakefetch_get(n)->url, url);
}

/* The numbers a DingTalk request @-mentions, as "138...,138...". */
static const char *
mentions(size_t i)
{
	static char	 out[256];
	json_t		*m;
	size_t		 j, len = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(fakefetch_get(i)->json,
	    "at"), "atMobiles"), j, m)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
		    len > 0 ? "," : "", json_string_value(m));
	return out;
}

/*
 * Retries
 */

/*
 * A notify.attempt's data as json_pack() laid it out before delivery.c
 * set its members one by one: the same members in the same order, so the
 * audit lines read the same (a retry's next_attempt_at last).
 */
static void
test_attempt_record_layout(void **state)
{
	static const char *const retry = "{\"attempt\":1,\"person\":\"zhang\","
	    "\"contact\":0,\"channel\":\"hook\",\"to\":\"zhang\","
	    "\"outcome\":\"retry\",\"status\":500,\"detail\":\"HTTP 500: busy\","
	    "\"duration_ms\":0,\"next_attempt_at\":\"";
	static const char *const done = "{\"attempt\":2,\"person\":\"zhang\","
	    "\"contact\":0,\"channel\":\"hook\",\"to\":\"zhang\","
	    "\"outcome\":\"delivered\",\"status\":200,\"detail\":\"HTTP 200\","
	    "\"duration_ms\":0,\"intent\":2,\"recipient\":0}";
	const char	*line, *data;
	size_t		 i, n = 0;

	corefix_start(conf_one);
	corefix_report("county-a", "化工厂爆炸");
	fakefetch_answer(500, "busy", 0);
	expect_request_at(T(1), HOOK);
	fakefetch_answer(200, "ok", 0);
	fakeclock_turn();
	for (i = 0; i < memstore_count(); i++) {
		line = memstore_line(i);
		if (strstr(line, "\"event\":\"notify.attempt\"") == NULL)
			continue;
		assert_non_null(data = strstr(line, "\"data\":"));
		data += 7;
		if (n++ == 0)
			assert_memory_equal(data, retry, strlen(retry));
		else
			assert_memory_equal(data, done, strlen(done));
	}
	assert_int_equal(n, 2);
}

/*
 * The e2e test_faults_are_retried_on_the_same_contact and
 * test_failing_sink_is_retried_then_delivered_once, exactly: a refused
 * connection and 500s are retried after 1, 2, 4 s and then retry_max, and
 * each record's next_attempt_at is when the next request goes out.
 */
static void
test_failures_are_retried_with_doubling_backoff(void **state)
{
	static const int64_t	 at[] = { 0, 1, 3, 7, 11, 15 };
	struct incident		*inc;
	json_t			*all;
	const char		*id;
	size_t			 i;

	corefix_start(conf_one);
	inc = corefix_report("county-a", "化工厂爆炸");
	assert_int_equal(fakefetch_count(), 1);
	assert_int_equal(fakefetch_get(0)->at, T(0));
	id = str(fakefetch_get(0)->json, "delivery");
	for (i = 0; i < 5; i++) {
		if (i > 0)
			expect_request_at(T(at[i]), HOOK);
		if (i == 0)
			fakefetch_answer(0, "Connection refused", 0);
		else
			fakefetch_answer(500, "busy", 0);
	}
	expect_request_at(T(at[5]), HOOK);
	fakefetch_answer(200, "ok", 0);
	fakeclock_turn();

	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 6);
	for (i = 0; i < 5; i++) {
		assert_attempt(all, i, (int)i + 1, 0, "retry", i == 0 ? 0 : 500);
		assert_int_equal(at_ms(str(json_array_get(all, i),
		    "next_attempt_at")), fakefetch_get(i + 1)->at);
		/* The same delivery id each time: receivers drop repeats. */
		assert_string_equal(str(fakefetch_get(i + 1)->json, "delivery"), id);
	}
	assert_non_null(strstr(str(json_array_get(all, 0), "detail"),
	    "Connection refused"));
	assert_string_equal(str(json_array_get(all, 1), "detail"), "HTTP 500: busy");
	assert_attempt(all, 5, 6, 0, "delivered", 200);
	assert_null(json_object_get(json_array_get(all, 5), "next_attempt_at"));
	json_decref(all);
	/* Delivered is final. */
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 6);
	assert_int_equal(memstore_count_of("notify.fallback", NULL), 0);
}

/*
 * A receiver down for long: every attempt is in the log, but the
 * incident's timeline keeps only the delivery's first two and last three
 * (2,000 deliveries to a closed port grew dutyd from 120 to 550 MB in 90 s).
 */
static void
test_a_long_failing_delivery_keeps_few_attempts_in_memory(void **state)
{
	struct incident	*inc;
	json_t		*e, *tl;
	size_t		 i, n = 0;
	int		 seen[5], k = 0;

	corefix_start(conf_one);
	inc = corefix_report("county-a", "化工厂爆炸");
	for (i = 0; i < 20; i++) {
		assert_int_equal(fakefetch_pending(), 1);
		fakefetch_answer(503, "down", 0);
		fakeclock_advance(4 * SEC);
	}
	assert_int_equal(memstore_count_of("notify.attempt", inc->id), 20);
	assert_non_null(tl = timeline_json(&inc->timeline));
	json_array_foreach(tl, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "event")),
		    "notify.attempt") != 0)
			continue;
		n++;
		if (k < 5)
			seen[k++] = (int)json_integer_value(json_object_get(
			    json_object_get(e, "data"), "attempt"));
	}
	json_decref(tl);
	assert_int_equal(n, 5);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 2);
	assert_int_equal(seen[2], 18);
	assert_int_equal(seen[3], 19);
	assert_int_equal(seen[4], 20);
}

/* retry_give_up 10 s: the attempt whose retry would fall after it is the last. */
static void
test_retry_give_up_ends_as_failed(void **state)
{
	struct incident	*inc;
	json_t		*all;

	corefix_start(conf_give_up);
	inc = corefix_report("county-a", "河堤管涌");
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(1), HOOK);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(3), HOOK);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(7), HOOK);
	/* The next would be at 15 s, past 10 s from the first attempt. */
	fakefetch_answer(500, NULL, 0);
	fakeclock_turn();
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 4);
	assert_attempt(all, 2, 3, 0, "retry", 500);
	assert_int_equal(at_ms(str(json_array_get(all, 2), "next_attempt_at")),
	    T(7));
	assert_attempt(all, 3, 4, 0, "failed", 500);
	assert_null(json_object_get(json_array_get(all, 3), "next_attempt_at"));
	json_decref(all);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 4);
	assert_int_equal(memstore_count_of("notify.abandoned", NULL), 0);
}

/*
 * Retry-After
 */

/* The e2e test_retry_after_is_honoured, to the millisecond. */
static void
test_retry_after_longer_than_the_backoff_is_honoured(void **state)
{
	struct incident	*inc;
	json_t		*all;

	corefix_start(conf_one);
	inc = corefix_report("county-a", "山体滑坡");
	fakeclock_advance(250);
	/* The wait counts from the answer, not from the request. */
	fakefetch_answer(429, "slow down", 5 * SEC);
	expect_request_at(T(5.25), HOOK);
	/* Shorter than the backoff (2 s): the backoff wins. */
	fakefetch_answer(429, "slow down", 500);
	expect_request_at(T(7.25), HOOK);
	fakefetch_answer(200, NULL, 0);
	fakeclock_turn();
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 3);
	assert_attempt(all, 0, 1, 0, "retry", 429);
	assert_int_equal(num(json_array_get(all, 0), "retry_after_ms"), 5000);
	assert_int_equal(at_ms(str(json_array_get(all, 0), "next_attempt_at")),
	    T(5.25));
	assert_int_equal(num(json_array_get(all, 1), "retry_after_ms"), 500);
	assert_int_equal(at_ms(str(json_array_get(all, 1), "next_attempt_at")),
	    T(7.25));
	assert_attempt(all, 2, 3, 0, "delivered", 200);
	json_decref(all);
}

/*
 * The e2e test_failing_contact_falls_back_to_the_next[429]: a vendor that
 * asks for longer than the contact has left is not called again; the next
 * contact is tried when the window closes, not before, not at Retry-After.
 */
static void
test_retry_after_past_the_window_moves_to_the_next_contact(void **state)
{
	struct incident	*inc;
	json_t		*all, *fb;

	corefix_start(conf_two);
	inc = corefix_report("county-a", "危化品泄漏");
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(1), HOOK);
	fakefetch_answer(429, "quota", 120 * SEC);
	fakeclock_turn();
	all = datas("notify.attempt", inc->id);
	assert_attempt(all, 1, 2, 0, "retry", 429);
	assert_int_equal(num(json_array_get(all, 1), "retry_after_ms"), 120000);
	/* Pulled in to the end of the window: 10 s after the first attempt. */
	assert_int_equal(at_ms(str(json_array_get(all, 1), "next_attempt_at")),
	    T(10));
	json_decref(all);
	assert_int_equal(memstore_count_of("notify.fallback", inc->id), 0);
	expect_request_at(T(10), BACKUP);
	assert_string_equal(str(json_object_get(fakefetch_get(2)->json,
	    "recipient"), "to"), "zhang-b");
	fb = datas("notify.fallback", inc->id);
	assert_int_equal(json_array_size(fb), 1);
	assert_int_equal(num(json_array_get(fb, 0), "contact"), 1);
	assert_int_equal(num(json_object_get(json_array_get(fb, 0), "from"),
	    "contact"), 0);
	assert_string_equal(str(json_object_get(json_array_get(fb, 0), "to"),
	    "channel"), "backup");
	json_decref(fb);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	/* The first vendor was never called after it asked for two minutes. */
	assert_int_equal(fakefetch_count(), 3);
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 3);
	assert_attempt(all, 2, 3, 1, "delivered", 200);
	json_decref(all);
}

/*
 * Fallback
 */

/*
 * 500s on both: 0, 1, 3, 7 s on the first, the retry that would come at
 * 15 s pulled in to 10 s, where the second takes over; back to the first
 * at 20 s, its backoff from retry_initial again.
 */
static void
test_contacts_take_turns_until_one_delivers(void **state)
{
	static const struct { double at; const char *url; } plan[] = {
		{ 0, HOOK }, { 1, HOOK }, { 3, HOOK }, { 7, HOOK },
		{ 10, BACKUP }, { 11, BACKUP }, { 13, BACKUP }, { 17, BACKUP },
		{ 20, HOOK }, { 21, HOOK },
	};
	struct incident	*inc;
	json_t		*all, *fb;
	size_t		 i;

	corefix_start(conf_two);
	inc = corefix_report("county-a", "暴雨内涝");
	for (i = 0; i < 10; i++) {
		if (i == 0)
			assert_int_equal(fakefetch_get(0)->at, T(0));
		else
			expect_request_at(T(plan[i].at), plan[i].url);
		fakefetch_answer(i == 9 ? 200 : 500, NULL, 0);
	}
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 10);
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 10);
	for (i = 0; i < 9; i++)
		assert_attempt(all, i, (int)i + 1, i >= 4 && i < 8, "retry", 500);
	assert_int_equal(at_ms(str(json_array_get(all, 3), "next_attempt_at")),
	    T(10));
	assert_int_equal(at_ms(str(json_array_get(all, 7), "next_attempt_at")),
	    T(20));
	assert_attempt(all, 9, 10, 0, "delivered", 200);
	json_decref(all);
	fb = datas("notify.fallback", inc->id);
	assert_int_equal(json_array_size(fb), 2);
	assert_int_equal(num(json_array_get(fb, 0), "contact"), 1);
	assert_int_equal(num(json_array_get(fb, 1), "contact"), 0);
	assert_non_null(strstr(str(json_array_get(fb, 1), "reason"),
	    "no delivery on backup for 10 s"));
	json_decref(fb);
}

/*
 * An answer that comes after the window closed (a transfer that hung):
 * the next contact is tried at once, and the record says so.
 */
static void
test_an_answer_after_the_window_moves_on_at_once(void **state)
{
	struct incident	*inc;
	json_t		*all;

	corefix_start(conf_two);
	inc = corefix_report("county-a", "通信中断");
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(1), HOOK);
	advance_to(T(12));
	fakefetch_answer(0, "Operation timed out", 0);
	expect_request_at(T(12), BACKUP);
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 2);
	assert_attempt(all, 1, 2, 0, "retry", 0);
	assert_int_equal(at_ms(str(json_array_get(all, 1), "next_attempt_at")),
	    T(12));
	json_decref(all);
	assert_int_equal(memstore_count_of("notify.fallback", inc->id), 1);
}

/*
 * A robot that refuses (HTTP 403) is left at once and never called again:
 * with no other contact left to fall back to, the webhook is retried on
 * its own, past fallback_after.
 */
static void
test_a_refusal_falls_back_at_once_and_is_skipped_after(void **state)
{
	struct incident	*inc;
	json_t		*all, *fb;

	corefix_start(conf_refuse);
	inc = corefix_report("county-a", "燃气泄漏");
	assert_string_equal(fakefetch_get(0)->url, DING);
	assert_string_equal(mentions(0), "13800138001");
	fakefetch_answer(403, "{\"errcode\":300001,\"errmsg\":\"token is not exist\"}", 0);
	expect_request_at(T(0), HOOK);
	fb = datas("notify.fallback", inc->id);
	assert_int_equal(json_array_size(fb), 1);
	assert_int_equal(num(json_array_get(fb, 0), "contact"), 1);
	assert_non_null(strstr(str(json_array_get(fb, 0), "reason"),
	    "ding refused: HTTP 403"));
	json_decref(fb);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(1), HOOK);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(3), HOOK);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(7), HOOK);
	fakefetch_answer(500, NULL, 0);
	/* Not pulled in to 10 s: there is nowhere to go. */
	expect_request_at(T(15), HOOK);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 6);
	assert_int_equal(memstore_count_of("notify.fallback", inc->id), 1);
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 6);
	assert_attempt(all, 0, 1, 0, "rejected", 403);
	assert_non_null(strstr(str(json_array_get(all, 0), "detail"),
	    "token is not exist"));
	assert_null(json_object_get(json_array_get(all, 0), "next_attempt_at"));
	assert_attempt(all, 4, 5, 1, "retry", 500);
	assert_int_equal(at_ms(str(json_array_get(all, 4), "next_attempt_at")),
	    T(15));
	assert_attempt(all, 5, 6, 1, "delivered", 200);
	json_decref(all);
}

/*
 * Three contacts: the robot refuses, the two webhooks take turns, and the
 * cycle back from the last skips the robot.
 */
static void
test_the_cycle_skips_a_contact_that_refused(void **state)
{
	static const struct { double at; const char *url; } plan[] = {
		{ 0, HOOK }, { 1, HOOK }, { 3, HOOK }, { 7, HOOK },
		{ 10, BACKUP }, { 11, BACKUP }, { 13, BACKUP }, { 17, BACKUP },
		{ 20, HOOK },
	};
	struct incident	*inc;
	json_t		*fb;
	size_t		 i;

	corefix_start(conf_three);
	inc = corefix_report("county-a", "三种联系方式");
	assert_string_equal(fakefetch_get(0)->url, DING);
	fakefetch_answer(403, NULL, 0);
	for (i = 0; i < 9; i++) {
		expect_request_at(T(plan[i].at), plan[i].url);
		fakefetch_answer(i == 8 ? 200 : 500, NULL, 0);
	}
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 10);
	fb = datas("notify.fallback", inc->id);
	assert_int_equal(json_array_size(fb), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(num(json_object_get(json_array_get(fb, i),
		    "from"), "contact"), i);
		assert_int_equal(num(json_array_get(fb, i), "contact"),
		    i == 2 ? 1 : (json_int_t)i + 1);
	}
	json_decref(fb);
	assert_int_equal(memstore_count_of("notify.attempt", inc->id), 10);
}

/*
 * Every contact refuses: the last refusal is final ("failed", as
 * docs/configuration.md says), with no notify.abandoned after it.
 */
static void
test_every_contact_refusing_fails_the_delivery(void **state)
{
	struct incident	*inc;
	json_t		*all;

	corefix_start(conf_robots);
	inc = corefix_report("county-a", "桥梁垮塌");
	fakefetch_answer(403, NULL, 0);
	expect_request_at(T(0), WECOM);
	fakefetch_answer(404, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}", 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 2);
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 2);
	assert_attempt(all, 0, 1, 0, "rejected", 403);
	assert_attempt(all, 1, 2, 1, "failed", 404);
	json_decref(all);
	assert_int_equal(memstore_count_of("notify.fallback", inc->id), 1);
	assert_int_equal(memstore_count_of("notify.abandoned", inc->id), 0);
}

/*
 * The e2e test_group_robot_failure_for_one_never_resends_to_the_others:
 * one message per person on a group robot, so one person's retries never
 * mention the other again.
 */
static void
test_a_robot_failing_for_one_never_repeats_the_other(void **state)
{
	size_t i, zhang = 0, zhao = 0;

	corefix_start(conf_group);
	corefix_report("county-a", "森林火情");
	assert_int_equal(fakefetch_count(), 3);
	assert_string_equal(mentions(0), "13800138001");
	assert_string_equal(mentions(1), "13800138004");
	fakefetch_answer(500, NULL, 0);
	fakefetch_answer(200, DING_OK, 0);
	fakefetch_answer(200, NULL, 0);
	expect_request_at(T(1), DING);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(3), DING);
	fakefetch_answer(200, DING_OK, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 5);
	for (i = 0; i < fakefetch_count(); i++) {
		zhang += strcmp(mentions(i), "13800138001") == 0;
		zhao += strcmp(mentions(i), "13800138004") == 0;
	}
	assert_int_equal(zhang, 3);
	assert_int_equal(zhao, 1);
	assert_string_equal(corefix_sent("incident.new", NULL), "li");
	assert_int_equal(memstore_count_of("notify.attempt", NULL), 5);
}

/*
 * Restart
 */

/* The e2e test_in_flight_delivery_is_sent_again_after_a_crash. */
static void
test_an_attempt_in_flight_is_made_again_after_a_restart(void **state)
{
	struct incident	*inc;
	json_t		*all;
	char		 id[INCIDENT_ID_MAX], delivery[64];

	corefix_start(conf_one);
	inc = corefix_report("county-a", "夜间险情");
	snprintf(id, sizeof(id), "%s", inc->id);
	snprintf(delivery, sizeof(delivery), "%s",
	    str(fakefetch_get(0)->json, "delivery"));
	fakeclock_advance(30 * SEC);
	/* Down with the request unanswered: no outcome in the log. */
	corefix_restart(MIN);
	assert_int_equal(fakefetch_count(), 0);
	expect_request_at(T(90), HOOK);
	assert_string_equal(str(fakefetch_get(0)->json, "delivery"), delivery);
	fakefetch_answer(200, NULL, 0);
	fakeclock_turn();
	all = datas("notify.attempt", id);
	assert_int_equal(json_array_size(all), 1);
	assert_attempt(all, 0, 1, 0, "delivered", 200);
	json_decref(all);
	/* Delivered: not again after another restart. */
	corefix_restart(MIN);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 0);
	assert_int_equal(memstore_count_of("notify.attempt", id), 1);
}

/* The e2e test_pending_retry_goes_on_after_restart, at its recorded time. */
static void
test_a_scheduled_retry_keeps_its_time_across_a_restart(void **state)
{
	struct incident	*inc;
	json_t		*all;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf_two);
	inc = corefix_report("county-a", "道路塌陷");
	snprintf(id, sizeof(id), "%s", inc->id);
	fakefetch_answer(500, NULL, 0);
	fakeclock_advance(200);
	corefix_restart(300);
	/* Due at 1 s, as recorded: neither at once nor a full backoff later. */
	expect_request_at(T(1), HOOK);
	fakefetch_answer(500, NULL, 0);
	fakeclock_turn();
	/* Due at 3 s; down until 6 s: sent when dutyd is back. */
	corefix_restart(5 * SEC);
	assert_int_equal(fakefetch_count(), 0);
	expect_request_at(T(6), HOOK);
	fakefetch_answer(200, NULL, 0);
	fakeclock_turn();
	all = datas("notify.attempt", id);
	assert_int_equal(json_array_size(all), 3);
	assert_attempt(all, 1, 2, 0, "retry", 500);
	assert_int_equal(at_ms(str(json_array_get(all, 1), "next_attempt_at")),
	    T(3));
	/* Counting goes on from the log. */
	assert_attempt(all, 2, 3, 0, "delivered", 200);
	json_decref(all);
}

/*
 * Replayed from a checkpoint alone, a delivery keeps its contact, how
 * often it was tried there and since when, and its next time: the backoff
 * (2 s, not 1 s) and the window's end (20 s) show it.
 */
static void
test_a_checkpoint_keeps_pending_deliveries(void **state)
{
	static const struct { double at; const char *url; } before[] = {
		{ 1, HOOK }, { 3, HOOK }, { 7, HOOK }, { 10, BACKUP },
	};
	struct incident	*inc;
	json_t		*all;
	char		 id[INCIDENT_ID_MAX];
	size_t		 i;

	corefix_start(conf_two);
	inc = corefix_report("county-a", "特大暴雨");
	snprintf(id, sizeof(id), "%s", inc->id);
	fakefetch_answer(500, NULL, 0);
	for (i = 0; i < 4; i++) {
		expect_request_at(T(before[i].at), before[i].url);
		fakefetch_answer(500, NULL, 0);
	}
	/* On the backup since 10 s, once, next at 11 s. */
	fakeclock_advance(500);
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(200);
	expect_request_at(T(11), BACKUP);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(13), BACKUP);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(17), BACKUP);
	fakefetch_answer(500, NULL, 0);
	expect_request_at(T(20), HOOK);
	fakefetch_answer(200, NULL, 0);
	fakeclock_turn();
	all = datas("notify.attempt", id);
	assert_int_equal(json_array_size(all), 9);
	assert_attempt(all, 5, 6, 1, "retry", 500);
	assert_int_equal(at_ms(str(json_array_get(all, 5), "next_attempt_at")),
	    T(13));
	assert_int_equal(at_ms(str(json_array_get(all, 7), "next_attempt_at")),
	    T(20));
	assert_attempt(all, 8, 9, 0, "delivered", 200);
	json_decref(all);
	assert_int_equal(memstore_count_of("notify.fallback", id), 2);
}

/*
 * A refusal is on disk, the fallback after it is not, and dutyd stops:
 * after the restart the next contact is tried, and the log says so.
 */
static void
test_a_fallback_lost_in_a_crash_is_recorded_after_the_restart(void **state)
{
	struct incident	*inc;
	json_t		*fb;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf_refuse);
	inc = corefix_report("county-a", "断电");
	snprintf(id, sizeof(id), "%s", inc->id);
	memstore_fail(ENOSPC, 1);
	fakefetch_answer(403, NULL, 0);
	assert_int_equal(memstore_count_of("notify.attempt", id), 1);
	assert_int_equal(memstore_count_of("notify.fallback", id), 0);
	memstore_fail(0, 0);
	corefix_restart(MIN);
	expect_request_at(T(60), HOOK);
	fb = datas("notify.fallback", id);
	assert_int_equal(json_array_size(fb), 1);
	assert_int_equal(num(json_array_get(fb, 0), "contact"), 1);
	assert_string_equal(str(json_object_get(json_array_get(fb, 0), "from"),
	    "channel"), "ding");
	json_decref(fb);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 1);
	assert_int_equal(memstore_count_of("notify.fallback", id), 1);
}

/*
 * Resolution
 */

/*
 * The e2e test_retries_stop_when_resolved: the retrying message is
 * abandoned, the one in flight cancelled, the resolution itself still
 * retried until delivered.
 */
static void
test_resolution_ends_what_no_longer_matters(void **state)
{
	struct incident	*inc;
	json_t		*ab, *all;
	size_t		 i;
	int		 changed;

	corefix_start(conf_pair);
	inc = corefix_report("county-a", "误报");
	assert_string_equal(corefix_sent("incident.new", inc->id), "zhang,li");
	fakefetch_answer(500, NULL, 0);		/* zhang */
	expect_request_at(T(1), HOOK);		/* li's first still out */
	fakeclock_advance(SEC);
	fakefetch_answer(500, NULL, 0);		/* li */
	/* zhang in flight (since 1 s), li due at 3 s. */
	assert_int_equal(incact_resolve(inc, "li", "核实为误报", &changed), 0);
	assert_int_equal(fakefetch_pending(), 0);
	fakeclock_turn();
	ab = datas("notify.abandoned", inc->id);
	assert_int_equal(json_array_size(ab), 2);
	json_array_foreach(ab, i, all)
		assert_string_equal(str(all, "reason"), "the incident was resolved");
	json_decref(ab);
	assert_string_equal(corefix_sent("incident.resolved", inc->id), "zhang,li");
	fakefetch_answer(500, NULL, 0);
	fakefetch_answer(200, NULL, 0);
	expect_request_at(T(3), HOOK);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_string_equal(corefix_sent("incident.new", inc->id), "zhang,li,zhang");
	assert_string_equal(corefix_sent("incident.resolved", inc->id),
	    "zhang,li,zhang");
	all = memstore_records("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 5);
	json_decref(all);
	assert_int_equal(fakeclock_armed(), 0);
}

/*
 * The e2e test_every_event_reaches_every_person_exactly_once: each first
 * attempt fails, the retry delivers, and nothing is sent a third time.
 */
static void
test_every_event_reaches_each_person_once(void **state)
{
	struct incident	*inc;
	json_t		*all, *a;
	size_t		 i, delivered = 0;
	int		 changed;

	corefix_start(conf_pair);
	inc = corefix_report("county-a", "一次且仅一次");
	for (i = 0; i < 3; i++) {
		if (i == 1)
			assert_int_equal(incact_acknowledge(inc, "zhang", NULL,
			    &changed), 0);
		else if (i == 2)
			assert_int_equal(incact_resolve(inc, "li", NULL,
			    &changed), 0);
		fakeclock_turn();
		assert_int_equal(fakefetch_pending(), 2);
		fakefetch_answer(500, NULL, 0);
		fakefetch_answer(503, NULL, 0);
		fakeclock_advance(SEC);
		assert_int_equal(fakefetch_pending(), 2);
		fakefetch_answer_all("ok");
		fakeclock_advance(SEC);
	}
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 12);
	assert_string_equal(corefix_sent("incident.new", inc->id),
	    "zhang,li,zhang,li");
	assert_string_equal(corefix_sent("incident.acknowledged", inc->id),
	    "zhang,li,zhang,li");
	assert_string_equal(corefix_sent("incident.resolved", inc->id),
	    "zhang,li,zhang,li");
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 12);
	json_array_foreach(all, i, a) {
		assert_int_equal(num(a, "attempt"), i % 4 < 2 ? 1 : 2);
		delivered += strcmp(str(a, "outcome"), "delivered") == 0;
	}
	assert_int_equal(delivered, 6);
	json_decref(all);
	assert_int_equal(memstore_count_of("notify.abandoned", inc->id), 0);
	assert_int_equal(memstore_count_of("notify.fallback", inc->id), 0);
}

/*
 * A full disk
 */

/* The outcome waits for the disk; the vendor is not called twice for it. */
static void
test_an_outcome_that_cannot_be_written_waits_for_the_disk(void **state)
{
	struct incident	*inc;
	json_t		*all;
	char		 id[INCIDENT_ID_MAX];

	corefix_start(conf_one);
	inc = corefix_report("county-a", "磁盘已满");
	snprintf(id, sizeof(id), "%s", inc->id);
	memstore_fail(ENOSPC, 0);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(10 * SEC);
	assert_int_equal(memstore_count_of("notify.attempt", id), 0);
	memstore_fail(0, 0);
	fakeclock_advance(SEC);
	all = datas("notify.attempt", id);
	assert_int_equal(json_array_size(all), 1);
	assert_attempt(all, 0, 1, 0, "delivered", 200);
	json_decref(all);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 1);
	assert_int_equal(memstore_count_of("notify.attempt", id), 1);

	/* A retry is recorded late, then made: once. */
	inc = corefix_report("county-a", "再次满盘");
	snprintf(id, sizeof(id), "%s", inc->id);
	memstore_fail(ENOSPC, 0);
	fakefetch_answer(500, NULL, 0);
	fakeclock_advance(10 * SEC);
	assert_int_equal(fakefetch_count(), 2);
	memstore_fail(0, 0);
	fakeclock_advance(SEC);
	assert_int_equal(fakefetch_count(), 3);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 3);
	all = datas("notify.attempt", id);
	assert_int_equal(json_array_size(all), 2);
	assert_attempt(all, 0, 1, 0, "retry", 500);
	assert_attempt(all, 1, 2, 0, "delivered", 200);
	json_decref(all);
}

/*
 * A refusal recorded late (the disk was full): the next contact is tried
 * once it is on disk, through a notify.fallback like any other.
 */
static void
test_a_refusal_recorded_late_still_falls_back_on_record(void **state)
{
	struct incident	*inc;
	json_t		*all;

	corefix_start(conf_refuse);
	inc = corefix_report("county-a", "满盘时拒收");
	memstore_fail(ENOSPC, 0);
	fakefetch_answer(403, NULL, 0);
	fakeclock_advance(3 * SEC);
	assert_int_equal(fakefetch_count(), 1);
	memstore_fail(0, 0);
	expect_request_at(T(4), HOOK);
	assert_int_equal(memstore_count_of("notify.fallback", inc->id), 1);
	fakefetch_answer(200, NULL, 0);
	fakeclock_advance(30 * MIN);
	assert_int_equal(fakefetch_count(), 2);
	all = datas("notify.attempt", inc->id);
	assert_int_equal(json_array_size(all), 2);
	assert_attempt(all, 0, 1, 0, "rejected", 403);
	assert_attempt(all, 1, 2, 1, "delivered", 200);
	json_decref(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_attempt_record_layout, corefix_teardown),
		cmocka_unit_test_teardown(test_failures_are_retried_with_doubling_backoff, corefix_teardown),
		cmocka_unit_test_teardown(test_a_long_failing_delivery_keeps_few_attempts_in_memory, corefix_teardown),
		cmocka_unit_test_teardown(test_retry_give_up_ends_as_failed, corefix_teardown),
		cmocka_unit_test_teardown(test_retry_after_longer_than_the_backoff_is_honoured, corefix_teardown),
		cmocka_unit_test_teardown(test_retry_after_past_the_window_moves_to_the_next_contact, corefix_teardown),
		cmocka_unit_test_teardown(test_contacts_take_turns_until_one_delivers, corefix_teardown),
		cmocka_unit_test_teardown(test_an_answer_after_the_window_moves_on_at_once, corefix_teardown),
		cmocka_unit_test_teardown(test_a_refusal_falls_back_at_once_and_is_skipped_after, corefix_teardown),
		cmocka_unit_test_teardown(test_the_cycle_skips_a_contact_that_refused, corefix_teardown),
		cmocka_unit_test_teardown(test_every_contact_refusing_fails_the_delivery, corefix_teardown),
		cmocka_unit_test_teardown(test_a_robot_failing_for_one_never_repeats_the_other, corefix_teardown),
		cmocka_unit_test_teardown(test_an_attempt_in_flight_is_made_again_after_a_restart, corefix_teardown),
		cmocka_unit_test_teardown(test_a_scheduled_retry_keeps_its_time_across_a_restart, corefix_teardown),
		cmocka_unit_test_teardown(test_a_checkpoint_keeps_pending_deliveries, corefix_teardown),
		cmocka_unit_test_teardown(test_a_fallback_lost_in_a_crash_is_recorded_after_the_restart, corefix_teardown),
		cmocka_unit_test_teardown(test_resolution_ends_what_no_longer_matters, corefix_teardown),
		cmocka_unit_test_teardown(test_every_event_reaches_each_person_once, corefix_teardown),
		cmocka_unit_test_teardown(test_an_outcome_that_cannot_be_written_waits_for_the_disk, corefix_teardown),
		cmocka_unit_test_teardown(test_a_refusal_recorded_late_still_falls_back_on_record, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
