/*
 * confload(): the documented example loads into the right values, and
 * every mistake is reported at the line and column where the user has to
 * fix it.  Each error test edits one line of BASE (line numbers below) and
 * asserts the complete list of messages, so a spurious extra error fails too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/confload.h"
#include "config/config.h"
#include "config/confval.h"
#include "base/timeutil.h"
#include "base/tz.h"
#include "base/utf8.h"

#include "base/netaddr.h"

#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must be defined (the Makefile does)"
#endif

static const char EXAMPLE[] =
    "listen: \"127.0.0.1:8080\"\n"
    "state_dir: \"./var\"\n"
    "plugin_dir: \"@PLUGIN_DIR@\"\n"
    "public_url: \"http://127.0.0.1:8080\"\n"
    "offices:\n"
    "  - id: county-a\n"
    "    name: \"A县应急管理局\"\n"
    "    token: \"secret-a\"            # bearer token for POST /api/v1/reports\n"
    "people:\n"
    "  - id: zhang\n"
    "    name: \"张伟\"\n"
    "    token: \"secret-zhang\"        # bearer token for staff actions\n"
    "    contacts:\n"
    "      - { channel: hook, to: \"zhang\" }\n"
    "  - { id: li,   name: \"李强\", token: \"secret-li\",   contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "  - { id: wang, name: \"王芳\", token: \"secret-wang\", contacts: [ { channel: hook, to: \"wang\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]              # 24-hour duty officers\n"
    "  leader: li                     # leader on duty (带班领导)\n"
    "  escalation: [wang]             # called when the acknowledgement deadline passes\n"
    "channels:\n"
    "  hook:\n"
    "    plugin: testchan\n"
    "    url: \"http://127.0.0.1:9000/hook\"\n"
    "    secret: \"hmac-secret\"        # optional; signs each body\n"
    "policy:\n"
    "  ack_timeout: 20m\n"
    "  report_deadline: 40m\n";

static const char BASE[] =
    /*  1 */ "listen: \"127.0.0.1:8080\"\n"
    /*  2 */ "state_dir: ./var\n"
    /*  3 */ "plugin_dir: \"@PLUGIN_DIR@\"\n"
    /*  4 */ "public_url: \"http://127.0.0.1:8080/\"\n"
    /*  5 */ "offices:\n"
    /*  6 */ "  - id: county-a\n"
    /*  7 */ "    name: A县应急管理局\n"
    /*  8 */ "    token: office-token-a\n"
    /*  9 */ "people:\n"
    /* 10 */ "  - id: zhang\n"
    /* 11 */ "    name: 张伟\n"
    /* 12 */ "    token: person-token-z\n"
    /* 13 */ "    contacts:\n"
    /* 14 */ "      - { channel: hook, to: zhang }\n"
    /* 15 */ "  - id: li\n"
    /* 16 */ "    name: 李强\n"
    /* 17 */ "    token: person-token-l\n"
    /* 18 */ "    contacts: [ { channel: hook, to: li } ]\n"
    /* 19 */ "duty:\n"
    /* 20 */ "  officers: [zhang]\n"
    /* 21 */ "  leader: li\n"
    /* 22 */ "  escalation: [zhang]\n"
    /* 23 */ "channels:\n"
    /* 24 */ "  hook:\n"
    /* 25 */ "    plugin: testchan\n"
    /* 26 */ "    url: \"http://127.0.0.1:9/hook\"\n"
    /* 27 */ "policy:\n"
    /* 28 */ "  ack_timeout: 20m\n";

#define LAST_LINE	"  ack_timeout: 20m\n"

struct loaded {
	struct config	*cf;
	struct config_diag diag;
	char		 path[64];
};

/* TEXT with the single occurrence of FIND replaced by REPL. */
static char *
edit(const char *text, const char *find, const char *repl)
{
	const char *at = strstr(text, find);
	char *out;

	if (at == NULL || strstr(at + 1, find) != NULL)
		fail_msg("'%s' must occur exactly once in the test config", find);
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, repl,
	    at + strlen(find)) == -1)
		fail_msg("out of memory");
	return out;
}

static void
load(struct loaded *l, const char *text)
{
	char *full = strstr(text, "@PLUGIN_DIR@") == NULL ? strdup(text) :
	    edit(text, "@PLUGIN_DIR@", TEST_PLUGIN_DIR);
	size_t len, off = 0;
	ssize_t n;
	int fd;

	assert_non_null(full);
	len = strlen(full);
	snprintf(l->path, sizeof(l->path), "/tmp/test_config-XXXXXX.yaml");
	fd = mkstemps(l->path, 5);
	assert_true(fd >= 0);
	while (off < len) {
		n = write(fd, full + off, len - off);
		assert_true(n > 0);
		off += n;
	}
	assert_int_equal(close(fd), 0);
	free(full);
	memset(&l->diag, 0, sizeof(l->diag));
	l->cf = confload(l->path, &l->diag);
	unlink(l->path);
}

static void
unload(struct loaded *l)
{
	config_unref(l->cf);
	config_diag_free(&l->diag);
}

static void
print_diag(const struct config_diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		print_message("  diag: %s\n", d->lines[i]);
}

/*
 * The load fails with exactly the messages WANT, each "LINE:COL: message"
 * (the file name is prefixed here); a trailing '*' matches any rest.
 */
static void
expect_diag(const struct loaded *l, const char *const *want, size_t n)
{
	char line[1024];
	size_t i, len;
	int ok;

	if (l->cf != NULL || l->diag.n != n)
		print_diag(&l->diag);
	assert_null(l->cf);
	assert_int_equal(l->diag.n, n);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s:%s", l->path, want[i]);
		len = strlen(line);
		if (len > 0 && line[len - 1] == '*')
			ok = strncmp(l->diag.lines[i], line, len - 1) == 0;
		else
			ok = strcmp(l->diag.lines[i], line) == 0;
		if (!ok) {
			print_diag(&l->diag);
			fail_msg("line %zu: want \"%s\"", i, line);
		}
	}
}

static void
expect_text(const char *text, const char *const *want, size_t n)
{
	struct loaded l;

	load(&l, text);
	expect_diag(&l, want, n);
	unload(&l);
}

static void
expect_edit(const char *find, const char *repl, const char *const *want,
    size_t n)
{
	char *text = edit(BASE, find, repl);

	expect_text(text, want, n);
	free(text);
}

#define WANT(...)	(const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)
#define EXPECT_EDIT(find, repl, ...)	expect_edit(find, repl, WANT(__VA_ARGS__))

static struct config *
load_ok(struct loaded *l, const char *text)
{
	load(l, text);
	if (l->cf == NULL)
		print_diag(&l->diag);
	assert_non_null(l->cf);
	assert_int_equal(l->diag.n, 0);
	return l->cf;
}

static void
test_example_loads(void **state)
{
	struct loaded l;
	struct config *cf = load_ok(&l, EXAMPLE);
	const struct config_person *p;

	assert_int_equal(cf->refs, 1);
	assert_string_equal(cf->path, l.path);
	assert_string_equal(cf->listen, "127.0.0.1:8080");
	assert_string_equal(cf->listen_host, "127.0.0.1");
	assert_int_equal(cf->listen_port, 8080);
	assert_string_equal(cf->state_dir, "./var");
	assert_string_equal(cf->plugin_dir, TEST_PLUGIN_DIR);
	assert_string_equal(cf->public_url, "http://127.0.0.1:8080");
	assert_null(cf->timezone);
	assert_non_null(cf->tz);	/* the system's, loaded */

	assert_int_equal(cf->noffices, 1);
	assert_string_equal(cf->offices[0].id, "county-a");
	assert_string_equal(cf->offices[0].name, "A县应急管理局");
	assert_string_equal(cf->offices[0].token, "secret-a");

	assert_int_equal(cf->npeople, 3);
	p = &cf->people[0];
	assert_string_equal(p->id, "zhang");
	assert_string_equal(p->name, "张伟");
	assert_string_equal(p->token, "secret-zhang");
	assert_int_equal(p->ncontacts, 1);
	assert_string_equal(p->contacts[0].channel, "hook");
	assert_string_equal(p->contacts[0].to, "zhang");
	p = &cf->people[1];
	assert_string_equal(p->id, "li");
	assert_string_equal(p->name, "李强");
	assert_string_equal(p->token, "secret-li");
	assert_int_equal(p->ncontacts, 1);
	assert_string_equal(p->contacts[0].to, "li");
	p = &cf->people[2];
	assert_string_equal(p->id, "wang");
	assert_string_equal(p->name, "王芳");
	assert_string_equal(p->token, "secret-wang");
	assert_string_equal(p->contacts[0].channel, "hook");
	assert_string_equal(p->contacts[0].to, "wang");

	assert_int_equal(cf->duty.nofficers, 1);
	assert_string_equal(cf->duty.officers[0], "zhang");
	assert_string_equal(cf->duty.leader, "li");
	assert_int_equal(cf->duty.nescalation, 1);
	assert_string_equal(cf->duty.escalation[0], "wang");

	assert_int_equal(cf->nchannels, 1);
	assert_string_equal(cf->channels[0].name, "hook");
	assert_string_equal(cf->channels[0].plugin_name, "testchan");
	assert_int_equal(cf->channels[0].timeout_ms, 15 * 1000);
	assert_int_equal(cf->channels[0].connect_timeout_ms, 5 * 1000);
	assert_int_equal(cf->channels[0].bundle_after, 5);
	assert_int_equal(cf->channels[0].max_segments, 3);
	assert_int_equal(cf->policy.fallback_after_ms, 60 * 1000);
	assert_int_equal(cf->policy.nlevels, 0);
	assert_null(cf->roster);
	assert_non_null(cf->channels[0].plugin);
	assert_non_null(cf->channels[0].state);

	assert_int_equal(cf->policy.ack_timeout_ms, 20 * 60 * 1000);
	assert_int_equal(cf->policy.report_deadline_ms, 40 * 60 * 1000);
	assert_int_equal(cf->policy.county_deadline_ms, 20 * 60 * 1000);
	assert_int_equal(cf->policy.retry_initial_ms, 1000);
	assert_int_equal(cf->policy.retry_max_ms, 5 * 60 * 1000);
	assert_int_equal(cf->policy.retry_give_up_ms, 0);	/* never */
	unload(&l);
}

/* The example exactly as documented, with the real webhook plugin. */
static void
test_example_with_webhook(void **state)
{
	struct loaded l;
	char *t1 = edit(EXAMPLE, "@PLUGIN_DIR@", BUILD_PLUGIN_DIR);
	char *t2 = edit(t1, "plugin: testchan", "plugin: webhook");

	load_ok(&l, t2);
	assert_string_equal(l.cf->channels[0].plugin_name, "webhook");
	assert_non_null(l.cf->channels[0].state);
	unload(&l);
	free(t1);
	free(t2);
}

static void
test_values_and_defaults(void **state)
{
	struct loaded l;
	struct config *cf;
	char *t1, *t2, *t3;

	/* BASE itself: no escalation default needed, trailing slash stripped. */
	cf = load_ok(&l, BASE);
	assert_string_equal(cf->public_url, "http://127.0.0.1:8080");
	assert_string_equal(cf->offices[0].name, "A县应急管理局");
	assert_int_equal(cf->duty.nescalation, 1);
	unload(&l);

	t1 = edit(BASE, "\"127.0.0.1:8080\"", "\"[::1]:8443\"");
	t2 = edit(t1, "  escalation: [zhang]\n", "");
	t3 = edit(t2, LAST_LINE, "  ack_timeout: 1h30m\n"
	    "  county_deadline: 15m\n  retry_initial: 500ms\n"
	    "  retry_max: 1m\n  retry_give_up: 2d\n");
	free(t1);
	t1 = edit(t3, "    plugin: testchan\n",
	    "    plugin: testchan\n    timeout: 30s\n");
	free(t2);
	t2 = edit(t1, "8080/\"", "8080///\"");
	/* Valid, with one warning: the written report falls due first. */
	load(&l, t2);
	assert_non_null(cf = l.cf);
	assert_int_equal(l.diag.n, 1);
	assert_non_null(strstr(l.diag.lines[0], ": warning: 'report_deadline' in "
	    "policy (40m) is not after 'ack_timeout' (90m)"));
	/* A warning leaves the config whole: its tokens still authenticate. */
	assert_non_null(config_office_by_token(cf, "office-token-a"));
	assert_non_null(config_person_by_token(cf, "person-token-z"));
	assert_string_equal(cf->listen, "[::1]:8443");
	assert_string_equal(cf->listen_host, "::1");
	assert_int_equal(cf->listen_port, 8443);
	assert_string_equal(cf->public_url, "http://127.0.0.1:8080");
	assert_int_equal(cf->duty.nescalation, 0);
	assert_int_equal(cf->channels[0].timeout_ms, 30 * 1000);
	assert_int_equal(cf->policy.ack_timeout_ms, 90 * 60 * 1000);
	assert_int_equal(cf->policy.report_deadline_ms, 40 * 60 * 1000);
	assert_int_equal(cf->policy.county_deadline_ms, 15 * 60 * 1000);
	assert_int_equal(cf->policy.retry_initial_ms, 500);
	assert_int_equal(cf->policy.retry_max_ms, 60 * 1000);
	assert_int_equal(cf->policy.retry_give_up_ms, 2LL * 24 * 60 * 60 * 1000);
	unload(&l);
	free(t1);
	free(t2);
	free(t3);

	/* "never" is the spelled-out default; other words are still errors. */
	t1 = edit(BASE, LAST_LINE, "  retry_give_up: never\n");
	cf = load_ok(&l, t1);
	assert_int_equal(cf->policy.retry_give_up_ms, 0);
	unload(&l);
	free(t1);

	t1 = edit(BASE, "\"127.0.0.1:8080\"", "\"localhost:80\"");
	cf = load_ok(&l, t1);
	assert_string_equal(cf->listen_host, "localhost");
	assert_int_equal(cf->listen_port, 80);
	unload(&l);
	free(t1);
}

static void
test_timezone(void **state)
{
	struct loaded l;
	struct stat st;
	char *t;

	if (stat("/usr/share/zoneinfo/Asia/Shanghai", &st) == -1) {
		print_message("tzdata is not installed\n");
		skip();
	}
	t = edit(BASE, LAST_LINE, LAST_LINE "timezone: Asia/Shanghai\n");
	load_ok(&l, t);
	assert_string_equal(l.cf->timezone, "Asia/Shanghai");
	assert_string_equal(tz_name(l.cf->tz), "Asia/Shanghai");
	assert_int_equal(tz_offset_ms(l.cf->tz, 0), 8 * 3600 * 1000);
	unload(&l);
	free(t);

	EXPECT_EDIT(LAST_LINE, LAST_LINE "timezone: Mars/Olympus\n",
	    "29:11: unknown time zone 'Mars/Olympus' (there is no file "
	    "/usr/share/zoneinfo/Mars/Olympus); use a name such as "
	    "Asia/Shanghai");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "timezone: Asia/../../../etc/passwd\n",
	    "29:11: time zone 'Asia/../../../etc/passwd' must be a name such "
	    "as Asia/Shanghai, not a path");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "timezone: Asia\n",
	    "29:11: unknown time zone 'Asia' (there is no file "
	    "/usr/share/zoneinfo/Asia); use a name such as Asia/Shanghai");
	/* A POSIX TZ rule, which libc and GLib would take: a name is asked. */
	EXPECT_EDIT(LAST_LINE, LAST_LINE "timezone: CST-8\n",
	    "29:11: unknown time zone 'CST-8' (there is no file "
	    "/usr/share/zoneinfo/CST-8); use a name such as Asia/Shanghai");
	if (stat("/usr/share/zoneinfo/zone.tab", &st) == 0)
		EXPECT_EDIT(LAST_LINE, LAST_LINE "timezone: zone.tab\n",
		    "29:11: cannot use time zone 'zone.tab': "
		    "/usr/share/zoneinfo/zone.tab is not a tz database file; "
		    "use a name such as Asia/Shanghai");
	/* No database at all. */
	setenv("TZDIR", "/nonexistent", 1);
	EXPECT_EDIT(LAST_LINE, LAST_LINE "timezone: Asia/Shanghai\n",
	    "29:11: unknown time zone 'Asia/Shanghai': there is no time zone "
	    "database (/nonexistent); install the tzdata package");
	unsetenv("TZDIR");
}

static void
test_unknown_key(void **state)
{
	EXPECT_EDIT(LAST_LINE, LAST_LINE "timezon: Asia/Shanghai\n",
	    "29:1: unknown key 'timezon'; did you mean 'timezone'?");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "frobnicate: yes\n",
	    "29:1: unknown key 'frobnicate'; known keys are: listen, "
	    "state_dir, plugin_dir, public_url, timezone, offices, people, "
	    "duty, channels, policy, audit, templates, roster, sms, links, "
	    "metrics, limits, tls, console, organization, province, calendar, directives, store");
	/* The one the brief warns about: a typo must not disable escalation. */
	EXPECT_EDIT("  ack_timeout: 20m\n", "  ack_timout: 20m\n",
	    "28:3: unknown key 'ack_timout' in policy; did you mean "
	    "'ack_timeout'?");
	EXPECT_EDIT("  escalation: [zhang]\n", "  escalaton: [zhang]\n",
	    "22:3: unknown key 'escalaton' in duty; did you mean "
	    "'escalation'?");
	EXPECT_EDIT("    name: 张伟\n", "    nmae: 张伟\n",
	    "10:5: missing required key 'name' in person",
	    "11:5: unknown key 'nmae' in person; did you mean 'name'?");
	EXPECT_EDIT("{ channel: hook, to: zhang }", "{ chanel: hook, to: zhang }",
	    "14:9: missing required key 'channel' in contact",
	    "14:11: unknown key 'chanel' in contact; did you mean 'channel'?");
}

static void
test_duplicate_key(void **state)
{
	EXPECT_EDIT(LAST_LINE, LAST_LINE "state_dir: ./other\n",
	    "29:1: duplicate key 'state_dir' (first at line 2)");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "  ack_timeout: 30m\n",
	    "29:3: duplicate key 'ack_timeout' in policy (first at line 28)");
	EXPECT_EDIT("    url: \"http://127.0.0.1:9/hook\"\n",
	    "    url: \"http://127.0.0.1:9/hook\"\n"
	    "    url: \"http://127.0.0.1:9/other\"\n",
	    "27:5: duplicate key 'url' in channel 'hook' (first at line 26)");
	EXPECT_EDIT("channels:\n", "channels:\n  hook: { plugin: testchan, "
	    "url: \"http://127.0.0.1:9/a\" }\n",
	    "25:3: duplicate channel 'hook' (first at line 24)");
}

static void
test_wrong_type(void **state)
{
	EXPECT_EDIT("state_dir: ./var\n", "state_dir: [a, b]\n",
	    "2:12: expected a string for 'state_dir', got a list");
	EXPECT_EDIT("  officers: [zhang]\n", "  officers: zhang\n",
	    "20:13: expected a list for 'officers' in duty, got a string");
	EXPECT_EDIT("  leader: li\n", "  leader: { id: li }\n",
	    "21:11: expected a string for 'leader' in duty, got a mapping");
	EXPECT_EDIT("policy:\n  ack_timeout: 20m\n", "policy: [20m]\n",
	    "27:9: expected a mapping for 'policy', got a list");
	EXPECT_EDIT("    url: \"http://127.0.0.1:9/hook\"\n",
	    "    url: [\"http://127.0.0.1:9/hook\"]\n",
	    "26:10: expected a string for 'url' in channel 'hook', got a list");
	EXPECT_EDIT("  - id: li\n", "  - id:\n",
	    "15:8: 'id' in person is empty",
	    "21:11: unknown person 'li' in duty.leader; people are: zhang");
}

static void
test_missing_required_key(void **state)
{
	EXPECT_EDIT("state_dir: ./var\n", "",
	    "1:1: missing required key 'state_dir'");
	EXPECT_EDIT("    token: office-token-a\n", "",
	    "6:5: missing required key 'token' in office (or token_sha256, "
	    "its SHA-256)");
	EXPECT_EDIT("    plugin: testchan\n", "",
	    "25:5: missing required key 'plugin' in channel 'hook'");
	EXPECT_EDIT("  leader: li\n", "",
	    "20:3: missing required key 'leader' in duty");
}

/* Without plugin_dir, plugins come from where make install put them. */
static void
test_plugin_dir_default(void **state)
{
	char want[512];

	snprintf(want, sizeof(want), "24:13: channel 'hook': cannot load "
	    "channel plugin "
	    "'testchan' from %s/testchan.so: *", DUTYD_PLUGIN_DIR_DEFAULT);
	EXPECT_EDIT("plugin_dir: \"@PLUGIN_DIR@\"\n", "", want);
}

static int
allowed(const struct config *cf, const char *peer)
{
	size_t i;

	for (i = 0; i < cf->metrics.nallow; i++)
		if (netaddr_match(&cf->metrics.allow[i], peer))
			return 1;
	return 0;
}

static void
test_metrics_allow(void **state)
{
	struct loaded	 l;
	struct config	*cf;
	char		*text;

	/* Loopback only, by default. */
	cf = load_ok(&l, BASE);
	assert_true(allowed(cf, "127.0.0.1"));
	assert_true(allowed(cf, "127.9.9.9"));
	assert_true(allowed(cf, "::1"));
	assert_true(allowed(cf, "::ffff:127.0.0.1"));
	assert_false(allowed(cf, "10.0.0.1"));
	assert_false(allowed(cf, "::2"));
	unload(&l);

	text = edit(BASE, LAST_LINE, LAST_LINE "metrics:\n  allow: "
	    "[10.1.0.0/16, \"fd00::/8\", 192.0.2.7]\n");
	cf = load_ok(&l, text);
	free(text);
	assert_true(allowed(cf, "10.1.200.3"));
	assert_false(allowed(cf, "10.2.0.1"));
	assert_true(allowed(cf, "fd12::1"));
	assert_false(allowed(cf, "fe80::1"));
	assert_true(allowed(cf, "192.0.2.7"));
	assert_false(allowed(cf, "192.0.2.8"));
	/* The list written out replaces loopback. */
	assert_false(allowed(cf, "127.0.0.1"));
	unload(&l);

	EXPECT_EDIT(LAST_LINE, LAST_LINE "metrics:\n  allow: [10.0.0.0/33]\n",
	    "30:11: '10.0.0.0/33' in metrics.allow is not an address or "
	    "network: an IPv4 prefix is at most /32");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "metrics:\n  allow: [prometheus.lan]\n",
	    "30:11: 'prometheus.lan' in metrics.allow is not an address or "
	    "network: write an IPv4 or IPv6 address, or a network such as "
	    "10.0.0.0/8 or fd00::/8 (no host names)");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "metrics:\n  allow: [10.1.2.3/8]\n",
	    "30:11: '10.1.2.3/8' in metrics.allow is not an address or "
	    "network: the address has bits set past its prefix length "
	    "(write the network's first address, e.g. 10.0.0.0/8)");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "metrics:\n  alow: []\n",
	    "30:3: unknown key 'alow' in metrics; did you mean 'allow'?");
}

static void
test_bad_listen(void **state)
{
	static const struct {
		const char *value, *why;
	} bad[] = {
		{ "127.0.0.1", "no port; write host:port, e.g. 127.0.0.1:8080" },
		{ "127.0.0.1:0", "the port must be a number from 1 to 65535" },
		{ "127.0.0.1:65536", "the port must be a number from 1 to 65535" },
		{ "127.0.0.1:80x", "the port must be a number from 1 to 65535" },
		{ "127.0.0.1:", "the port must be a number from 1 to 65535" },
		{ "::1:8080", "write an IPv6 address in brackets, e.g. [::1]:8080" },
		{ "[::1]8080", "write an IPv6 address as [address]:port, "
		    "e.g. [::1]:8080" },
		{ "[::g]:80", "not an IPv6 address" },
		{ "300.1.1.1:80", "the host is neither an IPv4 address nor a "
		    "host name" },
		{ "bad_host:80", "the host is neither an IPv4 address nor a "
		    "host name" },
		{ ":8080", "no host; use 0.0.0.0:PORT to listen on every address" },
	};
	char repl[64], want[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(repl, sizeof(repl), "\"%s\"", bad[i].value);
		snprintf(want, sizeof(want), "1:9: invalid listen address '%s': "
		    "%s", bad[i].value, bad[i].why);
		EXPECT_EDIT("\"127.0.0.1:8080\"", repl, want);
	}
}

static void
test_bad_public_url(void **state)
{
	EXPECT_EDIT("\"http://127.0.0.1:8080/\"", "\"ftp://127.0.0.1/\"",
	    "4:13: 'public_url' must start with http:// or https://, e.g. "
	    "\"https://duty.example.gov.cn\"");
	EXPECT_EDIT("\"http://127.0.0.1:8080/\"", "\"https:///\"",
	    "4:13: 'public_url' has no host");
}

#define URL_SCHEME_WHY	"must start with http:// or https://, e.g. " \
	"\"https://duty.example.gov.cn\""
#define URL_LOGIN_WHY	"must not hold a user name or password: every " \
	"link in a message would carry it; write e.g. " \
	"\"https://duty.example.gov.cn\""
#define URL_PORT_WHY	"has an invalid port; use a number from 1 to " \
	"65535, e.g. \"https://duty.example.gov.cn:8443\""

/* What curl's parser finds wrong, said as the config file is written. */
static void
test_public_url_checked_by_curl(void **state)
{
	static const struct {
		const char	*value;
		const char	*why;
	} bad[] = {
		{ "duty.example.gov.cn", URL_SCHEME_WHY },
		{ "HTTPS://duty.example.gov.cn", URL_SCHEME_WHY },
		{ "http:/127.0.0.1:8080", URL_SCHEME_WHY },	/* curl takes it */
		{ "mailto:duty@example.gov.cn", URL_SCHEME_WHY },
		{ "https:///duty", "has no host" },		/* curl: host "duty" */
		{ "https://:8443/", "has no host" },
		{ "https://duty:secret@duty.example.gov.cn", URL_LOGIN_WHY },
		{ "https://admin@duty.example.gov.cn", URL_LOGIN_WHY },
		{ "https://@duty.example.gov.cn", URL_LOGIN_WHY },
		{ "https://duty.example.gov.cn:0", URL_PORT_WHY },
		{ "https://duty.example.gov.cn:65536/", URL_PORT_WHY },
		{ "https://duty.example.gov.cn:https", URL_PORT_WHY },
		{ "https://[2001:db8::1/", "has an invalid host name or address, "
		    "e.g. \"https://duty.example.gov.cn\" or "
		    "\"http://[2001:db8::1]:8080\"" },
		{ "https://duty example.gov.cn",
		    "contains whitespace or control characters" },
		{ "https://duty.example.gov.cn/a b",
		    "contains whitespace or control characters" },
	};
	static const struct {
		const char	*value;
		const char	*stored;
	} good[] = {
		{ "https://duty.example.gov.cn", "https://duty.example.gov.cn" },
		{ "https://duty.example.gov.cn:8443//", "https://duty.example.gov.cn:8443" },
		{ "http://[2001:db8::1]:8080/dutyd/", "http://[2001:db8::1]:8080/dutyd" },
		{ "https://Duty.Example.gov.cn:443", "https://Duty.Example.gov.cn:443" },
	};
	struct loaded	 l;
	struct config	*cf;
	char		 repl[256], want[512], *text;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(repl, sizeof(repl), "\"%s\"", bad[i].value);
		snprintf(want, sizeof(want), "4:13: 'public_url' %s", bad[i].why);
		EXPECT_EDIT("\"http://127.0.0.1:8080/\"", repl, want);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(repl, sizeof(repl), "\"%s\"", good[i].value);
		text = edit(BASE, "\"http://127.0.0.1:8080/\"", repl);
		cf = load_ok(&l, text);
		/* As written, not as curl would write it: Twilio signs it so. */
		assert_string_equal(cf->public_url, good[i].stored);
		unload(&l);
		free(text);
	}
}

static void
test_bad_duration(void **state)
{
	const char *why = NULL;
	int64_t ms;
	char want[512];

	/* The message must carry duration_parse()'s own explanation. */
	assert_true(duration_parse("20x", &ms, &why) < 0);
	assert_non_null(why);
	snprintf(want, sizeof(want), "28:16: invalid duration '20x' for "
	    "'ack_timeout' in policy: %s", why);
	EXPECT_EDIT(LAST_LINE, "  ack_timeout: 20x\n", want);

	why = NULL;
	assert_true(duration_parse("20", &ms, &why) < 0);
	assert_non_null(why);
	snprintf(want, sizeof(want), "28:16: invalid duration '20' for "
	    "'ack_timeout' in policy: %s", why);
	EXPECT_EDIT(LAST_LINE, "  ack_timeout: 20\n", want);

	EXPECT_EDIT(LAST_LINE, "  ack_timeout: 0s\n",
	    "28:16: 'ack_timeout' in policy must be longer than zero");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "  retry_initial: 10m\n",
	    "29:18: 'retry_initial' in policy must not be longer than "
	    "'retry_max'");
	EXPECT_EDIT("    plugin: testchan\n",
	    "    plugin: testchan\n    timeout: 10m\n",
	    "26:14: 'timeout' in channel 'hook' must be from 1s to 5m");
}

#define KIB	((int64_t)1024)
#define MIB	(1024 * KIB)
#define GIB	(1024 * MIB)
#define DAY_MS	((int64_t)24 * 60 * 60 * 1000)

static void
test_audit_values(void **state)
{
	struct loaded l;
	struct config *cf;
	char *t;

	/* Absent: the documented defaults. */
	cf = load_ok(&l, EXAMPLE);
	assert_int_equal(cf->audit.segment_size, 64 * MIB);
	assert_int_equal(cf->audit.retention_ms, 30 * DAY_MS);
	assert_int_equal(cf->audit.reserve, 8 * MIB);
	unload(&l);

	/* Present but empty of keys: still the defaults. */
	t = edit(BASE, LAST_LINE, LAST_LINE "audit: {}\n");
	cf = load_ok(&l, t);
	assert_int_equal(cf->audit.segment_size, 64 * MIB);
	assert_int_equal(cf->audit.retention_ms, 30 * DAY_MS);
	assert_int_equal(cf->audit.reserve, 8 * MIB);
	unload(&l);
	free(t);

	/* All three, at the low ends; a bare 0 turns the reserve off. */
	t = edit(BASE, LAST_LINE, LAST_LINE "audit:\n  segment_size: 4KiB\n"
	    "  retention: 7d\n  reserve: 0\n");
	cf = load_ok(&l, t);
	assert_int_equal(cf->audit.segment_size, 4096);
	assert_int_equal(cf->audit.retention_ms, 7 * DAY_MS);
	assert_int_equal(cf->audit.reserve, 0);
	unload(&l);
	free(t);

	/* The high ends are allowed too, and the order does not matter. */
	t = edit(BASE, LAST_LINE, LAST_LINE "audit:\n  reserve: 1GiB\n"
	    "  retention: 1h30m\n  segment_size: 16GiB\n");
	cf = load_ok(&l, t);
	assert_int_equal(cf->audit.segment_size, 16 * GIB);
	assert_int_equal(cf->audit.retention_ms, 90 * 60 * 1000);
	assert_int_equal(cf->audit.reserve, GIB);
	unload(&l);
	free(t);

	t = edit(BASE, LAST_LINE, LAST_LINE "audit:\n  segment_size: 4096B\n"
	    "  reserve: 0B\n");
	cf = load_ok(&l, t);
	assert_int_equal(cf->audit.segment_size, 4096);
	assert_int_equal(cf->audit.retention_ms, 30 * DAY_MS);
	assert_int_equal(cf->audit.reserve, 0);
	unload(&l);
	free(t);
}

/* Lines 29 on are the audit section appended after BASE's last line. */
#define AUDIT(lines)	LAST_LINE "audit:\n" lines

static void
test_audit_errors(void **state)
{
	const char *why = NULL;
	int64_t ms;
	char want[512], want31[512];

	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_sise: 1MiB\n"),
	    "30:3: unknown key 'segment_sise' in audit; did you mean "
	    "'segment_size'?");
	EXPECT_EDIT(LAST_LINE, AUDIT("  retension: 30d\n"),
	    "30:3: unknown key 'retension' in audit; did you mean "
	    "'retention'?");
	EXPECT_EDIT(LAST_LINE, AUDIT("  compress: yes\n"),
	    "30:3: unknown key 'compress' in audit; known keys are: "
	    "segment_size, retention, reserve");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "audti:\n  reserve: 0\n",
	    "29:1: unknown key 'audti'; did you mean 'audit'?");
	EXPECT_EDIT(LAST_LINE, AUDIT("  reserve: 1MiB\n  reserve: 2MiB\n"),
	    "31:3: duplicate key 'reserve' in audit (first at line 30)");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "audit: [64MiB]\n",
	    "29:8: expected a mapping for 'audit', got a list");
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: [64MiB]\n"),
	    "30:17: expected a string for 'segment_size' in audit, got a list");

	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 64XB\n"),
	    "30:17: invalid size '64XB' for 'segment_size' in audit: unknown "
	    "unit; use B, KiB, MiB or GiB, e.g. 64MiB");
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 67108864\n"),
	    "30:17: invalid size '67108864' for 'segment_size' in audit: a "
	    "size needs a unit: B, KiB, MiB or GiB, e.g. 64MiB");
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 64KB\n"),
	    "30:17: invalid size '64KB' for 'segment_size' in audit: use KiB "
	    "(1 KiB = 1024 bytes)");
	EXPECT_EDIT(LAST_LINE, AUDIT("  reserve: 8MB\n"),
	    "30:12: invalid size '8MB' for 'reserve' in audit: use MiB "
	    "(1 MiB = 1048576 bytes)");

	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 4095B\n"),
	    "30:17: 'segment_size' in audit must be from 4KiB to 16GiB");
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 0\n"),
	    "30:17: 'segment_size' in audit must be from 4KiB to 16GiB");
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 16385MiB\n"),
	    "30:17: 'segment_size' in audit must be from 4KiB to 16GiB");
	/* Too large to count is out of range, not a spelling mistake. */
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 99999999999999GiB\n"),
	    "30:17: 'segment_size' in audit must be from 4KiB to 16GiB");
	EXPECT_EDIT(LAST_LINE, AUDIT("  reserve: 1025MiB\n"),
	    "30:12: 'reserve' in audit must be at most 1GiB (0 keeps no "
	    "reserve)");

	/* The message carries duration_parse()'s own explanation. */
	assert_true(duration_parse("30", &ms, &why) < 0);
	assert_non_null(why);
	snprintf(want, sizeof(want), "30:14: invalid duration '30' for "
	    "'retention' in audit: %s", why);
	EXPECT_EDIT(LAST_LINE, AUDIT("  retention: 30\n"), want);
	EXPECT_EDIT(LAST_LINE, AUDIT("  retention: 0d\n"),
	    "30:14: 'retention' in audit must be longer than zero");

	/* Every mistake in the section at once, in file order. */
	snprintf(want31, sizeof(want31), "31:14: invalid duration '30' for "
	    "'retention' in audit: %s", why);
	EXPECT_EDIT(LAST_LINE, AUDIT("  segment_size: 1KiB\n"
	    "  retention: 30\n  reserve: 2GB\n  spare: 1\n"),
	    "30:17: 'segment_size' in audit must be from 4KiB to 16GiB",
	    want31,
	    "32:12: invalid size '2GB' for 'reserve' in audit: use GiB "
	    "(1 GiB = 1073741824 bytes)",
	    "33:3: unknown key 'spare' in audit; known keys are: "
	    "segment_size, retention, reserve");
}

static void
test_confval_size(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 bytes;
	} good[] = {
		{ "0", 0 },
		{ "0B", 0 },
		{ "0GiB", 0 },
		{ "1B", 1 },
		{ "4096B", 4096 },
		{ "1KiB", KIB },
		{ "4KiB", 4 * KIB },
		{ "64MiB", 64 * MIB },
		{ "1GiB", GIB },
		{ "16GiB", 16 * GIB },
		{ "0064MiB", 64 * MIB },
		{ "9223372036854775807B", INT64_MAX },
		{ "8589934591GiB", 8589934591LL * GIB },
	};
	static const char unit[] = "a size needs a unit: B, KiB, MiB or GiB, "
	    "e.g. 64MiB";
	static const char what[] = "a size is a whole number followed by B, "
	    "KiB, MiB or GiB, e.g. 64MiB";
	static const char unknown[] = "unknown unit; use B, KiB, MiB or GiB, "
	    "e.g. 64MiB";
	static const char k[] = "use KiB (1 KiB = 1024 bytes)";
	static const char m[] = "use MiB (1 MiB = 1048576 bytes)";
	static const char g[] = "use GiB (1 GiB = 1073741824 bytes)";
	static const struct {
		const char	*s;
		int		 rc;
		const char	*why;
	} bad[] = {
		{ "64", -EINVAL, unit },
		{ "1", -EINVAL, unit },
		{ "4096", -EINVAL, unit },
		{ "", -EINVAL, what },
		{ "MiB", -EINVAL, what },
		{ "-1MiB", -EINVAL, what },
		{ "+1MiB", -EINVAL, what },
		{ " 64MiB", -EINVAL, what },
		{ "1.5GiB", -EINVAL, "a size must be a whole number; use a "
		    "smaller unit, e.g. 1536MiB rather than 1.5GiB" },
		{ "64 MiB", -EINVAL, "write the unit right after the number, "
		    "without a space, e.g. 64MiB" },
		{ "64KB", -EINVAL, k }, { "64kB", -EINVAL, k },
		{ "64kb", -EINVAL, k }, { "64K", -EINVAL, k },
		{ "64k", -EINVAL, k }, { "64kib", -EINVAL, k },
		{ "64KIB", -EINVAL, k },
		{ "64MB", -EINVAL, m }, { "64mb", -EINVAL, m },
		{ "64M", -EINVAL, m }, { "64m", -EINVAL, m },
		{ "64mib", -EINVAL, m }, { "64Mib", -EINVAL, m },
		{ "1GB", -EINVAL, g }, { "1gb", -EINVAL, g },
		{ "1G", -EINVAL, g }, { "1gib", -EINVAL, g },
		{ "64b", -EINVAL, "use B for bytes, e.g. 4096B" },
		{ "64bytes", -EINVAL, "use B for bytes, e.g. 4096B" },
		{ "1TiB", -EINVAL, unknown },
		{ "64MiBs", -EINVAL, unknown },
		{ "64MiB ", -EINVAL, unknown },
		{ "0x40MiB", -EINVAL, unknown },
		{ "64MiB64", -EINVAL, unknown },
		{ "9223372036854775808B", -ERANGE, "too large" },
		{ "99999999999999999999", -ERANGE, "too large" },
		{ "8589934592GiB", -ERANGE, "too large" },
		{ "9007199254740992KiB", -ERANGE, "too large" },
	};
	const char *why;
	int64_t bytes;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = "unset";
		bytes = -1;
		if (confval_size(good[i].s, &bytes, &why) != 0)
			fail_msg("'%s' rejected: %s", good[i].s,
			    why ? why : "(no reason)");
		assert_null(why);
		if (bytes != good[i].bytes)
			fail_msg("'%s' is %lld bytes, want %lld", good[i].s,
			    (long long)bytes, (long long)good[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (confval_size(bad[i].s, &bytes, &why) != bad[i].rc)
			fail_msg("'%s' not rejected with %d", bad[i].s,
			    bad[i].rc);
		if (why == NULL || strcmp(why, bad[i].why) != 0)
			fail_msg("'%s': why is \"%s\", want \"%s\"", bad[i].s,
			    why ? why : "(null)", bad[i].why);
	}
}

static void
test_unknown_person_in_duty(void **state)
{
	EXPECT_EDIT("  leader: li\n", "  leader: liu\n",
	    "21:11: unknown person 'liu' in duty.leader; people are: zhang, li");
	EXPECT_EDIT("  officers: [zhang]\n", "  officers: [zhang, wang]\n",
	    "20:21: unknown person 'wang' in duty.officers; people are: "
	    "zhang, li");
	EXPECT_EDIT("  officers: [zhang]\n", "  officers: [zhang, zhang]\n",
	    "20:21: person 'zhang' is listed twice in duty.officers");
	EXPECT_EDIT("  officers: [zhang]\n", "  officers: []\n",
	    "20:13: 'officers' in duty is empty; name at least one person");
}

static void
test_no_contacts(void **state)
{
	struct loaded l;
	char *t;

	EXPECT_EDIT("    contacts: [ { channel: hook, to: li } ]\n",
	    "    contacts: []\n",
	    "21:11: person 'li' has no contacts, so nobody could reach them; "
	    "they are in duty.leader");
	/* Reported once per person, at the first duty entry naming them. */
	EXPECT_EDIT("    contacts:\n      - { channel: hook, to: zhang }\n",
	    "    contacts: []\n",
	    "19:14: person 'zhang' has no contacts, so nobody could reach "
	    "them; they are in duty.officers");

	/* Off duty, no contacts is fine. */
	t = edit(BASE, "    contacts: [ { channel: hook, to: li } ]\n",
	    "    contacts: [ { channel: hook, to: li } ]\n"
	    "  - { id: wang, name: 王芳, token: person-token-w }\n");
	load_ok(&l, t);
	assert_int_equal(l.cf->npeople, 3);
	assert_int_equal(l.cf->people[2].ncontacts, 0);
	unload(&l);
	free(t);
}

static void
test_unknown_channel_in_contact(void **state)
{
	EXPECT_EDIT("{ channel: hook, to: zhang }", "{ channel: sms, to: zhang }",
	    "14:20: unknown channel 'sms' in contact; channels are: hook");
	EXPECT_EDIT("channels:\n  hook:\n    plugin: testchan\n"
	    "    url: \"http://127.0.0.1:9/hook\"\n", "",
	    "14:20: unknown channel 'hook' in contact; no channels are "
	    "configured (add them under 'channels')",
	    "18:28: unknown channel 'hook' in contact; no channels are "
	    "configured (add them under 'channels')");
}

static void
test_duplicate_id(void **state)
{
	EXPECT_EDIT("  - id: li\n", "  - id: zhang\n",
	    "15:9: duplicate person id 'zhang' (first at line 10)",
	    "21:11: unknown person 'li' in duty.leader; people are: zhang");
	EXPECT_EDIT("    token: office-token-a\n", "    token: office-token-a\n"
	    "  - { id: county-a, name: B县, token: office-token-b }\n",
	    "9:11: duplicate office id 'county-a' (first at line 6)");
	EXPECT_EDIT("  - id: li\n", "  - id: \"li li\"\n",
	    "15:9: invalid person id 'li li': use 1 to 64 of the characters "
	    "A-Z a-z 0-9 _ . -",
	    "21:11: unknown person 'li' in duty.leader; people are: zhang");
}

static void
test_duplicate_token(void **state)
{
	EXPECT_EDIT("    token: person-token-l\n", "    token: office-token-a\n",
	    "17:12: token of person 'li' is already the token of office "
	    "'county-a' (line 8); give every office and person its own token");
	EXPECT_EDIT("    token: person-token-l\n", "    token: person-token-z\n",
	    "17:12: token of person 'li' is already the token of person "
	    "'zhang' (line 12); give every office and person its own token");
}

static void
test_bad_token(void **state)
{
	EXPECT_EDIT("    token: office-token-a\n", "    token: short\n",
	    "8:12: token of office 'county-a' is too short (5 bytes); use at "
	    "least 8, e.g. the output of `openssl rand -hex 16`");
	EXPECT_EDIT("    token: office-token-a\n", "    token: \"has a space\"\n",
	    "8:12: token of office 'county-a' contains whitespace or control "
	    "characters");
}

static void
test_name_length(void **state)
{
	struct loaded l;
	char repl[512], *t;
	int i;

	/* 100 code points (300 bytes) is the limit, not 100 bytes. */
	strcpy(repl, "    name: ");
	for (i = 0; i < 100; i++)
		strcat(repl, "张");
	strcat(repl, "\n");
	t = edit(BASE, "    name: 张伟\n", repl);
	load_ok(&l, t);
	assert_int_equal(utf8_length(l.cf->people[0].name), 100);
	unload(&l);
	free(t);

	repl[strlen(repl) - 1] = '\0';
	strcat(repl, "张\n");
	EXPECT_EDIT("    name: 张伟\n", repl,
	    "11:11: name of person 'zhang' is too long (101 characters); "
	    "at most 100");
}

static void
test_plugin_not_found(void **state)
{
	/* The loader's own message follows; contacts of 'hook' stay quiet. */
	EXPECT_EDIT("    plugin: testchan\n", "    plugin: nosuch\n",
	    "25:13: channel 'hook': cannot load channel plugin 'nosuch' from "
	    TEST_PLUGIN_DIR "/nosuch.so: *");
	EXPECT_EDIT("    plugin: testchan\n", "    plugin: Test/Chan\n",
	    "25:13: invalid plugin name 'Test/Chan': use the characters "
	    "a-z 0-9 _ -");
}

static void
test_plugin_option_error(void **state)
{
	EXPECT_EDIT("    url: \"http://127.0.0.1:9/hook\"\n",
	    "    url: \"http://127.0.0.1:9/hook\"\n    token: abc\n",
	    "27:5: channel 'hook': unknown option 'token' for channel plugin "
	    "testchan");
	EXPECT_EDIT("\"http://127.0.0.1:9/hook\"", "\"ftp://127.0.0.1/hook\"",
	    "26:5: channel 'hook': url must start with http://");
	/* No option to blame: the channel's own key. */
	EXPECT_EDIT("    url: \"http://127.0.0.1:9/hook\"\n", "",
	    "24:3: channel 'hook': channel plugin testchan needs option 'url'");
	/* timeout is the daemon's: the plugin never sees it. */
	EXPECT_EDIT("    plugin: testchan\n", "    plugin: testchan\n"
	    "    timeout: 5s\n    bogus: 1\n",
	    "27:5: channel 'hook': unknown option 'bogus' for channel plugin "
	    "testchan");
}

static void
test_yaml_syntax_error(void **state)
{
	EXPECT_EDIT("  leader: li\n", "  leader: li: x\n",
	    "21:13: YAML syntax error: mapping values are not allowed in this "
	    "context");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "extra: [a, b\n",
	    "30:1: YAML syntax error: did not find expected ',' or ']' (while "
	    "parsing a flow sequence at line 29, column 8)");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "x: \"\xff\"\n",
	    "29:5: the file is not valid UTF-8 (invalid leading UTF-8 octet); "
	    "save it as UTF-8");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "---\nlisten: x\n",
	    "29:1: a second YAML document; the file must hold exactly one "
	    "(remove this '---')");
}

static void
test_multiple_errors(void **state)
{
	char *t1, *t2, *t3;

	t1 = edit(BASE, "\"127.0.0.1:8080\"", "\"127.0.0.1\"");
	t2 = edit(t1, "    token: office-token-a\n", "    token: short\n");
	t3 = edit(t2, "  leader: li\n", "  leader: liu\n");
	free(t1);
	t1 = edit(t3, LAST_LINE, "  ack_timout: 20m\n");
	expect_text(t1, WANT(
	    "1:9: invalid listen address '127.0.0.1': no port; write "
	    "host:port, e.g. 127.0.0.1:8080",
	    "8:12: token of office 'county-a' is too short (5 bytes); use at "
	    "least 8, e.g. the output of `openssl rand -hex 16`",
	    "21:11: unknown person 'liu' in duty.leader; people are: zhang, li",
	    "28:3: unknown key 'ack_timout' in policy; did you mean "
	    "'ack_timeout'?"));
	free(t1);
	free(t2);
	free(t3);
}

static void
test_whole_file(void **state)
{
	struct config_diag d = { NULL, 0 };
	char want[512];

	assert_null(confload("/nonexistent-dutyd-dir/dutyd.yaml", &d));
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "/nonexistent-dutyd-dir/dutyd.yaml: "
	    "cannot open: %s", strerror(ENOENT));
	assert_string_equal(d.lines[0], want);
	config_diag_free(&d);
	assert_int_equal(d.n, 0);

	assert_null(confload("/", &d));
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "/: cannot read: %s", strerror(EISDIR));
	assert_string_equal(d.lines[0], want);
	config_diag_free(&d);

	expect_text("# nothing here\njust words\n", WANT(
	    "2:1: expected a mapping for the whole file (listen:, state_dir:, "
	    "...), got a string"));
	expect_text("", WANT(
	    "1:1: the file holds no settings; expected listen:, state_dir:, "
	    "plugin_dir:, public_url:, offices:, people:, duty: and "
	    "channels:"));
	expect_text("- listen\n", WANT(
	    "1:1: expected a mapping for the whole file (listen:, state_dir:, "
	    "...), got a list"));
}

static void
test_refcount(void **state)
{
	struct loaded l;
	struct config *cf = load_ok(&l, BASE);

	assert_int_equal(cf->refs, 1);
	assert_ptr_equal(config_ref(cf), cf);
	assert_int_equal(cf->refs, 2);
	config_unref(cf);
	assert_int_equal(cf->refs, 1);
	assert_string_equal(cf->listen, "127.0.0.1:8080");
	/* The last reference (in unload) frees it all; ASan checks leaks. */
	unload(&l);
	config_unref(NULL);
}

static void
test_lookups(void **state)
{
	static const char *const tokens[] = { "secret-a", "secret-wang",
	    "secret-zhang", "secret-", "", NULL, "secret-li", "SECRET-LI" };
	const struct config_office *o;
	const struct config_person *p;
	struct loaded l;
	struct config *cf = load_ok(&l, EXAMPLE);
	size_t i;

	assert_ptr_equal(config_office(cf, "county-a"), &cf->offices[0]);
	assert_null(config_office(cf, "county-b"));
	assert_null(config_office(cf, NULL));
	assert_ptr_equal(config_person(cf, "li"), &cf->people[1]);
	assert_null(config_person(cf, "liu"));
	assert_ptr_equal(config_channel(cf, "hook"), &cf->channels[0]);
	assert_null(config_channel(cf, "sms"));

	assert_ptr_equal(config_office_by_token(cf, "secret-a"),
	    &cf->offices[0]);
	assert_ptr_equal(config_person_by_token(cf, "secret-wang"),
	    &cf->people[2]);
	assert_ptr_equal(config_person_by_token(cf, "secret-zhang"),
	    &cf->people[0]);
	/* Prefixes, extensions and the other kind's tokens never match. */
	assert_null(config_office_by_token(cf, "secret-"));
	assert_null(config_office_by_token(cf, "secret-aa"));
	assert_null(config_office_by_token(cf, ""));
	assert_null(config_office_by_token(cf, NULL));
	assert_null(config_person_by_token(cf, "secret-a"));
	assert_null(config_office_by_token(cf, "secret-li"));
	assert_null(config_person_by_token(cf, "SECRET-LI"));
	/* Both from one digest: what the two lookups say, for any token. */
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		config_by_token(cf, tokens[i], &o, &p);
		assert_ptr_equal(o, config_office_by_token(cf, tokens[i]));
		assert_ptr_equal(p, config_person_by_token(cf, tokens[i]));
	}
	config_by_token(cf, "secret-a", &o, &p);
	assert_ptr_equal(o, &cf->offices[0]);
	config_by_token(cf, "secret-wang", &o, &p);
	assert_ptr_equal(p, &cf->people[2]);
	unload(&l);
}

#define HOOK_URL	"    url: \"http://127.0.0.1:9/hook\"\n"
#define HOOK(lines)	HOOK_URL lines

/* Daemon-side channel options, and what is left goes to the plugin. */
static void
test_channel_options(void **state)
{
	struct loaded l;
	char *text = edit(BASE, HOOK_URL, HOOK("    timeout: 3s\n"
	    "    connect_timeout: 500ms\n    rate_limit: 2/5s\n"
	    "    bundle_after: 3\n    max_segments: 2\n"));
	struct config *cf = load_ok(&l, text);

	assert_int_equal(cf->channels[0].timeout_ms, 3000);
	assert_int_equal(cf->channels[0].connect_timeout_ms, 500);
	assert_int_equal(cf->channels[0].rate_count, 2);
	assert_int_equal(cf->channels[0].rate_period_ms, 5000);
	assert_int_equal(cf->channels[0].bundle_after, 3);
	assert_int_equal(cf->channels[0].max_segments, 2);
	unload(&l);
	free(text);

	text = edit(BASE, HOOK_URL, HOOK("    rate_limit: 20/min\n"));
	cf = load_ok(&l, text);
	assert_int_equal(cf->channels[0].rate_count, 20);
	assert_int_equal(cf->channels[0].rate_period_ms, 60 * 1000);
	unload(&l);
	free(text);

	EXPECT_EDIT(HOOK_URL, HOOK("    rate_limit: 20/minute\n"),
	    "27:17: invalid 'rate_limit' in channel 'hook' '20/minute': the "
	    "period after / must be s, min, h or a duration such as 5s or 10m "
	    "(20/min, 2/5s)");
	EXPECT_EDIT(HOOK_URL, HOOK("    rate_limit: fast\n"),
	    "27:17: invalid 'rate_limit' in channel 'hook' 'fast': write "
	    "COUNT/PERIOD such as 20/min or 2/5s (COUNT from 1 to 10000), or none");
	EXPECT_EDIT(HOOK_URL, HOOK("    bundle_after: 1\n"),
	    "27:19: 'bundle_after' in channel 'hook' must be a whole number "
	    "from 2 to 100, not '1'");
	EXPECT_EDIT(HOOK_URL, HOOK("    max_segments: 0\n"),
	    "27:19: 'max_segments' in channel 'hook' must be a whole number "
	    "from 1 to 10, not '0'");
	EXPECT_EDIT(HOOK_URL, HOOK("    connect_timeout: 10m\n"),
	    "27:22: 'connect_timeout' in channel 'hook' must be from 100ms to 5m");
}

/* A typo in a placeholder is an error where it was made, not a blank SMS. */
static void
test_templates(void **state)
{
	struct loaded l;
	char *text = edit(BASE, LAST_LINE, LAST_LINE "templates:\n"
	    "  incident.new: \"新事件 {title} {link}\"\n"
	    "  incident.new.title: \"{office}\"\n");
	struct config *cf = load_ok(&l, text);

	assert_int_equal(cf->templates.n, 2);
	assert_non_null(config_template(cf, NULL, "incident.new"));
	assert_non_null(config_template(cf, NULL, "incident.new.title"));
	assert_null(config_template(cf, NULL, "incident.resolved"));
	unload(&l);
	free(text);

	EXPECT_EDIT(LAST_LINE, LAST_LINE "templates:\n"
	    "  incident.new: \"【突发】{titel}\"\n",
	    "30:17: template 'incident.new', at character 5: unknown "
	    "placeholder {titel}*");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "templates:\n"
	    "  incident.nwe: \"x\"\n",
	    "30:3: unknown template 'incident.nwe'; known: incident.new*");
	EXPECT_EDIT(HOOK_URL, HOOK("    templates:\n"
	    "      incident.resolved: \"{actor\"\n"),
	    "28:26: template 'incident.resolved' in channel 'hook', at "
	    "character 1: *");
}

/* Levels beyond the leader: each with its delay, people known. */
static void
test_escalation_levels(void **state)
{
	struct loaded l;
	char *text = edit(BASE, LAST_LINE, LAST_LINE "  escalation:\n"
	    "    - { after: 10m, notify: [zhang] }\n"
	    "    - { after: 5m, notify: leader }\n");
	struct config *cf = load_ok(&l, text);

	assert_int_equal(cf->policy.nlevels, 2);
	assert_int_equal(cf->policy.levels[0].after_ms, 10 * 60 * 1000);
	assert_string_equal(cf->policy.levels[0].notify[0], "zhang");
	assert_int_equal(cf->policy.levels[1].nnotify, 1);
	assert_string_equal(cf->policy.levels[1].notify[0], "leader");
	unload(&l);
	free(text);

	EXPECT_EDIT(LAST_LINE, LAST_LINE "  escalation:\n"
	    "    - { after: 10m, notify: [zhao] }\n",
	    "30:30: unknown person 'zhao' in 'notify' in escalation level 2; "
	    "use an id from people, leader (the leader on duty) or officers "
	    "(the duty officers on duty)");
	/* The roles: whoever is on duty when the level fires. */
	text = edit(BASE, LAST_LINE, LAST_LINE "  escalation:\n"
	    "    - { after: 10m, notify: [officers, leader] }\n");
	cf = load_ok(&l, text);
	assert_string_equal(cf->policy.levels[0].notify[0], "officers");
	assert_string_equal(cf->policy.levels[0].notify[1], "leader");
	unload(&l);
	free(text);
	EXPECT_EDIT(LAST_LINE, LAST_LINE "  escalation:\n"
	    "    - { notify: [zhang] }\n",
	    "30:7: missing required key 'after' in escalation level 2");
}

/*
 * An entry whose id is invalid stays in the list without one: every check
 * that looks people up must skip it, not crash (dutyd -t, and SIGHUP in a
 * running dutyd, went down with a segfault).
 */
static void
test_invalid_id_with_escalation_levels(void **state)
{
	char *text = edit(BASE, LAST_LINE, LAST_LINE "  escalation:\n"
	    "    - { after: 10m, notify: [li] }\n");
	char *bad = edit(text, "  - id: zhang\n", "  - id: \"bad id\"\n");
	const char *const want[] = {
		"10:9: invalid person id 'bad id': *",
		"20:14: unknown person 'zhang' in duty.officers; *",
		"22:16: unknown person 'zhang' in duty.escalation; *",
	};

	expect_text(bad, want, 3);
	free(bad);
	free(text);
}

/* The same with a roster, and a person without contacts nor a valid id. */
static void
test_invalid_id_with_a_roster(void **state)
{
	char *text = edit(BASE, "duty:\n  officers: [zhang]\n  leader: li\n"
	    "  escalation: [zhang]\n", "roster:\n  start: 2026-12-01\n"
	    "  leader: { handover: \"08:30\", people: [li] }\n"
	    "  shifts:\n    - { name: day, hours: \"08:30-08:30\", "
	    "people: [li] }\n");
	char *bad = edit(text, "    contacts:\n      - { channel: hook, to: "
	    "zhang }\n", "");
	char *worse = edit(bad, "  - id: zhang\n", "  - id: \"bad id\"\n");
	const char *const want[] = {
		"10:9: invalid person id 'bad id': *",
	};

	expect_text(worse, want, 1);
	free(worse);
	free(bad);
	free(text);
}

/* token_sha256: the token's SHA-256 instead of the token: the same lookups. */
/*
 * A tls: section missing a required key is an error naming it, not a
 * crash (found by fuzz_config: the key's node was NULL).
 */
static void
test_tls_missing_keys(void **state)
{
	EXPECT_EDIT(LAST_LINE, LAST_LINE "tls:\n  listen: \"127.0.0.1:0\"\n"
	    "  key: /nonexistent/key.pem\n",
	    "30:3: missing required key 'certificate' in tls");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "tls: { certificate: a.pem }\n",
	    "29:6: missing required key 'listen' in tls",
	    "29:6: missing required key 'key' in tls");
}

static void
test_token_sha256(void **state)
{
	struct loaded l;
	/* sha256("office-token-b") and sha256("person-token-z") */
	char *text = edit(BASE, "    token: person-token-z\n", "    token_sha256: "
	    "\"@Z@\"\n"), *full;
	unsigned char md[32];
	char hex[65];
	size_t i;
	struct config *cf;

	assert_int_equal(config_token_digest("person-token-z", md), 0);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02X", md[i]);	/* either case */
	full = edit(text, "@Z@", hex);
	cf = load_ok(&l, full);
	assert_null(cf->people[0].token);
	assert_ptr_equal(config_person_by_token(cf, "person-token-z"),
	    &cf->people[0]);
	assert_null(config_person_by_token(cf, hex));
	assert_int_equal(cf->plain_tokens, 2);
	unload(&l);
	free(full);

	EXPECT_EDIT("    token: person-token-z\n", "    token_sha256: abc\n",
	    "12:19: token_sha256 of person 'zhang' must be 64 hexadecimal "
	    "digits, the SHA-256 of the token: `dutyd --hash-token` prints it");
	full = edit(text, "@Z@", hex);
	free(text);
	text = edit(full, "    token_sha256:", "    token: person-token-y\n"
	    "    token_sha256:");
	{
		const char *const want[] = {
			"13:19: person 'zhang' has both token and token_sha256; "
			"keep one (token_sha256 keeps the token out of this file)",
		};
		expect_text(text, want, 1);
	}
	free(text);
	/* The same token in clear elsewhere is still a duplicate. */
	text = edit(full, "    token: person-token-l\n",
	    "    token: person-token-z\n");
	{
		const char *const want[] = {
			"17:12: token of person 'li' is already the token of "
			"person 'zhang' (line 12); give every office and person "
			"its own token",
		};
		expect_text(text, want, 1);
	}
	free(text);
	free(full);
}

/* Who is on duty must come from somewhere. */
static void
test_duty_or_roster(void **state)
{
	EXPECT_EDIT("duty:\n  officers: [zhang]\n  leader: li\n  escalation: "
	    "[zhang]\n", "",
	    "1:1: missing 'duty' (who is on duty: officers and leader) or "
	    "'roster' (shifts and rotations); add one of them");
}

/* Phones decide who an SMS is from: normalised, and one owner each. */
static void
test_phones_and_sms(void **state)
{
	struct loaded l;
	char *text = edit(BASE, "    token: office-token-a\n",
	    "    token: office-token-a\n    phones: [\"+86 139-0000-0001\", "
	    "\"13900000009\"]\n");
	char *full;
	struct config *cf;

	if (asprintf(&full, "%s%s", text, "sms:\n  twilio: { auth_token: "
	    "\"0123456789abcdef\" }\n  aliyun: { allow: [10.0.0.1] }\n"
	    "  reply_limit: 3/min\nlinks:\n  ttl: 2h\n") == -1)
		fail();
	cf = load_ok(&l, full);
	assert_int_equal(cf->offices[0].nphones, 2);
	assert_string_equal(cf->offices[0].phones[0], "+8613900000001");
	assert_string_equal(cf->offices[0].phones[1], "+8613900000009");
	assert_ptr_equal(config_office_by_phone(cf, "+8613900000009"),
	    &cf->offices[0]);
	assert_null(config_person_by_phone(cf, "+8613900000009"));
	assert_string_equal(cf->sms.twilio_token, "0123456789abcdef");
	assert_int_equal(cf->sms.naliyun_allow, 1);
	assert_int_equal(cf->sms.reply_count, 3);
	assert_int_equal(cf->links.ttl_ms, 2 * 3600 * 1000);
	unload(&l);
	free(full);
	free(text);

	EXPECT_EDIT("    contacts: [ { channel: hook, to: li } ]\n",
	    "    contacts: [ { channel: hook, to: li } ]\n"
	    "    phones: [\"+8613800000001\", \"+86 138 0000 0001\"]\n"
	    "  - id: wang\n    name: 王芳\n    token: person-token-w\n"
	    "    phones: [\"13800000001\"]\n    contacts: [ { channel: hook, "
	    "to: wang } ]\n",
	    "1:1: phone +8613800000001 belongs to both 'li' and 'wang'; an SMS "
	    "from it must have one sender");
	EXPECT_EDIT("    token: person-token-l\n", "    token: person-token-l\n"
	    "    phones: [\"call me\"]\n",
	    "18:14: invalid phone number 'call me' of a person: write it with "
	    "the country code, e.g. +8613800138000");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "sms:\n  aliyun: { reply_channel: hook }\n",
	    "30:11: 'sms.aliyun' needs 'secret' (sent as ?secret= on the push "
	    "URL) or 'allow' (the gateway's source addresses): anyone could "
	    "post fake reports otherwise");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "sms:\n  twilio: { auth_token: x }\n",
	    "30:25: 'auth_token' in sms.twilio must be at least 8 visible "
	    "characters without spaces, as the gateway shows it (or e.g. "
	    "`openssl rand -hex 16` for a secret of yours)");
	EXPECT_EDIT(LAST_LINE, LAST_LINE "links:\n  ttl: 90d\n",
	    "30:8: 'ttl' in links must be from 1m to 30d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_example_with_webhook),
		cmocka_unit_test(test_values_and_defaults),
		cmocka_unit_test(test_timezone),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_missing_required_key),
		cmocka_unit_test(test_plugin_dir_default),
		cmocka_unit_test(test_metrics_allow),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_bad_public_url),
		cmocka_unit_test(test_public_url_checked_by_curl),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_audit_values),
		cmocka_unit_test(test_audit_errors),
		cmocka_unit_test(test_confval_size),
		cmocka_unit_test(test_unknown_person_in_duty),
		cmocka_unit_test(test_no_contacts),
		cmocka_unit_test(test_unknown_channel_in_contact),
		cmocka_unit_test(test_duplicate_id),
		cmocka_unit_test(test_duplicate_token),
		cmocka_unit_test(test_bad_token),
		cmocka_unit_test(test_token_sha256),
		cmocka_unit_test(test_tls_missing_keys),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_plugin_not_found),
		cmocka_unit_test(test_plugin_option_error),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_whole_file),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_channel_options),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_escalation_levels),
		cmocka_unit_test(test_duty_or_roster),
		cmocka_unit_test(test_invalid_id_with_escalation_levels),
		cmocka_unit_test(test_invalid_id_with_a_roster),
		cmocka_unit_test(test_phones_and_sms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
