/*
 * HMAC (see mac.h).  One-shot MACs are EVP_Q_mac(); a key used for several
 * messages keeps a keyed EVP_MAC_CTX and duplicates it per message.
 */
#include <errno.h>
#include <stdlib.h>

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

int
mac_hmac(const char *digest, const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char *out, size_t outsz)
{
	size_t	 n = 0;

	if (digest == NULL || EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key,
	    keylen, msg, len, out, outsz, &n) == NULL)
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
