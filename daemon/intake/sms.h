/*
 * Inbound SMS (短信上行): gateway webhooks turn texts into reports from an
 * office's registered phone, follow-ups (续报) starting with an incident
 * id, and replies from duty staff ("3A" acknowledge, "3F" written report
 * filed, "3R" resolve).  Every inbound message is an sms.received record;
 * a forged one an sms.rejected record.  A message a gateway delivers again
 * (same MessageSid / sequence_id) changes nothing the second time.
 */
#ifndef DUTYD_SMS_H
#define DUTYD_SMS_H

struct audit_record;
struct http_call;

void	sms_twilio(struct http_call *);	/* POST /api/v1/sms/twilio */
void	sms_aliyun(struct http_call *);	/* POST /api/v1/sms/aliyun */
/* The audit apply hook for sms.* records (rebuilds what was seen). */
int	sms_apply(const struct audit_record *);
void	sms_shutdown(void);

#endif
