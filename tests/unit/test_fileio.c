/*
 * Durable writes: every byte through short writes and signals, and a file
 * replaced whole or not at all.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#include "base/fileio.h"

/*
 * write(2) as a slow device gives it, when fake_write is set: at most
 * fake_max bytes a call, EINTR every third call, and after fake_budget
 * bytes fake_errno (or 0 written, when that is 0).  fileio.o calls this
 * one: the program's own definition comes before libc's.
 */
static int	 fake_write;
static size_t	 fake_max, fake_budget;
static int	 fake_errno;
static unsigned	 fake_calls;

ssize_t
write(int fd, const void *buf, size_t n)
{
	if (!fake_write)
		return syscall(SYS_write, fd, buf, n);
	if (++fake_calls % 3 == 0) {
		errno = EINTR;
		return -1;
	}
	if (fake_budget == 0) {
		if (fake_errno == 0)
			return 0;
		errno = fake_errno;
		return -1;
	}
	if (n > fake_max)
		n = fake_max;
	if (n > fake_budget)
		n = fake_budget;
	fake_budget -= n;
	return syscall(SYS_write, fd, buf, n);
}

static char *
pattern(size_t len)
{
	char	*p = malloc(len);
	size_t	 i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (char)(i * 7 + i / 251);
	return p;
}

static char *
tmpdir(void)
{
	char	*d = strdup("/tmp/test_fileio.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* Remove dir and what the tests leave in it (files, a directory, links). */
static void
rmdir_all(const char *dir)
{
	char		 p[512];
	struct dirent	*e;
	DIR		*d;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) == -1)
			rmdir_all(p);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

/* The names in dir, sorted and joined by ' ', are want: no temporary left. */
static void
assert_names(const char *dir, const char *want)
{
	struct dirent	**list;
	char		  got[4096];
	size_t		  len = 0;
	int		  n, i;

	assert_true((n = scandir(dir, &list, NULL, alphasort)) >= 0);
	got[0] = '\0';
	for (i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.')
			len += (size_t)snprintf(got + len, sizeof(got) - len,
			    "%s%s", len > 0 ? " " : "", list[i]->d_name);
		free(list[i]);
	}
	free(list);
	assert_string_equal(got, want);
}

static void
assert_file(const char *path, const void *want, size_t len, mode_t mode)
{
	struct stat	 st;
	char		*got;
	int		 fd;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_size, len);
	assert_non_null(got = malloc(len + 1));
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, got, len + 1), len);
	close(fd);
	assert_memory_equal(got, want, len);
	free(got);
}

/* write_all ------------------------------------------------------------- */

/* A new empty file "f" in a new directory *dir; its descriptor. */
static int
new_file(char **dir, char *path, size_t pathsz)
{
	int	 fd;

	*dir = tmpdir();
	snprintf(path, pathsz, "%s/f", *dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	return fd;
}

static void
fake(size_t max, size_t budget, int err)
{
	fake_write = 1;
	fake_max = max;
	fake_budget = budget;
	fake_errno = err;
	fake_calls = 0;
}

static void
test_write_all_short_writes(void **state)
{
	char	*d, path[256], *buf = pattern(10000);
	int	 fd = new_file(&d, path, sizeof(path));

	fake(7, SIZE_MAX, 0);
	assert_int_equal(fileio_write_all(fd, buf, 10000), 0);
	fake_write = 0;
	/* 1429 writes of at most 7 bytes, and an EINTR after every two. */
	assert_true(fake_calls >= 10000 / 7 * 3 / 2);
	close(fd);
	assert_file(path, buf, 10000, 0600);

	assert_int_equal(fileio_write_all(fd, buf, 0), 0);	/* nothing to do */
	assert_int_equal(fileio_write_all(-1, buf, 1), -EBADF);
	free(buf);
	rmdir_all(d);
	free(d);
}

static void
test_write_all_fails(void **state)
{
	char	*d, path[256], *buf = pattern(100);
	int	 fd = new_file(&d, path, sizeof(path));

	/* A disk filling up after 30 bytes: the error, after what fitted. */
	fake(8, 30, ENOSPC);
	assert_int_equal(fileio_write_all(fd, buf, 100), -ENOSPC);
	/* A write that makes no progress and says nothing is an error too. */
	fake(8, 0, 0);
	assert_int_equal(fileio_write_all(fd, buf, 100), -EIO);
	fake_write = 0;
	close(fd);
	assert_file(path, buf, 30, 0600);
	free(buf);
	rmdir_all(d);
	free(d);
}

/* The same through a real pipe, with a slow reader and signals. */
struct reader {
	int	 fd;
	char	*got;
	size_t	 len;
};

static void *
reader(void *arg)
{
	struct reader	*r = arg;
	ssize_t		 n;

	while ((n = read(r->fd, r->got + r->len, 1000)) > 0) {
		r->len += (size_t)n;
		if (r->len % 16 == 0)
			usleep(50);
	}
	return NULL;
}

static volatile sig_atomic_t alarms;

static void
on_alarm(int sig)
{
	alarms++;
}

static void
test_write_all_pipe(void **state)
{
	const size_t	 len = 2 * 1024 * 1024;
	struct itimerval it = { { 0, 200 }, { 0, 200 } }, off = { { 0, 0 }, { 0, 0 } };
	struct sigaction sa, old;
	struct reader	 r;
	sigset_t	 alrm;
	pthread_t	 t;
	char		*buf = pattern(len);
	int		 p[2];

	assert_int_equal(pipe(p), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	r.fd = p[0];
	r.len = 0;
	assert_non_null(r.got = malloc(len));
	/* Signals interrupt the writer only: its write returns short or EINTR. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	assert_int_equal(pthread_create(&t, NULL, reader, &r), 0);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	sigaction(SIGALRM, &sa, &old);
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);

	assert_int_equal(fileio_write_all(p[1], buf, len), 0);

	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	assert_true(alarms > 0);
	assert_int_equal(r.len, len);
	assert_memory_equal(r.got, buf, len);
	free(r.got);
	free(buf);
}

/* fsync_dir ------------------------------------------------------------- */

static void
test_fsync_dir(void **state)
{
	char	*d = tmpdir(), path[256], cwd[4096];

	snprintf(path, sizeof(path), "%s/not-yet", d);
	assert_int_equal(fileio_fsync_dir(path), 0);
	snprintf(path, sizeof(path), "%s/none/f", d);
	assert_int_equal(fileio_fsync_dir(path), -ENOENT);
	/* A file's "directory" that is a file. */
	snprintf(path, sizeof(path), "%s/file", d);
	assert_int_equal(fileio_write_atomic(path, "x", 1, 0600), 0);
	snprintf(path, sizeof(path), "%s/file/f", d);
	assert_int_equal(fileio_fsync_dir(path), -ENOTDIR);
	/* No '/': the current directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d), 0);
	assert_int_equal(fileio_fsync_dir("f"), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(fileio_fsync_dir("/etc"), 0);	/* in "/" */
	rmdir_all(d);
	free(d);
}

/* write_atomic ---------------------------------------------------------- */

static void
test_atomic_new_and_replaced(void **state)
{
	char		*d = tmpdir(), path[256], *buf = pattern(70000);
	struct stat	 before, after;
	mode_t		 mask;

	snprintf(path, sizeof(path), "%s/links.key", d);
	/* The mode given, whatever the umask says. */
	mask = umask(077);
	assert_int_equal(fileio_write_atomic(path, buf, 32, 0640), 0);
	assert_file(path, buf, 32, 0640);
	umask(0);
	assert_int_equal(lstat(path, &before), 0);
	assert_int_equal(fileio_write_atomic(path, buf, 70000, 0600), 0);
	umask(mask);
	assert_file(path, buf, 70000, 0600);
	/* A new file renamed over the old one, never the old one rewritten. */
	assert_int_equal(lstat(path, &after), 0);
	assert_int_not_equal(before.st_ino, after.st_ino);
	assert_int_equal(fileio_write_atomic(path, "", 0, 0600), 0);
	assert_file(path, "", 0, 0600);
	assert_names(d, "links.key");
	free(buf);
	rmdir_all(d);
	free(d);
}

static void
test_atomic_link_replaced_not_followed(void **state)
{
	char	*d = tmpdir(), path[256], target[256];

	snprintf(target, sizeof(target), "%s/target", d);
	snprintf(path, sizeof(path), "%s/key", d);
	assert_int_equal(fileio_write_atomic(target, "keep", 4, 0600), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(fileio_write_atomic(path, "new", 3, 0600), 0);
	assert_file(path, "new", 3, 0600);
	assert_file(target, "keep", 4, 0600);
	assert_names(d, "key target");
	rmdir_all(d);
	free(d);
}

static void
test_atomic_fails_old_file_kept(void **state)
{
	char		*d = tmpdir(), path[256], dir[256], *buf = pattern(65536);
	struct rlimit	 lim, small;
	void		(*xfsz)(int);

	snprintf(path, sizeof(path), "%s/state", d);
	assert_int_equal(fileio_write_atomic(path, "old contents", 12, 0644), 0);

	/*
	 * The disk "fills up" (RLIMIT_FSIZE binds root too) in mid-write:
	 * the old file stays, the temporary goes.
	 */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &lim), 0);
	small = lim;
	small.rlim_cur = 4096;
	xfsz = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(fileio_write_atomic(path, buf, 65536, 0600), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	signal(SIGXFSZ, xfsz);
	assert_file(path, "old contents", 12, 0644);
	assert_names(d, "state");

	/* Failing at the rename: a directory where the file should go. */
	snprintf(dir, sizeof(dir), "%s/sub", d);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/inside", d);
	assert_int_equal(fileio_write_atomic(path, "x", 1, 0600), 0);
	assert_int_equal(fileio_write_atomic(dir, buf, 100, 0600), -EISDIR);
	assert_file(path, "x", 1, 0600);
	assert_names(d, "state sub");

	/* A directory that does not exist: nothing is made anywhere. */
	snprintf(path, sizeof(path), "%s/none/state", d);
	assert_int_equal(fileio_write_atomic(path, buf, 100, 0600), -ENOENT);
	assert_names(d, "state sub");
	free(buf);
	rmdir_all(d);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_all_short_writes),
		cmocka_unit_test(test_write_all_fails),
		cmocka_unit_test(test_write_all_pipe),
		cmocka_unit_test(test_fsync_dir),
		cmocka_unit_test(test_atomic_new_and_replaced),
		cmocka_unit_test(test_atomic_link_replaced_not_followed),
		cmocka_unit_test(test_atomic_fails_old_file_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
