/*
 * SMS segments: counting, cutting, and fitting a message (see smsfit.c).
 * Pure functions of text.
 */
#ifndef DUTYD_SMSFIT_H
#define DUTYD_SMSFIT_H

#include <stddef.h>

/*
 * Length in encoding units; *ucs2 (may be NULL) is set to 1 when the text
 * needs UCS-2.  Text should be UTF-8; an invalid byte counts as U+FFFD.
 */
size_t	 smsfit_units(const char *utf8, int *ucs2);
/* Parts the text takes: one of 160 septets / 70 units, else parts of 153 / 67.
 * An empty text is one (empty) message. */
int	 smsfit_segments(const char *utf8);
/*
 * malloc'd copy that fits in max_segments (>= 1): whole if it fits, else cut
 * at a character boundary and ended with "…" (which is UCS-2, so a cut text
 * is always counted as UCS-2).  Invalid UTF-8 comes out as U+FFFD.  NULL with
 * errno EINVAL (max_segments < 1) or ENOMEM.
 */
char	*smsfit_cut(const char *utf8, int max_segments);
/*
 * *TEXT (malloc'd, replaced) followed by HINT, fitted to MAX_SEGMENTS:
 * the text before URL (a part of it) gives way first, then the link
 * itself if even it does not fit; HINT is never cut.  0 or -ENOMEM.
 */
int	 smsfit_message(int max_segments, const char *url, const char *hint,
	    char **text);

#endif
