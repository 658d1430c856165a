/*
 * Replay's reading of a record line.  record_parse() builds a tree of the
 * whole line and then compares the envelope it re-formats with the line's
 * bytes to find data's text: a tree node and a malloc for each of the
 * envelope's seven members, its 64-hex prev lexed by yajl, all thrown away
 * after apply.  A line in the layout record_format_raw() writes
 *
 *   {"seq":N,"ts":"…","event":"…"[,"incident":"…"],"actor":"…","data":{…},"prev":"<64 hex>"}
 *
 * with plain strings (printable ASCII, no '"' or '\': their bytes are
 * their values) is read here from that layout, and only data becomes a
 * tree (base/jfast.c, which gives up where yajl and jansson could
 * differ).  Anything else, and anything record_parse() would refuse, goes
 * to record_parse(): its errors are the only errors.
 * tests/unit/test_replayline.c compares the two readings.
 */
#include <errno.h>
#include <string.h>

#include "base/jfast.h"
#include "base/timeutil.h"
#include "store/replayline.h"

/* ,"prev":" 64 hex digits "} */
#define REPLAYLINE_TAIL	(9 + 64 + 2)

struct replayline_cur {
	const char		*p, *end;
	struct replayline	*rl;
	size_t			 used;
};

/* Past the literal LIT: 1, or 0 where the line has something else. */
static int
replayline_lit(struct replayline_cur *c, const char *lit, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

/* A plain string's bytes up to its closing quote, copied NUL-terminated. */
static const char *
replayline_str(struct replayline_cur *c)
{
	const unsigned char	*q = (const unsigned char *)c->p;
	const unsigned char	*end = (const unsigned char *)c->end;
	size_t			 n;
	char			*out;

	while (q < end && *q >= 0x20 && *q <= 0x7e && *q != '"' && *q != '\\')
		q++;
	if (q == end || *q != '"')
		return NULL;
	n = (size_t)((const char *)q - c->p);
	if (c->used + n + 1 > sizeof(c->rl->buf))
		return NULL;
	out = c->rl->buf + c->used;
	memcpy(out, c->p, n);
	out[n] = '\0';
	c->used += n + 1;
	c->p = (const char *)q + 1;
	return out;
}

/* The fast reading, or -1: record_parse() reads the line. */
static int
replayline_fast(const char *line, size_t len, struct record *rec,
    struct replayline *rl, json_t **rootp)
{
	struct replayline_cur	 c = { line, NULL, rl, 0 };
	const char		*tail;
	json_t			*data;
	int64_t			 seq = 0;
	size_t			 digits = 0;

	if (len < REPLAYLINE_TAIL + 8)
		return -1;
	tail = line + len - REPLAYLINE_TAIL;
	if (memcmp(tail, ",\"prev\":\"", 9) != 0 || !record_hash_digits(tail + 9) ||
	    line[len - 2] != '"' || line[len - 1] != '}')
		return -1;
	c.end = tail;
	if (!replayline_lit(&c, "{\"seq\":", 7))
		return -1;
	/* JSON has no leading zero; 18 digits cannot overflow. */
	if (c.p < c.end && *c.p == '0')
		return -1;
	while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && digits < 18) {
		seq = seq * 10 + (*c.p++ - '0');
		digits++;
	}
	if (digits == 0 || !replayline_lit(&c, ",\"ts\":\"", 7) ||
	    (rec->ts = replayline_str(&c)) == NULL ||
	    !replayline_lit(&c, ",\"event\":\"", 10) ||
	    (rec->event = replayline_str(&c)) == NULL)
		return -1;
	if (replayline_lit(&c, ",\"incident\":\"", 13) &&
	    (rec->incident = replayline_str(&c)) == NULL)
		return -1;
	if (!replayline_lit(&c, ",\"actor\":\"", 10) ||
	    (rec->actor = replayline_str(&c)) == NULL ||
	    !replayline_lit(&c, ",\"data\":", 8) || c.p == c.end ||
	    *c.p != '{' || time_parse(rec->ts, &rec->ts_ms) != 0)
		return -1;
	/* jfast_load() takes one object and nothing after it, or gives up. */
	if ((data = jfast_load(c.p, (size_t)(c.end - c.p))) == NULL)
		return -1;
	rec->seq = seq;
	rec->data = data;
	rec->data_text = c.p;
	rec->data_textlen = (size_t)(c.end - c.p);
	*rootp = data;
	return 0;
}

int
replayline_parse(const char *line, size_t len, struct record *rec,
    struct replayline *rl, json_t **rootp, const char **why)
{
	*rootp = NULL;
	memset(rec, 0, sizeof(*rec));
	if (replayline_fast(line, len, rec, rl, rootp) == 0)
		return 0;
	return record_parse(line, len, rec, rootp, why);
}
