/*
 * An incident id read back into its day and number (state/inclist.c): the
 * ids dutyd writes, padded or not, and everything else refused, so that a
 * cursor or a stranger's id never sorts as one of them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "state/inclist.h"

static void
test_ids_dutyd_writes(void **state)
{
	char	id[32];
	int	day, n, i;

	(void)state;
	for (i = 0; i < 100000; i += 997) {
		snprintf(id, sizeof(id), "INC-%08d-%04d", 20261203, i);
		assert_int_equal(inclist_parse_id(id, &day, &n), 0);
		assert_int_equal(day, 20261203);
		assert_int_equal(n, i);
	}
	assert_int_equal(inclist_parse_id("INC-20261128-7", &day, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(inclist_parse_id("INC-1-0", &day, &n), 0);
	assert_int_equal(day, 1);
	assert_int_equal(n, 0);
	assert_int_equal(inclist_parse_id("INC-20261128-999999999", &day, &n), 0);
	assert_int_equal(n, 999999999);
}

static void
test_other_shapes_refused(void **state)
{
	static const char *bad[] = {
		"", "INC-", "INC--1", "INC-20261128", "INC-20261128-",
		"INC-20261128-0007x", "INC-20261128-0007 ", " INC-20261128-0007",
		"INC- 20261128-0007", "INC-+20261128-0007", "INC-20261128--7",
		"INC-20261128-+7", "INC-202611280-0007", "inc-20261128-0007",
		"INC-20261128-1234567890", "INC-2026x128-0007", "DIR-20261128-0007",
		"INC-20261128_0007",
	};
	size_t	i;
	int	day, n;

	(void)state;
	assert_int_equal(inclist_parse_id(NULL, &day, &n), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (inclist_parse_id(bad[i], &day, &n) != -EINVAL)
			fail_msg("\"%s\" was read as day %d, number %d", bad[i],
			    day, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_dutyd_writes),
		cmocka_unit_test(test_other_shapes_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
