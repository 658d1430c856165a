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

#include "config/confval.h"

int
confval_id(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-");

	return n > 0 && n <= CONFVAL_ID_MAX && s[n] == '\0';
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


const char *
confval_public_url(const char *s, size_t *len)
{
	const char *rest;

	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else
		return "must start with http:// or https://, e.g. "
		    "\"https://duty.example.gov.cn\"";
	if (!confval_visible(s))
		return "contains whitespace or control characters";
	*len = strlen(s);
	while (*len > (size_t)(rest - s) && s[*len - 1] == '/')
		(*len)--;
	if (*len == (size_t)(rest - s) || *rest == '/')
		return "has no host";
	return NULL;
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
