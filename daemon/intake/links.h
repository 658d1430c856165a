/*
 * One-tap links (一键确认): public_url/a/<token> in every notification.
 * The token is an HMAC (acklink.c) over incident, person, action and
 * expiry, keyed by state_dir/links.key (made on first start, mode 0600).
 * GET shows a small page with a button and changes nothing, because chat
 * apps prefetch links; only the POST from that button acts.
 */
#ifndef DUTYD_LINKS_H
#define DUTYD_LINKS_H

struct config;
struct http_call;

/* Loads or creates STATE_DIR/links.key.  0, or -errno with err filled. */
int	links_init(const char *state_dir, char *err, size_t errlen);
void	links_shutdown(void);
/*
 * "<public_url>/a/<token>" letting PERSON do ACTION ('A' acknowledge,
 * 'F' written report filed, 'R' resolve) on INCIDENT until now +
 * cfg->links.ttl_ms.  malloc'd; NULL (errno) on failure.
 */
char	*links_url(const struct config *, const char *incident,
	    const char *person, char action);
void	links_get(struct http_call *);	/* GET /a/{id} */
void	links_post(struct http_call *);	/* POST /a/{id} */

#endif
