/*
 * chatbot: the group robots (DingTalk, WeCom, Feishu) as one plugin
 * skeleton.  A robot is a webhook address that takes a JSON message and
 * answers with a vendor code; what differs between vendors is a table
 * (struct chatbot_vendor) and three hooks: options beyond url and secret,
 * the body's shape, and how a secret signs the request.
 *
 * Part of pluglib: hidden symbols, pure functions.
 */
#ifndef DUTYD_CHATBOT_H
#define DUTYD_CHATBOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "plugin.h"
#include "pluglib.h"

#define CHATBOT_KEYS_MAX	8

#pragma GCC visibility push(hidden)

/* A robot's reply code and what it means. */
struct chatbot_code {
	long long	 code;
	enum dutyd_outcome outcome;
	int64_t		 wait_ms;	/* rate limited: not before this */
	const char	*hint;		/* what to do about it, or NULL */
};

/*
 * How the text of a message is laid out: title, the text, the link unless
 * the text has it, the mentions.  Only the text is ever shortened.
 */
struct chatbot_style {
	const char	*title[2];	/* put around a title: "#### ", "\n\n" */
	const char	*gap;		/* before the link and the mentions */
	int		 markdown;	/* the link as [url](url) */
	/* Writes one mention into the text; NULL: the text has none. */
	void		(*mention)(FILE *, const struct dutyd_recipient *);
	size_t		 max;		/* bytes of text, the title included */
	int		 max_untitled;	/* ... or not: max counts from the text */
};

struct chatbot;

struct chatbot_vendor {
	const char	*channel;	/* "dingtalk", as in the config */
	const char	*vendor;	/* "DingTalk", as people know it */
	/* Its options: "url" first; "secret", if among them, signs. */
	const struct pluglib_key *keys;
	size_t		 nkeys;
	const char	*example;	/* a webhook address, for advice */
	const char	*token;		/* a good address's query holds it; or NULL */
	/*
	 * The names of the code and the message in a reply, then those of
	 * older replies (or NULLs).
	 */
	const char	*reply[2][2];
	const struct chatbot_code *codes;	/* the rest are retried */
	size_t		 ncodes;
	int64_t		 rate_wait_ms;	/* a 429 without Retry-After */
	const struct chatbot_style *style;	/* unless options() picks one */
	/* The secret keys one HMAC of this digest for every message; or NULL. */
	const char	*hmac_digest;
	/*
	 * Optional: the options beyond url and secret (val and idx as
	 * pluglib_options() made them), and the style they ask for.
	 */
	int		(*options)(const char *const *val, const int *idx,
			    const struct chatbot_style **,
			    struct dutyd_error *);
	/* The JSON body for text, the message laid out; NULL: not UTF-8. */
	json_t		*(*body)(const struct chatbot *,
			    const struct dutyd_message *, const char *text);
	/*
	 * With a secret: sign body in place, or set *url to the address to
	 * use instead of the configured one (malloc()ed).
	 */
	int		(*sign)(const struct chatbot *,
			    const struct dutyd_message *, json_t *body,
			    char **url);
};

/* One configured robot channel. */
struct chatbot {
	const struct chatbot_vendor *vendor;
	const struct chatbot_style *style;
	char		*url;
	char		*secret;	/* NULL: the robot does not sign */
	EVP_MAC_CTX	*hmac;		/* keyed with secret, if hmac_digest */
};

/* The plugin functions, but for the vendor that configure() and parse() need. */
int	chatbot_configure(const struct chatbot_vendor *,
	    const struct dutyd_option *opts, size_t nopts, void **state,
	    struct dutyd_error *err);
void	chatbot_release(void *state);
int	chatbot_build(void *state, const struct dutyd_message *msg,
	    struct dutyd_request *req);
/*
 * The vendor's code decides a 2xx; a 2xx without one is somebody else's
 * page.  Otherwise HTTP decides (429 and 5xx retry, the rest fail), unless
 * the vendor says it is rate limited.
 */
int	chatbot_parse(const struct chatbot_vendor *,
	    const struct dutyd_response *resp, struct dutyd_result *res);

/* "<ts>\n<secret>", the string DingTalk and Feishu sign, as spans. */
void	chatbot_sign_spans(const struct chatbot *, const char *ts,
	    struct pluglib_span spans[3]);

#pragma GCC visibility pop

#endif
