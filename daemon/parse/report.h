/*
 * Validation of what clients send: pure functions of bytes, no state, no
 * clock, so each can be fuzzed alone.
 */
#ifndef DUTYD_REPORT_H
#define DUTYD_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define REPORT_BODY_MAX		(64 * 1024)
#define REPORT_TITLE_MAX	200	/* code points */
#define REPORT_DETAILS_MAX	8000	/* code points */
#define REPORT_TEXT_MAX		2000	/* code points: location, cause, measures */
#define REPORT_SHORT_MAX	100	/* code points: category, reporter name/phone */
#define REPORT_NOTE_MAX		2000	/* code points: ack/resolve note, written-report reference */
#define IDEMPOTENCY_KEY_MAX	200	/* bytes */

struct report_error {
	int		 code;		/* -EINVAL: the body is wrong; -ENOMEM: dutyd ran out of memory */
	const char	*field;		/* "title", "casualties.dead", ...; NULL: the body as a whole */
	char		 message[256];	/* says what is wrong and what is expected */
	int		 not_json;	/* the body did not parse as JSON at all */
};

/*
 * Validate an incident report (a JSON object).  On success returns a new
 * object holding exactly the known fields that were given (nulls dropped),
 * with occurred_at as sent and level as I, II, III or IV (Ⅱ, "2" and 2
 * are read as II), and stores occurred_at in *occurred_ms.  On failure
 * returns NULL and fills *err.  Unknown fields are errors.
 */
json_t	*report_parse(const char *body, size_t len, int64_t *occurred_ms,
	    struct report_error *err);
/*
 * The same, for what clients post.  NOW_MS (the time it arrives) bounds
 * occurred_at: more than REPORT_FUTURE_SLACK_MS ahead of it is an error;
 * 0 checks nothing.  With REPORT_PHONED the body also names the office it
 * is from (`office`, an id, required): a report staff took by phone.
 */
#define REPORT_FUTURE_SLACK_MS	(5 * 60 * 1000)
#define REPORT_PHONED		0x1
/* Tests: jansson's parser alone, what the fast way must match. */
#define REPORT_JANSSON		0x2
/* Tests: the report copied member by member even when the tree parsed is it. */
#define REPORT_COPY		0x4
json_t	*report_parse_opts(const char *body, size_t len, int64_t now_ms,
	    unsigned flags, int64_t *occurred_ms, struct report_error *err);

/*
 * Validate the body of a staff action: an empty body, or a JSON object whose
 * members are all in `fields` (NULL-terminated) and are strings of at most
 * REPORT_NOTE_MAX code points.  Returns a new object (possibly empty).
 */
#define report_parse_action(body, len, fields, err) \
	report_parse_action_n((body), (len), (fields), NULL, (err))
/*
 * The same, with NUMBERS (NULL-terminated, or NULL) the members that are
 * whole numbers from 0 to INT_MAX instead of strings.
 */
json_t	*report_parse_action_n(const char *body, size_t len,
	    const char *const *fields, const char *const *numbers,
	    struct report_error *err);

/*
 * Validate a follow-up report (续报): a JSON object with at least one of
 * level, location, cause, measures, details, casualties, reporter (the
 * same rules as in a report).  A new object, or NULL with *err.
 */
json_t	*report_parse_update(const char *body, size_t len,
	    struct report_error *err);

/*
 * A validated report's two texts, each of its members dumped once: RAW, its
 * JSON_COMPACT dump in its own order (as its record holds it), and CANON,
 * the same with keys sorted and occurred_at left out (what the idempotency
 * hash covers: the same report, however a client orders or spaces it or
 * rebuilds occurred_at on a retry).  Both malloc'd; 0 or -ENOMEM.
 */
int	 report_dump(const json_t *report, char **raw, size_t *rawlen,
	    char **canon, size_t *canonlen);

/*
 * report_parse_opts() and report_dump() in one: *REPORT and its two texts
 * in *TEXT (free raw and canon).  Knowing which parser read the body, it
 * does not look at the characters of strings jfast has checked already.
 * 0; -EINVAL with *err (report_parse_opts() refused the body: its *err);
 * -ENOMEM when the texts could not be made.
 */
struct report_text {
	char	*raw, *canon;
	size_t	 rawlen, canonlen;
};
int	 report_parse_dump(const char *body, size_t len, int64_t now_ms,
	    unsigned flags, int64_t *occurred_ms, struct report_error *err,
	    json_t **report, struct report_text *text);

/* 1..IDEMPOTENCY_KEY_MAX printable ASCII bytes.  0 or -EINVAL. */
int	 report_check_idempotency_key(const char *key);

#endif
