/*
 * The record-driven core, brought up and down in order: every module that
 * owns or follows records registers with the router, the store is opened
 * and replayed, what a crash could leave owed is recorded (notification
 * intents), and resolved incidents past retention leave memory.  main.c
 * wraps it in the event loop and HTTP; the unit tests run it on a memory
 * store, a fake clock and a fake transport.
 */
#ifndef DUTYD_CORE_H
#define DUTYD_CORE_H

#include <stddef.h>

struct store_backend;

/* 0, or -errno with a sentence in err (dutyd does not start). */
int	core_start(const struct store_backend *, int accept_broken, char *err,
	    size_t errlen);
/* Unload incidents past retention (hourly, and at start). */
void	core_prune(void);
/* End of a loop turn: commit, then a checkpoint if one is due. */
void	core_turn(void);
/* Frees everything core_start() made; the store keeps its records. */
void	core_stop(void);

#endif
