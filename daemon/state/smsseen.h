/*
 * smsseen.h: gateway message ids already taken ("twilio", "SM...").
 */
#ifndef DUTYD_SMSSEEN_H
#define DUTYD_SMSSEEN_H

#define SMSSEEN_ID_MAX	64	/* bytes of a MessageSid or sequence_id */

/* Registers with the router as the owner of sms.received records. */
void	smsseen_init(void);
int	smsseen_has(const char *provider, const char *id);
void	smsseen_add(const char *provider, const char *id);
void	smsseen_clear(void);

#endif
