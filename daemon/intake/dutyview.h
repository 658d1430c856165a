/*
 * dutyview.h: a duty day's records as the duty log shows them (值班日志):
 * every record that matters to a duty room as an entry with a Chinese
 * one-line summary, and the grouped views (incidents, handovers,
 * directives, notes).  Fed in seq order on the loop's thread; names come
 * from the configuration in force, what the day's records do not say
 * (an incident received the day before) from memory when still loaded.
 */
#ifndef DUTYD_DUTYVIEW_H
#define DUTYD_DUTYVIEW_H

#include <stddef.h>

#include <jansson.h>

/* Entries a duty log holds; past it "truncated" and "entries_total" say so. */
#define DUTYVIEW_ENTRIES_MAX	5000

/* The kinds a duty log reads (store_scan()'s KINDS). */
extern const char *const dutyview_kinds[];

struct dutyview;

struct dutyview *dutyview_new(void);
void	dutyview_free(struct dutyview *);
/*
 * One record as the log holds it ({seq, ts, event, incident, actor,
 * data}, borrowed).  0 or -ENOMEM.
 */
int	dutyview_add(struct dutyview *, const json_t *record);
/* N more records of the day, left out past the cap (counted in entries_total). */
void	dutyview_more(struct dutyview *, size_t n);
/*
 * Adds "handovers", "incidents", "directives", "notes", "entries",
 * "entries_total" and "truncated" to O.  0 or -ENOMEM.
 */
int	dutyview_json(struct dutyview *, json_t *o);
/* The entries as CSV (UTF-8 with BOM, RFC 4180); malloc'd, NULL: no memory. */
char	*dutyview_csv(struct dutyview *, size_t *len);

#endif
