/*
 * Checkpoints: records that let start-up replay begin at a segment's
 * start.  checkpoint_start() appends checkpoint.begin; checkpoint_step()
 * then writes, a few per loop turn so that no turn is long, one
 * checkpoint.incident per incident worth keeping (open, or resolved at
 * or after CUTOFF) with what every module built for it (the incident,
 * what was told and is still being delivered, reply codes), then the duty
 * desk's deliveries still going, and checkpoint.end.  Live records go on
 * being written between them: each part holds its incident as it was when
 * written, so replay, which applies everything in order, ends where memory
 * was (see router_restoring()).  Replayed, the parts restore each module;
 * written live, they change nothing.
 */
#ifndef DUTYD_CHECKPOINT_H
#define DUTYD_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

/* Registers with the router as the owner of checkpoint.* records. */
void	checkpoint_init(void);
/* 0 or -errno (the store could not take it; try again later). */
int	checkpoint_start(int64_t cutoff);
/*
 * Up to BUDGET incidents more; *done when checkpoint.end is written.
 * 0, or -errno: the checkpoint is then given up (checkpoint_abort()).
 */
int	checkpoint_step(size_t budget, int *done);
int	checkpoint_running(void);
void	checkpoint_abort(void);

#endif
