/*
 * message.c: what a notification says.  The channel's template for the
 * event, else the top-level one, else the built-in Chinese default; the
 * same for the one-line title.  SMS channels get the text fitted to their
 * segment limit, so no plugin ever cuts a character in half.
 */
#ifndef DUTYD_MESSAGE_H
#define DUTYD_MESSAGE_H

#include <stdint.h>
#include <jansson.h>

#include "notify/notify.h"

struct config;
struct config_channel;
struct incident;

/* What one message is about, and for whom. */
struct message_about {
	enum notify_event event;
	int		 level;		/* escalation level >= 2, else 0 */
	int		 update;	/* incident.updated: the follow-up's number */
	int64_t		 late_ms;	/* a clock that fired late says so */
	const json_t	*extra;		/* duty.handover: {shift, count, incidents}; sms.reply: {text} */
	const char	*person;	/* the reader's id */
	const char	*link;		/* their one-tap link's stub; "": none */
	int		 code;		/* their SMS reply code; 0: none */
	const struct incident *inc;	/* NULL on the duty desk */
};

struct message {
	char		*title;
	char		*text;
	char		*url;
};

/* The text on channel CH.  0, -ENOENT (an incident's message without it), -ENOMEM. */
int	message_render(const struct config *, const struct config_channel *ch,
	    const struct message_about *, struct message *);
/* One message standing for N queued ones (a rate-limited channel). */
int	message_render_bundle(const struct config *,
	    const struct config_channel *ch, const struct message_about *,
	    size_t n, struct message *);
void	message_clear(struct message *);
void	message_shutdown(void);

/* A channel as the duty room names it: "钉钉" for a dingtalk channel, else its name. */
const char *message_channel_label(const char *channel);

#endif
