/*
 * base64url as tokens and cookies use it: round trips of every length,
 * one text per value (padding, stray or unused bits refused), and the
 * caller's buffer never overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/b64url.h"

static void
test_round_trips(void **state)
{
	unsigned char	 in[64], out[64];
	char		 text[B64URL_BUF(64)];
	size_t		 n, len;

	for (n = 0; n < sizeof(in); n++)
		in[n] = (unsigned char)(n * 37 + 11);
	for (n = 1; n <= sizeof(in); n++) {
		len = b64url_encode(in, n, text);
		assert_int_equal(len, strlen(text));
		assert_null(strpbrk(text, "+/="));
		assert_int_equal(b64url_decode(text, len, out, n), (int)n);
		assert_memory_equal(in, out, n);
		/* One byte short of room: refused, nothing written past it. */
		memset(out, 0xee, sizeof(out));
		assert_int_equal(b64url_decode(text, len, out, n - 1), -1);
		assert_int_equal(out[n - 1], 0xee);
	}
}

static void
test_one_text_per_value(void **state)
{
	unsigned char out[8];

	assert_int_equal(b64url_decode("_-8", 3, out, sizeof(out)), 2);
	assert_int_equal(out[0], 0xff);
	assert_int_equal(out[1], 0xef);
	assert_int_equal(b64url_decode("AA", 2, out, sizeof(out)), 1);
	assert_int_equal(b64url_decode("AB", 2, out, sizeof(out)), -1);	/* unused bits set */
	assert_int_equal(b64url_decode("AA==", 4, out, sizeof(out)), -1);	/* padding */
	assert_int_equal(b64url_decode("A+8", 3, out, sizeof(out)), -1);	/* base64, not url */
	assert_int_equal(b64url_decode("A", 1, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("", 0, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("AA\0A", 4, out, sizeof(out)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_one_text_per_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
