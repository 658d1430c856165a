/*
 * Verifying the audit log's chain across its segments, fast.
 *
 * Every line is hashed; its seq and prev are read from the fixed envelope
 * dutyd writes ({"seq":N,… and …,"prev":"<64 hex>"}) and only lines that
 * do not have it are parsed as JSON.  Damage does not stop the scan: it
 * resynchronises on the next line, so every break is found and an operator
 * can accept them all at once (--accept-broken-chain).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/record.h"
#include "store/auditscan.h"


/* A closed segment's name: audit-<12 digits>-<12 digits>.log. */
static int
closed_name(const char *name)
{
	size_t i;

	if (strlen(name) != 6 + 12 + 1 + 12 + 4 || strncmp(name, "audit-", 6) != 0 ||
	    name[18] != '-' || strcmp(name + 31, ".log") != 0)
		return 0;
	for (i = 6; i < 31; i++)
		if (i != 18 && (name[i] < '0' || name[i] > '9'))
			return 0;
	return 1;
}

void
auditscan_segment_name(int64_t first, int64_t last, char *buf, size_t len)
{
	snprintf(buf, len, "audit-%012lld-%012lld.log", (long long)first,
	    (long long)last);
}

static int
add_seg(struct auditscan *s, const char *path)
{
	struct auditscan_seg	*segs, *g;
	const char		*slash = strrchr(path, '/');

	segs = reallocarray(s->segs, s->nsegs + 1, sizeof(*segs));
	if (segs == NULL)
		return -ENOMEM;
	s->segs = segs;
	g = &segs[s->nsegs];
	memset(g, 0, sizeof(*g));
	if ((g->path = strdup(path)) == NULL ||
	    (g->name = strdup(slash ? slash + 1 : path)) == NULL) {
		free(g->path);
		return -ENOMEM;
	}
	s->nsegs++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The fixed envelope: {"seq":N, … ,"prev":"<64 hex>"}.  Returns 0 with
 * seq, prev and event (not NUL-terminated: evlen) filled, or -1.
 */
static int
envelope(const char *line, size_t len, int64_t *seq, char prev[RECORD_HASH_HEX],
    const char **event, size_t *evlen)
{
	const char	*p = line + 7, *e, *q;
	int64_t		 n = 0;
	size_t		 i;

	if (len < 7 + 1 + 8 + 66 + 1 || strncmp(line, "{\"seq\":", 7) != 0)
		return -1;
	for (i = 0; *p >= '0' && *p <= '9' && i < 18; p++, i++)
		n = n * 10 + (*p - '0');
	if (i == 0 || *p != ',')
		return -1;
	q = line + len - 75;	/* ,"prev":"<64>"} */
	if (strncmp(q, ",\"prev\":\"", 9) != 0 || line[len - 2] != '"' ||
	    line[len - 1] != '}')
		return -1;
	for (i = 0; i < 64; i++) {
		char c = q[9 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		prev[i] = c;
	}
	prev[64] = '\0';
	*seq = n;
	/* "event" follows "ts"; look for it near the start only. */
	e = memmem(line, len < 160 ? len : 160, ",\"event\":\"", 10);
	*event = NULL;
	*evlen = 0;
	if (e != NULL) {
		e += 10;
		q = memchr(e, '"', (size_t)(line + len - e));
		if (q != NULL) {
			*event = e;
			*evlen = (size_t)(q - e);
		}
	}
	return 0;
}

static int
event_is(const char *ev, size_t evlen, const char *name)
{
	return ev != NULL && evlen == strlen(name) && memcmp(ev, name, evlen) == 0;
}

struct accepted {
	int64_t		 seq;
	char		 sha[RECORD_HASH_HEX];
};

struct auditscan_state {
	int64_t		 expect;	/* next seq; 0 before the first line */
	char		 hash[RECORD_HASH_HEX];	/* of the last line */
	char		 hash2[RECORD_HASH_HEX];	/* of the line before it */
	int		 prev_broke;
	int		 leading;	/* no record but checkpoint.* yet in this segment */
	int		 in_ckpt;	/* after its leading checkpoint.begin */
	struct accepted	*acc;
	size_t		 nacc;
};

/*
 * A scan on a thread (auditscan_start): how far it has checked the last
 * segment, for the replay that follows it.  Told every AUDITSCAN_TELL
 * lines, not each: a lock and a wake-up a line would cost more than the
 * line's hash.
 */
#define AUDITSCAN_TELL	64

struct auditscan_watch {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	off_t		 checked;	/* every line ending at or before it checked */
	int		 waiting;	/* the follower sleeps on cond */
	int		 stop;		/* the follower gave up: end early */
	int		 done;
	int		 rc;
	char		 err[256];
};

/* Tells the follower that the last segment is checked up to CHECKED; nonzero: stop. */
static int
watch_tell(struct auditscan_watch *w, off_t checked, int done)
{
	int stop;

	pthread_mutex_lock(&w->lock);
	if (checked > w->checked)
		w->checked = checked;
	w->done |= done;
	if (w->waiting)
		pthread_cond_broadcast(&w->cond);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* Where a line is: a byte offset in a file, a row's seq in a table. */
static const char *
where(const struct auditscan *s, off_t off, char *buf, size_t len)
{
	snprintf(buf, len, "%s %lld", s->rows ? "row" : "byte", (long long)off);
	return buf;
}

static void
add_break(struct auditscan *s, size_t seg, off_t off, int64_t seq,
    const char *sha, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
add_break(struct auditscan *s, size_t seg, off_t off, int64_t seq,
    const char *sha, const char *fmt, ...)
{
	struct auditscan_break	*b;
	va_list			 ap;
	char			 why[160];
	int64_t			 good = seq - 1;

	if (s->nbreaks == 0) {
		/* Everything before the first bad record is still good. */
		if (good < s->last_good_seq)
			s->last_good_seq = good;
	}
	if (s->nbreaks >= AUDITSCAN_MAX_BREAKS) {
		s->more_breaks++;
		return;
	}
	b = &s->breaks[s->nbreaks++];
	memset(b, 0, sizeof(*b));
	b->seq = seq;
	b->seg = seg;
	b->offset = off;
	memcpy(b->line_sha256, sha, RECORD_HASH_HEX);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(b->reason, sizeof(b->reason), "%s: the hash chain is broken: "
	    "the first bad record is seq %lld (%s)", s->segs[seg].path,
	    (long long)seq, why);
}

static void
note_accepted(struct auditscan_state *st, const char *line, size_t len)
{
	struct record	 rec;
	json_t			*root, *v;
	const char		*why, *sha;
	struct accepted		*a;

	if (record_parse(line, len, &rec, &root, &why) != 0)
		return;
	v = json_object_get(rec.data, "seq");
	sha = json_string_value(json_object_get(rec.data, "line_sha256"));
	if (json_is_integer(v) && sha != NULL && strlen(sha) == 64 &&
	    (a = reallocarray(st->acc, st->nacc + 1, sizeof(*a))) != NULL) {
		st->acc = a;
		a[st->nacc].seq = json_integer_value(v);
		memcpy(a[st->nacc].sha, sha, RECORD_HASH_HEX);
		st->nacc++;
	}
	json_decref(root);
}

/*
 * One whole line (without its newline) at OFF (a byte offset, or the row's
 * seq when fed from a table); NEXT is where the line after it starts.
 * MAY_BE_TORN: it is the last bytes of the active segment, so a line that
 * is not a record is half a record there.  0: a record; 1: it was half a
 * record (nothing counted); 2: not a record (a break).
 */
static int
scan_line(struct auditscan *s, struct auditscan_state *st, size_t idx,
    int dirmode, const char *line, size_t len, off_t off, off_t next,
    int may_be_torn)
{
	struct auditscan_seg	*g = &s->segs[idx];
	const char		*event, *why;
	struct record		 rec;
	json_t			*root = NULL;
	char			 sha[RECORD_HASH_HEX], prev[RECORD_HASH_HEX], at[48];
	int64_t			 seq;
	size_t			 evlen;
	int			 broke = 0;

	record_hash(line, len, sha);
	if (envelope(line, len, &seq, prev, &event, &evlen) != 0) {
		if (record_parse(line, len, &rec, &root, &why) != 0) {
			if (may_be_torn)
				return 1;
			add_break(s, idx, off, st->expect ? st->expect : 1, sha,
			    "%s is not a record: %s", where(s, off, at, sizeof(at)),
			    why);
			st->prev_broke = 1;
			memcpy(st->hash2, st->hash, RECORD_HASH_HEX);
			memcpy(st->hash, sha, RECORD_HASH_HEX);
			if (st->expect)
				st->expect++;
			return 2;
		}
		seq = rec.seq;
		memcpy(prev, json_string_value(json_object_get(root, "prev")),
		    RECORD_HASH_HEX);
		event = rec.event;
		evlen = strlen(rec.event);
	}
	if (st->expect == 0) {
		s->first_seq = seq;
		if (seq != 1) {
			if (dirmode) {
				add_break(s, idx, off, 1, sha, "the log starts at seq "
				    "%lld: earlier %s were removed", (long long)seq,
				    s->rows ? "rows" : "segments");
				broke = 1;
			} else
				s->partial = 1;
		} else if (strcmp(prev, RECORD_ZERO_HASH) != 0) {
			add_break(s, idx, off, 1, sha, "its prev is not 64 zeros: "
			    "the start of the log was edited or removed");
			broke = 1;
		}
	} else if (seq != st->expect) {
		add_break(s, idx, off, st->expect, sha, "%s holds seq %lld "
		    "instead: records were removed or reordered",
		    where(s, off, at, sizeof(at)), (long long)seq);
		broke = 1;
	} else if (strcmp(prev, st->hash) != 0 && !st->prev_broke) {
		if (seq == 1)
			add_break(s, idx, off, 1, sha, "its prev is not 64 zeros");
		else
			add_break(s, idx, off, seq - 1, sha, "its hash does not match "
			    "the prev of seq %lld at %s of %s: it was edited",
			    (long long)seq, where(s, off, at, sizeof(at)), g->name);
		broke = 1;
	}
	/* A table's key is the line's seq: a row moved under another key is damage too. */
	if (!broke && s->rows && seq != (int64_t)off) {
		add_break(s, idx, off, seq, sha, "row %lld holds the line of seq "
		    "%lld: rows were renumbered", (long long)off, (long long)seq);
		broke = 1;
	}
	if (s->nbreaks == 0) {
		s->last_good_seq = seq;
		memcpy(s->last_good_hash, sha, RECORD_HASH_HEX);
	} else if (broke && s->nbreaks == 1 && s->last_good_seq == seq - 2) {
		/* The previous record was the bad one: the good one is before it. */
		memcpy(s->last_good_hash, st->hash2, RECORD_HASH_HEX);
	}
	st->prev_broke = broke;
	memcpy(st->hash2, st->hash, RECORD_HASH_HEX);
	memcpy(st->hash, sha, RECORD_HASH_HEX);
	st->expect = seq + 1;
	s->records++;
	s->last_seq = seq;
	if (g->first_seq == 0)
		g->first_seq = seq;
	g->last_seq = seq;

	/*
	 * A segment that opens with checkpoint.begin and holds its
	 * checkpoint.end can be replayed from.  The parts are written
	 * across loop turns with live records between them.  A
	 * checkpoint that failed half-way before any live record may
	 * come first: the next attempt follows it in the same segment.
	 */
	if (evlen > 11 && memcmp(event, "checkpoint.", 11) == 0) {
		if (st->leading && event_is(event, evlen, "checkpoint.begin"))
			st->in_ckpt = 1;
		else if (st->in_ckpt && event_is(event, evlen, "checkpoint.end")) {
			g->checkpoint = 1;
			g->checkpoint_end = next;
			st->in_ckpt = st->leading = 0;
		}
	} else {
		g->plain_records++;
		st->leading = 0;
	}
	if (event_is(event, evlen, "audit.chain_broken"))
		note_accepted(st, line, len);
	json_decref(root);
	return 0;
}

static int
scan_segment(struct auditscan *s, struct auditscan_state *st, size_t idx,
    int dirmode, char *err, size_t errlen)
{
	struct auditscan_seg	*g = &s->segs[idx];
	struct stat		 sb;
	FILE			*fp = NULL;
	char			*line = NULL, sha[RECORD_HASH_HEX];
	int			 fd;
	size_t			 cap = 0;
	ssize_t			 n;
	off_t			 off = 0;
	int			 rc = 0;
	int			 last_seg = idx + 1 == s->nsegs, told = 0;

	/* In state_dir a link is never followed (filelog.c refuses them too). */
	fd = open(g->path, O_RDONLY | O_CLOEXEC | (dirmode ? O_NOFOLLOW : 0));
	if (fd == -1 || (fp = fdopen(fd, "r")) == NULL ||
	    fstat(fileno(fp), &sb) == -1) {
		if (fp == NULL && fd != -1) {
			rc = -errno;
			close(fd);
			errno = -rc;
		}
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", g->path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return rc;
	}
	st->leading = 1;
	st->in_ckpt = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		size_t			 len = (size_t)n;
		int			 eof, got;

		eof = off + n >= sb.st_size;
		if (line[len - 1] != '\n') {
			if (last_seg) {
				s->torn = 1;
				s->torn_offset = off;
				s->torn_len = len;
				break;
			}
			/* A closed segment must end with a whole line. */
			record_hash(line, len, sha);
			add_break(s, idx, off, st->expect ? st->expect : 1, sha,
			    "%s ends in half a line", g->name);
		} else
			len--;
		got = scan_line(s, st, idx, dirmode, line, len, off, off + n,
		    last_seg && eof);
		if (got == 1) {
			/* Half a record that happens to end in a newline. */
			s->torn = 1;
			s->torn_offset = off;
			s->torn_len = (size_t)n;
			break;
		}
		/*
		 * Every line before this one holds: its prev matched the one
		 * before it and nothing broke yet (a break stops the follower
		 * there until the scan ends and says whether it is accepted).
		 */
		if (s->watch != NULL && last_seg && s->nbreaks == 0 &&
		    ++told >= AUDITSCAN_TELL) {
			told = 0;
			if (watch_tell(s->watch, off, 0)) {
				rc = -ECANCELED;
				snprintf(err, errlen, "the scan of %s was stopped",
				    g->path);
				break;
			}
		}
		off += n;
		if (got == 0)
			g->size = off;
	}
	if (ferror(fp)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read %s: I/O error", g->path);
	}
	free(line);
	fclose(fp);
	return rc;
}

static int
scan_begin(struct auditscan *s, struct auditscan_state *st, char *err,
    size_t errlen)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->hash, RECORD_ZERO_HASH, sizeof(st->hash));
	memcpy(s->last_hash, RECORD_ZERO_HASH, sizeof(s->last_hash));
	memcpy(s->last_good_hash, RECORD_ZERO_HASH, sizeof(s->last_good_hash));
	s->breaks = calloc(AUDITSCAN_MAX_BREAKS, sizeof(*s->breaks));
	if (s->breaks == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void
scan_end(struct auditscan *s, struct auditscan_state *st)
{
	size_t i, j;

	memcpy(s->last_hash, st->hash, sizeof(s->last_hash));
	if (s->nbreaks == 0)
		memcpy(s->last_good_hash, st->hash, sizeof(s->last_good_hash));
	for (i = 0; i < s->nbreaks; i++)
		for (j = 0; j < st->nacc; j++)
			if (st->acc[j].seq == s->breaks[i].seq &&
			    strcmp(st->acc[j].sha, s->breaks[i].line_sha256) == 0)
				s->breaks[i].accepted = 1;
	free(st->acc);
	st->acc = NULL;
	st->nacc = 0;
}

static int
scan_all(struct auditscan *s, int dirmode, char *err, size_t errlen)
{
	struct auditscan_state	 st;
	size_t			 i;
	int			 rc;

	if ((rc = scan_begin(s, &st, err, errlen)) != 0)
		return rc;
	for (i = 0; i < s->nsegs && rc == 0; i++)
		rc = scan_segment(s, &st, i, dirmode, err, errlen);
	scan_end(s, &st);
	return rc;
}

int
auditscan_list(const char *dir, struct auditscan *s, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**names = NULL, path[4096];
	size_t		 n = 0, i;
	int		 rc = 0;

	memset(s, 0, sizeof(*s));
	if ((d = opendir(dir)) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot read state_dir %s: %s", dir,
		    strerror(errno));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char **nn;

		if (!closed_name(de->d_name))
			continue;
		if ((nn = reallocarray(names, n + 1, sizeof(*names))) == NULL ||
		    (nn[n] = strdup(de->d_name)) == NULL) {
			names = nn != NULL ? nn : names;
			rc = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (rc == 0 && n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = add_seg(s, path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, AUDITSCAN_ACTIVE);
	if (rc == 0 && stat(path, &st) == 0)
		rc = add_seg(s, path);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	return 0;
}

int
auditscan_dir(const char *dir, struct auditscan *s, char *err, size_t errlen)
{
	int rc;

	if ((rc = auditscan_list(dir, s, err, errlen)) != 0)
		return rc;
	return scan_all(s, 1, err, errlen);
}

int
auditscan_scan(struct auditscan *s, char *err, size_t errlen)
{
	return scan_all(s, 1, err, errlen);
}

static void *
auditscan_thread(void *arg)
{
	struct auditscan	*s = arg;
	struct auditscan_watch	*w = s->watch;
	int			 rc;

	rc = scan_all(s, 1, w->err, sizeof(w->err));
	record_hash_done();
	pthread_mutex_lock(&w->lock);
	w->rc = rc;
	pthread_mutex_unlock(&w->lock);
	(void)watch_tell(w, 0, 1);
	return NULL;
}

int
auditscan_start(struct auditscan *s)
{
	struct auditscan_watch	*w;
	sigset_t		 all, old;
	int			 rc;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	if ((rc = pthread_mutex_init(&w->lock, NULL)) != 0) {
		free(w);
		return -rc;
	}
	if ((rc = pthread_cond_init(&w->cond, NULL)) != 0) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -rc;
	}
	s->watch = w;
	/* Signals stay with the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, auditscan_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		s->watch = NULL;
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -rc;
	}
	return 0;
}

off_t
auditscan_wait(struct auditscan *s, off_t need)
{
	struct auditscan_watch	*w = s->watch;
	off_t			 checked;

	pthread_mutex_lock(&w->lock);
	while (w->checked < need && !w->done) {
		w->waiting = 1;
		pthread_cond_wait(&w->cond, &w->lock);
		w->waiting = 0;
	}
	checked = w->checked;
	pthread_mutex_unlock(&w->lock);
	return checked;
}

int
auditscan_finish(struct auditscan *s, int stop, char *err, size_t errlen)
{
	struct auditscan_watch	*w = s->watch;
	int			 rc;

	if (w == NULL)
		return 0;
	if (stop) {
		pthread_mutex_lock(&w->lock);
		w->stop = 1;
		pthread_mutex_unlock(&w->lock);
	}
	pthread_join(w->thread, NULL);
	rc = w->rc;
	if (rc != 0)
		snprintf(err, errlen, "%s", w->err);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	s->watch = NULL;
	return rc;
}

int
auditscan_files(char *const *paths, size_t n, struct auditscan *s, char *err,
    size_t errlen)
{
	size_t	i;
	int	rc;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++)
		if ((rc = add_seg(s, paths[i])) != 0) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
	return scan_all(s, 0, err, errlen);
}

void
auditscan_free(struct auditscan *s)
{
	char	err[8];
	size_t	i;

	(void)auditscan_finish(s, 1, err, sizeof(err));
	for (i = 0; i < s->nsegs; i++) {
		free(s->segs[i].path);
		free(s->segs[i].name);
	}
	free(s->segs);
	free(s->breaks);
	if (s->state != NULL)
		free(s->state->acc);
	free(s->state);
	memset(s, 0, sizeof(*s));
}

const struct auditscan_break *
auditscan_unaccepted(const struct auditscan *s)
{
	size_t i;

	for (i = 0; i < s->nbreaks; i++)
		if (!s->breaks[i].accepted)
			return &s->breaks[i];
	return NULL;
}

size_t
auditscan_replay_start(const struct auditscan *s)
{
	size_t i;

	for (i = s->nsegs; i > 0; i--)
		if (s->segs[i - 1].checkpoint)
			return i - 1;
	return 0;
}

/*
 * Lines from a table (dutyd --verify-audit of a database): one pseudo
 * segment, the same checks as a file's lines, positions named by row.
 */
int
auditscan_feed_begin(struct auditscan *s, const char *where, const char *name,
    char *err, size_t errlen)
{
	struct auditscan_seg	*g;
	int			 rc;

	memset(s, 0, sizeof(*s));
	s->rows = 1;
	if ((rc = add_seg(s, where)) != 0 ||
	    (s->state = malloc(sizeof(*s->state))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g = &s->segs[0];
	free(g->name);
	if ((g->name = strdup(name)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = scan_begin(s, s->state, err, errlen)) != 0)
		return rc;
	s->state->leading = 1;
	return 0;
}

void
auditscan_feed(struct auditscan *s, int64_t key, const char *line, size_t len)
{
	scan_line(s, s->state, 0, 1, line, len, (off_t)key, (off_t)key + 1, 0);
}

void
auditscan_feed_end(struct auditscan *s)
{
	if (s->state == NULL)
		return;
	scan_end(s, s->state);
	free(s->state);
	s->state = NULL;
}

/* What --verify-audit prints, for files and tables alike; 1 when damaged. */
int
auditscan_print(const struct auditscan *s, FILE *out)
{
	const struct auditscan_break	*b;
	size_t				 i;
	int				 damaged = 0;

	for (i = 0; i < s->nsegs; i++)
		fprintf(out, "%s: seq %lld..%lld\n", s->segs[i].path,
		    (long long)s->segs[i].first_seq,
		    (long long)s->segs[i].last_seq);
	if (s->partial)
		fprintf(out, "note: the first file starts at seq %lld; the link to "
		    "earlier segments was not checked\n", (long long)s->first_seq);
	for (i = 0; i < s->nbreaks; i++) {
		b = &s->breaks[i];
		fprintf(out, "%s%s\n", b->reason, b->accepted ?
		    " [accepted by an audit.chain_broken record]" : "");
		damaged |= !b->accepted;
	}
	if (s->more_breaks > 0)
		fprintf(out, "... and %zu more breaks\n", s->more_breaks);
	if (s->torn)
		fprintf(out, "%s: torn last record at byte offset %lld (%zu bytes): "
		    "dutyd cuts it away at its next start\n",
		    s->segs[s->nsegs - 1].path, (long long)s->torn_offset,
		    s->torn_len);
	fprintf(out, "records: %lld\n", (long long)s->records);
	fprintf(out, "last good seq: %lld\n", (long long)s->last_good_seq);
	fprintf(out, "last line sha256: %s\n", s->last_good_hash);
	fprintf(out, "%s\n", s->nbreaks == 0 ? "the chain is intact" : damaged ?
	    "the chain is BROKEN" : "the chain is broken only where accepted");
	return damaged;
}
