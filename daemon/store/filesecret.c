/*
 * The file backend's secrets: small random keys (the one-tap links' and
 * sessions' HMAC keys) kept in state_dir beside the audit log, made on
 * first use, refused when others could read them.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/fileio.h"
#include "store/filesecret.h"

#define FILESECRET_MAX	256

static int
filesecret_read(int fd, const char *path, void *buf, size_t len,
    char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 got = 0;

	if (fstat(fd, &st) == -1) {
		int e = errno;

		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, errlen, "%s is readable by %s (mode %04o), and "
		    "whoever reads it can act in anyone's name. Run: chmod 600 "
		    "%s (and delete it, so that dutyd makes a new one, if others "
		    "may have read it: links already sent then stop working)",
		    path, st.st_mode & S_IROTH ? "every user" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)len) {
		snprintf(err, errlen, "%s is %s%lld bytes, not the %zu random bytes "
		    "dutyd made: it was damaged or replaced. Delete it and start "
		    "dutyd again to make a new one (one-tap links already sent "
		    "will then stop working)", path,
		    S_ISREG(st.st_mode) ? "" : "not a regular file, ",
		    (long long)st.st_size, len);
		return -EINVAL;
	}
	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 ? EIO : errno;

			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(e));
			return -e;
		}
		got += (size_t)n;
	}
	return 0;
}

int
filesecret_get(const char *dir, const char *name, void *buf, size_t len,
    char *err, size_t errlen)
{
	char	 path[PATH_MAX];
	int	 fd, rc;

	if (len == 0 || len > FILESECRET_MAX || strchr(name, '/') != NULL) {
		snprintf(err, errlen, "no such secret: %s", name);
		return -EINVAL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(err, errlen, "state_dir %s is too long a path", dir);
		return -ENAMETOOLONG;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		rc = filesecret_read(fd, path, buf, len, err, errlen);
		close(fd);
		if (rc != 0)
			OPENSSL_cleanse(buf, len);
		return rc;
	}
	if (errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s; check its owner and mode "
		    "(0600, dutyd's user)", path, strerror(-rc));
		return rc;
	}
	if (RAND_bytes(buf, (int)len) != 1) {
		snprintf(err, errlen, "cannot make %s: OpenSSL has no random bytes "
		    "(is /dev/urandom available?)", path);
		return -EIO;
	}
	/* Whole or not at all: a crash leaves no short key. */
	if ((rc = fileio_write_atomic(path, buf, len, 0600)) != 0) {
		OPENSSL_cleanse(buf, len);
		snprintf(err, errlen, "cannot create %s: %s; check that state_dir "
		    "is writable by dutyd", path, strerror(-rc));
	}
	return rc;
}
