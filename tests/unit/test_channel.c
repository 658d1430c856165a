/* Loading channel plugins: what loads, and what is refused with which words. */
#include <errno.h>
#include <glob.h>
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

#include "config/channel.h"

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

/* Like assert_int_equal, but a failure shows the message the user would see. */
#define assert_open(dir, name, cpp, err, want) do {			\
	int r_ = channel_plugin_open(dir, name, cpp, err, sizeof(err));	\
	if (r_ != (want))						\
		fail_msg("open %s: got %d, want %d: %s", name, r_,	\
		    (int)(want), err);					\
} while (0)

static void
test_open_webhook(void **unused)
{
	struct channel_plugin *cp = NULL, *cp2 = NULL;
	const struct dutyd_plugin *p;
	char err[512] = "untouched";

	assert_open(BUILD_PLUGIN_DIR, "webhook", &cp, err, 0);
	assert_non_null(cp);
	p = channel_plugin_abi(cp);
	assert_int_equal(p->abi, DUTYD_PLUGIN_ABI);
	assert_string_equal(p->name, "webhook");
	assert_non_null(p->configure);
	assert_non_null(p->build);

	/* A reload opens the same plugin again before closing the old one. */
	assert_open(BUILD_PLUGIN_DIR, "webhook", &cp2, err, 0);
	channel_plugin_close(cp);
	assert_string_equal(channel_plugin_abi(cp2)->name, "webhook");
	channel_plugin_close(cp2);
	channel_plugin_close(NULL);
}

static void
copy_file(const char *from, const char *to)
{
	char	 buf[65536];
	FILE	*in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t	 n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(out), 0);
}

/*
 * An upgrade replaces a plugin's file while dutyd runs; the reload that
 * follows must load the new code, not get the old one back from the
 * dynamic loader, while the old config keeps the old one.
 */
static void
test_replaced_file_loads_anew(void **unused)
{
	struct channel_plugin *old = NULL, *same = NULL, *fresh = NULL;
	char dir[] = "/tmp/test_channel-XXXXXX", path[PATH_MAX], tmp[PATH_MAX];
	char err[512];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/testchan.so", dir);
	snprintf(tmp, sizeof(tmp), "%s/testchan.so.new", dir);
	copy_file(TEST_PLUGIN_DIR "/testchan.so", path);
	assert_open(dir, "testchan", &old, err, 0);
	assert_string_equal(channel_plugin_abi(old)->description,
	    "fake channel for unit tests");
	/* Unchanged: the same loaded object. */
	assert_open(dir, "testchan", &same, err, 0);
	assert_ptr_equal(channel_plugin_abi(same), channel_plugin_abi(old));
	channel_plugin_close(same);

	/* As install(1) and dpkg do it: a new file renamed over the old. */
	copy_file(TEST_PLUGIN_DIR "/v2/testchan.so", tmp);
	assert_int_equal(rename(tmp, path), 0);
	assert_open(dir, "testchan", &fresh, err, 0);
	assert_string_equal(channel_plugin_abi(fresh)->description,
	    "testchan, second build");
	assert_string_equal(channel_plugin_abi(old)->description,
	    "fake channel for unit tests");
	channel_plugin_close(old);
	assert_string_equal(channel_plugin_abi(fresh)->description,
	    "testchan, second build");
	channel_plugin_close(fresh);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_missing(void **unused)
{
	struct channel_plugin *cp = (void *)1;
	char err[512];

	assert_open(BUILD_PLUGIN_DIR, "nosuchplugin", &cp, err, -ENOENT);
	assert_null(cp);
	assert_contains(err, BUILD_PLUGIN_DIR "/nosuchplugin.so");
	assert_contains(err, "plugin_dir");
	assert_contains(err, "make");
}

static void
test_bad_names(void **unused)
{
	static const char *bad[] = { "../x", "", "Webhook", "a/b", "x.so",
	    "web hook", "../../../../tmp/evil" };
	char long_ok[65], too_long[66];
	struct channel_plugin *cp = NULL;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_open(BUILD_PLUGIN_DIR, bad[i], &cp, err, -EINVAL);
		assert_null(cp);
		assert_contains(err, "name");
		assert_contains(err, bad[i]);
	}
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_open(BUILD_PLUGIN_DIR, too_long, &cp, err, -EINVAL);
	/* 64 characters is a fine name; it just is not there. */
	memset(long_ok, 'a', sizeof(long_ok) - 1);
	long_ok[sizeof(long_ok) - 1] = '\0';
	assert_open(BUILD_PLUGIN_DIR, long_ok, &cp, err, -ENOENT);
}

static void
test_wrong_abi(void **unused)
{
	struct channel_plugin *cp = NULL;
	char err[512];

	assert_open(TEST_PLUGIN_DIR, "badabi", &cp, err, -EPROTO);
	assert_null(cp);
	assert_contains(err, "badabi");
	assert_contains(err, "ABI 999");
	assert_contains(err, "rebuild");
	{
		char want[64];

		snprintf(want, sizeof(want), "ABI %d", DUTYD_PLUGIN_ABI);
		assert_contains(err, want);
	}
}

/* A file renamed after the build must not pass for another channel. */
static void
test_name_mismatch(void **unused)
{
	struct channel_plugin *cp = NULL;
	char dir[] = "/tmp/dutyd-test-channel-XXXXXX", link[128], err[512];

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/sms.so", dir);
	assert_int_equal(symlink(BUILD_PLUGIN_DIR "/webhook.so", link), 0);
	assert_open(dir, "sms", &cp, err, -EPROTO);
	assert_null(cp);
	assert_contains(err, "'webhook'");
	assert_contains(err, "'sms'");
	unlink(link);
	rmdir(dir);
}

static void
test_request_clear(void **unused)
{
	struct dutyd_request req, zero;
	size_t i;

	memset(&req, 0, sizeof(req));
	memset(&zero, 0, sizeof(zero));
	strcpy(req.method, "POST");
	req.url = strdup("http://127.0.0.1/");
	/* A build() that failed halfway may leave slots past nheaders. */
	for (i = 0; i < DUTYD_MAX_HEADERS; i++)
		req.headers[i] = strdup("X-A: b");
	req.nheaders = 3;
	req.body = strdup("{}");
	req.body_len = 2;
	channel_request_clear(&req);	/* LeakSanitizer checks the frees */
	assert_memory_equal(&req, &zero, sizeof(req));
	channel_request_clear(&req);	/* idempotent */
}

/*
 * How many symbols of ours (not the toolchain's: those start with '_', as
 * ASan's __odr_asan.dutyd_plugin does) path exports, failing on any but
 * dutyd_plugin; -1 if nm could not read it.
 */
static int
exported(const char *path)
{
	char cmd[PATH_MAX + 64], line[512], *name;
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", path);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		name = strrchr(line, ' ') ? strrchr(line, ' ') + 1 : line;
		if (name[0] == '_' || name[0] == '\0')
			continue;
		if (strcmp(name, DUTYD_PLUGIN_SYMBOL) != 0)
			fail_msg("%s exports %s: only " DUTYD_PLUGIN_SYMBOL
			    " may be seen (DUTYD_PLUGIN_EXPORT, "
			    "-fvisibility=hidden)", path, name);
		n++;
	}
	return pclose(f) == 0 ? n : -1;
}

/* Each plugin's own helpers and pluglib stay inside it: one ABI symbol. */
static void
test_exports(void **unused)
{
	glob_t g;
	size_t i;

	assert_int_equal(glob(BUILD_PLUGIN_DIR "/*.so", 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 7);	/* webhook ... email */
	for (i = 0; i < g.gl_pathc; i++)
		if (exported(g.gl_pathv[i]) != 1)
			fail_msg("nm -D --defined-only %s: no "
			    DUTYD_PLUGIN_SYMBOL, g.gl_pathv[i]);
	globfree(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_webhook),
		cmocka_unit_test(test_replaced_file_loads_anew),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_wrong_abi),
		cmocka_unit_test(test_name_mismatch),
		cmocka_unit_test(test_request_clear),
		cmocka_unit_test(test_exports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
