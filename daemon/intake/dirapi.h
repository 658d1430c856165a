/*
 * dirapi.h: leaders' directives (批示件督办) over HTTP.
 *
 *   POST /api/v1/directives			staff: a new one (201, the directive)
 *   GET  /api/v1/directives?state=open|done|overdue|all&limit=N
 *   GET  /api/v1/directives/{id}		with its timeline
 *   POST /api/v1/directives/{id}/progress	{"text"}: the owner or staff
 *   POST /api/v1/directives/{id}/delay		{"reason", "expected"}
 *   POST /api/v1/directives/{id}/complete	{"result"}
 *
 * An office sees and reports on the directives it owns only: others are
 * 404 to it.  Every bad field is a 400 naming it (docs/directives.md).
 */
#ifndef DUTYD_DIRAPI_H
#define DUTYD_DIRAPI_H

struct http_call;

void	dirapi_create(struct http_call *);
void	dirapi_list(struct http_call *);
void	dirapi_get(struct http_call *);
void	dirapi_progress(struct http_call *);
void	dirapi_delay(struct http_call *);
void	dirapi_complete(struct http_call *);

#endif
