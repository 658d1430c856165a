/*
 * Logging to stderr, one event a line, with sd-daemon priority prefixes so
 * journald files each line at the right level.  Library-like code does not
 * log above debug; its caller logs once, with context.
 */
#ifndef DUTYD_LOG_H
#define DUTYD_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(int verbose);
/* Serious runtime failure that dutyd survives (e.g. the audit log cannot be written). */
void	log_error(const char *, ...) LOG_PRINTF(1, 2);	/* <3>, appends strerror(errno) */
void	log_errorx(const char *, ...) LOG_PRINTF(1, 2);	/* <3> */
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);	/* <4>, appends strerror(errno) */
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);	/* <4> */
void	log_info(const char *, ...) LOG_PRINTF(1, 2);	/* <6> */
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);	/* <7>, only when verbose */
/* Start-up failures and broken invariants only. */
void	fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
