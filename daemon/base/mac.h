/*
 * HMAC through OpenSSL 3's EVP_MAC, for the signatures dutyd makes and
 * checks (one-tap link tokens, Twilio's X-Twilio-Signature).  digest is an
 * OpenSSL digest name: "SHA256", "SHA1".  Results are the MAC's length in
 * bytes, or -EINVAL (unknown digest), -ENOSPC (out smaller than the MAC)
 * or -ENOMEM (OpenSSL failed).  No logging.
 */
#ifndef DUTYD_MAC_H
#define DUTYD_MAC_H

#include <sys/uio.h>

#include <stddef.h>

#define MAC_MAX	64	/* bytes of the longest MAC (SHA-512) */

/*
 * HMAC of msg[0..len) under key, into out (outsz bytes), in one call.  The
 * few keys last used are kept ready (a copy of each) until mac_forget():
 * call it from one thread only (the loop's).
 */
int	 mac_hmac(const char *digest, const void *key, size_t keylen,
	    const void *msg, size_t len, unsigned char *out, size_t outsz);
/* Wipes the keys mac_hmac() keeps. */
void	 mac_forget(void);

/*
 * A key made ready once for several messages: keying HMAC hashes the key
 * and its pads, copying the keyed state costs less.  0 or -errno.
 */
struct mac_key;
int	 mac_key_new(const char *digest, const void *key, size_t keylen,
	    struct mac_key **out);
void	 mac_key_free(struct mac_key *k);
/* HMAC of the iovcnt pieces of iov, back to back, into out. */
int	 mac_key_sign(const struct mac_key *k, const struct iovec *iov,
	    size_t iovcnt, unsigned char *out, size_t outsz);

/* 1 if a and b (len bytes each) are equal, in time that does not tell where they differ. */
int	 mac_equal(const void *a, const void *b, size_t len);

#endif
