/*
 * The transport: outgoing HTTP and SMTP requests, answered through a
 * callback from the loop.  Nothing here blocks.  libcurl carries them
 * (curlfetch.c) once curlfetch_init() has run; tests put a fake in.
 */
#ifndef DUTYD_FETCH_H
#define DUTYD_FETCH_H

#include <stddef.h>
#include <stdint.h>

struct fetch;

#define FETCH_BODY_MAX	(64 * 1024)	/* response bytes kept; the rest is dropped */

#define FETCH_RETRY_AFTER_MAX	(3600 * 1000)	/* a Retry-After beyond an hour is read as an hour */

/*
 * Only http, https, smtp and smtps; redirects are never followed; TLS
 * peers are always verified.
 */
struct fetch_request {
	const char	*method;	/* "POST", "GET", "PUT"; ignored for SMTP */
	const char	*url;		/* http://, https://, smtp:// or smtps:// (else EPROTONOSUPPORT) */
	char *const	*headers;	/* "Name: value" (HTTP) */
	size_t		 nheaders;
	const char	*body;		/* HTTP body, or the RFC 5322 message uploaded over SMTP; may be NULL */
	size_t		 body_len;
	int64_t		 timeout_ms;	/* whole transfer; must be > 0 (EINVAL) */
	int64_t		 connect_timeout_ms;	/* 0: 5 s */
	const char	*username;	/* HTTP basic auth, or SMTP AUTH; NULL: none */
	const char	*password;
	const char	*mail_from;	/* SMTP: envelope sender (required for smtp URLs, else EINVAL) */
	char *const	*mail_rcpt;	/* SMTP: envelope recipients (at least one) */
	size_t		 nrcpt;
	int		 tls_required;	/* smtp://: STARTTLS or fail (CURLUSESSL_ALL) */
	const char	*ca_file;	/* PEM CA certificates trusted instead of the system's; NULL: the system's */
};

struct fetch_result {
	long		 status;	/* HTTP status; 0 when no response arrived */
	const char	*error;		/* transport error ("Connection refused", ...), NULL if a response came */
	const char	*content_type;	/* NULL when absent */
	const char	*body;		/* NUL-terminated, at most FETCH_BODY_MAX bytes */
	size_t		 body_len;
	int64_t		 duration_ms;
	int64_t		 retry_after_ms;	/* Retry-After (seconds or HTTP-date) as a delay; 0: none */
};

/*
 * Called once per started fetch, from the loop, unless cancelled first.
 * The result's pointers are valid only during the call.
 */
typedef void (*fetch_cb)(const struct fetch_result *, void *arg);

/*
 * Copies what it needs from req and starts; 0 and *out, or -errno when
 * the transfer cannot start (-EINVAL, -EPROTONOSUPPORT, -EAGAIN: too many
 * in flight, -ENOTCONN: no transport, -ENOMEM).
 */
int	fetch_start(const struct fetch_request *req, fetch_cb cb, void *arg,
	    struct fetch **out);
void	fetch_cancel(struct fetch *);	/* no callback afterwards; accepts NULL */
size_t	fetch_inflight(void);

/*
 * The transport in use: every fetch_start, fetch_cancel and
 * fetch_inflight goes to it.  NULL: none (fetch_start() is -ENOTCONN).
 */
struct fetch_backend {
	int	(*start)(const struct fetch_request *, fetch_cb, void *,
		    struct fetch **);
	void	(*cancel)(struct fetch *);
	size_t	(*inflight)(void);
};
void	fetch_use(const struct fetch_backend *);

#endif
