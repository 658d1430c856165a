/*
 * The descriptor limit (see fdlimit.h).
 */
#include <sys/resource.h>

#include <errno.h>

#include "base/fdlimit.h"

static long
fdlimit_of(rlim_t v, long cap)
{
	return v == RLIM_INFINITY || v > (rlim_t)cap ? cap : (long)v;
}

int
fdlimit_raise(long cap, long *before, long *after)
{
	struct rlimit	rl;
	int		rc = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		*before = *after = 1024;
		return -errno;
	}
	*before = *after = fdlimit_of(rl.rlim_cur, cap);
	if (rl.rlim_cur >= rl.rlim_max || *before >= cap)
		return 0;
	rl.rlim_cur = (rlim_t)fdlimit_of(rl.rlim_max, cap);
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		rc = -errno;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		*after = fdlimit_of(rl.rlim_cur, cap);
	return rc;
}
