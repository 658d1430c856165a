/*
 * wrsubmit.h: POST /api/v1/incidents/{id}/written-report/submit, the
 * written report sent to the province (actions/wrsend.c decides).
 */
#ifndef DUTYD_WRSUBMIT_H
#define DUTYD_WRSUBMIT_H

struct http_call;

void	wrsubmit_post(struct http_call *);

#endif
