/*
 * sessauth.c: session cookies as credentials (see sessauth.h).
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config/config.h"
#include "intake/sessauth.h"
#include "parse/sesstoken.h"
#include "state/signout.h"
#include "store/store.h"

#define SESSAUTH_KEY_NAME	"session.key"
#define SESSAUTH_KEY_LEN	32

static unsigned char	sessauth_key[SESSAUTH_KEY_LEN];
static int		sessauth_have_key;

int
sessauth_init(char *err, size_t errlen)
{
	int rc;

	OPENSSL_cleanse(sessauth_key, sizeof(sessauth_key));
	sessauth_have_key = 0;
	if ((rc = store_secret(SESSAUTH_KEY_NAME, sessauth_key,
	    sizeof(sessauth_key), err, errlen)) != 0)
		return rc;
	sessauth_have_key = 1;
	return 0;
}

void
sessauth_shutdown(void)
{
	OPENSSL_cleanse(sessauth_key, sizeof(sessauth_key));
	sessauth_have_key = 0;
}

/* The first dutyd_session in "a=b; dutyd_session=v; c=d". */
int
sessauth_cookie(const char *h, char *buf, size_t len)
{
	const char	*p, *v;
	size_t		 n, name = strlen(SESSAUTH_COOKIE);

	for (p = h; p != NULL && *p != '\0'; p += n + (p[n] == ';')) {
		p += strspn(p, " \t");
		n = strcspn(p, ";");
		if (n <= name || strncmp(p, SESSAUTH_COOKIE, name) != 0 ||
		    p[name] != '=')
			continue;
		v = p + name + 1;
		n -= name + 1;
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= len)
			return -1;
		memcpy(buf, v, n);
		buf[n] = '\0';
		return 0;
	}
	return -1;
}

enum sessauth_result
sessauth_open(const struct config *cfg, const char *cookie, int64_t now_ms,
    struct sessauth *out)
{
	const unsigned char	*md = NULL;
	char			 hex[SESSTOKEN_ID_HEX];
	int			 rc;

	memset(out, 0, sizeof(*out));
	if (!sessauth_have_key)
		return SESSAUTH_FORGED;
	rc = sesstoken_open(sessauth_key, sizeof(sessauth_key), cookie, now_ms,
	    &out->t);
	if (rc == -ENOMEM)
		return SESSAUTH_NOMEM;
	if (rc == -ETIMEDOUT)
		return SESSAUTH_EXPIRED;
	if (rc != 0)
		return SESSAUTH_FORGED;
	sesstoken_id_hex(out->t.id, hex);
	if (signout_has(hex))
		return SESSAUTH_SIGNED_OUT;
	if (out->t.kind == 'P' &&
	    (out->person = config_person(cfg, out->t.subject)) != NULL)
		md = out->person->token_md;
	else if (out->t.kind == 'O' &&
	    (out->office = config_office(cfg, out->t.subject)) != NULL)
		md = out->office->token_md;
	/* A token rotated or removed ends the sessions opened with it. */
	if (md == NULL || CRYPTO_memcmp(md, out->t.digest,
	    SESSTOKEN_DIGEST_LEN) != 0) {
		out->person = NULL;
		out->office = NULL;
		return SESSAUTH_TOKEN_CHANGED;
	}
	return SESSAUTH_OK;
}

int
sessauth_csrf_ok(const unsigned char *id, const char *given)
{
	return sessauth_have_key && sesstoken_csrf_ok(sessauth_key,
	    sizeof(sessauth_key), id, given);
}

int
sessauth_csrf(const unsigned char *id, char *out)
{
	return sesstoken_csrf(sessauth_key, sizeof(sessauth_key), id, out);
}

int
sessauth_seal(struct sesstoken *t, char *cookie)
{
	if (!sessauth_have_key)
		return -EINVAL;
	if (RAND_bytes(t->id, sizeof(t->id)) != 1)
		return -EIO;
	return sesstoken_seal(sessauth_key, sizeof(sessauth_key), t, cookie);
}
