/* Reports, follow-ups and staff-action bodies (parse/report.c), and times. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/timeutil.h"
#include "base/jfast.h"
#include "parse/report.h"
#include "fuzz.h"

static int
same_error(const struct report_error *a, const struct report_error *b)
{
	return a->code == b->code && a->not_json == b->not_json &&
	    strcmp(a->message, b->message) == 0 && (a->field == b->field ||
	    (a->field != NULL && b->field != NULL &&
	    strcmp(a->field, b->field) == 0));
}

static void
jfast_check(const char *s, size_t size)
{
	struct report_error	 e1, e2;
	int64_t			 m1 = 0, m2 = 0;
	json_t			*fast, *slow;
	char			*d1, *d2;

	if ((fast = jfast_load(s, size)) != NULL) {
		slow = json_loadb(s, size, JSON_REJECT_DUPLICATES |
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (slow == NULL || !json_equal(fast, slow))
			abort();
		d1 = json_dumps(fast, JSON_COMPACT);
		d2 = json_dumps(slow, JSON_COMPACT);
		if (d1 == NULL || d2 == NULL || strcmp(d1, d2) != 0)
			abort();
		free(d1);
		free(d2);
		json_decref(slow);
		json_decref(fast);
	}
	fast = report_parse_opts(s, size, 0, 0, &m1, &e1);
	slow = report_parse_opts(s, size, 0, REPORT_JANSSON, &m2, &e2);
	if ((fast == NULL) != (slow == NULL))
		abort();
	if (fast == NULL && !same_error(&e1, &e2))
		abort();
	if (fast != NULL && (m1 != m2 || !json_equal(fast, slow)))
		abort();
	json_decref(fast);
	json_decref(slow);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const note[] = { "note", NULL };
	struct report_error	 err;
	int64_t			 ms;
	json_t			*o;
	char			*s = fuzz_cstr(data, size), buf[TIME_RFC3339_MAX];
	const char		*why;

	if ((o = report_parse(s, size, &ms, &err)) != NULL) {
		char	*raw, *canon, *whole;
		size_t	 rawlen, canonlen;

		time_format(ms, buf, sizeof(buf));
		/* Its record holds these bytes: they must be jansson's own dump. */
		if (report_dump(o, &raw, &rawlen, &canon, &canonlen) == 0) {
			whole = json_dumps(o, JSON_COMPACT);
			if (whole != NULL && (strlen(whole) != rawlen ||
			    strcmp(whole, raw) != 0))
				abort();
			free(whole);
			free(raw);
			free(canon);
		}
		json_decref(o);
	}
	/* The fast parse is jansson's tree or nothing: same answers either way. */
	jfast_check(s, size);
	json_decref(report_parse_update(s, size, &err));
	json_decref(report_parse_action(s, size, note, &err));
	report_check_idempotency_key(s);
	if (time_parse(s, &ms) == 0 && time_parse(time_format(ms, buf,
	    sizeof(buf)), &ms) != 0)
		abort();	/* what is written must read back */
	duration_parse(s, &ms, &why);
	free(s);
	return 0;
}
