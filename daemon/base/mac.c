/*
 * HMAC (see mac.h).  A key used for several messages keeps a keyed
 * EVP_MAC_CTX and duplicates it per message.  One-shot MACs go through a
 * few such keys kept for the keys last used: the callers (one-tap links,
 * session cookies, Twilio signatures) sign with the same handful of keys
 * all day, and keying costs a provider fetch, the key's hash and its pads
 * every time, several times the MAC of a short message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "base/mac.h"

struct mac_key {
	EVP_MAC_CTX	*ctx;		/* keyed; never updated itself */
	size_t		 size;		/* bytes of a MAC */
};

/* Why OpenSSL failed, found only once it has: the fast path never asks. */
static int
mac_why(const char *digest, size_t outsz)
{
	EVP_MD	*md;
	int	 size;

	if (digest == NULL || (md = EVP_MD_fetch(NULL, digest, NULL)) == NULL)
		return -EINVAL;
	size = EVP_MD_get_size(md);
	EVP_MD_free(md);
	return size > 0 && outsz < (size_t)size ? -ENOSPC : -ENOMEM;
}

/*
 * The keys last used by mac_hmac(), ready.  Longer keys and digest names
 * are not kept (nobody uses them twice); nor is a key that did not work.
 */
#define MAC_CACHE_KEYS		4
#define MAC_CACHE_KEY_MAX	128
#define MAC_CACHE_DIGEST_MAX	16

static struct mac_cached {
	struct mac_key	*k;
	char		 digest[MAC_CACHE_DIGEST_MAX];
	unsigned char	 key[MAC_CACHE_KEY_MAX];
	size_t		 keylen;
} mac_cache[MAC_CACHE_KEYS];
static size_t		 mac_cache_next;	/* the one replaced next */

static void
mac_cache_drop(struct mac_cached *c)
{
	mac_key_free(c->k);
	OPENSSL_cleanse(c, sizeof(*c));
}

void
mac_forget(void)
{
	size_t	 i;

	for (i = 0; i < MAC_CACHE_KEYS; i++)
		mac_cache_drop(&mac_cache[i]);
	mac_cache_next = 0;
}

/* The ready key for (digest, key), made and kept if need be; NULL: not kept. */
static const struct mac_key *
mac_cached_key(const char *digest, const void *key, size_t keylen)
{
	struct mac_cached *c;
	struct mac_key	*k;
	size_t		 i, dlen = strlen(digest);

	if (keylen > MAC_CACHE_KEY_MAX || dlen >= MAC_CACHE_DIGEST_MAX ||
	    (keylen > 0 && key == NULL))
		return NULL;
	for (i = 0; i < MAC_CACHE_KEYS; i++) {
		c = &mac_cache[i];
		if (c->k != NULL && c->keylen == keylen &&
		    strcmp(c->digest, digest) == 0 &&
		    CRYPTO_memcmp(c->key, key, keylen) == 0)
			return c->k;
	}
	if (mac_key_new(digest, key, keylen, &k) != 0)
		return NULL;
	c = &mac_cache[mac_cache_next];
	mac_cache_drop(c);
	c->k = k;
	memcpy(c->digest, digest, dlen + 1);
	if (keylen > 0)
		memcpy(c->key, key, keylen);
	c->keylen = keylen;
	mac_cache_next = (mac_cache_next + 1) % MAC_CACHE_KEYS;
	return c->k;
}

int
mac_hmac(const char *digest, const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char *out, size_t outsz)
{
	const struct mac_key *k;
	struct iovec	 iov;
	size_t		 n = 0;
	int		 rc;

	if (digest == NULL)
		return -EINVAL;
	if ((k = mac_cached_key(digest, key, keylen)) != NULL) {
		iov.iov_base = (void *)msg;
		iov.iov_len = len;
		if ((rc = mac_key_sign(k, &iov, 1, out, outsz)) != -ENOMEM)
			return rc;
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key, keylen, msg, len,
	    out, outsz, &n) == NULL)
		return mac_why(digest, outsz);
	return (int)n;
}

int
mac_key_new(const char *digest, const void *key, size_t keylen,
    struct mac_key **out)
{
	struct mac_key	*k;
	EVP_MAC		*mac;
	OSSL_PARAM	 params[2];
	int		 rc;

	*out = NULL;
	if (digest == NULL)
		return -EINVAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -ENOMEM;
	/* The parameter is read, not kept or written. */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL)
		k->ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* the context holds its own reference */
	if (k->ctx == NULL || !EVP_MAC_init(k->ctx, key, keylen, params) ||
	    (k->size = EVP_MAC_CTX_get_mac_size(k->ctx)) == 0) {
		rc = k->ctx == NULL ? -ENOMEM : mac_why(digest, MAC_MAX);
		mac_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
mac_key_free(struct mac_key *k)
{
	if (k == NULL)
		return;
	EVP_MAC_CTX_free(k->ctx);
	free(k);
}

int
mac_key_sign(const struct mac_key *k, const struct iovec *iov, size_t iovcnt,
    unsigned char *out, size_t outsz)
{
	EVP_MAC_CTX	*ctx;
	size_t		 i, n = 0;
	int		 ok;

	if (outsz < k->size)
		return -ENOSPC;
	if ((ctx = EVP_MAC_CTX_dup(k->ctx)) == NULL)
		return -ENOMEM;
	for (i = 0, ok = 1; ok && i < iovcnt; i++)
		ok = EVP_MAC_update(ctx, iov[i].iov_base, iov[i].iov_len);
	ok = ok && EVP_MAC_final(ctx, out, &n, outsz);
	EVP_MAC_CTX_free(ctx);
	return ok ? (int)n : -ENOMEM;
}

int
mac_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
