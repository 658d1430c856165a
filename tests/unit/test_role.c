/*
 * A standby on a PostgreSQL store, over real HTTP (intake/http.c's gate,
 * intake/role.c, api_healthz, /metrics) and STATUS= (actions/supervise.c):
 * GET /healthz answers 503 naming the leader, GET /metrics 200 with the
 * role, everything else 503 with Retry-After: 1 before any route or token
 * is looked at; a leader serves as before and says its role; with the
 * file log (no role) nothing of it shows.  The listening socket comes as
 * systemd passes it, which http_passed_fds() counts for reexec_self().
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "actions/supervise.h"
#include "base/clock.h"
#include "base/timeutil.h"
#include "conffix.h"
#include "config/config.h"
#include "corefix.h"
#include "fakeclock.h"
#include "intake/http.h"
#include "intake/role.h"
#include "intake/routes.h"

static const char conf[] =
    "timezone: \"Asia/Shanghai\"\n"
    "offices:\n"
    "  - { id: county-a, name: \"A县应急管理局\", token: \"secret-a\" }\n"
    "people:\n"
    "  - { id: zhang, name: \"张伟\", token: \"secret-zhang\", contacts: [ { channel: hook, to: \"zhang\" } ] }\n"
    "duty: { officers: [zhang], leader: zhang }\n"
    "channels:\n"
    "  hook: { plugin: webhook, url: \"http://127.0.0.1:9/hook\" }\n"
    "store: { postgresql: { conninfo: \"dbname=dutyd\", instance: duty-b } }\n";

static struct {
	struct event_base	*base;
	uint16_t		 port;
	int			 notify;	/* NOTIFY_SOCKET's other end */
	char			 notify_path[108];
	int			 core;		/* corefix running: turns commit */
} t;

struct answer {
	int	 status;
	char	 head[4096];
	char	*body;
	json_t	*json;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
answer_free(struct answer *a)
{
	free(a->body);
	json_decref(a->json);
}

/* METHOD PATH over a new connection, the loop turned until the answer ends. */
static void
request(const char *method, const char *path, const char *extra,
    struct answer *a)
{
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	char			 req[1024], buf[8192], *all = NULL, *sep;
	size_t			 len = 0;
	ssize_t			 n;
	int64_t			 until = mono_ms() + 5000;
	int			 fd, done = 0;

	memset(a, 0, sizeof(*a));
	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(t.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\n%s"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n", method, path,
	    extra != NULL ? extra : "");
	while (!done) {
		assert_true(mono_ms() < until);
		event_base_loop(t.base, EVLOOP_NONBLOCK);
		if (t.core)
			fakeclock_turn();
		if (req[0] != '\0') {
			n = write(fd, req, strlen(req));
			if (n > 0) {
				assert_int_equal((size_t)n, strlen(req));
				req[0] = '\0';
			}
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EAGAIN)
			continue;
		assert_true(n >= 0);
		if (n == 0)
			done = 1;
		assert_non_null(all = realloc(all, len + n + 1));
		memcpy(all + len, buf, n);
		len += n;
		all[len] = '\0';
	}
	close(fd);
	assert_non_null(all);
	assert_int_equal(sscanf(all, "HTTP/1.1 %d", &a->status), 1);
	assert_non_null(sep = strstr(all, "\r\n\r\n"));
	snprintf(a->head, sizeof(a->head), "%.*s", (int)(sep - all), all);
	assert_non_null(a->body = strdup(sep + 4));
	free(all);
	a->json = json_loads(a->body, JSON_DECODE_ANY, NULL);
}

static const char *
jstr(const struct answer *a, const char *key)
{
	return json_string_value(json_object_get(a->json, key));
}

/* The last STATUS= sent since the previous call (NULL: none). */
static const char *
last_status(void)
{
	static char	 last[600];
	char		 buf[600];
	ssize_t		 n;
	int		 got = 0;

	while ((n = recv(t.notify, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		if (strncmp(buf, "STATUS=", 7) == 0) {
			snprintf(last, sizeof(last), "%s", buf + 7);
			got = 1;
		}
	}
	return got ? last : NULL;
}

static int
setup(void **state)
{
	struct sockaddr_in	 sin;
	struct sockaddr_un	 sun;
	socklen_t		 sl = sizeof(sin);
	struct conffix		 l;
	char			 err[512], pid[24];
	int			 fd, one = 1;

	/* The socket systemd would pass: fd 3, LISTEN_PID/LISTEN_FDS. */
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	t.port = ntohs(sin.sin_port);
	if (fd != SD_LISTEN_FDS_START) {
		assert_int_equal(dup2(fd, SD_LISTEN_FDS_START),
		    SD_LISTEN_FDS_START);
		close(fd);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);

	/* STATUS= lands here, as in systemd. */
	assert_true((t.notify = socket(AF_UNIX, SOCK_DGRAM, 0)) >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(t.notify_path, sizeof(t.notify_path),
	    "/tmp/dutyd-role-notify-%ld", (long)getpid());
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t.notify_path);
	unlink(t.notify_path);
	assert_int_equal(bind(t.notify, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", t.notify_path, 1), 0);

	/* A standby: no store, no core; only the configuration. */
	conffix_load(&l, "listen: \"127.0.0.1:1\"\nstate_dir: /nonexistent\n"
	    "plugin_dir: \"" BUILD_PLUGIN_DIR "\"\n"
	    "public_url: \"https://duty.example.gov.cn\"\n", conf);
	assert_non_null(l.cf);
	config_install(l.cf);
	l.cf = NULL;
	conffix_unload(&l);
	time_set_zone(config_current()->tz);
	/* Fake time, as corefix's: the leader's part runs on it. */
	fakeclock_start(COREFIX_T0);
	assert_non_null(t.base = event_base_new());
	clock_base(t.base);
	role_set("standby", "duty-b", "duty-a");
	role_set_seq(812);
	role_status("following duty-a, read up to seq 812");
	supervise_start();
	assert_string_equal(last_status(), "standby: following duty-a, read "
	    "up to seq 812");
	if (http_init(t.base, config_current(), routes_table, routes_count, err,
	    sizeof(err)) != 0)
		fail_msg("http_init: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	supervise_stop();
	http_shutdown();
	if (t.core)
		corefix_stop();
	fakeclock_stop();
	config_install(NULL);
	time_set_zone(NULL);
	role_set(NULL, NULL, NULL);
	event_base_free(t.base);
	close(t.notify);
	unlink(t.notify_path);
	return 0;
}

static void
test_passed_socket_counted(void **state)
{
	assert_int_equal(http_passed_fds(), 1);
	/* sd_listen_fds(1) took them: a child would not see them. */
	assert_null(getenv("LISTEN_FDS"));
}

static void
test_standby_healthz(void **state)
{
	struct answer a;

	request("GET", "/healthz", NULL, &a);
	assert_int_equal(a.status, 503);
	assert_non_null(a.json);
	assert_string_equal(jstr(&a, "status"), "standby");
	assert_string_equal(jstr(&a, "role"), "standby");
	assert_string_equal(jstr(&a, "leader"), "duty-a");
	assert_string_equal(jstr(&a, "instance"), "duty-b");
	assert_string_equal(jstr(&a, "version"), DUTYD_VERSION);
	assert_int_equal(json_integer_value(json_object_get(a.json,
	    "last_seq")), 812);
	/* Nothing of a leader's: it has no audit log or incidents here. */
	assert_null(json_object_get(a.json, "open_incidents"));
	assert_null(json_object_get(a.json, "audit"));
	answer_free(&a);
	/* A query string is still /healthz. */
	request("GET", "/healthz?probe=lb", NULL, &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(jstr(&a, "role"), "standby");
	answer_free(&a);
}

/* As test_metrics.py checks the file log's page: promtool accepts it. */
static void
assert_promtool_accepts(const char *text)
{
	char	 path[] = "/tmp/dutyd-role-metrics-XXXXXX", cmd[128];
	FILE	*f;
	int	 fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

static void
test_standby_metrics(void **state)
{
	struct answer a;

	request("GET", "/metrics", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "dutyd_role{role=\"leader\"} 0\n"));
	assert_non_null(strstr(a.body, "dutyd_role{role=\"standby\"} 1\n"));
	assert_non_null(strstr(a.body, "dutyd_build_info{version="));
	assert_null(strstr(a.body, "dutyd_incidents_open"));
	assert_promtool_accepts(a.body);
	answer_free(&a);
}

static void
assert_gated(const char *method, const char *path, const char *extra)
{
	struct answer a;

	request(method, path, extra, &a);
	if (a.status != 503)
		fail_msg("%s %s: %d %s", method, path, a.status, a.body);
	assert_non_null(strstr(a.head, "\r\nRetry-After: 1"));
	if (strcmp(method, "HEAD") != 0) {
		assert_non_null(a.json);
		assert_non_null(strstr(jstr(&a, "error"), "standby"));
		assert_non_null(strstr(jstr(&a, "error"), "duty-a"));
		assert_non_null(strstr(jstr(&a, "error_zh"), "duty-a"));
		assert_true(json_is_null(json_object_get(a.json, "field")));
		assert_string_equal(jstr(&a, "role"), "standby");
		assert_string_equal(jstr(&a, "leader"), "duty-a");
	}
	answer_free(&a);
}

/* Before routing and tokens: no 404, 405 or 401 tells a standby apart. */
static void
test_standby_gate(void **state)
{
	assert_gated("POST", "/api/v1/reports",
	    "Authorization: Bearer secret-a\r\n");
	assert_gated("POST", "/api/v1/reports", "Authorization: Bearer wrong\r\n");
	assert_gated("GET", "/api/v1/incidents", NULL);
	assert_gated("GET", "/", NULL);
	assert_gated("GET", "/no/such/endpoint", NULL);
	assert_gated("DELETE", "/healthz", NULL);
	assert_gated("POST", "/metrics", NULL);
	assert_gated("HEAD", "/healthz", NULL);
	/* No leader known: the 503 says so, and still sends traffic away. */
	role_set("standby", "duty-b", "");
	{
		struct answer a;

		request("POST", "/api/v1/reports", NULL, &a);
		assert_int_equal(a.status, 503);
		assert_non_null(strstr(jstr(&a, "error"), "no leader is known"));
		assert_string_equal(jstr(&a, "leader"), "");
		answer_free(&a);
	}
	/* A name from the database is shown only as an instance may be written. */
	role_set("standby", "duty-b", "a\"b\nc\xff");
	{
		struct answer a;

		request("GET", "/x", NULL, &a);
		assert_non_null(a.json);
		assert_string_equal(jstr(&a, "leader"), "a?b?c?");
		answer_free(&a);
		request("GET", "/healthz", NULL, &a);
		assert_non_null(a.json);
		assert_string_equal(jstr(&a, "leader"), "a?b?c?");
		answer_free(&a);
	}
	role_set("standby", "duty-b", "duty-a");
}

static void
test_standby_status(void **state)
{
	const char *s;

	role_status("following duty-a, read up to seq 812");
	supervise_refresh();
	s = last_status();
	/* Said when the role was set (setup), not again when unchanged. */
	assert_null(s);
	role_status("cannot reach the database: connection refused");
	assert_non_null(s = last_status());
	assert_string_equal(s, "standby: cannot reach the database: "
	    "connection refused");
	/* libpq's lines, one line: a newline would end STATUS=. */
	role_status("cannot reach the database: connection to server failed: "
	    "Connection refused\n\tIs the server running on that host?\n");
	assert_non_null(s = last_status());
	assert_string_equal(s, "standby: cannot reach the database: connection "
	    "to server failed: Connection refused Is the server running on "
	    "that host?");
	assert_null(supervise_trouble(time_now_ms(), 1));
}

/* Taking the lead: the store is open, routes and tokens are back. */
static void
test_leader(void **state)
{
	struct answer	 a;
	const char	*s;

	supervise_stop();
	corefix_start(conf);
	t.core = 1;
	supervise_start();
	role_set("leader", "duty-b", "duty-b");
	assert_non_null(s = last_status());
	assert_string_equal(s, "leader: running: 0 open incidents, 0 overdue");

	request("GET", "/healthz", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(jstr(&a, "status"), "ok");
	assert_string_equal(jstr(&a, "role"), "leader");
	assert_string_equal(jstr(&a, "instance"), "duty-b");
	assert_non_null(json_object_get(a.json, "open_incidents"));
	answer_free(&a);

	request("GET", "/metrics", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_non_null(strstr(a.body, "dutyd_role{role=\"leader\"} 1\n"));
	assert_non_null(strstr(a.body, "dutyd_role{role=\"standby\"} 0\n"));
	assert_non_null(strstr(a.body, "dutyd_incidents_open 0\n"));
	assert_promtool_accepts(a.body);
	answer_free(&a);

	/* Routing and authentication again. */
	request("POST", "/api/v1/reports", "Authorization: Bearer wrong\r\n", &a);
	assert_int_equal(a.status, 401);
	assert_null(strstr(a.head, "Retry-After"));
	answer_free(&a);
	request("GET", "/no/such/endpoint", NULL, &a);
	assert_int_equal(a.status, 404);
	answer_free(&a);
}

/* The file log: no role anywhere, as before issue 18. */
static void
test_file_log(void **state)
{
	struct answer	 a;
	const char	*s;

	role_set(NULL, NULL, NULL);
	assert_non_null(s = last_status());
	assert_string_equal(s, "running: 0 open incidents, 0 overdue");
	request("GET", "/healthz", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_null(json_object_get(a.json, "role"));
	assert_null(json_object_get(a.json, "instance"));
	answer_free(&a);
	request("GET", "/metrics", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_null(strstr(a.body, "dutyd_role"));
	answer_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passed_socket_counted),
		cmocka_unit_test(test_standby_healthz),
		cmocka_unit_test(test_standby_metrics),
		cmocka_unit_test(test_standby_gate),
		cmocka_unit_test(test_standby_status),
		cmocka_unit_test(test_leader),
		cmocka_unit_test(test_file_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
