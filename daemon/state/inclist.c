/*
 * Incidents in order of receipt (see inclist.h): one red-black tree of
 * all, one of those not closed, and one per state.  An id is made in receipt order (INC-<date>-<n>), so it is the
 * key; one of another shape sorts first, by its text.
 */
#include <errno.h>
#include <string.h>

#include "state/inclist.h"

RB_HEAD(inclist_all, inclist_node);
RB_HEAD(inclist_live, inclist_node);
RB_HEAD(inclist_state, inclist_node);

static int
inclist_cmp(struct inclist_node *a, struct inclist_node *b)
{
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	return strcmp(a->id, b->id);	/* "INC-20261128-7" beside "…-0007" */
}

/* libbsd's tree.h leaves __unused to us; define it after every system header. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(inclist_all, inclist_node, all, inclist_cmp)
RB_GENERATE_STATIC(inclist_live, inclist_node, live, inclist_cmp)
RB_GENERATE_STATIC(inclist_state, inclist_node, state, inclist_cmp)

static struct inclist_all	 all = RB_INITIALIZER(&all);
static struct inclist_live	 live = RB_INITIALIZER(&live);
static struct inclist_state	 by_state[INCLIST_STATES];
static size_t			 counts[INCLIST_STATE + INCLIST_STATES];

/* Up to max digits, at least one, as a number; the end, or NULL. */
static const char *
inclist_digits(const char *p, int max, int *out)
{
	int	v = 0, k;

	for (k = 0; k < max && *p >= '0' && *p <= '9'; k++, p++)
		v = v * 10 + (*p - '0');
	*out = v;
	return k == 0 ? NULL : p;
}

/*
 * Digits only (no sign, no spaces, as dutyd writes them), read by hand:
 * sscanf() was 1.8 k instructions a call, twice a report.
 */
int
inclist_parse_id(const char *id, int *day, int *n)
{
	const char *p;

	if (id == NULL || strncmp(id, "INC-", 4) != 0 ||
	    (p = inclist_digits(id + 4, 8, day)) == NULL || *p != '-' ||
	    (p = inclist_digits(p + 1, 9, n)) == NULL || *p != '\0')
		return -EINVAL;
	return 0;
}

/* Out of, and into, the lists of its state. */
static void
inclist_unstate(struct inclist_node *e)
{
	RB_REMOVE(inclist_state, &by_state[e->st], e);
	counts[INCLIST_STATE + e->st]--;
	if (!e->closed) {
		RB_REMOVE(inclist_live, &live, e);
		counts[INCLIST_NOT_CLOSED]--;
	}
}

static void
inclist_state_in(struct inclist_node *e)
{
	RB_INSERT(inclist_state, &by_state[e->st], e);
	counts[INCLIST_STATE + e->st]++;
	if (!e->closed) {
		RB_INSERT(inclist_live, &live, e);
		counts[INCLIST_NOT_CLOSED]++;
	}
}

void
inclist_add(struct inclist_node *e, const char *id)
{
	e->id = id;
	if (inclist_parse_id(id, &e->day, &e->n) != 0)
		e->day = e->n = -1;
	e->st = e->closed = 0;
	RB_INSERT(inclist_all, &all, e);
	counts[INCLIST_ALL]++;
	inclist_state_in(e);
}

void
inclist_remove(struct inclist_node *e)
{
	inclist_unstate(e);
	RB_REMOVE(inclist_all, &all, e);
	counts[INCLIST_ALL]--;
}

void
inclist_set(struct inclist_node *e, int state, int closed)
{
	if (state < 0 || state >= INCLIST_STATES)
		state = 0;	/* not reached: incident.h has fewer states */
	if (e->st == state && e->closed == !!closed)
		return;
	inclist_unstate(e);
	e->st = state;
	e->closed = !!closed;
	inclist_state_in(e);
}

size_t
inclist_count(enum inclist_filter f)
{
	return (size_t)f < sizeof(counts) / sizeof(counts[0]) ? counts[f] : 0;
}

/* A probe for ID; -EINVAL when it is not an incident id. */
static int
inclist_probe(struct inclist_node *p, const char *id)
{
	if (inclist_parse_id(id, &p->day, &p->n) != 0)
		return -EINVAL;
	p->id = id;
	return 0;
}

/* The least element above P (NULL: the least), and the greatest below (NULL: the greatest). */
#define INCLIST_STEPS(name)						\
static struct inclist_node *						\
name##_up(struct name *h, struct inclist_node *p)			\
{									\
	struct inclist_node *e;						\
									\
	if (p == NULL)							\
		return RB_MIN(name, h);					\
	e = RB_NFIND(name, h, p);					\
	if (e != NULL && inclist_cmp(e, p) == 0)			\
		e = RB_NEXT(name, h, e);				\
	return e;							\
}									\
static struct inclist_node *						\
name##_down(struct name *h, struct inclist_node *p)			\
{									\
	struct inclist_node *e;						\
									\
	if (p == NULL)							\
		return RB_MAX(name, h);					\
	e = RB_NFIND(name, h, p);					\
	return e != NULL ? RB_PREV(name, h, e) : RB_MAX(name, h);	\
}
INCLIST_STEPS(inclist_all)
INCLIST_STEPS(inclist_live)
INCLIST_STEPS(inclist_state)

static struct inclist_node *
inclist_find(enum inclist_filter f, struct inclist_node *p, int up)
{
	int st = (int)f - INCLIST_STATE;

	if (f == INCLIST_ALL)
		return up ? inclist_all_up(&all, p) : inclist_all_down(&all, p);
	if (f == INCLIST_NOT_CLOSED)
		return up ? inclist_live_up(&live, p) :
		    inclist_live_down(&live, p);
	if (st < 0 || st >= INCLIST_STATES)
		return NULL;
	return up ? inclist_state_up(&by_state[st], p) :
	    inclist_state_down(&by_state[st], p);
}

struct inclist_node *
inclist_below(enum inclist_filter f, const char *id, int *err)
{
	struct inclist_node p;

	if ((*err = id != NULL ? inclist_probe(&p, id) : 0) != 0)
		return NULL;
	return inclist_find(f, id != NULL ? &p : NULL, 0);
}

struct inclist_node *
inclist_above(enum inclist_filter f, const char *id, int *err)
{
	struct inclist_node p;

	if ((*err = id != NULL ? inclist_probe(&p, id) : 0) != 0)
		return NULL;
	return inclist_find(f, id != NULL ? &p : NULL, 1);
}

struct inclist_node *
inclist_older(enum inclist_filter f, struct inclist_node *e)
{
	return inclist_find(f, e, 0);
}

struct inclist_node *
inclist_newer(enum inclist_filter f, struct inclist_node *e)
{
	return inclist_find(f, e, 1);
}

int
inclist_is_after(const struct inclist_node *e, const char *id)
{
	struct inclist_node p;

	if (inclist_probe(&p, id) != 0) {
		p.day = p.n = -1;
		p.id = id;
	}
	return inclist_cmp((struct inclist_node *)e, &p) > 0;
}
