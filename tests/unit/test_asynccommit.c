/*
 * dutyd's core on a store that commits in the background (the PostgreSQL
 * store): replies and clocks wait for the commit that covers them, and a
 * checkpoint goes a part per commit, so its parts never pile up into one
 * long transaction that every reply would wait for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions/core.h"
#include "state/incident.h"
#include "store/store.h"

#include "corefix.h"
#include "fakeclock.h"
#include "memstore.h"

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "  - { id: li, name: \"李强\", token: \"secret-li\", contacts: [ { channel: hook, to: \"li\" } ] }\n"
    "duty:\n"
    "  officers: [zhang]\n"
    "  leader: li\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n";

/* Every commit owed, to the end. */
static void
settle(void)
{
	int i;

	for (i = 0; i < 10000 && (memstore_complete(0) || store_pending()); i++)
		core_turn();
	assert_false(store_committing());
}

static void
test_checkpoint_part_per_commit(void **state)
{
	size_t	i, started;

	memstore_reset();
	memstore_async(1);
	corefix_start(conf);
	settle();
	for (i = 0; i < 450; i++) {
		assert_non_null(corefix_report("county-a", "险情"));
		settle();
	}
	memstore_want_checkpoint();
	core_turn();		/* checkpoint.begin and the first part, committing */
	assert_true(store_committing());
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 200);
	started = memstore_commits_started();
	/* Turns while that commit runs (requests, clocks): no part more. */
	for (i = 0; i < 5; i++)
		core_turn();
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 200);
	assert_int_equal(memstore_commits_started(), started);
	assert_true(memstore_complete(0));
	core_turn();		/* the next part, and its commit */
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 400);
	assert_int_equal(memstore_commits_started(), started + 1);
	for (i = 0; i < 5; i++)
		core_turn();
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 400);
	settle();
	assert_int_equal(memstore_count_of("checkpoint.incident", NULL), 450);
	assert_int_equal(memstore_count_of("checkpoint.end", NULL), 1);
	corefix_stop();
	memstore_async(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkpoint_part_per_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
