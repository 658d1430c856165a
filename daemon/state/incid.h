/*
 * Incident ids: INC-<local date>-<n> (INC-20261128-0003), readable over
 * the phone; the counter is what the ids seen so far say (replay, a
 * checkpoint), so a restart never issues one again.
 */
#ifndef DUTYD_INCID_H
#define DUTYD_INCID_H

#include <stddef.h>
#include <stdint.h>

void	incid_reset(void);	/* no id seen: the counter starts again */
/* The id the next incident gets, received at NOW, into BUF (INCIDENT_ID_MAX). */
void	incid_new(int64_t now, char *buf, size_t len);
/* The counter, for checkpoints, and back; ids seen raise it. */
void	incid_counter(int *day, int *n);
void	incid_seen(int day, int n);

#endif
