/*
 * libpq loaded on demand (base/pqlib.c): a configuration on the file log
 * leaves it unloaded; one naming a database loads it; a machine without
 * it, or with a libpq missing a function, gets a start-up error saying
 * what to install; and every call redirected through pqlib_api reaches
 * libpq's own function, as the direct link did.  The tests run in order:
 * the failures before the first successful load.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/pqlib.h"
#include "conffix.h"
#include "config/config.h"

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

static const char PG[] = "store:\n  postgresql:\n    conninfo: \"dbname=dutyd\"\n";

/* Whether the process has libpq mapped, however it came (dlopen or a link). */
static int
libpq_mapped(void)
{
	void *h = dlopen(PQLIB_SONAME, RTLD_NOW | RTLD_NOLOAD);

	if (h == NULL)
		return 0;
	dlclose(h);
	return 1;
}

/* The file log (no store:, or an empty one) loads no libpq. */
static void
test_file_log_loads_nothing(void **state)
{
	struct conffix l;

	conffix_load(&l, BASE, "");
	assert_non_null(l.cf);
	conffix_unload(&l);
	conffix_load(&l, BASE, "store: {}\n");
	assert_non_null(l.cf);
	conffix_unload(&l);
	assert_false(pqlib_loaded());
	assert_false(libpq_mapped());
}

/* No libpq on the machine: the config names the package, at conninfo. */
static void
test_missing(void **state)
{
	char err[512];

	pqlib_use("libpq-not-installed.so.5");
	assert_int_not_equal(pqlib_load(err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot load libpq (libpq-not-installed.so.5"));
	assert_non_null(strstr(err, "install the " PQLIB_PACKAGE " package"));
	assert_false(pqlib_loaded());
	conffix_expect_error(BASE, PG, "13:15", "store.postgresql: cannot load "
	    "libpq (libpq-not-installed.so.5: cannot open shared object file");
	assert_false(pqlib_loaded());
	pqlib_use(PQLIB_SONAME);
}

/* A library without libpq's functions is refused whole, naming the first. */
static void
test_incomplete(void **state)
{
	char err[512];

	pqlib_use("libc.so.6");
	assert_int_not_equal(pqlib_load(err, sizeof(err)), 0);
	assert_string_equal(err, "cannot load libpq: libc.so.6 has no PQclear; "
	    "install the " PQLIB_PACKAGE " package of PostgreSQL 10 or later");
	assert_false(pqlib_loaded());
	pqlib_use(PQLIB_SONAME);
}

/* store.postgresql loads it, once; libpq's parser judges conninfo again. */
static void
test_postgresql_loads(void **state)
{
	struct conffix	 l;
	char		 err[512];

	conffix_load(&l, BASE, PG);
	assert_non_null(l.cf);
	assert_non_null(l.cf->postgresql);
	conffix_unload(&l);
	assert_true(pqlib_loaded());
	assert_true(libpq_mapped());
	assert_int_equal(pqlib_load(err, sizeof(err)), 0);
	conffix_expect_error(BASE, "store:\n  postgresql:\n    conninfo: "
	    "\"hots=db1\"\n", "13:15", "'conninfo' in store.postgresql is not "
	    "a libpq connection string: invalid connection option \"hots\"");
}

/*
 * Each pointer is the function libpq exports under that name, and a call
 * through the redirecting macro reaches it: what the link gave before.
 */
static void
test_same_functions(void **state)
{
	PQconninfoOption	*opts, *o;
	char			*why = NULL, err[512];
	void			*h;
	int			 found = 0;

	assert_int_equal(pqlib_load(err, sizeof(err)), 0);
	h = dlopen(PQLIB_SONAME, RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h);
#define PQLIB_SAME(f)	assert_ptr_equal((void *)pqlib_api.pq_##f, dlsym(h, #f));
	PQLIB_FUNCS(PQLIB_SAME)
#undef PQLIB_SAME
	dlclose(h);
	assert_true(PQlibVersion() >= 100000);
	opts = PQconninfoParse("host=db1 dbname=dutyd", &why);
	assert_non_null(opts);
	assert_null(why);
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "dbname") == 0 && o->val != NULL &&
		    strcmp(o->val, "dutyd") == 0)
			found = 1;
	assert_true(found);
	PQconninfoFree(opts);
	assert_null(PQconninfoParse("host", &why));
	assert_non_null(why);
	assert_non_null(strstr(why, "missing \"=\" after \"host\""));
	PQfreemem(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_log_loads_nothing),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_postgresql_loads),
		cmocka_unit_test(test_same_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
