/*
 * Console sessions (see session.h).  Signing in takes a person's or an
 * office's token once and answers a cookie the browser keeps (HttpOnly:
 * scripts cannot read it) and a CSRF value the console sends back on
 * every change (a cross-site form can send the cookie, never the header).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/authfail.h"
#include "intake/http.h"
#include "intake/sessauth.h"
#include "intake/session.h"
#include "parse/sesstoken.h"
#include "store/store.h"

#define SESSION_TOKEN_MAX	1024	/* bytes of a token signed in with */

/* Set-Cookie for VALUE lasting MAX_AGE seconds (0: clears it). */
static void
session_set_cookie(struct http_call *call, const char *value,
    long long max_age)
{
	const struct config	*cfg = config_current();
	char			 h[SESSTOKEN_MAX + 160];

	snprintf(h, sizeof(h), "%s=%s; HttpOnly; SameSite=Strict; Path=/; "
	    "Max-Age=%lld%s", SESSAUTH_COOKIE, value, max_age,
	    cfg->public_url != NULL && strncasecmp(cfg->public_url, "https:",
	    6) == 0 ? "; Secure" : "");
	http_set_header(call, "Set-Cookie", h);
}

/* {"who", "csrf", "expires_at"} of the call's session. */
static void
session_reply(struct http_call *call)
{
	char	 csrf[SESSTOKEN_CSRF_LEN + 1], at[TIME_RFC3339_MAX];
	json_t	*body;

	if (sessauth_csrf(call->session_id, csrf) != 0) {
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	body = json_pack("{s:{s:s, s:s, s:s}, s:s, s:s}", "who",
	    "kind", call->person != NULL ? "person" : "office",
	    "id", call->person != NULL ? call->person->id : call->office->id,
	    "name", call->person != NULL ? call->person->name :
	    call->office->name, "csrf", csrf, "expires_at",
	    time_format(call->session_expiry_ms, at, sizeof(at)));
	OPENSSL_cleanse(csrf, sizeof(csrf));
	if (body == NULL)
		http_error(call, 503, NULL, "out of memory; retry shortly");
	else
		http_reply(call, 200, body);
}

/* The token of a sign-in body, or NULL after answering 400. */
static const char *
session_body_token(struct http_call *call, json_t **root)
{
	json_error_t	 jerr;
	const char	*token;
	size_t		 n;

	if ((*root = json_loadb(call->body, call->body_len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		http_error(call, 400, NULL, "the body must be a JSON object "
		    "{\"token\": \"<your person or office token>\"}");
		return NULL;
	}
	token = json_string_value(json_object_get(*root, "token"));
	n = token != NULL ? strlen(token) : 0;
	if (n == 0 || n > SESSION_TOKEN_MAX ||
	    n != json_string_length(json_object_get(*root, "token"))) {
		http_error(call, 400, "token", "token must be your person (staff) "
		    "or office token, 1 to %d characters: {\"token\": \"...\"}",
		    SESSION_TOKEN_MAX);
		return NULL;
	}
	return token;
}

void
session_create(struct http_call *call)
{
	const struct config	*cfg = config_current();
	const unsigned char	*md;
	struct sesstoken	 t;
	char			 cookie[SESSTOKEN_MAX + 1], hex[SESSTOKEN_ID_HEX];
	char			 at[TIME_RFC3339_MAX], actor[SESSTOKEN_SUBJECT_MAX + 16];
	const char		*token;
	json_t			*root = NULL, *data;
	int			 rc;

	if (http_auth_throttled(call) || http_want_json(call, 1) != 0)
		return;
	if ((token = session_body_token(call, &root)) == NULL) {
		json_decref(root);
		return;
	}
	call->office = config_office_by_token(cfg, token);
	call->person = config_person_by_token(cfg, token);
	json_decref(root);
	if (call->office == NULL && call->person == NULL) {
		authfail_note(http_peer(call), "POST", "/api/v1/session");
		http_error(call, 401, "token", "unknown token: sign in with your own "
		    "(staff) token or your office's token; the administrator of "
		    "the duty system has them");
		return;
	}
	memset(&t, 0, sizeof(t));
	t.kind = call->person != NULL ? 'P' : 'O';
	md = call->person != NULL ? call->person->token_md :
	    call->office->token_md;
	memcpy(t.digest, md, sizeof(t.digest));
	snprintf(t.subject, sizeof(t.subject), "%s", call->person != NULL ?
	    call->person->id : call->office->id);
	t.expiry_ms = time_now_ms() + cfg->console.session_ttl_ms;
	if ((rc = sessauth_seal(&t, cookie)) != 0) {
		http_error(call, 503, NULL, "cannot open a session now (no "
		    "randomness or out of memory); retry shortly");
		return;
	}
	sesstoken_id_hex(t.id, hex);
	snprintf(actor, sizeof(actor), "%s:%s", call->person != NULL ?
	    "person" : "office", t.subject);
	data = json_pack("{s:s, s:s, s:s, s:s}", "kind", call->person != NULL ?
	    "person" : "office", "session", hex, "expires_at",
	    time_format(t.expiry_ms, at, sizeof(at)), "source", http_peer(call));
	if (data == NULL ||
	    (rc = store_append("session.started", NULL, actor, data, NULL)) != 0) {
		OPENSSL_cleanse(cookie, sizeof(cookie));
		http_error(call, 503, NULL, "cannot sign in now: the audit log "
		    "cannot be written; retry in a minute, and phone the duty "
		    "room if it persists");
		return;
	}
	log_info("%s signed in to the console from %s (session %s)", actor,
	    http_peer(call), hex);
	call->by_session = 1;
	memcpy(call->session_id, t.id, sizeof(call->session_id));
	call->session_expiry_ms = t.expiry_ms;
	session_set_cookie(call, cookie, (long long)
	    (cfg->console.session_ttl_ms / 1000));
	OPENSSL_cleanse(cookie, sizeof(cookie));
	session_reply(call);
}

void
session_get(struct http_call *call)
{
	if (!call->by_session) {
		http_error(call, 401, NULL, "no console session: sign in with POST "
		    "/api/v1/session {\"token\": \"...\"}");
		return;
	}
	session_reply(call);
}

void
session_delete(struct http_call *call)
{
	char	 hex[SESSTOKEN_ID_HEX], at[TIME_RFC3339_MAX], actor[SESSTOKEN_SUBJECT_MAX + 16];
	json_t	*data;
	int	 rc;

	if (call->by_session) {
		sesstoken_id_hex(call->session_id, hex);
		snprintf(actor, sizeof(actor), "%s:%s", call->person != NULL ?
		    "person" : "office", call->person != NULL ? call->person->id :
		    call->office->id);
		data = json_pack("{s:s, s:s}", "session", hex, "expires_at",
		    time_format(call->session_expiry_ms, at, sizeof(at)));
		if (data == NULL || (rc = store_append("session.ended", NULL,
		    actor, data, NULL)) != 0) {
			http_error(call, 503, NULL, "cannot sign out now: the audit "
			    "log cannot be written; retry in a minute (closing the "
			    "browser does not end the session)");
			return;
		}
		log_info("%s signed out of the console (session %s)", actor, hex);
	}
	session_set_cookie(call, "", 0);
	http_reply(call, 200, json_object());
}
