/*
 * The file backend of the store: the audit log in state_dir.
 *
 * Lines are appended with write(2) to the active segment, audit.log (the
 * records store.c holds for the end of a turn with one), and made durable
 * by one fdatasync per loop turn.  A failed write is cut
 * back so the file never holds half a record that later records chain
 * onto.  When the segment grows past segment_size it is renamed to
 * audit-<first>-<last>.log (never written again) and a new audit.log
 * starts with a checkpoint, so start-up replays from there.  auditscan.c
 * verifies the chain across all segments at every start.
 *
 * A reserve file holds disk space back: when the disk fills it is released
 * so that dutyd's own records (clocks firing, notifications) can still be
 * written, while reports and staff actions get 503 until it can be made
 * again.
 *
 * Also here, because nothing else touches state_dir: the lock that keeps a
 * second dutyd off the same log, and named secrets (links.key).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "base/fileio.h"
#include "base/log.h"
#include "store/auditscan.h"
#include "store/filelog.h"
#include "store/filescan.h"
#include "store/filesecret.h"

#define FILELOG_RETRY_MS	(10 * 1000)	/* a checkpoint that failed waits this long */

/* A closed segment, for reading lines back: its first seq and its file. */
struct filelog_closed {
	int64_t		 first;
	char		*path;
};

struct filelog {
	char		*dir;
	char		*path;		/* the active segment */
	int		 fd;
	int		 lockfd;
	off_t		 size;		/* end of the last whole record */
	int		 needs_trim;	/* a failed write may have left bytes past size */
	int64_t		 seg_first;	/* first seq in the active segment, 0: empty */
	int64_t		 seg_last;
	int64_t		 seg_plain;	/* its records other than checkpoint.* */
	off_t		 ckpt_bytes;	/* its checkpoint's size: not counted against segment_size */
	int64_t		 segment_size;
	int		 checkpoint_owed;	/* the active segment lacks a complete checkpoint */
	int64_t		 next_rotate;	/* after a failed checkpoint, not before (ms) */
	int64_t		 reserve;	/* bytes to hold back, 0: none */
	int		 reserve_held;
	int		 space_low;	/* the reserve was released: refuse clients' records */
	struct auditscan scan;		/* from open to replay */
	size_t		 replay_from;
	/*
	 * Set while the scan runs on a thread and replay follows it: what
	 * open leaves to the end of the scan.
	 */
	struct store_tail *pending;
	int		 accept_broken;
	/* Reading lines back (filelog_read()): the closed segments, oldest first. */
	struct filelog_closed *closed;
	size_t		 nclosed, closed_cap;
	int		 rfd;		/* one of them open for reading, or -1 */
	size_t		 rseg;		/* which */
	int64_t		 line_at;	/* filelog_line_at() */
};

static int	filelog_reserve_make(void);

static struct filelog	fl = { .fd = -1, .lockfd = -1, .rfd = -1,
			    .line_at = -1, .segment_size = 64 * 1024 * 1024 };

/* Room for one more closed segment. */
static int
filelog_closed_room(void)
{
	struct filelog_closed	*c;
	size_t			 cap;

	if (fl.nclosed < fl.closed_cap)
		return 0;
	cap = fl.closed_cap == 0 ? 16 : fl.closed_cap * 2;
	if ((c = reallocarray(fl.closed, cap, sizeof(*c))) == NULL)
		return -ENOMEM;
	fl.closed = c;
	fl.closed_cap = cap;
	return 0;
}

static void
filelog_closed_free(void)
{
	size_t i;

	for (i = 0; i < fl.nclosed; i++)
		free(fl.closed[i].path);
	free(fl.closed);
	fl.closed = NULL;
	fl.nclosed = fl.closed_cap = 0;
	if (fl.rfd != -1)
		close(fl.rfd);
	fl.rfd = -1;
}

/* The closed segments the scan found, for reading lines back. */
static int
filelog_closed_list(const struct auditscan *scan)
{
	size_t i;

	filelog_closed_free();
	for (i = 0; i < scan->nsegs; i++) {
		if (scan->segs[i].first_seq == 0 ||
		    strcmp(scan->segs[i].name, AUDITSCAN_ACTIVE) == 0)
			continue;
		if (filelog_closed_room() != 0 ||
		    (fl.closed[fl.nclosed].path = strdup(scan->segs[i].path)) ==
		    NULL)
			return -ENOMEM;
		fl.closed[fl.nclosed++].first = scan->segs[i].first_seq;
	}
	return 0;
}

/* mkdir -p, so a fresh checkout's `make run` just works. */
static int
filelog_mkdirs(const char *path)
{
	char	*p, *s;
	int	 rc = 0;

	if ((s = strdup(path)) == NULL)
		return -ENOMEM;
	for (p = s + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(s, 0700) == -1 && errno != EEXIST)
			rc = -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	free(s);
	return rc;
}

/* truncate(2) that does not follow a link. */
static int
filelog_truncate(const char *path, off_t len)
{
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -errno;
	if (ftruncate(fd, len) == -1)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * state_dir is trusted only when nobody else can put anything in it: it
 * is a directory (not a link) owned by dutyd's user and writable by it
 * alone, and nothing in it is a link or writable by others (secrets must
 * not even be readable: filesecret.c).  Otherwise another local user could plant a
 * link (audit.log -> /etc/shadow) that dutyd, perhaps root, would write
 * through.  Each refusal says what to run.
 */
static int
filelog_check_dir(const char *dir, char *err, size_t errlen)
{
	struct dirent	*e;
	struct stat	 st;
	char		 path[PATH_MAX];
	DIR		*d;
	int		 fd, rc = 0;

	if (lstat(dir, &st) == -1) {
		rc = -errno;
		snprintf(err, errlen, "cannot read state_dir %s: %s", dir,
		    strerror(-rc));
		return rc;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s is a symbolic link, which "
		    "dutyd does not follow: set state_dir to the directory it "
		    "points to", dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "state_dir %s belongs to uid %ld, not to "
		    "the user dutyd runs as (uid %ld); run: chown -R %ld %s",
		    dir, (long)st.st_uid, (long)geteuid(), (long)geteuid(), dir);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "state_dir %s is writable by %s (mode "
		    "%04o): anyone who can write there can make dutyd write "
		    "through a link of theirs; run: chmod 700 %s", dir,
		    st.st_mode & S_IWOTH ? "every user" : "its group",
		    (unsigned)(st.st_mode & 07777), dir);
		return -EPERM;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(fd)) == NULL) {
		rc = -errno;
		if (fd != -1)
			close(fd);
		snprintf(err, errlen, "cannot read state_dir %s: %s", dir,
		    strerror(-rc));
		return rc;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* gone meanwhile */
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s is a symbolic link: dutyd keeps "
			    "only its own files in state_dir and never follows "
			    "a link there. Find out who made it, then remove it "
			    "(rm %s)", path, path);
			rc = -ELOOP;
		} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
			snprintf(err, errlen, "%s is writable by %s (mode %04o); "
			    "run: chmod go-w %s", path, st.st_mode & S_IWOTH ?
			    "every user" : "its group",
			    (unsigned)(st.st_mode & 07777), path);
			rc = -EPERM;
		}
	}
	closedir(d);
	return rc;
}

/* One dutyd per state_dir: two would interleave the log and break the chain. */
static int
filelog_lock(const char *dir, char *err, size_t errlen)
{
	char	path[PATH_MAX], pid[32];
	ssize_t	n;
	int	rc;

	if ((rc = filelog_mkdirs(dir)) != 0) {
		snprintf(err, errlen, "cannot create state_dir %s: %s; create it "
		    "or fix state_dir in the configuration", dir, strerror(-rc));
		return rc;
	}
	if ((rc = filelog_check_dir(dir, err, errlen)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/dutyd.lock", dir);
	if ((fl.lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	if (flock(fl.lockfd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(fl.lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another dutyd (pid %s) is running with "
		    "state_dir %s; stop it first, or give this one its own "
		    "state_dir", pid[0] ? pid : "?", dir);
		close(fl.lockfd);
		fl.lockfd = -1;
		return -EBUSY;
	}
	if (ftruncate(fl.lockfd, 0) == 0) {
		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (pwrite(fl.lockfd, pid, strlen(pid), 0) < 0)
			log_warn("cannot write the pid to %s", path);
	}
	return 0;
}

static int
filelog_open_active(void)
{
	int fd;

	fd = open(fl.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -errno;
	fl.fd = fd;
	return 0;
}

/* What the scan found that replay must not see, as records to append. */
static json_t *
filelog_repairs(const struct auditscan *scan, int accept_broken)
{
	json_t	*list = json_array(), *data;
	size_t	 i;

	if (list == NULL)
		return NULL;
	if (scan->torn) {
		data = json_pack("{s:s, s:I, s:I, s:s}",
		    "segment", scan->segs[scan->nsegs - 1].name,
		    "offset", (json_int_t)scan->torn_offset,
		    "bytes", (json_int_t)scan->torn_len,
		    "what", "a torn last record was cut away at start");
		json_array_append_new(list, json_pack("{s:s, s:s, s:o*}", "event",
		    "audit.repaired", "actor", "dutyd", "data", data));
	}
	for (i = 0; accept_broken && i < scan->nbreaks; i++) {
		const struct auditscan_break *b = &scan->breaks[i];

		if (b->accepted)
			continue;
		data = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s}",
		    "seq", (json_int_t)b->seq, "line_sha256", b->line_sha256,
		    "segment", scan->segs[b->seg].name, "offset", (json_int_t)b->offset,
		    "reason", b->reason, "flag", "--accept-broken-chain");
		json_array_append_new(list, json_pack("{s:s, s:s, s:o*}", "event",
		    "audit.chain_broken", "actor", "operator", "data", data));
	}
	return list;
}

static int	filelog_scanned(int, struct store_tail *, char *, size_t);

static int
filelog_open(void *self, int accept_broken, struct store_tail *tail,
    char *err, size_t errlen)
{
	struct auditscan	*scan = &fl.scan;
	int			 rc;

	if ((rc = filelog_lock(fl.dir, err, errlen)) != 0)
		return rc;
	if (asprintf(&fl.path, "%s/%s", fl.dir, AUDITSCAN_ACTIVE) == -1) {
		fl.path = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fl.needs_trim = fl.space_low = fl.reserve_held = 0;
	fl.seg_first = fl.seg_last = fl.seg_plain = 0;
	fl.ckpt_bytes = 0;
	fl.next_rotate = 0;
	fl.pending = NULL;
	if ((rc = auditscan_list(fl.dir, scan, err, errlen)) != 0)
		return rc;
	/*
	 * One segment: replay starts at its first line whatever the scan
	 * finds, so the chain is checked on a thread while replay follows
	 * it, applying only lines it has checked (filelog_follow()).
	 * What open does with the scan's findings waits for its end.
	 */
	if (scan->nsegs == 1 && auditscan_start(scan) == 0) {
		fl.pending = tail;
		fl.accept_broken = accept_broken;
		fl.replay_from = 0;	/* not a former open's */
		return 0;
	}
	if ((rc = auditscan_scan(scan, err, errlen)) != 0)
		return rc;
	return filelog_scanned(accept_broken, tail, err, errlen);
}

/* What open does with the scan's findings: refuse, repair, open the active segment. */
static int
filelog_scanned(int accept_broken, struct store_tail *tail, char *err,
    size_t errlen)
{
	const struct auditscan_break	*bad;
	struct auditscan		*scan = &fl.scan;
	const struct auditscan_seg	*g;
	struct stat			 st;
	size_t				 i;
	int				 rc;

	/* Known only once the scan has seen each segment's first seq. */
	if ((rc = filelog_closed_list(scan)) != 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if ((bad = auditscan_unaccepted(scan)) != NULL) {
		if (!accept_broken) {
			snprintf(err, errlen, "%s; dutyd will not start on a damaged "
			    "log. Check it with `dutyd --verify-audit %s`, restore the "
			    "file from a backup, or start with --accept-broken-chain "
			    "to go on with what is there (that is recorded)",
			    bad->reason, fl.dir);
			return -EINVAL;
		}
		for (i = 0; i < scan->nbreaks; i++)
			if (!scan->breaks[i].accepted)
				log_warnx("accepting damage by --accept-broken-chain: %s",
				    scan->breaks[i].reason);
	}
	if (scan->torn) {
		g = &scan->segs[scan->nsegs - 1];
		/* Never answered to anyone: the write died with dutyd. */
		log_warnx("%s: cutting away a torn last record at byte offset %lld "
		    "(%zu bytes, after seq %lld): dutyd stopped while writing it, "
		    "before anyone was told it was saved", g->path,
		    (long long)scan->torn_offset, scan->torn_len,
		    (long long)scan->last_seq);
		if ((rc = filelog_truncate(g->path, scan->torn_offset)) != 0) {
			snprintf(err, errlen, "cannot cut the torn record off %s: %s",
			    g->path, strerror(-rc));
			return rc;
		}
	}
	if (stat(fl.path, &st) == -1 && errno == ENOENT) {
		/* A crash between closing a segment and opening the next. */
		if ((rc = filelog_open_active()) == 0)
			rc = fileio_fsync_dir(fl.path);
		fl.size = 0;
	} else {
		rc = filelog_open_active();
		g = scan->nsegs > 0 ? &scan->segs[scan->nsegs - 1] : NULL;
		fl.size = g != NULL ? g->size : 0;
		if (rc == 0 && g != NULL) {
			fl.seg_first = g->first_seq;
			fl.seg_last = g->last_seq;
			fl.seg_plain = g->plain_records;
			if (g->checkpoint)
				fl.ckpt_bytes = g->checkpoint_end;
		}
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot open the audit log %s: %s; check that "
		    "state_dir exists and is writable by this user", fl.path,
		    strerror(-rc));
		return rc;
	}
	/* The newest complete checkpoint holds everything before it. */
	fl.replay_from = auditscan_replay_start(scan);
	/*
	 * Next time replay must start at the active segment: owe it a
	 * checkpoint unless replay started there, or it is the only segment.
	 */
	fl.checkpoint_owed = scan->nsegs > 0 &&
	    (fl.replay_from != scan->nsegs - 1 ||
	    strcmp(scan->segs[fl.replay_from].name, AUDITSCAN_ACTIVE) != 0) &&
	    !(scan->nsegs == 1 &&
	    strcmp(scan->segs[0].name, AUDITSCAN_ACTIVE) == 0);
	tail->seq = scan->last_seq;
	memcpy(tail->hash, scan->last_hash, sizeof(tail->hash));
	tail->repairs = filelog_repairs(scan, accept_broken);
	return 0;
}

/*
 * Following the scan on its thread: how far replay may read, at least
 * NEED when the scan has checked that far.  Once it has ended, what it
 * found decides as in open: a break no audit.chain_broken record accepts
 * stops start-up here, with nothing after the break applied; else
 * replay reads every whole record.  -1 with *rc and err when it stops.
 */
static off_t
filelog_follow(off_t need, int *rc, char *err, size_t errlen)
{
	struct store_tail	*tail = fl.pending;
	off_t			 checked;

	if ((checked = auditscan_wait(&fl.scan, need)) >= need)
		return checked;
	fl.pending = NULL;
	if ((*rc = auditscan_finish(&fl.scan, 0, err, errlen)) != 0 ||
	    (*rc = filelog_scanned(fl.accept_broken, tail, err, errlen)) != 0)
		return -1;
	return fl.scan.segs[0].size;
}

/* Parses and applies the lines of one segment from its start. */
#define FILELOG_READ_BUF	(1024 * 1024)

static int
filelog_replay_segment(const struct auditscan_seg *g,
    int (*fn)(const char *, size_t, void *), void *arg, char *err,
    size_t errlen)
{
	FILE	*fp;
	char	*line = NULL, *buf;
	size_t	 cap = 0;
	ssize_t	 n;
	off_t	 off = 0, limit;
	int	 fd, rc = 0;

	if ((fd = open(g->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		rc = -errno;
		if (fd != -1)
			close(fd);
		snprintf(err, errlen, "cannot read %s: %s", g->path, strerror(-rc));
		return rc;
	}
	/*
	 * Big reads: stdio's 4 KiB made a read() for every eight records.
	 * glibc ignores the size without a buffer of ours; without memory
	 * the 4 KiB reads still work.
	 */
	if ((buf = malloc(FILELOG_READ_BUF)) != NULL)
		(void)setvbuf(fp, buf, _IOFBF, FILELOG_READ_BUF);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Following the scan, nothing of it but the path is ours yet. */
	limit = fl.pending != NULL ? 0 : g->size;
	while ((fl.pending != NULL || off < limit) &&
	    (n = getline(&line, &cap, fp)) != -1) {
		size_t len = (size_t)n;

		if (fl.pending != NULL && off + n > limit &&
		    (limit = filelog_follow(off + n, &rc, err, errlen)) == -1)
			break;
		if (off + n > limit)
			break;	/* a torn tail, or what the scan refused */
		if (line[len - 1] == '\n')
			len--;
		fl.line_at = off;
		off += n;
		if ((rc = fn(line, len, arg)) != 0)
			break;
	}
	fl.line_at = -1;
	free(line);
	fclose(fp);
	free(buf);	/* after fclose: stdio reads into it until then */
	return rc;
}

static int
filelog_replay(void *self, int (*fn)(const char *, size_t, void *), void *arg,
    char *err, size_t errlen)
{
	struct auditscan	*scan = &fl.scan;
	size_t			 i;
	int			 rc = 0;

	for (i = fl.replay_from; i < scan->nsegs && rc == 0; i++)
		rc = filelog_replay_segment(&scan->segs[i], fn, arg, err, errlen);
	if (fl.pending != NULL) {
		/* Replay stopped first, or read nothing: the scan decides. */
		if (rc == 0)
			(void)filelog_follow((off_t)LLONG_MAX, &rc, err, errlen);
		else {
			fl.pending = NULL;
			(void)auditscan_finish(scan, 1, err, 0);
		}
	}
	if (rc == 0 && scan->nsegs > 0)
		log_info("audit log: %zu segment(s), %lld records verified, replayed "
		    "from %s", scan->nsegs, (long long)scan->records,
		    scan->segs[fl.replay_from].name);
	auditscan_free(scan);
	if (rc == 0)
		filelog_reserve_make();
	return rc;
}

static void
filelog_close(void *self)
{
	if (fl.fd != -1)
		close(fl.fd);
	fl.fd = -1;
	if (fl.lockfd != -1)
		close(fl.lockfd);
	fl.lockfd = -1;
	fl.pending = NULL;
	auditscan_free(&fl.scan);	/* a scan still running is stopped */
	filelog_closed_free();
	free(fl.path);
	fl.path = NULL;
	free(fl.dir);
	fl.dir = NULL;
}

/*
 * The reserve
 */

static char *
filelog_reserve_path(void)
{
	char *p;

	if (fl.dir == NULL || asprintf(&p, "%s/audit.reserve", fl.dir) == -1)
		return NULL;
	return p;
}

static int
filelog_reserve_make(void)
{
	char	*path = filelog_reserve_path();
	int	 fd, rc = 0;

	if (path == NULL)
		return -ENOMEM;
	if (fl.reserve == 0) {
		unlink(path);
		fl.reserve_held = 0;
		free(path);
		return 0;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		rc = -errno;
	else {
		/* posix_fallocate returns the error rather than setting errno. */
		rc = -posix_fallocate(fd, 0, (off_t)fl.reserve);
		if (rc == 0 && ftruncate(fd, (off_t)fl.reserve) == -1)
			rc = -errno;
		if (rc == 0 && fdatasync(fd) == -1)
			rc = -errno;
		close(fd);
	}
	if (rc != 0)
		unlink(path);	/* half a reserve only takes space from the log */
	fl.reserve_held = rc == 0;
	free(path);
	return rc;
}

/* The disk is full: give the reserve's space to dutyd's own records. */
static int
filelog_reserve_release(void)
{
	char *path;

	if (!fl.reserve_held || (path = filelog_reserve_path()) == NULL)
		return 0;
	unlink(path);
	free(path);
	fl.reserve_held = 0;
	fl.space_low = 1;
	return 1;
}

static void
filelog_configure(void *self, int64_t segment_size, int64_t reserve)
{
	int changed = reserve != fl.reserve;

	fl.segment_size = segment_size;
	fl.reserve = reserve;
	if (changed && fl.fd != -1 && !fl.space_low &&
	    filelog_reserve_make() != 0)
		log_warnx("cannot set aside %lld bytes of disk reserve in %s; "
		    "running without it", (long long)reserve, fl.dir);
}

static int
filelog_tick(void *self)
{
	if (fl.fd == -1 && fl.path != NULL && filelog_open_active() == 0)
		log_info("the audit log %s is open again", fl.path);
	/* Space is back when the reserve can be made again. */
	if (fl.space_low && filelog_reserve_make() == 0) {
		fl.space_low = 0;
		return 1;
	}
	return 0;
}

static int
filelog_health(void *self)
{
	return fl.space_low ? -ENOSPC : 0;
}

/*
 * Segments
 */

static int
filelog_checkpoint_due(void *self, int64_t now)
{
	if (fl.fd == -1 || now < fl.next_rotate)
		return 0;
	return fl.checkpoint_owed || fl.size - fl.ckpt_bytes >= fl.segment_size;
}

static int
filelog_rotate(void *self, int64_t now)
{
	char	 name[64], *closed = NULL;
	int	 fd, rc = 0;

	/* If the checkpoint cannot be written now, try again in a while. */
	fl.next_rotate = now + FILELOG_RETRY_MS;
	fl.checkpoint_owed = 1;
	/*
	 * A segment holding nothing but checkpoint records (one that failed
	 * half-way) stays open: the next attempt goes after it, and closing
	 * it would only leave a useless file behind every time.
	 */
	if (fl.seg_plain == 0)
		return 0;
	/* Whatever is in it is synced before it is closed for good. */
	if (fdatasync(fl.fd) == -1)
		return -errno;
	auditscan_segment_name(fl.seg_first, fl.seg_last, name, sizeof(name));
	if (asprintf(&closed, "%s/%s", fl.dir, name) == -1)
		return -ENOMEM;
	/* Its lines are read back from the new name. */
	if (filelog_closed_room() != 0) {
		free(closed);
		return -ENOMEM;
	}
	if (rename(fl.path, closed) == -1) {
		rc = -errno;
		free(closed);
		return rc;
	}
	fl.closed[fl.nclosed].first = fl.seg_first;
	fl.closed[fl.nclosed++].path = closed;
	close(fl.fd);
	fl.fd = -1;
	fd = open(fl.path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		rc = -errno;	/* filelog_tick() and filelog_append() retry */
	fl.fd = fd;
	if (fileio_fsync_dir(fl.path) != 0 && rc == 0)
		rc = -EIO;
	fl.size = 0;
	fl.ckpt_bytes = 0;
	fl.seg_first = fl.seg_last = fl.seg_plain = 0;
	log_info("audit log segment %s closed", name);
	return rc;
}

static void
filelog_checkpoint_done(void *self)
{
	fl.checkpoint_owed = 0;
	fl.ckpt_bytes = fl.size;
	fl.next_rotate = 0;
}

/*
 * Appending
 */

/* Whole lines, records FIRST to LAST (PLAIN of them not checkpoint.*). */
static int
filelog_write(int64_t first, int64_t last, int64_t plain, const char *line,
    size_t len, unsigned flags)
{
	int rc;

	/* Clients' records wait while the reserve is spent on dutyd's own. */
	if (fl.space_low && !(flags & STORE_PRIVILEGED))
		return -ENOSPC;
	if (fl.fd == -1 && (fl.path == NULL || filelog_open_active() != 0))
		return fl.path == NULL ? -EBADF : -errno;
	if (fl.needs_trim) {
		if (ftruncate(fl.fd, fl.size) == -1)
			return -errno;
		fl.needs_trim = 0;
	}
	rc = fileio_write_all(fl.fd, line, len);
	if ((rc == -ENOSPC || rc == -EDQUOT) && filelog_reserve_release()) {
		log_errorx("the disk holding %s is full: released the %lld-byte "
		    "reserve so clocks and notifications can still be recorded; "
		    "reports and staff actions get 503 until space is freed",
		    fl.dir, (long long)fl.reserve);
		if (ftruncate(fl.fd, fl.size) == -1)
			fl.needs_trim = 1;
		else if (flags & STORE_PRIVILEGED)
			rc = fileio_write_all(fl.fd, line, len);
	}
	if (rc != 0) {
		/* Cut the partial line now, or before the next append. */
		if (ftruncate(fl.fd, fl.size) == -1)
			fl.needs_trim = 1;
		return rc;
	}
	fl.size += (off_t)len;
	if (fl.seg_first == 0)
		fl.seg_first = first;
	fl.seg_last = last;
	fl.seg_plain += plain;
	return 0;
}

static int
filelog_append(void *self, int64_t seq, const char *line, size_t len,
    unsigned flags)
{
	int rc = filelog_write(seq, seq, (flags & STORE_CHECKPOINT) ? 0 : 1,
	    line, len, flags);

	fl.line_at = rc == 0 ? fl.size - (off_t)len : -1;
	return rc;
}

static int
filelog_append_lines(void *self, int64_t first, int64_t last,
    const char *lines, size_t len, unsigned flags)
{
	int rc = filelog_write(first, last, last - first + 1, lines, len, flags);

	fl.line_at = rc == 0 ? fl.size - (off_t)len : -1;	/* the first line's */
	return rc;
}

static int64_t
filelog_line_at(void *self)
{
	return fl.line_at;
}

/*
 * Reading lines back: the segment holding SEQ (the active one through its
 * own descriptor, which pread(2) reads despite O_APPEND; a closed one kept
 * open while reads go to it), then LEN bytes at AT.
 */
static int
filelog_read(void *self, int64_t seq, int64_t at, char *buf, size_t len)
{
	size_t	 lo = 0, hi = fl.nclosed, mid, got = 0;
	ssize_t	 n;
	int	 fd;

	if (at < 0 || seq <= 0)
		return -ENODATA;
	if (fl.seg_first != 0 && seq >= fl.seg_first) {
		if (seq > fl.seg_last || at + (off_t)len > fl.size)
			return -ENODATA;
		if ((fd = fl.fd) == -1)
			return -EBADF;
	} else {
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (fl.closed[mid].first <= seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0)
			return -ENODATA;
		if (fl.rfd == -1 || fl.rseg != lo - 1) {
			if (fl.rfd != -1)
				close(fl.rfd);
			if ((fl.rfd = open(fl.closed[lo - 1].path, O_RDONLY |
			    O_CLOEXEC | O_NOFOLLOW)) == -1)
				return -errno;
			fl.rseg = lo - 1;
		}
		fd = fl.rfd;
	}
	while (got < len) {
		if ((n = pread(fd, buf + got, len - got, at + (off_t)got)) == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	return 0;
}

static int
filelog_sync(void *self)
{
	if (fl.fd != -1 && fdatasync(fl.fd) == -1)
		return -errno;
	return 0;
}

static int
filelog_secret(void *self, const char *name, void *buf, size_t len, char *err,
    size_t errlen)
{
	return filesecret_get(fl.dir, name, buf, len, err, errlen);
}

/* History: the segments as they are now, the active one to its last whole record. */
static void *
filelog_scan_open(void *self, int64_t from_ms, int64_t to_ms, char *err,
    size_t errlen)
{
	return filescan_open(fl.dir, fl.size, from_ms, to_ms, err, errlen);
}

static const struct store_backend filelog_backend = {
	.name = "file",
	.self = &fl,
	.open = filelog_open,
	.replay = filelog_replay,
	.append = filelog_append,
	.append_lines = filelog_append_lines,
	.sync = filelog_sync,
	.health = filelog_health,
	.tick = filelog_tick,
	.checkpoint_due = filelog_checkpoint_due,
	.rotate = filelog_rotate,
	.checkpoint_done = filelog_checkpoint_done,
	.configure = filelog_configure,
	.secret = filelog_secret,
	.close = filelog_close,
	.line_at = filelog_line_at,
	.read = filelog_read,
	.scan_open = filelog_scan_open,
	.scan_read = filescan_read,
	.scan_close = filescan_close,
};

const struct store_backend *
filelog_at(const char *state_dir)
{
	free(fl.dir);
	if ((fl.dir = strdup(state_dir)) == NULL)
		return NULL;
	return &filelog_backend;
}

/*
 * --verify-audit: the chain, offline, as a person would check it.
 */
int
filelog_verify(char *const *paths, size_t n, FILE *out)
{
	struct auditscan		 scan;
	struct stat			 st;
	char				 err[1024];
	int				 rc, damaged;

	if (n == 1 && stat(paths[0], &st) == 0 && S_ISDIR(st.st_mode))
		rc = auditscan_dir(paths[0], &scan, err, sizeof(err));
	else
		rc = auditscan_files(paths, n, &scan, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "dutyd: %s\n", err);
		auditscan_free(&scan);
		return 2;
	}
	damaged = auditscan_print(&scan, out);
	auditscan_free(&scan);
	return damaged ? 1 : 0;
}
