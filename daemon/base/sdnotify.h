/* systemd integration: readiness, status, reload, watchdog and stopping notifications. */
#ifndef DUTYD_SDNOTIFY_H
#define DUTYD_SDNOTIFY_H

#include <stdint.h>

void	sdnotify_ready(void);
void	sdnotify_stopping(void);
/* RELOADING=1 with MONOTONIC_USEC=; sdnotify_ready() ends the reload. */
void	sdnotify_reloading(void);
void	sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* WatchdogSec= of the unit in microseconds (WATCHDOG_USEC), or 0: none. */
uint64_t sdnotify_watchdog_usec(void);
void	sdnotify_watchdog(void);

#endif
