/*
 * The delivery ledger: the owner of notify.* records (see ledger.c).
 */
#ifndef DUTYD_LEDGER_H
#define DUTYD_LEDGER_H

#include <jansson.h>

/* Registers with the router as the owner of notify.* records. */
void	ledger_init(void);
/* Frees every delivery, cancelling transfers in flight. */
void	ledger_shutdown(void);
/*
 * Checkpoints: SUBJECT's deliveries still going, as O's "deliveries",
 * and back: the restored ones replace any.  0 or -errno.
 */
int	ledger_snapshot(const char *subject, json_t *o);
int	ledger_restore(const char *subject, json_t *o);

#endif
