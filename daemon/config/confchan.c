/*
 * confchan.c: the options of a channel that the daemon keeps for itself
 * (timeouts, rate limit, bundling, SMS length) and message templates.
 * Every other key of a channel goes to its plugin.  Part of the
 * configuration schema; config.c calls in here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml.h>

#include "config/channel.h"
#include "config/confchan.h"
#include "config/config.h"
#include "config/confyaml.h"
#include "config/template.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#define TIMEOUT_DEFAULT_MS	(15 * 1000)
#define TIMEOUT_MIN_MS		(1000)
#define TIMEOUT_MAX_MS		(5 * 60 * 1000)
#define CONNECT_DEFAULT_MS	(5 * 1000)
#define CONNECT_MIN_MS		(100)
#define BUNDLE_DEFAULT		5
#define BUNDLE_MAX		100
#define SEGMENTS_DEFAULT	3
#define SEGMENTS_MAX		10
#define RATE_COUNT_MAX		10000
#define TEMPLATES_MAX		64
#define RATE_UNSET		(-1)

void
confchan_defaults(struct config_channel *c)
{
	c->timeout_ms = TIMEOUT_DEFAULT_MS;
	c->connect_timeout_ms = CONNECT_DEFAULT_MS;
	c->rate_count = RATE_UNSET;
	c->rate_period_ms = 0;
	c->bundle_after = BUNDLE_DEFAULT;
	c->max_segments = SEGMENTS_DEFAULT;
}

/* "20/min", "2/5s", "100/1h", "none". */
int
confchan_rate(const char *s, int64_t *count, int64_t *period, const char **why)
{
	char *end;
	long long n;

	if (strcmp(s, "none") == 0 || strcmp(s, "0") == 0) {
		*count = 0;
		*period = 0;
		return 0;
	}
	n = strtoll(s, &end, 10);
	if (end == s || *end != '/' || n < 1 || n > RATE_COUNT_MAX) {
		*why = "write COUNT/PERIOD such as 20/min or 2/5s (COUNT from 1 "
		    "to 10000), or none";
		return -EINVAL;
	}
	end++;
	if (strcmp(end, "s") == 0 || strcmp(end, "sec") == 0)
		*period = 1000;
	else if (strcmp(end, "min") == 0 || strcmp(end, "m") == 0)
		*period = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		*period = 60 * 60 * 1000;
	else if (duration_parse(end, period, why) != 0 || *period < 1) {
		*why = "the period after / must be s, min, h or a duration such "
		    "as 5s or 10m (20/min, 2/5s)";
		return -EINVAL;
	}
	*count = n;
	return 0;
}

static int
int_option(struct loader *ld, yaml_node_t *v, const char *key,
    const char *ctx, int min, int max, int *out)
{
	const char *s;
	char *end;
	long n;

	if ((s = confyaml_scalar(ld, v, key, ctx)) == NULL)
		return -1;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < min || n > max) {
		confyaml_errat(ld, &v->start_mark, "'%s'%s must be a whole "
		    "number from %d to %d, not '%s'", key, ctx, min, max, s);
		return -1;
	}
	*out = (int)n;
	return 1;
}

/*
 * `ca_file:` a PEM file of CA certificates that this channel's https and
 * smtps peers are verified against instead of the system's (a private CA):
 * it must hold one at least, now, not at the first delivery at night.
 */
static int
confchan_ca_file(struct loader *ld, struct config_channel *c, yaml_node_t *v,
    const char *ctx)
{
	const char	*s;
	FILE		*fp;
	X509		*x;

	if ((s = confyaml_scalar(ld, v, "ca_file", ctx)) == NULL)
		return -1;
	if ((fp = fopen(s, "r")) == NULL) {
		confyaml_errat(ld, &v->start_mark, "cannot read ca_file '%s'%s: "
		    "%s", s, ctx, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	ERR_clear_error();
	if (x == NULL) {
		confyaml_errat(ld, &v->start_mark, "ca_file '%s'%s holds no PEM "
		    "certificate (-----BEGIN CERTIFICATE-----)", s, ctx);
		return -1;
	}
	X509_free(x);
	free(c->ca_file);
	c->ca_file = confyaml_sdup(ld, s);
	return 1;
}

int
confchan_option(struct loader *ld, struct config_channel *c, const char *key,
    yaml_node_t *v, const char *ctx)
{
	const char *s, *why = NULL;

	if (strcmp(key, "ca_file") == 0)
		return confchan_ca_file(ld, c, v, ctx);
	if (strcmp(key, "timeout") == 0 || strcmp(key, "connect_timeout") == 0) {
		int64_t *ms = key[0] == 't' ? &c->timeout_ms :
		    &c->connect_timeout_ms;
		int64_t min = key[0] == 't' ? TIMEOUT_MIN_MS : CONNECT_MIN_MS;

		if (confyaml_duration(ld, v, key, ctx, ms) == -1)
			return -1;
		if (*ms < min || *ms > TIMEOUT_MAX_MS) {
			confyaml_errat(ld, &v->start_mark, "'%s'%s must be "
			    "from %s to 5m", key, ctx, key[0] == 't' ? "1s" :
			    "100ms");
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "rate_limit") == 0) {
		if ((s = confyaml_scalar(ld, v, key, ctx)) == NULL)
			return -1;
		if (confchan_rate(s, &c->rate_count, &c->rate_period_ms,
		    &why) != 0) {
			confyaml_errat(ld, &v->start_mark, "invalid "
			    "'rate_limit'%s '%s': %s", ctx, s, why);
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "bundle_after") == 0)
		return int_option(ld, v, key, ctx, 2, BUNDLE_MAX,
		    &c->bundle_after);
	if (strcmp(key, "max_segments") == 0)
		return int_option(ld, v, key, ctx, 1, SEGMENTS_MAX,
		    &c->max_segments);
	if (strcmp(key, "templates") == 0) {
		confchan_templates(ld, v, ctx, &c->templates);
		return 1;
	}
	return 0;
}

void
confchan_finish(struct config_channel *c)
{
	const struct dutyd_plugin *abi;

	if (c->rate_count != RATE_UNSET)
		return;
	c->rate_count = 0;
	if (c->plugin == NULL)
		return;
	abi = channel_plugin_abi(c->plugin);
	if (abi->rate_per_min > 0) {
		/* The vendor's documented limit: exceeding it only gets us throttled. */
		c->rate_count = abi->rate_per_min;
		c->rate_period_ms = 60 * 1000;
	}
}

static int
template_key_known(const char *key)
{
	char base[64];
	size_t n = strlen(key);

	if (tmpl_default(key) != NULL)
		return 1;
	if (n > 6 && n < sizeof(base) && strcmp(key + n - 6, ".title") == 0) {
		memcpy(base, key, n - 6);
		base[n - 6] = '\0';
		return tmpl_default_title(base) != NULL;
	}
	return 0;
}

static const char *const template_events[] = {
	"incident.new", "incident.escalated", "incident.report_overdue",
	"incident.acknowledged", "incident.report_filed", "incident.resolved",
	"incident.updated", "duty.handover", "dutyd.bundle", "sms.reply",
};

void
confchan_templates(struct loader *ld, yaml_node_t *n, const char *ctx,
    struct config_templates *out)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v, *dup;
	const char *key, *src;
	char err[512], known[CONFYAML_LIST_MAX];
	struct tmpl *t;
	size_t count, off, i;
	int rc;

	if (n->type != YAML_MAPPING_NODE) {
		confyaml_errat(ld, &n->start_mark, "expected a mapping for "
		    "'templates'%s (event: template), got %s", ctx,
		    confyaml_kind(n));
		return;
	}
	count = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
	if (count > TEMPLATES_MAX) {
		confyaml_errat(ld, &n->start_mark, "too many templates%s "
		    "(%zu); at most %d", ctx, count, TEMPLATES_MAX);
		return;
	}
	if (count == 0 || (out->v = confyaml_zalloc(ld, count,
	    sizeof(*out->v))) == NULL)
		return;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = confyaml_node(ld, p->key);
		v = confyaml_node(ld, p->value);
		if ((key = confyaml_scalar(ld, k, "template name", ctx)) == NULL)
			continue;
		if ((dup = confyaml_earlier_key(ld, n, p)) != NULL) {
			confyaml_errat(ld, &k->start_mark, "duplicate template "
			    "'%s'%s (first at line %zu)", key, ctx,
			    dup->start_mark.line + 1);
			continue;
		}
		if (!template_key_known(key)) {
			known[0] = '\0';
			for (i = 0; i < sizeof(template_events) /
			    sizeof(template_events[0]); i++)
				confyaml_list_add(known, sizeof(known),
				    template_events[i]);
			confyaml_errat(ld, &k->start_mark, "unknown template "
			    "'%s'%s; known: %s (add .title for the one-line "
			    "title)", key, ctx, known);
			continue;
		}
		if ((src = confyaml_scalar(ld, v, key, ctx)) == NULL)
			continue;
		err[0] = '\0';
		off = 0;
		if ((rc = tmpl_compile(src, &t, &off, err, sizeof(err))) != 0) {
			err[sizeof(err) - 1] = '\0';
			off = utf8_count(src, off);	/* characters: what an editor shows */
			confyaml_errat(ld, &v->start_mark, "template '%s'%s, at "
			    "character %zu: %s", key, ctx, off + 1,
			    err[0] ? err : strerror(-rc));
			continue;
		}
		out->v[out->n].tmpl = t;
		if ((out->v[out->n].key = confyaml_sdup(ld, key)) == NULL) {
			tmpl_free(t);
			continue;
		}
		out->n++;
	}
}

