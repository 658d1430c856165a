/*
 * The HTTP server: listening, routing, authentication and JSON replies
 * (conn.c holds the connections and their limits).  The routes are routes.c's; handlers api.c's, smsgw.c's
 * and onetap.c's.
 */
#ifndef DUTYD_HTTP_H
#define DUTYD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "parse/sesstoken.h"

struct event_base;
struct conn_request;
struct config;
struct config_office;
struct config_person;

/* What a handler gets: the request, who made it, and the path parameter. */
struct http_call {
	struct conn_request		*req;
	const struct config_office	*office;	/* for office routes */
	const struct config_person	*person;	/* for staff routes */
	char				 param[600];	/* the {id} in the path (a link token is up to 512) */
	const char			*body;		/* NUL-terminated */
	size_t				 body_len;
	/* Signed in by the console's cookie (intake/session.c), not a token. */
	int				 by_session;
	unsigned char			 session_id[SESSTOKEN_ID_LEN];
	int64_t				 session_expiry_ms;
	/*
	 * Let through by a standby's gate (/healthz, /metrics): it records
	 * nothing and a standby commits nothing, so a 2xx goes out at once.
	 */
	int				 on_standby;
};

/* Who may call a route. */
enum http_auth {
	HTTP_AUTH_NONE,		/* the handler checks (a signature, a secret, a link) */
	HTTP_AUTH_OFFICE,	/* a county office: Authorization: Bearer <office token> */
	HTTP_AUTH_PERSON,	/* duty-room staff: Authorization: Bearer <person token> */
	HTTP_AUTH_REPORTER,	/* an office, or staff taking its report by phone: either token */
	HTTP_AUTH_ANY,		/* a person or an office, by token or console session */
};

struct http_route {
	const char	*method;	/* "GET", "POST" */
	const char	*path;		/* "{id}" matches one segment */
	enum http_auth	 auth;
	void		(*handler)(struct http_call *);
};

/*
 * Serves ROUTES (kept, not copied) on cfg->listen or the socket systemd
 * passed, and on tls.listen when the configuration has one.
 */
int	http_init(struct event_base *, const struct config *,
	    const struct http_route *routes, size_t nroutes, char *err,
	    size_t errlen);
/*
 * A standby (on): every request but GET /healthz and GET /metrics is
 * answered 503 with Retry-After: 1 and {"error", "field", "error_zh",
 * "role": "standby", "leader"} before routing or authentication, so no
 * handler (and no state module, which a standby has not started) runs.
 * Off (the default): requests go to their routes.  role_set() calls it.
 * On before http_init(): the console's session key (a store secret) is
 * read only when it goes off, so the store must be open by then.
 */
void	http_set_standby(int on);
int	http_standby(void);
/* The leader's instance the 503 names ("" or NULL: not known); copied, cut at 64. */
void	http_set_leader_name(const char *name);
/* How many sockets systemd passed (0: dutyd bound `listen`), for reexec_self(). */
int	http_passed_fds(void);
/*
 * A reload: whether the new configuration can be taken without a restart
 * (0, or -1 with why: tls.listen changed, the new TLS pair is unusable),
 * then its limits and TLS pair in force.
 */
int	http_can_reload(const struct config *old, const struct config *cfg,
	    char *why, size_t whylen);
void	http_reconfigure(const struct config *);
void	http_shutdown(void);
/*
 * An orderly stop, first: no more connections are accepted.  A socket
 * systemd passed stays open in systemd (or whoever passed it), so
 * connections wait in its backlog for the next dutyd; those accepted
 * already are answered while the loop drains.  http_busy() says whether a
 * reply waits for a sync or there was a request or reply in the last
 * QUIET_MS.
 */
void	http_stop_accepting(void);
int	http_busy(int64_t quiet_ms);
/*
 * A reload changed `listen`: binds the new address, then closes the old
 * listener; connections already accepted go on.  Sockets systemd passed
 * are kept (a warning says to change dutyd.socket).  0, or -1 with err
 * set and the old address still served.
 */
int	http_relisten(const struct config *cfg, const struct config *old,
	    char *err, size_t errlen);
/*
 * For handlers that authenticate themselves (SMS gateways, links): 1 after
 * answering 429 when the peer failed too often, else 0.
 */
int	http_auth_throttled(struct http_call *);

/* A 2xx goes out only after the audit records before it are durable. */
void	http_reply(struct http_call *, int status, json_t *body);
/* The same with a body already serialized (copied). */
void	http_reply_text(struct http_call *, int status, const char *json);
/* A body that is not JSON (TwiML, HTML): CONTENT_TYPE must be a static string. */
void	http_reply_as(struct http_call *, int status, const char *content_type,
	    const char *body);
/*
 * A one-tap link's HTML page (freed here): its URL is a credential, kept
 * out of Referer headers; NULL (out of memory) answers 503 in Chinese.
 */
void	http_reply_link_page(struct http_call *, int status, char *page);
/* The peer's address ("127.0.0.1"), the method, and the request URI as sent ("/a/x?y"). */
const char *http_peer(struct http_call *);
const char *http_method(struct http_call *);
const char *http_uri(struct http_call *);
/* Errors: {"error": "...", "field": "..."|null}. */
void	http_error(struct http_call *, int status, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * The same with the Chinese sentence given (NULL: errzh.c's): for
 * endpoints whose field names mean something else elsewhere ("reason").
 */
void	http_error_zh(struct http_call *, int status, const char *field,
	    const char *error_zh, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	http_set_header(struct http_call *, const char *name, const char *value);
const char *http_header(struct http_call *, const char *name);
/* The request's query parameter, or NULL. Caller frees. */
char	*http_query(struct http_call *, const char *name);
/*
 * Checks that the body is JSON (Content-Type) and within REPORT_BODY_MAX;
 * answers 413/415 itself and returns -1, else 0.
 */
int	http_want_json(struct http_call *, int required);

#endif
