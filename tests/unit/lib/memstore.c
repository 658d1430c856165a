/*
 * memstore.c: see memstore.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memstore.h"
#include "store/record.h"
#include "store/store.h"

static struct {
	char	**lines;
	size_t	 n, cap;
	size_t	 from;		/* replay starts here: the newest complete checkpoint */
	size_t	 syncs;
	int	 fail;
	size_t	 fail_after;	/* appends that still succeed before fail applies */
	int	 want_checkpoint;
	size_t	 ckpt_begin;	/* line of the checkpoint.begin being written */
	unsigned char secret[32];
	/* memstore_async(): commits complete when the test says so. */
	void	(*done)(void *, int);
	void	*done_arg;
	size_t	 started;
	int64_t	 line_at;	/* the line appended or replayed last */
} ms = { .line_at = -1 };
static int	memstore_is_async;	/* outlives memstore_reset() */

static int
memstore_open(void *self, int accept_broken, struct store_tail *tail,
    char *err, size_t errlen)
{
	const char *last;

	tail->seq = (int64_t)ms.n;
	if (ms.n > 0) {
		last = ms.lines[ms.n - 1];
		record_hash(last, strlen(last), tail->hash);
	}
	return 0;
}

static int
memstore_replay(void *self, int (*fn)(const char *, size_t, void *), void *arg,
    char *err, size_t errlen)
{
	size_t	i;
	int	rc;

	for (i = ms.from; i < ms.n; i++) {
		ms.line_at = (int64_t)i;
		if ((rc = fn(ms.lines[i], strlen(ms.lines[i]), arg)) != 0)
			return rc;
	}
	ms.line_at = -1;
	return 0;
}

static int
memstore_append(void *self, int64_t seq, const char *line, size_t len,
    unsigned flags)
{
	char **grown;

	if (ms.fail != 0 && ms.fail_after == 0)
		return -ms.fail;
	if (ms.fail_after > 0)
		ms.fail_after--;
	if (ms.n == ms.cap) {
		ms.cap = ms.cap ? ms.cap * 2 : 256;
		if ((grown = realloc(ms.lines, ms.cap * sizeof(*grown))) == NULL)
			return -ENOMEM;
		ms.lines = grown;
	}
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if ((ms.lines[ms.n] = strndup(line, len)) == NULL)
		return -ENOMEM;
	if (strstr(ms.lines[ms.n],
	    "\"event\":\"checkpoint.begin\"") != NULL)
		ms.ckpt_begin = ms.n;
	ms.line_at = (int64_t)ms.n++;
	return 0;
}

static int64_t
memstore_line_at(void *self)
{
	return ms.line_at;
}

/* A place is a line's index: its seq is one more, as lines are appended. */
static int
memstore_read(void *self, int64_t seq, int64_t at, char *buf, size_t len)
{
	if (at < 0 || (size_t)at >= ms.n || strlen(ms.lines[at]) < len)
		return -ENODATA;
	memcpy(buf, ms.lines[at], len);
	return 0;
}

void
memstore_damage(size_t i, const char *line)
{
	char *s;

	if (i < ms.n && (s = strdup(line)) != NULL) {
		free(ms.lines[i]);
		ms.lines[i] = s;
	}
}

static int
memstore_sync(void *self)
{
	ms.syncs++;
	return ms.fail != 0 && ms.fail_after == 0 ? -ms.fail : 0;
}

static int
memstore_sync_start(void *self, void (*done)(void *, int), void *arg)
{
	ms.done = done;
	ms.done_arg = arg;
	ms.started++;
	return 0;
}

static void
memstore_sync_drain(void *self)
{
	memstore_complete(0);
}

static int
memstore_health(void *self)
{
	return 0;
}

static int
memstore_tick(void *self)
{
	return 0;
}

static int
memstore_checkpoint_due(void *self, int64_t now)
{
	return ms.want_checkpoint;
}

static int
memstore_rotate(void *self, int64_t now)
{
	return 0;
}

static void
memstore_checkpoint_done(void *self)
{
	ms.want_checkpoint = 0;
	ms.from = ms.ckpt_begin;
}

static void
memstore_configure(void *self, int64_t segment_size, int64_t reserve)
{
}

static int
memstore_secret(void *self, const char *name, void *buf, size_t len,
    char *err, size_t errlen)
{
	if (len > sizeof(ms.secret))
		return -EINVAL;
	memset(ms.secret, 0x5a, sizeof(ms.secret));
	memcpy(buf, ms.secret, len);
	return 0;
}

static void
memstore_close(void *self)
{
}

/*
 * History: every line held now.  The unit tests have no loop, so
 * store_scan() reads at once on the test's thread (the array cannot move
 * meanwhile) and done() follows on the next fakeclock_turn().
 */
static void *
memstore_scan_open(void *self, int64_t from_ms, int64_t to_ms, char *err,
    size_t errlen)
{
	size_t *n;

	if ((n = malloc(sizeof(*n))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*n = ms.n;
	return n;
}

static int
memstore_scan_read(void *scan, int (*fn)(const char *, size_t, void *),
    void *arg, char *err, size_t errlen)
{
	size_t	i, n = *(size_t *)scan;
	int	rc;

	for (i = 0; i < n; i++)
		if ((rc = fn(ms.lines[i], strlen(ms.lines[i]), arg)) != 0)
			return rc;
	return 0;
}

static void
memstore_scan_close(void *scan)
{
	free(scan);
}

static const struct store_backend memstore_backend = {
	.name = "memory",
	.self = &ms,
	.open = memstore_open,
	.replay = memstore_replay,
	.append = memstore_append,
	.sync = memstore_sync,
	.health = memstore_health,
	.tick = memstore_tick,
	.checkpoint_due = memstore_checkpoint_due,
	.rotate = memstore_rotate,
	.checkpoint_done = memstore_checkpoint_done,
	.configure = memstore_configure,
	.secret = memstore_secret,
	.line_at = memstore_line_at,
	.read = memstore_read,
	.close = memstore_close,
	.scan_open = memstore_scan_open,
	.scan_read = memstore_scan_read,
	.scan_close = memstore_scan_close,
};

/* The same, committing in the background (as the PostgreSQL store does). */
static const struct store_backend memstore_async_backend = {
	.name = "memory-async",
	.self = &ms,
	.open = memstore_open,
	.replay = memstore_replay,
	.append = memstore_append,
	.sync = memstore_sync,
	.sync_start = memstore_sync_start,
	.sync_drain = memstore_sync_drain,
	.health = memstore_health,
	.tick = memstore_tick,
	.checkpoint_due = memstore_checkpoint_due,
	.rotate = memstore_rotate,
	.checkpoint_done = memstore_checkpoint_done,
	.configure = memstore_configure,
	.secret = memstore_secret,
	.line_at = memstore_line_at,
	.read = memstore_read,
	.close = memstore_close,
	.scan_open = memstore_scan_open,
	.scan_read = memstore_scan_read,
	.scan_close = memstore_scan_close,
};

const struct store_backend *
memstore(void)
{
	return memstore_is_async ? &memstore_async_backend : &memstore_backend;
}

void
memstore_async(int on)
{
	memstore_is_async = on;
}

int
memstore_complete(int status)
{
	void (*done)(void *, int) = ms.done;

	if (done == NULL)
		return 0;
	ms.done = NULL;
	ms.syncs++;
	done(ms.done_arg, status);
	return 1;
}

size_t
memstore_commits_started(void)
{
	return ms.started;
}

void
memstore_reset(void)
{
	size_t i;

	for (i = 0; i < ms.n; i++)
		free(ms.lines[i]);
	free(ms.lines);
	memset(&ms, 0, sizeof(ms));
	ms.line_at = -1;
}

size_t
memstore_count(void)
{
	return ms.n;
}

const char *
memstore_line(size_t i)
{
	return i < ms.n ? ms.lines[i] : NULL;
}

json_t *
memstore_records(const char *event, const char *incident)
{
	json_t	*out = json_array(), *r;
	size_t	 i;

	for (i = 0; out != NULL && i < ms.n; i++) {
		if ((r = json_loads(ms.lines[i], 0, NULL)) == NULL)
			continue;
		if ((event == NULL || strcmp(json_string_value(json_object_get(r,
		    "event")), event) == 0) && (incident == NULL ||
		    (json_string_value(json_object_get(r, "incident")) != NULL &&
		    strcmp(json_string_value(json_object_get(r, "incident")),
		    incident) == 0)))
			json_array_append_new(out, r);
		else
			json_decref(r);
	}
	return out;
}

size_t
memstore_count_of(const char *event, const char *incident)
{
	json_t	*a = memstore_records(event, incident);
	size_t	 n = json_array_size(a);

	json_decref(a);
	return n;
}

void
memstore_fail(int err, size_t after)
{
	ms.fail = err;
	ms.fail_after = after;
}

size_t
memstore_syncs(void)
{
	return ms.syncs;
}

void
memstore_want_checkpoint(void)
{
	ms.want_checkpoint = 1;
}
