/*
 * The daemon's one UTF-8 decoder, and the cutting and counting built on it:
 * what phones, config files and API clients send is decoded here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/utf8.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The encoder of RFC 3629, written out: the oracle for the decoder. */
static size_t
encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static void
test_decode_valid(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len;
		uint32_t	 cp;
	} ok[] = {
		{ "", 1, 0 },			/* NUL is a character */
		{ "A", 1, 'A' },
		{ "\x7f", 1, 0x7f },
		{ "\xc2\x80", 2, 0x80 },	/* first of each length */
		{ "é", 2, 0xe9 },
		{ "\xdf\xbf", 2, 0x7ff },	/* last of each length */
		{ "\xe0\xa0\x80", 3, 0x800 },
		{ "中", 3, 0x4e2d },
		{ "\xed\x9f\xbf", 3, 0xd7ff },	/* around the surrogates */
		{ "\xee\x80\x80", 3, 0xe000 },
		{ "\xe3\x80\x80", 3, 0x3000 },	/* ideographic space */
		{ "\xef\xbf\xbf", 3, 0xffff },
		{ "\xf0\x90\x80\x80", 4, 0x10000 },
		{ "😀", 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	};
	uint32_t	 cp;
	size_t		 i;

	for (i = 0; i < NELEM(ok); i++) {
		cp = 0xdeadbeef;
		if (utf8_decode(ok[i].s, ok[i].len, &cp) != (int)ok[i].len ||
		    cp != ok[i].cp)
			fail_msg("case %zu: U+%04X", i, (unsigned)ok[i].cp);
		/* Bytes after the character are not its business. */
		if (ok[i].len > 1 || ok[i].cp != 0)
			assert_int_equal(utf8_decode(ok[i].s, ok[i].len + 1,
			    &cp), (int)ok[i].len);
	}
}

static void
test_decode_invalid(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len;
	} bad[] = {
		{ "A", 0 },			/* nothing to decode */
		{ "\xc0\xaf", 2 },		/* overlong '/' */
		{ "\xc1\xbf", 2 },
		{ "\xe0\x80\xaf", 3 },
		{ "\xe0\x9f\xbf", 3 },		/* U+07FF in three bytes */
		{ "\xf0\x80\x80\xaf", 4 },
		{ "\xf0\x8f\xbf\xbf", 4 },	/* U+FFFF in four bytes */
		{ "\xed\xa0\x80", 3 },		/* surrogates */
		{ "\xed\xbf\xbf", 3 },
		{ "\xf4\x90\x80\x80", 4 },	/* past U+10FFFF */
		{ "\xf5\x80\x80\x80", 4 },
		{ "\xf8\x88\x80\x80\x80", 5 },	/* the old five- and six-byte forms */
		{ "\xfc\x84\x80\x80\x80\x80", 6 },
		{ "\xfe", 1 },
		{ "\xff", 1 },
		{ "\x80", 1 },			/* stray continuation bytes */
		{ "\xbf", 1 },
		{ "\xc3", 1 },			/* cut short by the end */
		{ "\xe4\xb8", 2 },
		{ "\xf0\x9f\x98", 3 },
		{ "中", 2 },			/* ... or by len */
		{ "\xe4" "A" "\xad", 3 },	/* cut short by another character */
		{ "\xc3", 2 },			/* ... or by the NUL after it */
		{ "\xb2\xe2", 2 },		/* GBK for 测 */
	};
	uint32_t	 cp;
	size_t		 i;

	for (i = 0; i < NELEM(bad); i++)
		if (utf8_decode(bad[i].s, bad[i].len, &cp) != -1)
			fail_msg("case %zu decoded to U+%04X", i, (unsigned)cp);
}

/*
 * Every sequence of two and three bytes, and every four-byte one with a
 * lead byte that can start one: what decodes must be the shortest form of
 * its code point, and every code point must decode.
 */
static void
test_decode_exhaustive(void **state)
{
	unsigned char	 b[4], enc[4];
	uint32_t	 cp, v;
	size_t		 valid[5] = { 0 };
	int		 n;

	for (v = 0; v < 1u << 24; v++) {
		b[0] = (unsigned char)(v >> 16);
		b[1] = (unsigned char)(v >> 8);
		b[2] = (unsigned char)v;
		if ((n = utf8_decode((char *)b, 3, &cp)) < 0)
			continue;
		assert_int_equal(encode(cp, enc), n);
		assert_memory_equal(enc, b, (size_t)n);
		if (n == 3 || (n == 2 && b[2] == 0))
			valid[n]++;
	}
	for (v = 0; v < 5u << 18; v++) {
		b[0] = (unsigned char)(0xf0 + (v >> 18));
		b[1] = (unsigned char)(0x80 | (v >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (v >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (v & 0x3f));
		if ((n = utf8_decode((char *)b, 4, &cp)) < 0)
			continue;
		assert_int_equal(n, 4);
		assert_int_equal(encode(cp, enc), 4);
		assert_memory_equal(enc, b, 4);
		valid[4]++;
	}
	assert_int_equal(valid[2], 0x800 - 0x80);
	assert_int_equal(valid[3], 0x10000 - 0x800 - 0x800);	/* no surrogates */
	assert_int_equal(valid[4], 0x110000 - 0x10000);
	for (v = 0; v <= 0x10ffff; v++) {
		if (v >= 0xd800 && v <= 0xdfff)
			continue;
		n = (int)encode(v, enc);
		assert_int_equal(utf8_decode((char *)enc, (size_t)n, &cp), n);
		assert_int_equal(cp, v);
		/* One byte short is never a shorter character. */
		if (n > 1)
			assert_int_equal(utf8_decode((char *)enc, (size_t)n - 1,
			    &cp), -1);
	}
}

static void
test_valid_and_span(void **state)
{
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("张伟 A😀", strlen("张伟 A😀")));
	assert_true(utf8_valid("a\0b", 3));
	assert_false(utf8_valid("中\xe6\x96", 5));
	assert_false(utf8_valid("\xed\xa0\x80", 3));

	assert_int_equal(utf8_span("", 0), 0);
	assert_int_equal(utf8_span("abc", 3), 3);
	assert_int_equal(utf8_span("中\xe6\x96", 5), 3);	/* truncated 文 */
	assert_int_equal(utf8_span("ab\xff" "cd", 5), 2);
	assert_int_equal(utf8_span("x\xc0\xaf", 3), 1);
	assert_int_equal(utf8_span("\x80", 1), 0);
	assert_int_equal(utf8_span("{title}\xb2\xe2", 9), 7);
	/* len bounds the walk: a character it would split is not counted. */
	assert_int_equal(utf8_span("a中", 3), 1);
}

static void
test_count(void **state)
{
	assert_int_equal(utf8_length(""), 0);
	assert_int_equal(utf8_length("abc"), 3);
	assert_int_equal(utf8_length("张伟"), 2);
	assert_int_equal(utf8_length("A县应急管理局"), 7);
	assert_int_equal(utf8_length("😀"), 1);
	assert_int_equal(utf8_count("A县应急", 4), 2);
	assert_int_equal(utf8_count("A县应急", 7), 3);
	assert_int_equal(utf8_count("A县应急", 0), 0);
	/* Counting stops at a NUL, as for a C string. */
	assert_int_equal(utf8_count("ab\0cd", 5), 2);
}

static void
test_cut(void **state)
{
	const char	*s = "张伟A😀é";	/* 3 + 3 + 1 + 4 + 2 bytes */
	size_t		 len = strlen(s);

	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, UTF8_NOCAP), len);
	/* By code points. */
	assert_int_equal(utf8_cut(s, len, 0, UTF8_NOCAP), 0);
	assert_int_equal(utf8_cut(s, len, 1, UTF8_NOCAP), 3);
	assert_int_equal(utf8_cut(s, len, 3, UTF8_NOCAP), 7);
	assert_int_equal(utf8_cut(s, len, 4, UTF8_NOCAP), 11);
	assert_int_equal(utf8_cut(s, len, 5, UTF8_NOCAP), len);
	assert_int_equal(utf8_cut(s, len, 99, UTF8_NOCAP), len);
	/* By bytes: never inside a character. */
	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, 2), 0);
	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, 3), 3);
	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, 5), 3);
	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, 7), 7);
	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, 10), 7);
	assert_int_equal(utf8_cut(s, len, UTF8_NOCAP, 12), 11);
	/* Whichever limit comes first. */
	assert_int_equal(utf8_cut(s, len, 2, 7), 6);
	assert_int_equal(utf8_cut(s, len, 4, 7), 7);
	/* len is the end, even where a character goes on past it. */
	assert_int_equal(utf8_cut(s, 5, UTF8_NOCAP, UTF8_NOCAP), 3);
	/* Invalid input: the cut comes before the first bad byte. */
	assert_int_equal(utf8_cut("ab\xff" "cd", 5, 10, 10), 2);
	assert_int_equal(utf8_cut("中\xe6\x96", 5, 10, 10), 3);
	assert_int_equal(utf8_cut("", 0, 10, 10), 0);
}

static void
test_back(void **state)
{
	const char	*s = "A张😀é";
	size_t		 starts[] = { 0, 1, 4, 8 };
	size_t		 len = strlen(s), i;

	assert_int_equal(utf8_back("", 0), 0);
	/* One character at a time, from the end. */
	for (i = NELEM(starts); i > 0; i--) {
		len = utf8_back(s, len);
		assert_int_equal(len, starts[i - 1]);
	}
	assert_int_equal(utf8_back(s, 0), 0);
	/* Invalid input: each stray byte is a character of its own. */
	assert_int_equal(utf8_back("a\xff", 2), 1);
	assert_int_equal(utf8_back("a\xe4\xb8", 3), 2);	/* truncated 中 */
	assert_int_equal(utf8_back("\x80\x80\x80\x80\x80", 5), 4);
	assert_int_equal(utf8_back("\xed\xa0\x80", 3), 2);	/* a surrogate */
	assert_int_equal(utf8_back("中\x80", 4), 3);
}

static void
dup_ok(const char *s, size_t max, const char *want, int want_cut)
{
	char	*got;
	int	 cut = -1;

	got = utf8_dup_cut(s, max, &cut);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(cut, want_cut);
	free(got);
}

static void
dup_bad(const char *s, size_t max)
{
	int	 cut = 1;

	errno = 0;
	assert_null(utf8_dup_cut(s, max, &cut));
	assert_int_equal(errno, EILSEQ);
	assert_int_equal(cut, 0);
}

static void
test_dup_cut(void **state)
{
	dup_ok("张伟A", 2, "张伟", 1);
	dup_ok("张伟A", 3, "张伟A", 0);
	dup_ok("+8613800138000", 64, "+8613800138000", 0);
	dup_ok("😀", 0, "", 1);
	dup_ok("", 0, "", 0);
	/* Not UTF-8: GBK from an old handset, a surrogate, a cut character. */
	dup_bad("\xb2\xe2\xca\xd4", 10);
	dup_bad("a\xed\xa0\x80", 10);
	/* Invalid past the cut is still invalid: the whole text is checked. */
	dup_bad("ab\xe4\xb8", 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_invalid),
		cmocka_unit_test(test_decode_exhaustive),
		cmocka_unit_test(test_valid_and_span),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_back),
		cmocka_unit_test(test_dup_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
