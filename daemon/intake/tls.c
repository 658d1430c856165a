/*
 * The HTTPS listener (see tls.h).  One SSL_CTX is in force; a reload
 * makes the next one from the new configuration's PEM text before the
 * configuration is installed, and connections already open keep theirs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/log.h"
#include "config/config.h"
#include "intake/conn.h"
#include "intake/tls.h"

static struct {
	SSL_CTX		*ctx;		/* in force */
	SSL_CTX		*next;		/* made by tls_prepare(), not yet in force */
} tl;

static void
tls_error(const char *what, char *why, size_t whylen)
{
	unsigned long	 e = ERR_get_error();
	char		 buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(why, whylen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* A context from the configuration's certificate (and chain) and key. */
static SSL_CTX *
tls_ctx(const struct config_tls *t, char *why, size_t whylen)
{
	SSL_CTX		*ctx;
	BIO		*b = NULL;
	X509		*x;
	EVP_PKEY	*key = NULL;
	int		 first = 1, ok = 0;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_error("cannot make a TLS context", why, whylen);
		return NULL;
	}
	/* TLS 1.2 at least: what government networks' baselines ask for. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if ((b = BIO_new_mem_buf(t->cert_pem, (int)t->cert_len)) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (first ? SSL_CTX_use_certificate(ctx, x) != 1 :
		    SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			goto fail;
		}
		if (first)
			X509_free(x);	/* use_certificate took its own reference */
		first = 0;
	}
	ERR_clear_error();	/* the end of the PEM text */
	BIO_free(b);
	if ((b = BIO_new_mem_buf(t->key_pem, (int)t->key_len)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	ok = 1;
fail:
	BIO_free(b);
	EVP_PKEY_free(key);
	if (!ok) {
		tls_error("cannot use the TLS certificate and key", why, whylen);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
tls_listen(struct event_base *base, const struct config *cfg, char *err,
    size_t errlen)
{
	char		why[512];
	uint16_t	port;

	if (cfg->tls.listen == NULL)
		return 0;
	if (tl.ctx == NULL && (tl.ctx = tls_ctx(&cfg->tls, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s (tls in %s)", why, cfg->path);
		return -1;
	}
	if (conn_bind(cfg->tls.listen_host, cfg->tls.listen_port, tls_bev, &port,
	    why, sizeof(why)) == NULL) {
		snprintf(err, errlen, "cannot listen on %s for HTTPS: %s; is "
		    "another program using that port? Change tls.listen in %s",
		    cfg->tls.listen, why, cfg->path);
		return -1;
	}
	log_info("listening on %s%s%s:%u (HTTPS, certificate %s)",
	    strchr(cfg->tls.listen_host, ':') ? "[" : "", cfg->tls.listen_host,
	    strchr(cfg->tls.listen_host, ':') ? "]" : "", (unsigned)port,
	    cfg->tls.certificate);
	return 0;
}

int
tls_prepare(const struct config *old, const struct config *cfg, char *why,
    size_t whylen)
{
	const char *a = old->tls.listen, *b = cfg->tls.listen;

	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0)) {
		snprintf(why, whylen, "tls.listen can only change with a restart");
		return -1;
	}
	SSL_CTX_free(tl.next);
	tl.next = NULL;
	if (b != NULL && (tl.next = tls_ctx(&cfg->tls, why, whylen)) == NULL)
		return -1;
	return 0;
}

void
tls_configure(const struct config *cfg)
{
	if (tl.next == NULL)
		return;		/* at start tls_listen() made it; no TLS */
	SSL_CTX_free(tl.ctx);	/* open connections hold their own reference */
	tl.ctx = tl.next;
	tl.next = NULL;
	log_info("TLS certificate %s and key %s in use for new connections",
	    cfg->tls.certificate, cfg->tls.key);
}

void
tls_shutdown(void)
{
	SSL_CTX_free(tl.ctx);
	SSL_CTX_free(tl.next);
	tl.ctx = tl.next = NULL;
}

struct bufferevent *
tls_bev(struct event_base *base, int fd)
{
	struct bufferevent	*bev;
	SSL			*ssl;

	if (tl.ctx == NULL || (ssl = SSL_new(tl.ctx)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client that closes without close_notify has still said all. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}
