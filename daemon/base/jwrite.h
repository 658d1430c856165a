/*
 * jwrite: the bytes json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) makes,
 * written into a growing buffer without jansson's per-character walk
 * (its dump was a third of a report's intake instructions).  What jansson
 * would change or refuse (a string needing an escape or not valid UTF-8,
 * a real, a tree deeper than JWRITE_DEPTH_MAX) is dumped by jansson
 * itself, for that value alone: compact dumps do not depend on where a
 * value sits, so the text stays jansson's byte for byte.  One difference:
 * a key that is not UTF-8 (only json_object_set_nocheck() makes one, and
 * no record does) jansson 2.14 writes as a broken text; jwrite refuses it.
 */
#ifndef DUTYD_JWRITE_H
#define DUTYD_JWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#define JWRITE_DEPTH_MAX	32	/* deeper: jansson dumps the rest */
#define JWRITE_SORT		0x1	/* keys sorted, as JSON_SORT_KEYS */
/*
 * Every string and key in the value is known plain (jwrite_plain() says
 * 1: a tree jfast_load() built from a body it checked whole), so none is
 * looked at again; a string that is not would be written unescaped.
 */
#define JWRITE_PLAIN		0x2

struct jwrite {
	char	*p;		/* NUL-terminated while not failed */
	size_t	 len, cap;
	int	 failed;	/* out of memory, or jansson refused a value */
};

/* jwrite_bytes() when the buffer must grow (or has failed). */
void	jwrite_bytes_grow(struct jwrite *w, const char *s, size_t n);
/*
 * N bytes appended as they are.  Inline: most are a brace or a key's
 * colon, and a call, the room's check and memcpy's cost more than them.
 */
static inline void
jwrite_bytes(struct jwrite *w, const char *s, size_t n)
{
	if (w->failed || w->len + n + 1 > w->cap) {
		jwrite_bytes_grow(w, s, n);
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}
/* A string as jansson writes it, quotes included. */
void	jwrite_string(struct jwrite *w, const char *s, size_t n);
/* An integer as jansson writes it. */
void	jwrite_int(struct jwrite *w, json_int_t v);
/* Any value as json_dumps() writes it (JWRITE_SORT: with JSON_SORT_KEYS). */
void	jwrite_value(struct jwrite *w, const json_t *v, unsigned flags);
/*
 * 1 when jansson writes s[0..n) as it is between its quotes: valid UTF-8
 * (utf8_decode()'s rules, which are jansson's) without '"', '\\' or a
 * byte below 0x20.
 */
int	jwrite_plain(const char *s, size_t n);
/*
 * Eight bytes at a time (jwrite_plain(), base/jfast.c): a byte of the
 * 64-bit word W at or above 0x80, or below N (N <= 0x80; maybe one just
 * past such a byte, so a hit is looked at byte by byte).
 */
#define JWRITE_ONES	0x0101010101010101ULL
#define JWRITE_HIGHS	0x8080808080808080ULL
#define JWRITE_LESS(w, n)	(((w) - JWRITE_ONES * (n)) & ~(w) & JWRITE_HIGHS)
/*
 * RFC 3629's table, the very rules utf8_decode() applies (test_jwrite.c
 * compares the two on every sequence up to three bytes and a sample of
 * four), without decoding: a report is mostly Chinese, and utf8_decode()
 * cost 52 instructions a character.  The bytes of the one valid character
 * at s (s[0] >= 0x80, at most n bytes), or 0 when they are not one.
 * Inline: a call a character cost as much as the check.
 */
static inline size_t
jwrite_utf8_char(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned char		 lo = 0x80, hi = 0xbf;

	/* U+1000..U+CFFF and U+E000..U+FFFF (Chinese): no edge case. */
	if (((u[0] >= 0xe1 && u[0] <= 0xec) || u[0] >= 0xee) && u[0] <= 0xef)
		return n >= 3 && (u[1] & 0xc0) == 0x80 &&
		    (u[2] & 0xc0) == 0x80 ? 3 : 0;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		return n >= 2 && (u[1] & 0xc0) == 0x80 ? 2 : 0;
	if (u[0] == 0xe0 || u[0] == 0xed) {
		if (u[0] == 0xe0)
			lo = 0xa0;		/* overlong */
		else
			hi = 0x9f;		/* surrogates */
		return n >= 3 && u[1] >= lo && u[1] <= hi &&
		    (u[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		if (u[0] == 0xf0)
			lo = 0x90;		/* overlong */
		else if (u[0] == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
		return n >= 4 && u[1] >= lo && u[1] <= hi &&
		    (u[2] & 0xc0) == 0x80 && (u[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/*
 * 6 when s holds two characters of U+1000..U+CFFF or U+E000..U+FFFF (a
 * Chinese text's every character: jwrite_utf8_char()'s first case, which
 * has no edge) and at least 8 bytes may be read; else 0, and the caller
 * asks jwrite_utf8_char().  A word's masks take both at once.
 */
static inline size_t
jwrite_utf8_pair(const char *s, size_t n)
{
	static const unsigned char mask[8] = { 0xf0, 0xc0, 0xc0, 0xf0, 0xc0,
	    0xc0, 0, 0 }, want[8] = { 0xe0, 0x80, 0x80, 0xe0, 0x80, 0x80, 0,
	    0 };
	const unsigned char	*u = (const unsigned char *)s;
	uint64_t		 x, m, w;

	if (n < 8)
		return 0;
	memcpy(&x, s, 8);
	memcpy(&m, mask, 8);
	memcpy(&w, want, 8);
	return (x & m) == w && u[0] != 0xe0 && u[0] != 0xed && u[3] != 0xe0 &&
	    u[3] != 0xed ? 6 : 0;
}

#endif
