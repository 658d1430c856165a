/*
 * UTF-8 decoding and cutting (see utf8.h).  Every walk goes through
 * utf8_decode(), so there is one place that decides what is valid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

int
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t	 c, min;
	size_t		 n, i;

	if (len == 0)
		return -1;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	/* 0xc0, 0xc1 and 0xf5-0xff can only start overlong or too large values. */
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		c = u[0] & 0x1f;
		min = 0x80;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		c = u[0] & 0x0f;
		min = 0x800;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		c = u[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return (int)n;
}

size_t
utf8_span(const char *s, size_t len)
{
	size_t	 i = 0;
	uint32_t cp;
	int	 n;

	while (i < len && (n = utf8_decode(s + i, len - i, &cp)) > 0)
		i += (size_t)n;
	return i;
}

int
utf8_valid(const char *s, size_t len)
{
	return utf8_span(s, len) == len;
}

size_t
utf8_count(const char *s, size_t n)
{
	size_t i, count = 0;

	/* In valid UTF-8 each byte but a continuation byte starts a code point. */
	for (i = 0; i < n && s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

size_t
utf8_length(const char *s)
{
	return utf8_count(s, strlen(s));
}

size_t
utf8_cut(const char *s, size_t len, size_t max_chars, size_t max_bytes)
{
	size_t	 i = 0;
	uint32_t cp;
	int	 n;

	if (max_bytes < len)
		len = max_bytes;
	/* A character running past len fails to decode: the cut comes before it. */
	while (i < len && max_chars > 0 &&
	    (n = utf8_decode(s + i, len - i, &cp)) > 0) {
		i += (size_t)n;
		max_chars--;
	}
	return i;
}

size_t
utf8_back(const char *s, size_t len)
{
	size_t	 k;
	uint32_t cp;

	if (len == 0)
		return 0;
	for (k = 1; k <= 4 && k <= len; k++) {
		if (((unsigned char)s[len - k] & 0xc0) == 0x80)
			continue;
		if (utf8_decode(s + len - k, k, &cp) == (int)k)
			return len - k;
		break;
	}
	return len - 1;
}

char *
utf8_dup_cut(const char *s, size_t max, int *cut)
{
	size_t	 len = strlen(s), n;
	char	*out;

	*cut = 0;
	if (!utf8_valid(s, len)) {
		errno = EILSEQ;
		return NULL;
	}
	n = utf8_cut(s, len, max, UTF8_NOCAP);
	*cut = n < len;
	if ((out = strndup(s, n)) == NULL)
		errno = ENOMEM;
	return out;
}

long
utf8_next(const char *p, const char *end, size_t *len)
{
	uint32_t cp;
	int	 n;

	if ((n = utf8_decode(p, (size_t)(end - p), &cp)) < 0) {
		*len = 1;
		return -1;
	}
	*len = (size_t)n;
	return (long)cp;
}
