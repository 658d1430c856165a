/*
 * An answer's head (connhead.h), copied piece by piece into one buffer
 * that conn.c writes with the body: five evbuffer_add_printf() calls an
 * answer cost 6 k instructions, a tenth of a report's intake outside the
 * SHA-256.  The text is the one they wrote (test_connhead.c).
 */
#include <string.h>

#include <sys/queue.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "intake/connhead.h"
#include "intake/httpstatus.h"

struct connhead {
	char	*p;
	size_t	 cap, len;	/* len counts what did not fit, too */
};

static void
connhead_put(struct connhead *h, const char *s, size_t n)
{
	if (h->len < h->cap)
		memcpy(h->p + h->len, s, n < h->cap - h->len ? n :
		    h->cap - h->len);
	h->len += n;
}

static void
connhead_str(struct connhead *h, const char *s)
{
	connhead_put(h, s, strlen(s));
}

/* U in decimal, after a minus when NEG: as %d and %zu print them. */
static void
connhead_num(struct connhead *h, unsigned long long u, int neg)
{
	char	 num[24], *p = num + sizeof(num);

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (neg)
		*--p = '-';
	connhead_put(h, p, (size_t)(num + sizeof(num) - p));
}

size_t
connhead_format(char *buf, size_t cap, const char *version, int status,
    const char *content_type, const struct evkeyvalq *extra, size_t len,
    int keep)
{
	struct connhead		 h = { buf, cap, 0 };
	const struct evkeyval	*kv;

	connhead_str(&h, version);
	connhead_put(&h, " ", 1);
	connhead_num(&h, status < 0 ? 0 - (unsigned long long)status :
	    (unsigned long long)status, status < 0);
	connhead_put(&h, " ", 1);
	connhead_str(&h, httpstatus_reason(status));
	connhead_put(&h, "\r\n", 2);
	if (content_type != NULL) {
		connhead_put(&h, "Content-Type: ", 14);
		connhead_str(&h, content_type);
		connhead_put(&h, "\r\n", 2);
	}
	if (len != CONNHEAD_STREAM) {
		connhead_put(&h, "Content-Length: ", 16);
		connhead_num(&h, len, 0);
		connhead_put(&h, "\r\n", 2);
	}
	if (keep)
		connhead_put(&h, "Connection: keep-alive\r\n", 24);
	else
		connhead_put(&h, "Connection: close\r\n", 19);
	if (extra != NULL)
		TAILQ_FOREACH(kv, extra, next) {
			connhead_str(&h, kv->key);
			connhead_put(&h, ": ", 2);
			connhead_str(&h, kv->value);
			connhead_put(&h, "\r\n", 2);
		}
	/* Clients and load balancers retry a 503 or 429 only when told when. */
	if ((status == 503 || status == 429) && (extra == NULL ||
	    evhttp_find_header(extra, "Retry-After") == NULL))
		connhead_str(&h, "Retry-After: " CONNHEAD_RETRY_AFTER "\r\n");
	connhead_put(&h, "\r\n", 2);
	return h.len;
}
