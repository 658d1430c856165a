/*
 * conffix.c: configurations loaded from text for tests (see conffix.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conffix.h"

void
conffix_load(struct conffix *l, const char *base, const char *extra)
{
	FILE	*f;
	int	 fd;

	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "/tmp/dutyd-conffix-XXXXXX");
	assert_true((fd = mkstemp(l->path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(base, f);
	fputs(extra, f);
	assert_int_equal(fclose(f), 0);
	l->cf = confload(l->path, &l->diag);
	unlink(l->path);
}

void
conffix_unload(struct conffix *l)
{
	if (l->cf != NULL)
		config_free(l->cf);
	config_diag_free(&l->diag);
}

void
conffix_expect_error(const char *base, const char *extra, const char *linecol,
    const char *want)
{
	struct conffix	l;
	char		line[1024];
	size_t		i;

	conffix_load(&l, base, extra);
	snprintf(line, sizeof(line), "%s:%s: %s", l.path, linecol, want);
	if (l.diag.n != 1 || strncmp(l.diag.lines[0], line, strlen(line)) != 0)
		for (i = 0; i < l.diag.n; i++)
			print_message("  diag: %s\n", l.diag.lines[i]);
	assert_null(l.cf);
	assert_int_equal(l.diag.n, 1);
	assert_true(strncmp(l.diag.lines[0], line, strlen(line)) == 0);
	conffix_unload(&l);
}
