/*
 * Console sessions: POST/GET/DELETE /api/v1/session (the cookie as a
 * credential is sessauth.c's, used by http.c).
 *
 * A session is a signed cookie (parse/sesstoken.h) under a key kept in
 * state_dir (session.key, made on first start): it survives a restart of
 * dutyd, and dutyd keeps nothing per session but the set of those signed
 * out early (state/signout.h).  A state-changing request authenticated by
 * the cookie must carry X-Dutyd-CSRF, the value the sign-in answered.
 */
#ifndef DUTYD_SESSION_H
#define DUTYD_SESSION_H

struct http_call;

/* The handlers. */
void	session_create(struct http_call *);
void	session_get(struct http_call *);
void	session_delete(struct http_call *);

#endif
