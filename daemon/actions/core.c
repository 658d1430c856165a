/*
 * core.c: the order things start and stop in.  See core.h.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "actions/checkpoint.h"
#include "actions/core.h"
#include "actions/desk.h"
#include "actions/dirremind.h"
#include "actions/handact.h"
#include "actions/incact.h"
#include "actions/smsact.h"
#include "actions/wremind.h"
#include "actions/wrsend.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "notify/delivery.h"
#include "notify/ledger.h"
#include "notify/links.h"
#include "notify/message.h"
#include "notify/notify.h"
#include "state/directive.h"
#include "state/handover.h"
#include "state/incident.h"
#include "state/replycode.h"
#include "state/router.h"
#include "state/signout.h"
#include "state/smsseen.h"
#include "state/wreport.h"
#include "store/store.h"

static int64_t
core_retention_cutoff(void)
{
	return time_now_ms() - config_current()->audit.retention_ms;
}

int
core_start(const struct store_backend *be, int accept_broken, char *err,
    size_t errlen)
{
	const struct config	*cfg = config_current();
	int			 rc;

	/* Every owner and follower before the first record is replayed. */
	incident_init(incact_deadline);
	replycode_init();
	smsseen_init();
	signout_init();
	wreport_init();
	directive_init();
	notify_init();
	ledger_init();
	checkpoint_init();
	desk_init();
	handover_init(handact_overdue);
	wremind_init();
	wrsend_init();
	if ((rc = router_check()) != 0) {
		snprintf(err, errlen, "a record kind has no owner (a bug)");
		return rc;
	}
	/* The log is the truth: rebuild everything before answering anyone. */
	store_configure(cfg->audit.segment_size, cfg->audit.reserve);
	if ((rc = store_open(be, router_apply, accept_broken, err, errlen)) != 0)
		return rc;
	log_info("audit log replayed up to seq %lld", (long long)store_last_seq());
	if ((rc = links_init(err, errlen)) != 0)
		return rc;
	core_prune();
	/* A crash may fall between a change and its intent. */
	notify_reconcile_all();
	core_turn();
	desk_arm();
	/* The written report's reminders, from the records replayed. */
	wremind_arm_all();
	/* Directives' reminders too: those owed while down fire now, once. */
	dirremind_arm_all();
	/* A submission whose delivery was not recorded yet: record it now. */
	wrsend_replayed();
	wrsend_check_config();
	return 0;
}

static int
core_has_incident(const char *id)
{
	return incident_find(id) != NULL;
}

void
core_prune(void)
{
	int n;

	/* One still telling people it was resolved stays until it has. */
	if ((n = incident_prune(core_retention_cutoff(), notify_busy)) > 0)
		log_info("%d resolved incident(s) past retention unloaded; they "
		    "stay in the audit log", n);
	wreport_prune(core_has_incident);
	if ((n = directive_prune(core_retention_cutoff())) > 0)
		log_info("%d directive(s) done before retention unloaded; they "
		    "stay in the audit log", n);
	notify_prune();
	links_prune(time_now_ms());
}

/*
 * Incidents a checkpoint writes per loop turn.  Each takes tens of
 * microseconds; a turn that wrote them all at 30,000 open incidents stalled
 * every clock for about 3 s.
 */
#define CORE_CHECKPOINT_STEP	200

static struct clock core_kick;	/* turns the loop again while a checkpoint runs */

static void
core_kicked(struct clock *c, void *arg)
{
	/* Nothing: the turn ends with core_turn(). */
}

static void
core_checkpoint_step(void)
{
	int rc, done;

	if ((rc = checkpoint_step(CORE_CHECKPOINT_STEP, &done)) != 0) {
		checkpoint_abort();
		log_errorx("cannot write the checkpoint for the new audit log "
		    "segment: %s; retrying in a while", strerror(-rc));
	} else if (done)
		store_checkpoint_done();
	else {
		if (!core_kick.initialized)
			clock_init(&core_kick, core_kicked, NULL);
		clock_arm(&core_kick, time_now_ms());
	}
}

/*
 * Close a full segment and open the next with a checkpoint, a part per turn.
 * Neither while clocks are due and not fired yet: at 100,000 open
 * incidents a checkpoint is 500 parts of a few ms, and a rotation falling
 * among thousands of deadlines made every one of them late.  The clocks
 * catch up first; the turn that fires them comes back here.
 */
void
core_turn(void)
{
	int rc, committing = store_committing();

	store_commit();
	if (checkpoint_running()) {
		/*
		 * One part per commit: with a store that commits in the
		 * background, parts written faster than it commits would pile
		 * into one long transaction that every reply waits for.  The
		 * commit's end turns the loop again.
		 */
		if (!committing && !clock_behind())
			core_checkpoint_step();
	} else if (!store_checkpoint_due() || clock_behind())
		return;
	else if ((rc = store_rotate()) != 0)
		log_errorx("cannot start a new audit log segment: %s; retrying",
		    strerror(-rc));
	else if ((rc = checkpoint_start(core_retention_cutoff())) != 0)
		log_errorx("cannot write the checkpoint for the new audit log "
		    "segment: %s; retrying in a while", strerror(-rc));
	else
		core_checkpoint_step();
	store_commit();
}

void
core_stop(void)
{
	clock_free(&core_kick);
	incact_shutdown();
	checkpoint_abort();
	desk_shutdown();
	handover_shutdown();
	wremind_shutdown();
	dirremind_shutdown();
	wrsend_shutdown();
	ledger_shutdown();
	delivery_shutdown();
	message_shutdown();
	notify_shutdown();
	wreport_shutdown();
	directive_shutdown();
	incident_shutdown();
	replycode_shutdown();
	signout_clear();
	smsact_shutdown();
	links_shutdown();
	store_close();
	router_reset();
}
