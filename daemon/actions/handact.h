/*
 * handact.h: the two sides of a handover (交接班) as actions.  The
 * outgoing leave a note (duty.handover_note), shown in the next handover
 * message and in the duty log; the incoming accept the handover
 * (duty.handover_accepted, late_ms past accept_by); when nobody accepted
 * by accept_by, duty.accept_overdue and a message to the leader on duty
 * saying who should have, since when and how to reach them.
 */
#ifndef DUTYD_HANDACT_H
#define DUTYD_HANDACT_H

#include <stdint.h>

struct handover;

/* The handover's alarm (given to handover_init()). */
void	handact_overdue(int64_t seq);
/* duty.handover_note by PERSON.  0, -ENOSPC (HANDOVER_NOTES_MAX wait), -errno. */
int	handact_note(const char *person, const char *text);
/*
 * 1 when PERSON may accept H: one of its incoming, or on duty now in a
 * role that came on duty with it (a team member who stayed on).
 */
int	handact_may_accept(const struct handover *h, const char *person);
/*
 * duty.handover_accepted of H by PERSON (VIA "api" or "link").  0;
 * -EALREADY (accepted before: H says by whom), -EPERM (not theirs to
 * accept), -errno.
 */
int	handact_accept(const struct handover *h, const char *person,
	    const char *via);
/* The incoming's names, "张伟、孙丽" (malloc'd; NULL: no memory). */
char	*handact_incoming_names(const struct handover *h);

#endif
