/*
 * The store on its file backend (the audit log): its hash chain is
 * verifiable by anyone from the bytes, replay gives back every record in
 * order, a torn tail is cut, and any other damage stops start-up naming
 * the seq.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "store/filelog.h"
#include "store/record.h"
#include "store/store.h"

static int64_t	 applied_seq[64];
static char	 applied_event[64][32];
static int	 napplied, replayed;

static int	 text_checked, text_wrong;
static int	 nest_once;	/* apply appends while held records apply */
static struct store_later nest_later;

static void	later_failed(void *, int, json_t *);

/* Where the store said each record's line was while it applied (read_back). */
static int64_t	 applied_at[64];
static char	 applied_head[64][24];	/* the line's first bytes, as apply saw them */

static int
apply(const struct record *r)
{
	const char	*line;
	char		*d;


	/* What apply is handed as the data's text is the data's dump. */
	if (r->data_text != NULL) {
		d = json_dumps(r->data, JSON_COMPACT);
		text_checked++;
		if (d == NULL || strlen(d) != r->data_textlen ||
		    memcmp(d, r->data_text, r->data_textlen) != 0)
			text_wrong++;
		free(d);
	}
	if (nest_once && strcmp(r->event, "notify.attempt") == 0) {
		char pad[2048];

		/* Longer than the lines still to apply: it would cover them. */
		memset(pad, 'p', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		nest_once = 0;
		store_append_later(&nest_later, "notify.attempt", "INC-9",
		    "dutyd", json_pack("{s:s, s:s}", "outcome", "nested", "pad",
		    pad), later_failed, NULL);
		(void)store_append("incident.note", "INC-9", "dutyd",
		    json_pack("{s:s}", "text", "written while others apply"),
		    NULL);
	}
	if (napplied < 64) {
		/* After any append this apply made: its own place is back. */
		applied_at[napplied] = store_applying_at(&line);
		snprintf(applied_head[napplied], sizeof(applied_head[0]), "%.*s",
		    line != NULL ? (int)sizeof(applied_head[0]) - 1 : 0,
		    line != NULL ? line : "");
		applied_seq[napplied] = r->seq;
		snprintf(applied_event[napplied], sizeof(applied_event[0]), "%s",
		    r->event);
	}
	napplied++;
	replayed += r->replaying;
	return 0;
}

static char *
mkstate(void)
{
	char tmpl[] = "/tmp/dutyd-audit-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static char *
logpath(const char *dir)
{
	char *p;

	assert_true(asprintf(&p, "%s/audit.log", dir) > 0);
	return p;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void
cleanup(char *dir)
{
	char *p = logpath(dir), lock[512];

	unlink(p);
	free(p);
	snprintf(lock, sizeof(lock), "%s/dutyd.lock", dir);
	unlink(lock);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

/* The chain check a reader would write, independent of audit.c. */
static int
verify(const char *path)
{
	size_t		 len;
	char		*buf = slurp(path, &len), *line = buf, *nl;
	char		 prev[65];
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	int		 seq = 0, i;

	memset(prev, '0', 64);
	prev[64] = '\0';
	while ((nl = memchr(line, '\n', len - (line - buf))) != NULL) {
		json_t *rec = json_loadb(line, nl - line, 0, NULL);

		assert_non_null(rec);
		assert_int_equal(json_integer_value(json_object_get(rec, "seq")), ++seq);
		assert_string_equal(json_string_value(json_object_get(rec, "prev")), prev);
		json_decref(rec);
		SHA256((unsigned char *)line, nl - line, md);
		for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
			sprintf(prev + 2 * i, "%02x", md[i]);
		line = nl + 1;
	}
	assert_ptr_equal(line, buf + len);	/* nothing after the last newline */
	free(buf);
	return seq;
}

static void
append3(void)
{
	int64_t seq = 0;

	assert_int_equal(store_append("report.received", "INC-1", "office:a",
	    json_pack("{s:s}", "title", "河堤管涌"), &seq), 0);
	assert_int_equal(seq, store_last_seq());
	assert_int_equal(store_append("incident.acknowledged", "INC-1",
	    "person:zhang", NULL, NULL), 0);
	assert_int_equal(store_append("dutyd.started", NULL, "dutyd",
	    json_pack("{s:i}", "pid", 1), NULL), 0);
}

static void
test_hash_is_sha256_hex(void **state)
{
	char hex[RECORD_HASH_HEX];

	record_hash("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_append_chains_and_applies(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[256];
	size_t	 len;
	char	*buf;
	json_t	*first;

	napplied = replayed = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_commit();
	assert_int_equal(napplied, 3);
	assert_int_equal(replayed, 0);
	assert_string_equal(applied_event[1], "incident.acknowledged");
	store_close();
	assert_int_equal(verify(path), 3);

	/* Field order and content as documented. */
	buf = slurp(path, &len);
	assert_true(strncmp(buf, "{\"seq\":1,\"ts\":\"", 15) == 0);
	first = json_loadb(buf, strchr(buf, '\n') - buf, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(first, "event")),
	    "report.received");
	assert_string_equal(json_string_value(json_object_get(first, "incident")),
	    "INC-1");
	assert_string_equal(json_string_value(json_object_get(first, "actor")),
	    "office:a");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    first, "data"), "title")), "河堤管涌");
	/* No "incident" key on records without one (the third). */
	assert_null(strstr(strchr(strchr(buf, '\n') + 1, '\n') + 1, "\"incident\""));
	json_decref(first);
	free(buf);
	free(path);
	cleanup(dir);
}

/* Each record applied so far read back from where the store said it was. */
static void
assert_read_back(int n)
{
	char	buf[sizeof(applied_head[0])];
	size_t	len;
	int	i;

	for (i = 0; i < n; i++) {
		assert_true(applied_at[i] >= 0);
		len = strlen(applied_head[i]);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(store_read(applied_seq[i], applied_at[i], buf,
		    len), 0);
		assert_memory_equal(buf, applied_head[i], len);
	}
}

/*
 * Lines read back (an incident's report is not kept in memory): where a
 * record's line is, as apply is told live and on replay, is the same place,
 * and reads back its bytes from the active segment, from a closed one
 * after a rotation, and after a restart; a place past the end does not.
 */
static void
test_lines_read_back_where_apply_was_told(void **state)
{
	char	*dir = mkstate(), err[256], buf[64], cmd[600];
	int64_t	 live_at[6];
	int	 i;

	napplied = replayed = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_commit();
	assert_read_back(3);
	assert_int_equal(applied_at[0], 0);	/* the first line, at the start */
	assert_true(applied_at[1] > applied_at[0]);
	assert_int_equal(store_rotate(), 0);	/* audit.log renamed, a new one */
	append3();
	store_commit();
	assert_int_equal(napplied, 6);
	assert_int_equal(applied_at[3], 0);	/* the new segment's first */
	assert_read_back(6);
	/* Another record's seq at that place: the line there is not its. */
	assert_int_equal(store_read(2, applied_at[4] + 100000, buf, 10),
	    -ENODATA);
	assert_int_equal(store_read(99, 0, buf, 10), -ENODATA);
	for (i = 0; i < 6; i++)
		live_at[i] = applied_at[i];
	store_close();
	assert_int_equal(store_read(1, 0, buf, 10), -ENOTSUP);

	/* Replayed: the same places (a checkpoint's reference stays good). */
	napplied = replayed = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(napplied, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(applied_at[i], live_at[i]);
	assert_read_back(6);
	store_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void
test_replay_continues_the_chain(void **state)
{
	char *dir = mkstate(), *path = logpath(dir), err[256];

	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_close();

	napplied = replayed = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(napplied, 3);
	assert_int_equal(replayed, 3);
	assert_int_equal(applied_seq[0], 1);
	assert_int_equal(applied_seq[2], 3);
	assert_int_equal(store_last_seq(), 3);
	assert_int_equal(store_append("incident.resolved", "INC-1", "person:li",
	    NULL, NULL), 0);
	store_close();
	assert_int_equal(verify(path), 4);
	free(path);
	cleanup(dir);
}

static void
test_torn_tail_is_cut(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[256], *buf;
	size_t	 len, good;
	FILE	*f;

	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_close();
	buf = slurp(path, &good);
	free(buf);
	/* A crash in the middle of a write: half a line, no newline. */
	f = fopen(path, "ab");
	fputs("{\"seq\":4,\"ts\":\"2026-11-28T06:40:35.000+00:00\",\"ev", f);
	fclose(f);

	napplied = replayed = 0;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(replayed, 3);
	/* The cut is itself recorded, where the torn bytes were. */
	assert_int_equal(napplied, 4);
	assert_string_equal(applied_event[3], "audit.repaired");
	buf = slurp(path, &len);
	assert_true(len > good);
	assert_non_null(strstr(buf + good, "\"offset\":"));
	assert_null(strstr(buf, "\"ev\n"));
	free(buf);
	assert_int_equal(store_append("dutyd.started", NULL, "dutyd", NULL, NULL), 0);
	store_close();
	assert_int_equal(verify(path), 5);
	free(path);
	cleanup(dir);
}

static int
open_fails(const char *dir, const char *want)
{
	char	err[512];
	int	rc = store_open(filelog_at(dir), apply, 0, err, sizeof(err));

	if (rc == 0) {
		store_close();
		fail_msg("damaged log accepted");
	}
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not name '%s'", err, want);
	store_close();
	return rc;
}

static void
test_tampering_stops_start(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[256], *buf, *p;
	size_t	 len;

	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_close();
	buf = slurp(path, &len);

	/* Edit the first record's data: the second no longer chains to it. */
	p = strstr(buf, "河堤管涌");
	memcpy(p, "河堤决口", strlen("河堤决口"));
	spit(path, buf, len);
	assert_int_equal(open_fails(dir, "first bad record is seq 1 "), -EINVAL);

	free(buf);
	free(path);
	cleanup(dir);
}

static void
test_removed_record_stops_start(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[256], *buf, *l2, *l3;
	size_t	 len;

	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_close();
	buf = slurp(path, &len);
	l2 = strchr(buf, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	memmove(l2, l3, len - (l3 - buf));
	spit(path, buf, len - (l3 - l2));
	assert_int_equal(open_fails(dir, "first bad record is seq 2 "), -EINVAL);
	free(buf);
	free(path);
	cleanup(dir);
}

static void
test_garbage_in_the_middle_stops_start(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[256], *buf, *l2;
	size_t	 len;

	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	append3();
	store_close();
	buf = slurp(path, &len);
	l2 = strchr(buf, '\n') + 1;
	l2[0] = 'X';	/* line 2 is no longer JSON; line 3 follows it */
	spit(path, buf, len);
	assert_int_equal(open_fails(dir, "first bad record is seq 2 "), -EINVAL);
	free(buf);
	free(path);
	cleanup(dir);
}

/*
 * A log of one segment is checked on a thread while replay follows it
 * (filelog.c, auditscan_start()): a line is applied only once the check
 * has passed the line after it.  Long enough for many steps of the
 * check: damage far into it still stops start-up with the error the
 * check before replay gave, and nothing at or after the bad record is
 * applied; accepted damage replays every line, as before.
 */
#define FOLLOW_N	1000

static int64_t	 follow_max;
static int	 follow_n;

static int
follow_apply(const struct record *r)
{
	if (r->seq > follow_max)
		follow_max = r->seq;
	follow_n++;
	return 0;
}

static char *
follow_log(const char *dir, size_t *len)
{
	char	*path = logpath(dir), err[256], *buf;
	int	 i;

	assert_int_equal(store_open(filelog_at(dir), follow_apply, 0, err,
	    sizeof(err)), 0);
	for (i = 1; i <= FOLLOW_N; i++)
		assert_int_equal(store_append("incident.note", "INC-1",
		    "person:zhang", json_pack("{s:i, s:s}", "n", i, "text",
		    "水位上涨"), NULL), 0);
	store_close();
	buf = slurp(path, len);
	free(path);
	return buf;
}

/* Line SEQ (1-based) of BUF. */
static char *
follow_line(char *buf, int seq)
{
	while (--seq > 0)
		buf = strchr(buf, '\n') + 1;
	return buf;
}

static int
follow_open(const char *dir, int accept_broken, char *err, size_t errlen)
{
	int rc;

	follow_max = 0;
	follow_n = 0;
	rc = store_open(filelog_at(dir), follow_apply, accept_broken, err,
	    errlen);
	store_close();
	return rc;
}

static void
test_follow_stops_before_the_break(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[512], *buf, *l, *m;
	size_t	 len;

	buf = follow_log(dir, &len);
	/* Intact: every record, in one go. */
	assert_int_equal(follow_open(dir, 0, err, sizeof(err)), 0);
	assert_int_equal(follow_n, FOLLOW_N);
	free(buf);
	buf = slurp(path, &len);	/* with what that start wrote */

	/* Record 700 edited: seq 701's prev no longer matches it. */
	l = follow_line(buf, 700);
	m = strstr(l, "水位上涨");
	memcpy(m, "水位下降", strlen("水位下降"));
	spit(path, buf, len);
	assert_int_equal(follow_open(dir, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first bad record is seq 700 "));
	assert_true(follow_max < 700);
	/* Accepted: every line, the edited one too, as replay always did. */
	assert_int_equal(follow_open(dir, 1, err, sizeof(err)), 0);
	assert_true(follow_n >= FOLLOW_N + 1);
	assert_true(follow_max > FOLLOW_N);
	free(buf);
	free(path);
	cleanup(dir);
}

static void
test_follow_stops_before_a_gap(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[512], *buf, *l, *n;
	size_t	 len;

	buf = follow_log(dir, &len);
	/* Record 500 removed: 501 stands where it was. */
	l = follow_line(buf, 500);
	n = strchr(l, '\n') + 1;
	memmove(l, n, len - (size_t)(n - buf));
	spit(path, buf, len - (size_t)(n - l));
	assert_int_equal(follow_open(dir, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first bad record is seq 500 "));
	assert_true(follow_max < 500);
	free(buf);
	free(path);
	cleanup(dir);
}

static void
test_follow_garbage_and_torn_tail(void **state)
{
	char	*dir = mkstate(), *path = logpath(dir), err[512], *buf, *l;
	size_t	 len, good;
	FILE	*f;

	buf = follow_log(dir, &len);
	/* Half a line after the last: cut away, everything before applied. */
	f = fopen(path, "ab");
	fputs("{\"seq\":1001,\"ts\":\"2026-11-28T06:40:35.000+00:00\",\"ev", f);
	fclose(f);
	assert_int_equal(follow_open(dir, 0, err, sizeof(err)), 0);
	assert_int_equal(follow_max, FOLLOW_N + 1);	/* + audit.repaired */
	assert_int_equal(follow_n, FOLLOW_N + 1);
	free(buf);
	buf = slurp(path, &good);
	assert_null(strstr(buf, "\"ev\n"));
	/* Line 900 no longer JSON: stops there. */
	l = follow_line(buf, 900);
	l[0] = 'X';
	spit(path, buf, good);
	assert_int_equal(follow_open(dir, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "first bad record is seq 900 "));
	assert_true(follow_max < 900);
	free(buf);
	free(path);
	cleanup(dir);
}

static void
test_unwritable_state_dir(void **state)
{
	char err[256];

	/* Not even root can make a directory inside a device file. */
	assert_true(store_open(filelog_at("/dev/null/dutyd"), apply, 0, err,
	    sizeof(err)) < 0);
	assert_non_null(strstr(err, "/dev/null/dutyd"));
	store_close();
}

static int	waited_status = 99;
static int64_t	waited_seq;

static void
waited(void *arg, int status)
{
	waited_status = status;
	waited_seq = store_last_seq();
}

static void
test_waiters_run_after_commit(void **state)
{
	char			*dir = mkstate(), err[256];
	struct store_waiter	 w, gone;

	memset(&w, 0, sizeof(w));
	memset(&gone, 0, sizeof(gone));
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_false(store_pending());
	assert_int_equal(store_append("dutyd.started", NULL, "dutyd", NULL, NULL), 0);
	assert_true(store_pending());
	store_wait(&w, waited, NULL);
	store_wait(&gone, waited, NULL);
	store_wait_cancel(&gone);
	assert_int_equal(waited_status, 99);	/* not before the sync */
	store_commit();
	assert_int_equal(waited_status, 0);
	assert_int_equal(waited_seq, 1);
	assert_false(store_pending());
	/* A waiter with nothing to sync still runs at the end of the turn. */
	waited_status = 99;
	store_wait(&w, waited, NULL);
	store_commit();
	assert_int_equal(waited_status, 0);
	store_close();
	cleanup(dir);
}


static int	later_status;
static json_t	*later_data;

static void
later_failed(void *arg, int status, json_t *data)
{
	later_status = status;
	json_decref(later_data);
	later_data = data;
}

/*
 * Records held for the turn: not applied before they are written, written
 * at the commit (or before the next store_append(), which keeps seq order)
 * in one go, then applied in order; a cancelled one is never written.
 */
static void
test_held_records_go_with_the_turn(void **state)
{
	char			*dir = mkstate(), *path = logpath(dir), err[256];
	struct store_later	 a, b, c;
	struct stat		 sb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	napplied = 0;
	later_status = 99;
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	store_append_later(&a, "notify.attempt", "INC-1", "dutyd",
	    json_pack("{s:s}", "outcome", "delivered"), later_failed, NULL);
	store_append_later(&c, "notify.attempt", "INC-1", "dutyd", NULL,
	    later_failed, NULL);
	store_append_later(&b, "notify.attempt", "INC-2", "dutyd", NULL,
	    later_failed, NULL);
	store_later_cancel(&c);
	assert_int_equal(napplied, 0);
	assert_int_equal(store_last_seq(), 0);
	assert_true(store_pending());
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	/* A record written at once goes after them. */
	assert_int_equal(store_append("incident.acknowledged", "INC-1",
	    "person:zhang", NULL, NULL), 0);
	assert_int_equal(napplied, 3);
	assert_int_equal(applied_seq[0], 1);
	assert_int_equal(applied_seq[2], 3);
	assert_string_equal(applied_event[2], "incident.acknowledged");
	/* Held again, written by the commit. */
	store_append_later(&a, "notify.attempt", "INC-3", "dutyd", NULL,
	    later_failed, NULL);
	store_commit();
	assert_int_equal(napplied, 4);
	assert_int_equal(applied_seq[3], 4);
	assert_false(store_pending());
	assert_int_equal(later_status, 99);
	/*
	 * Held records are handed their data's text too, also when applying
	 * one of them appends (its own held batch and line) before the rest
	 * have applied.
	 */
	text_checked = text_wrong = 0;
	memset(&nest_later, 0, sizeof(nest_later));
	nest_once = 1;
	store_append_later(&a, "notify.attempt", "INC-4", "dutyd",
	    json_pack("{s:s, s:i}", "outcome", "delivered", "attempt", 1),
	    later_failed, NULL);
	store_append_later(&b, "notify.attempt", "INC-5", "dutyd",
	    json_pack("{s:s, s:[s]}", "outcome", "retry", "why", "超时"),
	    later_failed, NULL);
	store_commit();
	assert_false(nest_once);
	store_commit();
	assert_int_equal(napplied, 8);
	assert_int_equal(text_checked, 4);
	assert_int_equal(text_wrong, 0);
	/* Each read back where apply was told, nested or held (the batch's place and the line's in it). */
	assert_read_back(8);
	store_close();
	assert_int_equal(verify(path), 8);
	free(path);
	cleanup(dir);
}

/*
 * A held write that fails (here the file-size limit, as a full disk would)
 * is cut back whole: nothing of it applied or chained, each writer gets its
 * data back; a client's record after it fails at once (its 503), and what
 * was acknowledged before stays, the chain unbroken.
 */
static void
test_held_write_failure_applies_nothing(void **state)
{
	char			*dir = mkstate(), *path = logpath(dir), err[256];
	struct store_later	 a;
	struct store_waiter	 w;
	struct rlimit		 old, lim;
	struct stat		 sb;

	memset(&a, 0, sizeof(a));
	memset(&w, 0, sizeof(w));
	napplied = 0;
	later_status = 99;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(store_open(filelog_at(dir), apply, 0, err, sizeof(err)), 0);
	assert_int_equal(store_append("report.received", "INC-1", "office:a",
	    NULL, NULL), 0);
	store_wait(&w, waited, NULL);
	store_append_later(&a, "notify.attempt", "INC-1", "dutyd",
	    json_pack("{s:s}", "outcome", "delivered"), later_failed, NULL);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(store_append("report.received", "INC-2", "office:a",
	    NULL, NULL), -EFBIG);
	assert_int_equal(later_status, -EFBIG);
	assert_non_null(later_data);
	assert_string_equal(json_string_value(json_object_get(later_data,
	    "outcome")), "delivered");
	assert_int_equal(napplied, 1);
	assert_int_equal(store_last_seq(), 1);
	/* The first report's sync is not the held record's business. */
	waited_status = 99;
	store_commit();
	assert_int_equal(waited_status, 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* Given again, it is written after what was there. */
	store_append_later(&a, "notify.attempt", "INC-1", "dutyd", later_data,
	    later_failed, NULL);
	later_data = NULL;
	store_commit();
	assert_int_equal(napplied, 2);
	assert_int_equal(applied_seq[1], 2);
	store_close();
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(verify(path), 2);
	free(path);
	cleanup(dir);
}

/*
 * A backend that commits asynchronously (as the PostgreSQL one does): the
 * test completes each commit by hand.  Lines are kept until a commit that
 * covers them succeeds; each attempt notes the seqs it carried.
 */
static struct {
	char	*lines[32];		/* appended, not yet durable */
	size_t	 n;
	size_t	 durable;		/* lines made durable so far */
	char	 durable_lines[32][512];
	size_t	 batch;			/* lines the commit in flight carries */
	void	(*done)(void *, int);
	void	*arg;
	int	 started;		/* sync_start calls */
	char	 attempts[8][64];	/* seqs each attempt carried, "1,2" */
	int	 drain_status;
	int	 health;
} fa;

static int
fa_open(void *self, int accept_broken, struct store_tail *tail, char *err,
    size_t errlen)
{
	tail->seq = 0;
	return 0;
}

static int
fa_replay(void *self, int (*fn)(const char *, size_t, void *), void *arg,
    char *err, size_t errlen)
{
	return 0;
}

static int
fa_append(void *self, int64_t seq, const char *line, size_t len,
    unsigned flags)
{
	assert_true(fa.n < 32);
	assert_int_equal(line[len - 1], '\n');
	fa.lines[fa.n++] = strndup(line, len - 1);
	return 0;
}

static int
fa_sync(void *self)
{
	fail_msg("a backend with sync_start is never synced blocking");
	return -EIO;
}

static int
fa_sync_start(void *self, void (*done)(void *, int), void *arg)
{
	char	*p;
	size_t	 i;

	assert_null(fa.done);	/* one at a time */
	fa.done = done;
	fa.arg = arg;
	fa.batch = fa.n;
	p = fa.attempts[fa.started % 8];
	*p = '\0';
	for (i = 0; i < fa.batch; i++) {
		json_t *r = json_loads(fa.lines[i], 0, NULL);

		assert_non_null(r);
		sprintf(p + strlen(p), "%s%lld", i ? "," : "",
		    (long long)json_integer_value(json_object_get(r, "seq")));
		json_decref(r);
	}
	fa.started++;
	return 0;
}

/* The commit in flight returns STATUS. */
static void
fa_complete(int status)
{
	void	(*done)(void *, int) = fa.done;
	size_t	 i;

	assert_non_null(done);
	fa.done = NULL;
	if (status == 0) {
		for (i = 0; i < fa.batch; i++) {
			snprintf(fa.durable_lines[fa.durable++], 512, "%s",
			    fa.lines[i]);
			free(fa.lines[i]);
		}
		memmove(fa.lines, fa.lines + fa.batch, (fa.n - fa.batch) *
		    sizeof(fa.lines[0]));
		fa.n -= fa.batch;
	}
	fa.health = status;
	done(fa.arg, status);
}

static void
fa_sync_drain(void *self)
{
	if (fa.done != NULL)
		fa_complete(fa.drain_status);
}

static int
fa_health(void *self)
{
	return fa.health;
}

static int
fa_tick(void *self)
{
	return 0;
}

static int
fa_checkpoint_due(void *self, int64_t now)
{
	return 0;
}

static int
fa_rotate(void *self, int64_t now)
{
	return 0;
}

static void
fa_checkpoint_done(void *self)
{
}

static void
fa_configure(void *self, int64_t segment_size, int64_t reserve)
{
}

static int
fa_secret(void *self, const char *name, void *buf, size_t len, char *err,
    size_t errlen)
{
	return -ENOTSUP;
}

static void
fa_close(void *self)
{
	while (fa.n > 0)
		free(fa.lines[--fa.n]);
}

static const struct store_backend fa_backend = {
	.name = "fake-async",
	.open = fa_open,
	.replay = fa_replay,
	.append = fa_append,
	.sync = fa_sync,
	.sync_start = fa_sync_start,
	.sync_drain = fa_sync_drain,
	.health = fa_health,
	.tick = fa_tick,
	.checkpoint_due = fa_checkpoint_due,
	.rotate = fa_rotate,
	.checkpoint_done = fa_checkpoint_done,
	.configure = fa_configure,
	.secret = fa_secret,
	.close = fa_close,
};

static int	async_status[8];
static int	async_runs[8];

static void
async_waited(void *arg, int status)
{
	int i = (int)(intptr_t)arg;

	async_status[i] = status;
	async_runs[i]++;
}

static void
async_open(void)
{
	char err[256];

	memset(&fa, 0, sizeof(fa));
	memset(async_status, 0, sizeof(async_status));
	memset(async_runs, 0, sizeof(async_runs));
	assert_int_equal(store_open(&fa_backend, apply, 0, err, sizeof(err)), 0);
}

/*
 * Nobody hears "saved" before the commit that covers the record returned;
 * what is appended while a commit runs goes with the next one.
 */
static void
test_async_waiters_run_after_done(void **state)
{
	struct store_waiter w0, w1;

	memset(&w0, 0, sizeof(w0));
	memset(&w1, 0, sizeof(w1));
	async_open();
	assert_int_equal(store_append("report.received", "INC-1", "office:a",
	    NULL, NULL), 0);
	store_wait(&w0, async_waited, (void *)0);
	store_commit();
	assert_true(store_committing());
	assert_int_equal(fa.started, 1);
	assert_int_equal(async_runs[0], 0);	/* not before done */
	/* Meanwhile: a new record, and a second commit that must not start. */
	assert_int_equal(store_append("report.received", "INC-2", "office:a",
	    NULL, NULL), 0);
	store_wait(&w1, async_waited, (void *)1);
	store_commit();
	assert_int_equal(fa.started, 1);
	assert_true(store_pending());
	fa_complete(0);
	assert_int_equal(async_runs[0], 1);
	assert_int_equal(async_status[0], 0);
	assert_int_equal(async_runs[1], 0);	/* its record is in the next */
	assert_string_equal(fa.attempts[0], "1");
	store_commit();
	assert_int_equal(fa.started, 2);
	assert_string_equal(fa.attempts[1], "2");
	assert_int_equal(async_runs[1], 0);
	fa_complete(0);
	assert_int_equal(async_runs[1], 1);
	assert_int_equal(async_status[1], 0);
	assert_false(store_pending());
	assert_int_equal(fa.durable, 2);
	store_close();
}

/*
 * A failed commit fails its waiters (503s), keeps its lines and retries
 * them first, with the same seqs and bytes, before newer ones.
 */
static void
test_async_failure_retries_in_order(void **state)
{
	struct store_waiter	 w0, w1;
	struct store_trouble	 t;
	char			 first[512];

	memset(&w0, 0, sizeof(w0));
	memset(&w1, 0, sizeof(w1));
	async_open();
	assert_int_equal(store_append("report.received", "INC-1", "office:a",
	    NULL, NULL), 0);
	snprintf(first, sizeof(first), "%s", fa.lines[0]);
	store_wait(&w0, async_waited, (void *)0);
	store_commit();
	fa_complete(-ECONNRESET);
	assert_int_equal(async_runs[0], 1);
	assert_int_equal(async_status[0], -ECONNRESET);
	assert_int_equal(store_health(), -ECONNRESET);
	store_trouble(&t);
	assert_true(t.unsynced_since > 0);
	assert_int_equal(t.last_error, -ECONNRESET);
	assert_true(store_pending());
	/* The chain goes on after the line not yet committed. */
	assert_int_equal(store_append("report.received", "INC-2", "office:a",
	    NULL, NULL), 0);
	store_wait(&w1, async_waited, (void *)1);
	store_commit();
	assert_int_equal(fa.started, 2);
	assert_string_equal(fa.attempts[1], "1,2");
	assert_string_equal(fa.lines[0], first);
	fa_complete(0);
	assert_int_equal(async_status[1], 0);
	assert_int_equal(async_runs[0], 1);	/* answered once, with the failure */
	assert_int_equal(store_health(), 0);
	assert_int_equal(fa.durable, 2);
	assert_string_equal(fa.durable_lines[0], first);
	store_trouble(&t);
	assert_int_equal(t.unsynced_since, 0);
	store_close();
}

/* A stop waits for the commit in flight and commits what is left. */
static void
test_async_flush_at_stop(void **state)
{
	struct store_waiter w0;

	memset(&w0, 0, sizeof(w0));
	async_open();
	assert_int_equal(store_append("report.received", "INC-1", "office:a",
	    NULL, NULL), 0);
	store_commit();
	assert_int_equal(store_append("dutyd.stopped", NULL, "dutyd", NULL,
	    NULL), 0);
	store_wait(&w0, async_waited, (void *)0);
	assert_int_equal(store_flush(), 0);
	assert_int_equal(fa.durable, 2);
	assert_int_equal(async_runs[0], 1);
	assert_int_equal(async_status[0], 0);
	/* A failing database: the stop reports it rather than hangs. */
	assert_int_equal(store_append("dutyd.stopped", NULL, "dutyd", NULL,
	    NULL), 0);
	store_commit();
	fa.drain_status = -ETIMEDOUT;
	assert_int_equal(store_flush(), -ETIMEDOUT);
	fa.drain_status = 0;
	store_close();
	assert_int_equal(fa.durable, 3);
}

/*
 * A line put together from a member already dumped is byte for byte the
 * one record_format() writes: the chain hashes those bytes, and readers
 * (dutyctl verify-audit, auditscan.c) see no difference.
 */
static void
test_spliced_line_is_the_formatted_one(void **state)
{
	static const char *const datas[] = {
		"{\"office\":\"county-a\",\"report\":{\"title\":\"x\"},\"n\":1}",
		"{\"report\":{\"title\":\"王\\\"x\\\\y\\n\",\"b\":[1,2.5,null]},\"z\":true}",
		"{\"a\":\"\\u0001\\u2028/é\",\"report\":{}}",
		"{\"a\":{\"report\":null},\"b\":\"c\",\"report\":{\"d\":{\"e\":[]}}}",
		"{\"report\":\"only\"}",
	};
	struct record	 rec;
	json_t		*data;
	char		*want, *got, *raw;
	size_t		 wlen, glen, i;

	for (i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
		data = json_loads(datas[i], 0, NULL);
		assert_non_null(data);
		memset(&rec, 0, sizeof(rec));
		rec.seq = 42;
		rec.ts = "2026-11-28T14:05:00.000+08:00";
		rec.event = i % 2 ? "report.received" : "a \"quoted\" kind\t";
		rec.incident = i % 3 ? "INC-20261128-0001" : NULL;
		rec.actor = i == 2 ? "person:张伟" : "office:county-a";
		rec.data = data;
		assert_int_equal(record_format(&rec, RECORD_ZERO_HASH, &want,
		    &wlen), 0);
		raw = json_dumps(json_object_get(data, "report"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		assert_non_null(raw);
		assert_int_equal(record_format_spliced(&rec, RECORD_ZERO_HASH,
		    "report", raw, strlen(raw), &got, &glen), 0);
		assert_int_equal(glen, wlen);
		assert_string_equal(got, want);
		free(got);
		/* What the state keeps of it: the data's text, the report's place. */
		got = json_dumps(data, JSON_COMPACT);
		assert_non_null(got);
		assert_int_equal(rec.data_textlen, strlen(got));
		assert_memory_equal(rec.data_text, got, rec.data_textlen);
		assert_string_equal(rec.spliced_key, "report");
		assert_int_equal(rec.spliced_len, strlen(raw));
		assert_memory_equal(rec.data_text + rec.spliced_off, raw,
		    rec.spliced_len);
		free(got);
		rec.data_text = NULL;
		rec.spliced_key = NULL;
		/* The data given whole, too. */
		free(raw);
		raw = json_dumps(data, JSON_COMPACT);
		assert_int_equal(record_format_raw(&rec, RECORD_ZERO_HASH, raw,
		    strlen(raw), &got, &glen), 0);
		assert_string_equal(got, want);
		free(got);
		free(raw);
		free(want);
		json_decref(data);
	}
}

/*
 * Replay parses each line with yajl where it can (base/jfast.c): whichever
 * parser reads a line, record_parse() must see what jansson sees, and
 * refuse what jansson refuses.
 */
static void
test_record_parse_is_janssons_reading(void **state)
{
	static const char *lines[] = {
		/* the fast path: no backslash */
		"{\"seq\":7,\"ts\":\"2026-12-02T08:00:00.000+08:00\",\"event\":"
		"\"report.received\",\"actor\":\"county-a\",\"incident\":"
		"\"INC-20261202-0001\",\"data\":{\"report\":{\"title\":\"某镇化工厂爆炸\","
		"\"casualties\":{\"dead\":0,\"injured\":3},\"tags\":[\"a\",true,null]}},"
		"\"prev\":\"" "0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef\"}",
		/* escapes: jansson's turn */
		"{\"seq\":8,\"ts\":\"2026-12-02T08:00:01.000+08:00\",\"event\":"
		"\"report.received\",\"actor\":\"county-a\",\"data\":{\"details\":"
		"\"line\\none \\u00e9 \\\"q\\\"\"},\"prev\":\""
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
		/* a real: jansson's turn */
		"{\"seq\":9,\"ts\":\"2026-12-02T08:00:02.000+08:00\",\"event\":"
		"\"x\",\"actor\":\"a\",\"data\":{\"v\":1.5},\"prev\":\""
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
	};
	struct record	 rec;
	json_t		*root, *want;
	const char	*why;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		want = json_loads(lines[i], JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(want);
		why = NULL;
		assert_int_equal(record_parse(lines[i], strlen(lines[i]), &rec,
		    &root, &why), 0);
		assert_true(json_equal(root, want));
		assert_int_equal(rec.seq, 7 + (int)i);
		assert_string_equal(rec.actor, i == 2 ? "a" : "county-a");
		assert_true(json_equal(rec.data, json_object_get(want, "data")));
		json_decref(root);
		json_decref(want);
	}
	/* A key twice is no record, whichever parser meets it. */
	{
		const char *dup = "{\"seq\":1,\"seq\":2,\"ts\":"
		    "\"2026-12-02T08:00:00.000+08:00\",\"event\":\"x\",\"actor\":"
		    "\"a\",\"data\":{},\"prev\":\"0123456789abcdef0123456789abcdef"
		    "0123456789abcdef0123456789abcdef\"}";
		assert_int_equal(record_parse(dup, strlen(dup), &rec, &root,
		    &why), -EINVAL);
		assert_null(root);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_sha256_hex),
		cmocka_unit_test(test_append_chains_and_applies),
		cmocka_unit_test(test_replay_continues_the_chain),
		cmocka_unit_test(test_lines_read_back_where_apply_was_told),
		cmocka_unit_test(test_torn_tail_is_cut),
		cmocka_unit_test(test_tampering_stops_start),
		cmocka_unit_test(test_removed_record_stops_start),
		cmocka_unit_test(test_garbage_in_the_middle_stops_start),
		cmocka_unit_test(test_follow_stops_before_the_break),
		cmocka_unit_test(test_follow_stops_before_a_gap),
		cmocka_unit_test(test_follow_garbage_and_torn_tail),
		cmocka_unit_test(test_unwritable_state_dir),
		cmocka_unit_test(test_waiters_run_after_commit),
		cmocka_unit_test(test_held_records_go_with_the_turn),
		cmocka_unit_test(test_held_write_failure_applies_nothing),
		cmocka_unit_test(test_spliced_line_is_the_formatted_one),
		cmocka_unit_test(test_async_waiters_run_after_done),
		cmocka_unit_test(test_async_failure_retries_in_order),
		cmocka_unit_test(test_async_flush_at_stop),
		cmocka_unit_test(test_record_parse_is_janssons_reading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
