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
/* Why the watchdog would not be pinged now (NULL: healthy); for tests and logs. */
const char *supervise_trouble(int64_t now, int64_t grace_ms);

#endif
