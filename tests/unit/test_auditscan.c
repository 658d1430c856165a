/*
 * The chain across segments: rotation, checkpoints as replay starting
 * points, damage found in closed segments, and breaks an operator accepted.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "store/filelog.h"
#include "store/record.h"
#include "store/store.h"
#include "store/auditscan.h"

static int	napplied;
static char	first_applied[32];

static int
apply(const struct record *r)
{
	if (napplied++ == 0)
		snprintf(first_applied, sizeof(first_applied), "%s", r->event);
	return 0;
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
	struct dirent	*de;
	char		 p[4096];

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static void
append(const char *event)
{
	assert_int_equal(store_append(event, NULL, "dutyd",
	    json_pack("{s:s}", "pad", "0123456789012345678901234567890123456789"),
	    NULL), 0);
}

/* Three segments: 1-4, 5-9 (starting with a checkpoint), then audit.log. */
static void
make_segments(const char *dir)
{
	char err[256];
	int i;

	store_configure(4096, 0);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	for (i = 0; i < 4; i++)
		append("dutyd.started");
	store_commit();
	assert_int_equal(store_rotate(), 0);
	append("checkpoint.begin");
	append("checkpoint.incident");
	append("checkpoint.end");
	store_checkpoint_done();
	append("dutyd.started");
	append("dutyd.started");
	store_commit();
	assert_int_equal(store_rotate(), 0);
	append("checkpoint.begin");	/* a checkpoint that never finished */
	append("dutyd.stopped");
	store_close();
}

static void
test_segments_chain_and_replay_start(void **state)
{
	char		*dir = mkstate(), err[256];
	struct auditscan scan;

	make_segments(dir);
	assert_int_equal(auditscan_dir(dir, &scan, err, sizeof(err)), 0);
	assert_int_equal(scan.nsegs, 3);
	assert_string_equal(scan.segs[0].name, "audit-000000000001-000000000004.log");
	assert_string_equal(scan.segs[1].name, "audit-000000000005-000000000009.log");
	assert_string_equal(scan.segs[2].name, "audit.log");
	assert_int_equal(scan.records, 11);
	assert_int_equal(scan.nbreaks, 0);
	assert_false(scan.segs[0].checkpoint);
	assert_true(scan.segs[1].checkpoint);
	assert_false(scan.segs[2].checkpoint);	/* begin without end */
	assert_int_equal(auditscan_replay_start(&scan), 1);
	assert_int_equal(scan.last_good_seq, 11);
	auditscan_free(&scan);

	/* Start-up replays from the last complete checkpoint only. */
	napplied = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(napplied, 7);
	assert_string_equal(first_applied, "checkpoint.begin");
	assert_int_equal(store_last_seq(), 11);
	/* It owes a checkpoint: the active segment has no complete one. */
	assert_true(store_checkpoint_due());
	store_close();
	rmstate(dir);
}

/*
 * A log of one segment replays from its start also when the log opened
 * before it in the process started from a later segment (filelog.c's
 * replay start is set before the scan on a thread has ended).
 */
static void
test_one_segment_after_several(void **state)
{
	char	*many = mkstate(), *one = mkstate(), err[256];

	assert_int_equal(store_open(filelog_at(one), apply, 0, err, sizeof(err)), 0);
	append("dutyd.started");
	append("dutyd.stopped");
	append("dutyd.started");
	store_close();
	make_segments(many);
	napplied = 0;
	assert_int_equal(store_open(filelog_at(many), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(napplied, 7);	/* from the second segment */
	store_close();
	napplied = 0;
	assert_int_equal(store_open(filelog_at(one), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(napplied, 3);
	assert_int_equal(store_last_seq(), 3);
	store_close();
	rmstate(many);
	rmstate(one);
}

static void
test_damage_in_a_closed_segment(void **state)
{
	char		*dir = mkstate(), err[512], path[4096];
	struct auditscan scan;
	FILE		*f;
	char		 buf[8192];
	size_t		 n;
	char		*p;

	make_segments(dir);
	/* Edit seq 2 in the first, closed segment. */
	snprintf(path, sizeof(path), "%s/audit-000000000001-000000000004.log", dir);
	f = fopen(path, "r+");
	n = fread(buf, 1, sizeof(buf), f);
	buf[n] = '\0';
	p = strstr(strchr(buf, '\n') + 1, "0123");
	p[0] = '9';
	rewind(f);
	fwrite(buf, 1, n, f);
	fclose(f);

	assert_int_equal(auditscan_dir(dir, &scan, err, sizeof(err)), 0);
	assert_int_equal(scan.nbreaks, 1);
	assert_int_equal(scan.breaks[0].seq, 2);
	assert_non_null(strstr(scan.breaks[0].reason, "first bad record is seq 2 "));
	assert_int_equal(scan.last_good_seq, 1);
	auditscan_free(&scan);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first bad record is seq 2 "));
	assert_non_null(strstr(err, "--accept-broken-chain"));
	store_close();

	/* The operator accepts it: recorded, and later starts go on. */
	assert_int_equal(store_open(filelog_at(dir), apply, 1, err, sizeof(err)), 0);
	store_close();
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	store_close();
	assert_int_equal(auditscan_dir(dir, &scan, err, sizeof(err)), 0);
	assert_int_equal(scan.nbreaks, 1);
	assert_true(scan.breaks[0].accepted);
	assert_null(auditscan_unaccepted(&scan));
	auditscan_free(&scan);

	/* A new break is not covered by the old acceptance. */
	snprintf(path, sizeof(path), "%s/audit-000000000005-000000000009.log", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first bad record is seq 5 "));
	store_close();
	rmstate(dir);
}

static void
test_files_in_order_and_partial(void **state)
{
	char		*dir = mkstate(), err[256], p1[4096], p2[4096];
	char		*paths[2] = { p1, p2 };
	struct auditscan scan;

	make_segments(dir);
	snprintf(p1, sizeof(p1), "%s/audit-000000000005-000000000009.log", dir);
	snprintf(p2, sizeof(p2), "%s/audit.log", dir);
	assert_int_equal(auditscan_files(paths, 2, &scan, err, sizeof(err)), 0);
	assert_true(scan.partial);
	assert_int_equal(scan.first_seq, 5);
	assert_int_equal(scan.nbreaks, 0);
	assert_int_equal(scan.last_good_seq, 11);
	auditscan_free(&scan);

	/* Out of order is a break naming where the chain stops. */
	paths[0] = p2;
	paths[1] = p1;
	assert_int_equal(auditscan_files(paths, 2, &scan, err, sizeof(err)), 0);
	assert_int_equal(scan.nbreaks, 1);
	assert_int_equal(scan.breaks[0].seq, 12);
	auditscan_free(&scan);
	rmstate(dir);
}

static void
test_segment_names(void **state)
{
	char buf[64];

	auditscan_segment_name(1, 456, buf, sizeof(buf));
	assert_string_equal(buf, "audit-000000000001-000000000456.log");
}

/* Closed segments in DIR. */
static int
count_closed(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "audit-", 6) == 0;
	closedir(d);
	return n;
}

/*
 * A checkpoint that fails half-way (a line over the limit, a full disk) is
 * tried again in the same segment: closing a segment that holds nothing
 * but the failed attempt cut a useless file every 10 s.
 */
static void
test_failed_checkpoint_is_retried_in_place(void **state)
{
	char		*dir = mkstate(), err[256];
	struct auditscan scan;

	store_configure(4096, 0);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append("dutyd.started");
	append("dutyd.started");
	store_commit();
	assert_int_equal(store_rotate(), 0);
	assert_int_equal(count_closed(dir), 1);
	append("checkpoint.begin");
	append("checkpoint.incident");	/* then it failed: no end */
	store_commit();
	/* Ten seconds later the next attempt: the segment stays. */
	assert_int_equal(store_rotate(), 0);
	assert_int_equal(count_closed(dir), 1);
	append("checkpoint.begin");
	append("checkpoint.incident");
	append("checkpoint.end");
	store_checkpoint_done();
	append("dutyd.stopped");
	store_close();

	/* Replay starts in that segment, at its complete checkpoint. */
	assert_int_equal(auditscan_dir(dir, &scan, err, sizeof(err)), 0);
	assert_int_equal(scan.nsegs, 2);
	assert_true(scan.segs[1].checkpoint);
	assert_int_equal(auditscan_replay_start(&scan), 1);
	auditscan_free(&scan);
	napplied = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(napplied, 6);
	assert_false(store_checkpoint_due());
	store_close();
	rmstate(dir);
}

/*
 * A checkpoint bigger than segment_size (many open incidents) is not
 * counted against the segment after a restart either: every start wrote
 * another full checkpoint and a new segment.
 */
static void
test_restart_does_not_count_the_checkpoint(void **state)
{
	char	*dir = mkstate(), err[256];
	int	 i;

	store_configure(4096, 0);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append("dutyd.started");
	store_commit();
	assert_int_equal(store_rotate(), 0);
	append("checkpoint.begin");
	for (i = 0; i < 100; i++)	/* about 9 KB: over segment_size */
		append("checkpoint.incident");
	append("checkpoint.end");
	store_checkpoint_done();
	append("dutyd.stopped");
	store_close();

	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_false(store_checkpoint_due());
	store_close();
	assert_int_equal(count_closed(dir), 1);
	rmstate(dir);
}

/*
 * A checkpoint is written across loop turns, live records between its
 * parts: the segment still replays from it.  One that opens with a live
 * record does not.
 */
static void
test_interleaved_checkpoint_replays(void **state)
{
	char		*dir = mkstate(), err[256];
	struct auditscan scan;

	store_configure(4096, 0);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append("dutyd.started");
	store_commit();
	assert_int_equal(store_rotate(), 0);
	append("checkpoint.begin");
	append("checkpoint.incident");
	append("dutyd.started");	/* a live record between the parts */
	append("checkpoint.incident");
	append("checkpoint.end");
	store_checkpoint_done();
	append("dutyd.stopped");
	store_commit();
	store_close();
	assert_int_equal(auditscan_dir(dir, &scan, err, sizeof(err)), 0);
	assert_int_equal(scan.nsegs, 2);
	assert_true(scan.segs[1].checkpoint);
	assert_int_equal(auditscan_replay_start(&scan), 1);
	auditscan_free(&scan);
	rmstate(dir);

	dir = mkstate();
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append("dutyd.started");
	append("checkpoint.begin");
	append("checkpoint.end");
	store_close();
	assert_int_equal(auditscan_dir(dir, &scan, err, sizeof(err)), 0);
	assert_false(scan.segs[0].checkpoint);
	auditscan_free(&scan);
	rmstate(dir);
}

/* Every line of the segments in DIR, in order (each malloc'd, no newline). */
static size_t
all_lines(const char *dir, char **lines, size_t max)
{
	struct auditscan scan;
	char		 err[256], *line = NULL;
	size_t		 i, n = 0, cap = 0;
	ssize_t		 len;
	FILE		*f;

	assert_int_equal(auditscan_list(dir, &scan, err, sizeof(err)), 0);
	for (i = 0; i < scan.nsegs; i++) {
		assert_non_null(f = fopen(scan.segs[i].path, "r"));
		while ((len = getline(&line, &cap, f)) > 0 && n < max) {
			line[len - 1] = '\0';
			lines[n++] = strdup(line);
		}
		fclose(f);
	}
	free(line);
	auditscan_free(&scan);
	return n;
}

static void
feed(struct auditscan *scan, char **lines, size_t n, const int64_t *keys)
{
	char	err[256];
	size_t	i;

	assert_int_equal(auditscan_feed_begin(scan, "database dutyd on db1:5432",
	    "dutyd_audit", err, sizeof(err)), 0);
	for (i = 0; i < n; i++)
		if (lines[i] != NULL)
			auditscan_feed(scan, keys != NULL ? keys[i] : (int64_t)i + 1,
			    lines[i], strlen(lines[i]));
	auditscan_feed_end(scan);
}

/* A table's rows are judged by the same line check as the files they came from. */
static void
test_rows_fed_as_a_table(void **state)
{
	char		*dir = mkstate(), err[256], *lines[32], *saved, *p;
	char		 out[4096];
	struct auditscan scan, files;
	int64_t		 keys[32];
	size_t		 n, i;
	FILE		*f;

	make_segments(dir);
	n = all_lines(dir, lines, 32);
	assert_int_equal(n, 11);
	assert_int_equal(auditscan_dir(dir, &files, err, sizeof(err)), 0);

	feed(&scan, lines, n, NULL);
	assert_int_equal(scan.nbreaks, 0);
	assert_int_equal(scan.records, 11);
	assert_int_equal(scan.last_good_seq, 11);
	assert_string_equal(scan.last_good_hash, files.last_good_hash);
	assert_non_null(f = fmemopen(out, sizeof(out), "w"));
	assert_int_equal(auditscan_print(&scan, f), 0);
	fclose(f);
	assert_non_null(strstr(out, "database dutyd on db1:5432: seq 1..11\n"));
	assert_non_null(strstr(out, "the chain is intact\n"));
	auditscan_free(&scan);
	auditscan_free(&files);

	/* An edited row: the break the file check would name, by row. */
	saved = lines[1];
	lines[1] = strdup(saved);
	p = strstr(lines[1], "0123");
	p[0] = '9';
	feed(&scan, lines, n, NULL);
	assert_int_equal(scan.nbreaks, 1);
	assert_int_equal(scan.breaks[0].seq, 2);
	assert_non_null(strstr(scan.breaks[0].reason, "database dutyd on db1:5432: "
	    "the hash chain is broken: the first bad record is seq 2 (its hash does "
	    "not match the prev of seq 3 at row 3 of dutyd_audit: it was edited)"));
	assert_int_equal(scan.last_good_seq, 1);
	assert_non_null(f = fmemopen(out, sizeof(out), "w"));
	assert_int_equal(auditscan_print(&scan, f), 1);
	fclose(f);
	assert_non_null(strstr(out, "the chain is BROKEN\n"));
	auditscan_free(&scan);
	free(lines[1]);
	lines[1] = saved;

	/* A row deleted: the gap is named. */
	saved = lines[2];
	lines[2] = NULL;
	feed(&scan, lines, n, NULL);
	assert_int_equal(scan.nbreaks, 1);
	assert_int_equal(scan.breaks[0].seq, 3);
	assert_non_null(strstr(scan.breaks[0].reason, "row 4 holds seq 4 instead"));
	auditscan_free(&scan);
	lines[2] = saved;

	/* A row under another key, its line intact: renumbered. */
	for (i = 0; i < n; i++)
		keys[i] = (int64_t)i + 1;
	keys[n - 1] = 40;
	feed(&scan, lines, n, keys);
	assert_int_equal(scan.nbreaks, 1);
	assert_int_equal(scan.breaks[0].seq, 11);
	assert_non_null(strstr(scan.breaks[0].reason,
	    "row 40 holds the line of seq 11: rows were renumbered"));
	auditscan_free(&scan);

	/* Rows that do not start at seq 1: earlier ones were removed. */
	feed(&scan, lines + 3, n - 3, keys + 3);
	assert_int_equal(scan.nbreaks, 2);
	assert_non_null(strstr(scan.breaks[0].reason, "the log starts at seq 4: "
	    "earlier rows were removed"));
	auditscan_free(&scan);

	for (i = 0; i < n; i++)
		free(lines[i]);
	rmstate(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_checkpoint_is_retried_in_place),
		cmocka_unit_test(test_restart_does_not_count_the_checkpoint),
		cmocka_unit_test(test_interleaved_checkpoint_replays),
		cmocka_unit_test(test_segments_chain_and_replay_start),
		cmocka_unit_test(test_one_segment_after_several),
		cmocka_unit_test(test_damage_in_a_closed_segment),
		cmocka_unit_test(test_files_in_order_and_partial),
		cmocka_unit_test(test_segment_names),
		cmocka_unit_test(test_rows_fed_as_a_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
