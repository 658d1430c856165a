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
 * Written member by member, the report's members copied from its kept
 * text (increport.h): the bytes a dump of incview_json() would be.
 * Owned by the incident, and kept only for the incidents whose views
 * were built last: valid until the incident changes or 256 other views
 * are built.  NULL when out of memory.
 */
const char *incview_cached(struct incident *);
/* "<public_url>/api/v1/incidents/<id>", malloc'd; NULL when out of memory. */
char	*incview_url(const struct config *, const struct incident *);
/* Who did what MARK records, as people read it: the name, else the id. */
const char *incview_who(const struct incident_mark *);
/* Drop every cached representation (a reload may change public_url). */
void	incview_flush(void);

#endif
