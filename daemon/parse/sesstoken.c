/*
 * Console session cookies (see sesstoken.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>


#include "base/b64url.h"
#include "base/mac.h"
#include "parse/sesstoken.h"

#define MAC_LEN		32	/* SHA-256 */
#define CSRF_BYTES	16
#define PAYLOAD_FIXED	(2 + SESSTOKEN_ID_LEN + 8 + SESSTOKEN_DIGEST_LEN + 1)
#define RAW_MAX		(PAYLOAD_FIXED + SESSTOKEN_SUBJECT_MAX + MAC_LEN)

_Static_assert(B64URL_BUF(RAW_MAX) <= SESSTOKEN_MAX + 1,
    "the longest cookie must fit SESSTOKEN_MAX");
_Static_assert(B64URL_BUF(CSRF_BYTES) >= SESSTOKEN_CSRF_LEN + 1,
    "the CSRF value must fit");

static int
sesstoken_subject_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > SESSTOKEN_SUBJECT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

int
sesstoken_seal(const void *key, size_t keylen, const struct sesstoken *t,
    char *out)
{
	unsigned char	 raw[RAW_MAX], *p = raw;
	size_t		 slen;
	uint64_t	 e;
	int		 i;

	*out = '\0';
	slen = strnlen(t->subject, sizeof(t->subject));
	if (key == NULL || keylen < SESSTOKEN_KEY_MIN ||
	    (t->kind != 'P' && t->kind != 'O') || t->expiry_ms < 0 ||
	    !sesstoken_subject_ok(t->subject, slen))
		return -EINVAL;
	*p++ = 1;
	*p++ = (unsigned char)t->kind;
	memcpy(p, t->id, SESSTOKEN_ID_LEN);
	p += SESSTOKEN_ID_LEN;
	e = (uint64_t)t->expiry_ms;
	for (i = 7; i >= 0; i--)
		*p++ = (unsigned char)(e >> (i * 8));
	memcpy(p, t->digest, SESSTOKEN_DIGEST_LEN);
	p += SESSTOKEN_DIGEST_LEN;
	*p++ = (unsigned char)slen;
	memcpy(p, t->subject, slen);
	p += slen;
	if (mac_hmac("SHA256", key, keylen, raw, (size_t)(p - raw), p,
	    MAC_LEN) != MAC_LEN)
		return -ENOMEM;
	p += MAC_LEN;
	b64url_encode(raw, (size_t)(p - raw), out);
	return 0;
}

int
sesstoken_open(const void *key, size_t keylen, const char *cookie,
    int64_t now_ms, struct sesstoken *t)
{
	unsigned char	 raw[RAW_MAX], md[MAC_LEN];
	const unsigned char *p;
	size_t		 plen, slen;
	uint64_t	 e = 0;
	int		 len, i;

	memset(t, 0, sizeof(*t));
	if (key == NULL || keylen < SESSTOKEN_KEY_MIN || cookie == NULL ||
	    (len = b64url_decode(cookie, strnlen(cookie, SESSTOKEN_MAX + 1), raw,
	    sizeof(raw))) < PAYLOAD_FIXED + 1 + MAC_LEN)
		return -EBADMSG;
	plen = (size_t)len - MAC_LEN;
	if (mac_hmac("SHA256", key, keylen, raw, plen, md, MAC_LEN) != MAC_LEN)
		return -ENOMEM;
	if (!mac_equal(md, raw + plen, MAC_LEN))
		return -EBADMSG;
	/* Signed by us, so well formed unless the format changed. */
	p = raw;
	if (*p++ != 1 || (*p != 'P' && *p != 'O'))
		return -EBADMSG;
	t->kind = (char)*p++;
	memcpy(t->id, p, SESSTOKEN_ID_LEN);
	p += SESSTOKEN_ID_LEN;
	for (i = 0; i < 8; i++)
		e = e << 8 | *p++;
	memcpy(t->digest, p, SESSTOKEN_DIGEST_LEN);
	p += SESSTOKEN_DIGEST_LEN;
	slen = *p++;
	if (slen != plen - PAYLOAD_FIXED ||
	    !sesstoken_subject_ok((const char *)p, slen) || e > INT64_MAX)
		return -EBADMSG;
	memcpy(t->subject, p, slen);
	t->subject[slen] = '\0';
	t->expiry_ms = (int64_t)e;
	return now_ms >= t->expiry_ms ? -ETIMEDOUT : 0;
}

int
sesstoken_csrf(const void *key, size_t keylen, const unsigned char *id,
    char *out)
{
	unsigned char	 msg[4 + SESSTOKEN_ID_LEN], md[MAC_LEN];
	char		 buf[B64URL_BUF(CSRF_BYTES)];

	*out = '\0';
	memcpy(msg, "csrf", 4);
	memcpy(msg + 4, id, SESSTOKEN_ID_LEN);
	if (mac_hmac("SHA256", key, keylen, msg, sizeof(msg), md,
	    MAC_LEN) != MAC_LEN)
		return -ENOMEM;
	b64url_encode(md, CSRF_BYTES, buf);
	memcpy(out, buf, SESSTOKEN_CSRF_LEN + 1);
	return 0;
}

int
sesstoken_csrf_ok(const void *key, size_t keylen, const unsigned char *id,
    const char *given)
{
	char want[SESSTOKEN_CSRF_LEN + 1];

	if (given == NULL || strlen(given) != SESSTOKEN_CSRF_LEN ||
	    sesstoken_csrf(key, keylen, id, want) != 0)
		return 0;
	return mac_equal(want, given, SESSTOKEN_CSRF_LEN);
}

void
sesstoken_id_hex(const unsigned char *id, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SESSTOKEN_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * SESSTOKEN_ID_LEN] = '\0';
}
