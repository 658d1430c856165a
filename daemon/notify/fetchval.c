/*
 * Checks on what goes into a request (fetchval.h): a plugin's method,
 * headers and mail addresses must not smuggle in lines of their own.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "notify/fetchval.h"

int
fetchval_method(const char *m, size_t max)
{
	size_t i;

	for (i = 0; m[i] != '\0'; i++)
		if (i >= max || !isupper((unsigned char)m[i]))
			return 0;
	return i > 0;
}

/* A CR or LF in a header would smuggle in headers of its own. */
int
fetchval_header(const char *h)
{
	return h != NULL && strchr(h, ':') != NULL && strpbrk(h, "\r\n") == NULL;
}

/* Nor may an address smuggle in SMTP commands. */
int
fetchval_address(const char *a)
{
	return a != NULL && strpbrk(a, "\r\n") == NULL;
}

/* RFC 9110 10.2.3: delta-seconds or an HTTP-date.  Anything else is none. */
int64_t
fetchval_retry_after(const char *v, int64_t now, int64_t max)
{
	int64_t secs = 0;
	time_t t;
	const char *p;

	if (isdigit((unsigned char)v[0])) {
		for (p = v; isdigit((unsigned char)*p); p++)
			if (secs <= max / 1000)
				secs = secs * 10 + (*p - '0');
		if (*p != '\0')
			return 0;
		return secs > max / 1000 ? max : secs * 1000;
	}
	if (v[0] == '\0' || (t = curl_getdate(v, NULL)) == -1)
		return 0;
	if ((int64_t)t > now / 1000 + max / 1000)
		return max;
	if ((int64_t)t * 1000 <= now)
		return 0;
	return (int64_t)t * 1000 - now > max ? max : (int64_t)t * 1000 - now;
}
