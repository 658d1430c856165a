/*
 * One-tap link tokens.  Pure functions of bytes (no globals, clock or
 * logging) so they can be fuzzed alone.
 *
 * A token is base64url(payload) "." base64url(HMAC-SHA256(key, payload)).
 * The payload is "1|A|<expiry_ms>|<incident>|<person>": the fields cannot
 * hold '|', so no two field sets give the same payload.  Base64 is checked
 * to be canonical, so each payload has exactly one token: a flipped bit in
 * the padding of the last character is an altered token, not the same one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/b64url.h"
#include "base/mac.h"
#include "parse/linktoken.h"

#define PAYLOAD_MAX	(LINKTOKEN_TOKEN_MAX * 3 / 4)	/* decoded bytes */
#define MAC_LEN		32				/* SHA-256 */

/*
 * HMAC-SHA256 into md (MAC_LEN bytes); 0 or -ENOMEM.  One-shot: keying
 * afresh costs about a microsecond more than a cached key (measured), and
 * these functions keep no state.
 */
static int
linktoken_mac(const void *key, size_t keylen, const unsigned char *msg,
    size_t len, unsigned char *md)
{
	return mac_hmac("SHA256", key, keylen, msg, len, md, MAC_LEN) ==
	    MAC_LEN ? 0 : -ENOMEM;
}

/* 1..LINKTOKEN_FIELD_MAX printable ASCII bytes without '|'. */
static int
field_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > LINKTOKEN_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '|')
			return 0;
	return 1;
}

static int
action_ok(char action)
{
	return action == 'A' || action == 'F' || action == 'R';
}

int
linktoken_v1_make(const void *key, size_t keylen, const char *incident,
    const char *person, char action, int64_t expiry_ms, char *token,
    size_t tokenlen)
{
	char		 payload[PAYLOAD_MAX + 1];
	unsigned char	 md[MAC_LEN];
	char		 p64[B64URL_BUF(PAYLOAD_MAX)], m64[B64URL_BUF(MAC_LEN)];
	size_t		 plen, n;
	int		 rc, len;

	if (tokenlen > 0)
		*token = '\0';
	if (key == NULL || keylen < LINKTOKEN_KEY_MIN || incident == NULL ||
	    person == NULL || !field_ok(incident, strlen(incident)) ||
	    !field_ok(person, strlen(person)) || !action_ok(action) ||
	    expiry_ms < 0)
		return -EINVAL;
	len = snprintf(payload, sizeof(payload), "1|%c|%" PRId64 "|%s|%s",
	    action, expiry_ms, incident, person);
	if (len < 0 || (size_t)len >= sizeof(payload))
		return -EINVAL;
	plen = (size_t)len;
	if ((rc = linktoken_mac(key, keylen, (unsigned char *)payload, plen,
	    md)) != 0)
		return rc;
	n = b64url_encode((unsigned char *)payload, plen, p64);
	n += 1 + b64url_encode(md, sizeof(md), m64);
	if (n > LINKTOKEN_TOKEN_MAX || n >= tokenlen)
		return -ENOSPC;
	snprintf(token, tokenlen, "%s.%s", p64, m64);
	return 0;
}

/* A canonical non-negative decimal of s[0..n). */
static int
parse_ms(const char *s, size_t n, int64_t *ms)
{
	int64_t	 v = 0;
	size_t	 i;

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ms = v;
	return 0;
}

/* "1|A|<expiry>|<incident>|<person>" into out. */
static int
parse_payload(const char *p, size_t n, struct linktoken *out)
{
	const char	*f[5];
	size_t		 flen[5], i, k = 0, start = 0;

	for (i = 0; i <= n && k < 5; i++) {
		if (i == n || p[i] == '|') {
			f[k] = p + start;
			flen[k++] = i - start;
			start = i + 1;
		}
	}
	if (k != 5 || start != n + 1)
		return -EINVAL;
	if (flen[0] != 1 || f[0][0] != '1' || flen[1] != 1 ||
	    !action_ok(f[1][0]) || parse_ms(f[2], flen[2], &out->expiry_ms) ||
	    !field_ok(f[3], flen[3]) || !field_ok(f[4], flen[4]))
		return -EINVAL;
	out->action = f[1][0];
	memcpy(out->incident, f[3], flen[3]);
	out->incident[flen[3]] = '\0';
	memcpy(out->person, f[4], flen[4]);
	out->person[flen[4]] = '\0';
	return 0;
}

int
linktoken_v1_verify(const void *key, size_t keylen, const char *token,
    int64_t now_ms, struct linktoken *out)
{
	unsigned char	 payload[PAYLOAD_MAX + 1], md[MAC_LEN];
	unsigned char	 got[PAYLOAD_MAX + 1];
	const char	*dot;
	size_t		 len;
	int		 plen, glen, rc;

	memset(out, 0, sizeof(*out));
	if (key == NULL || keylen < LINKTOKEN_KEY_MIN || token == NULL ||
	    (len = strnlen(token, LINKTOKEN_TOKEN_MAX + 1)) > LINKTOKEN_TOKEN_MAX)
		return -EINVAL;
	if ((dot = memchr(token, '.', len)) == NULL || dot == token ||
	    dot + 1 == token + len ||
	    memchr(dot + 1, '.', len - (size_t)(dot + 1 - token)) != NULL)
		return -EINVAL;
	if ((plen = b64url_decode(token, (size_t)(dot - token), payload,
	    sizeof(payload))) < 0 ||
	    (glen = b64url_decode(dot + 1, len - (size_t)(dot + 1 - token),
	    got, sizeof(got))) != MAC_LEN)
		return -EBADMSG;
	if ((rc = linktoken_mac(key, keylen, payload, (size_t)plen, md)) != 0)
		return rc;
	if (!mac_equal(md, got, MAC_LEN))
		return -EBADMSG;
	/* Signed with our key, so a bad payload is a bug, not an attack. */
	if (parse_payload((const char *)payload, (size_t)plen, out) != 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	if (now_ms >= out->expiry_ms)
		return -ETIMEDOUT;
	return 0;
}

/* Short tokens ------------------------------------------------------------ */

#define STUB_BYTES	(LINKTOKEN_ID_LEN + 4)
#define SHORT_MAC	8
#define TOKEN_BYTES	(STUB_BYTES + SHORT_MAC)

/* EVP_EncodeBlock() writes the padding first: 17 bytes for 14 characters. */
static void
linktoken_stub_text(const unsigned char *b, char *stub)
{
	char buf[B64URL_BUF(STUB_BYTES)];

	b64url_encode(b, STUB_BYTES, buf);
	memcpy(stub, buf, LINKTOKEN_STUB_LEN + 1);
}

int
linktoken_stub(const unsigned char *random, int64_t expiry_ms, char *stub)
{
	unsigned char	 b[STUB_BYTES];
	int64_t		 minutes = (expiry_ms + 59999) / 60000;

	if (expiry_ms < 0 || minutes > UINT32_MAX)
		return -EINVAL;
	memcpy(b, random, LINKTOKEN_ID_LEN);
	b[LINKTOKEN_ID_LEN] = (unsigned char)(minutes >> 24);
	b[LINKTOKEN_ID_LEN + 1] = (unsigned char)(minutes >> 16);
	b[LINKTOKEN_ID_LEN + 2] = (unsigned char)(minutes >> 8);
	b[LINKTOKEN_ID_LEN + 3] = (unsigned char)minutes;
	linktoken_stub_text(b, stub);
	return 0;
}

int
linktoken_stub_expiry(const char *stub, int64_t *expiry_ms)
{
	unsigned char	 b[STUB_BYTES + 2];
	const unsigned char *m = b + LINKTOKEN_ID_LEN;

	if (stub == NULL || strlen(stub) != LINKTOKEN_STUB_LEN ||
	    b64url_decode(stub, LINKTOKEN_STUB_LEN, b, sizeof(b)) != STUB_BYTES)
		return -EINVAL;
	*expiry_ms = ((int64_t)m[0] << 24 | (int64_t)m[1] << 16 |
	    (int64_t)m[2] << 8 | (int64_t)m[3]) * 60000;
	return 0;
}

int
linktoken_sign(const void *key, size_t keylen, const char *stub, char *token)
{
	unsigned char	 b[TOKEN_BYTES + 2], md[MAC_LEN];
	int		 rc;

	if (key == NULL || keylen < LINKTOKEN_KEY_MIN || stub == NULL ||
	    strlen(stub) != LINKTOKEN_STUB_LEN ||
	    b64url_decode(stub, LINKTOKEN_STUB_LEN, b, sizeof(b)) != STUB_BYTES)
		return -EINVAL;
	if ((rc = linktoken_mac(key, keylen, b, STUB_BYTES, md)) != 0)
		return rc;
	memcpy(b + STUB_BYTES, md, SHORT_MAC);
	b64url_encode(b, TOKEN_BYTES, token);
	return 0;
}

int
linktoken_open(const void *key, size_t keylen, const char *token,
    int64_t now_ms, char *stub, int64_t *expiry_ms)
{
	unsigned char	 b[TOKEN_BYTES + 2], md[MAC_LEN];
	int		 rc;

	stub[0] = '\0';
	if (key == NULL || keylen < LINKTOKEN_KEY_MIN || token == NULL ||
	    strnlen(token, LINKTOKEN_LEN + 1) != LINKTOKEN_LEN ||
	    b64url_decode(token, LINKTOKEN_LEN, b, sizeof(b)) != TOKEN_BYTES)
		return -EBADMSG;
	if ((rc = linktoken_mac(key, keylen, b, STUB_BYTES, md)) != 0)
		return rc;
	if (!mac_equal(md, b + STUB_BYTES, SHORT_MAC))
		return -EBADMSG;
	linktoken_stub_text(b, stub);
	if ((rc = linktoken_stub_expiry(stub, expiry_ms)) != 0)
		return -EBADMSG;
	return now_ms >= *expiry_ms ? -ETIMEDOUT : 0;
}
