/*
 * smsgw.c: the inbound SMS gateways' webhooks (POST /api/v1/sms/twilio,
 * POST /api/v1/sms/aliyun): who may post (Twilio's signature; Aliyun's
 * secret or source address), the messages in the post, and the answers in
 * the form each gateway takes.  What a message does is actions/smsact.c's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "actions/desk.h"
#include "actions/smsact.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/authfail.h"
#include "intake/http.h"
#include "intake/smsgw.h"
#include "parse/smsin.h"

#define SMS_DAY_MS		INT64_C(86400000)

#define TWIML_TYPE	"text/xml; charset=utf-8"
#define JSON_TYPE	"application/json; charset=utf-8"
#define ALIYUN_OK	"{\"code\":0,\"msg\":\"接收成功\"}"

static int
smsgw_secret_eq(const char *given, const char *secret)
{
	unsigned char	 a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int	 na = 0, nb = 0;

	if (!EVP_Digest(given, strlen(given), a, &na, EVP_sha256(), NULL) ||
	    !EVP_Digest(secret, strlen(secret), b, &nb, EVP_sha256(), NULL) ||
	    na != nb)
		return 0;
	return CRYPTO_memcmp(a, b, na) == 0;
}

/* An address, maybe IPv4-mapped, as 16 bytes; its family. */
static int
smsgw_addr(const char *s, unsigned char out[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (inet_pton(AF_INET, s, out + 12) == 1) {
		memcpy(out, mapped, 12);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return memcmp(out, mapped, 12) == 0 ? AF_INET : AF_INET6;
	return 0;
}

/* PEER is one of sms.aliyun.allow: an address or a network ("10.0.0.0/8"). */
static int
smsgw_peer_allowed(const char *peer, char *const *allow, size_t nallow)
{
	unsigned char	 p[16], a[16];
	char		 buf[64], *slash, *end;
	long		 bits;
	size_t		 i, k;
	int		 fam;

	if ((fam = smsgw_addr(peer, p)) == 0)
		return 0;
	for (i = 0; i < nallow; i++) {
		snprintf(buf, sizeof(buf), "%s", allow[i]);
		bits = -1;
		if ((slash = strchr(buf, '/')) != NULL) {
			*slash = '\0';
			bits = strtol(slash + 1, &end, 10);
			if (end == slash + 1 || *end != '\0' || bits < 0)
				continue;
		}
		if (smsgw_addr(buf, a) != fam)
			continue;
		if (bits < 0)
			bits = 128;
		else if (fam == AF_INET)
			bits += 96;
		if (bits > 128)
			continue;
		for (k = 0; k < (size_t)bits / 8; k++)
			if (p[k] != a[k])
				break;
		if (k < (size_t)bits / 8)
			continue;
		if (bits % 8 != 0 && ((p[k] ^ a[k]) &
		    (0xff << (8 - bits % 8)) & 0xff) != 0)
			continue;
		return 1;
	}
	return 0;
}

/* Twilio ------------------------------------------------------------------- */

/* TwiML: an empty <Response/>, or one <Message> with the text escaped. */
static char *
smsgw_twiml(const char *answer)
{
	FILE		*f;
	char		*buf = NULL;
	size_t		 len;
	const char	*p, *ent;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", f);
	if (answer == NULL)
		fputs("<Response/>", f);
	else {
		fputs("<Response><Message>", f);
		for (p = answer; *p != '\0'; p++) {
			ent = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" :
			    *p == '>' ? "&gt;" : NULL;
			if (ent != NULL)
				fputs(ent, f);
			else if ((unsigned char)*p >= 0x20 || *p == '\n' ||
			    *p == '\t')
				fputc(*p, f);	/* XML 1.0 has no other controls */
		}
		fputs("</Message></Response>", f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
smsgw_not_saved(struct http_call *call, const char *provider, const char *id,
    int rc)
{
	log_errorx("sms: %s message %s could not be recorded (%s); the gateway "
	    "was answered 503 and may deliver it again", provider, id,
	    strerror(-rc));
	http_error(call, 503, NULL, "the message could not be recorded (%s); "
	    "deliver it again later", strerror(-rc));
}

void
smsgw_twilio(struct http_call *call)
{
	const struct config	*cf = config_current();
	struct smsin_form	 form;
	const char		*sig, *sid, *from;
	char			*url = NULL, *answer = NULL, *twiml;
	int			 rc;

	if (cf->sms.twilio_token == NULL) {
		http_error(call, 404, NULL, "the Twilio SMS webhook is off: set "
		    "sms.twilio.auth_token in %s to the Twilio account's auth "
		    "token and reload dutyd", cf->path);
		return;
	}
	if (http_auth_throttled(call))
		return;
	memset(&form, 0, sizeof(form));
	if ((rc = smsin_form_parse(call->body, call->body_len, &form)) != 0) {
		smsin_form_free(&form);
		if (rc == -ENOMEM) {
			http_error(call, 503, NULL, "out of memory; retry shortly");
			return;
		}
		smsact_rejected(http_peer(call), "twilio", rc == -E2BIG ? "form body over the "
		    "size limits" : "not a form body");
		http_error(call, 400, NULL, "the body must be a form "
		    "(application/x-www-form-urlencoded) as Twilio posts it, "
		    "within %d bytes and %d parameters", SMSIN_BODY_MAX,
		    SMSIN_PAIRS_MAX);
		return;
	}
	sig = http_header(call, "X-Twilio-Signature");
	if (asprintf(&url, "%s%s", cf->public_url, http_uri(call)) == -1) {
		smsin_form_free(&form);
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	rc = sig == NULL ? -EBADMSG : smsin_twilio_valid(url, &form,
	    cf->sms.twilio_token, sig);
	if (rc == -ENOMEM) {
		http_error(call, 503, NULL, "out of memory; retry shortly");
		goto out;
	}
	if (rc != 0) {
		authfail_note(http_peer(call), "POST", "/api/v1/sms/twilio");
		smsact_rejected(http_peer(call), "twilio", sig == NULL ? "no X-Twilio-Signature" :
		    "X-Twilio-Signature does not match");
		http_error(call, 403, NULL, "%s: the request is not from Twilio, "
		    "or sms.twilio.auth_token is not this account's auth token, or "
		    "Twilio posts to another URL than %.300s (public_url + path)",
		    sig == NULL ? "no X-Twilio-Signature header" :
		    "X-Twilio-Signature does not match", url);
		goto out;
	}
	if ((sid = smsin_form_get(&form, "MessageSid")) == NULL)
		sid = smsin_form_get(&form, "SmsSid");
	from = smsin_form_get(&form, "From");
	if (!smsact_id_ok(sid) || from == NULL) {
		log_warnx("sms: a signed Twilio request without %s; not a message "
		    "webhook? Point only the messaging webhook here",
		    from == NULL ? "From" : "a valid MessageSid");
		http_error(call, 400, from == NULL ? "From" : "MessageSid",
		    "this endpoint takes Twilio's incoming-message webhook: "
		    "MessageSid (1 to %d characters) and From are required",
		    SMSACT_ID_MAX);
		goto out;
	}
	if ((rc = smsact_take(cf, "twilio", sid, from, smsin_form_get(&form, "To"),
	    smsin_form_get(&form, "Body"), time_now_ms(), &answer)) != 0) {
		smsgw_not_saved(call, "twilio", sid, rc);
		goto out;
	}
	if ((twiml = smsgw_twiml(answer)) == NULL)
		http_reply_as(call, 200, TWIML_TYPE, "<Response/>");
	else
		http_reply_as(call, 200, TWIML_TYPE, twiml);
	free(twiml);
out:
	free(answer);
	free(url);
	smsin_form_free(&form);
}

/* Aliyun ------------------------------------------------------------------- */

/* Reports count from the day sent; a delayed push must not move that day. */
static int64_t
smsgw_aliyun_time(const struct smsin_aliyun_msg *msg, int64_t now)
{
	if (msg->send_ms > now - SMS_DAY_MS &&
	    msg->send_ms <= now + SMSIN_FUTURE_SLACK_MS)
		return msg->send_ms;
	return now;
}

/*
 * The ?secret= of the push URL, exactly: the name in lower case, once, and
 * no NUL (evhttp's lookup ignored case and stopped at %00, so "?SECRET="
 * and "<secret>%00junk" passed).  "" when the query is malformed, so that
 * it counts as a wrong secret; NULL when there is none.  Caller frees.
 */
static char *
smsgw_query_secret(struct http_call *call)
{
	struct smsin_form	 form = { NULL, 0 };
	const char		*q = strchr(http_uri(call), '?');
	char			*out = NULL;
	size_t			 i, n = 0;

	if (q == NULL)
		return NULL;
	q++;
	if (smsin_form_parse(q, strcspn(q, "#"), &form) != 0) {
		smsin_form_free(&form);
		return strdup("");
	}
	for (i = 0; i < form.npairs; i++)
		if (strcasecmp(form.pairs[i].name, "secret") == 0)
			n++;
	if (n > 0)
		out = strdup(n == 1 && smsin_form_get(&form, "secret") != NULL ?
		    smsin_form_get(&form, "secret") : "");
	smsin_form_free(&form);
	return out;
}

void
smsgw_aliyun(struct http_call *call)
{
	const struct config	*cf = config_current();
	struct smsin_aliyun_msg	*msgs = NULL;
	char			*secret, *answer, why[256] = "";
	char			 phone[SMSIN_PHONE_MAX];
	int64_t			 now = time_now_ms();
	size_t			 n = 0, i;
	int			 ok = 0, rc;

	if (!cf->sms.aliyun_on) {
		http_error(call, 404, NULL, "the Aliyun SMS uplink endpoint is off: "
		    "add sms.aliyun with a secret (sent as ?secret= on the push "
		    "URL) or allow (the gateway's addresses) in %s and reload "
		    "dutyd", cf->path);
		return;
	}
	if (http_auth_throttled(call))
		return;
	secret = smsgw_query_secret(call);
	if (secret != NULL && cf->sms.aliyun_secret != NULL)
		ok = smsgw_secret_eq(secret, cf->sms.aliyun_secret);
	if (!ok)
		ok = smsgw_peer_allowed(http_peer(call), cf->sms.aliyun_allow,
		    cf->sms.naliyun_allow);
	if (!ok) {
		authfail_note(http_peer(call), "POST", "/api/v1/sms/aliyun");
		smsact_rejected(http_peer(call), "aliyun", secret != NULL ? "wrong ?secret=" :
		    "no ?secret= and the address is not in sms.aliyun.allow");
		http_error(call, 403, NULL, "%s: put ?secret=<sms.aliyun.secret> "
		    "on the push URL in the Aliyun console, or add this address "
		    "to sms.aliyun.allow", secret != NULL ? "wrong secret" :
		    "no secret, and this address is not allowed");
		free(secret);
		return;
	}
	free(secret);
	if ((rc = smsin_aliyun_parse(call->body, call->body_len, &msgs, &n, why,
	    sizeof(why))) != 0) {
		if (rc == -ENOMEM) {
			http_error(call, 503, NULL, "out of memory; retry shortly");
			return;
		}
		log_warnx("sms: an Aliyun uplink push from %s is not a message "
		    "batch (%s); nothing taken", http_peer(call), why[0] != '\0' ?
		    why : strerror(-rc));
		http_error(call, rc == -E2BIG ? 413 : 400, NULL, "not an SMS uplink "
		    "batch (a JSON array of 1 to %d messages): %s",
		    SMSIN_ALIYUN_ITEMS_MAX, why[0] != '\0' ? why : strerror(-rc));
		return;
	}
	for (i = 0; i < n; i++) {
		if (!smsact_id_ok(msgs[i].sequence_id)) {
			log_warnx("sms: Aliyun message from %s has no usable "
			    "sequence_id; skipped", msgs[i].phone_number);
			continue;
		}
		rc = smsact_take(cf, "aliyun", msgs[i].sequence_id,
		    msgs[i].phone_number, msgs[i].dest_code, msgs[i].content,
		    smsgw_aliyun_time(&msgs[i], now), &answer);
		if (rc != 0) {
			/* Those before are taken; a re-delivery skips them. */
			smsgw_not_saved(call, "aliyun", msgs[i].sequence_id, rc);
			smsin_aliyun_free(msgs, n);
			return;
		}
		/* Channels send to +86...: Aliyun gives the bare mobile. */
		if (smsin_phone_normalize(msgs[i].phone_number, phone,
		    sizeof(phone)) != 0)
			snprintf(phone, sizeof(phone), "%.*s",
			    (int)sizeof(phone) - 1, msgs[i].phone_number);
		if (answer != NULL && cf->sms.aliyun_reply_channel != NULL &&
		    (rc = desk_answer(cf->sms.aliyun_reply_channel, phone,
		    answer)) != 0)
			log_warnx("sms: the answer to %s (Aliyun message %s) could "
			    "not be queued on channel %s (%s); they are not told",
			    msgs[i].phone_number, msgs[i].sequence_id,
			    cf->sms.aliyun_reply_channel, strerror(-rc));
		free(answer);
	}
	smsin_aliyun_free(msgs, n);
	http_reply_as(call, 200, JSON_TYPE, ALIYUN_OK);
}

