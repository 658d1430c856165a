/*
 * One-tap links on a fake clock.  A link is 24 characters (an SMS keeps
 * its facts), acknowledges and nothing else, works until links.ttl has
 * passed, never when altered, and outlives a restart, also one that
 * replays from a checkpoint rather than from the intent that issued it.
 * Every other link in a message is the incident's details link, which
 * never acts.  What a POST of a link does is the core action (incact.h)
 * in the link's person's name; the pages are intake/onetap.c's and e2e's.
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
#include "store/store.h"

#define MIN	COREFIX_MIN
#define HOUR	(60 * MIN)
#define TTL	(2 * HOUR)
#define SITE	"https://duty.example.gov.cn"
#define PREFIX	SITE "/a/"

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

/* The token of a one-tap URL (static), or NULL for any other URL. */
static const char *
token_of(const char *url)
{
	static char token[LINKTOKEN_TOKEN_MAX + 1];

	assert_non_null(url);
	if (strncmp(url, PREFIX, strlen(PREFIX)) != 0)
		return NULL;
	snprintf(token, sizeof(token), "%s", url + strlen(PREFIX));
	return token;
}

/* The URL webhook request I carried. */
static const char *
url_of(size_t i)
{
	assert_non_null(fakefetch_get(i));
	return json_string_value(json_object_get(fakefetch_get(i)->json, "url"));
}

/*
 * What a POST of the link does: acknowledge, in its person's name.
 * 0 and *changed, or the -errno links_open() refused it with.
 */
static int
tap(const char *token, int *changed)
{
	struct links_link	 l;
	struct incident		*inc;
	int			 rc;

	*changed = 0;
	if ((rc = links_open(token, fakeclock_now(), &l)) != 0)
		return rc;
	assert_int_equal(l.action, 'A');
	assert_non_null(inc = incident_find(l.incident));
	assert_non_null(config_person(config_current(), l.person));
	rc = incact_acknowledge(inc, l.person, "一键确认", changed);
	fakeclock_turn();
	return rc;
}

/*
 * Who got EVENT about INCIDENT, and with which link, as "zhang:A,li:-":
 * A for their own one-tap link (opened now, expiring links.ttl after the
 * message was first made, rounded up to the minute: a retry within the
 * minute carries the same link), - for the details link.
 * Either way the link is in the text.
 */
static const char *
links_sent(const char *event, const char *incident)
{
	static char		 out[512];
	char			 details[256];
	struct fakefetch_req	*r;
	struct links_link	 l;
	const char		*ev, *id, *url, *who, *text, *token;
	size_t			 i, len = 0;

	out[0] = '\0';
	snprintf(details, sizeof(details), SITE "/api/v1/incidents/%s",
	    incident);
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
		if ((token = token_of(url)) == NULL) {
			assert_string_equal(url, details);
			len += (size_t)snprintf(out + len, sizeof(out) - len,
			    "%s%s:-", len > 0 ? "," : "", who);
			continue;
		}
		assert_int_equal(strlen(token), LINKTOKEN_LEN);
		assert_int_equal(links_open(token, fakeclock_now(), &l), 0);
		assert_string_equal(l.incident, incident);
		assert_string_equal(l.person, who);
		assert_true(l.expiry_ms <= (r->at + TTL + MIN - 1) / MIN * MIN);
		assert_true(l.expiry_ms > r->at + TTL - MIN);
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s:%c",
		    len > 0 ? "," : "", who, l.action);
	}
	return out;
}

static void
test_a_link_is_short_and_works_until_its_ttl(void **state)
{
	struct incident		*inc;
	struct links_link	 l;
	char			 token[LINKTOKEN_TOKEN_MAX + 1];
	int			 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	/* zhang's incident.new, as the webhook got it. */
	snprintf(token, sizeof(token), "%s", token_of(url_of(0)));
	assert_true(strlen(token) <= 24);
	assert_int_equal(links_open(token, fakeclock_now(), &l), 0);
	assert_string_equal(l.incident, inc->id);
	assert_string_equal(l.person, "zhang");
	assert_int_equal(l.action, 'A');
	assert_int_equal(l.expiry_ms, COREFIX_T0 + TTL);

	fakeclock_advance(TTL - 1);
	assert_int_equal(links_open(token, fakeclock_now(), &l), 0);
	fakeclock_advance(1);
	/* Expired, yet it still names its incident for the page that says so. */
	assert_int_equal(links_open(token, fakeclock_now(), &l), -ETIMEDOUT);
	assert_string_equal(l.incident, inc->id);
	assert_int_equal(l.expiry_ms, COREFIX_T0 + TTL);
	assert_int_equal(tap(token, &changed), -ETIMEDOUT);
	assert_int_equal(inc->state, INCIDENT_OPEN);
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 0);
}

static void
test_an_altered_link_is_refused(void **state)
{
	struct incident		*inc;
	struct links_link	 l;
	unsigned char		 other_key[32], id[LINKTOKEN_ID_LEN];
	char			 good[LINKTOKEN_LEN + 1], li[LINKTOKEN_LEN + 1];
	char			 bad[LINKTOKEN_TOKEN_MAX + 1];
	char			 stub[LINKTOKEN_STUB_LEN + 1];
	int			 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "某村山体滑坡");
	snprintf(good, sizeof(good), "%s", token_of(url_of(0)));
	snprintf(li, sizeof(li), "%s", token_of(url_of(1)));
	assert_int_equal(links_open(li, fakeclock_now(), &l), 0);
	assert_string_equal(l.person, "li");

	/* One character changed: in the id, in the expiry, in the MAC. */
	for (size_t n = 0; n < LINKTOKEN_LEN; n += 5) {
		snprintf(bad, sizeof(bad), "%s", good);
		bad[n] = bad[n] == 'A' ? 'B' : 'A';
		assert_int_equal(links_open(bad, fakeclock_now(), &l), -EBADMSG);
	}
	/* li's id under zhang's MAC: acting as another person. */
	snprintf(bad, sizeof(bad), "%.*s%s", LINKTOKEN_STUB_LEN, li,
	    good + LINKTOKEN_STUB_LEN);
	assert_int_equal(links_open(bad, fakeclock_now(), &l), -EBADMSG);
	/* Cut short, as an SMS that split the link would; or padded. */
	snprintf(bad, sizeof(bad), "%.*s", LINKTOKEN_LEN - 1, good);
	assert_int_equal(links_open(bad, fakeclock_now(), &l), -EBADMSG);
	snprintf(bad, sizeof(bad), "%s=", good);
	assert_int_equal(links_open(bad, fakeclock_now(), &l), -EBADMSG);
	/* Made with another dutyd's key. */
	memset(other_key, 0x17, sizeof(other_key));
	memset(id, 0x42, sizeof(id));
	assert_int_equal(linktoken_stub(id, COREFIX_T0 + TTL, stub), 0);
	assert_int_equal(linktoken_sign(other_key, sizeof(other_key), stub,
	    bad), 0);
	assert_int_equal(links_open(bad, fakeclock_now(), &l), -EBADMSG);
	assert_int_equal(tap(bad, &changed), -EBADMSG);
	/* Nothing was done by any of them; the good one still works. */
	assert_int_equal(memstore_count_of("incident.acknowledged", NULL), 0);
	assert_int_equal(tap(good, &changed), 0);
	assert_int_equal(changed, 1);
	assert_string_equal(inc->ack.by, "zhang");
}

/* Signed with our key but never issued (a stolen key would be worse). */
static void
test_a_link_nobody_was_sent_does_nothing(void **state)
{
	unsigned char		 key[32], id[LINKTOKEN_ID_LEN];
	char			 err[256], stub[LINKTOKEN_STUB_LEN + 1];
	char			 token[LINKTOKEN_LEN + 1];
	struct links_link	 l;

	corefix_start(conf);
	corefix_report("county-a", "某村山体滑坡");
	assert_int_equal(store_secret("links.key", key, sizeof(key), err,
	    sizeof(err)), 0);
	memset(id, 0x42, sizeof(id));
	assert_int_equal(linktoken_stub(id, COREFIX_T0 + TTL, stub), 0);
	assert_int_equal(linktoken_sign(key, sizeof(key), stub, token), 0);
	assert_int_equal(links_open(token, fakeclock_now(), &l), -ENOENT);
}

/*
 * The key and the links are the store's: a link sent before a restart
 * works after it, once, also when replay starts at a checkpoint after
 * the intent that issued it.
 */
static void
test_links_outlive_a_restart(void **state)
{
	struct incident		*inc;
	struct links_link	 l;
	char			 id[INCIDENT_ID_MAX], sent[LINKTOKEN_LEN + 1];
	int			 changed;
	json_t			*ack;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	snprintf(id, sizeof(id), "%s", inc->id);
	assert_string_equal(links_sent("incident.new", id), "zhang:A,li:A");
	/* li's incident.new, as the webhook got it. */
	snprintf(sent, sizeof(sent), "%s", token_of(url_of(1)));
	corefix_deliver_all();

	corefix_restart(10 * MIN);
	assert_int_equal(links_open(sent, fakeclock_now(), &l), 0);
	assert_string_equal(l.person, "li");
	memstore_want_checkpoint();
	fakeclock_turn();
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_restart(MIN);
	assert_int_equal(links_open(sent, fakeclock_now(), &l), 0);
	assert_string_equal(l.incident, id);
	assert_string_equal(l.person, "li");
	assert_int_equal(tap(sent, &changed), 0);
	assert_int_equal(changed, 1);
	inc = incident_find(id);
	assert_string_equal(inc->ack.by, "li");
	ack = corefix_record("incident.acknowledged", id);
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
	corefix_restart(TTL - 11 * MIN - 1);
	assert_int_equal(links_open(sent, fakeclock_now(), &l), 0);
	corefix_restart(1);
	assert_int_equal(links_open(sent, fakeclock_now(), &l), -ETIMEDOUT);
}

/*
 * Every message's link is its reader's own one-tap link while the
 * incident waits for an acknowledgement, and the details link once it
 * does not: nothing after that can be done by a tap.
 */
static void
test_only_acknowledging_is_one_tap(void **state)
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
	/* The officers on duty are told too: they write the report. */
	assert_string_equal(links_sent("incident.escalated", a->id),
	    "zhang:A,li:A,wang:A");
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
	    "zhang:-,li:-,wang:-");
	corefix_deliver_all();
	u = json_pack("{s:s}", "details", "已疏散");
	assert_int_equal(incact_update(a, "county-a", "u2", u, &changed), 0);
	json_decref(u);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.updated", a->id),
	    "zhang:-,li:-,wang:-");
	corefix_deliver_all();

	/* 08:40: overdue; b still waits for its acknowledgement. */
	fakeclock_advance(15 * MIN);
	assert_string_equal(links_sent("incident.report_overdue", a->id),
	    "zhang:-,li:-,wang:-");
	assert_string_equal(links_sent("incident.report_overdue", b->id),
	    "zhang:A,li:A,wang:A");
	corefix_deliver_all();

	assert_int_equal(incact_file_report(a, "zhang", "A应急〔2026〕1号",
	    &changed), 0);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.report_filed", a->id),
	    "zhang:-,li:-,wang:-");
	corefix_deliver_all();
	assert_int_equal(incact_resolve(a, "zhang", NULL, &changed), 0);
	fakeclock_turn();
	assert_string_equal(links_sent("incident.resolved", a->id),
	    "zhang:-,li:-,wang:-");
}

/* A retry sends the same message: the same link. */
static void
test_a_retry_carries_the_same_link(void **state)
{
	struct incident	*inc;
	char		 first[256];

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	snprintf(first, sizeof(first), "%s", url_of(0));
	assert_int_equal(fakefetch_answer(503, "busy", 0), 0);
	assert_int_equal(fakefetch_answer(200, "ok", 0), 1);
	fakeclock_advance(1000);
	assert_int_equal(fakefetch_count(), 3);
	assert_string_equal(links_sent("incident.new", inc->id),
	    "zhang:A,li:A,zhang:A");
	assert_string_equal(url_of(2), first);
}

/* A link sent by dutyd before 0.2 (long, carrying its fields) still works. */
static void
test_a_link_from_before_the_upgrade_still_works(void **state)
{
	unsigned char		 key[32];
	char			 err[256], token[LINKTOKEN_TOKEN_MAX + 1];
	struct incident		*inc;
	struct links_link	 l;
	int			 changed;

	corefix_start(conf);
	inc = corefix_report("county-a", "某镇化工厂爆炸");
	assert_int_equal(store_secret("links.key", key, sizeof(key), err,
	    sizeof(err)), 0);
	assert_int_equal(linktoken_v1_make(key, sizeof(key), inc->id, "wang",
	    'A', COREFIX_T0 + TTL, token, sizeof(token)), 0);
	assert_true(strlen(token) > LINKTOKEN_LEN);
	assert_int_equal(tap(token, &changed), 0);
	assert_int_equal(changed, 1);
	assert_string_equal(inc->ack.by, "wang");
	/* Its resolve links now only say so (onetap.c); the fields still read. */
	assert_int_equal(linktoken_v1_make(key, sizeof(key), inc->id, "wang",
	    'R', COREFIX_T0 + TTL, token, sizeof(token)), 0);
	assert_int_equal(links_open(token, fakeclock_now(), &l), 0);
	assert_int_equal(l.action, 'R');
}

/*
 * Link ids come from a pool refilled 64 at a time: across refills and a
 * shutdown every stub is new and carries its expiry.
 */
static void
test_stubs_are_distinct_across_pool_refills(void **state)
{
	static char	stubs[200][LINKTOKEN_STUB_LEN + 1];
	int64_t		expiry = 1796200020LL * 1000, got;
	int		i, j;

	(void)state;
	for (i = 0; i < 200; i++) {
		if (i == 150)
			links_shutdown();
		assert_int_equal(links_stub(expiry, stubs[i]), 0);
		assert_int_equal(strlen(stubs[i]), LINKTOKEN_STUB_LEN);
		assert_int_equal(linktoken_stub_expiry(stubs[i], &got), 0);
		assert_true(got == expiry);
		for (j = 0; j < i; j++)
			assert_string_not_equal(stubs[i], stubs[j]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stubs_are_distinct_across_pool_refills),
		cmocka_unit_test_teardown(test_a_link_is_short_and_works_until_its_ttl, corefix_teardown),
		cmocka_unit_test_teardown(test_an_altered_link_is_refused, corefix_teardown),
		cmocka_unit_test_teardown(test_a_link_nobody_was_sent_does_nothing, corefix_teardown),
		cmocka_unit_test_teardown(test_links_outlive_a_restart, corefix_teardown),
		cmocka_unit_test_teardown(test_only_acknowledging_is_one_tap, corefix_teardown),
		cmocka_unit_test_teardown(test_a_retry_carries_the_same_link, corefix_teardown),
		cmocka_unit_test_teardown(test_a_link_from_before_the_upgrade_still_works, corefix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
