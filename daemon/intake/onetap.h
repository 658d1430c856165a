/*
 * One-tap links (一键确认): GET and POST /a/{token}.  See onetap.c.
 */
#ifndef DUTYD_ONETAP_H
#define DUTYD_ONETAP_H

struct http_call;

void	onetap_get(struct http_call *);	/* GET /a/{token} */
void	onetap_post(struct http_call *);	/* POST /a/{token} */

#endif
