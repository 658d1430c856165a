/*
 * A follow-up (续报) written the way a tired county officer types it: a
 * text that starts with 续报, 补充 or 更正, or with something close to an
 * incident id ("INC20261202-0001", "inc-20261202-1", full-width digits).
 * smsin_report_parse() takes only an exact id; a text this module
 * recognises must never become a new incident (and a new alarm) instead.
 * Pure: no globals, clock or logging.
 */
#ifndef DUTYD_SMSFOLLOW_H
#define DUTYD_SMSFOLLOW_H

#include <stddef.h>

#define SMSFOLLOW_ID_MAX	32	/* == INCIDENT_ID_MAX */

enum smsfollow_kind {
	SMSFOLLOW_NONE,		/* not a follow-up: a report, perhaps */
	SMSFOLLOW_WORD,		/* 续报/补充/更正 and no id */
	SMSFOLLOW_ID,		/* an id, written close enough (after a word or not) */
};

struct smsfollow {
	enum smsfollow_kind kind;
	char	 id[SMSFOLLOW_ID_MAX];	/* SMSFOLLOW_ID: as dutyd writes it, INC-20261202-0001 */
	char	 word[16];		/* the word it started with, "" if none */
	size_t	 rest;			/* byte offset in the text of what follows them */
};

/*
 * Reads the start of TEXT (valid UTF-8).  Separators after the word or
 * the id (spaces, ：:，,、-) are skipped: REST is where the follow-up's
 * own words begin (the text's length when there are none).  续报 and 补充
 * only say it is a follow-up and are left out; 更正 (a correction) stays
 * in, so that what is recorded reads as one.  Returns out->kind.
 */
enum smsfollow_kind smsfollow_parse(const char *text, struct smsfollow *out);

#endif
