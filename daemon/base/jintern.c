/*
 * jintern.c: shared JSON strings and small integers (see jintern.h).  The
 * table is a jansson object (its hashtable) from the text to the value.
 */
#include <string.h>

#include "base/jintern.h"

/* Attempts, contact indexes, HTTP statuses, most durations in ms. */
#define JINTERN_INT_MAX		1024

static json_t	*jintern_table;
static json_t	*jintern_trees;
static json_t	*jintern_ints[JINTERN_INT_MAX];

json_t *
jintern_str(const char *s)
{
	json_t	*v;
	size_t	 len;

	if (s == NULL)
		return NULL;
	if ((len = strlen(s)) > JINTERN_STR_MAX)
		return json_stringn(s, len);
	if (jintern_table != NULL && (v = json_object_getn(jintern_table, s,
	    len)) != NULL)
		return json_incref(v);
	if ((v = json_stringn(s, len)) == NULL)
		return NULL;	/* not UTF-8, or out of memory: as json_string() */
	if (jintern_table != NULL && json_object_size(jintern_table) >=
	    JINTERN_TABLE_MAX)
		jintern_clear();
	if (jintern_table == NULL)
		jintern_table = json_object();
	/* Without room in the table the value is just not shared. */
	if (jintern_table != NULL)
		json_object_setn_nocheck(jintern_table, s, len, v);
	return v;
}

json_t *
jintern_int(json_int_t v)
{
	json_t *i;

	if (v < 0 || v >= JINTERN_INT_MAX)
		return json_integer(v);
	if ((i = jintern_ints[v]) == NULL && (i = json_integer(v)) != NULL)
		jintern_ints[v] = i;
	return json_incref(i);
}

json_t *
jintern_tree_get(const char *key)
{
	return jintern_trees != NULL ? json_incref(json_object_get(jintern_trees,
	    key)) : NULL;
}

void
jintern_tree_put(const char *key, json_t *v)
{
	if (jintern_trees != NULL && json_object_size(jintern_trees) >=
	    JINTERN_TABLE_MAX) {
		json_decref(jintern_trees);
		jintern_trees = NULL;
	}
	if (jintern_trees == NULL)
		jintern_trees = json_object();
	/* Without room it is just not shared. */
	if (jintern_trees != NULL)
		json_object_set_nocheck(jintern_trees, key, v);
}

void
jintern_clear(void)
{
	size_t i;

	json_decref(jintern_table);
	jintern_table = NULL;
	json_decref(jintern_trees);
	jintern_trees = NULL;
	for (i = 0; i < JINTERN_INT_MAX; i++) {
		json_decref(jintern_ints[i]);
		jintern_ints[i] = NULL;
	}
}
