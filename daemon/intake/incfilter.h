/*
 * The filters of GET /api/v1/incidents: which incidents a list shows
 * (state, office, since) and which page (limit, cursor), read from the
 * query string.  A parameter the
 * list does not know is an error, not silently ignored: a client that
 * thinks it filters must not get everything back.
 */
#ifndef DUTYD_INCFILTER_H
#define DUTYD_INCFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "state/incident.h"

struct http_call;
struct incident;

#define INCFILTER_OFFICE_MAX	65	/* an office id and its NUL */
#define INCFILTER_PAGE_DEFAULT	100	/* incidents a page holds without limit= */
#define INCFILTER_PAGE_MAX	1000

struct incfilter {
	int	 all;			/* state=all */
	int	 state;			/* an enum incident_state; -1: not closed (state=open) */
	char	 office[INCFILTER_OFFICE_MAX];	/* "": every office */
	int64_t	 since;			/* received at or after; 0: any time */
	size_t	 limit;			/* a page's incidents */
	char	 cursor[INCIDENT_ID_MAX];	/* the previous page's next; "": the first page */
};

/*
 * Reads the call's query into F.  0; or -1 after answering 400 naming the
 * parameter (unknown, or its value invalid) or 503 (out of memory).
 */
int	incfilter_parse(struct http_call *, struct incfilter *f);
/* INC is one the list shows. */
int	incfilter_match(const struct incfilter *f, const struct incident *inc);
/* The list of incidents (incident.h) that holds every one F shows. */
enum incident_filter incfilter_list(const struct incfilter *f);
/* F asks for some offices or some time only: a list's count is not its total. */
int	incfilter_narrows(const struct incfilter *f);

#endif
