/*
 * confstore.c: the `store:` section (see confstore.h).
 *
 * The conninfo is parsed here, not when dutyd first connects: a typo in it
 * would otherwise show only as a standby that never finds the database,
 * and `dutyd -t` is where whoever edits the file looks.  Parsing needs no
 * server (PQconninfoParse does not connect).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "base/pqlib.h"
#include "config/config.h"
#include "config/confstore.h"
#include "config/confyaml.h"

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))
#define CTX		" in store.postgresql"

static const struct field store_fields[] = {
	{ "postgresql", 0 },
};

static const struct field pg_fields[] = {
	{ "conninfo", 1 }, { "instance", 0 }, { "lease", 0 },
};

int
confstore_instance_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");

	return n > 0 && n <= CONFSTORE_INSTANCE_MAX && s[n] == '\0';
}

/* libpq's own words, first line only: they end in a newline, some in two. */
static void
confstore_conninfo(struct loader *ld, yaml_node_t *n, struct config_pg *pg)
{
	PQconninfoOption	*opts;
	char			*why = NULL, err[512];
	const char		*s;
	size_t			 len;

	if (n->type == YAML_SCALAR_NODE && !confyaml_has_nul(n) &&
	    (confyaml_is_null(n) || n->data.scalar.length == 0 ||
	    strspn((const char *)n->data.scalar.value, " \t") ==
	    n->data.scalar.length)) {
		confyaml_errat(ld, &n->start_mark, "'conninfo'" CTX " is empty; "
		    "write libpq's connection string, e.g. \"host=db1,db2 "
		    "dbname=dutyd user=dutyd target_session_attrs=read-write\", "
		    "or a postgresql:// URI");
		return;
	}
	if ((s = confyaml_scalar(ld, n, "conninfo", CTX)) == NULL)
		return;
	/* The first use of libpq: a dutyd on the file log never loads it. */
	if (pqlib_load(err, sizeof(err)) != 0) {
		confyaml_errat(ld, &n->start_mark, "store.postgresql: %s", err);
		return;
	}
	if ((opts = PQconninfoParse(s, &why)) == NULL) {
		if (why == NULL) {
			ld->oom = 1;
			return;
		}
		len = strcspn(why, "\n");
		while (len > 0 && (why[len - 1] == ' ' || why[len - 1] == '.'))
			len--;
		confyaml_errat(ld, &n->start_mark, "'conninfo'" CTX " is not a "
		    "libpq connection string: %.*s; write keyword=value pairs "
		    "(\"host=db1 dbname=dutyd user=dutyd\") or a postgresql:// "
		    "URI", (int)len, why);
		PQfreemem(why);
		return;
	}
	PQconninfoFree(opts);
	pg->conninfo = confyaml_sdup(ld, s);
}

static void
confstore_instance(struct loader *ld, yaml_node_t *n, yaml_node_t *block,
    struct config_pg *pg)
{
	char		 host[HOST_NAME_MAX + 1];
	const char	*s;

	if (n != NULL) {
		if ((s = confyaml_scalar(ld, n, "instance", CTX)) == NULL)
			return;
		if (!confstore_instance_ok(s)) {
			confyaml_errat(ld, &n->start_mark, "invalid instance "
			    "'%s'" CTX ": use 1 to %d of the characters A-Z a-z "
			    "0-9 . _ -", s, CONFSTORE_INSTANCE_MAX);
			return;
		}
		pg->instance = confyaml_sdup(ld, s);
		return;
	}
	/* The others show this name: say so when the host's will not do. */
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!confstore_instance_ok(host)) {
		confyaml_errat(ld, &block->start_mark, "store.postgresql has no "
		    "'instance' and the host name '%s' cannot stand for it; set "
		    "instance: to this server's name (1 to %d of A-Z a-z 0-9 . _ "
		    "-), different on every server", host,
		    CONFSTORE_INSTANCE_MAX);
		return;
	}
	pg->instance = confyaml_sdup(ld, host);
}

static void
confstore_lease(struct loader *ld, yaml_node_t *n, struct config_pg *pg)
{
	int64_t ms;

	pg->lease_ms = CONFIG_PG_LEASE_DEFAULT;
	if (n == NULL || confyaml_duration(ld, n, "lease", CTX, &ms) != 0)
		return;
	if (ms < CONFIG_PG_LEASE_MIN || ms > CONFIG_PG_LEASE_MAX) {
		confyaml_errat(ld, &n->start_mark, "'lease'" CTX " must be from "
		    "1s to 60s (how soon a standby takes over a leader that "
		    "died; 5s when not given), not '%s'",
		    (const char *)n->data.scalar.value);
		return;
	}
	pg->lease_ms = ms;
}

void
confstore_load(struct loader *ld, yaml_node_t *n)
{
	yaml_node_t		*val[NFIELDS(store_fields)];
	yaml_node_t		*pv[NFIELDS(pg_fields)];
	struct config_pg	*pg;

	/* `store:` written with nothing after it: the default, as when absent. */
	if (n == NULL || (n->type == YAML_SCALAR_NODE && confyaml_is_null(n)))
		return;
	if (confyaml_fields(ld, n, "'store'", " in store", store_fields,
	    NFIELDS(store_fields), val) != 0 || val[0] == NULL)
		return;
	if (confyaml_fields(ld, val[0], "'store.postgresql' (conninfo:, "
	    "instance:, lease:)", CTX, pg_fields, NFIELDS(pg_fields), pv) != 0)
		return;
	if ((pg = confyaml_zalloc(ld, 1, sizeof(*pg))) == NULL)
		return;
	/* Kept even when incomplete: config_free() releases it with the rest. */
	ld->cf->postgresql = pg;
	if (pv[0] != NULL)
		confstore_conninfo(ld, pv[0], pg);
	confstore_instance(ld, pv[1], val[0], pg);
	confstore_lease(ld, pv[2], pg);
}

static int
confstore_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
confstore_same(const struct config *a, const struct config *b)
{
	const struct config_pg *p = a->postgresql, *q = b->postgresql;

	if (p == NULL || q == NULL)
		return p == q;
	return confstore_streq(p->conninfo, q->conninfo) &&
	    confstore_streq(p->instance, q->instance) &&
	    p->lease_ms == q->lease_ms;
}
