/*
 * libfloor: an empty program linked with exactly the libraries dutyd links
 * (the Makefile gives it LDLIBS_ALL), printing its own VmRSS, RssAnon and
 * RssFile in KiB.  What loading Debian's libcurl, OpenSSL, GLib and the
 * rest costs before dutyd runs a line: the floor under "idle RSS".  (libpq
 * is not among them: dutyd loads it for a database only, base/pqlib.c.)
 */
#include <stdio.h>
#include <string.h>

/* As daemon/main.c: GnuTLS (pulled in by libcurl, never used) not initialized at load. */
int	_gnutls_global_init_skip(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

int
main(void)
{
	FILE	*f = fopen("/proc/self/status", "r");
	char	 line[256];

	if (f == NULL)
		return 1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0 ||
		    strncmp(line, "RssAnon:", 8) == 0 ||
		    strncmp(line, "RssFile:", 8) == 0)
			fputs(line, stdout);
	fclose(f);
	return 0;
}
