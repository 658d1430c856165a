/*
 * The figures (通报) from the records dutyd itself writes, on the fake
 * clock: late reports, minutes to report, acknowledgement times and their
 * P90, escalations by level as the clocks fire them, written reports on
 * time or late, a false report left out, a duplicate's follow-up counted
 * for the office that sent it; and everything as it stood at the end of
 * the period asked for.
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
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "state/figures.h"
#include "state/incident.h"
#include "store/store.h"

#define MIN	COREFIX_MIN
#define T0	COREFIX_T0

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "  - { id: county-b, name: \"B县应急管理局\", token: \"secret-b\" }\n"
    "  - { id: county-c, name: \"C县应急管理局\", token: \"secret-c\" }\n"
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
    "  report_deadline: 40m\n"
    "  county_deadline: 20m\n"
    "  escalation:\n"
    "    - { after: 10m, notify: [wang] }\n"
    "    - { after: 30m, notify: [wang] }\n";

/* A report from OFFICE of an event AGO ms before now. */
static struct incident *
report(const char *office, const char *title, int64_t ago)
{
	struct incident	*inc = NULL;
	char		 at[TIME_RFC3339_MAX];
	json_t		*r;

	r = json_pack("{s:s, s:s}", "title", title, "occurred_at",
	    time_format(fakeclock_now() - ago, at, sizeof(at)));
	assert_non_null(r);
	assert_int_equal(incact_report(office, NULL, r, fakeclock_now() - ago,
	    "0", &inc), 0);
	json_decref(r);
	fakeclock_turn();
	assert_non_null(inc);
	return inc;
}

static int	scanned;

static void
scan_done(void *arg, int status, const char *err)
{
	assert_int_equal(status, 0);
	scanned++;
}

/* The figures of [FROM_MS, TO_MS) as GET /api/v1/stats computes them. */
static json_t *
figures_of(int64_t from_ms, int64_t to_ms)
{
	struct figures	*f = figures_new(from_ms, to_ms, fakeclock_now());
	json_t		*j;

	assert_non_null(f);
	scanned = 0;
	assert_int_equal(store_scan_bare(from_ms, to_ms, figures_kinds,
	    figures_bare, figures_add, scan_done, f), 0);
	fakeclock_turn();
	assert_int_equal(scanned, 1);
	j = figures_json(f, config_current(), "from", "to");
	assert_non_null(j);
	figures_free(f);
	return j;
}

static json_t *
office(json_t *j, const char *id)
{
	size_t	 i;
	json_t	*o;

	json_array_foreach(json_object_get(j, "offices"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "office")), id) == 0)
			return o;
	fail_msg("no office %s", id);
	return NULL;
}

static json_int_t
num(json_t *o, const char *path)
{
	char	 buf[64], *key, *save = NULL;
	json_t	*v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (key = strtok_r(buf, ".", &save); key != NULL;
	    key = strtok_r(NULL, ".", &save))
		v = json_object_get(v, key);
	if (json_is_null(v))
		return -1;
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void
test_figures_from_the_records(void **state)
{
	struct incident	*a, *b, *c, *d;
	json_t		*j, *upd;
	int		 changed;
	char		 aid[INCIDENT_ID_MAX];

	corefix_start(conf);
	/* A: on time (5 min after the event), acknowledged at once, filed at 30 min. */
	a = report("county-a", "河堤管涌", 5 * MIN);
	snprintf(aid, sizeof(aid), "%s", a->id);
	/* B: an hour after the event (迟报), acknowledged only after two escalations. */
	b = report("county-a", "山体滑坡", 60 * MIN);
	/* C: a false report; D: a duplicate of A from another office. */
	c = report("county-b", "误报的火情", 0);
	d = report("county-b", "河堤管涌（重复）", 2 * MIN);
	fakeclock_advance(MIN);
	assert_int_equal(incact_dismiss(c, "li", "经核实为误报", &changed), 0);
	assert_int_equal(incact_merge(d, "zhang", aid, NULL, &changed), 0);
	fakeclock_turn();
	fakeclock_advance(4 * MIN);
	assert_int_equal(incact_acknowledge(a, "zhang", NULL, &changed), 0);
	fakeclock_turn();
	/* A follow-up sent to the duplicate goes to A and counts for county-b. */
	upd = json_pack("{s:s}", "measures", "已疏散群众");
	assert_int_equal(incact_update(d, "county-b", NULL, upd, &changed), 0);
	json_decref(upd);
	fakeclock_turn();

	/* As the period ending 10 minutes in saw it: B not acknowledged, nothing filed. */
	j = figures_of(T0, T0 + 10 * MIN);
	assert_int_equal(num(j, "city.reports"), 3);
	assert_int_equal(num(j, "city.unacknowledged"), 1);
	assert_int_equal(num(j, "city.ack_minutes.median"), 5);
	assert_int_equal(num(j, "city.written_reports.pending"), 2);
	assert_int_equal(num(j, "city.escalations.1"), 0);
	json_decref(j);

	fakeclock_advance(25 * MIN);		/* 30: level 1 at 20, level 2 at 30 */
	assert_int_equal(incact_file_report(a, "li", "某应急〔2026〕1号", &changed), 0);
	fakeclock_turn();
	fakeclock_advance(5 * MIN);		/* 35 */
	assert_int_equal(incact_acknowledge(b, "zhang", NULL, &changed), 0);
	fakeclock_turn();
	fakeclock_advance(10 * MIN);		/* 45: B's written report is overdue */
	corefix_deliver_all();

	j = figures_of(T0, T0 + 24 * 60 * MIN);
	/* Every configured office, in order, zeros for the quiet one. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "offices"), 2), "office")), "county-c");
	assert_int_equal(num(office(j, "county-c"), "reports"), 0);
	assert_int_equal(num(office(j, "county-c"), "report_minutes.median"), -1);
	/* county-a: A (5 min) and B (60 min, late). */
	assert_int_equal(num(office(j, "county-a"), "reports"), 2);
	assert_int_equal(num(office(j, "county-a"), "late"), 1);
	assert_int_equal(num(office(j, "county-a"), "report_minutes.median"), 33);
	assert_int_equal(num(office(j, "county-a"), "report_minutes.max"), 60);
	assert_int_equal(num(office(j, "county-a"), "follow_ups"), 0);
	/* county-b: the duplicate counts as its report, the false one does not. */
	assert_int_equal(num(office(j, "county-b"), "reports"), 1);
	assert_int_equal(num(office(j, "county-b"), "dismissed"), 1);
	assert_int_equal(num(office(j, "county-b"), "follow_ups"), 1);
	assert_int_equal(num(office(j, "county-b"), "report_minutes.max"), 2);
	/* The duty room: A and B (the duplicate and the false report left out). */
	assert_int_equal(num(j, "city.reports"), 3);
	assert_int_equal(num(j, "city.late"), 1);
	assert_int_equal(num(j, "city.merged"), 1);
	assert_int_equal(num(j, "city.dismissed"), 1);
	assert_int_equal(num(j, "city.unacknowledged"), 0);
	assert_int_equal(num(j, "city.ack_minutes.median"), 20);	/* 5 and 35 */
	assert_int_equal(num(j, "city.ack_minutes.p90"), 35);
	assert_int_equal(num(j, "city.escalations.1"), 1);
	assert_int_equal(num(j, "city.escalations.2"), 1);
	assert_int_equal(num(j, "city.escalations.3"), 0);		/* configured, not reached */
	assert_int_equal(num(j, "city.written_reports.on_time"), 1);
	assert_int_equal(num(j, "city.written_reports.late"), 1);	/* B: nothing sent, deadline passed */
	assert_int_equal(num(j, "city.written_reports.pending"), 0);
	assert_int_equal(num(j, "city.written_reports.minutes.median"), 30);
	assert_int_equal(num(j, "city.directives.open"), 0);
	json_decref(j);

	/* A period with nothing in it: zeros, nulls, every office. */
	j = figures_of(T0 + 24 * 60 * MIN, T0 + 48 * 60 * MIN);
	assert_int_equal(json_array_size(json_object_get(j, "offices")), 3);
	assert_int_equal(num(j, "city.reports"), 0);
	assert_int_equal(num(j, "city.ack_minutes.p90"), -1);
	json_decref(j);
	corefix_stop();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_figures_from_the_records,
		    corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
