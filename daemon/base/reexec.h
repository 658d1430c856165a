/*
 * reexec.h: dutyd executing itself again, same pid, same arguments.  A
 * leader that lost its database session must stop answering at once and
 * come back as a standby; a fresh image is the one state nobody has to
 * reason about (no half-run core, no clocks of the old leadership).
 */
#ifndef DUTYD_REEXEC_H
#define DUTYD_REEXEC_H

/*
 * Keeps a copy of the arguments: main calls it first thing, before
 * getopt_long() reorders argv.  Out of memory is fatal (start-up).
 */
void	reexec_save(int argc, char **argv);
/*
 * Executes /proc/self/exe with the saved arguments.  When LISTEN_FDS > 0
 * the sockets SD_LISTEN_FDS_START.. stay open across the exec (FD_CLOEXEC
 * cleared) and the new image finds LISTEN_PID/LISTEN_FDS as systemd sets
 * them, so socket activation survives; every other descriptor above
 * stderr is closed by the exec.  SIGTERM, SIGINT and SIGHUP stay as the
 * caller blocked them (pending ones wait for the new image); every other
 * signal is unblocked.  Returns -errno only on failure (nothing
 * was saved, or exec failed); the process is unchanged then, except that
 * the kept sockets have lost FD_CLOEXEC.
 */
int	reexec_self(int listen_fds);

#endif
