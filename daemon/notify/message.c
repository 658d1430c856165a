/*
 * message.c: what a notification says (see message.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/utf8.h"
#include "config/channel.h"
#include "config/config.h"
#include "config/template.h"
#include "notify/links.h"
#include "notify/message.h"
#include "notify/smsfit.h"
#include "state/incident.h"
#include "state/incview.h"

#define MESSAGE_BUNDLE_LINES_MAX	(16 * 1024)	/* bytes of the list in a bundle */

/* Built-in templates, compiled once: [0] text, [1] title; by event name. */
struct builtin {
	const char	*event;
	struct tmpl	*t[2];
};

static struct builtin	 builtins[24];
static size_t		 nbuiltins;

void
message_shutdown(void)
{
	size_t i;

	for (i = 0; i < nbuiltins; i++) {
		tmpl_free(builtins[i].t[0]);
		tmpl_free(builtins[i].t[1]);
	}
	nbuiltins = 0;
}

static const struct tmpl *
builtin(const char *event, int title)
{
	const char	*src;
	size_t		 i;

	for (i = 0; i < nbuiltins; i++)
		if (strcmp(builtins[i].event, event) == 0)
			return builtins[i].t[title];
	if (nbuiltins == sizeof(builtins) / sizeof(builtins[0]))
		return NULL;
	if ((src = tmpl_default(event)) == NULL)
		return NULL;
	builtins[nbuiltins].event = event;
	if (tmpl_compile(src, &builtins[nbuiltins].t[0], NULL, NULL, 0) != 0 ||
	    tmpl_compile(tmpl_default_title(event), &builtins[nbuiltins].t[1],
	    NULL, NULL, 0) != 0) {
		tmpl_free(builtins[nbuiltins].t[0]);
		builtins[nbuiltins].t[0] = NULL;
		return NULL;
	}
	/* Event names are static strings (notify_event_name(), literals). */
	return builtins[nbuiltins++].t[title];
}

static const struct tmpl *
template_for(const struct config *cf, const struct config_channel *ch,
    const char *event, int title)
{
	const struct tmpl	*t;
	char			 key[96];

	snprintf(key, sizeof(key), "%s%s", event, title ? ".title" : "");
	if ((t = config_template(cf, ch, key)) != NULL)
		return t;
	return builtin(event, title);
}

/* The latest word on a report field (a follow-up may have corrected it). */
static const char *
message_fact(const struct incident *inc, const char *key, const char *sub)
{
	return json_string_value(incident_fact(inc, key, sub));
}

/* Characters of a delivery error a message quotes. */
#define MESSAGE_REASON_CHARS	40

/* Buffers the values point into. */
struct varbufs {
	char	level_no[32], level[32], received[32], occurred[32], deadline[32];
	char	ack_deadline[32], report_deadline[32], late[160];
	char	casualties[128], late_report[64];
	char	*facts;		/* malloc'd */
	char	report_due[128];
	char	remark[8 * 1024 + 32];	/* a note: 2,000 characters at most */
	char	into[1024];		/* the incident merged into: id and title */
};

static const char *const message_casualty_kinds[][2] = {
	{ "dead", "死亡" }, { "injured", "受伤" }, { "missing", "失踪" },
};

/* Appends "、死亡1人" for N (an integer, else nothing). */
static size_t
message_casualty(char *buf, size_t len, size_t used, size_t kind, json_t *n)
{
	if (!json_is_integer(n) || used >= len)
		return used;
	return used + (size_t)snprintf(buf + used, len - used, "%s%s%lld人",
	    used > 0 ? "、" : "", message_casualty_kinds[kind][1],
	    (long long)json_integer_value(n));
}

/* A note, a reason, a reference: given and not only white space. */
static int
given(const char *s)
{
	return s != NULL && s[strspn(s, " \t\r\n")] != '\0';
}

/* Where the written report stands as this message is made. */
static const char *
report_due(const struct incident *inc, struct varbufs *b)
{
	if (inc->filed.at != 0)
		snprintf(b->report_due, sizeof(b->report_due), "书面报告已报送");
	else if (inc->report_clock.fired_at != 0 ||
	    time_now_ms() >= inc->report_clock.deadline)
		snprintf(b->report_due, sizeof(b->report_due), "书面报告已超时"
		    "（时限 %s），请立即报送", b->report_deadline);
	else
		snprintf(b->report_due, sizeof(b->report_due), "书面报告须于 %s "
		    "前报送", b->report_deadline);
	return b->report_due;
}

/* "死亡1人、受伤5人": only the numbers given, the latest of each. */
static void
message_casualties(const struct incident *inc, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < 3; i++)
		used = message_casualty(buf, len, used, i, incident_fact(inc,
		    "casualties", message_casualty_kinds[i][0]));
}

/* printf at buf[*n], whose size is known to be enough. */
static void __attribute__((format(printf, 4, 5)))
message_add(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list	 ap;
	int	 w;

	va_start(ap, fmt);
	w = vsnprintf(buf + *n, size - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w < size - *n ? (size_t)w : size - *n - 1;
}

/*
 * "地点：X；伤亡：…；报告人：张三（电话 138…）。": the facts a leader decides
 * on, only those known, for the default texts.  NULL when out of memory.
 * Sized up front: a memory stream per message cost more than the text.
 */
static char *
message_facts(const char *location, const char *name, const char *phone,
    const char *casualties)
{
	const char	*sep = "";
	char		*out;
	size_t		 size, n = 0;

	/* The labels and separators take fewer than 64 bytes. */
	size = strlen(casualties) + (location != NULL ? strlen(location) : 0) +
	    (name != NULL ? strlen(name) : 0) +
	    (phone != NULL ? strlen(phone) : 0) + 64;
	if ((out = malloc(size)) == NULL)
		return NULL;
	out[0] = '\0';
	if (casualties[0] != '\0') {
		message_add(out, size, &n, "伤亡：%s", casualties);
		sep = "；";
	}
	if (location != NULL) {
		message_add(out, size, &n, "%s地点：%s", sep, location);
		sep = "；";
	}
	if (name != NULL || phone != NULL) {
		message_add(out, size, &n, "%s报告人：%s", sep,
		    name != NULL ? name : "");
		if (phone != NULL)
			message_add(out, size, &n, "%s（回电 %s）",
			    name != NULL ? "" : " ", phone);
		sep = "；";
	}
	if (*sep != '\0')
		message_add(out, size, &n, "。");
	return out;
}

/*
 * What every incident message can say.  0, or -ENOMEM; the caller frees
 * b->facts either way.
 */
static int
incident_vars(const struct config *cf, const struct incident *inc,
    enum notify_event ev, int level, int64_t late_ms, const char *url,
    struct tmpl_vars *v, struct varbufs *b)
{
	const struct incident_mark *mark = NULL;
	const char	*grade = message_fact(inc, "level", NULL);
	int64_t		 occurred, past;

	memset(v, 0, sizeof(*v));
	b->facts = NULL;
	v->v[TMPL_ID] = inc->id;
	v->v[TMPL_OFFICE] = inc->office_name != NULL ? inc->office_name :
	    inc->office;
	v->v[TMPL_TITLE] = json_string_value(json_object_get(incident_report(inc),
	    "title"));
	if (grade != NULL)
		snprintf(b->level, sizeof(b->level), "%s级", grade);
	else
		snprintf(b->level, sizeof(b->level), "级别未定");
	v->v[TMPL_LEVEL] = b->level;
	v->v[TMPL_LOCATION] = message_fact(inc, "location", NULL);
	v->v[TMPL_DETAILS] = message_fact(inc, "details", NULL);
	v->v[TMPL_CATEGORY] = message_fact(inc, "category", NULL);
	v->v[TMPL_CAUSE] = message_fact(inc, "cause", NULL);
	v->v[TMPL_MEASURES] = message_fact(inc, "measures", NULL);
	v->v[TMPL_REPORTER] = message_fact(inc, "reporter", "name");
	v->v[TMPL_REPORTER_PHONE] = message_fact(inc, "reporter", "phone");
	message_casualties(inc, b->casualties, sizeof(b->casualties));
	v->v[TMPL_CASUALTIES] = b->casualties;
	v->v[TMPL_RECEIVED_AT] = time_local(inc->received_at, "%m-%d %H:%M",
	    b->received, sizeof(b->received));
	occurred = 0;
	b->late_report[0] = '\0';
	if (time_parse(json_string_value(json_object_get(incident_report(inc),
	    "occurred_at")), &occurred) == 0) {
		v->v[TMPL_OCCURRED_AT] = time_local(occurred, "%m-%d %H:%M",
		    b->occurred, sizeof(b->occurred));
		/* Whole minutes past the county's deadline, one at least. */
		past = inc->received_at - occurred - cf->policy.county_deadline_ms;
		if (inc->late_report)
			snprintf(b->late_report, sizeof(b->late_report),
			    "（迟报 %lld 分钟）", (long long)(past > 60000 ?
			    past / 60000 : 1));
	}
	v->v[TMPL_LATE_REPORT] = b->late_report;
	v->v[TMPL_ACK_DEADLINE] = time_local(inc->ack_clock.deadline, "%H:%M",
	    b->ack_deadline, sizeof(b->ack_deadline));
	v->v[TMPL_REPORT_DEADLINE] = time_local(inc->report_clock.deadline,
	    "%H:%M", b->report_deadline, sizeof(b->report_deadline));
	v->v[TMPL_REPORT_DUE] = report_due(inc, b);
	v->v[TMPL_DEADLINE] = ev == NOTIFY_OVERDUE || ev == NOTIFY_FILED ||
	    inc->state != INCIDENT_OPEN ? v->v[TMPL_REPORT_DEADLINE] :
	    v->v[TMPL_ACK_DEADLINE];
	v->v[TMPL_LINK] = url;
	v->v[TMPL_EVENT] = notify_event_name(ev);
	if (ev == NOTIFY_ESCALATED) {
		snprintf(b->level_no, sizeof(b->level_no), "第%d级", level >= 2 ?
		    level : 1);
		v->v[TMPL_LEVEL_NO] = b->level_no;
	}
	if (ev == NOTIFY_ACKNOWLEDGED)
		mark = &inc->ack;
	else if (ev == NOTIFY_FILED)
		mark = &inc->filed;
	else if (ev == NOTIFY_RESOLVED)
		mark = &inc->resolved;
	else if (ev == NOTIFY_MERGED || ev == NOTIFY_DISMISSED)
		mark = &inc->closed;
	if (mark != NULL && mark->at != 0) {
		v->v[TMPL_ACTOR] = incview_who(mark);
		if (ev == NOTIFY_FILED)
			v->v[TMPL_REFERENCE] = given(mark->text) ? mark->text :
			    "未填写";
		else
			v->v[TMPL_NOTE] = mark->text;
		if (ev != NOTIFY_FILED && given(mark->text)) {
			snprintf(b->remark, sizeof(b->remark), "（备注：%s）",
			    mark->text);
			v->v[TMPL_REMARK] = b->remark;
		}
	}
	if (ev == NOTIFY_MERGED) {
		const struct incident *into = incident_find(inc->merged_into);
		const char *t = into != NULL ? json_string_value(
		    json_object_get(incident_report(into), "title")) : NULL;

		if (t != NULL)
			snprintf(b->into, sizeof(b->into), "%s“%s”",
			    inc->merged_into, t);
		else
			snprintf(b->into, sizeof(b->into), "%s", inc->merged_into);
		v->v[TMPL_DETAILS] = b->into;
	}
	b->late[0] = '\0';
	if (late_ms >= 5000)
		snprintf(b->late, sizeof(b->late), "（到期时 dutyd 未能发出，"
		    "晚发 %lld 分 %lld 秒）", (long long)(late_ms / 60000),
		    (long long)(late_ms / 1000 % 60));
	v->v[TMPL_LATE] = b->late;
	/* The facts incident_fact() gave above: it walks every follow-up. */
	if ((b->facts = message_facts(v->v[TMPL_LOCATION], v->v[TMPL_REPORTER],
	    v->v[TMPL_REPORTER_PHONE], b->casualties)) == NULL)
		return -ENOMEM;
	v->v[TMPL_FACTS] = b->facts;
	return 0;
}

/* A channel as the duty room names it: "钉钉", not "dingtalk" or "ding". */
const char *
message_channel_label(const char *channel)
{
	static const char *const labels[][2] = {
		{ "dingtalk", "钉钉" }, { "wecom", "企业微信" }, { "feishu", "飞书" },
		{ "email", "邮件" }, { "twilio_sms", "短信" },
		{ "aliyun_sms", "短信" }, { "webhook", "webhook" },
	};
	const struct config_channel	*ch;
	const char			*plugin;
	size_t				 i;

	if ((ch = config_channel(config_current(), channel)) == NULL)
		return channel;
	plugin = channel_plugin_abi(ch->plugin)->name;
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(plugin, labels[i][0]) == 0)
			return labels[i][1];
	return channel;
}

void
message_clear(struct message *m)
{
	free(m->title);
	free(m->text);
	free(m->url);
	memset(m, 0, sizeof(*m));
}

static int
message_is_sms(const struct config_channel *ch)
{
	return (channel_plugin_abi(ch->plugin)->flags & DUTYD_PLUGIN_SMS) != 0;
}

/*
 * An SMS text with its hint within max_segments: {details} gives way
 * first (shortened a character at a time, then left out), so the title,
 * level, casualties and deadlines stay; then smsfit_message() cuts what
 * is left before the link, never the link or the hint.
 */
static int
render_sms(const struct config_channel *ch, const struct tmpl *text,
    struct tmpl_vars *v, struct message *m, const char *hint)
{
	const char	*details = v->v[TMPL_DETAILS];
	char		*cut = NULL, *whole;
	size_t		 lo = 0, hi, mid, n;
	int		 fits;

	if (hint == NULL)
		hint = "";
	if (asprintf(&whole, "%s%s", m->text, hint) == -1)
		return -ENOMEM;
	fits = smsfit_segments(whole) <= ch->max_segments;
	free(whole);
	if (fits || details == NULL || *details == '\0')
		return smsfit_message(ch->max_segments, m->url, hint, &m->text);
	/* The longest cut of the details that fits: search on characters. */
	hi = utf8_length(details);
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		n = utf8_cut(details, strlen(details), mid, UTF8_NOCAP);
		free(cut);
		if (asprintf(&cut, "%.*s…", (int)n, details) == -1) {
			cut = NULL;
			return -ENOMEM;
		}
		v->v[TMPL_DETAILS] = cut;
		free(m->text);
		if ((m->text = tmpl_render(text, v)) == NULL ||
		    asprintf(&whole, "%s%s", m->text, hint) == -1) {
			free(cut);
			return -ENOMEM;
		}
		fits = smsfit_segments(whole) <= ch->max_segments;
		free(whole);
		if (fits)
			lo = mid;
		else
			hi = mid - 1;
	}
	free(cut);
	cut = NULL;
	if (lo > 0) {
		n = utf8_cut(details, strlen(details), lo, UTF8_NOCAP);
		if (asprintf(&cut, "%.*s…", (int)n, details) == -1)
			return -ENOMEM;
	}
	v->v[TMPL_DETAILS] = cut;
	free(m->text);
	m->text = tmpl_render(text, v);
	v->v[TMPL_DETAILS] = details;
	free(cut);
	if (m->text == NULL)
		return -ENOMEM;
	return smsfit_message(ch->max_segments, m->url, hint, &m->text);
}

static int
render(const struct config *cf, const struct config_channel *ch,
    const char *event, struct tmpl_vars *v, struct message *m,
    const char *hint)
{
	const struct tmpl *text = template_for(cf, ch, event, 0);
	const struct tmpl *title = template_for(cf, ch, event, 1);

	if (text == NULL || title == NULL)
		return -ENOMEM;
	if ((m->text = tmpl_render(text, v)) == NULL ||
	    (m->title = tmpl_render(title, v)) == NULL)
		return -ENOMEM;
	if (!message_is_sms(ch))
		return 0;
	return render_sms(ch, text, v, m, hint);
}

/*
 * 交接班: the incoming shift, the open incidents and the outgoing's note,
 * as recorded at the handover; the reader's link accepts it (接班确认).
 */
static int
message_handover(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	struct tmpl_vars	 v;
	char			 count[16];
	int			 rc, tap;

	tap = d->link[0] != '\0' && links_url(cf, d->link, &m->url) == 0;
	if (!tap && (m->url = strdup(cf->public_url)) == NULL)
		return -ENOMEM;
	memset(&v, 0, sizeof(v));
	v.v[TMPL_NOTE] = json_string_value(json_object_get(d->extra, "note"));
	v.v[TMPL_ACTION] = tap ? "接班确认" : "详情";
	snprintf(count, sizeof(count), "%lld", (long long)json_integer_value(
	    json_object_get(d->extra, "count")));
	v.v[TMPL_SHIFT] = json_string_value(json_object_get(d->extra, "shift"));
	v.v[TMPL_COUNT] = count;
	v.v[TMPL_INCIDENTS] = json_string_value(json_object_get(d->extra,
	    "incidents"));
	v.v[TMPL_LINK] = m->url;
	v.v[TMPL_EVENT] = "duty.handover";
	if ((rc = render(cf, ch, "duty.handover", &v, m, NULL)) != 0)
		message_clear(m);
	return rc;
}

/*
 * 接班未确认, to the leader on duty: the texts the action wrote ({shift},
 * since {received_at}, {deadline}, who {actor}, how to reach them
 * {details}); the link is the duty log.
 */
static int
message_accept_overdue(const struct config *cf,
    const struct config_channel *ch, const struct message_about *d,
    struct message *m)
{
	static const char *const keys[] = { "shift", "since", "deadline",
	    "who", "reach" };
	static const enum tmpl_var vars[] = { TMPL_SHIFT, TMPL_RECEIVED_AT,
	    TMPL_DEADLINE, TMPL_ACTOR, TMPL_DETAILS };
	struct tmpl_vars	 v;
	char			 late[160] = "";
	size_t			 i;
	int			 rc;

	if (asprintf(&m->url, "%s/dutylog", cf->public_url) == -1) {
		m->url = NULL;
		return -ENOMEM;
	}
	memset(&v, 0, sizeof(v));
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		v.v[vars[i]] = json_string_value(json_object_get(d->extra,
		    keys[i]));
	if (d->late_ms >= 60000)
		snprintf(late, sizeof(late), "（到期时 dutyd 未能发出，晚发 %lld "
		    "分钟）", (long long)(d->late_ms / 60000));
	v.v[TMPL_LATE] = late;
	v.v[TMPL_LINK] = m->url;
	v.v[TMPL_EVENT] = "duty.accept_overdue";
	if ((rc = render(cf, ch, "duty.accept_overdue", &v, m, NULL)) != 0)
		message_clear(m);
	return rc;
}

/*
 * 批示件督办: a directive's reminder or the leader's alarm, from what the
 * intent recorded ({id, title, owner_name, submit_by, issued_by, note});
 * the link is the directive's page.
 */
static int
message_is_directive(enum notify_event ev)
{
	return ev == NOTIFY_DIRECTIVE_REMINDER || ev == NOTIFY_DIRECTIVE_OVERDUE;
}

/* A directive's placeholders from the intent's EXTRA. */
static void
directive_vars(const struct message_about *d, const char *url,
    const char *late, struct tmpl_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->v[TMPL_ID] = json_string_value(json_object_get(d->extra, "id"));
	v->v[TMPL_TITLE] = json_string_value(json_object_get(d->extra, "title"));
	v->v[TMPL_OFFICE] = json_string_value(json_object_get(d->extra,
	    "owner_name"));
	v->v[TMPL_DEADLINE] = json_string_value(json_object_get(d->extra,
	    "submit_by"));
	v->v[TMPL_ACTOR] = json_string_value(json_object_get(d->extra,
	    "issued_by"));
	v->v[TMPL_NOTE] = json_string_value(json_object_get(d->extra, "note"));
	v->v[TMPL_LATE] = late;
	v->v[TMPL_LINK] = url;
	v->v[TMPL_ACTION] = "详情";
	v->v[TMPL_EVENT] = notify_event_name(d->event);
}

static int
message_directive(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	struct tmpl_vars	 v;
	const char		*id = json_string_value(json_object_get(d->extra,
				    "id"));
	char			 late[96] = "";
	int			 rc;

	if (id == NULL)
		return -EINVAL;
	if (asprintf(&m->url, "%s/directives/%s", cf->public_url, id) == -1) {
		m->url = NULL;
		return -ENOMEM;
	}
	if (d->late_ms >= 60000)
		snprintf(late, sizeof(late), "（值班系统停机，本提醒晚发 %lld 分钟）",
		    (long long)(d->late_ms / 60000));
	directive_vars(d, m->url, late, &v);
	if ((rc = render(cf, ch, notify_event_name(d->event), &v, m, NULL)) != 0)
		message_clear(m);
	return rc;
}

/*
 * A vendor's error cut to what a reader takes in at a glance (the record
 * and the incident keep it whole): "钉钉 errcode 310000: sign not match…".
 */
static const char *
message_short(const char *s, char *buf, size_t len)
{
	size_t n;

	if (s == NULL)
		return NULL;
	n = utf8_cut(s, strlen(s), MESSAGE_REASON_CHARS, len - sizeof("…"));
	snprintf(buf, len, "%.*s%s", (int)n, s, s[n] != '\0' ? "…" : "");
	return buf;
}

/* What a follow-up says, in one line: the fields it brought. */
static char *
update_summary(const struct incident *inc, int n)
{
	json_t	*f = json_object_get(json_array_get(inc->updates,
	    (size_t)(n > 0 ? n - 1 : 0)), "fields"), *c;
	char	*out = NULL, casualties[128] = "";
	FILE	*fp;
	size_t	 len = 0, i, used = 0;
	const char *sep = "";

	if ((fp = open_memstream(&out, &len)) == NULL)
		return NULL;
	c = json_object_get(f, "casualties");
	for (i = 0; i < 3; i++)
		used = message_casualty(casualties, sizeof(casualties), used, i,
		    json_object_get(c, message_casualty_kinds[i][0]));
	if (casualties[0] != '\0') {
		fprintf(fp, "伤亡：%s", casualties);
		sep = "；";
	}
	if (json_object_get(f, "level") != NULL) {
		fprintf(fp, "%s级别：%s级", sep, json_string_value(
		    json_object_get(f, "level")));
		sep = "；";
	}
	if (json_object_get(f, "measures") != NULL) {
		fprintf(fp, "%s措施：%s", sep, json_string_value(
		    json_object_get(f, "measures")));
		sep = "；";
	}
	if (json_object_get(f, "location") != NULL) {
		fprintf(fp, "%s地点：%s", sep, json_string_value(
		    json_object_get(f, "location")));
		sep = "；";
	}
	if (json_object_get(f, "cause") != NULL) {
		fprintf(fp, "%s原因：%s", sep, json_string_value(
		    json_object_get(f, "cause")));
		sep = "；";
	}
	if ((c = json_object_get(f, "reporter")) != NULL) {
		fprintf(fp, "%s报告人：%s", sep,
		    json_string_value(json_object_get(c, "name")) ?: "");
		if (json_string_value(json_object_get(c, "phone")) != NULL)
			fprintf(fp, "（回电 %s）", json_string_value(
			    json_object_get(c, "phone")));
		sep = "；";
	}
	if (json_object_get(f, "details") != NULL)
		fprintf(fp, "%s%s", sep, json_string_value(json_object_get(f,
		    "details")));
	if (fclose(fp) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The written report itself, to the province: its title and text as
 * sent ({title}, {details}), the 文号 ({reference}).
 */
static int
message_report(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	const struct incident	*inc = d->inc;
	struct tmpl_vars	 v;
	int			 rc;

	if ((m->url = strdup(cf->public_url)) == NULL)
		return -ENOMEM;
	memset(&v, 0, sizeof(v));
	if (inc != NULL) {
		v.v[TMPL_ID] = inc->id;
		v.v[TMPL_OFFICE] = inc->office_name != NULL ? inc->office_name :
		    inc->office;
	}
	v.v[TMPL_TITLE] = json_string_value(json_object_get(d->extra, "title"));
	v.v[TMPL_DETAILS] = json_string_value(json_object_get(d->extra, "body"));
	v.v[TMPL_REFERENCE] = json_string_value(json_object_get(d->extra,
	    "reference"));
	v.v[TMPL_LINK] = m->url;
	v.v[TMPL_EVENT] = "report.submitted";
	if ((rc = render(cf, ch, "report.submitted", &v, m, NULL)) != 0)
		message_clear(m);
	return rc;
}

/*
 * 书面报告待审核, to an approver: the draft's title and text ({details}),
 * the version ({note}), their one-tap approve link and the SMS code <n>P.
 */
static int
message_approval(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	struct tmpl_vars	 v;
	struct varbufs		 b;
	char			*draft = NULL, hint[64] = "", note[64];
	int			 rc, tap;

	tap = d->link[0] != '\0' && links_url(cf, d->link, &m->url) == 0;
	if (!tap && (m->url = incview_url(cf, d->inc)) == NULL)
		return -ENOMEM;
	rc = incident_vars(cf, d->inc, d->event, 0, d->late_ms, m->url, &v, &b);
	if (rc == 0 && asprintf(&draft, "%s\n\n%s", json_string_value(
	    json_object_get(d->extra, "title")) ?: "", json_string_value(
	    json_object_get(d->extra, "body")) ?: "") < 0) {
		draft = NULL;
		rc = -ENOMEM;
	}
	snprintf(note, sizeof(note), "第 %lld 版", (long long)json_integer_value(
	    json_object_get(d->extra, "version")));
	v.v[TMPL_NOTE] = note;
	v.v[TMPL_DETAILS] = draft;
	v.v[TMPL_ACTION] = tap ? "批准" : "详情";
	if (d->code > 0 && message_is_sms(ch))
		snprintf(hint, sizeof(hint), " 回复%dP批准", d->code);
	if (rc == 0)
		rc = render(cf, ch, "report.approval_requested", &v, m, hint);
	if (rc != 0)
		message_clear(m);
	free(draft);
	free(b.facts);
	return rc;
}

/* 书面报告提醒: what is missing ({details}) and the time left ({note}). */
static void
message_reminder(const json_t *extra, struct tmpl_vars *v, char *note,
    size_t len)
{
	json_int_t left = json_integer_value(json_object_get(extra, "left_ms"));

	if (left >= 60000)
		snprintf(note, len, "%lld 分钟", (long long)(left / 60000));
	else
		snprintf(note, len, "%lld 秒", (long long)(left > 0 ?
		    left / 1000 : 0));
	v->v[TMPL_NOTE] = note;
	v->v[TMPL_DETAILS] = json_string_value(json_object_get(extra,
	    "missing"));
}

int
message_render(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	const struct incident	*inc = d->inc;
	struct tmpl_vars	 v;
	struct varbufs		 b;
	char			*details = NULL, hint[96] = "", note[160];
	int			 rc, tap, can_file;

	memset(m, 0, sizeof(m[0]));
	if (d->event == NOTIFY_HANDOVER)
		return message_handover(cf, ch, d, m);
	if (d->event == NOTIFY_ACCEPT_OVERDUE)
		return message_accept_overdue(cf, ch, d, m);
	if (d->event == NOTIFY_REPLY) {
		memset(&v, 0, sizeof(v));
		v.v[TMPL_DETAILS] = json_string_value(json_object_get(d->extra,
		    "text"));
		if ((m->url = strdup(cf->public_url)) == NULL)
			return -ENOMEM;
		v.v[TMPL_LINK] = m->url;
		if ((rc = render(cf, ch, "sms.reply", &v, m, NULL)) != 0)
			message_clear(m);
		return rc;
	}
	if (d->event == NOTIFY_REPORT_SUBMITTED)
		return message_report(cf, ch, d, m);
	if (message_is_directive(d->event))
		return message_directive(cf, ch, d, m);
	if (inc == NULL)
		return -ENOENT;
	if (d->event == NOTIFY_APPROVAL_REQUESTED)
		return message_approval(cf, ch, d, m);
	/*
	 * A one-tap link only acknowledges, and only while nobody has; every
	 * other link is the incident's page, which never acts (a duplicate or
	 * a false report's too: nothing is left to do).
	 */
	tap = d->link[0] != '\0' && inc->state == INCIDENT_OPEN &&
	    links_url(cf, d->link, &m->url) == 0;
	if (!tap && (m->url = incview_url(cf, inc)) == NULL)
		return -ENOMEM;
	rc = incident_vars(cf, inc, d->event, d->level, d->late_ms, m->url, &v,
	    &b);
	v.v[TMPL_ACTION] = tap ? "确认" : "详情";
	if (rc == 0 && d->event == NOTIFY_UNDELIVERABLE) {
		v.v[TMPL_ACTOR] = json_string_value(json_object_get(d->extra,
		    "name"));
		v.v[TMPL_NOTE] = message_short(json_string_value(
		    json_object_get(d->extra, "reason")), note, sizeof(note));
	}
	if (rc == 0 && d->event == NOTIFY_REPORT_REMINDER)
		message_reminder(d->extra, &v, note, sizeof(note));
	if (rc == 0 && d->event == NOTIFY_UPDATED) {
		if ((details = update_summary(inc, d->update)) == NULL)
			rc = -ENOMEM;
		v.v[TMPL_DETAILS] = details;
	}
	/* Replies act while there is something left to do. */
	can_file = !incident_is_closed(inc) && inc->filed.at == 0;
	if (d->code > 0 && can_file && message_is_sms(ch))
		snprintf(hint, sizeof(hint), inc->ack.at == 0 ?
		    " 回复%dA确认，%dF已报省" : " 回复%dF已报省", d->code, d->code);
	if (rc == 0)
		rc = render(cf, ch, notify_event_name(d->event), &v, m, hint);
	if (rc != 0)
		message_clear(m);
	free(details);
	free(b.facts);
	return rc;
}

int
message_render_bundle(const struct config *cf, const struct config_channel *ch,
    const struct message_about *ds, size_t n, struct message *m)
{
	struct tmpl_vars	 v, iv;
	struct varbufs		 b;
	const struct incident	*inc;
	const struct tmpl	*line;
	char			*list = NULL, *one, *url, count[16];
	size_t			 len = 0, i, l;
	int			 rc = -ENOMEM;

	memset(m, 0, sizeof(*m));
	if ((m->url = strdup(cf->public_url)) == NULL)
		return -ENOMEM;
	/* One line per message: its own title, as the channel would title it alone. */
	for (i = 0; i < n; i++) {
		line = template_for(cf, ch, notify_event_name(ds[i].event), 1);
		if ((inc = ds[i].inc) == NULL && message_is_directive(ds[i].event)) {
			/* Many directives are reminded at remind_at: each keeps its line. */
			if (line == NULL)
				goto out;
			directive_vars(&ds[i], m->url, "", &iv);
			one = tmpl_render(line, &iv);
		} else if (inc == NULL)
			continue;	/* the desk's: its text is its own */
		else {
			if (line == NULL || (url = incview_url(cf, inc)) == NULL)
				goto out;
			rc = incident_vars(cf, inc, ds[i].event, ds[i].level,
			    ds[i].late_ms, url, &iv, &b);
			iv.v[TMPL_ACTION] = "详情";
			one = rc == 0 ? tmpl_render(line, &iv) : NULL;
			free(url);
			free(b.facts);
		}
		rc = -ENOMEM;
		if (one == NULL)
			goto out;
		l = strlen(one);
		if (len + l + 2 <= MESSAGE_BUNDLE_LINES_MAX) {
			char *grown = realloc(list, len + l + 2);

			if (grown == NULL) {
				free(one);
				goto out;
			}
			list = grown;
			memcpy(list + len, one, l);
			len += l;
			list[len++] = '\n';
			list[len] = '\0';
		}
		free(one);
	}
	if (len > 0)
		list[len - 1] = '\0';
	memset(&v, 0, sizeof(v));
	snprintf(count, sizeof(count), "%zu", n);
	v.v[TMPL_COUNT] = count;
	v.v[TMPL_INCIDENTS] = list;
	v.v[TMPL_LINK] = m->url;
	v.v[TMPL_EVENT] = "dutyd.bundle";
	rc = render(cf, ch, "dutyd.bundle", &v, m, NULL);
out:
	free(list);
	if (rc != 0)
		message_clear(m);
	return rc;
}
