/*
 * UTF-8: the one decoder the daemon uses, and what its callers build on it.
 * Strict as RFC 3629: overlong forms, surrogates (U+D800-U+DFFF), values
 * past U+10FFFF, stray continuation bytes and sequences cut short are all
 * invalid.  Pure functions of bytes; a NUL byte is a character like any
 * other unless a function says it stops there.
 */
#ifndef DUTYD_UTF8_H
#define DUTYD_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_NOCAP	((size_t)-1)	/* utf8_cut(): no limit */

/* The code point at s (at most len bytes) into *cp: bytes used (1-4), or -1. */
int	 utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Bytes of the longest prefix of s[0..len) made of valid characters. */
size_t	 utf8_span(const char *s, size_t len);
/* 1 if s[0..len) is valid UTF-8, else 0. */
int	 utf8_valid(const char *s, size_t len);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t	 utf8_length(const char *s);
/* The same for its first N bytes (N at most its length). */
size_t	 utf8_count(const char *s, size_t n);

/*
 * Bytes of s[0..len) cut at a character boundary to at most max_chars code
 * points and at most max_bytes bytes (UTF8_NOCAP: no limit).  The cut also
 * stops before the first invalid byte, so it never ends mid-character.
 */
size_t	 utf8_cut(const char *s, size_t len, size_t max_chars,
	    size_t max_bytes);
/*
 * Where the last character of s[0..len) starts (0 when len is 0), to step
 * back one character at a time.  In invalid input a byte that is not part
 * of a valid character is a character of its own.
 */
size_t	 utf8_back(const char *s, size_t len);
/*
 * A malloc'd copy of the string s cut at max code points; *cut tells
 * whether anything went.  NULL with errno EILSEQ (s is not valid UTF-8) or
 * ENOMEM.
 */
char	*utf8_dup_cut(const char *s, size_t max, int *cut);

/*
 * The code point at P (P < END), or -1 for an invalid byte; its length in
 * *LEN.  An invalid byte counts as one character (shown as U+FFFD).
 */
long	utf8_next(const char *p, const char *end, size_t *len);

#endif
