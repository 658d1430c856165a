/*
 * Addresses and networks for allow lists; inet_pton() reads the text.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/netaddr.h"

static const unsigned char netaddr_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* 4 (IPv4, mapped into OUT), 6, or 0 when S is neither. */
static int
netaddr_read(const char *s, unsigned char out[16])
{
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		memcpy(out, netaddr_mapped, 12);
		return 4;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return 6;
	return 0;
}

int
netaddr_parse(const char *s, struct netaddr *net, const char **why)
{
	char	 buf[NETADDR_TEXT_MAX], *slash, *end;
	long	 bits = -1;
	int	 fam, i;

	if (strlen(s) >= sizeof(buf)) {
		*why = "too long for an address";
		return -EINVAL;
	}
	memcpy(buf, s, strlen(s) + 1);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || bits < 0) {
			*why = "the prefix length after '/' must be a number";
			return -EINVAL;
		}
	}
	memset(net, 0, sizeof(*net));
	if ((fam = netaddr_read(buf, net->addr)) == 0) {
		*why = "write an IPv4 or IPv6 address, or a network such as "
		    "10.0.0.0/8 or fd00::/8 (no host names)";
		return -EINVAL;
	}
	if (bits > (fam == 4 ? 32 : 128)) {
		*why = fam == 4 ? "an IPv4 prefix is at most /32" :
		    "an IPv6 prefix is at most /128";
		return -EINVAL;
	}
	net->bits = bits < 0 ? 128 : fam == 4 ? (int)bits + 96 : (int)bits;
	/* Host bits set (10.1.2.3/8) would be a typo more often than not. */
	for (i = net->bits; i < 128; i++)
		if (net->addr[i / 8] & (0x80 >> (i % 8))) {
			*why = "the address has bits set past its prefix length "
			    "(write the network's first address, e.g. 10.0.0.0/8)";
			return -EINVAL;
		}
	return 0;
}

int
netaddr_match(const struct netaddr *net, const char *peer)
{
	unsigned char	p[16];
	int		i;

	if (netaddr_read(peer, p) == 0)
		return 0;
	for (i = 0; i < net->bits / 8; i++)
		if (p[i] != net->addr[i])
			return 0;
	if (net->bits % 8 != 0 &&
	    ((p[i] ^ net->addr[i]) & (0xff00 >> (net->bits % 8)) & 0xff) != 0)
		return 0;
	return 1;
}

void
netaddr_peer(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "local");
}
