/*
 * Configuration is a value: confload() parses and validates a YAML file
 * into an immutable struct config; a reload builds a new one and installs it
 * only when it is valid.  Nothing keeps pointers into a config across a loop
 * turn except through config_ref(): look people and channels up by id.
 */
#ifndef DUTYD_CONFIG_H
#define DUTYD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/netaddr.h"

struct calendar;
struct channel_plugin;
struct roster;
struct tmpl;
struct tz;

/* `templates:` entries: an event name ("incident.new") or "<event>.title". */
struct config_template {
	char		*key;
	struct tmpl	*tmpl;
};

struct config_templates {
	struct config_template *v;
	size_t		 n;
};

/* SHA-256 of a bearer token: what lookups compare (`token:` or `token_sha256:`). */
#define CONFIG_TOKEN_MD		32

struct config_office {
	char		*id;
	char		*name;
	char		*token;		/* bearer token for POST /api/v1/reports; NULL with token_sha256 */
	unsigned char	 token_md[CONFIG_TOKEN_MD];
	char		**phones;	/* `phones:`, normalised: an SMS from one is a report */
	size_t		 nphones;
	struct config_contact *contacts;	/* `contacts:`, as a person's: how the office is told */
	size_t		 ncontacts;
};

struct config_contact {
	char		*channel;	/* a key of `channels` */
	char		*to;		/* address on that channel */
};

struct config_person {
	char		*id;
	char		*name;
	char		*token;		/* bearer token for staff actions; NULL with token_sha256 */
	unsigned char	 token_md[CONFIG_TOKEN_MD];
	struct config_contact *contacts;
	size_t		 ncontacts;
	/* `phones:` and the `to` of SMS contacts, normalised: replies from them act as this person */
	char		**phones;
	size_t		 nphones;
	/* `min_level`: told of a new incident only at this level or above (1 = I); 0: all */
	int		 min_level;
};

struct config_channel {
	char		*name;		/* the key under `channels` */
	char		*plugin_name;	/* `plugin:` */
	/* Daemon-side options (the rest go to the plugin); see confchan.c. */
	int64_t		 timeout_ms;	/* `timeout:` per attempt, default 15s */
	int64_t		 connect_timeout_ms;	/* `connect_timeout:`, default 5s */
	int64_t		 rate_count;	/* `rate_limit: COUNT/PERIOD`; 0: unlimited */
	int64_t		 rate_period_ms;
	int		 bundle_after;	/* `bundle_after:` queued messages sent as one, default 5 */
	int		 max_segments;	/* `max_segments:` for SMS plugins, default 3 */
	char		*ca_file;	/* `ca_file:` CA certificates for https/smtps; NULL: the system's */
	struct config_templates templates;	/* `templates:` of this channel */
	struct channel_plugin *plugin;	/* loaded .so, owned */
	void		*state;		/* from the plugin's configure(), owned */
};

struct config_duty {
	char		**officers;	/* person ids */
	size_t		 nofficers;
	char		*leader;	/* person id */
	char		**escalation;	/* person ids, may be empty */
	size_t		 nescalation;
};

/* One escalation level beyond the first (the leader on duty at ack_timeout). */
struct config_level {
	int64_t		 after_ms;	/* after the previous level fired */
	char		**notify;	/* person ids; "leader": the leader on duty then */
	size_t		 nnotify;
};

struct config_policy {
	int64_t		 ack_timeout_ms;	/* `ack_timeout`, default 20m */
	int64_t		 report_deadline_ms;	/* `report_deadline`, default 40m */
	int64_t		 county_deadline_ms;	/* `county_deadline`, default 20m: late_report threshold */
	int64_t		 retry_initial_ms;	/* `retry_initial`, default 1s */
	int64_t		 retry_max_ms;		/* `retry_max`, default 5m */
	int64_t		 retry_give_up_ms;	/* `retry_give_up` after the first attempt; 0 (`never`, the default) */
	int64_t		 fallback_after_ms;	/* `fallback_after`, default 60s: retry one contact this long, then the next */
	/* The written report's approval (confwreport.c reads these two). */
	unsigned	 approval_levels;	/* `approval_levels`: bit 1 << level (I = 1); default I, II */
	char		**approvers;	/* `approvers`: "leader", "officers" or person ids; default [leader] */
	size_t		 napprovers;
	int64_t		 report_reminder_ms;	/* `report_reminder`, default 10m before report_deadline; 0: none */
	struct config_level *levels;	/* `escalation:` levels 2, 3, ... */
	size_t		 nlevels;
};

struct config_audit {
	int64_t		 segment_size;	/* `segment_size` bytes, default 64 MiB (min 4 KiB) */
	int64_t		 retention_ms;	/* `retention`, default 30d: resolved incidents older are not loaded */
	int64_t		 reserve;	/* `reserve` bytes, default 8 MiB, 0: none */
};

/* `sms:`: inbound SMS gateways (see confsms.c). */
struct config_sms {
	char		*twilio_token;	/* `twilio.auth_token`: verifies X-Twilio-Signature; NULL: endpoint off */
	char		*aliyun_secret;	/* `aliyun.secret`: required as ?secret= on the push URL */
	char		**aliyun_allow;	/* `aliyun.allow`: source addresses that need no secret */
	size_t		 naliyun_allow;
	char		*aliyun_reply_channel;	/* `aliyun.reply_channel`: answers go out there; NULL: none */
	int		 aliyun_on;	/* the `aliyun:` block is present */
	int64_t		 reply_count;	/* `reply_limit` per phone, default 5/min */
	int64_t		 reply_period_ms;
};

/* `links:` one-tap acknowledgement links. */
struct config_links {
	int64_t		 ttl_ms;	/* `ttl`, default 24h */
};

/* `metrics:`: who may read GET /metrics. */
#define CONFIG_METRICS_ALLOW_MAX	64
struct config_metrics {
	struct netaddr	 allow[CONFIG_METRICS_ALLOW_MAX];	/* default: loopback */
	size_t		 nallow;
};

/* `limits:` what one peer may hold (see docs/security.md). */
struct config_limits {
	int		 connections;		/* `connections`, default 1024 */
	int		 connections_per_source;	/* default 64 */
	int64_t		 header_timeout_ms;	/* the whole request head, default 10s */
	int64_t		 body_timeout_ms;	/* the whole body after the head, default 30s */
	int64_t		 idle_timeout_ms;	/* a keep-alive connection between requests, default 60s */
	int64_t		 auth_count;		/* `auth_failures` COUNT/PERIOD, default 20/min */
	int64_t		 auth_period_ms;
};

/* `console:` the web console (see docs/console.md). */
struct config_console {
	int64_t		 session_ttl_ms;	/* `session_ttl`, default 12h: how long a sign-in lasts */
	int		 max_streams;		/* `max_streams`, default 64: GET /api/v1/stream at once */
	int64_t		 keepalive_ms;		/* `keepalive`, default 15s: a stream's comment when quiet */
};

/* `province:` whom the written report goes to (confwreport.c). */
struct config_province {
	char		*name;		/* the addressee; NULL: not said */
	struct config_contact *contacts;	/* tried in order, as a person's */
	size_t		 ncontacts;
};
/* `directives:` leaders' written instructions (see docs/directives.md). */
#define CONFIG_DIRECTIVE_DUE_DEFAULT	(7 * 86400000LL)	/* 办结: within a week */
#define CONFIG_DIRECTIVE_REMIND_DEFAULT	(9 * 60)		/* 09:00 */
struct config_directives {
	int64_t		 default_due_ms;	/* `default_due`, default 7d: due without a date */
	int		 remind_at_min;		/* `remind_at`, default "09:00": local minutes of the day */
};

/*
 * `store:` where the records live.  postgresql NULL: the file log in
 * state_dir (the default).  Else the `store.postgresql` block: a table in
 * PostgreSQL, shared by every instance, one of them the leader
 * (docs/high-availability.md).
 */
#define CONFIG_PG_LEASE_DEFAULT	5000LL		/* 5s */
#define CONFIG_PG_LEASE_MIN	1000LL		/* 1s */
#define CONFIG_PG_LEASE_MAX	60000LL		/* 60s */
struct config_pg {
	char		*conninfo;	/* libpq conninfo or URI, as written */
	char		*instance;	/* `instance`; default: the host name */
	int64_t		 lease_ms;	/* `lease`: how soon a standby takes over */
};

/* `tls:` an HTTPS listener; listen NULL: none. */
struct config_tls {
	char		*listen;	/* "host:port" as written */
	char		*listen_host;
	uint16_t	 listen_port;
	char		*certificate;	/* paths as written */
	char		*key;
	char		*cert_pem;	/* their contents, read and checked at load */
	char		*key_pem;
	size_t		 cert_len, key_len;
};

struct config {
	int		 refs;
	char		*path;		/* the file it was read from */
	char		*listen;	/* "host:port" as written */
	char		*listen_host;	/* "127.0.0.1", "::1" (no brackets) */
	uint16_t	 listen_port;
	char		*state_dir;
	char		*plugin_dir;	/* default: DUTYD_PLUGIN_DIR, where make install puts them */
	char		*public_url;	/* no trailing slash */
	char		*timezone;	/* as written; NULL: the system's */
	struct tz	*tz;		/* that zone, loaded (times are shown in it) */
	struct config_office *offices;
	size_t		 noffices;
	struct config_person *people;
	size_t		 npeople;
	struct config_duty duty;
	struct config_channel *channels;
	size_t		 nchannels;
	struct config_policy policy;
	struct config_audit audit;	/* the optional `audit:` section */
	struct config_templates templates;	/* top-level `templates:` */
	struct roster	*roster;	/* `roster:`; NULL: the static duty block */
	void		(*roster_release)(struct roster *);	/* set by whoever made it */
	struct config_sms sms;
	struct config_links links;
	struct config_metrics metrics;
	struct config_limits limits;
	struct config_tls tls;
	struct config_console console;
	char		*organization;	/* `organization`: who we are; NULL: not said */
	struct config_province province;
	struct calendar	*calendar;	/* `calendar:`; never NULL (empty: weekends off) */
	struct config_directives directives;
	struct config_pg *postgresql;	/* `store.postgresql`; NULL: the file log */
	/* What the file holds that others must not read (confcheck.c warns). */
	int		 plain_tokens;	/* `token:` in clear */
	int		 other_secrets;	/* SMS gateway secrets, channel secrets */
};

/* Every problem found, one line each, "FILE:LINE:COLUMN: message". */
struct config_diag {
	char		**lines;
	size_t		 n;
};

/*
 * A config being built (refs 1, PATH copied; confload.c fills it), its
 * token index once complete (0 or -ENOMEM), and its end.  A token's
 * digest: 0, or -ENOMEM.
 */
int		 config_token_digest(const char *token,
		    unsigned char md[CONFIG_TOKEN_MD]);
struct config	*config_new(const char *path);
int		 config_index_tokens(struct config *);
void		 config_free(struct config *);
void		 config_diag_free(struct config_diag *);
void		 config_templates_free(struct config_templates *);
const struct tmpl *config_template_find(const struct config_templates *,
		    const char *key);

struct config	*config_ref(struct config *);
void		 config_unref(struct config *);	/* accepts NULL */

/*
 * The configuration in force.  config_install() takes over the caller's
 * reference and drops the previous config's; code that needs a config
 * beyond the current loop turn takes its own config_ref().
 */
struct config	*config_current(void);
void		 config_install(struct config *);

/* Lookups; NULL when absent.  Token comparison is constant-time. */
const struct config_office  *config_office(const struct config *, const char *id);
const struct config_office  *config_office_by_token(const struct config *, const char *token);
const struct config_person  *config_person(const struct config *, const char *id);
const struct config_person  *config_person_by_token(const struct config *, const char *token);
const struct config_channel *config_channel(const struct config *, const char *name);
/*
 * Both of the by_token lookups from one digest of TOKEN, each NULL when
 * absent: what every request's Authorization asks.
 */
void	config_by_token(const struct config *, const char *token,
	    const struct config_office **office,
	    const struct config_person **person);
/* By a normalised phone number ("+8613800138000"). */
const struct config_office  *config_office_by_phone(const struct config *, const char *phone);
const struct config_person  *config_person_by_phone(const struct config *, const char *phone);
/*
 * The template for KEY ("incident.new", "incident.new.title") on channel
 * CH (may be NULL): the channel's own, else the top-level one, else NULL
 * (the caller falls back to the built-in default).
 */
const struct tmpl *config_template(const struct config *,
	    const struct config_channel *ch, const char *key);

#endif
