/*
 * tz.c: time zones from the tz database, through GLib's GTimeZone (glibc has
 * no zone objects, only the process-wide TZ).  The only file that sees GLib.
 *
 * GLib keeps one GTimeZone per file while anyone holds it, so loading a
 * zone again (a reload) is cheap, and a tz database updated on disk is read
 * again only once nobody holds the zone (at the latest: a restart).
 *
 * Known differences from glibc (GLib 2.74, Debian 12's tzdata), none in the
 * years a duty roster is for: GLib expands a file's footer rule only up to
 * 2999 (no DST after that), and it misreads a footer rule with negative
 * DST (Europe/Dublin's "IST-1GMT0,..."), so Dublin is wrong from 2038,
 * where the file's explicit transitions end.  All 312 zones of
 * zone1970.tab agree with glibc from 1970 to 2100 apart from Dublin.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "base/tz.h"

#define TZ_DIR_DEFAULT	"/usr/share/zoneinfo"

struct tz {
	GTimeZone	*gtz;
	char		*name;
	atomic_int	 refs;
};

const char *
tz_dir(void)
{
	const char *d = getenv("TZDIR");

	return d != NULL && d[0] != '\0' ? d : TZ_DIR_DEFAULT;
}

/*
 * PATH must be a TZif file.  GLib would take anything else for a POSIX TZ
 * rule ("CST-8" is a zone to it) or complain on stderr about a file that
 * is not one; dutyd's zones are database names only.
 */
static int
tz_check_file(const char *path)
{
	char magic[4];
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOTDIR ? -ENOENT : -errno;
	n = read(fd, magic, sizeof(magic));
	if (n == -1)
		rc = errno == EISDIR ? -ENOENT : -errno;
	else if (n != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0)
		rc = -EINVAL;
	close(fd);
	return rc;
}

static int
tz_new(GTimeZone *gtz, const char *name, struct tz **out)
{
	struct tz *tz;

	if ((tz = calloc(1, sizeof(*tz))) == NULL ||
	    (tz->name = strdup(name)) == NULL) {
		free(tz);
		g_time_zone_unref(gtz);
		return -ENOMEM;
	}
	tz->gtz = gtz;
	atomic_init(&tz->refs, 1);
	*out = tz;
	return 0;
}

int
tz_load(const char *name, struct tz **out)
{
	GTimeZone *gtz;
	const char *id;
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if (name == NULL) {
		/* Reads TZ and /etc/localtime: only ever read, never set. */
		gtz = g_time_zone_new_local();
		id = g_time_zone_get_identifier(gtz);
		if (id[0] == ':')
			id++;
		return tz_new(gtz, id[0] != '\0' ? id : "localtime", out);
	}
	if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", tz_dir(), name) >=
	    sizeof(path))
		return -ENOENT;
	if ((rc = tz_check_file(path)) < 0)
		return rc;
	/* By path: the file checked is the file read, whatever GLib's TZDIR. */
	if ((gtz = g_time_zone_new_identifier(path)) == NULL)
		return -EINVAL;
	return tz_new(gtz, name, out);
}

struct tz *
tz_ref(struct tz *tz)
{
	atomic_fetch_add(&tz->refs, 1);
	return tz;
}

void
tz_unref(struct tz *tz)
{
	if (tz == NULL || atomic_fetch_sub(&tz->refs, 1) != 1)
		return;
	g_time_zone_unref(tz->gtz);
	free(tz->name);
	free(tz);
}

const char *
tz_name(const struct tz *tz)
{
	return tz->name;
}

/* Seconds, rounding down: 1969-12-31T23:59:59.500Z is in second -1. */
static gint64
tz_secs(int64_t ms)
{
	return ms / 1000 - (ms % 1000 < 0);
}

static gint
tz_interval(const struct tz *tz, gint64 secs)
{
	/* Universal time always falls in exactly one interval. */
	return g_time_zone_find_interval(tz->gtz, G_TIME_TYPE_UNIVERSAL, secs);
}

int64_t
tz_offset_ms(const struct tz *tz, int64_t ms)
{
	return (int64_t)g_time_zone_get_offset(tz->gtz,
	    tz_interval(tz, tz_secs(ms))) * 1000;
}

int
tz_tm(const struct tz *tz, int64_t ms, struct tm *tm)
{
	gint64 secs = tz_secs(ms);
	gint32 off;
	time_t local;
	gint i;

	i = tz_interval(tz, secs);
	off = g_time_zone_get_offset(tz->gtz, i);
	/* |secs| < 2^54 (ms / 1000) and |off| < a day: no overflow. */
	local = (time_t)(secs + off);
	if (gmtime_r(&local, tm) == NULL)
		return -ERANGE;
	tm->tm_gmtoff = off;
	tm->tm_isdst = g_time_zone_is_dst(tz->gtz, i) ? 1 : 0;
	tm->tm_zone = g_time_zone_get_abbreviation(tz->gtz, i);
	return 0;
}
