/*
 * The audit log as dutyd reads it at start and in --verify-audit
 * (store/auditscan.c), and each line as a record (store/record.c).
 */
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "store/auditscan.h"
#include "store/record.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 path[64];
	struct auditscan	 scan;
	struct record		 rec;
	json_t			*root;
	const char		*why, *p = (const char *)data, *nl;
	char			*paths[1], err[512];
	FILE			*fp;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-audit-%ld.log",
		    (long)getpid());
	if ((fp = fopen(path, "wb")) == NULL)
		abort();
	fwrite(data, 1, size, fp);
	fclose(fp);
	paths[0] = path;
	memset(&scan, 0, sizeof(scan));
	auditscan_files(paths, 1, &scan, err, sizeof(err));
	auditscan_unaccepted(&scan);
	auditscan_replay_start(&scan);
	auditscan_free(&scan);
	unlink(path);
	while (p < (const char *)data + size) {
		nl = memchr(p, '\n', (size_t)((const char *)data + size - p));
		if (nl == NULL)
			nl = (const char *)data + size;
		if (record_parse(p, (size_t)(nl - p), &rec, &root, &why) == 0)
			json_decref(root);
		p = nl + 1;
	}
	return 0;
}
