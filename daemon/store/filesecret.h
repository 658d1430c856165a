#ifndef DUTYD_FILESECRET_H
#define DUTYD_FILESECRET_H

#include <stddef.h>

/*
 * The secret `name` in `dir`: read when it exists (mode 0600, exactly len
 * bytes), made from random bytes otherwise.  Negative errno with err set.
 */
int	filesecret_get(const char *dir, const char *name, void *buf, size_t len,
	    char *err, size_t errlen);

#endif
