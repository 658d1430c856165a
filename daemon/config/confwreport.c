/*
 * confwreport.c: the written report's keys (see confwreport.h).
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/config.h"
#include "config/confwreport.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
/* `organization` and `province.name` head a government document: a line each. */
#define CONFWREPORT_NAME_MAX		100
#define CONFWREPORT_CONTACTS_MAX	16
#define CONFWREPORT_APPROVERS_MAX	32

static const char *const confwreport_levels[][3] = {
	{ "I", "Ⅰ", "1" }, { "II", "Ⅱ", "2" }, { "III", "Ⅲ", "3" },
	{ "IV", "Ⅳ", "4" },
};

/* 1..4 for a level as written (I..IV, Ⅰ..Ⅳ, 1..4), else 0. */
static int
confwreport_level(const char *s)
{
	size_t i, j;

	for (i = 0; s != NULL && i < 4; i++)
		for (j = 0; j < 3; j++)
			if (strcmp(s, confwreport_levels[i][j]) == 0)
				return (int)i + 1;
	return 0;
}

int
confwreport_needs_approval(const struct config *cf, const char *level)
{
	int l = confwreport_level(level);

	/* A level nobody gave could be the worst: it is approved first. */
	if (l == 0)
		return 1;
	return (cf->policy.approval_levels & (1u << l)) != 0;
}

static char *
confwreport_name(struct loader *ld, yaml_node_t *n, const char *key)
{
	const char *s, *c;

	if ((s = confyaml_scalar(ld, n, key, "")) == NULL)
		return NULL;
	for (c = s; *c != '\0' && (unsigned char)*c >= ' ' && *c != 0x7f; c++)
		;
	if (s[0] == '\0' || *c != '\0' || strlen(s) > CONFWREPORT_NAME_MAX * 4) {
		confyaml_errat(ld, &n->start_mark, "'%s' must be a name of 1 to "
		    "%d characters on one line, e.g. \"某市人民政府总值班室\"",
		    key, CONFWREPORT_NAME_MAX);
		return NULL;
	}
	return confyaml_sdup(ld, s);
}

static const struct field contact_fields[] = {
	{ "channel", 1 }, { "to", 1 },
};

static void
confwreport_contacts(struct loader *ld, yaml_node_t *n)
{
	struct config		*cf = ld->cf;
	yaml_node_item_t	*it;
	yaml_node_t		*val[NFIELDS(contact_fields)];
	char			 known[CONFYAML_LIST_MAX] = "";
	const char		*s;
	size_t			 count, i, j;

	if ((it = confyaml_items(ld, n, "contacts", " in province",
	    CONFWREPORT_CONTACTS_MAX, &count)) == NULL)
		return;
	if ((cf->province.contacts = confyaml_zalloc(ld, count,
	    sizeof(*cf->province.contacts))) == NULL)
		return;
	cf->province.ncontacts = count;
	for (j = 0; j < ld->cf->nchannels; j++)
		confyaml_list_add(known, sizeof(known), ld->cf->channels[j].name);
	for (i = 0; i < count; i++) {
		if (confyaml_fields(ld, confyaml_node(ld, it[i]),
		    "each contact of province", " in province contact",
		    contact_fields, NFIELDS(contact_fields), val) == -1)
			continue;
		if (val[1] != NULL && (s = confyaml_scalar(ld, val[1], "to",
		    " in province contact")) != NULL)
			cf->province.contacts[i].to = confyaml_sdup(ld, s);
		if (val[0] == NULL || (s = confyaml_scalar(ld, val[0], "channel",
		    " in province contact")) == NULL)
			continue;
		if (config_channel(ld->cf, s) != NULL || ld->channels_bad)
			cf->province.contacts[i].channel = confyaml_sdup(ld, s);
		else
			confyaml_errat(ld, &val[0]->start_mark, "unknown channel "
			    "'%s' in province contact; channels are: %s", s,
			    known[0] != '\0' ? known : "(none: add them under "
			    "'channels')");
	}
}

static const struct field province_fields[] = {
	{ "name", 0 }, { "contacts", 0 },
};

static void
confwreport_province(struct loader *ld, yaml_node_t *n)
{
	yaml_node_t *val[NFIELDS(province_fields)];

	if (confyaml_fields(ld, n, "'province'", " in province",
	    province_fields, NFIELDS(province_fields), val) == -1)
		return;
	if (val[0] != NULL)
		ld->cf->province.name = confwreport_name(ld, val[0],
		    "name");
	if (val[1] != NULL)
		confwreport_contacts(ld, val[1]);
}

/* The value of KEY in the mapping N, or NULL. */
static yaml_node_t *
confwreport_get(struct loader *ld, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = confyaml_node(ld, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0)
			return confyaml_node(ld, p->value);
	}
	return NULL;
}

static void
confwreport_levels_load(struct loader *ld, yaml_node_t *n)
{
	yaml_node_item_t	*it;
	yaml_node_t		*v;
	const char		*s;
	size_t			 count, i;
	int			 l;

	ld->cf->policy.approval_levels = 0;
	/* [] is allowed: no level needs approval. */
	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return;
	if ((it = confyaml_items(ld, n, "approval_levels", " in policy", 4,
	    &count)) == NULL)
		return;
	for (i = 0; i < count; i++) {
		v = confyaml_node(ld, it[i]);
		if ((s = confyaml_scalar(ld, v, "approval_levels", " in policy")) ==
		    NULL)
			continue;
		if ((l = confwreport_level(s)) == 0)
			confyaml_errat(ld, &v->start_mark, "'approval_levels' in "
			    "policy lists levels I, II, III or IV (e.g. [I, II]; [] "
			    "for none), not '%s'", s);
		else
			ld->cf->policy.approval_levels |= 1u << l;
	}
}

static void
confwreport_approvers(struct loader *ld, yaml_node_t *n)
{
	struct config		*cf = ld->cf;
	yaml_node_item_t	*it;
	yaml_node_t		*v;
	const char		*s;
	size_t			 count, i;

	if ((it = confyaml_items(ld, n, "approvers", " in policy",
	    CONFWREPORT_APPROVERS_MAX, &count)) == NULL)
		return;
	if (count == 0) {
		confyaml_errat(ld, &n->start_mark, "'approvers' in policy is "
		    "empty: nobody could approve a report; write e.g. [leader]");
		return;
	}
	if ((cf->policy.approvers = confyaml_zalloc(ld, count,
	    sizeof(*cf->policy.approvers))) == NULL)
		return;
	cf->policy.napprovers = count;
	for (i = 0; i < count; i++) {
		v = confyaml_node(ld, it[i]);
		if ((s = confyaml_scalar(ld, v, "approvers", " in policy")) == NULL)
			continue;
		if (strcmp(s, "leader") != 0 && strcmp(s, "officers") != 0 &&
		    config_person(ld->cf, s) == NULL) {
			confyaml_errat(ld, &v->start_mark, "'approvers' in policy "
			    "names '%s', which is neither a role (leader, officers) "
			    "nor a person id under 'people'", s);
			continue;
		}
		cf->policy.approvers[i] = confyaml_sdup(ld, s);
	}
}

void
confwreport_load(struct loader *ld, yaml_node_t *org, yaml_node_t *province,
    yaml_node_t *policy)
{
	struct config		*cf = ld->cf;
	yaml_node_t		*v;

	cf->policy.approval_levels = CONFWREPORT_LEVELS_DEFAULT;
	if (org != NULL)
		cf->organization = confwreport_name(ld, org, "organization");
	if (province != NULL)
		confwreport_province(ld, province);
	if ((v = confwreport_get(ld, policy, "approval_levels")) != NULL)
		confwreport_levels_load(ld, v);
	if ((v = confwreport_get(ld, policy, "approvers")) != NULL)
		confwreport_approvers(ld, v);
	else if ((cf->policy.approvers = confyaml_zalloc(ld, 1,
	    sizeof(*cf->policy.approvers))) != NULL &&
	    (cf->policy.approvers[0] = confyaml_sdup(ld, "leader")) != NULL)
		cf->policy.napprovers = 1;
}
