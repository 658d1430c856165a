/*
 * The YAML configuration (config/confload.c and the sections it calls):
 * whatever the file holds, an error list or a config, never a crash, and
 * nothing left allocated (a reload is all or nothing).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/confload.h"
#include "config/config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 path[64];
	struct config_diag	 diag = { NULL, 0 };
	struct config		*cf;
	FILE			*fp;
	size_t			 i;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%ld.yaml",
		    (long)getpid());
	if ((fp = fopen(path, "wb")) == NULL)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	cf = confload(path, &diag);
	/* No config: at least one error.  A config: warnings only, if anything. */
	if (cf == NULL && diag.n == 0)
		abort();
	for (i = 0; cf != NULL && i < diag.n; i++)
		if (strstr(diag.lines[i], ": warning: ") == NULL)
			abort();
	config_unref(cf);
	config_diag_free(&diag);
	unlink(path);
	return 0;
}
