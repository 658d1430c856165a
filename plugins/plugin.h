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
 * Functions return 0 on success or a negative errno value.
 */
#ifndef DUTYD_PLUGIN_H
#define DUTYD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define DUTYD_PLUGIN_ABI	1
#define DUTYD_PLUGIN_SYMBOL	"dutyd_plugin"
#define DUTYD_MAX_HEADERS	16
#define DUTYD_ERROR_MAX		256

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
	const char	*event;		/* "incident.new", "incident.escalated", ... */
	const char	*delivery_id;	/* stable across retries: receivers dedup on it */
	const char	*incident_json;	/* the incident as GET /api/v1/incidents returns it (compact JSON) */
	const char	*text;		/* a human-readable summary, UTF-8 */
	const char	*url;		/* link to the incident */
	struct dutyd_recipient recipient;
	int64_t		 now_ms;	/* wall clock, for vendor timestamps and signatures */
};

/*
 * Built by build().  Every pointer is allocated with malloc() by the plugin
 * and released with free() by the daemon, also when build() fails.
 */
struct dutyd_request {
	char		 method[8];	/* "POST", "GET", ... */
	char		*url;
	char		*headers[DUTYD_MAX_HEADERS];	/* "Name: value" */
	size_t		 nheaders;
	char		*body;
	size_t		 body_len;
};

struct dutyd_response {
	long		 status;	/* HTTP status, 0 when there was no response */
	const char	*error;		/* transport error text, NULL when a response came */
	const char	*content_type;	/* may be NULL */
	const char	*body;		/* NUL-terminated, possibly truncated by the daemon */
	size_t		 body_len;
};

enum dutyd_outcome {
	DUTYD_DELIVERED = 1,	/* the vendor accepted the message */
	DUTYD_RETRY,		/* try again later (backoff is the daemon's) */
	DUTYD_FAILED,		/* will never succeed as configured: do not retry */
};

struct dutyd_result {
	enum dutyd_outcome outcome;
	char		 detail[DUTYD_ERROR_MAX];	/* why, for the audit log */
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
};

#endif
