/*
 * Console session cookies as credentials: the key (session.key in
 * state_dir, made on first start), opening a `dutyd_session` cookie into
 * who it stands for, sealing a new one, and the CSRF value of a session.
 * No HTTP here: http.c answers, session.c serves /api/v1/session.
 */
#ifndef DUTYD_SESSAUTH_H
#define DUTYD_SESSAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "parse/sesstoken.h"

struct config;
struct config_office;
struct config_person;

#define SESSAUTH_COOKIE		"dutyd_session"
#define SESSAUTH_CSRF_HEADER	"X-Dutyd-CSRF"

enum sessauth_result {
	SESSAUTH_OK,
	SESSAUTH_FORGED,	/* not a cookie this dutyd signed */
	SESSAUTH_EXPIRED,	/* console.session_ttl passed */
	SESSAUTH_SIGNED_OUT,	/* DELETE /api/v1/session ended it */
	SESSAUTH_TOKEN_CHANGED,	/* its person's or office's token changed, or they are gone */
	SESSAUTH_NOMEM,
};

struct sessauth {
	const struct config_person *person;	/* one of the two */
	const struct config_office *office;
	struct sesstoken	 t;
};

/* 0 or -errno with err set. */
int	sessauth_init(char *err, size_t errlen);
void	sessauth_shutdown(void);
/* The dutyd_session of a Cookie header into buf: 0, or -1 when it has none. */
int	sessauth_cookie(const char *header, char *buf, size_t len);
/* Opens COOKIE under CFG at NOW; OUT is filled as far as it could be. */
enum sessauth_result sessauth_open(const struct config *cfg, const char *cookie,
	    int64_t now_ms, struct sessauth *out);
/* 1 if GIVEN is the CSRF value of session ID. */
int	sessauth_csrf_ok(const unsigned char *id, const char *given);
/* The CSRF value of session ID (SESSTOKEN_CSRF_LEN + 1 bytes): 0 or -ENOMEM. */
int	sessauth_csrf(const unsigned char *id, char *out);
/* A new session for T (kind, digest, subject, expiry set): a random id, the cookie. 0 or -errno. */
int	sessauth_seal(struct sesstoken *t, char *cookie);

#endif
