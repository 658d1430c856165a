/*
 * Writing files so that they survive a crash or a power cut: every byte
 * written, data and names fsync'ed.  Results are 0 or -errno; no logging.
 */
#ifndef DUTYD_FILEIO_H
#define DUTYD_FILEIO_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Write all len bytes of buf to the blocking descriptor fd, again after
 * EINTR and short writes.  0, or -errno of the failed write (-EIO if it
 * wrote nothing); some bytes may have been written then.
 */
int	 fileio_write_all(int fd, const void *buf, size_t len);

/*
 * fsync the directory that holds path (a file's path; "." when it has no
 * '/'), so that a file created, renamed or removed there stays so.
 */
int	 fileio_fsync_dir(const char *path);

/*
 * Replace path with len bytes of buf, all or nothing: written to a new
 * temporary name beside it (O_EXCL, O_NOFOLLOW), given exactly mode
 * whatever the umask, fsync'ed, renamed over path, and the directory
 * fsync'ed.  On failure path is as it was and the temporary is gone; but
 * when only the last fsync of the directory fails, path has the new bytes,
 * which a power cut may still undo.
 */
int	 fileio_write_atomic(const char *path, const void *buf, size_t len,
	    mode_t mode);

#endif
