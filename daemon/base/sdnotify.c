/*
 * sd_notify(3) wrappers.  Outside systemd (no NOTIFY_SOCKET) they do
 * nothing, so the same binary runs in a terminal and under a unit.
 */
#include <stdarg.h>
#include <stdio.h>

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
	sdnotify_send("READY=1\nSTATUS=running");
}

void
sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1");
}

void
sdnotify_reloading(void)
{
	sdnotify_send("RELOADING=1");
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
