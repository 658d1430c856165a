/*
 * The record line: its hash, its parser and its writer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "store/record.h"

void
record_hash(const char *line, size_t len, char hex[RECORD_HASH_HEX])
{
	/* Fetched once: OpenSSL 3's one-shot SHA256() looks the digest up on every call. */
	static EVP_MD		*sha256;
	static EVP_MD_CTX	*ctx;
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

static int
is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int
record_parse(const char *line, size_t len, struct record *rec, json_t **rootp,
    const char **why)
{
	json_t		*root, *v;
	json_error_t	 jerr;
	const char	*prev;

	*rootp = NULL;
	memset(rec, 0, sizeof(*rec));
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
	*rootp = root;
	return 0;
bad:
	json_decref(root);
	memset(rec, 0, sizeof(*rec));
	return -EINVAL;
}

int
record_format(const struct record *rec, const char *prev, char **linep,
    size_t *lenp)
{
	json_t	*root;
	char	*line = NULL;
	size_t	 len;

	*linep = NULL;
	*lenp = 0;
	/* The key order is the envelope auditscan.c reads without parsing. */
	root = json_object();
	if (root == NULL ||
	    json_object_set_new(root, "seq", json_integer(rec->seq)) != 0 ||
	    json_object_set_new(root, "ts", json_string(rec->ts)) != 0 ||
	    json_object_set_new(root, "event", json_string(rec->event)) != 0 ||
	    (rec->incident != NULL && json_object_set_new(root, "incident",
	    json_string(rec->incident)) != 0) ||
	    json_object_set_new(root, "actor", json_string(rec->actor)) != 0 ||
	    json_object_set(root, "data", rec->data) != 0 ||
	    json_object_set_new(root, "prev", json_string(prev)) != 0 ||
	    (line = json_dumps(root, JSON_COMPACT)) == NULL) {
		json_decref(root);
		return -ENOMEM;
	}
	json_decref(root);
	len = strlen(line);
	if (len > RECORD_LINE_MAX) {
		free(line);
		return -EMSGSIZE;
	}
	*linep = line;
	*lenp = len;
	return 0;
}
