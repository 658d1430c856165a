/*
 * The duty roster: who is on duty at an instant, as the duty room reads
 * its schedule.  Configs are YAML text loaded through confyaml_load() and
 * roster_load() with a fixed list of people (config.c is not involved), so
 * every message is checked at its FILE:LINE:COLUMN.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/confyaml.h"
#include "config/roster.h"
#include "base/timeutil.h"
#include "base/tz.h"

#define MIN	((int64_t)60 * 1000)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

static char dir[] = "/tmp/test_roster.XXXXXX";
static char path[sizeof(dir) + 32];

static struct config_person people[] = {
	{ .id = "li", .name = "李强" }, { .id = "wang", .name = "王芳" },
	{ .id = "zhang", .name = "张伟" }, { .id = "zhao", .name = "赵六" },
	{ .id = "sun", .name = "孙七" }, { .id = "liu", .name = "刘洋" },
	{ .id = "a", .name = "甲" }, { .id = "b", .name = "乙" },
};
static char *block_officers[] = { "zhang", "zhao" };
static struct config cf = {
	.people = people,
	.npeople = sizeof(people) / sizeof(people[0]),
	.duty = { .officers = block_officers, .nofficers = 2, .leader = "li" },
};
static struct config_diag diag;

static int64_t
T(const char *s)
{
	int64_t ms = -1;

	if (time_parse(s, &ms) != 0)
		fail_msg("bad time in test: %s", s);
	return ms;
}

static void
write_file(const char *name, const char *text)
{
	char p[sizeof(path)];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Load YAML's `roster:` into cf.roster (NULL on errors, listed in diag). */
static struct roster *
load_at(const char *yaml, int64_t now)
{
	struct loader ld;
	yaml_node_t *root, *k;
	yaml_node_pair_t *p;

	roster_free(cf.roster);
	cf.roster = NULL;
	config_diag_free(&diag);
	write_file("dutyd.yaml", yaml);
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.cf = &cf;
	assert_non_null(root = confyaml_load(&ld));
	assert_int_equal(root->type, YAML_MAPPING_NODE);
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = confyaml_node(&ld, p->key);
		if (strcmp((char *)k->data.scalar.value, "roster") == 0)
			cf.roster = roster_load(&ld, confyaml_node(&ld,
			    p->value), now);
	}
	if (confyaml_finish(&ld, &diag) == 0)
		assert_non_null(cf.roster);
	else
		assert_null(cf.roster);
	return cf.roster;
}

static struct roster *
load(const char *yaml)
{
	return load_at(yaml, T("2026-12-01T00:00:00+08:00"));
}

/* The messages, "LINE:COL: text" each, without the file name. */
static void
assert_errors(const char *yaml, int64_t now, ...)
{
	va_list ap;
	const char *want;
	char line[1024];
	size_t i = 0;

	load_at(yaml, now);
	va_start(ap, now);
	while ((want = va_arg(ap, const char *)) != NULL) {
		snprintf(line, sizeof(line), "%s:%s", path, want);
		if (i >= diag.n)
			fail_msg("missing message: %s", line);
		assert_string_equal(diag.lines[i], line);
		i++;
	}
	va_end(ap);
	for (; i < diag.n; i++)
		fail_msg("unexpected message: %s", diag.lines[i]);
}

/* BASE with line NO (from 1) replaced by TEXT. */
static const char *
edit(const char *base, int no, const char *text)
{
	static char bufs[4][4096];
	static int next;
	char *buf = bufs[next++ % 4];
	const char *p = base, *nl;
	size_t len = 0;
	int i;

	for (i = 1; *p != '\0'; i++, p = nl + 1) {
		nl = strchr(p, '\n');
		len += snprintf(buf + len, sizeof(bufs[0]) - len, "%.*s\n",
		    i == no ? (int)strlen(text) : (int)(nl - p),
		    i == no ? text : p);
	}
	return buf;
}

static struct roster_oncall
at(const char *when)
{
	struct roster_oncall oc;

	assert_int_equal(roster_at(&cf, T(when), &oc), 0);
	return oc;
}

static const char *
leader_at(const char *when)
{
	struct roster_oncall oc = at(when);

	assert_int_equal(oc.has_leader, 1);
	return oc.leader.person;
}

/* "day:zhang,zhao night:..." in the order roster_at() gives them. */
static const char *
officers_at(const char *when)
{
	static char buf[512];
	struct roster_oncall oc = at(when);
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < oc.nofficers; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s:%s",
		    i == 0 ? "" : i > 0 && strcmp(oc.officers[i - 1].role,
		    oc.officers[i].role) == 0 ? "," : " ",
		    i > 0 && strcmp(oc.officers[i - 1].role,
		    oc.officers[i].role) == 0 ? "" : oc.officers[i].role,
		    oc.officers[i].person);
	/* "day:zhang,:zhao" -> "day:zhang,zhao" */
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == ',' && buf[i + 1] == ':')
			memmove(&buf[i + 1], &buf[i + 2], strlen(&buf[i + 2]) + 1);
	return buf;
}

static const char EXAMPLE[] =
    /*  1 */ "roster:\n"
    /*  2 */ "  timezone: Asia/Shanghai\n"
    /*  3 */ "  start: 2026-12-01\n"
    /*  4 */ "  leader:\n"
    /*  5 */ "    handover: \"08:30\"\n"
    /*  6 */ "    rotation: daily\n"
    /*  7 */ "    people: [li, wang]\n"
    /*  8 */ "  shifts:\n"
    /*  9 */ "    - { name: day,   hours: \"08:30-17:30\", rotation: daily, people: [zhang, zhao] }\n"
    /* 10 */ "    - { name: night, hours: \"17:30-08:30\", rotation: daily, people: [[zhao, sun], liu] }\n"
    /* 11 */ "  overrides:\n"
    /* 12 */ "    - \"2026-12-03 night: sun → zhang\"\n"
    /* 13 */ "    - { date: 2026-12-04, shift: leader, person: zhao }\n"
    /* 14 */ "    - { date: 2026-12-06, shift: night, from: liu, to: zhang }\n"
    /* 15 */ "    - { start: \"2026-12-05T09:00:00+08:00\", end: \"2026-12-05T12:00:00+08:00\", shift: leader, person: zhao }\n"
    /* 16 */ "    - 2026-12-07 day: zhang -> sun\n";

/*
 * roster.accept_within: 30m by default, 0 for no alarm, a day at most; a
 * duty day runs from the leader's handover on its date to the next day's.
 */
static void
test_accept_within_and_duty_days(void **state)
{
	int64_t	from, to;
	char	date[11];

	load(EXAMPLE);
	assert_int_equal(roster_accept_within(&cf), 30 * 60 * 1000);
	load(edit(EXAMPLE, 3, "  start: 2026-12-01\n  accept_within: 0"));
	assert_int_equal(roster_accept_within(&cf), 0);
	load(edit(EXAMPLE, 3, "  start: 2026-12-01\n  accept_within: 1h30m"));
	assert_int_equal(roster_accept_within(&cf), 90 * 60 * 1000);
	assert_errors(edit(EXAMPLE, 3, "  start: 2026-12-01\n  accept_within: 25h"),
	    T("2026-12-01T00:00:00+08:00"), "4:18: 'accept_within' in roster is "
	    "at most 24h; write e.g. 30m, or 0 for no alarm", NULL);
	load(EXAMPLE);
	assert_int_equal(roster_duty_day(&cf, "2026-12-02", &from, &to), 0);
	assert_int_equal(from, T("2026-12-02T08:30:00+08:00"));
	assert_int_equal(to, T("2026-12-03T08:30:00+08:00"));
	assert_int_equal(roster_duty_day(&cf, "2026-02-30", &from, &to), -EINVAL);
	assert_int_equal(roster_duty_day(&cf, "2026-12-2", &from, &to), -EINVAL);
	assert_int_equal(roster_duty_day(&cf, "2026-12-02x", &from, &to), -EINVAL);
	assert_int_equal(roster_duty_date(&cf, T("2026-12-03T08:29:59+08:00"),
	    date), 0);
	assert_string_equal(date, "2026-12-02");
	assert_int_equal(roster_duty_date(&cf, T("2026-12-03T08:30:00+08:00"),
	    date), 0);
	assert_string_equal(date, "2026-12-03");
}

static void
test_rotation_and_midnight(void **state)
{
	load(EXAMPLE);
	/* li takes over on start at 08:30; before that, the rotation runs backwards. */
	assert_string_equal(leader_at("2026-12-01T08:00:00+08:00"), "wang");
	assert_string_equal(leader_at("2026-12-01T09:00:00+08:00"), "li");
	assert_string_equal(leader_at("2026-12-02T08:29:00+08:00"), "li");
	assert_string_equal(leader_at("2026-12-02T08:30:00+08:00"), "wang");
	assert_string_equal(officers_at("2026-12-01T12:00:00+08:00"),
	    "day:zhang");
	assert_string_equal(officers_at("2026-12-02T12:00:00+08:00"),
	    "day:zhao");
	/* Night 2026-12-01 runs 17:30 to 08:30 the next morning. */
	assert_string_equal(officers_at("2026-12-01T17:30:00+08:00"),
	    "night:zhao,sun");
	assert_string_equal(officers_at("2026-12-02T00:00:00+08:00"),
	    "night:zhao,sun");
	assert_string_equal(officers_at("2026-12-02T08:29:59.999+08:00"),
	    "night:zhao,sun");
	assert_string_equal(officers_at("2026-12-02T08:30:00+08:00"),
	    "day:zhao");
	assert_string_equal(officers_at("2026-12-02T17:30:00+08:00"),
	    "night:liu");
	assert_string_equal(officers_at("2026-11-30T23:00:00+08:00"),
	    "night:liu");
}

static void
test_handover_minute(void **state)
{
	struct roster_oncall a, b;

	load(EXAMPLE);
	a = at("2026-12-01T08:29:59.999+08:00");
	b = at("2026-12-01T08:30:00.000+08:00");
	assert_string_equal(a.leader.person, "wang");
	assert_string_equal(b.leader.person, "li");
	assert_string_equal(a.leader.role, "leader");
	assert_string_equal(a.leader.why, "rotation 'leader'");
	assert_int_equal(a.leader.start, T("2026-11-30T08:30:00+08:00"));
	assert_int_equal(a.leader.end, T("2026-12-01T08:30:00+08:00"));
	assert_int_equal(b.leader.start, a.leader.end);
	assert_int_equal(b.leader.end, T("2026-12-02T08:30:00+08:00"));
	/* The night officer hands over to the day shift at the same instant. */
	assert_int_equal(a.nofficers, 1);
	assert_string_equal(a.officers[0].person, "liu");
	assert_string_equal(a.officers[0].role, "night");
	assert_string_equal(a.officers[0].why, "rotation 'night'");
	assert_int_equal(a.officers[0].end, T("2026-12-01T08:30:00+08:00"));
	assert_int_equal(b.nofficers, 1);
	assert_string_equal(b.officers[0].person, "zhang");
	assert_int_equal(b.officers[0].start, a.officers[0].end);
	assert_int_equal(b.officers[0].end, T("2026-12-01T17:30:00+08:00"));
}

static void
test_overrides(void **state)
{
	struct roster_oncall oc;
	char why[200];

	load(EXAMPLE);
	/* String form swap: night 2026-12-03 is zhao, sun; sun hands over to zhang. */
	oc = at("2026-12-04T02:00:00+08:00");
	assert_int_equal(oc.nofficers, 2);
	assert_string_equal(oc.officers[0].person, "zhao");
	assert_string_equal(oc.officers[0].why, "rotation 'night'");
	assert_string_equal(oc.officers[1].person, "zhang");
	assert_string_equal(oc.officers[1].why,
	    "override 2026-12-03 night: sun → zhang (line 12)");
	/* Only that instance: the night before and after are as rotated. */
	assert_string_equal(officers_at("2026-12-03T08:00:00+08:00"),
	    "night:liu");
	assert_string_equal(officers_at("2026-12-05T20:00:00+08:00"),
	    "night:zhao,sun");
	/* Date form for the leader: the whole duty day from handover. */
	assert_string_equal(leader_at("2026-12-04T08:29:00+08:00"), "li");
	oc = at("2026-12-04T08:30:00+08:00");
	assert_string_equal(oc.leader.person, "zhao");
	assert_string_equal(oc.leader.why,
	    "override 2026-12-04 leader: zhao (line 13)");
	assert_int_equal(oc.leader.end, T("2026-12-05T08:30:00+08:00"));
	assert_string_equal(leader_at("2026-12-05T08:30:00+08:00"), "li");
	/* Mapping swap. */
	assert_string_equal(officers_at("2026-12-06T23:00:00+08:00"),
	    "night:zhang");
	/* Exact times: [09:00, 12:00) on li's duty day. */
	oc = at("2026-12-05T08:59:59.999+08:00");
	assert_string_equal(oc.leader.person, "li");
	assert_int_equal(oc.leader.start, T("2026-12-05T08:30:00+08:00"));
	assert_int_equal(oc.leader.end, T("2026-12-05T09:00:00+08:00"));
	oc = at("2026-12-05T09:00:00+08:00");
	assert_string_equal(oc.leader.person, "zhao");
	snprintf(why, sizeof(why), "override 2026-12-05 09:00–12:00 leader: "
	    "zhao (line 15)");
	assert_string_equal(oc.leader.why, why);
	assert_int_equal(oc.leader.start, T("2026-12-05T09:00:00+08:00"));
	assert_int_equal(oc.leader.end, T("2026-12-05T12:00:00+08:00"));
	oc = at("2026-12-05T12:00:00+08:00");
	assert_string_equal(oc.leader.person, "li");
	assert_int_equal(oc.leader.start, T("2026-12-05T12:00:00+08:00"));
	assert_int_equal(oc.leader.end, T("2026-12-06T08:30:00+08:00"));
	/* Unquoted, YAML reads line 16 as a one-key mapping; "->" for "→". */
	oc = at("2026-12-07T10:00:00+08:00");
	assert_int_equal(oc.nofficers, 1);
	assert_string_equal(oc.officers[0].person, "sun");
	assert_string_equal(oc.officers[0].why,
	    "override 2026-12-07 day: zhang → sun (line 16)");
}

static void
test_later_override_wins(void **state)
{
	struct roster_oncall oc;

	load(edit(EXAMPLE, 16,
	    "    - { start: \"2026-12-05T10:00:00+08:00\", end: "
	    "\"2026-12-05T11:00:00+08:00\", shift: leader, person: wang }"));
	assert_string_equal(leader_at("2026-12-05T09:30:00+08:00"), "zhao");
	oc = at("2026-12-05T10:30:00+08:00");
	assert_string_equal(oc.leader.person, "wang");
	assert_int_equal(oc.leader.start, T("2026-12-05T10:00:00+08:00"));
	assert_int_equal(oc.leader.end, T("2026-12-05T11:00:00+08:00"));
	oc = at("2026-12-05T11:00:00+08:00");
	assert_string_equal(oc.leader.person, "zhao");
	assert_int_equal(oc.leader.end, T("2026-12-05T12:00:00+08:00"));
	/* A later dated override replaces an earlier one of the same day. */
	load(edit(EXAMPLE, 16,
	    "    - \"2026-12-04 leader: wang\""));
	assert_string_equal(leader_at("2026-12-04T12:00:00+08:00"), "wang");
	/* A swap on a team as an earlier override left it. */
	load(edit(EXAMPLE, 16,
	    "    - \"2026-12-03 night: zhang → liu\""));
	assert_string_equal(officers_at("2026-12-04T02:00:00+08:00"),
	    "night:zhao,liu");
	/* An exact swap inside a team. */
	load(edit(EXAMPLE, 16,
	    "    - { start: \"2026-12-01T20:00:00+08:00\", end: "
	    "\"2026-12-01T22:00:00+08:00\", shift: night, from: sun, to: liu }"));
	assert_string_equal(officers_at("2026-12-01T19:59:00+08:00"),
	    "night:zhao,sun");
	assert_string_equal(officers_at("2026-12-01T20:00:00+08:00"),
	    "night:zhao,liu");
	assert_string_equal(officers_at("2026-12-01T22:00:00+08:00"),
	    "night:zhao,sun");
}

static const char ROTA[] =
    /*  1 */ "roster:\n"
    /*  2 */ "  start: 2026-12-30\n"
    /*  3 */ "  leader: { handover: \"08:00\", rotation: weekly, people: [li, wang] }\n"
    /*  4 */ "  shifts:\n"
    /*  5 */ "    - { name: duty, hours: \"08:00-08:00\", people: [a, b, zhang] }\n";

static void
test_month_and_year_end(void **state)
{
	load(ROTA);
	/* Daily: counted in calendar days across the year end. */
	assert_string_equal(officers_at("2026-12-30T09:00:00+08:00"), "duty:a");
	assert_string_equal(officers_at("2026-12-31T09:00:00+08:00"), "duty:b");
	assert_string_equal(officers_at("2027-01-01T07:59:00+08:00"), "duty:b");
	assert_string_equal(officers_at("2027-01-01T08:00:00+08:00"),
	    "duty:zhang");
	assert_string_equal(officers_at("2027-01-02T09:00:00+08:00"), "duty:a");
	/* 61 days after start: 61 mod 3 = 1. */
	assert_string_equal(officers_at("2027-03-01T09:00:00+08:00"), "duty:b");
	/* Backwards from start, modulo: 12-29 is the last of the cycle. */
	assert_string_equal(officers_at("2026-12-29T09:00:00+08:00"),
	    "duty:zhang");
	/* Weekly: li from Wednesday 2026-12-30 08:00 for seven days. */
	assert_string_equal(leader_at("2026-12-30T07:59:00+08:00"), "wang");
	assert_string_equal(leader_at("2026-12-30T08:00:00+08:00"), "li");
	assert_string_equal(leader_at("2026-12-31T12:00:00+08:00"), "li");
	assert_string_equal(leader_at("2027-01-01T12:00:00+08:00"), "li");
	assert_string_equal(leader_at("2027-01-05T12:00:00+08:00"), "li");
	assert_string_equal(leader_at("2027-01-06T07:59:59.999+08:00"), "li");
	assert_string_equal(leader_at("2027-01-06T08:00:00+08:00"), "wang");
	assert_string_equal(leader_at("2027-01-13T08:00:00+08:00"), "li");
	assert_string_equal(leader_at("2026-12-23T08:00:00+08:00"), "wang");
	assert_string_equal(leader_at("2026-12-23T07:59:00+08:00"), "li");
	assert_string_equal(leader_at("2026-12-26T12:00:00+08:00"), "wang");
}

/*
 * Walk one local day minute by minute: exactly one leader and exactly one
 * shift at every minute, and changes only where expected.
 */
static void
walk_day(const char *from, const char *to, const char *handover,
    const char *day_start, const char *day_end, int day_minutes,
    int night_minutes)
{
	struct roster_oncall oc, prev;
	int64_t t, h = T(handover), ds = T(day_start), de = T(day_end);
	int nday = 0, nnight = 0, leader_changes = 0;

	memset(&prev, 0, sizeof(prev));
	for (t = T(from); t < T(to); t += MIN) {
		assert_int_equal(roster_at(&cf, t, &oc), 0);
		assert_int_equal(oc.has_leader, 1);
		assert_string_equal(oc.leader.person, t < h ? "li" : "wang");
		assert_int_equal(oc.nofficers, 1);
		if (strcmp(oc.officers[0].role, "day") == 0) {
			assert_true(t >= ds && t < de);
			assert_string_equal(oc.officers[0].person, "b");
			nday++;
		} else {
			assert_string_equal(oc.officers[0].role, "night");
			assert_true(t < ds || t >= de);
			assert_string_equal(oc.officers[0].person,
			    t < ds ? "a" : "b");
			nnight++;
		}
		assert_true(oc.leader.start <= t && t < oc.leader.end);
		assert_true(oc.officers[0].start <= t && t < oc.officers[0].end);
		if (prev.has_leader && strcmp(prev.leader.person,
		    oc.leader.person) != 0) {
			leader_changes++;
			assert_int_equal(t, h);
			assert_int_equal(prev.leader.end, h);
			assert_int_equal(oc.leader.start, h);
		}
		prev = oc;
	}
	assert_int_equal(leader_changes, 1);
	assert_int_equal(nday, day_minutes);
	assert_int_equal(nnight, night_minutes);
	/* The handover and the shift changes, in order. */
	assert_int_equal(roster_next_change(&cf, T(from)), h);
	assert_int_equal(roster_next_change(&cf, h), de);
}

static const char NEW_YORK[] =
    /*  1 */ "roster:\n"
    /*  2 */ "  timezone: America/New_York\n"
    /*  3 */ "  start: @START@\n"
    /*  4 */ "  leader: { handover: \"@H@\", people: [li, wang] }\n"
    /*  5 */ "  shifts:\n"
    /*  6 */ "    - { name: day, hours: \"@H@-@E@\", people: [a, b] }\n"
    /*  7 */ "    - { name: night, hours: \"@E@-@H@\", people: [a, b] }\n";

static const char *
subst(const char *text, const char *start, const char *h, const char *e)
{
	static char buf[1024];
	const char *p;
	size_t len = 0;

	for (p = text; *p != '\0'; ) {
		if (strncmp(p, "@START@", 7) == 0) {
			len += snprintf(buf + len, sizeof(buf) - len, "%s", start);
			p += 7;
		} else if (strncmp(p, "@H@", 3) == 0 || strncmp(p, "@E@", 3) == 0) {
			len += snprintf(buf + len, sizeof(buf) - len, "%s",
			    p[1] == 'H' ? h : e);
			p += 3;
		} else
			buf[len++] = *p++;
	}
	buf[len] = '\0';
	return buf;
}

static void
test_dst_spring_forward(void **state)
{
	/*
	 * 2027-03-14: 02:00 EST becomes 03:00 EDT, so 02:30 does not exist;
	 * the handover happens at the jump.  The day is 23 hours long: the
	 * day shift has 03:00-14:30 (690 minutes), night the rest.
	 */
	load_at(subst(NEW_YORK, "2027-03-13", "02:30", "14:30"),
	    T("2027-03-01T00:00:00Z"));
	assert_non_null(cf.roster);
	walk_day("2027-03-14T00:00:00-05:00", "2027-03-15T00:00:00-04:00",
	    "2027-03-14T03:00:00-04:00", "2027-03-14T03:00:00-04:00",
	    "2027-03-14T14:30:00-04:00", 690, 1380 - 690);
}

static void
test_dst_fall_back(void **state)
{
	/*
	 * 2027-11-07: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice;
	 * the first one is the handover and the second changes nothing.  The
	 * day is 25 hours long: day 01:30 EDT to 13:30 EST is 13 hours.
	 */
	load_at(subst(NEW_YORK, "2027-11-06", "01:30", "13:30"),
	    T("2027-11-01T00:00:00Z"));
	assert_non_null(cf.roster);
	walk_day("2027-11-07T00:00:00-04:00", "2027-11-08T00:00:00-05:00",
	    "2027-11-07T01:30:00-04:00", "2027-11-07T01:30:00-04:00",
	    "2027-11-07T13:30:00-05:00", 780, 1500 - 780);
	assert_string_equal(leader_at("2027-11-07T01:45:00-05:00"), "wang");
}

static void
test_dst_boundary_inside_the_jump(void **state)
{
	/*
	 * Shifts that meet at times inside the skipped hour still meet: one
	 * shift ends at the jump and the next begins there, every minute has
	 * exactly one.
	 */
	int64_t t;
	struct roster_oncall oc;

	load_at("roster:\n"
	    "  timezone: America/New_York\n"
	    "  start: 2027-03-01\n"
	    "  leader: { handover: \"02:15\", people: [li] }\n"
	    "  shifts:\n"
	    "    - { name: early, hours: \"02:15-02:45\", people: [a] }\n"
	    "    - { name: rest, hours: \"02:45-02:15\", people: [b] }\n",
	    T("2027-03-01T00:00:00Z"));
	assert_non_null(cf.roster);
	for (t = T("2027-03-14T00:00:00-05:00");
	    t < T("2027-03-15T00:00:00-04:00"); t += MIN) {
		assert_int_equal(roster_at(&cf, t, &oc), 0);
		assert_int_equal(oc.has_leader, 1);
		assert_int_equal(oc.nofficers, 1);
		assert_string_equal(oc.officers[0].person, "b");
	}
	assert_string_equal(officers_at("2027-03-15T02:30:00-04:00"),
	    "early:a");
}

static const char BASE[] =
    /*  1 */ "roster:\n"
    /*  2 */ "  timezone: Asia/Shanghai\n"
    /*  3 */ "  start: 2026-12-01\n"
    /*  4 */ "  leader:\n"
    /*  5 */ "    handover: \"08:30\"\n"
    /*  6 */ "    people: [li, wang]\n"
    /*  7 */ "  shifts:\n"
    /*  8 */ "    - { name: day, hours: \"08:30-17:30\", people: [zhang, zhao] }\n"
    /*  9 */ "    - { name: night, hours: \"17:30-08:30\", people: [[zhao, sun], liu] }\n"
    /* 10 */ "  overrides:\n"
    /* 11 */ "    - \"2026-12-02 night: liu → zhang\"\n";

#define NOW	T("2026-12-01T09:00:00+08:00")
#define EIGHT	"li, wang, zhang, zhao, sun, liu, a, b"

static void
test_gaps(void **state)
{
	char base[4096];

	/* BASE without its override, which names the night shift. */
	snprintf(base, sizeof(base), "%s",
	    edit(edit(BASE, 11, "    # none"), 10, "  overrides: []"));
	assert_non_null(load_at(base, NOW));
	assert_errors(edit(base, 9, "    - { name: night, hours: \"18:00-08:30\", "
	    "people: [liu] }"), NOW,
	    "8:5: no duty officer on duty 2026-12-01 17:30–18:00; add a shift "
	    "for that time or change the hours so that each shift starts when "
	    "another ends", NULL);
	assert_errors(edit(base, 9, "    - { name: evening, hours: "
	    "\"17:30-23:00\", people: [liu] }"), NOW,
	    "8:5: no duty officer on duty 2026-12-01 23:00–2026-12-02 08:30; "
	    "add a shift for that time or change the hours so that each shift "
	    "starts when another ends", NULL);
	/* The first gap from now: now inside one reports all of it. */
	assert_errors(edit(base, 9, "    - { name: evening, hours: "
	    "\"17:30-23:00\", people: [liu] }"),
	    T("2026-12-09T01:00:00+08:00"),
	    "8:5: no duty officer on duty 2026-12-08 23:00–2026-12-09 08:30; "
	    "add a shift for that time or change the hours so that each shift "
	    "starts when another ends", NULL);
	/* Only day shifts: the night is uncovered. */
	assert_errors(edit(base, 9, "    - { name: day2, hours: \"12:00-17:30\", "
	    "people: [liu] }"), NOW,
	    "8:5: no duty officer on duty 2026-12-01 17:30–2026-12-02 08:30; "
	    "add a shift for that time or change the hours so that each shift "
	    "starts when another ends", NULL);
	/* Overlapping shifts are allowed: both are on duty. */
	load_at(edit(base, 9, "    - { name: all, hours: \"00:00-00:00\", "
	    "people: [[zhao, sun], liu] }"), NOW);
	assert_non_null(cf.roster);
	assert_string_equal(officers_at("2026-12-01T09:00:00+08:00"),
	    "day:zhang all:zhao,sun");
	/*
	 * roster_at() answers for ROSTER_ON_DUTY_MAX officers: 3 teams of 8
	 * all day, plus 8 from 06:00 to 07:00 is 32; one more minute of s5
	 * overlapping s4 is 33.
	 */
	snprintf(base, sizeof(base), "roster:\n"
	    "  start: 2026-12-01\n"
	    "  leader: { handover: \"08:30\", people: [li] }\n"
	    "  shifts:\n"
	    "    - { name: s1, hours: \"00:00-00:00\", people: [[%s]] }\n"
	    "    - { name: s2, hours: \"00:00-00:00\", people: [[%s]] }\n"
	    "    - { name: s3, hours: \"00:00-00:00\", people: [[%s]] }\n"
	    "    - { name: s4, hours: \"06:00-07:00\", people: [[%s]] }\n"
	    "    - { name: s5, hours: \"07:00-06:00\", people: [[li]] }\n",
	    EIGHT, EIGHT, EIGHT, EIGHT);
	assert_non_null(load_at(base, NOW));
	assert_int_equal(at("2026-12-01T06:30:00+08:00").nofficers, 32);
	assert_errors(edit(base, 9, "    - { name: s5, hours: \"06:59-06:00\", "
	    "people: [[li]] }"), NOW,
	    "5:5: up to 33 duty officers would be on duty at once in "
	    "overlapping shifts; at most 32 can be", NULL);
}

static void
test_errors(void **state)
{
	assert_errors(edit(BASE, 2, "  timezone: Mars/Olympus"), NOW,
	    "2:13: unknown time zone 'Mars/Olympus' for the roster (there is "
	    "no file /usr/share/zoneinfo/Mars/Olympus); use a name such as "
	    "Asia/Shanghai", NULL);
	assert_errors(edit(BASE, 2, "  timezone: ../../etc/passwd"), NOW,
	    "2:13: time zone '../../etc/passwd' in roster must be a name such "
	    "as Asia/Shanghai", NULL);
	assert_errors(edit(BASE, 2, "  timezone: CST-8"), NOW,
	    "2:13: unknown time zone 'CST-8' for the roster (there is no file "
	    "/usr/share/zoneinfo/CST-8); use a name such as Asia/Shanghai",
	    NULL);
	setenv("TZDIR", "/nonexistent", 1);
	assert_errors(edit(BASE, 2, "  # the default zone"), NOW,
	    "3:3: unknown time zone 'Asia/Shanghai' for the roster: there is "
	    "no time zone database (/nonexistent); install the tzdata package",
	    NULL);
	unsetenv("TZDIR");
	assert_errors(edit(BASE, 3, "  start: 2026-02-30"), NOW,
	    "3:10: invalid date '2026-02-30' for 'start' in roster: write "
	    "YYYY-MM-DD, e.g. 2026-12-01", NULL);
	assert_errors(edit(BASE, 4, "  leadr:"), NOW,
	    "2:3: missing required key 'leader' in roster",
	    "4:3: unknown key 'leadr' in roster; did you mean 'leader'?", NULL);
	assert_errors(edit(BASE, 5, "    handover: \"8:30\""), NOW,
	    "5:15: invalid handover time '8:30' in roster.leader: write HH:MM in "
	    "24-hour time, in quotes, e.g. \"08:30\"", NULL);
	assert_errors(edit(BASE, 6, "    people: []"), NOW,
	    "6:13: 'people' in roster.leader is empty; name at least one "
	    "person", NULL);
	assert_errors(edit(BASE, 6, "    people: [li, wnag]"), NOW,
	    "6:18: unknown person 'wnag' in roster.leader; people are: li, wang, "
	    "zhang, zhao, sun, liu, a, b", NULL);
	assert_errors(edit(BASE, 6, "    people: [li, [wang, zhao]]"), NOW,
	    "6:18: a list here in roster.leader, but the leader on duty is one "
	    "person; write one person id", NULL);
	assert_errors(edit(BASE, 6, "    people: [li]\n    rotation: monthly"),
	    NOW, "7:15: unknown rotation 'monthly' in roster.leader; use daily "
	    "or weekly", NULL);
	assert_errors(edit(BASE, 8, "    - { name: day, hours: \"8:30-17:30\", "
	    "people: [zhang] }"), NOW,
	    "8:27: invalid hours '8:30-17:30' in shift 'day': write "
	    "\"HH:MM-HH:MM\" in 24-hour time, e.g. \"08:30-17:30\"; a shift that "
	    "ends at or before its start runs past midnight", NULL);
	assert_errors(edit(BASE, 8, "    - { name: day, hours: \"08:30-17:30\", "
	    "people: [zhang, [], zhao] }"), NOW,
	    "8:58: an empty team in shift 'day'; name at least one person",
	    NULL);
	assert_errors(edit(BASE, 8, "    - { name: night, hours: \"08:30-17:30\", "
	    "people: [zhang] }"), NOW,
	    "9:15: duplicate shift name 'night'; give every shift its own name",
	    NULL);
	assert_errors(edit(BASE, 8, "    - { name: day, hours: \"08:30-17:30\", "
	    "people: [[zhang, zhang], zhao] }"), NOW,
	    "8:59: person 'zhang' is twice in one team in shift 'day'", NULL);
	assert_errors(edit(BASE, 8, "    - { name: day, hours: \"08:30-17:30\" }"),
	    NOW, "8:7: missing required key 'people' in shift", NULL);
}

static void
test_override_errors(void **state)
{
	assert_errors(edit(BASE, 11, "    - \"2026-12-02 nite: liu → zhang\""),
	    NOW, "11:7: unknown shift 'nite' in override; use 'leader' or a "
	    "shift: leader, day, night", NULL);
	/* The brief's own example: night 2026-12-03 is zhao and sun. */
	assert_errors(edit(BASE, 11, "    - \"2026-12-03 night: zhang → zhao\""),
	    NOW, "11:7: zhang is not on the night shift of 2026-12-03; the "
	    "night shift that day is zhao, sun", NULL);
	assert_errors(edit(BASE, 11, "    - { date: 2026-12-02, shift: leader, "
	    "from: li, to: zhao }"), NOW,
	    "11:7: li is not the leader on duty of 2026-12-02; the leader on "
	    "duty that day is wang", NULL);
	assert_errors(edit(BASE, 11, "    - \"2026-12-01 night: zhao → sun\""),
	    NOW, "11:7: sun is already on the night shift of 2026-12-01; swap "
	    "in someone else", NULL);
	assert_errors(edit(BASE, 11, "    - \"2026-12-01 night: zhao → zhao\""),
	    NOW, "11:7: this swap names 'zhao' twice; write who hands over, "
	    "then who takes over", NULL);
	assert_errors(edit(BASE, 11, "    - \"2026-12-01 night: zhao → nobody\""),
	    NOW, "11:7: unknown person 'nobody' in override; people are: li, "
	    "wang, zhang, zhao, sun, liu, a, b", NULL);
	assert_errors(edit(BASE, 11, "    - \"2026-13-01 night: zhao → liu\""),
	    NOW, "11:7: invalid date '2026-13-01' in override: write "
	    "YYYY-MM-DD, e.g. 2026-12-03", NULL);
	assert_errors(edit(BASE, 11, "    - \"2026-12-01 night zhao\""), NOW,
	    "11:7: cannot read the override '2026-12-01 night zhao': write "
	    "\"2026-12-03 night: zhang → zhao\" to swap one person on one shift, "
	    "or \"2026-12-04 leader: wang\" to give that day's shift to someone "
	    "else", NULL);
	assert_errors(edit(BASE, 11, "    - { start: \"2026-12-05T12:00:00+08:00\", "
	    "end: \"2026-12-05T09:00:00+08:00\", shift: leader, person: zhao }"),
	    NOW, "11:50: 'end' in override must be after 'start'", NULL);
	assert_errors(edit(BASE, 11, "    - { start: \"2026-12-05 12:00\", "
	    "end: \"2026-12-05T13:00:00+08:00\", shift: leader, person: zhao }"),
	    NOW, "11:16: invalid time '2026-12-05 12:00' for 'start' in "
	    "override: write date, time and offset, e.g. "
	    "\"2026-12-05T09:00:00+08:00\"", NULL);
	assert_errors(edit(BASE, 11, "    - { date: 2026-12-05, start: "
	    "\"2026-12-05T12:00:00+08:00\", shift: leader, person: zhao }"),
	    NOW, "11:7: give either 'date' (one whole shift) or both 'start' "
	    "and 'end' (exact times) in override", NULL);
	assert_errors(edit(BASE, 11, "    - { date: 2026-12-05, shift: day, "
	    "person: zhao, to: li }"), NOW,
	    "11:7: give either 'person' (who takes over) or both 'from' and "
	    "'to' (a swap) in override", NULL);
	assert_errors(edit(BASE, 11, "    - { start: \"2026-12-05T03:00:00+08:00\", "
	    "end: \"2026-12-05T04:00:00+08:00\", shift: day, person: zhao }"),
	    NOW, "11:7: the day shift is not on duty during 2026-12-05 "
	    "03:00–04:00, so this override changes nothing; check the times",
	    NULL);
	assert_errors(edit(BASE, 11, "    - { start: \"2026-12-05T03:00:00+08:00\", "
	    "end: \"2026-12-05T04:00:00+08:00\", shift: day, from: zhang, "
	    "to: li }"), NOW,
	    "11:7: the day shift is not on duty at 2026-12-05 03:00, when this "
	    "swap starts; start it within the shift's hours", NULL);
	assert_errors(edit(BASE, 11, "    - { start: \"2026-12-05T10:00:00+08:00\", "
	    "end: \"2026-12-05T11:00:00+08:00\", shift: day, from: zhao, "
	    "to: li }"), NOW,
	    "11:7: zhao is not on the day shift at 2026-12-05 10:00; the day "
	    "shift then is zhang", NULL);
	assert_errors(edit(BASE, 11, "    - { date: 2026-12-05, shift: leader, "
	    "person: [li, wang] }"), NOW,
	    "11:50: a list here in override, but the leader on duty is one "
	    "person; write one person id", NULL);
}

/* Shifts are named as the duty room says them: 夜班 is a name like night. */
static void
test_chinese_shift_names(void **state)
{
	const char *t = edit(edit(edit(BASE, 8, "    - { name: 白班, hours: "
	    "\"08:30-17:30\", people: [zhang, zhao] }"), 9, "    - { name: 夜班, "
	    "hours: \"17:30-08:30\", people: [[zhao, sun], liu] }"), 11,
	    "    - \"2026-12-02 夜班：liu → zhang\"");

	assert_non_null(load_at(t, NOW));
	assert_int_equal(diag.n, 0);
	assert_string_equal(officers_at("2026-12-01T10:00:00+08:00"),
	    "白班:zhang");
	assert_string_equal(officers_at("2026-12-01T20:00:00+08:00"),
	    "夜班:zhao,sun");
	/* The override, written with a full-width colon, took. */
	assert_string_equal(officers_at("2026-12-02T20:00:00+08:00"),
	    "夜班:zhang");
	/* Spaces and punctuation would split an override: not in a name. */
	assert_errors(edit(BASE, 8, "    - { name: \"白 班\", hours: "
	    "\"08:30-17:30\", people: [zhang, zhao] }"), NOW,
	    "8:15: invalid shift name '白 班': use 1 to 64 letters (Chinese too, "
	    "such as 夜班), digits and _ . -, without spaces or punctuation (and "
	    "not 'leader', which overrides use for the leader on duty)", NULL);
	assert_errors(edit(BASE, 8, "    - { name: \"白班：\", hours: "
	    "\"08:30-17:30\", people: [zhang, zhao] }"), NOW,
	    "8:15: invalid shift name '白班：': use 1 to 64 letters (Chinese too, "
	    "such as 夜班), digits and _ . -, without spaces or punctuation (and "
	    "not 'leader', which overrides use for the leader on duty)", NULL);
}

static void
test_include(void **state)
{
	char want[600];

	/* The same mapping in a file of its own, relative to the config. */
	write_file("rota.yaml", BASE + strlen("roster:\n"));
	assert_non_null(load("roster: rota.yaml\n"));
	assert_string_equal(leader_at("2026-12-02T09:00:00+08:00"), "wang");
	/* Errors there name that file and its lines. */
	write_file("rota.yaml", edit(BASE, 11,
	    "    - \"2026-12-02 nite: liu → zhang\"") + strlen("roster:\n"));
	assert_null(load("roster: rota.yaml\n"));
	assert_int_equal(diag.n, 1);
	snprintf(want, sizeof(want), "%s/rota.yaml:10:7: unknown shift 'nite' "
	    "in override; use 'leader' or a shift: leader, day, night", dir);
	assert_string_equal(diag.lines[0], want);
	/* Whys name the file too. */
	write_file("rota.yaml", BASE + strlen("roster:\n"));
	load("roster: rota.yaml\n");
	assert_string_equal(at("2026-12-03T02:00:00+08:00").officers[0].why,
	    "override 2026-12-02 night: liu → zhang (rota.yaml line 10)");
}

static void
test_include_missing(void **state)
{
	char want[600];

	assert_null(load("roster: missing.yaml\n"));
	assert_int_equal(diag.n, 1);
	snprintf(want, sizeof(want), "%s:1:9: cannot read %s/missing.yaml, the "
	    "file named by 'roster': No such file or directory; a relative "
	    "path is taken from the directory of %s", path, dir, path);
	assert_string_equal(diag.lines[0], want);
}

static void
test_next_change(void **state)
{
	load(EXAMPLE);
	/* 08:30 the leader and the day shift; 17:30 day to night. */
	assert_int_equal(roster_next_change(&cf, T("2026-12-01T00:00:00+08:00")),
	    T("2026-12-01T08:30:00+08:00"));
	assert_int_equal(roster_next_change(&cf, T("2026-12-01T08:30:00+08:00")),
	    T("2026-12-01T17:30:00+08:00"));
	/* Exact-time overrides count. */
	assert_int_equal(roster_next_change(&cf, T("2026-12-05T08:30:00+08:00")),
	    T("2026-12-05T09:00:00+08:00"));
	assert_int_equal(roster_next_change(&cf, T("2026-12-05T09:00:00+08:00")),
	    T("2026-12-05T12:00:00+08:00"));
	/* One leader and one 24-hour officer: nothing ever changes... */
	load("roster:\n"
	    "  start: 2026-12-01\n"
	    "  leader: { handover: \"08:30\", people: [li, li] }\n"
	    "  shifts: [ { name: all, hours: \"08:30-08:30\", people: [zhang] } ]\n");
	assert_int_equal(roster_next_change(&cf, T("2026-12-01T00:00:00+08:00")),
	    -1);
	/* ...except an override, long after. */
	load("roster:\n"
	    "  start: 2026-12-01\n"
	    "  leader: { handover: \"08:30\", people: [li, li] }\n"
	    "  shifts: [ { name: all, hours: \"08:30-08:30\", people: [zhang] } ]\n"
	    "  overrides: [ \"2030-06-01 all: zhang -> zhao\" ]\n");
	assert_int_equal(roster_next_change(&cf, T("2026-12-01T00:00:00+08:00")),
	    T("2030-06-01T08:30:00+08:00"));
	assert_int_equal(roster_next_change(&cf, T("2030-06-01T08:30:00+08:00")),
	    T("2030-06-02T08:30:00+08:00"));
	assert_int_equal(roster_next_change(&cf, T("2030-06-02T08:30:00+08:00")),
	    -1);
	/* A handover that does not change the people is no change. */
	load("roster:\n"
	    "  start: 2026-12-01\n"
	    "  leader: { handover: \"08:30\", people: [li, li, wang] }\n"
	    "  shifts: [ { name: all, hours: \"08:30-08:30\", people: [zhang] } ]\n");
	assert_int_equal(roster_next_change(&cf, T("2026-12-01T09:00:00+08:00")),
	    T("2026-12-03T08:30:00+08:00"));
	roster_free(cf.roster);
	cf.roster = NULL;
	assert_int_equal(roster_next_change(&cf, T("2026-12-01T09:00:00+08:00")),
	    -1);
}

static void
test_static_block(void **state)
{
	struct roster_oncall oc;
	struct tz *tz;
	char buf[64];

	roster_free(cf.roster);
	cf.roster = NULL;
	assert_int_equal(roster_at(&cf, T("2026-12-01T09:00:00+08:00"), &oc), 0);
	assert_int_equal(oc.has_leader, 1);
	assert_string_equal(oc.leader.person, "li");
	assert_string_equal(oc.leader.why, "duty block");
	assert_int_equal(oc.nofficers, 2);
	assert_string_equal(oc.officers[1].person, "zhao");
	assert_string_equal(oc.officers[1].role, "duty");
	assert_int_equal(oc.officers[1].start, 0);
	assert_int_equal(oc.officers[1].end, INT64_MAX);
	assert_string_equal(roster_zone(&cf), "localtime");
	/* The config's zone, else the one times are shown in; never TZ. */
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	assert_int_equal(tz_load("Asia/Tokyo", &tz), 0);
	time_set_zone(tz);
	assert_string_equal(roster_format(&cf, T("2026-12-01T00:00:00Z"), buf,
	    sizeof(buf)), "2026-12-01 09:00");
	time_set_zone(NULL);
	cf.tz = tz;
	assert_string_equal(roster_format(&cf, T("2026-12-01T00:00:00Z"), buf,
	    sizeof(buf)), "2026-12-01 09:00");
	cf.tz = NULL;
	tz_unref(tz);
	unsetenv("TZ");
	tzset();
}

static void
test_timezone_restored(void **state)
{
	char buf[64];

	load(EXAMPLE);
	unsetenv("TZ");
	tzset();
	assert_string_equal(leader_at("2026-12-01T09:00:00+08:00"), "li");
	assert_null(getenv("TZ"));
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	assert_string_equal(roster_format(&cf, T("2026-12-01T00:30:00Z"), buf,
	    sizeof(buf)), "2026-12-01 08:30");
	assert_string_equal(getenv("TZ"), "Europe/Paris");
	assert_string_equal(roster_zone(&cf), "Asia/Shanghai");
	/* Default zone: the config's, else Asia/Shanghai. */
	cf.timezone = "America/New_York";
	load(edit(BASE, 2, "  # no zone"));
	cf.timezone = NULL;
	assert_string_equal(roster_zone(&cf), "America/New_York");
	load(edit(BASE, 2, "  # no zone"));
	assert_string_equal(roster_zone(&cf), "Asia/Shanghai");
	assert_string_equal(getenv("TZ"), "Europe/Paris");
	unsetenv("TZ");
	tzset();
}

extern char **environ;

/*
 * Every write to the environment, and tzset(), counted on the way to
 * libc's own: glibc hands back the same string when TZ is set to a value it
 * had before, so comparing before and after alone cannot see a change made
 * and undone during a call, the window in which another thread can read it.
 */
static int env_writes;

/* libc's NAME, after counting one more write. */
static void *
env_real(const char *name)
{
	env_writes++;
	return dlsym(RTLD_NEXT, name);
}

typedef int	(*setenv_fn)(const char *, const char *, int);
typedef int	(*unsetenv_fn)(const char *);
typedef int	(*putenv_fn)(char *);
typedef void	(*tzset_fn)(void);

int
setenv(const char *name, const char *value, int overwrite)
{
	return ((setenv_fn)env_real("setenv"))(name, value, overwrite);
}

int
unsetenv(const char *name)
{
	return ((unsetenv_fn)env_real("unsetenv"))(name);
}

int
putenv(char *string)
{
	return ((putenv_fn)env_real("putenv"))(string);
}

void
tzset(void)
{
	((tzset_fn)env_real("tzset"))();
}

/* The environment as other threads see it: the array, TZ's string and text. */
struct envsnap {
	char		**environ;
	const char	 *tz;
	char		  text[64];
	int		  writes;
};

static void
env_snap(struct envsnap *sn)
{
	sn->environ = environ;
	sn->tz = getenv("TZ");
	snprintf(sn->text, sizeof(sn->text), "%s", sn->tz ? sn->tz : "");
	sn->writes = env_writes;
}

static void
env_same(const struct envsnap *sn)
{
	assert_int_equal(env_writes, sn->writes);
	assert_ptr_equal(environ, sn->environ);
	assert_ptr_equal(getenv("TZ"), sn->tz);
	if (sn->tz != NULL)
		assert_string_equal(getenv("TZ"), sn->text);
}

/*
 * Other threads read the environment (getaddrinfo() in libcurl's resolver,
 * SMTP transfers): loading a roster and asking it must not write to it,
 * whether TZ is set (to a zone unlike the roster's) or not.
 */
static void
test_environment_untouched(void **state)
{
	struct roster_oncall oc;
	struct envsnap sn;
	char buf[64], *text = NULL;
	size_t len = 0;
	FILE *fp;
	int i;

	for (i = 0; i < 2; i++) {
		if (i == 0)
			setenv("TZ", "Europe/Paris", 1);
		else
			unsetenv("TZ");
		env_snap(&sn);
		load_at(subst(NEW_YORK, "2027-03-13", "02:30", "14:30"),
		    T("2027-03-01T00:00:00Z"));
		assert_non_null(cf.roster);
		env_same(&sn);
		assert_int_equal(roster_at(&cf, T("2027-03-14T12:00:00Z"), &oc),
		    0);
		assert_string_equal(oc.leader.person, "wang");
		assert_true(roster_next_change(&cf, T("2027-03-14T12:00:00Z")) >
		    0);
		assert_string_equal(roster_format(&cf, T("2027-03-14T12:00:00Z"),
		    buf, sizeof(buf)), "2027-03-14 08:00");
		assert_non_null(fp = open_memstream(&text, &len));
		assert_int_equal(roster_print(fp, &cf,
		    T("2027-03-14T12:00:00Z"), 1), 0);
		assert_int_equal(fclose(fp), 0);
		free(text);
		text = NULL;
		env_same(&sn);
	}
}

static void
test_print(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp;

	load(EXAMPLE);
	assert_non_null(fp = open_memstream(&text, &len));
	assert_int_equal(roster_print(fp, &cf, T("2026-12-05T00:00:00+08:00"),
	    1), 0);
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(text,
	    "On duty from 2026-12-05 00:00 to 2026-12-06 00:00 (Asia/Shanghai):\n"
	    "2026-12-04 08:30–2026-12-05 08:30  leader   赵六 (zhao)  "
	    "[override 2026-12-04 leader: zhao (line 13)]\n"
	    "2026-12-04 17:30–2026-12-05 08:30  night    刘洋 (liu)\n"
	    "2026-12-05 08:30–09:00             leader   李强 (li)\n"
	    "2026-12-05 08:30–17:30             day      张伟 (zhang)\n"
	    "2026-12-05 09:00–12:00             leader   赵六 (zhao)  "
	    "[override 2026-12-05 09:00–12:00 leader: zhao (line 15)]\n"
	    "2026-12-05 12:00–2026-12-06 08:30  leader   李强 (li)\n"
	    "2026-12-05 17:30–2026-12-06 08:30  night    赵六 (zhao), 孙七 (sun)\n");
	free(text);
	assert_int_equal(roster_print(stdout, &cf, 0, 0), -ERANGE);
}

static int
setup(void **state)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/dutyd.yaml", dir);
	unsetenv("TZ");
	tzset();
	return 0;
}

static int
teardown(void **state)
{
	char p[sizeof(path)];

	roster_free(cf.roster);
	cf.roster = NULL;
	config_diag_free(&diag);
	snprintf(p, sizeof(p), "%s/rota.yaml", dir);
	unlink(p);
	unlink(path);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotation_and_midnight),
		cmocka_unit_test(test_handover_minute),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_later_override_wins),
		cmocka_unit_test(test_month_and_year_end),
		cmocka_unit_test(test_dst_spring_forward),
		cmocka_unit_test(test_dst_fall_back),
		cmocka_unit_test(test_dst_boundary_inside_the_jump),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_override_errors),
		cmocka_unit_test(test_chinese_shift_names),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_missing),
		cmocka_unit_test(test_next_change),
		cmocka_unit_test(test_static_block),
		cmocka_unit_test(test_timezone_restored),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_accept_within_and_duty_days),
		cmocka_unit_test(test_environment_untouched),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
