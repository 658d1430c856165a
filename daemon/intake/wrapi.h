/*
 * wrapi.h: the written report's draft and approval over HTTP, under
 * /api/v1/incidents/{id}/written-report (staff): GET and PUT draft,
 * POST approval-request, approve, reject, and GET written-report.txt.
 * Submitting is wrsubmit.h's.  See docs/written-report.md.
 */
#ifndef DUTYD_WRAPI_H
#define DUTYD_WRAPI_H

struct http_call;

void	wrapi_draft_get(struct http_call *);
void	wrapi_draft_put(struct http_call *);
void	wrapi_text_get(struct http_call *);
void	wrapi_request_post(struct http_call *);
void	wrapi_approve_post(struct http_call *);
void	wrapi_reject_post(struct http_call *);

#endif
