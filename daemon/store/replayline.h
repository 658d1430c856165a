/*
 * Replay's reading of a record line: the envelope dutyd writes read from
 * its fixed layout, a tree only for data.  Pure functions of bytes.
 */
#ifndef DUTYD_REPLAYLINE_H
#define DUTYD_REPLAYLINE_H

#include <stddef.h>
#include <jansson.h>

#include "store/record.h"

/* The envelope's strings, NUL-terminated: rec's point into it. */
struct replayline {
	char	buf[512];
};

/*
 * record_parse()'s reading of LINE, the same record, the same errors.
 * On 0 *root owns rec->data, and rec's envelope strings point into RL
 * (or into *root): both must outlive rec.
 */
int	replayline_parse(const char *line, size_t len, struct record *rec,
	    struct replayline *rl, json_t **root, const char **why);

#endif
