/*
 * The record router: which module owns which kind of record.
 *
 * The store hands every record, live or replayed, to router_apply(); the
 * table in router.c sends it to the one module that owns its kind, and
 * then to the modules that follow records of that kind (the incident's
 * timeline, reply codes freed at resolution).  Owners and followers
 * register their functions at start-up; the router includes none of them,
 * so nothing it calls can include it back into a cycle.
 *
 * Adding a record kind: a row in router.c's table, and its owner's code.
 */
#ifndef DUTYD_ROUTER_H
#define DUTYD_ROUTER_H

struct record;

/* The modules that own records (the table names them). */
enum router_owner {
	ROUTER_NOBODY,		/* kept in the log only: nothing to rebuild */
	ROUTER_INCIDENT,	/* state/incident.c */
	ROUTER_NOTIFY,		/* notify/notify.c: intents and deliveries */
	ROUTER_SMSSEEN,		/* state/smsseen.c: gateway message ids taken */
	ROUTER_CHECKPOINT,	/* actions/checkpoint.c */
	ROUTER_SESSION,		/* state/signout.c: console sessions signed out */
	ROUTER_WREPORT,		/* state/wreport.c: the written report */
	ROUTER_HANDOVER,	/* state/handover.c: handovers, their notes and acceptance */
	ROUTER_DIRECTIVE,	/* state/directive.c: leaders' directives */
	ROUTER_OWNERS
};

typedef int (*router_fn)(const struct record *);

/* OWNER applies its kinds with FN.  Once, at start-up. */
void	router_own(enum router_owner owner, router_fn fn);
/*
 * FN sees, after their owner, the records whose kind starts with PREFIX
 * ("" for all, "incident.resolved" for one); never checkpoint records,
 * which restore state rather than change it.  At most ROUTER_FOLLOWERS.
 */
#define ROUTER_FOLLOWERS	8
void	router_follow(const char *prefix, router_fn fn);
/* Every owner the table names has registered: 0, or -ENOENT (a bug). */
int	router_check(void);
/* The store's apply hook: 0, or the owner's -errno. */
int	router_apply(const struct record *);
/*
 * 1 while replay is inside a checkpoint: a checkpoint is written across
 * loop turns with live records between its parts, so until its end a
 * record may name an incident whose part comes later (and will hold what
 * the record did).  Owners skip those quietly.
 */
int	router_restoring(void);
/* Forget every registration (shutdown, tests). */
void	router_reset(void);
/* The owner of a kind, for docs and tests; ROUTER_NOBODY when unknown. */
enum router_owner router_owner_of(const char *kind);

#endif
