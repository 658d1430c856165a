/*
 * links.c: the key that signs one-tap links and the URL put into messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/timeutil.h"
#include "config/config.h"
#include "notify/links.h"
#include "parse/linktoken.h"
#include "store/store.h"

#define LINKS_KEY_LEN	32
#define LINKS_KEY_NAME	"links.key"

static unsigned char	links_key[LINKS_KEY_LEN];
static int		links_have_key;

int
links_init(char *err, size_t errlen)
{
	int rc;

	links_shutdown();
	if ((rc = store_secret(LINKS_KEY_NAME, links_key, sizeof(links_key),
	    err, errlen)) != 0)
		return rc;
	links_have_key = 1;
	return 0;
}

void
links_shutdown(void)
{
	OPENSSL_cleanse(links_key, sizeof(links_key));
	links_have_key = 0;
}

int
links_url(const struct config *cf, const char *incident, const char *person,
    char action, char **url)
{
	char	 token[LINKTOKEN_TOKEN_MAX + 1];
	int	 rc;

	*url = NULL;
	if (!links_have_key)
		return -ENOKEY;
	if ((rc = linktoken_make(links_key, sizeof(links_key), incident, person,
	    action, time_now_ms() + cf->links.ttl_ms, token,
	    sizeof(token))) != 0)
		return rc;
	if (asprintf(url, "%s/a/%s", cf->public_url, token) == -1) {
		*url = NULL;
		return -ENOMEM;
	}
	return 0;
}

int
links_verify(const char *token, int64_t now_ms, struct linktoken *out)
{
	if (!links_have_key)
		return -ENOKEY;
	return linktoken_verify(links_key, sizeof(links_key), token, now_ms, out);
}
