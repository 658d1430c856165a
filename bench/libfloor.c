/*
 * libfloor: an empty program linked with exactly the libraries dutyd links
 * (the Makefile gives it LDLIBS_ALL), printing its own VmRSS, RssAnon and
 * RssFile in KiB.  What loading Debian's libcurl, OpenSSL, GLib, libpq and
 * the rest costs before dutyd runs a line: the floor under "idle RSS".
 */
#include <stdio.h>
#include <string.h>

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
