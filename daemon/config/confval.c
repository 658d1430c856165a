/*
 * confval.c: pure checks on configuration strings.  They say yes or no, or
 * return why not as text that completes the caller's message; the caller
 * knows the file position and reports it.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "base/utf8.h"
#include "config/confval.h"

int
confval_id(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-");

	return n > 0 && n <= CONFVAL_ID_MAX && s[n] == '\0';
}

int
confval_shift_name(const char *s)
{
	size_t	 len = strlen(s), i = 0, n = 0;
	uint32_t cp;
	int	 l;

	while (i < len) {
		if ((l = utf8_decode(s + i, len - i, &cp)) < 0)
			return 0;
		if (cp < 0x80 ? strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789_.-", (int)cp) == NULL || cp == 0 :
		    /* spaces, and what parts of an override are written with */
		    cp < 0xa1 || (cp >= 0x2000 && cp <= 0x206f) ||
		    (cp >= 0x2190 && cp <= 0x21ff) || (cp >= 0x3000 &&
		    cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011) ||
		    cp == 0xfeff || (cp >= 0xff01 && cp <= 0xff0f) ||
		    (cp >= 0xff1a && cp <= 0xff20))
			return 0;
		i += (size_t)l;
		n++;
	}
	return n > 0 && n <= CONFVAL_ID_MAX;
}

int
confval_plugin_name(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
	    strlen(s) && strlen(s) <= CONFVAL_ID_MAX;
}

int
confval_visible(const char *s)
{
	const char *c;

	for (c = s; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return 0;
	return 1;
}

int
confval_hostname(const char *h, size_t len)
{
	size_t i, label = 0;
	int letter = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
			return 0;
		if ((label == 0 && h[i] == '-') || ++label > 63)
			return 0;
		if (!(h[i] >= '0' && h[i] <= '9') && h[i] != '-')
			letter = 1;
	}
	/* All digits and dots is a mistyped IPv4 address, not a name. */
	return label > 0 && h[len - 1] != '-' && letter;
}

/* Split "host:port"; NULL, or why it is not a listen address. */
const char *
confval_listen(const char *s, const char **host, size_t *hlen, long *port)
{
	char buf[INET6_ADDRSTRLEN + 1], tmp[16];
	const char *p;

	if (s[0] == '[') {
		*host = s + 1;
		if ((p = strchr(*host, ']')) == NULL || p[1] != ':')
			return "write an IPv6 address as [address]:port, "
			    "e.g. [::1]:8080";
		*hlen = p - *host;
		p += 2;
		if (*hlen == 0 || *hlen >= sizeof(buf))
			return "not an IPv6 address";
		memcpy(buf, *host, *hlen);
		buf[*hlen] = '\0';
		if (inet_pton(AF_INET6, buf, tmp) != 1)
			return "not an IPv6 address";
	} else {
		if ((p = strrchr(s, ':')) == NULL)
			return "no port; write host:port, e.g. 127.0.0.1:8080";
		*host = s;
		*hlen = p++ - s;
		if (memchr(s, ':', *hlen) != NULL)
			return "write an IPv6 address in brackets, e.g. "
			    "[::1]:8080";
		if (*hlen == 0)
			return "no host; use 0.0.0.0:PORT to listen on every "
			    "address";
		if (*hlen < sizeof(buf)) {
			memcpy(buf, s, *hlen);
			buf[*hlen] = '\0';
		}
		if ((*hlen >= sizeof(buf) || inet_pton(AF_INET, buf, tmp) != 1)
		    && !confval_hostname(s, *hlen))
			return "the host is neither an IPv4 address nor a host "
			    "name";
	}
	if (strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 ||
	    (*port = strtol(p, NULL, 10)) < 1 || *port > 65535)
		return "the port must be a number from 1 to 65535";
	return NULL;
}


#define URL_EXAMPLE	"\"https://duty.example.gov.cn\""
#define URL_SCHEME	"must start with http:// or https://, e.g. " URL_EXAMPLE
#define URL_NO_HOST	"has no host"
#define URL_LOGIN	"must not hold a user name or password: every " \
	"link in a message would carry it; write e.g. " URL_EXAMPLE
#define URL_PORT	"has an invalid port; use a number from 1 to 65535, " \
	"e.g. \"https://duty.example.gov.cn:8443\""

/* curl's verdict on a URL it could not parse, in the config's words. */
static const char *
url_why(CURLUcode uc, const char *s)
{
	switch (uc) {
	case CURLUE_OUT_OF_MEMORY:
		return "could not be checked: out of memory";
	case CURLUE_BAD_SCHEME:
	case CURLUE_NO_SCHEME:
	case CURLUE_UNSUPPORTED_SCHEME:
	case CURLUE_BAD_SLASHES:
		return URL_SCHEME;
	case CURLUE_NO_HOST:
		return URL_NO_HOST;
	case CURLUE_BAD_PORT_NUMBER:
		return URL_PORT;
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return URL_LOGIN;
	default:
		break;
	}
	if (!confval_visible(s))
		return "contains whitespace or control characters";
	if (uc == CURLUE_BAD_HOSTNAME || uc == CURLUE_BAD_IPV6)
		return "has an invalid host name or address, e.g. " URL_EXAMPLE
		    " or \"http://[2001:db8::1]:8080\"";
	return "is not a valid URL, e.g. " URL_EXAMPLE;
}

const char *
confval_public_url(const char *s, size_t *len)
{
	CURLU		*u;
	CURLUcode	 uc;
	char		*scheme = NULL, *part = NULL;
	const char	*why = NULL;
	size_t		 slen;

	if ((u = curl_url()) == NULL)
		return url_why(CURLUE_OUT_OF_MEMORY, s);
	if ((uc = curl_url_set(u, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME)) !=
	    CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK) {
		why = url_why(uc, s);
		goto done;
	}
	slen = strlen(scheme);
	/* curl reads "https:/x" and "https:///x" as host x: the text must say so. */
	if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    strncmp(s, scheme, slen) != 0 || strncmp(s + slen, "://", 3) != 0)
		why = URL_SCHEME;
	else if (!confval_visible(s))
		why = "contains whitespace or control characters";
	else if (s[slen + 3] == '/')
		why = URL_NO_HOST;
	else if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK)
		why = URL_LOGIN;
	else if (curl_url_get(u, CURLUPART_PORT, &part, 0) == CURLUE_OK &&
	    strcmp(part, "0") == 0)
		why = URL_PORT;	/* curl takes port 0 */
	if (why == NULL) {
		*len = strlen(s);
		while (*len > slen + 3 && s[*len - 1] == '/')
			(*len)--;
	}
done:
	curl_free(scheme);
	curl_free(part);
	curl_url_cleanup(u);
	return why;
}

int
confval_zone_name(const char *s)
{
	return s[0] != '/' && strstr(s, "..") == NULL;
}

/*
 * Units are the IEC ones only: "MB" is 10^6 to some readers and 2^20 to
 * others, so any spelling but the exact one is refused, naming the right one.
 */
static const struct {
	const char	*unit;
	int64_t		 mult;
	const char	*near[5];	/* lower case; what the user may mean */
	const char	*why;
} size_units[] = {
	{ "B", 1, { "b", "byte", "bytes" },
	    "use B for bytes, e.g. 4096B" },
	{ "KiB", 1024, { "k", "kb", "kib" },
	    "use KiB (1 KiB = 1024 bytes)" },
	{ "MiB", 1024 * 1024, { "m", "mb", "mib" },
	    "use MiB (1 MiB = 1048576 bytes)" },
	{ "GiB", 1024 * 1024 * 1024, { "g", "gb", "gib" },
	    "use GiB (1 GiB = 1073741824 bytes)" },
};
#define NSIZE_UNITS	(sizeof(size_units) / sizeof(size_units[0]))

int
confval_size(const char *s, int64_t *bytes, const char **why)
{
	const char *u;
	int64_t n = 0;
	size_t i, j;

	*why = NULL;
	if (*s < '0' || *s > '9') {
		*why = "a size is a whole number followed by B, KiB, MiB or "
		    "GiB, e.g. 64MiB";
		return -EINVAL;
	}
	for (u = s; *u >= '0' && *u <= '9'; u++) {
		if (n > (INT64_MAX - (*u - '0')) / 10) {
			*why = "too large";
			return -ERANGE;
		}
		n = n * 10 + (*u - '0');
	}
	if (*u == '\0') {
		/* Zero is zero in every unit. */
		if (n == 0) {
			*bytes = 0;
			return 0;
		}
		*why = "a size needs a unit: B, KiB, MiB or GiB, e.g. 64MiB";
		return -EINVAL;
	}
	if (*u == '.' || *u == ',') {
		*why = "a size must be a whole number; use a smaller unit, "
		    "e.g. 1536MiB rather than 1.5GiB";
		return -EINVAL;
	}
	if (*u == ' ' || *u == '\t') {
		*why = "write the unit right after the number, without a "
		    "space, e.g. 64MiB";
		return -EINVAL;
	}
	for (i = 0; i < NSIZE_UNITS; i++) {
		if (strcmp(u, size_units[i].unit) == 0) {
			if (n > INT64_MAX / size_units[i].mult) {
				*why = "too large";
				return -ERANGE;
			}
			*bytes = n * size_units[i].mult;
			return 0;
		}
	}
	for (i = 0; i < NSIZE_UNITS; i++)
		for (j = 0; size_units[i].near[j] != NULL; j++)
			if (strcasecmp(u, size_units[i].near[j]) == 0) {
				*why = size_units[i].why;
				return -EINVAL;
			}
	*why = "unknown unit; use B, KiB, MiB or GiB, e.g. 64MiB";
	return -EINVAL;
}

int
confval_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
confval_secret_option(const char *key, const char *value)
{
	static const char *const keys[] = { "secret", "token", "password",
	    "key", NULL };
	static const char *const in_url[] = { "token=", "key=", "/hook/",
	    "secret=", NULL };
	size_t i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcasestr(key, keys[i]) != NULL)
			return 1;
	for (i = 0; value != NULL && in_url[i] != NULL; i++)
		if (strcasestr(value, in_url[i]) != NULL)
			return 1;
	return 0;
}
