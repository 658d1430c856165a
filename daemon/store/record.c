/*
 * The record line: its hash, its parser and its writer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/jfast.h"
#include "base/jwrite.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "store/record.h"

/*
 * Fetched once a thread: OpenSSL 3's one-shot SHA256() looks the digest up
 * on every call.  Start-up's chain check runs beside replay on a thread of
 * its own (auditscan.c), which lets go of them with record_hash_done().
 */
static _Thread_local EVP_MD	*sha256;
static _Thread_local EVP_MD_CTX	*ctx;

void
record_hash_done(void)
{
	EVP_MD_CTX_free(ctx);
	ctx = NULL;
	EVP_MD_free(sha256);
	sha256 = NULL;
}

void
record_hash(const char *line, size_t len, char hex[RECORD_HASH_HEX])
{
	unsigned char		 md[SHA256_DIGEST_LENGTH];
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	if (sha256 == NULL && (sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatalx("OpenSSL has no SHA-256");
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("out of memory for a SHA-256 context");
	if (EVP_DigestInit_ex2(ctx, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, line, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		fatalx("SHA-256 failed");
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
}

int
record_hash_digits(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
is_hex64(const char *s)
{
	return record_hash_digits(s) && s[64] == '\0';
}

static int record_plain(const char *, size_t);
static void record_find_data(const char *, size_t, json_t *, struct record *);


int
record_parse(const char *line, size_t len, struct record *rec, json_t **rootp,
    const char **why)
{
	json_t		*root, *v;
	json_error_t	 jerr;
	const char	*prev;

	*rootp = NULL;
	memset(rec, 0, sizeof(*rec));
	/*
	 * Replay's cost was jansson's parse (99 k of 147 k instructions a
	 * record); yajl builds the same tree where the two cannot differ.
	 */
	if ((root = jfast_load(line, len)) == NULL)
		root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*why = "not a JSON line";
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		*why = "not a JSON object";
		goto bad;
	}
	v = json_object_get(root, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		*why = "seq missing or not a positive integer";
		goto bad;
	}
	rec->seq = json_integer_value(v);
	rec->ts = json_string_value(json_object_get(root, "ts"));
	if (rec->ts == NULL || time_parse(rec->ts, &rec->ts_ms) != 0) {
		*why = "ts missing or not an RFC 3339 time";
		goto bad;
	}
	rec->event = json_string_value(json_object_get(root, "event"));
	rec->actor = json_string_value(json_object_get(root, "actor"));
	if (rec->event == NULL || rec->actor == NULL) {
		*why = "event or actor missing";
		goto bad;
	}
	v = json_object_get(root, "incident");
	if (v != NULL && !json_is_string(v)) {
		*why = "incident is not a string";
		goto bad;
	}
	rec->incident = json_string_value(v);
	rec->data = json_object_get(root, "data");
	if (!json_is_object(rec->data)) {
		*why = "data missing or not an object";
		goto bad;
	}
	prev = json_string_value(json_object_get(root, "prev"));
	if (prev == NULL || !is_hex64(prev)) {
		*why = "prev missing or not 64 lowercase hex digits";
		goto bad;
	}
	record_find_data(line, len, root, rec);
	*rootp = root;
	return 0;
bad:
	json_decref(root);
	memset(rec, 0, sizeof(*rec));
	return -EINVAL;
}

/* Bytes jansson writes as they are: printable ASCII but '"' and '\\'. */
static int
record_plain(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/* A JSON string as jansson writes it (JSON_COMPACT). */
static void
record_put_string(struct jwrite *b, const char *s)
{
	jwrite_string(b, s, strlen(s));
}

/*
 * A line up to data's value: the key order is the envelope auditscan.c
 * reads without parsing, and record_find_data() compares a line with.
 */
static void
record_put_envelope(struct jwrite *b, const struct record *rec)
{
	jwrite_bytes(b, "{\"seq\":", 7);
	jwrite_int(b, (json_int_t)rec->seq);
	jwrite_bytes(b, ",\"ts\":", 6);
	record_put_string(b, rec->ts);
	jwrite_bytes(b, ",\"event\":", 9);
	record_put_string(b, rec->event);
	if (rec->incident != NULL) {
		jwrite_bytes(b, ",\"incident\":", 12);
		record_put_string(b, rec->incident);
	}
	jwrite_bytes(b, ",\"actor\":", 9);
	record_put_string(b, rec->actor);
	jwrite_bytes(b, ",\"data\":", 8);
}

/*
 * Where data's bytes are in LINE, which jansson has just parsed whole
 * into ROOT and REC.  How we know: when ROOT has only the envelope's
 * members and the line's bytes before data are exactly what
 * record_format_raw() writes for REC's values (our own fixed layout:
 * seq, ts, event, incident, actor, data, prev, plain strings), and it
 * ends in the fixed 75 bytes of ,"prev":"<64 hex>"}, data's value is
 * what lies between the two: nothing is read from the line, only
 * compared.  Otherwise (a line dutyd did not write) data_text stays NULL.
 */
static void
record_find_data(const char *line, size_t len, json_t *root,
    struct record *rec)
{
	/* ,"prev":" 64 hex digits "} */
	static const size_t	 tail = 9 + 64 + 2;
	struct jwrite	 b;
	size_t			 off;

	/* Nothing but the envelope's members: none between data and prev. */
	if (json_object_size(root) != (rec->incident != NULL ? 7u : 6u))
		return;
	memset(&b, 0, sizeof(b));
	record_put_envelope(&b, rec);
	off = b.len;
	if (!b.failed && len >= off + 2 + tail &&
	    memcmp(line, b.p, off) == 0 &&
	    memcmp(line + len - tail, ",\"prev\":\"", 9) == 0 &&
	    line[len - 2] == '"' && line[len - 1] == '}' &&
	    line[off] == '{' && line[len - tail - 1] == '}') {
		rec->data_text = line + off;
		rec->data_textlen = len - tail - off;
	}
	free(b.p);
}

/* A line's end: prev, the brace; the line handed over, or freed. */
static int
record_finish(struct jwrite *b, const char *prev, char **linep, size_t *lenp)
{
	jwrite_bytes(b, ",\"prev\":", 8);
	record_put_string(b, prev);
	jwrite_bytes(b, "}", 1);
	if (b->failed) {
		free(b->p);
		return -ENOMEM;
	}
	if (b->len > RECORD_LINE_MAX) {
		free(b->p);
		return -EMSGSIZE;
	}
	*linep = b->p;
	*lenp = b->len;
	return 0;
}

/* A buffer for a line of about N bytes of data: rarely grown. */
static int
record_start(struct jwrite *b, const struct record *rec, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->cap = n + 256 + strlen(rec->ts) + strlen(rec->event) +
	    strlen(rec->actor) + (rec->incident != NULL ?
	    strlen(rec->incident) : 0);
	if ((b->p = malloc(b->cap)) == NULL)
		return -ENOMEM;
	b->p[0] = '\0';
	record_put_envelope(b, rec);
	return 0;
}

int
record_format_raw(const struct record *rec, const char *prev,
    const char *data, size_t datalen, char **linep, size_t *lenp)
{
	struct jwrite	 b;

	*linep = NULL;
	*lenp = 0;
	if (record_start(&b, rec, datalen) != 0)
		return -ENOMEM;
	jwrite_bytes(&b, data, datalen);
	return record_finish(&b, prev, linep, lenp);
}

int
record_format(const struct record *rec, const char *prev, char **linep,
    size_t *lenp)
{
	struct record	 copy = *rec;

	return record_format_spliced(&copy, prev, NULL, NULL, 0, linep, lenp);
}

int
record_format_spliced(struct record *rec, const char *prev,
    const char *key, const char *raw, size_t rawlen, char **linep,
    size_t *lenp)
{
	struct jwrite	 b;
	const char	*k;
	json_t		*v;
	size_t		 klen, at, off = 0;
	int		 first = 1, rc;

	*linep = NULL;
	*lenp = 0;
	if (key != NULL && (!json_is_object(rec->data) ||
	    !record_plain(key, strlen(key)) ||
	    json_object_get(rec->data, key) == NULL))
		key = NULL;
	if (record_start(&b, rec, key != NULL ? rawlen + 512 : 512) != 0)
		return -ENOMEM;
	at = b.len;
	if (key == NULL)
		jwrite_value(&b, rec->data, 0);
	else {
		/* The members in their order, KEY's value the bytes given. */
		jwrite_bytes(&b, "{", 1);
		json_object_keylen_foreach(rec->data, k, klen, v) {
			if (!first)
				jwrite_bytes(&b, ",", 1);
			first = 0;
			jwrite_string(&b, k, klen);
			jwrite_bytes(&b, ":", 1);
			if (klen == strlen(key) && memcmp(k, key, klen) == 0) {
				off = b.len - at;
				jwrite_bytes(&b, raw, rawlen);
			} else
				jwrite_value(&b, v, 0);
		}
		jwrite_bytes(&b, "}", 1);
	}
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	klen = b.len - at;
	if ((rc = record_finish(&b, prev, linep, lenp)) != 0)
		return rc;
	/* Inside the line: valid for as long as the caller keeps it. */
	rec->data_text = *linep + at;
	rec->data_textlen = klen;
	rec->spliced_key = key;
	rec->spliced_off = key != NULL ? off : 0;
	rec->spliced_len = key != NULL ? rawlen : 0;
	return 0;
}
