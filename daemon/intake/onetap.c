/*
 * onetap.c: the requests a one-tap link (一键确认) makes.  GET shows what
 * the button will do and changes nothing (chat apps and mail scanners
 * fetch links on their own); POST from that button acts, once ("once"
 * comes from the incident: acknowledged is acknowledged).
 *
 * Tokens are parse/linktoken.c's, the key notify/links.c's, the changes
 * actions/incact.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/incact.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/authfail.h"
#include "intake/http.h"
#include "intake/onetap.h"
#include "notify/links.h"
#include "intake/linkpage.h"
#include "parse/linktoken.h"
#include "state/incident.h"
#include "state/incview.h"

#define HTML_TYPE	"text/html; charset=utf-8"

/* The requests ------------------------------------------------------------ */

static void
onetap_page(struct http_call *call, int status, char *page)
{
	/* The URL is a credential: keep it out of Referer headers. */
	http_set_header(call, "Referrer-Policy", "no-referrer");
	if (page == NULL)
		http_reply_as(call, 503, HTML_TYPE, "<!DOCTYPE html><meta "
		    "charset=\"utf-8\"><p>服务器内存不足，请稍后重试。</p>");
	else
		http_reply_as(call, status, HTML_TYPE, page);
	free(page);
}

static void
onetap_error(struct http_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
onetap_error(struct http_call *call, int status, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	onetap_page(call, status, linkpage_error(msg));
}

static void
onetap_done(struct http_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
onetap_done(struct http_call *call, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	onetap_page(call, 200, linkpage_done(msg));
}

/* "11月28日 14:05": a page read on a phone at night. */
static const char *
onetap_time(int64_t ms, char *buf, size_t len)
{
	if (time_local(ms, "%m月%d日 %H:%M", buf, len)[0] == '\0')
		snprintf(buf, len, "-");
	return buf;
}

static const char *
onetap_verb(char action)
{
	switch (action) {
	case 'A':
		return "确认";
	case 'F':
		return "记录书面报告已报送";
	default:
		return "标记处置完毕";
	}
}

/*
 * The link's incident and person, or NULL with the answer sent: altered
 * (403), expired (410), unknown incident (404), person no longer
 * configured (403).
 */
static struct incident *
onetap_open(struct http_call *call, struct linktoken *l,
    const struct config_person **person)
{
	const struct config	*cf = config_current();
	struct incident		*inc;
	char			 when[64];
	int			 rc;

	memset(l, 0, sizeof(*l));
	if (http_auth_throttled(call))
		return NULL;
	rc = links_verify(call->param, time_now_ms(), l);
	if (rc == -ENOKEY) {
		onetap_error(call, 503, "一键确认暂不可用（链接密钥未加载）。请登录值班"
		    "系统操作，或回复通知短信。");
		return NULL;
	}
	if (rc == -ETIMEDOUT) {
		onetap_error(call, 410, "此链接已于 %s 过期（事件 %s）。请登录值班系统"
		    "操作，或回复通知短信。", onetap_time(l->expiry_ms, when,
		    sizeof(when)), l->incident);
		return NULL;
	}
	if (rc == -ENOMEM) {
		onetap_page(call, 503, NULL);
		return NULL;
	}
	if (rc != 0) {
		log_debug("onetap: refused an altered or malformed token from %s",
		    http_peer(call));
		authfail_note(http_peer(call), http_method(call), "/a/{token}");
		onetap_error(call, 403, "此链接无效：不完整或被改动过。请从通知消息中"
		    "重新打开完整链接，或登录值班系统操作。");
		return NULL;
	}
	if ((inc = incident_find(l->incident)) == NULL) {
		onetap_error(call, 404, "找不到事件 %s（可能已超过保存期限）。请登录"
		    "值班系统查看。", l->incident);
		return NULL;
	}
	if ((*person = config_person(cf, l->person)) == NULL) {
		onetap_error(call, 403, "此链接所属的值班人员（%s）已不在配置中，链接"
		    "不再有效。请登录值班系统操作。", l->person);
		return NULL;
	}
	return inc;
}

/* What the link was for is done already: say by whom, and change nothing. */
static int
onetap_already(struct http_call *call, struct incident *inc, char action)
{
	const struct incident_mark	*m;
	char				 when[64];

	if (inc->state == INCIDENT_RESOLVED && action != 'R') {
		m = &inc->resolved;
		onetap_error(call, 409, "事件 %s 已由%s于 %s 处置完毕，无需再%s。",
		    inc->id, incview_who(m), onetap_time(m->at, when, sizeof(when)),
		    onetap_verb(action));
		return 1;
	}
	m = action == 'A' ? &inc->ack : action == 'F' ? &inc->filed :
	    &inc->resolved;
	if (m->at == 0)
		return 0;
	onetap_done(call, "事件 %s 已由%s于 %s %s，无需再次操作。", inc->id,
	    incview_who(m), onetap_time(m->at, when, sizeof(when)),
	    onetap_verb(action));
	return 1;
}

void
onetap_get(struct http_call *call)
{
	const struct config_person	*person;
	struct linkpage_summary		 s;
	struct linktoken			 l;
	struct incident			*inc;
	char				 occurred[64];
	int64_t				 at;

	if ((inc = onetap_open(call, &l, &person)) == NULL ||
	    onetap_already(call, inc, l.action))
		return;
	memset(&s, 0, sizeof(s));
	s.incident = inc->id;
	s.title = json_string_value(json_object_get(inc->report, "title"));
	s.office = inc->office_name != NULL ? inc->office_name : inc->office;
	s.level = json_string_value(json_object_get(inc->report, "level"));
	if (time_parse(json_string_value(json_object_get(inc->report,
	    "occurred_at")), &at) == 0)
		s.occurred = onetap_time(at, occurred, sizeof(occurred));
	s.person = person->name;
	onetap_page(call, 200, linkpage_confirm(&s, call->param, l.action));
}

void
onetap_post(struct http_call *call)
{
	const struct config_person	*person;
	struct linktoken			 l;
	struct incident			*inc;
	char				 when[64];
	int				 changed = 0, rc;

	if ((inc = onetap_open(call, &l, &person)) == NULL ||
	    onetap_already(call, inc, l.action))
		return;
	switch (l.action) {
	case 'A':
		rc = incact_acknowledge(inc, person->id, "一键确认", &changed);
		break;
	case 'F':
		rc = incact_file_report(inc, person->id, NULL, &changed);
		break;
	default:
		rc = incact_resolve(inc, person->id, "一键确认", &changed);
		break;
	}
	if (rc != 0) {
		log_errorx("onetap: incident %s could not be %s by %s through a "
		    "link: the audit log cannot be written (%s)", inc->id,
		    l.action == 'A' ? "acknowledged" : l.action == 'F' ?
		    "marked as written-report filed" : "resolved", person->id,
		    strerror(-rc));
		onetap_error(call, 503, "未能保存（值班日志暂时无法写入）。请稍后重试，"
		    "或电话联系值班室。");
		return;
	}
	if (changed)
		log_info("incident %s %s by %s through a one-tap link", inc->id,
		    l.action == 'A' ? "acknowledged" : l.action == 'F' ?
		    "marked as written-report filed" : "resolved", person->id);
	onetap_done(call, "已%s事件 %s（%s），记录时间 %s，操作人 %s。",
	    onetap_verb(l.action), inc->id,
	    json_string_value(json_object_get(inc->report, "title")) != NULL ?
	    json_string_value(json_object_get(inc->report, "title")) : "",
	    onetap_time(time_now_ms(), when, sizeof(when)), person->name);
}
