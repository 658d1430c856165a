/*
 * Message templates and SMS text fitting.  Pure: no I/O, no clock, no
 * logging; errors come back as negative errno values and a message.
 *
 * A template is UTF-8 text with named placeholders, "{office}"; "{{" and
 * "}}" stand for literal braces.  Placeholders are the fixed set below, so
 * a typo in the config is an error at load time, not a blank in an SMS at
 * night.  Values are plain text the caller has already formatted: times
 * the way staff read them ("14:40"), {level} ready to read ("II级", or
 * "级别未定" when the report has none), {late} either "" or a whole
 * sentence with its own punctuation.  A NULL value renders as "".
 *
 * SMS fitting counts what a carrier bills: GSM 03.38 septets when every
 * character is in the GSM basic set or its extension table, else UTF-16
 * code units (UCS-2 on the wire).  Concatenated parts never split a
 * character: neither an escaped GSM character nor a surrogate pair is
 * divided between two parts, as handsets and gateways do.
 */
#ifndef DUTYD_TEMPLATE_H
#define DUTYD_TEMPLATE_H

#include <stddef.h>

#define TMPL_SRC_MAX	8192	/* bytes of template source */
#define TMPL_ERR_MAX	512	/* a buffer this size holds every compile message */

enum tmpl_var {
	TMPL_ID,		/* id */
	TMPL_OFFICE,		/* office: display name of the reporting office */
	TMPL_TITLE,		/* title */
	TMPL_LEVEL,		/* level */
	TMPL_LOCATION,		/* location */
	TMPL_DETAILS,		/* details */
	TMPL_RECEIVED_AT,	/* received_at */
	TMPL_OCCURRED_AT,	/* occurred_at */
	TMPL_DEADLINE,		/* deadline: the one this message is about */
	TMPL_ACK_DEADLINE,	/* ack_deadline */
	TMPL_REPORT_DEADLINE,	/* report_deadline: written report to the province */
	TMPL_LINK,		/* link: where to acknowledge / read the incident */
	TMPL_ACTOR,		/* actor: who acknowledged, filed, resolved */
	TMPL_REFERENCE,		/* reference: the written report's 文号 */
	TMPL_NOTE,		/* note */
	TMPL_LATE,		/* late: "" or why this message comes late */
	TMPL_EVENT,		/* event: "incident.new", ... */
	TMPL_LEVEL_NO,		/* escalation_level */
	TMPL_INCIDENTS,		/* incidents: one line each (handover, bundle) */
	TMPL_COUNT,		/* count (handover, bundle) */
	TMPL_SHIFT,		/* shift: the incoming shift (handover) */
	TMPL_CATEGORY,		/* category */
	TMPL_CAUSE,		/* cause */
	TMPL_MEASURES,		/* measures */
	TMPL_CASUALTIES,	/* casualties: "死亡1人、受伤5人", only the numbers given */
	TMPL_REPORTER,		/* reporter: the reporter's name */
	TMPL_REPORTER_PHONE,	/* reporter_phone: where to call back */
	TMPL_LATE_REPORT,	/* late_report: "" or "（迟报 N 分钟）" */
	TMPL_FACTS,		/* facts: "伤亡：…；地点：…；报告人：…（回电 …）。", what is known */
	TMPL_ACTION,		/* action: what the link does, "确认" or "详情" */
	TMPL_REPORT_DUE,	/* report_due: the written report's deadline, or that it is overdue */
	TMPL_REMARK,		/* remark: "" or the note as "（备注：…）" */
	TMPL_NVARS
};

struct tmpl_vars {
	const char	*v[TMPL_NVARS];		/* NULL renders as "" */
};

struct tmpl;

/*
 * 0, or -EINVAL (unknown placeholder, unclosed '{', stray '}', empty {},
 * invalid UTF-8), -E2BIG (over TMPL_SRC_MAX bytes), -ENOMEM.  On error *out
 * is NULL, *err_offset is the byte offset of the problem (of the '{' for a
 * placeholder) and err says what is wrong and how to fix it, without the
 * offset: the caller adds where.  err_offset and err may be NULL.
 */
int	 tmpl_compile(const char *src, struct tmpl **out, size_t *err_offset,
	    char *err, size_t errlen);
/* malloc'd; NULL with errno on ENOMEM.  vars may be NULL (all empty). */
char	*tmpl_render(const struct tmpl *, const struct tmpl_vars *);
void	 tmpl_free(struct tmpl *);
/* 1 if the template has the placeholder: callers compute only what is used. */
int	 tmpl_var_used(const struct tmpl *, enum tmpl_var);

/* Built-in sources for an event ("incident.new", ..., "duty.handover",
 * "dutyd.bundle"); NULL for an unknown event.  The title is one line. */
const char *tmpl_default(const char *event);
const char *tmpl_default_title(const char *event);

#endif
