/*
 * Every HTTP route dutyd serves, in one table.
 */
#ifndef DUTYD_ROUTES_H
#define DUTYD_ROUTES_H

#include <stddef.h>

struct http_route;

extern const struct http_route	routes_table[];
extern const size_t		routes_count;

#endif
