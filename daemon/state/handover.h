/*
 * handover.h: the two sides of a handover (交接班), as the records say.
 *
 * Owns duty.handover (desk.c records it at a roster change, with the
 * links its messages carry and accept_by, the deadline the incoming have
 * to accept it by), duty.handover_note (the outgoing's note, shown in the
 * next handover), duty.handover_accepted and duty.accept_overdue (the
 * leader on duty was told nobody accepted in time).  Keeps the recent
 * handovers and the notes not yet handed over; a clock per handover still
 * waiting to be accepted calls the function given to handover_init() at
 * accept_by, armed from the records (live, replayed, or a checkpoint), so
 * one that passed while dutyd was down fires on the first loop turn.
 */
#ifndef DUTYD_HANDOVER_H
#define DUTYD_HANDOVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/clock.h"

#define HANDOVER_KEEP		32	/* recent handovers kept in memory */
#define HANDOVER_NOTES_MAX	16	/* notes waiting for the next handover */
#define HANDOVER_NOTE_CHARS	2000	/* characters in one note */
#define HANDOVER_INCOMING_MAX	33	/* the leader and ROSTER_ON_DUTY_MAX officers */

struct handover_person {
	char		*person;
	char		*role;
	char		*link;		/* the stub of their accept link; NULL: none */
};

struct handover {
	int64_t		 seq;		/* of its duty.handover record */
	int64_t		 at;		/* the roster change */
	int64_t		 accept_by;	/* 0: no alarm (accept_within 0) */
	struct handover_person incoming[HANDOVER_INCOMING_MAX];
	size_t		 nincoming;
	char		*accepted_by;	/* person id; NULL: not yet */
	int64_t		 accepted_at;
	int64_t		 late_ms;
	int64_t		 overdue_at;	/* duty.accept_overdue recorded; 0: not */
	struct clock	 clock;
};

struct handover_note {
	char		*text;
	char		*by;
	int64_t		 at;
};

/* Registers as the owner of duty.handover*; OVERDUE(seq) runs at accept_by. */
void	handover_init(void (*overdue)(int64_t seq));
void	handover_shutdown(void);
/* The newest handover; NULL: none since the newest checkpoint's window. */
const struct handover *handover_latest(void);
const struct handover *handover_find(int64_t seq);
/* The handover whose message carried the accept link STUB; NULL: none kept. */
const struct handover *handover_by_link(const char *stub);
/* The notes written since the last handover, oldest first; their count. */
size_t	handover_notes(const struct handover_note **);
/* A firing that could not be recorded: try again at AT_MS. */
void	handover_rearm(int64_t seq, int64_t at_ms);
/* Checkpoints: everything kept (NULL: no memory), and back (0 or -errno). */
json_t	*handover_snapshot(void);
int	handover_restore(const json_t *);
/* 1 when there is anything to snapshot. */
int	handover_any(void);

#endif
