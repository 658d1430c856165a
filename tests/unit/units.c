/*
 * The unit tests' one program: build/tests/test_foo is a hard link to it
 * and runs tests/unit/test_foo.c's main (compiled as test_foo_main), so
 * the daemon's archive is linked once a build, not once a test.  Each test
 * still runs in a process of its own.
 */
#include <stdio.h>
#include <string.h>

#define UNIT(n)		int n##_main(void);
#define UNIT_ARGV(n)	int n##_main(int, char **);
#include "unitlist.h"
#undef UNIT
#undef UNIT_ARGV

static const struct {
	const char	*name;
	int		(*run)(void);
	int		(*run_argv)(int, char **);
} units[] = {
#define UNIT(n)		{ #n, n##_main, NULL },
#define UNIT_ARGV(n)	{ #n, NULL, n##_main },
#include "unitlist.h"
};

int
main(int argc, char **argv)
{
	const char	*name = strrchr(argv[0], '/');
	size_t		 i;

	name = name != NULL ? name + 1 : argv[0];
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(units[i].name, name) == 0)
			return units[i].run != NULL ? units[i].run() :
			    units[i].run_argv(argc, argv);
	fprintf(stderr, "%s: no such unit test; run it by a test's name "
	    "(build/tests/test_*, a link to this program)\n", name);
	return 2;
}
