/*
 * onetap.c: the requests a one-tap link (一键确认) makes.  GET shows what
 * the button will do and changes nothing (chat apps and mail scanners
 * fetch links on their own); POST from that button acts, once ("once"
 * comes from the incident: acknowledged is acknowledged).  A link only
 * ever acknowledges: a details link never acts, and resolving is never a
 * one-tap action.  Every page links to the incident's page in the
 * console (/incidents/{id}), where the person signs in to do the rest.
 *
 * Links are notify/links.c's, the pages intake/linkpage.c's, the changes
 * actions/incact.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/incact.h"
#include "actions/wract.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/authfail.h"
#include "intake/handapi.h"
#include "intake/http.h"
#include "intake/onetap.h"
#include "notify/links.h"
#include "intake/linkpage.h"
#include "parse/linktoken.h"
#include "parse/wdraft.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/wreport.h"

/* The requests ------------------------------------------------------------ */

/* The incident's page in the console; NULL: out of memory. */
static char *
onetap_console_url(const struct incident *inc)
{
	char *url;

	if (asprintf(&url, "%s/incidents/%s", config_current()->public_url,
	    inc->id) == -1)
		return NULL;
	return url;
}

/* An answer page; with INC (may be NULL), a link to the incident's page. */
static void
onetap_answer(struct http_call *call, int status, const struct incident *inc,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
onetap_answer(struct http_call *call, int status, const struct incident *inc,
    const char *fmt, ...)
{
	char	 msg[1024], *url = NULL;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (inc != NULL)
		url = onetap_console_url(inc);
	http_reply_link_page(call, status, status == 200 ? linkpage_done(msg, url) :
	    linkpage_error(msg, url));
	free(url);
}

/* "11月28日 14:05": a page read on a phone at night. */
static const char *
onetap_time(int64_t ms, char *buf, size_t len)
{
	if (time_local(ms, "%m月%d日 %H:%M", buf, len)[0] == '\0')
		snprintf(buf, len, "-");
	return buf;
}

/*
 * The link's incident and person, or NULL with the answer sent: altered
 * (403), expired (410), unknown incident (404), person no longer
 * configured (403), an action links no longer take (409).
 */
static struct incident *
onetap_open(struct http_call *call, struct links_link *l,
    const struct config_person **person)
{
	const struct config	*cf = config_current();
	struct incident		*inc;
	char			 when[64];
	int			 rc;

	if (http_auth_throttled(call))
		return NULL;
	rc = links_open(call->param, time_now_ms(), l);
	inc = l->incident[0] != '\0' ? incident_find(l->incident) : NULL;
	switch (rc) {
	case 0:
		break;
	case -ENOKEY:
		onetap_answer(call, 503, NULL, "一键确认暂不可用（链接密钥未加载）。"
		    "请回复通知短信，或电话联系值班室。");
		return NULL;
	case -ETIMEDOUT:
		if (l->incident[0] != '\0')
			onetap_answer(call, 410, inc, "此链接已于 %s 过期（事件 %s）。"
			    "请回复通知短信，或打开事件详情。", onetap_time(
			    l->expiry_ms, when, sizeof(when)), l->incident);
		else
			onetap_answer(call, 410, NULL, "此链接已于 %s 过期。请回复"
			    "通知短信，或电话联系值班室。", onetap_time(l->expiry_ms,
			    when, sizeof(when)));
		return NULL;
	case -ENOMEM:
		http_reply_link_page(call, 503, NULL);
		return NULL;
	case -ENOENT:
		onetap_answer(call, 404, NULL, "找不到此链接对应的事件（可能已超过保存"
		    "期限）。请回复通知短信，或电话联系值班室。");
		return NULL;
	default:
		log_debug("onetap: refused an altered or malformed token from %s",
		    http_peer(call));
		/* Guessing links is limited per source, and recorded. */
		authfail_note(http_peer(call), http_method(call), "/a/{token}");
		onetap_answer(call, 403, NULL, "此链接无效：不完整或被改动过。请从通知"
		    "消息中重新打开完整链接，或回复通知短信。");
		return NULL;
	}
	if (inc == NULL) {
		onetap_answer(call, 404, NULL, "找不到事件 %s（可能已超过保存期限）。"
		    "请电话联系值班室。", l->incident);
		return NULL;
	}
	if ((*person = config_person(cf, l->person)) == NULL) {
		onetap_answer(call, 403, inc, "此链接所属的值班人员（%s）已不在配置中，"
		    "链接不再有效。请打开事件详情。", l->person);
		return NULL;
	}
	/* Links sent before 0.2 could file or resolve: those are details now. */
	if (l->action != 'A' && l->action != 'P') {
		onetap_answer(call, 409, inc, "一键链接只用于确认收到。事件 %s 的书面"
		    "报告和处置结果请在事件详情中记录，或回复通知短信。", inc->id);
		return NULL;
	}
	return inc;
}

/* Acknowledged, or resolved, already: say by whom, and change nothing. */
static int
onetap_already(struct http_call *call, struct incident *inc)
{
	const struct incident_mark	*m;
	char				 when[64];

	/* A duplicate or a false report: nothing is left to acknowledge. */
	if (inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED) {
		m = &inc->closed;
		onetap_answer(call, 409, inc, "事件 %s 已由%s于 %s %s%s，无需再确认。",
		    inc->id, incview_who(m), onetap_time(m->at, when,
		    sizeof(when)), inc->state == INCIDENT_MERGED ? "并入事件 " :
		    "核实为误报", inc->state == INCIDENT_MERGED ?
		    inc->merged_into : "");
		return 1;
	}
	if (inc->state == INCIDENT_RESOLVED) {
		m = &inc->resolved;
		onetap_answer(call, 409, inc, "事件 %s 已由%s于 %s 处置完毕，无需再"
		    "确认。", inc->id, incview_who(m), onetap_time(m->at, when,
		    sizeof(when)));
		return 1;
	}
	if ((m = &inc->ack)->at == 0)
		return 0;
	onetap_answer(call, 200, inc, "事件 %s 已由%s于 %s 确认，无需再次操作。",
	    inc->id, incview_who(m), onetap_time(m->at, when, sizeof(when)));
	return 1;
}

/* Approving the written report (P) ------------------------------------------ */

/* Nothing left to approve, or not theirs to approve: 1 after answering. */
static int
onetap_approve_moot(struct http_call *call, struct incident *inc,
    const struct config_person *person)
{
	const struct wreport	*w = wreport_find(inc->id);
	char			 when[64], name[32];

	if (inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED) {
		onetap_answer(call, 409, inc, "事件 %s 已%s，其书面报告无需再审核。",
		    inc->id, inc->state == INCIDENT_MERGED ? "并入其他事件" :
		    "核实为误报");
		return 1;
	}
	if (wreport_approved_by(inc->id) != NULL) {
		onetap_answer(call, 200, inc, "事件 %s 的书面报告（%s 第 %d 版）已由%s"
		    "于 %s 批准，无需再次操作。", inc->id, wdraft_number_name(
		    w->number, name, sizeof(name)), w->version,
		    w->approval.by_name != NULL ? w->approval.by_name :
		    w->approval.by, onetap_time(w->approval.at, when,
		    sizeof(when)));
		return 1;
	}
	if (!wract_may_approve(person->id)) {
		char *who = wract_approvers_text();

		onetap_answer(call, 403, inc, "%s此刻不是事件 %s 书面报告的审核人"
		    "（policy.approvers）。此刻可以批准的是：%s。", person->name,
		    inc->id, who != NULL ? who : "-");
		free(who);
		return 1;
	}
	return 0;
}

/* "version" of the approve page's form (urlencoded); -1 when absent. */
static int
onetap_form_version(struct http_call *call)
{
	const char	*p = call->body;
	char		*end;
	long		 v;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "version=", 8) == 0) {
			v = strtol(p + 8, &end, 10);
			if (end != p + 8 && (*end == '\0' || *end == '&') &&
			    v >= 0 && v <= WREPORT_VERSIONS_MAX)
				return (int)v;
			return -1;
		}
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return -1;
}

static void
onetap_approve_get(struct http_call *call, struct incident *inc,
    const struct config_person *person)
{
	struct linkpage_summary	 s;
	char			 version[64], name[32], *url, *title = NULL;
	char			*body = NULL;

	if (onetap_approve_moot(call, inc, person))
		return;
	if (wract_current_text(inc, &title, &body) != 0) {
		http_reply_link_page(call, 503, NULL);
		return;
	}
	memset(&s, 0, sizeof(s));
	s.incident = inc->id;
	s.title = "审核批准书面报告";
	s.office = inc->office_name != NULL ? inc->office_name : inc->office;
	s.level = json_string_value(incident_fact(inc, "level", NULL));
	s.person = person->name;
	snprintf(version, sizeof(version), "%s 第 %d 版", wdraft_number_name(
	    wreport_number(inc->id), name, sizeof(name)),
	    wreport_version(inc->id));
	s.draft_version = version;
	s.version = wreport_version(inc->id);
	s.draft_title = title;
	s.draft_body = body;
	s.url = url = onetap_console_url(inc);
	http_reply_link_page(call, 200, linkpage_confirm(&s, call->param, 'P'));
	free(url);
	free(title);
	free(body);
}

static void
onetap_approve_post(struct http_call *call, struct incident *inc,
    const struct config_person *person)
{
	char	 when[64];
	int	 changed = 0, rc, seen;

	if (onetap_approve_moot(call, inc, person))
		return;
	/* The version the page showed: an edit since then is not approved unseen. */
	if ((seen = onetap_form_version(call)) != wreport_version(inc->id)) {
		onetap_answer(call, 409, inc, "书面报告在您打开此页后已修改为第 %d 版，"
		    "尚未批准。请重新打开链接，阅读新版本后再批准。",
		    wreport_version(inc->id));
		return;
	}
	if ((rc = wract_approve(inc, person->id, "一键批准", &changed)) != 0) {
		log_errorx("onetap: incident %s's written report could not be "
		    "approved by %s through a link (%s)", inc->id, person->id,
		    strerror(-rc));
		onetap_answer(call, 503, inc, "未能保存（值班日志暂时无法写入）。请稍后"
		    "重试，或电话联系值班室。");
		return;
	}
	log_info("incident %s: written report version %d approved by %s through "
	    "a one-tap link", inc->id, wreport_version(inc->id), person->id);
	onetap_answer(call, 200, inc, "已批准事件 %s 的书面报告（第 %d 版），记录时间 "
	    "%s，审核人 %s。值班室可以报送了。", inc->id, wreport_version(inc->id),
	    onetap_time(time_now_ms(), when, sizeof(when)), person->name);
}

void
onetap_get(struct http_call *call)
{
	const struct config_person	*person;
	struct linkpage_summary		 s;
	struct links_link		 l;
	struct incident			*inc;
	json_t				*report;
	char				 occurred[64], *url;
	int64_t				 at;

	/* A handover's link names no incident (handapi.c). */
	if (handapi_tap(call, 0) || (inc = onetap_open(call, &l, &person)) == NULL)
		return;
	if (l.action == 'P') {
		onetap_approve_get(call, inc, person);
		return;
	}
	if (onetap_already(call, inc))
		return;
	memset(&s, 0, sizeof(s));
	s.incident = inc->id;
	report = incident_report(inc);
	s.title = json_string_value(json_object_get(report, "title"));
	s.office = inc->office_name != NULL ? inc->office_name : inc->office;
	s.level = json_string_value(json_object_get(report, "level"));
	if (time_parse(json_string_value(json_object_get(report, "occurred_at")),
	    &at) == 0)
		s.occurred = onetap_time(at, occurred, sizeof(occurred));
	s.person = person->name;
	s.url = url = onetap_console_url(inc);
	http_reply_link_page(call, 200, linkpage_confirm(&s, call->param, 'A'));
	free(url);
}

void
onetap_post(struct http_call *call)
{
	const struct config_person	*person;
	struct links_link		 l;
	struct incident			*inc;
	const char			*title;
	char				 when[64];
	int				 changed = 0, rc;

	if (handapi_tap(call, 1) || (inc = onetap_open(call, &l, &person)) == NULL)
		return;
	if (l.action == 'P') {
		onetap_approve_post(call, inc, person);
		return;
	}
	if (onetap_already(call, inc))
		return;
	if ((rc = incact_acknowledge(inc, person->id, "一键确认",
	    &changed)) != 0) {
		log_errorx("onetap: incident %s could not be acknowledged by %s "
		    "through a link: the audit log cannot be written (%s)",
		    inc->id, person->id, strerror(-rc));
		onetap_answer(call, 503, inc, "未能保存（值班日志暂时无法写入）。请稍后"
		    "重试，或电话联系值班室。");
		return;
	}
	if (changed)
		log_info("incident %s acknowledged by %s through a one-tap link",
		    inc->id, person->id);
	title = json_string_value(json_object_get(incident_report(inc), "title"));
	onetap_answer(call, 200, inc, "已确认事件 %s（%s），记录时间 %s，操作人 %s。",
	    inc->id, title != NULL ? title : "",
	    onetap_time(time_now_ms(), when, sizeof(when)), person->name);
}
