/*
 * One-tap links: a signed token naming an incident, a person and what they
 * may do (acknowledge, report filed, resolve) until an expiry, and the small
 * mobile pages a link opens.  Pure functions: no globals, clock or logging.
 *
 * token = base64url(payload) "." base64url(HMAC-SHA256(key, payload)),
 * payload = "1|<action>|<expiry_ms>|<incident>|<person>".
 */
#ifndef DUTYD_ACKLINK_H
#define DUTYD_ACKLINK_H

#include <stddef.h>
#include <stdint.h>

#define ACKLINK_TOKEN_MAX	512	/* bytes of a token, without the NUL */
#define ACKLINK_KEY_MIN		16	/* bytes of key */
#define ACKLINK_FIELD_MAX	64	/* bytes of an incident or person id */

struct acklink {
	char	 incident[ACKLINK_FIELD_MAX + 1];
	char	 person[ACKLINK_FIELD_MAX + 1];
	char	 action;		/* 'A', 'F' or 'R' */
	int64_t	 expiry_ms;		/* valid while now < expiry */
};

/*
 * Make a token into token (tokenlen >= ACKLINK_TOKEN_MAX + 1 always fits).
 * incident and person are 1..ACKLINK_FIELD_MAX printable ASCII bytes
 * without '|' (config ids and incident ids are).  0, -EINVAL or -ENOSPC.
 */
int	 acklink_make(const void *key, size_t keylen, const char *incident,
	    const char *person, char action, int64_t expiry_ms, char *token,
	    size_t tokenlen);

/*
 * 0 and *out; -EINVAL (not shaped like a token, over ACKLINK_TOKEN_MAX,
 * key too short), -EBADMSG (altered: bad base64 or wrong MAC, e.g. made
 * with another key) or -ETIMEDOUT (now_ms >= expiry; *out is filled so the
 * answer can name the incident).  -ENOMEM if the MAC could not be computed.
 */
int	 acklink_verify(const void *key, size_t keylen, const char *token,
	    int64_t now_ms, struct acklink *out);

/* What the confirmation page shows; NULL fields are left out. */
struct acklink_summary {
	const char	*incident;	/* "INC-20261128-0001" */
	const char	*title;
	const char	*office;	/* the reporting office's name */
	const char	*level;		/* "I".."IV" or as the caller words it */
	const char	*occurred;	/* when it happened, formatted by the caller */
	const char	*person;	/* display name of whom the link is for */
};

/*
 * A mobile HTML page (UTF-8, Chinese) with one button that POSTs to the
 * page's own URL with the token in the form field "token": a GET never
 * acts, so link previewers cannot acknowledge anything.  Every field is
 * HTML-escaped.  malloc'd; NULL with errno (EINVAL, ENOMEM).
 */
char	*acklink_page(const struct acklink_summary *s, const char *token,
	    char action);
/* The answers to the POST: done, or what went wrong and what to do. */
char	*acklink_done_page(const char *message);
char	*acklink_error_page(const char *message);

#endif
