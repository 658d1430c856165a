/*
 * Writing files so that what is written stays written.
 */
#ifndef DUTYD_FILEIO_H
#define DUTYD_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* All of buf, through EINTR and short writes.  0 or -errno. */
int	fileio_write_all(int fd, const void *buf, size_t len);
/* fsync(2) the directory holding PATH, so a rename or create survives a crash. */
int	fileio_fsync_dir(const char *path);
/* PATH holds exactly buf, or is as it was: temporary, fsync, rename, fsync dir. */
int	fileio_write_atomic(const char *path, const void *buf, size_t len,
	    mode_t mode);

#endif
