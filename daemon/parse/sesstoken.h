/*
 * Console session cookies.  Pure functions of bytes (no globals, clock or
 * logging) so they can be tested and fuzzed alone.
 *
 * A cookie is base64url(payload | HMAC-SHA256(key, payload)), payload =
 *   version (1, the byte 1) | kind ('P' person, 'O' office) |
 *   id (SESSTOKEN_ID_LEN random bytes) | expiry (ms since the epoch, 8
 *   bytes big-endian) | digest (the first SESSTOKEN_DIGEST_LEN bytes of
 *   the SHA-256 of the subject's token) | subject length (1 byte) | subject
 * The cookie carries everything: dutyd keeps nothing per session but the
 * ids of those signed out early.  The digest ties a session to the token
 * it was opened with, so rotating or removing a token ends its sessions.
 * Base64 is checked to be canonical: one cookie per payload.
 */
#ifndef DUTYD_SESSTOKEN_H
#define DUTYD_SESSTOKEN_H

#include <stddef.h>
#include <stdint.h>

#define SESSTOKEN_ID_LEN	12	/* bytes of a session id */
#define SESSTOKEN_ID_HEX	(SESSTOKEN_ID_LEN * 2 + 1)	/* its hex, with the NUL */
#define SESSTOKEN_DIGEST_LEN	8
#define SESSTOKEN_SUBJECT_MAX	64	/* bytes of a person or office id */
#define SESSTOKEN_KEY_MIN	16	/* bytes of key */
#define SESSTOKEN_MAX		200	/* characters of a cookie, without the NUL */
#define SESSTOKEN_CSRF_LEN	22	/* characters of a CSRF value, without the NUL */

struct sesstoken {
	char		 kind;				/* 'P' or 'O' */
	unsigned char	 id[SESSTOKEN_ID_LEN];
	int64_t		 expiry_ms;			/* valid while now < expiry */
	unsigned char	 digest[SESSTOKEN_DIGEST_LEN];
	char		 subject[SESSTOKEN_SUBJECT_MAX + 1];
};

/* The cookie for T into out (SESSTOKEN_MAX + 1 bytes).  0, -EINVAL or -ENOMEM. */
int	 sesstoken_seal(const void *key, size_t keylen, const struct sesstoken *t,
	    char *out);
/*
 * 0 and *t; -EBADMSG (altered, cut, made under another key, or not a
 * cookie), -ETIMEDOUT (now_ms >= expiry: *t is filled), -ENOMEM.
 */
int	 sesstoken_open(const void *key, size_t keylen, const char *cookie,
	    int64_t now_ms, struct sesstoken *t);
/*
 * The CSRF value of session ID (base64url of 16 bytes of
 * HMAC-SHA256(key, "csrf" | id)) into out (SESSTOKEN_CSRF_LEN + 1 bytes).
 * 0 or -ENOMEM.
 */
int	 sesstoken_csrf(const void *key, size_t keylen, const unsigned char *id,
	    char *out);
/* 1 if GIVEN is the CSRF value of ID, compared in constant time. */
int	 sesstoken_csrf_ok(const void *key, size_t keylen, const unsigned char *id,
	    const char *given);
/* ID as lowercase hex (SESSTOKEN_ID_HEX bytes): how records name a session. */
void	 sesstoken_id_hex(const unsigned char *id, char *out);

#endif
