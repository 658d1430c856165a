/*
 * pglog.c: the PostgreSQL store's backend.  See pglog.h.
 *
 * Appends are kept in memory until a commit carries them: one transaction
 * (BEGIN; INSERT INTO dutyd_audit … VALUES (…),(…); the checkpoint and
 * secret rows owed; COMMIT;) sent as one query, so a commit is one round
 * trip.  A failed one keeps its lines and the next commit sends them again
 * first, with the same seqs and bytes: the table either has a line as it
 * was chained or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "store/pgconn.h"
#include "store/pglog.h"
#include "store/store.h"

/* Lines waiting for a commit: beyond these, clients' records are refused. */
#define PGLOG_PENDING_MAX	(64 * 1024 * 1024)
/* ... and dutyd's own too (a database gone for long under heavy load). */
#define PGLOG_PENDING_HARD	(256 * 1024 * 1024)
/*
 * A commit carries at most about this much: a backlog (a checkpoint of a
 * big state, lines piled up behind a slow commit) goes in several
 * transactions, one after the other, each quick enough for the lease.
 */
#define PGLOG_COMMIT_BYTES	(4 * 1024 * 1024)
#define PGLOG_SECRET_MAX	64
#define PGLOG_SECRETS_MAX	32
#define PGLOG_EXTRAS_MAX	64
/* The lease: every commit and heartbeat renews it (pgha.c reads it). */
#define PGLOG_RENEW	"UPDATE dutyd_leader SET renewed = now() WHERE id = 1"
/* A checkpoint that could not be written is tried again after this. */
#define PGLOG_RETRY_MS		(60 * 1000)

struct pglog_secret {
	char		*name;
	unsigned char	 value[PGLOG_SECRET_MAX];
	size_t		 len;
};

static struct {
	struct pgconn	*conn;		/* the lock's session; NULL: detached */
	struct pglines	 found;		/* read before the lead: open/replay */
	int64_t		 tail_seq;
	char		 tail_hash[RECORD_HASH_HEX];
	struct pglines	 pending;	/* appended, not committed */
	char		*extras[PGLOG_EXTRAS_MAX];	/* SQL owed with the next commit */
	size_t		 nextras;
	size_t		 flight_lines, flight_extras;	/* carried by the transaction in flight */
	size_t		 want_lines, want_extras;	/* still owed to the sync started */
	int		 committing;
	int		 owed;		/* sync_start() came while a heartbeat ran */
	int		 heartbeat;	/* a heartbeat in flight */
	int		 need_rollback;	/* a failed transaction is still open */
	void		(*done)(void *, int);
	void		*done_arg;
	int		 health;
	int64_t		 failing_since;
	int64_t		 committed_seq;
	/* Checkpoints. */
	int64_t		 segment_size;
	int64_t		 bytes_since_ckpt;
	int64_t		 ckpt_begin;	/* seq of the checkpoint.begin being written */
	int64_t		 last_seq;	/* of the last append */
	int64_t		 next_try;
	struct pglog_secret secrets[PGLOG_SECRETS_MAX];
	size_t		 nsecrets;
	char		*conninfo, *appname;
	int64_t		 lease_ms;
} pl = { .segment_size = 64 * 1024 * 1024 };

static void	pglog_committed(void *, const char *);

/*
 * Lines
 */

int
pglog_lines_push(struct pglines *ls, int64_t seq, const char *line, size_t len)
{
	struct pgline *grown;

	if (ls->first > 0 && ls->first * 2 >= ls->n) {
		/* Compact once half of it is dropped: pushes stay amortised O(1). */
		memmove(ls->v, ls->v + ls->first, (ls->n - ls->first) *
		    sizeof(*ls->v));
		ls->n -= ls->first;
		ls->first = 0;
	}
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 1024;

		if ((grown = realloc(ls->v, cap * sizeof(*grown))) == NULL)
			return -ENOMEM;
		ls->v = grown;
		ls->cap = cap;
	}
	if ((ls->v[ls->n].line = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(ls->v[ls->n].line, line, len);
	ls->v[ls->n].line[len] = '\0';
	ls->v[ls->n].len = len;
	ls->v[ls->n].seq = seq;
	ls->n++;
	ls->bytes += (int64_t)len;
	return 0;
}

void
pglog_lines_drop_before(struct pglines *ls, int64_t seq)
{
	while (ls->first < ls->n && ls->v[ls->first].seq < seq) {
		ls->bytes -= (int64_t)ls->v[ls->first].len;
		free(ls->v[ls->first].line);
		ls->v[ls->first].line = NULL;
		ls->first++;
	}
	if (ls->first == ls->n)
		ls->first = ls->n = 0;
}

void
pglog_lines_clear(struct pglines *ls)
{
	size_t i;

	for (i = ls->first; i < ls->n; i++)
		free(ls->v[i].line);
	free(ls->v);
	memset(ls, 0, sizeof(*ls));
}

/* Drops the first N lines held. */
static void
pglog_lines_shift(struct pglines *ls, size_t n)
{
	if (n == 0)
		return;
	pglog_lines_drop_before(ls, ls->v[ls->first + n - 1].seq + 1);
}

/*
 * Set-up
 */

static void
pglog_clear_secrets(void)
{
	size_t i;

	for (i = 0; i < pl.nsecrets; i++) {
		OPENSSL_cleanse(pl.secrets[i].value, sizeof(pl.secrets[i].value));
		free(pl.secrets[i].name);
	}
	pl.nsecrets = 0;
}

void
pglog_reset(void)
{
	size_t i;

	pglog_clear_secrets();
	pglog_lines_clear(&pl.found);
	pglog_lines_clear(&pl.pending);
	for (i = 0; i < pl.nextras; i++)
		free(pl.extras[i]);
	pl.nextras = 0;
	pl.flight_lines = pl.flight_extras = 0;
	pl.want_lines = pl.want_extras = 0;
	pl.committing = pl.owed = pl.heartbeat = pl.need_rollback = 0;
	pl.done = NULL;
	pl.health = 0;
	pl.failing_since = 0;
	pl.conn = NULL;
}

int
pglog_add_secret(const char *name, const void *value, size_t len)
{
	struct pglog_secret *s;

	if (pl.nsecrets == PGLOG_SECRETS_MAX || len > PGLOG_SECRET_MAX)
		return -E2BIG;
	s = &pl.secrets[pl.nsecrets];
	if ((s->name = strdup(name)) == NULL)
		return -ENOMEM;
	memcpy(s->value, value, len);
	s->len = len;
	pl.nsecrets++;
	return 0;
}

static int
pglog_extra(char *sql)
{
	if (sql == NULL)
		return -ENOMEM;
	if (pl.nextras == PGLOG_EXTRAS_MAX) {
		free(sql);
		return -ENOBUFS;
	}
	pl.extras[pl.nextras++] = sql;
	return 0;
}

/*
 * The backend
 */

static int
pglog_open(void *self, int accept_broken, struct store_tail *tail, char *err,
    size_t errlen)
{
	tail->seq = pl.tail_seq;
	memcpy(tail->hash, pl.tail_hash, sizeof(tail->hash));
	return 0;
}

static int
pglog_replay(void *self, int (*fn)(const char *, size_t, void *), void *arg,
    char *err, size_t errlen)
{
	size_t	i;
	int	rc = 0;

	for (i = pl.found.first; i < pl.found.n && rc == 0; i++)
		rc = fn(pl.found.v[i].line, pl.found.v[i].len, arg);
	/* The state is in memory now; the lines are in the table. */
	pglog_lines_clear(&pl.found);
	return rc;
}

/* `"event":"checkpoint.begin"` near the start of the line: the envelope's. */
static int
pglog_is_begin(const char *line, size_t len)
{
	static const char key[] = "\"event\":\"checkpoint.begin\"";

	return memmem(line, len < 256 ? len : 256, key, sizeof(key) - 1) != NULL;
}

static int
pglog_append(void *self, int64_t seq, const char *line, size_t len,
    unsigned flags)
{
	int rc;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	/* Clients wait while the database refuses: they get 503 at once. */
	if (!(flags & STORE_PRIVILEGED) && (pl.health != 0 ||
	    pl.pending.bytes + (int64_t)len > PGLOG_PENDING_MAX))
		return pl.health != 0 ? pl.health : -ENOBUFS;
	if (pl.pending.bytes + (int64_t)len > PGLOG_PENDING_HARD)
		return -ENOBUFS;
	if ((rc = pglog_lines_push(&pl.pending, seq, line, len)) != 0)
		return rc;
	if ((flags & STORE_CHECKPOINT) && pglog_is_begin(line, len))
		pl.ckpt_begin = seq;
	pl.bytes_since_ckpt += (int64_t)len + 1;
	pl.last_seq = seq;
	return 0;
}

static int
pglog_sync(void *self)
{
	/* store.c uses sync_start(); a blocking commit has no place here. */
	return -ENOTSUP;
}

/*
 * The next transaction of the sync started: the first NLINES lines held
 * and NEXTRAS extras (those only with the last part: a checkpoint row goes
 * with or after its lines).  NULL when out of memory.
 */
static char *
pglog_build(size_t nlines, size_t nextras)
{
	PGconn	*pg = pgconn_pg(pl.conn);
	char	*sql, *lit, *grown;
	size_t	 len = 0, cap = 4096, i, need;

	if ((sql = malloc(cap)) == NULL)
		return NULL;
	len = (size_t)snprintf(sql, cap, "%sBEGIN;", pl.need_rollback ?
	    "ROLLBACK;" : "");
	for (i = 0; i < nlines; i++) {
		const struct pgline *l = &pl.pending.v[pl.pending.first + i];

		if ((lit = PQescapeLiteral(pg, l->line, l->len)) == NULL) {
			free(sql);
			return NULL;
		}
		need = len + strlen(lit) + 64;
		if (need > cap) {
			while (cap < need)
				cap *= 2;
			if ((grown = realloc(sql, cap)) == NULL) {
				PQfreemem(lit);
				free(sql);
				return NULL;
			}
			sql = grown;
		}
		len += (size_t)snprintf(sql + len, cap - len, "%s(%lld,%s)",
		    i == 0 ? "INSERT INTO dutyd_audit(seq,line) VALUES " : ",",
		    (long long)l->seq, lit);
		PQfreemem(lit);
	}
	if (i > 0)
		sql[len++] = ';';
	for (i = 0; i < nextras; i++) {
		need = len + strlen(pl.extras[i]) + 16;
		if (need > cap) {
			while (cap < need)
				cap *= 2;
			if ((grown = realloc(sql, cap)) == NULL) {
				free(sql);
				return NULL;
			}
			sql = grown;
		}
		len += (size_t)snprintf(sql + len, cap - len, "%s;",
		    pl.extras[i]);
	}
	need = len + sizeof(PGLOG_RENEW ";COMMIT;");
	if (need > cap && (grown = realloc(sql, need)) == NULL) {
		free(sql);
		return NULL;
	} else if (need > cap)
		sql = grown;
	memcpy(sql + len, PGLOG_RENEW ";COMMIT;", sizeof(PGLOG_RENEW ";COMMIT;"));
	return sql;
}

/* Sends the transaction; the done hook is not called here on failure. */
static int
pglog_send(void)
{
	char	*sql;
	size_t	 n, bytes;
	int	 rc;

	if (pl.conn == NULL || !pgconn_ready(pl.conn))
		return -ECONNRESET;
	/* At least a line; as many as fit PGLOG_COMMIT_BYTES. */
	for (n = 0, bytes = 0; n < pl.want_lines; n++) {
		bytes += pl.pending.v[pl.pending.first + n].len;
		if (n > 0 && bytes > PGLOG_COMMIT_BYTES)
			break;
	}
	if ((sql = pglog_build(n, n == pl.want_lines ? pl.want_extras :
	    0)) == NULL)
		return -ENOMEM;
	pl.flight_lines = n;
	pl.flight_extras = n == pl.want_lines ? pl.want_extras : 0;
	rc = pgconn_query(pl.conn, sql, NULL, pglog_committed, NULL);
	free(sql);
	if (rc == 0)
		pl.committing = 1;
	return rc;
}

static void
pglog_finish(int status)
{
	void	(*done)(void *, int) = pl.done;
	void	*arg = pl.done_arg;

	pl.done = NULL;
	if (done != NULL)
		done(arg, status);
}

static void
pglog_failed(int status, const char *why)
{
	int64_t now = pgconn_now();

	if (pl.failing_since == 0) {
		pl.failing_since = now;
		log_warnx("cannot commit to the PostgreSQL store: %s; reports and "
		    "staff actions get 503 until it can (check the database "
		    "server and its disk); dutyd retries", why);
	} else
		log_debug("commit failed again: %s", why);
	pl.health = status;
}

static void
pglog_committed(void *arg, const char *err)
{
	size_t	i;
	int	rc;

	pl.committing = 0;
	if (err == NULL) {
		if (pl.flight_lines > 0)
			pl.committed_seq = pl.pending.v[pl.pending.first +
			    pl.flight_lines - 1].seq;
		pglog_lines_shift(&pl.pending, pl.flight_lines);
		for (i = 0; i < pl.flight_extras; i++)
			free(pl.extras[i]);
		memmove(pl.extras, pl.extras + pl.flight_extras,
		    (pl.nextras - pl.flight_extras) * sizeof(pl.extras[0]));
		pl.nextras -= pl.flight_extras;
		pl.want_lines -= pl.flight_lines;
		pl.want_extras -= pl.flight_extras;
		pl.need_rollback = 0;
		if (pl.failing_since != 0)
			log_info("the PostgreSQL store commits again");
		pl.failing_since = 0;
		pl.health = 0;
		if (pl.want_lines > 0 || pl.want_extras > 0) {
			/* The next part of a backlog. */
			if ((rc = pglog_send()) != 0) {
				pglog_failed(rc, strerror(-rc));
				pglog_finish(rc);
			}
			return;
		}
		pglog_finish(0);
		return;
	}
	/* The transaction may be open and aborted: the retry rolls it back. */
	if (pl.conn != NULL && pgconn_ready(pl.conn)) {
		pl.need_rollback = PQtransactionStatus(pgconn_pg(pl.conn)) !=
		    PQTRANS_IDLE;
		pglog_failed(-EIO, err);
	} else
		pglog_failed(-ECONNRESET, err);
	pglog_finish(pl.health);
}

static int
pglog_sync_start(void *self, void (*done)(void *, int), void *arg)
{
	int rc;

	if (pl.conn == NULL)
		return -ECONNRESET;
	pl.done = done;
	pl.done_arg = arg;
	/* What it covers: all held now (the lines of a failed one first). */
	pl.want_lines = pl.pending.n - pl.pending.first;
	pl.want_extras = pl.nextras;
	if (pl.heartbeat) {
		pl.owed = 1;	/* when the heartbeat is back */
		return 0;
	}
	if ((rc = pglog_send()) != 0) {
		pl.done = NULL;
		pglog_failed(rc, strerror(-rc));
	}
	return rc;
}

static void
pglog_sync_drain(void *self)
{
	int limit = pl.lease_ms < 2000 ? 2000 : (int)pl.lease_ms;

	if (pl.conn == NULL)
		return;
	if (pl.heartbeat && pgconn_wait(pl.conn, limit) != 0)
		return;
	/* Each part of a backlog in turn. */
	while (pl.conn != NULL && pl.committing)
		if (pgconn_wait(pl.conn, limit) != 0)
			return;
}

static void
pglog_heartbeat_done(void *arg, const char *err)
{
	int rc;

	pl.heartbeat = 0;
	if (!pl.owed)
		return;
	pl.owed = 0;
	if ((rc = pglog_send()) != 0) {
		pglog_failed(rc, err != NULL ? err : strerror(-rc));
		pglog_finish(rc);
	}
}

int
pglog_heartbeat(void)
{
	int rc;

	if (pl.conn == NULL)
		return -ECONNRESET;
	if (pl.committing || pl.heartbeat || pgconn_busy(pl.conn))
		return 0;
	if ((rc = pgconn_query(pl.conn, PGLOG_RENEW, NULL, pglog_heartbeat_done,
	    NULL)) == 0)
		pl.heartbeat = 1;
	return rc;
}

int64_t
pglog_failing_since(void)
{
	return pl.failing_since;
}

void
pglog_detach(void)
{
	pl.conn = NULL;
	pl.heartbeat = 0;
	if (pl.health == 0)
		pl.health = -ECONNRESET;
	if (pl.owed || pl.committing) {
		pl.owed = pl.committing = 0;
		pglog_finish(-ECONNRESET);
	}
}

static int
pglog_health(void *self)
{
	return pl.health;
}

static int
pglog_tick(void *self)
{
	return 0;
}

static int
pglog_checkpoint_due(void *self, int64_t now)
{
	return now >= pl.next_try && pl.bytes_since_ckpt >= pl.segment_size;
}

static int
pglog_rotate(void *self, int64_t now)
{
	/* Nothing to close: a checkpoint row marks where replay starts. */
	pl.next_try = now + PGLOG_RETRY_MS;
	pl.ckpt_begin = 0;
	return 0;
}

static void
pglog_checkpoint_done(void *self)
{
	char sql[160];

	pl.next_try = 0;
	pl.bytes_since_ckpt = 0;
	if (pl.ckpt_begin <= 0 || pl.last_seq <= pl.ckpt_begin) {
		log_warnx("a checkpoint ended without its checkpoint.begin "
		    "(a bug): replay keeps starting at the previous one");
		return;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO dutyd_checkpoint(begin_seq,"
	    "end_seq) VALUES (%lld,%lld) ON CONFLICT (begin_seq) DO NOTHING",
	    (long long)pl.ckpt_begin, (long long)pl.last_seq);
	if (pglog_extra(strdup(sql)) != 0)
		log_warnx("cannot note the checkpoint ending at seq %lld; replay "
		    "keeps starting at the previous one", (long long)pl.last_seq);
	pl.ckpt_begin = 0;
}

static void
pglog_configure(void *self, int64_t segment_size, int64_t reserve)
{
	pl.segment_size = segment_size;
}

static int
pglog_secret(void *self, const char *name, void *buf, size_t len, char *err,
    size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	struct pglog_secret	*s;
	char			 val[2 * PGLOG_SECRET_MAX + 1], *lit, *sql;
	size_t			 i;
	int			 rc;

	for (i = 0; i < pl.nsecrets; i++) {
		s = &pl.secrets[i];
		if (strcmp(s->name, name) != 0)
			continue;
		if (s->len != len) {
			snprintf(err, errlen, "the secret %s in dutyd_secret is "
			    "%zu bytes, not the %zu random bytes dutyd made: it "
			    "was damaged or replaced. Delete its row (DELETE "
			    "FROM dutyd_secret WHERE name = '%s') and restart "
			    "the leader to make a new one (one-tap links already "
			    "sent will then stop working)", name, s->len, len,
			    name);
			return -EINVAL;
		}
		memcpy(buf, s->value, len);
		return 0;
	}
	if (len == 0 || len > PGLOG_SECRET_MAX || pl.conn == NULL) {
		snprintf(err, errlen, "no such secret: %s", name);
		return -EINVAL;
	}
	if (RAND_bytes(buf, (int)len) != 1) {
		snprintf(err, errlen, "cannot make the secret %s: OpenSSL has no "
		    "random bytes (is /dev/urandom available?)", name);
		return -EIO;
	}
	for (i = 0; i < len; i++) {
		val[2 * i] = hex[((unsigned char *)buf)[i] >> 4];
		val[2 * i + 1] = hex[((unsigned char *)buf)[i] & 15];
	}
	val[2 * len] = '\0';
	if ((lit = PQescapeLiteral(pgconn_pg(pl.conn), name, strlen(name))) ==
	    NULL || asprintf(&sql, "INSERT INTO dutyd_secret(name,value) VALUES "
	    "(%s,decode('%s','hex')) ON CONFLICT (name) DO NOTHING", lit,
	    val) == -1) {
		PQfreemem(lit);
		OPENSSL_cleanse(buf, len);
		OPENSSL_cleanse(val, sizeof(val));
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	PQfreemem(lit);
	OPENSSL_cleanse(val, sizeof(val));
	/* It goes into the table with the next commit (the leader's first). */
	if ((rc = pglog_extra(sql)) != 0 ||
	    (rc = pglog_add_secret(name, buf, len)) != 0) {
		OPENSSL_cleanse(buf, len);
		snprintf(err, errlen, "cannot keep the secret %s: %s", name,
		    strerror(-rc));
		return rc;
	}
	return 0;
}

static void
pglog_close(void *self)
{
	pglog_reset();
	free(pl.conninfo);
	free(pl.appname);
	pl.conninfo = pl.appname = NULL;
}

/*
 * History: a blocking session of its own on the scan's thread, reading
 * what was committed when the scan was asked for.
 */
struct pglog_scan {
	struct pgconn_params	*params;
	int64_t			 max_seq;
};

static void *
pglog_scan_open(void *self, int64_t from_ms, int64_t to_ms, char *err,
    size_t errlen)
{
	struct pglog_scan *s;

	if (pl.conninfo == NULL) {
		snprintf(err, errlen, "the store is not open");
		errno = EBADF;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->params = pgconn_params_new(pl.conninfo, pl.appname,
	    pl.lease_ms, err, errlen)) == NULL) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->max_seq = pl.committed_seq;
	return s;
}

static int
pglog_scan_read(void *scan, int (*fn)(const char *, size_t, void *),
    void *arg, char *err, size_t errlen)
{
	struct pglog_scan	*s = scan;
	PGconn			*c;
	PGresult		*res;
	char			 sql[128];
	int			 rc = 0, st;

	c = pgconn_params_connect(s->params);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot reach the database to read the "
		    "audit table: %.*s", c != NULL ? (int)strcspn(
		    PQerrorMessage(c), "\n") : 13, c != NULL ?
		    PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return -ECONNREFUSED;
	}
	snprintf(sql, sizeof(sql), "SELECT line FROM dutyd_audit WHERE seq <= "
	    "%lld ORDER BY seq", (long long)s->max_seq);
	if (!PQsendQuery(c, sql) || !PQsetSingleRowMode(c)) {
		snprintf(err, errlen, "cannot read the audit table: %.*s",
		    (int)strcspn(PQerrorMessage(c), "\n"), PQerrorMessage(c));
		PQfinish(c);
		return -EIO;
	}
	while ((res = PQgetResult(c)) != NULL) {
		st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE && rc == 0)
			rc = fn(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res,
			    0, 0), arg);
		else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE &&
		    rc == 0) {
			snprintf(err, errlen, "cannot read the audit table: %.*s",
			    (int)strcspn(PQresultErrorMessage(res), "\n"),
			    PQresultErrorMessage(res));
			rc = -EIO;
		}
		PQclear(res);
		if (rc != 0)
			break;	/* PQfinish() ends the query */
	}
	PQfinish(c);
	return rc;
}

static void
pglog_scan_close(void *scan)
{
	struct pglog_scan *s = scan;

	if (s == NULL)
		return;
	pgconn_params_free(s->params);
	free(s);
}

static const struct store_backend pglog_backend = {
	.name = "postgresql",
	.self = &pl,
	.open = pglog_open,
	.replay = pglog_replay,
	.append = pglog_append,
	.sync = pglog_sync,
	.sync_start = pglog_sync_start,
	.sync_drain = pglog_sync_drain,
	.health = pglog_health,
	.tick = pglog_tick,
	.checkpoint_due = pglog_checkpoint_due,
	.rotate = pglog_rotate,
	.checkpoint_done = pglog_checkpoint_done,
	.configure = pglog_configure,
	.secret = pglog_secret,
	.close = pglog_close,
	.scan_open = pglog_scan_open,
	.scan_read = pglog_scan_read,
	.scan_close = pglog_scan_close,
};

const struct store_backend *
pglog_begin(struct pgconn *conn, struct pglog_found *found,
    const char *first_sql, const char *conninfo, const char *appname,
    int64_t lease_ms)
{
	pglog_lines_clear(&pl.found);
	pl.found = found->lines;
	memset(&found->lines, 0, sizeof(found->lines));
	pl.tail_seq = pl.last_seq = pl.committed_seq = found->tail_seq;
	memcpy(pl.tail_hash, found->tail_seq > 0 ? found->tail_hash :
	    RECORD_ZERO_HASH, sizeof(pl.tail_hash));
	pl.bytes_since_ckpt = found->bytes_since_ckpt;
	pl.next_try = 0;
	pl.ckpt_begin = 0;
	pl.conn = conn;
	pl.lease_ms = lease_ms;
	pl.health = 0;
	pl.failing_since = 0;
	free(pl.conninfo);
	free(pl.appname);
	if ((pl.conninfo = strdup(conninfo)) == NULL ||
	    (pl.appname = strdup(appname)) == NULL ||
	    (first_sql != NULL && pglog_extra(strdup(first_sql)) != 0))
		return NULL;
	return &pglog_backend;
}
