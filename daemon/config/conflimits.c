/*
 * conflimits.c: `limits:` and `tls:` (see conflimits.h).  The TLS
 * certificate and key are read and checked here, so that a reload with a
 * bad or mismatched pair is refused whole and the running listener keeps
 * the pair it has.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml.h>

#include "config/confchan.h"
#include "config/config.h"
#include "config/conflimits.h"
#include "config/confval.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))

#define CONNECTIONS_DEFAULT	1024
#define CONNECTIONS_MAX		1000000
#define PER_SOURCE_DEFAULT	64
#define HEADER_TIMEOUT_DEFAULT	(10 * 1000)
#define BODY_TIMEOUT_DEFAULT	(30 * 1000)
#define IDLE_TIMEOUT_DEFAULT	(60 * 1000)
#define TIMEOUT_MIN		(100)
#define TIMEOUT_MAX		(3600 * 1000)
#define AUTH_COUNT_DEFAULT	20
#define AUTH_PERIOD_DEFAULT	(60 * 1000)
#define PEM_MAX			(1024 * 1024)

static const struct field limits_fields[] = {
	{ "connections", 0 }, { "connections_per_source", 0 },
	{ "header_timeout", 0 }, { "body_timeout", 0 }, { "idle_timeout", 0 },
	{ "auth_failures", 0 },
};

static void
limits_int(struct loader *ld, yaml_node_t *n, const char *key, int min,
    int max, int *out)
{
	const char *s;
	char *end;
	long v;

	if ((s = confyaml_scalar(ld, n, key, " in limits")) == NULL)
		return;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		confyaml_errat(ld, &n->start_mark, "'%s' in limits must be a "
		    "whole number from %d to %d, not '%s'", key, min, max, s);
		return;
	}
	*out = (int)v;
}

static void
limits_timeout(struct loader *ld, yaml_node_t *n, const char *key,
    int64_t *ms)
{
	int64_t v;

	if (confyaml_duration(ld, n, key, " in limits", &v) == -1)
		return;
	if (v < TIMEOUT_MIN || v > TIMEOUT_MAX) {
		confyaml_errat(ld, &n->start_mark, "'%s' in limits must be "
		    "from 100ms to 1h", key);
		return;
	}
	*ms = v;
}

void
conflimits_load(struct loader *ld, yaml_node_t *n)
{
	struct config_limits *l = &ld->cf->limits;
	yaml_node_t *val[NFIELDS(limits_fields)];
	const char *s, *why = NULL;

	l->connections = CONNECTIONS_DEFAULT;
	l->connections_per_source = PER_SOURCE_DEFAULT;
	l->header_timeout_ms = HEADER_TIMEOUT_DEFAULT;
	l->body_timeout_ms = BODY_TIMEOUT_DEFAULT;
	l->idle_timeout_ms = IDLE_TIMEOUT_DEFAULT;
	l->auth_count = AUTH_COUNT_DEFAULT;
	l->auth_period_ms = AUTH_PERIOD_DEFAULT;
	if (n == NULL || confyaml_fields(ld, n, "'limits'", " in limits",
	    limits_fields, NFIELDS(limits_fields), val) == -1)
		return;
	if (val[0] != NULL)
		limits_int(ld, val[0], "connections", 1, CONNECTIONS_MAX,
		    &l->connections);
	if (val[1] != NULL)
		limits_int(ld, val[1], "connections_per_source", 1,
		    CONNECTIONS_MAX, &l->connections_per_source);
	if (val[2] != NULL)
		limits_timeout(ld, val[2], "header_timeout", &l->header_timeout_ms);
	if (val[3] != NULL)
		limits_timeout(ld, val[3], "body_timeout", &l->body_timeout_ms);
	if (val[4] != NULL)
		limits_timeout(ld, val[4], "idle_timeout", &l->idle_timeout_ms);
	if (val[5] != NULL && (s = confyaml_scalar(ld, val[5], "auth_failures",
	    " in limits")) != NULL) {
		if (confchan_rate(s, &l->auth_count, &l->auth_period_ms,
		    &why) != 0)
			confyaml_errat(ld, &val[5]->start_mark, "invalid "
			    "'auth_failures' in limits '%s': %s", s, why);
		else if (l->auth_count == 0)
			confyaml_errat(ld, &val[5]->start_mark, "'auth_failures' "
			    "in limits cannot be none: failed authentication "
			    "is always limited; write a rate such as 20/min");
	}
}

/* A file's bytes, NUL-terminated; NULL after reporting why not. */
static char *
tls_read(struct loader *ld, yaml_node_t *n, const char *what,
    const char *path, size_t *len)
{
	FILE	*fp;
	char	*buf;
	size_t	 got;

	if ((fp = fopen(path, "rb")) == NULL) {
		confyaml_errat(ld, &n->start_mark, "cannot read the TLS %s %s: "
		    "%s", what, path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(PEM_MAX + 1)) == NULL) {
		fclose(fp);
		ld->oom = 1;
		return NULL;
	}
	got = fread(buf, 1, PEM_MAX + 1, fp);
	fclose(fp);
	if (got > PEM_MAX || got == 0) {
		confyaml_errat(ld, &n->start_mark, "the TLS %s %s is %s; it "
		    "should be a PEM file", what, path, got == 0 ? "empty" :
		    "over 1 MiB");
		OPENSSL_cleanse(buf, got > PEM_MAX ? PEM_MAX : got);
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* The certificate (then its chain) and the key parse, and belong together. */
static void
tls_check(struct loader *ld, yaml_node_t *at, struct config_tls *t)
{
	BIO		*b = NULL;
	X509		*cert = NULL;
	EVP_PKEY	*key = NULL;
	const char	*why = NULL;

	if ((b = BIO_new_mem_buf(t->cert_pem, (int)t->cert_len)) == NULL ||
	    (cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		why = "the certificate file holds no PEM certificate "
		    "(-----BEGIN CERTIFICATE-----)";
	BIO_free(b);
	if (why == NULL && ((b = BIO_new_mem_buf(t->key_pem,
	    (int)t->key_len)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL))
		why = "the key file holds no PEM private key without a "
		    "passphrase (-----BEGIN PRIVATE KEY-----)";
	BIO_free(b);
	if (why == NULL && X509_check_private_key(cert, key) != 1)
		why = "the key does not belong to the certificate";
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	if (why != NULL)
		confyaml_errat(ld, &at->start_mark, "tls: %s (certificate %s, "
		    "key %s)", why, t->certificate, t->key);
}

static const struct field tls_fields[] = {
	{ "listen", 1 }, { "certificate", 1 }, { "key", 1 },
};

void
conflimits_tls(struct loader *ld, yaml_node_t *n)
{
	struct config_tls *t = &ld->cf->tls;
	yaml_node_t *val[NFIELDS(tls_fields)];
	const char *s, *host = NULL, *why;
	size_t hlen = 0;
	long port = 0;

	if (n == NULL || confyaml_fields(ld, n, "'tls'", " in tls", tls_fields,
	    NFIELDS(tls_fields), val) == -1)
		return;
	/* A missing key was reported already; its val is NULL. */
	if (val[0] != NULL &&
	    (s = confyaml_scalar(ld, val[0], "listen", " in tls")) != NULL) {
		/* Port 0: any free port, which the log names (tests use it). */
		char any[300];
		size_t len = strlen(s);

		if (len > 2 && len < sizeof(any) && strcmp(s + len - 2, ":0") == 0) {
			snprintf(any, sizeof(any), "%.*s:1", (int)(len - 2), s);
			why = confval_listen(any, &host, &hlen, &port);
			host = host != NULL ? s + (host - any) : NULL;
			port = 0;
		} else
			why = confval_listen(s, &host, &hlen, &port);
		if (why != NULL)
			confyaml_errat(ld, &val[0]->start_mark, "invalid listen "
			    "address '%s' in tls: %s", s, why);
		else {
			t->listen = confyaml_sdup(ld, s);
			if ((t->listen_host = strndup(host, hlen)) == NULL)
				ld->oom = 1;
			t->listen_port = (uint16_t)port;
		}
	}
	if (val[1] != NULL &&
	    (s = confyaml_scalar(ld, val[1], "certificate", " in tls")) != NULL)
		t->certificate = confyaml_sdup(ld, s);
	if (val[2] != NULL &&
	    (s = confyaml_scalar(ld, val[2], "key", " in tls")) != NULL)
		t->key = confyaml_sdup(ld, s);
	if (t->certificate == NULL || t->key == NULL)
		return;
	t->cert_pem = tls_read(ld, val[1], "certificate", t->certificate,
	    &t->cert_len);
	t->key_pem = tls_read(ld, val[2], "key", t->key, &t->key_len);
	if (t->cert_pem != NULL && t->key_pem != NULL)
		tls_check(ld, n, t);
}
