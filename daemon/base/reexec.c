/*
 * reexec.c: dutyd executing itself again (see reexec.h).
 *
 * sd_listen_fds(1) took the sockets systemd passed: it set FD_CLOEXEC on
 * them and removed LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES from the
 * environment.  Both are undone here for the sockets kept; exec keeps the
 * pid, so LISTEN_PID is ours.  Whatever else is open (the database
 * socket, libevent's, a lock) must not reach the new image, which would
 * otherwise hold two sessions, or wait on its own lock: everything else
 * above stderr is marked close-on-exec first.  Exec keeps the signal
 * mask and what is pending: main blocks its stop signals first, so that a
 * SIGTERM during the exec waits for the new image's handlers instead of
 * killing it half-started; every other signal is unblocked here.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "base/log.h"
#include "base/reexec.h"

static char	**reexec_argv;

void
reexec_save(int argc, char **argv)
{
	int i;

	if (reexec_argv != NULL)
		return;
	if ((reexec_argv = calloc((size_t)argc + 1, sizeof(*reexec_argv))) ==
	    NULL)
		fatalx("out of memory saving the command line");
	for (i = 0; i < argc; i++)
		if ((reexec_argv[i] = strdup(argv[i])) == NULL)
			fatalx("out of memory saving the command line");
}

static int
reexec_cloexec(int fd, int on)
{
	int flags;

	if ((flags = fcntl(fd, F_GETFD)) == -1)
		return -errno;
	flags = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
	if (fcntl(fd, F_SETFD, flags) == -1)
		return -errno;
	return 0;
}

/* Every descriptor above stderr but the kept sockets: close-on-exec. */
static int
reexec_mark_rest(int first_kept, int nkept)
{
	struct dirent	*de;
	DIR		*dir;
	long		 fd;
	char		*end;
	int		 dfd, rc;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -errno;
	dfd = dirfd(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || fd <= STDERR_FILENO || fd == dfd ||
		    (fd >= first_kept && fd < first_kept + nkept))
			continue;
		/* EBADF: closed since the listing; nothing to keep from exec. */
		if ((rc = reexec_cloexec((int)fd, 1)) < 0 && rc != -EBADF) {
			closedir(dir);
			return rc;
		}
	}
	closedir(dir);
	return 0;
}

int
reexec_self(int listen_fds)
{
	char		 num[24];
	sigset_t	 others;
	int		 i, rc;

	if (reexec_argv == NULL || reexec_argv[0] == NULL)
		return -EINVAL;
	if (listen_fds < 0 || listen_fds > INT_MAX - SD_LISTEN_FDS_START)
		return -EINVAL;
	if ((rc = reexec_mark_rest(SD_LISTEN_FDS_START, listen_fds)) < 0)
		return rc;
	for (i = 0; i < listen_fds; i++)
		if ((rc = reexec_cloexec(SD_LISTEN_FDS_START + i, 0)) < 0)
			return rc;
	unsetenv("LISTEN_FDNAMES");
	if (listen_fds > 0) {
		snprintf(num, sizeof(num), "%ld", (long)getpid());
		if (setenv("LISTEN_PID", num, 1) == -1)
			return -errno;
		snprintf(num, sizeof(num), "%d", listen_fds);
		if (setenv("LISTEN_FDS", num, 1) == -1)
			return -errno;
	} else {
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
	}
	/*
	 * The mask survives exec: the new image must get its signals, except
	 * the ones the caller blocked on purpose (main's stop signals, held
	 * pending until the new image handles them).
	 */
	sigprocmask(SIG_SETMASK, NULL, &others);
	sigdelset(&others, SIGTERM);
	sigdelset(&others, SIGINT);
	sigdelset(&others, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &others, NULL);
	log_info("executing dutyd again (%s)", reexec_argv[0]);
	execv("/proc/self/exe", reexec_argv);
	return -errno;
}
