/*
 * The duty desk on a fake clock: at every roster change the people coming
 * on duty get one message with the open incidents and their deadlines
 * (交接班), nobody else does, the desk waits for the next change again,
 * and answers to inbound SMS ride the delivery engine.  What
 * tests/e2e/test_roster.py waits seconds for, here in milliseconds.
 *
 * The day: 2026-12-02 (a Wednesday), from 08:00 in Asia/Shanghai.  An
 * override's reason names its line in the file corefix writes: four lines
 * (listen, state_dir, plugin_dir, public_url) come before the YAML here.
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

#include "actions/desk.h"
#include "actions/incact.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "notify/notify.h"
#include "state/incident.h"

#define MIN	COREFIX_MIN
#define HOUR	(60 * MIN)

#define PEOPLE \
    "timezone: \"Asia/Shanghai\"\n" \
    "offices:\n" \
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n" \
    "  - { id: county-b, name: \"B县应急管理局\", token: \"secret-b\" }\n" \
    "people:\n" \
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n" \
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n" \
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n" \
    "  - { id: zhao, name: \"赵敏\", token: \"secret-zhao\", contacts: [ { channel: hook, to: \"zhao\" } ] }\n" \
    "  - { id: sun, name: \"孙丽\", token: \"secret-sun\", contacts: [ { channel: hook, to: \"sun\" } ] }\n" \
    "channels:\n" \
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n" \
    /* These count the desk's deliveries: no report reminders (test_wremind.c). */ \
    "policy: {\n" \
    "  ack_timeout: 20m,\n" \
    "  report_deadline: 40m, report_reminder: 0,\n" \
    "  retry_initial: 1s }\n"

/*
 * 08:00: li leads (his duty day began 12-01 08:30), zhang is on all day.
 * 08:30: wang leads, sun takes the day shift; zhang stays.
 * 10:00-12:00: zhao leads by an exact-time override, then wang again.
 * 17:30: sun goes off and nobody comes.  12-03 08:30: li and zhao.
 */
static const char conf[] = PEOPLE
    "roster:\n"
    "  accept_within: 0\n"
    "  timezone: Asia/Shanghai\n"
    "  start: 2026-12-01\n"
    "  leader: { handover: \"08:30\", people: [li, wang] }\n"
    "  shifts:\n"
    "    - { name: allday, hours: \"00:00-00:00\", people: [zhang] }\n"
    "    - { name: day, hours: \"08:30-17:30\", people: [zhao, sun] }\n"
    "  overrides:\n"
    "    - { start: \"2026-12-02T10:00:00+08:00\", end: \"2026-12-02T12:00:00+08:00\", shift: leader, person: zhao }\n";

/* The same roster with the leader's duty day beginning at 09:00. */
static const char conf_nine[] = PEOPLE
    "roster:\n"
    "  accept_within: 0\n"
    "  timezone: Asia/Shanghai\n"
    "  start: 2026-12-01\n"
    "  leader: { handover: \"09:00\", people: [li, wang] }\n"
    "  shifts:\n"
    "    - { name: allday, hours: \"00:00-00:00\", people: [zhang] }\n";

/* Nobody ever changes: the same leader and officer every day. */
static const char conf_same[] = PEOPLE
    "roster:\n"
    "  accept_within: 0\n"
    "  timezone: Asia/Shanghai\n"
    "  start: 2026-12-01\n"
    "  leader: { handover: \"08:30\", people: [li] }\n"
    "  shifts:\n"
    "    - { name: allday, hours: \"00:00-00:00\", people: [zhang] }\n";

static const char conf_static[] = PEOPLE
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n";

/* Two shifts begin with the leader's day; one's name holds the other's. */
static const char conf_two_shifts[] = PEOPLE
    "roster:\n"
    "  accept_within: 0\n"
    "  timezone: Asia/Shanghai\n"
    "  start: 2026-12-01\n"
    "  leader: { handover: \"08:30\", people: [li, wang] }\n"
    "  shifts:\n"
    "    - { name: allday, hours: \"00:00-00:00\", people: [zhang] }\n"
    "    - { name: midday, hours: \"08:30-17:30\", people: [zhao] }\n"
    "    - { name: day, hours: \"08:30-17:30\", people: [sun] }\n";

/* As tests/e2e/test_roster.py: wang leads 08:10-09:10 by an override. */
static const char conf_override[] = PEOPLE
    "roster:\n"
    "  accept_within: 0\n"
    "  timezone: Asia/Shanghai\n"
    "  start: 2026-01-01\n"
    "  leader: { handover: \"00:00\", people: [li] }\n"
    "  shifts:\n"
    "    - { name: allday, hours: \"00:00-00:00\", people: [zhang] }\n"
    "  overrides:\n"
    "    - { start: \"2026-12-02T08:10:00+08:00\", end: \"2026-12-02T09:10:00+08:00\", shift: leader, person: wang }\n";

/* The Nth (0-based) record of kind EVENT for INCIDENT. */
static json_t *
nth_record(const char *event, const char *incident, size_t n)
{
	json_t *all = memstore_records(event, incident), *r;

	if ((r = json_array_get(all, n)) == NULL)
		fail_msg("no %s record %zu for %s", event, n,
		    incident != NULL ? incident : "-");
	json_incref(r);
	json_decref(all);
	return r;
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("no string '%s'", key);
	return s;
}

/* "wang/leader/rotation 'leader',sun/day/rotation 'day'": who came on, and why. */
static const char *
incoming(const json_t *handover)
{
	static char	 out[1024];
	json_t		*in = json_object_get(json_object_get(handover, "data"),
			    "incoming"), *s;
	size_t		 i, len = 0;

	out[0] = '\0';
	json_array_foreach(in, i, s)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s/%s/%s",
		    i > 0 ? "," : "", str(s, "person"), str(s, "role"),
		    str(s, "why"));
	return out;
}

/* The duty.handover records so far, as their local times "08:30,10:00". */
static const char *
handover_times(void)
{
	static char	 out[512];
	json_t		*all = memstore_records("duty.handover", NULL), *r;
	const char	*at;
	size_t		 i, len = 0;

	out[0] = '\0';
	json_array_foreach(all, i, r) {
		at = str(json_object_get(r, "data"), "at");
		/* "2026-12-02T08:30:00.000+08:00": the date and the clock. */
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%.5s %.5s",
		    i > 0 ? "," : "", at + 5, at + 11);
	}
	json_decref(all);
	return out;
}

/* The webhook request of the Nth (0-based) duty.handover message sent. */
static json_t *
handover_request(size_t n)
{
	struct fakefetch_req	*r;
	const char		*ev;
	size_t			 i;

	for (i = 0; (r = fakefetch_get(i)) != NULL; i++) {
		ev = json_string_value(json_object_get(r->json, "event"));
		if (ev != NULL && strcmp(ev, "duty.handover") == 0 && n-- == 0)
			return r->json;
	}
	fail_msg("no duty.handover request %zu", n);
	return NULL;
}

/*
 * A handover message's text without its last line, the reader's own
 * one-tap accept link ("\n接班确认：https://…/a/<token>"), which must be there.
 */
static const char *
htext(const json_t *req)
{
	static char	 out[16 * 1024];
	const char	*t = str(req, "text"), *l;

	l = strstr(t, "\n接班确认：https://duty.example.gov.cn/a/");
	if (l == NULL)
		fail_msg("no accept link in the handover message: %s", t);
	snprintf(out, sizeof(out), "%.*s", (int)(l - t), t);
	return out;
}

static struct incident *
report_at(const char *office, const char *title)
{
	struct incident *inc = corefix_report(office, title);

	assert_non_null(inc);
	corefix_deliver_all();
	return inc;
}

/* A leader's duty day and a shift begin: the incoming two are briefed, once. */
static void
test_leader_and_shift_change_brief_the_incoming(void **state)
{
	struct incident	*a, *b, *c, *d;
	json_t		*h, *intent, *data, *rcp, *req;
	int		 changed;

	corefix_start(conf);
	/* 08:00: every state an incident can be in at the handover. */
	a = report_at("county-a", "山体滑坡");
	b = report_at("county-b", "河堤管涌");
	assert_int_equal(incact_acknowledge(b, "zhang", NULL, &changed), 0);
	fakeclock_advance(10 * MIN);
	corefix_deliver_all();
	c = report_at("county-a", "化工厂火情");		/* 08:10 */
	assert_int_equal(incact_acknowledge(c, "zhang", NULL, &changed), 0);
	assert_int_equal(incact_file_report(c, "zhang", "A应急〔2026〕7号",
	    &changed), 0);
	d = report_at("county-b", "误报");
	assert_int_equal(incact_resolve(d, "li", "核实为误报", &changed), 0);
	fakeclock_turn();
	corefix_deliver_all();

	fakeclock_advance(20 * MIN - 1);			/* 08:29:59.999 */
	assert_int_equal(memstore_count_of("duty.handover", NULL), 0);
	corefix_deliver_all();
	fakeclock_advance(1);					/* 08:30 */
	h = corefix_record("duty.handover", NULL);
	data = json_object_get(h, "data");
	assert_string_equal(str(data, "at"), "2026-12-02T08:30:00.000+08:00");
	assert_string_equal(str(h, "actor"), "dutyd");
	/* zhang stays on, li and the night go off: neither is briefed. */
	assert_string_equal(incoming(h), "wang/leader/rotation 'leader',"
	    "sun/day/rotation 'day'");
	assert_int_equal(json_integer_value(json_object_get(data, "count")), 3);
	assert_int_equal(json_array_size(json_object_get(data, "incidents")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(data,
	    "incidents"), 2)), c->id);
	assert_string_equal(str(json_object_get(json_object_get(data, "on_duty"),
	    "leader"), "person"), "wang");
	json_decref(h);

	intent = corefix_record("notify.intent", NOTIFY_DESK);
	data = json_object_get(intent, "data");
	assert_string_equal(str(data, "event"), "duty.handover");
	assert_int_equal(json_integer_value(json_object_get(data, "late_ms")), 0);
	rcp = json_object_get(data, "recipients");
	assert_int_equal(json_array_size(rcp), 2);
	assert_string_equal(str(json_array_get(rcp, 0), "why"),
	    "coming on duty: leader (rotation 'leader')");
	assert_string_equal(str(json_array_get(rcp, 1), "why"),
	    "coming on duty: day (rotation 'day')");
	assert_string_equal(str(json_object_get(data, "handover"), "shift"),
	    "带班领导、day");
	json_decref(intent);

	assert_string_equal(corefix_sent("duty.handover", NULL), "wang,sun");
	req = handover_request(0);
	assert_string_equal(htext(req),
	    "【值班交接】带班领导、day接班，3 起未办结事件：\n"
	    "INC-20261202-0001 A县应急管理局：山体滑坡，确认时限 08:20（已超时）\n"
	    "INC-20261202-0002 B县应急管理局：河堤管涌，书面报告时限 08:40\n"
	    "INC-20261202-0003 A县应急管理局：化工厂火情，处置中");
	/* The url is the reader's accept link (接班确认). */
	assert_memory_equal(str(req, "url"), "https://duty.example.gov.cn/a/", 30);
	/* The webhook's incident is the handover itself: the desk is none. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(req,
	    "incident"), "count")), 3);
	/* The officer on duty writes the report: told with the leader. */
	assert_string_equal(corefix_sent("incident.escalated", a->id), "zhang,li");

	/* Delivered like any notification, and once. */
	assert_int_equal(corefix_deliver_all(), 2);
	assert_int_equal(memstore_count_of("notify.attempt", NOTIFY_DESK), 2);
	fakeclock_advance(60 * MIN);
	assert_int_equal(memstore_count_of("duty.handover", NULL), 1);
	assert_string_equal(corefix_sent("duty.handover", NULL), "wang,sun");
}

/* An override starting and ending are changes too; the timer re-arms each time. */
static void
test_override_start_and_end_and_the_timer_rearms(void **state)
{
	json_t *h;

	corefix_start(conf);
	/* Only the desk waits: for the leader's duty day at 08:30. */
	assert_int_equal(fakeclock_armed(), 1);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 30 * MIN);
	fakeclock_advance(30 * MIN);
	corefix_deliver_all();
	assert_int_equal(fakeclock_armed(), 1);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 2 * HOUR);

	fakeclock_advance(90 * MIN);				/* 10:00 */
	corefix_deliver_all();
	assert_string_equal(handover_times(), "12-02 08:30,12-02 10:00");
	h = nth_record("duty.handover", NULL, 1);
	assert_string_equal(incoming(h), "zhao/leader/override 2026-12-02 "
	    "10:00–12:00 leader: zhao (line 30)");
	json_decref(h);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 4 * HOUR);

	/* The override ends: wang leads again and is briefed again. */
	fakeclock_advance(2 * HOUR);				/* 12:00 */
	corefix_deliver_all();
	assert_string_equal(handover_times(),
	    "12-02 08:30,12-02 10:00,12-02 12:00");
	assert_string_equal(corefix_sent("duty.handover", NULL),
	    "wang,sun,zhao,wang");
	assert_string_equal(htext(handover_request(3)),
	    "【值班交接】带班领导接班，0 起未办结事件：\n");
	/* 17:30, when sun goes off and nobody comes, is armed next. */
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 9 * HOUR + 30 * MIN);
}

/* People going off, nobody coming: nothing recorded, nothing sent. */
static void
test_a_change_that_brings_nobody_new_is_not_recorded(void **state)
{
	corefix_start(conf);
	fakeclock_advance(30 * MIN);
	corefix_deliver_all();
	fakeclock_advance(4 * HOUR);				/* 12:30 */
	corefix_deliver_all();
	assert_int_equal(memstore_count_of("duty.handover", NULL), 3);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 9 * HOUR + 30 * MIN);
	fakeclock_advance(5 * HOUR);				/* 17:30 */
	assert_int_equal(memstore_count_of("duty.handover", NULL), 3);
	assert_int_equal(memstore_count_of("notify.intent", NOTIFY_DESK), 3);
	assert_int_equal(fakeclock_armed(), 1);
	/* The next morning's change is still waited for. */
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 24 * HOUR + 30 * MIN);
	fakeclock_advance(15 * HOUR);				/* 12-03 08:30 */
	assert_string_equal(handover_times(), "12-02 08:30,12-02 10:00,"
	    "12-02 12:00,12-03 08:30");
	assert_string_equal(corefix_sent("duty.handover", NULL),
	    "wang,sun,zhao,wang,li,zhao");
}

/* Rotations that always name the same people, or no roster: no handovers. */
static void
test_no_change_no_handover(void **state)
{
	corefix_start(conf_same);
	assert_int_equal(fakeclock_armed(), 0);
	fakeclock_advance(48 * HOUR);
	assert_int_equal(memstore_count_of("duty.handover", NULL), 0);
	corefix_stop();

	corefix_start(conf_static);
	assert_int_equal(fakeclock_armed(), 0);
	fakeclock_advance(48 * HOUR);
	assert_int_equal(memstore_count_of("duty.handover", NULL), 0);
	assert_int_equal(fakefetch_count(), 0);
}

/* {shift} names every role coming on, even one whose name is in another's. */
static void
test_every_incoming_role_is_named(void **state)
{
	json_t *intent;

	corefix_start(conf_two_shifts);
	fakeclock_advance(30 * MIN);
	intent = corefix_record("notify.intent", NOTIFY_DESK);
	assert_string_equal(str(json_object_get(json_object_get(intent, "data"),
	    "handover"), "shift"), "带班领导、midday、day");
	json_decref(intent);
	assert_string_equal(corefix_sent("duty.handover", NULL), "wang,zhao,sun");
	assert_string_equal(htext(handover_request(0)),
	    "【值班交接】带班领导、midday、day接班，0 起未办结事件：\n");
}

/*
 * tests/e2e/test_roster.py's override case: the override begins before the
 * acknowledgement deadline, so the new leader is briefed with the incident
 * and is the one the escalation calls.
 */
static void
test_override_takes_over_the_escalation_and_gets_the_handover(void **state)
{
	struct incident	*inc;
	json_t		*h, *esc, *rcp;

	corefix_start(conf_override);
	inc = report_at("county-a", "山体滑坡");
	assert_string_equal(corefix_sent("incident.new", inc->id), "zhang,li");
	fakeclock_advance(10 * MIN);				/* 08:10 */
	h = corefix_record("duty.handover", NULL);
	assert_string_equal(incoming(h), "wang/leader/override 2026-12-02 "
	    "08:10–09:10 leader: wang (line 29)");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(h, "data"), "incidents"), 0)), inc->id);
	json_decref(h);
	assert_string_equal(corefix_sent("duty.handover", NULL), "wang");
	assert_string_equal(htext(handover_request(0)),
	    "【值班交接】带班领导接班，1 起未办结事件：\n"
	    "INC-20261202-0001 A县应急管理局：山体滑坡，确认时限 08:20");
	corefix_deliver_all();

	fakeclock_advance(10 * MIN);				/* 08:20 */
	assert_int_equal(memstore_count_of("notify.intent", inc->id), 2);
	esc = nth_record("notify.intent", inc->id, 1);
	rcp = json_object_get(json_object_get(esc, "data"), "recipients");
	assert_int_equal(json_array_size(rcp), 2);
	assert_string_equal(str(json_array_get(rcp, 0), "person"), "zhang");
	assert_string_equal(str(json_array_get(rcp, 1), "person"), "wang");
	assert_string_equal(str(json_array_get(rcp, 1), "why"), "leader on duty "
	    "(override 2026-12-02 08:10–09:10 leader: wang (line 29))");
	json_decref(esc);
	assert_string_equal(corefix_sent("incident.escalated", inc->id), "zhang,wang");
	corefix_deliver_all();

	/* 09:10: li leads again and hears the deadline has passed. */
	fakeclock_advance(50 * MIN);
	assert_string_equal(handover_times(), "12-02 08:10,12-02 09:10");
	assert_string_equal(corefix_sent("duty.handover", NULL), "wang,li");
	assert_string_equal(htext(handover_request(1)),
	    "【值班交接】带班领导接班，1 起未办结事件：\n"
	    "INC-20261202-0001 A县应急管理局：山体滑坡，确认时限 08:20（已超时）");
}

/* A reload waits for the next change of the new roster, from now. */
static void
test_reload_rearms_from_now(void **state)
{
	corefix_start(conf);
	fakeclock_advance(10 * MIN);				/* 08:10 */
	corefix_reload(conf_nine);
	assert_int_equal(fakeclock_armed(), 1);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + HOUR);
	/* The old roster's 08:30 is gone; a reload alone briefs nobody. */
	fakeclock_advance(50 * MIN - 1);
	assert_int_equal(memstore_count_of("duty.handover", NULL), 0);
	fakeclock_advance(1);					/* 09:00 */
	assert_string_equal(handover_times(), "12-02 09:00");
	assert_string_equal(corefix_sent("duty.handover", NULL), "wang");
	corefix_deliver_all();
	/* Back to the first roster at 09:30: its next change is the override. */
	fakeclock_advance(30 * MIN);
	corefix_reload(conf);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 2 * HOUR);
	fakeclock_advance(30 * MIN);
	assert_string_equal(handover_times(), "12-02 09:00,12-02 10:00");
	assert_string_equal(corefix_sent("duty.handover", NULL), "wang,zhao");
}

/*
 * docs/roster.md: a change that happened while dutyd was down is not
 * briefed afterwards.  A handover recorded before going down is still
 * delivered after it, like any notification.
 */
static void
test_a_change_while_down_is_not_briefed(void **state)
{
	corefix_start(conf);
	/* Down from 08:20 to 09:20, over the 08:30 change. */
	fakeclock_advance(20 * MIN);
	corefix_restart(HOUR);
	fakeclock_turn();
	assert_int_equal(memstore_count_of("duty.handover", NULL), 0);
	assert_int_equal(fakefetch_count(), 0);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 2 * HOUR);
	fakeclock_advance(40 * MIN);				/* 10:00 */
	assert_string_equal(handover_times(), "12-02 10:00");
	assert_string_equal(corefix_sent("duty.handover", NULL), "zhao");

	/* Down before zhao's message went out: it goes out after the restart. */
	corefix_restart(MIN);
	fakeclock_turn();
	assert_string_equal(corefix_sent("duty.handover", NULL), "zhao");
	assert_int_equal(corefix_deliver_all(), 1);
	assert_int_equal(memstore_count_of("duty.handover", NULL), 1);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 4 * HOUR);
}

/*
 * The disk is full at 08:30: the handover cannot be recorded (dutyd logs
 * that the shift must be briefed in person) and is not tried again later;
 * the next change is briefed as usual.
 */
static void
test_a_handover_that_cannot_be_recorded_is_not_retried(void **state)
{
	corefix_start(conf);
	memstore_fail(ENOSPC, 0);
	fakeclock_advance(30 * MIN);
	memstore_fail(0, 0);
	assert_int_equal(memstore_count_of("duty.handover", NULL), 0);
	assert_int_equal(fakefetch_count(), 0);
	assert_int_equal(fakeclock_next(), COREFIX_T0 + 2 * HOUR);
	fakeclock_advance(90 * MIN);				/* 10:00 */
	assert_string_equal(handover_times(), "12-02 10:00");
	assert_string_equal(corefix_sent("duty.handover", NULL), "zhao");
}

/* The list is capped at 8 KiB of lines; the count still counts them all. */
static void
test_a_long_list_is_capped_and_counted(void **state)
{
	json_t	*intent, *ho, *h;
	char	 title[64];
	int	 i;

	corefix_start(conf);
	for (i = 0; i < 150; i++) {
		snprintf(title, sizeof(title), "第%d起险情", i + 1);
		assert_non_null(corefix_report(i % 2 ? "county-b" : "county-a",
		    title));
	}
	corefix_deliver_all();
	fakeclock_advance(30 * MIN);
	intent = corefix_record("notify.intent", NOTIFY_DESK);
	ho = json_object_get(json_object_get(intent, "data"), "handover");
	assert_int_equal(json_integer_value(json_object_get(ho, "count")), 150);
	assert_true(strlen(str(ho, "incidents")) < 8 * 1024);
	assert_true(strlen(str(ho, "incidents")) > 8 * 1024 - 100);
	/* Whole lines only. */
	assert_true(strncmp(strrchr(str(ho, "incidents"), '\n') + 1,
	    "INC-20261202-", 13) == 0);
	h = corefix_record("duty.handover", NULL);
	assert_int_equal(json_array_size(json_object_get(json_object_get(h,
	    "data"), "incidents")), 150);
	json_decref(h);
	json_decref(intent);
}

/*
 * A handover with more open incidents than a record holds: the record
 * names the first DESK_IDS_MAX (1000) and counts them all; before, every
 * id went in, and at 130k open incidents the record passed the 1 MiB
 * line limit and the handover was never recorded.
 */
static void
test_a_huge_handover_still_fits_a_record(void **state)
{
	json_t	*h;
	int	 i;

	corefix_start(conf);
	for (i = 0; i < 1200; i++)
		assert_non_null(corefix_report("county-a", "险情"));
	corefix_deliver_all();
	fakeclock_advance(30 * MIN);
	h = corefix_record("duty.handover", NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(h,
	    "data"), "count")), 1200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(h,
	    "data"), "incidents")), 1000);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(h, "data"), "incidents"), 0)), "INC-20261202-0001");
	json_decref(h);
}

/* An answer to an inbound SMS: a desk notification, retried like any other. */
static void
test_desk_answer_is_delivered_with_retries(void **state)
{
	struct fakefetch_req	*r;
	json_t			*intent, *data, *rcp, *att;

	corefix_start(conf_static);
	assert_int_equal(desk_answer("hook", "+8613900000001",
	    "已收到，事件编号 INC-20261202-0001。"), 0);
	fakeclock_turn();
	intent = corefix_record("notify.intent", NOTIFY_DESK);
	data = json_object_get(intent, "data");
	assert_string_equal(str(data, "event"), "sms.reply");
	assert_string_equal(str(json_object_get(data, "reply"), "text"),
	    "已收到，事件编号 INC-20261202-0001。");
	rcp = json_array_get(json_object_get(data, "recipients"), 0);
	assert_string_equal(str(rcp, "person"), "+8613900000001");
	assert_string_equal(str(rcp, "why"), "answer to an inbound SMS");
	assert_string_equal(str(json_array_get(json_object_get(rcp, "contacts"),
	    0), "channel"), "hook");
	json_decref(intent);

	/* Sent as it is, to the sender. */
	assert_int_equal(fakefetch_pending(), 1);
	r = fakefetch_get(0);
	assert_string_equal(str(r->json, "event"), "sms.reply");
	assert_string_equal(str(json_object_get(r->json, "recipient"), "to"),
	    "+8613900000001");
	assert_string_equal(str(r->json, "text"),
	    "已收到，事件编号 INC-20261202-0001。");
	assert_int_equal(fakefetch_answer(503, "busy", 0), 0);
	fakeclock_turn();
	att = corefix_record("notify.attempt", NOTIFY_DESK);
	assert_string_equal(str(json_object_get(att, "data"), "outcome"), "retry");
	assert_string_equal(str(json_object_get(att, "data"), "next_attempt_at"),
	    "2026-12-02T08:00:01.000+08:00");
	json_decref(att);
	fakeclock_advance(1000 - 1);
	assert_int_equal(fakefetch_count(), 1);
	fakeclock_advance(1);
	assert_int_equal(fakefetch_count(), 2);
	assert_string_equal(str(fakefetch_get(1)->json, "text"),
	    "已收到，事件编号 INC-20261202-0001。");
	assert_int_equal(corefix_deliver_all(), 1);
	assert_int_equal(memstore_count_of("notify.attempt", NOTIFY_DESK), 2);
	/* Delivered is final, across a restart too. */
	corefix_restart(MIN);
	fakeclock_advance(HOUR);
	assert_int_equal(fakefetch_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_leader_and_shift_change_brief_the_incoming, corefix_teardown),
		cmocka_unit_test_teardown(test_override_start_and_end_and_the_timer_rearms, corefix_teardown),
		cmocka_unit_test_teardown(test_a_change_that_brings_nobody_new_is_not_recorded, corefix_teardown),
		cmocka_unit_test_teardown(test_no_change_no_handover, corefix_teardown),
		cmocka_unit_test_teardown(test_every_incoming_role_is_named, corefix_teardown),
		cmocka_unit_test_teardown(test_override_takes_over_the_escalation_and_gets_the_handover, corefix_teardown),
		cmocka_unit_test_teardown(test_reload_rearms_from_now, corefix_teardown),
		cmocka_unit_test_teardown(test_a_change_while_down_is_not_briefed, corefix_teardown),
		cmocka_unit_test_teardown(test_a_handover_that_cannot_be_recorded_is_not_retried, corefix_teardown),
		cmocka_unit_test_teardown(test_a_long_list_is_capped_and_counted, corefix_teardown),
		cmocka_unit_test_teardown(test_a_huge_handover_still_fits_a_record, corefix_teardown),
		cmocka_unit_test_teardown(test_desk_answer_is_delivered_with_retries, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
