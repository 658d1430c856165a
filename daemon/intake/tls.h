/*
 * The HTTPS listener (`tls: {listen, certificate, key}`): OpenSSL through
 * libevent's OpenSSL bufferevents, TLS 1.2 at least.  The certificate and
 * key come from the configuration (read and checked when it loads), so a
 * SIGHUP that loads new ones applies them to new connections; one that
 * cannot is refused whole.
 */
#ifndef DUTYD_TLS_H
#define DUTYD_TLS_H

#include <stddef.h>

struct event_base;
struct bufferevent;
struct config;

/* Listens on cfg->tls.listen, if any.  0, or -1 with err. */
int	tls_listen(struct event_base *, const struct config *, char *err,
	    size_t errlen);
/* A reload: 0 when CFG's TLS can replace OLD's (it is built now), else -1 with why. */
int	tls_prepare(const struct config *old, const struct config *cfg,
	    char *why, size_t whylen);
/* What tls_prepare() built (or, at start, build it) is used from now on. */
void	tls_configure(const struct config *);
void	tls_shutdown(void);
/* The bufferevent of an accepted connection (conn.c's conn_tls_fn). */
struct bufferevent *tls_bev(struct event_base *, int fd);

#endif
