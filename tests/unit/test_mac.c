/*
 * HMAC as link tokens (SHA-256) and Twilio signatures (SHA-1) use it: the
 * RFC 4231 and RFC 2202 test cases, one-shot and with a key made ready
 * once.  Twilio's own example goes through smsin_twilio_valid() in
 * test_smsin.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "base/mac.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct vector {
	const char	*key;		/* hex, or "<byte>*<count>" */
	const char	*data;		/* text, or "<byte>*<count>" */
	const char	*mac;		/* hex; shorter: the RFC's truncated MAC */
};

/* RFC 4231 section 4, HMAC-SHA-256. */
static const struct vector sha256[] = {
	{ "0b*20", "Hi There",
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4a656665", "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "aa*20", "dd*50",
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "0c*20", "Test With Truncation", "a3b6167473100ee06e0c796c2955552b" },
	{ "aa*131", "Test Using Larger Than Block-Size Key - Hash Key First",
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "aa*131", "This is a test using a larger than block-size key and a "
	    "larger than block-size data. The key needs to be hashed before "
	    "being used by the HMAC algorithm.",
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

/* RFC 2202 section 3, HMAC-SHA-1. */
static const struct vector sha1[] = {
	{ "0b*20", "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "4a656665", "what do ya want for nothing?",
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "aa*20", "dd*50", "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
	    "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ "0c*20", "Test With Truncation", "4c1a03424b55e07fe7f27be1" },
	{ "aa*80", "Test Using Larger Than Block-Size Key - Hash Key First",
	    "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "aa*80", "Test Using Larger Than Block-Size Key and Larger Than One "
	    "Block-Size Data", "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
};

static size_t
unhex(const char *hex, unsigned char *out, size_t outsz)
{
	size_t	 n = strlen(hex) / 2, i;
	unsigned v;

	assert_true(n <= outsz);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

/* "aa*20" is twenty 0xaa bytes; anything else is hex (key) or text (data). */
static size_t
bytes(const char *spec, int is_key, unsigned char *out, size_t outsz)
{
	unsigned byte, count;
	size_t	 n;

	if (sscanf(spec, "%2x*%u", &byte, &count) == 2 && strchr(spec, '*')) {
		assert_true(count <= outsz);
		memset(out, (int)byte, count);
		return count;
	}
	if (is_key)
		return unhex(spec, out, outsz);
	n = strlen(spec);
	assert_true(n <= outsz);
	memcpy(out, spec, n);
	return n;
}

static void
check(const char *digest, const struct vector *v, size_t nv, size_t size)
{
	unsigned char	 key[256], data[256], want[MAC_MAX], got[MAC_MAX];
	struct mac_key	*k;
	struct iovec	 iov[4];
	size_t		 i, klen, dlen, wlen;

	for (i = 0; i < nv; i++) {
		klen = bytes(v[i].key, 1, key, sizeof(key));
		dlen = bytes(v[i].data, 0, data, sizeof(data));
		wlen = unhex(v[i].mac, want, sizeof(want));

		memset(got, 0, sizeof(got));
		assert_int_equal(mac_hmac(digest, key, klen, data, dlen, got,
		    sizeof(got)), size);
		if (memcmp(got, want, wlen) != 0)
			fail_msg("%s case %zu: one-shot MAC differs", digest,
			    i + 1);

		/* Pieces, an empty one among them, sign as their concatenation. */
		assert_int_equal(mac_key_new(digest, key, klen, &k), 0);
		iov[0].iov_base = data;
		iov[0].iov_len = dlen / 3;
		iov[1].iov_base = data + dlen / 3;
		iov[1].iov_len = 0;
		iov[2].iov_base = data + dlen / 3;
		iov[2].iov_len = dlen - dlen / 3 - 1;
		iov[3].iov_base = data + dlen - 1;
		iov[3].iov_len = 1;
		memset(got, 0, sizeof(got));
		assert_int_equal(mac_key_sign(k, iov, NELEM(iov), got,
		    sizeof(got)), size);
		if (memcmp(got, want, wlen) != 0)
			fail_msg("%s case %zu: keyed MAC differs", digest, i + 1);
		mac_key_free(k);
	}
}

static void
test_rfc4231_sha256(void **state)
{
	check("SHA256", sha256, NELEM(sha256), 32);
}

static void
test_rfc2202_sha1(void **state)
{
	check("SHA1", sha1, NELEM(sha1), 20);
}

/* A key made ready once signs any number of messages, each on its own. */
static void
test_key_reused(void **state)
{
	static const char *const msgs[] = { "1|A|1|INC-1|p", "", "1|R|2|INC-2|q" };
	unsigned char	 once[MAC_MAX], keyed[MAC_MAX];
	struct mac_key	*k;
	struct iovec	 iov;
	size_t		 i, round;

	assert_int_equal(mac_key_new("SHA256", "0123456789abcdef", 16, &k), 0);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < NELEM(msgs); i++) {
			iov.iov_base = (void *)msgs[i];
			iov.iov_len = strlen(msgs[i]);
			assert_int_equal(mac_key_sign(k, &iov, 1, keyed,
			    sizeof(keyed)), 32);
			assert_int_equal(mac_hmac("SHA256", "0123456789abcdef",
			    16, msgs[i], strlen(msgs[i]), once, sizeof(once)),
			    32);
			assert_memory_equal(keyed, once, 32);
		}
	}
	/* No pieces at all is the empty message. */
	assert_int_equal(mac_key_sign(k, NULL, 0, keyed, sizeof(keyed)), 32);
	assert_int_equal(mac_hmac("SHA256", "0123456789abcdef", 16, "", 0, once,
	    sizeof(once)), 32);
	assert_memory_equal(keyed, once, 32);
	mac_key_free(k);
	mac_key_free(NULL);

	/* An empty key is a key (HMAC pads it with zeros). */
	unhex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
	    keyed, sizeof(keyed));
	assert_int_equal(mac_hmac("SHA256", "", 0, "", 0, once, sizeof(once)),
	    32);
	assert_memory_equal(keyed, once, 32);
}

static void
test_errors(void **state)
{
	unsigned char	 out[MAC_MAX];
	struct mac_key	*k = (struct mac_key *)out;
	struct iovec	 iov = { .iov_base = "x", .iov_len = 1 };

	assert_int_equal(mac_hmac("NO-SUCH-DIGEST", "k", 1, "m", 1, out,
	    sizeof(out)), -EINVAL);
	assert_int_equal(mac_hmac(NULL, "k", 1, "m", 1, out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(mac_hmac("SHA256", "k", 1, "m", 1, out, 31), -ENOSPC);
	assert_int_equal(mac_hmac("SHA1", "k", 1, "m", 1, out, 20), 20);

	assert_int_equal(mac_key_new("NO-SUCH-DIGEST", "k", 1, &k), -EINVAL);
	assert_null(k);
	assert_int_equal(mac_key_new(NULL, "k", 1, &k), -EINVAL);
	assert_int_equal(mac_key_new("SHA256", "k", 1, &k), 0);
	assert_int_equal(mac_key_sign(k, &iov, 1, out, 31), -ENOSPC);
	assert_int_equal(mac_key_sign(k, &iov, 1, out, 32), 32);
	mac_key_free(k);
}

/*
 * mac_hmac() keeps the keys it last used ready: keys that share a prefix,
 * the same key under another digest, and more keys than it keeps, in turn,
 * each sign as OpenSSL's one-shot HMAC does, and after mac_forget() too.
 */
static void
test_recent_keys(void **state)
{
	static const struct { const char *digest; size_t keylen; } keys[] = {
		{ "SHA256", 16 }, { "SHA256", 15 }, { "SHA1", 16 },
		{ "SHA256", 0 }, { "SHA256", 32 }, { "SHA1", 15 },
		{ "SHA256", 128 }, { "SHA256", 129 },
	};
	unsigned char	 key[160], got[MAC_MAX], want[MAC_MAX];
	const char	*msg = "1|A|1|INC-1|p";
	size_t		 i, round, n;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)('a' + i % 26);
	for (round = 0; round < 3; round++) {
		if (round == 2)
			mac_forget();
		for (i = 0; i < NELEM(keys); i++) {
			n = 0;
			assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL,
			    keys[i].digest, NULL, key, keys[i].keylen,
			    (const unsigned char *)msg,
			    strlen(msg), want, sizeof(want), &n));
			memset(got, 0, sizeof(got));
			assert_int_equal(mac_hmac(keys[i].digest, key,
			    keys[i].keylen, msg, strlen(msg), got, sizeof(got)),
			    (int)n);
			if (memcmp(got, want, n) != 0)
				fail_msg("round %zu, key %zu (%s, %zu bytes): "
				    "MAC differs", round, i, keys[i].digest,
				    keys[i].keylen);
		}
		/* The same key changed in place is another key. */
		key[3] ^= 1;
	}
	mac_forget();
	mac_forget();
}

static void
test_equal(void **state)
{
	unsigned char	 a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(mac_equal(a, b, sizeof(a)));
	assert_true(mac_equal(a, b, 0));
	b[0] ^= 1;
	assert_false(mac_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	b[31] ^= 0x80;
	assert_false(mac_equal(a, b, sizeof(a)));
	assert_true(mac_equal(a, b, 31));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231_sha256),
		cmocka_unit_test(test_rfc2202_sha1),
		cmocka_unit_test(test_key_reused),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_recent_keys),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
