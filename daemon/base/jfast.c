/*
 * jfast: the tree json_loadb() returns, built from yajl's callback parser
 * (≈10 instructions a byte where json_loadb() takes ≈150: a report's
 * parse was 164 k of its intake's instructions), for the bodies where
 * the two cannot differ: no backslash (a string's bytes are then its
 * value), no control byte but JSON's whitespace (yajl also takes \v and
 * \f), and valid UTF-8 by jansson's rules (checked once for the whole
 * body, so neither yajl nor jansson checks each string and key again).
 * Anything else it meets (a real, a key twice, depth, an error of any
 * kind) ends it with
 * NULL, and the caller has jansson parse the body: every error, and every
 * tree, is jansson's.  Used for report bodies (parse/report.c) and audit
 * lines on replay (store/record.c, where it made replay 1.5× faster).
 * tests/fuzz/fuzz_report.c compares the two ways on every corpus input,
 * tests/unit/test_report.c on hostile ones, test_store.c on audit lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yajl/yajl_parse.h>

#include "base/jfast.h"
#include "base/jwrite.h"

#define JFAST_DEPTH_MAX	16	/* a report is two deep, an audit line four */
#define JFAST_KEY_MAX	64	/* longer is no field's name */

struct jfast {
	json_t	*stack[JFAST_DEPTH_MAX];	/* borrowed: the root holds them */
	size_t	 depth;
	json_t	*root;
	char	 key[JFAST_KEY_MAX];
	size_t	 keylen;
};

/* Puts V (a new reference) where it goes; 0 stops the parse. */
static int
jfast_add(struct jfast *f, json_t *v)
{
	json_t *top;

	if (v == NULL)
		return 0;
	if (f->depth == 0) {
		json_decref(v);	/* a body that is not one object: jansson says */
		return 0;
	}
	top = f->stack[f->depth - 1];
	if (json_is_array(top))
		return json_array_append_new(top, v) == 0;
	if (json_object_getn(top, f->key, f->keylen) != NULL) {
		json_decref(v);
		return 0;
	}
	/* Valid UTF-8, as the whole body is: nothing for jansson to check. */
	return json_object_setn_new_nocheck(top, f->key, f->keylen, v) == 0;
}

static int
jfast_null(void *ctx)
{
	return jfast_add(ctx, json_null());
}

static int
jfast_boolean(void *ctx, int b)
{
	return jfast_add(ctx, json_boolean(b));
}

static int
jfast_integer(void *ctx, long long i)
{
	return jfast_add(ctx, json_integer((json_int_t)i));
}

static int
jfast_double(void *ctx, double d)
{
	(void)ctx;
	(void)d;
	return 0;	/* jansson's own reading of a real */
}

static int
jfast_string(void *ctx, const unsigned char *s, size_t len)
{
	/* jfast_plain() found the whole body valid UTF-8: so is this. */
	return jfast_add(ctx, json_stringn_nocheck((const char *)s, len));
}

static int
jfast_open(struct jfast *f, json_t *c)
{
	if (c == NULL || f->depth >= JFAST_DEPTH_MAX ||
	    (f->depth == 0 && (f->root != NULL || !json_is_object(c)))) {
		json_decref(c);
		return 0;
	}
	if (f->depth == 0)
		f->root = c;
	else if (!jfast_add(f, json_incref(c))) {
		json_decref(c);
		return 0;
	} else
		json_decref(c);	/* its container holds it */
	f->stack[f->depth++] = c;
	return 1;
}

static int
jfast_start_map(void *ctx)
{
	return jfast_open(ctx, json_object());
}

static int
jfast_start_array(void *ctx)
{
	return jfast_open(ctx, json_array());
}

static int
jfast_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct jfast *f = ctx;

	if (len > JFAST_KEY_MAX)
		return 0;
	memcpy(f->key, key, len);
	f->keylen = len;
	return 1;
}

static int
jfast_close(void *ctx)
{
	struct jfast *f = ctx;

	f->depth--;
	return 1;
}

static const yajl_callbacks jfast_callbacks = {
	jfast_null, jfast_boolean, jfast_integer, jfast_double, NULL,
	jfast_string, jfast_start_map, jfast_map_key, jfast_close,
	jfast_start_array, jfast_close
};

/*
 * Bytes yajl and jansson read alike: no '\\', no control but \t \n \r,
 * and valid UTF-8 throughout (then every string and key is, and neither
 * needs checking again; jansson's rules, jwrite_utf8_char()).
 */
static int
jfast_plain(const char *body, size_t len)
{
	const unsigned char	*u = (const unsigned char *)body;
	uint64_t		 w;
	size_t			 i = 0, k;

	while (i < len) {
		if (u[i] >= 0x80) {
			if ((k = jwrite_utf8_pair(body + i, len - i)) == 0 &&
			    (k = jwrite_utf8_char(body + i, len - i)) == 0)
				return 0;
			i += k;
			continue;
		}
		if (len - i >= 8) {
			memcpy(&w, u + i, 8);
			if (((w & JWRITE_HIGHS) | JWRITE_LESS(w, 0x20) |
			    JWRITE_LESS(w ^ (JWRITE_ONES * '\\'), 1)) == 0) {
				i += 8;
				continue;
			}
		}
		if (u[i] == '\\' || (u[i] < 0x20 && u[i] != '\t' &&
		    u[i] != '\n' && u[i] != '\r'))
			return 0;
		i++;
	}
	return 1;
}

/*
 * yajl's own blocks for one parse (its handle, lexer, buffers, state
 * stack: about 2.5 KiB, 2 KiB of it a buffer it allocates even when it
 * never buffers) come from the caller's stack: as mallocs they were the
 * most expensive part of a replayed line (a 2 KiB block is past glibc's
 * per-thread cache and consolidates its fast bins on every line).  yajl
 * 2.1 cannot reset a handle for the next line.  Each block is preceded by
 * its size, for realloc; what does not fit goes to malloc.
 */
#define JFAST_ARENA	4096
#define JFAST_ALIGN	16

struct jfast_arena {
	size_t		 used;
	_Alignas(JFAST_ALIGN) unsigned char buf[JFAST_ARENA];
};

static int
jfast_arena_has(const struct jfast_arena *a, const void *p)
{
	uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->buf;

	return u >= b && u < b + sizeof(a->buf);
}

static void *
jfast_malloc(void *ctx, size_t n)
{
	struct jfast_arena	*a = ctx;
	size_t			 k = (n + JFAST_ALIGN - 1) & ~(size_t)(JFAST_ALIGN - 1);
	unsigned char		*p;

	if (k < n || k > sizeof(a->buf) - a->used ||
	    sizeof(a->buf) - a->used - k < JFAST_ALIGN)
		return malloc(n);
	p = a->buf + a->used;
	memcpy(p, &k, sizeof(k));
	a->used += JFAST_ALIGN + k;
	return p + JFAST_ALIGN;
}

static void
jfast_free(void *ctx, void *p)
{
	/* An arena block goes with the arena. */
	if (!jfast_arena_has(ctx, p))
		free(p);
}

static void *
jfast_realloc(void *ctx, void *p, size_t n)
{
	struct jfast_arena	*a = ctx;
	size_t			 old;
	void			*q;

	if (p == NULL)
		return jfast_malloc(ctx, n);
	if (!jfast_arena_has(a, p))
		return realloc(p, n);
	memcpy(&old, (unsigned char *)p - JFAST_ALIGN, sizeof(old));
	if (n <= old)
		return p;
	if ((q = jfast_malloc(ctx, n)) != NULL)
		memcpy(q, p, old);
	return q;
}

json_t *
jfast_load(const char *body, size_t len)
{
	struct jfast		 f;
	struct jfast_arena	 arena;
	yajl_alloc_funcs	 afs = { jfast_malloc, jfast_realloc, jfast_free,
				    &arena };
	yajl_handle		 h;
	int			 ok;

	if (!jfast_plain(body, len))
		return NULL;
	memset(&f, 0, sizeof(f));
	arena.used = 0;
	if ((h = yajl_alloc(&jfast_callbacks, &afs, &f)) == NULL)
		return NULL;
	/* The body's UTF-8 is checked above: not twice. */
	yajl_config(h, yajl_dont_validate_strings, 1);
	ok = yajl_parse(h, (const unsigned char *)body, len) == yajl_status_ok &&
	    yajl_complete_parse(h) == yajl_status_ok && f.root != NULL &&
	    f.depth == 0;
	yajl_free(h);
	if (!ok) {
		json_decref(f.root);
		return NULL;
	}
	return f.root;
}
