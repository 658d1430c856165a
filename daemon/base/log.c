/*
 * Logging to stderr with sd-daemon priority prefixes ("<3>" ...), which
 * journald turns into priorities and a terminal shows harmlessly.  Each
 * message is one line: embedded newlines are flattened so one event never
 * spans two journal entries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static int log_verbose;

void
log_init(int verbose)
{
	log_verbose = verbose;
}

static void
log_emit(int prio, int with_errno, const char *fmt, va_list ap)
{
	char	 msg[2048];
	int	 saved = errno;
	char	*p;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (with_errno)
		fprintf(stderr, "<%d>%s: %s\n", prio, msg, strerror(saved));
	else
		fprintf(stderr, "<%d>%s\n", prio, msg);
	fflush(stderr);
	errno = saved;
}

#define LOG_FN(fn, prio, witherr)				\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_emit(prio, witherr, fmt, ap);			\
	va_end(ap);						\
}

LOG_FN(log_error, 3, 1)
LOG_FN(log_errorx, 3, 0)
LOG_FN(log_warn, 4, 1)
LOG_FN(log_warnx, 4, 0)
LOG_FN(log_info, 6, 0)

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_emit(7, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(2, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(2, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
