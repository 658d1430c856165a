/*
 * base/reexec.c: dutyd executing itself again keeps its pid, its
 * arguments as given (not as getopt reordered them), and the sockets
 * systemd passed (FD_CLOEXEC cleared, LISTEN_PID/LISTEN_FDS set again
 * after sd_listen_fds(1) removed them), while every other descriptor
 * (a database session, a lock) is closed; a stop signal blocked before
 * stays blocked and pending, for the new image's handler, and no other
 * signal stays blocked.
 * The exec'd image is this test binary, which checks what it inherited.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-daemon.h>

#include "base/reexec.h"

#define CHILD	"--reexec-child"
#define OTHER_FD	9	/* open without FD_CLOEXEC before the exec */

/*
 * The exec'd image: argv[2] the pid before the exec, argv[3] how many
 * sockets were kept, argv[4] an argument that must arrive as it was.
 * Exit 0, or the number of the check that failed.
 */
static int
child(int argc, char **argv)
{
	const char	*lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
	sigset_t	 mask, pending;
	int		 kept = atoi(argv[3]);

	if (argc != 5 || strcmp(argv[4], "-c dutyd.yaml") != 0)
		return 10;
	if (atol(argv[2]) != (long)getpid())
		return 11;
	if (fcntl(OTHER_FD, F_GETFD) != -1 || errno != EBADF)
		return 12;
	if (sigprocmask(SIG_SETMASK, NULL, &mask) != 0 ||
	    !sigismember(&mask, SIGTERM))
		return 13;
	if (sigismember(&mask, SIGUSR1))
		return 15;
	if (sigpending(&pending) != 0 || !sigismember(&pending, SIGTERM))
		return 14;
	if (kept == 0) {
		if (lp != NULL || lf != NULL)
			return 20;
		if (fcntl(SD_LISTEN_FDS_START, F_GETFD) != -1)
			return 21;
		return 0;
	}
	if (lp == NULL || atol(lp) != (long)getpid())
		return 30;
	if (lf == NULL || atoi(lf) != kept)
		return 31;
	/* What http.c does with them: systemd's protocol, then a listener. */
	if (sd_listen_fds(1) != kept)
		return 32;
	for (int i = 0; i < kept; i++)
		if (sd_is_socket_inet(SD_LISTEN_FDS_START + i, AF_INET,
		    SOCK_STREAM, 1, 0) <= 0)
			return 33 + i;
	return 0;
}

/* A listening socket at FD, close-on-exec as sd_listen_fds(1) leaves it. */
static void
listener_at(int fd)
{
	struct sockaddr_in	sin;
	int			s;

	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 4), 0);
	if (s != fd) {
		assert_int_equal(dup2(s, fd), fd);
		close(s);
	}
	assert_int_equal(fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
}

/* Forks, sets up what a running dutyd holds, re-executes; the exit status. */
static int
run(int kept)
{
	char	 pid[24], n[8], arg[] = "-c dutyd.yaml";
	char	*argv[] = { "test_reexec", CHILD, pid, n, arg, NULL };
	sigset_t term;
	pid_t	 p;
	int	 status, i, rc;

	fflush(NULL);
	assert_true((p = fork()) >= 0);
	if (p == 0) {
		for (i = 0; i < kept; i++)
			listener_at(SD_LISTEN_FDS_START + i);
		if (kept == 0)
			listener_at(SD_LISTEN_FDS_START);	/* not passed on */
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		/* A descriptor without FD_CLOEXEC, as libpq's socket may be. */
		if (dup2(STDERR_FILENO, OTHER_FD) != OTHER_FD)
			_exit(100);
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigaddset(&term, SIGUSR1);	/* no stop signal: unblocked */
		sigprocmask(SIG_BLOCK, &term, NULL);
		/* A stop asked for during the exec: the new image gets it. */
		kill(getpid(), SIGTERM);
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		snprintf(n, sizeof(n), "%d", kept);
		reexec_save(5, argv);
		/* getopt reorders and may rewrite argv: the copy is what counts. */
		arg[0] = 'X';
		argv[4] = "changed";
		rc = reexec_self(kept);
		fprintf(stderr, "reexec_self: %s\n", strerror(-rc));
		_exit(101);
	}
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_unsaved(void **state)
{
	assert_int_equal(reexec_self(0), -EINVAL);
}

static void
test_sockets_kept(void **state)
{
	assert_int_equal(run(1), 0);
	assert_int_equal(run(3), 0);
}

static void
test_no_sockets(void **state)
{
	assert_int_equal(run(0), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsaved),
		cmocka_unit_test(test_sockets_kept),
		cmocka_unit_test(test_no_sockets),
	};

	if (argc > 1 && strcmp(argv[1], CHILD) == 0)
		return child(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
