/*
 * One-tap links: a token is 24 URL-safe characters, opens only under its
 * key, as it was made, until it expires; the tokens of before 0.2 do what
 * they say for whom they say until they expire, and nothing else; the
 * pages show incident text as text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intake/linkpage.h"
#include "parse/linktoken.h"

#define EXPIRY	INT64_C(1764310000000)

static const unsigned char key[32] = "0123456789abcdef0123456789abcde";
static const unsigned char other_key[32] = "0123456789abcdef0123456789abcdE";

static void
make(const char *incident, const char *person, char action, int64_t expiry,
    char *token)
{
	int	 rc;

	rc = linktoken_v1_make(key, sizeof(key), incident, person, action, expiry,
	    token, LINKTOKEN_TOKEN_MAX + 1);
	if (rc != 0)
		fail_msg("linktoken_v1_make(%s, %s, %c): %d", incident, person,
		    action, rc);
}

static const unsigned char id6[LINKTOKEN_ID_LEN] = { 0xfb, 0xef, 0x00, 0x01, 0x7f, 0x80 };

static void
test_short_round_trip(void **state)
{
	char	 stub[LINKTOKEN_STUB_LEN + 1], token[LINKTOKEN_LEN + 1];
	char	 back[LINKTOKEN_STUB_LEN + 1];
	int64_t	 expiry;

	/* The expiry is kept to the minute, rounded up: never shorter. */
	assert_int_equal(linktoken_stub(id6, EXPIRY + 1, stub), 0);
	assert_int_equal(strlen(stub), LINKTOKEN_STUB_LEN);
	assert_int_equal(linktoken_stub_expiry(stub, &expiry), 0);
	assert_true(expiry >= EXPIRY + 1 && expiry < EXPIRY + 60001);
	assert_int_equal(expiry % 60000, 0);
	assert_int_equal(linktoken_sign(key, sizeof(key), stub, token), 0);
	assert_int_equal(strlen(token), 24);
	assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), 24);
	/* The stub's 10 bytes start the token (its 14th character also holds MAC bits). */
	assert_int_equal(strncmp(token, stub, LINKTOKEN_STUB_LEN - 1), 0);
	assert_int_equal(linktoken_open(key, sizeof(key), token, expiry - 1,
	    back, &expiry), 0);
	assert_string_equal(back, stub);
	/* At the expiry and after: the stub still comes back, to name the link. */
	back[0] = '\0';
	assert_int_equal(linktoken_open(key, sizeof(key), token, expiry, back,
	    &expiry), -ETIMEDOUT);
	assert_string_equal(back, stub);
	assert_int_equal(linktoken_stub(id6, -1, stub), -EINVAL);
}

static void
test_short_every_character_altered(void **state)
{
	char	 stub[LINKTOKEN_STUB_LEN + 1], token[LINKTOKEN_LEN + 1];
	char	 bad[LINKTOKEN_LEN + 2], back[LINKTOKEN_STUB_LEN + 1];
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";
	int64_t	 expiry;
	size_t	 i, j;

	assert_int_equal(linktoken_stub(id6, EXPIRY, stub), 0);
	assert_int_equal(linktoken_sign(key, sizeof(key), stub, token), 0);
	for (i = 0; i < LINKTOKEN_LEN; i++)
		for (j = 0; alphabet[j] != '\0'; j++) {
			if (alphabet[j] == token[i])
				continue;
			memcpy(bad, token, sizeof(token));
			bad[i] = alphabet[j];
			assert_int_equal(linktoken_open(key, sizeof(key), bad, 0,
			    back, &expiry), -EBADMSG);
		}
	/* Another key, cut, padded, not base64url, empty, NULL. */
	assert_int_equal(linktoken_open(other_key, sizeof(other_key), token, 0,
	    back, &expiry), -EBADMSG);
	snprintf(bad, sizeof(bad), "%.23s", token);
	assert_int_equal(linktoken_open(key, sizeof(key), bad, 0, back,
	    &expiry), -EBADMSG);
	snprintf(bad, sizeof(bad), "%sA", token);
	assert_int_equal(linktoken_open(key, sizeof(key), bad, 0, back,
	    &expiry), -EBADMSG);
	memcpy(bad, token, sizeof(token));
	bad[3] = '+';
	assert_int_equal(linktoken_open(key, sizeof(key), bad, 0, back,
	    &expiry), -EBADMSG);
	assert_int_equal(linktoken_open(key, sizeof(key), "", 0, back,
	    &expiry), -EBADMSG);
	assert_int_equal(linktoken_open(key, sizeof(key), NULL, 0, back,
	    &expiry), -EBADMSG);
	/* A stub is not a token, and a token is not a stub. */
	assert_int_equal(linktoken_open(key, sizeof(key), stub, 0, back,
	    &expiry), -EBADMSG);
	assert_int_equal(linktoken_stub_expiry(token, &expiry), -EINVAL);
	assert_int_equal(linktoken_sign(key, LINKTOKEN_KEY_MIN - 1, stub, bad),
	    -EINVAL);
}

static void
test_round_trip(void **state)
{
	static const char actions[] = "AFR";
	char		 token[LINKTOKEN_TOKEN_MAX + 1];
	char		 person[LINKTOKEN_FIELD_MAX + 1];
	struct linktoken	 out;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		make("INC-20261128-0001", "wang.li", actions[i], EXPIRY, token);
		/* Safe in a URL path or query as it is. */
		assert_int_equal(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_."), strlen(token));
		assert_int_equal(linktoken_v1_verify(key, sizeof(key), token,
		    EXPIRY - 60000, &out), 0);
		assert_string_equal(out.incident, "INC-20261128-0001");
		assert_string_equal(out.person, "wang.li");
		assert_int_equal(out.action, actions[i]);
		assert_true(out.expiry_ms == EXPIRY);
	}

	/* The longest fields still fit the cap. */
	memset(person, 'p', LINKTOKEN_FIELD_MAX);
	person[LINKTOKEN_FIELD_MAX] = '\0';
	make(person, person, 'R', INT64_C(999999999999999999), token);
	assert_true(strlen(token) <= LINKTOKEN_TOKEN_MAX);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), token, 0, &out), 0);
	assert_string_equal(out.person, person);
	assert_string_equal(out.incident, person);
}

static void
test_fields_cannot_run_together(void **state)
{
	char		 a[LINKTOKEN_TOKEN_MAX + 1], b[LINKTOKEN_TOKEN_MAX + 1];
	struct linktoken	 out;

	/* Moving a character between fields gives another token. */
	make("INC-1", "2x", 'A', EXPIRY, a);
	make("INC-12", "x", 'A', EXPIRY, b);
	assert_string_not_equal(a, b);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), a, 0, &out), 0);
	assert_string_equal(out.incident, "INC-1");
	assert_string_equal(out.person, "2x");
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), b, 0, &out), 0);
	assert_string_equal(out.incident, "INC-12");
	assert_string_equal(out.person, "x");
}

static void
test_every_byte_altered(void **state)
{
	char		 token[LINKTOKEN_TOKEN_MAX + 1], bad[LINKTOKEN_TOKEN_MAX + 3];
	struct linktoken	 out;
	size_t		 i, len;
	int		 bit, rc;

	make("INC-20261128-0001", "wang.li", 'A', EXPIRY, token);
	len = strlen(token);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, token, len + 1);
			bad[i] ^= (char)(1 << bit);
			rc = linktoken_v1_verify(key, sizeof(key), bad, 0, &out);
			if (rc != -EBADMSG && rc != -EINVAL)
				fail_msg("byte %zu bit %d (%c -> 0x%02x): %d", i,
				    bit, token[i], (unsigned char)bad[i], rc);
			assert_string_equal(out.incident, "");
		}
	}
	/* Cut short or added to. */
	for (i = 1; i < len; i++) {
		memcpy(bad, token, i);
		bad[i] = '\0';
		assert_true(linktoken_v1_verify(key, sizeof(key), bad, 0, &out) < 0);
	}
	snprintf(bad, sizeof(bad), "%sA", token);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), bad, 0, &out),
	    -EBADMSG);
	snprintf(bad, sizeof(bad), "A%s", token);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), bad, 0, &out),
	    -EBADMSG);
}

static void
test_parts_swapped(void **state)
{
	char		 a[LINKTOKEN_TOKEN_MAX + 1], b[LINKTOKEN_TOKEN_MAX + 1];
	char		 mix[2 * LINKTOKEN_TOKEN_MAX + 2];
	struct linktoken	 out;

	/* One person's MAC does not vouch for another's payload. */
	make("INC-20261128-0001", "wang.li", 'A', EXPIRY, a);
	make("INC-20261128-0001", "zhang.san", 'A', EXPIRY, b);
	snprintf(mix, sizeof(mix), "%.*s%s", (int)(strchr(a, '.') - a), a,
	    strchr(b, '.'));
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), mix, 0, &out),
	    -EBADMSG);
}

static void
test_wrong_key(void **state)
{
	char		 token[LINKTOKEN_TOKEN_MAX + 1];
	struct linktoken	 out;

	make("INC-20261128-0001", "wang.li", 'A', EXPIRY, token);
	assert_int_equal(linktoken_v1_verify(other_key, sizeof(other_key), token, 0,
	    &out), -EBADMSG);
	assert_int_equal(linktoken_v1_verify(key, LINKTOKEN_KEY_MIN, token, 0, &out),
	    -EBADMSG);
	assert_int_equal(linktoken_v1_verify(key, LINKTOKEN_KEY_MIN - 1, token, 0,
	    &out), -EINVAL);
}

static void
test_expiry(void **state)
{
	char		 token[LINKTOKEN_TOKEN_MAX + 1];
	struct linktoken	 out;

	make("INC-20261128-0001", "wang.li", 'F', EXPIRY, token);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), token, EXPIRY - 1,
	    &out), 0);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), token, EXPIRY,
	    &out), -ETIMEDOUT);
	/* Still says which incident, for the answer page. */
	assert_string_equal(out.incident, "INC-20261128-0001");
	assert_int_equal(out.action, 'F');
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), token, EXPIRY + 1,
	    &out), -ETIMEDOUT);
	/* Altered and expired is altered. */
	token[2] ^= 1;
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), token, EXPIRY + 1,
	    &out), -EBADMSG);
}

static void
test_malformed(void **state)
{
	char		 token[LINKTOKEN_TOKEN_MAX + 1], big[LINKTOKEN_TOKEN_MAX + 2];
	struct linktoken	 out;

	assert_int_equal(linktoken_v1_verify(key, sizeof(key), "", 0, &out),
	    -EINVAL);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), "abc", 0, &out),
	    -EINVAL);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), ".abc", 0, &out),
	    -EINVAL);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), "abc.", 0, &out),
	    -EINVAL);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), "a.b.c", 0, &out),
	    -EINVAL);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), NULL, 0, &out),
	    -EINVAL);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), "ab+c.abcd", 0,
	    &out), -EBADMSG);
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), "abcd=.abcd", 0,
	    &out), -EBADMSG);

	/* Over the cap, even if it would otherwise verify. */
	make("INC-20261128-0001", "wang.li", 'A', EXPIRY, token);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 1 - strlen(token), token, strlen(token));
	assert_int_equal(linktoken_v1_verify(key, sizeof(key), big, 0, &out),
	    -EINVAL);
}

static void
test_make_rejects(void **state)
{
	char	 token[LINKTOKEN_TOKEN_MAX + 1], long_id[LINKTOKEN_FIELD_MAX + 2];

	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
#define MAKE(i, p, a, e)	linktoken_v1_make(key, sizeof(key), i, p, a, e, \
	    token, sizeof(token))
	assert_int_equal(MAKE("INC-1", "li", 'X', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC-1", "li", 'a', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC|1", "li", 'A', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC-1", "l i", 'A', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC-1", "", 'A', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC-1", "李", 'A', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC-1", long_id, 'A', EXPIRY), -EINVAL);
	assert_int_equal(MAKE(NULL, "li", 'A', EXPIRY), -EINVAL);
	assert_int_equal(MAKE("INC-1", "li", 'A', -1), -EINVAL);
#undef MAKE
	assert_int_equal(linktoken_v1_make(key, LINKTOKEN_KEY_MIN - 1, "INC-1", "li",
	    'A', EXPIRY, token, sizeof(token)), -EINVAL);
	assert_int_equal(linktoken_v1_make(key, sizeof(key), "INC-1", "li", 'A',
	    EXPIRY, token, 20), -ENOSPC);
}

/* Pages ------------------------------------------------------------------ */

/* No raw markup from s, and its escaped form present. */
static void
assert_escaped(const char *page, const char *what)
{
	if (strstr(page, "<b id") != NULL || strstr(page, "\"x'") != NULL)
		fail_msg("%s: raw markup in page:\n%s", what, page);
	if (strstr(page, "&lt;b id=&quot;x&#39;&gt;&amp;") == NULL)
		fail_msg("%s: escaped text missing from page:\n%s", what, page);
}

static void
test_page(void **state)
{
	struct linkpage_summary s = {
		.incident = "INC-20261128-0001",
		.title = "镇北河道水位超警戒",
		.office = "城关镇人民政府",
		.level = "II",
		.occurred = "11月28日 14:05",
		.person = "王丽",
	};
	char	*page;

	page = linkpage_confirm(&s, "tok.en", 'A');
	assert_non_null(page);
	assert_non_null(strstr(page, "<meta name=\"viewport\""));
	assert_non_null(strstr(page, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(page, "<form method=\"post\""));
	assert_non_null(strstr(page, "name=\"token\" value=\"tok.en\""));
	assert_non_null(strstr(page, "<button"));
	assert_non_null(strstr(page, "确认收到"));
	assert_non_null(strstr(page, "镇北河道水位超警戒"));
	assert_non_null(strstr(page, "城关镇人民政府"));
	assert_non_null(strstr(page, "INC-20261128-0001"));
	assert_non_null(strstr(page, "11月28日 14:05"));
	assert_non_null(strstr(page, "Ⅱ级"));
	assert_non_null(strstr(page, "王丽"));
	free(page);

	/* The incident's page, below the button, is a plain link. */
	s.url = "https://duty.example.gov.cn/incidents/INC-20261128-0001";
	page = linkpage_confirm(&s, "t", 'A');
	assert_non_null(page);
	assert_non_null(strstr(page, "<a href=\"https://duty.example.gov.cn/"
	    "incidents/INC-20261128-0001\">查看事件详情</a>"));
	assert_null(strstr(page, "值班系统"));
	free(page);

	/* Missing fields are left out, not printed as "(null)". */
	s.level = NULL;
	s.person = NULL;
	page = linkpage_confirm(&s, "t", 'A');
	assert_non_null(page);
	assert_null(strstr(page, "null"));
	assert_null(strstr(page, "事件级别"));
	free(page);

	/* Resolving or filing is never a tap: no page offers it. */
	errno = 0;
	assert_null(linkpage_confirm(&s, "t", 'R'));
	assert_int_equal(errno, EINVAL);
	assert_null(linkpage_confirm(&s, "t", 'F'));
	assert_null(linkpage_confirm(&s, "t", 'X'));
	assert_null(linkpage_confirm(&s, NULL, 'A'));
}

static void
test_page_escapes(void **state)
{
	static const char evil[] = "<b id=\"x'>&amp;";
	struct linkpage_summary base = {
		.incident = "INC-20261128-0001", .title = "t", .office = "o",
		.level = "IV", .occurred = "14:05", .person = "p",
	};
	struct linkpage_summary s;
	const char	**fields[] = { &s.incident, &s.title, &s.office,
			    &s.level, &s.occurred, &s.person };
	char		*page;
	size_t		 i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		s = base;
		*fields[i] = evil;
		page = linkpage_confirm(&s, "tok", 'A');
		assert_non_null(page);
		assert_escaped(page, "summary field");
		free(page);
	}
	page = linkpage_confirm(&base, evil, 'A');
	assert_non_null(page);
	assert_escaped(page, "token");
	free(page);

	page = linkpage_done(evil, NULL);
	assert_non_null(page);
	assert_escaped(page, "done page");
	assert_non_null(strstr(page, "<meta name=\"viewport\""));
	free(page);
	page = linkpage_error(evil, NULL);
	assert_non_null(page);
	assert_escaped(page, "error page");
	free(page);

	page = linkpage_error("链接已过期，请回复短信 3A 确认。", NULL);
	assert_non_null(page);
	assert_non_null(strstr(page, "链接已过期，请回复短信 3A 确认。"));
	assert_null(strstr(page, "<form"));
	free(page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_round_trip),
		cmocka_unit_test(test_short_every_character_altered),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fields_cannot_run_together),
		cmocka_unit_test(test_every_byte_altered),
		cmocka_unit_test(test_parts_swapped),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_make_rejects),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_page_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
