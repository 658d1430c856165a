/*
 * role.h: what this instance is on a PostgreSQL store, as main learns it
 * from the store layer (store/pgha.h), for what answers and reports:
 * GET /healthz (api.c), GET /metrics (metricsapi.c), the HTTP gate
 * (http.c) and STATUS= (actions/supervise.c, told from here since it
 * sits below intake).  With the file log main never calls role_set():
 * role_name() stays NULL and every page is what it always was.
 */
#ifndef DUTYD_ROLE_H
#define DUTYD_ROLE_H

#include <stdint.h>

#define ROLE_NAME_MAX	64	/* bytes of an instance name shown (longer: cut) */

/*
 * ROLE: "leader", "standby" (what main shows while connecting, too), or
 * NULL for the file log.  INSTANCE is ours, LEADER the leader's as last
 * read ("" or NULL: not known).  Strings are copied.  Also sets the HTTP
 * gate: every role but "leader" answers 503 (http_set_standby()), naming
 * LEADER.
 */
void		 role_set(const char *role, const char *instance,
		    const char *leader);
/* A standby: the last seq read from the table (pgha_read_seq()), for /healthz. */
void		 role_set_seq(int64_t seq);
/*
 * A standby: the sentence STATUS= shows after "standby: " (pgha_status(),
 * e.g. "following duty-a, read up to seq 812").  Copied.
 */
void		 role_status(const char *sentence);

/* What was set; role_name() NULL: the file log. */
const char	*role_name(void);
int		 role_is_leader(void);	/* 0 with the file log */
const char	*role_instance(void);	/* "" when not set */
const char	*role_leader(void);	/* "" when not known */
int64_t		 role_seq(void);

#endif
