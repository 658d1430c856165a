/*
 * One-tap links (一键确认): public_url/a/<token> in a notification lets
 * its reader acknowledge the incident with one tap.  Only acknowledging
 * (and, later, approving) is a one-tap action; every other link in a
 * message is a details link, which never acts.  See links.c.
 */
#ifndef DUTYD_LINKS_H
#define DUTYD_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "parse/linktoken.h"

struct config;

/* What a link lets whom do to which incident, until when. */
struct links_link {
	char	 stub[LINKTOKEN_STUB_LEN + 1];
	char	 incident[LINKTOKEN_FIELD_MAX + 1];
	char	 person[LINKTOKEN_FIELD_MAX + 1];
	char	 action;		/* 'A' acknowledge, 'P' approve, 'H' accept the handover (incident: the duty desk) */
	int64_t	 expiry_ms;
};

/* Loads (or makes) the key from the store.  0, or -errno with err filled. */
int	links_init(char *err, size_t errlen);
/* Forgets the key and every link (shutdown). */
void	links_shutdown(void);
/* A new stub (LINKTOKEN_STUB_LEN + 1 bytes) for a link valid until EXPIRY_MS.  0 or -errno. */
int	links_stub(int64_t expiry_ms, char *stub);
/*
 * STUB now lets PERSON do ACTION on INCIDENT (applied from the intent that
 * issued it, live or replayed).  0, -EINVAL, -ENOSPC (too many links
 * live: the message carries a details link instead) or -ENOMEM.
 */
int	links_register(const char *stub, const char *incident,
	    const char *person, char action);
/* "<public_url>/a/<token>" for STUB, into *URL (malloc'd).  0, -ENOKEY, -ENOMEM. */
int	links_url(const struct config *, const char *stub, char **url);
/*
 * The link a token stands for.  0 and *out; -ETIMEDOUT (expired; *out
 * filled when still remembered), -EBADMSG (altered, cut, another key),
 * -ENOENT (ours, but not known: never issued, or forgotten long after it
 * expired), -ENOKEY (no key), -ENOMEM.  Tokens from before 0.2 are read
 * too, with their own fields.
 */
int	links_open(const char *token, int64_t now_ms, struct links_link *out);
/* Checkpoints: INCIDENT's links, and back. */
json_t	*links_snapshot(const char *incident);
int	 links_restore(const char *incident, json_t *list);
/* Forget links expired long enough ago that nobody will ask (a week). */
void	links_prune(int64_t now_ms);

#endif
