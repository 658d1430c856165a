/*
 * inctold.c: whom an incident's intents named (see inctold.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/inctold.h"

const char *
inctold_next(const struct inctold *t, const char *prev)
{
	const char *p;

	if (t->ids == NULL)
		return NULL;
	p = prev == NULL ? t->ids : prev + strlen(prev) + 1;
	return p < t->ids + t->len ? p : NULL;
}

int
inctold_has(const struct inctold *t, const char *person)
{
	const char *p;

	for (p = inctold_next(t, NULL); p != NULL; p = inctold_next(t, p))
		if (strcmp(p, person) == 0)
			return 1;
	return 0;
}

int
inctold_add(struct inctold *t, const char *person)
{
	size_t	 len = person != NULL ? strlen(person) + 1 : 0;
	char	*ids;

	if (t->ids != NULL && (person == NULL || inctold_has(t, person)))
		return 0;
	/* One byte at least: a list with nobody in it is not "no intent". */
	if ((ids = realloc(t->ids, t->len + len + 1)) == NULL)
		return -ENOMEM;
	if (len > 0)
		memcpy(ids + t->len, person, len);
	t->ids = ids;
	t->len += len;
	return 0;
}

void
inctold_clear(struct inctold *t)
{
	free(t->ids);
	t->ids = NULL;
	t->len = 0;
}
