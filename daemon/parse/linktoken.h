/*
 * One-tap link tokens.  Pure functions: no globals, clock or logging.
 *
 * A token is 24 characters, short enough that an SMS keeps its facts:
 * base64url(id[6] | expiry[4] | mac[8]): a random id, the expiry in whole
 * minutes since the epoch (big-endian), and the first 8 bytes of
 * HMAC-SHA256(key, id | expiry).  The id is what the audit log maps to an
 * incident, a person and an action (the notify.intent that issued it);
 * the log holds only id | expiry (the "stub"), never a usable token.
 *
 * Tokens of dutyd before 0.2 were longer and carried their own fields:
 * base64url("1|<action>|<expiry_ms>|<incident>|<person>") "."
 * base64url(HMAC-SHA256(key, that)); linktoken_v1_*() still reads them,
 * so links sent before an upgrade keep working until they expire.
 */
#ifndef DUTYD_LINKTOKEN_H
#define DUTYD_LINKTOKEN_H

#include <stddef.h>
#include <stdint.h>

#define LINKTOKEN_LEN		24	/* characters of a token */
#define LINKTOKEN_STUB_LEN	14	/* characters of its stub (id and expiry) */
#define LINKTOKEN_ID_LEN	6	/* bytes of its id */
#define LINKTOKEN_TOKEN_MAX	512	/* bytes of a token before 0.2, without the NUL */
#define LINKTOKEN_KEY_MIN		16	/* bytes of key */
#define LINKTOKEN_FIELD_MAX	64	/* bytes of an incident or person id */

struct linktoken {
	char	 incident[LINKTOKEN_FIELD_MAX + 1];
	char	 person[LINKTOKEN_FIELD_MAX + 1];
	char	 action;		/* 'A', 'F' or 'R' */
	int64_t	 expiry_ms;		/* valid while now < expiry */
};

/*
 * A new stub: RANDOM (LINKTOKEN_ID_LEN random bytes) and the expiry, into
 * stub (LINKTOKEN_STUB_LEN + 1 bytes).  0 or -EINVAL (expiry out of range).
 */
int	 linktoken_stub(const unsigned char *random, int64_t expiry_ms,
	    char *stub);
/* The token for STUB (LINKTOKEN_LEN + 1 bytes).  0, -EINVAL or -ENOMEM. */
int	 linktoken_sign(const void *key, size_t keylen, const char *stub,
	    char *token);
/*
 * 0 with the stub (LINKTOKEN_STUB_LEN + 1 bytes) and *expiry_ms; -EBADMSG
 * (altered, cut, made with another key, or not a token at all),
 * -ETIMEDOUT (now_ms >= expiry: stub and *expiry_ms are filled), -ENOMEM.
 */
int	 linktoken_open(const void *key, size_t keylen, const char *token,
	    int64_t now_ms, char *stub, int64_t *expiry_ms);
/* The expiry a stub carries; -EINVAL when it is not one. */
int	 linktoken_stub_expiry(const char *stub, int64_t *expiry_ms);

/*
 * Links before 0.2.  Make a token into token (tokenlen >=
 * LINKTOKEN_TOKEN_MAX + 1 always fits).
 * incident and person are 1..LINKTOKEN_FIELD_MAX printable ASCII bytes
 * without '|' (config ids and incident ids are).  0, -EINVAL or -ENOSPC.
 */
int	 linktoken_v1_make(const void *key, size_t keylen, const char *incident,
	    const char *person, char action, int64_t expiry_ms, char *token,
	    size_t tokenlen);

/*
 * 0 and *out; -EINVAL (not shaped like a token, over LINKTOKEN_TOKEN_MAX,
 * key too short), -EBADMSG (altered: bad base64 or wrong MAC, e.g. made
 * with another key) or -ETIMEDOUT (now_ms >= expiry; *out is filled so the
 * answer can name the incident).  -ENOMEM if the MAC could not be computed.
 */
int	 linktoken_v1_verify(const void *key, size_t keylen, const char *token,
	    int64_t now_ms, struct linktoken *out);

#endif
