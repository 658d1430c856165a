/*
 * The file backend's history (store_scan()): the closed segments, which
 * never change once named, and the active one up to where it ended when
 * the scan began, so that appends and rotations meanwhile change nothing
 * the scan sees.  The names are listed and the active segment opened on
 * the loop (a rotation, also on the loop, cannot come between); the
 * reading happens on a worker thread.
 *
 * A segment is skipped without reading it when its records cannot be in
 * the period: the first record of the next segment is older than the
 * period's start, or its own first record is at or after its end.  That
 * takes record times to grow with seq, as dutyd writes them; a wall clock
 * stepped back across a segment's end could hide records at its edge from
 * a scan, never put records out of the period into it.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "store/auditscan.h"
#include "store/filescan.h"

#define FILESCAN_BUF	(1024 * 1024)	/* stdio buffer: fewer read(2) calls */
#define FILESCAN_HEAD	512		/* enough for a line's envelope */

struct filescan {
	struct auditscan	 segs;		/* closed segments (paths), oldest first */
	int			 active_fd;	/* audit.log as it was, -1: none */
	off_t			 active_size;
	int64_t			 from_ms, to_ms;
};

void *
filescan_open(const char *dir, off_t active_size, int64_t from_ms,
    int64_t to_ms, char *err, size_t errlen)
{
	struct filescan		*fs;
	struct auditscan_seg	*last;
	int			 rc;

	if ((fs = calloc(1, sizeof(*fs))) == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	fs->active_fd = -1;
	fs->active_size = active_size;
	fs->from_ms = from_ms;
	fs->to_ms = to_ms;
	if ((rc = auditscan_list(dir, &fs->segs, err, errlen)) != 0) {
		filescan_close(fs);
		errno = -rc;
		return NULL;
	}
	last = fs->segs.nsegs > 0 ? &fs->segs.segs[fs->segs.nsegs - 1] : NULL;
	if (last != NULL && strcmp(last->name, AUDITSCAN_ACTIVE) == 0) {
		fs->active_fd = open(last->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fs->active_fd == -1 && errno != ENOENT) {
			rc = errno;
			snprintf(err, errlen, "cannot read %s: %s", last->path,
			    strerror(rc));
			filescan_close(fs);
			errno = rc;
			return NULL;
		}
		/* Read through active_fd from now on, not by name. */
		free(last->path);
		free(last->name);
		fs->segs.nsegs--;
	}
	return fs;
}

void
filescan_close(void *arg)
{
	struct filescan *fs = arg;

	if (fs == NULL)
		return;
	if (fs->active_fd != -1)
		close(fs->active_fd);
	auditscan_free(&fs->segs);
	free(fs);
}

/* The time of the first record in FD, from its envelope; -1: unknown. */
static int
filescan_first_ts(int fd, int64_t *ts_ms)
{
	char		 head[FILESCAN_HEAD + 1], *t, *q;
	ssize_t		 n;

	if ((n = pread(fd, head, FILESCAN_HEAD, 0)) <= 0)
		return -1;
	head[n] = '\0';
	if ((t = strstr(head, ",\"ts\":\"")) == NULL ||
	    (q = strchr(t + 7, '"')) == NULL)
		return -1;
	*q = '\0';
	return time_parse(t + 7, ts_ms) == 0 ? 0 : -1;
}

static int
filescan_open_seg(const struct filescan *fs, size_t i)
{
	if (i < fs->segs.nsegs)
		return open(fs->segs.segs[i].path, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW);
	return fs->active_fd != -1 ? dup(fs->active_fd) : -1;
}

/*
 * Every whole line of FD (taken), up to LIMIT bytes (-1: to its end).  A
 * line without its newline is a record being written: left out.
 */
static int
filescan_lines(int fd, off_t limit, const char *name,
    int (*fn)(const char *, size_t, void *), void *arg, char *err,
    size_t errlen)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	off_t	 off = 0;
	int	 rc = 0;

	if (lseek(fd, 0, SEEK_SET) == -1 || (fp = fdopen(fd, "r")) == NULL) {
		rc = -errno;
		close(fd);
		snprintf(err, errlen, "cannot read %s: %s", name, strerror(-rc));
		return rc;
	}
	setvbuf(fp, NULL, _IOFBF, FILESCAN_BUF);
	while ((limit < 0 || off < limit) &&
	    (n = getline(&line, &cap, fp)) != -1) {
		off += n;
		if (line[n - 1] != '\n' || (limit >= 0 && off > limit))
			break;
		if ((rc = fn(line, (size_t)n - 1, arg)) != 0)
			break;
	}
	if (rc == 0 && ferror(fp)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read %s: I/O error", name);
	}
	free(line);
	fclose(fp);
	return rc;
}

static int
filescan_unreadable(const struct filescan *fs, size_t i, char *err,
    size_t errlen)
{
	int e = errno != 0 ? errno : EIO;

	snprintf(err, errlen, "cannot read %s: %s", i < fs->segs.nsegs ?
	    fs->segs.segs[i].path : AUDITSCAN_ACTIVE, strerror(e));
	return -e;
}

int
filescan_read(void *arg, int (*fn)(const char *, size_t, void *), void *fnarg,
    char *err, size_t errlen)
{
	struct filescan	*fs = arg;
	size_t		 i, nall = fs->segs.nsegs + (fs->active_fd != -1);
	int64_t		 first = 0, next = 0;
	int		 fd, nextfd = -1, rc = 0, have_first, have_next;

	if (nall == 0)
		return 0;
	if ((fd = filescan_open_seg(fs, 0)) == -1)
		return filescan_unreadable(fs, 0, err, errlen);
	have_first = filescan_first_ts(fd, &first) == 0;
	for (i = 0; i < nall && rc == 0; i++) {
		nextfd = -1;
		if (i + 1 < nall && (nextfd = filescan_open_seg(fs, i + 1)) == -1) {
			rc = filescan_unreadable(fs, i + 1, err, errlen);
			break;
		}
		have_next = nextfd != -1 && filescan_first_ts(nextfd, &next) == 0;
		if (have_first && first >= fs->to_ms)
			break;	/* this one and every later one begin after the period */
		if (have_next && next < fs->from_ms)
			close(fd);	/* all of it before the period */
		else
			rc = filescan_lines(fd, i < fs->segs.nsegs ? -1 :
			    fs->active_size, i < fs->segs.nsegs ?
			    fs->segs.segs[i].path : AUDITSCAN_ACTIVE, fn, fnarg,
			    err, errlen);
		fd = nextfd;
		nextfd = -1;
		first = next;
		have_first = have_next;
	}
	if (fd != -1)
		close(fd);
	if (nextfd != -1)
		close(nextfd);
	return rc;
}
