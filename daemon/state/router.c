/*
 * The one table from record kind to the module that owns it.
 */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "state/router.h"
#include "store/record.h"

static const struct router_kind {
	const char		*kind;	/* exact, or a prefix ending in '.' */
	enum router_owner	 owner;
} router_kinds[] = {
	/* Incidents and their clocks. */
	{ "report.received",		ROUTER_INCIDENT },
	{ "incident.acknowledged",	ROUTER_INCIDENT },
	{ "incident.report_filed",	ROUTER_INCIDENT },
	{ "incident.resolved",		ROUTER_INCIDENT },
	{ "incident.escalated",		ROUTER_INCIDENT },
	{ "incident.report_overdue",	ROUTER_INCIDENT },
	{ "incident.updated",		ROUTER_INCIDENT },
	/* Someone could not be told: shown on the incident (before "notify."). */
	{ "notify.undeliverable",	ROUTER_INCIDENT },
	{ "incident.merged",		ROUTER_INCIDENT },
	{ "incident.dismissed",		ROUTER_INCIDENT },
	{ "incident.note",		ROUTER_INCIDENT },
	/* The written report: drafts, approval, submission, reminders. */
	{ "report.draft_saved",		ROUTER_WREPORT },
	{ "report.approval_requested",	ROUTER_WREPORT },
	{ "report.approved",		ROUTER_WREPORT },
	{ "report.rejected",		ROUTER_WREPORT },
	{ "report.submitted",		ROUTER_WREPORT },
	{ "report.reminder",		ROUTER_WREPORT },
	/* Leaders' directives (批示件): created, progress, delay, done, reminders. */
	{ "directive.",			ROUTER_DIRECTIVE },
	/* Notifications: intents, attempts, fallback, abandonment. */
	{ "notify.",			ROUTER_NOTIFY },
	/* Inbound SMS taken (the gateway's id must not be taken twice). */
	{ "sms.received",		ROUTER_SMSSEEN },
	{ "sms.rejected",		ROUTER_NOBODY },
	/* State at the start of a segment, for replay. */
	{ "checkpoint.",		ROUTER_CHECKPOINT },
	/* Handovers: the note, the incoming's acceptance, the alarm when nobody did. */
	{ "duty.handover",		ROUTER_HANDOVER },
	{ "duty.handover_note",		ROUTER_HANDOVER },
	{ "duty.handover_accepted",	ROUTER_HANDOVER },
	{ "duty.accept_overdue",	ROUTER_HANDOVER },
	/* What happened to the daemon: the log is the record. */
	{ "dutyd.started",		ROUTER_NOBODY },
	{ "dutyd.stopped",		ROUTER_NOBODY },
	{ "config.reloaded",		ROUTER_NOBODY },
	{ "audit.repaired",		ROUTER_NOBODY },
	{ "audit.chain_broken",		ROUTER_NOBODY },
	{ "auth.refused",		ROUTER_NOBODY },
	/* Console sessions: who signed in; those signed out stay out. */
	{ "session.started",		ROUTER_NOBODY },
	{ "session.ended",		ROUTER_SESSION },
};
#define ROUTER_NKINDS	(sizeof(router_kinds) / sizeof(router_kinds[0]))

static router_fn	 router_owners[ROUTER_OWNERS];

static struct router_follower {
	const char	*prefix;
	size_t		 len;
	router_fn	 fn;
} router_followers[ROUTER_FOLLOWERS];
static size_t		 router_nfollowers;

static int
router_matches(const char *pattern, const char *kind)
{
	size_t n = strlen(pattern);

	if (n > 0 && pattern[n - 1] == '.')
		return strncmp(pattern, kind, n) == 0;
	return strcmp(pattern, kind) == 0;
}

enum router_owner
router_owner_of(const char *kind)
{
	size_t i;

	/* Most kinds differ at the first byte: no call for them. */
	for (i = 0; i < ROUTER_NKINDS; i++)
		if (router_kinds[i].kind[0] == kind[0] &&
		    router_matches(router_kinds[i].kind, kind))
			return router_kinds[i].owner;
	return ROUTER_NOBODY;
}

void
router_own(enum router_owner owner, router_fn fn)
{
	if (owner <= ROUTER_NOBODY || owner >= ROUTER_OWNERS)
		fatalx("router: no such owner %d", owner);
	router_owners[owner] = fn;
}

void
router_follow(const char *prefix, router_fn fn)
{
	if (router_nfollowers == ROUTER_FOLLOWERS)
		fatalx("router: more than %d followers", ROUTER_FOLLOWERS);
	router_followers[router_nfollowers].prefix = prefix;
	router_followers[router_nfollowers].len = strlen(prefix);
	router_followers[router_nfollowers++].fn = fn;
}

int
router_check(void)
{
	size_t i;

	for (i = 0; i < ROUTER_NKINDS; i++)
		if (router_kinds[i].owner != ROUTER_NOBODY &&
		    router_owners[router_kinds[i].owner] == NULL) {
			log_warnx("router: nobody registered for %s records",
			    router_kinds[i].kind);
			return -ENOENT;
		}
	return 0;
}

/* Between a replayed checkpoint.begin and its checkpoint.end. */
static int router_in_checkpoint;

int
router_restoring(void)
{
	return router_in_checkpoint;
}

void
router_reset(void)
{
	memset(router_owners, 0, sizeof(router_owners));
	router_nfollowers = 0;
	router_in_checkpoint = 0;
}

int
router_apply(const struct record *r)
{
	enum router_owner	 owner = router_owner_of(r->event);
	size_t			 i;
	int			 rc = 0;

	if (r->replaying && strcmp(r->event, "checkpoint.begin") == 0)
		router_in_checkpoint = 1;
	else if (strcmp(r->event, "checkpoint.end") == 0)
		router_in_checkpoint = 0;
	if (owner != ROUTER_NOBODY && router_owners[owner] != NULL)
		rc = router_owners[owner](r);
	else if (owner == ROUTER_NOBODY && r->replaying)
		log_debug("audit seq %lld: %s has nothing to rebuild",
		    (long long)r->seq, r->event);
	if (rc != 0 || owner == ROUTER_CHECKPOINT)
		return rc;
	for (i = 0; i < router_nfollowers; i++)
		if (strncmp(r->event, router_followers[i].prefix,
		    router_followers[i].len) == 0 &&
		    (rc = router_followers[i].fn(r)) != 0)
			return rc;
	return 0;
}
