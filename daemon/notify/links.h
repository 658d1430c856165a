/*
 * One-tap links (一键确认): public_url/a/<token> in every notification.
 * The token (parse/linktoken.c) is an HMAC over incident, person, action and
 * expiry, keyed by a secret the store keeps (links.key in state_dir), so
 * dutyd keeps no table of links.  The pages and requests a link opens are
 * intake/onetap.c's.
 */
#ifndef DUTYD_LINKS_H
#define DUTYD_LINKS_H

#include <stdint.h>

struct linktoken;
struct config;

/* Loads (or makes) the key from the store.  0, or -errno with err filled. */
int	links_init(char *err, size_t errlen);
void	links_shutdown(void);
/*
 * "<public_url>/a/<token>" letting PERSON do ACTION ('A' acknowledge,
 * 'F' written report filed, 'R' resolve) on INCIDENT until now +
 * cfg->links.ttl_ms, into *URL (malloc'd).  0, or -ENOKEY (no key
 * loaded), -EINVAL (ids unfit for a token), -ENOMEM.
 */
int	links_url(const struct config *, const char *incident,
	    const char *person, char action, char **url);
/* linktoken_verify() with the key: 0, -ENOKEY (none loaded), or its -errno. */
int	links_verify(const char *token, int64_t now_ms, struct linktoken *out);

#endif
