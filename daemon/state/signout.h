/*
 * signout.h: console sessions ended before their expiry (signed out).
 * A session cookie carries all it needs (parse/sesstoken.h), so the only
 * state sessions have is this set: the ids of those signed out, each kept
 * until the cookie would have expired anyway.  It is rebuilt at start-up
 * from session.ended records and from the checkpoint, so a signed-out
 * cookie stays dead across restarts.  Bounded (SIGNOUT_MAX): past it the
 * session that would expire first is forgotten first.
 */
#ifndef DUTYD_SIGNOUT_H
#define DUTYD_SIGNOUT_H

#include <stdint.h>

#include <jansson.h>

#define SIGNOUT_MAX	4096

/* Registers with the router as the owner of session.ended records. */
void	signout_init(void);
/* 1 if session ID (hex, parse/sesstoken.h) was signed out. */
int	signout_has(const char *id);
/* {"sessions": [{"session", "expires_at"}...]} of those not yet expired at NOW; NULL: out of memory. */
json_t	*signout_snapshot(int64_t now_ms);
/* Takes back what signout_snapshot() gave: 0 or -ENOMEM. */
int	signout_restore(const json_t *data);
size_t	signout_count(void);
void	signout_clear(void);

#endif
