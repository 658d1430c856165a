/*
 * History scans on worker threads: the part of store_scan() that is not
 * about any backend.  A thread reads the lines a backend noted, keeps the
 * records of the kinds and times asked for, and hands the end back to the
 * loop through a pipe.  See store_scan() in store.h.
 */
#ifndef DUTYD_SCANJOB_H
#define DUTYD_SCANJOB_H

#include <stdint.h>

#include "store/record.h"

struct event_base;

typedef int (*scanjob_read_fn)(void *scan, int (*line)(const char *, size_t,
	    void *), void *arg, char *err, size_t errlen);

/* NULL: no loop (unit tests): scans read at once, done() from a clock. */
void	scanjob_loop(struct event_base *);
/*
 * Starts reading HANDLE (a backend's scan_open()) with READ; CLOSE frees it
 * afterwards, or at once when the scan cannot start.  See store_scan().
 */
int	scanjob_start(void *handle, scanjob_read_fn read_fn,
	    void (*close_fn)(void *),
	    int64_t from_ms, int64_t to_ms, const char *const *kinds,
	    const char *const *bare,
	    int (*record_fn)(const struct record *, void *),
	    void (*done)(void *, int, const char *), void *arg);
int	scanjob_running(void);
/* Ends every scan (dutyd stops): done() with -ECANCELED unless it had ended. */
void	scanjob_stop_all(void);

#endif
