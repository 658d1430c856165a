/*
 * incview.c: an incident as the API shows it (GET /api/v1/incidents), and
 * the compact JSON of that every notification and reply shares, cached
 * until the incident changes or a reload may change public_url.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "state/incident.h"
#include "state/incview.h"
#include "state/wreport.h"
#include "base/jwrite.h"
#include "base/timeutil.h"

static unsigned	json_gen = 1;	/* bumped to drop every cached JSON */

static int
set_time(json_t *o, const char *key, int64_t ms)
{
	char buf[TIME_RFC3339_MAX];

	if (ms == 0)
		return json_object_set_new(o, key, json_null());
	return json_object_set_new(o, key, json_string(time_format(ms, buf,
	    sizeof(buf))));
}

static json_t *
mark_person(const struct incident_mark *m)
{
	if (m->at == 0)
		return json_null();
	return json_pack("{s:s, s:s?}", "id", m->by, "name", m->by_name);
}

static json_t *
clock_json(const struct incident_clock *c, int stopped)
{
	json_t		*o;
	const char	*state;

	state = c->fired_at != 0 ? "fired" : stopped ? "stopped" : "running";
	o = json_pack("{s:s}", "state", state);
	if (o == NULL)
		return NULL;
	set_time(o, "deadline", c->deadline);
	set_time(o, "fired_at", c->fired_at);
	json_object_set_new(o, "late_by_ms", c->fired_at != 0 ?
	    json_integer(c->late_ms) : json_null());
	return o;
}

/* How the report came: the office over the API or by SMS, or staff took it by phone. */
static const char *
source_of(const struct incident *inc)
{
	const char *key = inc->idem != NULL ? strchr(inc->idem, '\n') : NULL;

	if (inc->source != NULL)
		return inc->source;
	return key != NULL && strncmp(key + 1, "sms:", 4) == 0 ? "sms" : "api";
}

static json_t *
taken_by(const struct incident *inc)
{
	if (inc->taken_by == NULL)
		return json_null();
	return json_pack("{s:s, s:s?}", "id", inc->taken_by, "name",
	    inc->taken_by_name);
}

/* Minutes past policy.county_deadline, as recorded (older logs: as it is now). */
static json_t *
late_by_minutes(const struct incident *inc)
{
	struct config	*cfg = config_current();
	int64_t		 occurred, past;

	if (inc->has_late_minutes)
		return json_integer(inc->late_minutes);
	if (!inc->late_report || cfg == NULL || time_parse(json_string_value(
	    json_object_get(incident_report(inc), "occurred_at")),
	    &occurred) != 0)
		return json_integer(0);
	past = inc->received_at - occurred - cfg->policy.county_deadline_ms;
	return json_integer(past < 60000 ? 1 : past / 60000);
}

/* A duplicate merged into another, or a false report: who closed it, when, why. */
static int
closed_json(const struct incident *inc, json_t *o)
{
	int merged = inc->state == INCIDENT_MERGED;
	int dismissed = inc->state == INCIDENT_DISMISSED;
	int failed = 0;

	failed |= json_object_set_new(o, "merged_into", merged ?
	    json_string(inc->merged_into) : json_null());
	failed |= set_time(o, "merged_at", merged ? inc->closed.at : 0);
	failed |= json_object_set_new(o, "merged_by", merged ?
	    mark_person(&inc->closed) : json_null());
	failed |= json_object_set_new(o, "merge_note", merged &&
	    inc->closed.text != NULL ? json_string(inc->closed.text) :
	    json_null());
	failed |= json_object_set_new(o, "merged_from", inc->merged_from != NULL ?
	    json_incref(inc->merged_from) : json_array());
	failed |= set_time(o, "dismissed_at", dismissed ? inc->closed.at : 0);
	failed |= json_object_set_new(o, "dismissed_by", dismissed ?
	    mark_person(&inc->closed) : json_null());
	failed |= json_object_set_new(o, "dismissal_reason", dismissed &&
	    inc->closed.text != NULL ? json_string(inc->closed.text) :
	    json_null());
	return failed;
}

/* The view. */
static json_t *
incview_build(const struct incident *inc, int with_timeline)
{
	struct config	*cfg = config_current();
	json_t		*o, *clocks, *wr;
	char		*url = NULL;
	int		 failed = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	failed |= json_object_set_new(o, "id", json_string(inc->id));
	failed |= json_object_set_new(o, "office", json_string(inc->office));
	failed |= json_object_set_new(o, "office_name",
	    inc->office_name ? json_string(inc->office_name) : json_null());
	failed |= json_object_set_new(o, "state",
	    json_string(incident_state_name(inc->state)));
	/* The report's own fields, as validated. */
	failed |= json_object_update(o, incident_report(inc));
	failed |= set_time(o, "received_at", inc->received_at);
	failed |= set_time(o, "ack_deadline", inc->ack_clock.deadline);
	failed |= set_time(o, "report_deadline", inc->report_clock.deadline);
	failed |= json_object_set_new(o, "late_report",
	    json_boolean(inc->late_report));
	failed |= json_object_set_new(o, "late_by_minutes", late_by_minutes(inc));
	failed |= json_object_set_new(o, "source", json_string(source_of(inc)));
	failed |= json_object_set_new(o, "taken_by", taken_by(inc));

	failed |= json_object_set_new(o, "acknowledged",
	    json_boolean(inc->ack.at != 0));
	failed |= set_time(o, "acknowledged_at", inc->ack.at);
	failed |= json_object_set_new(o, "acknowledged_by", mark_person(&inc->ack));
	failed |= json_object_set_new(o, "escalated",
	    json_boolean(inc->ack_clock.fired_at != 0));
	failed |= set_time(o, "escalated_at", inc->ack_clock.fired_at);
	failed |= json_object_set_new(o, "overdue",
	    json_boolean(inc->report_clock.fired_at != 0));
	failed |= set_time(o, "overdue_at", inc->report_clock.fired_at);
	failed |= json_object_set_new(o, "escalation_level",
	    json_integer(inc->level));
	/*
	 * The first report's filing (filed_*), the report being drafted
	 * (number, approved_by) and every report sent (state/wreport.c).
	 */
	wr = json_pack("{s:s?, s:o, s:i, s:s?, s:s?, s:o}", "reference",
	    inc->filed.text, "filed_by", mark_person(&inc->filed), "number",
	    wreport_number(inc->id), "approved_by", wreport_approved_by(inc->id),
	    "via", wreport_last_via(inc->id), "reports",
	    wreport_sent_json(inc->id));
	if (wr != NULL)
		failed |= set_time(wr, "filed_at", inc->filed.at);
	failed |= json_object_set_new(o, "written_report", wr);
	failed |= set_time(o, "resolved_at", inc->resolved.at);
	failed |= json_object_set_new(o, "resolved_by",
	    mark_person(&inc->resolved));
	failed |= closed_json(inc, o);

	clocks = json_pack("{s:o, s:o}",
	    "ack", clock_json(&inc->ack_clock, inc->ack.at != 0 ||
		incident_is_closed(inc)),
	    "report", clock_json(&inc->report_clock, inc->filed.at != 0 ||
		incident_is_closed(inc)));
	if (clocks != NULL && inc->level_clock != NULL &&
	    inc->level_clock->deadline != 0)
		json_object_set_new(clocks, "next_level", clock_json(inc->level_clock,
		    inc->ack.at != 0 || incident_is_closed(inc)));
	failed |= json_object_set_new(o, "clocks", clocks);
	if (cfg != NULL && (url = incview_url(cfg, inc)) != NULL) {
		failed |= json_object_set_new(o, "url", json_string(url));
		free(url);
	}
	failed |= json_object_set_new(o, "updates", inc->updates != NULL ?
	    json_incref(inc->updates) : json_array());
	failed |= json_object_set_new(o, "undeliverable",
	    inc->undeliverable != NULL ? json_incref(inc->undeliverable) :
	    json_array());
	/* Entries are kept as text: the API reads them back as JSON. */
	if (with_timeline)
		failed |= json_object_set_new(o, "timeline",
		    timeline_json(&inc->timeline));
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * A field a report may hold (parse/report.c's table): none is a key of
 * the view around them.  By its first letter, then strcmp(): the ten
 * compared in turn were 450 instructions a view.
 */
static int
report_key_known(const char *k)
{
	switch (k[0]) {
	case 't':
		return strcmp(k, "title") == 0;
	case 'o':
		return strcmp(k, "occurred_at") == 0;
	case 'c':
		return strcmp(k, "category") == 0 || strcmp(k, "cause") == 0 ||
		    strcmp(k, "casualties") == 0;
	case 'l':
		return strcmp(k, "level") == 0 || strcmp(k, "location") == 0;
	case 'm':
		return strcmp(k, "measures") == 0;
	case 'd':
		return strcmp(k, "details") == 0;
	case 'r':
		return strcmp(k, "reporter") == 0;
	}
	return 0;
}

static int
report_keys_known(const json_t *report)
{
	const char	*key;
	json_t		*v;

	json_object_foreach((json_t *)report, key, v)
		if (!report_key_known(key))
			return 0;
	return 1;
}

/*
 * Only the incidents whose views were built most recently keep the text:
 * they are the ones being told of and shown.  Kept until its first
 * delivery, the 201's text of every report waiting for one (thousands
 * in a flood) was freed afterwards in holes between the incidents' lasting
 * blocks, where it stayed in RSS.  By id: one gone meanwhile is not found.
 */
#define INCVIEW_KEEP	256
static char	incview_kept[INCVIEW_KEEP][INCIDENT_ID_MAX];
static size_t	incview_kept_next;

static void
incview_keep(struct incident *inc)
{
	char		*id = incview_kept[incview_kept_next];
	struct incident	*old;

	if (id[0] != '\0' && (old = incident_find(id)) != NULL && old != inc) {
		free(old->json);
		old->json = NULL;
	}
	memcpy(id, inc->id, sizeof(inc->id));	/* both INCIDENT_ID_MAX, NUL-ended */
	incview_kept_next = (incview_kept_next + 1) % INCVIEW_KEEP;
}

/*
 * The view's text written straight into one buffer, in the members' order
 * incview_build() sets them, as jansson's compact dump writes them: the
 * report's members copied from its kept text, the times from
 * time_format(), strings that need no escaping copied, everything else
 * (a string that does, the arrays that are not empty) dumped by jansson
 * into the buffer.  Building the tree and dumping it cost 150 k
 * instructions a report, as much as parsing and recording it; this is
 * a tenth of that.  A string json_pack() would refuse (NULL) fails it, and
 * the long way says what that does.  test_incident.c holds the two equal.
 */
struct incview_buf {
	char	*p;
	size_t	 len, cap;
	int	 failed;
};

/* Room for N more bytes and a NUL: 0, or -1 (failed) when out of memory. */
static int
vb_grow(struct incview_buf *b, size_t n)
{
	char	*np;
	size_t	 cap;

	cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
	if (b->failed || (np = realloc(b->p, cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

/*
 * Inlined: some sixty copies a view, most of a few bytes.  Not
 * NUL-terminated as it goes: incview_text() ends it.  Once failed, the
 * text is thrown away: what is copied after does not matter.
 */
static inline void
vb_raw(struct incview_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap && vb_grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#define vb_lit(b, s)	vb_raw((b), (s), sizeof(s) - 1)

static int
vb_dump_cb(const char *s, size_t n, void *arg)
{
	struct incview_buf *b = arg;

	vb_raw(b, s, n);
	return b->failed ? -1 : 0;
}

/* V as a compact dump would write it; a NULL V fails, as json_pack() would. */
static void
vb_json(struct incview_buf *b, json_t *v)
{
	if (v == NULL || json_dump_callback(v, vb_dump_cb, b, JSON_COMPACT |
	    JSON_ENCODE_ANY) != 0)
		b->failed = 1;
}

/* Whether jansson writes S as it is between quotes (jwrite_plain()). */
static int
vb_plain(const char *s, size_t *n)
{
	*n = strlen(s);
	return jwrite_plain(s, *n);
}

/* S as a JSON string: copied when plain, else jansson writes it. */
static void
vb_str(struct incview_buf *b, const char *s)
{
	json_t	*v;
	size_t	 n;

	if (s == NULL) {
		b->failed = 1;
		return;
	}
	if (vb_plain(s, &n)) {
		vb_lit(b, "\"");
		vb_raw(b, s, n);
		vb_lit(b, "\"");
		return;
	}
	v = json_string(s);
	vb_json(b, v);
	json_decref(v);
}

/* ,"KEY": — KEY a literal that needs no escaping. */
#define vb_key(b, key)	vb_lit((b), ",\"" key "\":")

static void
vb_str_or_null(struct incview_buf *b, const char *s)
{
	if (s == NULL)
		vb_lit(b, "null");
	else
		vb_str(b, s);
}

/* As jansson writes an integer ("%lld"), without snprintf's cost. */
static void
vb_int(struct incview_buf *b, int64_t v)
{
	char		 num[24], *p = num + sizeof(num);
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	vb_raw(b, p, (size_t)(num + sizeof(num) - p));
}

static void
vb_bool(struct incview_buf *b, int v)
{
	if (v)
		vb_lit(b, "true");
	else
		vb_lit(b, "false");
}

/* As incview_url() writes it, without making it. */
static void
vb_url(struct incview_buf *b, const struct config *cf,
    const struct incident *inc)
{
	char	*url;
	size_t	 ul, il;

	if (cf->public_url != NULL && vb_plain(cf->public_url, &ul) &&
	    vb_plain(inc->id, &il)) {
		vb_lit(b, "\"");
		vb_raw(b, cf->public_url, ul);
		vb_lit(b, "/api/v1/incidents/");
		vb_raw(b, inc->id, il);
		vb_lit(b, "\"");
		return;
	}
	if ((url = incview_url(cf, inc)) == NULL) {
		b->failed = 1;
		return;
	}
	vb_str(b, url);
	free(url);
}

/* As set_time(): time_format() writes digits, "-+:.T" or "invalid-time". */
static void
vb_time(struct incview_buf *b, int64_t ms)
{
	char buf[TIME_RFC3339_MAX + 2];

	if (ms == 0) {
		vb_lit(b, "null");
		return;
	}
	buf[0] = '"';
	time_format(ms, buf + 1, sizeof(buf) - 1);
	vb_raw(b, buf, strlen(buf));
	vb_lit(b, "\"");
}

/* As mark_person(). */
static void
vb_person(struct incview_buf *b, const struct incident_mark *m)
{
	if (m->at == 0) {
		vb_lit(b, "null");
		return;
	}
	vb_lit(b, "{\"id\":");
	vb_str(b, m->by);
	vb_lit(b, ",\"name\":");
	vb_str_or_null(b, m->by_name);
	vb_lit(b, "}");
}

/* An array the incident may hold: none or empty is []. */
static void
vb_array(struct incview_buf *b, json_t *a)
{
	if (json_array_size(a) == 0)
		vb_lit(b, "[]");
	else
		vb_json(b, a);
}

/* As clock_json(). */
static void
vb_clock(struct incview_buf *b, const struct incident_clock *c, int stopped)
{
	vb_lit(b, "{\"state\":");
	if (c->fired_at != 0)
		vb_lit(b, "\"fired\"");
	else if (stopped)
		vb_lit(b, "\"stopped\"");
	else
		vb_lit(b, "\"running\"");
	vb_key(b, "deadline");
	vb_time(b, c->deadline);
	vb_key(b, "fired_at");
	vb_time(b, c->fired_at);
	vb_key(b, "late_by_ms");
	if (c->fired_at != 0)
		vb_int(b, c->late_ms);
	else
		vb_lit(b, "null");
	vb_lit(b, "}");
}

/* NULL: out of memory, or something the long way must decide. */
static char *
incview_text(const struct incident *inc)
{
	struct config		*cfg = config_current();
	struct incview_buf	 b;
	const char		*rt;
	json_t			*sent, *v;
	size_t			 rl;
	int			 merged, dismissed, closed;

	if ((rt = increport_text(&inc->report, &rl)) == NULL || rl < 2)
		return NULL;
	memset(&b, 0, sizeof(b));
	if ((b.p = malloc(b.cap = rl + 1536)) == NULL)
		return NULL;
	merged = inc->state == INCIDENT_MERGED;
	dismissed = inc->state == INCIDENT_DISMISSED;
	closed = incident_is_closed(inc);

	vb_lit(&b, "{\"id\":");
	vb_str(&b, inc->id);
	vb_key(&b, "office");
	vb_str(&b, inc->office);
	vb_key(&b, "office_name");
	vb_str_or_null(&b, inc->office_name);
	vb_key(&b, "state");
	vb_str(&b, incident_state_name(inc->state));
	if (rl > 2) {
		vb_lit(&b, ",");
		vb_raw(&b, rt + 1, rl - 2);
	}
	vb_key(&b, "received_at");
	vb_time(&b, inc->received_at);
	vb_key(&b, "ack_deadline");
	vb_time(&b, inc->ack_clock.deadline);
	vb_key(&b, "report_deadline");
	vb_time(&b, inc->report_clock.deadline);
	vb_key(&b, "late_report");
	vb_bool(&b, inc->late_report);
	vb_key(&b, "late_by_minutes");
	if (inc->has_late_minutes || !inc->late_report)
		vb_int(&b, inc->has_late_minutes ? inc->late_minutes : 0);
	else {
		v = late_by_minutes(inc);
		vb_json(&b, v);
		json_decref(v);
	}
	vb_key(&b, "source");
	vb_str(&b, source_of(inc));
	vb_key(&b, "taken_by");
	if (inc->taken_by == NULL)
		vb_lit(&b, "null");
	else {
		vb_lit(&b, "{\"id\":");
		vb_str(&b, inc->taken_by);
		vb_lit(&b, ",\"name\":");
		vb_str_or_null(&b, inc->taken_by_name);
		vb_lit(&b, "}");
	}

	vb_key(&b, "acknowledged");
	vb_bool(&b, inc->ack.at != 0);
	vb_key(&b, "acknowledged_at");
	vb_time(&b, inc->ack.at);
	vb_key(&b, "acknowledged_by");
	vb_person(&b, &inc->ack);
	vb_key(&b, "escalated");
	vb_bool(&b, inc->ack_clock.fired_at != 0);
	vb_key(&b, "escalated_at");
	vb_time(&b, inc->ack_clock.fired_at);
	vb_key(&b, "overdue");
	vb_bool(&b, inc->report_clock.fired_at != 0);
	vb_key(&b, "overdue_at");
	vb_time(&b, inc->report_clock.fired_at);
	vb_key(&b, "escalation_level");
	vb_int(&b, inc->level);

	vb_lit(&b, ",\"written_report\":{\"reference\":");
	vb_str_or_null(&b, inc->filed.text);
	vb_key(&b, "filed_by");
	vb_person(&b, &inc->filed);
	vb_key(&b, "number");
	vb_int(&b, wreport_number(inc->id));
	vb_key(&b, "approved_by");
	vb_str_or_null(&b, wreport_approved_by(inc->id));
	vb_key(&b, "via");
	vb_str_or_null(&b, wreport_last_via(inc->id));
	vb_key(&b, "reports");
	if ((sent = wreport_sent_json(inc->id)) == NULL)
		b.failed = 1;
	vb_array(&b, sent);
	json_decref(sent);
	vb_key(&b, "filed_at");
	vb_time(&b, inc->filed.at);
	vb_lit(&b, "}");
	vb_key(&b, "resolved_at");
	vb_time(&b, inc->resolved.at);
	vb_key(&b, "resolved_by");
	vb_person(&b, &inc->resolved);

	/* As closed_json(). */
	vb_key(&b, "merged_into");
	vb_str_or_null(&b, merged ? inc->merged_into : NULL);
	vb_key(&b, "merged_at");
	vb_time(&b, merged ? inc->closed.at : 0);
	vb_key(&b, "merged_by");
	if (merged)
		vb_person(&b, &inc->closed);
	else
		vb_lit(&b, "null");
	vb_key(&b, "merge_note");
	vb_str_or_null(&b, merged ? inc->closed.text : NULL);
	vb_key(&b, "merged_from");
	vb_array(&b, inc->merged_from);
	vb_key(&b, "dismissed_at");
	vb_time(&b, dismissed ? inc->closed.at : 0);
	vb_key(&b, "dismissed_by");
	if (dismissed)
		vb_person(&b, &inc->closed);
	else
		vb_lit(&b, "null");
	vb_key(&b, "dismissal_reason");
	vb_str_or_null(&b, dismissed ? inc->closed.text : NULL);

	vb_lit(&b, ",\"clocks\":{\"ack\":");
	vb_clock(&b, &inc->ack_clock, inc->ack.at != 0 || closed);
	vb_key(&b, "report");
	vb_clock(&b, &inc->report_clock, inc->filed.at != 0 || closed);
	if (inc->level_clock != NULL && inc->level_clock->deadline != 0) {
		vb_key(&b, "next_level");
		vb_clock(&b, inc->level_clock, inc->ack.at != 0 || closed);
	}
	vb_lit(&b, "}");
	if (cfg != NULL) {
		vb_lit(&b, ",\"url\":");
		vb_url(&b, cfg, inc);
	}
	vb_key(&b, "updates");
	vb_array(&b, inc->updates);
	vb_key(&b, "undeliverable");
	vb_array(&b, inc->undeliverable);
	vb_lit(&b, "}");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	b.p[b.len] = '\0';	/* vb_raw() keeps room for it */
	return b.p;
}

json_t *
incview_json(const struct incident *inc, int with_timeline)
{
	return incview_build(inc, with_timeline);
}

const char *
incview_cached(struct incident *inc)
{
	const json_t	*report;
	json_t		*o;

	if (inc->json != NULL && inc->json_gen == json_gen)
		return inc->json;
	free(inc->json);
	inc->json = NULL;
	/* A report with a member the view has too: the tree decides. */
	report = incident_report(inc);
	if (json_object_size(report) > 0 && report_keys_known(report))
		inc->json = incview_text(inc);
	if (inc->json == NULL && (o = incview_json(inc, 0)) != NULL) {
		inc->json = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	if (inc->json != NULL) {
		inc->json_gen = json_gen;
		incview_keep(inc);
	}
	return inc->json;
}

void
incview_flush(void)
{
	json_gen++;
}


char *
incview_url(const struct config *cf, const struct incident *inc)
{
	static const char	 path[] = "/api/v1/incidents/";
	/* A config always has one; without, as asprintf() wrote it. */
	const char		*pu = cf->public_url != NULL ? cf->public_url :
				    "(null)";
	size_t			 ul = strlen(pu), il = strlen(inc->id);
	char			*url;

	/* Copied, not asprintf()'d: the Location of every 201. */
	if ((url = malloc(ul + sizeof(path) + il)) == NULL)
		return NULL;
	memcpy(url, pu, ul);
	memcpy(url + ul, path, sizeof(path) - 1);
	memcpy(url + ul + sizeof(path) - 1, inc->id, il + 1);
	return url;
}

const char *
incview_who(const struct incident_mark *m)
{
	if (m->by_name != NULL)
		return m->by_name;
	return m->by != NULL ? m->by : "他人";
}
