/*
 * Console sessions: POST/GET/DELETE /api/v1/session, and the
 * `dutyd_session` cookie as a credential wherever a Bearer token is one.
 *
 * A session is a signed cookie (parse/sesstoken.h) under a key kept in
 * state_dir (session.key, made on first start): it survives a restart of
 * dutyd, and dutyd keeps nothing per session but the set of those signed
 * out early (state/signout.h).  A state-changing request authenticated by
 * the cookie must carry X-Dutyd-CSRF, the value the sign-in answered.
 */
#ifndef DUTYD_SESSION_H
#define DUTYD_SESSION_H

#include <stddef.h>

struct http_call;
struct http_route;

#define SESSION_COOKIE		"dutyd_session"
#define SESSION_CSRF_HEADER	"X-Dutyd-CSRF"

/* The key, from the store (made on first use).  0 or -errno with err set. */
int	session_init(char *err, size_t errlen);
void	session_shutdown(void);
/* The request's session cookie into buf: 0, or -1 when it has none. */
int	session_cookie(struct http_call *, char *buf, size_t len);
/*
 * Authenticates CALL by COOKIE for ROUTE (KIND names who the route wants,
 * for errors): 0 with call->person or call->office and the session set,
 * or -1 with the answer sent (401, or 403 without a good X-Dutyd-CSRF).
 */
int	session_authenticate(struct http_call *, const struct http_route *route,
	    const char *cookie, const char *kind);

/* The handlers. */
void	session_create(struct http_call *);
void	session_get(struct http_call *);
void	session_delete(struct http_call *);

#endif
