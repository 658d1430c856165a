/*
 * What a report.received record says of its incident: read from its data,
 * or given by the action that built it (incseed.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "state/incseed.h"

static const struct incseed *incseed_given;

/* A string member of D: 0 (NULL when absent or null), -EINVAL when it is something else. */
static int
incseed_str(json_t *d, const char *key, const char **out)
{
	json_t *v = json_object_get(d, key);

	*out = json_string_value(v);
	return v == NULL || json_is_null(v) || *out != NULL ? 0 : -EINVAL;
}

int
incseed_read(json_t *d, struct incseed *s)
{
	json_t	*late = json_object_get(d, "late_by_minutes");
	int	 rc = 0;

	memset(s, 0, sizeof(*s));
	s->data = d;
	s->late_report = json_is_true(json_object_get(d, "late_report"));
	s->idem_key = json_string_value(json_object_get(d, "idempotency_key"));
	rc |= incseed_str(d, "office", &s->office);
	rc |= incseed_str(d, "office_name", &s->office_name);
	rc |= incseed_str(d, "body_sha256", &s->body_sha256);
	rc |= incseed_str(d, "source", &s->source);
	rc |= incseed_str(d, "taken_by", &s->taken_by);
	rc |= incseed_str(d, "taken_by_name", &s->taken_by_name);
	s->received_at = json_string_value(json_object_get(d, "received_at"));
	s->ack_deadline = json_string_value(json_object_get(d, "ack_deadline"));
	s->report_deadline = json_string_value(json_object_get(d,
	    "report_deadline"));
	if ((s->has_late_minutes = json_is_integer(late)))
		s->late_minutes = json_integer_value(late);
	return rc != 0 ? -EINVAL : 0;
}

void
incseed_expect(const struct incseed *s)
{
	incseed_given = s;
}

const struct incseed *
incseed_expected(const json_t *data)
{
	return incseed_given != NULL && data != NULL &&
	    incseed_given->data == data ? incseed_given : NULL;
}
