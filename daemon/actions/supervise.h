/*
 * What systemd is told while dutyd runs: STATUS= (open incidents, overdue,
 * the audit log's state) and, under WatchdogSec=, WATCHDOG=1 at half the
 * interval, but only while the loop turns, the audit log syncs and
 * dutyd's own records (clocks firing, delivery outcomes) can be written.
 * When they cannot, the pings stop and systemd restarts dutyd.
 */
#ifndef DUTYD_SUPERVISE_H
#define DUTYD_SUPERVISE_H

#include <stdint.h>

/* After start-up (the store open): reads WATCHDOG_USEC, sends the first STATUS. */
void	supervise_start(void);
void	supervise_stop(void);
/* Once a second and when the store's health changes: STATUS, if it changed. */
void	supervise_refresh(void);
/*
 * On a PostgreSQL store (intake/role.c tells): STATUS= begins with ROLE,
 * "leader: <as above>" or "<role>: SENTENCE" (the store's own account,
 * e.g. "standby: following duty-a, read up to seq 812"; NULL keeps the
 * last one).  A standby's STATUS= reads nothing of the state or the store,
 * which it has not started, and its watchdog judges only the loop.  ROLE
 * NULL: the file log, STATUS= as above.  May come before supervise_start().
 */
void	supervise_role(const char *role, const char *sentence);
/* Why the watchdog would not be pinged now (NULL: healthy); for tests and logs. */
const char *supervise_trouble(int64_t now, int64_t grace_ms);

#endif
