/*
 * sd_notify(3) wrappers.  Outside systemd (no NOTIFY_SOCKET) they do
 * nothing, so the same binary runs in a terminal and under a unit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "base/sdnotify.h"

static void
sdnotify_send(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0)
		log_debug("sd_notify(%s) failed: %d", msg, rc);
}

void
sdnotify_ready(void)
{
	sdnotify_send("READY=1");
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1");
}

/*
 * Type=notify-reload (systemd 253) and `systemctl reload` with
 * ExecReload= both accept RELOADING=1; the newer protocol wants the
 * monotonic time with it so that a stale READY=1 is not taken for the end.
 */
void
sdnotify_reloading(void)
{
	struct timespec	ts;
	char		msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	sdnotify_send(msg);
}

void
sdnotify_status(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	n;

	n = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	sdnotify_send(msg);
}

uint64_t
sdnotify_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* Kept in the environment: nothing dutyd starts reads it. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

void
sdnotify_watchdog(void)
{
	sdnotify_send("WATCHDOG=1");
}
