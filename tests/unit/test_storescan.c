/*
 * History scans (store_scan()): the statistics and the duty log read the
 * whole audit log, across segments and checkpoints, on a worker thread,
 * and see it as it was when they began.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "base/timeutil.h"
#include "fakeclock.h"
#include "memstore.h"
#include "store/filelog.h"
#include "store/filescan.h"
#include "store/store.h"

#define T0	INT64_C(1796169600000)	/* 2026-12-02 08:00 +08:00 */
#define HOUR	INT64_C(3600000)

static int64_t	 now_ms;

static int64_t
fake_now(void)
{
	return now_ms;
}

static int
apply(const struct record *r)
{
	return 0;
}

/* What a scan saw: seq and event of each record, then how it ended. */
struct seen {
	int64_t		 seq[256];
	char		 event[256][40];
	int64_t		 ts[256];
	int		 n;
	int		 done;
	int		 status;
	char		 err[256];
	int		 stop_after;	/* record_fn fails after this many (0: never) */
	int		 nice;		/* of the thread that saw the first record */
};

static int
on_record(const struct record *r, void *arg)
{
	struct seen *s = arg;

	if (s->stop_after > 0 && s->n >= s->stop_after)
		return -EINTR;
	if (s->n == 0)
		s->nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (s->n < 256) {
		s->seq[s->n] = r->seq;
		s->ts[s->n] = r->ts_ms;
		snprintf(s->event[s->n], sizeof(s->event[0]), "%s", r->event);
		/* The data is there, parsed. */
		assert_true(json_is_object(r->data));
	}
	s->n++;
	return 0;
}

static void
on_done(void *arg, int status, const char *err)
{
	struct seen *s = arg;

	s->done++;
	s->status = status;
	snprintf(s->err, sizeof(s->err), "%s", err != NULL ? err : "");
}

static char *
mkstate(void)
{
	char tmpl[] = "/tmp/dutyd-scan-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static void
rmstate(char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	char		 p[1024];

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void
add(const char *event, int64_t at)
{
	now_ms = at;
	assert_int_equal(store_append(event, "INC-20261202-0001", "dutyd",
	    json_pack("{s:s}", "what", event), NULL), 0);
}

/* A checkpoint as actions/checkpoint.c writes one: a new segment begins with it. */
static void
checkpoint(int64_t at)
{
	now_ms = at;
	assert_int_equal(store_rotate(), 0);
	assert_int_equal(store_append("checkpoint.begin", NULL, "dutyd", NULL,
	    NULL), 0);
	assert_int_equal(store_append("checkpoint.incident", NULL, "dutyd",
	    json_pack("{s:s}", "report.received", "a look-alike"), NULL), 0);
	assert_int_equal(store_append("checkpoint.end", NULL, "dutyd", NULL,
	    NULL), 0);
	store_checkpoint_done();
	store_commit();
}

static void
run_until_done(struct event_base *base, struct seen *s)
{
	int turns;

	for (turns = 0; !s->done && turns < 10000; turns++)
		assert_int_not_equal(event_base_loop(base, EVLOOP_ONCE), -1);
	assert_int_equal(s->done, 1);
}

/*
 * Three segments, the last two opening with a checkpoint: seq 1-4 on day
 * 0, seq 5-7 + 8-10 on day 1 (hours 0..5), checkpoint, 14-16 on day 2.
 */
static struct event_base *
three_segments(const char *dir)
{
	struct event_base	*base = event_base_new();
	char			 err[256];

	assert_non_null(base);
	time_use_source(fake_now);
	store_scan_loop(base);
	now_ms = T0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	add("report.received", T0);
	add("notify.intent", T0 + 1000);
	add("incident.acknowledged", T0 + 2000);
	add("notify.attempt", T0 + 3000);
	checkpoint(T0 + 24 * HOUR);			/* 5, 6, 7 */
	add("report.received", T0 + 24 * HOUR + 1);	/* 8 */
	add("directive.created", T0 + 24 * HOUR + 2 * HOUR);	/* 9 */
	add("incident.escalated", T0 + 24 * HOUR + 5 * HOUR);	/* 10 */
	checkpoint(T0 + 48 * HOUR);			/* 11, 12, 13 */
	add("report.received", T0 + 48 * HOUR);		/* 14 */
	add("directive.completed", T0 + 48 * HOUR + 1);	/* 15 */
	add("notify.intent", T0 + 48 * HOUR + 2);	/* 16 */
	store_commit();
	return base;
}

static void
finish(struct event_base *base, char *dir)
{
	store_close();
	store_scan_loop(NULL);
	event_base_free(base);
	time_use_source(NULL);
	rmstate(dir);
}

static void
test_every_record_in_order_checkpoints_skipped(void **state)
{
	char			*dir = mkstate();
	struct event_base	*base = three_segments(dir);
	struct seen		 s;
	int			 i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(0, INT64_MAX, NULL, on_record, on_done, &s), 0);
	/* Never answered before the loop turns. */
	assert_int_equal(s.done, 0);
	run_until_done(base, &s);
	assert_int_equal(s.status, 0);
	assert_int_equal(s.n, 10);
	for (i = 1; i < s.n; i++)
		assert_true(s.seq[i] > s.seq[i - 1]);
	for (i = 0; i < s.n; i++)
		assert_null(strstr(s.event[i], "checkpoint."));
	assert_int_equal(s.seq[0], 1);
	assert_int_equal(s.seq[4], 8);
	assert_int_equal(s.seq[9], 16);
	/* Read below the loop's priority, so a year's figures never delay a clock. */
	assert_true(s.nice >= 10);
	finish(base, dir);
}

static void
test_period_and_kinds(void **state)
{
	static const char *const kinds[] = { "directive.", "report.received",
	    NULL };
	static const char *const none[] = { NULL };
	char			*dir = mkstate();
	struct event_base	*base = three_segments(dir);
	struct seen		 s;

	/* Day 1 from 01:00, up to (not including) 05:00. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(T0 + 25 * HOUR, T0 + 29 * HOUR, NULL,
	    on_record, on_done, &s), 0);
	run_until_done(base, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.seq[0], 9);

	/* Kind prefixes, over everything: 1, 8, 9, 14, 15. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(0, INT64_MAX, kinds, on_record, on_done, &s), 0);
	run_until_done(base, &s);
	assert_int_equal(s.status, 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.seq[0], 1);
	assert_string_equal(s.event[2], "directive.created");
	assert_int_equal(s.seq[4], 15);

	/* From exactly the start of day 2: the first segments are not needed. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(T0 + 48 * HOUR, INT64_MAX, kinds, on_record,
	    on_done, &s), 0);
	run_until_done(base, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], 14);

	/* Day 0 only: the later segments begin after it. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(T0, T0 + 24 * HOUR, NULL, on_record,
	    on_done, &s), 0);
	run_until_done(base, &s);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.seq[3], 4);

	/* An empty list asks for nothing. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(0, INT64_MAX, none, on_record, on_done, &s), 0);
	run_until_done(base, &s);
	assert_int_equal(s.n, 0);
	finish(base, dir);
}

/* Records written after the scan began, and a torn tail, are not seen. */
static void
test_sees_the_log_as_it_was(void **state)
{
	char			*dir = mkstate(), path[512];
	struct event_base	*base = three_segments(dir);
	struct seen		 s;
	FILE			*f;

	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(0, INT64_MAX, NULL, on_record, on_done, &s), 0);
	add("incident.resolved", T0 + 49 * HOUR);
	store_commit();
	/* A record being written: half a line. */
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_non_null(f = fopen(path, "ab"));
	fputs("{\"seq\":18,\"ts\":\"2026-12-04T09:00:00.000+08:00\",\"event\":\"report.rec", f);
	fclose(f);
	run_until_done(base, &s);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.seq[9], 16);
	finish(base, dir);
}

/* The active segment read by the file backend alone, up to a given size. */
static int
count_line(const char *line, size_t len, void *arg)
{
	assert_true(len > 0 && line[len - 1] == '}');
	(*(int *)arg)++;
	return 0;
}

static void
test_torn_tail_left_out(void **state)
{
	char	*dir = mkstate(), path[512], err[256];
	void	*h;
	FILE	*f;
	int	 n = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_non_null(f = fopen(path, "wb"));
	fputs("{\"seq\":1,\"ts\":\"2026-12-02T08:00:00.000+08:00\",\"event\":\"a\",\"actor\":\"dutyd\",\"data\":{},\"prev\":\"0\"}\n", f);
	fputs("{\"seq\":2,\"ts\":\"2026-12-02T08:00:00.000+08:00\",\"event\":\"b\",\"actor\":\"dutyd\",\"data\":{},\"prev\":\"0\"}\n", f);
	fputs("{\"seq\":3,\"ts\":\"2026-12-02T08:00:00.000+08:00\",\"ev", f);
	fclose(f);
	assert_int_equal(stat(path, &st), 0);
	assert_non_null(h = filescan_open(dir, st.st_size, 0, INT64_MAX, err,
	    sizeof(err)));
	assert_int_equal(filescan_read(h, count_line, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	filescan_close(h);
	rmstate(dir);
}

/* A record_fn's error ends the scan with it; at most STORE_SCANS_MAX at once. */
static void
test_errors_and_cap(void **state)
{
	char			*dir = mkstate();
	struct event_base	*base = three_segments(dir);
	struct seen		 s[STORE_SCANS_MAX + 1];
	int			 i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < STORE_SCANS_MAX; i++) {
		s[i].stop_after = 3;
		assert_int_equal(store_scan(0, INT64_MAX, NULL, on_record, on_done,
		    &s[i]), 0);
	}
	assert_int_equal(store_scans_running(), STORE_SCANS_MAX);
	assert_int_equal(store_scan(0, INT64_MAX, NULL, on_record, on_done,
	    &s[i]), -EBUSY);
	for (i = 0; i < STORE_SCANS_MAX; i++) {
		run_until_done(base, &s[i]);
		assert_int_equal(s[i].status, -EINTR);
		assert_int_equal(s[i].n, 3);
		assert_true(s[i].err[0] != '\0');
	}
	assert_int_equal(store_scans_running(), 0);
	assert_int_equal(s[STORE_SCANS_MAX].done, 0);

	/* Stopping dutyd ends a scan: its done() still runs, once. */
	memset(s, 0, sizeof(s));
	assert_int_equal(store_scan(0, INT64_MAX, NULL, on_record, on_done,
	    &s[0]), 0);
	store_close();
	assert_int_equal(s[0].done, 1);
	assert_true(s[0].status == 0 || s[0].status == -ECANCELED);
	assert_int_equal(store_scans_running(), 0);
	store_scan_loop(NULL);
	event_base_free(base);
	time_use_source(NULL);
	rmstate(dir);
}

/* Bare kinds come without their data; "KIND?TEXT" only when TEXT is absent. */
struct bare_seen {
	int	 n;
	int	 done;
	int	 with_data[8];
	char	 event[8][40];
	char	 incident[8][40];
};

static int
on_bare(const struct record *r, void *arg)
{
	struct bare_seen *b = arg;

	if (b->n < 8) {
		b->with_data[b->n] = json_object_size(r->data) > 0;
		snprintf(b->event[b->n], sizeof(b->event[0]), "%s", r->event);
		snprintf(b->incident[b->n], sizeof(b->incident[0]), "%s",
		    r->incident != NULL ? r->incident : "-");
	}
	b->n++;
	return 0;
}

static void
on_bare_done(void *arg, int status, const char *err)
{
	struct bare_seen *b = arg;

	assert_int_equal(status, 0);
	b->done++;
}

static void
test_bare_kinds(void **state)
{
	static const char *const kinds[] = { "report.", "incident.", NULL };
	static const char *const bare[] = { "report.submitted",
	    "incident.updated?\"via\":", NULL };
	char			*dir = mkstate(), err[256];
	struct event_base	*base = event_base_new();
	struct bare_seen	 b;
	int			 turns;

	time_use_source(fake_now);
	store_scan_loop(base);
	now_ms = T0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(store_append("report.received", "INC-1", "office:a",
	    json_pack("{s:s}", "office", "a"), NULL), 0);
	assert_int_equal(store_append("report.submitted", "INC-1", "person:li",
	    json_pack("{s:s}", "body", "书面报告"), NULL), 0);
	assert_int_equal(store_append("incident.updated", "INC-1", "office:a",
	    json_pack("{s:s}", "details", "续报"), NULL), 0);
	assert_int_equal(store_append("incident.updated", "INC-1", "office:b",
	    json_pack("{s:s}", "via", "INC-2"), NULL), 0);
	store_commit();
	memset(&b, 0, sizeof(b));
	assert_int_equal(store_scan_bare(0, INT64_MAX, kinds, bare, on_bare,
	    on_bare_done, &b), 0);
	for (turns = 0; !b.done && turns < 10000; turns++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.with_data[0], 1);
	/* The envelope is all there: kind, incident. */
	assert_string_equal(b.event[1], "report.submitted");
	assert_string_equal(b.incident[1], "INC-1");
	assert_int_equal(b.with_data[1], 0);
	assert_int_equal(b.with_data[2], 0);
	assert_int_equal(b.with_data[3], 1);
	finish(base, dir);
}

/* The memory store (the unit tests' backend): done() on the next turn. */
static void
test_memstore_done_next_turn(void **state)
{
	static const char *const kinds[] = { "report.", NULL };
	struct seen	 s;
	char		 err[256];

	memstore_reset();
	fakeclock_start(T0);
	assert_int_equal(store_open(memstore(), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(store_append("report.received", "INC-1", "dutyd", NULL,
	    NULL), 0);
	assert_int_equal(store_append("notify.intent", "INC-1", "dutyd", NULL,
	    NULL), 0);
	assert_int_equal(store_append("report.submitted", "INC-1", "dutyd", NULL,
	    NULL), 0);
	store_commit();
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_scan(0, INT64_MAX, kinds, on_record, on_done, &s), 0);
	assert_int_equal(s.done, 0);
	fakeclock_turn();
	assert_int_equal(s.done, 1);
	assert_int_equal(s.status, 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.event[1], "report.submitted");
	store_close();
	fakeclock_stop();
	memstore_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_record_in_order_checkpoints_skipped),
		cmocka_unit_test(test_period_and_kinds),
		cmocka_unit_test(test_sees_the_log_as_it_was),
		cmocka_unit_test(test_torn_tail_left_out),
		cmocka_unit_test(test_errors_and_cap),
		cmocka_unit_test(test_bare_kinds),
		cmocka_unit_test(test_memstore_done_next_turn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
