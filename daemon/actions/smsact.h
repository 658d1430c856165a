/*
 * What an inbound SMS does: reports and follow-ups from offices' phones,
 * reply commands from people's phones, and the records that say so.
 */
#ifndef DUTYD_SMSACT_H
#define DUTYD_SMSACT_H

#include <stdint.h>

#include "state/smsseen.h"

#define SMSACT_ID_MAX	SMSSEEN_ID_MAX	/* bytes of a gateway's message id */

struct config;

void	smsact_shutdown(void);
/* 1..SMSACT_ID_MAX printable ASCII bytes: fit for keys and records. */
int	smsact_id_ok(const char *id);
/*
 * Takes one message a gateway delivered: acts on it and records it, unless
 * the gateway delivered it before.  0 and *answer (malloc'd, or NULL for
 * no answer), or -errno when it could not be recorded (the gateway should
 * deliver it again).
 */
int	smsact_take(const struct config *, const char *provider, const char *id,
	    const char *from, const char *to, const char *text,
	    int64_t received_ms, char **answer);
/*
 * A request to PROVIDER's webhook from PEER that is not from the gateway:
 * an sms.rejected record, at most 20 a minute (a flood must
 * not fill the disk), and a warning.
 */
void	smsact_rejected(const char *peer, const char *provider,
	    const char *reason);

#endif
