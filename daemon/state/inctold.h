/*
 * Whom the intents about an incident named, once each, in order: who
 * hears of a merge or a dismissal.  The ids one after the other in one
 * block (a jansson object with its hashtable took 320 bytes an incident).
 */
#ifndef DUTYD_INCTOLD_H
#define DUTYD_INCTOLD_H

#include <stddef.h>

struct inctold {
	char		*ids;	/* NUL-terminated ids; NULL until an intent */
	size_t		 len;	/* their bytes, NULs included */
};

/* PERSON added unless there; with PERSON NULL, the list made (empty). 0 or -ENOMEM. */
int	inctold_add(struct inctold *, const char *person);
/* The first id (PREV NULL) or the one after PREV; NULL after the last. */
const char *inctold_next(const struct inctold *, const char *prev);
int	inctold_has(const struct inctold *, const char *person);
void	inctold_clear(struct inctold *);

#endif
