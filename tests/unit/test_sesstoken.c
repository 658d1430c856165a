/*
 * Console session cookies: one opens only under its key, as it was made,
 * until it expires; any altered character is refused; the CSRF value
 * belongs to one session.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "parse/sesstoken.h"

#define EXPIRY	INT64_C(1764310000000)

static const unsigned char key[32] = "0123456789abcdef0123456789abcde";
static const unsigned char other_key[32] = "0123456789abcdef0123456789abcdE";

static void
sample(struct sesstoken *t, char kind, const char *subject)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	for (i = 0; i < SESSTOKEN_ID_LEN; i++)
		t->id[i] = (unsigned char)(0xf0 + i);
	for (i = 0; i < SESSTOKEN_DIGEST_LEN; i++)
		t->digest[i] = (unsigned char)(i * 37);
	t->expiry_ms = EXPIRY;
	snprintf(t->subject, sizeof(t->subject), "%s", subject);
}

static void
test_round_trip(void **state)
{
	struct sesstoken t, back;
	char cookie[SESSTOKEN_MAX + 1], hex[SESSTOKEN_ID_HEX];

	sample(&t, 'P', "zhang");
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), 0);
	assert_int_equal(strspn(cookie, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(cookie));
	assert_int_equal(sesstoken_open(key, sizeof(key), cookie, EXPIRY - 1,
	    &back), 0);
	assert_int_equal(back.kind, 'P');
	assert_memory_equal(back.id, t.id, SESSTOKEN_ID_LEN);
	assert_memory_equal(back.digest, t.digest, SESSTOKEN_DIGEST_LEN);
	assert_int_equal(back.expiry_ms, EXPIRY);
	assert_string_equal(back.subject, "zhang");
	sesstoken_id_hex(back.id, hex);
	assert_string_equal(hex, "f0f1f2f3f4f5f6f7f8f9fafb");

	/* The longest subject fits SESSTOKEN_MAX. */
	memset(t.subject, 'x', SESSTOKEN_SUBJECT_MAX);
	t.subject[SESSTOKEN_SUBJECT_MAX] = '\0';
	t.kind = 'O';
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), 0);
	assert_true(strlen(cookie) <= SESSTOKEN_MAX);
	assert_int_equal(sesstoken_open(key, sizeof(key), cookie, 0, &back), 0);
	assert_int_equal(back.kind, 'O');
	assert_string_equal(back.subject, t.subject);
}

static void
test_every_character_altered(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	struct sesstoken t, back;
	char cookie[SESSTOKEN_MAX + 1], bad[SESSTOKEN_MAX + 2];
	size_t i, j, n;

	sample(&t, 'O', "county-a");
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), 0);
	n = strlen(cookie);
	for (i = 0; i < n; i++)
		for (j = 0; alphabet[j] != '\0'; j++) {
			if (alphabet[j] == cookie[i])
				continue;
			memcpy(bad, cookie, n + 1);
			bad[i] = alphabet[j];
			if (sesstoken_open(key, sizeof(key), bad, 0, &back) !=
			    -EBADMSG)
				fail_msg("altered at %zu to %c: accepted", i,
				    alphabet[j]);
		}
	/* Cut, or lengthened. */
	for (i = 0; i < n; i++) {
		memcpy(bad, cookie, i);
		bad[i] = '\0';
		assert_int_equal(sesstoken_open(key, sizeof(key), bad, 0, &back),
		    -EBADMSG);
	}
	snprintf(bad, sizeof(bad), "%sA", cookie);
	assert_int_equal(sesstoken_open(key, sizeof(key), bad, 0, &back),
	    -EBADMSG);
}

static void
test_wrong_key_and_expiry(void **state)
{
	struct sesstoken t, back;
	char cookie[SESSTOKEN_MAX + 1];

	sample(&t, 'P', "li");
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), 0);
	assert_int_equal(sesstoken_open(other_key, sizeof(other_key), cookie, 0,
	    &back), -EBADMSG);
	assert_int_equal(sesstoken_open(key, 8, cookie, 0, &back), -EBADMSG);
	/* Valid while now < expiry; the expired one still says whose it was. */
	assert_int_equal(sesstoken_open(key, sizeof(key), cookie, EXPIRY,
	    &back), -ETIMEDOUT);
	assert_string_equal(back.subject, "li");
	assert_int_equal(back.expiry_ms, EXPIRY);
}

static void
test_malformed(void **state)
{
	struct sesstoken t, back;
	char cookie[SESSTOKEN_MAX + 1];
	char big[SESSTOKEN_MAX * 2];

	assert_int_equal(sesstoken_open(key, sizeof(key), "", 0, &back), -EBADMSG);
	assert_int_equal(sesstoken_open(key, sizeof(key), "a=b", 0, &back),
	    -EBADMSG);
	assert_int_equal(sesstoken_open(key, sizeof(key), NULL, 0, &back),
	    -EBADMSG);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sesstoken_open(key, sizeof(key), big, 0, &back),
	    -EBADMSG);
	/* What cannot be sealed. */
	sample(&t, 'X', "zhang");
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), -EINVAL);
	sample(&t, 'P', "");
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), -EINVAL);
	sample(&t, 'P', "has space");
	assert_int_equal(sesstoken_seal(key, sizeof(key), &t, cookie), -EINVAL);
	sample(&t, 'P', "zhang");
	assert_int_equal(sesstoken_seal(key, 4, &t, cookie), -EINVAL);
}

static void
test_csrf(void **state)
{
	struct sesstoken a, b;
	char ca[SESSTOKEN_CSRF_LEN + 1], cb[SESSTOKEN_CSRF_LEN + 1];

	sample(&a, 'P', "zhang");
	sample(&b, 'P', "zhang");
	b.id[0] ^= 1;
	assert_int_equal(sesstoken_csrf(key, sizeof(key), a.id, ca), 0);
	assert_int_equal(sesstoken_csrf(key, sizeof(key), b.id, cb), 0);
	assert_int_equal(strlen(ca), SESSTOKEN_CSRF_LEN);
	assert_string_not_equal(ca, cb);
	assert_true(sesstoken_csrf_ok(key, sizeof(key), a.id, ca));
	assert_false(sesstoken_csrf_ok(key, sizeof(key), b.id, ca));
	assert_false(sesstoken_csrf_ok(other_key, sizeof(other_key), a.id, ca));
	assert_false(sesstoken_csrf_ok(key, sizeof(key), a.id, NULL));
	assert_false(sesstoken_csrf_ok(key, sizeof(key), a.id, ""));
	ca[3] ^= 1;
	assert_false(sesstoken_csrf_ok(key, sizeof(key), a.id, ca));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_character_altered),
		cmocka_unit_test(test_wrong_key_and_expiry),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
