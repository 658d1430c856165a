/*
 * base64url (see b64url.h).
 */
#include <string.h>

#include <openssl/evp.h>

#include "base/b64url.h"

size_t
b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t	 len, i;

	len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return len;
}

int
b64url_decode(const char *s, size_t n, unsigned char *out, size_t outsz)
{
	char		 tmp[B64URL_TEXT_MAX + 4], again[B64URL_TEXT_MAX + 4];
	unsigned char	 buf[B64URL_TEXT_MAX / 4 * 3 + 3];
	size_t		 i, pad;
	int		 len;

	if (n == 0 || n > B64URL_TEXT_MAX || n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			tmp[i] = '+';
		else if (s[i] == '_')
			tmp[i] = '/';
		else if ((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			tmp[i] = s[i];
		else
			return -1;
	}
	for (pad = 0; (n + pad) % 4 != 0; pad++)
		tmp[n + pad] = '=';
	tmp[n + pad] = '\0';
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	if ((len = EVP_DecodeBlock(buf, (unsigned char *)tmp,
	    (int)(n + pad))) < 0 || (size_t)len < pad ||
	    (size_t)len - pad > outsz)
		return -1;
	len -= (int)pad;
	/* Unused low bits must be zero: one text per value. */
	if (b64url_encode(buf, (size_t)len, again) != n ||
	    memcmp(again, s, n) != 0)
		return -1;
	memcpy(out, buf, (size_t)len);
	return len;
}
