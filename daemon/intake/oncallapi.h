/*
 * GET /api/v1/oncall (who is on duty now and for the coming days, as
 * `dutyd --oncall` prints it) and GET /api/v1/offices (the offices, for
 * the console's phone-report picker).
 */
#ifndef DUTYD_ONCALLAPI_H
#define DUTYD_ONCALLAPI_H

#include <stdint.h>

#include <jansson.h>

struct config;
struct http_call;

#define ONCALLAPI_DAYS_DEFAULT	15	/* today and the next 14 days */
#define ONCALLAPI_DAYS_MAX	31

/*
 * Who is on duty at AT: {"leader": {"id","name"}|null, "officers":
 * [{"id","name","role"}], "since", "until"} (times RFC 3339 or null for
 * the static duty block).  NULL: out of memory or AT out of range.
 * The stream's `event: oncall` sends the same.
 */
json_t	*oncallapi_now(const struct config *, int64_t at);

void	oncallapi_get(struct http_call *);
void	oncallapi_offices(struct http_call *);

#endif
