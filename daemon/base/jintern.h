/*
 * Shared JSON leaves.  The records dutyd writes by the thousand (intents,
 * attempts) repeat the same few strings and small numbers: a person id,
 * a channel, an outcome, attempt 1.  The incident's timeline keeps those
 * records' trees for as long as the incident is loaded, so each copy of
 * "delivered" costs two allocations per record.  These return a reference
 * to one shared value instead.
 *
 * A shared value must never be changed (json_string_set and the like):
 * nothing in dutyd changes a leaf in place; trees are copied to be edited.
 * For the loop's thread only.
 */
#ifndef DUTYD_JINTERN_H
#define DUTYD_JINTERN_H

#include <jansson.h>

/* Strings longer than this are not shared: ids and words are short. */
#define JINTERN_STR_MAX		96
/* Distinct strings kept; past it the table starts again (values live on in their trees). */
#define JINTERN_TABLE_MAX	4096

/*
 * A new reference to a string equal to S: the shared one, or a fresh one
 * when S is long.  NULL when S is NULL or out of memory (so json_pack's
 * "o" fails as its "s" would, and "o?" writes null).
 */
json_t	*jintern_str(const char *s);
/* A new reference to the integer V: shared for small non-negative values. */
json_t	*jintern_int(json_int_t v);
/*
 * Whole trees shared the same way, by a KEY the caller builds from
 * everything the tree says (a contact list: the person and each channel
 * and address).  get: a new reference, or NULL when none is kept; put:
 * the table keeps its own reference to V, which nobody may change after.
 */
json_t	*jintern_tree_get(const char *key);
void	 jintern_tree_put(const char *key, json_t *v);
/* Drops the table's references (shutdown; tests count leaks after it). */
void	 jintern_clear(void);

#endif
