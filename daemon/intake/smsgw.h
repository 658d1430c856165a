/*
 * Inbound SMS gateways' webhooks (短信上行): Twilio and Aliyun.
 */
#ifndef DUTYD_SMSGW_H
#define DUTYD_SMSGW_H

struct http_call;

void	smsgw_twilio(struct http_call *);	/* POST /api/v1/sms/twilio */
void	smsgw_aliyun(struct http_call *);	/* POST /api/v1/sms/aliyun */

#endif
