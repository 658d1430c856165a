/*
 * One-tap links on a fake clock: a link works until links.ttl has passed
 * and not a millisecond longer, an altered one never, the key outlives a
 * restart, and every incident message carries its reader's own link for
 * the step that is next.  tests/e2e/test_links.py makes expired tokens by
 * hand; here they expire.  What a POST of a link does is the core action
 * (incact.h) in the link's person's name; the pages are intake/onetap.c's
 * and e2e's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actions/incact.h"
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "fakefetch.h"
#include "memstore.h"
#include "notify/links.h"
#include "parse/linktoken.h"
#include "state/incident.h"

#define MIN	COREFIX_MIN
#define HOUR	(60 * MIN)
#define TTL	(2 * HOUR)
#define PREFIX	"https://duty.example.gov.cn/a/"

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n"
    "  escalation: [wang]\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n"
    "links:\n"
    "  ttl: 2h\n"
    "policy:\n"
    "  ack_timeout: 20m\n"
    "  report_deadline: 40m\n"
    "  retry_initial: 1s\n";

/* The token of a link URL (static), checking where it points. */
static const char *
token_of(const char *url)
{
	static char token[LINKTOKEN_TOKEN_MAX + 1];

	assert_non_null(url);
	assert_int_equal(strncmp(url, PREFIX, strlen(PREFIX)), 0);
	snprintf(token, sizeof(token), "%s", url + strlen(PREFIX));
	return token;
}

/* A link made now, as a message made now would carry it. */
static const char *
make_link(const char *incident, const char *person, char action)
{
	char		*url = NULL;
	const char	*token;

	assert_int_equal(links_url(config_current(), incident, person, action,
	    &url), 0);
	token = token_of(url);
	free(url);
	return token;
}

/*
 * What a POST of the link does: the action it names, in its person's
 * name.  0 and *changed, or the -errno links_verify() refused it with.
 */
static int
tap(const char *token, int *changed)
{
	struct linktoken	 l;
	struct incident	*inc;
	int		 rc;

	*changed = 0;
	if ((rc = links_verify(token, fakeclock_now(), &l)) != 0)
		return rc;
	assert_non_null(inc = incident_find(l.incident));
	assert_non_null(config_person(config_current(), l.person));
	switch (l.action) {
	case 'A':
		rc = incact_acknowledge(inc, l.person, "一键确认", changed);
		break;
	case 'F':
		rc = incact_file_report(inc, l.person, NULL, changed);
		break;
	default:
		rc = incact_resolve(inc, l.person, "一键确认", changed);
		break;
	}
	fakeclock_turn();
	return rc;
}

/*
 * The links in the webhook requests for EVENT about INCIDENT, as
 * "zhang:A,li:A": each verified now, for its own reader, in its text,
 * expiring links.ttl after the request was made.
 */
static const char *
links_sent(const char *event, const char *incident)
{
	static char		 out[512];
	struct fakefetch_req	*r;
	struct linktoken		 l;
	const char		*ev, *id, *url, *who, *text;
	size_t			 i, len = 0;

	out[0] = '\0';
	for (i = 0; (r = fakefetch_get(i)) != NULL; i++) {
		ev = json_string_value(json_object_get(r->json, "event"));
		id = json_string_value(json_object_get(json_object_get(r->json,
		    "incident"), "id"));
		if (ev == NULL || strcmp(ev, event) != 0 || id == NULL ||
		    strcmp(id, incident) != 0)
			continue;
		url = json_string_value(json_object_get(r->json, "url"));
		text = json_string_value(json_object_get(r->json, "text"));
		who = json_string_value(json_object_get(json_object_get(r->json,
		    "recipient"), "id"));
		assert_non_null(text);
		assert_non_null(strstr(text, url));
		assert_int_equal(links_verify(token_of(url), fakeclock_now(), &l), 0);
		assert_string_equal(l.incident, incident);
		assert_string_equal(l.person, who);
		assert_int_equal(l.expiry_ms, r->at + TTL);
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s:%c",
		    len > 0 ? "," : "", who, l.action);
	}
	return out;
}

static json_t *
last_record(const char *event, const char *incident)
{
	json_t *all = memstore_records(event, incident), *r;

	assert_true(json_array_size(all) > 0);
	r = json_incref(json_array_get(all, json_array_size(all) - 1));
	json_decref(all);
	return r;
}

static void
test_a_link_works_until_its_ttl(void **state)
{
	struct incident	*inc;
	struct linktoken	 l;
	char		 token[LINKTOKEN_TOKEN_MAX + 1];
	int		 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	snprintf(token, sizeof(token), "%s", make_link(inc->id, "zhang", 'A'));
	assert_int_equal(links_verify(token, fakeclock_now(), &l), 0);
	assert_string_equal(l.incident, inc->id);
	assert_string_equal(l.person, "zhang");
	assert_int_equal(l.action, 'A');
	assert_int_equal(l.expiry_ms, COREFIX_T0 + TTL);

	fakeclock_advance(TTL - 1);
	assert_int_equal(links_verify(token, fakeclock_now(), &l), 0);
	fakeclock_advance(1);
	/* Expired, yet it still names its incident for the page that says so. */
	assert_int_equal(links_verify(token, fakeclock_now(), &l), -ETIMEDOUT);
	assert_string_equal(l.incident, inc->id);
	assert_int_equal(l.expiry_ms, COREFIX_T0 + TTL);
	assert_int_equal(tap(token, &changed), -ETIMEDOUT);
	assert_int_equal(inc->state, INCIDENT_OPEN);
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 0);
	/* A link made now has its own two hours. */
	assert_int_equal(tap(make_link(inc->id, "zhang", 'A'), &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(inc->state, INCIDENT_ACKNOWLEDGED);
}

static void
test_an_altered_link_is_refused(void **state)
{
	struct incident	*inc;
	struct linktoken	 l;
	unsigned char	 other_key[32];
	char		 good[LINKTOKEN_TOKEN_MAX + 1], li[LINKTOKEN_TOKEN_MAX + 1];
	char		 bad[2 * LINKTOKEN_TOKEN_MAX + 2], *dot;
	size_t		 n;
	int		 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "某村山体滑坡");
	snprintf(good, sizeof(good), "%s", make_link(inc->id, "zhang", 'A'));
	snprintf(li, sizeof(li), "%s", make_link(inc->id, "li", 'A'));
	dot = strchr(good, '.');
	assert_non_null(dot);

	/* One character of the MAC changed. */
	snprintf(bad, sizeof(bad), "%s", good);
	n = (size_t)(dot - good) + 6;
	bad[n] = bad[n] == 'A' ? 'B' : 'A';
	assert_int_equal(links_verify(bad, fakeclock_now(), &l), -EBADMSG);
	/* li's payload under zhang's MAC: acting as another person. */
	snprintf(bad, sizeof(bad), "%.*s%s", (int)(strchr(li, '.') - li), li, dot);
	assert_int_equal(links_verify(bad, fakeclock_now(), &l), -EBADMSG);
	/* Cut short, as an SMS that split the link would. */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(good) - 1, good);
	assert_int_equal(links_verify(bad, fakeclock_now(), &l), -EBADMSG);
	/* Made with another dutyd's key. */
	memset(other_key, 0x17, sizeof(other_key));
	assert_int_equal(linktoken_make(other_key, sizeof(other_key), inc->id,
	    "zhang", 'A', COREFIX_T0 + TTL, bad, sizeof(bad)), 0);
	assert_int_equal(links_verify(bad, fakeclock_now(), &l), -EBADMSG);
	assert_int_equal(tap(bad, &changed), -EBADMSG);
	/* Nothing was done by any of them; the good one still works. */
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 0);
	assert_int_equal(tap(good, &changed), 0);
	assert_string_equal(inc->ack.by, "zhang");
}

/* The key is the store's: links sent before a restart work after it. */
static void
test_links_outlive_a_restart(void **state)
{
	struct incident	*inc;
	struct linktoken	 l;
	char		 id[INCIDENT_ID_MAX], sent[LINKTOKEN_TOKEN_MAX + 1];
	int		 changed;
	json_t		*ack;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	snprintf(id, sizeof(id), "%s", inc->id);
	/* li's incident.new, as the webhook got it. */
	assert_string_equal(links_sent("incident.new", id), "zhang:A,li:A");
	snprintf(sent, sizeof(sent), "%s", token_of(json_string_value(
	    json_object_get(fakefetch_get(1)->json, "url"))));
	corefix_deliver_all();

	corefix_restart(30 * MIN);
	assert_int_equal(links_verify(sent, fakeclock_now(), &l), 0);
	assert_string_equal(l.person, "li");
	assert_int_equal(tap(sent, &changed), 0);
	assert_int_equal(changed, 1);
	inc = incident_find(id);
	assert_string_equal(inc->ack.by, "li");
	ack = last_record("incident.acknowledged", id);
	assert_string_equal(json_string_value(json_object_get(ack, "actor")),
	    "person:li");
	assert_string_equal(json_string_value(json_object_get(json_object_get(ack,
	    "data"), "note")), "一键确认");
	json_decref(ack);
	/* Pressed again: done already, nothing recorded. */
	assert_int_equal(tap(sent, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(memstore_count_of("incident.acknowledged", id), 1);
	/* Through another restart, until the TTL from when it was made. */
	corefix_restart(TTL - 30 * MIN - 1);
	assert_int_equal(links_verify(sent, fakeclock_now(), &l), 0);
	corefix_restart(1);
	assert_int_equal(links_verify(sent, fakeclock_now(), &l), -ETIMEDOUT);
}

/*
 * Each message's link is its reader's, for the next step: acknowledge
 * while nobody has, then file the written report, then resolve.
 */
static void
test_every_message_carries_its_readers_next_step(void **state)
{
	struct incident	*a, *b;
	json_t		*u;
	int		 changed;

	corefix_start(conf);
	a = corefix_report("county-a", "某镇化工厂爆炸");
	b = corefix_report("county-a", "河堤管涌");
	assert_string_equal(links_sent("incident.new", a->id), "zhang:A,li:A");
	assert_string_equal(links_sent("incident.new", b->id), "zhang:A,li:A");
	corefix_deliver_all();
	fakeclock_advance(20 * MIN);
	assert_string_equal(links_sent("incident.escalated", a->id),
	    "li:A,wang:A");
	assert_string_equal(links_sent("incident.escalated", b->id),
	    "li:A,wang:A");
	corefix_deliver_all();

	/* A follow-up before the acknowledgement still asks for one. */
	u = json_pack("{s:s}", "details", "火势扩大");
	assert_int_equal(incact_update(b, "county-a", "u1", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.updated", b->id),
	    "zhang:A,li:A,wang:A");
	corefix_deliver_all();

	fakeclock_advance(5 * MIN);
	assert_int_equal(incact_acknowledge(a, "li", NULL, &changed), 0);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.acknowledged", a->id),
	    "zhang:F,li:F,wang:F");
	corefix_deliver_all();
	u = json_pack("{s:s}", "details", "已疏散");
	assert_int_equal(incact_update(a, "county-a", "u2", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	/* a's follow-up asks for the written report now. */
	assert_string_equal(links_sent("incident.updated", a->id),
	    "zhang:F,li:F,wang:F");
	corefix_deliver_all();

	/* 08:40: overdue, acknowledged (a) or not (b): file the report. */
	fakeclock_advance(15 * MIN);
	assert_string_equal(links_sent("incident.report_overdue", a->id),
	    "li:F,wang:F");
	assert_string_equal(links_sent("incident.report_overdue", b->id),
	    "li:F,wang:F");
	corefix_deliver_all();

	assert_int_equal(incact_file_report(a, "zhang", "A应急〔2026〕1号",
	    &changed), 0);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.report_filed", a->id),
	    "zhang:R,li:R,wang:R");
	corefix_deliver_all();
	assert_int_equal(incact_resolve(a, "zhang", NULL, &changed), 0);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.resolved", a->id),
	    "zhang:R,li:R,wang:R");
}

/* A retry makes the message again: a fresh link, the old one still good. */
static void
test_a_retry_carries_a_fresh_link(void **state)
{
	struct incident	*inc;
	struct linktoken	 first, again;
	char		 t1[LINKTOKEN_TOKEN_MAX + 1];

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	snprintf(t1, sizeof(t1), "%s", token_of(json_string_value(
	    json_object_get(fakefetch_get(0)->json, "url"))));
	assert_int_equal(fakefetch_answer(503, "busy", 0), 0);
	assert_int_equal(fakefetch_answer(200, "ok", 0), 1);
	fakeclock_advance(1000);
	assert_int_equal(fakefetch_count(), 3);
	assert_string_equal(links_sent("incident.new", inc->id),
	    "zhang:A,li:A,zhang:A");
	assert_int_equal(links_verify(t1, fakeclock_now(), &first), 0);
	assert_int_equal(links_verify(token_of(json_string_value(json_object_get(
	    fakefetch_get(2)->json, "url"))), fakeclock_now(), &again), 0);
	assert_int_equal(again.expiry_ms, first.expiry_ms + 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_link_works_until_its_ttl, corefix_teardown),
		cmocka_unit_test_teardown(test_an_altered_link_is_refused, corefix_teardown),
		cmocka_unit_test_teardown(test_links_outlive_a_restart, corefix_teardown),
		cmocka_unit_test_teardown(test_every_message_carries_its_readers_next_step, corefix_teardown),
		cmocka_unit_test_teardown(test_a_retry_carries_a_fresh_link, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
