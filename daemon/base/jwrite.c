/*
 * jwrite: jansson's compact dump, byte for byte, without its walk of
 * every character through its UTF-8 iterator and a callback per piece
 * (see jwrite.h).  tests/unit/test_jwrite.c compares the two on every
 * kind of value, and on trees built at random.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jwrite.h"

/* Room for N more bytes and the NUL; 0, or -1 with w->failed set. */
static int
jwrite_room(struct jwrite *w, size_t n)
{
	size_t	 cap;
	char	*p;

	if (w->failed)
		return -1;
	if (w->len + n + 1 <= w->cap)
		return 0;
	for (cap = w->cap > 0 ? w->cap : 256; cap < w->len + n + 1; cap *= 2)
		;
	if ((p = realloc(w->p, cap)) == NULL) {
		w->failed = 1;
		return -1;
	}
	w->p = p;
	w->cap = cap;
	return 0;
}

void
jwrite_bytes_grow(struct jwrite *w, const char *s, size_t n)
{
	if (jwrite_room(w, n) != 0)
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

int
jwrite_plain(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint64_t		 x;
	size_t			 i = 0, k;

	while (i < n) {
		if (u[i] < 0x80) {
			/*
			 * Eight ASCII bytes that need no escape, at a time; the
			 * last few as the eight that end the string (the bytes
			 * before them, looked at again, are plain too).
			 */
			if (n >= 8) {
				memcpy(&x, u + (n - i >= 8 ? i : n - 8), 8);
				if (((x & JWRITE_HIGHS) | JWRITE_LESS(x, 0x20) |
				    JWRITE_LESS(x ^ (JWRITE_ONES * '"'), 1) |
				    JWRITE_LESS(x ^ (JWRITE_ONES * '\\'), 1)) ==
				    0) {
					i = n - i >= 8 ? i + 8 : n;
					continue;
				}
			}
			if (u[i] < 0x20 || u[i] == '"' || u[i] == '\\')
				return 0;
			i++;
			continue;
		}
		if ((k = jwrite_utf8_pair(s + i, n - i)) == 0 &&
		    (k = jwrite_utf8_char(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* V dumped by jansson, for what jwrite leaves to it. */
static void
jwrite_jansson(struct jwrite *w, const json_t *v, unsigned flags)
{
	char	*d;

	if (w->failed)
		return;
	if ((d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    (flags & JWRITE_SORT ? JSON_SORT_KEYS : 0))) == NULL) {
		w->failed = 1;
		return;
	}
	jwrite_bytes(w, d, strlen(d));
	free(d);
}

/* JWRITE_PLAIN in FLAGS: the caller knows S is plain; nothing to look at. */
static void
jwrite_str(struct jwrite *w, const char *s, size_t n, unsigned flags)
{
	json_t	*j;

	if ((flags & JWRITE_PLAIN) || jwrite_plain(s, n)) {
		/* The room's check inline: most strings fit. */
		if ((w->failed || w->len + n + 3 > w->cap) &&
		    jwrite_room(w, n + 2) != 0)
			return;
		w->p[w->len++] = '"';
		memcpy(w->p + w->len, s, n);
		w->len += n;
		w->p[w->len++] = '"';
		w->p[w->len] = '\0';
		return;
	}
	/* Escapes are jansson's; it refuses what is not UTF-8, as before. */
	if ((j = json_stringn_nocheck(s, n)) == NULL) {
		w->failed = 1;
		return;
	}
	jwrite_jansson(w, j, 0);
	json_decref(j);
}

void
jwrite_string(struct jwrite *w, const char *s, size_t n)
{
	jwrite_str(w, s, n, 0);
}

void
jwrite_int(struct jwrite *w, json_int_t v)
{
	char			 num[24], *p = num + sizeof(num);
	unsigned long long	 u = v < 0 ? 0 - (unsigned long long)v :
				    (unsigned long long)v;

	/* What "%" JSON_INTEGER_FORMAT prints, without printf's machinery. */
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jwrite_bytes(w, p, (size_t)(num + sizeof(num) - p));
}

struct jwrite_key {
	const char	*key;
	size_t		 len;
	json_t		*value;
};

/* JSON_SORT_KEYS's order: the bytes, then the shorter first. */
static int
jwrite_by_key(const void *a, const void *b)
{
	const struct jwrite_key *x = a, *y = b;
	size_t	 n = x->len < y->len ? x->len : y->len;
	int	 c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static void	jwrite_at(struct jwrite *, const json_t *, unsigned, int);

static void
jwrite_member(struct jwrite *w, int first, const char *key, size_t len,
    const json_t *v, unsigned flags, int depth)
{
	if (!first)
		jwrite_bytes(w, ",", 1);
	jwrite_str(w, key, len, flags);
	jwrite_bytes(w, ":", 1);
	jwrite_at(w, v, flags, depth + 1);
}

static void
jwrite_object(struct jwrite *w, const json_t *o, unsigned flags, int depth)
{
	struct jwrite_key	*keys;
	const char		*key;
	json_t			*v;
	size_t			 len, n, i;
	void			*iter;

	jwrite_bytes(w, "{", 1);
	if ((flags & JWRITE_SORT) && (n = json_object_size(o)) > 1) {
		if ((keys = calloc(n, sizeof(*keys))) == NULL) {
			w->failed = 1;
			return;
		}
		i = 0;
		for (iter = json_object_iter((json_t *)o); iter != NULL && i < n;
		    iter = json_object_iter_next((json_t *)o, iter)) {
			keys[i].key = json_object_iter_key(iter);
			keys[i].len = json_object_iter_key_len(iter);
			keys[i].value = json_object_iter_value(iter);
			i++;
		}
		qsort(keys, i, sizeof(*keys), jwrite_by_key);
		for (n = 0; n < i; n++)
			jwrite_member(w, n == 0, keys[n].key, keys[n].len,
			    keys[n].value, flags, depth);
		free(keys);
	} else {
		i = 0;
		json_object_keylen_foreach((json_t *)o, key, len, v)
			jwrite_member(w, i++ == 0, key, len, v, flags, depth);
	}
	jwrite_bytes(w, "}", 1);
}

static void
jwrite_at(struct jwrite *w, const json_t *v, unsigned flags, int depth)
{
	size_t	 i, n;

	if (w->failed)
		return;
	/* Deeper (or a cycle, which jansson refuses): jansson's own dump. */
	if (depth >= JWRITE_DEPTH_MAX) {
		jwrite_jansson(w, v, flags);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jwrite_object(w, v, flags, depth);
		return;
	case JSON_ARRAY:
		jwrite_bytes(w, "[", 1);
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				jwrite_bytes(w, ",", 1);
			jwrite_at(w, json_array_get(v, i), flags, depth + 1);
		}
		jwrite_bytes(w, "]", 1);
		return;
	case JSON_STRING:
		jwrite_str(w, json_string_value(v), json_string_length(v), flags);
		return;
	case JSON_INTEGER:
		jwrite_int(w, json_integer_value(v));
		return;
	case JSON_TRUE:
		jwrite_bytes(w, "true", 4);
		return;
	case JSON_FALSE:
		jwrite_bytes(w, "false", 5);
		return;
	case JSON_NULL:
		jwrite_bytes(w, "null", 4);
		return;
	case JSON_REAL:
		break;
	}
	jwrite_jansson(w, v, flags);	/* a real: jansson's digits */
}

void
jwrite_value(struct jwrite *w, const json_t *v, unsigned flags)
{
	if (v == NULL) {
		w->failed = 1;
		return;
	}
	jwrite_at(w, v, flags, 0);
}
