/*
 * The HTTP server.  Routes come from one table (routes.c): method, path,
 * who may call it.  Authentication, limits and the JSON error format are
 * here so that the handlers only do their own work.
 *
 * Replies with a 2xx wait for store_commit(): nobody hears "saved" before
 * the record is on disk.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/authfail.h"
#include "intake/conn.h"
#include "intake/errzh.h"
#include "intake/http.h"
#include "intake/sessauth.h"
#include "intake/tls.h"
#include "parse/report.h"
#include "store/store.h"

struct http_pending {
	struct conn_request	*req;
	int			 status;
	const char		*content_type;	/* static string */
	char			*body;
	struct store_waiter	 waiter;
};

static struct conn_listener	*http_bound;	/* `listen`, when dutyd binds it */
static int			 http_activated;	/* sockets systemd passed */
static size_t			 http_npending;	/* replies waiting for a sync */
static int64_t			 http_last_active;	/* a request or a reply, ms */
static const struct http_route	*http_routes;
static size_t			 http_nroutes;
static int			 http_standby_on;	/* http_set_standby() */
static char			 http_leader[65];	/* the leader's instance; "" unknown */

#define HTTP_JSON	"application/json; charset=utf-8"

static void
http_send(struct conn_request *req, int status, const char *content_type,
    const char *body)
{
	size_t	 len = strlen(body);
	char	*buf;

	conn_request_add_header(req, "Cache-Control", "no-store");
	http_last_active = time_now_ms();
	log_debug("%s %s -> %d", conn_request_method(req), conn_request_url(req),
	    status);
	/* JSON ends with a newline, for people reading it in a terminal. */
	if (strcmp(content_type, HTTP_JSON) != 0 ||
	    (buf = malloc(len + 2)) == NULL) {
		conn_reply(req, status, content_type, body, len);
		return;
	}
	memcpy(buf, body, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	conn_reply(req, status, content_type, buf, len + 1);
	free(buf);
}

static void
http_out_of_memory(struct conn_request *req)
{
	static const char text[] = "{\"error\":\"dutyd is out of memory; retry "
	    "shortly\",\"field\":null}\n";

	conn_reply(req, 503, HTTP_JSON, text, sizeof(text) - 1);
}

static void
http_durable(void *arg, int status)
{
	struct http_pending *p = arg;

	if (status == 0)
		http_send(p->req, p->status, p->content_type, p->body);
	else {
		char	*msg = NULL;
		json_t	*err = NULL;

		/* Do not say "saved" when the disk did not confirm it. */
		err = json_pack("{s:s, s:n, s:s}", "error", "the change could not be "
		    "confirmed on disk (fdatasync failed); it may not be saved. "
		    "Retry with the same Idempotency-Key, and tell the duty room "
		    "by phone if this persists", "field", "error_zh",
		    "值班系统未能确认本次操作已保存。请用同一幂等键重试；如持续出现，请电话"
		    "联系值班室。");
		if (err != NULL)
			msg = json_dumps(err, JSON_COMPACT);
		http_send(p->req, 503, HTTP_JSON, msg != NULL ? msg : "{}");
		free(msg);
		json_decref(err);
	}
	free(p->body);
	free(p);
	http_npending--;
}

static void
http_reply_take(struct http_call *call, int status, const char *content_type,
    char *text)
{
	struct http_pending *p;

	if (text == NULL) {
		http_out_of_memory(call->req);
		return;
	}
	if (status >= 300 || call->on_standby) {
		http_send(call->req, status, content_type, text);
		free(text);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		free(text);
		http_out_of_memory(call->req);
		return;
	}
	http_npending++;
	p->req = call->req;
	p->status = status;
	p->content_type = content_type;
	p->body = text;
	store_wait(&p->waiter, http_durable, p);
}

void
http_reply(struct http_call *call, int status, json_t *body)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : strdup("{}");

	json_decref(body);
	http_reply_take(call, status, HTTP_JSON, text);
}

void
http_reply_text(struct http_call *call, int status, const char *json)
{
	http_reply_take(call, status, HTTP_JSON, json != NULL ? strdup(json) :
	    NULL);
}

void
http_reply_as(struct http_call *call, int status, const char *content_type,
    const char *body)
{
	http_reply_take(call, status, content_type, body != NULL ?
	    strdup(body) : NULL);
}

void
http_reply_link_page(struct http_call *call, int status, char *page)
{
	static const char html[] = "text/html; charset=utf-8";

	http_set_header(call, "Referrer-Policy", "no-referrer");
	if (page == NULL)
		http_reply_as(call, 503, html, "<!DOCTYPE html><meta "
		    "charset=\"utf-8\"><p>服务器内存不足，请稍后重试。</p>");
	else
		http_reply_as(call, status, html, page);
	free(page);
}

const char *
http_peer(struct http_call *call)
{
	return conn_request_peer(call->req);
}

const char *
http_method(struct http_call *call)
{
	return conn_request_method(call->req);
}

const char *
http_uri(struct http_call *call)
{
	return conn_request_url(call->req);
}

static void
http_verror(struct http_call *call, int status, const char *field,
    const char *error_zh, const char *fmt, va_list ap)
{
	char	 msg[1024], zh[256];
	json_t	*body;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	body = json_pack("{s:s, s:s?, s:s}", "error", msg, "field", field,
	    "error_zh", error_zh != NULL ? error_zh :
	    errzh_sentence(status, field, zh, sizeof(zh)));
	if (body != NULL && field == NULL)
		json_object_set_new(body, "field", json_null());
	http_reply(call, status, body);
}

void
http_error(struct http_call *call, int status, const char *field,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	http_verror(call, status, field, NULL, fmt, ap);
	va_end(ap);
}

void
http_error_zh(struct http_call *call, int status, const char *field,
    const char *error_zh, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	http_verror(call, status, field, error_zh, fmt, ap);
	va_end(ap);
}

void
http_set_header(struct http_call *call, const char *name, const char *value)
{
	conn_request_add_header(call->req, name, value);
}

const char *
http_header(struct http_call *call, const char *name)
{
	return conn_request_header(call->req, name);
}

char *
http_query(struct http_call *call, const char *name)
{
	struct evhttp_uri	*uri;
	const char		*query, *v;
	struct evkeyvalq	 params;
	char			*out = NULL;

	uri = evhttp_uri_parse_with_flags(conn_request_url(call->req),
	    EVHTTP_URI_NONCONFORMANT);
	if (uri == NULL || (query = evhttp_uri_get_query(uri)) == NULL) {
		evhttp_uri_free(uri);
		return NULL;
	}
	TAILQ_INIT(&params);
	if (evhttp_parse_query_str(query, &params) == 0 &&
	    (v = evhttp_find_header(&params, name)) != NULL)
		out = strdup(v);
	evhttp_clear_headers(&params);
	evhttp_uri_free(uri);
	return out;
}

/* "application/json", "application/json; charset=utf-8", "application/x+json". */
static int
http_is_json_type(const char *ct)
{
	size_t	 n;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, "; \t");
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	return n > 5 && strncasecmp(ct, "application/", 12) == 0 &&
	    strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int
http_want_json(struct http_call *call, int required)
{
	const char *ct = http_header(call, "Content-Type");

	if (call->body_len == 0 && !required)
		return 0;
	if (ct != NULL && !http_is_json_type(ct)) {
		http_error(call, 415, NULL, "the body must be JSON: send it with "
		    "Content-Type: application/json (got %.100s)", ct);
		return -1;
	}
	return 0;
}

/* Matches a path against a pattern; "{id}" takes one segment into param. */
static int
http_match(const char *pattern, const char *path, char *param, size_t len)
{
	while (*pattern != '\0') {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= len)
				return 0;
			memcpy(param, path, n);
			param[n] = '\0';
			path += n;
			pattern += 4;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

static int
http_changes(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "OPTIONS") != 0;
}

/*
 * The console's session cookie for ROUTE: 0 with who it stands for, or
 * -1 answered.  Only a cookie dutyd did not sign counts as a failed
 * authentication: one that expired or was signed out is no guess, and
 * a console left open would otherwise lock its address out.
 */
static int
http_session(struct http_call *call, const struct http_route *route,
    const char *cookie, const char *kind)
{
	struct sessauth	 s;
	char		 when[TIME_RFC3339_MAX];
	const char	*csrf;

	switch (sessauth_open(config_current(), cookie, time_now_ms(), &s)) {
	case SESSAUTH_OK:
		break;
	case SESSAUTH_NOMEM:
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return -1;
	case SESSAUTH_FORGED:
		authfail_note(http_peer(call), route->method, route->path);
		http_set_header(call, "WWW-Authenticate", "Bearer realm=\"dutyd\"");
		http_error(call, 401, NULL, "the %s cookie is not one this dutyd "
		    "signed (altered, or from another server): sign in again",
		    SESSAUTH_COOKIE);
		return -1;
	case SESSAUTH_EXPIRED:
		http_set_header(call, "WWW-Authenticate", "Bearer realm=\"dutyd\"");
		http_error(call, 401, NULL, "your console session ended at %s "
		    "(console.session_ttl): sign in again with your token",
		    time_format(s.t.expiry_ms, when, sizeof(when)));
		return -1;
	case SESSAUTH_SIGNED_OUT:
		http_set_header(call, "WWW-Authenticate", "Bearer realm=\"dutyd\"");
		http_error(call, 401, NULL, "this console session was signed out: "
		    "sign in again with your token");
		return -1;
	case SESSAUTH_TOKEN_CHANGED:
		http_set_header(call, "WWW-Authenticate", "Bearer realm=\"dutyd\"");
		http_error(call, 401, NULL, "the token this console session was "
		    "opened with for '%s' was changed or removed from the "
		    "configuration: sign in again with the current token",
		    s.t.subject);
		return -1;
	}
	if ((s.person != NULL && route->auth == HTTP_AUTH_OFFICE) ||
	    (s.office != NULL && route->auth == HTTP_AUTH_PERSON)) {
		http_set_header(call, "WWW-Authenticate", "Bearer realm=\"dutyd\"");
		http_error(call, 401, NULL, "this console session is %s's (%s); %s "
		    "%s needs %s", s.person != NULL ? "a person" : "an office",
		    s.t.subject, route->method, route->path, kind);
		return -1;
	}
	/* A cross-site form can send the cookie, never this header. */
	csrf = http_header(call, SESSAUTH_CSRF_HEADER);
	if (http_changes(http_method(call)) &&
	    !sessauth_csrf_ok(s.t.id, csrf)) {
		http_error(call, 403, SESSAUTH_CSRF_HEADER, "a change made with the "
		    "console's session cookie must carry the header %s with the "
		    "csrf value that signing in answered (GET /api/v1/session "
		    "gives it again); %s", SESSAUTH_CSRF_HEADER, csrf == NULL ?
		    "it is missing" : "the one sent is wrong");
		return -1;
	}
	call->person = s.person;
	call->office = s.office;
	call->by_session = 1;
	memcpy(call->session_id, s.t.id, sizeof(call->session_id));
	call->session_expiry_ms = s.t.expiry_ms;
	return 0;
}

/* Compares every credential, so timing does not tell which one was close. */
static int
http_authenticate(struct http_call *call, const struct http_route *route)
{
	const struct config	*cfg = config_current();
	const struct config_office *office;
	const struct config_person *person;
	enum http_auth		 auth = route->auth;
	const char		*h = http_header(call, "Authorization");
	const char		*token, *kind;
	char			 cookie[SESSTOKEN_MAX + 1];

	kind = auth == HTTP_AUTH_OFFICE ? "an office token" :
	    auth == HTTP_AUTH_REPORTER ? "an office token (or a staff token, "
	    "for a report taken by phone)" : auth == HTTP_AUTH_ANY ?
	    "a staff (person) or office token" : "a staff (person) token";
	/* The console's cookie stands for a token; a token sent wins. */
	if (h == NULL && sessauth_cookie(http_header(call, "Cookie"), cookie,
	    sizeof(cookie)) == 0)
		return http_session(call, route, cookie, kind);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		http_set_header(call, "WWW-Authenticate", "Bearer realm=\"dutyd\"");
		http_error(call, 401, NULL, "missing credentials: send "
		    "'Authorization: Bearer <token>' with %s", kind);
		return -1;
	}
	token = h + 7;
	while (*token == ' ')
		token++;
	config_by_token(cfg, token, &office, &person);	/* one digest */
	if (auth != HTTP_AUTH_PERSON)
		call->office = office;
	if (auth != HTTP_AUTH_OFFICE)
		call->person = person;
	if (call->office == NULL && call->person == NULL) {
		int other = auth == HTTP_AUTH_REPORTER ||
		    auth == HTTP_AUTH_ANY ? 0 :
		    auth == HTTP_AUTH_OFFICE ? person != NULL : office != NULL;

		/* Guessing tokens is limited per source, and recorded. */
		authfail_note(http_peer(call), route->method, route->path);
		http_set_header(call, "WWW-Authenticate",
		    "Bearer realm=\"dutyd\", error=\"invalid_token\"");
		if (other)
			http_error(call, 401, NULL, "this token belongs to %s; "
			    "this endpoint needs %s", auth == HTTP_AUTH_OFFICE ?
			    "a person" : "an office", kind);
		else
			http_error(call, 401, NULL, "unknown token: this endpoint "
			    "needs %s; check the token in your client's settings",
			    kind);
		return -1;
	}
	return 0;
}

/* A source that failed too often waits: 429 with Retry-After. */
int
http_auth_throttled(struct http_call *call)
{
	char	 secs[24];
	int64_t	 wait_ms = authfail_wait(http_peer(call));

	if (wait_ms <= 0)
		return 0;
	snprintf(secs, sizeof(secs), "%lld", (long long)(wait_ms + 999) / 1000);
	http_set_header(call, "Retry-After", secs);
	http_error(call, 429, NULL, "too many failed authentications from %s; "
	    "retry in %s s with the right credentials (the failures are in "
	    "the audit log as auth.refused)", http_peer(call), secs);
	return 1;
}

/*
 * The console's session key is a secret of the store, which a standby has
 * not opened: it is read (again: the same key) when the lead is taken,
 * the store open by then.
 */
void
http_set_standby(int on)
{
	char	err[512];
	int	was = http_standby_on;

	http_standby_on = on != 0;
	if (http_standby_on || !was || http_routes == NULL)
		return;
	if (sessauth_init(err, sizeof(err)) != 0)
		log_errorx("console sign-in is off: cannot read its session key: "
		    "%s; tokens still work, restart dutyd to retry", err);
}

int
http_standby(void)
{
	return http_standby_on;
}

/*
 * The name comes from the database's dutyd_leader row: only the
 * characters an instance may have pass, so the 503 stays valid JSON and
 * a log line stays one line whatever the row holds.
 */
void
http_set_leader_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && name[i] != '\0' &&
	    i < sizeof(http_leader) - 1; i++)
		http_leader[i] = isalnum((unsigned char)name[i]) ||
		    strchr("._-", name[i]) != NULL ? name[i] : '?';
	http_leader[i] = '\0';
}

int
http_passed_fds(void)
{
	return http_activated;
}

/*
 * A standby answers only what a load balancer and monitoring ask; the
 * rest is sent to the leader (Retry-After: 1 covers a failover under
 * way).  Nothing here may touch the state modules: a standby has none.
 */
static int
http_standby_gate(struct http_call *call, const char *path)
{
	const char	*method = conn_request_method(call->req);
	char		 msg[256], zh[256];
	json_t		*body;

	if (!http_standby_on)
		return 0;
	if (path != NULL && strcmp(method, "GET") == 0 &&
	    (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0)) {
		call->on_standby = 1;
		return 0;
	}
	if (http_leader[0] != '\0') {
		snprintf(msg, sizeof(msg), "this dutyd is the standby, not the "
		    "leader; the leader is %s: send requests there (or through "
		    "the load balancer, which asks GET /healthz)", http_leader);
		snprintf(zh, sizeof(zh), "本机是备用值班服务器，当前主服务器为 "
		    "%s，请连接主服务器或稍后重试。", http_leader);
	} else {
		snprintf(msg, sizeof(msg), "this dutyd is the standby, not the "
		    "leader, and no leader is known yet (one is taking over, or "
		    "the database cannot be reached): retry in a second");
		snprintf(zh, sizeof(zh), "本机是备用值班服务器，暂无主服务器（正在"
		    "切换或数据库无法连接），请稍后重试。");
	}
	body = json_pack("{s:s, s:n, s:s, s:s, s:s}", "error", msg, "field",
	    "error_zh", zh, "role", "standby", "leader", http_leader);
	http_set_header(call, "Retry-After", "1");
	http_reply(call, 503, body);
	return 1;
}

static void
http_dispatch(struct conn_request *req)
{
	const struct http_route		*route = NULL;
	const char			*method = conn_request_method(req);
	struct evhttp_uri		*uri;
	struct http_call		 call;
	const char			*path, *body;
	char				 allow[64] = "";
	size_t				 i, len;

	memset(&call, 0, sizeof(call));
	call.req = req;
	http_last_active = time_now_ms();
	uri = evhttp_uri_parse_with_flags(conn_request_url(req),
	    EVHTTP_URI_NONCONFORMANT);
	if (http_standby_gate(&call, uri != NULL ?
	    evhttp_uri_get_path(uri) : NULL)) {
		if (uri != NULL)
			evhttp_uri_free(uri);
		return;
	}
	if (uri == NULL) {
		http_error(&call, 400, NULL, "the request target is not a URL "
		    "path: %.100s", conn_request_url(req));
		return;
	}
	path = evhttp_uri_get_path(uri);
	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < http_nroutes; i++) {
		if (!http_match(http_routes[i].path, path, call.param,
		    sizeof(call.param)))
			continue;
		if (strcmp(http_routes[i].method, method) == 0) {
			route = &http_routes[i];
			break;
		}
		len = strlen(allow);
		snprintf(allow + len, sizeof(allow) - len, "%s%s",
		    len > 0 ? ", " : "", http_routes[i].method);
	}
	if (route == NULL) {
		if (allow[0] != '\0') {
			http_set_header(&call, "Allow", allow);
			http_error(&call, 405, NULL, "%s is not allowed on %s; use %s",
			    method, path, allow);
		} else
			http_error(&call, 404, NULL, "no such endpoint: %.200s", path);
		evhttp_uri_free(uri);
		return;
	}
	evhttp_uri_free(uri);
	if (route->auth != HTTP_AUTH_NONE && (http_auth_throttled(&call) ||
	    http_authenticate(&call, route) != 0))
		return;

	body = conn_request_body(req, &len);
	if (len > REPORT_BODY_MAX) {
		http_error(&call, 413, NULL, "the body is %zu bytes; at most %d "
		    "bytes (64 KiB) are accepted: shorten the text fields", len,
		    REPORT_BODY_MAX);
		return;
	}
	call.body = body;
	call.body_len = len;
	route->handler(&call);
}

/*
 * A socket passed by systemd comes as configured: blocking unless the unit
 * says NonBlocking=yes.  The accept loop needs it non-blocking, or it
 * blocks in accept4() once the backlog is empty and the daemon hangs.
 */
static int
http_passed_socket(int fd, char *err, size_t errlen)
{
	int flags, r;

	if ((r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1)) <= 0) {
		snprintf(err, errlen, "the socket passed by systemd (fd %d) is "
		    "not a listening stream socket%s%s; use ListenStream= in "
		    "dutyd.socket", fd, r < 0 ? ": " : "",
		    r < 0 ? strerror(-r) : "");
		return -1;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    (flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "cannot make the socket passed by systemd "
		    "non-blocking: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* "127.0.0.1:8080", "[::1]:8080": where a passed socket listens, for the log. */
static void
http_sockname(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "fd %d", fd);
		return;
	}
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
}

#define HTTP_LISTEN_MAX	64	/* sockets systemd may pass */

/* Every socket systemd passed (several ListenStream=, IPv4 and IPv6). */
static int
http_take_passed(int n, char *err, size_t errlen)
{
	char	where[NI_MAXHOST + NI_MAXSERV + 8], why[512];
	int	i, fd;

	if (n > HTTP_LISTEN_MAX) {
		snprintf(err, errlen, "systemd passed %d sockets; dutyd takes at "
		    "most %d: list fewer ListenStream= in dutyd.socket", n,
		    HTTP_LISTEN_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		if (http_passed_socket(fd, err, errlen) != 0)
			return -1;
		if (conn_listen_fd(fd, NULL, why, sizeof(why)) == NULL) {
			snprintf(err, errlen, "cannot use the socket passed by "
			    "systemd (fd %d): %s", fd, why);
			return -1;
		}
		http_sockname(fd, where, sizeof(where));
		log_info("listening on %s (a socket passed by systemd)", where);
	}
	http_activated = n;
	return 0;
}

/* The listener, or NULL with err set and errno saying why. */
static struct conn_listener *
http_bind(const struct config *cfg, char *err, size_t errlen)
{
	struct conn_listener	*l;
	char			 why[512];
	uint16_t		 port;
	int			 e;

	l = conn_bind(cfg->listen_host, cfg->listen_port, NULL, &port, why,
	    sizeof(why));
	e = errno;
	if (l == NULL)
		snprintf(err, errlen, "cannot listen on %s: %s; is another dutyd or "
		    "another program using that port? Change `listen` in %s",
		    cfg->listen, why, cfg->path);
	errno = e;
	return l;
}

static int
http_listen(const struct config *cfg, char *err, size_t errlen)
{
	int n;

	/* Socket activation: systemd passes the listening sockets. */
	if ((n = sd_listen_fds(1)) < 0) {
		snprintf(err, errlen, "cannot take the sockets passed by systemd "
		    "(LISTEN_FDS): %s", strerror(-n));
		return -1;
	}
	if (n > 0)
		return http_take_passed(n, err, errlen);
	if ((http_bound = http_bind(cfg, err, errlen)) == NULL)
		return -1;
	log_info("listening on %s", cfg->listen);
	return 0;
}

int
http_relisten(const struct config *cfg, const struct config *old, char *err,
    size_t errlen)
{
	struct conn_listener	*bound;

	if (strcmp(cfg->listen, old->listen) == 0)
		return 0;
	if (http_activated > 0) {
		log_warnx("`listen` changed to %s in %s, but the sockets come from "
		    "systemd: change ListenStream= in dutyd.socket and restart "
		    "dutyd.socket and dutyd instead", cfg->listen, cfg->path);
		return 0;
	}
	/* The new address first, so a failure leaves the old one serving. */
	if ((bound = http_bind(cfg, err, errlen)) == NULL) {
		if (errno != EADDRINUSE || cfg->listen_port != old->listen_port)
			return -1;
		/* 127.0.0.1:8080 to 0.0.0.0:8080: the old one is in the way. */
		conn_unlisten(http_bound);
		http_bound = NULL;
		if ((bound = http_bind(cfg, err, errlen)) == NULL) {
			char again[256];

			if ((http_bound = http_bind(old, again,
			    sizeof(again))) == NULL)
				log_errorx("%s; no longer listening at all: "
				    "restart dutyd", again);
			return -1;
		}
	} else
		conn_unlisten(http_bound);
	/* Connections already accepted go on. */
	http_bound = bound;
	log_info("listening on %s instead of %s", cfg->listen, old->listen);
	return 0;
}

void
http_stop_accepting(void)
{
	conn_unlisten_all();	/* TLS's too */
	http_bound = NULL;
}

int
http_busy(int64_t quiet_ms)
{
	/* A client accepted just before the stop is owed its answer too. */
	return http_npending > 0 || conn_unanswered() > 0 ||
	    time_now_ms() - http_last_active < quiet_ms;
}

int
http_init(struct event_base *base, const struct config *cfg,
    const struct http_route *routes, size_t nroutes, char *err, size_t errlen)
{
	http_routes = routes;
	http_nroutes = nroutes;
	/*
	 * A standby has no store open, hence no session key: main calls
	 * sessauth_init() when it takes the lead (the gate refuses sessions
	 * meanwhile).
	 */
	if (conn_init(base, http_dispatch, err, errlen) != 0 ||
	    authfail_init(err, errlen) != 0 || (!http_standby_on &&
	    sessauth_init(err, errlen) != 0))
		return -1;
	http_reconfigure(cfg);
	if (http_listen(cfg, err, errlen) != 0)
		return -1;
	return tls_listen(base, cfg, err, errlen);
}

int
http_can_reload(const struct config *old, const struct config *cfg,
    char *why, size_t whylen)
{
	return tls_prepare(old, cfg, why, whylen);
}

void
http_reconfigure(const struct config *cfg)
{
	conn_configure(cfg);
	authfail_configure(cfg);
	tls_configure(cfg);
}

void
http_shutdown(void)
{
	conn_shutdown();
	tls_shutdown();
	authfail_shutdown();
	sessauth_shutdown();
	http_bound = NULL;
	http_activated = 0;
	http_routes = NULL;
}
