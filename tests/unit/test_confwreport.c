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

struct loaded {
	struct config		*cf;
	struct config_diag	 diag;
	char			 path[64];
};

static void
load(struct loaded *l, const char *extra)
{
	FILE *f;
	int fd;

	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "/tmp/test_confwreport-XXXXXX");
	assert_true((fd = mkstemp(l->path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(BASE, f);
	fputs(extra, f);
	assert_int_equal(fclose(f), 0);
	l->cf = confload(l->path, &l->diag);
	unlink(l->path);
}

static void
unload(struct loaded *l)
{
	if (l->cf != NULL)
		config_free(l->cf);
	config_diag_free(&l->diag);
}

/* EXTRA fails to load with one error at LINECOL ("12:3") starting with WANT. */
static void
expect_error(const char *extra, const char *linecol, const char *want)
{
	struct loaded	l;
	char		line[1024];
	size_t		i;

	load(&l, extra);
	snprintf(line, sizeof(line), "%s:%s: %s", l.path, linecol, want);
	if (l.diag.n != 1 || strncmp(l.diag.lines[0], line, strlen(line)) != 0)
		for (i = 0; i < l.diag.n; i++)
			print_message("  diag: %s\n", l.diag.lines[i]);
	assert_null(l.cf);
	assert_int_equal(l.diag.n, 1);
	assert_true(strncmp(l.diag.lines[0], line, strlen(line)) == 0);
	unload(&l);
}

static void
test_defaults(void **state)
{
	struct loaded l;

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
	unload(&l);
}

static void
test_values(void **state)
{
	struct loaded l;

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
	unload(&l);
	/* [] : no level needs approval. */
	load(&l, "policy: { approval_levels: [] }\n");
	assert_non_null(l.cf);
	assert_false(confwreport_needs_approval(l.cf, "I"));
	unload(&l);
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
