/*
 * What a report.received record says of the incident it opens, as
 * incident.c makes the incident from it: read from the record's data
 * (replay, a checkpoint's origin) or said by the action that built that
 * data (actions/incact.c), so a report just received is not looked up
 * member by member in the tree it was made into.  Either way the same
 * strings: the action's are the ones it put in the data.
 */
#ifndef DUTYD_INCSEED_H
#define DUTYD_INCSEED_H

#include <stdint.h>
#include <jansson.h>

struct incseed {
	const json_t	*data;	/* the report.received data this says */
	/* Borrowed; NULL where the data has none (or null). */
	const char	*office, *office_name, *body_sha256, *idem_key;
	const char	*source, *taken_by, *taken_by_name;
	/* As written: incident.c parses them, whoever gave them. */
	const char	*received_at, *ack_deadline, *report_deadline;
	int		 late_report;
	int		 has_late_minutes;	/* older logs had no late_by_minutes */
	int64_t		 late_minutes;
};

/*
 * S from the data D: 0, or -EINVAL when one of its strings is there but
 * is no string (S is filled all the same).
 */
int	incseed_read(json_t *d, struct incseed *s);
/*
 * The seed of the report.received about to be appended (its data
 * S->data), until incseed_expect(NULL): what incseed_expected() gives the
 * apply of that record.  The giver keeps S and its strings alive.
 */
void	incseed_expect(const struct incseed *s);
/* The seed given for the record whose data is DATA; NULL: read it. */
const struct incseed *incseed_expected(const json_t *data);

#endif
