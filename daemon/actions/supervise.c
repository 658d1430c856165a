/*
 * The watchdog and the status line.  The ping is a clock on the loop, so a
 * loop that no longer turns (a write that never returns) stops it by
 * itself; what this file adds is the judgement of the parts that fail
 * while the loop still turns: records waiting for a sync that keeps
 * failing, and dutyd's own records (a deadline firing) that cannot be
 * written.  Restarting is what helps then: a fresh file descriptor after
 * an I/O error, a new start that reports the trouble at once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "actions/supervise.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "base/timeutil.h"
#include "state/incident.h"
#include "store/store.h"

static struct {
	struct clock	 ping;
	int64_t		 interval_ms;	/* half of WATCHDOG_USEC; 0: no watchdog */
	int64_t		 seq;		/* the store's last seq at the last STATUS */
	int		 health;
	int		 started;
	int		 withheld;	/* pings stopped: said once */
	char		 status[400];
	char		 trouble[200];
} sv;

/* Apart from sv: main may say the role before supervise_start() clears sv. */
static struct {
	int		 set;
	char		 role[16];
	char		 sentence[300];
} sv_role;

static int
supervise_serving(void)
{
	return !sv_role.set || strcmp(sv_role.role, "leader") == 0;
}

const char *
supervise_trouble(int64_t now, int64_t grace_ms)
{
	struct store_trouble t;

	if (!supervise_serving())
		return NULL;
	store_trouble(&t);
	if (t.unsynced_since != 0 && now - t.unsynced_since > grace_ms) {
		snprintf(sv.trouble, sizeof(sv.trouble), "records have waited "
		    "%.1f s for the audit log to sync (%s)",
		    (now - t.unsynced_since) / 1000.0, t.last_error != 0 ?
		    strerror(-t.last_error) : "no error yet");
		return sv.trouble;
	}
	if (t.own_failing_since != 0 && now - t.own_failing_since > grace_ms) {
		snprintf(sv.trouble, sizeof(sv.trouble), "deadlines and delivery "
		    "outcomes cannot be recorded for %.1f s (%s)",
		    (now - t.own_failing_since) / 1000.0, t.last_error != 0 ?
		    strerror(-t.last_error) : "unknown error");
		return sv.trouble;
	}
	return NULL;
}

static void
supervise_ping(struct clock *c, void *arg)
{
	int64_t		 now = time_now_ms();
	const char	*why;

	/* Two missed pings' worth of trouble: a slow disk is not a wedged one. */
	why = supervise_trouble(now, 2 * sv.interval_ms);
	if (why == NULL) {
		if (sv.withheld) {
			log_info("watchdog: healthy again, pinging systemd");
			sv.status[0] = '\0';	/* the next refresh says so */
		}
		sv.withheld = 0;
		sdnotify_watchdog();
	} else if (!sv.withheld) {
		sv.withheld = 1;
		log_errorx("watchdog: %s; no longer telling systemd that dutyd "
		    "is well, so it restarts dutyd (WatchdogSec=)", why);
		sdnotify_status("failing: %s", why);
	}
	clock_arm(&sv.ping, now + sv.interval_ms);
}

static void
supervise_compose(char *buf, size_t len)
{
	struct store_trouble	 t;
	char			 at[TIME_RFC3339_MAX];
	int			 health = store_health();
	int			 n;

	store_trouble(&t);
	if (health != 0)
		n = snprintf(buf, len, "%s%sdegraded: audit log not writable: "
		    "%s; ", sv_role.set ? sv_role.role : "",
		    sv_role.set ? ": " : "", strerror(-health));
	else
		n = snprintf(buf, len, "%s%srunning: ", sv_role.set ?
		    sv_role.role : "", sv_role.set ? ": " : "");
	if (n < 0 || (size_t)n >= len)
		return;
	n += snprintf(buf + n, len - n, "%zu open incidents, %zu overdue",
	    incident_count(INCIDENT_NOT_CLOSED), incident_count_overdue());
	if (t.last_error != 0 && health == 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "; last audit error %s: %s",
		    time_local(t.last_error_at, "%Y-%m-%d %H:%M:%S", at,
		    sizeof(at)), strerror(-t.last_error));
}

void
supervise_refresh(void)
{
	char status[sizeof(sv.status)];

	if (!sv.started || sv.withheld)
		return;
	if (!supervise_serving()) {
		snprintf(status, sizeof(status), "%s: %s", sv_role.role,
		    sv_role.sentence);
		if (strcmp(status, sv.status) == 0)
			return;
		memcpy(sv.status, status, sizeof(status));
		sdnotify_status("%s", sv.status);
		return;
	}
	/* Counting walks the incidents: only when a record may have changed them. */
	if (sv.status[0] != '\0' && store_last_seq() == sv.seq &&
	    store_health() == sv.health)
		return;
	sv.seq = store_last_seq();
	sv.health = store_health();
	supervise_compose(status, sizeof(status));
	if (strcmp(status, sv.status) == 0)
		return;
	memcpy(sv.status, status, sizeof(status));
	sdnotify_status("%s", sv.status);
}

/*
 * libpq's messages come in lines ("...refused\n\tIs the server running"):
 * a newline would end STATUS= and start another assignment.
 */
static void
supervise_one_line(char *dst, size_t len, const char *src)
{
	size_t	 i = 0;
	int	 space = 0;

	for (; *src != '\0' && i + 1 < len; src++) {
		if ((unsigned char)*src < 0x20 || *src == 0x7f) {
			space = i > 0;
			continue;
		}
		if (space && i + 2 < len)
			dst[i++] = ' ';
		space = 0;
		dst[i++] = *src;
	}
	dst[i] = '\0';
}

void
supervise_role(const char *role, const char *sentence)
{
	if (role == NULL) {
		memset(&sv_role, 0, sizeof(sv_role));
		sv.status[0] = '\0';
		supervise_refresh();
		return;
	}
	if (strcmp(sv_role.role, role) != 0)
		sv.status[0] = '\0';	/* recounted for the new role */
	sv_role.set = 1;
	snprintf(sv_role.role, sizeof(sv_role.role), "%s", role);
	if (sentence != NULL)
		supervise_one_line(sv_role.sentence, sizeof(sv_role.sentence),
		    sentence);
	supervise_refresh();
}

void
supervise_start(void)
{
	uint64_t usec = sdnotify_watchdog_usec();

	memset(&sv, 0, sizeof(sv));
	sv.started = 1;
	supervise_refresh();
	clock_init(&sv.ping, supervise_ping, NULL);
	if (usec == 0)
		return;
	sv.interval_ms = (int64_t)(usec / 2000);
	if (sv.interval_ms < 1)
		sv.interval_ms = 1;
	log_info("watchdog: telling systemd every %" PRId64 " ms that dutyd "
	    "is well (WatchdogSec=%" PRIu64 " ms)", sv.interval_ms, usec / 1000);
	/* The first one now: READY=1 has just gone out. */
	clock_arm(&sv.ping, time_now_ms());
}

void
supervise_stop(void)
{
	clock_free(&sv.ping);
	sv.started = 0;
}
