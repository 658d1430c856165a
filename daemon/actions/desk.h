/*
 * The duty desk: notifications that belong to no incident, on the
 * subject NOTIFY_DESK, riding the delivery engine like any other (contacts,
 * fallback, retries, rate limits come with it).
 *
 *  - Handover (交接班): at each roster change the people coming on duty
 *    get the list of open incidents and their running deadlines, the
 *    outgoing's notes, and their own link to accept it (duty.handover
 *    with accept_by, then a notify.intent; actions/handact.c does the
 *    accepting and the alarm).
 *  - Answers to inbound SMS through a gateway that cannot answer in its
 *    webhook reply (sms.reply).
 */
#ifndef DUTYD_DESK_H
#define DUTYD_DESK_H

void	desk_init(void);
void	desk_shutdown(void);
/* (Re)arm for the next roster change: after start-up and every reload. */
void	desk_arm(void);
/*
 * Send TEXT as it is to TO on CHANNEL: a notification on the duty desk,
 * with its records, retries and fallback.  0 or -errno.
 */
int	desk_answer(const char *channel, const char *to, const char *text);

#endif
