/*
 * handapi.h: the handover over HTTP.  POST /api/v1/handover/note (staff:
 * the outgoing's note), POST /api/v1/handover/accept (the incoming),
 * GET /api/v1/handover (the newest handover and the notes waiting), and
 * what a handover message's one-tap link (action 'H') shows and does:
 * GET shows the handover, only the page's POST accepts it.
 */
#ifndef DUTYD_HANDAPI_H
#define DUTYD_HANDAPI_H

struct http_call;

void	handapi_note(struct http_call *);
void	handapi_accept(struct http_call *);
void	handapi_get(struct http_call *);
/*
 * For onetap.c: 1 after answering when the link in CALL is a handover's
 * (POST accepts); 0 for every other link, which onetap.c answers.
 */
int	handapi_tap(struct http_call *, int post);

#endif
