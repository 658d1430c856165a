/*
 * delivery.c: getting one person's message through.
 *
 * A person's contacts are tried in order.  Each attempt's outcome is a
 * notify.attempt record; when a contact keeps failing for
 * policy.fallback_after, or refuses for good, a notify.fallback record moves
 * the delivery to the next contact, cycling back to the first: a person is
 * never given up on while the incident needs them (unless retry_give_up).
 * Records are applied by notify_apply(), which changes the delivery; the
 * code here only decides and appends.
 *
 * Rate limits are per channel, over a sliding window (the vendor's
 * documented limit, or `rate_limit:`): never more than COUNT sends in any
 * PERIOD, since DingTalk blocks a robot for ten minutes that does more
 * than 20 in a minute.  Over the limit a delivery waits in its channel's queue,
 * never dropped; when bundle_after or more wait, the next token sends them
 * as one summary message, each still recorded as its own delivery.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jintern.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/timeutil.h"
#include "config/channel.h"
#include "config/config.h"
#include "notify/delivery.h"
#include "notify/failwarn.h"
#include "notify/fetch.h"
#include "notify/message.h"
#include "notify/ratewin.h"
#include "state/incident.h"
#include "state/incview.h"

/* A burst of incidents must queue here, not fail as attempts. */
#define DELIVER_MAX_INFLIGHT	128
/* Messages in one bundle: a chat message or SMS must stay readable. */
#define DELIVER_BUNDLE_MAX	20

/* A rate-limited channel: when it last sent, and who waits for it. */
struct chanq {
	TAILQ_ENTRY(chanq) entry;
	char		*name;
	struct ratewin	 win;
	TAILQ_HEAD(, delivery) waiting;
	size_t		 nwaiting;
	struct clock	 timer;
};

static TAILQ_HEAD(, delivery)	 delivery_queue = TAILQ_HEAD_INITIALIZER(delivery_queue);
static TAILQ_HEAD(, chanq)	 chanqs = TAILQ_HEAD_INITIALIZER(chanqs);

static void delivery_start(struct delivery *);
static void delivery_timer_cb(struct clock *, void *);
static void chanq_cb(struct clock *, void *);
static void delivery_pump(void);
static void delivery_failed(struct delivery *, size_t, const char *, json_t *);

/* Accepts NULL.  Whoever waited in it goes its own way again. */
static void
chanq_free(struct chanq *q)
{
	if (q == NULL)
		return;
	while (TAILQ_FIRST(&q->waiting) != NULL)
		delivery_schedule(TAILQ_FIRST(&q->waiting), time_now_ms());
	TAILQ_REMOVE(&chanqs, q, entry);
	clock_free(&q->timer);
	free(q->name);
	ratewin_free(&q->win);
	free(q);
}

void
delivery_shutdown(void)
{
	while (!TAILQ_EMPTY(&chanqs))
		chanq_free(TAILQ_FIRST(&chanqs));
}

void
delivery_reconfigured(void)
{
	const struct config_channel	*ch;
	struct chanq			*q, *next;

	for (q = TAILQ_FIRST(&chanqs); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		ch = config_channel(config_current(), q->name);
		if (ch == NULL || ch->rate_count == 0)
			chanq_free(q);
	}
}

size_t
delivery_rate_queues(void)
{
	struct chanq	*q;
	size_t		 n = 0;

	TAILQ_FOREACH(q, &chanqs, entry)
		n++;
	return n;
}

/* Life cycle -------------------------------------------------------------- */

/* A and B (NULL: "") in one block, *SECOND at B: fewer holes once freed. */
static char *
delivery_pair(const char *a, const char *b, char **second)
{
	size_t	 la = strlen(a ? a : ""), lb = strlen(b ? b : "");
	char	*p = malloc(la + lb + 2);

	if (p == NULL)
		return NULL;
	*second = memcpy(p + la + 1, b ? b : "", lb + 1);
	return memcpy(p, a ? a : "", la + 1);
}

struct delivery *
delivery_new(struct notify_subject *subj, int64_t intent, int index,
    enum notify_event ev, const char *person, const char *name,
    int64_t late_ms)
{
	struct delivery *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->subj = subj;
	d->intent = intent;
	d->index = index;
	d->event = ev;
	d->late_ms = late_ms;
	d->state = DELIVERY_SCHEDULED;
	TAILQ_INIT(&d->bundle);
	clock_init(&d->timer, delivery_timer_cb, d);
	TAILQ_INSERT_TAIL(&subj->deliveries, d, entry);
	if ((d->person = delivery_pair(person, name, &d->person_name)) == NULL) {
		delivery_free(d);
		return NULL;
	}
	return d;
}

int
delivery_add_contact(struct delivery *d, const char *channel, const char *to,
    int code)
{
	struct delivery_contact *c;

	if (d->ncontacts == DELIVERY_CONTACTS_MAX)
		return -E2BIG;
	if ((c = reallocarray(d->contacts, d->ncontacts + 1,
	    sizeof(*c))) == NULL)
		return -ENOMEM;
	d->contacts = c;
	c = &d->contacts[d->ncontacts];
	if ((c->channel = delivery_pair(channel, to, &c->to)) == NULL)
		return -ENOMEM;
	c->code = code;
	d->ncontacts++;
	return 0;
}

/* Out of whatever queue holds it. */
static void
delivery_unqueue(struct delivery *d)
{
	if (d->state == DELIVERY_QUEUED)
		TAILQ_REMOVE(&delivery_queue, d, queue);
	else if (d->state == DELIVERY_RATE_QUEUED) {
		TAILQ_REMOVE(&d->chanq->waiting, d, queue);
		d->chanq->nwaiting--;
		d->chanq = NULL;
	} else if (d->state == DELIVERY_BUNDLED && d->lead != NULL) {
		TAILQ_REMOVE(&d->lead->bundle, d, riders);
		d->lead = NULL;
	}
	d->state = DELIVERY_SCHEDULED;
}

void
delivery_halt(struct delivery *d)
{
	struct delivery *r;

	delivery_unqueue(d);
	/* Riders of a cancelled request go again on their own. */
	while ((r = TAILQ_FIRST(&d->bundle)) != NULL) {
		TAILQ_REMOVE(&d->bundle, r, riders);
		r->lead = NULL;
		delivery_schedule(r, time_now_ms());
	}
	fetch_cancel(d->fetch);
	d->fetch = NULL;
	config_unref(d->cfg);
	d->cfg = NULL;
	store_wait_cancel(&d->waiter);
	store_later_cancel(&d->later);
	clock_disarm(&d->timer);
}

void
delivery_free(struct delivery *d)
{
	size_t i;

	if (d == NULL)
		return;
	delivery_halt(d);
	clock_free(&d->timer);
	TAILQ_REMOVE(&d->subj->deliveries, d, entry);
	free(d->person);		/* and person_name */
	for (i = 0; i < d->ncontacts; i++)
		free(d->contacts[i].channel);	/* and to */
	free(d->contacts);
	free(d->recording_event);
	json_decref(d->recording_data);
	json_decref(d->extra);
	free(d);
}

void
delivery_schedule(struct delivery *d, int64_t at)
{
	delivery_unqueue(d);
	d->next_at = at;
	clock_arm(&d->timer, at);
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
	d->state = DELIVERY_SCHEDULED;
	delivery_start(d);
}

void
delivery_when_durable(struct delivery *d)
{
	d->state = DELIVERY_WAIT_DURABLE;
	store_wait(&d->waiter, delivery_durable, d);
}

/* Records ----------------------------------------------------------------- */

static char *
delivery_id(const struct delivery *d, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 ".%d", d->intent, d->index);
	return buf;
}

/* EVENT with DATA could not be recorded: kept, and tried every second. */
static void
delivery_recording(struct delivery *d, const char *event, json_t *data,
    int rc, int told)
{
	if (!told)
		log_errorx("incident %s: cannot record %s of delivery %" PRId64
		    ".%d (%s); retrying every second", d->subj->id, event,
		    d->intent, d->index, strerror(-rc));
	delivery_halt(d);
	free(d->recording_event);
	json_decref(d->recording_data);
	d->recording_event = strdup(event);
	d->recording_data = data;
	d->state = DELIVERY_RECORDING;
	clock_arm(&d->timer, time_now_ms() + 1000);
}

/*
 * Appends; if it cannot be written, keeps it and retries every second.
 * Steals DATA.  A record without the delivery it belongs to is never
 * written: without memory for that, it waits like a full disk.
 */
static int
delivery_record(struct delivery *d, const char *event, json_t *data)
{
	int rc, told = d->state == DELIVERY_RECORDING;

	if (json_object_set_new(data, "intent", json_integer(d->intent)) != 0 ||
	    json_object_set_new(data, "recipient", jintern_int(d->index)) != 0)
		rc = -ENOMEM;
	else {
		json_incref(data);
		if ((rc = store_append(event, d->subj->id, "dutyd", data,
		    NULL)) == 0) {
			/* Applied: d may be gone now. */
			json_decref(data);
			return 0;
		}
	}
	delivery_recording(d, event, data, rc, told);
	return rc;
}

static void
delivery_later_failed(void *arg, int status, json_t *data)
{
	delivery_recording(arg, "notify.attempt", data, status, 0);
}

/*
 * A success ends the delivery and nobody waits on its record: it goes with
 * the turn's other held records in one write (store_append_later()), the
 * delivery recording until then.  Steals DATA; d may be gone after.
 */
static void
delivery_record_later(struct delivery *d, json_t *data)
{
	if (json_object_set_new(data, "intent", json_integer(d->intent)) != 0 ||
	    json_object_set_new(data, "recipient", jintern_int(d->index)) != 0) {
		delivery_recording(d, "notify.attempt", data, -ENOMEM,
		    d->state == DELIVERY_RECORDING);
		return;
	}
	delivery_halt(d);
	d->state = DELIVERY_RECORDING;
	store_append_later(&d->later, "notify.attempt", d->subj->id, "dutyd",
	    data, delivery_later_failed, d);
}

void
delivery_abandon(struct delivery *d, const char *reason)
{
	json_t *data = json_pack("{s:s}", "reason", reason);

	log_info("incident %s: delivery %" PRId64 ".%d of %s to %s abandoned: %s",
	    d->subj->id, d->intent, d->index, notify_event_name(d->event),
	    d->person, reason);
	if (data != NULL)
		delivery_record(d, "notify.abandoned", data);
	else
		delivery_schedule(d, time_now_ms() + 1000);	/* decided again then */
}

static json_t *
contact_json(const struct delivery *d, size_t i)
{
	return json_pack("{s:i, s:s, s:s}", "contact", (int)i, "channel",
	    d->contacts[i].channel, "to", d->contacts[i].to);
}

/* The next contact to try after the current one, skipping refusals; -1: none. */
static int
delivery_next_contact(const struct delivery *d)
{
	size_t i, j;

	for (i = 1; i < d->ncontacts; i++) {
		j = (d->contact + i) % d->ncontacts;
		if (!(d->rejected & (1u << j)))
			return (int)j;
	}
	return -1;
}

static void
delivery_fallback(struct delivery *d, int next, const char *reason)
{
	json_t *data;

	log_warnx("incident %s: %s to %s: %s; trying %s (%s) next",
	    d->subj->id, notify_event_name(d->event), d->person, reason,
	    d->contacts[next].channel, d->contacts[next].to);
	data = json_pack("{s:i, s:o, s:o, s:s}", "contact", next,
	    "from", contact_json(d, d->contact), "to", contact_json(d, next),
	    "reason", reason);
	if (data != NULL)
		delivery_record(d, "notify.fallback", data);
	else
		delivery_schedule(d, time_now_ms() + 1000);	/* decided again then */
}

static int64_t
delivery_backoff(const struct config *cfg, int attempt)
{
	int64_t delay = cfg->policy.retry_initial_ms;

	while (--attempt > 0 && delay < cfg->policy.retry_max_ms)
		delay *= 2;
	return delay < cfg->policy.retry_max_ms ? delay : cfg->policy.retry_max_ms;
}

struct attempt {
	const struct dutyd_result *res;
	long		 status;
	int64_t		 duration_ms;
	int64_t		 retry_after_ms;
	const char	*bundle;	/* the lead's delivery id, or NULL */
};

/* Counted before the record: it may end the delivery (and d). */
static void
delivery_measure(const struct delivery *d, const char *outcome, int64_t now)
{
	const struct incident *inc;

	metrics_count(METRICS_NOTIFY_ATTEMPTS, d->contacts[d->contact].channel,
	    outcome);
	if (d->event != NOTIFY_NEW || strcmp(outcome, "delivered") != 0 ||
	    d->subj->new_delivered)
		return;
	if ((inc = incident_find(d->subj->id)) != NULL)
		metrics_observe(METRICS_NOTIFY_LATENCY,
		    (now - inc->received_at) / 1000.0);
	/* Its record is applied at the turn's end: another may finish first. */
	d->subj->new_delivered = 1;
}

static void
delivery_finish(struct delivery *d, const struct attempt *a)
{
	const struct config	*cfg = config_current();
	const struct dutyd_result *res = a->res;
	const char		*outcome;
	char			 next[TIME_RFC3339_MAX], reason[DUTYD_ERROR_MAX + 96];
	int64_t			 now = time_now_ms(), at = 0, since, wait;
	int			 attempt = d->attempts + 1, fallback = -1;
	size_t			 contact = d->contact;
	json_t			*data;

	switch (res->outcome) {
	case DUTYD_DELIVERED:
		outcome = "delivered";
		break;
	case DUTYD_FAILED:
		/* This contact will never work as configured: the next one now. */
		if ((fallback = delivery_next_contact(d)) >= 0) {
			outcome = "rejected";
			snprintf(reason, sizeof(reason), "%s refused: %s",
			    d->contacts[contact].channel, res->detail);
		} else
			outcome = "failed";
		break;
	default:
		outcome = "retry";
		wait = delivery_backoff(cfg, d->contact_attempts + 1);
		if (a->retry_after_ms > wait)
			wait = a->retry_after_ms;	/* the vendor asked for it */
		at = now + wait;
		if (d->first_attempt_at != 0 && cfg->policy.retry_give_up_ms > 0 &&
		    at - d->first_attempt_at > cfg->policy.retry_give_up_ms) {
			outcome = "failed";
			break;
		}
		/*
		 * A contact gets fallback_after to succeed: the last retry is
		 * pulled in to the end of that window, and a failure at or
		 * after it moves on to the next contact.
		 */
		since = d->contact_since != 0 ? d->contact_since : now;
		if (delivery_next_contact(d) < 0)
			break;
		if (now - since >= cfg->policy.fallback_after_ms) {
			fallback = delivery_next_contact(d);
			/*
			 * The next contact is tried now: the record says so, and
			 * if the fallback after it is not written (a full disk),
			 * delivery_start() then moves on now, not a backoff later.
			 */
			at = now;
			snprintf(reason, sizeof(reason), "no delivery on %s for "
			    "%" PRId64 " s (%s)", d->contacts[contact].channel,
			    (now - since) / 1000, res->detail);
		} else if (at > since + cfg->policy.fallback_after_ms)
			/* The window closes first: then delivery_start() moves on. */
			at = since + cfg->policy.fallback_after_ms;
		break;
	}
#define SET(k, v)	(json_object_set_new_nocheck(data, k, v) != 0)
	data = json_object();	/* not json_pack(): that cost twice as much */
	if (SET("attempt", jintern_int(attempt)) ||
	    SET("person", jintern_str(d->person)) ||
	    SET("contact", jintern_int((json_int_t)contact)) ||
	    SET("channel", jintern_str(d->contacts[contact].channel)) ||
	    SET("to", jintern_str(d->contacts[contact].to)) ||
	    SET("outcome", jintern_str(outcome)) ||
	    SET("status", jintern_int(a->status)) ||
	    SET("detail", jintern_str(res->detail)) ||
	    SET("duration_ms", jintern_int(a->duration_ms)) ||
	    (strcmp(outcome, "retry") == 0 &&
	    json_object_set_new(data, "next_attempt_at",
	    json_string(time_format(at, next, sizeof(next)))) != 0) ||
	    (a->retry_after_ms > 0 && json_object_set_new(data, "retry_after_ms",
	    json_integer(a->retry_after_ms)) != 0) ||
	    (a->bundle != NULL && json_object_set_new(data, "bundle",
	    json_string(a->bundle)) != 0)) {
		/* Out of memory: nothing recorded; the next attempt in a second. */
		json_decref(data);
		delivery_schedule(d, now + 1000);
		return;
	}
	if (strcmp(outcome, "delivered") == 0)
		log_debug("incident %s: %s delivered to %s via %s (attempt %d)",
		    d->subj->id, notify_event_name(d->event), d->person,
		    d->contacts[contact].channel, attempt);
	else if (strcmp(outcome, "failed") == 0 || fallback >= 0 ||
	    failwarn_now(d->contacts[contact].channel, res->detail))
		log_warnx("incident %s: %s to %s via %s, attempt %d: %s%s",
		    d->subj->id, notify_event_name(d->event), d->person,
		    d->contacts[contact].channel, attempt, res->detail,
		    strcmp(outcome, "failed") == 0 ? "; giving up" :
		    fallback >= 0 ? "" : "; will retry");
	delivery_measure(d, outcome, now);
	if (strcmp(outcome, "failed") == 0) {
		delivery_failed(d, contact, res->detail, data);
		return;
	}
	if (strcmp(outcome, "delivered") == 0) {
		delivery_record_later(d, data);
		return;
	}
	if (delivery_record(d, "notify.attempt", data) != 0 || fallback < 0)
		return;
	/* d is alive: a retry or a refusal keeps the delivery. */
	delivery_fallback(d, fallback, reason);
}

/*
 * Failed for good: recorded, and the duty officers on duty are told who
 * could not be reached and why (never about a message of that kind: no
 * loop).  The desk's messages (handovers, SMS answers) belong to no
 * incident the alarm could name.  Steals DATA.
 */
static void
delivery_failed(struct delivery *d, size_t contact, const char *detail,
    json_t *data)
{
	struct incident	*inc = incident_find(d->subj->id);
	enum notify_event ev = d->event;
	int64_t		 intent = d->intent;
	int		 index = d->index, rc;
	char		*person = NULL, *name = NULL, reason[DUTYD_ERROR_MAX + 96];

	snprintf(reason, sizeof(reason), "%s %s", message_channel_label(
	    d->contacts[contact].channel), detail);
	if (inc != NULL && ev != NOTIFY_UNDELIVERABLE &&
	    ((person = strdup(d->person)) == NULL ||
	    (name = strdup(d->person_name)) == NULL)) {
		free(person);
		json_decref(data);
		delivery_schedule(d, time_now_ms() + 1000);
		return;
	}
	/* Applied, the record frees d. */
	if (delivery_record(d, "notify.attempt", data) == 0 && person != NULL &&
	    (rc = notify_undeliverable(inc, intent, index, ev, person, name,
	    reason)) != 0)
		log_errorx("incident %s: %s could not be told of %s, and that "
		    "could not be recorded (%s): phone them", inc->id, person,
		    notify_event_name(ev), strerror(-rc));
	free(person);
	free(name);
}

/* Sending ----------------------------------------------------------------- */

static void
delivery_fetched(const struct fetch_result *fr, void *arg)
{
	struct delivery			*d = arg, *riders[DELIVER_BUNDLE_MAX], *r;
	const struct config_channel	*ch;
	const struct dutyd_plugin	*p;
	struct dutyd_response		 resp;
	struct dutyd_result		 res;
	struct config			*cfg = d->cfg;
	struct attempt			 a;
	char				 lead[64];
	size_t				 n = 0, i;

	d->fetch = NULL;
	d->cfg = NULL;
	memset(&res, 0, sizeof(res));
	ch = config_channel(cfg, d->contacts[d->contact].channel);
	p = channel_plugin_abi(ch->plugin);
	memset(&resp, 0, sizeof(resp));
	resp.status = fr->status;
	resp.error = fr->error;
	resp.content_type = fr->content_type;
	resp.body = fr->body;
	resp.body_len = fr->body_len;
	resp.retry_after_ms = fr->retry_after_ms;
	if (p->parse(ch->state, &resp, &res) != 0) {
		res.outcome = DUTYD_RETRY;
		snprintf(res.detail, sizeof(res.detail), "plugin %s could not read "
		    "the response (HTTP %ld)", p->name, fr->status);
	}
	res.detail[sizeof(res.detail) - 1] = '\0';
	config_unref(cfg);
	/* Finishing may free d: take the riders off first. */
	while ((r = TAILQ_FIRST(&d->bundle)) != NULL && n < DELIVER_BUNDLE_MAX) {
		TAILQ_REMOVE(&d->bundle, r, riders);
		r->lead = NULL;
		r->state = DELIVERY_SCHEDULED;
		riders[n++] = r;
	}
	memset(&a, 0, sizeof(a));
	a.res = &res;
	a.status = fr->status;
	a.duration_ms = fr->duration_ms;
	a.retry_after_ms = res.retry_after_ms > fr->retry_after_ms ?
	    res.retry_after_ms : fr->retry_after_ms;
	delivery_id(d, lead, sizeof(lead));
	if (n > 0)
		a.bundle = lead;
	delivery_finish(d, &a);
	for (i = 0; i < n; i++)
		delivery_finish(riders[i], &a);
	delivery_pump();
}

/* A failure before any request went out: an attempt all the same. */
static void
delivery_failed_to_send(struct delivery **ds, size_t n, const char *fmt,
    const char *what)
{
	struct dutyd_result	res;
	struct attempt		a;
	size_t			i;

	memset(&res, 0, sizeof(res));
	res.outcome = DUTYD_RETRY;
	snprintf(res.detail, sizeof(res.detail), fmt, what);
	memset(&a, 0, sizeof(a));
	a.res = &res;
	for (i = 0; i < n; i++) {
		ds[i]->state = DELIVERY_SCHEDULED;
		delivery_finish(ds[i], &a);
	}
}

/* What d's message is about, for message.c. */
static void
delivery_about(const struct delivery *d, struct message_about *a)
{
	memset(a, 0, sizeof(*a));
	a->event = d->event;
	a->level = d->level;
	a->update = d->update;
	a->late_ms = d->late_ms;
	a->extra = d->extra;
	a->person = d->person;
	a->link = d->link;
	a->code = d->contacts[d->contact].code;
	a->inc = incident_find(d->subj->id);
}

/* One request for ds[0] and, in a bundle, ds[1..n-1] riding along. */
static void
delivery_send(struct config *cfg, const struct config_channel *ch,
    struct delivery **ds, size_t n)
{
	const struct dutyd_plugin	*p = channel_plugin_abi(ch->plugin);
	struct delivery			*lead = ds[0];
	struct dutyd_recipient		 rcpt[DELIVER_BUNDLE_MAX];
	struct dutyd_message		 msg;
	struct dutyd_request		 req;
	struct fetch_request		 freq;
	struct message_about		 about[DELIVER_BUNDLE_MAX];
	struct message			 m;
	struct incident			*inc;
	const char			*ijson;
	char				 id[64], *extra = NULL;
	size_t				 i, j, nrcpt = 0;
	int				 rc;

	memset(&req, 0, sizeof(req));
	inc = incident_find(lead->subj->id);
	for (i = 0; i < n; i++)
		delivery_about(ds[i], &about[i]);
	rc = n == 1 ? message_render(cfg, ch, &about[0], &m) :
	    message_render_bundle(cfg, ch, about, n, &m);
	/* The duty desk is no incident: plugins get the handover itself. */
	if (lead->extra != NULL && inc == NULL)
		ijson = extra = json_dumps(lead->extra, JSON_COMPACT);
	else
		ijson = inc != NULL ? incview_cached(inc) : NULL;
	if (rc != 0 || ijson == NULL) {
		free(extra);
		if (rc == 0)
			message_clear(&m);
		delivery_failed_to_send(ds, n, "%s", "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct delivery_contact *c = &ds[i]->contacts[ds[i]->contact];

		/* Mention each person once, however many of their messages ride. */
		for (j = 0; j < nrcpt; j++)
			if (strcmp(rcpt[j].id, ds[i]->person) == 0 &&
			    strcmp(rcpt[j].to, c->to) == 0)
				break;
		if (j < nrcpt)
			continue;
		rcpt[nrcpt].id = ds[i]->person;
		rcpt[nrcpt].name = ds[i]->person_name;
		rcpt[nrcpt++].to = c->to;
	}
	memset(&msg, 0, sizeof(msg));
	msg.event = n == 1 ? notify_event_name(lead->event) : "dutyd.bundle";
	msg.delivery_id = delivery_id(lead, id, sizeof(id));
	msg.incident_json = ijson;
	msg.title = m.title;
	msg.text = m.text;
	msg.url = m.url;
	msg.recipient = rcpt[0];
	msg.recipients = rcpt;
	msg.nrecipients = nrcpt;
	msg.now_ms = time_now_ms();
	rc = p->build(ch->state, &msg, &req);
	free(extra);
	if (rc != 0) {
		channel_request_clear(&req);
		message_clear(&m);
		delivery_failed_to_send(ds, n, "plugin could not build the "
		    "request: %s", strerror(-rc));
		return;
	}
	memset(&freq, 0, sizeof(freq));
	freq.method = req.method;
	freq.url = req.url;
	freq.headers = req.headers;
	freq.nheaders = req.nheaders;
	freq.body = req.body;
	freq.body_len = req.body_len;
	freq.timeout_ms = ch->timeout_ms;
	freq.connect_timeout_ms = ch->connect_timeout_ms;
	freq.username = req.username;
	freq.password = req.password;
	freq.mail_from = req.mail_from;
	freq.mail_rcpt = req.mail_rcpt;
	freq.nrcpt = req.nrcpt;
	freq.tls_required = req.tls == DUTYD_TLS_REQUIRED;
	freq.ca_file = ch->ca_file;
	rc = fetch_start(&freq, delivery_fetched, lead, &lead->fetch);
	channel_request_clear(&req);
	message_clear(&m);
	if (rc != 0) {
		delivery_failed_to_send(ds, n, "cannot start the request: %s",
		    strerror(-rc));
		return;
	}
	lead->state = DELIVERY_INFLIGHT;
	lead->cfg = config_ref(cfg);
	for (i = 1; i < n; i++) {
		ds[i]->state = DELIVERY_BUNDLED;
		ds[i]->lead = lead;
		TAILQ_INSERT_TAIL(&lead->bundle, ds[i], riders);
	}
}

/* Rate limits ------------------------------------------------------------- */

static struct chanq *
chanq_get(const char *name)
{
	struct chanq *q;

	TAILQ_FOREACH(q, &chanqs, entry)
		if (strcmp(q->name, name) == 0)
			return q;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->name = strdup(name)) == NULL) {
		free(q);
		return NULL;
	}
	TAILQ_INIT(&q->waiting);
	clock_init(&q->timer, chanq_cb, q);
	TAILQ_INSERT_TAIL(&chanqs, q, entry);
	return q;
}

static void
chanq_arm(struct chanq *q, const struct config_channel *ch)
{
	if (q->nwaiting == 0 || clock_armed(&q->timer))
		return;
	clock_arm(&q->timer, ratewin_next(&q->win, (size_t)ch->rate_count,
	    ch->rate_period_ms, time_now_ms()));
}

static void
chanq_enqueue(struct chanq *q, struct delivery *d)
{
	d->state = DELIVERY_RATE_QUEUED;
	d->chanq = q;
	TAILQ_INSERT_TAIL(&q->waiting, d, queue);
	q->nwaiting++;
}

/* A token came: send the head alone, or everyone compatible as one message. */
static void
chanq_cb(struct clock *c, void *arg)
{
	struct chanq			*q = arg;
	struct config			*cfg = config_current();
	const struct config_channel	*ch = config_channel(cfg, q->name);
	const struct dutyd_plugin	*p;
	struct delivery			*ds[DELIVER_BUNDLE_MAX], *d, *next;
	size_t				 n;
	int				 group;

	if (ch == NULL || ch->rate_count == 0) {
		/* Reloaded away: let each go its own way again. */
		chanq_free(q);
		return;
	}
	p = channel_plugin_abi(ch->plugin);
	group = (p->flags & DUTYD_PLUGIN_GROUP) != 0;
	while (q->nwaiting > 0 && ratewin_take(&q->win, (size_t)ch->rate_count,
	    ch->rate_period_ms, time_now_ms())) {
		ds[0] = TAILQ_FIRST(&q->waiting);
		n = 1;
		/* The written report goes as itself, never as a summary line. */
		if (q->nwaiting >= (size_t)ch->bundle_after &&
		    ds[0]->event != NOTIFY_REPORT_SUBMITTED) {
			for (d = TAILQ_NEXT(ds[0], queue); d != NULL &&
			    n < DELIVER_BUNDLE_MAX; d = next) {
				next = TAILQ_NEXT(d, queue);
				/* A group robot reaches everyone; an SMS or mail one address. */
				if (d->event != NOTIFY_REPORT_SUBMITTED && (group ||
				    strcmp(d->contacts[d->contact].to,
				    ds[0]->contacts[ds[0]->contact].to) == 0))
					ds[n++] = d;
			}
		}
		for (size_t i = 0; i < n; i++) {
			delivery_unqueue(ds[i]);
			ds[i]->state = DELIVERY_SCHEDULED;
		}
		if (n > 1)
			log_info("channel %s: rate limit %" PRId64 " per %" PRId64
			    " ms reached; sending %zu queued messages as one",
			    q->name, ch->rate_count, ch->rate_period_ms, n);
		delivery_send(cfg, ch, ds, n);
	}
	chanq_arm(q, ch);
}

/* Starting an attempt ----------------------------------------------------- */

static void
delivery_start(struct delivery *d)
{
	struct config			*cfg = config_current();
	const struct config_channel	*ch;
	const struct incident		*inc;
	struct chanq			*q;
	char				 reason[128];
	int				 next;

	/* The desk's messages carry their text; an incident's need the incident. */
	inc = incident_find(d->subj->id);
	if (d->extra == NULL && inc == NULL) {
		delivery_abandon(d, "the incident is no longer loaded");
		return;
	}
	if (inc != NULL && incident_is_closed(inc) &&
	    !(d->event & NOTIFY_AFTER_CLOSE)) {
		delivery_abandon(d, inc->state == INCIDENT_RESOLVED ?
		    "the incident was resolved" : inc->state == INCIDENT_MERGED ?
		    "the incident was merged" : "the incident was dismissed");
		return;
	}
	if (d->ncontacts == 0) {
		delivery_abandon(d, "the person has no contacts");
		return;
	}
	if (d->rejected & (1u << d->contact)) {
		/*
		 * A refusal whose fallback was not written (a crash, or a full
		 * disk that delayed the refusal's record): write it now, so
		 * the log shows the move and a replay counts the next
		 * contact's attempts and window from its own first attempt.
		 */
		if ((next = delivery_next_contact(d)) < 0) {
			delivery_abandon(d, "every contact refused the message");
			return;
		}
		snprintf(reason, sizeof(reason), "%s refused the message",
		    d->contacts[d->contact].channel);
		delivery_fallback(d, next, reason);
		return;
	}
	/*
	 * The contact's window closed while waiting (a retry pulled in to its
	 * end, a Retry-After beyond it): the next contact, not this one again.
	 */
	if (d->contact_attempts > 0 && d->contact_since != 0 &&
	    time_now_ms() - d->contact_since >= cfg->policy.fallback_after_ms &&
	    (next = delivery_next_contact(d)) >= 0) {
		snprintf(reason, sizeof(reason), "no delivery on %s for %" PRId64
		    " s", d->contacts[d->contact].channel,
		    (time_now_ms() - d->contact_since) / 1000);
		delivery_fallback(d, next, reason);
		return;
	}
	if ((ch = config_channel(cfg, d->contacts[d->contact].channel)) == NULL ||
	    ch->plugin == NULL) {
		if ((next = delivery_next_contact(d)) >= 0)
			delivery_fallback(d, next, "its channel is no longer "
			    "configured");
		else
			delivery_abandon(d, "its channel is no longer configured");
		return;
	}
	if (ch->rate_count > 0 && (q = chanq_get(ch->name)) != NULL &&
	    (q->nwaiting > 0 || !ratewin_take(&q->win, (size_t)ch->rate_count,
	    ch->rate_period_ms, time_now_ms()))) {
		chanq_enqueue(q, d);
		chanq_arm(q, ch);
		return;
	}
	if (fetch_inflight() >= DELIVER_MAX_INFLIGHT) {
		d->state = DELIVERY_QUEUED;
		TAILQ_INSERT_TAIL(&delivery_queue, d, queue);
		return;
	}
	delivery_send(cfg, ch, &d, 1);
}

/* Transfer slots freed: start the deliveries that waited for one, in order. */
static void
delivery_pump(void)
{
	struct delivery *d;

	while (fetch_inflight() < DELIVER_MAX_INFLIGHT &&
	    (d = TAILQ_FIRST(&delivery_queue)) != NULL) {
		delivery_unqueue(d);
		delivery_start(d);
	}
}

static void
delivery_timer_cb(struct clock *c, void *arg)
{
	struct delivery	*d = arg;
	json_t		*data;
	char		*event;

	if (d->state != DELIVERY_RECORDING) {
		delivery_start(d);
		return;
	}
	/* Hand the kept record back to delivery_record() to try again. */
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

void
delivery_incident_resolved(struct incident *inc)
{
	struct notify_subject	*subj = notify_subject(inc->id, 0);
	struct delivery		*d, *next;

	if (subj == NULL)
		return;
	for (d = TAILQ_FIRST(&subj->deliveries); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if ((d->event & NOTIFY_AFTER_CLOSE) ||
		    d->state == DELIVERY_RECORDING)
			continue;
		/* A bundle's request speaks for others too: let it finish. */
		if (d->state == DELIVERY_BUNDLED ||
		    (d->state == DELIVERY_INFLIGHT && !TAILQ_EMPTY(&d->bundle)))
			continue;
		delivery_halt(d);
		delivery_abandon(d, inc->state == INCIDENT_MERGED ?
		    "the incident was merged" : inc->state == INCIDENT_DISMISSED ?
		    "the incident was dismissed" : "the incident was resolved");
	}
	/* Cancelled requests freed their slots: the first in line take them. */
	delivery_pump();
}
