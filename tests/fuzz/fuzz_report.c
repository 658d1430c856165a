/* Reports, follow-ups and staff-action bodies (parse/report.c), and times. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/timeutil.h"
#include "parse/report.h"
#include "fuzz.h"

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
