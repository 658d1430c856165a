/*
 * The transport on libcurl: one multi handle driven by the libevent loop
 * (the shape of curl's docs/examples/hiperfifo.c), SMTP on threads of its
 * own.  Nothing here blocks the loop.  Once started it is the backend of
 * fetch.h.
 */
#ifndef DUTYD_CURLFETCH_H
#define DUTYD_CURLFETCH_H

struct event_base;

int	curlfetch_init(struct event_base *);	/* 0 or -errno */
/* Cancels what is in flight, without callbacks. */
void	curlfetch_shutdown(void);

#endif
