/*
 * libpq, loaded when a configuration or a command names a database
 * (pqlib.c).  dutyd is not linked with libpq: Debian's pulls in GSSAPI,
 * LDAP and their libraries, which a dutyd on the file log would map and
 * relocate at every start for nothing.  Code that talks to PostgreSQL
 * includes this header instead of <libpq-fe.h>; its calls (PQexec(…))
 * then go through the pointers pqlib_load() fills, unchanged at the call
 * site.  Calling one before pqlib_load() succeeded is a NULL call: every
 * entry point into the PostgreSQL code (the store: section's conninfo
 * check, pgha_start(), the pgtool commands) loads first.
 */
#ifndef DUTYD_PQLIB_H
#define DUTYD_PQLIB_H

#include <stddef.h>

#include <libpq-fe.h>

/* libpq's ABI name since PostgreSQL 8.2; Debian's package libpq5. */
#define PQLIB_SONAME	"libpq.so.5"
#define PQLIB_PACKAGE	"libpq5"

/* One member per libpq function dutyd calls, typed from libpq-fe.h. */
#define PQLIB_FUNCS(X) \
	X(PQclear) \
	X(PQconnectPoll) \
	X(PQconnectStartParams) \
	X(PQconnectdbParams) \
	X(PQconninfoFree) \
	X(PQconninfoParse) \
	X(PQconsumeInput) \
	X(PQdb) \
	X(PQerrorMessage) \
	X(PQescapeLiteral) \
	X(PQexec) \
	X(PQexecParams) \
	X(PQfinish) \
	X(PQflush) \
	X(PQfname) \
	X(PQfreemem) \
	X(PQgetResult) \
	X(PQgetisnull) \
	X(PQgetlength) \
	X(PQgetvalue) \
	X(PQhost) \
	X(PQisBusy) \
	X(PQisnonblocking) \
	X(PQlibVersion) \
	X(PQnfields) \
	X(PQntuples) \
	X(PQport) \
	X(PQputCopyData) \
	X(PQputCopyEnd) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQsendQuery) \
	X(PQsetNoticeProcessor) \
	X(PQsetSingleRowMode) \
	X(PQsetnonblocking) \
	X(PQsocket) \
	X(PQstatus) \
	X(PQtransactionStatus) \
	X(PQunescapeBytea) \
	X(PQuser)

struct pqlib_api {
#define PQLIB_MEMBER(f)	__typeof__(f) *pq_##f;
	PQLIB_FUNCS(PQLIB_MEMBER)
#undef PQLIB_MEMBER
};
extern struct pqlib_api pqlib_api;

/*
 * Loads libpq once (later calls return at once): 0, or -errno with a
 * sentence on ERR naming the library and the package that provides it.
 * Not thread-safe: called on the main thread before any thread uses libpq.
 */
int	pqlib_load(char *err, size_t errlen);
int	pqlib_loaded(void);
/*
 * The file or soname pqlib_load() opens, PQLIB_SONAME unless changed
 * (tests: what a machine without libpq5 sees).  No effect once loaded.
 */
void	pqlib_use(const char *soname);

#ifndef PQLIB_NO_REDIRECT
#define PQclear	(pqlib_api.pq_PQclear)
#define PQconnectPoll	(pqlib_api.pq_PQconnectPoll)
#define PQconnectStartParams	(pqlib_api.pq_PQconnectStartParams)
#define PQconnectdbParams	(pqlib_api.pq_PQconnectdbParams)
#define PQconninfoFree	(pqlib_api.pq_PQconninfoFree)
#define PQconninfoParse	(pqlib_api.pq_PQconninfoParse)
#define PQconsumeInput	(pqlib_api.pq_PQconsumeInput)
#define PQdb	(pqlib_api.pq_PQdb)
#define PQerrorMessage	(pqlib_api.pq_PQerrorMessage)
#define PQescapeLiteral	(pqlib_api.pq_PQescapeLiteral)
#define PQexec	(pqlib_api.pq_PQexec)
#define PQexecParams	(pqlib_api.pq_PQexecParams)
#define PQfinish	(pqlib_api.pq_PQfinish)
#define PQflush	(pqlib_api.pq_PQflush)
#define PQfname	(pqlib_api.pq_PQfname)
#define PQfreemem	(pqlib_api.pq_PQfreemem)
#define PQgetResult	(pqlib_api.pq_PQgetResult)
#define PQgetisnull	(pqlib_api.pq_PQgetisnull)
#define PQgetlength	(pqlib_api.pq_PQgetlength)
#define PQgetvalue	(pqlib_api.pq_PQgetvalue)
#define PQhost	(pqlib_api.pq_PQhost)
#define PQisBusy	(pqlib_api.pq_PQisBusy)
#define PQisnonblocking	(pqlib_api.pq_PQisnonblocking)
#define PQlibVersion	(pqlib_api.pq_PQlibVersion)
#define PQnfields	(pqlib_api.pq_PQnfields)
#define PQntuples	(pqlib_api.pq_PQntuples)
#define PQport	(pqlib_api.pq_PQport)
#define PQputCopyData	(pqlib_api.pq_PQputCopyData)
#define PQputCopyEnd	(pqlib_api.pq_PQputCopyEnd)
#define PQresultErrorMessage	(pqlib_api.pq_PQresultErrorMessage)
#define PQresultStatus	(pqlib_api.pq_PQresultStatus)
#define PQsendQuery	(pqlib_api.pq_PQsendQuery)
#define PQsetNoticeProcessor	(pqlib_api.pq_PQsetNoticeProcessor)
#define PQsetSingleRowMode	(pqlib_api.pq_PQsetSingleRowMode)
#define PQsetnonblocking	(pqlib_api.pq_PQsetnonblocking)
#define PQsocket	(pqlib_api.pq_PQsocket)
#define PQstatus	(pqlib_api.pq_PQstatus)
#define PQtransactionStatus	(pqlib_api.pq_PQtransactionStatus)
#define PQunescapeBytea	(pqlib_api.pq_PQunescapeBytea)
#define PQuser	(pqlib_api.pq_PQuser)
#endif

#endif
