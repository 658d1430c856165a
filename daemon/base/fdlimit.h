/*
 * The process's descriptor limit: the soft RLIMIT_NOFILE is often 1024
 * while the hard one allows far more (base/fdlimit.c).
 */
#ifndef DUTYD_FDLIMIT_H
#define DUTYD_FDLIMIT_H

/*
 * Raises the soft limit to the hard one, at most CAP.  *BEFORE and *AFTER
 * get the soft limit before and after (CAP for "unlimited").  0, or
 * -errno when it could not be raised (*AFTER is then the limit in force).
 */
int	fdlimit_raise(long cap, long *before, long *after);

#endif
