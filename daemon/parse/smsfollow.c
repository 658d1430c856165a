/*
 * smsfollow.c: follow-ups (续报) typed close to the form, see smsfollow.h.
 *
 * Matching reads characters folded the way phones vary them: full-width
 * ASCII (U+FF01-U+FF5E) is ASCII, the ideographic space a space, letters
 * upper case.  Offsets always point into the text as sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"
#include "parse/smsfollow.h"

#define SMSFOLLOW_DATE_DIGITS	8
#define SMSFOLLOW_N_MAX		10	/* digits of an id's number */

static const char *const smsfollow_words[] = { "续报", "补充", "更正", NULL };

/* The character at *pos, folded; 0 at the end or at an invalid byte. */
static uint32_t
smsfollow_peek(const char *s, size_t len, size_t pos, size_t *n)
{
	uint32_t cp;
	int l;

	*n = 0;
	if (pos >= len || (l = utf8_decode(s + pos, len - pos, &cp)) < 0)
		return 0;
	*n = (size_t)l;
	if (cp >= 0xff01 && cp <= 0xff5e)
		cp -= 0xfee0;
	if (cp == 0x3000)
		cp = ' ';
	if (cp >= 'a' && cp <= 'z')
		cp -= 'a' - 'A';
	return cp;
}

static int
smsfollow_space(uint32_t cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 ||
	    cp == 0x200b || cp == 0xfeff;
}

/* What may stand between the parts of an id typed by hand. */
static int
smsfollow_dash(uint32_t cp)
{
	return cp == '-' || cp == '_' || cp == ' ' || cp == '.' ||
	    cp == 0x2013 || cp == 0x2014 || cp == 0xb7 || cp == 0x30fb;
}

/* What may follow a word or an id before the follow-up's own words. */
static int
smsfollow_separator(uint32_t cp)
{
	return smsfollow_space(cp) || cp == ':' || cp == ',' || cp == ';' ||
	    cp == '.' || cp == '-' || cp == 0x3001 || cp == 0x3002 ||
	    cp == 0x2014;
}

static size_t
smsfollow_skip(const char *s, size_t len, size_t pos, int (*skip)(uint32_t))
{
	uint32_t cp;
	size_t n;

	while ((cp = smsfollow_peek(s, len, pos, &n)) != 0 && skip(cp))
		pos += n;
	return pos;
}

/*
 * Up to MAX folded digits at *pos into buf (NUL-terminated); how many.
 * With MORE_OK a longer run stops at MAX (the date of "INC202612020001"),
 * else it is MAX + 1: not an id.
 */
static size_t
smsfollow_digits(const char *s, size_t len, size_t *pos, char *buf,
    size_t max, int more_ok)
{
	uint32_t cp;
	size_t n, k = 0;

	while ((cp = smsfollow_peek(s, len, *pos, &n)) >= '0' && cp <= '9') {
		if (k == max && more_ok)
			break;
		if (k == max)
			return max + 1;
		buf[k++] = (char)cp;
		*pos += n;
	}
	buf[k] = '\0';
	return k;
}

/* "INC" 8 digits and a number, any dashes between: the id, written right. */
static int
smsfollow_id(const char *s, size_t len, size_t *at, char *id, size_t idlen)
{
	char	 date[SMSFOLLOW_DATE_DIGITS + 2], num[SMSFOLLOW_N_MAX + 2];
	const char *p;
	size_t	 pos = *at, n, i;

	for (i = 0; i < 3; i++) {
		if (smsfollow_peek(s, len, pos, &n) != (uint32_t)"INC"[i])
			return 0;
		pos += n;
	}
	pos = smsfollow_skip(s, len, pos, smsfollow_dash);
	if (smsfollow_digits(s, len, &pos, date, SMSFOLLOW_DATE_DIGITS, 1) !=
	    SMSFOLLOW_DATE_DIGITS)
		return 0;
	pos = smsfollow_skip(s, len, pos, smsfollow_dash);
	if ((n = smsfollow_digits(s, len, &pos, num, SMSFOLLOW_N_MAX, 0)) == 0 ||
	    n > SMSFOLLOW_N_MAX)
		return 0;
	/* "1" and "0001" are the same incident; ids have at least 4 digits. */
	for (p = num; *p == '0' && p[1] != '\0'; p++)
		;
	if (snprintf(id, idlen, "INC-%s-%s%s", date, &"0000"[strlen(p) < 4 ?
	    strlen(p) : 4], p) >= (int)idlen)
		return 0;
	*at = pos;
	return 1;
}

enum smsfollow_kind
smsfollow_parse(const char *text, struct smsfollow *out)
{
	size_t	 len = strlen(text), pos, word_at, n, i;
	uint32_t cp;

	memset(out, 0, sizeof(*out));
	pos = smsfollow_skip(text, len, 0, smsfollow_space);
	/* 【续报】 */
	word_at = pos;
	cp = smsfollow_peek(text, len, pos, &n);
	if (cp == 0x3010 || cp == '[' || cp == 0x3014 || cp == '(')
		pos += n;
	for (i = 0; smsfollow_words[i] != NULL; i++)
		if (strncmp(text + pos, smsfollow_words[i],
		    strlen(smsfollow_words[i])) == 0)
			break;
	if (smsfollow_words[i] != NULL) {
		snprintf(out->word, sizeof(out->word), "%s", smsfollow_words[i]);
		pos += strlen(smsfollow_words[i]);
		cp = smsfollow_peek(text, len, pos, &n);
		if (cp == 0x3011 || cp == ']' || cp == 0x3015 || cp == ')')
			pos += n;
		pos = smsfollow_skip(text, len, pos, smsfollow_separator);
	} else
		pos = smsfollow_skip(text, len, 0, smsfollow_space);
	if (smsfollow_id(text, len, &pos, out->id, sizeof(out->id)))
		out->kind = SMSFOLLOW_ID;
	else if (out->word[0] != '\0')
		out->kind = SMSFOLLOW_WORD;
	else
		return out->kind = SMSFOLLOW_NONE;
	out->rest = smsfollow_skip(text, len, pos, smsfollow_separator);
	/* A correction says so: 更正 stays in what is recorded. */
	if (out->kind == SMSFOLLOW_WORD && strcmp(out->word, "更正") == 0)
		out->rest = word_at;
	return out->kind;
}
