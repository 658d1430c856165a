/*
 * One-tap link tokens: a signed token naming an incident, a person and
 * what they may do (acknowledge, report filed, resolve) until an expiry.
 * Pure functions: no globals, clock or logging.
 *
 * token = base64url(payload) "." base64url(HMAC-SHA256(key, payload)),
 * payload = "1|<action>|<expiry_ms>|<incident>|<person>".
 */
#ifndef DUTYD_LINKTOKEN_H
#define DUTYD_LINKTOKEN_H

#include <stddef.h>
#include <stdint.h>

#define LINKTOKEN_TOKEN_MAX	512	/* bytes of a token, without the NUL */
#define LINKTOKEN_KEY_MIN		16	/* bytes of key */
#define LINKTOKEN_FIELD_MAX	64	/* bytes of an incident or person id */

struct linktoken {
	char	 incident[LINKTOKEN_FIELD_MAX + 1];
	char	 person[LINKTOKEN_FIELD_MAX + 1];
	char	 action;		/* 'A', 'F' or 'R' */
	int64_t	 expiry_ms;		/* valid while now < expiry */
};

/*
 * Make a token into token (tokenlen >= LINKTOKEN_TOKEN_MAX + 1 always fits).
 * incident and person are 1..LINKTOKEN_FIELD_MAX printable ASCII bytes
 * without '|' (config ids and incident ids are).  0, -EINVAL or -ENOSPC.
 */
int	 linktoken_make(const void *key, size_t keylen, const char *incident,
	    const char *person, char action, int64_t expiry_ms, char *token,
	    size_t tokenlen);

/*
 * 0 and *out; -EINVAL (not shaped like a token, over LINKTOKEN_TOKEN_MAX,
 * key too short), -EBADMSG (altered: bad base64 or wrong MAC, e.g. made
 * with another key) or -ETIMEDOUT (now_ms >= expiry; *out is filled so the
 * answer can name the incident).  -ENOMEM if the MAC could not be computed.
 */
int	 linktoken_verify(const void *key, size_t keylen, const char *token,
	    int64_t now_ms, struct linktoken *out);

#endif
