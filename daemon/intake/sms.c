/*
 * sms.c: inbound SMS gateways (短信上行).  A webhook is authenticated
 * (Twilio's signature; Aliyun's secret or source address), each message is
 * taken once by the gateway's id, and then it is a report or a follow-up
 * (from an office's phone) or a reply command (from a person's phone).
 * Whatever becomes of it, one sms.received record says so.
 *
 * The parsing is smsin.c's; the changes are incident.c's.  Here: who the
 * sender is, what their text means to dutyd, and what they are told.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/sys/tree.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store/audit.h"
#include "config/config.h"
#include "intake/http.h"
#include "state/incident.h"
#include "state/incview.h"
#include "base/log.h"
#include "notify/notify.h"
#include "state/replycode.h"
#include "parse/report.h"
#include "intake/sms.h"
#include "state/smsseen.h"
#include "parse/smsin.h"
#include "base/timeutil.h"

#define SMS_ID_MAX		SMSSEEN_ID_MAX
#define SMS_ADDR_MAX		64	/* code points of a From or To kept */
#define SMS_BUCKETS_MAX		1024	/* phones with a reply rate bucket */
#define SMS_REJECT_MAX		20	/* sms.rejected records a minute */
#define SMS_REJECT_WINDOW_MS	60000
#define SMS_DAY_MS		INT64_C(86400000)

#define TWIML_TYPE	"text/xml; charset=utf-8"
#define JSON_TYPE	"application/json; charset=utf-8"
#define ALIYUN_OK	"{\"code\":0,\"msg\":\"接收成功\"}"

#define SMS_HELP	"回复格式：代码加字母，如 3A 确认收到、3F 书面报告已报送、" \
			"3R 处置完毕；代码见通知短信。"

/* A token bucket per phone that sends replies (sms.reply_limit). */
struct sms_bucket {
	char	 phone[SMSIN_PHONE_MAX];	/* "" when free */
	double	 tokens;
	int64_t	 at;
};

static struct sms_bucket	 buckets[SMS_BUCKETS_MAX];

/* Forged requests are recorded, but a flood of them must not fill the disk. */
static int64_t			 reject_window;
static int			 reject_count;
static long			 reject_dropped;

/* One inbound message, its text capped and known to be UTF-8. */
struct sms_msg {
	const char	*provider;	/* "twilio", "aliyun" */
	const char	*id;		/* the gateway's message id */
	char		*from;		/* as sent; NULL if not UTF-8 */
	char		*to;
	char		*text;		/* NULL if not UTF-8 */
	int		 truncated;	/* text was cut at SMSIN_TEXT_MAX */
	int64_t		 received_ms;	/* when it was sent, as the gateway says */
	char		 phone[SMSIN_PHONE_MAX];	/* from, normalised; "" */
};

/* What became of it: the sms.received record and the answer. */
struct sms_outcome {
	const char	*kind;		/* report, followup, reply, unknown, ... */
	char		 result[128];
	char		 actor[128];
	char		 incident[INCIDENT_ID_MAX];	/* "" when none */
	char		*answer;	/* to the sender; NULL: none */
	int		 muted;		/* an answer was due but over the limit */
};

int
sms_apply(const struct audit_record *r)
{
	const char *provider, *id;

	if (strcmp(r->event, "sms.received") != 0)
		return 0;
	provider = json_string_value(json_object_get(r->data, "provider"));
	id = json_string_value(json_object_get(r->data, "id"));
	if (provider != NULL && id != NULL)
		smsseen_add(provider, id);
	return 0;
}

void
sms_shutdown(void)
{
	smsseen_clear();
	memset(buckets, 0, sizeof(buckets));
	reject_window = 0;
	reject_count = 0;
	reject_dropped = 0;
}

/* Small helpers -------------------------------------------------------------- */

/* 1..SMS_ID_MAX printable ASCII bytes: it goes into keys and records. */
static int
sms_id_ok(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) > SMS_ID_MAX)
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return 0;
	return 1;
}

/*
 * A copy of S cut at MAX code points; NULL with errno EILSEQ when S is not
 * UTF-8 (jansson checks), ENOMEM.  *cut tells whether anything went.
 */
static char *
sms_capped(const char *s, size_t max, int *cut)
{
	json_t	*probe;
	size_t	 i, n = 0;
	char	*out;

	*cut = 0;
	if ((probe = json_string(s)) == NULL) {
		errno = EILSEQ;
		return NULL;
	}
	json_decref(probe);
	for (i = 0; s[i] != '\0'; i++) {
		/* In valid UTF-8 each byte but 10xxxxxx starts a code point. */
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == max) {
			*cut = 1;
			break;
		}
	}
	if ((out = strndup(s, i)) == NULL)
		errno = ENOMEM;
	return out;
}

static long
sms_utc_offset(int64_t ms)
{
	struct tm	tm;

	if (time_tm(ms, &tm) != 0)
		return 0;
	return tm.tm_gmtoff;
}

/* "14:25", or "11-29 14:25" when not today: a phone screen is small. */
static const char *
sms_clock(int64_t ms, char *buf, size_t len)
{
	struct tm	tm, now_tm;

	if (ms == 0 || time_tm(ms, &tm) != 0 ||
	    time_tm(time_now_ms(), &now_tm) != 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (tm.tm_year == now_tm.tm_year && tm.tm_yday == now_tm.tm_yday)
		strftime(buf, len, "%H:%M", &tm);
	else
		strftime(buf, len, "%m-%d %H:%M", &tm);
	return buf;
}

/* The answer to the sender; left out if memory is short. */
static void __attribute__((format(printf, 2, 3)))
sms_answer(struct sms_outcome *o, const char *fmt, ...)
{
	va_list ap;

	free(o->answer);
	o->answer = NULL;
	va_start(ap, fmt);
	if (vasprintf(&o->answer, fmt, ap) == -1)
		o->answer = NULL;
	va_end(ap);
}

static void
sms_result(struct sms_outcome *o, const char *kind, const char *result)
{
	o->kind = kind;
	snprintf(o->result, sizeof(o->result), "%s", result);
}

/* The reply bucket of PHONE allows one more message now. */
static int
sms_allow(const struct config *cf, const char *phone, int64_t now)
{
	struct sms_bucket	*b = NULL, *oldest = NULL;
	double			 cap = (double)cf->sms.reply_count;
	size_t			 i;

	if (cf->sms.reply_count <= 0 || cf->sms.reply_period_ms <= 0)
		return 1;
	for (i = 0; i < SMS_BUCKETS_MAX && b == NULL; i++) {
		if (strcmp(buckets[i].phone, phone) == 0)
			b = &buckets[i];
		else if (oldest == NULL || buckets[i].phone[0] == '\0' ||
		    (oldest->phone[0] != '\0' && buckets[i].at < oldest->at))
			oldest = &buckets[i];
	}
	if (b == NULL) {
		/* The least recent phone's bucket has refilled the longest. */
		b = oldest;
		snprintf(b->phone, sizeof(b->phone), "%s", phone);
		b->tokens = cap;
		b->at = now;
	}
	if (now > b->at) {
		b->tokens += (double)(now - b->at) * cap /
		    (double)cf->sms.reply_period_ms;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	b->at = now;
	if (b->tokens < 1.0)
		return 0;
	b->tokens -= 1.0;
	return 1;
}

/* Constant time for equal digests: the secret's length does not show either. */
static int
sms_secret_eq(const char *given, const char *secret)
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
sms_addr(const char *s, unsigned char out[16])
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
sms_peer_allowed(const char *peer, char *const *allow, size_t nallow)
{
	unsigned char	 p[16], a[16];
	char		 buf[64], *slash, *end;
	long		 bits;
	size_t		 i, k;
	int		 fam;

	if ((fam = sms_addr(peer, p)) == 0)
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
		if (sms_addr(buf, a) != fam)
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

/* Records of forged requests ------------------------------------------------ */

static void
sms_rejected(struct http_call *call, const char *provider, const char *reason)
{
	int64_t	 now = time_now_ms();
	json_t	*data;
	char	 actor[32];
	int	 rc;

	if (now - reject_window >= SMS_REJECT_WINDOW_MS || now < reject_window) {
		reject_window = now;
		reject_count = 0;
	}
	if (reject_count >= SMS_REJECT_MAX) {
		if (reject_dropped++ == 0)
			log_warnx("sms: more than %d rejected %s requests this "
			    "minute (the latest from %s); the rest are counted, "
			    "not recorded one by one", SMS_REJECT_MAX, provider,
			    http_peer(call));
		return;
	}
	reject_count++;
	data = json_pack("{s:s, s:s, s:s}", "provider", provider, "peer",
	    http_peer(call), "reason", reason);
	if (data != NULL && reject_dropped > 0)
		json_object_set_new(data, "not_recorded_before",
		    json_integer(reject_dropped));
	snprintf(actor, sizeof(actor), "sms:%s", provider);
	if (data == NULL)
		rc = -ENOMEM;
	else
		rc = audit_append("sms.rejected", NULL, actor, data, NULL);
	if (rc == 0)
		reject_dropped = 0;
	log_warnx("sms: rejected a request to the %s webhook from %s: %s%s", provider,
	    http_peer(call), reason, rc != 0 ? " (and it could not be recorded)" :
	    "");
}

/* Offices: reports and follow-ups ------------------------------------------- */

/* The same validation as POST /api/v1/reports, so the incident looks alike. */
static json_t *
sms_report_json(const struct smsin_report *rep, int64_t *occurred,
    struct report_error *err)
{
	char	 at[TIME_RFC3339_MAX], *s;
	json_t	*o, *v = NULL;

	o = json_pack("{s:s, s:s}", "title", rep->title, "occurred_at",
	    time_format(rep->occurred_ms, at, sizeof(at)));
	if (o != NULL && rep->details != NULL &&
	    json_object_set_new(o, "details", json_string(rep->details)) != 0) {
		json_decref(o);
		o = NULL;
	}
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(err, 0, sizeof(*err));
	errno = 0;
	v = report_parse(s, strlen(s), occurred, err);
	free(s);
	if (v == NULL && errno != ENOMEM)
		errno = EINVAL;
	return v;
}

static int
sms_new_report(const struct config_office *office, const struct sms_msg *m,
    const struct smsin_report *rep, struct sms_outcome *o)
{
	struct report_error	 err;
	struct incident		*inc;
	char			 key[IDEMPOTENCY_KEY_MAX + 1], hash[AUDIT_HASH_HEX];
	char			 ack[32], due[32];
	int64_t			 occurred;
	json_t			*report;
	int			 rc;

	snprintf(key, sizeof(key), "sms:%s:%s", m->provider, m->id);
	/* The gateway's id was forgotten (a restart), the report was not. */
	if ((inc = incident_find_idem(office->id, key)) == NULL) {
		if ((report = sms_report_json(rep, &occurred, &err)) == NULL) {
			if (errno == ENOMEM)
				return -ENOMEM;
			sms_result(o, "ignored", "not a report");
			sms_answer(o, "短信未能登记为报告（%s）。请重新发送，第一行写事件"
			    "名称。", err.message);
			return 0;
		}
		audit_hash(m->text, strlen(m->text), hash);
		rc = incident_report(office->id, key, report, occurred, hash, &inc);
		json_decref(report);
		if (rc != 0)
			return rc;
		log_info("incident %s reported by %s by SMS (%s %s from %s): %s",
		    inc->id, office->id, m->provider, m->id, m->phone, rep->title);
	}
	sms_result(o, "report", inc->id);
	snprintf(o->incident, sizeof(o->incident), "%s", inc->id);
	sms_answer(o, "已收到，事件编号 %s。确认时限 %s，书面报告时限 %s。续报请以"
	    "事件编号开头。", inc->id,
	    sms_clock(inc->ack_clock.deadline, ack, sizeof(ack)),
	    sms_clock(inc->report_clock.deadline, due, sizeof(due)));
	return 0;
}

static int
sms_followup(const struct config_office *office, const struct sms_msg *m,
    const struct smsin_report *rep, struct sms_outcome *o)
{
	struct report_error	 err;
	struct incident		*inc;
	char			 key[IDEMPOTENCY_KEY_MAX + 1], *body = NULL;
	const char		*rest;
	json_t			*fields, *update;
	int			 changed = 0, rc;

	o->kind = "followup";
	if ((inc = incident_find(rep->followup_id)) == NULL) {
		sms_result(o, "followup", "unknown incident");
		sms_answer(o, "未找到事件 %s，续报未记录。请核对事件编号；新报告请不要"
		    "以事件编号开头。", rep->followup_id);
		return 0;
	}
	snprintf(o->incident, sizeof(o->incident), "%s", inc->id);
	/*
	 * Everything after the id, as sent: its first line is no title here,
	 * and a time in it ("14:30 火势已控制") is part of what happened.
	 */
	fields = json_object();
	rest = strstr(m->text, rep->followup_id);
	if (rest != NULL) {
		rest += strlen(rep->followup_id);
		rest += strspn(rest, " \t\r\n,.:;，。：；、");
	}
	if (fields != NULL && rest != NULL && *rest != '\0')
		json_object_set_new(fields, "details", json_string(rest));
	else if (fields != NULL && asprintf(&body, "%s%s%s", rep->title,
	    rep->details != NULL ? "\n" : "",
	    rep->details != NULL ? rep->details : "") != -1)
		json_object_set_new(fields, "details", json_string(body));
	free(body);
	body = fields != NULL ? json_dumps(fields, JSON_COMPACT) : NULL;
	json_decref(fields);
	if (body == NULL)
		return -ENOMEM;
	memset(&err, 0, sizeof(err));
	errno = 0;
	update = report_parse_update(body, strlen(body), &err);
	free(body);
	if (update == NULL) {
		if (errno == ENOMEM)
			return -ENOMEM;
		sms_result(o, "followup", "not a follow-up");
		sms_answer(o, "事件 %s 的续报未能记录（%s）。", inc->id, err.message);
		return 0;
	}
	snprintf(key, sizeof(key), "sms:%s:%s", m->provider, m->id);
	rc = incident_update(inc, office->id, key, update, &changed);
	json_decref(update);
	switch (rc) {
	case 0:
		break;
	case -EEXIST:
		/* The same message again, read differently by a newer dutyd. */
		changed = 0;
		break;
	case -EPERM:
		sms_result(o, "followup", "another office's incident");
		sms_answer(o, "事件 %s 不是本单位报告的，续报未记录。请核对事件编号。",
		    inc->id);
		return 0;
	case -EALREADY:
		sms_result(o, "followup", "already resolved");
		sms_answer(o, "事件 %s 已处置完毕，续报未记录。如有新情况，请作为新"
		    "报告发送（不以事件编号开头）。", inc->id);
		return 0;
	default:
		return rc;
	}
	if (changed)
		log_info("incident %s: follow-up by %s by SMS (%s %s)", inc->id,
		    office->id, m->provider, m->id);
	sms_result(o, "followup", inc->id);
	sms_answer(o, "已收到事件 %s 的续报。", inc->id);
	return 0;
}

static int
sms_from_office(const struct config *cf, const struct config_office *office,
    const struct sms_msg *m, struct sms_outcome *o)
{
	struct smsin_report	 rep;
	int			 allowed, rc;

	snprintf(o->actor, sizeof(o->actor), "office:%s", office->id);
	/* A report is always taken; only the answers are limited (auto-replies loop). */
	allowed = sms_allow(cf, m->phone, time_now_ms());
	if (m->text == NULL) {
		sms_result(o, "ignored", "text is not UTF-8");
		return 0;
	}
	rc = smsin_report_parse(m->text, m->received_ms,
	    sms_utc_offset(m->received_ms), &rep);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		sms_result(o, "ignored", rc == -E2BIG ? "text too long" :
		    "blank text");
		return 0;
	}
	if (rep.followup_id[0] != '\0')
		rc = sms_followup(office, m, &rep, o);
	else
		rc = sms_new_report(office, m, &rep, o);
	smsin_report_free(&rep);
	if (rc == 0 && !allowed && o->answer != NULL) {
		free(o->answer);
		o->answer = NULL;
		o->muted = 1;
	}
	return rc;
}

/* People: reply commands ----------------------------------------------------- */

/* The incident a reply means; NULL with the outcome filled in. */
static struct incident *
sms_reply_target(const struct sms_msg *m, const struct smsin_reply *cmd,
    struct sms_outcome *o)
{
	struct incident	*inc;
	const char	*id;

	if (cmd->code > 0) {
		if ((id = replycode_find(m->phone, cmd->code)) == NULL) {
			sms_result(o, "reply", "unknown code");
			sms_answer(o, "代码 %d 没有对应的待处理事件（可能已处置完毕）。"
			    "请按通知短信中的代码回复，如 3A。", cmd->code);
			return NULL;
		}
	} else if (cmd->incident[0] != '\0')
		id = cmd->incident;
	else if ((id = replycode_latest(m->phone)) == NULL) {
		sms_result(o, "reply", "no incident");
		sms_answer(o, "没有发给您的待处理事件。请按通知短信中的代码回复，"
		    "如 3A。");
		return NULL;
	}
	if ((inc = incident_find(id)) == NULL) {
		sms_result(o, "reply", "unknown incident");
		sms_answer(o, "未找到事件 %s，请核对事件编号。", id);
		return NULL;
	}
	snprintf(o->incident, sizeof(o->incident), "%s", inc->id);
	return inc;
}

typedef int (*sms_act_fn)(struct incident *, const char *, const char *,
    int *);

/* What each reply command does, and how its outcome is worded. */
static const struct sms_action {
	char		 action;
	sms_act_fn	 fn;
	const char	*note;		/* the note or reference recorded */
	const char	*done;		/* result when it changed the incident */
	const char	*again;		/* result when it had been done */
	const char	*verb;		/* "事件 X 已由张伟于 14:05 <verb>" */
} sms_actions[] = {
	{ 'A', incident_acknowledge, "短信回复", "acknowledged",
	    "already acknowledged", "确认" },
	{ 'F', incident_file_report, NULL, "report filed",
	    "report already filed", "记录书面报告已报送" },
	{ 'R', incident_resolve, "短信回复", "resolved", "already resolved",
	    "处置完毕" },
};

static int
sms_from_person(const struct config *cf, const struct config_person *p,
    const struct sms_msg *m, struct sms_outcome *o)
{
	const struct sms_action	*a;
	const struct incident_mark *mark;
	struct smsin_reply	 cmd;
	struct incident		*inc;
	char			 t[32];
	int			 changed = 0, rc;

	snprintf(o->actor, sizeof(o->actor), "person:%s", p->id);
	if (!sms_allow(cf, m->phone, time_now_ms())) {
		sms_result(o, "rate_limited", "over sms.reply_limit");
		return 0;
	}
	if (m->text == NULL || smsin_reply_parse(m->text, &cmd) != 0) {
		sms_result(o, "ignored", "not a reply command");
		sms_answer(o, "%s", SMS_HELP);
		return 0;
	}
	if ((inc = sms_reply_target(m, &cmd, o)) == NULL)
		return 0;
	a = &sms_actions[cmd.action == 'A' ? 0 : cmd.action == 'F' ? 1 : 2];
	mark = cmd.action == 'A' ? &inc->ack : cmd.action == 'F' ?
	    &inc->filed : &inc->resolved;
	/* Resolved: acknowledging or filing is moot, say by whom it was closed. */
	if (inc->state == INCIDENT_RESOLVED) {
		a = &sms_actions[2];
		mark = &inc->resolved;
	} else if ((rc = a->fn(inc, p->id, a->note, &changed)) != 0)
		return rc;
	sms_result(o, "reply", changed ? a->done : a->again);
	if (!changed)
		sms_answer(o, "事件 %s 已由%s于 %s %s，无需再操作。", inc->id,
		    incview_who(mark), sms_clock(mark->at, t, sizeof(t)), a->verb);
	else if (cmd.action == 'A')
		sms_answer(o, "已确认事件 %s。书面报告时限 %s。", inc->id,
		    sms_clock(inc->report_clock.deadline, t, sizeof(t)));
	else
		sms_answer(o, "已记录：事件 %s %s。", inc->id, a->verb);
	if (changed)
		log_info("incident %s: %s by %s by SMS reply (%s %s)", inc->id,
		    o->result, p->id, m->provider, m->id);
	return 0;
}

/* One message -------------------------------------------------------------- */

static int
sms_record(const struct sms_msg *m, const struct sms_outcome *o)
{
	json_t *data;

	data = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:s}",
	    "provider", m->provider, "id", m->id, "from", m->from, "to", m->to,
	    "text", m->text, "kind", o->kind, "result", o->result);
	if (data == NULL)
		return -ENOMEM;
	if ((m->truncated && json_object_set_new(data, "truncated",
	    json_true()) != 0) ||
	    (o->answer != NULL && json_object_set_new(data, "answer",
	    json_string(o->answer)) != 0) ||
	    (o->muted && json_object_set_new(data, "answer_withheld",
	    json_string("over sms.reply_limit")) != 0)) {
		json_decref(data);
		return -ENOMEM;
	}
	return audit_append("sms.received", o->incident[0] != '\0' ?
	    o->incident : NULL, o->actor, data, NULL);
}

/*
 * Takes one message a gateway delivered: acts on it and records it, unless
 * the gateway delivered it before.  0 and *answer (malloc'd, or NULL for
 * no answer), or -errno when it could not be recorded (the gateway should
 * deliver it again).
 */
static int
sms_take(const struct config *cf, const char *provider, const char *id,
    const char *from, const char *to, const char *text, int64_t received_ms,
    char **answer)
{
	const struct config_office	*office;
	const struct config_person	*person;
	struct sms_msg			 m;
	struct sms_outcome		 o;
	int				 cut, rc;

	*answer = NULL;
	if (smsseen_has(provider, id)) {
		log_debug("sms: %s message %s delivered again; already taken",
		    provider, id);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	memset(&o, 0, sizeof(o));
	m.provider = provider;
	m.id = id;
	m.received_ms = received_ms;
	if ((from != NULL && (m.from = sms_capped(from, SMS_ADDR_MAX,
	    &cut)) == NULL && errno == ENOMEM) ||
	    (to != NULL && (m.to = sms_capped(to, SMS_ADDR_MAX,
	    &cut)) == NULL && errno == ENOMEM) ||
	    ((m.text = sms_capped(text != NULL ? text : "", SMSIN_TEXT_MAX,
	    &m.truncated)) == NULL && errno == ENOMEM)) {
		rc = -ENOMEM;
		goto done;
	}
	if (m.from == NULL || smsin_phone_normalize(m.from, m.phone,
	    sizeof(m.phone)) != 0)
		m.phone[0] = '\0';
	office = m.phone[0] != '\0' ? config_office_by_phone(cf, m.phone) : NULL;
	person = m.phone[0] != '\0' ? config_person_by_phone(cf, m.phone) : NULL;
	if (office != NULL)
		rc = sms_from_office(cf, office, &m, &o);
	else if (person != NULL)
		rc = sms_from_person(cf, person, &m, &o);
	else {
		/* Strangers are not told that this number reaches a duty room. */
		snprintf(o.actor, sizeof(o.actor), "sms:%s", provider);
		sms_result(&o, "unknown", "unknown number");
		rc = 0;
	}
	if (rc == 0)
		rc = sms_record(&m, &o);
	if (rc == 0) {
		log_info("sms: %s message %s from %s: %s, %s", provider, id,
		    m.phone[0] != '\0' ? m.phone : "(not a phone number)",
		    o.kind, o.result);
		*answer = o.answer;
		o.answer = NULL;
	}
done:
	free(o.answer);
	free(m.from);
	free(m.to);
	free(m.text);
	return rc;
}

/* Twilio ------------------------------------------------------------------- */

/* TwiML: an empty <Response/>, or one <Message> with the text escaped. */
static char *
sms_twiml(const char *answer)
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
sms_not_saved(struct http_call *call, const char *provider, const char *id,
    int rc)
{
	log_errorx("sms: %s message %s could not be recorded (%s); the gateway "
	    "was answered 503 and may deliver it again", provider, id,
	    strerror(-rc));
	http_error(call, 503, NULL, "the message could not be recorded (%s); "
	    "deliver it again later", strerror(-rc));
}

void
sms_twilio(struct http_call *call)
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
	memset(&form, 0, sizeof(form));
	if ((rc = smsin_form_parse(call->body, call->body_len, &form)) != 0) {
		smsin_form_free(&form);
		if (rc == -ENOMEM) {
			http_error(call, 503, NULL, "out of memory; retry shortly");
			return;
		}
		sms_rejected(call, "twilio", rc == -E2BIG ? "form body over the "
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
		sms_rejected(call, "twilio", sig == NULL ? "no X-Twilio-Signature" :
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
	if (!sms_id_ok(sid) || from == NULL) {
		log_warnx("sms: a signed Twilio request without %s; not a message "
		    "webhook? Point only the messaging webhook here",
		    from == NULL ? "From" : "a valid MessageSid");
		http_error(call, 400, from == NULL ? "From" : "MessageSid",
		    "this endpoint takes Twilio's incoming-message webhook: "
		    "MessageSid (1 to %d characters) and From are required",
		    SMS_ID_MAX);
		goto out;
	}
	if ((rc = sms_take(cf, "twilio", sid, from, smsin_form_get(&form, "To"),
	    smsin_form_get(&form, "Body"), time_now_ms(), &answer)) != 0) {
		sms_not_saved(call, "twilio", sid, rc);
		goto out;
	}
	if ((twiml = sms_twiml(answer)) == NULL)
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
sms_aliyun_time(const struct smsin_aliyun_msg *msg, int64_t now)
{
	if (msg->send_ms > now - SMS_DAY_MS &&
	    msg->send_ms <= now + SMSIN_FUTURE_SLACK_MS)
		return msg->send_ms;
	return now;
}

void
sms_aliyun(struct http_call *call)
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
	secret = http_query(call, "secret");
	if (secret != NULL && cf->sms.aliyun_secret != NULL)
		ok = sms_secret_eq(secret, cf->sms.aliyun_secret);
	if (!ok)
		ok = sms_peer_allowed(http_peer(call), cf->sms.aliyun_allow,
		    cf->sms.naliyun_allow);
	if (!ok) {
		sms_rejected(call, "aliyun", secret != NULL ? "wrong ?secret=" :
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
		if (!sms_id_ok(msgs[i].sequence_id)) {
			log_warnx("sms: Aliyun message from %s has no usable "
			    "sequence_id; skipped", msgs[i].phone_number);
			continue;
		}
		rc = sms_take(cf, "aliyun", msgs[i].sequence_id,
		    msgs[i].phone_number, msgs[i].dest_code, msgs[i].content,
		    sms_aliyun_time(&msgs[i], now), &answer);
		if (rc != 0) {
			/* Those before are taken; a re-delivery skips them. */
			sms_not_saved(call, "aliyun", msgs[i].sequence_id, rc);
			smsin_aliyun_free(msgs, n);
			return;
		}
		/* Channels send to +86...: Aliyun gives the bare mobile. */
		if (smsin_phone_normalize(msgs[i].phone_number, phone,
		    sizeof(phone)) != 0)
			snprintf(phone, sizeof(phone), "%.*s",
			    (int)sizeof(phone) - 1, msgs[i].phone_number);
		if (answer != NULL && cf->sms.aliyun_reply_channel != NULL &&
		    (rc = notify_direct(cf->sms.aliyun_reply_channel, phone,
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
