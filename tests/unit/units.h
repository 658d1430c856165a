/*
 * Included first in each test linked into build/tests/units (the Makefile's
 * -include), where main is the test's own name (-Dmain=test_foo_main): its
 * prototype, which units.c's table calls.
 */
#ifdef UNIT_ARGV
int main(int, char **);
#else
int main(void);
#endif
