/*
 * wrsend.c: the written report sent to the province (see wrsend.h).
 * Decide, record, then tell: the report.submitted record stops the report
 * clock (state/incident.c) and moves the draft to the next number
 * (state/wreport.c); the intent that follows delivers it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "actions/wract.h"
#include "actions/wrsend.h"
#include "base/log.h"
#include "config/config.h"
#include "notify/notify.h"
#include "state/incident.h"
#include "state/router.h"
#include "state/wreport.h"
#include "store/record.h"
#include "store/store.h"

/*
 * Submissions replayed without their delivery's intent yet:
 * {"<incident> <number>": {"incident", "data"}}.  Only while replaying.
 */
static json_t	*wrsend_pending;

static int
wrsend_follow(const struct record *r)
{
	const char	*ev;
	char		 key[INCIDENT_ID_MAX + 16];
	json_t		*data = r->data, *e;

	if (!r->replaying || r->incident == NULL ||
	    incident_find(r->incident) == NULL)
		return 0;
	if (strcmp(r->event, "report.submitted") == 0) {
		if (json_integer_value(json_object_get(data, "contacts")) <= 0 ||
		    !json_is_string(json_object_get(data, "body")))
			return 0;	/* sent to nobody, or before the body was kept */
		snprintf(key, sizeof(key), "%s %lld", r->incident, (long long)
		    json_integer_value(json_object_get(data, "number")));
		if ((wrsend_pending == NULL &&
		    (wrsend_pending = json_object()) == NULL) ||
		    (e = json_pack("{s:s, s:O}", "incident", r->incident,
		    "data", data)) == NULL ||
		    json_object_set_new(wrsend_pending, key, e) != 0)
			return -ENOMEM;
		return 0;
	}
	if (strcmp(r->event, "notify.intent") != 0 || wrsend_pending == NULL ||
	    (ev = json_string_value(json_object_get(data, "event"))) == NULL ||
	    strcmp(ev, "report.submitted") != 0)
		return 0;
	snprintf(key, sizeof(key), "%s %lld", r->incident, (long long)
	    json_integer_value(json_object_get(json_object_get(data, "report"),
	    "number")));
	json_object_del(wrsend_pending, key);
	return 0;
}

void
wrsend_init(void)
{
	router_follow("", wrsend_follow);
}

void
wrsend_shutdown(void)
{
	json_decref(wrsend_pending);
	wrsend_pending = NULL;
}

const char *
wrsend_missing(const struct incident *inc)
{
	const struct wreport *w = wreport_find(inc->id);

	if (!wract_approval_required(inc) || wreport_approved_by(inc->id) != NULL)
		return NULL;
	if (w == NULL || w->approval.version != w->version)
		return "未审核";
	switch (w->approval.state) {
	case WREPORT_REQUESTED:
		return "待审核";
	case WREPORT_REJECTED:
		return "已退回";
	default:
		return "未审核";
	}
}

void
wrsend_check_config(void)
{
	if (config_current()->province.ncontacts == 0)
		log_warnx("province.contacts is not configured: a written report "
		    "submitted (POST …/written-report/submit) is recorded and "
		    "stops the report clock, but dutyd sends it to nobody; add "
		    "province: {name, contacts: [{channel, to}]} to send it");
}

static const char *
wrsend_person_name(const char *person)
{
	const struct config_person *p = config_person(config_current(), person);

	return p != NULL ? p->name : person;
}

/* The report as sent: the title, a blank line, the body (written-report.txt). */
static char *
wrsend_text(const char *title, const char *body)
{
	char *text;

	if (asprintf(&text, "%s\n\n%s", title, body) == -1)
		return NULL;
	return text;
}

static int
wrsend_sha256(const char *s, char hex[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len = 0, i;

	if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 ||
	    len != 32)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The province as a recipient: its contacts in order, the first tried first. */
static json_t *
wrsend_province(const struct config *cfg)
{
	json_t	*contacts = json_array(), *r;
	size_t	 i;

	for (i = 0; contacts != NULL && i < cfg->province.ncontacts; i++)
		if (json_array_append_new(contacts, json_pack("{s:s, s:s}",
		    "channel", cfg->province.contacts[i].channel, "to",
		    cfg->province.contacts[i].to)) != 0) {
			json_decref(contacts);
			contacts = NULL;
		}
	if (contacts == NULL)
		return NULL;
	r = json_pack("{s:s, s:s, s:o, s:s}", "person", WRSEND_PROVINCE,
	    "name", cfg->province.name != NULL ? cfg->province.name : "省级",
	    "contacts", contacts, "why", "province: the written report");
	return r;
}

/* The delivery of the report just recorded. */
static int
wrsend_intent(struct incident *inc, const struct config *cfg, int number,
    int version, const char *title, const char *body, const char *reference)
{
	json_t *data, *rcp;

	if ((rcp = wrsend_province(cfg)) == NULL)
		return -ENOMEM;
	data = json_pack("{s:s, s:[o], s:i, s:{s:i, s:i, s:s, s:s, s:s?}}",
	    "event", "report.submitted", "recipients", rcp, "late_ms", 0,
	    "report", "number", number, "version", version, "title", title,
	    "body", body, "reference", reference);
	if (data == NULL)
		return -ENOMEM;
	return store_append("notify.intent", inc->id, "dutyd", data, NULL);
}

void
wrsend_replayed(void)
{
	const struct config	*cfg = config_current();
	struct incident		*inc;
	const char		*key;
	json_t			*e, *d;
	int			 rc;

	json_object_foreach(wrsend_pending, key, e) {
		d = json_object_get(e, "data");
		if ((inc = incident_find(json_string_value(json_object_get(e,
		    "incident")))) == NULL)
			continue;
		if (cfg->province.ncontacts == 0) {
			log_warnx("incident %s: written report %lld was submitted "
			    "but not sent, and province.contacts is no longer "
			    "configured: send it by other means", inc->id,
			    (long long)json_integer_value(json_object_get(d,
			    "number")));
			continue;
		}
		rc = wrsend_intent(inc, cfg,
		    (int)json_integer_value(json_object_get(d, "number")),
		    (int)json_integer_value(json_object_get(d, "version")),
		    json_string_value(json_object_get(d, "title")),
		    json_string_value(json_object_get(d, "body")),
		    json_string_value(json_object_get(d, "reference")));
		if (rc != 0)
			log_warnx("incident %s: written report %lld was submitted "
			    "but its delivery cannot be recorded (%s): send it by "
			    "other means", inc->id, (long long)json_integer_value(
			    json_object_get(d, "number")), strerror(-rc));
		else
			log_warnx("incident %s: written report %lld was submitted "
			    "but dutyd stopped before recording its delivery; "
			    "sending it to the province now", inc->id,
			    (long long)json_integer_value(json_object_get(d,
			    "number")));
	}
	wrsend_shutdown();
}

int
wrsend_find_key(const struct incident *inc, const char *idem_key)
{
	json_t		*d;
	const char	*k;
	size_t		 i;
	int		 found, n = 0;

	if (idem_key == NULL)
		return -1;
	/* The timeline keeps every record but delivery attempts. */
	for (i = timeline_len(&inc->timeline); i-- > 0; ) {
		if (strcmp(timeline_event(&inc->timeline, i),
		    "report.submitted") != 0)
			continue;
		d = timeline_data(&inc->timeline, i);
		k = json_string_value(json_object_get(d, "idempotency_key"));
		if ((found = k != NULL && strcmp(k, idem_key) == 0))
			n = (int)json_integer_value(json_object_get(d, "number"));
		json_decref(d);
		if (found)
			return n;
	}
	return -1;
}

int
wrsend_submit(struct incident *inc, const char *person, const char *reference,
    const char *idem_key, size_t *sent_to)
{
	const struct config	*cfg = config_current();
	char			 actor[128], sha[65];
	char			*title = NULL, *body = NULL, *text = NULL;
	const char		*approved;
	json_t			*data;
	int			 number, version, rc;

	*sent_to = 0;
	if (inc->state == INCIDENT_MERGED || inc->state == INCIDENT_DISMISSED)
		return -EALREADY;
	if (wrsend_missing(inc) != NULL)
		return -EACCES;
	number = wreport_number(inc->id);
	version = wreport_version(inc->id);
	approved = wreport_approved_by(inc->id);
	if ((rc = wract_current_text(inc, &title, &body)) != 0)
		return rc;
	rc = -ENOMEM;
	if ((text = wrsend_text(title, body)) == NULL ||
	    wrsend_sha256(text, sha) != 0)
		goto out;
	/* The body too: the record alone says what went, if a crash ate the intent. */
	data = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s?, s:i}",
	    "number", number, "version", version, "title", title,
	    "body", body, "text_sha256", sha, "approved_by", approved,
	    "reference", reference, "by_name", wrsend_person_name(person),
	    "province", cfg->province.name,
	    "contacts", (int)cfg->province.ncontacts);
	if (data == NULL || (idem_key != NULL && json_object_set_new(data,
	    "idempotency_key", json_string(idem_key)) != 0)) {
		json_decref(data);
		goto out;
	}
	snprintf(actor, sizeof(actor), "person:%s", person);
	if ((rc = store_append("report.submitted", inc->id, actor, data,
	    NULL)) != 0)
		goto out;
	if (cfg->province.ncontacts > 0) {
		if ((rc = wrsend_intent(inc, cfg, number, version, title, body,
		    reference)) != 0)
			log_warnx("incident %s: report %d is recorded as submitted "
			    "but its delivery to the province could not be "
			    "recorded (%s); send it by other means (fax, phone)",
			    inc->id, number, strerror(-rc));
		else
			*sent_to = cfg->province.ncontacts;
	}
	rc = 0;
	/* Filed: the duty room hears of it (incident.report_filed's message). */
	notify_reconcile(inc);
out:
	free(title);
	free(body);
	free(text);
	return rc;
}

int
wrsend_file_other(struct incident *inc, const char *person,
    const char *reference, int *changed)
{
	const struct wreport	*w = wreport_find(inc->id);
	const char		*approved = wreport_approved_by(inc->id);
	char			 actor[128];
	json_t			*data, *e;
	size_t			 i;
	int			 rc;

	*changed = 0;
	if (incident_is_closed(inc) && inc->state != INCIDENT_RESOLVED)
		return 0;
	/* The first report once; a later one only with a reference not seen yet. */
	if (inc->filed.at != 0) {
		if (reference == NULL || reference[strspn(reference, " \t")] == '\0')
			return 0;
		json_array_foreach(w != NULL ? w->sent : NULL, i, e)
			if (strcmp(json_string_value(json_object_get(e,
			    "reference")) ?: "", reference) == 0)
				return 0;
	}
	data = json_pack("{s:s?, s:s, s:b, s:i}", "by_name",
	    wrsend_person_name(person), "via", "other", "approved",
	    approved != NULL, "number", wreport_number(inc->id));
	if (data == NULL || (reference != NULL && json_object_set_new(data,
	    "reference", json_string(reference)) != 0) || (approved != NULL &&
	    json_object_set_new(data, "approved_by", json_string(approved)) != 0)) {
		json_decref(data);
		return -ENOMEM;
	}
	snprintf(actor, sizeof(actor), "person:%s", person);
	if ((rc = store_append("incident.report_filed", inc->id, actor, data,
	    NULL)) != 0)
		return rc;
	*changed = 1;
	notify_reconcile(inc);
	return 0;
}
