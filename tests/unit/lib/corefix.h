/*
 * dutyd's core in a unit test: configuration from YAML text, the memory
 * store, the fake clock and the fake transport.  Everything an e2e test
 * waits seconds for happens here when the test moves the clock.
 *
 * The YAML may use @PLUGINS@ for the built plugins' directory; state_dir
 * and listen are filled in when left out.
 */
#ifndef TEST_COREFIX_H
#define TEST_COREFIX_H

#include <stdint.h>

#include <jansson.h>

struct incident;

/* 2026-12-02 08:00:00 +08:00: a duty day's morning. */
#define COREFIX_T0	INT64_C(1796169600000)
#define COREFIX_MIN	INT64_C(60000)

/* Starts on a fresh store at COREFIX_T0. */
void	corefix_start(const char *yaml);
/*
 * dutyd stops, DOWN_MS pass with nothing running, and it starts again on
 * the same records: replay, catch-up.
 */
void	corefix_restart(int64_t down_ms);
/* A SIGHUP with new YAML. */
void	corefix_reload(const char *yaml);
void	corefix_stop(void);
/* corefix_stop() as a cmocka teardown. */
int	corefix_teardown(void **state);
/* The one record of kind EVENT naming INCIDENT (NULL: any); the test fails unless exactly one. */
json_t	*corefix_record(const char *event, const char *incident);

/* A report from OFFICE with TITLE, as POST /api/v1/reports makes it. */
struct incident *corefix_report(const char *office, const char *title);
/* Every webhook request not yet answered gets 200. */
int	corefix_deliver_all(void);
/*
 * The recipients (webhook body recipient.id) of requests for EVENT about
 * INCIDENT (NULL: any) so far, as "li,wang" in request order.
 */
const char *corefix_sent(const char *event, const char *incident);
/*
 * An SMS from PHONE to the duty number, with the gateway's message id ID,
 * taken as the Twilio webhook takes it; a loop turn commits it.  The
 * answer (static), or NULL when there is none.
 */
const char *corefix_sms_in(const char *id, const char *phone, const char *text);
/* The text of the last SMS sent to PHONE over Twilio, "" when none (static). */
const char *corefix_sms_to(const char *phone);

#endif
