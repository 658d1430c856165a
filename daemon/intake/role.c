/*
 * role.c: this instance's role on a PostgreSQL store (see role.h).  Plain
 * values main sets from the store layer's hooks; the pages read them and
 * never ask the store layer themselves, so that they stay testable and a
 * file-log dutyd shows nothing of it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "actions/supervise.h"
#include "intake/http.h"
#include "intake/role.h"

static struct {
	int	 set;		/* role_set() with a role: a PostgreSQL store */
	char	 role[16];
	char	 instance[ROLE_NAME_MAX + 1];
	char	 leader[ROLE_NAME_MAX + 1];
	int64_t	 seq;
} rl;

/*
 * The leader's name comes from the database's dutyd_leader row: only the
 * characters an instance may have pass (as in http.c's 503), so /healthz
 * stays valid JSON whatever the row holds.
 */
static void
role_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < len; i++)
		dst[i] = isalnum((unsigned char)src[i]) ||
		    strchr("._-", src[i]) != NULL ? src[i] : '?';
	dst[i] = '\0';
}

void
role_set(const char *role, const char *instance, const char *leader)
{
	if (role == NULL) {
		memset(&rl, 0, sizeof(rl));
		http_set_standby(0);
		http_set_leader_name(NULL);
		supervise_role(NULL, NULL);
		return;
	}
	rl.set = 1;
	role_copy(rl.role, sizeof(rl.role), role);
	role_copy(rl.instance, sizeof(rl.instance), instance);
	role_copy(rl.leader, sizeof(rl.leader), leader);
	/* The gate first: from here on a former leader answers no 2xx. */
	http_set_standby(!role_is_leader());
	http_set_leader_name(rl.leader);
	supervise_role(rl.role, NULL);
}

void
role_set_seq(int64_t seq)
{
	rl.seq = seq;
}

void
role_status(const char *sentence)
{
	if (rl.set)
		supervise_role(rl.role, sentence != NULL ? sentence : "");
}

const char *
role_name(void)
{
	return rl.set ? rl.role : NULL;
}

int
role_is_leader(void)
{
	return rl.set && strcmp(rl.role, "leader") == 0;
}

const char *
role_instance(void)
{
	return rl.instance;
}

const char *
role_leader(void)
{
	return rl.leader;
}

int64_t
role_seq(void)
{
	return rl.seq;
}
