/*
 * incview.h: the API representation of an incident.
 */
#ifndef DUTYD_INCVIEW_H
#define DUTYD_INCVIEW_H

#include <jansson.h>

struct config;
struct incident;
struct incident_mark;

/* As GET /api/v1/incidents shows it; with the timeline for one incident. */
json_t	*incview_json(const struct incident *, int with_timeline);
/*
 * The same without timeline as compact JSON, cached until the incident
 * changes: every recipient of a notification and the reply share it.
 * Owned by the incident; NULL when out of memory.
 */
const char *incview_cached(struct incident *);
/*
 * RAW is the JSON_COMPACT dump of the incident's report (it never changes):
 * incview_cached() puts those bytes in instead of dumping the report again
 * each time.  Nothing happens when out of memory: it dumps it then.
 */
void	incview_prime(struct incident *, const char *raw, size_t rawlen);
/* "<public_url>/api/v1/incidents/<id>", malloc'd; NULL when out of memory. */
char	*incview_url(const struct config *, const struct incident *);
/* Who did what MARK records, as people read it: the name, else the id. */
const char *incview_who(const struct incident_mark *);
/* Drop every cached representation (a reload may change public_url). */
void	incview_flush(void);

#endif
