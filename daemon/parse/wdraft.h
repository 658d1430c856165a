/*
 * wdraft.h: version 0 of a written report (书面报告) to the province, made
 * from the county's report and its follow-ups in the customary structure:
 * the title, the addressee, 一、基本情况 … 五、下一步工作, and the footer
 * (organization, 签发, 联系人及电话, time).  A fact nobody reported is
 * written （待核实）, never guessed.  Pure: the facts, the names and the
 * zone are arguments, so the same incident always gives the same text.
 */
#ifndef DUTYD_WDRAFT_H
#define DUTYD_WDRAFT_H

#include <stdint.h>
#include <jansson.h>

struct tz;

/* What nobody has reported yet. */
#define WDRAFT_UNKNOWN	"（待核实）"

struct wdraft_input {
	int		 number;	/* 0 首报; n 续报n */
	const char	*office_name;	/* the county office that reported */
	const json_t	*report;	/* its validated fields (parse/report.h) */
	const json_t	*updates;	/* follow-ups, oldest first: [{n, at, fields}] */
	int64_t		 received_ms;	/* when the report came in */
	const char	*organization;	/* who we are (`organization`); NULL: unknown */
	const char	*addressee;	/* `province.name`; NULL: unknown */
	const char	*approver;	/* 签发: the approver's name; NULL: unknown */
	const char	*contact_name;	/* the officer on duty */
	const char	*contact_phone;
	const struct tz	*tz;		/* times are written in it */
};

/*
 * The title and body, malloc'd.  0, -ENOMEM, or -EINVAL when the report
 * lacks its title.
 */
int	wdraft_make(const struct wdraft_input *, char **title, char **body);
/* "首报", "续报一", "续报十二" … for NUMBER, into buf. */
const char *wdraft_number_name(int number, char *buf, size_t len);

#endif
