/*
 * Signed-out console sessions: refused until they would have expired,
 * forgotten after; bounded, the nearest expiry forgotten first; a
 * checkpoint's snapshot restores the same set; damaged entries skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/timeutil.h"
#include "state/signout.h"

static int64_t now_ms = INT64_C(1764640000000);	/* 2025-12-02 */

static int64_t
fake_now(void)
{
	return now_ms;
}

static void
session_id(unsigned n, char *out)
{
	snprintf(out, 25, "%024x", n);
}

/* {"sessions": [...]} of N sessions, the i-th expiring FIRST + i minutes. */
static json_t *
sessions(unsigned n, int64_t first)
{
	json_t	*list = json_array();
	char	 id[32], at[TIME_RFC3339_MAX];
	unsigned i;

	for (i = 0; i < n; i++) {
		session_id(i, id);
		json_array_append_new(list, json_pack("{s:s, s:s}", "session", id,
		    "expires_at", time_format(first + (int64_t)i * 60000, at,
		    sizeof(at))));
	}
	return json_pack("{s:o}", "sessions", list);
}

static int
setup(void **state)
{
	time_use_source(fake_now);
	signout_clear();
	return 0;
}

static void
test_refused_until_expiry(void **state)
{
	json_t	*d = sessions(3, now_ms + 60000);
	char	 id[32];

	assert_int_equal(signout_restore(d), 0);
	json_decref(d);
	assert_int_equal(signout_count(), 3);
	session_id(1, id);
	assert_true(signout_has(id));
	session_id(7, id);
	assert_false(signout_has(id));
	assert_false(signout_has("not-hex"));
	/* Past the first two expiries, a snapshot holds only the last. */
	now_ms += 2 * 60000;
	d = signout_snapshot(now_ms);
	assert_non_null(d);
	assert_int_equal(json_array_size(json_object_get(d, "sessions")), 1);
	assert_int_equal(signout_count(), 1);
	/* The snapshot restores the same set. */
	signout_clear();
	assert_int_equal(signout_restore(d), 0);
	json_decref(d);
	session_id(2, id);
	assert_true(signout_has(id));
	session_id(1, id);
	assert_false(signout_has(id));
	/* Already expired: not taken. */
	d = sessions(1, now_ms - 1);
	assert_int_equal(signout_restore(d), 0);
	json_decref(d);
	session_id(0, id);
	assert_false(signout_has(id));
}

static void
test_bounded_nearest_expiry_first(void **state)
{
	json_t	*d = sessions(SIGNOUT_MAX + 2, now_ms + 60000);
	char	 id[32];

	assert_int_equal(signout_restore(d), 0);
	json_decref(d);
	assert_int_equal(signout_count(), SIGNOUT_MAX);
	session_id(0, id);
	assert_false(signout_has(id));
	session_id(1, id);
	assert_false(signout_has(id));
	session_id(2, id);
	assert_true(signout_has(id));
	session_id(SIGNOUT_MAX + 1, id);
	assert_true(signout_has(id));
}

static void
test_damaged_entries_skipped(void **state)
{
	json_t	*d = json_loads("{\"sessions\": [{\"session\": \"zz\", "
	    "\"expires_at\": \"2099-01-01T00:00:00Z\"}, {\"session\": "
	    "\"00000000000000000000000a\", \"expires_at\": \"soon\"}, 5, "
	    "{\"session\": \"00000000000000000000000b\", \"expires_at\": "
	    "\"2099-01-01T00:00:00Z\"}]}", 0, NULL);

	assert_non_null(d);
	assert_int_equal(signout_restore(d), 0);
	json_decref(d);
	assert_int_equal(signout_count(), 1);
	assert_true(signout_has("00000000000000000000000b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_refused_until_expiry, setup),
		cmocka_unit_test_setup(test_bounded_nearest_expiry_first, setup),
		cmocka_unit_test_setup(test_damaged_entries_skipped, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
