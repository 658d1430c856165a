/*
 * sd_notify(3) wrappers.  Outside systemd (no NOTIFY_SOCKET) they do
 * nothing, so the same binary runs in a terminal and under a unit.
 */
#include <stdarg.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "base/sd.h"

static void
sd_send(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0)
		log_debug("sd_notify(%s) failed: %d", msg, rc);
}

void
sd_ready(void)
{
	sd_send("READY=1\nSTATUS=running");
}

void
sd_stopping(void)
{
	sd_send("STOPPING=1");
}

void
sd_reloading(void)
{
	sd_send("RELOADING=1");
}

void
sd_status(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	n;

	n = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	sd_send(msg);
}
