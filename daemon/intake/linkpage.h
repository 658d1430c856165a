/*
 * The small mobile pages a one-tap link opens (UTF-8, Chinese): what the
 * button will do, what was done, what went wrong.  Pure functions; every
 * field is HTML-escaped.
 */
#ifndef DUTYD_LINKPAGE_H
#define DUTYD_LINKPAGE_H

/* What the confirmation page shows; NULL fields are left out. */
struct linkpage_summary {
	const char	*incident;	/* "INC-20261128-0001" */
	const char	*title;
	const char	*office;	/* the reporting office's name */
	const char	*level;		/* "I".."IV" or as the caller words it */
	const char	*occurred;	/* when it happened, formatted by the caller */
	const char	*person;	/* display name of whom the link is for */
	const char	*shift;		/* 'H': the roles coming on duty */
	const char	*url;		/* the incident's page, linked below the button */
	/* 'P' only: the written report's draft the button approves. */
	const char	*draft_title;
	const char	*draft_body;
	const char	*draft_version;	/* "首报 第 2 版", as the caller words it */
	int		 version;	/* posted back as "version": what was read is what is approved */
};

/*
 * ACTION is 'A' (acknowledge), 'P' (approve the written report, whose
 * draft the page shows in full) or 'H' (accept a handover: incident
 * NULL, occurred is when it was); anything else is EINVAL.  A mobile HTML page (UTF-8, Chinese) with one button that POSTs to the
 * page's own URL with the token in the form field "token": a GET never
 * acts, so link previewers cannot acknowledge anything.  Every field is
 * HTML-escaped.  malloc'd; NULL with errno (EINVAL, ENOMEM).
 */
char	*linkpage_confirm(const struct linkpage_summary *s, const char *token,
	    char action);
/*
 * The answers: done, or what went wrong and what to do; with URL (may be
 * NULL) a link to the incident's page below.
 */
char	*linkpage_done(const char *message, const char *url);
char	*linkpage_error(const char *message, const char *url);

#endif
