/*
 * The `store:` section (config/confstore.c): the file log when absent or
 * empty, store.postgresql's defaults (instance: the host name, lease 5s),
 * every mistake reported at its FILE:LINE:COLUMN with libpq's own words
 * for a conninfo it cannot parse, and confstore_same() for a reload.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conffix.h"
#include "config/config.h"
#include "config/confstore.h"

#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must be defined (the Makefile does)"
#endif

static const char BASE[] =
    /*  1 */ "listen: \"127.0.0.1:8080\"\n"
    /*  2 */ "state_dir: ./var\n"
    /*  3 */ "plugin_dir: \"" TEST_PLUGIN_DIR "\"\n"
    /*  4 */ "public_url: \"http://127.0.0.1:8080/\"\n"
    /*  5 */ "timezone: Asia/Shanghai\n"
    /*  6 */ "offices: [ { id: county-a, name: A县应急管理局, token: office-token-a } ]\n"
    /*  7 */ "people:\n"
    /*  8 */ "  - { id: zhang, name: 张伟, token: person-token-z, contacts: [ { channel: hook, to: zhang } ] }\n"
    /*  9 */ "duty: { officers: [zhang], leader: zhang }\n"
    /* 10 */ "channels: { hook: { plugin: testchan, url: \"http://127.0.0.1:9/hook\" } }\n";

static void
expect_error(const char *extra, const char *linecol, const char *want)
{
	conffix_expect_error(BASE, extra, linecol, want);
}

/* Without `store:`, with `store: {}` or a bare `store:`: the file log. */
static void
test_file_log(void **state)
{
	static const char *const extras[] = { "", "store: {}\n", "store:\n" };
	struct conffix	 l;
	size_t		 i;

	for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		conffix_load(&l, BASE, extras[i]);
		assert_non_null(l.cf);
		assert_int_equal(l.diag.n, 0);
		assert_null(l.cf->postgresql);
		conffix_unload(&l);
	}
}

static void
test_written(void **state)
{
	struct conffix l;

	conffix_load(&l, BASE, "store:\n"
	    "  postgresql:\n"
	    "    conninfo: \"host=db1,db2 dbname=dutyd user=dutyd "
	    "target_session_attrs=read-write\"\n"
	    "    instance: duty-a\n"
	    "    lease: 10s\n");
	assert_non_null(l.cf);
	assert_non_null(l.cf->postgresql);
	assert_string_equal(l.cf->postgresql->conninfo, "host=db1,db2 "
	    "dbname=dutyd user=dutyd target_session_attrs=read-write");
	assert_string_equal(l.cf->postgresql->instance, "duty-a");
	assert_int_equal(l.cf->postgresql->lease_ms, 10000);
	conffix_unload(&l);

	/* A URI is a conninfo too; the bounds of lease are allowed. */
	conffix_load(&l, BASE, "store: { postgresql: { conninfo: "
	    "\"postgresql://dutyd@db1:5432/dutyd?connect_timeout=3\", "
	    "lease: 1s } }\n");
	assert_non_null(l.cf);
	assert_int_equal(l.cf->postgresql->lease_ms, 1000);
	conffix_unload(&l);
	conffix_load(&l, BASE, "store: { postgresql: { conninfo: "
	    "\"dbname=dutyd\", lease: 1m } }\n");
	assert_non_null(l.cf);
	assert_int_equal(l.cf->postgresql->lease_ms, 60000);
	conffix_unload(&l);
}

/* instance: the host name; lease: 5s. */
static void
test_defaults(void **state)
{
	struct conffix	l;
	char		host[HOST_NAME_MAX + 1];

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	conffix_load(&l, BASE, "store:\n  postgresql:\n    conninfo: "
	    "\"dbname=dutyd\"\n");
	assert_non_null(l.cf);
	assert_string_equal(l.cf->postgresql->instance, host);
	assert_int_equal(l.cf->postgresql->lease_ms, CONFIG_PG_LEASE_DEFAULT);
	assert_int_equal(CONFIG_PG_LEASE_DEFAULT, 5000);
	conffix_unload(&l);
}

static void
test_errors(void **state)
{
	expect_error("store:\n  postgresql:\n    instance: duty-a\n", "13:5",
	    "missing required key 'conninfo' in store.postgresql");
	expect_error("store:\n  postgresql:\n    conninfo: \"\"\n", "13:15",
	    "'conninfo' in store.postgresql is empty; write libpq's");
	expect_error("store:\n  postgresql:\n    conninfo:\n", "13:14",
	    "'conninfo' in store.postgresql is empty; write libpq's");
	/* libpq's own message, first line, without its full stop. */
	expect_error("store:\n  postgresql:\n    conninfo: \"host\"\n", "13:15",
	    "'conninfo' in store.postgresql is not a libpq connection string: "
	    "missing \"=\" after \"host\" in connection info string; write");
	expect_error("store:\n  postgresql:\n    conninfo: \"hots=db1\"\n",
	    "13:15", "'conninfo' in store.postgresql is not a libpq connection "
	    "string: invalid connection option \"hots\"; write");
	expect_error("store:\n  postgresql:\n    conninfo: "
	    "\"postgresql://db1:5432/dutyd?bogus=1\"\n", "13:15",
	    "'conninfo' in store.postgresql is not a libpq connection string: "
	    "invalid URI query parameter: \"bogus\"");
	expect_error("store:\n  postgresql:\n    conninfo: [a]\n", "13:15",
	    "expected a string for 'conninfo' in store.postgresql, got a list");
	/* Unknown keys, at their own position. */
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    lease_time: 5s\n", "14:5",
	    "unknown key 'lease_time' in store.postgresql");
	expect_error("store:\n  postgres: { conninfo: \"dbname=x\" }\n", "12:3",
	    "unknown key 'postgres' in store; did you mean 'postgresql'?");
	expect_error("store: [postgresql]\n", "11:8",
	    "expected a mapping for 'store', got a list");
	expect_error("store: { postgresql: \"dbname=x\" }\n", "11:22",
	    "expected a mapping for 'store.postgresql' (conninfo:, instance:, "
	    "lease:), got");
	/* instance */
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    instance: \"duty a\"\n", "14:15",
	    "invalid instance 'duty a' in store.postgresql: use 1 to 64 of");
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    instance: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "14:15", "invalid instance 'aaaa");
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    instance: \"\"\n", "14:15",
	    "'instance' in store.postgresql is empty");
	/* lease */
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    lease: 500ms\n", "14:12",
	    "'lease' in store.postgresql must be from 1s to 60s");
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    lease: 61s\n", "14:12",
	    "'lease' in store.postgresql must be from 1s to 60s");
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    lease: 0s\n", "14:12",
	    "'lease' in store.postgresql must be longer than zero");
	expect_error("store:\n  postgresql:\n    conninfo: \"dbname=x\"\n"
	    "    lease: soon\n", "14:12",
	    "invalid duration 'soon' for 'lease' in store.postgresql");
}

/* Every mistake in the section at once, as elsewhere in the file. */
static void
test_all_at_once(void **state)
{
	struct conffix l;

	conffix_load(&l, BASE, "store:\n  postgresql:\n    conninfo: \"host\"\n"
	    "    instance: \"a b\"\n    lease: 2m\n");
	assert_null(l.cf);
	assert_int_equal(l.diag.n, 3);
	conffix_unload(&l);
}

static void
test_same(void **state)
{
	struct conffix	a, b;
	static const char pg[] = "store: { postgresql: { conninfo: "
	    "\"dbname=dutyd\", instance: duty-a, lease: 5s } }\n";

	conffix_load(&a, BASE, "");
	conffix_load(&b, BASE, "");
	assert_true(confstore_same(a.cf, b.cf));
	conffix_unload(&b);
	conffix_load(&b, BASE, pg);
	assert_false(confstore_same(a.cf, b.cf));
	assert_false(confstore_same(b.cf, a.cf));
	conffix_unload(&a);
	conffix_load(&a, BASE, pg);
	assert_true(confstore_same(a.cf, b.cf));
	conffix_unload(&a);
	conffix_load(&a, BASE, "store: { postgresql: { conninfo: "
	    "\"dbname=dutyd\", instance: duty-b, lease: 5s } }\n");
	assert_false(confstore_same(a.cf, b.cf));
	conffix_unload(&a);
	conffix_load(&a, BASE, "store: { postgresql: { conninfo: "
	    "\"dbname=dutyd\", instance: duty-a, lease: 6s } }\n");
	assert_false(confstore_same(a.cf, b.cf));
	conffix_unload(&a);
	conffix_load(&a, BASE, "store: { postgresql: { conninfo: "
	    "\"dbname=other\", instance: duty-a, lease: 5s } }\n");
	assert_false(confstore_same(a.cf, b.cf));
	conffix_unload(&a);
	conffix_unload(&b);
}

static void
test_instance_ok(void **state)
{
	assert_true(confstore_instance_ok("duty-a"));
	assert_true(confstore_instance_ok("db1.example_2"));
	assert_false(confstore_instance_ok(""));
	assert_false(confstore_instance_ok("duty a"));
	assert_false(confstore_instance_ok("值班"));
	assert_false(confstore_instance_ok("a\"b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_log),
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_at_once),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_instance_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
