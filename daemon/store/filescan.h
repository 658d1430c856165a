/*
 * The file backend's history: every segment in state_dir read in order on a
 * worker thread, for store_scan().  See filescan.c.
 */
#ifndef DUTYD_FILESCAN_H
#define DUTYD_FILESCAN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * On the loop: the segments of DIR now, and the active one (audit.log) up
 * to ACTIVE_SIZE bytes, its whole records.  NULL with errno and a sentence
 * in err.
 */
void	*filescan_open(const char *dir, off_t active_size, int64_t from_ms,
	    int64_t to_ms, char *err, size_t errlen);
/* On a worker thread: line() for each whole line that may be in range. */
int	 filescan_read(void *scan, int (*line)(const char *, size_t, void *),
	    void *arg, char *err, size_t errlen);
void	 filescan_close(void *scan);

#endif
