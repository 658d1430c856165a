/*
 * wrsubmit.c: POST /api/v1/incidents/{id}/written-report/submit
 * {"reference"}: HTTP to wrsend_submit() and back.  200 with the incident
 * and what became of the delivery ("submission"); 409 when approval is
 * missing (naming what), or the incident was merged or dismissed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/wrsend.h"
#include "base/log.h"
#include "base/utf8.h"
#include "config/config.h"
#include "intake/http.h"
#include "intake/wrsubmit.h"
#include "parse/report.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/wreport.h"

/* "首报" or "续报N": how the duty room names a report. */
static const char *
wrsubmit_name(int number, char *buf, size_t len)
{
	if (number == 0)
		snprintf(buf, len, "首报");
	else
		snprintf(buf, len, "续报%d", number);
	return buf;
}

static void
wrsubmit_missing(struct http_call *call, struct incident *inc,
    const char *missing)
{
	const struct wreport	*w = wreport_find(inc->id);
	char			 name[32];
	const char		*what;

	wrsubmit_name(wreport_number(inc->id), name, sizeof(name));
	if (strcmp(missing, "待审核") == 0)
		what = "approval was requested but not given yet: the approvers "
		    "approve it (POST …/written-report/approve, the one-tap "
		    "link or the SMS code), then submit again";
	else if (strcmp(missing, "已退回") == 0)
		what = "the approver rejected it: edit the draft as the comment "
		    "says, request approval again, then submit";
	else
		what = "approval was never requested for this version: request "
		    "it with POST …/written-report/approval-request";
	http_error(call, 409, "approval", "incident %s: the written report (%s, "
	    "version %d) is %s; reports of this level must be approved before "
	    "they go to the province (重要信息须经审核批准后方可上报): %s",
	    inc->id, name, w != NULL ? w->version : 0, missing, what);
}

static void wrsubmit_reply(struct http_call *, struct incident *, int,
    size_t, int);

void
wrsubmit_post(struct http_call *call)
{
	static const char *const fields[] = { "reference", NULL };
	struct report_error	 err;
	struct incident		*inc;
	const char		*reference, *missing;
	const char		*key = http_header(call, "Idempotency-Key");
	json_t			*args;
	char			 name[32];
	size_t			 sent_to = 0;
	int			 number, rc;

	if ((inc = incident_find(call->param)) == NULL) {
		http_error(call, 404, "id", "no incident '%s'; list them with GET "
		    "/api/v1/incidents?state=all", call->param);
		return;
	}
	if (http_want_json(call, 0) != 0)
		return;
	memset(&err, 0, sizeof(err));
	if ((args = report_parse_action(call->body, call->body_len, fields,
	    &err)) == NULL) {
		http_error(call, err.code == -ENOMEM ? 503 : 400, err.field, "%s",
		    err.message);
		return;
	}
	reference = json_string_value(json_object_get(args, "reference"));
	if (reference != NULL && reference[strspn(reference, " \t\r\n")] == '\0')
		reference = NULL;
	if (reference != NULL && utf8_length(reference) > WRSEND_REFERENCE_MAX) {
		json_decref(args);
		http_error(call, 400, "reference", "reference is longer than %d "
		    "characters: give the report's 文号, e.g. \"某应急〔2026〕12号\"",
		    WRSEND_REFERENCE_MAX);
		return;
	}
	/* The same Idempotency-Key: that submission again, not the next report. */
	if ((number = wrsend_find_key(inc, key)) >= 0) {
		json_decref(args);
		log_info("incident %s: written report %s submitted again with the "
		    "same Idempotency-Key: nothing new recorded", inc->id,
		    wrsubmit_name(number, name, sizeof(name)));
		wrsubmit_reply(call, inc, number, 0, 1);
		return;
	}
	number = wreport_number(inc->id);
	if (inc->state != INCIDENT_MERGED && inc->state != INCIDENT_DISMISSED &&
	    (missing = wrsend_missing(inc)) != NULL) {
		json_decref(args);
		wrsubmit_missing(call, inc, missing);
		return;
	}
	rc = wrsend_submit(inc, call->person->id, reference, key, &sent_to);
	json_decref(args);
	if (rc == -EALREADY) {
		http_error(call, 409, "id", "incident %s was %s; its written report "
		    "goes with the incident it was merged into, if any",
		    inc->id, inc->state == INCIDENT_MERGED ? "merged" :
		    "dismissed as a false report");
		return;
	}
	if (rc != 0) {
		http_error(call, 503, NULL, "the written report "
		    "of incident %s could not be recorded as submitted (%s). "
		    "Nothing was sent; retry in a minute, and phone the province "
		    "if it persists", inc->id, strerror(-rc));
		return;
	}
	log_info("incident %s: written report %s submitted by %s%s", inc->id,
	    wrsubmit_name(number, name, sizeof(name)), call->person->id,
	    sent_to > 0 ? ", sending it to the province" :
	    "; nothing sent (see the warning above or province.contacts)");
	wrsubmit_reply(call, inc, number, sent_to, 0);
}

/* The incident, and what became of submission NUMBER ("submission"). */
static void
wrsubmit_reply(struct http_call *call, struct incident *inc, int number,
    size_t sent_to, int repeated)
{
	const struct config	*cfg = config_current();
	json_t			*body, *sub;

	body = incview_json(inc, 1);
	sub = json_pack("{s:i, s:s?, s:i, s:b}", "number", number, "province",
	    cfg->province.name, "contacts", (int)sent_to, "sending", sent_to > 0);
	if (sub != NULL && repeated) {
		json_object_set_new(sub, "repeated", json_true());
		json_object_set_new(sub, "contacts",
		    json_integer((json_int_t)cfg->province.ncontacts));
		json_object_set_new(sub, "sending",
		    json_boolean(cfg->province.ncontacts > 0));
	} else if (sub != NULL && sent_to == 0)
		json_object_set_new(sub, "warning", json_string(
		    cfg->province.ncontacts == 0 ? "province.contacts is not "
		    "configured: the report is recorded as submitted and the "
		    "report clock stopped, but dutyd sent it to nobody; send it "
		    "by other means (fax, the provincial system)" : "the report "
		    "is recorded as submitted and the report clock stopped, but "
		    "its delivery to the province could not be recorded; send "
		    "it by other means (fax, the provincial system)"));
	if (body == NULL || sub == NULL ||
	    json_object_set_new(body, "submission", sub) != 0) {
		if (body == NULL)
			json_decref(sub);
		json_decref(body);
		http_error(call, 503, NULL, "incident %s: the report is submitted, "
		    "but the reply could not be built (out of memory); see it "
		    "with GET /api/v1/incidents/%s", inc->id, inc->id);
		return;
	}
	http_reply(call, 200, body);
}
