/*
 * dutyd: the duty-desk alert daemon.  Start-up order, signals as events,
 * the loop with its group commit at the end of every turn, orderly stop.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "actions/core.h"
#include "actions/desk.h"
#include "actions/dirremind.h"
#include "actions/supervise.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/reexec.h"
#include "base/sdnotify.h"
#include "base/timeutil.h"
#include "config/confcheck.h"
#include "config/confload.h"
#include "config/confstore.h"
#include "config/config.h"
#include "config/roster.h"
#include "intake/http.h"
#include "intake/role.h"
#include "intake/routes.h"
#include "intake/stream.h"
#include "notify/curlfetch.h"
#include "notify/delivery.h"
#include "notify/fetch.h"
#include "state/incview.h"
#include "store/filelog.h"
#include "store/pgha.h"
#include "store/pgtool.h"
#include "store/store.h"

/*
 * GnuTLS's own switch (GNUTLS_SKIP_GLOBAL_INIT in <gnutls/gnutls.h>,
 * written out: the header is not a build dependency): its constructor
 * asks this function, which the program may define, whether to
 * initialize at load.  dutyd never uses GnuTLS: Debian's libcurl brings
 * it in through libldap and librtmp, and curlfetch.c allows only http,
 * https, smtp and smtps, so neither is reached (both call
 * gnutls_global_init() themselves when they are).  Initializing it at
 * load read the PKCS#11 module configuration and built ASN.1 trees for
 * nothing: idle RSS 14.3 → 13.5 MiB, 116 KiB of it private.
 */
int	_gnutls_global_init_skip(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

static struct {
	struct event_base	*base;
	struct event		*sigterm, *sigint, *sighup;
	struct event		*kick;		/* turns the loop when a commit is owed */
	struct event		*tick;		/* once a second: housekeeping */
	int64_t			 next_prune;
	int			 accept_broken;	/* --accept-broken-chain */
	int			 quit;
	int			 draining;	/* stopping: answering what was accepted */
	int64_t			 drain_until;
	int			 health;	/* last store health seen */
	/*
	 * The state modules run (core_start() done): always with the file
	 * log; on a PostgreSQL store only once this instance took the lead.
	 */
	int			 leading;
	int			 pg;		/* a PostgreSQL store */
	int			 ready;		/* READY=1 sent */
	int			 stopping;	/* in stop(): a lost lead ends nothing more */
	struct event		*ready_timer;	/* ... at the latest */
} d;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: dutyd [-tv] [--accept-broken-chain] -c FILE\n"
	    "       dutyd --oncall [--days N] -c FILE\n"
	    "       dutyd --verify-audit FILE|STATE_DIR...\n"
	    "       dutyd --verify-audit postgresql://…|CONNINFO\n"
	    "       dutyd --init-store -c FILE\n"
	    "       dutyd --import-audit STATE_DIR -c FILE\n"
	    "       dutyd --hash-token < TOKEN_FILE\n"
	    "  -c FILE  configuration file (YAML)\n"
	    "  -t       check the configuration, print 'configuration OK' or every\n"
	    "           error as FILE:LINE:COLUMN: message, and exit\n"
	    "  -v       verbose (debug) logging\n"
	    "  -V       print the version and exit\n"
	    "  --oncall [--days N]\n"
	    "           print who is on duty over the coming N days (default 7,\n"
	    "           at most 366) from the roster in FILE, and exit\n"
	    "  --accept-broken-chain\n"
	    "           start even though the audit log's hash chain is broken\n"
	    "           (edited, removed or reordered records); the acceptance is\n"
	    "           recorded in the log and later starts go on past it\n"
	    "  --verify-audit FILE|STATE_DIR...\n"
	    "           check an audit log offline (segments in order, or a\n"
	    "           state_dir): prints the last good seq and the SHA-256 of\n"
	    "           the last line; exits 0 when intact, 1 when damaged\n"
	    "  --verify-audit postgresql://…|CONNINFO\n"
	    "           the same for the PostgreSQL store's table (a URI, or a\n"
	    "           libpq conninfo with '='); exits 2 when it cannot be read\n"
	    "  --init-store\n"
	    "           create the PostgreSQL store's schema for the database in\n"
	    "           store.postgresql.conninfo of FILE (once; a second run\n"
	    "           just checks it)\n"
	    "  --import-audit STATE_DIR\n"
	    "           verify the file log in STATE_DIR and copy it, chain\n"
	    "           intact, into FILE's empty PostgreSQL store\n"
	    "  --hash-token\n"
	    "           read a token from standard input and print its SHA-256\n"
	    "           for token_sha256: in the configuration\n");
	exit(status);
}

static void
libevent_log(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warnx("libevent: %s", msg);
		break;
	default:
		log_errorx("libevent: %s", msg);
		break;
	}
}

static void
print_diag(const struct config_diag *diag, int plain)
{
	size_t i;

	for (i = 0; i < diag->n; i++) {
		if (plain)
			fprintf(stderr, "%s\n", diag->lines[i]);
		else if (strstr(diag->lines[i], ": warning: ") != NULL)
			log_warnx("%s", diag->lines[i]);
		else
			log_errorx("%s", diag->lines[i]);
	}
}

static void
print_warning(const char *msg, void *arg)
{
	fprintf(stderr, "warning: %s\n", msg);
}

static void
log_warning(const char *msg, void *arg)
{
	log_warnx("%s", msg);
}

/*
 * Times are shown in the config's zone from now on.  Only a zone object is
 * swapped: TZ is never set, since other threads read the environment
 * (getaddrinfo() in libcurl's resolver, SMTP transfers).
 */
static void
apply_timezone(const struct config *cfg)
{
	time_set_zone(cfg->tz);
}

/*
 * An orderly stop: no new connections (under socket activation they wait
 * in systemd's socket for the next dutyd), the ones accepted answered,
 * then out.  A second signal, or DRAIN_MAX_MS, ends it at once.
 */
#define DRAIN_QUIET_MS	250
#define DRAIN_MAX_MS	5000

static void
on_stop(evutil_socket_t sig, short events, void *arg)
{
	const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";

	if (d.pg && !d.ready) {
		log_info("received %s before serving, stopping", name);
		d.quit = 1;
		event_base_loopbreak(d.base);
		return;
	}
	if (d.draining) {
		log_info("received %s again, stopping now", name);
		d.quit = 1;
		event_base_loopbreak(d.base);
		return;
	}
	log_info("received %s, stopping: answering the requests already "
	    "accepted", name);
	sdnotify_stopping();
	http_stop_accepting();
	d.draining = 1;
	d.drain_until = time_now_ms() + DRAIN_MAX_MS;
}

/*
 * A failed reload is a record too: the log shows when the file on disk
 * stopped being what runs.  At most a few of the errors go in.
 */
static void
reload_failed(const char *path, const char *reason,
    const struct config_diag *diag)
{
	json_t	*data, *errors;
	size_t	 i;
	int	 rc;

	if (!d.leading)
		return;		/* a standby writes no records: the log says it */
	data = json_pack("{s:s, s:s, s:[]}", "path", path, "reason", reason,
	    "errors");
	errors = json_object_get(data, "errors");
	for (i = 0; diag != NULL && i < diag->n && i < 20 && errors != NULL; i++)
		json_array_append_new(errors, json_string(diag->lines[i]));
	if ((rc = store_append("config.reload_failed", NULL, "dutyd", data,
	    NULL)) != 0)
		log_warnx("the failed reload could not be recorded in the audit "
		    "log: %s", strerror(-rc));
}

/* Reload is a transaction: a new config is installed only when valid. */
static void
on_reload(evutil_socket_t sig, short events, void *arg)
{
	struct config		*old = config_current(), *cfg;
	struct config_diag	 diag = { NULL, 0 };
	char			 err[512];
	json_t			*data;

	if (d.pg && !d.ready) {
		log_warnx("received SIGHUP before serving: send it again once "
		    "dutyd is ready");
		return;
	}
	sdnotify_reloading();
	log_info("received SIGHUP, reloading %s", old->path);
	cfg = confload(old->path, &diag);
	if (cfg == NULL) {
		print_diag(&diag, 0);
		log_errorx("reload failed: %s has errors (above); still running "
		    "with the previous configuration", old->path);
		reload_failed(old->path, "the file has errors", &diag);
	} else if (!confstore_same(old, cfg)) {
		log_errorx("reload refused: the store: section changed in %s, but "
		    "the store (and the leadership on it) cannot change while "
		    "dutyd runs; put it back, or restart dutyd. Still running "
		    "with the previous configuration", cfg->path);
		reload_failed(old->path, "store changed; it can only change with "
		    "a restart", NULL);
		config_unref(cfg);
	} else if (strcmp(cfg->state_dir, old->state_dir) != 0) {
		log_errorx("reload refused: state_dir changed from %s to %s in %s, "
		    "but the audit log cannot move while dutyd runs; put "
		    "state_dir back, or stop dutyd, move the directory and start "
		    "it again. Still running with the previous configuration",
		    old->state_dir, cfg->state_dir, cfg->path);
		reload_failed(old->path, "state_dir changed; it can only change "
		    "with a restart", NULL);
		config_unref(cfg);
	} else if (http_can_reload(old, cfg, err, sizeof(err)) != 0) {
		/* Before relisten: a refusal must leave the old listeners. */
		log_errorx("reload refused: %s; still running with the previous "
		    "configuration", err);
		reload_failed(old->path, err, NULL);
		config_unref(cfg);
	} else if (http_relisten(cfg, old, err, sizeof(err)) != 0) {
		log_errorx("reload failed: %s; still running with the previous "
		    "configuration", err);
		reload_failed(old->path, err, NULL);
		config_unref(cfg);
	} else {
		print_diag(&diag, 0);	/* warnings */
		data = json_pack("{s:s}", "path", cfg->path);
		if (!d.leading)
			json_decref(data);	/* a standby writes no records */
		else if (store_append("config.reloaded", NULL, "dutyd", data,
		    NULL) != 0)
			log_warnx("the reload could not be recorded in the audit log");
		config_install(cfg);
		http_reconfigure(cfg);
		apply_timezone(cfg);
		store_configure(cfg->audit.segment_size, cfg->audit.reserve);
		if (d.leading) {
			incview_flush();
			delivery_reconfigured();
			/* Running clocks keep their records' deadlines; who is called next changes. */
			desk_arm();
			/* A directive's reminders follow remind_at and the calendar in force. */
			dirremind_arm_all();
		}
		log_info("configuration reloaded");
	}
	config_diag_free(&diag);
	sdnotify_ready();
}

static void
on_kick(evutil_socket_t fd, short events, void *arg)
{
	/* Nothing: the loop turn itself ends with store_commit(). */
}

static void
on_tick(evutil_socket_t fd, short events, void *arg)
{
	if (!d.leading) {
		supervise_refresh();
		return;
	}
	store_tick();
	supervise_refresh();
	if (time_now_ms() >= d.next_prune) {
		core_prune();
		d.next_prune = time_now_ms() + 3600 * 1000;
	}
}

static void
watch_health(void)
{
	int health = store_health();

	if (health == d.health)
		return;
	if (health != 0 && d.pg) {
		log_errorx("cannot commit to the PostgreSQL store: %s; reports and "
		    "staff actions get 503 until it can (check the database "
		    "server, its disk and the network to it); dutyd keeps "
		    "running and retries", strerror(-health));
	} else if (health != 0) {
		log_errorx("the audit log cannot be written: %s; reports and staff "
		    "actions get 503 until it can (free space in %s or check the "
		    "disk); dutyd keeps running and retries", strerror(-health),
		    config_current()->state_dir);
	} else
		log_info("the %s is writable again; accepting reports",
		    d.pg ? "PostgreSQL store" : "audit log");
	d.health = health;
	supervise_refresh();
}

static struct event *
signal_event(int sig, event_callback_fn fn)
{
	struct event *ev = evsignal_new(d.base, sig, fn, NULL);

	if (ev == NULL || event_add(ev, NULL) == -1)
		fatalx("cannot watch signal %d", sig);
	return ev;
}

/* The loop and what every role needs before it serves. */
static void
start_loop(struct config *cfg)
{
	int rc;

	apply_timezone(cfg);
	event_set_log_callback(libevent_log);
	if ((d.base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	/*
	 * Three priorities: everything at the middle one (libevent's default
	 * for a new event), the clocks' jobs (an escalation's notifications)
	 * below it, so a burst of deadlines does not keep a report waiting.
	 */
	if (event_base_priority_init(d.base, 3) == -1)
		fatalx("cannot set the event loop's priorities");
	clock_base(d.base);
	store_scan_loop(d.base);
	if ((rc = curlfetch_init(d.base)) != 0)
		fatalx("cannot set up outgoing HTTP (libcurl): %s", strerror(-rc));
}

static void
start_http(const struct config *cfg)
{
	char err[1024];

	if (http_init(d.base, cfg, routes_table, routes_count, err,
	    sizeof(err)) != 0)
		fatalx("%s", err);
}

/* The signals dutyd handles, blocked across a re-exec (see pg_lost()). */
static void
stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* Signals and timers. */
static void
start_events(void)
{
	static const struct timeval second = { 1, 0 };
	sigset_t set;

	d.sigterm = signal_event(SIGTERM, on_stop);
	d.sigint = signal_event(SIGINT, on_stop);
	d.sighup = signal_event(SIGHUP, on_reload);
	/* One that came during a re-exec waited for these handlers. */
	stop_signals(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if ((d.kick = evtimer_new(d.base, on_kick, NULL)) == NULL ||
	    (d.tick = event_new(d.base, -1, EV_PERSIST, on_tick, NULL)) == NULL)
		fatalx("cannot create a timer");
	event_add(d.tick, &second);
}

/* The records are replayed: clocks armed, deliveries resumed. */
static void
start_core(const struct store_backend *be)
{
	char err[1024];

	if (core_start(be, d.accept_broken, err, sizeof(err)) != 0)
		fatalx("%s", err);
	stream_init();		/* after replay: it follows live records */
	d.next_prune = time_now_ms() + 3600 * 1000;
	d.leading = 1;
}

static void
record_start(const struct config *cfg)
{
	json_t	*data;
	int	 rc;

	data = json_pack("{s:s, s:i, s:s}", "version", DUTYD_VERSION,
	    "pid", (int)getpid(), "config", cfg->path);
	if (d.pg)
		json_object_set_new(data, "instance", json_string(pgha_instance()));
	if ((rc = store_append("dutyd.started", NULL, "dutyd", data, NULL)) != 0)
		log_errorx("cannot record the start in the audit log: %s",
		    strerror(-rc));
	store_commit();
	watch_health();
}

/*
 * The PostgreSQL store's roles.  A standby serves only /healthz and
 * /metrics (503 elsewhere: the gate in http.c) and runs no state module;
 * taking the lead starts them from the records, as a restart would; losing
 * it re-executes dutyd, so that nothing of the old leadership survives.
 */
static void	pg_ready(void);

static void
pg_show(void)
{
	const char *leader = pgha_role() == PGHA_LEADER ? pgha_instance() :
	    pgha_leader();

	if (!d.leading)
		role_set("standby", pgha_instance(), leader);
	role_set_seq(pgha_read_seq());
	role_status(pgha_status());
	http_set_leader_name(leader);
}

static int
pg_promoted(void *arg)
{
	start_core(pgha_backend());
	/* The gate off; the console's session key is read then (http.c). */
	role_set("leader", pgha_instance(), pgha_instance());
	record_start(config_current());
	supervise_refresh();
	log_info("dutyd %s is the leader as %s; serving", DUTYD_VERSION,
	    pgha_instance());
	pg_ready();
	return 0;
}

static void
pg_lost(void *arg, const char *why)
{
	sigset_t	set;
	int		rc;

	/* The gate first: from here on nothing answers 2xx. */
	role_set("standby", pgha_instance(), "");
	if (d.stopping || d.draining) {
		/* Stopping anyway: no new image, just the end of this one. */
		log_warnx("no longer the leader while stopping (%s)", why);
		return;
	}
	d.leading = 0;
	log_errorx("no longer the leader (%s): starting again as a standby",
	    why);
	/*
	 * A stop asked for during the exec stays pending until the new image
	 * handles it, instead of killing it half-started.
	 */
	stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	rc = reexec_self(http_passed_fds());
	fatalx("cannot start again as a standby: %s; exiting so that the "
	    "service manager restarts dutyd", strerror(-rc));
}

/* READY=1 once there is something true to show (pgha_settled()). */
static void
pg_ready(void)
{
	if (d.ready)
		return;
	d.ready = 1;
	event_del(d.ready_timer);
	/*
	 * Listening only now: what /healthz says is then true (a standby
	 * names its leader); under socket activation requests wait in the
	 * backlog meanwhile.
	 */
	start_http(config_current());
	sdnotify_ready();
	log_info("dutyd %s ready (%s: %s)", DUTYD_VERSION, d.leading ?
	    "leader" : "standby", pgha_status());
}

static void
pg_ready_late(evutil_socket_t fd, short what, void *arg)
{
	pg_ready();
}

static void
pg_changed(void *arg)
{
	pg_show();
	if (pgha_settled())
		pg_ready();
}

static const struct pgha_hooks pg_hooks = {
	pg_promoted, pg_lost, pg_changed,
};

static void
start(struct config *cfg)
{
	const struct store_backend	*be;
	char				 err[1024];

	start_loop(cfg);
	if (cfg->postgresql != NULL) {
		d.pg = 1;
		/* Standby until the lock is ours: the gate is on before a listener. */
		role_set("standby", cfg->postgresql->instance, "");
		start_events();
		if (pgha_start(d.base, cfg->postgresql, &pg_hooks, NULL, err,
		    sizeof(err)) != 0)
			fatalx("%s", err);
		pg_show();
		supervise_start();
		/* The database must not hold the start up: a second at most. */
		if ((d.ready_timer = evtimer_new(d.base, pg_ready_late, NULL)) ==
		    NULL)
			fatalx("cannot create a timer");
		{
			static const struct timeval second = { 1, 0 };

			event_add(d.ready_timer, &second);
		}
		return;
	}
	if ((be = filelog_at(cfg->state_dir)) == NULL)
		fatalx("out of memory");
	start_core(be);
	start_http(cfg);
	start_events();
	record_start(cfg);
	sdnotify_ready();
	supervise_start();
	log_info("dutyd %s ready", DUTYD_VERSION);
}

static void
run(void)
{
	static const struct timeval again = { 0, 200 * 1000 };
	static const struct timeval drain = { 0, 50 * 1000 };

	while (!d.quit) {
		if (event_base_loop(d.base, EVLOOP_ONCE) == -1)
			fatalx("the event loop failed");
		if (d.leading) {
			core_turn();
			watch_health();
		} else
			store_commit();	/* a standby's 200s (/metrics) wait for it too */
		if (d.draining) {
			if (!http_busy(DRAIN_QUIET_MS) ||
			    time_now_ms() >= d.drain_until)
				break;
			evtimer_add(d.kick, &drain);
			continue;
		}
		/* A failed sync leaves work owed: come back soon even if idle. */
		if (store_pending())
			evtimer_add(d.kick, &again);
	}
}

static void
stop(void)
{
	json_t *data;

	d.stopping = 1;
	/* No client is left waiting, and what they did is recorded before the stop. */
	if (d.ready || !d.pg)
		http_shutdown();
	if (d.leading) {
		(void)store_flush();
		data = json_pack("{s:i}", "pid", (int)getpid());
		if (store_append("dutyd.stopped", NULL, "dutyd", data, NULL) != 0)
			log_warnx("cannot record the stop in the audit log");
		if (store_flush() != 0)
			log_warnx("the stop could not be committed to the store");
	}
	supervise_stop();
	if (d.ready || !d.pg)
		http_shutdown();
	if (d.leading) {
		stream_shutdown();
		core_stop();
	}
	if (d.pg)
		pgha_stop();
	curlfetch_shutdown();
	event_free(d.sigterm);
	event_free(d.sigint);
	event_free(d.sighup);
	event_free(d.kick);
	event_free(d.tick);
	if (d.ready_timer != NULL)
		event_free(d.ready_timer);
	clock_end();
	event_base_free(d.base);
	libevent_global_shutdown();
	if (d.pg)
		role_set(NULL, NULL, NULL);
	config_install(NULL);
	time_set_zone(NULL);
	metrics_reset();
	log_info("dutyd stopped");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "test",	no_argument,		NULL, 't' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "accept-broken-chain", no_argument,	NULL, 'A' },
		{ "verify-audit", no_argument,		NULL, 'R' },
		{ "oncall",	no_argument,		NULL, 'O' },
		{ "days",	required_argument,	NULL, 'D' },
		{ "hash-token",	no_argument,		NULL, 'H' },
		{ "init-store",	no_argument,		NULL, 'S' },
		{ "import-audit", required_argument,	NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct config_diag	 diag = { NULL, 0 };
	struct config		*cfg;
	const char		*path = NULL, *import = NULL;
	int			 ch, test = 0, verbose = 0, verify = 0;
	int			 oncall = 0, days = 7, initstore = 0;
	char			*end;

	reexec_save(argc, argv);
	while ((ch = getopt_long(argc, argv, "c:tvVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("dutyd %s\n", DUTYD_VERSION);
			return 0;
		case 'h':
			usage(0);
		case 'A':
			d.accept_broken = 1;
			break;
		case 'R':
			verify = 1;
			break;
		case 'O':
			oncall = 1;
			break;
		case 'H':
			return confcheck_hash_token(stdin, stdout, stderr);
		case 'S':
			initstore = 1;
			break;
		case 'M':
			import = optarg;
			break;
		case 'D':
			days = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || days < 1 ||
			    days > 366) {
				fprintf(stderr, "dutyd: --days must be a number of "
				    "days from 1 to 366, not '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			usage(2);
		}
	}
	if (verify) {
		if (optind == argc || path != NULL || test)
			usage(2);
		if (argc - optind == 1 && pgtool_is_conninfo(argv[optind]))
			return pgtool_verify(argv[optind], stdout);
		return filelog_verify(argv + optind, (size_t)(argc - optind),
		    stdout);
	}
	if (optind != argc || path == NULL)
		usage(2);
	log_init(verbose);
	/* A peer closing early must not kill us; a size limit must not either. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);

	if (initstore && import != NULL)
		usage(2);
	cfg = confload(path, &diag);
	if (cfg == NULL) {
		/* The store tools are commands: plain errors, as -t prints them. */
		print_diag(&diag, test || initstore || import != NULL);
		if (!test && !oncall && !initstore && import == NULL)
			log_errorx("%s has errors (above); dutyd did not start", path);
		config_diag_free(&diag);
		return 1;
	}
	print_diag(&diag, test);	/* warnings: the configuration is valid */
	config_diag_free(&diag);
	if (initstore || import != NULL) {
		ch = initstore ? pgtool_init_store(cfg, stdout, stderr) :
		    pgtool_import(cfg, import, stdout, stderr);
		config_unref(cfg);
		return ch;
	}
	confcheck_warnings(cfg, test ? print_warning : log_warning, NULL);
	if (test) {
		printf("configuration OK\n");
		config_unref(cfg);
		return 0;
	}
	if (oncall) {
		apply_timezone(cfg);
		ch = roster_print(stdout, cfg, time_now_ms(), days);
		if (ch != 0)
			fprintf(stderr, "dutyd: cannot print the roster: %s\n",
			    strerror(-ch));
		config_unref(cfg);
		return ch != 0;
	}
	config_install(cfg);
	start(cfg);
	run();
	stop();
	return 0;
}
