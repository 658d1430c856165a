/*
 * Serving the console (see console.h).  The files are static bytes: no
 * record, no sync to wait for, so they go out at once through conn.c with
 * exactly these headers (http.c's replies say no-store; these revalidate).
 */
#include <string.h>

#include "intake/conn.h"
#include "intake/console.h"
#include "intake/http.h"

/* The contract of docs/console.md: each header exactly as written. */
static const char *const console_headers[][2] = {
	{ "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
	    "media-src 'self' data:; style-src 'self'; script-src 'self'; "
	    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'self'" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Content-Type-Options", "nosniff" },
};

static void
console_secure(struct http_call *call)
{
	size_t i;

	for (i = 0; i < sizeof(console_headers) / sizeof(console_headers[0]); i++)
		http_set_header(call, console_headers[i][0], console_headers[i][1]);
}

static const struct console_asset *
console_find(const char *name)
{
	size_t i;

	for (i = 0; i < console_assets_count; i++)
		if (strcmp(console_assets_table[i].name, name) == 0)
			return &console_assets_table[i];
	return NULL;
}

static void
console_send(struct http_call *call, const struct console_asset *a)
{
	console_secure(call);
	http_set_header(call, "Cache-Control", "no-cache");
	conn_reply(call->req, 200, a->type, (const char *)a->data, a->len);
}

void
console_page(struct http_call *call)
{
	const struct console_asset *a = console_find("index.html");

	if (a == NULL) {	/* tools/embed.py refuses to build without it */
		console_secure(call);
		http_error(call, 500, NULL, "this dutyd was built without its "
		    "console (console/index.html); rebuild it from the source");
		return;
	}
	console_send(call, a);
}

void
console_file(struct http_call *call)
{
	const struct console_asset *a = console_find(call->param);

	if (a == NULL) {
		console_secure(call);
		http_error(call, 404, NULL, "the console has no file named "
		    "'%.100s'; reload the page (dutyd may have been upgraded)",
		    call->param);
		return;
	}
	console_send(call, a);
}
