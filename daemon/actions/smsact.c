/*
 * smsact.c: what an inbound SMS does (短信上行).  A text from an office's
 * registered phone is a report, or a follow-up (续报) when it starts with
 * an incident id; a text from a person's phone is a reply command ("3A"
 * acknowledge, "3F" written report filed, "3R" resolve).  Whatever becomes
 * of it, one sms.received record says so; a forged request is an
 * sms.rejected record.  A message a gateway delivers again (same id)
 * changes nothing the second time.
 *
 * The gateways' webhooks are intake/smsgw.c's; the parsing is
 * parse/smsin.c's; the changes are actions/incact.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "actions/incact.h"
#include "actions/smsact.h"
#include "actions/wract.h"
#include "actions/wrsend.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "config/config.h"
#include "parse/report.h"
#include "parse/smsfollow.h"
#include "parse/smsin.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/replycode.h"
#include "state/smsseen.h"
#include "state/wreport.h"
#include "store/store.h"

#define SMS_ADDR_MAX		64	/* code points of a From or To kept */
#define SMS_BUCKETS_MAX		1024	/* phones with a reply rate bucket */
#define SMS_REJECT_MAX		20	/* sms.rejected records a minute */
#define SMS_REJECT_WINDOW_MS	60000

#define SMS_HELP	"回复格式：代码加字母，如 3A 确认收到、3F 书面报告已报送、" \
			"3R 处置完毕；代码见通知短信。"

/* A token bucket per phone that sends replies (sms.reply_limit). */
struct smsact_bucket {
	char	 phone[SMSIN_PHONE_MAX];	/* "" when free */
	double	 tokens;
	int64_t	 at;
};

static struct smsact_bucket	 buckets[SMS_BUCKETS_MAX];

/* Forged requests are recorded, but a flood of them must not fill the disk. */
static int64_t			 reject_window;
static int			 reject_count;
static long			 reject_dropped;

/* One inbound message, its text capped and known to be UTF-8. */
struct smsact_msg {
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
struct smsact_outcome {
	const char	*kind;		/* report, followup, reply, unknown, ... */
	char		 result[128];
	char		 actor[128];
	char		 incident[INCIDENT_ID_MAX];	/* "" when none */
	char		*answer;	/* to the sender; NULL: none */
	int		 muted;		/* an answer was due but over the limit */
};

void
smsact_shutdown(void)
{
	smsseen_clear();
	memset(buckets, 0, sizeof(buckets));
	reject_window = 0;
	reject_count = 0;
	reject_dropped = 0;
}

/* Small helpers -------------------------------------------------------------- */

/* 1..SMSACT_ID_MAX printable ASCII bytes: it goes into keys and records. */
int
smsact_id_ok(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) > SMSACT_ID_MAX)
		return 0;
	for (i = 0; id[i] != '\0'; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return 0;
	return 1;
}

static long
smsact_utc_offset(int64_t ms)
{
	struct tm	tm;

	if (time_tm(ms, &tm) != 0)
		return 0;
	return tm.tm_gmtoff;
}

/* "14:25", or "11-29 14:25" when not today: a phone screen is small. */
static const char *
smsact_clock(int64_t ms, char *buf, size_t len)
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
smsact_answer(struct smsact_outcome *o, const char *fmt, ...)
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
smsact_result(struct smsact_outcome *o, const char *kind, const char *result)
{
	o->kind = kind;
	snprintf(o->result, sizeof(o->result), "%s", result);
}

/* The reply bucket of PHONE allows one more message now. */
static int
smsact_allow(const struct config *cf, const char *phone, int64_t now)
{
	struct smsact_bucket	*b = NULL, *oldest = NULL;
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

/* Records of forged requests ------------------------------------------------ */

void
smsact_rejected(const char *peer, const char *provider, const char *reason)
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
			    peer);
		return;
	}
	reject_count++;
	data = json_pack("{s:s, s:s, s:s}", "provider", provider, "peer",
	    peer, "reason", reason);
	if (data != NULL && reject_dropped > 0 && json_object_set_new(data,
	    "not_recorded_before", json_integer(reject_dropped)) != 0) {
		json_decref(data);
		data = NULL;
	}
	snprintf(actor, sizeof(actor), "sms:%s", provider);
	if (data == NULL)
		rc = -ENOMEM;
	else
		rc = store_append("sms.rejected", NULL, actor, data, NULL);
	if (rc == 0)
		reject_dropped = 0;
	log_warnx("sms: rejected a request to the %s webhook from %s: %s%s", provider,
	    peer, reason, rc != 0 ? " (and it could not be recorded)" :
	    "");
}

/* Offices: reports and follow-ups ------------------------------------------- */

/*
 * The same validation as POST /api/v1/reports, so the incident looks alike.
 * NULL with err (err->code -ENOMEM when out of memory).
 */
static json_t *
smsact_report_json(const struct smsin_report *rep, int64_t *occurred,
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
	memset(err, 0, sizeof(*err));
	if (s == NULL) {
		err->code = -ENOMEM;
		return NULL;
	}
	v = report_parse(s, strlen(s), occurred, err);
	free(s);
	return v;
}

static int
smsact_new_report(const struct config_office *office, const struct smsact_msg *m,
    const struct smsin_report *rep, struct smsact_outcome *o)
{
	struct report_error	 err;
	struct incident		*inc;
	char			 key[IDEMPOTENCY_KEY_MAX + 1], hash[RECORD_HASH_HEX];
	char			 late[256] = "";
	int64_t			 occurred, delay, limit;
	json_t			*report;
	int			 rc;

	snprintf(key, sizeof(key), "sms:%s:%s", m->provider, m->id);
	/* The gateway's id was forgotten (a restart), the report was not. */
	if ((inc = incident_find_idem(office->id, key)) == NULL) {
		if ((report = smsact_report_json(rep, &occurred, &err)) == NULL) {
			if (err.code == -ENOMEM)
				return -ENOMEM;
			smsact_result(o, "ignored", "not a report");
			smsact_answer(o, "短信未能登记为报告（%s）。请重新发送，第一行写事件"
			    "名称。", err.message);
			return 0;
		}
		record_hash(m->text, strlen(m->text), hash);
		rc = incact_report(office->id, key, report, occurred, hash, &inc);
		json_decref(report);
		if (rc != 0)
			return rc;
		log_info("incident %s reported by %s by SMS (%s %s from %s): %s",
		    inc->id, office->id, m->provider, m->id, m->phone, rep->title);
	}
	smsact_result(o, "report", inc->id);
	snprintf(o->incident, sizeof(o->incident), "%s", inc->id);
	/*
	 * The county hears whether it was late, never the city's own clocks:
	 * those are the duty room's business, and they would read as the
	 * county's deadline.
	 */
	limit = config_current()->policy.county_deadline_ms;
	if (inc->late_report && time_parse(json_string_value(json_object_get(
	    incident_report(inc), "occurred_at")), &occurred) == 0) {
		delay = inc->received_at - occurred;
		snprintf(late, sizeof(late), "本次报告距事发 %lld 分钟，已超过 %lld %s"
		    "报告时限。", (long long)(delay / 60000),
		    (long long)(limit % 60000 == 0 ? limit / 60000 : limit / 1000),
		    limit % 60000 == 0 ? "分钟" : "秒");
	}
	smsact_answer(o, "已收到，事件编号 %s。%s续报请以事件编号开头。", inc->id,
	    late);
	return 0;
}

/* Why a follow-up to INC cannot be taken: it, or what it was merged into, is closed. */
static void
smsact_followup_closed(struct incident *inc, struct smsact_outcome *o)
{
	if (inc->state == INCIDENT_DISMISSED) {
		smsact_result(o, "followup", "dismissed");
		smsact_answer(o, "事件 %s 已核实为误报并撤销，续报未记录。如有新情况，请"
		    "作为新报告发送（不以事件编号开头）。", inc->id);
	} else if (inc->state == INCIDENT_MERGED) {
		smsact_result(o, "followup", "already resolved");
		smsact_answer(o, "事件 %s 已并入事件 %s，该事件已办结，续报未记录。如有"
		    "新情况，请作为新报告发送（不以事件编号开头）。", inc->id,
		    inc->merged_into);
	} else {
		smsact_result(o, "followup", "already resolved");
		smsact_answer(o, "事件 %s 已处置完毕，续报未记录。如有新情况，请作为新"
		    "报告发送（不以事件编号开头）。", inc->id);
	}
}

/*
 * A follow-up to incident ID: WORDS (as sent) become its details.  GUESSED:
 * the office did not write the id right, and it is the office's only open
 * incident: the answer says which one it went to and how to write the id.
 */
static int
smsact_followup(const struct config_office *office, const struct smsact_msg *m,
    const char *id, const char *words, int guessed, struct smsact_outcome *o)
{
	struct report_error	 err;
	struct incident		*inc, *dest;
	char			 key[IDEMPOTENCY_KEY_MAX + 1], *body = NULL;
	json_t			*fields, *update;
	int			 changed = 0, rc;

	o->kind = "followup";
	if ((inc = incident_find(id)) == NULL) {
		smsact_result(o, "followup", "unknown incident");
		smsact_answer(o, "未找到事件 %s，续报未记录。请核对事件编号；新报告请不要"
		    "以事件编号开头。", id);
		return 0;
	}
	snprintf(o->incident, sizeof(o->incident), "%s", inc->id);
	if (words == NULL || *words == '\0') {
		smsact_result(o, "followup", "not a follow-up");
		smsact_answer(o, "事件 %s 的续报没有内容，未记录。请在事件编号后写明新"
		    "情况。", inc->id);
		return 0;
	}
	fields = json_pack("{s:s}", "details", words);
	body = fields != NULL ? json_dumps(fields, JSON_COMPACT) : NULL;
	json_decref(fields);
	if (body == NULL)
		return -ENOMEM;
	memset(&err, 0, sizeof(err));
	update = report_parse_update(body, strlen(body), &err);
	free(body);
	if (update == NULL) {
		if (err.code == -ENOMEM)
			return -ENOMEM;
		smsact_result(o, "followup", "not a follow-up");
		smsact_answer(o, "事件 %s 的续报未能记录（%s）。", inc->id, err.message);
		return 0;
	}
	snprintf(key, sizeof(key), "sms:%s:%s", m->provider, m->id);
	rc = incact_update(inc, office->id, key, update, &changed);
	json_decref(update);
	switch (rc) {
	case 0:
		break;
	case -EEXIST:
		/* The same message again, read differently by a newer dutyd. */
		changed = 0;
		break;
	case -EPERM:
		smsact_result(o, "followup", "another office's incident");
		smsact_answer(o, "事件 %s 不是本单位报告的，续报未记录。请核对事件编号。",
		    inc->id);
		return 0;
	case -EMLINK:
	case -EFBIG:
		smsact_result(o, "followup", "follow-up limit reached");
		smsact_answer(o, "事件 %s 的续报已达上限，本条未记录。请电话联系值班室，"
		    "或作为新报告发送（不以事件编号开头）。", inc->id);
		return 0;
	case -EALREADY:
		smsact_followup_closed(inc, o);
		return 0;
	default:
		return rc;
	}
	dest = incident_merge_target(inc);
	if (dest == NULL)
		dest = inc;
	if (changed)
		log_info("incident %s: follow-up by %s by SMS (%s %s)%s%s", dest->id,
		    office->id, m->provider, m->id, dest != inc ? " to " : "",
		    dest != inc ? inc->id : "");
	smsact_result(o, "followup", dest->id);
	if (dest != inc)
		smsact_answer(o, "已收到事件 %s 的续报。该事件已并入事件 %s，续报已记入 "
		    "%s。", inc->id, dest->id, dest->id);
	else if (guessed)
		smsact_answer(o, "已作为事件 %s（%s）的续报记录。续报请以事件编号开头，"
		    "如：%s 火势已控制。", inc->id, json_string_value(json_object_get(
		    incident_report(inc), "title")), inc->id);
	else
		smsact_answer(o, "已收到事件 %s 的续报。", inc->id);
	return 0;
}

#define SMSACT_GUESS_WINDOW_MS	(24 * 60 * 60 * 1000)
/* Open incidents a mistyped follow-up looks through, newest first. */
#define SMSACT_GUESS_SCAN	10000
#define SMSACT_LIST_MAX		5	/* open incidents named in an answer */
#define SMSACT_LIST_TITLE	20	/* characters of each title */

/*
 * A text that reads as a follow-up without a usable id (续报…, 补充…,
 * INC20261202-0001…): never a new incident.  The office's one open
 * incident of the last 24 hours takes it; otherwise the office is told
 * which incidents are open and how to write a follow-up.
 */
static int
smsact_followup_guess(const struct config_office *office,
    const struct smsact_msg *m, const struct smsfollow *f,
    struct smsact_outcome *o)
{
	struct incident	*inc, *only = NULL;
	char		*list, *grown, newest[32] = "";
	const char	*title;
	size_t		 cut, seen = 0;
	int		 recent = 0, open = 0, rc, err;

	/* Newest first, among those not closed, a bounded look. */
	if ((list = strdup("")) == NULL)
		return -ENOMEM;
	for (inc = incident_before(INCIDENT_NOT_CLOSED, NULL, &err); inc != NULL &&
	    seen < SMSACT_GUESS_SCAN; inc = incident_older(INCIDENT_NOT_CLOSED,
	    inc), seen++) {
		if (strcmp(inc->office, office->id) != 0)
			continue;
		if (inc->received_at >= m->received_ms - SMSACT_GUESS_WINDOW_MS) {
			recent++;
			only = inc;
		}
		if (++open > SMSACT_LIST_MAX)
			continue;	/* counted, not listed */
		title = json_string_value(json_object_get(incident_report(inc),
		    "title"));
		if (title == NULL)
			title = "";
		cut = utf8_cut(title, strlen(title), SMSACT_LIST_TITLE,
		    UTF8_NOCAP);
		rc = asprintf(&grown, "%s%s %.*s%s；", list, inc->id, (int)cut,
		    title, title[cut] != '\0' ? "…" : "");
		free(list);
		if (rc == -1)
			return -ENOMEM;
		list = grown;
	}
	if (recent == 1) {
		free(list);
		return smsact_followup(office, m, only->id, m->text + f->rest, 1,
		    o);
	}
	o->kind = "followup";
	if (open == 0) {
		free(list);
		smsact_result(o, "followup", "no open incident");
		smsact_answer(o, "本单位没有未办结的事件，短信未登记。如是新报告，请直接"
		    "写事件名称重新发送（不以“%s”或事件编号开头）。",
		    f->word[0] != '\0' ? f->word : "续报");
		return 0;
	}
	smsact_result(o, "followup", recent == 0 ? "no recent incident" :
	    "several open incidents");
	if (open > SMSACT_LIST_MAX)
		snprintf(newest, sizeof(newest), "（最近 %d 起）", SMSACT_LIST_MAX);
	smsact_answer(o, "未能确定续报对应哪起事件，短信未登记。本单位未办结事件%s：%s"
	    "续报请以事件编号开头，如：%.*s 火势已控制。", newest, list,
	    (int)strcspn(list, " "), list);
	free(list);
	return 0;
}

/*
 * What follows the id of a follow-up, as sent: its first line is no title
 * here, and a time in it ("14:30 火势已控制") is part of what happened.
 * When the id was written otherwise (lower case, full width), the report's
 * title and details, which is the text after the id and a time.
 * NULL when out of memory.
 */
static const char *
smsact_after_id(const char *text, struct smsin_report *rep, char **joined)
{
	const char *rest = strstr(text, rep->followup_id);

	*joined = NULL;
	if (rest != NULL) {
		rest += strlen(rep->followup_id);
		return rest + strspn(rest, " \t\r\n,.:;，。：；、");
	}
	if (asprintf(joined, "%s%s%s", rep->title, rep->details != NULL ?
	    "\n" : "", rep->details != NULL ? rep->details : "") == -1)
		*joined = NULL;
	return *joined;
}

static int
smsact_from_office(const struct config *cf, const struct config_office *office,
    const struct smsact_msg *m, struct smsact_outcome *o)
{
	struct smsin_report	 rep;
	struct smsfollow	 follow;
	const char		*words;
	char			*joined;
	int			 allowed, rc;

	snprintf(o->actor, sizeof(o->actor), "office:%s", office->id);
	/* A report is always taken; only the answers are limited (auto-replies loop). */
	allowed = smsact_allow(cf, m->phone, time_now_ms());
	if (m->text == NULL) {
		smsact_result(o, "ignored", "text is not UTF-8");
		return 0;
	}
	rc = smsin_report_parse(m->text, m->received_ms,
	    smsact_utc_offset(m->received_ms), &rep);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		smsact_result(o, "ignored", rc == -E2BIG ? "text too long" :
		    "blank text");
		return 0;
	}
	if (rep.followup_id[0] != '\0') {
		words = smsact_after_id(m->text, &rep, &joined);
		rc = words == NULL ? -ENOMEM : smsact_followup(office, m,
		    rep.followup_id, words, 0, o);
		free(joined);
	} else if (smsfollow_parse(m->text, &follow) == SMSFOLLOW_ID &&
	    incident_find(follow.id) != NULL)
		rc = smsact_followup(office, m, follow.id, m->text + follow.rest,
		    0, o);
	else if (follow.kind != SMSFOLLOW_NONE)
		rc = smsact_followup_guess(office, m, &follow, o);
	else
		rc = smsact_new_report(office, m, &rep, o);
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
smsact_reply_target(const struct smsact_msg *m, const struct smsin_reply *cmd,
    struct smsact_outcome *o)
{
	struct incident	*inc;
	const char	*id;

	if (cmd->code > 0) {
		if ((id = replycode_find(m->phone, cmd->code)) == NULL) {
			smsact_result(o, "reply", "unknown code");
			smsact_answer(o, "代码 %d 没有对应的待处理事件（可能已处置完毕）。"
			    "请按通知短信中的代码回复，如 3A。", cmd->code);
			return NULL;
		}
	} else if (cmd->incident[0] != '\0')
		id = cmd->incident;
	else if ((id = replycode_latest(m->phone)) == NULL) {
		smsact_result(o, "reply", "no incident");
		smsact_answer(o, "没有发给您的待处理事件。请按通知短信中的代码回复，"
		    "如 3A。");
		return NULL;
	}
	if ((inc = incident_find(id)) == NULL) {
		smsact_result(o, "reply", "unknown incident");
		smsact_answer(o, "未找到事件 %s，请核对事件编号。", id);
		return NULL;
	}
	snprintf(o->incident, sizeof(o->incident), "%s", inc->id);
	return inc;
}

typedef int (*smsact_fn)(struct incident *, const char *, const char *,
    int *);

/* What each reply command does, and how its outcome is worded. */
static const struct smsact_action {
	char		 action;
	smsact_fn	 fn;
	const char	*note;		/* the note or reference recorded */
	const char	*done;		/* result when it changed the incident */
	const char	*again;		/* result when it had been done */
	const char	*verb;		/* "事件 X 已由张伟于 14:05 <verb>" */
} smsact_actions[] = {
	{ 'A', incact_acknowledge, "短信回复", "acknowledged",
	    "already acknowledged", "确认" },
	/* Filed by other means (the written report went by fax…): via "other". */
	{ 'F', wrsend_file_other, NULL, "report filed",
	    "report already filed", "记录书面报告已报送" },
	{ 'R', incact_resolve, "短信回复", "resolved", "already resolved",
	    "处置完毕" },
};

/* <n>P: an approver approves the written report's latest version. */
static int
smsact_approve(struct incident *inc, const struct config_person *p,
    const struct smsact_msg *m, struct smsact_outcome *o)
{
	const struct wreport	*w = wreport_find(inc->id);
	char			 t[32], *who;
	int			 changed = 0, rc;

	/*
	 * A text approves what the request's message showed: the version
	 * asked about (or rejected), never one edited since, unseen.
	 */
	if (wreport_approved_by(inc->id) == NULL && (w == NULL ||
	    (w->approval.state != WREPORT_REQUESTED &&
	    w->approval.state != WREPORT_REJECTED) ||
	    w->approval.version != w->version) && wract_may_approve(p->id)) {
		smsact_result(o, "reply", "not the version asked about");
		smsact_answer(o, "事件 %s 的书面报告已修改为第 %d 版，尚未送审，未批准。"
		    "请在值班台查看后批准，或待送审短信到达后回复。", inc->id,
		    wreport_version(inc->id));
		return 0;
	}
	rc = wract_approve(inc, p->id, "短信批准", &changed);
	if (rc == -EPERM) {
		who = wract_approvers_text();
		smsact_result(o, "reply", "not an approver");
		smsact_answer(o, "您此刻不是事件 %s 书面报告的审核人，未批准。此刻可以批准"
		    "的是：%s。", inc->id, who != NULL ? who : "-");
		free(who);
		return 0;
	}
	if (rc == -EALREADY) {
		smsact_result(o, "reply", "incident closed");
		smsact_answer(o, "事件 %s 已合并或核实为误报，其书面报告无需审核。",
		    inc->id);
		return 0;
	}
	if (rc != 0)
		return rc;
	smsact_result(o, "reply", changed ? "report approved" :
	    "report already approved");
	if (changed) {
		smsact_answer(o, "已批准事件 %s 的书面报告（第 %d 版），值班室可以报送。",
		    inc->id, wreport_version(inc->id));
		log_info("incident %s: written report version %d approved by %s by "
		    "SMS reply (%s %s)", inc->id, wreport_version(inc->id), p->id,
		    m->provider, m->id);
	} else
		smsact_answer(o, "事件 %s 的书面报告（第 %d 版）已于 %s 批准，无需再操作。",
		    inc->id, wreport_version(inc->id), smsact_clock(
		    wreport_find(inc->id)->approval.at, t, sizeof(t)));
	return 0;
}

static int
smsact_from_person(const struct config *cf, const struct config_person *p,
    const struct smsact_msg *m, struct smsact_outcome *o)
{
	const struct smsact_action	*a;
	const struct incident_mark *mark;
	struct smsin_reply	 cmd;
	struct incident		*inc;
	char			 t[32];
	int			 changed = 0, rc;

	snprintf(o->actor, sizeof(o->actor), "person:%s", p->id);
	if (!smsact_allow(cf, m->phone, time_now_ms())) {
		smsact_result(o, "rate_limited", "over sms.reply_limit");
		return 0;
	}
	if (m->text == NULL || smsin_reply_parse(m->text, &cmd) != 0) {
		smsact_result(o, "ignored", "not a reply command");
		smsact_answer(o, "%s", SMS_HELP);
		return 0;
	}
	if ((inc = smsact_reply_target(m, &cmd, o)) == NULL)
		return 0;
	if (cmd.action == 'P')
		return smsact_approve(inc, p, m, o);
	a = &smsact_actions[cmd.action == 'A' ? 0 : cmd.action == 'F' ? 1 : 2];
	mark = cmd.action == 'A' ? &inc->ack : cmd.action == 'F' ?
	    &inc->filed : &inc->resolved;
	/* A duplicate or a false report: nothing is left to do on it. */
	if (inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED) {
		mark = &inc->closed;
		smsact_result(o, "reply", inc->state == INCIDENT_MERGED ?
		    "already merged" : "already dismissed");
		smsact_answer(o, "事件 %s 已由%s于 %s %s%s，无需再操作。", inc->id,
		    incview_who(mark), smsact_clock(mark->at, t, sizeof(t)),
		    inc->state == INCIDENT_MERGED ? "并入事件 " : "核实为误报",
		    inc->state == INCIDENT_MERGED ? inc->merged_into : "");
		return 0;
	}
	/* Resolved: acknowledging or filing is moot, say by whom it was closed. */
	if (inc->state == INCIDENT_RESOLVED) {
		a = &smsact_actions[2];
		mark = &inc->resolved;
	} else if ((rc = a->fn(inc, p->id, a->note, &changed)) != 0)
		return rc;
	smsact_result(o, "reply", changed ? a->done : a->again);
	if (!changed)
		smsact_answer(o, "事件 %s 已由%s于 %s %s，无需再操作。", inc->id,
		    incview_who(mark), smsact_clock(mark->at, t, sizeof(t)), a->verb);
	else if (cmd.action == 'A')
		smsact_answer(o, "已确认事件 %s。书面报告时限 %s。", inc->id,
		    smsact_clock(inc->report_clock.deadline, t, sizeof(t)));
	else
		smsact_answer(o, "已记录：事件 %s %s。", inc->id, a->verb);
	if (changed)
		log_info("incident %s: %s by %s by SMS reply (%s %s)", inc->id,
		    o->result, p->id, m->provider, m->id);
	return 0;
}

/* One message -------------------------------------------------------------- */

static int
smsact_record(const struct smsact_msg *m, const struct smsact_outcome *o)
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
	return store_append("sms.received", o->incident[0] != '\0' ?
	    o->incident : NULL, o->actor, data, NULL);
}

/*
 * Takes one message a gateway delivered: acts on it and records it, unless
 * the gateway delivered it before.  0 and *answer (malloc'd, or NULL for
 * no answer), or -errno when it could not be recorded (the gateway should
 * deliver it again).
 */
int
smsact_take(const struct config *cf, const char *provider, const char *id,
    const char *from, const char *to, const char *text, int64_t received_ms,
    char **answer)
{
	const struct config_office	*office;
	const struct config_person	*person;
	struct smsact_msg			 m;
	struct smsact_outcome		 o;
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
	if ((from != NULL && (m.from = utf8_dup_cut(from, SMS_ADDR_MAX,
	    &cut)) == NULL && errno == ENOMEM) ||
	    (to != NULL && (m.to = utf8_dup_cut(to, SMS_ADDR_MAX,
	    &cut)) == NULL && errno == ENOMEM) ||
	    ((m.text = utf8_dup_cut(text != NULL ? text : "", SMSIN_TEXT_MAX,
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
		rc = smsact_from_office(cf, office, &m, &o);
	else if (person != NULL)
		rc = smsact_from_person(cf, person, &m, &o);
	else {
		/* Strangers are not told that this number reaches a duty room. */
		snprintf(o.actor, sizeof(o.actor), "sms:%s", provider);
		smsact_result(&o, "unknown", "unknown number");
		rc = 0;
	}
	if (rc == 0)
		rc = smsact_record(&m, &o);
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

