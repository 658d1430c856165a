/*
 * wreport.c: each incident's written report as the records say (see
 * wreport.h).  One tree by incident id; an entry exists from the first
 * report.* record (or report filed) that names the incident.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/sys/tree.h>
#include <jansson.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "state/incident.h"
#include "state/router.h"
#include "state/wreport.h"
#include "store/record.h"

RB_HEAD(wreport_ids, wreport);

static struct wreport_ids wreport_ids = RB_INITIALIZER(&wreport_ids);

static int
wreport_cmp(struct wreport *a, struct wreport *b)
{
	return strcmp(a->id, b->id);
}

/* libbsd's tree.h leaves __unused to us; define it after system headers. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(wreport_ids, wreport, by_id, wreport_cmp)

static int wreport_apply(const struct record *);
static int wreport_follow(const struct record *);

void
wreport_init(void)
{
	router_own(ROUTER_WREPORT, wreport_apply);
	router_follow("incident.report_filed", wreport_follow);
}

static void
wreport_approval_clear(struct wreport_approval *a)
{
	free(a->by);
	free(a->by_name);
	free(a->comment);
	json_decref(a->approvers);
	memset(a, 0, sizeof(*a));
}

/* The current number's drafts and approval: a new number starts at version 0. */
static void
wreport_draft_clear(struct wreport *w)
{
	free(w->title);
	free(w->body);
	free(w->saved_by);
	free(w->saved_by_name);
	w->title = w->body = w->saved_by = w->saved_by_name = NULL;
	w->version = 0;
	w->saved_at = 0;
	json_array_clear(w->versions);
	wreport_approval_clear(&w->approval);
}

static void
wreport_free(struct wreport *w)
{
	if (w == NULL)
		return;
	wreport_draft_clear(w);
	json_decref(w->versions);
	json_decref(w->sent);
	free(w->id);
	free(w);
}

void
wreport_shutdown(void)
{
	struct wreport *w, *next;

	RB_FOREACH_SAFE(w, wreport_ids, &wreport_ids, next) {
		RB_REMOVE(wreport_ids, &wreport_ids, w);
		wreport_free(w);
	}
}

static struct wreport *
wreport_lookup(const char *id)
{
	struct wreport key;

	if (id == NULL)
		return NULL;
	key.id = (char *)id;
	return RB_FIND(wreport_ids, &wreport_ids, &key);
}

const struct wreport *
wreport_find(const char *id)
{
	return wreport_lookup(id);
}

static struct wreport *
wreport_get(const char *id)
{
	struct wreport *w;

	if ((w = wreport_lookup(id)) != NULL)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->id = strdup(id)) == NULL ||
	    (w->versions = json_array()) == NULL ||
	    (w->sent = json_array()) == NULL) {
		wreport_free(w);
		return NULL;
	}
	RB_INSERT(wreport_ids, &wreport_ids, w);
	return w;
}

int
wreport_number(const char *id)
{
	const struct wreport *w = wreport_find(id);

	return w != NULL ? w->number : 0;
}

int
wreport_version(const char *id)
{
	const struct wreport *w = wreport_find(id);

	return w != NULL ? w->version : 0;
}

const char *
wreport_approved_by(const char *id)
{
	const struct wreport *w = wreport_find(id);

	if (w == NULL || w->approval.state != WREPORT_APPROVED ||
	    w->approval.version != w->version)
		return NULL;
	return w->approval.by;
}

json_t *
wreport_sent_json(const char *id)
{
	const struct wreport *w = wreport_find(id);

	return w != NULL ? json_deep_copy(w->sent) : json_array();
}

const char *
wreport_last_via(const char *id)
{
	const struct wreport *w = wreport_find(id);
	size_t n;

	if (w == NULL || (n = json_array_size(w->sent)) == 0)
		return NULL;
	return json_string_value(json_object_get(json_array_get(w->sent, n - 1),
	    "via"));
}

/* Applying records ---------------------------------------------------------- */

/* "person:zhang" → "zhang"; other actors as they are. */
static const char *
wreport_person(const char *actor)
{
	if (actor != NULL && strncmp(actor, "person:", 7) == 0)
		return actor + 7;
	return actor;
}

static int
wreport_dup(const char *s, char **out)
{
	free(*out);
	*out = NULL;
	if (s == NULL)
		return 0;
	return (*out = strdup(s)) == NULL ? -ENOMEM : 0;
}

static int
wreport_int(const json_t *data, const char *key, int *out)
{
	json_t *v = json_object_get(data, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1000000)
		return -EINVAL;
	*out = (int)json_integer_value(v);
	return 0;
}

static const char *
wreport_str(const json_t *data, const char *key)
{
	return json_string_value(json_object_get(data, key));
}

static int
wreport_apply_saved(struct wreport *w, const struct record *r)
{
	const char	*title = wreport_str(r->data, "title");
	const char	*body = wreport_str(r->data, "body");
	json_t		*v;
	int		 version, rc;

	if (title == NULL || body == NULL ||
	    wreport_int(r->data, "version", &version) != 0)
		return -EINVAL;
	if ((rc = wreport_dup(title, &w->title)) != 0 ||
	    (rc = wreport_dup(body, &w->body)) != 0 ||
	    (rc = wreport_dup(wreport_person(r->actor), &w->saved_by)) != 0 ||
	    (rc = wreport_dup(wreport_str(r->data, "by_name"),
	    &w->saved_by_name)) != 0)
		return rc;
	w->version = version;
	w->saved_at = r->ts_ms;
	if ((v = json_pack("{s:i, s:s?, s:s?, s:s}", "version", version,
	    "saved_by", w->saved_by, "by_name", w->saved_by_name, "saved_at",
	    r->ts)) == NULL ||
	    json_array_append_new(w->versions, v) != 0)
		return -ENOMEM;
	/* What was approved or asked about is not this text any more. */
	if (w->approval.state != WREPORT_NONE && w->approval.version != version)
		wreport_approval_clear(&w->approval);
	return 0;
}

static int
wreport_apply_approval(struct wreport *w, const struct record *r,
    enum wreport_approval_state state)
{
	struct wreport_approval	*a = &w->approval;
	int			 version, rc;

	if (wreport_int(r->data, "version", &version) != 0)
		return -EINVAL;
	wreport_approval_clear(a);
	a->state = state;
	a->version = version;
	a->at = r->ts_ms;
	if ((rc = wreport_dup(wreport_person(r->actor), &a->by)) != 0 ||
	    (rc = wreport_dup(wreport_str(r->data, "by_name"), &a->by_name)) != 0 ||
	    (rc = wreport_dup(wreport_str(r->data, "comment"), &a->comment)) != 0)
		return rc;
	if (state == WREPORT_REQUESTED &&
	    json_is_array(json_object_get(r->data, "approvers")) &&
	    (a->approvers = json_deep_copy(json_object_get(r->data,
	    "approvers"))) == NULL)
		return -ENOMEM;
	return 0;
}

/* A report went to the province: the next number starts from version 0. */
static int
wreport_apply_sent(struct wreport *w, const struct record *r, const char *via)
{
	const char	*approved = wreport_str(r->data, "approved_by");
	json_t		*e;
	int		 version = w->version;

	if (strcmp(via, "dutyd") == 0 &&
	    wreport_int(r->data, "version", &version) != 0)
		return -EINVAL;
	if (approved == NULL && strcmp(via, "other") == 0)
		approved = wreport_approved_by(w->id);
	if (json_array_size(w->sent) >= WREPORT_SENT_MAX)
		json_array_remove(w->sent, 0);
	e = json_pack("{s:i, s:i, s:s?, s:s?, s:s, s:s?, s:s}",
	    "number", w->number, "version", version,
	    "title", wreport_str(r->data, "title") != NULL ?
	    wreport_str(r->data, "title") : w->title,
	    "reference", wreport_str(r->data, "reference"),
	    "sent_at", r->ts, "approved_by", approved, "via", via);
	if (e == NULL || json_array_append_new(w->sent, e) != 0)
		return -ENOMEM;
	w->number++;
	wreport_draft_clear(w);
	return 0;
}

static int
wreport_apply(const struct record *r)
{
	struct wreport	*w;
	int		 number = -1, rc = 0;

	/* While a checkpoint replays, an incident whose part comes later is skipped. */
	if (r->incident == NULL || incident_find(r->incident) == NULL) {
		if (!router_restoring())
			log_debug("audit seq %lld: %s for no loaded incident",
			    (long long)r->seq, r->event);
		return 0;
	}
	if ((w = wreport_get(r->incident)) == NULL)
		return -ENOMEM;
	/* A record about another number (a race lost at restart) changes nothing. */
	if (strcmp(r->event, "report.reminder") != 0 &&
	    (wreport_int(r->data, "number", &number) != 0 || number != w->number)) {
		log_debug("audit seq %lld: %s for report %d, drafting %d",
		    (long long)r->seq, r->event, number, w->number);
		return 0;
	}
	if (strcmp(r->event, "report.draft_saved") == 0)
		rc = wreport_apply_saved(w, r);
	else if (strcmp(r->event, "report.approval_requested") == 0)
		rc = wreport_apply_approval(w, r, WREPORT_REQUESTED);
	else if (strcmp(r->event, "report.approved") == 0)
		rc = wreport_apply_approval(w, r, WREPORT_APPROVED);
	else if (strcmp(r->event, "report.rejected") == 0)
		rc = wreport_apply_approval(w, r, WREPORT_REJECTED);
	else if (strcmp(r->event, "report.submitted") == 0)
		rc = wreport_apply_sent(w, r, "dutyd");
	else if (strcmp(r->event, "report.reminder") == 0)
		w->reminded_at = r->ts_ms;
	if (rc == -EINVAL) {
		log_warnx("audit seq %lld: %s without its fields; skipped",
		    (long long)r->seq, r->event);
		rc = 0;
	}
	return rc;
}

/* Filed by other means (fax, the provincial system's form): sent all the same. */
static int
wreport_follow(const struct record *r)
{
	struct wreport *w;

	if (r->incident == NULL || incident_find(r->incident) == NULL)
		return 0;
	if ((w = wreport_get(r->incident)) == NULL)
		return -ENOMEM;
	return wreport_apply_sent(w, r, "other");
}

/* Checkpoints --------------------------------------------------------------- */

static const char *wreport_state_names[] = {
	"none", "requested", "approved", "rejected",
};

json_t *
wreport_snapshot(const char *id)
{
	const struct wreport		*w = wreport_find(id);
	const struct wreport_approval	*a;

	if (w == NULL)
		return NULL;
	a = &w->approval;
	return json_pack("{s:i, s:i, s:s?, s:s?, s:s?, s:s?, s:I, s:O, s:O, s:I,"
	    " s:{s:s, s:i, s:s?, s:s?, s:s?, s:I, s:O?}}",
	    "number", w->number, "version", w->version, "title", w->title,
	    "body", w->body, "saved_by", w->saved_by, "saved_by_name",
	    w->saved_by_name, "saved_at", (json_int_t)w->saved_at,
	    "versions", w->versions, "sent", w->sent,
	    "reminded_at", (json_int_t)w->reminded_at,
	    "approval", "state", wreport_state_names[a->state], "version",
	    a->version, "by", a->by, "by_name", a->by_name, "comment", a->comment,
	    "at", (json_int_t)a->at, "approvers", a->approvers);
}

static enum wreport_approval_state
wreport_state_of(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(wreport_state_names) /
	    sizeof(wreport_state_names[0]); i++)
		if (strcmp(name, wreport_state_names[i]) == 0)
			return (enum wreport_approval_state)i;
	return WREPORT_NONE;
}

static void
wreport_forget(const char *id)
{
	struct wreport *w;

	if ((w = wreport_lookup(id)) != NULL) {
		RB_REMOVE(wreport_ids, &wreport_ids, w);
		wreport_free(w);
	}
}

int
wreport_restore(const char *id, const json_t *part)
{
	struct wreport	*w;
	json_t		*a = json_object_get(part, "approval");
	int		 rc;

	/* The checkpoint holds the whole of it: whatever replay built goes. */
	wreport_forget(id);
	if (!json_is_object(part))
		return 0;
	if ((w = wreport_get(id)) == NULL)
		return -ENOMEM;
	w->number = (int)json_integer_value(json_object_get(part, "number"));
	w->version = (int)json_integer_value(json_object_get(part, "version"));
	w->saved_at = json_integer_value(json_object_get(part, "saved_at"));
	w->reminded_at = json_integer_value(json_object_get(part, "reminded_at"));
	if ((rc = wreport_dup(wreport_str(part, "title"), &w->title)) != 0 ||
	    (rc = wreport_dup(wreport_str(part, "body"), &w->body)) != 0 ||
	    (rc = wreport_dup(wreport_str(part, "saved_by"), &w->saved_by)) != 0 ||
	    (rc = wreport_dup(wreport_str(part, "saved_by_name"),
	    &w->saved_by_name)) != 0)
		return rc;
	if (json_is_array(json_object_get(part, "versions")) &&
	    json_array_extend(w->versions, json_object_get(part, "versions")) != 0)
		return -ENOMEM;
	if (json_is_array(json_object_get(part, "sent")) &&
	    json_array_extend(w->sent, json_object_get(part, "sent")) != 0)
		return -ENOMEM;
	w->approval.state = wreport_state_of(wreport_str(a, "state"));
	w->approval.version = (int)json_integer_value(json_object_get(a,
	    "version"));
	w->approval.at = json_integer_value(json_object_get(a, "at"));
	if ((rc = wreport_dup(wreport_str(a, "by"), &w->approval.by)) != 0 ||
	    (rc = wreport_dup(wreport_str(a, "by_name"),
	    &w->approval.by_name)) != 0 ||
	    (rc = wreport_dup(wreport_str(a, "comment"),
	    &w->approval.comment)) != 0)
		return rc;
	if (json_is_array(json_object_get(a, "approvers")) &&
	    (w->approval.approvers = json_deep_copy(json_object_get(a,
	    "approvers"))) == NULL)
		return -ENOMEM;
	return 0;
}

void
wreport_prune(int (*has)(const char *id))
{
	struct wreport *w, *next;

	RB_FOREACH_SAFE(w, wreport_ids, &wreport_ids, next)
		if (!has(w->id)) {
			RB_REMOVE(wreport_ids, &wreport_ids, w);
			wreport_free(w);
		}
}
