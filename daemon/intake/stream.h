/*
 * GET /api/v1/stream: Server-Sent Events for the console and integrators
 * (docs/api.md).  `event: incident` with the incident as GET
 * /api/v1/incidents/{id} shows it (without the timeline) each time a
 * record changes it, `id:` the audit seq of that record; `event: oncall`
 * at each handover; a comment every console.keepalive.  Resumes from
 * Last-Event-ID.  An office sees only its own incidents.
 */
#ifndef DUTYD_STREAM_H
#define DUTYD_STREAM_H

#include <stddef.h>

struct http_call;

/*
 * Once, after replay (it follows live records only): registers with the
 * router and starts the keepalive clock.
 */
void	stream_init(void);
/* Ends every stream and frees what the module holds (accepts no init). */
void	stream_shutdown(void);
/* Streams open now. */
size_t	stream_count(void);

void	stream_get(struct http_call *);

#endif
