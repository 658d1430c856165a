/*
 * statsapi.c: the figures of a period over HTTP (see statsapi.h).
 *
 * The answer waits for a history scan: the request is kept (a copy of the
 * call; its conn_request lives until answered) while a worker thread reads
 * the log, and the loop serves everyone else meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "base/tz.h"
#include "base/utf8.h"
#include "config/calendar.h"
#include "config/config.h"
#include "intake/http.h"
#include "intake/statsapi.h"
#include "state/figures.h"
#include "store/store.h"

#define STATSAPI_DAY_MS		INT64_C(86400000)
#define STATSAPI_QUOTE_MAX	40	/* bytes of a client's value quoted back */

struct statsapi_job {
	struct http_call	 call;
	struct figures		*fig;
	char			 from[CALENDAR_DATE_MAX];
	char			 to[CALENDAR_DATE_MAX];
	int			 csv;
	int64_t			 started_ms;
};

/* What a client sent, fit to quote in a JSON error: whole and valid, or not at all. */
static const char *
statsapi_quote(const char *s)
{
	size_t n = strlen(s);

	return n <= STATSAPI_QUOTE_MAX && utf8_valid(s, n) ? s : "(not shown)";
}

/* The first instant of a local date in TZ. */
static int64_t
statsapi_day_start(const struct tz *tz, int64_t daynum)
{
	int64_t utc = daynum * STATSAPI_DAY_MS;

	return utc - tz_offset_ms(tz, utc - tz_offset_ms(tz, utc));
}

/*
 * CSV (RFC 4180, UTF-8 with a BOM so that spreadsheets read the Chinese):
 * one row per office, then the city's.
 */
static void
statsapi_csv_field(FILE *fp, const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', fp);
		for (; *s != '\0'; s++) {
			if (*s == '"')
				fputc('"', fp);
			fputc(*s, fp);
		}
		fputc('"', fp);
	} else
		fputs(s, fp);
	fputs(last ? "\r\n" : ",", fp);
}

/* A number, "" for null or absent. */
static void
statsapi_csv_num(FILE *fp, const json_t *v, int last)
{
	char buf[64] = "";

	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	statsapi_csv_field(fp, buf, last);
}

/* An office's row (CITY NULL), or the city's with the duty room's own figures. */
static void
statsapi_csv_row(FILE *fp, const json_t *o, const json_t *city, size_t nesc)
{
	const json_t	*rm = json_object_get(o, "report_minutes");
	const json_t	*w = json_object_get(city, "written_reports");
	const json_t	*d = json_object_get(city, "directives");
	const json_t	*ack = json_object_get(city, "ack_minutes"), *v;
	const char	*key;
	size_t		 i;

	statsapi_csv_field(fp, json_string_value(json_object_get(o, "office")), 0);
	v = json_object_get(o, "name");
	statsapi_csv_field(fp, json_is_string(v) ? json_string_value(v) : "", 0);
	statsapi_csv_num(fp, json_object_get(o, "reports"), 0);
	statsapi_csv_num(fp, json_object_get(o, "late"), 0);
	statsapi_csv_num(fp, json_object_get(rm, "median"), 0);
	statsapi_csv_num(fp, json_object_get(rm, "max"), 0);
	statsapi_csv_num(fp, json_object_get(o, "follow_ups"), 0);
	statsapi_csv_num(fp, json_object_get(o, "dismissed"), 0);
	/* Absent on an office's row: empty cells. */
	statsapi_csv_num(fp, json_object_get(ack, "median"), 0);
	statsapi_csv_num(fp, json_object_get(ack, "p90"), 0);
	if (city != NULL)
		json_object_foreach((json_t *)json_object_get(city,
		    "escalations"), key, v)
			statsapi_csv_num(fp, v, 0);
	else
		for (i = 0; i < nesc; i++)
			statsapi_csv_num(fp, NULL, 0);
	statsapi_csv_num(fp, json_object_get(w, "on_time"), 0);
	statsapi_csv_num(fp, json_object_get(w, "late"), 0);
	statsapi_csv_num(fp, json_object_get(json_object_get(w, "minutes"),
	    "median"), 0);
	statsapi_csv_num(fp, json_object_get(json_object_get(w, "minutes"),
	    "max"), 0);
	statsapi_csv_num(fp, json_object_get(d, "done_on_time"), 0);
	statsapi_csv_num(fp, json_object_get(d, "done_late"), 0);
	statsapi_csv_num(fp, json_object_get(d, "open"), 1);
}

static char *
statsapi_csv(const json_t *stats)
{
	const json_t	*city = json_object_get(stats, "city"), *o, *v;
	json_t		*row;
	const char	*key;
	char		*buf = NULL, head[64];
	size_t		 len = 0, i, nesc = 0;
	FILE		*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fputs("\xef\xbb\xbf", fp);
	fputs("单位编号,单位名称,报告数,迟报数,报告用时中位数（分钟）,"
	    "报告用时最长（分钟）,续报数,误报数,接报确认用时中位数（分钟）,"
	    "接报确认用时P90（分钟）,", fp);
	json_object_foreach((json_t *)json_object_get(city, "escalations"),
	    key, v) {
		snprintf(head, sizeof(head), "第%s级升级次数,", key);
		fputs(head, fp);
		nesc++;
	}
	fputs("书面报告按时,书面报告迟报,书面报告用时中位数（分钟）,"
	    "书面报告用时最长（分钟）,批示件按时办结,批示件逾期办结,"
	    "批示件未办结\r\n", fp);
	json_array_foreach(json_object_get(stats, "offices"), i, o)
		statsapi_csv_row(fp, o, NULL, nesc);
	if ((row = json_deep_copy(city)) != NULL &&
	    json_object_set_new(row, "office", json_string("city")) == 0 &&
	    json_object_set_new(row, "name", json_string("全市")) == 0)
		statsapi_csv_row(fp, row, row, nesc);
	if (fclose(fp) != 0 || row == NULL) {
		json_decref(row);
		free(buf);
		return NULL;
	}
	json_decref(row);
	return buf;
}

/* On the scan's worker thread: the job's figures only. */
static int
statsapi_record(const struct record *r, void *arg)
{
	struct statsapi_job *job = arg;

	return figures_add(r, job->fig);
}

static void
statsapi_done(void *arg, int status, const char *err)
{
	struct statsapi_job	*job = arg;
	struct http_call	*call = &job->call;
	json_t			*stats;
	char			*csv, disp[128];

	if (status == -E2BIG)
		http_error(call, 400, "to", "the period from %s to %s holds more "
		    "than dutyd counts at once (a million incidents or "
		    "directives): ask for a shorter one", job->from, job->to);
	else if (status == -ECANCELED)
		http_error(call, 503, NULL, "dutyd is stopping; ask again once "
		    "it is back");
	else if (status != 0) {
		log_warnx("GET /api/v1/stats %s..%s: %s", job->from, job->to,
		    err != NULL ? err : strerror(-status));
		http_error(call, 500, NULL, "the audit log could not be read: %s",
		    err != NULL ? err : strerror(-status));
	} else if ((stats = figures_json(job->fig, config_current(), job->from,
	    job->to)) == NULL)
		http_error(call, 503, NULL, "out of memory; retry shortly");
	else if (!job->csv)
		http_reply(call, 200, stats);
	else {
		csv = statsapi_csv(stats);
		json_decref(stats);
		if (csv == NULL)
			http_error(call, 503, NULL, "out of memory; retry shortly");
		else {
			snprintf(disp, sizeof(disp), "attachment; filename="
			    "\"dutyd-stats-%s-%s.csv\"", job->from, job->to);
			http_set_header(call, "Content-Disposition", disp);
			http_reply_as(call, 200, "text/csv; charset=utf-8", csv);
			free(csv);
		}
	}
	log_debug("GET /api/v1/stats %s..%s: %lld ms", job->from, job->to,
	    (long long)(time_now_ms() - job->started_ms));
	figures_free(job->fig);
	free(job);
}

/* A date parameter into its day number; -1 answered. */
static int
statsapi_date(struct http_call *call, const char *name, const char *v,
    int64_t *day)
{
	int y, m, d;

	if (calendar_parse_date(v, &y, &m, &d) != 0) {
		http_error(call, 400, name, "%s must be a date written "
		    "YYYY-MM-DD, e.g. 2026-12-01; '%s' is not one", name,
		    statsapi_quote(v));
		return -1;
	}
	*day = calendar_daynum(y, m, d);
	return 0;
}

/* from, to (days) and format from the query; -1 answered. */
static int
statsapi_params(struct http_call *call, int64_t *from, int64_t *to, int *csv)
{
	struct evhttp_uri	*uri;
	struct evkeyvalq	 params;
	struct evkeyval		*kv;
	const char		*query;
	int			 rc = 0;

	uri = evhttp_uri_parse_with_flags(http_uri(call), EVHTTP_URI_NONCONFORMANT);
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) != 0) {
		evhttp_uri_free(uri);
		http_error(call, 400, NULL, "the query string cannot be read: "
		    "write it as from=YYYY-MM-DD&to=YYYY-MM-DD");
		return -1;
	}
	TAILQ_FOREACH(kv, &params, next) {
		if (strcmp(kv->key, "from") == 0) {
			rc = statsapi_date(call, "from", kv->value, from);
		} else if (strcmp(kv->key, "to") == 0) {
			rc = statsapi_date(call, "to", kv->value, to);
		} else if (strcmp(kv->key, "format") == 0) {
			if (strcmp(kv->value, "csv") == 0)
				*csv = 1;
			else if (strcmp(kv->value, "json") != 0) {
				http_error(call, 400, "format", "format must be "
				    "json or csv, not '%s'", statsapi_quote(kv->value));
				rc = -1;
			}
		} else {
			http_error(call, 400, strcmp(statsapi_quote(kv->key),
			    kv->key) == 0 ? kv->key : NULL, "unknown query "
			    "parameter '%s'; the figures take from, to and format",
			    statsapi_quote(kv->key));
			rc = -1;
		}
		if (rc != 0)
			break;
	}
	evhttp_clear_headers(&params);
	evhttp_uri_free(uri);
	return rc != 0 ? -1 : 0;
}

void
statsapi_get(struct http_call *call)
{
	const struct config	*cfg = config_current();
	struct statsapi_job	*job;
	struct tm		 tm;
	int64_t			 from = -1, to = -1, now = time_now_ms();
	int			 csv = 0, y, m, d, rc;

	if (tz_tm(cfg->tz, now, &tm) != 0) {
		http_error(call, 500, NULL, "the time cannot be shown in %s",
		    tz_name(cfg->tz));
		return;
	}
	if (statsapi_params(call, &from, &to, &csv) != 0)
		return;
	/* Without dates: this month up to today. */
	if (to < 0)
		to = calendar_daynum(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (from < 0) {
		calendar_civil(to, &y, &m, &d);
		from = calendar_daynum(y, m, 1);
	}
	if (from > to) {
		http_error(call, 400, "from", "from must not be after to: the "
		    "period runs from the first date to the second, both included");
		return;
	}
	if (to - from + 1 > STATSAPI_DAYS_MAX) {
		http_error(call, 400, "to", "the period is %lld days; at most %d "
		    "are counted at once (ask for the year in two parts, or "
		    "compare years side by side)", (long long)(to - from + 1),
		    STATSAPI_DAYS_MAX);
		return;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (job->fig = figures_new(statsapi_day_start(cfg->tz, from),
	    statsapi_day_start(cfg->tz, to + 1), now)) == NULL) {
		free(job);
		http_error(call, 503, NULL, "out of memory; retry shortly");
		return;
	}
	job->call = *call;
	job->csv = csv;
	job->started_ms = now;
	calendar_civil(from, &y, &m, &d);
	calendar_format_date(y, m, d, job->from);
	calendar_civil(to, &y, &m, &d);
	calendar_format_date(y, m, d, job->to);
	rc = store_scan_bare(statsapi_day_start(cfg->tz, from),
	    statsapi_day_start(cfg->tz, to + 1), figures_kinds, figures_bare,
	    statsapi_record, statsapi_done, job);
	if (rc == 0)
		return;
	figures_free(job->fig);
	free(job);
	if (rc == -EBUSY) {
		http_set_header(call, "Retry-After", "5");
		http_error(call, 503, "scan", "%d readings of the audit log are "
		    "running already; ask again in a few seconds", STORE_SCANS_MAX);
	} else
		http_error(call, 503, NULL, "the audit log cannot be read now: %s",
		    strerror(-rc));
}
