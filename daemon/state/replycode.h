/*
 * Reply codes (回复代码): a small number per recipient phone and open
 * incident, so that "3A" from that phone acknowledges incident 3 of the
 * messages it received (GoAlert's scheme).  A code is assigned when a
 * notify.intent is written (the record carries it, so replay rebuilds the
 * table) and freed when its incident is resolved.  Phones are normalised
 * ("+8613800138000").
 */
#ifndef DUTYD_REPLYCODE_H
#define DUTYD_REPLYCODE_H

#include <stdint.h>

#include <jansson.h>

/* Follows incident.resolved through the router. */
void	replycode_init(void);
/* The code PHONE has for INCIDENT, or the smallest free one (not yet set). */
int	replycode_for(const char *phone, const char *incident);
/*
 * Applies a code from record SEQ (a notify.intent, or the one a checkpoint
 * names); PHONE's latest incident is the one of its highest SEQ.
 */
void	replycode_set(const char *phone, int code, const char *incident,
	    int64_t seq);
/* INCIDENT was resolved: its codes are free again. */
void	replycode_release(const char *incident);
/* The incident id a code stands for on PHONE, or NULL. */
const char *replycode_find(const char *phone, int code);
/* The latest open incident PHONE was sent a code for, or NULL. */
const char *replycode_latest(const char *phone);
/* For checkpoints: [{phone, code, seq}] of INCIDENT, and back. */
json_t	*replycode_snapshot(const char *incident);
void	replycode_restore(const char *incident, json_t *codes);
void	replycode_shutdown(void);

#endif
