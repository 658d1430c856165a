/*
 * Durable writes (see fileio.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"

#define FILEIO_TMP_TRIES	100

/* Numbers temporary names within this process; the pid tells processes apart. */
static atomic_uint fileio_seq;

int
fileio_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* No error and no progress: trying again would spin. */
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_fsync_dir(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*dir;
	int		 dfd, rc = 0;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return -ENOMEM;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		rc = -errno;
	if (dfd != -1)
		close(dfd);
	free(dir);
	return rc;
}

/* A new file beside path that no one else has open; its fd, or -errno. */
static int
fileio_create_tmp(const char *path, mode_t mode, char *tmp, size_t tmpsz)
{
	int	 fd, tries;

	/* O_EXCL: never an old file, nor a link planted at the name. */
	for (tries = 0;; tries++) {
		snprintf(tmp, tmpsz, "%s.%ld.%u.tmp", path, (long)getpid(),
		    atomic_fetch_add(&fileio_seq, 1));
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode)) != -1)
			return fd;
		/* Left by a crashed process that had our pid: take the next. */
		if (errno != EEXIST || tries == FILEIO_TMP_TRIES)
			return -errno;
	}
}

int
fileio_write_atomic(const char *path, const void *buf, size_t len,
    mode_t mode)
{
	size_t	 tmpsz = strlen(path) + 48;
	char	*tmp;
	int	 fd, rc;

	if ((tmp = malloc(tmpsz)) == NULL)
		return -ENOMEM;
	if ((fd = fileio_create_tmp(path, mode, tmp, tmpsz)) < 0) {
		free(tmp);
		return fd;
	}
	/* open() took the umask off; the file gets the mode asked for. */
	rc = fchmod(fd, mode) == -1 ? -errno : 0;
	if (rc == 0)
		rc = fileio_write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) == -1)
		rc = -errno;
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -errno;
	if (rc != 0) {
		(void)unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	/* The rename must survive a power cut too. */
	return fileio_fsync_dir(path);
}
