/*
 * Replays inputs through a fuzz harness without libFuzzer: every file
 * named, or every file in every directory named, once.  `make check` runs
 * the corpora this way in both of its passes (the plain build and
 * ASan+UBSan), so an input that once crashed a parser stays a test.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int
replay_file(const char *path)
{
	FILE	*fp = fopen(path, "rb");
	uint8_t	*buf = NULL;
	long	 len;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, fp) != (size_t)len) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path,
		    strerror(errno));
		if (fp != NULL)
			fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct dirent	*e;
	struct stat	 st;
	char		 path[4096];
	DIR		*d;
	int		 i, n = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if ((d = opendir(argv[i])) == NULL) {
				bad++;
				continue;
			}
			while ((e = readdir(d)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i],
				    e->d_name);
				bad += replay_file(path) != 0;
				n++;
			}
			closedir(d);
		} else {
			bad += replay_file(argv[i]) != 0;
			n++;
		}
	}
	printf("%s: %d inputs replayed%s\n", argv[0], n, bad ? ", some unreadable" : "");
	return bad != 0 || n == 0;
}
