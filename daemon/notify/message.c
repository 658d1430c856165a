/*
 * message.c: what a notification says (see message.h).
 */
#include <errno.h>
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

static struct builtin	 builtins[16];
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

static const char *
report_str(const struct incident *inc, const char *key)
{
	return json_string_value(json_object_get(inc->report, key));
}

/* Buffers the values point into. */
struct varbufs {
	char	level_no[32], level[32], received[32], occurred[32], deadline[32];
	char	ack_deadline[32], report_deadline[32], late[160];
	char	report_due[128];
	char	remark[8 * 1024 + 32];	/* a note: 2,000 characters at most */
	char	into[1024];		/* the incident merged into: id and title */
};

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

static void
incident_vars(const struct incident *inc, enum notify_event ev, int level,
    int64_t late_ms, const char *url, struct tmpl_vars *v, struct varbufs *b)
{
	const struct incident_mark *mark = NULL;
	const char	*grade = report_str(inc, "level");
	int64_t		 occurred;

	memset(v, 0, sizeof(*v));
	v->v[TMPL_ID] = inc->id;
	v->v[TMPL_OFFICE] = inc->office_name != NULL ? inc->office_name :
	    inc->office;
	v->v[TMPL_TITLE] = report_str(inc, "title");
	if (grade != NULL)
		snprintf(b->level, sizeof(b->level), "%s级", grade);
	else
		snprintf(b->level, sizeof(b->level), "级别未定");
	v->v[TMPL_LEVEL] = b->level;
	v->v[TMPL_LOCATION] = report_str(inc, "location");
	v->v[TMPL_DETAILS] = report_str(inc, "details");
	v->v[TMPL_RECEIVED_AT] = time_local(inc->received_at, "%m-%d %H:%M",
	    b->received, sizeof(b->received));
	occurred = 0;
	if (time_parse(report_str(inc, "occurred_at"), &occurred) == 0)
		v->v[TMPL_OCCURRED_AT] = time_local(occurred, "%m-%d %H:%M",
		    b->occurred, sizeof(b->occurred));
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
		    json_object_get(into->report, "title")) : NULL;

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

static int
render(const struct config *cf, const struct config_channel *ch,
    const char *event, const struct tmpl_vars *v, struct message *m,
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
	return smsfit_message(ch->max_segments, m->url, hint, &m->text);
}

/* 交接班: the incoming shift and the open incidents, as recorded at the handover. */
static int
message_handover(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	struct tmpl_vars	 v;
	char			 count[16];
	int			 rc;

	if ((m->url = strdup(cf->public_url)) == NULL)
		return -ENOMEM;
	memset(&v, 0, sizeof(v));
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

/* What a follow-up says, in one line: the fields it brought. */
static char *
update_summary(const struct incident *inc, int n)
{
	json_t	*f = json_object_get(json_array_get(inc->updates,
	    (size_t)(n > 0 ? n - 1 : 0)), "fields"), *c;
	char	*out = NULL;
	FILE	*fp;
	size_t	 len = 0;
	const char *sep = "";

	if ((fp = open_memstream(&out, &len)) == NULL)
		return NULL;
	if ((c = json_object_get(f, "casualties")) != NULL) {
		fprintf(fp, "伤亡：死亡 %lld，受伤 %lld，失踪 %lld",
		    json_integer_value(json_object_get(c, "dead")),
		    json_integer_value(json_object_get(c, "injured")),
		    json_integer_value(json_object_get(c, "missing")));
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
		fprintf(fp, "%s报告人：%s %s", sep,
		    json_string_value(json_object_get(c, "name")) ?: "",
		    json_string_value(json_object_get(c, "phone")) ?: "");
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
 * What one tap on the link does: acknowledge while nobody has, then file
 * the written report, then resolve.  Every incident message carries one;
 * for a resolved incident it opens a page saying so.
 */
static char
link_action(const struct message_about *d, const struct incident *inc)
{
	if (inc->state != INCIDENT_RESOLVED && inc->ack.at == 0 &&
	    (d->event == NOTIFY_NEW || d->event == NOTIFY_ESCALATED ||
	    d->event == NOTIFY_UPDATED))
		return 'A';
	if (inc->state != INCIDENT_RESOLVED && inc->filed.at == 0 &&
	    d->event != NOTIFY_FILED && d->event != NOTIFY_RESOLVED)
		return 'F';
	return 'R';
}

int
message_render(const struct config *cf, const struct config_channel *ch,
    const struct message_about *d, struct message *m)
{
	const struct incident	*inc = d->inc;
	struct tmpl_vars	 v;
	struct varbufs		 b;
	char			*details = NULL, hint[96] = "";
	char			 action;
	int			 rc;

	memset(m, 0, sizeof(m[0]));
	if (d->event == NOTIFY_HANDOVER)
		return message_handover(cf, ch, d, m);
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
	if (inc == NULL)
		return -ENOENT;
	/* Every message carries its reader's own link. */
	action = link_action(d, inc);
	/*
	 * Without one (no key, an id unfit for a token), and for a duplicate
	 * or a false report, where nothing is left to do, the incident's page.
	 */
	if ((inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED ||
	    links_url(cf, inc->id, d->person, action, &m->url) != 0) &&
	    (m->url = incview_url(cf, inc)) == NULL)
		return -ENOMEM;
	incident_vars(inc, d->event, d->level, d->late_ms, m->url, &v, &b);
	if (d->event == NOTIFY_UPDATED) {
		if ((details = update_summary(inc, d->update)) == NULL) {
			message_clear(m);
			return -ENOMEM;
		}
		v.v[TMPL_DETAILS] = details;
	}
	if (d->code > 0 && action != 'R' && message_is_sms(ch))
		snprintf(hint, sizeof(hint), action == 'A' ?
		    " 回复%dA确认，%dF已报省" : " 回复%dF已报省", d->code, d->code);
	if ((rc = render(cf, ch, notify_event_name(d->event), &v, m, hint)) != 0)
		message_clear(m);
	free(details);
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
		if ((inc = ds[i].inc) == NULL)
			continue;	/* the desk's: its text is its own */
		if (line == NULL || (url = incview_url(cf, inc)) == NULL)
			goto out;
		incident_vars(inc, ds[i].event, ds[i].level, ds[i].late_ms, url,
		    &iv, &b);
		one = tmpl_render(line, &iv);
		free(url);
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
