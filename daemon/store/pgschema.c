/*
 * pgschema.c: the PostgreSQL store's tables, created and versioned by
 * dutyd.  See pgschema.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pgschema.h"

/* NULL when the table is missing, so that a fresh database reads as 0. */
const char pgschema_version_sql[] =
    "SELECT CASE WHEN to_regclass('dutyd_meta') IS NULL THEN NULL ELSE "
    "(SELECT value FROM dutyd_meta WHERE key = 'schema_version') END";

static const char pgschema_create_sql[] =
    "BEGIN;"
    "CREATE TABLE dutyd_meta (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE dutyd_audit (seq bigint PRIMARY KEY CHECK (seq > 0), "
    "  line text NOT NULL);"
    "CREATE TABLE dutyd_checkpoint (begin_seq bigint PRIMARY KEY, "
    "  end_seq bigint NOT NULL, CHECK (end_seq > begin_seq));"
    "CREATE TABLE dutyd_secret (name text PRIMARY KEY, value bytea NOT NULL);"
    "CREATE TABLE dutyd_leader (id int PRIMARY KEY CHECK (id = 1), "
    "  instance text NOT NULL, pid int NOT NULL, since timestamptz NOT NULL, "
    "  backend_pid int NOT NULL DEFAULT 0, "
    "  renewed timestamptz NOT NULL DEFAULT now());"
    "INSERT INTO dutyd_meta VALUES ('schema_version', '1');"
    "COMMIT;";

static int
pgschema_fail(PGconn *conn, const PGresult *res, char *err, size_t errlen)
{
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";

	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(conn);
	snprintf(err, errlen, "%.*s", (int)strcspn(msg, "\n"), msg);
	return PQstatus(conn) == CONNECTION_OK ? -EIO : -ECONNRESET;
}

int
pgschema_version(PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res;
	const char	*v;
	char		*end;
	long		 n;
	int		 rc;

	/*
	 * The CASE in pgschema_version_sql does not keep the parser from
	 * looking dutyd_meta up: on a fresh database it fails.  Ask first.
	 */
	res = PQexec(conn, "SELECT to_regclass('dutyd_meta') IS NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = pgschema_fail(conn, res, err, errlen);
		PQclear(res);
		return rc;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	res = PQexec(conn, pgschema_version_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		rc = pgschema_fail(conn, res, err, errlen);
		PQclear(res);
		return rc;
	}
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return 0;
	}
	v = PQgetvalue(res, 0, 0);
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 1 || n > 1000000) {
		snprintf(err, errlen, "dutyd_meta holds a schema_version that is "
		    "not a version ('%.40s')", v);
		PQclear(res);
		return -EPROTO;
	}
	PQclear(res);
	return (int)n;
}

int
pgschema_init(PGconn *conn, int *created, char *err, size_t errlen)
{
	PGresult	*res;
	int		 v, ok;

	*created = 0;
	if ((v = pgschema_version(conn, err, errlen)) < 0)
		return v;
	if (v == PGSCHEMA_VERSION)
		return 0;
	if (v != 0) {
		snprintf(err, errlen, "the database holds dutyd schema version %d; "
		    "this dutyd knows version %d only", v, PGSCHEMA_VERSION);
		return -EPROTO;
	}
	/* Several statements, one transaction: all the tables or none. */
	res = PQexec(conn, pgschema_create_sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok) {
		int rc = pgschema_fail(conn, res, err, errlen);

		PQclear(res);
		PQclear(PQexec(conn, "ROLLBACK"));
		return rc;
	}
	PQclear(res);
	*created = 1;
	return 0;
}
