/*
 * Checkpoints: records that let start-up replay begin at a segment's
 * start.  checkpoint_write() appends checkpoint.begin, one
 * checkpoint.incident per incident worth keeping (open, or resolved at or
 * after CUTOFF) with what every module built for it (the incident, what
 * was told and is still being delivered, reply codes), the duty desk's
 * deliveries still going, and checkpoint.end.  Replayed, they restore
 * each part; written live, they change nothing.
 */
#ifndef DUTYD_CHECKPOINT_H
#define DUTYD_CHECKPOINT_H

#include <stdint.h>

/* Registers with the router as the owner of checkpoint.* records. */
void	checkpoint_init(void);
/* 0 or -errno (the store could not take it; try again later). */
int	checkpoint_write(int64_t cutoff);

#endif
