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

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "audit.h"
#include "log.h"
#include "timeutil.h"

static const char zero_hash[AUDIT_HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

TAILQ_HEAD(audit_waiters, audit_waiter);

static struct {
	int		 fd;
	char		*path;
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
} al = { .fd = -1 };

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

/*
 * Reads the log from the start, verifying the chain and applying each
 * record.  Sets al.seq/hash/size to the last good record.
 */
static int
audit_replay(char *err, size_t errlen)
{
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	off_t		 off = 0;
	int		 rc = 0;

	if ((fp = fopen(al.path, "r")) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", al.path, strerror(errno));
		return rc;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		struct audit_record	 rec;
		json_t			*root;
		const char		*why = NULL;
		int			 last, torn;
		size_t			 len = (size_t)n;

		last = (fgetc(fp) == EOF);
		if (!last)
			fseeko(fp, -1, SEEK_CUR);
		torn = line[len - 1] != '\n';
		if (!torn)
			len--;
		if (!torn && len > AUDIT_LINE_MAX) {
			snprintf(err, errlen, "%s: record after seq %lld at byte %lld "
			    "is longer than %d bytes: the log is damaged", al.path,
			    (long long)al.seq, (long long)off, AUDIT_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		if (!torn && audit_parse_line(line, len, &rec, &root, &why) != 0) {
			if (last)
				torn = 1;
			else {
				snprintf(err, errlen, "%s: the hash chain is broken: the "
				    "first bad record is seq %lld (byte %lld: %s)",
				    al.path, (long long)al.seq + 1, (long long)off, why);
				rc = -EINVAL;
				break;
			}
		}
		if (torn) {
			/* Never answered to anyone: the write died with us. */
			log_warnx("%s: cutting away a torn last record at byte offset "
			    "%lld (%zu bytes, after seq %lld): dutyd stopped while "
			    "writing it, before anyone was told it was saved",
			    al.path, (long long)off, (size_t)n, (long long)al.seq);
			if (ftruncate(al.fd, off) == -1) {
				rc = -errno;
				snprintf(err, errlen, "cannot cut the torn record off %s: %s",
				    al.path, strerror(errno));
			}
			break;
		}
		if (rec.seq != al.seq + 1) {
			snprintf(err, errlen, "%s: the hash chain is broken: the first "
			    "bad record is seq %lld (byte %lld holds seq %lld instead): "
			    "records were removed or reordered", al.path,
			    (long long)al.seq + 1, (long long)off, (long long)rec.seq);
			json_decref(root);
			rc = -EINVAL;
			break;
		}
		if (strcmp(json_string_value(json_object_get(root, "prev")),
		    al.hash) != 0) {
			/* The previous line's bytes changed, or this line's prev did. */
			if (al.seq == 0)
				snprintf(err, errlen, "%s: the hash chain is broken: the "
				    "first bad record is seq 1 (its prev is not 64 zeros): "
				    "the start of the log was edited or removed", al.path);
			else
				snprintf(err, errlen, "%s: the hash chain is broken: the "
				    "first bad record is seq %lld (its hash does not match "
				    "the prev of seq %lld at byte %lld): it was edited",
				    al.path, (long long)al.seq, (long long)al.seq + 1,
				    (long long)off);
			json_decref(root);
			rc = -EINVAL;
			break;
		}
		rec.replaying = 1;
		if (al.apply != NULL && (rc = al.apply(&rec)) != 0) {
			snprintf(err, errlen, "%s: cannot apply seq %lld (%s): %s",
			    al.path, (long long)rec.seq, rec.event, strerror(-rc));
			json_decref(root);
			break;
		}
		json_decref(root);
		audit_hash(line, len, al.hash);
		al.seq++;
		off += n;
	}
	if (rc == 0 && ferror(fp)) {
		rc = -EIO;
		snprintf(err, errlen, "cannot read %s: I/O error", al.path);
	}
	free(line);
	fclose(fp);
	al.size = off;
	return rc;
}

int
audit_open(const char *state_dir, audit_apply_fn apply, char *err, size_t errlen)
{
	struct stat	 st;
	int		 created, rc;

	TAILQ_INIT(&al.waiters);
	al.apply = apply;
	al.seq = 0;
	memcpy(al.hash, zero_hash, sizeof(al.hash));
	al.dirty = al.needs_trim = al.health = 0;
	if (asprintf(&al.path, "%s/audit.log", state_dir) == -1) {
		al.path = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	created = stat(al.path, &st) == -1 && errno == ENOENT;
	al.fd = open(al.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (al.fd == -1) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the audit log %s: %s; check that "
		    "state_dir exists and is writable by this user", al.path,
		    strerror(errno));
		return rc;
	}
	if (created && (rc = fsync_dir_of(al.path)) != 0) {
		snprintf(err, errlen, "cannot make the new %s durable: %s", al.path,
		    strerror(-rc));
		return rc;
	}
	return audit_replay(err, errlen);
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
	if (al.fd == -1) {
		json_decref(data);
		return -EBADF;
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
				al.health = 0;
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
