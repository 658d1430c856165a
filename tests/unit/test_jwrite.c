/*
 * jwrite (base/jwrite.c) writes what json_dumps(JSON_COMPACT |
 * JSON_ENCODE_ANY) writes, with and without JSON_SORT_KEYS, and fails
 * where it fails: every kind of value, strings jansson escapes or refuses,
 * keys with a NUL, deep trees, and trees built at random.  Each case would
 * fail if the fast way and jansson's parted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/jfast.h"
#include "base/jwrite.h"
#include "base/utf8.h"

/* V written both ways, flags both ways: the same bytes, or both refuse. */
static void
assert_as_jansson(const json_t *v)
{
	static const unsigned flags[] = { 0, JWRITE_SORT };
	struct jwrite	 w;
	char		*d;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		memset(&w, 0, sizeof(w));
		jwrite_value(&w, v, flags[i]);
		d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
		    (flags[i] ? JSON_SORT_KEYS : 0));
		if (d == NULL)
			assert_true(w.failed);
		else {
			assert_false(w.failed);
			assert_int_equal(w.len, strlen(d));
			assert_memory_equal(w.p, d, w.len);
			assert_int_equal(w.p[w.len], '\0');
		}
		free(d);
		free(w.p);
	}
}

static void
test_leaves(void **state)
{
	static const char *const strings[] = {
		"", "plain", "有雨", "a\"quote", "back\\slash", "new\nline",
		"tab\there", "\x01\x1f", "slash/ok", "\x7f", "12345678abcdefgh",
		"混合 text 与 \"引号\" and more than eight bytes",
		"U+2028 \xe2\x80\xa8 and U+10FFFF \xf4\x8f\xbf\xbf",
		"\xf0\x9f\x98\x80 emoji",
	};
	static const json_int_t ints[] = { 0, 1, -1, 42, 1000000,
	    INT64_MAX, INT64_MIN };
	json_t	*v;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		v = json_string(strings[i]);
		assert_non_null(v);
		assert_as_jansson(v);
		json_decref(v);
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		v = json_integer(ints[i]);
		assert_as_jansson(v);
		json_decref(v);
	}
	v = json_real(0.1);
	assert_as_jansson(v);
	json_decref(v);
	v = json_real(-3e300);
	assert_as_jansson(v);
	json_decref(v);
	assert_as_jansson(json_true());
	assert_as_jansson(json_false());
	assert_as_jansson(json_null());
	/* A NUL inside: jansson escapes it. */
	v = json_stringn("a\0b", 3);
	assert_as_jansson(v);
	json_decref(v);
}

/* What jansson refuses to write (strings made without its check). */
static void
test_invalid_utf8_is_refused(void **state)
{
	static const char *const bad[] = {
		"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"cut \xe6\x9c", "\x80 stray", "overlong \xe0\x80\xaf",
	};
	struct jwrite	 w;
	json_t		*v, *o;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(jwrite_plain(bad[i], strlen(bad[i])));
		v = json_string_nocheck(bad[i]);
		assert_as_jansson(v);
		o = json_pack("{s:o}", "k", v);
		assert_as_jansson(o);
		json_decref(o);
		/*
		 * A key that is not UTF-8 (only json_object_set_nocheck() can
		 * make one; dutyd's records never do): jansson 2.14 writes a
		 * broken text ({":true}), jwrite refuses.
		 */
		o = json_object();
		json_object_set_new_nocheck(o, bad[i], json_true());
		memset(&w, 0, sizeof(w));
		jwrite_value(&w, o, 0);
		assert_true(w.failed);
		free(w.p);
		json_decref(o);
	}
	assert_true(jwrite_plain("有雨 ok", strlen("有雨 ok")));
	assert_false(jwrite_plain("a\"b", 3));
	assert_false(jwrite_plain("12345678\\", 9));
	assert_false(jwrite_plain("1234567\n", 8));
}

/*
 * Every length to 24 and every place in it: one byte to escape, or not
 * UTF-8, is found wherever it is (the eight-byte words, the last word
 * read over bytes already looked at, the bytes one by one), and a
 * character of two or three bytes anywhere is plain.
 */
static void
test_plain_at_every_place(void **state)
{
	static const char *const bad[] = { "\"", "\\", "\x01", "\x1f", "\n",
	    "\x80", "\xe4\xb8", "\xc3" };
	static const char *const good[] = { "\x7f", " ", "\xc3\xa9",
	    "\xe6\x9c\x89", "/" };
	char	 s[40];
	size_t	 n, at, k, len;

	(void)state;
	for (n = 0; n <= 24; n++) {
		memset(s, 'a', n);
		assert_true(jwrite_plain(s, n));
		for (at = 0; at < n; at++) {
			for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
				memset(s, 'a', sizeof(s));
				len = strlen(bad[k]);
				memcpy(s + at, bad[k], len);
				assert_false(jwrite_plain(s, n + len));
			}
			for (k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
				memset(s, 'a', sizeof(s));
				len = strlen(good[k]);
				memcpy(s + at, good[k], len);
				assert_true(jwrite_plain(s, n + len));
			}
		}
	}
}

/* utf8_decode()'s validity, sequence for sequence. */
static int
decoder_valid(const unsigned char *u, size_t n)
{
	uint32_t cp;
	size_t	 i = 0;
	int	 k;

	while (i < n) {
		if ((k = utf8_decode((const char *)u + i, n - i, &cp)) < 0 ||
		    cp < 0x20 || cp == '"' || cp == '\\')
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/*
 * jwrite_plain()'s inline table is the daemon's one decoder: every
 * sequence of one to three bytes, and four-byte ones around each edge.
 */
static void
test_plain_is_the_decoder(void **state)
{
	static const unsigned char edges[] = { 0x00, 0x22, 0x5c, 0x7f, 0x80,
	    0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed,
	    0xee, 0xef, 0xf0, 0xf4, 0xf5, 0xff };
	unsigned char	 u[12];
	unsigned	 a, b, c, d;
	size_t		 ne = sizeof(edges);

	(void)state;
	for (a = 0; a < 256; a++) {
		u[0] = (unsigned char)a;
		assert_int_equal(jwrite_plain((char *)u, 1), decoder_valid(u, 1));
		for (b = 0; b < 256; b++) {
			u[1] = (unsigned char)b;
			assert_int_equal(jwrite_plain((char *)u, 2),
			    decoder_valid(u, 2));
			for (c = 0; c < 256; c += (a >= 0xe0 ? 1 : 17)) {
				u[2] = (unsigned char)c;
				assert_int_equal(jwrite_plain((char *)u, 3),
				    decoder_valid(u, 3));
			}
		}
	}
	for (a = 0xf0; a < 0x100; a++)
		for (b = 0; b < ne; b++)
			for (c = 0; c < ne; c++)
				for (d = 0; d < ne; d++) {
					u[0] = (unsigned char)a;
					u[1] = edges[b];
					u[2] = edges[c];
					u[3] = edges[d];
					assert_int_equal(jwrite_plain((char *)u, 4),
					    decoder_valid(u, 4));
				}
	/* Past the eight-byte stride: the same answers at every offset. */
	for (a = 0; a < 9; a++) {
		memset(u, 'a', sizeof(u));
		memcpy(u + a, "\xe4\xb8\xad", 3);
		assert_true(jwrite_plain((char *)u, sizeof(u)));
		u[a + 2] = 0x20;
		assert_false(jwrite_plain((char *)u, sizeof(u)));
	}
}

/*
 * Two characters at once (jwrite_utf8_pair()): every three bytes led by
 * 0xe0..0xef before and after a Chinese character, in jwrite_plain() and
 * in jfast's check of a body, answer as the decoder and jansson do.
 */
static void
test_pairs_are_the_decoder(void **state)
{
	static const unsigned char third[] = { 0x00, 0x22, 0x41, 0x5c, 0x7f,
	    0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xe4, 0xff };
	unsigned char	 u[8], body[32];
	unsigned	 a, b, c, first;
	json_t		*fast, *slow;

	(void)state;
	for (first = 0; first <= 1; first++)
		for (a = 0xe0; a <= 0xef; a++)
			for (b = 0; b < 256; b++)
				for (c = 0; c < sizeof(third); c++) {
					memcpy(u, "\xe4\xb8\xad\xe4\xb8\xad" "ab", 8);
					u[first ? 0 : 3] = (unsigned char)a;
					u[first ? 1 : 4] = (unsigned char)b;
					u[first ? 2 : 5] = third[c];
					assert_int_equal(jwrite_plain((char *)u, 8),
					    decoder_valid(u, 8));
					memcpy(body, "{\"k\":\"", 6);
					memcpy(body + 6, u, 8);
					memcpy(body + 14, "\"}", 2);
					fast = jfast_load((char *)body, 16);
					slow = json_loadb((char *)body, 16,
					    JSON_REJECT_DUPLICATES, NULL);
					assert_true(fast == NULL ||
					    json_equal(fast, slow));
					if (decoder_valid(u, 8))
						assert_non_null(fast);
					else if (slow == NULL)
						assert_null(fast);
					json_decref(fast);
					json_decref(slow);
				}
}

static void
test_containers(void **state)
{
	json_t	*o, *deep, *k;
	int	 i;

	(void)state;
	o = json_loads("{\"z\":1,\"a\":[],\"m\":{},\"b\":[1,\"x\",null,true,"
	    "{\"y\":2,\"c\":[false]}],\"aa\":\"有\",\"a\\\"q\":0.5}", 0, NULL);
	assert_non_null(o);
	assert_as_jansson(o);
	/* Keys with a NUL, and one a prefix of another: the sorted order. */
	json_object_setn_new(o, "a\0b", 3, json_integer(7));
	json_object_setn_new(o, "a\0", 2, json_integer(8));
	json_object_setn_new(o, "", 0, json_integer(9));
	assert_as_jansson(o);
	json_decref(o);
	assert_as_jansson(o = json_object());
	json_decref(o);
	assert_as_jansson(o = json_array());
	json_decref(o);
	/* Deeper than jwrite goes: jansson writes the rest. */
	deep = json_string("bottom");
	for (i = 0; i < JWRITE_DEPTH_MAX + 5; i++) {
		k = i % 2 ? json_array() : json_object();
		if (json_is_array(k))
			json_array_append_new(k, deep);
		else {
			json_object_set_new(k, "z", deep);
			json_object_set_new(k, "a", json_integer(i));
		}
		deep = k;
	}
	assert_as_jansson(deep);
	json_decref(deep);
}

/* A cycle: jansson refuses it, and so does jwrite. */
static void
test_cycle_is_refused(void **state)
{
	json_t		*a = json_array(), *b = json_array();
	struct jwrite	 w;

	(void)state;
	json_array_append(a, b);
	json_array_append(b, a);
	memset(&w, 0, sizeof(w));
	jwrite_value(&w, a, 0);
	assert_true(w.failed);
	assert_null(json_dumps(a, JSON_COMPACT));
	free(w.p);
	json_array_clear(b);
	json_decref(a);
	json_decref(b);
}

static unsigned	seed = 12345;

static unsigned
rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % n;
}

static json_t *
random_value(int depth)
{
	static const char *const words[] = {
		"title", "有雨", "a\"b", "", "x\ny", "报告 report", "z", "aa",
		"\xe2\x85\xa1", "0123456789abcdef0123", "\\",
	};
	json_t	*v;
	int	 i, n;

	switch (depth > 4 ? rnd(5) : rnd(7)) {
	case 0:
		return json_string(words[rnd(sizeof(words) / sizeof(words[0]))]);
	case 1:
		return json_integer((json_int_t)rnd(100000) - 50000);
	case 2:
		return json_boolean(rnd(2));
	case 3:
		return json_null();
	case 4:
		return json_real((double)rnd(1000) / 7.0);
	case 5:
		v = json_array();
		n = (int)rnd(5);
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		n = (int)rnd(6);
		for (i = 0; i < n; i++)
			json_object_set_new(v, words[rnd(sizeof(words) /
			    sizeof(words[0]))], random_value(depth + 1));
		return v;
	}
}

static void
test_random_trees(void **state)
{
	json_t	*v;
	int	 i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		v = random_value(0);
		assert_as_jansson(v);
		json_decref(v);
	}
}

/* Appending keeps what was there, and the text stays NUL-terminated. */
static void
test_appends(void **state)
{
	struct jwrite	 w;
	json_t		*v = json_pack("{s:s}", "k", "值");

	(void)state;
	memset(&w, 0, sizeof(w));
	jwrite_bytes(&w, "[", 1);
	jwrite_value(&w, v, 0);
	jwrite_bytes(&w, ",", 1);
	jwrite_string(&w, "a\tb", 3);
	jwrite_bytes(&w, "]", 1);
	assert_false(w.failed);
	assert_string_equal(w.p, "[{\"k\":\"值\"},\"a\\tb\"]");
	free(w.p);
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaves),
		cmocka_unit_test(test_invalid_utf8_is_refused),
		cmocka_unit_test(test_plain_is_the_decoder),
		cmocka_unit_test(test_plain_at_every_place),
		cmocka_unit_test(test_pairs_are_the_decoder),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_cycle_is_refused),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
