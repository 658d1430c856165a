/*
 * An answer's head (connhead.h), copied piece by piece into one buffer
 * written with the body: five evbuffer_add_printf() calls and an evbuffer
 * made for each answer cost 7 k instructions, a tenth of a report's intake
 * outside the SHA-256.  The text is the one they wrote (test_connhead.c).
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
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

/*
 * The head and, unless HEAD_ONLY, the body: on plain TCP with nothing
 * queued, written now in one writev (sparing two epoll_ctl); what the
 * socket did not take, or all after a failure, queued on BEV.
 */
int
connhead_write(struct bufferevent *bev, int tls, const char *version,
    int status, const char *content_type, const struct evkeyvalq *extra,
    const char *body, size_t len, int keep, int head_only)
{
	struct evbuffer	*out = bufferevent_get_output(bev);
	char		 stack[CONNHEAD_STACK], *head = stack;
	struct iovec	 iov[2];
	size_t		 n, blen = head_only ? 0 : len;
	ssize_t		 w = 0;
	int		 fd = bufferevent_getfd(bev);

	n = connhead_format(head, sizeof(stack), version, status, content_type,
	    extra, len, keep);
	if (n > sizeof(stack)) {
		if ((head = malloc(n)) == NULL)
			return -ENOMEM;
		(void)connhead_format(head, n, version, status, content_type,
		    extra, len, keep);
	}
	iov[0] = (struct iovec){ head, n };
	iov[1] = (struct iovec){ (void *)body, blen };
	if (!tls && fd != -1 && evbuffer_get_length(out) == 0 &&
	    (w = writev(fd, iov, blen > 0 ? 2 : 1)) < 0)
		w = 0;
	if ((size_t)w < n)
		evbuffer_add(out, head + w, n - (size_t)w);
	if ((size_t)w < n + blen)
		evbuffer_add(out, (size_t)w <= n ? body : body + (w - n),
		    (size_t)w <= n ? blen : n + blen - (size_t)w);
	if (head != stack)
		free(head);
	return 0;
}
