/*
 * pqlib.c: libpq through dlopen (see pqlib.h for why).
 *
 * RTLD_NOW: a libpq missing a function dutyd calls is refused here, with
 * its name, rather than found by a crash on the first query.  RTLD_LOCAL:
 * libpq's symbols stay out of the global scope, where a plugin loaded
 * later could bind to them.  The handle is never closed: libpq keeps
 * state (OpenSSL callbacks, threads' connections) for the process's life.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PQLIB_NO_REDIRECT
#include "base/pqlib.h"

struct pqlib_api pqlib_api;

static void		*pqlib_handle;
static const char	*pqlib_soname = PQLIB_SONAME;

void
pqlib_use(const char *soname)
{
	pqlib_soname = soname;
}

int
pqlib_loaded(void)
{
	return pqlib_handle != NULL;
}

int
pqlib_load(char *err, size_t errlen)
{
	struct pqlib_api	 api;
	const char		*soname = pqlib_soname, *why;
	void			*h;

	if (pqlib_handle != NULL)
		return 0;
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(err, errlen, "cannot load libpq (%s): the PostgreSQL "
		    "store needs it; install the %s package", why != NULL ?
		    why : soname, PQLIB_PACKAGE);
		return -ENOENT;
	}
	/* dlsym's void * to a function pointer: POSIX requires it to work. */
#define PQLIB_SYM(f)							\
	if ((*(void **)&api.pq_##f = dlsym(h, #f)) == NULL) {		\
		snprintf(err, errlen, "cannot load libpq: %s has no %s; "	\
		    "install the %s package of PostgreSQL 10 or later",	\
		    soname, #f, PQLIB_PACKAGE);				\
		dlclose(h);						\
		return -ENOENT;						\
	}
	PQLIB_FUNCS(PQLIB_SYM)
#undef PQLIB_SYM
	pqlib_api = api;
	pqlib_handle = h;
	return 0;
}
