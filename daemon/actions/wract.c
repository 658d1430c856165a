/*
 * wract.c: the written report's draft and approval (see wract.h).
 * Nothing here changes the report: the records do (state/wreport.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "actions/wract.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "config/confwreport.h"
#include "config/roster.h"
#include "notify/notify.h"
#include "parse/wdraft.h"
#include "state/incident.h"
#include "state/wreport.h"
#include "store/store.h"

/* What the approvers are told: the link a tap approves with. */
#define WRACT_LINK_APPROVE	"P"

static const struct config_person *
wract_person(const char *id)
{
	return id != NULL ? config_person(config_current(), id) : NULL;
}

static const char *
wract_name(const char *id)
{
	const struct config_person *p = wract_person(id);

	return p != NULL ? p->name : id;
}

int
wract_approval_required(const struct incident *inc)
{
	return confwreport_needs_approval(config_current(),
	    json_string_value(incident_fact(inc, "level", NULL)));
}

/* When the latest fact came in: the report, or its last follow-up. */
static int64_t
wract_last_fact_ms(const struct incident *inc)
{
	size_t	 n = json_array_size(inc->updates);
	int64_t	 ms;

	if (n > 0 && time_parse(json_string_value(json_object_get(
	    json_array_get(inc->updates, n - 1), "at")), &ms) == 0)
		return ms;
	return inc->received_at;
}

/*
 * Version 0: the footer names who was on duty when the latest fact came
 * in, so the same incident always gives the same text.
 */
static int
wract_generate(const struct incident *inc, int number, char **title,
    char **body)
{
	const struct config		*cf = config_current();
	const struct config_person	*contact = NULL, *leader = NULL;
	struct roster_oncall		 oc;
	struct wdraft_input		 in;

	memset(&in, 0, sizeof(in));
	if (roster_at(cf, wract_last_fact_ms(inc), &oc) == 0) {
		if (oc.has_leader)
			leader = config_person(cf, oc.leader.person);
		if (oc.nofficers > 0)
			contact = config_person(cf, oc.officers[0].person);
	}
	in.number = number;
	in.office_name = inc->office_name != NULL ? inc->office_name :
	    inc->office;
	in.report = incident_report(inc);
	in.updates = inc->updates;
	in.received_ms = inc->received_at;
	in.organization = cf->organization;
	in.addressee = cf->province.name;
	in.approver = leader != NULL ? leader->name : NULL;
	in.contact_name = contact != NULL ? contact->name : NULL;
	in.contact_phone = contact != NULL && contact->nphones > 0 ?
	    contact->phones[0] : NULL;
	in.tz = time_zone();
	return wdraft_make(&in, title, body);
}

int
wract_current_text(const struct incident *inc, char **title, char **body)
{
	const struct wreport *w = wreport_find(inc->id);

	*title = *body = NULL;
	if (w == NULL || w->version == 0)
		return wract_generate(inc, wreport_number(inc->id), title, body);
	if ((*title = strdup(w->title)) == NULL ||
	    (*body = strdup(w->body)) == NULL) {
		free(*title);
		*title = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Approvers ---------------------------------------------------------------- */

/* Person ids of the approvers now, each once, in policy order. */
static json_t *
wract_approver_ids(void)
{
	const struct config	*cf = config_current();
	struct roster_oncall	 oc;
	json_t			*ids = json_array();
	const char		*a;
	size_t			 i, j;

	if (ids == NULL)
		return NULL;
	if (roster_at(cf, time_now_ms(), &oc) != 0)
		memset(&oc, 0, sizeof(oc));
	for (i = 0; i < cf->policy.napprovers; i++) {
		if ((a = cf->policy.approvers[i]) == NULL)
			continue;
		if (strcmp(a, "leader") == 0) {
			if (oc.has_leader)
				json_array_append_new(ids,
				    json_string(oc.leader.person));
		} else if (strcmp(a, "officers") == 0) {
			for (j = 0; j < oc.nofficers; j++)
				json_array_append_new(ids,
				    json_string(oc.officers[j].person));
		} else
			json_array_append_new(ids, json_string(a));
	}
	/* Each once: the leader may also be named by id. */
	for (i = 0; i < json_array_size(ids); i++)
		for (j = json_array_size(ids); j-- > i + 1;)
			if (json_equal(json_array_get(ids, i),
			    json_array_get(ids, j)))
				json_array_remove(ids, j);
	return ids;
}

int
wract_may_approve(const char *person)
{
	json_t	*ids, *v;
	size_t	 i;
	int	 yes = 0;

	if (person == NULL || (ids = wract_approver_ids()) == NULL)
		return 0;
	json_array_foreach(ids, i, v)
		if (strcmp(json_string_value(v), person) == 0)
			yes = 1;
	json_decref(ids);
	return yes;
}

char *
wract_approvers_text(void)
{
	const struct config	*cf = config_current();
	struct roster_oncall	 oc;
	json_t			*ids;
	char			*buf = NULL;
	size_t			 len = 0, i;
	FILE			*f;

	if ((ids = wract_approver_ids()) == NULL ||
	    (f = open_memstream(&buf, &len)) == NULL) {
		json_decref(ids);
		return NULL;
	}
	if (roster_at(cf, time_now_ms(), &oc) != 0)
		memset(&oc, 0, sizeof(oc));
	for (i = 0; i < json_array_size(ids); i++) {
		const char *id = json_string_value(json_array_get(ids, i));

		fprintf(f, "%s%s（%s）", i > 0 ? "、" : "", wract_name(id),
		    oc.has_leader && strcmp(oc.leader.person, id) == 0 ?
		    "带班领导" : id);
	}
	if (json_array_size(ids) == 0)
		fputs("无人（policy.approvers 所列的人此刻都不在班）", f);
	json_decref(ids);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Actions ------------------------------------------------------------------ */

static int
wract_closed(const struct incident *inc)
{
	return inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED;
}

static int
wract_append(struct incident *inc, const char *kind, const char *person,
    json_t *data)
{
	char actor[128];

	if (data == NULL)
		return -ENOMEM;
	snprintf(actor, sizeof(actor), "person:%s", person);
	return store_append(kind, inc->id, actor, data, NULL);
}

int
wract_save(struct incident *inc, const char *person, const char *title,
    const char *body, int base, int *current)
{
	const struct wreport *w = wreport_find(inc->id);

	*current = w != NULL ? w->version : 0;
	if (wract_closed(inc))
		return -EALREADY;
	if (base != *current)
		return -ESTALE;
	if (w != NULL && json_array_size(w->versions) >= WREPORT_VERSIONS_MAX)
		return -ENOSPC;
	return wract_append(inc, "report.draft_saved", person, json_pack(
	    "{s:i, s:i, s:s, s:s, s:i, s:s?}", "number", wreport_number(inc->id),
	    "version", *current + 1, "title", title, "body", body,
	    "base_version", base, "by_name", wract_name(person)));
}

/* The approvers hear of it: the text, a one-tap approve link, the SMS code. */
static int
wract_request_intent(struct incident *inc, const json_t *ids, int number,
    int version)
{
	const struct config	*cf = config_current();
	struct notify_ask	 ask;
	json_t			*list = json_array(), *seen = json_object();
	json_t			*data = NULL;
	char			*title = NULL, *body = NULL;
	size_t			 i;
	int			 rc = -ENOMEM;

	memset(&ask, 0, sizeof(ask));
	ask.codes = inc->id;
	ask.link = 1;
	if (list == NULL || seen == NULL)
		goto out;
	for (i = 0; i < json_array_size(ids); i++)
		if ((rc = notify_add_person(list, seen, cf, json_string_value(
		    json_array_get(ids, i)), "policy.approvers", &ask)) != 0)
			goto out;
	if ((rc = wract_current_text(inc, &title, &body)) != 0)
		goto out;
	rc = -ENOMEM;
	data = json_pack("{s:s, s:O, s:i, s:s, s:{s:i, s:i, s:s, s:s}}",
	    "event", "report.approval_requested", "recipients", list,
	    "late_ms", 0, "link_action", WRACT_LINK_APPROVE, "report",
	    "number", number, "version", version, "title", title, "body", body);
	if (data != NULL)
		rc = store_append("notify.intent", inc->id, "dutyd", data, NULL);
out:
	json_decref(list);
	json_decref(seen);
	free(title);
	free(body);
	return rc;
}

int
wract_request(struct incident *inc, const char *person)
{
	const struct wreport	*w = wreport_find(inc->id);
	const char		*approved;
	json_t			*ids;
	int		 number = wreport_number(inc->id);
	int		 version = wreport_version(inc->id), rc;

	if (wract_closed(inc))
		return -EALREADY;
	if (!wract_approval_required(inc))
		return -ENOTSUP;
	if ((approved = wreport_approved_by(inc->id)) != NULL)
		return -EALREADY;
	/* Each request messages every approver: not again and again. */
	if (w != NULL && w->approval.state == WREPORT_REQUESTED &&
	    w->approval.version == version &&
	    time_now_ms() - w->approval.at < WRACT_REQUEST_AGAIN_MS)
		return -EBUSY;
	if ((ids = wract_approver_ids()) == NULL)
		return -ENOMEM;
	if (json_array_size(ids) == 0) {
		json_decref(ids);
		return -ENOENT;
	}
	rc = wract_append(inc, "report.approval_requested", person, json_pack(
	    "{s:i, s:i, s:O, s:s?}", "number", number, "version", version,
	    "approvers", ids, "by_name", wract_name(person)));
	if (rc == 0 && (rc = wract_request_intent(inc, ids, number,
	    version)) != 0) {
		log_warnx("incident %s: approval of report %d version %d was "
		    "asked, but the message to the approvers could not be "
		    "recorded (%s); tell them by phone", inc->id, number, version,
		    strerror(-rc));
		rc = 0;
	}
	json_decref(ids);
	return rc;
}

static int
wract_decide(struct incident *inc, const char *kind, const char *person,
    const char *comment)
{
	return wract_append(inc, kind, person, json_pack(
	    "{s:i, s:i, s:s?, s:s?}", "number", wreport_number(inc->id),
	    "version", wreport_version(inc->id), "comment", comment,
	    "by_name", wract_name(person)));
}

int
wract_approve(struct incident *inc, const char *person, const char *comment,
    int *changed)
{
	*changed = 0;
	if (wract_closed(inc))
		return -EALREADY;
	if (!wract_may_approve(person))
		return -EPERM;
	if (wreport_approved_by(inc->id) != NULL)
		return 0;
	*changed = 1;
	return wract_decide(inc, "report.approved", person, comment);
}

int
wract_reject(struct incident *inc, const char *person, const char *comment)
{
	if (wract_closed(inc))
		return -EALREADY;
	if (!wract_may_approve(person))
		return -EPERM;
	return wract_decide(inc, "report.rejected", person, comment);
}

/* The draft as the API shows it ------------------------------------------ */

static json_t *
wract_time(int64_t ms)
{
	char buf[TIME_RFC3339_MAX];

	return ms != 0 ? json_string(time_format(ms, buf, sizeof(buf))) :
	    json_null();
}

static const char *const wract_states[] = {
	"none", "requested", "approved", "rejected",
};

static json_t *
wract_approval_json(const struct incident *inc, const struct wreport *w)
{
	const struct wreport_approval *a = w != NULL ? &w->approval : NULL;

	if (a == NULL || a->state == WREPORT_NONE)
		return json_pack("{s:b, s:s, s:n, s:n, s:n, s:n, s:n}", "required",
		    wract_approval_required(inc), "state", "none", "version",
		    "by", "by_name", "at", "comment");
	return json_pack("{s:b, s:s, s:i, s:s?, s:s?, s:o, s:s?}", "required",
	    wract_approval_required(inc), "state", wract_states[a->state],
	    "version", a->version, "by", a->by, "by_name", a->by_name, "at",
	    wract_time(a->at), "comment", a->comment);
}

json_t *
wract_draft_json(const struct incident *inc, const char *person)
{
	const struct wreport	*w = wreport_find(inc->id);
	json_t			*o, *versions, *v, *e;
	char			*title = NULL, *body = NULL;
	size_t			 i;

	if (wract_current_text(inc, &title, &body) != 0)
		return NULL;
	versions = json_pack("[{s:i, s:s, s:o}]", "version", 0, "saved_by",
	    "dutyd", "saved_at", wract_time(wract_last_fact_ms(inc)));
	for (i = 0; versions != NULL && w != NULL &&
	    i < json_array_size(w->versions); i++) {
		v = json_array_get(w->versions, i);
		e = json_pack("{s:O, s:O, s:O?, s:O?}", "version",
		    json_object_get(v, "version"), "saved_by",
		    json_object_get(v, "saved_by"), "by_name",
		    json_object_get(v, "by_name"), "saved_at",
		    json_object_get(v, "saved_at"));
		if (e == NULL || json_array_append_new(versions, e) != 0) {
			json_decref(versions);
			versions = NULL;
		}
	}
	o = versions == NULL ? NULL : json_pack(
	    "{s:i, s:i, s:s, s:s, s:s, s:s?, s:o, s:o, s:o, s:b, s:o}",
	    "number", wreport_number(inc->id), "version",
	    w != NULL ? w->version : 0, "title", title, "body", body,
	    "saved_by", w != NULL && w->version > 0 ? w->saved_by : "dutyd",
	    "by_name", w != NULL && w->version > 0 ? w->saved_by_name : NULL,
	    "saved_at", wract_time(w != NULL && w->version > 0 ? w->saved_at :
	    wract_last_fact_ms(inc)), "approval", wract_approval_json(inc, w),
	    "versions", versions, "may_approve", wract_may_approve(person),
	    "sent", wreport_sent_json(inc->id));
	free(title);
	free(body);
	return o;
}
