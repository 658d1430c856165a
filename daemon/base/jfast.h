/*
 * A JSON body parsed to the tree json_loadb() would return, at a tenth of
 * its cost, or NULL: then jansson's turn (base/jfast.c says when).
 */
#ifndef DUTYD_JFAST_H
#define DUTYD_JFAST_H

#include <stddef.h>
#include <jansson.h>

/*
 * The object json_loadb(body, len, JSON_REJECT_DUPLICATES) returns, or
 * NULL where this cannot tell it is the same (then ask jansson: an error,
 * or a body this leaves to it).  Never a tree jansson would not return.
 */
json_t	*jfast_load(const char *body, size_t len);

#endif
