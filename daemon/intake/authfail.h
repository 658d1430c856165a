/*
 * Failed authentication, per source address: after limits.auth_failures
 * (default 20 a minute) the source gets 429 with Retry-After until its
 * minute is over, and every minute with failures becomes one auth.refused
 * record (source, endpoints, count; never what was sent as a token).
 */
#ifndef DUTYD_AUTHFAIL_H
#define DUTYD_AUTHFAIL_H

#include <stdint.h>

struct config;

int	authfail_init(char *err, size_t errlen);
void	authfail_configure(const struct config *);
/* Milliseconds until SOURCE may try again, 0 when it may now (a refusal counted). */
int64_t	authfail_wait(const char *source);
/* A failed authentication from SOURCE on METHOD PATH (the route, not the URL). */
void	authfail_note(const char *source, const char *method, const char *path);
/* Records what is pending and forgets every source. */
void	authfail_shutdown(void);

#endif
