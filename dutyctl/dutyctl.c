/*
 * dutyctl: the duty desk's and scripts' client of dutyd's HTTP API
 * (dutyctl(1)).  Tables for people, --json for scripts; the exit status
 * says who failed: 1 the server refused, 64 usage, 69 no server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctlhttp.h"
#include "ctltable.h"
#include "store/filelog.h"

#define CTL_DEFAULT_SERVER	"http://127.0.0.1:8080"

/* Options, whichever command they belong to; each command says which it takes. */
struct ctl_opts {
	struct ctl_server srv;
	int		 json, all;
	const char	*note, *reference, *office, *title, *level;
	const char	*occurred_at, *at;
	char		 token_buf[512];
	unsigned	 given;		/* CTL_O_* bits */
};

enum {
	CTL_O_ALL = 1 << 0, CTL_O_NOTE = 1 << 1, CTL_O_REFERENCE = 1 << 2,
	CTL_O_OFFICE = 1 << 3, CTL_O_TITLE = 1 << 4, CTL_O_LEVEL = 1 << 5,
	CTL_O_OCCURRED = 1 << 6, CTL_O_AT = 1 << 7,
};

static int
ctl_usage(const char *fmt, const char *arg)
{
	if (fmt != NULL) {
		fprintf(stderr, "dutyctl: ");
		fprintf(stderr, fmt, arg);
		fprintf(stderr, "\n");
	}
	fprintf(stderr,
	    "usage: dutyctl [--server URL] [--token T | --token-file F] [--json] COMMAND\n"
	    "  list [--all]                   incidents not resolved (--all: every one)\n"
	    "  show ID                        one incident and its timeline\n"
	    "  ack ID [--note T]              acknowledge\n"
	    "  file ID --reference R          the written report filed, with its number\n"
	    "  resolve ID [--note T]          resolved\n"
	    "  report --office ID --title T [--level I|II|III|IV] [--occurred-at TIME]\n"
	    "                                 a report phoned in, taken in your name\n"
	    "  oncall [--at TIME]             who is on duty\n"
	    "  verify-audit DIR               check the audit log in a state_dir offline\n"
	    "--server: default $DUTYD_SERVER, else " CTL_DEFAULT_SERVER "; token: $DUTYD_TOKEN.\n"
	    "Exit: 0 done, 1 refused by the server, 64 usage, 69 server unreachable or failing.\n");
	return CTL_USAGE;
}

/* The server's words for a refusal, and the exit status that goes with it. */
static int
ctl_judge(const struct ctl_opts *o, const struct ctl_reply *r)
{
	const char *msg = json_string_value(json_object_get(r->json, "error"));
	const char *field = json_string_value(json_object_get(r->json, "field"));

	if (r->status >= 200 && r->status < 300)
		return CTL_OK;
	if (o->json && r->json != NULL) {
		json_dumpf(r->json, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	fprintf(stderr, "dutyctl: dutyd answered %ld: %s%s%s%s\n", r->status,
	    msg != NULL ? msg : (r->body != NULL && r->body[0] != '\0' ?
	    r->body : "(no message)"), field != NULL ? " (field: " : "",
	    field != NULL ? field : "", field != NULL ? ")" : "");
	return r->status >= 500 ? CTL_UNAVAILABLE : CTL_REFUSED;
}

static void
ctl_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

/* "2026-11-28T14:40:35.123+08:00" as "11-28 14:40" (the server's zone). */
static const char *
ctl_short_time(const json_t *v, char *buf, size_t len)
{
	const char *s = json_string_value(v);

	if (s == NULL || strlen(s) < 16)
		return NULL;
	snprintf(buf, len, "%.5s %.5s", s + 5, s + 11);
	return buf;
}

static const char *
ctl_state(const json_t *inc)
{
	const char *state = json_string_value(json_object_get(inc, "state"));

	if (state == NULL)
		return "?";
	if (strcmp(state, "resolved") != 0 &&
	    json_is_true(json_object_get(inc, "overdue")))
		return strcmp(state, "open") == 0 ? "open, overdue" :
		    "acknowledged, overdue";
	if (strcmp(state, "open") == 0 &&
	    json_is_true(json_object_get(inc, "escalated")))
		return "open, escalated";
	return state;
}

static int
ctl_list(struct ctl_opts *o)
{
	static const char *const head[] = { "ID", "STATE", "OFFICE", "TITLE",
	    "LEVEL", "RECEIVED", "ACK BY", "REPORT BY" };
	struct ctl_reply	 r;
	struct ctl_table	*t;
	const json_t		*inc;
	char			 a[32], b[32], c[32];
	size_t			 i;
	int			 rc;

	if ((rc = ctl_request(&o->srv, "GET", "/api/v1/incidents", "state",
	    o->all ? "all" : "open", NULL, NULL, &r)) != 0)
		return rc;
	if ((rc = ctl_judge(o, &r)) != CTL_OK || o->json) {
		if (rc == CTL_OK)
			ctl_print_json(r.json);
		ctl_reply_free(&r);
		return rc;
	}
	if ((t = ctl_table_new(8, head)) == NULL) {
		ctl_reply_free(&r);
		return CTL_UNAVAILABLE;
	}
	ctl_table_limit(t, 3, 40);
	ctl_table_limit(t, 2, 20);
	json_array_foreach(json_object_get(r.json, "incidents"), i, inc) {
		const char *row[8] = {
			json_string_value(json_object_get(inc, "id")),
			ctl_state(inc),
			json_string_value(json_object_get(inc, "office_name")),
			json_string_value(json_object_get(inc, "title")),
			json_string_value(json_object_get(inc, "level")),
			ctl_short_time(json_object_get(inc, "received_at"), a, sizeof(a)),
			ctl_short_time(json_object_get(inc, "ack_deadline"), b, sizeof(b)),
			ctl_short_time(json_object_get(inc, "report_deadline"), c, sizeof(c)),
		};
		ctl_table_add(t, row);
	}
	if (json_array_size(json_object_get(r.json, "incidents")) == 0)
		printf("no %sincidents\n", o->all ? "" : "open ");
	else
		ctl_table_print(t, stdout);
	ctl_table_free(t);
	ctl_reply_free(&r);
	return CTL_OK;
}

static char *
ctl_incident_path(const char *id, const char *action)
{
	char	*e = ctl_escape(id), *path = NULL;

	if (e == NULL)
		return NULL;
	if (asprintf(&path, "/api/v1/incidents/%s%s%s", e, action ? "/" : "",
	    action ? action : "") == -1)
		path = NULL;
	free(e);
	return path;
}

static const char *
ctl_who(const json_t *who)
{
	const char *name = json_string_value(json_object_get(who, "name"));

	return name != NULL ? name : json_string_value(json_object_get(who, "id"));
}

static void
ctl_show_incident(const json_t *inc)
{
	static const char *const head[] = { "SEQ", "TIME", "EVENT", "ACTOR" };
	const json_t	*wr = json_object_get(inc, "written_report"), *e;
	struct ctl_table *t;
	char		 seq[32], ts[32];
	size_t		 i;

	printf("%s  %s\n", json_string_value(json_object_get(inc, "id")),
	    json_string_value(json_object_get(inc, "title")));
#define CTL_LINE(label, key) do {					\
	const char *v_ = json_string_value(json_object_get(inc, key));	\
	if (v_ != NULL)							\
		printf("  %-16s %s\n", label, v_);			\
} while (0)
	printf("  %-16s %s\n", "state", ctl_state(inc));
	CTL_LINE("office", "office_name");
	CTL_LINE("level", "level");
	CTL_LINE("location", "location");
	CTL_LINE("occurred", "occurred_at");
	CTL_LINE("received", "received_at");
	CTL_LINE("ack deadline", "ack_deadline");
	CTL_LINE("report deadline", "report_deadline");
	CTL_LINE("acknowledged", "acknowledged_at");
#undef CTL_LINE
	if (json_is_object(json_object_get(inc, "acknowledged_by")))
		printf("  %-16s %s\n", "acknowledged by",
		    ctl_who(json_object_get(inc, "acknowledged_by")));
	if (json_is_object(wr) && json_is_string(json_object_get(wr, "filed_at")))
		printf("  %-16s %s (%s, %s)\n", "written report",
		    json_string_value(json_object_get(wr, "reference")) ?
		    json_string_value(json_object_get(wr, "reference")) : "-",
		    json_string_value(json_object_get(wr, "filed_at")),
		    ctl_who(json_object_get(wr, "filed_by")));
	if (json_is_object(json_object_get(inc, "resolved_by")))
		printf("  %-16s %s (%s)\n", "resolved by",
		    ctl_who(json_object_get(inc, "resolved_by")),
		    json_string_value(json_object_get(inc, "resolved_at")));
	if (json_array_size(json_object_get(inc, "timeline")) == 0 ||
	    (t = ctl_table_new(4, head)) == NULL)
		return;
	json_array_foreach(json_object_get(inc, "timeline"), i, e) {
		const char *row[4];

		snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(
		    json_object_get(e, "seq")));
		snprintf(ts, sizeof(ts), "%.19s", json_string_value(
		    json_object_get(e, "ts")) ? json_string_value(
		    json_object_get(e, "ts")) : "");
		row[0] = seq;
		row[1] = ts;
		row[2] = json_string_value(json_object_get(e, "event"));
		row[3] = json_string_value(json_object_get(e, "actor"));
		ctl_table_add(t, row);
	}
	printf("\n");
	ctl_table_print(t, stdout);
	ctl_table_free(t);
}

static int
ctl_show(struct ctl_opts *o, const char *id)
{
	struct ctl_reply	 r;
	char			*path = ctl_incident_path(id, NULL);
	int			 rc;

	if (path == NULL)
		return CTL_UNAVAILABLE;
	rc = ctl_request(&o->srv, "GET", path, NULL, NULL, NULL, NULL, &r);
	free(path);
	if (rc != 0)
		return rc;
	if ((rc = ctl_judge(o, &r)) == CTL_OK) {
		if (o->json)
			ctl_print_json(r.json);
		else
			ctl_show_incident(r.json);
	}
	ctl_reply_free(&r);
	return rc;
}

/* ack, written-report, resolve: the body's one optional field. */
static int
ctl_act(struct ctl_opts *o, const char *id, const char *action,
    const char *key, const char *value, const char *done)
{
	struct ctl_reply	 r;
	json_t			*body = json_object();
	char			*path = ctl_incident_path(id, action);
	int			 rc;

	if (path == NULL || body == NULL || (value != NULL &&
	    json_object_set_new(body, key, json_string(value)) != 0)) {
		free(path);
		json_decref(body);
		return CTL_UNAVAILABLE;
	}
	rc = ctl_request(&o->srv, "POST", path, NULL, NULL, body, NULL, &r);
	free(path);
	json_decref(body);
	if (rc != 0)
		return rc;
	if ((rc = ctl_judge(o, &r)) == CTL_OK) {
		if (o->json)
			ctl_print_json(r.json);
		else
			printf("%s %s; state: %s\n", id, done, ctl_state(r.json));
	}
	ctl_reply_free(&r);
	return rc;
}

/* Now, RFC 3339 with the local offset: what an office means by "just now". */
static const char *
ctl_now(char *buf, size_t len)
{
	time_t		 t = time(NULL);
	struct tm	 tm;
	char		 off[8];

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(off, sizeof(off), "%z", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), "%.3s:%.2s", off, off + 3);
	return buf;
}

static int
ctl_report(struct ctl_opts *o)
{
	struct ctl_reply	 r;
	char			 now[40], key[128];
	json_t			*body;
	int			 rc;

	/* Taken by phone: the staff member's token, the office named. */
	body = json_pack("{s:s, s:s, s:s}", "office", o->office, "title",
	    o->title, "occurred_at", o->occurred_at != NULL ? o->occurred_at :
	    ctl_now(now, sizeof(now)));
	if (body == NULL || (o->level != NULL && json_object_set_new(body,
	    "level", json_string(o->level)) != 0)) {
		json_decref(body);
		return CTL_UNAVAILABLE;
	}
	/* A retry of this command is a new report; the key keeps one try whole. */
	snprintf(key, sizeof(key), "dutyctl-%s-%lld-%ld", o->office,
	    (long long)time(NULL), (long)getpid());
	rc = ctl_request(&o->srv, "POST", "/api/v1/reports", NULL, NULL, body,
	    key, &r);
	json_decref(body);
	if (rc != 0)
		return rc;
	if ((rc = ctl_judge(o, &r)) == CTL_OK) {
		if (o->json)
			ctl_print_json(r.json);
		else
			printf("%s recorded for %s: %s; acknowledge by %s\n",
			    json_string_value(json_object_get(r.json, "id")),
			    json_string_value(json_object_get(r.json,
			    "office_name")), o->title, json_string_value(
			    json_object_get(r.json, "ack_deadline")));
	}
	ctl_reply_free(&r);
	return rc;
}

static void
ctl_oncall_row(struct ctl_table *t, const json_t *p)
{
	char		 who[256], when[96], a[32], b[32];
	const char	*row[4];

	snprintf(who, sizeof(who), "%s (%s)",
	    json_string_value(json_object_get(p, "name")) ?
	    json_string_value(json_object_get(p, "name")) : "?",
	    json_string_value(json_object_get(p, "person")) ?
	    json_string_value(json_object_get(p, "person")) : "?");
	if (ctl_short_time(json_object_get(p, "since"), a, sizeof(a)) != NULL &&
	    ctl_short_time(json_object_get(p, "until"), b, sizeof(b)) != NULL)
		snprintf(when, sizeof(when), "%s – %s", a, b);
	else
		snprintf(when, sizeof(when), "-");
	row[0] = json_string_value(json_object_get(p, "role"));
	row[1] = who;
	row[2] = when;
	row[3] = json_string_value(json_object_get(p, "why"));
	ctl_table_add(t, row);
}

static int
ctl_oncall(struct ctl_opts *o)
{
	static const char *const head[] = { "ROLE", "WHO", "WHEN", "WHY" };
	struct ctl_reply	 r;
	struct ctl_table	*t;
	const json_t		*p;
	size_t			 i;
	int			 rc;

	if ((rc = ctl_request(&o->srv, "GET", "/api/v1/oncall", o->at ? "at" :
	    NULL, o->at, NULL, NULL, &r)) != 0)
		return rc;
	if ((rc = ctl_judge(o, &r)) != CTL_OK || o->json) {
		if (rc == CTL_OK)
			ctl_print_json(r.json);
		ctl_reply_free(&r);
		return rc;
	}
	printf("On duty at %s (%s):\n", json_string_value(json_object_get(r.json,
	    "at")), json_string_value(json_object_get(r.json, "timezone")));
	if ((t = ctl_table_new(4, head)) != NULL) {
		if (json_is_object(json_object_get(r.json, "leader")))
			ctl_oncall_row(t, json_object_get(r.json, "leader"));
		json_array_foreach(json_object_get(r.json, "officers"), i, p)
			ctl_oncall_row(t, p);
		ctl_table_print(t, stdout);
		ctl_table_free(t);
	}
	ctl_reply_free(&r);
	return CTL_OK;
}

static int
ctl_verify(struct ctl_opts *o, char *dir)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 rc;

	if (!o->json) {
		rc = filelog_verify(&dir, 1, stdout);
		return rc == 0 ? CTL_OK : CTL_REFUSED;
	}
	if ((f = open_memstream(&text, &len)) == NULL)
		return CTL_UNAVAILABLE;
	rc = filelog_verify(&dir, 1, f);
	fclose(f);
	{
		json_t *j = json_pack("{s:b, s:s}", "intact", rc == 0, "report",
		    text != NULL ? text : "");

		if (j != NULL)
			ctl_print_json(j);
		json_decref(j);
	}
	free(text);
	return rc == 0 ? CTL_OK : CTL_REFUSED;
}

static int
ctl_read_token(struct ctl_opts *o, const char *path)
{
	FILE	*f = fopen(path, "r");
	size_t	 n;

	if (f == NULL) {
		fprintf(stderr, "dutyctl: cannot read the token file %s: %s\n",
		    path, strerror(errno));
		return CTL_USAGE;
	}
	if (fgets(o->token_buf, sizeof(o->token_buf), f) == NULL)
		o->token_buf[0] = '\0';
	fclose(f);
	n = strcspn(o->token_buf, "\r\n");
	o->token_buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "dutyctl: the token file %s is empty\n", path);
		return CTL_USAGE;
	}
	o->srv.token = o->token_buf;
	return CTL_OK;
}

/* Which options each command takes, and how many arguments. */
static const struct ctl_command {
	const char	*name;
	int		 nargs;
	unsigned	 takes, needs;
	int		 server;
} ctl_commands[] = {
	{ "list",	0, CTL_O_ALL, 0, 1 },
	{ "show",	1, 0, 0, 1 },
	{ "ack",	1, CTL_O_NOTE, 0, 1 },
	{ "file",	1, CTL_O_REFERENCE, CTL_O_REFERENCE, 1 },
	{ "resolve",	1, CTL_O_NOTE, 0, 1 },
	{ "report",	0, CTL_O_OFFICE | CTL_O_TITLE | CTL_O_LEVEL |
	    CTL_O_OCCURRED, CTL_O_OFFICE | CTL_O_TITLE, 1 },
	{ "oncall",	0, CTL_O_AT, 0, 1 },
	{ "verify-audit", 1, 0, 0, 0 },
};

static const char *const ctl_opt_names[] = { "--all", "--note", "--reference",
    "--office", "--title", "--level", "--occurred-at", "--at" };

static int
ctl_run(struct ctl_opts *o, const struct ctl_command *cmd, char **args)
{
	if (strcmp(cmd->name, "list") == 0)
		return ctl_list(o);
	if (strcmp(cmd->name, "show") == 0)
		return ctl_show(o, args[0]);
	if (strcmp(cmd->name, "ack") == 0)
		return ctl_act(o, args[0], "ack", "note", o->note, "acknowledged");
	if (strcmp(cmd->name, "file") == 0)
		return ctl_act(o, args[0], "written-report", "reference",
		    o->reference, "written report recorded as filed");
	if (strcmp(cmd->name, "resolve") == 0)
		return ctl_act(o, args[0], "resolve", "note", o->note, "resolved");
	if (strcmp(cmd->name, "report") == 0)
		return ctl_report(o);
	if (strcmp(cmd->name, "oncall") == 0)
		return ctl_oncall(o);
	return ctl_verify(o, args[0]);
}

static int
ctl_find(const char *name, const struct ctl_command **cmd)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(name, ctl_commands[i].name) == 0) {
			*cmd = &ctl_commands[i];
			return 0;
		}
	return ctl_usage("unknown command '%s'", name);
}

/* Every option is allowed before or after the command; each command says which it takes. */
static int
ctl_check(const struct ctl_opts *o, const struct ctl_command *cmd, int nargs)
{
	size_t i;

	if (nargs < cmd->nargs)
		return ctl_usage(strcmp(cmd->name, "verify-audit") == 0 ?
		    "%s needs a state_dir" : "%s needs an incident id", cmd->name);
	for (i = 0; i < sizeof(ctl_opt_names) / sizeof(ctl_opt_names[0]); i++) {
		if ((o->given & (1u << i)) && !(cmd->takes & (1u << i))) {
			fprintf(stderr, "dutyctl: %s does not take %s\n", cmd->name,
			    ctl_opt_names[i]);
			return ctl_usage(NULL, NULL);
		}
		if ((cmd->needs & (1u << i)) && !(o->given & (1u << i))) {
			fprintf(stderr, "dutyctl: %s needs %s\n", cmd->name,
			    ctl_opt_names[i]);
			return ctl_usage(NULL, NULL);
		}
	}
	return CTL_OK;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "server",	required_argument, NULL, 's' },
		{ "token",	required_argument, NULL, 'k' },
		{ "token-file",	required_argument, NULL, 'K' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "all",	no_argument,	   NULL, 'a' },
		{ "note",	required_argument, NULL, 'n' },
		{ "reference",	required_argument, NULL, 'r' },
		{ "office",	required_argument, NULL, 'o' },
		{ "title",	required_argument, NULL, 'T' },
		{ "level",	required_argument, NULL, 'l' },
		{ "occurred-at", required_argument, NULL, 'O' },
		{ "at",		required_argument, NULL, 't' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_command *cmd = NULL;
	struct ctl_opts	 o;
	const char	*token_file = NULL;
	char		*args[2] = { NULL, NULL };
	int		 ch, rc, nargs = 0;

	memset(&o, 0, sizeof(o));
	opterr = 0;
	/* "-": arguments come back in order (ch 1), options anywhere. */
	while ((ch = getopt_long(argc, argv, "-:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 1:
			if (cmd == NULL) {
				if ((rc = ctl_find(optarg, &cmd)) != 0)
					return rc;
			} else if (nargs >= cmd->nargs)
				return ctl_usage("unexpected argument '%s'", optarg);
			else
				args[nargs++] = optarg;
			break;
		case 's': o.srv.url = optarg; break;
		case 'k': o.srv.token = optarg; break;
		case 'K': token_file = optarg; break;
		case 'j': o.json = 1; break;
		case 'a': o.all = 1; o.given |= CTL_O_ALL; break;
		case 'n': o.note = optarg; o.given |= CTL_O_NOTE; break;
		case 'r': o.reference = optarg; o.given |= CTL_O_REFERENCE; break;
		case 'o': o.office = optarg; o.given |= CTL_O_OFFICE; break;
		case 'T': o.title = optarg; o.given |= CTL_O_TITLE; break;
		case 'l': o.level = optarg; o.given |= CTL_O_LEVEL; break;
		case 'O': o.occurred_at = optarg; o.given |= CTL_O_OCCURRED; break;
		case 't': o.at = optarg; o.given |= CTL_O_AT; break;
		case 'h': ctl_usage(NULL, NULL); return CTL_OK;
		case 'V': printf("dutyctl %s\n", DUTYD_VERSION); return CTL_OK;
		case ':': return ctl_usage("%s needs a value", argv[optind - 1]);
		default: return ctl_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (cmd == NULL)
		return ctl_usage("no command given", NULL);
	if ((rc = ctl_check(&o, cmd, nargs)) != 0)
		return rc;
	if (!cmd->server)
		return ctl_run(&o, cmd, args);
	if (o.srv.url == NULL && (o.srv.url = getenv("DUTYD_SERVER")) == NULL)
		o.srv.url = CTL_DEFAULT_SERVER;
	if (token_file != NULL && (rc = ctl_read_token(&o, token_file)) != 0)
		return rc;
	if (o.srv.token == NULL && (o.srv.token = getenv("DUTYD_TOKEN")) == NULL) {
		fprintf(stderr, "dutyctl: no token: give --token, --token-file or "
		    "set DUTYD_TOKEN (a person's token)\n");
		return CTL_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "dutyctl: cannot set up libcurl\n");
		return CTL_UNAVAILABLE;
	}
	rc = ctl_run(&o, cmd, args);
	curl_global_cleanup();
	return rc;
}
