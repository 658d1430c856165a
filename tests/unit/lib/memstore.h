/*
 * A store backend in memory, for unit tests (and as proof that the store
 * interface takes a second backend: nothing but main.c names filelog).
 * Its lines outlive store_close(), so a test restarts dutyd's core on the
 * same records, as a restart on the same state_dir would.
 */
#ifndef TEST_MEMSTORE_H
#define TEST_MEMSTORE_H

#include <stddef.h>

#include <jansson.h>

struct store_backend;

const struct store_backend *memstore(void);
/* Forget every line (a new state_dir). */
void	memstore_reset(void);
size_t	memstore_count(void);
/* Line I (0-based), without its newline. */
const char *memstore_line(size_t i);
/* Line I replaced by LINE (a disk's damage, seen by lines read back). */
void	memstore_damage(size_t i, const char *line);
/* Records of kind EVENT (NULL: all), optionally naming INCIDENT, as an array of objects. */
json_t	*memstore_records(const char *event, const char *incident);
/* How many records of kind EVENT (NULL: all) name INCIDENT (NULL: any). */
size_t	memstore_count_of(const char *event, const char *incident);
/* After AFTER more appends succeed, appends and syncs fail with -ERR (0: none fail). */
void	memstore_fail(int err, size_t after);
/* Syncs so far (group commits). */
size_t	memstore_syncs(void);
/* Force a checkpoint at the next loop turn. */
void	memstore_want_checkpoint(void);
/*
 * ON: memstore() commits in the background (sync_start), as the
 * PostgreSQL store does; a commit completes with memstore_complete()
 * (1 when one was in flight).  memstore_reset() keeps the mode.
 */
void	memstore_async(int on);
int	memstore_complete(int status);
size_t	memstore_commits_started(void);

#endif
