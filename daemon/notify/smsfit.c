/*
 * smsfit.c: SMS as carriers count it.  A text goes as GSM 7-bit septets
 * (160 in one message, 153 a part) or, with one character outside that
 * set, as UCS-2 units (70, 67 a part); handsets never split a character
 * across parts.  A message is fitted to a channel's max_segments here, so
 * no plugin ever cuts a character in half, and the link and reply hint
 * are never cut.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "notify/smsfit.h"

#define SMS_GSM_SINGLE	160
#define SMS_GSM_PART	153
#define SMS_UCS2_SINGLE	70
#define SMS_UCS2_PART	67
#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026, one UCS-2 unit */
#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/* Septets for one code point: 1 in the basic set, 2 in the extension table, 0 not GSM. */
static int
gsm_septets(long cp)
{
	/* GSM 03.38 basic set above U+007F. */
	static const unsigned short basic[] = {
		0x00a1, 0x00a3, 0x00a4, 0x00a5, 0x00a7, 0x00bf, 0x00c4, 0x00c5,
		0x00c6, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00d8, 0x00dc, 0x00df,
		0x00e0, 0x00e4, 0x00e5, 0x00e6, 0x00e8, 0x00e9, 0x00ec, 0x00f1,
		0x00f2, 0x00f6, 0x00f8, 0x00f9, 0x00fc, 0x0393, 0x0394, 0x0398,
		0x039b, 0x039e, 0x03a0, 0x03a3, 0x03a6, 0x03a8, 0x03a9,
	};
	size_t i;

	if (cp <= 0)
		return 0;
	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20ac ||
	    (cp < 0x80 && strchr("^{}\\[~]|", (int)cp) != NULL))
		return 2;
	if (cp >= 0x20 && cp < 0x7f)
		return cp == '`' ? 0 : 1;
	for (i = 0; i < sizeof(basic) / sizeof(basic[0]); i++)
		if (basic[i] == cp)
			return 1;
	return 0;
}

static size_t
ucs2_units(long cp)
{
	return cp > 0xffff ? 2 : 1;	/* an invalid byte is one U+FFFD */
}

/* Parts a text takes, packed the way handsets do: no character split. */
struct pack {
	size_t	total;
	size_t	parts;
	size_t	cur;
	size_t	part;		/* units per concatenated part */
};

static void
pack_add(struct pack *k, size_t units)
{
	if (k->parts == 0 || k->cur + units > k->part) {
		k->parts++;
		k->cur = 0;
	}
	k->cur += units;
	k->total += units;
}

static size_t
pack_segments(const struct pack *k, size_t single)
{
	return k->total <= single ? 1 : k->parts;
}

size_t
smsfit_units(const char *utf8, int *ucs2)
{
	const char	*p, *end;
	size_t		 gsm = 0, u16 = 0, clen;
	long		 cp;
	int		 is_gsm = 1, n;

	if (utf8 == NULL)
		utf8 = "";
	for (p = utf8, end = p + strlen(p); p < end; p += clen) {
		cp = utf8_next(p, end, &clen);
		u16 += ucs2_units(cp);
		if (is_gsm && (n = gsm_septets(cp)) > 0)
			gsm += (size_t)n;
		else
			is_gsm = 0;
	}
	if (ucs2 != NULL)
		*ucs2 = !is_gsm;
	return is_gsm ? gsm : u16;
}

int
smsfit_segments(const char *utf8)
{
	const char	*p, *end;
	struct pack	 k;
	size_t		 clen, n;
	long		 cp;
	int		 ucs2;

	if (utf8 == NULL)
		utf8 = "";
	smsfit_units(utf8, &ucs2);
	memset(&k, 0, sizeof(k));
	k.part = ucs2 ? SMS_UCS2_PART : SMS_GSM_PART;
	for (p = utf8, end = p + strlen(p); p < end; p += clen) {
		cp = utf8_next(p, end, &clen);
		pack_add(&k, ucs2 ? ucs2_units(cp) : (size_t)gsm_septets(cp));
	}
	n = pack_segments(&k, ucs2 ? SMS_UCS2_SINGLE : SMS_GSM_SINGLE);
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* Copies [p, end) with every invalid byte as U+FFFD; returns the bytes written
 * (or that would be, when dst is NULL). */
static size_t
copy_valid(char *dst, const char *p, const char *end)
{
	size_t	n = 0, clen;

	for (; p < end; p += clen) {
		if (utf8_next(p, end, &clen) < 0) {
			if (dst != NULL)
				memcpy(dst + n, REPLACEMENT, 3);
			n += 3;
		} else {
			if (dst != NULL)
				memcpy(dst + n, p, clen);
			n += clen;
		}
	}
	return n;
}

char *
smsfit_cut(const char *utf8, int max_segments)
{
	const char	*p, *cut, *end;
	struct pack	 k, with;
	size_t		 clen, units, n;
	char		*s;
	int		 whole;

	if (utf8 == NULL || max_segments < 1) {
		errno = EINVAL;
		return NULL;
	}
	whole = smsfit_segments(utf8) <= max_segments;
	cut = end = utf8 + strlen(utf8);
	if (!whole) {
		/* Fitting is monotone in the prefix: stop at the first misfit. */
		memset(&k, 0, sizeof(k));
		k.part = SMS_UCS2_PART;
		for (p = utf8; p < end; p += clen) {
			units = ucs2_units(utf8_next(p, end, &clen));
			with = k;
			pack_add(&with, units);
			pack_add(&with, 1);	/* the ellipsis */
			if (pack_segments(&with, SMS_UCS2_SINGLE) >
			    (size_t)max_segments)
				break;
			pack_add(&k, units);
		}
		cut = p;
	}
	n = copy_valid(NULL, utf8, cut);
	if ((s = malloc(n + (whole ? 0 : 3) + 1)) == NULL)
		return NULL;
	copy_valid(s, utf8, cut);
	if (!whole) {
		memcpy(s + n, ELLIPSIS, 3);
		n += 3;
	}
	s[n] = '\0';
	return s;
}

/*
 * SMS channels: the carrier bills and splits by segment; fit, never cut
 * mid-character.  The link and the reply hint come last and are never
 * cut (a cut link opens an error page): the text before them gives way.
 */
int
smsfit_message(int max_segments, const char *url, const char *hint,
    char **textp)
{
	char		*text = *textp;
	const char	*url_at = NULL;
	char		*fitted = NULL, *prefix, *tail;
	size_t		 len, body_len;

	if (hint == NULL)
		hint = "";
	if (asprintf(&fitted, "%s%s", text, hint) == -1)
		return -ENOMEM;
	if (smsfit_segments(fitted) <= max_segments)
		goto done;
	free(fitted);
	fitted = NULL;
	if (url != NULL && url[0] != '\0')
		url_at = strstr(text, url);
	body_len = url_at != NULL ? (size_t)(url_at - text) : strlen(text);
	if (asprintf(&tail, "…%s%s", url_at != NULL ? url : "", hint) == -1)
		return -ENOMEM;
	if (url_at != NULL && smsfit_segments(tail) > max_segments) {
		/* No room for the link at all: better none than a cut one. */
		char *without;

		free(tail);
		if (asprintf(&without, "%.*s%s", (int)body_len, text,
		    url_at + strlen(url)) == -1)
			return -ENOMEM;
		free(text);
		*textp = text = without;
		url_at = NULL;
		body_len = strlen(text);
		if (asprintf(&tail, "…%s", hint) == -1)
			return -ENOMEM;
	}
	/* Start from what the text alone keeps, then give back for the tail. */
	if ((prefix = strndup(text, body_len)) == NULL ||
	    (fitted = smsfit_cut(prefix, max_segments)) == NULL) {
		free(prefix);
		free(tail);
		return -ENOMEM;
	}
	len = strncmp(fitted, prefix, strlen(fitted)) == 0 ? strlen(fitted) :
	    strlen(fitted) - strlen("…");
	if (len > body_len)
		len = body_len;	/* invalid UTF-8 came out as U+FFFD */
	free(prefix);
	free(fitted);
	fitted = NULL;
	for (;;) {
		if (asprintf(&fitted, "%.*s%s", (int)len, text,
		    len < body_len || url_at != NULL ? tail : tail +
		    strlen("…")) == -1) {
			free(tail);
			return -ENOMEM;
		}
		if (smsfit_segments(fitted) <= max_segments || len == 0)
			break;
		free(fitted);
		len = utf8_back(text, len);
	}
	free(tail);
done:
	free(text);
	*textp = fitted;
	return 0;
}

