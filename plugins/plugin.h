/*
 * dutyd channel plugin ABI.  This is the only header a plugin includes.
 *
 * A plugin is pure: it turns (message, recipient, channel options) into an
 * HTTP request, and an HTTP response into an outcome.  It never blocks, never
 * opens sockets, never reads the clock and does not log: the daemon owns
 * transport, timeouts, retries, backoff and the audit log.
 *
 * A plugin is a shared object exporting one symbol, DUTYD_PLUGIN_SYMBOL, of
 * type `const struct dutyd_plugin`.  The daemon refuses to load a plugin whose
 * `abi` differs from DUTYD_PLUGIN_ABI or whose `size` is smaller than the
 * struct it knows.  Bump DUTYD_PLUGIN_ABI on any incompatible change.
 *
 * Export that symbol alone: mark it DUTYD_PLUGIN_EXPORT and build with
 * -fvisibility=hidden, so the plugin's own functions and the libraries
 * linked into it cannot clash with the daemon's or another plugin's:
 *
 *	DUTYD_PLUGIN_EXPORT const struct dutyd_plugin dutyd_plugin = { ... };
 *
 * A plugin built without -fvisibility=hidden exports everything, the
 * symbol included, and loads with or without the macro.
 *
 * Functions return 0 on success or a negative errno value.
 */
#ifndef DUTYD_PLUGIN_H
#define DUTYD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define DUTYD_PLUGIN_ABI	2
#define DUTYD_PLUGIN_SYMBOL	"dutyd_plugin"
#define DUTYD_MAX_HEADERS	16
#define DUTYD_MAX_RCPT		16	/* SMTP envelope recipients of one request */
#define DUTYD_ERROR_MAX		256

#if defined(__GNUC__) || defined(__clang__)
#define DUTYD_PLUGIN_EXPORT	__attribute__((visibility("default")))
#else
#define DUTYD_PLUGIN_EXPORT
#endif

/* struct dutyd_plugin.flags */
#define DUTYD_PLUGIN_GROUP	0x1	/* one shared destination (a group robot): recipients are mentions, so the daemon may bundle different people into one message */
#define DUTYD_PLUGIN_SMS	0x2	/* the text goes out as SMS: the daemon fits it to the channel's segment limit first */

/* One `key: value` from the channel's section of the config (values are scalars). */
struct dutyd_option {
	const char	*key;
	const char	*value;
};

/* Filled by configure() on failure: which option is wrong (-1: the section as a whole). */
struct dutyd_error {
	int		 option;
	char		 message[DUTYD_ERROR_MAX];
};

struct dutyd_recipient {
	const char	*id;		/* person id from the config */
	const char	*name;		/* display name */
	const char	*to;		/* channel address: phone, user id, ... */
};

struct dutyd_message {
	const char	*event;		/* "incident.new", "incident.escalated", ... ("dutyd.bundle" for a bundle) */
	const char	*delivery_id;	/* stable across retries: receivers dedup on it */
	const char	*incident_json;	/* the incident as GET /api/v1/incidents returns it (compact JSON); for a bundle, the first one */
	const char	*title;		/* one line, UTF-8: email subject, markdown title */
	const char	*text;		/* the rendered template, UTF-8 (already fitted to SMS segments for DUTYD_PLUGIN_SMS) */
	const char	*url;		/* link to the incident */
	struct dutyd_recipient recipient;	/* == recipients[0] */
	/*
	 * Everyone this one message is for: a single person, or, for a
	 * DUTYD_PLUGIN_GROUP channel bundling queued messages, several (each
	 * to be mentioned once).  Never NULL, nrecipients >= 1.
	 */
	const struct dutyd_recipient *recipients;
	size_t		 nrecipients;
	int64_t		 now_ms;	/* wall clock, for vendor timestamps, signatures, Date headers */
};

/*
 * Built by build().  Every pointer is allocated with malloc() by the plugin
 * and released with free() by the daemon, also when build() fails.
 */
enum dutyd_tls {
	DUTYD_TLS_DEFAULT = 0,	/* as the URL scheme says: https/smtps TLS, http/smtp plain */
	DUTYD_TLS_REQUIRED,	/* smtp://: STARTTLS or fail, never plain text */
};

struct dutyd_request {
	char		 method[8];	/* "POST", "GET", ...; ignored for smtp(s):// */
	char		*url;		/* http, https, smtp or smtps only */
	char		*headers[DUTYD_MAX_HEADERS];	/* "Name: value" (HTTP only) */
	size_t		 nheaders;
	char		*body;		/* HTTP body, or the whole RFC 5322 message for SMTP */
	size_t		 body_len;
	char		*username;	/* HTTP basic auth or SMTP AUTH; NULL: none */
	char		*password;
	char		*mail_from;	/* SMTP envelope sender, e.g. "<duty@example.org>" */
	char		*mail_rcpt[DUTYD_MAX_RCPT];	/* SMTP envelope recipients */
	size_t		 nrcpt;
	enum dutyd_tls	 tls;
};

struct dutyd_response {
	long		 status;	/* HTTP status, 0 when there was no response */
	const char	*error;		/* transport error text, NULL when a response came */
	const char	*content_type;	/* may be NULL */
	const char	*body;		/* NUL-terminated, possibly truncated by the daemon */
	size_t		 body_len;
	int64_t		 retry_after_ms;	/* from a Retry-After header; 0: none */
};

enum dutyd_outcome {
	DUTYD_DELIVERED = 1,	/* the vendor accepted the message */
	DUTYD_RETRY,		/* try again later (backoff is the daemon's) */
	DUTYD_FAILED,		/* will never succeed as configured: do not retry */
};

struct dutyd_result {
	enum dutyd_outcome outcome;
	char		 detail[DUTYD_ERROR_MAX];	/* why, for the audit log: vendor code and message */
	int64_t		 retry_after_ms;	/* DUTYD_RETRY: not before this (vendor said so); 0: daemon's backoff */
};

struct dutyd_plugin {
	uint32_t	 abi;		/* DUTYD_PLUGIN_ABI */
	uint32_t	 size;		/* sizeof(struct dutyd_plugin) */
	const char	*name;
	const char	*description;
	/* Validate the options and make the channel state.  Unknown keys are errors. */
	int		(*configure)(const struct dutyd_option *opts, size_t nopts,
			    void **state, struct dutyd_error *err);
	void		(*release)(void *state);	/* accepts NULL */
	int		(*build)(void *state, const struct dutyd_message *msg,
			    struct dutyd_request *req);
	int		(*parse)(void *state, const struct dutyd_response *resp,
			    struct dutyd_result *res);
	uint32_t	 flags;		/* DUTYD_PLUGIN_GROUP, DUTYD_PLUGIN_SMS */
	uint32_t	 rate_per_min;	/* the vendor's documented limit per channel; 0: none (config may set one) */
};

#endif
