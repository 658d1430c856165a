/*
 * The incidents in order of receipt, all of them and by state, with their
 * counts: what the API pages through, /healthz counts and checkpoints walk,
 * in O(log n) a step and O(1) a count.  An incident embeds its node;
 * incident.c keeps the node's lists in step with the incident's state.
 */
#ifndef DUTYD_INCLIST_H
#define DUTYD_INCLIST_H

#include <stddef.h>
#include <bsd/sys/tree.h>

/* A list: all, those not closed, or INCLIST_STATE + a state's number. */
enum inclist_filter {
	INCLIST_ALL,
	INCLIST_NOT_CLOSED,	/* open or acknowledged: not resolved, merged or dismissed */
	INCLIST_STATE,		/* + the state (incident.h's enum incident_state) */
};
#define INCLIST_STATES	8	/* states a node may be in: 0 .. INCLIST_STATES - 1 */

struct inclist_node {
	RB_ENTRY(inclist_node) all, live, state;
	const char	*id;		/* the incident's, which owns it */
	int		 day, n;	/* from the id: receipt order; -1 for another shape */
	int		 st;		/* its state: which per-state list */
	int		 closed;	/* out of the NOT_CLOSED list */
};

/* "INC-20261128-0007" -> 20261128, 7: 0, or -EINVAL. */
int	inclist_parse_id(const char *id, int *day, int *n);
/* In the lists, in state 0 and not closed; ID must outlive it there. */
void	inclist_add(struct inclist_node *, const char *id);
void	inclist_remove(struct inclist_node *);
/* The state changed (0 .. INCLIST_STATES - 1): into the right lists. */
void	inclist_set(struct inclist_node *, int state, int closed);
size_t	inclist_count(enum inclist_filter);
/*
 * The newest received before the incident with id ID (NULL: the newest of
 * all), and the oldest received after it (NULL: the oldest); an id that is
 * gone still marks its place.  -EINVAL in *err for what is not an id.
 */
struct inclist_node *inclist_below(enum inclist_filter, const char *id, int *err);
struct inclist_node *inclist_above(enum inclist_filter, const char *id, int *err);
/* The next one down or up from a node in the list F. */
struct inclist_node *inclist_older(enum inclist_filter, struct inclist_node *);
struct inclist_node *inclist_newer(enum inclist_filter, struct inclist_node *);
/* 1 when the node's incident was received after the incident with id ID. */
int	inclist_is_after(const struct inclist_node *, const char *id);

#endif
