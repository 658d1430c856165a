/*
 * The audit log.  One JSON object a line:
 *   {"seq":N,"ts":"…","event":"…","incident":"…","actor":"…","data":{…},"prev":"<sha256 hex>"}
 * where prev is the SHA-256 of the previous line's exact bytes without its
 * newline (64 zeros for the first), so anyone can verify the chain.
 *
 * Appends are written at once with write(2) and applied; durability comes
 * from one fdatasync per loop turn (audit_commit), after which the waiters
 * (the HTTP replies, the first delivery attempts) run.  A failed write is
 * cut back so the file never holds half a record that later records chain
 * onto.
 *
 * The active segment is audit.log; when it grows past segment_size it is
 * renamed to audit-<first>-<last>.log (never written again) and a new
 * audit.log starts with a checkpoint of every loaded incident, so start-up
 * replays from there.  auditscan.c verifies the chain across all segments.
 *
 * A reserve file holds disk space back: when the disk fills it is released
 * so that dutyd's own records (clocks firing, notifications) can still be
 * written, while reports and staff actions get 503 until it can be made
 * again.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "store/audit.h"
#include "store/auditscan.h"
#include "base/log.h"
#include "base/timeutil.h"


TAILQ_HEAD(audit_waiters, audit_waiter);

static struct {
	int		 fd;
	char		*dir;
	char		*path;		/* the active segment */
	audit_apply_fn	 apply;
	int64_t		 seq;		/* of the last record in the file */
	char		 hash[AUDIT_HASH_HEX];	/* of the last line */
	off_t		 size;		/* end of the last whole record */
	int		 dirty;		/* written since the last fdatasync */
	int		 needs_trim;	/* a failed write may have left bytes past size */
	int		 health;
	struct audit_waiters waiters;
	uint64_t	 gen;		/* bumped by each fdatasync; waiters carry it */
	uint64_t	 appended;	/* records written since start */
	uint64_t	 syncs;		/* fdatasync calls since start */
	int64_t		 seg_first;	/* first seq in the active segment, 0: empty */
	off_t		 ckpt_bytes;	/* its checkpoint's size: not counted against segment_size */
	int64_t		 segment_size;
	int		 checkpoint_owed;	/* the active segment lacks a complete checkpoint */
	int64_t		 next_rotate;	/* after a failed checkpoint, not before (ms) */
	int64_t		 reserve;	/* bytes to hold back, 0: none */
	int		 reserve_held;
	int		 space_low;	/* the reserve was released: refuse clients' records */
} al = { .fd = -1, .segment_size = 64 * 1024 * 1024 };

void
audit_hash(const char *line, size_t len, char hex[AUDIT_HASH_HEX])
{
	/* Fetched once: OpenSSL 3's one-shot SHA256() looks the digest up on every call. */
	static EVP_MD		*sha256;
	static EVP_MD_CTX	*ctx;
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	if (sha256 == NULL && (sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatalx("OpenSSL has no SHA-256");
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("out of memory for a SHA-256 context");
	if (EVP_DigestInit_ex2(ctx, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, line, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		fatalx("SHA-256 failed");
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
}

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int
audit_parse_line(const char *line, size_t len, struct audit_record *rec,
    json_t **rootp, const char **why)
{
	json_t		*root, *v;
	json_error_t	 jerr;
	const char	*prev;

	*rootp = NULL;
	memset(rec, 0, sizeof(*rec));
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*why = "not a JSON line";
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		*why = "not a JSON object";
		goto bad;
	}
	v = json_object_get(root, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		*why = "seq missing or not a positive integer";
		goto bad;
	}
	rec->seq = json_integer_value(v);
	rec->ts = json_string_value(json_object_get(root, "ts"));
	if (rec->ts == NULL || time_parse(rec->ts, &rec->ts_ms) != 0) {
		*why = "ts missing or not an RFC 3339 time";
		goto bad;
	}
	rec->event = json_string_value(json_object_get(root, "event"));
	rec->actor = json_string_value(json_object_get(root, "actor"));
	if (rec->event == NULL || rec->actor == NULL) {
		*why = "event or actor missing";
		goto bad;
	}
	v = json_object_get(root, "incident");
	if (v != NULL && !json_is_string(v)) {
		*why = "incident is not a string";
		goto bad;
	}
	rec->incident = json_string_value(v);
	rec->data = json_object_get(root, "data");
	if (!json_is_object(rec->data)) {
		*why = "data missing or not an object";
		goto bad;
	}
	prev = json_string_value(json_object_get(root, "prev"));
	if (prev == NULL || !is_hex64(prev)) {
		*why = "prev missing or not 64 lowercase hex digits";
		goto bad;
	}
	*rootp = root;
	return 0;
bad:
	json_decref(root);
	memset(rec, 0, sizeof(*rec));
	return -EINVAL;
}

static int
fsync_dir_of(const char *path)
{
	char	*dir, *slash;
	int	 dfd, rc = 0;

	if ((dir = strdup(path)) == NULL)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1)
		rc = -errno;
	if (dfd != -1)
		close(dfd);
	free(dir);
	return rc;
}

static int
open_active(void)
{
	int fd;

	fd = open(al.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	al.fd = fd;
	return 0;
}

/* Parses and applies the records of one segment from its start. */
static int
replay_segment(const struct auditscan_seg *g, char *err, size_t errlen)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	off_t	 off = 0;
	int	 rc = 0;

	if ((fp = fopen(g->path, "r")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", g->path, strerror(errno));
		return rc;
	}
	while (off < g->size && (n = getline(&line, &cap, fp)) != -1) {
		struct audit_record	 rec;
		json_t			*root;
		const char		*why;
		size_t			 len = (size_t)n;

		if (line[len - 1] == '\n')
			len--;
		off += n;
		if (audit_parse_line(line, len, &rec, &root, &why) != 0) {
			/* Only an accepted break gets here: keep going without it. */
			log_warnx("%s: skipping the damaged line at byte %lld (%s)",
			    g->path, (long long)(off - n), why);
			continue;
		}
		rec.replaying = 1;
		if (al.apply != NULL && (rc = al.apply(&rec)) != 0) {
			snprintf(err, errlen, "%s: cannot apply seq %lld (%s): %s",
			    g->path, (long long)rec.seq, rec.event, strerror(-rc));
			json_decref(root);
			break;
		}
		json_decref(root);
	}
	free(line);
	fclose(fp);
	return rc;
}

static void
record_repairs(const struct auditscan *scan, int accept_broken)
{
	json_t	*data;
	size_t	 i;

	if (scan->torn) {
		data = json_pack("{s:s, s:I, s:I, s:s}",
		    "segment", scan->segs[scan->nsegs - 1].name,
		    "offset", (json_int_t)scan->torn_offset,
		    "bytes", (json_int_t)scan->torn_len,
		    "what", "a torn last record was cut away at start");
		if (audit_append("audit.repaired", NULL, "dutyd", data, NULL) != 0)
			log_warnx("cannot record the repair of the torn record");
	}
	for (i = 0; accept_broken && i < scan->nbreaks; i++) {
		const struct auditscan_break *b = &scan->breaks[i];

		if (b->accepted)
			continue;
		data = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s}",
		    "seq", (json_int_t)b->seq, "line_sha256", b->line_sha256,
		    "segment", scan->segs[b->seg].name, "offset", (json_int_t)b->offset,
		    "reason", b->reason, "flag", "--accept-broken-chain");
		if (audit_append("audit.chain_broken", NULL, "operator", data,
		    NULL) != 0)
			log_warnx("cannot record the accepted break at seq %lld",
			    (long long)b->seq);
	}
}

int
audit_open(const char *state_dir, audit_apply_fn apply, int accept_broken,
    char *err, size_t errlen)
{
	const struct auditscan_break	*bad;
	struct auditscan		 scan;
	struct stat			 st;
	size_t				 i, from;
	int				 rc;

	TAILQ_INIT(&al.waiters);
	al.apply = apply;
	al.seq = 0;
	memcpy(al.hash, AUDIT_ZERO_HASH, sizeof(al.hash));
	al.dirty = al.needs_trim = al.health = al.space_low = 0;
	al.seg_first = 0;
	al.ckpt_bytes = 0;
	al.next_rotate = 0;
	al.reserve_held = 0;
	if ((al.dir = strdup(state_dir)) == NULL ||
	    asprintf(&al.path, "%s/%s", state_dir, AUDITSCAN_ACTIVE) == -1) {
		al.path = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = auditscan_dir(state_dir, &scan, err, errlen)) != 0) {
		auditscan_free(&scan);
		return rc;
	}
	if ((bad = auditscan_unaccepted(&scan)) != NULL) {
		if (!accept_broken) {
			snprintf(err, errlen, "%s; dutyd will not start on a damaged "
			    "log. Check it with `dutyd --verify-audit %s`, restore the "
			    "file from a backup, or start with --accept-broken-chain "
			    "to go on with what is there (that is recorded)",
			    bad->reason, state_dir);
			auditscan_free(&scan);
			return -EINVAL;
		}
		for (i = 0; i < scan.nbreaks; i++)
			if (!scan.breaks[i].accepted)
				log_warnx("accepting damage by --accept-broken-chain: %s",
				    scan.breaks[i].reason);
	}
	if (scan.torn) {
		const struct auditscan_seg *g = &scan.segs[scan.nsegs - 1];

		/* Never answered to anyone: the write died with dutyd. */
		log_warnx("%s: cutting away a torn last record at byte offset %lld "
		    "(%zu bytes, after seq %lld): dutyd stopped while writing it, "
		    "before anyone was told it was saved", g->path,
		    (long long)scan.torn_offset, scan.torn_len,
		    (long long)scan.last_seq);
		if (truncate(g->path, scan.torn_offset) == -1) {
			rc = -errno;
			snprintf(err, errlen, "cannot cut the torn record off %s: %s",
			    g->path, strerror(errno));
			auditscan_free(&scan);
			return rc;
		}
	}

	/* The newest complete checkpoint holds everything before it. */
	from = auditscan_replay_start(&scan);
	for (i = from; i < scan.nsegs; i++)
		if ((rc = replay_segment(&scan.segs[i], err, errlen)) != 0) {
			auditscan_free(&scan);
			return rc;
		}
	al.seq = scan.last_seq;
	memcpy(al.hash, scan.last_hash, sizeof(al.hash));

	if (stat(al.path, &st) == -1 && errno == ENOENT) {
		/* A crash between closing a segment and opening the next. */
		if ((rc = open_active()) == 0)
			rc = fsync_dir_of(al.path);
		al.size = 0;
	} else {
		rc = open_active();
		al.size = scan.nsegs > 0 ? scan.segs[scan.nsegs - 1].size : 0;
		if (rc == 0 && scan.nsegs > 0) {
			const struct auditscan_seg *g = &scan.segs[scan.nsegs - 1];

			al.seg_first = g->first_seq;
			if (g->checkpoint)
				al.ckpt_bytes = g->checkpoint_end;
		}
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot open the audit log %s: %s; check that "
		    "state_dir exists and is writable by this user", al.path,
		    strerror(-rc));
		auditscan_free(&scan);
		return rc;
	}
	/*
	 * Next time replay must start at the active segment: owe it a
	 * checkpoint unless replay started there, or it is the only segment.
	 */
	al.checkpoint_owed = scan.nsegs > 0 && (from != scan.nsegs - 1 ||
	    strcmp(scan.segs[from].name, AUDITSCAN_ACTIVE) != 0) &&
	    !(scan.nsegs == 1 && strcmp(scan.segs[0].name, AUDITSCAN_ACTIVE) == 0);
	if (scan.nsegs > 0)
		log_info("audit log: %zu segment(s), %lld records verified, replayed "
		    "from %s", scan.nsegs, (long long)scan.records,
		    scan.segs[from].name);
	record_repairs(&scan, accept_broken);
	auditscan_free(&scan);
	audit_reserve_make();
	return 0;
}

void
audit_close(void)
{
	struct audit_waiter *w;

	audit_commit();
	while ((w = TAILQ_FIRST(&al.waiters)) != NULL) {
		TAILQ_REMOVE(&al.waiters, w, entry);
		w->queued = 0;
		w->cb(w->arg, -ECANCELED);
	}
	if (al.fd != -1)
		close(al.fd);
	al.fd = -1;
	free(al.path);
	al.path = NULL;
	free(al.dir);
	al.dir = NULL;
}

/*
 * The reserve
 */

static char *
reserve_path(void)
{
	char *p;

	if (al.dir == NULL || asprintf(&p, "%s/audit.reserve", al.dir) == -1)
		return NULL;
	return p;
}

/* 0 when the reserve is in place (or none is wanted), else -errno. */
int
audit_reserve_make(void)
{
	char	*path = reserve_path();
	int	 fd, rc = 0;

	if (path == NULL)
		return -ENOMEM;
	if (al.reserve == 0) {
		unlink(path);
		al.reserve_held = 0;
		free(path);
		return 0;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		rc = -errno;
	else {
		/* posix_fallocate returns the error rather than setting errno. */
		rc = -posix_fallocate(fd, 0, (off_t)al.reserve);
		if (rc == 0 && ftruncate(fd, (off_t)al.reserve) == -1)
			rc = -errno;
		if (rc == 0 && fdatasync(fd) == -1)
			rc = -errno;
		close(fd);
	}
	if (rc != 0)
		unlink(path);	/* half a reserve only takes space from the log */
	al.reserve_held = rc == 0;
	free(path);
	return rc;
}

/* The disk is full: give the reserve's space to dutyd's own records. */
static int
reserve_release(void)
{
	char *path;

	if (!al.reserve_held || (path = reserve_path()) == NULL)
		return 0;
	unlink(path);
	free(path);
	al.reserve_held = 0;
	al.space_low = 1;
	return 1;
}

void
audit_configure(int64_t segment_size, int64_t reserve)
{
	int changed = reserve != al.reserve;

	al.segment_size = segment_size;
	al.reserve = reserve;
	if (changed && al.dir != NULL && !al.space_low && audit_reserve_make() != 0)
		log_warnx("cannot set aside %lld bytes of disk reserve in %s; "
		    "running without it", (long long)reserve, al.dir);
}

void
audit_tick(void)
{
	if (al.fd == -1 && al.path != NULL && open_active() == 0)
		log_info("the audit log %s is open again", al.path);
	/* Space is back when the reserve can be made again. */
	if (al.space_low && audit_reserve_make() == 0) {
		al.space_low = 0;
		if (al.health == -ENOSPC || al.health == -EDQUOT)
			al.health = 0;
	}
}

/*
 * Segments
 */

int
audit_should_rotate(void)
{
	if (al.fd == -1 || time_now_ms() < al.next_rotate)
		return 0;
	return al.checkpoint_owed || al.size - al.ckpt_bytes >= al.segment_size;
}

int
audit_rotate(void)
{
	char	 name[64], *closed = NULL;
	int	 fd, rc = 0;

	/* Whatever is in it is synced before it is closed for good. */
	if (al.dirty && fdatasync(al.fd) == -1)
		return -errno;
	al.dirty = 0;
	if (al.size > 0) {
		auditscan_segment_name(al.seg_first, al.seq, name, sizeof(name));
		if (asprintf(&closed, "%s/%s", al.dir, name) == -1)
			return -ENOMEM;
		if (rename(al.path, closed) == -1) {
			rc = -errno;
			free(closed);
			return rc;
		}
		free(closed);
		close(al.fd);
		al.fd = -1;
		fd = open(al.path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
		    0600);
		if (fd == -1)
			rc = -errno;	/* audit_tick() and audit_append() retry */
		al.fd = fd;
		if (fsync_dir_of(al.path) != 0 && rc == 0)
			rc = -EIO;
		al.size = 0;
		al.seg_first = 0;
		log_info("audit log segment %s closed", name);
	}
	al.ckpt_bytes = 0;
	al.checkpoint_owed = 1;
	/* If the checkpoint cannot be written now, try again in a while. */
	al.next_rotate = time_now_ms() + 10 * 1000;
	return rc;
}

void
audit_checkpoint_done(void)
{
	al.checkpoint_owed = 0;
	al.ckpt_bytes = al.size;
	al.next_rotate = 0;
}

/* dutyd's own records may use the released reserve; clients' may not. */
static int
actor_is_dutyd(const char *actor)
{
	return strcmp(actor, "dutyd") == 0 || strcmp(actor, "operator") == 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
audit_append(const char *event, const char *incident, const char *actor,
    json_t *data, int64_t *seq_out)
{
	struct audit_record	 rec;
	json_t			*root;
	char			 ts[TIME_RFC3339_MAX], *line = NULL;
	size_t			 len;
	int64_t			 now = time_now_ms();
	int			 rc;

	if (data == NULL)
		data = json_object();
	/* Clients' records wait while the reserve is spent on dutyd's own. */
	if (al.space_low && !actor_is_dutyd(actor)) {
		json_decref(data);
		return -ENOSPC;
	}
	if (al.fd == -1 && (al.path == NULL || open_active() != 0)) {
		json_decref(data);
		return al.path == NULL ? -EBADF : -errno;
	}
	if (al.needs_trim) {
		if (ftruncate(al.fd, al.size) == -1) {
			rc = -errno;
			json_decref(data);
			al.health = rc;
			return rc;
		}
		al.needs_trim = 0;
	}
	time_format(now, ts, sizeof(ts));
	root = json_object();
	if (root == NULL || data == NULL ||
	    json_object_set_new(root, "seq", json_integer(al.seq + 1)) ||
	    json_object_set_new(root, "ts", json_string(ts)) ||
	    json_object_set_new(root, "event", json_string(event)) ||
	    (incident != NULL &&
	     json_object_set_new(root, "incident", json_string(incident))) ||
	    json_object_set_new(root, "actor", json_string(actor)) ||
	    json_object_set(root, "data", data) ||
	    json_object_set_new(root, "prev", json_string(al.hash)) ||
	    (line = json_dumps(root, JSON_COMPACT)) == NULL) {
		json_decref(root);
		json_decref(data);
		return -ENOMEM;
	}
	len = strlen(line);
	if (len > AUDIT_LINE_MAX) {
		free(line);
		json_decref(root);
		json_decref(data);
		return -EMSGSIZE;
	}
	line[len] = '\n';	/* json_dumps left room: the NUL */
	rc = write_all(al.fd, line, len + 1);
	if ((rc == -ENOSPC || rc == -EDQUOT) && reserve_release()) {
		log_errorx("the disk holding %s is full: released the %lld-byte "
		    "reserve so clocks and notifications can still be recorded; "
		    "reports and staff actions get 503 until space is freed",
		    al.dir, (long long)al.reserve);
		if (ftruncate(al.fd, al.size) == -1)
			al.needs_trim = 1;
		else if (actor_is_dutyd(actor))
			rc = write_all(al.fd, line, len + 1);
	}
	if (rc != 0) {
		/* Cut the partial line now, or before the next append. */
		if (ftruncate(al.fd, al.size) == -1)
			al.needs_trim = 1;
		al.health = rc;
		free(line);
		json_decref(root);
		json_decref(data);
		return rc;
	}
	audit_hash(line, len, al.hash);
	al.seq++;
	al.size += (off_t)len + 1;
	al.dirty = 1;
	al.appended++;
	if (al.seg_first == 0)
		al.seg_first = al.seq;
	free(line);

	memset(&rec, 0, sizeof(rec));
	rec.seq = al.seq;
	rec.ts_ms = now;
	rec.ts = ts;
	rec.event = event;
	rec.incident = incident;
	rec.actor = actor;
	rec.data = data;
	if (al.apply != NULL && (rc = al.apply(&rec)) != 0)
		log_errorx("audit seq %lld (%s) is on disk but could not be "
		    "applied in memory: %s; restart dutyd to rebuild from the log",
		    (long long)rec.seq, event, strerror(-rc));
	if (seq_out != NULL)
		*seq_out = rec.seq;
	json_decref(root);
	json_decref(data);
	return 0;
}

void
audit_wait(struct audit_waiter *w, void (*cb)(void *, int), void *arg)
{
	if (w->queued)
		return;
	w->cb = cb;
	w->arg = arg;
	w->queued = 1;
	w->gen = al.gen;
	TAILQ_INSERT_TAIL(&al.waiters, w, entry);
}

void
audit_wait_cancel(struct audit_waiter *w)
{
	if (w == NULL || !w->queued)
		return;
	TAILQ_REMOVE(&al.waiters, w, entry);
	w->queued = 0;
}

void
audit_commit(void)
{
	struct audit_waiter	*w;
	uint64_t		 covered;
	int			 status, rounds;

	/* Waiters may append and wait again: a few rounds settle it. */
	for (rounds = 0; rounds < 8; rounds++) {
		if (!al.dirty && TAILQ_EMPTY(&al.waiters))
			return;
		status = 0;
		if (al.dirty && al.fd != -1) {
			al.syncs++;
			if (fdatasync(al.fd) == -1) {
				status = -errno;
				al.health = status;
			} else {
				al.dirty = 0;
				al.health = al.space_low ? -ENOSPC : 0;
			}
		}
		/* Only the waiters queued before this sync are covered by it. */
		covered = al.gen++;
		while ((w = TAILQ_FIRST(&al.waiters)) != NULL && w->gen <= covered) {
			TAILQ_REMOVE(&al.waiters, w, entry);
			w->queued = 0;
			w->cb(w->arg, status);
		}
		if (status != 0)
			return;
	}
}

int
audit_health(void)
{
	return al.health;
}

void
audit_stats(uint64_t *appended, uint64_t *syncs)
{
	*appended = al.appended;
	*syncs = al.syncs;
}

int
audit_pending(void)
{
	return al.dirty || !TAILQ_EMPTY(&al.waiters);
}

int64_t
audit_last_seq(void)
{
	return al.seq;
}
