/*
 * pgha.c: leader election and standby on the PostgreSQL store.  See
 * pgha.h and docs/high-availability.md.
 *
 * Two sessions.  The lock's session waits in pg_advisory_lock(), which the
 * server grants the moment the holder's session ends; meanwhile the
 * follower's session reads the table as it grows (every PGHA_POLL_MS),
 * verifying the chain and keeping the lines from the newest complete
 * checkpoint on, so that taking over only reads the tail.  Once the lock
 * is granted, the rest is read through the lock's session itself (nothing
 * can be added behind it then), and the backend (pglog.c) writes through
 * it.  Losing that session means losing the lead: the caller re-executes
 * and comes back as a standby.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/pqlib.h"
#include "store/pgconn.h"
#include "store/pgha.h"
#include "store/pglog.h"
#include "store/pgschema.h"
#include "store/record.h"

#define PGHA_POLL_MS		200
#define PGHA_BACKOFF_MIN_MS	100
#define PGHA_BACKOFF_MAX_MS	1000
/*
 * A long table is read in pieces, the loop turning between: at most so
 * many rows, and lines of so many bytes (libpq holds a whole result in
 * memory, and a line may be up to RECORD_LINE_MAX).
 */
#define PGHA_READ_ROWS		5000
#define PGHA_READ_BYTES		(16 * 1024 * 1024)
/* Bytes of lines replayed per second, at the least (a loaded machine: 7 MB/s). */
#define PGHA_REPLAY_RATE	(2 * 1024 * 1024)

enum pgha_lockst { LOCK_NONE, LOCK_CONNECTING, LOCK_WAITING, LOCK_CATCHUP,
	LOCK_HELD };

static struct {
	struct event_base	*base;
	char			*conninfo;
	char			 instance[128];
	char			 appname[160];
	int64_t			 lease_ms;
	const struct pgha_hooks	*hooks;
	void			*arg;
	int			 started;
	enum pgha_role		 role;
	/* The follower's session. */
	struct pgconn		*follow;
	int			 schema_ok;
	int			 follow_more;	/* a full read: go on at once */
	int64_t			 follow_backoff;
	struct event		*follow_timer;
	/* The lock's session. */
	struct pgconn		*lock;
	enum pgha_lockst	 lockst;
	int64_t			 lock_backoff;
	struct event		*lock_timer;
	struct event		*watch;		/* the leader's heartbeat and watchdog */
	/* What was read. */
	struct pglines		 lines;		/* from the newest checkpoint on */
	int			 anchored;
	int64_t			 read_seq;
	char			 read_hash[RECORD_HASH_HEX];
	int64_t			 ckpt_begin, ckpt_end;
	int64_t			 bytes_since_ckpt;
	int			 read_rows;	/* of the read in flight */
	int64_t			 read_bytes;
	int			 broken;	/* the chain does not verify */
	int			 bad_secret;
	int			 nometa;	/* no dutyd_meta table */
	int			 settled;	/* see pgha_settled() */
	/* A leader whose lease ran out while it holds the lock (a hung one). */
	long long		 hung_pid;
	long long		 hung_ms;
	char			 leader[128];
	char			 dberr[256];
	char			 status[512];
	const struct store_backend *backend;
} ha;

static void	pgha_follow_connect(void);
static void	pgha_lock_connect(void);
static void	pgha_status_update(void);

static void
pgha_changed(void)
{
	pgha_status_update();
	if (ha.hooks != NULL && ha.hooks->changed != NULL)
		ha.hooks->changed(ha.arg);
}

static void
pgha_status_update(void)
{
	switch (ha.role) {
	case PGHA_LEADER:
		snprintf(ha.status, sizeof(ha.status), "leading as %s",
		    ha.instance);
		break;
	case PGHA_LOST:
		snprintf(ha.status, sizeof(ha.status), "lost the lead: %s",
		    ha.dberr);
		break;
	case PGHA_STANDBY:
		if (ha.broken)
			snprintf(ha.status, sizeof(ha.status), "cannot follow: "
			    "the audit table's chain is broken after seq %lld",
			    (long long)ha.read_seq);
		else if (ha.lockst == LOCK_CATCHUP)
			snprintf(ha.status, sizeof(ha.status), "taking the "
			    "lead, reading up from seq %lld",
			    (long long)ha.read_seq);
		else
			snprintf(ha.status, sizeof(ha.status), "following %s, "
			    "read up to seq %lld", ha.leader[0] ? ha.leader :
			    "(no leader yet)", (long long)ha.read_seq);
		break;
	default:
		if (ha.dberr[0])
			snprintf(ha.status, sizeof(ha.status), "cannot reach the "
			    "database: %s", ha.dberr);
		else
			snprintf(ha.status, sizeof(ha.status), "connecting to "
			    "the database");
		break;
	}
}

static void
pgha_after(struct event *ev, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static int64_t
pgha_backoff(int64_t *b)
{
	int64_t ms = *b;

	*b = *b * 2 > PGHA_BACKOFF_MAX_MS ? PGHA_BACKOFF_MAX_MS : *b * 2;
	return ms;
}

/*
 * Reading the table (through either session)
 */

static void
pgha_chain_broken(int64_t seq, const char *why)
{
	if (!ha.broken)
		log_errorx("the PostgreSQL audit table's chain is broken at seq "
		    "%lld (%s): this instance cannot follow it nor take the "
		    "lead. Check it with dutyd --verify-audit 'postgresql://…' "
		    "and restore the table from a backup", (long long)seq, why);
	ha.broken = 1;
	pgha_status_update();
}

/* Recounts the bytes written after the newest checkpoint. */
static void
pgha_recount(void)
{
	size_t i;

	ha.bytes_since_ckpt = 0;
	for (i = ha.lines.first; i < ha.lines.n; i++)
		if (ha.lines.v[i].seq > ha.ckpt_end)
			ha.bytes_since_ckpt += (int64_t)ha.lines.v[i].len + 1;
}

/* One row: verified against the chain, kept from the replay start on. */
static int
pgha_row(int64_t seq, const char *line, size_t len, int64_t start)
{
	struct record	 rec;
	json_t		*root;
	const char	*why, *prev;
	char		 hash[RECORD_HASH_HEX];
	int		 rc;

	if (!ha.anchored && seq < start) {
		/* Before the newest checkpoint: only its hash is needed. */
		record_hash(line, len, ha.read_hash);
		ha.read_seq = seq;
		ha.anchored = 1;
		return 0;
	}
	if (record_parse(line, len, &rec, &root, &why) != 0) {
		pgha_chain_broken(seq, why);
		return -EINVAL;
	}
	prev = json_string_value(json_object_get(root, "prev"));
	if (rec.seq != seq || (ha.anchored && seq != ha.read_seq + 1) ||
	    (!ha.anchored && seq != 1) || prev == NULL ||
	    strcmp(prev, ha.anchored ? ha.read_hash : RECORD_ZERO_HASH) != 0) {
		json_decref(root);
		pgha_chain_broken(seq, rec.seq != seq ? "the seq column is not "
		    "the line's" : prev == NULL || strcmp(prev, ha.anchored ?
		    ha.read_hash : RECORD_ZERO_HASH) != 0 ? "its prev is not "
		    "the hash of the line before" : "a seq is missing");
		return -EINVAL;
	}
	json_decref(root);
	record_hash(line, len, hash);
	if ((rc = pglog_lines_push(&ha.lines, seq, line, len)) != 0)
		return rc;
	memcpy(ha.read_hash, hash, sizeof(hash));
	ha.read_seq = seq;
	ha.anchored = 1;
	if (seq > ha.ckpt_end)
		ha.bytes_since_ckpt += (int64_t)len + 1;
	return 0;
}

static void
pgha_read_result(void *arg, const PGresult *res)
{
	const char	*f0 = PQnfields(res) > 0 ? PQfname(res, 0) : "";
	int		 i, n = PQntuples(res);
	int64_t		 b, e;

	if (strcmp(f0, "seq") == 0) {
		ha.read_rows = n;
		for (i = 0; i < n; i++)
			ha.read_bytes += PQgetlength(res, i, 1);
		for (i = 0; i < n && !ha.broken; i++) {
			int64_t start = PQnfields(res) > 2 ?
			    strtoll(PQgetvalue(res, i, 2), NULL, 10) : 0;

			if (pgha_row(strtoll(PQgetvalue(res, i, 0), NULL, 10),
			    PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1),
			    start) != 0)
				break;
			if (!ha.anchored)
				continue;
			if (start > 0 && ha.ckpt_begin < start)
				ha.ckpt_begin = start;
		}
	} else if (strcmp(f0, "begin_seq") == 0 && n == 1) {
		b = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		e = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		/* A newer checkpoint read whole: what is before it is not needed. */
		if (e <= ha.read_seq && (b > ha.ckpt_begin || e != ha.ckpt_end)) {
			pglog_lines_drop_before(&ha.lines, b);
			ha.ckpt_begin = b;
			ha.ckpt_end = e;
			pgha_recount();
		}
	} else if (strcmp(f0, "instance") == 0 && n == 1) {
		/* stale_ms, backend_pid, holder: see pgha_read_sql(). */
		if (PQnfields(res) == 4 && !PQgetisnull(res, 0, 1) &&
		    !PQgetisnull(res, 0, 3) && strtoll(PQgetvalue(res, 0, 1),
		    NULL, 10) > ha.lease_ms && strcmp(PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 3)) == 0) {
			ha.hung_pid = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
			ha.hung_ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		}
		if (strcmp(ha.leader, PQgetvalue(res, 0, 0)) != 0) {
			snprintf(ha.leader, sizeof(ha.leader), "%s",
			    PQgetvalue(res, 0, 0));
			pgha_changed();
		}
	} else if (strcmp(f0, "name") == 0) {
		for (i = 0; i < n; i++) {
			unsigned char	*v;
			size_t		 len;

			v = PQunescapeBytea((const unsigned char *)PQgetvalue(res,
			    i, 1), &len);
			if (v == NULL || pglog_add_secret(PQgetvalue(res, i, 0), v,
			    len) != 0)
				ha.bad_secret = 1;
			PQfreemem(v);
		}
	} else if (strcmp(f0, "nometa") == 0 && n == 1) {
		ha.nometa = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		if (ha.nometa)
			snprintf(ha.dberr, sizeof(ha.dberr), "the database holds no "
			    "dutyd schema yet: run dutyd --init-store -c FILE");
	} else if (strcmp(f0, "version") == 0 && n == 1) {
		const char *v = PQgetisnull(res, 0, 0) ? "0" :
		    PQgetvalue(res, 0, 0);

		ha.schema_ok = strtol(v, NULL, 10) == PGSCHEMA_VERSION;
		if (!ha.schema_ok) {
			snprintf(ha.dberr, sizeof(ha.dberr), "the database holds "
			    "%s dutyd schema %s, this dutyd needs version %d: run "
			    "dutyd --init-store -c FILE", PQgetisnull(res, 0, 0) ?
			    "no" : "the", PQgetisnull(res, 0, 0) ? "yet" : v,
			    PGSCHEMA_VERSION);
		}
	}
}

/*
 * The leader, how long since it renewed its lease (by the server's clock:
 * no skew between machines), the session it wrote that from, and the
 * session holding the lock now: the lease ran out only if they are one.
 */
#define PGHA_LEADER_SQL \
	"SELECT instance, (extract(epoch FROM now() - renewed) * 1000)::bigint " \
	"AS stale_ms, backend_pid, (SELECT pid FROM pg_locks WHERE locktype = " \
	"'advisory' AND granted AND classid = " PGHA_KEY_HI " AND objid = " \
	PGHA_KEY_LO " AND objsubid = 1 LIMIT 1) AS holder FROM dutyd_leader " \
	"WHERE id = 1"
/* PGSCHEMA_LOCK_KEY as pg_locks shows a bigint key: its two halves. */
#define PGHA_KEY_HI	"100"
#define PGHA_KEY_LO	"1970567524"

/*
 * The statements of one read: new rows (the first always, then as long as
 * their bytes add up to PGHA_READ_BYTES), the newest checkpoint, the
 * leader.
 */
static void
pgha_read_sql(char *sql, size_t len)
{
	ha.read_rows = 0;
	ha.read_bytes = 0;
	if (ha.anchored)
		snprintf(sql, len, "SELECT seq, line FROM (SELECT seq, line, "
		    "sum(octet_length(line)) OVER (ORDER BY seq) AS run FROM "
		    "(SELECT seq, line FROM dutyd_audit WHERE seq > %lld ORDER BY "
		    "seq LIMIT %d) p) q WHERE run <= %d OR seq = %lld ORDER BY seq;"
		    "SELECT begin_seq, end_seq FROM dutyd_checkpoint ORDER BY "
		    "begin_seq DESC LIMIT 1;"
		    PGHA_LEADER_SQL,
		    (long long)ha.read_seq, PGHA_READ_ROWS, PGHA_READ_BYTES,
		    (long long)ha.read_seq + 1);
	else
		/*
		 * From the line before the newest checkpoint (its hash anchors
		 * the chain), in one statement so that both agree.
		 */
		snprintf(sql, len, "WITH c AS (SELECT coalesce(max(begin_seq), 1) "
		    "AS b FROM dutyd_checkpoint WHERE end_seq <= (SELECT "
		    "coalesce(max(seq), 0) FROM dutyd_audit)), p AS (SELECT seq, line, c.b FROM "
		    "dutyd_audit, c WHERE seq >= c.b - 1 ORDER BY seq LIMIT %d), "
		    "q AS (SELECT seq, line, b, sum(octet_length(line)) OVER "
		    "(ORDER BY seq) AS run, row_number() OVER (ORDER BY seq) AS k "
		    "FROM p) SELECT seq, line, b FROM q WHERE run <= %d OR k <= 2 "
		    "ORDER BY seq;"
		    "SELECT begin_seq, end_seq FROM dutyd_checkpoint ORDER BY "
		    "begin_seq DESC LIMIT 1;"
		    PGHA_LEADER_SQL,
		    PGHA_READ_ROWS, PGHA_READ_BYTES);
}

/* The last read may have left rows behind: read again at once. */
static int
pgha_read_more(void)
{
	return !ha.broken && (ha.read_rows == PGHA_READ_ROWS ||
	    ha.read_bytes + RECORD_LINE_MAX > PGHA_READ_BYTES);
}

/*
 * The follower's session
 */

static void
pgha_follow_drop(const char *why)
{
	pgconn_free(ha.follow);
	ha.follow = NULL;
	ha.schema_ok = 0;
	ha.settled = 1;
	if (why != NULL) {
		if (strcmp(ha.dberr, why) != 0)
			log_warnx("cannot reach the PostgreSQL store: %s; retrying",
			    why);
		snprintf(ha.dberr, sizeof(ha.dberr), "%s", why);
	}
	if (ha.role == PGHA_STANDBY && ha.lockst != LOCK_CATCHUP &&
	    ha.lockst != LOCK_HELD)
		ha.role = PGHA_CONNECTING;
	pgha_changed();
	if (ha.lockst != LOCK_CATCHUP && ha.lockst != LOCK_HELD)
		pgha_after(ha.follow_timer, pgha_backoff(&ha.follow_backoff));
}

static void
pgha_terminated(void *arg, const char *err)
{
	if (err != NULL) {
		pgha_follow_drop(err);
		return;
	}
	pgha_after(ha.follow_timer, PGHA_POLL_MS);
}

static void
pgha_follow_read_done(void *arg, const char *err)
{
	char sql[96];

	if (err != NULL) {
		pgha_follow_drop(err);
		return;
	}
	if (ha.hung_pid > 0) {
		/* Ending its session releases the lock: a standby's wait returns. */
		log_warnx("%s did not renew its lease for %.1f s (lease %.1f s): "
		    "ending its database session so that a standby takes the "
		    "lead", ha.leader[0] ? ha.leader : "the leader",
		    ha.hung_ms / 1000.0, ha.lease_ms / 1000.0);
		snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)",
		    ha.hung_pid);
		ha.hung_pid = 0;
		if (pgconn_query(ha.follow, sql, NULL, pgha_terminated, NULL) != 0)
			pgha_follow_drop("cannot send a query");
		return;
	}
	ha.follow_backoff = PGHA_BACKOFF_MIN_MS;
	ha.dberr[0] = '\0';
	ha.settled = 1;
	pgha_changed();
	/* A full read: more is waiting. */
	pgha_after(ha.follow_timer, pgha_read_more() ? 0 : PGHA_POLL_MS);
}

static void
pgha_follow_read(void)
{
	char sql[1024];

	pgha_read_sql(sql, sizeof(sql));
	if (pgconn_query(ha.follow, sql, pgha_read_result, pgha_follow_read_done,
	    NULL) != 0)
		pgha_follow_drop("cannot send a query");
}

static void
pgha_version_done(void *arg, const char *err)
{
	static int warned;

	if (err != NULL) {
		pgha_follow_drop(err);
		return;
	}
	if (!ha.schema_ok) {
		if (!warned++)
			log_errorx("cannot use the PostgreSQL store: %s; retrying "
			    "every second", ha.dberr);
		ha.settled = 1;
		pgconn_free(ha.follow);
		ha.follow = NULL;
		pgha_changed();
		pgha_after(ha.follow_timer, PGHA_BACKOFF_MAX_MS);
		return;
	}
	warned = 0;
	if (ha.dberr[0] != '\0')
		log_info("the PostgreSQL store is reachable again");
	ha.dberr[0] = '\0';
	if (ha.role == PGHA_CONNECTING)
		ha.role = PGHA_STANDBY;
	pgha_changed();
	if (ha.lockst == LOCK_NONE)
		pgha_lock_connect();
	pgha_follow_read();
}

/*
 * The version's statement names dutyd_meta, which the parser looks up even
 * where the CASE would not reach it: ask whether the table exists first.
 */
static void
pgha_meta_done(void *arg, const char *err)
{
	char sql[512];

	if (err != NULL) {
		pgha_follow_drop(err);
		return;
	}
	if (ha.nometa) {
		ha.schema_ok = 0;
		pgha_version_done(NULL, NULL);
		return;
	}
	snprintf(sql, sizeof(sql), "SELECT (%s) AS version", pgschema_version_sql);
	if (pgconn_query(ha.follow, sql, pgha_read_result, pgha_version_done,
	    NULL) != 0)
		pgha_follow_drop("cannot send a query");
}

static void
pgha_follow_up(void *arg)
{
	ha.nometa = 0;
	if (pgconn_query(ha.follow, "SELECT to_regclass('dutyd_meta') IS NULL "
	    "AS nometa", pgha_read_result, pgha_meta_done, NULL) != 0)
		pgha_follow_drop("cannot send a query");
}

static void
pgha_follow_down(void *arg, const char *why)
{
	pgha_follow_drop(why);
}

static const struct pgconn_hooks pgha_follow_hooks = {
	pgha_follow_up, pgha_follow_down,
};

static void
pgha_follow_connect(void)
{
	char err[256];

	if ((ha.follow = pgconn_open(ha.base, ha.conninfo, ha.appname,
	    ha.lease_ms, &pgha_follow_hooks, NULL, err, sizeof(err))) == NULL)
		pgha_follow_drop(err);
}

static void
pgha_follow_tick(evutil_socket_t fd, short what, void *arg)
{
	if (ha.lockst == LOCK_CATCHUP || ha.lockst == LOCK_HELD)
		return;
	if (ha.follow == NULL)
		pgha_follow_connect();
	else if (pgconn_ready(ha.follow) && !pgconn_busy(ha.follow) &&
	    ha.schema_ok)
		pgha_follow_read();
}

/*
 * The lock's session
 */

static void	pgha_lock_tick(evutil_socket_t, short, void *);

static void
pgha_lost(const char *why)
{
	snprintf(ha.dberr, sizeof(ha.dberr), "%s", why);
	pglog_detach();
	if (ha.watch != NULL)
		event_del(ha.watch);
	ha.lockst = LOCK_NONE;
	ha.role = PGHA_LOST;
	pgha_status_update();
	log_errorx("lost the lead: %s; answering 503 from now on and "
	    "coming back as a standby", why);
	if (ha.hooks != NULL && ha.hooks->lost != NULL)
		ha.hooks->lost(ha.arg, why);
}

static void
pgha_lock_drop(const char *why)
{
	enum pgha_lockst was = ha.lockst;

	pgconn_free(ha.lock);
	ha.lock = NULL;
	if (was == LOCK_HELD) {
		pgha_lost(why);
		return;
	}
	ha.lockst = LOCK_NONE;
	log_debug("the lock's session ended: %s", why);
	if (was == LOCK_CATCHUP) {
		/* Back to following. */
		pgha_after(ha.follow_timer, 0);
		pgha_changed();
	}
	pgha_after(ha.lock_timer, pgha_backoff(&ha.lock_backoff));
}

/* The lead is ours and every line read: hand over to the backend. */
static void
pgha_promote(void)
{
	struct pglog_found	 found;

	memset(&found, 0, sizeof(found));
	found.lines = ha.lines;
	memset(&ha.lines, 0, sizeof(ha.lines));
	found.tail_seq = ha.read_seq;
	memcpy(found.tail_hash, ha.read_hash, sizeof(found.tail_hash));
	found.bytes_since_ckpt = ha.bytes_since_ckpt;
	ha.backend = pglog_begin(ha.lock, &found, NULL, ha.conninfo, ha.appname,
	    ha.lease_ms);
	pglog_lines_clear(&found.lines);
	if (ha.backend == NULL) {
		pgha_lock_drop("out of memory");
		return;
	}
	ha.lockst = LOCK_HELD;
	ha.settled = 1;
	snprintf(ha.leader, sizeof(ha.leader), "%s", ha.instance);
	ha.dberr[0] = '\0';
	ha.role = PGHA_LEADER;
	pgha_status_update();
	pgconn_free(ha.follow);
	ha.follow = NULL;
	event_del(ha.follow_timer);
	pgha_after(ha.watch, 0);
	log_info("took the lead as %s on the PostgreSQL store, read up to seq "
	    "%lld", ha.instance, (long long)ha.read_seq);
	if (ha.hooks != NULL && ha.hooks->promoted != NULL &&
	    ha.hooks->promoted(ha.arg) != 0) {
		/* The caller could not start: someone else should lead. */
		log_errorx("giving the lead up: dutyd could not start on it");
		pglog_detach();
		pgconn_free(ha.lock);
		ha.lock = NULL;
		ha.lockst = LOCK_NONE;
		event_del(ha.watch);
		ha.role = PGHA_LOST;
		pgha_status_update();
	}
}

static void
pgha_secrets_done(void *arg, const char *err)
{
	if (err != NULL) {
		pgha_lock_drop(err);
		return;
	}
	if (ha.bad_secret) {
		log_errorx("cannot read the secrets in dutyd_secret (too many or "
		    "too long); not taking the lead");
		pgha_lock_drop("bad dutyd_secret rows");
		return;
	}
	pgha_promote();
}

static void	pgha_catchup(void);

static void
pgha_catchup_done(void *arg, const char *err)
{
	char sql[256];

	if (err != NULL) {
		pgha_lock_drop(err);
		return;
	}
	if (ha.broken) {
		/* Nobody may write after a break: hold the lock, say why. */
		pgha_changed();
		return;
	}
	if (pgha_read_more()) {
		pgha_catchup();
		return;
	}
	pglog_reset();
	ha.bad_secret = 0;
	/*
	 * The replay of what was read blocks the loop (as a restart's does):
	 * the lease is held for that long, at PGHA_REPLAY_RATE, or a standby
	 * would take the lead from us half-way.
	 */
	snprintf(sql, sizeof(sql), "UPDATE dutyd_leader SET renewed = now() + "
	    "interval '%lld milliseconds' WHERE id = 1;"
	    "SELECT name, value FROM dutyd_secret",
	    (long long)(ha.lines.bytes / PGHA_REPLAY_RATE * 1000));
	if (pgconn_query(ha.lock, sql, pgha_read_result, pgha_secrets_done,
	    NULL) != 0)
		pgha_lock_drop("cannot send a query");
}

static void
pgha_catchup(void)
{
	char sql[1024];

	/* A long table is read in pieces: the lease is renewed with each. */
	pgha_read_sql(sql, sizeof(sql) - 80);
	strcat(sql, ";UPDATE dutyd_leader SET renewed = now() WHERE id = 1");
	if (pgconn_query(ha.lock, sql, pgha_read_result, pgha_catchup_done,
	    NULL) != 0)
		pgha_lock_drop("cannot send a query");
}

static void
pgha_leased(void *arg, const char *err)
{
	if (err != NULL) {
		pgha_lock_drop(err);
		return;
	}
	pgha_catchup();
}

static void
pgha_locked(void *arg, const char *err)
{
	char *lit, sql[512];

	if (err != NULL) {
		pgha_lock_drop(err);
		return;
	}
	/* Only the lock's session reads from now on: nobody else can write. */
	pgconn_free(ha.follow);
	ha.follow = NULL;
	event_del(ha.follow_timer);
	ha.lockst = LOCK_CATCHUP;
	ha.role = PGHA_STANDBY;
	pgha_changed();
	log_info("the lead is free: reading the audit table's tail from seq "
	    "%lld", (long long)ha.read_seq);
	/*
	 * The lease first, before a line is read: a standby must not take
	 * the previous leader's stale lease for ours and end our session.
	 */
	if ((lit = PQescapeLiteral(pgconn_pg(ha.lock), ha.instance,
	    strlen(ha.instance))) == NULL) {
		pgha_lock_drop("out of memory");
		return;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO dutyd_leader(id, instance, pid, "
	    "since, backend_pid, renewed) VALUES (1, %s, %d, now(), "
	    "pg_backend_pid(), now()) ON CONFLICT (id) DO UPDATE SET "
	    "instance = EXCLUDED.instance, pid = EXCLUDED.pid, since = "
	    "EXCLUDED.since, backend_pid = EXCLUDED.backend_pid, renewed = "
	    "EXCLUDED.renewed", lit, (int)getpid());
	PQfreemem(lit);
	if (pgconn_query(ha.lock, sql, NULL, pgha_leased, NULL) != 0)
		pgha_lock_drop("cannot send a query");
}

/* Now the lock: granted the moment the holder's session ends. */
static void
pgha_lock_wait(void)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)",
	    (long long)PGSCHEMA_LOCK_KEY);
	ha.lockst = LOCK_WAITING;
	if (pgconn_query(ha.lock, sql, NULL, pgha_locked, NULL) != 0)
		pgha_lock_drop("cannot send a query");
}

/*
 * A server without tcp_user_timeout (before PostgreSQL 12, some
 * compatible ones) still serves: only a vanished host's session then
 * lasts as long as the server's keepalives say, and the lease held in
 * dutyd_leader covers that.  Each setting is a query of its own: a
 * failed statement would undo the others of its query.
 */
static void
pgha_lock_tuned(void *arg, const char *err)
{
	static int	warned;
	char		sql[128];
	int64_t		s = ha.lease_ms / 1000 < 1 ? 1 : ha.lease_ms / 1000;
	intptr_t	step = (intptr_t)arg;

	if (ha.lock == NULL || !pgconn_ready(ha.lock))
		return;		/* the session is gone: down() follows */
	if (err != NULL && !warned++)
		log_warnx("the database does not take dutyd's session timeouts "
		    "(%s): a leader whose host vanishes keeps its session until "
		    "the lease in dutyd_leader runs out", err);
	if (step == 0)
		snprintf(sql, sizeof(sql), "SET tcp_keepalives_idle = %lld",
		    (long long)(s > 2 ? s / 2 : 1));
	else if (step == 1)
		snprintf(sql, sizeof(sql), "SET tcp_keepalives_interval = 1");
	else if (step == 2)
		snprintf(sql, sizeof(sql), "SET tcp_keepalives_count = %lld",
		    (long long)(s > 2 ? s / 2 : 1));
	else {
		pgha_lock_wait();
		return;
	}
	if (pgconn_query(ha.lock, sql, NULL, pgha_lock_tuned,
	    (void *)(step + 1)) != 0)
		pgha_lock_drop("cannot send a query");
}

static void
pgha_lock_up(void *arg)
{
	char sql[64];

	ha.lock_backoff = PGHA_BACKOFF_MIN_MS;
	ha.lockst = LOCK_WAITING;
	/*
	 * The server drops a session cut off from us within the lease too,
	 * so the lock passes on even when this host vanished.
	 */
	snprintf(sql, sizeof(sql), "SET tcp_user_timeout = %lld",
	    (long long)ha.lease_ms);
	if (pgconn_query(ha.lock, sql, NULL, pgha_lock_tuned, (void *)0) != 0)
		pgha_lock_drop("cannot send a query");
}

static void
pgha_lock_down(void *arg, const char *why)
{
	pgha_lock_drop(why);
}

static const struct pgconn_hooks pgha_lock_hooks = {
	pgha_lock_up, pgha_lock_down,
};

static void
pgha_lock_connect(void)
{
	char err[256];

	ha.lockst = LOCK_CONNECTING;
	if ((ha.lock = pgconn_open(ha.base, ha.conninfo, ha.appname,
	    ha.lease_ms, &pgha_lock_hooks, NULL, err, sizeof(err))) == NULL)
		pgha_lock_drop(err);
}

static void
pgha_lock_tick(evutil_socket_t fd, short what, void *arg)
{
	if (ha.lock == NULL && ha.lockst == LOCK_NONE && ha.role != PGHA_LOST)
		pgha_lock_connect();
}

/* The leader: a heartbeat while idle, and the lease kept on this side. */
static void
pgha_watch(evutil_socket_t fd, short what, void *arg)
{
	int64_t	now = pgconn_now(), since;
	char	why[160];

	if (ha.lockst != LOCK_HELD)
		return;
	if ((since = pgconn_busy_since(ha.lock)) != 0 &&
	    now - since > ha.lease_ms) {
		snprintf(why, sizeof(why), "the database has not answered for "
		    "%lld ms (lease %lld ms)", (long long)(now - since),
		    (long long)ha.lease_ms);
		pgconn_free(ha.lock);
		ha.lock = NULL;
		pgha_lost(why);
		return;
	}
	if ((since = pglog_failing_since()) != 0 && now - since > ha.lease_ms) {
		snprintf(why, sizeof(why), "commits have failed for %lld ms "
		    "(lease %lld ms)", (long long)(now - since),
		    (long long)ha.lease_ms);
		pgconn_free(ha.lock);
		ha.lock = NULL;
		pgha_lost(why);
		return;
	}
	if (pglog_heartbeat() != 0) {
		pgconn_free(ha.lock);
		ha.lock = NULL;
		pgha_lost("cannot send a heartbeat to the database");
		return;
	}
	pgha_after(ha.watch, ha.lease_ms / 4 > 0 ? ha.lease_ms / 4 : 1);
}

/*
 * Interface
 */

int
pgha_start(struct event_base *base, const struct config_pg *cfg,
    const struct pgha_hooks *hooks, void *arg, char *err, size_t errlen)
{
	int rc;

	/* Loaded already by the config's check of conninfo: this is for callers without one. */
	if ((rc = pqlib_load(err, errlen)) != 0)
		return rc;
	memset(&ha, 0, sizeof(ha));
	ha.base = base;
	ha.hooks = hooks;
	ha.arg = arg;
	ha.lease_ms = cfg->lease_ms > 0 ? cfg->lease_ms : 5000;
	snprintf(ha.instance, sizeof(ha.instance), "%s", cfg->instance != NULL ?
	    cfg->instance : "");
	if (ha.instance[0] == '\0' && gethostname(ha.instance,
	    sizeof(ha.instance) - 1) != 0)
		snprintf(ha.instance, sizeof(ha.instance), "dutyd");
	snprintf(ha.appname, sizeof(ha.appname), "dutyd:%s", ha.instance);
	ha.follow_backoff = ha.lock_backoff = PGHA_BACKOFF_MIN_MS;
	memcpy(ha.read_hash, RECORD_ZERO_HASH, sizeof(ha.read_hash));
	if ((ha.conninfo = strdup(cfg->conninfo)) == NULL ||
	    (ha.follow_timer = evtimer_new(base, pgha_follow_tick, NULL)) ==
	    NULL || (ha.lock_timer = evtimer_new(base, pgha_lock_tick, NULL)) ==
	    NULL || (ha.watch = evtimer_new(base, pgha_watch, NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		pgha_stop();
		return -ENOMEM;
	}
	ha.started = 1;
	ha.role = PGHA_CONNECTING;
	pgha_status_update();
	pgha_after(ha.follow_timer, 0);
	return 0;
}

enum pgha_role
pgha_role(void)
{
	return ha.role;
}

const char *
pgha_leader(void)
{
	return ha.leader;
}

const char *
pgha_instance(void)
{
	return ha.instance;
}

const char *
pgha_status(void)
{
	if (ha.status[0] == '\0')
		pgha_status_update();
	return ha.status;
}

int
pgha_settled(void)
{
	return ha.settled;
}

int64_t
pgha_read_seq(void)
{
	return ha.read_seq;
}

const struct store_backend *
pgha_backend(void)
{
	return ha.backend;
}

void
pgha_stop(void)
{
	if (ha.lockst == LOCK_HELD)
		pglog_detach();
	pgconn_free(ha.follow);
	pgconn_free(ha.lock);
	ha.follow = ha.lock = NULL;
	if (ha.follow_timer != NULL)
		event_free(ha.follow_timer);
	if (ha.lock_timer != NULL)
		event_free(ha.lock_timer);
	if (ha.watch != NULL)
		event_free(ha.watch);
	ha.follow_timer = ha.lock_timer = ha.watch = NULL;
	pglog_lines_clear(&ha.lines);
	pglog_reset();
	free(ha.conninfo);
	ha.conninfo = NULL;
	ha.lockst = LOCK_NONE;
	ha.started = 0;
	ha.backend = NULL;
}
