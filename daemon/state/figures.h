/*
 * The figures (通报) of a period, from the audit log's records: per office
 * the reports, late reports (迟报), minutes from event to report and
 * follow-ups; for the city the time to acknowledge, escalations by level,
 * written reports on time or late, directives done on time, late or open.
 *
 * The records come from store_scan() on a worker thread: figures_add()
 * touches nothing but its struct figures (no config, no clock, no log).
 * figures_json() runs on the loop afterwards.  What counts and how is in
 * docs/stats.md.
 */
#ifndef DUTYD_FIGURES_H
#define DUTYD_FIGURES_H

#include <stdint.h>

#include <jansson.h>

#include "store/record.h"

struct config;
struct figures;

/* What figures_add() reads: the kinds to ask store_scan() for. */
extern const char *const figures_kinds[];
/* Those of them of which only the envelope is read (store_scan_bare()). */
extern const char *const figures_bare[];

/*
 * For records in [FROM_MS, TO_MS); deadlines count as passed up to
 * min(TO_MS, NOW_MS).  NULL with errno (ENOMEM).
 */
struct figures *figures_new(int64_t from_ms, int64_t to_ms, int64_t now_ms);
void	figures_free(struct figures *);	/* accepts NULL */
/* A store_scan() record function: 0, or -E2BIG past the caps (the period is too busy). */
int	figures_add(const struct record *, void *figures);
/*
 * {"from", "to", "offices": [...], "city": {...}}: every office of CFG in
 * its order (zeros when it reported nothing), then offices found in the log
 * that CFG no longer has.  NULL with errno.
 */
json_t	*figures_json(const struct figures *, const struct config *cfg,
	    const char *from, const char *to);

#endif
