/*
 * Writing files so that what is written stays written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"

int
fileio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
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
	char	*dir, *slash;
	int	 dfd, rc = 0;

	if ((dir = strdup(path)) == NULL)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) == -1)
		rc = -errno;
	if (dfd != -1)
		close(dfd);
	free(dir);
	return rc;
}

int
fileio_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	char	 tmp[PATH_MAX];
	int	 fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode)) == -1)
		return -errno;
	rc = fileio_write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) == -1)
		rc = -errno;
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -errno;
	if (rc != 0) {
		(void)unlink(tmp);
		return rc;
	}
	/* The rename must survive a power cut too. */
	return fileio_fsync_dir(path);
}
