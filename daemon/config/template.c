/*
 * Message templates and SMS text fitting (see template.h).
 *
 * A compiled template is a list of parts, each either a run of literal text
 * (escapes already folded) or a placeholder, so rendering is one sizing
 * pass and one copy.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/template.h"
#include "base/utf8.h"

#define LITERAL		(-1)
#define NAME_SHOWN_MAX	40	/* bytes of an unknown name quoted in a message */

static const char *const var_names[TMPL_NVARS] = {
	[TMPL_ID] = "id",
	[TMPL_OFFICE] = "office",
	[TMPL_TITLE] = "title",
	[TMPL_LEVEL] = "level",
	[TMPL_LOCATION] = "location",
	[TMPL_DETAILS] = "details",
	[TMPL_RECEIVED_AT] = "received_at",
	[TMPL_OCCURRED_AT] = "occurred_at",
	[TMPL_DEADLINE] = "deadline",
	[TMPL_ACK_DEADLINE] = "ack_deadline",
	[TMPL_REPORT_DEADLINE] = "report_deadline",
	[TMPL_LINK] = "link",
	[TMPL_ACTOR] = "actor",
	[TMPL_REFERENCE] = "reference",
	[TMPL_NOTE] = "note",
	[TMPL_LATE] = "late",
	[TMPL_EVENT] = "event",
	[TMPL_LEVEL_NO] = "escalation_level",
	[TMPL_INCIDENTS] = "incidents",
	[TMPL_COUNT] = "count",
	[TMPL_SHIFT] = "shift",
	[TMPL_CATEGORY] = "category",
	[TMPL_CAUSE] = "cause",
	[TMPL_MEASURES] = "measures",
	[TMPL_CASUALTIES] = "casualties",
	[TMPL_REPORTER] = "reporter",
	[TMPL_REPORTER_PHONE] = "reporter_phone",
	[TMPL_LATE_REPORT] = "late_report",
	[TMPL_FACTS] = "facts",
	[TMPL_ACTION] = "action",
	[TMPL_REPORT_DUE] = "report_due",
	[TMPL_REMARK] = "remark",
};

/*
 * Defaults follow the texts duty staff already know: a 【tag】, who
 * reported what, the deadline that runs, then the link.  Short, because
 * SMS is the main channel and every 67 characters is another part.
 */
static const struct {
	const char	*event;
	const char	*title;
	const char	*text;
} defaults[] = {
	/*
	 * The facts a leader decides on come first and the details last:
	 * an SMS that must be cut loses the details, never the deadlines.
	 */
	{ "incident.new", "【突发事件】{office}：{title}",
	    "【突发事件】{office}报告：{title}（{level}）{late_report}。{facts}"
	    "接报 {received_at}，确认时限 {ack_deadline}，书面报告时限 "
	    "{report_deadline}。{late}{details}{action}：{link}" },
	{ "incident.escalated", "【超时未确认】{office}：{title}",
	    "【超时未确认】{office}报告：{title}（{level}）{late_report}，确认时限 "
	    "{ack_deadline} 已过仍无人确认，已{escalation_level}升级。{facts}"
	    "书面报告时限 {report_deadline}。{late}{details}{action}：{link}" },
	{ "incident.report_overdue", "【书面报告超时】{office}：{title}",
	    "【书面报告超时】{office}报告的“{title}”（{level}，{received_at} 接报）"
	    "未在 {report_deadline} 前向省级报送书面报告，请立即报送。{facts}{late}"
	    "{action}：{link}" },
	{ "incident.acknowledged", "【已确认】{office}：{title}",
	    "【已确认】{office}报告的“{title}”（{level}）已由{actor}确认{remark}，"
	    "{report_due}。详情：{link}" },
	{ "incident.report_filed", "【书面报告已报送】{office}：{title}",
	    "【书面报告已报送】{office}报告的“{title}”书面报告已由{actor}报送"
	    "（文号：{reference}）。详情：{link}" },
	{ "incident.resolved", "【处置完毕】{office}：{title}",
	    "【处置完毕】{office}报告的“{title}”已由{actor}标记为处置完毕。"
	    "详情：{link}" },
	{ "incident.updated", "【续报】{office}：{title}",
	    "【续报】{office}报告的“{title}”（{level}）续报：{details}。"
	    "{action}：{link}" },
	{ "notify.undeliverable", "【通知失败】无法通知 {actor}",
	    "【通知失败】无法通知 {actor}（{note}），请电话联系。事件：{office}报告的"
	    "“{title}”（{level}），确认时限 {ack_deadline}，书面报告时限 "
	    "{report_deadline}。详情：{link}" },
	{ "incident.merged", "【重复报告】{office}：{title}",
	    "【重复报告】{office}报告的“{title}”（{id}）与 {details} 为同一事件，"
	    "已由{actor}合并，后续以该事件为准。详情：{link}" },
	{ "incident.dismissed", "【误报】{office}：{title}",
	    "【误报】{office}报告的“{title}”（{id}）经{actor}核实为误报，已撤销。"
	    "原因：{note}。详情：{link}" },
	{ "sms.reply", "{details}", "{details}" },
	/* The written report to the province: the document as it was sent. */
	{ "report.submitted", "{title}", "{title}\n\n{details}" },
	/* To the approvers: the draft ({details}), a tap approves it ({action}: 批准). */
	{ "report.approval_requested", "【书面报告待审核】{office}：{title}",
	    "【书面报告待审核】{office}报告的“{title}”（{level}）书面报告请审核批准"
	    "（{note}），书面报告时限 {report_deadline}。\n{details}\n{action}：{link}" },
	{ "report.reminder", "【书面报告提醒】{office}：{title}",
	    "【书面报告提醒】{office}报告的“{title}”（{level}）书面报告须于 "
	    "{report_deadline} 前报送省级，还剩 {note}，目前{details}。详情：{link}" },
	{ "duty.handover", "【值班交接】{shift}：{count} 起未办结事件",
	    "【值班交接】{shift}接班，{count} 起未办结事件：\n{incidents}{note}"
	    "\n{action}：{link}" },
	/* To the leader on duty: who has not taken over, since when, how to reach them. */
	{ "duty.accept_overdue", "【接班未确认】{shift}：{actor}",
	    "【接班未确认】{received_at} 交接班后，{shift}接班人{actor}到 {deadline} "
	    "仍未确认接班，请立即联系：{details}。{late}值班日志：{link}" },
	/* Leaders' directives (批示件督办): {office} the owner, {deadline} submit_by, {actor} who issued it. */
	{ "directive.reminder", "【批示件督办】{title}",
	    "【批示件督办】{actor}批示的“{title}”（{id}），承办：{office}，"
	    "须于 {deadline} 前办结并报送，{note}。{late}详情：{link}" },
	{ "directive.overdue", "【批示件逾期】{title}",
	    "【批示件逾期】{actor}批示的“{title}”（{id}）已过报送时限 {deadline}"
	    "（{note}），承办：{office}，至今未报告进展，请督促。{late}详情：{link}" },
	{ "dutyd.bundle", "【合并通知】{count} 条通知",
	    "【合并通知】{count} 条通知合并发送（通道限速）：\n{incidents}" },
};

struct tmpl_part {
	int		 var;		/* LITERAL or an enum tmpl_var */
	size_t		 off;		/* literal: in tmpl->lit */
	size_t		 len;
};

struct tmpl {
	struct tmpl_part *parts;
	size_t		 nparts;
	char		*lit;		/* every literal run, back to back */
	unsigned long	 used;		/* bit per enum tmpl_var */
};

/* Sizes the template on the first parse (t == NULL), fills it on the second. */
struct build {
	struct tmpl	*t;
	size_t		 nparts;
	size_t		 nlit;
	int		 in_lit;
};

static void
known_names(char *buf, size_t len)
{
	size_t	used = strlen(buf);
	int	i, n;

	for (i = 0; i < TMPL_NVARS && used < len; i++) {
		n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    var_names[i]);
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

static int
fail(int rc, size_t off, size_t *err_offset, char *err, size_t errlen,
    const char *msg)
{
	if (err_offset != NULL)
		*err_offset = off;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return rc;
}

static void
build_literal(struct build *b, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (!b->in_lit) {
		if (b->t != NULL) {
			b->t->parts[b->nparts].var = LITERAL;
			b->t->parts[b->nparts].off = b->nlit;
			b->t->parts[b->nparts].len = 0;
		}
		b->nparts++;
		b->in_lit = 1;
	}
	if (b->t != NULL) {
		memcpy(b->t->lit + b->nlit, s, n);
		b->t->parts[b->nparts - 1].len += n;
	}
	b->nlit += n;
}

static void
build_var(struct build *b, int var)
{
	if (b->t != NULL) {
		b->t->parts[b->nparts].var = var;
		b->t->parts[b->nparts].off = 0;
		b->t->parts[b->nparts].len = 0;
		b->t->used |= 1UL << var;
	}
	b->nparts++;
	b->in_lit = 0;
}

/* The source is valid UTF-8 here; quotes a name cut at a character boundary. */
static void
unknown_name(const char *name, size_t len, char *err, size_t errlen)
{
	size_t	shown = utf8_cut(name, len, UTF8_NOCAP, NAME_SHOWN_MAX);

	snprintf(err, errlen, "unknown placeholder {%.*s%s}; known: ", (int)shown,
	    name, shown < len ? "…" : "");
	known_names(err, errlen);
}

static int
parse(const char *src, struct build *b, size_t *err_offset, char *err,
    size_t errlen)
{
	const char	*p = src, *run = src, *name, *end;
	char		 msg[TMPL_ERR_MAX];
	size_t		 len;
	int		 i;

	while (*p != '\0') {
		if (*p == '}') {
			if (p[1] != '}')
				return fail(-EINVAL, p - src, err_offset, err,
				    errlen, "stray '}' with no '{' before it; "
				    "write }} for a literal '}'");
			build_literal(b, run, p + 1 - run);
			p += 2;
			run = p;
			continue;
		}
		if (*p != '{') {
			p++;
			continue;
		}
		if (p[1] == '{') {
			build_literal(b, run, p + 1 - run);
			p += 2;
			run = p;
			continue;
		}
		build_literal(b, run, p - run);
		name = p + 1;
		/* A newline or another '{' first means the '}' was forgotten. */
		end = name + strcspn(name, "{}\n");
		if (*end != '}')
			return fail(-EINVAL, p - src, err_offset, err, errlen,
			    "unclosed '{': end the placeholder with '}' on the "
			    "same line, or write {{ for a literal '{'");
		len = end - name;
		if (len == 0) {
			snprintf(msg, sizeof(msg), "empty placeholder {}; write "
			    "{{}} for literal braces, or name one of: ");
			known_names(msg, sizeof(msg));
			return fail(-EINVAL, p - src, err_offset, err, errlen,
			    msg);
		}
		for (i = 0; i < TMPL_NVARS; i++)
			if (strlen(var_names[i]) == len &&
			    memcmp(var_names[i], name, len) == 0)
				break;
		if (i == TMPL_NVARS) {
			unknown_name(name, len, msg, sizeof(msg));
			return fail(-EINVAL, p - src, err_offset, err, errlen,
			    msg);
		}
		build_var(b, i);
		p = end + 1;
		run = p;
	}
	build_literal(b, run, p - run);
	return 0;
}

int
tmpl_compile(const char *src, struct tmpl **out, size_t *err_offset,
    char *err, size_t errlen)
{
	struct build	 b;
	struct tmpl	*t;
	size_t		 len, valid;
	char		 msg[128];
	int		 rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return fail(-EINVAL, 0, err_offset, err, errlen,
		    "no place to put the template (a bug in dutyd)");
	*out = NULL;
	if (src == NULL)
		return fail(-EINVAL, 0, err_offset, err, errlen,
		    "no template given");
	if ((len = strnlen(src, TMPL_SRC_MAX + 1)) > TMPL_SRC_MAX) {
		snprintf(msg, sizeof(msg), "template is longer than %d bytes; "
		    "shorten it", TMPL_SRC_MAX);
		return fail(-E2BIG, TMPL_SRC_MAX, err_offset, err, errlen, msg);
	}
	if ((valid = utf8_span(src, len)) < len)
		return fail(-EINVAL, valid, err_offset, err, errlen,
		    "invalid UTF-8; save the template as UTF-8 "
		    "(not GBK or GB18030)");

	memset(&b, 0, sizeof(b));
	if ((rc = parse(src, &b, err_offset, err, errlen)) != 0)
		return rc;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->parts = calloc(b.nparts ? b.nparts : 1, sizeof(*t->parts))) ==
	    NULL || (t->lit = malloc(b.nlit + 1)) == NULL) {
		tmpl_free(t);
		return fail(-ENOMEM, 0, err_offset, err, errlen,
		    "out of memory compiling a template");
	}
	memset(&b, 0, sizeof(b));
	b.t = t;
	/* Cannot fail: the first parse accepted the same text. */
	parse(src, &b, NULL, NULL, 0);
	t->nparts = b.nparts;
	t->lit[b.nlit] = '\0';
	*out = t;
	return 0;
}

char *
tmpl_render(const struct tmpl *t, const struct tmpl_vars *vars)
{
	const struct tmpl_part	*pt;
	const char		*v;
	size_t			 i, total = 0, n;
	char			*s, *q;

	if (t == NULL) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < t->nparts; i++) {
		pt = &t->parts[i];
		if (pt->var == LITERAL)
			n = pt->len;
		else {
			v = vars != NULL ? vars->v[pt->var] : NULL;
			n = v != NULL ? strlen(v) : 0;
		}
		if (n > SIZE_MAX - 1 - total) {
			errno = ENOMEM;
			return NULL;
		}
		total += n;
	}
	if ((s = malloc(total + 1)) == NULL)
		return NULL;
	q = s;
	for (i = 0; i < t->nparts; i++) {
		pt = &t->parts[i];
		if (pt->var == LITERAL) {
			memcpy(q, t->lit + pt->off, pt->len);
			q += pt->len;
		} else if (vars != NULL && (v = vars->v[pt->var]) != NULL) {
			n = strlen(v);
			memcpy(q, v, n);
			q += n;
		}
	}
	*q = '\0';
	return s;
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->parts);
	free(t->lit);
	free(t);
}

int
tmpl_var_used(const struct tmpl *t, enum tmpl_var var)
{
	if (t == NULL || (int)var < 0 || var >= TMPL_NVARS)
		return 0;
	return (t->used >> var & 1) != 0;
}

const char *
tmpl_default(const char *event)
{
	size_t i;

	for (i = 0; event != NULL && i < sizeof(defaults) / sizeof(defaults[0]);
	    i++)
		if (strcmp(defaults[i].event, event) == 0)
			return defaults[i].text;
	return NULL;
}

const char *
tmpl_default_title(const char *event)
{
	size_t i;

	for (i = 0; event != NULL && i < sizeof(defaults) / sizeof(defaults[0]);
	    i++)
		if (strcmp(defaults[i].event, event) == 0)
			return defaults[i].title;
	return NULL;
}
