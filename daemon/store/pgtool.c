/*
 * pgtool.c: the PostgreSQL store's command-line tools.  See pgtool.h.
 *
 * They share the file log's checks: the import verifies the state_dir as
 * `dutyd --verify-audit STATE_DIR` does before it copies a byte, and the
 * table's verification feeds its rows through the same line checks
 * (auditscan.c), so a file and a table are judged alike.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/pqlib.h"
#include "store/auditscan.h"
#include "store/pgschema.h"
#include "store/pgtool.h"
#include "store/record.h"

#define PGTOOL_TABLE		"dutyd_audit"
#define PGTOOL_COPY_CHUNK	(256 * 1024)
#define PGTOOL_SECRET_MAX	256

/*
 * The named secrets the file log keeps in state_dir (filelog.c's
 * secret()): links.key signs the one-tap links already sent, session.key
 * the console's sessions.  Moved with the log, so both keep working.
 */
static const char *const pgtool_secrets[] = { "links.key", "session.key" };

int
pgtool_is_conninfo(const char *arg)
{
	return strncmp(arg, "postgresql://", 13) == 0 ||
	    strncmp(arg, "postgres://", 11) == 0 || strchr(arg, '=') != NULL;
}

/* First line of libpq's message: its later lines repeat context. */
static const char *
pgtool_msg(PGconn *conn, const PGresult *res, char *buf, size_t len)
{
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";

	if (msg == NULL || *msg == '\0')
		msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";
	snprintf(buf, len, "%.*s", (int)strcspn(msg, "\n"), msg);
	return buf;
}

/*
 * Lines go in and out byte for byte: the client encoding is fixed to
 * UTF8 (dutyd writes UTF-8), whatever the server's default.  The
 * conninfo's own settings win over the rest.
 */
static PGconn *
pgtool_connect(const char *conninfo, const char *tool)
{
	const char *const keys[] = { "application_name", "connect_timeout",
	    "dbname", "client_encoding", NULL };
	const char *const vals[] = { tool, "10", conninfo, "UTF8", NULL };

	return PQconnectdbParams(keys, vals, 1);
}

/* "database dutyd on /run/postgresql:5432": where the tools worked. */
static void
pgtool_where(PGconn *conn, char *buf, size_t len)
{
	const char *host = PQhost(conn), *port = PQport(conn);

	snprintf(buf, len, "database %s on %s%s%s", PQdb(conn),
	    host != NULL && *host ? host : "localhost",
	    port != NULL && *port ? ":" : "", port != NULL ? port : "");
}

static PGconn *
pgtool_open(const struct config *cfg, const char *tool, FILE *err)
{
	char	 msg[512];
	PGconn	*conn;

	if (cfg->postgresql == NULL) {
		fprintf(err, "dutyd: %s has no store.postgresql; the file log "
		    "needs no %s\n", cfg->path, tool);
		return NULL;
	}
	if (pqlib_load(msg, sizeof(msg)) != 0) {
		fprintf(err, "dutyd: %s\n", msg);
		return NULL;
	}
	conn = pgtool_connect(cfg->postgresql->conninfo, tool);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(err, "dutyd: cannot connect to PostgreSQL: %s; check "
		    "store.postgresql.conninfo in %s and that PostgreSQL runs\n",
		    pgtool_msg(conn, NULL, msg, sizeof(msg)), cfg->path);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int
pgtool_init_store(const struct config *cfg, FILE *out, FILE *err)
{
	char	 msg[512], where[512];
	PGconn	*conn;
	int	 created, rc;

	if ((conn = pgtool_open(cfg, "--init-store", err)) == NULL)
		return 1;
	pgtool_where(conn, where, sizeof(where));
	rc = pgschema_init(conn, &created, msg, sizeof(msg));
	if (rc == -EPROTO)
		fprintf(err, "dutyd: %s: %s; use the dutyd that made it, or "
		    "another database\n", where, msg);
	else if (rc != 0)
		fprintf(err, "dutyd: cannot create the dutyd schema in %s: %s; "
		    "the user in store.postgresql.conninfo (%s) needs the right "
		    "to create tables there (CREATE DATABASE … OWNER that user)\n",
		    where, msg, PQuser(conn));
	else if (created)
		fprintf(out, "created the dutyd schema (version %d) in %s\n",
		    PGSCHEMA_VERSION, where);
	else
		fprintf(out, "the dutyd schema (version %d) is already there in "
		    "%s\n", PGSCHEMA_VERSION, where);
	PQfinish(conn);
	return rc != 0;
}

/*
 * Verify
 */

/* 0 when the schema is there in our version; else 2 with why on stderr. */
static int
pgtool_schema_ok(PGconn *conn, const char *where, const char *what)
{
	char	msg[512];
	int	v;

	v = pgschema_version(conn, msg, sizeof(msg));
	if (v < 0)
		fprintf(stderr, "dutyd: cannot read %s: %s\n", where, msg);
	else if (v == 0)
		fprintf(stderr, "dutyd: %s holds no dutyd schema; %s (is it "
		    "the right database? `dutyd --init-store -c FILE` creates "
		    "the schema)\n", where, what);
	else if (v != PGSCHEMA_VERSION)
		fprintf(stderr, "dutyd: %s holds dutyd schema version %d; this "
		    "dutyd knows version %d only\n", where, v, PGSCHEMA_VERSION);
	return v == PGSCHEMA_VERSION ? 0 : 2;
}

/* The event a line holds, checked by parsing it; 1 when it is EVENT. */
static int
pgtool_line_is(const char *line, const char *event)
{
	struct record	 rec;
	json_t		*root;
	const char	*why;
	int		 is;

	if (line == NULL ||
	    record_parse(line, strlen(line), &rec, &root, &why) != 0)
		return 0;
	is = strcmp(rec.event, event) == 0;
	json_decref(root);
	return is;
}

/*
 * Replay starts at the newest dutyd_checkpoint row: one that does not
 * point at a checkpoint.begin and its checkpoint.end would make a new
 * leader skip records, though the chain itself holds.
 */
static int
pgtool_verify_checkpoints(PGconn *conn, const char *where, FILE *out)
{
	PGresult	*res;
	char		 msg[512];
	int		 i, bad = 0;

	res = PQexec(conn, "SELECT c.begin_seq, c.end_seq, b.line, e.line "
	    "FROM dutyd_checkpoint c LEFT JOIN dutyd_audit b ON b.seq = "
	    "c.begin_seq LEFT JOIN dutyd_audit e ON e.seq = c.end_seq "
	    "ORDER BY c.begin_seq");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "dutyd: cannot read dutyd_checkpoint in %s: %s\n",
		    where, pgtool_msg(conn, res, msg, sizeof(msg)));
		PQclear(res);
		return 2;
	}
	for (i = 0; i < PQntuples(res); i++) {
		if (pgtool_line_is(PQgetisnull(res, i, 2) ? NULL :
		    PQgetvalue(res, i, 2), "checkpoint.begin") &&
		    pgtool_line_is(PQgetisnull(res, i, 3) ? NULL :
		    PQgetvalue(res, i, 3), "checkpoint.end"))
			continue;
		fprintf(out, "%s: the checkpoint row (begin_seq %s, end_seq %s) "
		    "does not point at a checkpoint.begin and its checkpoint.end: "
		    "a new leader would replay from the wrong place\n", where,
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		bad = 1;
	}
	if (bad)
		fprintf(out, "the checkpoint rows are BROKEN\n");
	else if (PQntuples(res) > 0)
		fprintf(out, "checkpoints: %d, each a checkpoint.begin … "
		    "checkpoint.end\n", PQntuples(res));
	PQclear(res);
	return bad;
}

/* Every row in seq order, one at a time: memory stays flat however long the table. */
static int
pgtool_feed_rows(PGconn *conn, struct auditscan *scan, const char *where)
{
	PGresult	*res;
	char		 msg[512], *end;
	int		 rc = 0;

	if (!PQsendQuery(conn, "SELECT seq, line FROM " PGTOOL_TABLE
	    " ORDER BY seq") || !PQsetSingleRowMode(conn)) {
		fprintf(stderr, "dutyd: cannot read %s: %s\n", where,
		    pgtool_msg(conn, NULL, msg, sizeof(msg)));
		return 2;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
			auditscan_feed(scan, strtoll(PQgetvalue(res, 0, 0), &end,
			    10), PQgetvalue(res, 0, 1),
			    (size_t)PQgetlength(res, 0, 1));
			break;
		case PGRES_TUPLES_OK:
			break;
		default:
			if (rc == 0)
				fprintf(stderr, "dutyd: cannot read %s: %s\n", where,
				    pgtool_msg(conn, res, msg, sizeof(msg)));
			rc = 2;
			break;
		}
		PQclear(res);
	}
	return rc;
}

int
pgtool_verify(const char *conninfo, FILE *out)
{
	struct auditscan	 scan;
	PGresult		*res;
	PGconn			*conn;
	char			 msg[512], where[512];
	int			 rc, damaged;

	if (pqlib_load(msg, sizeof(msg)) != 0) {
		fprintf(stderr, "dutyd: %s\n", msg);
		return 2;
	}
	conn = pgtool_connect(conninfo, "dutyd --verify-audit");
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "dutyd: cannot connect to PostgreSQL: %s; check "
		    "the URI or conninfo and that PostgreSQL runs\n",
		    pgtool_msg(conn, NULL, msg, sizeof(msg)));
		PQfinish(conn);
		return 2;
	}
	pgtool_where(conn, where, sizeof(where));
	if ((rc = pgtool_schema_ok(conn, where, "nothing to verify")) != 0) {
		PQfinish(conn);
		return rc;
	}
	/* One snapshot: a leader appending meanwhile shows as a shorter, whole table. */
	res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : 2;
	if (rc != 0)
		fprintf(stderr, "dutyd: cannot read %s: %s\n", where,
		    pgtool_msg(conn, res, msg, sizeof(msg)));
	PQclear(res);
	if (rc == 0 && auditscan_feed_begin(&scan, where, PGTOOL_TABLE, msg,
	    sizeof(msg)) != 0) {
		fprintf(stderr, "dutyd: %s\n", msg);
		rc = 2;
	}
	if (rc == 0) {
		rc = pgtool_feed_rows(conn, &scan, where);
		auditscan_feed_end(&scan);
		if (rc == 0) {
			damaged = auditscan_print(&scan, out);
			rc = pgtool_verify_checkpoints(conn, where, out);
			if (rc == 0 && damaged)
				rc = 1;
		}
		auditscan_free(&scan);
	}
	PQfinish(conn);
	return rc;
}

/*
 * Import
 */

struct pgtool_ckpt {
	int64_t		 begin, end;
};

struct pgtool_import {
	PGconn			*conn;
	const char		*where;
	FILE			*err;
	char			*buf;		/* COPY data not yet sent */
	size_t			 len;
	int64_t			 seq;		/* of the last line copied */
	char			 hash[RECORD_HASH_HEX];	/* its SHA-256 */
	int64_t			 ckpt_begin;	/* the last checkpoint.begin; 0: none open */
	struct pgtool_ckpt	*ckpts;
	size_t			 nckpts;
};

static int
pgtool_flush(struct pgtool_import *im)
{
	char msg[512];

	if (im->len > 0 && PQputCopyData(im->conn, im->buf, (int)im->len) != 1) {
		fprintf(im->err, "dutyd: cannot copy into %s: %s\n", im->where,
		    pgtool_msg(im->conn, NULL, msg, sizeof(msg)));
		return -EIO;
	}
	im->len = 0;
	return 0;
}

/* Pairs checkpoint.end with the checkpoint.begin of the attempt that finished. */
static int
pgtool_note_ckpt(struct pgtool_import *im, const char *line, size_t len)
{
	struct pgtool_ckpt	*c;
	struct record		 rec;
	json_t			*root;
	const char		*why;
	int			 rc = 0;

	/* Only lines naming a checkpoint near their start are parsed. */
	if (memmem(line, len < 200 ? len : 200, "\"checkpoint.", 12) == NULL ||
	    record_parse(line, len, &rec, &root, &why) != 0)
		return 0;
	if (strcmp(rec.event, "checkpoint.begin") == 0)
		im->ckpt_begin = rec.seq;
	else if (strcmp(rec.event, "checkpoint.end") == 0 && im->ckpt_begin > 0) {
		if ((c = reallocarray(im->ckpts, im->nckpts + 1,
		    sizeof(*c))) == NULL)
			rc = -ENOMEM;
		else {
			im->ckpts = c;
			c[im->nckpts].begin = im->ckpt_begin;
			c[im->nckpts++].end = rec.seq;
			im->ckpt_begin = 0;
		}
	}
	json_decref(root);
	return rc;
}

/* One line as a row of COPY's text format: seq TAB line, escaped. */
static int
pgtool_copy_line(struct pgtool_import *im, const char *line, size_t len)
{
	size_t	i;
	int	rc;

	if (im->len >= PGTOOL_COPY_CHUNK && (rc = pgtool_flush(im)) != 0)
		return rc;
	/* The worst case doubles every byte: the buffer has room for one such line. */
	if (len > RECORD_LINE_MAX)
		return -EMSGSIZE;
	im->seq++;
	im->len += (size_t)sprintf(im->buf + im->len, "%lld\t",
	    (long long)im->seq);
	for (i = 0; i < len; i++) {
		char c = line[i], *p = im->buf + im->len;

		switch (c) {
		case '\\': p[0] = '\\'; p[1] = '\\'; im->len += 2; break;
		case '\t': p[0] = '\\'; p[1] = 't'; im->len += 2; break;
		case '\n': p[0] = '\\'; p[1] = 'n'; im->len += 2; break;
		case '\r': p[0] = '\\'; p[1] = 'r'; im->len += 2; break;
		default: p[0] = c; im->len++; break;
		}
	}
	im->buf[im->len++] = '\n';
	record_hash(line, len, im->hash);
	return pgtool_note_ckpt(im, line, len);
}

/* The whole records of one segment, as the scan measured them. */
static int
pgtool_copy_segment(struct pgtool_import *im, const struct auditscan_seg *g)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	off_t	 off = 0;
	FILE	*fp;
	int	 fd, rc = 0;

	if ((fd = open(g->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		rc = -errno;
		if (fd != -1)
			close(fd);
		fprintf(im->err, "dutyd: cannot read %s: %s\n", g->path,
		    strerror(-rc));
		return rc;
	}
	while (rc == 0 && off < g->size && (n = getline(&line, &cap, fp)) != -1) {
		size_t len = (size_t)n;

		off += n;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if ((rc = pgtool_copy_line(im, line, len)) != 0)
			fprintf(im->err, "dutyd: cannot copy seq %lld of %s: %s\n",
			    (long long)im->seq, g->path, strerror(-rc));
	}
	if (rc == 0 && ferror(fp)) {
		rc = -EIO;
		fprintf(im->err, "dutyd: cannot read %s: I/O error\n", g->path);
	}
	free(line);
	fclose(fp);
	return rc;
}

/* Runs a statement; 0, or -EIO with why on ERR. */
static int
pgtool_exec(struct pgtool_import *im, const char *sql, int nparams,
    const char *const *vals, const int *lens, const int *fmts,
    ExecStatusType want, PGresult **keep)
{
	PGresult	*res;
	char		 msg[512];

	res = PQexecParams(im->conn, sql, nparams, NULL, vals, lens, fmts, 0);
	if (PQresultStatus(res) != want) {
		fprintf(im->err, "dutyd: %s: %s; nothing was imported\n",
		    im->where, pgtool_msg(im->conn, res, msg, sizeof(msg)));
		PQclear(res);
		return -EIO;
	}
	if (keep != NULL)
		*keep = res;
	else
		PQclear(res);
	return 0;
}

/* The table must be empty and no dutyd may lead on it. */
static int
pgtool_import_guard(struct pgtool_import *im)
{
	PGresult	*res;
	char		 key[32], who[160] = "unknown";
	const char	*vals[1] = { key };
	int		 rc;

	snprintf(key, sizeof(key), "%lld", (long long)PGSCHEMA_LOCK_KEY);
	if ((rc = pgtool_exec(im, "SELECT pg_try_advisory_xact_lock($1::bigint)",
	    1, vals, NULL, NULL, PGRES_TUPLES_OK, &res)) != 0)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		if (pgtool_exec(im, "SELECT instance, pid FROM dutyd_leader", 0,
		    NULL, NULL, NULL, PGRES_TUPLES_OK, &res) == 0) {
			if (PQntuples(res) == 1)
				snprintf(who, sizeof(who), "%s", PQgetvalue(res, 0, 0));
			PQclear(res);
		}
		fprintf(im->err, "dutyd: a dutyd is running on this database "
		    "(instance %s); stop it first (%s holds the leader's lock): "
		    "nothing was imported\n", who, im->where);
		return -EBUSY;
	}
	PQclear(res);
	if ((rc = pgtool_exec(im, "SELECT count(*) FROM " PGTOOL_TABLE, 0, NULL,
	    NULL, NULL, PGRES_TUPLES_OK, &res)) != 0)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
		fprintf(im->err, "dutyd: %s already holds %s records; import only "
		    "into an empty store (a new database, `dutyd --init-store`, "
		    "then --import-audit): nothing was imported\n", im->where,
		    PQgetvalue(res, 0, 0));
		PQclear(res);
		return -EEXIST;
	}
	PQclear(res);
	/* Left by a leader that never wrote a record: they belong to nothing. */
	return pgtool_exec(im, "DELETE FROM dutyd_checkpoint", 0, NULL, NULL,
	    NULL, PGRES_COMMAND_OK, NULL);
}

static int
pgtool_import_rows(struct pgtool_import *im, const struct auditscan *scan)
{
	PGresult	*res;
	char		 msg[512];
	size_t		 i;
	int		 rc;

	if ((rc = pgtool_exec(im, "COPY " PGTOOL_TABLE " (seq, line) FROM STDIN",
	    0, NULL, NULL, NULL, PGRES_COPY_IN, NULL)) != 0)
		return rc;
	for (i = 0; i < scan->nsegs && rc == 0; i++)
		rc = pgtool_copy_segment(im, &scan->segs[i]);
	if (rc == 0)
		rc = pgtool_flush(im);
	if (PQputCopyEnd(im->conn, rc == 0 ? NULL : "import aborted") != 1)
		rc = rc != 0 ? rc : -EIO;
	while ((res = PQgetResult(im->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
			fprintf(im->err, "dutyd: cannot copy into %s: %s; nothing "
			    "was imported\n", im->where,
			    pgtool_msg(im->conn, res, msg, sizeof(msg)));
			rc = -EIO;
		}
		PQclear(res);
	}
	if (rc != 0)
		return rc;
	/* The files must not have changed since they were verified. */
	if (im->seq != scan->last_seq || strcmp(im->hash, scan->last_hash) != 0) {
		fprintf(im->err, "dutyd: the audit log changed while it was "
		    "copied (is a dutyd running on it?); nothing was imported\n");
		return -EAGAIN;
	}
	return 0;
}

static int
pgtool_import_ckpts(struct pgtool_import *im)
{
	char		 b[32], e[32];
	const char	*vals[2] = { b, e };
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < im->nckpts && rc == 0; i++) {
		snprintf(b, sizeof(b), "%lld", (long long)im->ckpts[i].begin);
		snprintf(e, sizeof(e), "%lld", (long long)im->ckpts[i].end);
		rc = pgtool_exec(im, "INSERT INTO dutyd_checkpoint (begin_seq, "
		    "end_seq) VALUES ($1::bigint, $2::bigint)", 2, vals, NULL,
		    NULL, PGRES_COMMAND_OK, NULL);
	}
	return rc;
}

/* Reads one secret file as filelog.c keeps it; 0 with *len, 1 when absent, else -errno. */
static int
pgtool_read_secret(const char *path, unsigned char *buf, size_t *len, FILE *err)
{
	struct stat	 st;
	ssize_t		 n;
	int		 fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 1;
		rc = -errno;
		fprintf(err, "dutyd: cannot read %s: %s; nothing was imported\n",
		    path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < 1 ||
	    st.st_size > PGTOOL_SECRET_MAX ||
	    (n = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		fprintf(err, "dutyd: %s is not a key dutyd made (a regular file "
		    "of 1 to %d bytes, read whole); nothing was imported\n", path,
		    PGTOOL_SECRET_MAX);
		rc = -EINVAL;
	} else
		*len = (size_t)n;
	close(fd);
	return rc;
}

static int
pgtool_import_secrets(struct pgtool_import *im, const char *dir, int *nsec)
{
	unsigned char	 key[PGTOOL_SECRET_MAX];
	char		 path[PATH_MAX];
	const char	*vals[2];
	int		 lens[2] = { 0, 0 }, fmts[2] = { 0, 1 };
	size_t		 i, len = 0;
	int		 rc = 0;

	*nsec = 0;
	for (i = 0; i < sizeof(pgtool_secrets) / sizeof(*pgtool_secrets) &&
	    rc == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pgtool_secrets[i]);
		if ((rc = pgtool_read_secret(path, key, &len, im->err)) != 0) {
			rc = rc == 1 ? 0 : rc;
			continue;
		}
		vals[0] = pgtool_secrets[i];
		vals[1] = (const char *)key;
		lens[1] = (int)len;
		rc = pgtool_exec(im, "INSERT INTO dutyd_secret (name, value) "
		    "VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = "
		    "excluded.value", 2, vals, lens, fmts, PGRES_COMMAND_OK, NULL);
		(*nsec)++;
		OPENSSL_cleanse(key, sizeof(key));
	}
	return rc;
}

/* 0 when the file log may be copied; 1 with why on ERR. */
static int
pgtool_import_check(const char *dir, struct auditscan *scan, int *lockfd,
    FILE *err)
{
	const struct auditscan_break	*b;
	char				 msg[1024], pid[32] = "?";
	ssize_t				 n;
	int				 fd;

	/*
	 * A dutyd on the file log holds dutyd.lock; its log must not grow
	 * meanwhile.  Held (shared) until the import ends, so that none starts.
	 */
	snprintf(msg, sizeof(msg), "%s/dutyd.lock", dir);
	if ((fd = open(msg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) {
			if ((n = pread(fd, pid, sizeof(pid) - 1, 0)) > 0) {
				pid[n] = '\0';
				pid[strcspn(pid, "\n")] = '\0';
			}
			fprintf(err, "dutyd: a dutyd (pid %s) is running with "
			    "state_dir %s; stop it first, then import\n", pid, dir);
			close(fd);
			return 1;
		}
		*lockfd = fd;
	}
	if (auditscan_dir(dir, scan, msg, sizeof(msg)) != 0) {
		fprintf(err, "dutyd: %s\n", msg);
		return 1;
	}
	if (scan->nbreaks > 0) {
		b = auditscan_unaccepted(scan);
		fprintf(err, "dutyd: %s%s; nothing was imported. Check it with "
		    "`dutyd --verify-audit %s` and restore the damaged file from "
		    "a backup first\n", (b != NULL ? b : &scan->breaks[0])->reason,
		    b != NULL ? "" : " (accepted by --accept-broken-chain, but "
		    "a PostgreSQL store takes only an intact chain)", dir);
		return 1;
	}
	if (scan->records == 0) {
		fprintf(err, "dutyd: %s holds no audit records; nothing to import "
		    "(is it the state_dir of the old configuration?)\n", dir);
		return 1;
	}
	return 0;
}

int
pgtool_import(const struct config *cfg, const char *dir, FILE *out, FILE *err)
{
	struct pgtool_import	 im;
	struct auditscan	 scan;
	char			 where[512];
	int			 rc, nsec = 0, lockfd = -1;

	memset(&scan, 0, sizeof(scan));
	memset(&im, 0, sizeof(im));
	if (pgtool_import_check(dir, &scan, &lockfd, err) != 0 ||
	    (im.conn = pgtool_open(cfg, "--import-audit", err)) == NULL) {
		if (lockfd != -1)
			close(lockfd);
		auditscan_free(&scan);
		return 1;
	}
	pgtool_where(im.conn, where, sizeof(where));
	im.where = where;
	im.err = err;
	if ((rc = pgtool_schema_ok(im.conn, where, "run `dutyd --init-store "
	    "-c FILE` first")) != 0)
		goto done;
	if ((im.buf = malloc(PGTOOL_COPY_CHUNK + 2 * RECORD_LINE_MAX + 64)) ==
	    NULL) {
		fprintf(err, "dutyd: out of memory\n");
		rc = -ENOMEM;
		goto done;
	}
	/* One transaction: the whole log, its checkpoints and keys, or nothing. */
	if ((rc = pgtool_exec(&im, "BEGIN", 0, NULL, NULL, NULL,
	    PGRES_COMMAND_OK, NULL)) != 0 ||
	    (rc = pgtool_import_guard(&im)) != 0 ||
	    (rc = pgtool_import_rows(&im, &scan)) != 0 ||
	    (rc = pgtool_import_ckpts(&im)) != 0 ||
	    (rc = pgtool_import_secrets(&im, dir, &nsec)) != 0 ||
	    (rc = pgtool_exec(&im, "COMMIT", 0, NULL, NULL, NULL,
	    PGRES_COMMAND_OK, NULL)) != 0)
		goto done;
	if (scan.torn)
		fprintf(out, "note: left out the torn last record of %s (%zu "
		    "bytes): dutyd stopped while writing it, before anyone was "
		    "told it was saved\n", scan.segs[scan.nsegs - 1].path,
		    scan.torn_len);
	fprintf(out, "imported %lld records (seq %lld..%lld) from %s; chain "
	    "verified; into %s with %zu checkpoint(s) and %d key(s)\n",
	    (long long)scan.records, (long long)scan.first_seq,
	    (long long)scan.last_seq, dir, where, im.nckpts, nsec);
done:
	/* Closing the session rolls back whatever was not committed. */
	PQfinish(im.conn);
	if (lockfd != -1)
		close(lockfd);
	free(im.buf);
	free(im.ckpts);
	auditscan_free(&scan);
	return rc != 0;
}
