/*
 * The written report's configuration (config/confwreport.c):
 * `organization`, `province` and `policy.approval_levels`/`approvers`,
 * their defaults, and a FILE:LINE:COLUMN error for each mistake.
 */
#include <errno.h>
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
#include "config/confload.h"
#include "config/confwreport.h"

#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must be defined (the Makefile does)"
#endif

static const char BASE[] =
    /*  1 */ "listen: \"127.0.0.1:8080\"\n"
    /*  2 */ "state_dir: ./var\n"
    /*  3 */ "plugin_dir: \"" TEST_PLUGIN_DIR "\"\n"
    /*  4 */ "public_url: \"http://127.0.0.1:8080/\"\n"
    /*  5 */ "offices: [ { id: county-a, name: A县应急管理局, token: office-token-a } ]\n"
    /*  6 */ "people:\n"
    /*  7 */ "  - { id: zhang, name: 张伟, token: person-token-z, contacts: [ { channel: hook, to: zhang } ] }\n"
    /*  8 */ "  - { id: li, name: 李强, token: person-token-l, contacts: [ { channel: hook, to: li } ] }\n"
    /*  9 */ "duty: { officers: [zhang], leader: li }\n"
    /* 10 */ "channels: { hook: { plugin: testchan, url: \"http://127.0.0.1:9/hook\" } }\n";

static void
load(struct conffix *l, const char *extra)
{
	conffix_load(l, BASE, extra);
}

/* EXTRA fails to load with one error at LINECOL ("12:3") starting with WANT. */
static void
expect_error(const char *extra, const char *linecol, const char *want)
{
	conffix_expect_error(BASE, extra, linecol, want);
}

static void
test_defaults(void **state)
{
	struct conffix l;

	load(&l, "");
	assert_non_null(l.cf);
	assert_null(l.cf->organization);
	assert_null(l.cf->province.name);
	assert_int_equal(l.cf->province.ncontacts, 0);
	assert_int_equal(l.cf->policy.napprovers, 1);
	assert_string_equal(l.cf->policy.approvers[0], "leader");
	/* I and II need approval; III and IV do not; unknown does. */
	assert_true(confwreport_needs_approval(l.cf, "I"));
	assert_true(confwreport_needs_approval(l.cf, "II"));
	assert_false(confwreport_needs_approval(l.cf, "III"));
	assert_false(confwreport_needs_approval(l.cf, "IV"));
	assert_true(confwreport_needs_approval(l.cf, NULL));
	conffix_unload(&l);
}

static void
test_values(void **state)
{
	struct conffix l;

	load(&l, "organization: \"某市人民政府总值班室\"\n"
	    "province:\n"
	    "  name: 省政府总值班室\n"
	    "  contacts: [ { channel: hook, to: province }, { channel: hook, to: fax } ]\n"
	    "policy:\n"
	    "  approval_levels: [Ⅰ, 2, III]\n"
	    "  approvers: [leader, officers, zhang]\n");
	assert_non_null(l.cf);
	assert_string_equal(l.cf->organization, "某市人民政府总值班室");
	assert_string_equal(l.cf->province.name, "省政府总值班室");
	assert_int_equal(l.cf->province.ncontacts, 2);
	assert_string_equal(l.cf->province.contacts[1].to, "fax");
	assert_true(confwreport_needs_approval(l.cf, "III"));
	assert_false(confwreport_needs_approval(l.cf, "IV"));
	assert_int_equal(l.cf->policy.napprovers, 3);
	assert_string_equal(l.cf->policy.approvers[2], "zhang");
	conffix_unload(&l);
	/* [] : no level needs approval. */
	load(&l, "policy: { approval_levels: [] }\n");
	assert_non_null(l.cf);
	assert_false(confwreport_needs_approval(l.cf, "I"));
	conffix_unload(&l);
}

static void
test_errors(void **state)
{
	expect_error("policy: { approval_levels: [V] }\n", "11:29",
	    "'approval_levels' in policy lists levels I, II, III or IV");
	expect_error("policy: { approvers: [zhao] }\n", "11:23",
	    "'approvers' in policy names 'zhao', which is neither a role");
	expect_error("policy: { approvers: [] }\n", "11:22",
	    "'approvers' in policy is empty");
	expect_error("province: { contacts: [ { channel: fax, to: x } ] }\n",
	    "11:36", "unknown channel 'fax' in province contact");
	expect_error("province: { nmae: x }\n", "11:13", "unknown key 'nmae'");
	expect_error("organization: \"\"\n", "11:15", "'organization' is empty");
	expect_error("organization: \"某市\\n总值班室\"\n", "11:15",
	    "'organization' must be a name of 1 to 100 characters on one line");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
