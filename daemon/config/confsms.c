/*
 * confsms.c: phones of offices and people, the `sms:` section (inbound
 * gateways) and `links:` (one-tap acknowledgement links).  A phone number
 * decides who an inbound SMS is from, so each belongs to exactly one office
 * or person.  Part of the configuration schema; config.c calls in here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/channel.h"
#include "config/config.h"
#include "config/confsms.h"
#include "config/confval.h"
#include "config/confyaml.h"
#include "parse/smsin.h"

#define PHONES_MAX		16	/* of one office or person */
#define ALLOW_MAX		64
#define LINK_TTL_DEFAULT	((int64_t)24 * 60 * 60 * 1000)
#define REPLY_COUNT_DEFAULT	5
#define REPLY_PERIOD_DEFAULT	(60 * 1000)
#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))

static int
add_phone(struct loader *ld, char ***list, size_t *n, size_t cap,
    const char *phone)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*list)[i], phone) == 0)
			return 0;	/* listed and also a contact: once */
	if (*list == NULL && (*list = confyaml_zalloc(ld, cap,
	    sizeof(char *))) == NULL)
		return -1;
	if (*n >= cap)
		return -1;
	if (((*list)[*n] = confyaml_sdup(ld, phone)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

void
confsms_phones(struct loader *ld, yaml_node_t *n, const char *who,
    char ***out, size_t *nout)
{
	yaml_node_item_t *it;
	yaml_node_t *e;
	const char *s;
	char ctx[128], phone[SMSIN_PHONE_MAX];
	size_t count, i;

	snprintf(ctx, sizeof(ctx), " of %s", who);
	if ((it = confyaml_items(ld, n, "phones", ctx, PHONES_MAX,
	    &count)) == NULL)
		return;
	for (i = 0; i < count; i++) {
		e = confyaml_node(ld, it[i]);
		if ((s = confyaml_scalar(ld, e, "phones", ctx)) == NULL)
			continue;
		if (smsin_phone_normalize(s, phone, sizeof(phone)) != 0) {
			confyaml_errat(ld, &e->start_mark, "invalid phone number "
			    "'%s'%s: write it with the country code, e.g. "
			    "+8613800138000", s, ctx);
			continue;
		}
		add_phone(ld, out, nout, PHONES_MAX * 2, phone);
	}
}

/* A shared secret: named by its own key in messages, long enough to guess at. */
static const char *
secret_value(struct loader *ld, yaml_node_t *n, const char *key,
    const char *ctx)
{
	const char *s;

	if ((s = confyaml_scalar(ld, n, key, ctx)) == NULL)
		return NULL;
	if (!confval_visible(s) || strlen(s) < CONFVAL_TOKEN_MIN) {
		confyaml_errat(ld, &n->start_mark, "'%s'%s must be at least %d "
		    "visible characters without spaces, as the gateway shows "
		    "it (or e.g. `openssl rand -hex 16` for a secret of yours)",
		    key, ctx, CONFVAL_TOKEN_MIN);
		return NULL;
	}
	return s;
}

static const struct field twilio_fields[] = { { "auth_token", 1 } };
static const struct field aliyun_fields[] = {
	{ "secret", 0 }, { "allow", 0 }, { "reply_channel", 0 },
};
static const struct field sms_fields[] = {
	{ "twilio", 0 }, { "aliyun", 0 }, { "reply_limit", 0 },
};

static void
load_aliyun(struct loader *ld, yaml_node_t *n)
{
	struct config_sms *sms = &ld->cf->sms;
	yaml_node_t *val[NFIELDS(aliyun_fields)], *e;
	yaml_node_item_t *it;
	const char *s;
	size_t count, i;

	if (confyaml_fields(ld, n, "'sms.aliyun'", " in sms.aliyun",
	    aliyun_fields, NFIELDS(aliyun_fields), val) == -1)
		return;
	sms->aliyun_on = 1;
	if (val[0] != NULL && (s = secret_value(ld, val[0], "secret",
	    " in sms.aliyun")) != NULL) {
		sms->aliyun_secret = confyaml_sdup(ld, s);
		ld->cf->other_secrets++;
	}
	if (val[1] != NULL && (it = confyaml_items(ld, val[1], "allow",
	    " in sms.aliyun", ALLOW_MAX, &count)) != NULL && count > 0 &&
	    (sms->aliyun_allow = confyaml_zalloc(ld, count,
	    sizeof(char *))) != NULL) {
		for (i = 0; i < count; i++) {
			e = confyaml_node(ld, it[i]);
			if ((s = confyaml_scalar(ld, e, "allow",
			    " in sms.aliyun")) != NULL &&
			    (sms->aliyun_allow[sms->naliyun_allow] =
			    confyaml_sdup(ld, s)) != NULL)
				sms->naliyun_allow++;
		}
	}
	if (sms->aliyun_secret == NULL && sms->naliyun_allow == 0)
		confyaml_errat(ld, &n->start_mark, "'sms.aliyun' needs 'secret' "
		    "(sent as ?secret= on the push URL) or 'allow' (the "
		    "gateway's source addresses): anyone could post fake "
		    "reports otherwise");
	if (val[2] != NULL && (s = confyaml_scalar(ld, val[2], "reply_channel",
	    " in sms.aliyun")) != NULL) {
		if (config_channel(ld->cf, s) == NULL)
			confyaml_errat(ld, &val[2]->start_mark, "unknown channel "
			    "'%s' in 'reply_channel' in sms.aliyun; name one of "
			    "channels", s);
		else
			sms->aliyun_reply_channel = confyaml_sdup(ld, s);
	}
}

void
confsms_load(struct loader *ld, yaml_node_t *n)
{
	struct config_sms *sms = &ld->cf->sms;
	yaml_node_t *val[NFIELDS(sms_fields)], *tw[1];
	const char *s;
	char *end;
	long count;

	sms->reply_count = REPLY_COUNT_DEFAULT;
	sms->reply_period_ms = REPLY_PERIOD_DEFAULT;
	if (n == NULL || confyaml_fields(ld, n, "'sms'", " in sms", sms_fields,
	    NFIELDS(sms_fields), val) == -1)
		return;
	if (val[0] != NULL && confyaml_fields(ld, val[0], "'sms.twilio'",
	    " in sms.twilio", twilio_fields, 1, tw) == 0 && tw[0] != NULL &&
	    (s = secret_value(ld, tw[0], "auth_token", " in sms.twilio")) != NULL) {
		sms->twilio_token = confyaml_sdup(ld, s);
		ld->cf->other_secrets++;
	}
	if (val[1] != NULL)
		load_aliyun(ld, val[1]);
	if (val[2] != NULL && (s = confyaml_scalar(ld, val[2], "reply_limit",
	    " in sms")) != NULL) {
		count = strtol(s, &end, 10);
		if (end == s || count < 1 || count > 1000 ||
		    strcmp(end, "/min") != 0)
			confyaml_errat(ld, &val[2]->start_mark, "invalid "
			    "'reply_limit' in sms '%s': write replies per minute "
			    "and phone, e.g. 5/min (1 to 1000)", s);
		else
			sms->reply_count = count;
	}
}

static const struct field links_fields[] = { { "ttl", 0 } };

void
confsms_links(struct loader *ld, yaml_node_t *n)
{
	struct config_links *l = &ld->cf->links;
	yaml_node_t *val[1];

	l->ttl_ms = LINK_TTL_DEFAULT;
	if (n == NULL || confyaml_fields(ld, n, "'links'", " in links",
	    links_fields, 1, val) == -1 || val[0] == NULL)
		return;
	if (confyaml_duration(ld, val[0], "ttl", " in links", &l->ttl_ms) == 0 &&
	    (l->ttl_ms < 60 * 1000 || l->ttl_ms > (int64_t)30 * 86400 * 1000))
		confyaml_errat(ld, &val[0]->start_mark, "'ttl' in links must be "
		    "from 1m to 30d");
}

/* A person's SMS contacts are their phones too: a reply comes from there. */
static void
contact_phones(struct loader *ld, struct config_person *p)
{
	const struct config_channel *ch;
	char phone[SMSIN_PHONE_MAX];
	size_t i;

	for (i = 0; i < p->ncontacts; i++) {
		ch = config_channel(ld->cf, p->contacts[i].channel);
		if (ch == NULL || ch->plugin == NULL ||
		    !(channel_plugin_abi(ch->plugin)->flags & DUTYD_PLUGIN_SMS))
			continue;
		if (smsin_phone_normalize(p->contacts[i].to, phone,
		    sizeof(phone)) == 0)
			add_phone(ld, &p->phones, &p->nphones, PHONES_MAX * 2,
			    phone);
	}
}

/* One owner per phone, or an inbound SMS would be ambiguous. */
void
confsms_finish(struct loader *ld, const yaml_mark_t *at)
{
	struct config *cf = ld->cf;
	const char *owner, *other;
	size_t i, j, k, l, n = cf->noffices + cf->npeople;

	for (i = 0; i < cf->npeople; i++)
		contact_phones(ld, &cf->people[i]);
	for (i = 0; i < n; i++) {
		char **pi = i < cf->noffices ? cf->offices[i].phones :
		    cf->people[i - cf->noffices].phones;
		size_t ni = i < cf->noffices ? cf->offices[i].nphones :
		    cf->people[i - cf->noffices].nphones;

		owner = i < cf->noffices ? cf->offices[i].id :
		    cf->people[i - cf->noffices].id;
		if (owner == NULL)	/* its invalid id is reported already */
			owner = "?";
		for (k = 0; k < ni; k++)
			for (j = i + 1; j < n; j++) {
				char **pj = j < cf->noffices ?
				    cf->offices[j].phones :
				    cf->people[j - cf->noffices].phones;
				size_t nj = j < cf->noffices ?
				    cf->offices[j].nphones :
				    cf->people[j - cf->noffices].nphones;

				other = j < cf->noffices ? cf->offices[j].id :
				    cf->people[j - cf->noffices].id;
				if (other == NULL)
					other = "?";
				for (l = 0; l < nj; l++)
					if (strcmp(pi[k], pj[l]) == 0)
						confyaml_errat(ld, at, "phone %s "
						    "belongs to both '%s' and '%s'; "
						    "an SMS from it must have one "
						    "sender", pi[k], owner, other);
			}
	}
}

