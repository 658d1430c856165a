/*
 * base64url without padding (RFC 4648 §5), as tokens and cookies are
 * written: OpenSSL's base64 with the two characters swapped.
 */
#ifndef DUTYD_B64URL_H
#define DUTYD_B64URL_H

#include <stddef.h>

/* Bytes the text of N bytes takes, with its NUL. */
#define B64URL_BUF(n)		(((n) + 2) / 3 * 4 + 1)
/* Characters b64url_decode() takes at most. */
#define B64URL_TEXT_MAX		1024

/* in[0..n) into out (B64URL_BUF(n) bytes): the text's length. */
size_t	b64url_encode(const unsigned char *in, size_t n, char *out);
/*
 * The canonical text s[0..n) (nothing but the alphabet, no padding, unused
 * low bits zero: one text per value) into out, at most OUTSZ bytes: their
 * number, or -1.
 */
int	b64url_decode(const char *s, size_t n, unsigned char *out, size_t outsz);

#endif
