/*
 * handapi.c: the handover's two sides over HTTP and through the one-tap
 * link of a handover message (see handapi.h).  Decisions are
 * actions/handact.c's, the handovers state/handover.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/handact.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "intake/handapi.h"
#include "intake/http.h"
#include "intake/linkpage.h"
#include "notify/links.h"
#include "parse/report.h"
#include "state/handover.h"


static json_t *
handapi_time(int64_t ms)
{
	char buf[TIME_RFC3339_MAX];

	return ms > 0 ? json_string(time_format(ms, buf, sizeof(buf))) :
	    json_null();
}

static const char *
handapi_name(const char *id)
{
	const struct config_person *p;

	if (id == NULL)
		return NULL;
	p = config_person(config_current(), id);
	return p != NULL ? p->name : id;
}

/* A handover as the API shows it; NULL: no memory. */
static json_t *
handapi_view(const struct handover *h)
{
	json_t	*in = json_array();
	size_t	 i;

	for (i = 0; in != NULL && i < h->nincoming; i++)
		if (json_array_append_new(in, json_pack("{s:s, s:s?, s:s?}",
		    "person", h->incoming[i].person, "name",
		    handapi_name(h->incoming[i].person), "role",
		    h->incoming[i].role)) != 0) {
			json_decref(in);
			return NULL;
		}
	if (in == NULL)
		return NULL;
	return json_pack("{s:I, s:o, s:o, s:o, s:s?, s:s?, s:o, s:I, s:b, s:o}",
	    "handover_seq", (json_int_t)h->seq, "at", handapi_time(h->at),
	    "accept_by", handapi_time(h->accept_by), "incoming", in,
	    "accepted_by", h->accepted_by, "accepted_by_name",
	    handapi_name(h->accepted_by), "accepted_at",
	    handapi_time(h->accepted_at), "late_ms", (json_int_t)h->late_ms,
	    "overdue", h->overdue_at != 0, "overdue_at",
	    handapi_time(h->overdue_at));
}

/* The newest handover and the notes waiting for the next, answered with STATUS. */
static void
handapi_state(struct http_call *call, int status)
{
	const struct handover_note	*n;
	const struct handover		*h = handover_latest();
	json_t				*notes = json_array(), *body;
	size_t				 i, count = handover_notes(&n);

	for (i = 0; notes != NULL && i < count; i++)
		if (json_array_append_new(notes, json_pack("{s:s, s:s, s:s?, s:o}",
		    "text", n[i].text, "by", n[i].by, "by_name",
		    handapi_name(n[i].by), "at", handapi_time(n[i].at))) != 0) {
			json_decref(notes);
			notes = NULL;
		}
	/* json_pack fails on a NULL part: answered 503 below. */
	body = json_pack("{s:o, s:o}", "latest", h != NULL ? handapi_view(h) :
	    json_null(), "notes", notes);
	if (body == NULL) {
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	http_reply(call, status, body);
}

void
handapi_get(struct http_call *call)
{
	handapi_state(call, 200);
}

void
handapi_note(struct http_call *call)
{
	static const char *const fields[] = { "text", NULL };
	struct report_error	 err;
	const char		*text;
	json_t			*args;
	int			 rc;

	if (http_want_json(call, 1) != 0)
		return;
	memset(&err, 0, sizeof(err));
	if ((args = report_parse_action(call->body, call->body_len, fields,
	    &err)) == NULL) {
		http_error(call, err.code == -ENOMEM ? 503 : 400, err.field, "%s",
		    err.message);
		return;
	}
	text = json_string_value(json_object_get(args, "text"));
	if (text == NULL || text[strspn(text, " \t\r\n")] == '\0') {
		json_decref(args);
		http_error(call, 400, "text", "text is missing or blank: the note "
		    "for the incoming shift, 1 to %d characters, e.g. {\"text\": "
		    "\"A县山体滑坡待续报，已约 9 时回电\"}", REPORT_NOTE_MAX);
		return;
	}
	rc = handact_note(call->person->id, text);
	json_decref(args);
	if (rc == -ENOSPC) {
		http_error(call, 409, "notes", "%d notes already wait for the next "
		    "handover, the most there may be; tell the incoming shift in "
		    "person, or write again after the handover", HANDOVER_NOTES_MAX);
		return;
	}
	if (rc != 0) {
		http_error(call, 503, NULL, "the note could not be saved: the audit "
		    "log cannot be written (%s); retry in a minute", strerror(-rc));
		return;
	}
	log_info("handover note by %s", call->person->id);
	handapi_state(call, 201);
}

/* "handover_seq" of the body, 0 when absent (the newest); -1 after answering 400. */
static int64_t
handapi_seq_arg(struct http_call *call)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	const char	*key;
	int64_t		 seq = 0;

	if (call->body_len == 0)
		return 0;
	if ((o = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL || !json_is_object(o)) {
		json_decref(o);
		http_error(call, 400, NULL, "the body is not a JSON object; send "
		    "nothing, {} or {\"handover_seq\": N}");
		return -1;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "handover_seq") != 0) {
			http_error(call, 400, key, "unknown field '%.40s': the body "
			    "may hold only handover_seq", key);
			json_decref(o);
			return -1;
		}
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			http_error(call, 400, "handover_seq", "handover_seq must be "
			    "the seq of a duty.handover record (a positive integer)");
			json_decref(o);
			return -1;
		}
		seq = json_integer_value(v);
	}
	json_decref(o);
	return seq;
}

/* "12-02 08:41" */
static const char *
handapi_hm(int64_t ms, char *buf, size_t len)
{
	if (time_local(ms, "%m-%d %H:%M", buf, len)[0] == '\0')
		snprintf(buf, len, "-");
	return buf;
}

void
handapi_accept(struct http_call *call)
{
	const struct handover	*h;
	char			*names, when[32], at[32];
	int64_t			 seq;
	int			 rc;

	if (http_want_json(call, 0) != 0 || (seq = handapi_seq_arg(call)) < 0)
		return;
	h = seq == 0 ? handover_latest() : handover_find(seq);
	if (h == NULL) {
		http_error(call, 404, "handover", seq == 0 ? "there is no handover "
		    "to accept: none since dutyd's log was last checkpointed" :
		    "no handover with seq %lld is kept (the last %d are)",
		    (long long)seq, HANDOVER_KEEP);
		return;
	}
	rc = handact_accept(h, call->person->id, "api");
	if (rc == -EALREADY) {
		http_error(call, 409, "handover", "the handover of %s was already "
		    "accepted by %s at %s; nothing was changed",
		    handapi_hm(h->at, at, sizeof(at)),
		    handapi_name(h->accepted_by), handapi_hm(h->accepted_at, when,
		    sizeof(when)));
		return;
	}
	if (rc == -EPERM) {
		names = handact_incoming_names(h);
		http_error(call, 403, "handover", "%s is not coming on duty with "
		    "the handover of %s; it is for %s to accept", call->person->id,
		    handapi_hm(h->at, at, sizeof(at)), names != NULL ? names : "-");
		free(names);
		return;
	}
	if (rc != 0) {
		http_error(call, 503, NULL, "the acceptance could not be saved: the "
		    "audit log cannot be written (%s); retry in a minute",
		    strerror(-rc));
		return;
	}
	log_info("handover at seq %lld accepted by %s", (long long)h->seq,
	    call->person->id);
	http_reply(call, 200, handapi_view(h));
}

/* The one-tap link ------------------------------------------------------- */

static char *
handapi_dutylog_url(void)
{
	char *url;

	if (asprintf(&url, "%s/dutylog", config_current()->public_url) == -1)
		return NULL;
	return url;
}

static void
handapi_tap_answer(struct http_call *call, int status, const char *msg)
{
	char *url = handapi_dutylog_url();

	http_reply_link_page(call, status, status == 200 ? linkpage_done(msg, url) :
	    linkpage_error(msg, url));
	free(url);
}

int
handapi_tap(struct http_call *call, int post)
{
	const struct config_person	*p;
	const struct handover		*h;
	struct linkpage_summary		 s;
	struct links_link		 l;
	char				 msg[512], at[32], when[32];
	char				*names = NULL, *url;
	int				 rc;

	/* Not a handover's link (or not ours at all): onetap.c answers. */
	rc = links_open(call->param, time_now_ms(), &l);
	if ((rc != 0 && rc != -ETIMEDOUT) || l.action != 'H')
		return 0;
	if (http_auth_throttled(call))
		return 1;
	if (rc == -ETIMEDOUT) {
		handapi_tap_answer(call, 410, "此接班确认链接已过期。请在值班控制台"
		    "的值班日志页确认接班，或电话告知带班领导。");
		return 1;
	}
	if ((h = handover_by_link(l.stub)) == NULL) {
		handapi_tap_answer(call, 404, "找不到此链接对应的交接班（可能已过去很久）。"
		    "请在值班控制台确认接班。");
		return 1;
	}
	if ((p = config_person(config_current(), l.person)) == NULL) {
		handapi_tap_answer(call, 403, "此链接所属的值班人员已不在配置中，链接"
		    "不再有效。");
		return 1;
	}
	handapi_hm(h->at, at, sizeof(at));
	if (h->accepted_by != NULL) {
		snprintf(msg, sizeof(msg), "%s 的交接班已由%s于 %s 确认接班，无需再次"
		    "操作。", at, handapi_name(h->accepted_by),
		    handapi_hm(h->accepted_at, when, sizeof(when)));
		handapi_tap_answer(call, 200, msg);
		return 1;
	}
	if (!post) {
		names = handact_incoming_names(h);
		memset(&s, 0, sizeof(s));
		s.title = "接班确认";
		s.shift = names;
		s.occurred = at;
		s.person = p->name;
		s.url = url = handapi_dutylog_url();
		http_reply_link_page(call, 200, linkpage_confirm(&s, call->param, 'H'));
		free(url);
		free(names);
		return 1;
	}
	if ((rc = handact_accept(h, p->id, "link")) != 0) {
		if (rc != -EPERM)
			log_errorx("handover at seq %lld could not be accepted by "
			    "%s through a link (%s)", (long long)h->seq, p->id,
			    strerror(-rc));
		handapi_tap_answer(call, rc == -EPERM ? 403 : 503, rc == -EPERM ?
		    "您不在本次接班人员之列。" : "未能保存（值班日志暂时无法写入）。"
		    "请稍后重试，或电话告知带班领导。");
		return 1;
	}
	log_info("handover at seq %lld accepted by %s through a one-tap link",
	    (long long)h->seq, p->id);
	snprintf(msg, sizeof(msg), "已确认接班（%s 的交接班），记录时间 %s，接班人 %s。",
	    at, handapi_hm(time_now_ms(), when, sizeof(when)), p->name);
	handapi_tap_answer(call, 200, msg);
	return 1;
}
