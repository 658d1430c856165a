/*
 * statsapi.c: GET /api/v1/stats?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv],
 * the figures (通报) of a period read from the whole audit log
 * (state/figures.c, store_scan()); docs/stats.md.
 */
#ifndef DUTYD_STATSAPI_H
#define DUTYD_STATSAPI_H

struct http_call;

/* A period is at most this many days, both dates included. */
#define STATSAPI_DAYS_MAX	400

void	statsapi_get(struct http_call *);

#endif
