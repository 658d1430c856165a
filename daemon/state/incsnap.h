/*
 * An incident as one JSON object (a checkpoint part), the form
 * incident_restore() reads back.
 */
#ifndef DUTYD_INCSNAP_H
#define DUTYD_INCSNAP_H

#include <stddef.h>
#include <jansson.h>

struct incident;

/*
 * TRIM timeline entries are left out, the oldest delivery records first
 * (a part must fit one log line).  NULL when out of memory.
 */
json_t	*incsnap_incident(const struct incident *, size_t trim);

#endif
