/*
 * confload.c: YAML file -> struct config, with every problem reported as
 * FILE:LINE:COLUMN so that a typo can never silently switch off an
 * escalation.  The whole file is checked before giving up: whoever edits it
 * at night should fix all mistakes in one go.
 *
 * This file is the schema: which keys exist, what they mean and how entries
 * refer to each other.  Walking the YAML document and collecting the
 * messages is in confyaml.c; checks on single strings are in confval.c;
 * sections with their own file: confchan.c (channels, templates),
 * confpolicy.c (policy, audit), confsms.c (phones, sms, links),
 * rosterload.c (roster).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/timeutil.h"
#include "base/tz.h"
#include "config/channel.h"
#include "config/confcal.h"
#include "config/confchan.h"
#include "config/confdirect.h"
#include "config/confconsole.h"
#include "config/confwreport.h"
#include "config/conflimits.h"
#include "config/confload.h"
#include "config/confmetrics.h"
#include "config/confpolicy.h"
#include "config/confsms.h"
#include "config/confstore.h"
#include "config/config.h"
#include "config/confval.h"
#include "config/confyaml.h"
#include "config/roster.h"

#define CONFIG_ENTRIES_MAX	4096	/* offices, people */
#define CONFIG_CHANNELS_MAX	256
#define CONFIG_OPTIONS_MAX	64	/* options of one channel */
#define CONFIG_CONTACTS_MAX	16
#define CONFIG_DUTY_MAX		ROSTER_ON_DUTY_MAX	/* people in one duty role */

/* An office or person as written, for checks that span entries. */
struct entry_aux {
	const char	*kind;		/* "office", "person" */
	const char	*id;		/* NULL until valid */
	int		 has_token;	/* md holds the token's digest */
	unsigned char	 md[CONFIG_TOKEN_MD];
	yaml_mark_t	 id_at, token_at;
	int		 contacts_bad;	/* already reported */
	int		 told_no_contacts;
};

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))


static void
load_listen(struct loader *ld, yaml_node_t *n)
{
	struct config *cf = ld->cf;
	const char *s, *host = NULL, *why;
	size_t hlen = 0;
	long port = 0;

	if ((s = confyaml_scalar(ld, n, "listen", "")) == NULL)
		return;
	if ((why = confval_listen(s, &host, &hlen, &port)) != NULL) {
		confyaml_errat(ld, &n->start_mark, "invalid listen address "
		    "'%s': %s", s, why);
		return;
	}
	cf->listen = confyaml_sdup(ld, s);
	if ((cf->listen_host = strndup(host, hlen)) == NULL)
		ld->oom = 1;
	cf->listen_port = (uint16_t)port;
}

static void
load_public_url(struct loader *ld, yaml_node_t *n)
{
	const char *s, *why;
	size_t len = 0;

	if ((s = confyaml_scalar(ld, n, "public_url", "")) == NULL)
		return;
	if ((why = confval_public_url(s, &len)) != NULL) {
		confyaml_errat(ld, &n->start_mark, "'public_url' %s", why);
		return;
	}
	if ((ld->cf->public_url = strndup(s, len)) == NULL)
		ld->oom = 1;
}

/*
 * `timezone:`, else the system's zone (TZ as dutyd started, /etc/localtime):
 * loaded now, so that a missing zone is a config error, not a surprise later.
 */
static void
load_timezone(struct loader *ld, yaml_node_t *n)
{
	const char *s;
	char path[PATH_MAX];
	struct stat st;
	int rc;

	if (n == NULL) {
		if (tz_load(NULL, &ld->cf->tz) < 0)
			ld->oom = 1;
		return;
	}
	if ((s = confyaml_scalar(ld, n, "timezone", "")) == NULL)
		return;
	if (!confval_zone_name(s)) {
		confyaml_errat(ld, &n->start_mark, "time zone '%s' must be a "
		    "name such as Asia/Shanghai, not a path", s);
		return;
	}
	if ((rc = tz_load(s, &ld->cf->tz)) == -ENOMEM) {
		ld->oom = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", tz_dir(), s);
	if (rc == -ENOENT && (stat(tz_dir(), &st) == -1 ||
	    !S_ISDIR(st.st_mode)))
		confyaml_errat(ld, &n->start_mark, "unknown time zone '%s': "
		    "there is no time zone database (%s); install the tzdata "
		    "package", s, tz_dir());
	else if (rc == -ENOENT)
		confyaml_errat(ld, &n->start_mark, "unknown time zone '%s' "
		    "(there is no file %s); use a name such as "
		    "Asia/Shanghai", s, path);
	else if (rc < 0)
		confyaml_errat(ld, &n->start_mark, "cannot use time zone '%s': "
		    "%s %s; use a name such as Asia/Shanghai", s, path,
		    rc == -EINVAL ? "is not a tz database file" :
		    strerror(-rc));
	else
		ld->cf->timezone = confyaml_sdup(ld, s);
}

/* Load the plugin and let it check the channel's own options. */
static void
channel_setup(struct loader *ld, struct config_channel *c, yaml_node_t *name,
    yaml_node_t *plugin, const struct dutyd_option *opts,
    yaml_node_t *const *optkey, size_t nopts)
{
	const struct dutyd_plugin *abi;
	struct dutyd_error e;
	char err[512] = "";
	const yaml_mark_t *at;
	int rc;

	if ((rc = channel_plugin_open(ld->cf->plugin_dir, c->plugin_name,
	    &c->plugin, err, sizeof(err))) < 0) {
		c->plugin = NULL;
		err[sizeof(err) - 1] = '\0';
		confyaml_errat(ld, &plugin->start_mark, "channel '%s': %s",
		    c->name, err[0] ? err : strerror(-rc));
		return;
	}
	abi = channel_plugin_abi(c->plugin);
	memset(&e, 0, sizeof(e));
	e.option = -1;
	if ((rc = abi->configure(opts, nopts, &c->state, &e)) < 0) {
		c->state = NULL;
		e.message[sizeof(e.message) - 1] = '\0';
		at = e.option >= 0 && (size_t)e.option < nopts ?
		    &optkey[e.option]->start_mark : &name->start_mark;
		if (e.message[0] == '\0')
			snprintf(e.message, sizeof(e.message), "plugin %s "
			    "rejected the options: %s", c->plugin_name,
			    strerror(-rc));
		confyaml_errat(ld, at, "channel '%s': %s", c->name, e.message);
	}
}

static void
load_channel(struct loader *ld, yaml_node_pair_t *pair,
    struct config_channel *c)
{
	struct dutyd_option opts[CONFIG_OPTIONS_MAX];
	yaml_node_t *optkey[CONFIG_OPTIONS_MAX], *k, *v, *plugin = NULL;
	yaml_node_t *name = confyaml_node(ld, pair->key);
	yaml_node_t *body = confyaml_node(ld, pair->value);
	yaml_node_pair_t *p;
	yaml_node_t *dup;
	const char *s;
	char ctx[CONFVAL_ID_MAX + 32];
	size_t nopts = 0, n;
	int broken = 0, rc;

	confchan_defaults(c);
	snprintf(ctx, sizeof(ctx), " in channel '%s'", c->name);
	if (body->type != YAML_MAPPING_NODE) {
		confyaml_errat(ld, &body->start_mark, "expected a mapping for "
		    "channel '%s', got %s", c->name, confyaml_kind(body));
		return;
	}
	n = body->data.mapping.pairs.top - body->data.mapping.pairs.start;
	if (n > CONFIG_OPTIONS_MAX) {
		confyaml_errat(ld, &body->start_mark, "too many options%s "
		    "(%zu); at most %d", ctx, n, CONFIG_OPTIONS_MAX);
		return;
	}
	for (p = body->data.mapping.pairs.start;
	    p < body->data.mapping.pairs.top; p++) {
		k = confyaml_node(ld, p->key);
		v = confyaml_node(ld, p->value);
		if (k->type != YAML_SCALAR_NODE || confyaml_has_nul(k)) {
			confyaml_errat(ld, &k->start_mark, "keys must be "
			    "strings%s", ctx);
			broken = 1;
			continue;
		}
		s = (const char *)k->data.scalar.value;
		if ((dup = confyaml_earlier_key(ld, body, p)) != NULL) {
			confyaml_errat(ld, &k->start_mark, "duplicate key "
			    "'%s'%s (first at line %zu)", s, ctx,
			    dup->start_mark.line + 1);
			broken = 1;
			continue;
		}
		if (strcmp(s, "plugin") == 0) {
			if ((s = confyaml_scalar(ld, v, "plugin", ctx)) == NULL)
				broken = 1;
			else if (!confval_plugin_name(s)) {
				confyaml_errat(ld, &v->start_mark, "invalid "
				    "plugin name '%s': use the characters "
				    "a-z 0-9 _ -", s);
				broken = 1;
			} else {
				c->plugin_name = confyaml_sdup(ld, s);
				plugin = v;
			}
		} else if ((rc = confchan_option(ld, c, s, v, ctx)) != 0) {
			if (rc == -1)
				broken = 1;
		} else if (v->type != YAML_SCALAR_NODE) {
			confyaml_errat(ld, &v->start_mark, "expected a string "
			    "for '%s'%s, got %s", s, ctx, confyaml_kind(v));
			broken = 1;
		} else if (confyaml_has_nul(v)) {
			confyaml_errat(ld, &v->start_mark, "'%s'%s contains a "
			    "NUL character", s, ctx);
			broken = 1;
		} else {
			opts[nopts].key = s;
			opts[nopts].value = confyaml_is_null(v) ? "" :
			    (const char *)v->data.scalar.value;
			if (confval_secret_option(opts[nopts].key,
			    opts[nopts].value))
				ld->cf->other_secrets++;
			optkey[nopts++] = k;
		}
	}
	if (plugin == NULL && !broken)
		confyaml_errat(ld, &body->start_mark, "missing required key "
		    "'plugin'%s", ctx);
	if (plugin != NULL && !broken && ld->cf->plugin_dir != NULL &&
	    c->plugin_name != NULL)
		channel_setup(ld, c, name, plugin, opts, optkey, nopts);
	confchan_finish(c);
}

static void
load_channels(struct loader *ld, yaml_node_t *n)
{
	struct config *cf = ld->cf;
	yaml_node_pair_t *p;
	yaml_node_t *k, *dup;
	const char *s;
	size_t count;

	ld->channels_bad = 1;
	if (n->type != YAML_MAPPING_NODE) {
		confyaml_errat(ld, &n->start_mark, "expected a mapping for "
		    "'channels' (channel name: options), got %s",
		    confyaml_kind(n));
		return;
	}
	count = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
	if (count > CONFIG_CHANNELS_MAX) {
		confyaml_errat(ld, &n->start_mark, "too many channels (%zu); "
		    "at most %d", count, CONFIG_CHANNELS_MAX);
		return;
	}
	if ((cf->channels = confyaml_zalloc(ld, count,
	    sizeof(*cf->channels))) == NULL)
		return;
	ld->channels_bad = 0;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = confyaml_node(ld, p->key);
		if ((s = confyaml_scalar(ld, k, "channel name",
		    " in channels")) == NULL)
			continue;
		if ((dup = confyaml_earlier_key(ld, n, p)) != NULL) {
			confyaml_errat(ld, &k->start_mark, "duplicate channel "
			    "'%s' (first at line %zu)", s,
			    dup->start_mark.line + 1);
			continue;
		}
		if (!confval_id(s))
			confyaml_errat(ld, &k->start_mark, "invalid channel "
			    "name '%s': use 1 to %d of the characters "
			    "A-Z a-z 0-9 _ . -", s, CONFVAL_ID_MAX);
		/* Kept even when invalid, so contacts naming it stay quiet. */
		if ((cf->channels[cf->nchannels].name =
		    confyaml_sdup(ld, s)) == NULL)
			continue;
		load_channel(ld, p, &cf->channels[cf->nchannels++]);
	}
}

/* A shared token would make the actor of an audit record ambiguous. */
static int
token_unique(struct loader *ld, yaml_node_t *n, const char *who,
    const unsigned char *md)
{
	struct config *cf = ld->cf;
	struct entry_aux *a;
	size_t i;

	for (i = 0; i < cf->noffices + cf->npeople; i++) {
		a = i < cf->noffices ? &ld->office_aux[i] :
		    &ld->person_aux[i - cf->noffices];
		if (!a->has_token || memcmp(a->md, md, CONFIG_TOKEN_MD) != 0)
			continue;
		confyaml_errat(ld, &n->start_mark, "token of %s is already the "
		    "token of %s '%s' (line %zu); give every office and person "
		    "its own token", who, a->kind, a->id ? a->id : "?",
		    a->token_at.line + 1);
		return 0;
	}
	return 1;
}

/* `token_sha256:` 64 hex digits into md; 0 or -1 (reported). */
static int
load_token_sha256(struct loader *ld, yaml_node_t *n, const char *who,
    const char *ctx, unsigned char *md)
{
	const char	*s;
	size_t		 i;
	int		 hi, lo;

	if ((s = confyaml_scalar(ld, n, "token_sha256", ctx)) == NULL)
		return -1;
	for (i = 0; i < CONFIG_TOKEN_MD; i++) {
		if (s[2 * i] == '\0' || s[2 * i + 1] == '\0' ||
		    (hi = confval_hexdigit(s[2 * i])) < 0 ||
		    (lo = confval_hexdigit(s[2 * i + 1])) < 0)
			break;
		md[i] = (unsigned char)(hi << 4 | lo);
	}
	if (i < CONFIG_TOKEN_MD || s[2 * CONFIG_TOKEN_MD] != '\0') {
		confyaml_errat(ld, &n->start_mark, "token_sha256 of %s must be "
		    "64 hexadecimal digits, the SHA-256 of the token: `dutyd "
		    "--hash-token` prints it", who);
		return -1;
	}
	return 0;
}

/* id, name and the token (in clear or its SHA-256), which offices and people share. */
static void
load_entry(struct loader *ld, yaml_node_t **val, const char *what,
    struct entry_aux *aux, size_t i, char **id, char **name, char **token,
    unsigned char *md)
{
	char ctx[16], who[CONFVAL_ID_MAX + 16];
	const char *s = NULL;
	yaml_node_t *tok = val[2], *hashed = val[3], *at;
	size_t j;

	snprintf(ctx, sizeof(ctx), " in %s", what);
	aux[i].kind = what;
	if (val[0] != NULL &&
	    (s = confyaml_id(ld, val[0], what, ctx)) != NULL) {
		for (j = 0; j < i; j++)
			if (aux[j].id != NULL && strcmp(aux[j].id, s) == 0)
				break;
		if (j < i)
			confyaml_errat(ld, &val[0]->start_mark, "duplicate %s "
			    "id '%s' (first at line %zu)", what, s,
			    aux[j].id_at.line + 1);
		else if ((aux[i].id = *id = confyaml_sdup(ld, s)) != NULL)
			aux[i].id_at = val[0]->start_mark;
	}
	if (*id != NULL)
		snprintf(who, sizeof(who), "%s '%s'", what, *id);
	else
		snprintf(who, sizeof(who), "this %s", what);
	if (val[1] != NULL &&
	    (s = confyaml_name(ld, val[1], who, ctx)) != NULL)
		*name = confyaml_sdup(ld, s);
	if (tok != NULL && hashed != NULL) {
		confyaml_errat(ld, &hashed->start_mark, "%s has both token and "
		    "token_sha256; keep one (token_sha256 keeps the token out "
		    "of this file)", who);
		return;
	}
	if (tok == NULL && hashed == NULL) {
		confyaml_errat(ld, &ld->entry_at, "missing required key 'token'%s "
		    "(or token_sha256, its SHA-256)", ctx);
		return;
	}
	at = tok != NULL ? tok : hashed;
	if (tok != NULL) {
		if ((s = confyaml_token(ld, tok, who, ctx)) == NULL)
			return;
		if (config_token_digest(s, md) != 0) {
			ld->oom = 1;
			return;
		}
		ld->cf->plain_tokens++;
	} else if (load_token_sha256(ld, hashed, who, ctx, md) != 0)
		return;
	if (!token_unique(ld, at, who, md))
		return;
	if (tok != NULL && (*token = confyaml_sdup(ld, s)) == NULL)
		return;
	memcpy(aux[i].md, md, CONFIG_TOKEN_MD);
	aux[i].has_token = 1;
	aux[i].token_at = at->start_mark;
}

/* token or token_sha256: load_entry() checks that one is there. */
static const struct field office_fields[] = {
	{ "id", 1 }, { "name", 1 }, { "token", 0 }, { "token_sha256", 0 },
	{ "phones", 0 }, { "contacts", 0 },
};

static int load_contacts(struct loader *, yaml_node_t *, const char *ctx,
    struct config_contact **, size_t *);

static void
load_offices(struct loader *ld, yaml_node_t *n)
{
	struct config *cf = ld->cf;
	struct config_office *o;
	yaml_node_item_t *it;
	yaml_node_t *val[NFIELDS(office_fields)];
	size_t count, i;

	if ((it = confyaml_items(ld, n, "offices", "", CONFIG_ENTRIES_MAX,
	    &count)) == NULL)
		return;
	if (count == 0) {
		confyaml_errat(ld, &n->start_mark, "'offices' is empty; list "
		    "at least one office that sends reports");
		return;
	}
	if ((cf->offices = confyaml_zalloc(ld, count, sizeof(*o))) == NULL ||
	    (ld->office_aux = confyaml_zalloc(ld, count,
	    sizeof(*ld->office_aux))) == NULL)
		return;
	cf->noffices = count;
	for (i = 0; i < count; i++) {
		o = &cf->offices[i];
		if (confyaml_fields(ld, confyaml_node(ld, it[i]), "each office",
		    " in office", office_fields, NFIELDS(office_fields),
		    val) != 0)
			continue;
		ld->entry_at = confyaml_node(ld, it[i])->start_mark;
		load_entry(ld, val, "office", ld->office_aux, i, &o->id,
		    &o->name, &o->token, o->token_md);
		if (val[4] != NULL)
			confsms_phones(ld, val[4], "an office", &o->phones,
			    &o->nphones);
		/* Optional: an office is told of the directives it owns. */
		if (val[5] != NULL)
			load_contacts(ld, val[5], " in office", &o->contacts,
			    &o->ncontacts);
	}
}

static const struct field contact_fields[] = {
	{ "channel", 1 }, { "to", 1 },
};

static int
load_contacts(struct loader *ld, yaml_node_t *n, const char *ctx,
    struct config_contact **out, size_t *nout)
{
	struct config *cf = ld->cf;
	yaml_node_item_t *it;
	yaml_node_t *val[NFIELDS(contact_fields)];
	char known[CONFYAML_LIST_MAX] = "";
	const char *s;
	size_t count, i, j;

	if ((it = confyaml_items(ld, n, "contacts", ctx,
	    CONFIG_CONTACTS_MAX, &count)) == NULL)
		return -1;
	if ((*out = confyaml_zalloc(ld, count, sizeof(**out))) == NULL)
		return -1;
	*nout = count;
	for (j = 0; j < cf->nchannels; j++)
		confyaml_list_add(known, sizeof(known), cf->channels[j].name);
	for (i = 0; i < count; i++) {
		if (confyaml_fields(ld, confyaml_node(ld, it[i]),
		    "each contact", " in contact", contact_fields,
		    NFIELDS(contact_fields), val) == -1)
			continue;
		if (val[1] != NULL && (s = confyaml_scalar(ld, val[1], "to",
		    " in contact")) != NULL)
			(*out)[i].to = confyaml_sdup(ld, s);
		if (val[0] == NULL || (s = confyaml_scalar(ld, val[0],
		    "channel", " in contact")) == NULL)
			continue;
		for (j = 0; j < cf->nchannels; j++)
			if (strcmp(cf->channels[j].name, s) == 0)
				break;
		if (j < cf->nchannels || ld->channels_bad)
			(*out)[i].channel = confyaml_sdup(ld, s);
		else if (cf->nchannels == 0)
			confyaml_errat(ld, &val[0]->start_mark, "unknown "
			    "channel '%s' in contact; no channels are "
			    "configured (add them under 'channels')", s);
		else
			confyaml_errat(ld, &val[0]->start_mark, "unknown "
			    "channel '%s' in contact; channels are: %s", s,
			    known);
	}
	return 0;
}

static const struct field person_fields[] = {
	{ "id", 1 }, { "name", 1 }, { "token", 0 }, { "token_sha256", 0 },
	{ "contacts", 0 }, { "phones", 0 }, { "min_level", 0 },
};

/*
 * min_level: the least severe level of a new incident this person is told
 * of (I is the most severe).  Written as the levels are: I..IV, Ⅰ..Ⅳ, 1..4.
 */
static void
load_min_level(struct loader *ld, yaml_node_t *n, struct config_person *pe)
{
	static const char *const forms[][3] = {
		{ "I", "Ⅰ", "1" }, { "II", "Ⅱ", "2" },
		{ "III", "Ⅲ", "3" }, { "IV", "Ⅳ", "4" },
	};
	const char	*s;
	size_t		 i, j;

	if ((s = confyaml_scalar(ld, n, "min_level", " in person")) == NULL)
		return;
	for (i = 0; i < 4; i++)
		for (j = 0; j < 3; j++)
			if (strcmp(s, forms[i][j]) == 0) {
				pe->min_level = (int)i + 1;
				return;
			}
	confyaml_errat(ld, &n->start_mark, "min_level must be one of I, II, "
	    "III, IV (I is the most severe), not '%s'", s);
}

static void
load_people(struct loader *ld, yaml_node_t *n)
{
	struct config *cf = ld->cf;
	struct config_person *pe;
	yaml_node_item_t *it;
	yaml_node_t *val[NFIELDS(person_fields)];
	size_t count, i;

	if ((it = confyaml_items(ld, n, "people", "", CONFIG_ENTRIES_MAX,
	    &count)) == NULL)
		return;
	if (count == 0) {
		confyaml_errat(ld, &n->start_mark, "'people' is empty; list "
		    "the duty staff");
		return;
	}
	if ((cf->people = confyaml_zalloc(ld, count, sizeof(*pe))) == NULL ||
	    (ld->person_aux = confyaml_zalloc(ld, count,
	    sizeof(*ld->person_aux))) == NULL)
		return;
	cf->npeople = count;
	for (i = 0; i < count; i++) {
		pe = &cf->people[i];
		if (confyaml_fields(ld, confyaml_node(ld, it[i]), "each person",
		    " in person", person_fields, NFIELDS(person_fields),
		    val) == -1) {
			ld->person_aux[i].contacts_bad = 1;
			continue;
		}
		ld->entry_at = confyaml_node(ld, it[i])->start_mark;
		load_entry(ld, val, "person", ld->person_aux, i, &pe->id,
		    &pe->name, &pe->token, pe->token_md);
		if (val[4] != NULL && load_contacts(ld, val[4], " in person", &pe->contacts,
		    &pe->ncontacts) == -1)
			ld->person_aux[i].contacts_bad = 1;
		if (val[5] != NULL)
			confsms_phones(ld, val[5], "a person", &pe->phones,
			    &pe->nphones);
		if (val[6] != NULL)
			load_min_level(ld, val[6], pe);
	}
}

/* Check one duty reference; ROLE is e.g. "duty.officers". */
static char *
duty_ref(struct loader *ld, yaml_node_t *n, const char *key, const char *role)
{
	struct config *cf = ld->cf;
	char known[CONFYAML_LIST_MAX];
	const char *s;
	size_t i;

	if ((s = confyaml_scalar(ld, n, key, " in duty")) == NULL)
		return NULL;
	if (ld->person_aux == NULL)	/* no usable people: already reported */
		return confyaml_sdup(ld, s);
	for (i = 0; i < cf->npeople; i++)
		if (cf->people[i].id != NULL &&
		    strcmp(cf->people[i].id, s) == 0)
			break;
	if (i == cf->npeople) {
		known[0] = '\0';
		for (i = 0; i < cf->npeople; i++)
			if (cf->people[i].id != NULL)
				confyaml_list_add(known, sizeof(known),
				    cf->people[i].id);
		confyaml_errat(ld, &n->start_mark, "unknown person '%s' in %s; "
		    "people are: %s", s, role, known[0] ? known : "(none)");
		return NULL;
	}
	if (cf->people[i].ncontacts == 0 && !ld->person_aux[i].contacts_bad &&
	    !ld->person_aux[i].told_no_contacts) {
		ld->person_aux[i].told_no_contacts = 1;
		confyaml_errat(ld, &n->start_mark, "person '%s' has no "
		    "contacts, so nobody could reach them; they are in %s", s,
		    role);
	}
	return confyaml_sdup(ld, s);
}

static void
duty_list(struct loader *ld, yaml_node_t *n, const char *key, int nonempty,
    char ***out, size_t *nout)
{
	yaml_node_item_t *it;
	char role[32];
	size_t count, i, j;

	if ((it = confyaml_items(ld, n, key, " in duty", CONFIG_DUTY_MAX,
	    &count)) == NULL)
		return;
	if (count == 0 && nonempty) {
		confyaml_errat(ld, &n->start_mark, "'%s' in duty is empty; "
		    "name at least one person", key);
		return;
	}
	if ((*out = confyaml_zalloc(ld, count, sizeof(**out))) == NULL)
		return;
	snprintf(role, sizeof(role), "duty.%s", key);
	for (i = 0; i < count; i++) {
		if (((*out)[*nout] = duty_ref(ld, confyaml_node(ld, it[i]), key,
		    role)) == NULL)
			continue;
		for (j = 0; j < *nout; j++)
			if (strcmp((*out)[j], (*out)[*nout]) == 0)
				break;
		if (j < *nout) {
			confyaml_errat(ld,
			    &confyaml_node(ld, it[i])->start_mark, "person "
			    "'%s' is listed twice in %s", (*out)[*nout], role);
			free((*out)[*nout]);
			continue;
		}
		(*nout)++;
	}
}

static const struct field duty_fields[] = {
	{ "officers", 1 }, { "leader", 1 }, { "escalation", 0 },
};
/* With a roster, who is on duty comes from it; escalation may stay here. */
static const struct field duty_fields_roster[] = {
	{ "officers", 0 }, { "leader", 0 }, { "escalation", 0 },
};

static void
load_duty(struct loader *ld, yaml_node_t *n, int roster)
{
	struct config_duty *d = &ld->cf->duty;
	yaml_node_t *val[NFIELDS(duty_fields)];

	if (confyaml_fields(ld, n, "'duty'", " in duty", roster ?
	    duty_fields_roster : duty_fields, NFIELDS(duty_fields), val) == -1)
		return;
	if (val[0] != NULL)
		duty_list(ld, val[0], "officers", 1, &d->officers, &d->nofficers);
	if (val[1] != NULL)
		d->leader = duty_ref(ld, val[1], "leader", "duty.leader");
	if (val[2] != NULL)
		duty_list(ld, val[2], "escalation", 0, &d->escalation,
		    &d->nescalation);
}

/* Whoever the roster may put on duty must be reachable. */
static void
roster_contacts(struct loader *ld)
{
	struct config *cf = ld->cf;
	size_t i;

	for (i = 0; cf->roster != NULL && i < cf->npeople; i++) {
		if (cf->people[i].id == NULL || cf->people[i].ncontacts != 0 ||
		    ld->person_aux[i].contacts_bad ||
		    ld->person_aux[i].told_no_contacts ||
		    !roster_names(cf->roster, cf->people[i].id))
			continue;
		ld->person_aux[i].told_no_contacts = 1;
		confyaml_errat(ld, &ld->person_aux[i].id_at, "person '%s' has no "
		    "contacts, so nobody could reach them; they are on the "
		    "roster", cf->people[i].id);
	}
}

static const struct field top_fields[] = {
	{ "listen", 1 }, { "state_dir", 1 }, { "plugin_dir", 0 },
	{ "public_url", 1 }, { "timezone", 0 }, { "offices", 1 },
	{ "people", 1 }, { "duty", 0 }, { "channels", 0 }, { "policy", 0 },
	{ "audit", 0 }, { "templates", 0 }, { "roster", 0 }, { "sms", 0 },
	{ "links", 0 }, { "metrics", 0 }, { "limits", 0 }, { "tls", 0 },
	{ "console", 0 }, { "organization", 0 }, { "province", 0 },
	{ "calendar", 0 }, { "directives", 0 }, { "store", 0 },
};
enum { T_LISTEN, T_STATE_DIR, T_PLUGIN_DIR, T_PUBLIC_URL, T_TIMEZONE,
    T_OFFICES, T_PEOPLE, T_DUTY, T_CHANNELS, T_POLICY, T_AUDIT, T_TEMPLATES, T_ROSTER, T_SMS, T_LINKS,
    T_METRICS, T_LIMITS, T_TLS, T_CONSOLE, T_ORGANIZATION, T_PROVINCE,
    T_CALENDAR, T_DIRECTIVES, T_STORE };
_Static_assert(NFIELDS(top_fields) <= CONFYAML_FIELDS_MAX,
    "the largest field table must fit confyaml_fields()");

/* Dependencies decide the order: contacts name channels, duty names people. */
static void
load_root(struct loader *ld, yaml_node_t *root)
{
	struct config *cf = ld->cf;
	yaml_node_t *val[NFIELDS(top_fields)];
	const char *s;

	if (confyaml_fields(ld, root, "the whole file (listen:, state_dir:, "
	    "...)", "", top_fields, NFIELDS(top_fields), val) == -1) {
		confpolicy_load(ld, NULL);
		confpolicy_audit(ld, NULL);
		confsms_load(ld, NULL);
		confsms_links(ld, NULL);
		confmetrics_load(ld, NULL);
		conflimits_load(ld, NULL);
		confconsole_load(ld, NULL);
		confwreport_load(ld, NULL, NULL, NULL);
		confdirect_load(ld, NULL);
		return;
	}
	if (val[T_LISTEN] != NULL)
		load_listen(ld, val[T_LISTEN]);
	if (val[T_STATE_DIR] != NULL && (s = confyaml_scalar(ld,
	    val[T_STATE_DIR], "state_dir", "")) != NULL)
		cf->state_dir = confyaml_sdup(ld, s);
	if (val[T_PLUGIN_DIR] != NULL && (s = confyaml_scalar(ld,
	    val[T_PLUGIN_DIR], "plugin_dir", "")) != NULL)
		cf->plugin_dir = confyaml_sdup(ld, s);
	else if (val[T_PLUGIN_DIR] == NULL)
		cf->plugin_dir = confyaml_sdup(ld, DUTYD_PLUGIN_DIR);
	if (val[T_PUBLIC_URL] != NULL)
		load_public_url(ld, val[T_PUBLIC_URL]);
	load_timezone(ld, val[T_TIMEZONE]);
	if (val[T_CHANNELS] != NULL)
		load_channels(ld, val[T_CHANNELS]);
	if (val[T_OFFICES] != NULL)
		load_offices(ld, val[T_OFFICES]);
	if (val[T_PEOPLE] != NULL)
		load_people(ld, val[T_PEOPLE]);
	if (val[T_DUTY] != NULL)
		load_duty(ld, val[T_DUTY], val[T_ROSTER] != NULL);
	if (val[T_ROSTER] != NULL)
		cf->roster = roster_load(ld, val[T_ROSTER], time_now_ms());
	else if (val[T_DUTY] == NULL)
		confyaml_errat(ld, &root->start_mark, "missing 'duty' (who is "
		    "on duty: officers and leader) or 'roster' (shifts and "
		    "rotations); add one of them");
	roster_contacts(ld);
	confpolicy_load(ld, val[T_POLICY]);
	confpolicy_audit(ld, val[T_AUDIT]);
	if (val[T_TEMPLATES] != NULL)
		confchan_templates(ld, val[T_TEMPLATES], "", &ld->cf->templates);
	confsms_load(ld, val[T_SMS]);
	confsms_links(ld, val[T_LINKS]);
	confsms_finish(ld, &root->start_mark);
	confmetrics_load(ld, val[T_METRICS]);
	conflimits_load(ld, val[T_LIMITS]);
	conflimits_tls(ld, val[T_TLS]);
	confconsole_load(ld, val[T_CONSOLE]);
	confwreport_load(ld, val[T_ORGANIZATION], val[T_PROVINCE], val[T_POLICY]);
	confcal_load(ld, val[T_CALENDAR]);
	confdirect_load(ld, val[T_DIRECTIVES]);
	confstore_load(ld, val[T_STORE]);
}

struct config *
confload(const char *path, struct config_diag *diag)
{
	struct loader ld;
	yaml_node_t *root;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	if ((ld.cf = config_new(path)) == NULL) {
		ld.oom = 1;
		goto done;
	}
	ld.cf->roster_release = roster_free;
	if ((root = confyaml_load(&ld)) == NULL)
		goto done;
	load_root(&ld, root);
	if (ld.nlines == ld.nwarnings && !ld.oom && config_index_tokens(ld.cf) != 0)
		ld.oom = 1;
done:
	free(ld.office_aux);
	free(ld.person_aux);
	if (confyaml_finish(&ld, diag) < 0) {
		if (ld.cf != NULL)
			config_free(ld.cf);
		return NULL;
	}
	return ld.cf;
}

