/*
 * Outgoing HTTP: one libcurl multi handle driven by the libevent loop
 * (the shape of curl's docs/examples/hiperfifo.c).  Nothing here blocks.
 */
#ifndef DUTYD_FETCH_H
#define DUTYD_FETCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct fetch;

#define FETCH_BODY_MAX	(64 * 1024)	/* response bytes kept; the rest is dropped */

struct fetch_request {
	const char	*method;	/* "POST", "GET", "PUT" */
	const char	*url;		/* http:// or https:// only */
	char *const	*headers;	/* "Name: value" */
	size_t		 nheaders;
	const char	*body;		/* may be NULL */
	size_t		 body_len;
	int64_t		 timeout_ms;	/* whole transfer; must be > 0 (EINVAL) */
};

struct fetch_result {
	long		 status;	/* HTTP status; 0 when no response arrived */
	const char	*error;		/* transport error ("Connection refused", ...), NULL if a response came */
	const char	*content_type;	/* NULL when absent */
	const char	*body;		/* NUL-terminated, at most FETCH_BODY_MAX bytes */
	size_t		 body_len;
	int64_t		 duration_ms;
};

/*
 * Called once per started fetch, from the loop, unless cancelled first.
 * The result's pointers are valid only during the call.
 */
typedef void (*fetch_cb)(const struct fetch_result *, void *arg);

int	fetch_init(struct event_base *);	/* 0 or -errno */
void	fetch_shutdown(void);	/* cancels what is in flight, without callbacks */
/* Copies what it needs from req.  NULL (errno set) if the transfer cannot start. */
struct fetch *fetch_start(const struct fetch_request *req, fetch_cb cb, void *arg);
void	fetch_cancel(struct fetch *);	/* no callback afterwards; accepts NULL */
size_t	fetch_inflight(void);

#endif
