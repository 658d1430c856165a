/* dutyctl's requests to dutyd: libcurl, JSON in and out. */
#ifndef DUTYCTL_CTLHTTP_H
#define DUTYCTL_CTLHTTP_H

#include <jansson.h>

/* dutyctl's exit statuses (sysexits.h where it has one). */
#define CTL_OK		0
#define CTL_REFUSED	1	/* a 4xx: the server's message is printed */
#define CTL_USAGE	64	/* EX_USAGE */
#define CTL_UNAVAILABLE	69	/* EX_UNAVAILABLE: unreachable, or a 5xx */

struct ctl_server {
	const char	*url;		/* "http://127.0.0.1:8080" */
	const char	*token;
};

struct ctl_reply {
	long		 status;	/* HTTP status; 0: no answer */
	char		*body;		/* NUL-terminated, may be empty */
	json_t		*json;		/* the body parsed, or NULL */
};

/*
 * METHOD PATH (segments already escaped) with QUERY_NAME=QUERY_VALUE
 * (encoded here; both may be NULL) and BODY (may be NULL).  0 with *out
 * filled whenever the server answered, whatever the status; else
 * CTL_UNAVAILABLE or CTL_USAGE (a bad --server) after printing why.
 */
int	ctl_request(const struct ctl_server *, const char *method,
	    const char *path, const char *query_name, const char *query_value,
	    json_t *body, const char *idempotency_key, struct ctl_reply *out);
/* One path segment, escaped for a URL (an incident id). Free with free(). */
char	*ctl_escape(const char *segment);
void	ctl_reply_free(struct ctl_reply *);

#endif
