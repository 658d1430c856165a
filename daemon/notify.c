/*
 * Who gets what, and delivery until it is done.  See notify.h for the
 * records.  A delivery is in one of these states:
 *
 *	WAIT_DURABLE	its intent is written but not yet synced: wait, so a
 *			message never goes out for a change that could vanish
 *	SCHEDULED	timer set for the next attempt
 *	QUEUED		due, waiting for a free transfer slot (not an attempt yet)
 *	INFLIGHT	a request is out (holds a config reference)
 *	RECORDING	an outcome could not be written yet: retried by timer
 *
 * Records are applied by notify_apply(), which creates, reschedules and
 * frees deliveries; the live paths only decide and append.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "audit.h"
#include "channel.h"
#include "config.h"
#include "fetch.h"
#include "incident.h"
#include "log.h"
#include "notify.h"
#include "timeutil.h"

enum delivery_state {
	DELIVERY_WAIT_DURABLE,
	DELIVERY_SCHEDULED,
	DELIVERY_QUEUED,
	DELIVERY_INFLIGHT,
	DELIVERY_RECORDING,
};

struct delivery {
	TAILQ_ENTRY(delivery) entry;	/* in its incident's deliveries */
	TAILQ_ENTRY(delivery) queue;	/* QUEUED: in delivery_queue */
	struct incident	*inc;
	int64_t		 intent;	/* seq of the notify.intent record */
	int		 index;		/* recipient within it */
	enum notify_event event;
	char		*person;
	char		*person_name;
	char		*channel;
	char		*to;
	int64_t		 late_ms;	/* a clock that fired late says so */
	int		 attempts;
	int64_t		 first_attempt_at;
	int64_t		 next_at;	/* SCHEDULED: when */
	enum delivery_state state;
	struct event	 timer;
	struct audit_waiter waiter;
	struct fetch	*fetch;
	struct config	*cfg;		/* held while in flight */
	char		*recording_event;	/* RECORDING: what to write */
	json_t		*recording_data;
};

/* A burst of incidents must queue here, not fail as attempts. */
#define NOTIFY_MAX_INFLIGHT	128

static TAILQ_HEAD(, delivery)	 delivery_queue = TAILQ_HEAD_INITIALIZER(delivery_queue);
static struct event_base	*notify_evbase;
static struct event		*reconcile_timer;	/* intents that could not be written */
static int			 reconcile_failing;

static const struct {
	enum notify_event	 bit;
	const char		*name;
} notify_events[] = {
	{ NOTIFY_NEW,		"incident.new" },
	{ NOTIFY_ESCALATED,	"incident.escalated" },
	{ NOTIFY_OVERDUE,	"incident.report_overdue" },
	{ NOTIFY_ACKNOWLEDGED,	"incident.acknowledged" },
	{ NOTIFY_FILED,		"incident.report_filed" },
	{ NOTIFY_RESOLVED,	"incident.resolved" },
};
#define NOTIFY_NEVENTS	(sizeof(notify_events) / sizeof(notify_events[0]))

static void delivery_start(struct delivery *);
static void delivery_pump(void);
static void delivery_timer_cb(evutil_socket_t, short, void *);
static void notify_reconcile_cb(evutil_socket_t, short, void *);

const char *
notify_event_name(enum notify_event ev)
{
	size_t i;

	for (i = 0; i < NOTIFY_NEVENTS; i++)
		if (notify_events[i].bit == ev)
			return notify_events[i].name;
	return "unknown";
}

enum notify_event
notify_event_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NOTIFY_NEVENTS; i++)
		if (strcmp(notify_events[i].name, name) == 0)
			return notify_events[i].bit;
	return 0;
}

void
notify_init(struct event_base *base)
{
	notify_evbase = base;
	reconcile_failing = 0;
	reconcile_timer = evtimer_new(base, notify_reconcile_cb, NULL);
	if (reconcile_timer == NULL)
		fatalx("cannot create the notification retry timer");
}

void
notify_shutdown(void)
{
	if (reconcile_timer != NULL)
		event_free(reconcile_timer);
	reconcile_timer = NULL;
}

/*
 * Recipients
 */

static int
add_person(json_t *list, json_t *seen, const struct config *cfg,
    const char *id)
{
	const struct config_person	*p;
	size_t				 i;

	if (json_object_get(seen, id) != NULL)
		return 0;	/* the leader may also be a duty officer: once is enough */
	json_object_set_new(seen, id, json_true());
	if ((p = config_person(cfg, id)) == NULL) {
		log_warnx("person '%s' is in the duty roster but not in people; "
		    "cannot notify them", id);
		return 0;
	}
	for (i = 0; i < p->ncontacts; i++) {
		json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "person", p->id,
		    "name", p->name, "channel", p->contacts[i].channel,
		    "to", p->contacts[i].to);

		if (r == NULL || json_array_append_new(list, r) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* Who hears of an event: the roster of this moment. */
static json_t *
notify_recipients(const struct incident *inc, enum notify_event ev)
{
	const struct config	*cfg = config_current();
	const struct config_duty *duty = &cfg->duty;
	json_t			*list = json_array(), *seen = json_object();
	int			 escalation, officers, rc = 0;
	size_t			 i;

	if (list == NULL || seen == NULL)
		goto fail;
	/* Escalations go up: the leader and the escalation list. */
	officers = ev != NOTIFY_ESCALATED && ev != NOTIFY_OVERDUE;
	escalation = !officers || inc->ack_clock.fired_at != 0 ||
	    inc->report_clock.fired_at != 0;
	for (i = 0; officers && rc == 0 && i < duty->nofficers; i++)
		rc = add_person(list, seen, cfg, duty->officers[i]);
	if (rc == 0 && duty->leader != NULL)
		rc = add_person(list, seen, cfg, duty->leader);
	for (i = 0; escalation && rc == 0 && i < duty->nescalation; i++)
		rc = add_person(list, seen, cfg, duty->escalation[i]);
	if (rc != 0)
		goto fail;
	json_decref(seen);
	return list;
fail:
	json_decref(list);
	json_decref(seen);
	return NULL;
}

/*
 * Intents
 */

static int
notify_intent(struct incident *inc, enum notify_event ev)
{
	json_t	*data, *recipients;
	int64_t	 late = 0;

	if (ev == NOTIFY_ESCALATED)
		late = inc->ack_clock.late_ms;
	else if (ev == NOTIFY_OVERDUE)
		late = inc->report_clock.late_ms;
	if ((recipients = notify_recipients(inc, ev)) == NULL)
		return -ENOMEM;
	if (json_array_size(recipients) == 0)
		log_warnx("incident %s: nobody to notify of %s; check duty and "
		    "people's contacts in the configuration", inc->id,
		    notify_event_name(ev));
	data = json_pack("{s:s, s:o, s:I}", "event", notify_event_name(ev),
	    "recipients", recipients, "late_ms", (json_int_t)late);
	if (data == NULL)
		return -ENOMEM;
	return audit_append("notify.intent", inc->id, "dutyd", data, NULL);
}

void
notify_reconcile(struct incident *inc)
{
	unsigned	 pending = inc->notify_due & ~inc->notify_done;
	size_t		 i;
	int		 rc;

	/* Once resolved, only the resolution is worth telling. */
	if (inc->state == INCIDENT_RESOLVED)
		pending &= NOTIFY_RESOLVED;
	for (i = 0; i < NOTIFY_NEVENTS && pending != 0; i++) {
		if (!(pending & notify_events[i].bit))
			continue;
		if ((rc = notify_intent(inc, notify_events[i].bit)) != 0) {
			if (!reconcile_failing)
				log_errorx("incident %s: cannot record who to notify "
				    "of %s (%s); retrying every second",
				    inc->id, notify_events[i].name, strerror(-rc));
			reconcile_failing = 1;
			if (reconcile_timer != NULL) {
				struct timeval tv = { 1, 0 };

				evtimer_add(reconcile_timer, &tv);
			}
			return;
		}
	}
}

static void
notify_reconcile_cb(evutil_socket_t fd, short events, void *arg)
{
	struct incident *inc;

	reconcile_failing = 0;
	for (inc = incident_first(); inc != NULL; inc = incident_next(inc)) {
		notify_reconcile(inc);
		if (reconcile_failing)
			return;
	}
	log_info("notifications that could not be recorded are recorded now");
}

/*
 * Deliveries
 */

static void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	TAILQ_REMOVE(&d->inc->deliveries, d, entry);
	if (d->state == DELIVERY_QUEUED)
		TAILQ_REMOVE(&delivery_queue, d, queue);
	fetch_cancel(d->fetch);
	config_unref(d->cfg);
	audit_wait_cancel(&d->waiter);
	event_del(&d->timer);
	free(d->person);
	free(d->person_name);
	free(d->channel);
	free(d->to);
	free(d->recording_event);
	json_decref(d->recording_data);
	free(d);
}

void
notify_incident_free(struct incident *inc)
{
	while (!TAILQ_EMPTY(&inc->deliveries))
		delivery_free(TAILQ_FIRST(&inc->deliveries));
}

static struct delivery *
delivery_find(struct incident *inc, json_t *data)
{
	struct delivery	*d;
	json_int_t	 intent, index;

	intent = json_integer_value(json_object_get(data, "intent"));
	index = json_integer_value(json_object_get(data, "recipient"));
	TAILQ_FOREACH(d, &inc->deliveries, entry)
		if (d->intent == intent && d->index == index)
			return d;
	return NULL;
}

static void
delivery_schedule(struct delivery *d, int64_t at)
{
	struct timeval tv = time_until(at);

	d->state = DELIVERY_SCHEDULED;
	d->next_at = at;
	evtimer_add(&d->timer, &tv);
}

static void
delivery_durable(void *arg, int status)
{
	struct delivery *d = arg;

	if (status != 0) {
		/* The intent may not be on disk: try again, it is idempotent. */
		delivery_schedule(d, time_now_ms() + 1000);
		return;
	}
	delivery_start(d);
}

static int
delivery_new(struct incident *inc, int64_t intent, int index,
    enum notify_event ev, json_t *rcp, int64_t late_ms, struct delivery **out)
{
	struct delivery *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return -ENOMEM;
	d->inc = inc;
	d->intent = intent;
	d->index = index;
	d->event = ev;
	d->late_ms = late_ms;
	d->person = strdup(json_string_value(json_object_get(rcp, "person")) ?: "");
	d->person_name = strdup(json_string_value(json_object_get(rcp, "name")) ?: "");
	d->channel = strdup(json_string_value(json_object_get(rcp, "channel")) ?: "");
	d->to = strdup(json_string_value(json_object_get(rcp, "to")) ?: "");
	TAILQ_INSERT_TAIL(&inc->deliveries, d, entry);
	evtimer_assign(&d->timer, notify_evbase, delivery_timer_cb, d);
	if (d->person == NULL || d->person_name == NULL || d->channel == NULL ||
	    d->to == NULL) {
		delivery_free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

static int
notify_apply_intent(struct incident *inc, const struct audit_record *r)
{
	json_t		*recipients, *rcp;
	enum notify_event ev;
	size_t		 i;

	ev = notify_event_parse(json_string_value(json_object_get(r->data,
	    "event")));
	recipients = json_object_get(r->data, "recipients");
	if (ev == 0 || !json_is_array(recipients))
		return -EINVAL;
	inc->notify_done |= ev;
	json_array_foreach(recipients, i, rcp) {
		struct delivery	*d;
		int		 rc;

		rc = delivery_new(inc, r->seq, (int)i, ev, rcp,
		    json_integer_value(json_object_get(r->data, "late_ms")), &d);
		if (rc != 0)
			return rc;
		if (r->replaying)
			delivery_schedule(d, 0);
		else {
			d->state = DELIVERY_WAIT_DURABLE;
			audit_wait(&d->waiter, delivery_durable, d);
		}
	}
	return 0;
}

int
notify_apply(struct incident *inc, const struct audit_record *r)
{
	struct delivery	*d;
	const char	*outcome;

	if (strcmp(r->event, "notify.intent") == 0)
		return notify_apply_intent(inc, r);
	if ((d = delivery_find(inc, r->data)) == NULL)
		return 0;	/* already finished: nothing left in memory */
	if (strcmp(r->event, "notify.attempt") == 0) {
		d->attempts = (int)json_integer_value(json_object_get(r->data,
		    "attempt"));
		if (d->first_attempt_at == 0)
			d->first_attempt_at = r->ts_ms;
		outcome = json_string_value(json_object_get(r->data, "outcome"));
		if (outcome != NULL && strcmp(outcome, "retry") == 0) {
			int64_t next = 0;

			time_parse(json_string_value(json_object_get(r->data,
			    "next_attempt_at")), &next);
			delivery_schedule(d, next);
			return 0;
		}
		delivery_free(d);	/* delivered, or failed for good */
	} else if (strcmp(r->event, "notify.abandoned") == 0)
		delivery_free(d);
	return 0;
}

/* Appends an outcome; if it cannot be written, keeps it and retries. */
static void
delivery_record(struct delivery *d, const char *event, json_t *data)
{
	int rc;

	json_object_set_new(data, "intent", json_integer(d->intent));
	json_object_set_new(data, "recipient", json_integer(d->index));
	json_incref(data);
	rc = audit_append(event, d->inc->id, "dutyd", data, NULL);
	if (rc == 0) {
		/* Applied: d may be gone now. */
		json_decref(data);
		return;
	}
	if (d->state != DELIVERY_RECORDING)
		log_errorx("incident %s: cannot record the outcome of delivery "
		    "%" PRId64 ".%d (%s); retrying every second", d->inc->id,
		    d->intent, d->index, strerror(-rc));
	free(d->recording_event);
	json_decref(d->recording_data);
	d->recording_event = strdup(event);
	d->recording_data = data;
	d->state = DELIVERY_RECORDING;
	{
		struct timeval tv = { 1, 0 };

		evtimer_add(&d->timer, &tv);
	}
}

static void
delivery_abandon(struct delivery *d, const char *reason)
{
	json_t *data = json_pack("{s:s}", "reason", reason);

	log_info("incident %s: delivery %" PRId64 ".%d of %s to %s abandoned: %s",
	    d->inc->id, d->intent, d->index, notify_event_name(d->event),
	    d->person, reason);
	if (data != NULL)
		delivery_record(d, "notify.abandoned", data);
}

static int64_t
delivery_backoff(const struct config *cfg, int attempt)
{
	int64_t delay = cfg->policy.retry_initial_ms;

	while (--attempt > 0 && delay < cfg->policy.retry_max_ms)
		delay *= 2;
	return delay < cfg->policy.retry_max_ms ? delay : cfg->policy.retry_max_ms;
}

static void
delivery_finish(struct delivery *d, const struct dutyd_result *res,
    long status, int64_t duration_ms)
{
	const struct config	*cfg = config_current();
	const char		*outcome;
	char			 next[TIME_RFC3339_MAX];
	int64_t			 now = time_now_ms(), at = 0;
	int			 attempt = d->attempts + 1;
	json_t			*data;

	switch (res->outcome) {
	case DUTYD_DELIVERED:
		outcome = "delivered";
		break;
	case DUTYD_FAILED:
		outcome = "failed";
		break;
	default:
		outcome = "retry";
		at = now + delivery_backoff(cfg, attempt);
		if (d->first_attempt_at != 0 && cfg->policy.retry_give_up_ms > 0 &&
		    at - d->first_attempt_at > cfg->policy.retry_give_up_ms)
			outcome = "failed";
		break;
	}
	data = json_pack("{s:i, s:s, s:i, s:s, s:I}", "attempt", attempt,
	    "outcome", outcome, "status", (int)status, "detail", res->detail,
	    "duration_ms", (json_int_t)duration_ms);
	if (data == NULL) {
		delivery_schedule(d, now + 1000);
		return;
	}
	if (strcmp(outcome, "retry") == 0)
		json_object_set_new(data, "next_attempt_at",
		    json_string(time_format(at, next, sizeof(next))));
	if (strcmp(outcome, "delivered") == 0)
		log_debug("incident %s: %s delivered to %s via %s (attempt %d)",
		    d->inc->id, notify_event_name(d->event), d->person, d->channel,
		    attempt);
	else
		log_warnx("incident %s: %s to %s via %s, attempt %d: %s%s",
		    d->inc->id, notify_event_name(d->event), d->person, d->channel,
		    attempt, res->detail, strcmp(outcome, "failed") == 0 ?
		    "; giving up" : "; will retry");
	delivery_record(d, "notify.attempt", data);
}

static void
delivery_fetched(const struct fetch_result *fr, void *arg)
{
	struct delivery			*d = arg;
	const struct config_channel	*ch;
	const struct dutyd_plugin	*p;
	struct dutyd_response		 resp;
	struct dutyd_result		 res;
	struct config			*cfg = d->cfg;

	d->fetch = NULL;
	d->cfg = NULL;
	memset(&res, 0, sizeof(res));
	ch = config_channel(cfg, d->channel);
	p = channel_plugin_abi(ch->plugin);
	resp.status = fr->status;
	resp.error = fr->error;
	resp.content_type = fr->content_type;
	resp.body = fr->body;
	resp.body_len = fr->body_len;
	if (p->parse(ch->state, &resp, &res) != 0) {
		res.outcome = DUTYD_RETRY;
		snprintf(res.detail, sizeof(res.detail), "plugin %s could not read "
		    "the response (HTTP %ld)", p->name, fr->status);
	}
	config_unref(cfg);
	delivery_finish(d, &res, fr->status, fr->duration_ms);
	delivery_pump();
}

static char *
hhmm(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		secs = (time_t)(ms / 1000);

	localtime_r(&secs, &tm);
	strftime(buf, len, "%H:%M", &tm);
	return buf;
}

/* The human summary every channel may show (SMS, chat): Chinese, one paragraph. */
static char *
delivery_text(const struct delivery *d, const char *url)
{
	const struct incident	*inc = d->inc;
	const char		*title, *level, *office;
	char			 t1[16], late[128] = "", *s = NULL;
	int			 rc = -1;

	title = json_string_value(json_object_get(inc->report, "title"));
	level = json_string_value(json_object_get(inc->report, "level"));
	office = inc->office_name != NULL ? inc->office_name : inc->office;
	if (d->late_ms >= 5000)
		snprintf(late, sizeof(late), "（到期时 dutyd 未能发出，晚发 %lld 分 %lld 秒）",
		    (long long)(d->late_ms / 60000),
		    (long long)(d->late_ms / 1000 % 60));
	switch (d->event) {
	case NOTIFY_NEW:
		rc = asprintf(&s, "【突发事件】%s报告：%s%s%s%s。请于 %s 前确认。%s",
		    office, title, level ? "（" : "", level ? level : "",
		    level ? "级）" : "", hhmm(inc->ack_clock.deadline, t1,
		    sizeof(t1)), url);
		break;
	case NOTIFY_ESCALATED:
		rc = asprintf(&s, "【超时未确认】%s报告的“%s”超过确认时限 %s 仍无人确认，"
		    "请立即处置。%s%s", office, title, hhmm(inc->ack_clock.deadline,
		    t1, sizeof(t1)), late, url);
		break;
	case NOTIFY_OVERDUE:
		rc = asprintf(&s, "【书面报告超时】“%s”未在 %s 前向省级报送书面报告，"
		    "请立即报送。%s%s", title, hhmm(inc->report_clock.deadline, t1,
		    sizeof(t1)), late, url);
		break;
	case NOTIFY_ACKNOWLEDGED:
		rc = asprintf(&s, "【已确认】“%s”已由%s确认。%s", title,
		    inc->ack.by_name ? inc->ack.by_name : inc->ack.by, url);
		break;
	case NOTIFY_FILED:
		rc = asprintf(&s, "【书面报告已报送】“%s”的书面报告已报送%s%s%s。%s",
		    title, inc->filed.text ? "（文号：" : "",
		    inc->filed.text ? inc->filed.text : "",
		    inc->filed.text ? "）" : "", url);
		break;
	case NOTIFY_RESOLVED:
		rc = asprintf(&s, "【处置完毕】“%s”已由%s标记为处置完毕。%s", title,
		    inc->resolved.by_name ? inc->resolved.by_name :
		    inc->resolved.by, url);
		break;
	}
	return rc == -1 ? NULL : s;
}

static void
delivery_start(struct delivery *d)
{
	struct config			*cfg = config_current();
	const struct config_channel	*ch;
	const struct dutyd_plugin	*p;
	struct dutyd_message		 msg;
	struct dutyd_request		 req;
	struct dutyd_result		 res;
	struct fetch_request		 freq;
	const char			*ijson;
	char				*text = NULL;
	char				*url = NULL, delivery_id[64];
	int				 rc;

	if (d->inc->state == INCIDENT_RESOLVED && d->event != NOTIFY_RESOLVED) {
		delivery_abandon(d, "the incident was resolved");
		return;
	}
	if ((ch = config_channel(cfg, d->channel)) == NULL) {
		delivery_abandon(d, "its channel is no longer configured");
		return;
	}
	if (fetch_inflight() >= NOTIFY_MAX_INFLIGHT) {
		d->state = DELIVERY_QUEUED;
		TAILQ_INSERT_TAIL(&delivery_queue, d, queue);
		return;
	}
	p = channel_plugin_abi(ch->plugin);
	memset(&res, 0, sizeof(res));
	memset(&req, 0, sizeof(req));
	snprintf(delivery_id, sizeof(delivery_id), "%" PRId64 ".%d", d->intent,
	    d->index);
	ijson = incident_json(d->inc);
	if (asprintf(&url, "%s/api/v1/incidents/%s", cfg->public_url,
	    d->inc->id) == -1)
		url = NULL;
	if (ijson == NULL || url == NULL ||
	    (text = delivery_text(d, url)) == NULL) {
		res.outcome = DUTYD_RETRY;
		snprintf(res.detail, sizeof(res.detail), "out of memory");
		goto failed;
	}
	memset(&msg, 0, sizeof(msg));
	msg.event = notify_event_name(d->event);
	msg.delivery_id = delivery_id;
	msg.incident_json = ijson;
	msg.text = text;
	msg.url = url;
	msg.recipient.id = d->person;
	msg.recipient.name = d->person_name;
	msg.recipient.to = d->to;
	msg.now_ms = time_now_ms();
	if ((rc = p->build(ch->state, &msg, &req)) != 0) {
		res.outcome = DUTYD_RETRY;
		snprintf(res.detail, sizeof(res.detail), "plugin %s could not build "
		    "the request: %s", p->name, strerror(-rc));
		goto failed;
	}
	freq.method = req.method;
	freq.url = req.url;
	freq.headers = req.headers;
	freq.nheaders = req.nheaders;
	freq.body = req.body;
	freq.body_len = req.body_len;
	freq.timeout_ms = ch->timeout_ms;
	d->fetch = fetch_start(&freq, delivery_fetched, d);
	if (d->fetch == NULL) {
		res.outcome = DUTYD_RETRY;
		snprintf(res.detail, sizeof(res.detail), "cannot start the request: %s",
		    strerror(errno));
		goto failed;
	}
	d->state = DELIVERY_INFLIGHT;
	d->cfg = config_ref(cfg);
	channel_request_clear(&req);
	free(text);
	free(url);
	return;
failed:
	channel_request_clear(&req);
	free(text);
	free(url);
	delivery_finish(d, &res, 0, 0);
}

/* Transfer slots freed: start the deliveries that waited for one, in order. */
static void
delivery_pump(void)
{
	struct delivery *d;

	while (fetch_inflight() < NOTIFY_MAX_INFLIGHT &&
	    (d = TAILQ_FIRST(&delivery_queue)) != NULL) {
		TAILQ_REMOVE(&delivery_queue, d, queue);
		d->state = DELIVERY_SCHEDULED;
		delivery_start(d);
	}
}

static void
delivery_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct delivery	*d = arg;
	json_t		*data;
	char		*event;

	if (d->state != DELIVERY_RECORDING) {
		delivery_start(d);
		return;
	}
	/* Hand the kept outcome back to delivery_record() to try again. */
	data = d->recording_data;
	event = d->recording_event;
	d->recording_data = NULL;
	d->recording_event = NULL;
	if (event == NULL) {
		json_decref(data);
		delivery_schedule(d, time_now_ms() + 1000);
		return;
	}
	delivery_record(d, event, data);
	free(event);
}

json_t *
notify_snapshot(struct incident *inc)
{
	struct delivery	*d;
	json_t		*list = json_array(), *o;
	char		 at[TIME_RFC3339_MAX], first[TIME_RFC3339_MAX];

	TAILQ_FOREACH(d, &inc->deliveries, entry) {
		o = json_pack("{s:I, s:i, s:s, s:{s:s, s:s, s:s, s:s}, s:I, s:i, "
		    "s:s?, s:s?}",
		    "intent", (json_int_t)d->intent, "recipient", d->index,
		    "event", notify_event_name(d->event),
		    "to", "person", d->person, "name", d->person_name,
			"channel", d->channel, "to", d->to,
		    "late_ms", (json_int_t)d->late_ms, "attempts", d->attempts,
		    "first_attempt_at", d->first_attempt_at ?
			time_format(d->first_attempt_at, first, sizeof(first)) : NULL,
		    "next_attempt_at", d->state == DELIVERY_SCHEDULED ?
			time_format(d->next_at, at, sizeof(at)) : NULL);
		if (o == NULL || json_array_append_new(list, o) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

int
notify_restore(struct incident *inc, json_t *list)
{
	struct delivery	*d;
	json_t		*o;
	size_t		 i;
	int64_t		 next;
	int		 rc;

	json_array_foreach(list, i, o) {
		rc = delivery_new(inc, json_integer_value(json_object_get(o, "intent")),
		    (int)json_integer_value(json_object_get(o, "recipient")),
		    notify_event_parse(json_string_value(json_object_get(o, "event"))),
		    json_object_get(o, "to"),
		    json_integer_value(json_object_get(o, "late_ms")), &d);
		if (rc != 0)
			return rc;
		d->attempts = (int)json_integer_value(json_object_get(o, "attempts"));
		time_parse(json_string_value(json_object_get(o, "first_attempt_at")),
		    &d->first_attempt_at);
		next = 0;
		time_parse(json_string_value(json_object_get(o, "next_attempt_at")),
		    &next);
		delivery_schedule(d, next);
	}
	return 0;
}

void
notify_incident_resolved(struct incident *inc)
{
	struct delivery *d, *next;

	for (d = TAILQ_FIRST(&inc->deliveries); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->event == NOTIFY_RESOLVED || d->state == DELIVERY_RECORDING)
			continue;
		if (d->state == DELIVERY_QUEUED) {
			TAILQ_REMOVE(&delivery_queue, d, queue);
			d->state = DELIVERY_SCHEDULED;
		}
		if (d->fetch != NULL) {
			fetch_cancel(d->fetch);
			d->fetch = NULL;
			config_unref(d->cfg);
			d->cfg = NULL;
		}
		audit_wait_cancel(&d->waiter);
		event_del(&d->timer);
		delivery_abandon(d, "the incident was resolved");
	}
}
