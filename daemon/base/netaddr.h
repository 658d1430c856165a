/*
 * An address or a network ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8")
 * and whether a peer's address falls in it.  IPv4 is kept as IPv4-mapped
 * IPv6, so that a peer seen as ::ffff:127.0.0.1 on a dual-stack socket
 * matches 127.0.0.0/8.
 */
#ifndef DUTYD_NETADDR_H
#define DUTYD_NETADDR_H

#include <stddef.h>

#define NETADDR_TEXT_MAX	64	/* the longest network written out */

struct sockaddr;

struct netaddr {
	unsigned char	 addr[16];
	int		 bits;		/* prefix length over all 128 bits */
};

/* 0, or -EINVAL with *why saying what is wrong (to follow "'X' is not a network: "). */
int	netaddr_parse(const char *s, struct netaddr *, const char **why);
/* 1 when PEER (an address as text, no port) is in NET. */
int	netaddr_match(const struct netaddr *net, const char *peer);
/* A peer's address as text, or "local" (a Unix socket): BUF of INET6_ADDRSTRLEN. */
void	netaddr_peer(const struct sockaddr *sa, char *buf, size_t len);

#endif
