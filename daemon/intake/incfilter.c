/*
 * incfilter.c: the filters of the incident list (see incfilter.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/timeutil.h"
#include "base/utf8.h"
#include "intake/http.h"
#include "intake/incfilter.h"
#include "state/incident.h"
#include "state/inclist.h"

/* Every parameter GET /api/v1/incidents takes. */
static const char *const incfilter_known[] = { "state", "office", "since",
    "limit", "cursor", NULL };
enum { INCFILTER_STATE, INCFILTER_OFFICE, INCFILTER_SINCE, INCFILTER_LIMIT,
    INCFILTER_CURSOR };

static const struct {
	const char		*name;
	enum incident_state	 state;
} incfilter_states[] = {
	{ "acknowledged",	INCIDENT_ACKNOWLEDGED },
	{ "resolved",		INCIDENT_RESOLVED },
	{ "merged",		INCIDENT_MERGED },
	{ "dismissed",		INCIDENT_DISMISSED },
};
#define INCFILTER_NSTATES (sizeof(incfilter_states) / sizeof(incfilter_states[0]))

#define INCFILTER_QUOTE_MAX	40	/* bytes of a client's value quoted back */

/* What a client sent, fit to quote in a JSON error: whole and valid, or not at all. */
static const char *
incfilter_quote(const char *s)
{
	size_t n = strlen(s);

	return n <= INCFILTER_QUOTE_MAX && utf8_valid(s, n) ? s : "(not shown)";
}

static int
incfilter_state(struct http_call *call, const char *v, struct incfilter *f)
{
	size_t i;

	if (strcmp(v, "open") == 0)
		return 0;	/* not closed: what the duty room has to deal with */
	if (strcmp(v, "all") == 0) {
		f->all = 1;
		return 0;
	}
	for (i = 0; i < INCFILTER_NSTATES; i++)
		if (strcmp(v, incfilter_states[i].name) == 0) {
			f->state = (int)incfilter_states[i].state;
			return 0;
		}
	http_error(call, 400, "state", "state must be open (not resolved, merged "
	    "or dismissed; the default), acknowledged, resolved, merged, "
	    "dismissed or all; got '%s'", incfilter_quote(v));
	return -1;
}

static int
incfilter_office(struct http_call *call, const char *v, struct incfilter *f)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-");

	if (n == 0 || v[n] != '\0' || n >= sizeof(f->office)) {
		http_error(call, 400, "office", "office must be an office's id, "
		    "such as county-a; got '%s'", incfilter_quote(v));
		return -1;
	}
	memcpy(f->office, v, n + 1);
	return 0;
}

static int
incfilter_since(struct http_call *call, const char *v, struct incfilter *f)
{
	if (time_parse(v, &f->since) != 0) {
		http_error(call, 400, "since", "since must be an RFC 3339 time such "
		    "as 2026-12-01T08:30:00+08:00 (write the + as %%2B); got "
		    "'%s'", incfilter_quote(v));
		return -1;
	}
	return 0;
}

/* limit=: a page of 1 to INCFILTER_PAGE_MAX incidents. */
static int
incfilter_limit(struct http_call *call, const char *v, struct incfilter *f)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 1 ||
	    n > INCFILTER_PAGE_MAX) {
		http_error(call, 400, "limit", "limit must be a number of incidents "
		    "from 1 to %d (default %d); got '%s'", INCFILTER_PAGE_MAX,
		    INCFILTER_PAGE_DEFAULT, incfilter_quote(v));
		return -1;
	}
	f->limit = (size_t)n;
	return 0;
}

/* cursor=: the previous page's next, an incident id (it may be gone since). */
static int
incfilter_cursor(struct http_call *call, const char *v, struct incfilter *f)
{
	int day, n;

	if (inclist_parse_id(v, &day, &n) != 0 || strlen(v) >= sizeof(f->cursor)) {
		http_error(call, 400, "cursor", "cursor must be the 'next' of the "
		    "previous page (an incident id); got '%s'", incfilter_quote(v));
		return -1;
	}
	memcpy(f->cursor, v, strlen(v) + 1);
	return 0;
}

int
incfilter_parse(struct http_call *call, struct incfilter *f)
{
	struct evhttp_uri	*uri;
	const char		*query;
	struct evkeyvalq	 params;
	struct evkeyval		*kv;
	size_t			 i;
	int			 rc = 0;

	memset(f, 0, sizeof(*f));
	f->state = -1;
	f->limit = INCFILTER_PAGE_DEFAULT;
	uri = evhttp_uri_parse_with_flags(http_uri(call), EVHTTP_URI_NONCONFORMANT);
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query == NULL || *query == '\0') {
		evhttp_uri_free(uri);
		return 0;
	}
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(query, &params) != 0) {
		evhttp_uri_free(uri);
		http_error(call, 400, NULL, "the query string cannot be read: "
		    "write it as name=value&name=value, percent-encoded");
		return -1;
	}
	TAILQ_FOREACH(kv, &params, next) {
		for (i = 0; incfilter_known[i] != NULL; i++)
			if (strcmp(kv->key, incfilter_known[i]) == 0)
				break;
		if (incfilter_known[i] == NULL) {
			http_error(call, 400, strcmp(incfilter_quote(kv->key),
			    kv->key) == 0 ? kv->key : NULL, "unknown query "
			    "parameter '%s'; the incident list takes state, office, "
			    "since, limit and cursor", incfilter_quote(kv->key));
			rc = -1;
		} else if (i == INCFILTER_STATE)
			rc = incfilter_state(call, kv->value, f);
		else if (i == INCFILTER_OFFICE)
			rc = incfilter_office(call, kv->value, f);
		else if (i == INCFILTER_SINCE)
			rc = incfilter_since(call, kv->value, f);
		else if (i == INCFILTER_LIMIT)
			rc = incfilter_limit(call, kv->value, f);
		else
			rc = incfilter_cursor(call, kv->value, f);
		if (rc != 0)
			break;
	}
	evhttp_clear_headers(&params);
	evhttp_uri_free(uri);
	return rc;
}

enum incident_filter
incfilter_list(const struct incfilter *f)
{
	if (f->all)
		return INCIDENT_ALL;
	return f->state == -1 ? INCIDENT_NOT_CLOSED : INCIDENT_IN_STATE(f->state);
}

int
incfilter_narrows(const struct incfilter *f)
{
	return f->office[0] != '\0' || f->since != 0;
}

int
incfilter_match(const struct incfilter *f, const struct incident *inc)
{
	if (!f->all && f->state == -1 && incident_is_closed(inc))
		return 0;
	if (f->state != -1 && (int)inc->state != f->state)
		return 0;
	if (f->office[0] != '\0' && strcmp(inc->office, f->office) != 0)
		return 0;
	return f->since == 0 || inc->received_at >= f->since;
}
