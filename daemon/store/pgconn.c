/*
 * pgconn.c: a PostgreSQL session on the loop.  See pgconn.h.
 *
 * libpq's asynchronous API: PQconnectStartParams/PQconnectPoll while
 * connecting (the socket may change as libpq tries the hosts of a
 * multi-host conninfo), PQsendQuery and PQflush with EV_WRITE while libpq
 * has more to send, PQconsumeInput/PQisBusy/PQgetResult when the socket is
 * readable.  An idle session stays watched too: the server closing it
 * (stopped, the session terminated) shows as down() at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "base/log.h"
#include "store/pgconn.h"

#define PGCONN_KEYS	12

struct pgconn_params {
	const char	*keys[PGCONN_KEYS + 1];
	const char	*values[PGCONN_KEYS + 1];
	char		*conninfo, *appname;
	char		 idle[24], interval[24], count[24], user_timeout[24];
	char		 connect_timeout[24];
};

struct pgconn {
	struct event_base	*base;
	PGconn			*conn;
	struct event		*rd, *wr;	/* on fd */
	struct event		*timeout;	/* connecting too long */
	int			 fd;
	int			 ready;
	int			 connecting;
	int			 depth;		/* in a hook or callback */
	int			 dead;		/* freed meanwhile: free on the way out */
	const struct pgconn_hooks *hooks;
	void			*arg;
	/* The query in flight. */
	void			(*result)(void *, const PGresult *);
	void			(*done)(void *, const char *);
	void			*qarg;
	int64_t			 sent_at;
	char			 qerr[512];
	int			 qfailed;
	char			 why[512];
};

static void	pgconn_io(evutil_socket_t, short, void *);

/* The server's notices (WARNING, NOTICE): libpq would print them on stderr. */
static void
pgconn_notice(void *arg, const char *msg)
{
	log_debug("PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
}

int64_t
pgconn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message, first line only (it ends with a newline). */
static void
pgconn_message(const char *msg, char *buf, size_t len)
{
	if (msg == NULL || *msg == '\0')
		msg = "no message from libpq";
	snprintf(buf, len, "%.*s", (int)strcspn(msg, "\n"), msg);
}

struct pgconn_params *
pgconn_params_new(const char *conninfo, const char *appname, int64_t lease_ms,
    char *err, size_t errlen)
{
	struct pgconn_params	*p;
	PQconninfoOption	*opts;
	char			*perr = NULL;
	int64_t			 s = lease_ms / 1000;
	int			 n = 0;

	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		pgconn_message(perr != NULL ? perr : "out of memory", err,
		    errlen);
		PQfreemem(perr);
		return NULL;
	}
	PQconninfoFree(opts);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->conninfo = strdup(conninfo)) == NULL ||
	    (p->appname = strdup(appname)) == NULL) {
		pgconn_params_free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/*
	 * Ours come after the conninfo and win: a session cut off must be
	 * noticed within the lease on this side too (keepalives probe the
	 * idle session, tcp_user_timeout bounds unacknowledged sends).
	 */
	if (s < 1)
		s = 1;
	snprintf(p->idle, sizeof(p->idle), "%lld", (long long)(s > 2 ? s / 2 : 1));
	snprintf(p->interval, sizeof(p->interval), "1");
	snprintf(p->count, sizeof(p->count), "%lld", (long long)(s > 2 ? s / 2 : 1));
	snprintf(p->user_timeout, sizeof(p->user_timeout), "%lld",
	    (long long)lease_ms);
	snprintf(p->connect_timeout, sizeof(p->connect_timeout), "%lld",
	    (long long)(s < 2 ? 2 : s));
	p->keys[n] = "dbname";		p->values[n++] = p->conninfo;
	p->keys[n] = "application_name"; p->values[n++] = p->appname;
	p->keys[n] = "client_encoding";	p->values[n++] = "UTF8";
	p->keys[n] = "keepalives";	p->values[n++] = "1";
	p->keys[n] = "keepalives_idle";	p->values[n++] = p->idle;
	p->keys[n] = "keepalives_interval"; p->values[n++] = p->interval;
	p->keys[n] = "keepalives_count"; p->values[n++] = p->count;
	p->keys[n] = "tcp_user_timeout"; p->values[n++] = p->user_timeout;
	p->keys[n] = "connect_timeout";	p->values[n++] = p->connect_timeout;
	p->keys[n] = NULL;
	p->values[n] = NULL;
	return p;
}

PGconn *
pgconn_params_connect(const struct pgconn_params *p)
{
	return PQconnectdbParams(p->keys, p->values, 1);
}

void
pgconn_params_free(struct pgconn_params *p)
{
	if (p == NULL)
		return;
	free(p->conninfo);
	free(p->appname);
	free(p);
}

static void
pgconn_unwatch(struct pgconn *pc)
{
	if (pc->rd != NULL)
		event_free(pc->rd);
	if (pc->wr != NULL)
		event_free(pc->wr);
	pc->rd = pc->wr = NULL;
	pc->fd = -1;
}

/* The socket, as libpq has it now; events follow it when it changes. */
static int
pgconn_watch(struct pgconn *pc)
{
	int fd = PQsocket(pc->conn);

	if (fd == pc->fd && pc->rd != NULL)
		return 0;
	pgconn_unwatch(pc);
	if (fd < 0)
		return -EBADF;
	pc->fd = fd;
	if ((pc->rd = event_new(pc->base, fd, EV_READ | EV_PERSIST, pgconn_io,
	    pc)) == NULL || (pc->wr = event_new(pc->base, fd, EV_WRITE,
	    pgconn_io, pc)) == NULL)
		return -ENOMEM;
	return 0;
}

static void
pgconn_release(struct pgconn *pc)
{
	if (pc->timeout != NULL)
		event_free(pc->timeout);
	pgconn_unwatch(pc);
	if (pc->conn != NULL)
		PQfinish(pc->conn);
	free(pc);
}

void
pgconn_free(struct pgconn *pc)
{
	if (pc == NULL)
		return;
	if (pc->depth > 0) {
		/* Inside one of its callbacks: the way out frees it. */
		pc->dead = 1;
		pc->hooks = NULL;
		pc->done = NULL;
		pc->result = NULL;
		if (pc->rd != NULL)
			event_del(pc->rd);
		if (pc->wr != NULL)
			event_del(pc->wr);
		if (pc->timeout != NULL)
			event_del(pc->timeout);
		return;
	}
	pgconn_release(pc);
}

/* The query in flight ends; its done() runs with ERR (NULL: success). */
static void
pgconn_end_query(struct pgconn *pc, const char *err)
{
	void (*done)(void *, const char *) = pc->done;

	pc->done = NULL;
	pc->result = NULL;
	pc->sent_at = 0;
	if (done != NULL)
		done(pc->qarg, err);
}

/* Gone: the query in flight fails, then down(). */
static void
pgconn_broken(struct pgconn *pc, const char *what)
{
	const struct pgconn_hooks *hooks = pc->hooks;
	int was_busy = pc->sent_at != 0 || pc->done != NULL;

	snprintf(pc->why, sizeof(pc->why), "%s", what);
	pc->ready = 0;
	pc->connecting = 0;
	if (pc->rd != NULL)
		event_del(pc->rd);
	if (pc->wr != NULL)
		event_del(pc->wr);
	if (pc->timeout != NULL)
		event_del(pc->timeout);
	if (was_busy)
		pgconn_end_query(pc, pc->why);
	if (!pc->dead && hooks != NULL && hooks->down != NULL)
		hooks->down(pc->arg, pc->why);
}

static void
pgconn_broken_libpq(struct pgconn *pc, const char *context)
{
	char msg[400], what[512];

	pgconn_message(PQerrorMessage(pc->conn), msg, sizeof(msg));
	snprintf(what, sizeof(what), "%s%s", context, msg);
	pgconn_broken(pc, what);
}

static void
pgconn_poll_connect(struct pgconn *pc)
{
	PostgresPollingStatusType ps = PQconnectPoll(pc->conn);

	if (ps == PGRES_POLLING_FAILED) {
		pgconn_broken_libpq(pc, "");
		return;
	}
	if (pgconn_watch(pc) != 0) {
		pgconn_broken(pc, "cannot watch the database's socket");
		return;
	}
	if (ps == PGRES_POLLING_OK) {
		pc->connecting = 0;
		event_del(pc->timeout);
		if (PQsetnonblocking(pc->conn, 1) != 0) {
			pgconn_broken_libpq(pc, "cannot make the session "
			    "non-blocking: ");
			return;
		}
		event_add(pc->rd, NULL);
		pc->ready = 1;
		if (pc->hooks != NULL && pc->hooks->up != NULL)
			pc->hooks->up(pc->arg);
		return;
	}
	if (ps == PGRES_POLLING_WRITING)
		event_add(pc->wr, NULL);
	else {
		event_del(pc->wr);
		event_add(pc->rd, NULL);
	}
}

static void
pgconn_read(struct pgconn *pc)
{
	PGresult	*res;
	ExecStatusType	 rs;

	if (!PQconsumeInput(pc->conn)) {
		pgconn_broken_libpq(pc, "");
		return;
	}
	/* Unsent bytes go out whenever the socket lets them. */
	if (PQisnonblocking(pc->conn) && PQflush(pc->conn) == 1)
		event_add(pc->wr, NULL);
	while (!pc->dead && pc->done != NULL && !PQisBusy(pc->conn)) {
		if ((res = PQgetResult(pc->conn)) == NULL) {
			pgconn_end_query(pc, pc->qfailed ? pc->qerr : NULL);
			return;
		}
		rs = PQresultStatus(res);
		if (rs == PGRES_TUPLES_OK || rs == PGRES_SINGLE_TUPLE) {
			if (pc->result != NULL)
				pc->result(pc->qarg, res);
		} else if (rs != PGRES_COMMAND_OK && rs != PGRES_EMPTY_QUERY &&
		    !pc->qfailed) {
			pc->qfailed = 1;
			pgconn_message(PQresultErrorMessage(res), pc->qerr,
			    sizeof(pc->qerr));
		}
		PQclear(res);
	}
	if (!pc->dead && PQstatus(pc->conn) == CONNECTION_BAD)
		pgconn_broken_libpq(pc, "");
}

static void
pgconn_io(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *pc = arg;

	pc->depth++;
	if (pc->connecting)
		pgconn_poll_connect(pc);
	else if (pc->ready) {
		if ((what & EV_WRITE) && PQflush(pc->conn) == 1)
			event_add(pc->wr, NULL);
		if (what & EV_READ)
			pgconn_read(pc);
	}
	pc->depth--;
	if (pc->dead && pc->depth == 0)
		pgconn_release(pc);
}

static void
pgconn_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn *pc = arg;

	pc->depth++;
	pgconn_broken(pc, "the database did not answer the connection in time");
	pc->depth--;
	if (pc->dead && pc->depth == 0)
		pgconn_release(pc);
}

struct pgconn *
pgconn_open(struct event_base *base, const char *conninfo, const char *appname,
    int64_t lease_ms, const struct pgconn_hooks *hooks, void *arg, char *err,
    size_t errlen)
{
	struct pgconn_params	*p;
	struct pgconn		*pc;
	struct timeval		 tv;
	int64_t			 limit = lease_ms < 2000 ? 2000 : lease_ms;

	if ((p = pgconn_params_new(conninfo, appname, lease_ms, err,
	    errlen)) == NULL)
		return NULL;
	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		pgconn_params_free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pc->base = base;
	pc->fd = -1;
	pc->hooks = hooks;
	pc->arg = arg;
	pc->conn = PQconnectStartParams(p->keys, p->values, 1);
	pgconn_params_free(p);
	if (pc->conn == NULL || (pc->timeout = evtimer_new(base,
	    pgconn_timed_out, pc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		pgconn_release(pc);
		return NULL;
	}
	if (PQstatus(pc->conn) == CONNECTION_BAD) {
		pgconn_message(PQerrorMessage(pc->conn), err, errlen);
		pgconn_release(pc);
		return NULL;
	}
	PQsetNoticeProcessor(pc->conn, pgconn_notice, NULL);
	/* PQconnectPoll() keeps no time itself. */
	tv.tv_sec = limit / 1000;
	tv.tv_usec = (limit % 1000) * 1000;
	evtimer_add(pc->timeout, &tv);
	pc->connecting = 1;
	if (pgconn_watch(pc) != 0) {
		snprintf(err, errlen, "cannot watch the database's socket");
		pgconn_release(pc);
		return NULL;
	}
	/* The first poll is owed when the socket can be written. */
	event_add(pc->wr, NULL);
	return pc;
}

int
pgconn_query(struct pgconn *pc, const char *sql,
    void (*result)(void *, const PGresult *), void (*done)(void *, const char *),
    void *arg)
{
	int rc;

	if (!pc->ready)
		return -ENOTCONN;
	if (pc->done != NULL)
		return -EBUSY;
	if (!PQsendQuery(pc->conn, sql))
		return PQstatus(pc->conn) == CONNECTION_BAD ? -ECONNRESET : -EIO;
	pc->result = result;
	pc->done = done;
	pc->qarg = arg;
	pc->qfailed = 0;
	pc->qerr[0] = '\0';
	pc->sent_at = pgconn_now();
	if ((rc = PQflush(pc->conn)) == 1)
		event_add(pc->wr, NULL);
	else if (rc == -1) {
		/* The loop reports it: the read event sees the session gone. */
		event_active(pc->rd, EV_READ, 0);
	}
	return 0;
}

int
pgconn_ready(const struct pgconn *pc)
{
	return pc != NULL && pc->ready && !pc->dead;
}

int
pgconn_busy(const struct pgconn *pc)
{
	return pc != NULL && pc->done != NULL;
}

int64_t
pgconn_busy_since(const struct pgconn *pc)
{
	return pc != NULL && pc->done != NULL ? pc->sent_at : 0;
}

int
pgconn_wait(struct pgconn *pc, int timeout_ms)
{
	int64_t		 until = pgconn_now() + timeout_ms, left;
	struct pollfd	 pfd;

	pc->depth++;
	while (!pc->dead && pc->ready && pc->done != NULL) {
		if ((left = until - pgconn_now()) <= 0)
			break;
		pfd.fd = PQsocket(pc->conn);
		pfd.events = POLLIN | (PQflush(pc->conn) == 1 ? POLLOUT : 0);
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
		pgconn_read(pc);
	}
	pc->depth--;
	if (pc->dead && pc->depth == 0) {
		pgconn_release(pc);
		return 0;
	}
	return pc->done != NULL ? -ETIMEDOUT : 0;
}

PGconn *
pgconn_pg(struct pgconn *pc)
{
	return pc->conn;
}
