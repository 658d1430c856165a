/*
 * Handover (交接班): at each roster change the incoming people get the
 * list of open incidents.  Their messages hang on the "duty desk", a
 * pseudo-incident whose records carry incident HANDOVER_DESK.
 */
#ifndef DUTYD_HANDOVER_H
#define DUTYD_HANDOVER_H

struct event_base;
struct incident;

#define HANDOVER_DESK	"duty-desk"

void	handover_init(struct event_base *);
void	handover_shutdown(void);	/* frees the desk's deliveries */
/* (Re)arm for the next roster change: after start-up and every reload. */
void	handover_arm(void);
/* The pseudo-incident handover deliveries belong to (for replay). */
struct incident *handover_desk(void);

#endif
