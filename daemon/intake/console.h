/*
 * The duty-room console (docs/console.md): its pages and files, embedded
 * in dutyd at build time (tools/embed.py writes console_assets_table from
 * the folder console/).  The page paths all answer console/index.html; the
 * page signs in and fetches everything else through the API.  Every answer
 * carries the security headers (CSP without inline script, no framing, no
 * referrer).
 */
#ifndef DUTYD_CONSOLE_H
#define DUTYD_CONSOLE_H

#include <stddef.h>

struct http_call;

/* One embedded file (the generated $(B)/gen/console_assets.c). */
struct console_asset {
	const char		*name;		/* "app.js" */
	const char		*type;		/* its Content-Type */
	const unsigned char	*data;
	size_t			 len;
};
extern const struct console_asset console_assets_table[];
extern const size_t console_assets_count;

/* "/", "/incidents/{id}", "/report", "/oncall", "/wall": index.html. */
void	console_page(struct http_call *);
/* "/console/{id}": the file of that name, or 404. */
void	console_file(struct http_call *);

#endif
