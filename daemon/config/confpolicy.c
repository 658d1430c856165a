/*
 * confpolicy.c: the `policy:` and `audit:` sections: clocks, retries,
 * fallback, the escalation levels beyond the leader on duty, and the audit
 * log's sizes.  Part of the configuration schema; config.c calls in here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/config.h"
#include "config/confpolicy.h"
#include "config/confval.h"
#include "config/confyaml.h"

#define KIB			((int64_t)1024)
#define MIB			(1024 * KIB)
#define GIB			(1024 * MIB)
#define SEGMENT_DEFAULT		(64 * MIB)
#define SEGMENT_MIN		(4 * KIB)
#define SEGMENT_MAX		(16 * GIB)
#define RETENTION_DEFAULT_MS	((int64_t)30 * 24 * 60 * 60 * 1000)
#define RESERVE_DEFAULT		(8 * MIB)
#define RESERVE_MAX		GIB
#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
/* A duration as written: "20m" when whole minutes, else "90s". */
#define POLICY_SHOWN(ms)	(long long)((ms) % 60000 == 0 ? (ms) / 60000 : \
				    (ms) / 1000), (ms) % 60000 == 0 ? "m" : "s"

static const struct {
	const char	*key;
	size_t		 off;
	int64_t		 def;
} policy_keys[] = {
	{ "ack_timeout", offsetof(struct config_policy, ack_timeout_ms),
	    20 * 60 * 1000 },
	{ "report_deadline", offsetof(struct config_policy, report_deadline_ms),
	    40 * 60 * 1000 },
	{ "county_deadline", offsetof(struct config_policy, county_deadline_ms),
	    20 * 60 * 1000 },
	{ "retry_initial", offsetof(struct config_policy, retry_initial_ms),
	    1000 },
	{ "retry_max", offsetof(struct config_policy, retry_max_ms),
	    5 * 60 * 1000 },
	/* 0: never.  Retrying until delivered or resolved is the promise. */
	{ "retry_give_up", offsetof(struct config_policy, retry_give_up_ms), 0 },
	{ "fallback_after", offsetof(struct config_policy, fallback_after_ms),
	    60 * 1000 },
	/* Before report_deadline: what is still missing, while there is time. */
	{ "report_reminder", offsetof(struct config_policy, report_reminder_ms),
	    10 * 60 * 1000 },
};

static const struct field policy_fields[] = {
	{ "ack_timeout", 0 }, { "report_deadline", 0 }, { "county_deadline", 0 },
	{ "retry_initial", 0 }, { "retry_max", 0 }, { "retry_give_up", 0 },
	{ "fallback_after", 0 }, { "report_reminder", 0 }, { "escalation", 0 },
	/* The written report's approval: confwreport.c reads them. */
	{ "approval_levels", 0 }, { "approvers", 0 },
};

#define LEVELS_MAX		16
#define LEVEL_PEOPLE_MAX	64

static const struct field level_fields[] = {
	{ "after", 1 }, { "notify", 1 },
};

/*
 * Who a level calls: person ids, or the roles "leader" (the leader on
 * duty then) and "officers" (every duty officer on duty then).
 */
static void
load_level_people(struct loader *ld, yaml_node_t *n, const char *ctx,
    struct config_level *lv)
{
	struct config *cf = ld->cf;
	yaml_node_item_t *it;
	yaml_node_t *e;
	const char *s;
	size_t count, i, j;

	if (n->type == YAML_SCALAR_NODE) {
		it = NULL;
		count = 1;
	} else if ((it = confyaml_items(ld, n, "notify", ctx, LEVEL_PEOPLE_MAX,
	    &count)) == NULL)
		return;
	if (count == 0) {
		confyaml_errat(ld, &n->start_mark, "'notify'%s is empty; name "
		    "who this level calls (person ids, leader or officers)", ctx);
		return;
	}
	if ((lv->notify = confyaml_zalloc(ld, count, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < count; i++) {
		e = it == NULL ? n : confyaml_node(ld, it[i]);
		if ((s = confyaml_scalar(ld, e, "notify", ctx)) == NULL)
			continue;
		/* An entry whose id was invalid stays in the list without one. */
		for (j = 0; j < cf->npeople; j++)
			if (cf->people[j].id != NULL &&
			    strcmp(cf->people[j].id, s) == 0)
				break;
		if (strcmp(s, "leader") != 0 && strcmp(s, "officers") != 0 &&
		    j == cf->npeople) {
			confyaml_errat(ld, &e->start_mark, "unknown person '%s' "
			    "in 'notify'%s; use an id from people, leader (the "
			    "leader on duty) or officers (the duty officers on "
			    "duty)", s, ctx);
			continue;
		}
		if ((lv->notify[lv->nnotify] = confyaml_sdup(ld, s)) != NULL)
			lv->nnotify++;
	}
}

static void
load_levels(struct loader *ld, yaml_node_t *n)
{
	struct config_policy *pol = &ld->cf->policy;
	yaml_node_item_t *it;
	yaml_node_t *val[NFIELDS(level_fields)];
	char ctx[64];
	size_t count, i;

	if ((it = confyaml_items(ld, n, "escalation", " in policy", LEVELS_MAX,
	    &count)) == NULL || count == 0)
		return;
	if ((pol->levels = confyaml_zalloc(ld, count,
	    sizeof(*pol->levels))) == NULL)
		return;
	for (i = 0; i < count; i++) {
		struct config_level *lv = &pol->levels[pol->nlevels];

		/* Level 1 is the leader on duty at ack_timeout; these follow. */
		snprintf(ctx, sizeof(ctx), " in escalation level %zu", i + 2);
		if (confyaml_fields(ld, confyaml_node(ld, it[i]), "an escalation "
		    "level", ctx, level_fields, NFIELDS(level_fields),
		    val) == -1 || val[0] == NULL || val[1] == NULL)
			continue;
		pol->nlevels++;	/* counted now, so that config_free() sees it */
		if (confyaml_duration(ld, val[0], "after", ctx,
		    &lv->after_ms) == 0 && lv->after_ms < 1000)
			confyaml_errat(ld, &val[0]->start_mark, "'after'%s must "
			    "be at least 1s", ctx);
		load_level_people(ld, val[1], ctx, lv);
	}
}

void
confpolicy_load(struct loader *ld, yaml_node_t *n)
{
	struct config_policy *pol = &ld->cf->policy;
	yaml_node_t *val[NFIELDS(policy_fields)];
	size_t i;
	int64_t *ms;
	int ok = 1;

	for (i = 0; i < NFIELDS(policy_keys); i++)
		*(int64_t *)(void *)((char *)pol + policy_keys[i].off) =
		    policy_keys[i].def;
	if (n == NULL || confyaml_fields(ld, n, "'policy'", " in policy",
	    policy_fields, NFIELDS(policy_fields), val) == -1)
		return;
	if (val[NFIELDS(policy_keys)] != NULL)
		load_levels(ld, val[NFIELDS(policy_keys)]);
	for (i = 0; i < NFIELDS(policy_keys); i++) {
		ms = (int64_t *)(void *)((char *)pol + policy_keys[i].off);
		if (val[i] != NULL && strcmp(policy_keys[i].key,
		    "retry_give_up") == 0 && val[i]->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)val[i]->data.scalar.value, "never") == 0)
			continue;
		/* report_reminder: 0 turns the reminder off. */
		if (val[i] != NULL && strcmp(policy_keys[i].key,
		    "report_reminder") == 0 && val[i]->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)val[i]->data.scalar.value, "0") == 0) {
			*ms = 0;
			continue;
		}
		if (val[i] != NULL && confyaml_duration(ld, val[i],
		    policy_keys[i].key, " in policy", ms) == -1)
			ok = 0;
	}
	if (ok && pol->retry_initial_ms > pol->retry_max_ms)
		confyaml_errat(ld, val[3] ? &val[3]->start_mark :
		    &val[4]->start_mark, "'retry_initial' in policy must not "
		    "be longer than 'retry_max'");
	/* Valid, but the report would fall due before anyone is chased. */
	if (ok && pol->report_deadline_ms <= pol->ack_timeout_ms)
		confyaml_warnat(ld, val[1] ? &val[1]->start_mark :
		    &val[0]->start_mark, "'report_deadline' in policy (%lld%s) "
		    "is not after 'ack_timeout' (%lld%s): the written report "
		    "would fall due before an unacknowledged incident even "
		    "escalates; make report_deadline the longer one (defaults: "
		    "ack_timeout 20m, report_deadline 40m)",
		    POLICY_SHOWN(pol->report_deadline_ms),
		    POLICY_SHOWN(pol->ack_timeout_ms));
	/* The default needs a deadline longer than itself: else no reminder. */
	if (ok && val[7] == NULL &&
	    pol->report_reminder_ms >= pol->report_deadline_ms)
		pol->report_reminder_ms = 0;
	if (ok && pol->report_reminder_ms >= pol->report_deadline_ms)
		confyaml_errat(ld, &val[7]->start_mark, "'report_reminder' in "
		    "policy (%lld%s before the deadline) must be shorter "
		    "than 'report_deadline' (%lld%s); write e.g. report_reminder: 10m, or 0 for no "
		    "reminder", POLICY_SHOWN(pol->report_reminder_ms),
		    POLICY_SHOWN(pol->report_deadline_ms));
}

/*
 * A size in bytes from MIN to MAX; RANGE says so in messages.  Too large
 * to count is out of range too, and gets the same advice.
 */
static int
audit_size(struct loader *ld, yaml_node_t *n, const char *key, int64_t min,
    int64_t max, const char *range, int64_t *bytes)
{
	const char *s, *why = NULL;
	int64_t v;
	int rc;

	if ((s = confyaml_scalar(ld, n, key, " in audit")) == NULL)
		return -1;
	if ((rc = confval_size(s, &v, &why)) == -ERANGE || (rc == 0 &&
	    (v < min || v > max))) {
		confyaml_errat(ld, &n->start_mark, "'%s' in audit must be %s",
		    key, range);
		return -1;
	}
	if (rc < 0) {
		confyaml_errat(ld, &n->start_mark, "invalid size '%s' for "
		    "'%s' in audit: %s", s, key, why);
		return -1;
	}
	*bytes = v;
	return 0;
}

static const struct field audit_fields[] = {
	{ "segment_size", 0 }, { "retention", 0 }, { "reserve", 0 },
};

void
confpolicy_audit(struct loader *ld, yaml_node_t *n)
{
	struct config_audit *a = &ld->cf->audit;
	yaml_node_t *val[NFIELDS(audit_fields)];

	a->segment_size = SEGMENT_DEFAULT;
	a->retention_ms = RETENTION_DEFAULT_MS;
	a->reserve = RESERVE_DEFAULT;
	if (n == NULL || confyaml_fields(ld, n, "'audit'", " in audit",
	    audit_fields, NFIELDS(audit_fields), val) == -1)
		return;
	if (val[0] != NULL)
		audit_size(ld, val[0], "segment_size", SEGMENT_MIN, SEGMENT_MAX,
		    "from 4KiB to 16GiB", &a->segment_size);
	if (val[1] != NULL)
		confyaml_duration(ld, val[1], "retention", " in audit",
		    &a->retention_ms);
	if (val[2] != NULL)
		audit_size(ld, val[2], "reserve", 0, RESERVE_MAX,
		    "at most 1GiB (0 keeps no reserve)", &a->reserve);
}

