/*
 * An incident's timeline: every record naming it, oldest first, as the
 * API shows it ({seq, ts, event, actor, data}).  Each entry is one small
 * block holding the record's envelope and its data as compact JSON text,
 * turned back into JSON only when something reads it: a tree per entry
 * cost more than the rest of an open incident together (jansson spends
 * a block per value and a hashtable per object).  Where the store reads
 * lines back (the file log), an entry whose data is its record's own
 * keeps only where that line is, and the data is read back when the API
 * or a checkpoint asks (one pread an entry).
 */
#ifndef DUTYD_TIMELINE_H
#define DUTYD_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct record;
struct timeline_entry;

struct timeline {
	struct timeline_entry **e;
	uint32_t	 n, cap;
};

/*
 * Appends R's envelope with DATA (which need not be R's own: a summary).
 * UPDATE_N: the follow-up (1..) whose fields DATA's "fields" are, for
 * checkpoints; 0 for none.  0 or -ENOMEM.
 */
int	timeline_add(struct timeline *, const struct record *r, json_t *data,
	    int update_n);
/*
 * As timeline_add() with a summary of R whose compact JSON TEXT (LEN
 * bytes) its writer has at hand: not built and dumped.  Not for an
 * intent or an attempt (their data is read).  0 or -ENOMEM.
 */
int	timeline_add_text(struct timeline *, const struct record *r,
	    const char *text, size_t len);
/*
 * Appends an entry as a checkpoint wrote it ({seq, ts, event, actor,
 * data}), DATA in place of its own data when not NULL.  0, -ENOMEM.
 */
int	timeline_add_json(struct timeline *, json_t *entry, json_t *data,
	    int update_n);
void	timeline_clear(struct timeline *);
size_t	timeline_len(const struct timeline *);
/* Entry I's record kind ("" when it has none); its follow-up number or 0. */
const char *timeline_event(const struct timeline *, size_t i);
int	timeline_update_n(const struct timeline *, size_t i);
/* Entry I as the API shows it, and its data: new references, NULL when out of memory or unreadable (logged). */
json_t	*timeline_entry_json(const struct timeline *, size_t i);
json_t	*timeline_data(const struct timeline *, size_t i);
/* The whole timeline as a JSON array (a new reference; NULL: no memory). */
json_t	*timeline_json(const struct timeline *);
/*
 * Delivery attempts leave the middle of the timeline: of the notify.attempt
 * entries of delivery INTENT.RECIPIENT, the one after the first KEEP_FIRST
 * once there are more than KEEP_FIRST + KEEP_LAST.
 */
void	timeline_trim_attempts(struct timeline *, int64_t intent,
	    int64_t recipient, size_t keep_first, size_t keep_last);
/* Over MAX entries: the oldest notify.attempt goes. */
void	timeline_cap(struct timeline *, size_t max);
/*
 * V as compact JSON text that json_loadb() reads back as an equal tree
 * (malloc'd, NUL-terminated; NULL when out of memory): for keeping a
 * tree as text, faster than json_dumps().
 */
char	*timeline_dump(json_t *v);
/* What is kept to share the next entry's texts faster goes (shutdown). */
void	timeline_forget(void);

#endif
