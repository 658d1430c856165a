/*
 * config.c: the configuration as a value.  Lookups by id, token and phone,
 * the templates in force, references, and the one in force.  Reading a
 * file into one is confload.c's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/tz.h"
#include "config/calendar.h"
#include "config/channel.h"
#include "config/config.h"
#include "config/template.h"

#define MD_LEN			CONFIG_TOKEN_MD	/* SHA-256 */

struct config_impl {
	struct config	 pub;		/* first: config_unref() casts back */
	unsigned char	(*office_md)[MD_LEN];	/* token digests, for lookups */
	unsigned char	(*person_md)[MD_LEN];
};

struct config *
config_new(const char *path)
{
	struct config_impl *ci;

	if ((ci = calloc(1, sizeof(*ci))) == NULL)
		return NULL;
	ci->pub.refs = 1;
	if ((ci->pub.path = strdup(path)) == NULL ||
	    (ci->pub.calendar = calendar_new()) == NULL) {
		free(ci->pub.path);
		free(ci);
		return NULL;
	}
	ci->pub.directives.default_due_ms = CONFIG_DIRECTIVE_DUE_DEFAULT;
	ci->pub.directives.remind_at_min = CONFIG_DIRECTIVE_REMIND_DEFAULT;
	return &ci->pub;
}

/*
 * SHA-256 fetched once and one context used again (the loop's thread only,
 * as every lookup is): EVP_Digest() fetched the algorithm and made a
 * context for each digest, twice the cost of hashing a token.
 */
static EVP_MD		*config_sha256;
static EVP_MD_CTX	*config_md_ctx;

static int
config_digest(const char *s, unsigned char *md)
{
	unsigned int len = 0;

	if (config_sha256 == NULL &&
	    (config_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return -1;
	if (config_md_ctx == NULL && (config_md_ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	return EVP_DigestInit_ex2(config_md_ctx, config_sha256, NULL) == 1 &&
	    EVP_DigestUpdate(config_md_ctx, s, strlen(s)) == 1 &&
	    EVP_DigestFinal_ex(config_md_ctx, md, &len) == 1 &&
	    len == MD_LEN ? 0 : -1;
}

int
config_token_digest(const char *token, unsigned char md[CONFIG_TOKEN_MD])
{
	return config_digest(token, md) == -1 ? -ENOMEM : 0;
}

/* Token lookups compare digests: constant time whatever the token's length. */
int
config_index_tokens(struct config *cf)
{
	struct config_impl	*ci = (struct config_impl *)cf;
	size_t			 i;

	if ((cf->noffices > 0 && (ci->office_md = calloc(cf->noffices,
	    MD_LEN)) == NULL) || (cf->npeople > 0 && (ci->person_md =
	    calloc(cf->npeople, MD_LEN)) == NULL))
		return -ENOMEM;
	/* The loader made them, from `token:` or `token_sha256:`. */
	for (i = 0; i < cf->noffices; i++)
		memcpy(ci->office_md[i], cf->offices[i].token_md, MD_LEN);
	for (i = 0; i < cf->npeople; i++)
		memcpy(ci->person_md[i], cf->people[i].token_md, MD_LEN);
	return 0;
}

void
config_diag_free(struct config_diag *diag)
{
	size_t i;

	if (diag == NULL)
		return;
	for (i = 0; i < diag->n; i++)
		free(diag->lines[i]);
	free(diag->lines);
	diag->lines = NULL;
	diag->n = 0;
}

void
config_templates_free(struct config_templates *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		tmpl_free(t->v[i].tmpl);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct tmpl *
config_template_find(const struct config_templates *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return t->v[i].tmpl;
	return NULL;
}

static void
config_free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
config_free(struct config *cf)
{
	struct config_impl *ci = (struct config_impl *)cf;
	const struct dutyd_plugin *abi;
	size_t i, j;

	free(cf->path);
	free(cf->listen);
	free(cf->listen_host);
	free(cf->state_dir);
	free(cf->plugin_dir);
	free(cf->public_url);
	free(cf->timezone);
	/* The written report's keys (confwreport.c). */
	free(cf->organization);
	free(cf->province.name);
	for (i = 0; i < cf->province.ncontacts; i++) {
		free(cf->province.contacts[i].channel);
		free(cf->province.contacts[i].to);
	}
	free(cf->province.contacts);
	config_free_list(cf->policy.approvers, cf->policy.napprovers);
	tz_unref(cf->tz);
	for (i = 0; i < cf->noffices; i++) {
		free(cf->offices[i].id);
		free(cf->offices[i].name);
		free(cf->offices[i].token);
		OPENSSL_cleanse(cf->offices[i].token_md, MD_LEN);
		config_free_list(cf->offices[i].phones, cf->offices[i].nphones);
		for (j = 0; j < cf->offices[i].ncontacts; j++) {
			free(cf->offices[i].contacts[j].channel);
			free(cf->offices[i].contacts[j].to);
		}
		free(cf->offices[i].contacts);
	}
	calendar_free(cf->calendar);
	if (cf->postgresql != NULL) {
		/* The conninfo may hold a password. */
		if (cf->postgresql->conninfo != NULL)
			OPENSSL_cleanse(cf->postgresql->conninfo,
			    strlen(cf->postgresql->conninfo));
		free(cf->postgresql->conninfo);
		free(cf->postgresql->instance);
		free(cf->postgresql);
	}
	free(cf->offices);
	for (i = 0; i < cf->npeople; i++) {
		free(cf->people[i].id);
		free(cf->people[i].name);
		free(cf->people[i].token);
		OPENSSL_cleanse(cf->people[i].token_md, MD_LEN);
		for (j = 0; j < cf->people[i].ncontacts; j++) {
			free(cf->people[i].contacts[j].channel);
			free(cf->people[i].contacts[j].to);
		}
		free(cf->people[i].contacts);
		config_free_list(cf->people[i].phones, cf->people[i].nphones);
	}
	free(cf->people);
	for (i = 0; i < cf->duty.nofficers; i++)
		free(cf->duty.officers[i]);
	for (i = 0; i < cf->duty.nescalation; i++)
		free(cf->duty.escalation[i]);
	free(cf->duty.officers);
	free(cf->duty.leader);
	free(cf->duty.escalation);
	for (i = 0; i < cf->policy.nlevels; i++)
		config_free_list(cf->policy.levels[i].notify, cf->policy.levels[i].nnotify);
	free(cf->policy.levels);
	/* roster.c reads the config: the loader that made the roster frees it. */
	if (cf->roster != NULL)
		cf->roster_release(cf->roster);
	free(cf->tls.listen);
	free(cf->tls.listen_host);
	free(cf->tls.certificate);
	free(cf->tls.key);
	free(cf->tls.cert_pem);
	if (cf->tls.key_pem != NULL)
		OPENSSL_cleanse(cf->tls.key_pem, cf->tls.key_len);
	free(cf->tls.key_pem);
	free(cf->sms.twilio_token);
	free(cf->sms.aliyun_secret);
	config_free_list(cf->sms.aliyun_allow, cf->sms.naliyun_allow);
	free(cf->sms.aliyun_reply_channel);
	for (i = 0; i < cf->nchannels; i++) {
		if (cf->channels[i].plugin != NULL) {
			abi = channel_plugin_abi(cf->channels[i].plugin);
			if (cf->channels[i].state != NULL)
				abi->release(cf->channels[i].state);
			channel_plugin_close(cf->channels[i].plugin);
		}
		free(cf->channels[i].name);
		free(cf->channels[i].plugin_name);
		free(cf->channels[i].ca_file);
		config_templates_free(&cf->channels[i].templates);
	}
	free(cf->channels);
	config_templates_free(&cf->templates);
	free(ci->office_md);
	free(ci->person_md);
	free(ci);
}

struct config *
config_ref(struct config *cf)
{
	cf->refs++;
	return cf;
}

void
config_unref(struct config *cf)
{
	if (cf == NULL || --cf->refs > 0)
		return;
	config_free(cf);
}

const struct tmpl *
config_template(const struct config *cf, const struct config_channel *ch,
    const char *key)
{
	const struct tmpl *t = NULL;

	if (ch != NULL)
		t = config_template_find(&ch->templates, key);
	return t != NULL ? t : config_template_find(&cf->templates, key);
}

static int
config_phone_in(char *const *v, size_t n, const char *phone)
{
	size_t i;

	for (i = 0; phone != NULL && i < n; i++)
		if (strcmp(v[i], phone) == 0)
			return 1;
	return 0;
}

const struct config_office *
config_office_by_phone(const struct config *cf, const char *phone)
{
	size_t i;

	for (i = 0; i < cf->noffices; i++)
		if (config_phone_in(cf->offices[i].phones, cf->offices[i].nphones, phone))
			return &cf->offices[i];
	return NULL;
}

const struct config_person *
config_person_by_phone(const struct config *cf, const char *phone)
{
	size_t i;

	for (i = 0; i < cf->npeople; i++)
		if (config_phone_in(cf->people[i].phones, cf->people[i].nphones, phone))
			return &cf->people[i];
	return NULL;
}

const struct config_office *
config_office(const struct config *cf, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < cf->noffices; i++)
		if (strcmp(cf->offices[i].id, id) == 0)
			return &cf->offices[i];
	return NULL;
}

const struct config_person *
config_person(const struct config *cf, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < cf->npeople; i++)
		if (strcmp(cf->people[i].id, id) == 0)
			return &cf->people[i];
	return NULL;
}

const struct config_channel *
config_channel(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < cf->nchannels; i++)
		if (strcmp(cf->channels[i].name, name) == 0)
			return &cf->channels[i];
	return NULL;
}

/*
 * Tokens are compared as SHA-256 digests so that neither the length nor the
 * position of the first differing byte shows in the timing, and every entry
 * is compared whether or not an earlier one matched.  WANT, a token's
 * digest, among the N in MD: its index, else N.
 */
static size_t
config_md_find(const unsigned char *want, unsigned char (*md)[MD_LEN],
    size_t n)
{
	size_t i, found = n;

	for (i = 0; md != NULL && i < n; i++)
		if (CRYPTO_memcmp(want, md[i], MD_LEN) == 0)
			found = i;
	return found;
}

static size_t
config_token_find(const char *token, unsigned char (*md)[MD_LEN], size_t n)
{
	unsigned char want[MD_LEN];
	size_t found;

	if (token == NULL || md == NULL || config_digest(token, want) == -1)
		return n;
	found = config_md_find(want, md, n);
	OPENSSL_cleanse(want, sizeof(want));
	return found;
}

void
config_by_token(const struct config *cf, const char *token,
    const struct config_office **office, const struct config_person **person)
{
	const struct config_impl *ci = (const struct config_impl *)cf;
	unsigned char	 want[MD_LEN];
	size_t		 i;

	*office = NULL;
	*person = NULL;
	if (token == NULL || config_digest(token, want) == -1)
		return;
	if ((i = config_md_find(want, ci->office_md, cf->noffices)) <
	    cf->noffices)
		*office = &cf->offices[i];
	if ((i = config_md_find(want, ci->person_md, cf->npeople)) < cf->npeople)
		*person = &cf->people[i];
	OPENSSL_cleanse(want, sizeof(want));
}

const struct config_office *
config_office_by_token(const struct config *cf, const char *token)
{
	const struct config_impl *ci = (const struct config_impl *)cf;
	size_t i = config_token_find(token, ci->office_md, cf->noffices);

	return i < cf->noffices ? &cf->offices[i] : NULL;
}

const struct config_person *
config_person_by_token(const struct config *cf, const char *token)
{
	const struct config_impl *ci = (const struct config_impl *)cf;
	size_t i = config_token_find(token, ci->person_md, cf->npeople);

	return i < cf->npeople ? &cf->people[i] : NULL;
}

/* The configuration in force; swapped whole by a reload. */
static struct config *config_in_force;

struct config *
config_current(void)
{
	return config_in_force;
}

void
config_install(struct config *cf)
{
	struct config *old = config_in_force;

	config_in_force = cf;
	config_unref(old);
}
